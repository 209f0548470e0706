/* role.h - built-in roles and the separation-of-duties rule.
 *
 * Three administrator roles split the powers a superuser would have; an account that
 * holds one of them holds nothing else.  role_check_set is the single place this rule
 * lives: bootstrap, account creation and every change go through it. */
#ifndef GV_AUTH_ROLE_H
#define GV_AUTH_ROLE_H

#include <stddef.h>

#include "common/error.h"

enum role {
	ROLE_SYSADMIN,
	ROLE_SECADMIN,
	ROLE_AUDITADMIN,
	ROLE_DATA_OWNER,
	ROLE_ANALYST,
	ROLE_REVIEWER,
	ROLE__COUNT
};

#define ROLE_BIT(r) (1u << (r))
#define ROLE_ADMIN_MASK (ROLE_BIT(ROLE_SYSADMIN) | ROLE_BIT(ROLE_SECADMIN) | ROLE_BIT(ROLE_AUDITADMIN))
#define ROLE_ALL_MASK ((1u << ROLE_COUNT_BITS) - 1)
#define ROLE_COUNT_BITS ROLE__COUNT

const char *role_name(enum role r);
/* GV_ERR_INVALID for an unknown name. */
gv_err role_parse(const char *name, enum role *out) GV_MUST_CHECK;
/* GV_OK when roles is non-empty, known, and either exactly one admin role or only
 * business roles; *why gets a static explanation otherwise. */
gv_err role_check_set(unsigned roles, const char **why) GV_MUST_CHECK;
/* "secadmin" / "analyst,reviewer" */
void role_format(unsigned roles, char *out, size_t len);

#endif
