/* config.c - table-driven INI parser for govvault.conf. */
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timewin.h"
#include "common/util.h"

enum key_type { KEY_INT, KEY_BOOL, KEY_STR, KEY_PATH };

struct config_key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;        /* for strings */
	long min, max;      /* for ints */
	int reloadable;
	const char *def;
	const char *help;
};

#define INT_KEY(sec, key, field, lo, hi, rel, d, h) \
	{sec, key, KEY_INT, offsetof(struct gv_config, field), 0, lo, hi, rel, d, h}
#define BOOL_KEY(sec, key, field, rel, d, h) \
	{sec, key, KEY_BOOL, offsetof(struct gv_config, field), 0, 0, 1, rel, d, h}
#define STR_KEY(sec, key, field, rel, d, h) \
	{sec, key, KEY_STR, offsetof(struct gv_config, field), \
	 sizeof(((struct gv_config *)0)->field), 0, 0, rel, d, h}
#define PATH_KEY(sec, key, field, rel, d, h) \
	{sec, key, KEY_PATH, offsetof(struct gv_config, field), \
	 sizeof(((struct gv_config *)0)->field), 0, 0, rel, d, h}

static const struct config_key config_table[] = {
	STR_KEY("server", "listen", listen, 0, "127.0.0.1",
		"address to listen on; a non-loopback address requires tls = on"),
	INT_KEY("server", "port", port, 1, 65535, 0, "8443", "TCP port"),
	INT_KEY("server", "threads", threads, 1, 256, 0, "4", "worker threads in the HTTP pool"),
	BOOL_KEY("server", "tls", tls, 0, "on", "serve HTTPS (GnuTLS); off is allowed on loopback only"),
	PATH_KEY("server", "tls_cert", tls_cert, 0, "tls/cert.pem", "PEM certificate chain"),
	PATH_KEY("server", "tls_key", tls_key, 0, "tls/key.pem", "PEM private key"),
	INT_KEY("server", "max_body_bytes", max_body_bytes, 1024, 64 << 20, 1, "1048576",
		"largest accepted request body; larger gets 413"),
	INT_KEY("server", "max_json_depth", max_json_depth, 2, 512, 1, "32",
		"deepest accepted JSON nesting; deeper gets 400"),
	INT_KEY("server", "max_header_bytes", max_header_bytes, 1024, 1 << 20, 0, "16384",
		"largest accepted request line plus headers; larger gets 431"),
	STR_KEY("server", "node_id", node_id, 0, "node-1", "name of this node in audit records"),
	PATH_KEY("server", "pid_file", pid_file, 0, "govvaultd.pid", "pid file written when daemonised"),
	STR_KEY("storage", "backend", backend, 0, "sqlite", "storage backend: sqlite"),
	PATH_KEY("storage", "path", db_path, 0, "govvault.db", "SQLite database file"),
	PATH_KEY("keys", "server_key", server_key, 0, "keys/server.key",
		 "32-byte master key (hex) for token hashing and TOTP-secret encryption"),
	STR_KEY("log", "level", log_level, 1, "info", "debug, info, warn or error"),
	PATH_KEY("log", "file", log_file, 1, "govvaultd.log",
		 "log file when daemonised; '-' for stderr"),
	INT_KEY("password", "argon2_memory_kib", argon2_memory_kib, 8, 4 << 20, 1, "65536",
		"Argon2id memory cost in KiB (production: >= 65536)"),
	INT_KEY("password", "argon2_iterations", argon2_iterations, 1, 64, 1, "3",
		"Argon2id time cost (production: >= 3)"),
	INT_KEY("password", "argon2_parallelism", argon2_parallelism, 1, 16, 1, "1",
		"Argon2id lanes"),
	INT_KEY("password", "min_length", pw_min_length, 8, 256, 1, "12", "minimum password length"),
	INT_KEY("password", "min_classes", pw_min_classes, 1, 4, 1, "3",
		"minimum character classes out of lower, upper, digit, symbol"),
	INT_KEY("password", "history", pw_history, 0, 24, 1, "5",
		"number of previous passwords that may not be reused"),
	INT_KEY("password", "max_age_days", pw_max_age_days, 0, 3650, 1, "90",
		"days after which a password must be changed (0 = never)"),
	PATH_KEY("password", "common_list", pw_common_list, 1, "/usr/share/john/password.lst",
		 "list of common passwords refused (one per line; empty disables)"),
	INT_KEY("lockout", "max_failures", lock_max_failures, 1, 100, 1, "5",
		"consecutive wrong passwords that lock an account"),
	INT_KEY("lockout", "duration_seconds", lock_duration_s, 1, 86400 * 30, 1, "1800",
		"how long a lock lasts"),
	INT_KEY("lockout", "totp_max_failures", lock_totp_max_failures, 1, 100, 1, "5",
		"consecutive wrong one-time codes that lock an account"),
	INT_KEY("session", "idle_timeout_seconds", session_idle_s, 1, 86400, 1, "900",
		"session ends after this long without a request"),
	INT_KEY("session", "absolute_lifetime_seconds", session_absolute_s, 1, 86400 * 7, 1,
		"28800", "session ends this long after login regardless of use"),
	INT_KEY("session", "max_per_account", session_max_per_account, 1, 100, 1, "3",
		"concurrent sessions per account; a further login is refused"),
	INT_KEY("accounts", "dormant_days", dormant_days, 1, 3650, 1, "90",
		"accounts with no login for this many days are disabled"),
	STR_KEY("accounts", "utc_offset", utc_offset, 1, "+08:00",
		"local time zone offset used for time-window restrictions"),
	INT_KEY("accounts", "maintenance_interval_seconds", maintenance_interval_s, 1, 86400, 1,
		"60", "how often dormant and expired accounts are swept"),
	STR_KEY("data", "important_kinds", data_important_kinds, 1, "resident_id,bank_card,passport",
		"data kinds that make a dataset important (suggested grade 3)"),
	INT_KEY("data", "important_rows", data_important_rows, 0, 2000000000, 1, "0",
		"expected records of personal data that make a dataset important (0: volume never "
		"decides; the Xinyang measures Art. 29 grade large-scale personal data 2)"),
	INT_KEY("data", "import_unique_values", data_import_unique_values, 1, 50000000, 1, "6000000",
		"values one import remembers for unique rules (24-48 bytes each); a batch with "
		"more is rejected"),
	PATH_KEY("audit", "dir", audit_dir, 0, "audit", "directory of the audit segment files"),
	PATH_KEY("audit", "witness", audit_witness, 0, "audit-witness/checkpoints.log",
		 "checkpoint witness file; keep it in another directory (or disk) than audit.dir"),
	PATH_KEY("audit", "sign_key", audit_sign_key, 0, "keys/audit-sign.pem",
		 "SM2 private key that signs audit checkpoints (PEM, mode 0600)"),
	INT_KEY("audit", "checkpoint_records", audit_cp_records, 1, 1000000, 0, "10000",
		"a signed checkpoint after this many records"),
	INT_KEY("audit", "checkpoint_seconds", audit_cp_seconds, 1, 3600, 0, "10",
		"a signed checkpoint at least this often while records arrive"),
	INT_KEY("audit", "segment_mib", audit_segment_mib, 1, 512, 0, "64",
		"start a new segment file after this many MiB"),
	INT_KEY("audit", "write_timeout_seconds", audit_write_timeout_s, 1, 300, 0, "10",
		"a group write (write + fdatasync) slower than this turns the log unavailable"),
	INT_KEY("audit", "retention_days", audit_retention_days, 365, 36500, 0, "365",
		"days audit records stay in audit.dir; never less than 365 (one year)"),
	PATH_KEY("audit", "archive_dir", audit_archive_dir, 0, "audit-archive",
		 "where segments past retention are archived (gzip) before they are pruned"),
	STR_KEY("audit", "syslog_host", audit_syslog_host, 0, "",
		"SIEM receiving RFC 5424 syslog over TCP (empty: no forwarding)"),
	INT_KEY("audit", "syslog_port", audit_syslog_port, 1, 65535, 0, "514", "its TCP port"),
	INT_KEY("audit", "syslog_queue", audit_syslog_queue, 1, 1000000, 0, "100000",
		"records held for the SIEM while it is unreachable; beyond it the oldest are dropped"),
	INT_KEY("audit", "verify_interval_seconds", audit_verify_s, 10, 86400, 1, "3600",
		"how often the running daemon verifies the newest segment"),
};

