/* error.c - names and descriptions for gv_err. */
#include "common/error.h"

static const struct {
	const char *code;
	const char *text;
} err_table[GV_ERR__COUNT] = {
	[GV_OK] = {"ok", "success"},
	[GV_ERR_NOMEM] = {"out_of_memory", "out of memory"},
	[GV_ERR_INVALID] = {"invalid_request", "invalid request"},
	[GV_ERR_NOT_FOUND] = {"not_found", "not found"},
	[GV_ERR_EXISTS] = {"conflict", "already exists or conflicts with current state"},
	[GV_ERR_AUTH] = {"invalid_credentials", "invalid username or password"},
	[GV_ERR_UNAUTHENTICATED] = {"unauthenticated", "a valid session token is required"},
	[GV_ERR_FORBIDDEN] = {"forbidden", "the account's roles do not permit this operation"},
	[GV_ERR_RESTRICTED] = {"access_restricted", "access not permitted from this address, device or at this time"},
	[GV_ERR_STAGE] = {"step_required", "the session must complete a login step first"},
	[GV_ERR_POLICY] = {"password_policy", "the password does not meet the password policy"},
	[GV_ERR_LIMIT] = {"limit_reached", "a configured limit was reached"},
	[GV_ERR_TOO_LARGE] = {"too_large", "request too large"},
	[GV_ERR_STATE] = {"invalid_state", "operation not valid in the current state"},
	[GV_ERR_IO] = {"io_error", "input/output error"},
	[GV_ERR_STORE] = {"storage_error", "storage backend error"},
	[GV_ERR_CRYPTO] = {"crypto_error", "cryptographic operation failed"},
	[GV_ERR_CONFIG] = {"config_error", "invalid configuration"},
	[GV_ERR_UNAVAILABLE] = {"unavailable", "service cannot complete the request safely now"},
	[GV_ERR_INTEGRITY] = {"integrity_failed", "the data received does not match its declared digest"},
	[GV_ERR_QUOTA] = {"quota_exceeded", "the allowance for this period is used up"},
	[GV_ERR_RATE] = {"rate_limited", "too many calls; retry after the time given"},
};

const char *gv_strerror(gv_err err)
{
	if ((unsigned)err >= GV_ERR__COUNT)
		return "unknown error";
	return err_table[err].text;
}

const char *gv_err_code(gv_err err)
{
	if ((unsigned)err >= GV_ERR__COUNT)
		return "internal_error";
	return err_table[err].code;
}
