/* config.h - govvault.conf: the one configuration file, its keys and defaults.
 *
 * INI format: "[section]" headers, "key = value" lines, '#' or ';' comments.  Every key
 * is in the table in config.c with its default, bounds and whether SIGHUP reloads it;
 * unknown sections or keys and out-of-range values are refused with "file:line: why".
 * Relative paths are resolved against the directory holding the file. */
#ifndef GV_COMMON_CONFIG_H
#define GV_COMMON_CONFIG_H

#include "common/buf.h"
#include "common/error.h"

#define GV_PATH_MAX 1024

struct gv_config {
	/* [server] */
	char listen[64];
	int port;
	int threads;
	int tls;
	char tls_cert[GV_PATH_MAX];
	char tls_key[GV_PATH_MAX];
	int max_body_bytes;
	int max_json_depth;
	int max_header_bytes;
	char node_id[64];
	char pid_file[GV_PATH_MAX];
	/* [storage] */
	char backend[16];
	char db_path[GV_PATH_MAX];
	/* [keys] */
	char server_key[GV_PATH_MAX];
	/* [log] */
	char log_level[16];
	char log_file[GV_PATH_MAX];
	/* [password] */
	int argon2_memory_kib;
	int argon2_iterations;
	int argon2_parallelism;
	int pw_min_length;
	int pw_min_classes;
	int pw_history;
	int pw_max_age_days;
	char pw_common_list[GV_PATH_MAX];
	/* [lockout] */
	int lock_max_failures;
	int lock_duration_s;
	int lock_totp_max_failures;
	/* [session] */
	int session_idle_s;
	int session_absolute_s;
	int session_max_per_account;
	/* [accounts] */
	int dormant_days;
	char utc_offset[8];
	int utc_offset_min;       /* derived from utc_offset */
	int maintenance_interval_s;
	/* [data] */
	char data_important_kinds[256];
	int data_important_rows;
	int data_import_unique_values;
	/* [audit] */
	char audit_dir[GV_PATH_MAX];
	char audit_witness[GV_PATH_MAX];
	char audit_sign_key[GV_PATH_MAX];
	int audit_cp_records;
	int audit_cp_seconds;
	int audit_segment_mib;
	int audit_verify_s;
	int audit_retention_days;
	int audit_write_timeout_s;
	char audit_archive_dir[GV_PATH_MAX];
	char audit_syslog_host[256];
	int audit_syslog_port;
	int audit_syslog_queue;
	/* derived */
	char base_dir[GV_PATH_MAX];
};

void config_defaults(struct gv_config *c);
/* Parses text named `name` (for messages) over the defaults already in *c. */
gv_err config_parse(const char *text, size_t len, const char *name, struct gv_config *c,
		    char *errmsg, size_t errlen) GV_MUST_CHECK;
/* Defaults + file + path resolution + cross-key checks. */
gv_err config_load(const char *path, struct gv_config *c, char *errmsg, size_t errlen) GV_MUST_CHECK;
/* Copies the keys that SIGHUP may change from next into cur. */
void config_apply_reloadable(struct gv_config *cur, const struct gv_config *next);
/* Writes a complete commented configuration file with all defaults. */
gv_err config_format_default(struct gv_buf *out) GV_MUST_CHECK;
/* Calls fn for every key with its current value rendered as text. */
void config_each(const struct gv_config *c,
		 void (*fn)(const char *section, const char *key, const char *value,
			    int reloadable, void *ctx),
		 void *ctx);

#endif