__attribute__((format(printf, 5, 6)))
static void set_error(char *errmsg, size_t errlen, const char *name, int line, const char *fmt,
		      ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(errmsg, errlen, "%s:%d: %s", name, line, what);
	else
		snprintf(errmsg, errlen, "%s: %s", name, what);
}

static gv_err key_set(const struct config_key *k, struct gv_config *c, const char *value)
{
	char *field = (char *)c + k->offset;

	switch (k->type) {
	case KEY_INT: {
		char *end;
		long v;

		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end != '\0' || v < k->min || v > k->max)
			return GV_ERR_INVALID;
		*(int *)field = (int)v;
		return GV_OK;
	}
	case KEY_BOOL:
		if (!strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "yes") ||
		    !strcmp(value, "1"))
			*(int *)field = 1;
		else if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "no") ||
			 !strcmp(value, "0"))
			*(int *)field = 0;
		else
			return GV_ERR_INVALID;
		return GV_OK;
	case KEY_STR:
	case KEY_PATH:
		if (!util_utf8_printable(value))
			return GV_ERR_INVALID;
		return util_strcpy(field, k->size, value) == GV_OK ? GV_OK : GV_ERR_INVALID;
	}
	return GV_ERR_INVALID;
}

void config_defaults(struct gv_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < GV_ARRAY_LEN(config_table); i++)
		if (key_set(&config_table[i], c, config_table[i].def) != GV_OK)
			abort(); /* the table itself is wrong: a build-time bug */
	c->utc_offset_min = 8 * 60;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int node_id_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static gv_err check_values(const struct gv_config *c, const char *name, int line, char *errmsg,
			   size_t errlen)
{
	(void)line;
	if (strcmp(c->backend, "sqlite") != 0) {
		set_error(errmsg, errlen, name, 0, "storage.backend '%s' is not supported", c->backend);
		return GV_ERR_CONFIG;
	}
	{
		enum gv_log_level lv;

		if (log_level_parse(c->log_level, &lv) != 0) {
			set_error(errmsg, errlen, name, 0, "log.level '%s' must be debug, info, warn or error",
				  c->log_level);
			return GV_ERR_CONFIG;
		}
	}
	if (c->session_idle_s > c->session_absolute_s) {
		set_error(errmsg, errlen, name, 0, "%s",
			  "session.idle_timeout_seconds exceeds absolute_lifetime_seconds");
		return GV_ERR_CONFIG;
	}
	return GV_OK;
}

