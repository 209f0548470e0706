/* fuzz_json_body.c - the request-body path: depth pre-scan, JSON parse, field readers. */
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	json_t *j = NULL;

	(void)json_text_depth((const char *)data, size);
	if (json_parse_body((const char *)data, size, 32, &j, &why) == GV_OK) {
		int64_t t;
		const char *key;
		json_t *v;

		json_object_foreach(j, key, v) {
			if (json_is_string(v))
				(void)!time_parse(json_string_value(v), &t);
		}
		json_decref(j);
	}
	return 0;
}
