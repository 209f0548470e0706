/* bootstrap.h - `govvault init`: a new data directory with configuration, master key,
 * TLS certificate, database and the three administrators.
 *
 * The administrators are created through the same validation (role_check_set) as any
 * other account, each with a single admin role, an issued one-time password that must
 * be changed at first login, and TOTP enrolment forced by their role. */
#ifndef GV_AUTH_BOOTSTRAP_H
#define GV_AUTH_BOOTSTRAP_H

#include "auth/account.h"

struct bootstrap_admin {
	char username[STORE_NAME_LEN];
	char role[16];
	char otp[ACCOUNT_OTP_LEN + 1];
};

struct bootstrap_options {
	const char *data_dir;
	const char *tls_name;      /* extra certificate name, may be NULL */
	const char *config_extra;  /* text appended to the generated config (tests), may be NULL */
};

/* Refuses (GV_ERR_EXISTS) when the directory already holds a configuration. */
gv_err bootstrap_init(const struct bootstrap_options *opt, struct bootstrap_admin admins[3],
		      char *errmsg, size_t errlen) GV_MUST_CHECK;

#endif
