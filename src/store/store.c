/* store.c - backend selection and shared record helpers. */
#include "store/store.h"

#include <string.h>

static const char *const status_names[] = {
	[ACCOUNT_PENDING] = "pending",   [ACCOUNT_ACTIVE] = "active",
	[ACCOUNT_LOCKED] = "locked",     [ACCOUNT_DISABLED] = "disabled",
	[ACCOUNT_EXPIRED] = "expired",
};

gv_err store_open(const struct gv_config *cfg, struct gv_store **out)
{
	*out = NULL;
	if (strcmp(cfg->backend, "sqlite") == 0)
		return store_sqlite_open(cfg->db_path, out);
	return GV_ERR_CONFIG;
}

void store_close(struct gv_store *st)
{
	if (st)
		st->ops->close(st);
}

const char *store_status_name(int status)
{
	if (status < 0 || status > ACCOUNT_EXPIRED)
		return "unknown";
	return status_names[status];
}

int store_status_parse(const char *name)
{
	for (int i = 0; i <= ACCOUNT_EXPIRED; i++)
		if (strcmp(status_names[i], name) == 0)
			return i;
	return -1;
}
