/* sqlite_cache.c - the rows every authenticated request reads (its session, its
 * account, its roles' restrictions) held in memory, so that a request reads no page of
 * the database to learn who is asking.
 *
 * Every write of these tables goes through sqlite.c, which drops the entries it
 * touches.  Entries are dropped, never patched: the next read loads what the database
 * holds, so a write whose transaction rolls back cannot stay cached.  One daemon per
 * database is the supported set-up; should a second process write it all the same, an
 * entry is trusted for SQC_TTL_US only, so a revocation made there holds here within a
 * second.  The caller holds s->lock. */
#include "store/sqlite_int.h"

#include <stdlib.h>

#include "common/util.h"

#define SQC_SESSIONS 256   /* slots, by token hash */
#define SQC_ACCOUNTS 64    /* slots, by account id */
#define SQC_ROLES 16       /* every role fits */
#define SQC_TTL_US 1000000

struct sqlite_cache {
	struct {
		int64_t loaded;    /* 0: free slot */
		struct store_session v;
	} sessions[SQC_SESSIONS];
	struct {
		int64_t loaded;
		struct store_account v;
	} accounts[SQC_ACCOUNTS];
	struct {
		int64_t loaded;
		int found;
		char role[STORE_NAME_LEN];
		char ip[STORE_LIST_LEN];
		char windows[513];
	} roles[SQC_ROLES];
};

/* When an entry is loaded: never 0, which marks a free slot. */
static int64_t stamp(void)
{
	return util_mono_us() + 1;
}

static int fresh(int64_t loaded, int64_t now)
{
	return loaded && now - loaded < SQC_TTL_US;
}

gv_err sqc_open(struct sqlite_store *s)
{
	s->cache = calloc(1, sizeof(*s->cache));
	return s->cache ? GV_OK : GV_ERR_NOMEM;
}

void sqc_close(struct sqlite_store *s)
{
	if (!s->cache)
		return;
	util_wipe(s->cache, sizeof(*s->cache));   /* password hashes, sealed TOTP secrets */
	free(s->cache);
	s->cache = NULL;
}

/* The slot of a token hash: its first 32 bits (the hash is uniform). */
static size_t session_slot(const char *hash)
{
	size_t v = 0;

	for (int i = 0; i < 8 && util_hex_digit(hash[i]) >= 0; i++)
		v = (v << 4) | (size_t)util_hex_digit(hash[i]);
	return v % SQC_SESSIONS;
}

int sqc_session_get(struct sqlite_store *s, const char *hash, struct store_session *out)
{
	size_t i = session_slot(hash);

	if (!fresh(s->cache->sessions[i].loaded, util_mono_us()) ||
	    !util_ct_streq(s->cache->sessions[i].v.token_hash, hash))
		return 0;
	*out = s->cache->sessions[i].v;
	return 1;
}

void sqc_session_put(struct sqlite_store *s, const struct store_session *v)
{
	size_t i = session_slot(v->token_hash);

	s->cache->sessions[i].v = *v;
	s->cache->sessions[i].loaded = stamp();
}

void sqc_session_drop_where(struct sqlite_store *s, const char *id, int64_t account_id)
{
	for (size_t i = 0; i < SQC_SESSIONS; i++)
		if (s->cache->sessions[i].loaded &&
		    ((id && strcmp(s->cache->sessions[i].v.id, id) == 0) ||
		     (account_id && s->cache->sessions[i].v.account_id == account_id)))
			util_wipe(&s->cache->sessions[i], sizeof(s->cache->sessions[i]));
}

void sqc_session_drop(struct sqlite_store *s, const struct store_session *v)
{
	size_t i = session_slot(v->token_hash);

	/* A caller's copy without its token hash is looked for everywhere. */
	if (s->cache->sessions[i].loaded && strcmp(s->cache->sessions[i].v.id, v->id) == 0)
		util_wipe(&s->cache->sessions[i], sizeof(s->cache->sessions[i]));
	else
		sqc_session_drop_where(s, v->id, 0);
}

void sqc_session_drop_all(struct sqlite_store *s)
{
	util_wipe(s->cache->sessions, sizeof(s->cache->sessions));
}

int sqc_account_get(struct sqlite_store *s, int64_t id, struct store_account *out)
{
	size_t i = (size_t)id % SQC_ACCOUNTS;

	if (!fresh(s->cache->accounts[i].loaded, util_mono_us()) || s->cache->accounts[i].v.id != id)
		return 0;
	*out = s->cache->accounts[i].v;
	return 1;
}

void sqc_account_put(struct sqlite_store *s, const struct store_account *v)
{
	size_t i = (size_t)v->id % SQC_ACCOUNTS;

	s->cache->accounts[i].v = *v;
	s->cache->accounts[i].loaded = stamp();
}

void sqc_account_drop(struct sqlite_store *s, int64_t id)
{
	size_t i = (size_t)id % SQC_ACCOUNTS;

	if (s->cache->accounts[i].loaded && s->cache->accounts[i].v.id == id)
		util_wipe(&s->cache->accounts[i], sizeof(s->cache->accounts[i]));   /* password hash */
	/* A session row carries its account's name. */
	sqc_session_drop_where(s, NULL, id);
}

int sqc_role_get(struct sqlite_store *s, const char *role, char *ip, size_t iplen, char *windows,
		 size_t winlen, gv_err *err)
{
	int64_t now = util_mono_us();

	for (size_t i = 0; i < SQC_ROLES; i++)
		if (fresh(s->cache->roles[i].loaded, now) && strcmp(s->cache->roles[i].role, role) == 0) {
			*err = GV_ERR_NOT_FOUND;
			if (s->cache->roles[i].found)
				*err = util_strcpy(ip, iplen, s->cache->roles[i].ip) == GV_OK &&
				       util_strcpy(windows, winlen, s->cache->roles[i].windows) == GV_OK
				       ? GV_OK : GV_ERR_TOO_LARGE;
			if (*err == GV_ERR_TOO_LARGE)
				ip[0] = windows[0] = '\0';
			return 1;
		}
	return 0;
}

void sqc_role_put(struct sqlite_store *s, const char *role, int found, const char *ip,
		  const char *windows)
{
	int64_t now = util_mono_us();

	for (size_t i = 0; i < SQC_ROLES; i++)
		if (!fresh(s->cache->roles[i].loaded, now)) {
			if (util_strcpy(s->cache->roles[i].role, sizeof(s->cache->roles[i].role), role) != GV_OK ||
			    util_strcpy(s->cache->roles[i].ip, sizeof(s->cache->roles[i].ip), ip) != GV_OK ||
			    util_strcpy(s->cache->roles[i].windows, sizeof(s->cache->roles[i].windows),
					windows) != GV_OK)
				return;   /* not kept: the next read asks the database again */
			s->cache->roles[i].found = found;
			s->cache->roles[i].loaded = stamp();
			return;
		}
}

void sqc_role_drop_all(struct sqlite_store *s)
{
	memset(s->cache->roles, 0, sizeof(s->cache->roles));
}
