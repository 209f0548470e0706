/* app.c - service state construction, reload and teardown. */
#include "auth/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/totp.h"
#include "common/log.h"
#include "common/util.h"

struct password_params app_password_params(const struct gv_config *cfg)
{
	struct password_params p = {
		.memory_kib = (uint32_t)cfg->argon2_memory_kib,
		.iterations = (uint32_t)cfg->argon2_iterations,
		.parallelism = (uint32_t)cfg->argon2_parallelism,
	};
	return p;
}

static gv_err load_common(const struct gv_config *cfg, struct pw_common **out, char *errmsg,
			  size_t errlen)
{
	gv_err err;

	*out = NULL;
	if (!cfg->pw_common_list[0])
		return GV_OK;
	err = pw_common_load(cfg->pw_common_list, out);
	if (err != GV_OK)
		snprintf(errmsg, errlen, "password.common_list %s: %s", cfg->pw_common_list,
			 gv_strerror(err));
	return err;
}

/* A hash of a random password at cfg's Argon2 cost, verified for unknown users so that
 * they cost what a known user does.  Rebuilt on reload, or a raised cost would make
 * known users measurably slower than unknown ones. */
static gv_err make_dummy_hash(const struct gv_config *cfg, char out[PASSWORD_HASH_MAX])
{
	struct password_params p = app_password_params(cfg);
	char pw[24];
	gv_err err;

	err = password_generate(pw, 20);
	if (err == GV_OK)
		err = password_hash(&p, pw, out, PASSWORD_HASH_MAX);
	util_wipe(pw, sizeof(pw));
	return err;
}

gv_err app_open(const char *config_path, struct gv_app **out, char *errmsg, size_t errlen)
{
	struct gv_app *app;
	gv_err err;

	*out = NULL;
	err = crypto_init();
	if (err == GV_OK)
		err = totp_init();
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "libgcrypt/liboath initialisation failed (SM3/SM4 missing?)");
		return err;
	}
	app = calloc(1, sizeof(*app));
	if (!app)
		return GV_ERR_NOMEM;
	pthread_rwlock_init(&app->cfg_lock, NULL);
	pthread_mutex_init(&app->acct_lock, NULL);
	pthread_rwlock_init(&app->keys_lock, NULL);
	if (util_strcpy(app->config_path, sizeof(app->config_path), config_path) != GV_OK) {
		err = GV_ERR_CONFIG;
		snprintf(errmsg, errlen, "configuration path too long");
		goto out;
	}
	err = config_load(config_path, &app->cfg, errmsg, errlen);
	if (err != GV_OK)
		goto out;
	err = keys_load(app->cfg.server_key, &app->keys);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "%s: cannot load server key (%s; must exist with mode 0600)",
			 app->cfg.server_key, gv_strerror(err));
		goto out;
	}
	err = load_common(&app->cfg, &app->common, errmsg, errlen);
	if (err != GV_OK)
		goto out;
	err = store_open(&app->cfg, &app->st);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "%s: cannot open %s store", app->cfg.db_path, app->cfg.backend);
		goto out;
	}
	err = app_audit_open(&app->cfg, &app->audit, errmsg, errlen);
	if (err != GV_OK)
		goto out;
	err = make_dummy_hash(&app->cfg, app->dummy_hash);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "Argon2 self-test failed: %s", gv_strerror(err));
		goto out;
	}
	*out = app;
	app = NULL;
out:
	app_free(app);
	return err;
}

gv_err app_reload(struct gv_app *app, char *errmsg, size_t errlen)
{
	struct gv_config *next = malloc(sizeof(*next));
	struct pw_common *common = NULL, *old;
	char dummy[PASSWORD_HASH_MAX];
	gv_err err;

	if (!next)
		return GV_ERR_NOMEM;
	err = config_load(app->config_path, next, errmsg, errlen);
	if (err == GV_OK && app->config_check)
		err = app->config_check(next, errmsg, errlen);
	if (err == GV_OK)
		err = load_common(next, &common, errmsg, errlen);
	if (err == GV_OK) {
		err = make_dummy_hash(next, dummy);
		if (err != GV_OK)
			snprintf(errmsg, errlen, "Argon2 with the new cost failed: %s", gv_strerror(err));
	}
	if (err != GV_OK) {
		pw_common_free(common);
		free(next);
		return err;
	}
	pthread_rwlock_wrlock(&app->cfg_lock);
	config_apply_reloadable(&app->cfg, next);
	old = app->common;
	app->common = common;
	memcpy(app->dummy_hash, dummy, sizeof(dummy));
	pthread_rwlock_unlock(&app->cfg_lock);
	if (app_log_open(app) != GV_OK)
		log_error("cannot reopen log file %s", next->log_file);
	pw_common_free(old);
	free(next);
	return GV_OK;
}

void app_policy(struct gv_app *app, struct gv_config *out)
{
	pthread_rwlock_rdlock(&app->cfg_lock);
	memcpy(out, &app->cfg, sizeof(*out));
	pthread_rwlock_unlock(&app->cfg_lock);
}

gv_err app_log_open(struct gv_app *app)
{
	struct gv_config cfg;
	enum gv_log_level lv = GV_LOG_INFO;

	app_policy(app, &cfg);
	(void)log_level_parse(cfg.log_level, &lv);
	return log_open(app->log_stderr ? NULL : cfg.log_file, lv);
}

gv_err app_audit_open(const struct gv_config *cfg, struct audit_log **out, char *errmsg,
		      size_t errlen)
{
	struct audit_options opt = {
		.dir = cfg->audit_dir,
		.witness_path = cfg->audit_witness,
		.node = cfg->node_id,
		.sign_key_path = cfg->audit_sign_key,
		.checkpoint_records = cfg->audit_cp_records,
		.checkpoint_seconds = cfg->audit_cp_seconds,
		.segment_bytes = (int64_t)cfg->audit_segment_mib << 20,
		.write_timeout_s = cfg->audit_write_timeout_s,
		.syslog_host = cfg->audit_syslog_host,
		.syslog_port = cfg->audit_syslog_port,
		.syslog_queue = cfg->audit_syslog_queue,
	};

	return audit_open(&opt, out, errmsg, errlen);
}

void app_dummy_hash(struct gv_app *app, char out[PASSWORD_HASH_MAX])
{
	pthread_rwlock_rdlock(&app->cfg_lock);
	memcpy(out, app->dummy_hash, PASSWORD_HASH_MAX);
	pthread_rwlock_unlock(&app->cfg_lock);
}

void app_free(struct gv_app *app)
{
	if (!app)
		return;
	audit_close(app->audit);
	store_close(app->st);
	pw_common_free(app->common);
	keys_wipe(&app->keys);
	pthread_rwlock_destroy(&app->cfg_lock);
	pthread_mutex_destroy(&app->acct_lock);
	pthread_rwlock_destroy(&app->keys_lock);
	free(app);
}
