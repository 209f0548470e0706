/* error.h - the one error enum of govvault and its names.
 *
 * Every fallible function returns a gv_err; the HTTP layer maps each value to a
 * status code and a stable machine-readable code in one place (http/reply.c). */
#ifndef GV_COMMON_ERROR_H
#define GV_COMMON_ERROR_H

#define GV_MUST_CHECK __attribute__((warn_unused_result))

typedef enum {
	GV_OK = 0,
	GV_ERR_NOMEM,        /* allocation failed */
	GV_ERR_INVALID,      /* caller input is malformed or out of range */
	GV_ERR_NOT_FOUND,    /* the object does not exist */
	GV_ERR_EXISTS,       /* the object already exists / conflicts */
	GV_ERR_AUTH,         /* credentials not accepted (deliberately vague) */
	GV_ERR_UNAUTHENTICATED, /* no valid session */
	GV_ERR_FORBIDDEN,    /* authenticated but not allowed */
	GV_ERR_RESTRICTED,   /* refused by IP, time-window or device restriction */
	GV_ERR_STAGE,        /* session must finish a step first (password change, TOTP) */
	GV_ERR_POLICY,       /* password policy rejected the new password */
	GV_ERR_LIMIT,        /* a configured limit was reached (e.g. sessions) */
	GV_ERR_TOO_LARGE,    /* body or header beyond the configured size */
	GV_ERR_STATE,        /* operation not valid in the object's current state */
	GV_ERR_IO,           /* file or network I/O failed */
	GV_ERR_STORE,        /* the storage backend failed */
	GV_ERR_CRYPTO,       /* a cryptographic primitive failed */
	GV_ERR_CONFIG,       /* configuration is invalid */
	GV_ERR_UNAVAILABLE,  /* cannot serve safely now (e.g. audit write failed) */
	GV_ERR_INTEGRITY,    /* received data does not match its declared digest */
	GV_ERR_QUOTA,        /* a per-day or per-period allowance is used up */
	GV_ERR_RATE,         /* calls per minute over the limit: retry later */
	GV_ERR__COUNT
} gv_err;

/* Static English description of an error; never NULL. */
const char *gv_strerror(gv_err err);

/* Stable snake_case code used in API error bodies; never NULL. */
const char *gv_err_code(gv_err err);

#endif
