/* fuzz_config.c - the configuration file parser and the list parsers it shares with
 * the API (CIDR allowlists, time windows). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cidr.h"
#include "common/config.h"
#include "common/timewin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gv_config c;
	char err[256];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(&c);
	(void)!config_parse(text, size, "fuzz.conf", &c, err, sizeof(err));
	(void)!cidr_list_validate(text);
	(void)cidr_list_allows(text, "10.1.2.3");
	(void)!timewin_list_validate(text);
	(void)timewin_list_allows(text, 1704067200, 480);
	free(text);
	return 0;
}