gv_err config_parse(const char *text, size_t len, const char *name, struct gv_config *c,
		    char *errmsg, size_t errlen)
{
	char section[32] = "";
	size_t pos = 0;
	int line = 0;

	while (pos < len) {
		char raw[2048];
		size_t n = 0;
		char *s, *eq, *key, *value;
		const struct config_key *k = NULL;
		int offset_min;

		line++;
		while (pos < len && text[pos] != '\n') {
			if (n + 1 >= sizeof(raw)) {
				set_error(errmsg, errlen, name, line, "%s", "line too long");
				return GV_ERR_CONFIG;
			}
			if (text[pos] == '\0') {
				set_error(errmsg, errlen, name, line, "%s", "NUL byte in file");
				return GV_ERR_CONFIG;
			}
			raw[n++] = text[pos++];
		}
		pos++; /* past '\n' */
		raw[n] = '\0';
		s = trim(raw);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			int known = 0;

			if (!close || close[1] != '\0' || close - s - 1 >= (long)sizeof(section)) {
				set_error(errmsg, errlen, name, line, "%s", "malformed section header");
				return GV_ERR_CONFIG;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			for (size_t i = 0; i < GV_ARRAY_LEN(config_table); i++)
				known |= strcmp(config_table[i].section, section) == 0;
			if (!known) {
				set_error(errmsg, errlen, name, line, "unknown section [%s]", section);
				return GV_ERR_CONFIG;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			set_error(errmsg, errlen, name, line, "%s", "expected 'key = value'");
			return GV_ERR_CONFIG;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		if (!*section) {
			set_error(errmsg, errlen, name, line, "key '%s' outside any [section]", key);
			return GV_ERR_CONFIG;
		}
		for (size_t i = 0; i < GV_ARRAY_LEN(config_table); i++) {
			if (!strcmp(config_table[i].section, section) && !strcmp(config_table[i].name, key)) {
				k = &config_table[i];
				break;
			}
		}
		if (!k) {
			set_error(errmsg, errlen, name, line, "unknown key '%s'", key);
			return GV_ERR_CONFIG;
		}
		if (key_set(k, c, value) != GV_OK) {
			char why[200];

			if (k->type == KEY_INT)
				snprintf(why, sizeof(why), "%s.%s must be an integer in [%ld, %ld]", section,
					 k->name, k->min, k->max);
			else if (k->type == KEY_BOOL)
				snprintf(why, sizeof(why), "%s.%s must be on or off", section, k->name);
			else
				snprintf(why, sizeof(why), "%s.%s is too long or not printable text", section,
					 k->name);
			set_error(errmsg, errlen, name, line, "%s", why);
			return GV_ERR_CONFIG;
		}
		if (k->offset == offsetof(struct gv_config, utc_offset)) {
			if (timewin_parse_offset(c->utc_offset, &offset_min) != GV_OK) {
				set_error(errmsg, errlen, name, line, "%s",
					  "accounts.utc_offset must look like +08:00");
				return GV_ERR_CONFIG;
			}
			c->utc_offset_min = offset_min;
		}
		if (k->offset == offsetof(struct gv_config, log_level)) {
			enum gv_log_level lv;

			if (log_level_parse(c->log_level, &lv) != 0) {
				set_error(errmsg, errlen, name, line, "%s",
					  "log.level must be debug, info, warn or error");
				return GV_ERR_CONFIG;
			}
		}
		if (k->offset == offsetof(struct gv_config, node_id) && !node_id_ok(c->node_id)) {
			/* It is a field of witness lines and SIEM messages, split on spaces. */
			set_error(errmsg, errlen, name, line, "%s",
				  "server.node_id must be 1-63 characters of A-Z a-z 0-9 . _ -");
			return GV_ERR_CONFIG;
		}
		if (k->offset == offsetof(struct gv_config, backend) && strcmp(c->backend, "sqlite")) {
			set_error(errmsg, errlen, name, line, "storage.backend '%s' is not supported",
				  c->backend);
			return GV_ERR_CONFIG;
		}
	}
	return check_values(c, name, line, errmsg, errlen);
}

static gv_err resolve_path(char *field, size_t size, const char *base)
{
	char full[GV_PATH_MAX];

	if (field[0] == '\0' || field[0] == '/' || strcmp(field, "-") == 0)
		return GV_OK;
	if (snprintf(full, sizeof(full), "%s/%s", base, field) >= (int)sizeof(full))
		return GV_ERR_TOO_LARGE;
	return util_strcpy(field, size, full);
}

gv_err config_load(const char *path, struct gv_config *c, char *errmsg, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	gv_err err;
	const char *slash;

	config_defaults(c);
	err = util_file_read(path, 1 << 20, &text, &len);
	if (err != GV_OK) {
		set_error(errmsg, errlen, path, 0, "cannot read: %s", gv_strerror(err));
		return GV_ERR_CONFIG;
	}
	err = config_parse(text, len, path, c, errmsg, errlen);
	free(text);
	if (err != GV_OK)
		return err;
	slash = strrchr(path, '/');
	if (slash) {
		size_t n = (size_t)(slash - path);

		if (n >= sizeof(c->base_dir))
			return GV_ERR_CONFIG;
		memcpy(c->base_dir, path, n);
		c->base_dir[n] = '\0';
		if (n == 0)
			memcpy(c->base_dir, "/", 2);
	} else {
		memcpy(c->base_dir, ".", 2);
	}
	for (size_t i = 0; i < GV_ARRAY_LEN(config_table); i++) {
		const struct config_key *k = &config_table[i];

		if (k->type == KEY_PATH &&
		    resolve_path((char *)c + k->offset, k->size, c->base_dir) != GV_OK) {
			set_error(errmsg, errlen, path, 0, "path for %s too long", k->name);
			return GV_ERR_CONFIG;
		}
	}
	return GV_OK;
}

void config_apply_reloadable(struct gv_config *cur, const struct gv_config *next)
{
	for (size_t i = 0; i < GV_ARRAY_LEN(config_table); i++) {
		const struct config_key *k = &config_table[i];
		size_t size = (k->type == KEY_INT || k->type == KEY_BOOL) ? sizeof(int) : k->size;

		if (k->reloadable)
			memcpy((char *)cur + k->offset, (const char *)next + k->offset, size);
	}
	cur->utc_offset_min = next->utc_offset_min;
}

gv_err config_format_default(struct gv_buf *out)
{
	const char *section = "";
	gv_err err = buf_printf(out, "# govvault configuration. Every key is listed with its default.\n"
				     "# Keys marked (reload) take effect on SIGHUP; others need a restart.\n"
				     "# Relative paths are relative to this file's directory.\n");

	for (size_t i = 0; err == GV_OK && i < GV_ARRAY_LEN(config_table); i++) {
		const struct config_key *k = &config_table[i];

		if (strcmp(section, k->section) != 0) {
			section = k->section;
			err = buf_printf(out, "\n[%s]\n", section);
			if (err != GV_OK)
				break;
		}
		err = buf_printf(out, "# %s%s\n%s = %s\n", k->help, k->reloadable ? " (reload)" : "",
				 k->name, k->def);
	}
	return err;
}

void config_each(const struct gv_config *c,
		 void (*fn)(const char *section, const char *key, const char *value, int reloadable,
			    void *ctx),
		 void *ctx)
{
	for (size_t i = 0; i < GV_ARRAY_LEN(config_table); i++) {
		const struct config_key *k = &config_table[i];
		const char *field = (const char *)c + k->offset;
		char num[32];

		if (k->type == KEY_INT) {
			snprintf(num, sizeof(num), "%d", *(const int *)field);
			fn(k->section, k->name, num, k->reloadable, ctx);
		} else if (k->type == KEY_BOOL) {
			fn(k->section, k->name, *(const int *)field ? "on" : "off", k->reloadable, ctx);
		} else {
			fn(k->section, k->name, field, k->reloadable, ctx);
		}
	}
}
