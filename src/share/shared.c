/* shared.c - comma lists and times used across src/share. */
#include "share/shared.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "policy/policy.h"

int share_list_subset(const char *sub, const char *of)
{
	if (!of[0])
		return 1;
	if (!sub[0])
		return 0;   /* "every field" is wider than any list */
	for (const char *p = sub; *p;) {
		size_t k = strcspn(p, ",");
		char item[256];

		if (k >= sizeof(item))
			return 0;
		memcpy(item, p, k);
		item[k] = '\0';
		if (!policy_list_has(of, item))
			return 0;
		p += k + (p[k] == ',');
	}
	return 1;
}

json_t *share_time_json(int64_t t)
{
	char buf[32];

	if (!t)
		return json_null();
	util_time_rfc3339(t, buf);
	return json_string(buf);
}

