/* bootstrap.c - data directory initialisation. */
#include "auth/bootstrap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/role.h"
#include "crypto/sm2.h"
#include "common/util.h"

static const struct {
	const char *username;
	enum role role;
	const char *full_name;
} initial_admins[3] = {
	{"sysadmin", ROLE_SYSADMIN, "System administrator"},
	{"secadmin", ROLE_SECADMIN, "Security administrator"},
	{"auditadmin", ROLE_AUDITADMIN, "Audit administrator"},
};

static gv_err make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return GV_ERR_IO;
	return chmod(path, mode) == 0 ? GV_OK : GV_ERR_IO;
}

/* The SM2 key that signs audit checkpoints, and its public half for verifiers. */
static gv_err make_audit_key(const char *key_path, const char *pub_path)
{
	struct sm2_key *k = NULL;
	struct gv_buf pem;
	gv_err err;

	buf_init(&pem, 4096);
	err = sm2_key_generate(&k);
	if (err == GV_OK)
		err = sm2_key_save(k, key_path);
	if (err == GV_OK)
		err = sm2_pubkey_pem(k, &pem);
	if (err == GV_OK)
		err = util_file_write(pub_path, pem.data, pem.len, 0644);
	buf_release(&pem);
	sm2_key_free(k);
	return err;
}

static gv_err write_config(const char *path, const char *extra)
{
	struct gv_buf b;
	gv_err err;

	buf_init(&b, 1 << 20);
	err = config_format_default(&b);
	if (err == GV_OK && extra)
		err = buf_printf(&b, "\n%s\n", extra);
	if (err == GV_OK)
		err = util_file_write(path, b.data, b.len, 0600);
	buf_release(&b);
	return err;
}

static gv_err create_admins(struct gv_app *app, struct bootstrap_admin admins[3], char *errmsg,
			    size_t errlen)
{
	gv_err err = GV_OK;

	for (int i = 0; i < 3 && err == GV_OK; i++) {
		struct store_account a;
		const char *why = NULL;

		memset(&a, 0, sizeof(a));
		snprintf(a.username, sizeof(a.username), "%s", initial_admins[i].username);
		snprintf(a.full_name, sizeof(a.full_name), "%s", initial_admins[i].full_name);
		snprintf(a.department, sizeof(a.department), "IT operations");
		snprintf(a.contact, sizeof(a.contact), "change-me@localhost");
		a.roles = ROLE_BIT(initial_admins[i].role);
		a.clearance = 1;
		/* The initial applications are made and approved by the installer, recorded as
		 * "init"; the same checks as for every account apply. */
		err = account_apply(app, "init", &a, &why);
		if (err == GV_OK)
			err = account_approve(app, "init", a.username, admins[i].otp, &why);
		if (err != GV_OK) {
			snprintf(errmsg, errlen, "creating %s: %s", a.username, why ? why : gv_strerror(err));
			break;
		}
		snprintf(admins[i].username, sizeof(admins[i].username), "%s", a.username);
		snprintf(admins[i].role, sizeof(admins[i].role), "%s", role_name(initial_admins[i].role));
	}
	return err;
}

gv_err bootstrap_init(const struct bootstrap_options *opt, struct bootstrap_admin admins[3],
		      char *errmsg, size_t errlen)
{
	char path[GV_PATH_MAX], sub[GV_PATH_MAX], key[GV_PATH_MAX];
	struct gv_config cfg;
	struct gv_app *app = NULL;
	gv_err err;

	memset(admins, 0, sizeof(struct bootstrap_admin) * 3);
	if (snprintf(path, sizeof(path), "%s/govvault.conf", opt->data_dir) >= (int)sizeof(path))
		return GV_ERR_TOO_LARGE;
	if (access(path, F_OK) == 0) {
		snprintf(errmsg, errlen, "%s already exists; refusing to overwrite an initialised data directory", path);
		return GV_ERR_EXISTS;
	}
	err = crypto_init();
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "libgcrypt lacks SM3/SM4");
		return err;
	}
	err = make_dir(opt->data_dir, 0700);
	snprintf(sub, sizeof(sub), "%s/keys", opt->data_dir);
	if (err == GV_OK)
		err = make_dir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/tls", opt->data_dir);
	if (err == GV_OK)
		err = make_dir(sub, 0700);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot create directories under %s", opt->data_dir);
		return err;
	}
	snprintf(sub, sizeof(sub), "%s/keys/server.key", opt->data_dir);
	err = keys_create_file(sub);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot create %s: %s", sub, gv_strerror(err));
		return err;
	}
	snprintf(sub, sizeof(sub), "%s/tls/cert.pem", opt->data_dir);
	snprintf(key, sizeof(key), "%s/tls/key.pem", opt->data_dir);
	err = tlsgen_self_signed(sub, key, opt->tls_name, 825);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot create TLS certificate: %s", gv_strerror(err));
		return err;
	}
	err = write_config(path, opt->config_extra);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot write %s", path);
		return err;
	}
	/* The signing key goes where the configuration (with its extra lines) says. */
	err = config_load(path, &cfg, errmsg, errlen);
	if (err != GV_OK)
		return err;
	snprintf(key, sizeof(key), "%s/audit-sign.pub.pem", opt->data_dir);
	err = make_audit_key(cfg.audit_sign_key, key);
	if (err != GV_OK) {
		snprintf(errmsg, errlen, "cannot create the audit signing key %s: %s", cfg.audit_sign_key,
			 gv_strerror(err));
		return err;
	}
	err = app_open(path, &app, errmsg, errlen);
	if (err != GV_OK)
		return err;
	err = audit_event(app->audit, "init", "system.init", "datadir", "data directory initialised");
	if (err == GV_OK)
		err = create_admins(app, admins, errmsg, errlen);
	app_free(app);
	if (err != GV_OK)
		util_wipe(admins, sizeof(struct bootstrap_admin) * 3);
	return err;
}
