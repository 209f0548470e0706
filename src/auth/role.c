/* role.c - role names and the separation-of-duties check. */
#include "auth/role.h"

#include <stdio.h>
#include <string.h>

static const char *const role_names[ROLE__COUNT] = {
	[ROLE_SYSADMIN] = "sysadmin",     [ROLE_SECADMIN] = "secadmin",
	[ROLE_AUDITADMIN] = "auditadmin", [ROLE_DATA_OWNER] = "data_owner",
	[ROLE_ANALYST] = "analyst",       [ROLE_REVIEWER] = "reviewer",
};

const char *role_name(enum role r)
{
	return (unsigned)r < ROLE__COUNT ? role_names[r] : "unknown";
}

gv_err role_parse(const char *name, enum role *out)
{
	for (int i = 0; i < ROLE__COUNT; i++) {
		if (strcmp(role_names[i], name) == 0) {
			*out = (enum role)i;
			return GV_OK;
		}
	}
	return GV_ERR_INVALID;
}

gv_err role_check_set(unsigned roles, const char **why)
{
	unsigned admin = roles & ROLE_ADMIN_MASK;

	*why = NULL;
	if (roles == 0) {
		*why = "an account needs at least one role";
		return GV_ERR_INVALID;
	}
	if (roles & ~ROLE_ALL_MASK) {
		*why = "unknown role";
		return GV_ERR_INVALID;
	}
	if (admin & (admin - 1)) {
		*why = "separation of duties: an account may hold only one administrator role";
		return GV_ERR_FORBIDDEN;
	}
	if (admin && roles != admin) {
		*why = "separation of duties: an administrator role cannot be combined with other roles";
		return GV_ERR_FORBIDDEN;
	}
	return GV_OK;
}

void role_format(unsigned roles, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < ROLE__COUNT; i++) {
		if (!(roles & ROLE_BIT(i)))
			continue;
		int n = snprintf(out + used, len - used, "%s%s", used ? "," : "", role_names[i]);

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
}
