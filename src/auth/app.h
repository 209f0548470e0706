/* app.h - the running service's shared state: configuration, store, keys, audit log.
 *
 * One `struct gv_app` per process.  The configuration may be replaced by SIGHUP, so
 * request code takes a snapshot with app_policy() rather than reading cfg directly;
 * account read-modify-write sequences hold acct_lock so concurrent logins cannot lose
 * a failure count. */
#ifndef GV_AUTH_APP_H
#define GV_AUTH_APP_H

#include <pthread.h>

#include "audit/audit.h"
#include "auth/password.h"
#include "common/config.h"
#include "crypto/crypto.h"
#include "store/store.h"

struct gv_worker;

struct gv_app {
	char config_path[GV_PATH_MAX];
	struct gv_config cfg;            /* guarded by cfg_lock */
	pthread_rwlock_t cfg_lock;
	struct gv_store *st;
	struct audit_log *audit;
	struct gv_keys keys;
	/* keys.data_kek changes only in a master-key rotation, which holds this for
	 * writing; unwrapping or creating a dataset key holds it for reading. */
	pthread_rwlock_t keys_lock;
	struct pw_common *common;        /* guarded by cfg_lock */
	char dummy_hash[PASSWORD_HASH_MAX]; /* guarded by cfg_lock; see app_dummy_hash */
	pthread_mutex_t acct_lock;
	int log_stderr;                  /* set by govvaultd --foreground */
	/* Checks of settings owned by higher layers (data kinds), run on a configuration
	 * before a reload applies it; set by govvaultd, may be NULL. */
	gv_err (*config_check)(const struct gv_config *cfg, char *why, size_t whylen);
	struct gv_worker *rekey;         /* key re-sealing (data/rekey.h); set by govvaultd */
	int rotation_completed;          /* start-up finished an interrupted master rotation */
};

/* Loads config, opens the store, loads keys and the common-password list. */
gv_err app_open(const char *config_path, struct gv_app **out, char *errmsg, size_t errlen) GV_MUST_CHECK;
/* Re-reads the config file and applies the reloadable keys, including log.level and
 * log.file (whichever of SIGHUP or the API asked for it). */
gv_err app_reload(struct gv_app *app, char *errmsg, size_t errlen) GV_MUST_CHECK;
void app_free(struct gv_app *app);
/* Opens the audit log configured in cfg. */
gv_err app_audit_open(const struct gv_config *cfg, struct audit_log **out, char *errmsg,
		      size_t errlen) GV_MUST_CHECK;
/* (Re)opens the log as configured: stderr when log_stderr, else log.file. */
gv_err app_log_open(struct gv_app *app) GV_MUST_CHECK;

/* Consistent copy of the current configuration. */
void app_policy(struct gv_app *app, struct gv_config *out);
struct password_params app_password_params(const struct gv_config *cfg);
/* Copy of the hash verified for unknown users (current Argon2 cost), so that their
 * login costs what a known user's does. */
void app_dummy_hash(struct gv_app *app, char out[PASSWORD_HASH_MAX]);

#endif
