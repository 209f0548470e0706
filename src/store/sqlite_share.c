/* sqlite_share.c - the SQLite tables of sharing: requests and their review events, the
 * departments a dataset may be shared with, data services and consumers.  Same
 * connection, lock and helpers as sqlite.c (sqlite_int.h).
 *
 * share_commit writes one step of a request - its grant, its service, the request and
 * the event - in one transaction, so a request is never approved without its grant or
 * its service, nor a grant made for a request that was not saved.  When it fails,
 * the caller's structs get back the ids they came with, so the same call can simply
 * be made again.  A service name belongs to one dataset and one department: later
 * versions may change anything else, never who the data is from or who may call it. */
#include "store/sqlite_int.h"

#include <stdlib.h>

#include "common/util.h"

enum share_stmt {
	QS_REQ_INSERT, QS_REQ_UPDATE, QS_REQ_GET, QS_REQ_LIST,
	QS_EVENT_INSERT, QS_EVENT_LIST,
	QS_DEPTS_GET, QS_DEPTS_CLEAR, QS_DEPTS_ADD,
	QS_SVC_NEXT, QS_SVC_INSERT, QS_SVC_UPDATE, QS_SVC_SET_REQUEST, QS_SVC_GET,
	QS_SVC_LATEST, QS_SVC_LIST,
	QS_CONS_INSERT, QS_CONS_UPDATE, QS_CONS_GET, QS_CONS_LIST,
	QS__COUNT
};

_Static_assert(QS__COUNT <= SQLITE_SHARE_STMTS, "SQLITE_SHARE_STMTS is too small");

#define REQ_COLS \
	"id, dataset_id, kind, requester, department, fields, actions, purpose, legal_basis, " \
	"valid_from, valid_until, expected_rows_day, mask_profile, service, state, needs_owner, " \
	"needs_secadmin, owner_by, owner_at, secadmin_by, secadmin_at, grant_id, service_id, " \
	"created_at, updated_at"

#define EVENT_COLS "request_id, at, actor, step, comment, scope"

#define SVC_COLS \
	"id, name, version, dataset_id, request_id, grant_id, department, open, fields, " \
	"mask_profile, params, max_rows, rate_per_minute, valid_until, state, created_by, " \
	"created_at, revoked_by, revoked_at"

#define CONS_COLS \
	"id, client_id, name, department, secret_hash, cert_fp, ip_allowlist, services, state, " \
	"created_by, created_at, revoked_by, revoked_at, updated_at"

static const char *const share_sql[QS__COUNT] = {
	[QS_REQ_INSERT] =
		"INSERT INTO share_requests (dataset_id, kind, requester, department, fields, actions, "
		"purpose, legal_basis, valid_from, valid_until, expected_rows_day, mask_profile, "
		"service, state, needs_owner, needs_secadmin, owner_by, owner_at, secadmin_by, "
		"secadmin_at, grant_id, service_id, created_at, updated_at) VALUES (?2,?3,?4,?5,?6,"
		"?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25)",
	[QS_REQ_UPDATE] =
		"UPDATE share_requests SET dataset_id=?2, kind=?3, requester=?4, department=?5, "
		"fields=?6, actions=?7, purpose=?8, legal_basis=?9, valid_from=?10, valid_until=?11, "
		"expected_rows_day=?12, mask_profile=?13, service=?14, state=?15, needs_owner=?16, "
		"needs_secadmin=?17, owner_by=?18, owner_at=?19, secadmin_by=?20, secadmin_at=?21, "
		"grant_id=?22, service_id=?23, created_at=?24, updated_at=?25 WHERE id=?1 AND "
		"state=?26 AND owner_by=?27 AND secadmin_by=?28",
	[QS_REQ_GET] = "SELECT " REQ_COLS " FROM share_requests WHERE id = ?1",
	[QS_REQ_LIST] = "SELECT " REQ_COLS " FROM share_requests ORDER BY id DESC",
	[QS_EVENT_INSERT] = "INSERT INTO share_events (" EVENT_COLS ") VALUES (?1,?2,?3,?4,?5,?6)",
	[QS_EVENT_LIST] = "SELECT " EVENT_COLS " FROM share_events WHERE request_id = ?1 ORDER BY id",
	[QS_DEPTS_GET] = "SELECT department FROM share_depts WHERE dataset_id = ?1 "
			 "ORDER BY department",
	[QS_DEPTS_CLEAR] = "DELETE FROM share_depts WHERE dataset_id = ?1",
	[QS_DEPTS_ADD] = "INSERT INTO share_depts (dataset_id, department) VALUES (?1, ?2) "
			 "ON CONFLICT DO NOTHING",
	/* The next version of a name, and how many of its versions are another dataset's
	 * or another department's. */
	[QS_SVC_NEXT] = "SELECT coalesce(max(version), 0) + 1, "
			"coalesce(sum(dataset_id <> ?2 OR department <> ?3), 0) "
			"FROM services WHERE name = ?1",
	[QS_SVC_INSERT] =
		"INSERT INTO services (name, version, dataset_id, request_id, grant_id, department, "
		"open, fields, mask_profile, params, max_rows, rate_per_minute, valid_until, state, "
		"created_by, created_at, revoked_by, revoked_at) VALUES (?2,?3,?4,?5,?6,?7,?8,?9,"
		"?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)",
	[QS_SVC_UPDATE] =
		"UPDATE services SET name=?2, version=?3, dataset_id=?4, request_id=?5, grant_id=?6, "
		"department=?7, open=?8, fields=?9, mask_profile=?10, params=?11, max_rows=?12, "
		"rate_per_minute=?13, valid_until=?14, state=?15, created_by=?16, created_at=?17, "
		"revoked_by=?18, revoked_at=?19 WHERE id=?1",
	[QS_SVC_SET_REQUEST] = "UPDATE services SET request_id = ?2 WHERE id = ?1",
	[QS_SVC_GET] = "SELECT " SVC_COLS " FROM services WHERE name = ?1 AND version = ?2",
	[QS_SVC_LATEST] = "SELECT " SVC_COLS " FROM services WHERE name = ?1 "
			  "ORDER BY version DESC LIMIT 1",
	[QS_SVC_LIST] = "SELECT " SVC_COLS " FROM services ORDER BY name, version",
	[QS_CONS_INSERT] =
		"INSERT INTO consumers (client_id, name, department, secret_hash, cert_fp, "
		"ip_allowlist, services, state, created_by, created_at, revoked_by, revoked_at, "
		"updated_at) VALUES (?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
	[QS_CONS_UPDATE] =
		"UPDATE consumers SET client_id=?2, name=?3, department=?4, secret_hash=?5, "
		"cert_fp=?6, ip_allowlist=?7, services=?8, state=?9, created_by=?10, created_at=?11, "
		"revoked_by=?12, revoked_at=?13, updated_at=?14 WHERE id=?1",
	[QS_CONS_GET] = "SELECT " CONS_COLS " FROM consumers WHERE client_id = ?1",
	[QS_CONS_LIST] = "SELECT " CONS_COLS " FROM consumers ORDER BY id",
};

static sqlite3_stmt *share_stmt(struct sqlite_store *s, enum share_stmt id)
{
	return stmt_cached(s, &s->share_stmts[id], share_sql[id]);
}

/* Runs statement id with the struct bound by bind; lock held.  For an update (with_id)
 * a row that is not there is GV_ERR_NOT_FOUND; for an insert *id_out gets the new id. */
static gv_err share_write(struct sqlite_store *s, enum share_stmt id,
			  void (*bind)(sqlite3_stmt *q, const void *obj, int with_id),
			  const void *obj, int with_id, int64_t *id_out)
{
	sqlite3_stmt *q = share_stmt(s, id);
	gv_err err;

	if (!q)
		return GV_ERR_STORE;
	bind(q, obj, with_id);
	err = exec_simple(s, q);
	if (err == GV_OK && with_id && sqlite3_changes(s->db) == 0)
		err = GV_ERR_NOT_FOUND;
	if (err == GV_OK && id_out)
		*id_out = sqlite3_last_insert_rowid(s->db);
	return err;
}

/* ---- requests and events ---- */

static void req_bind(sqlite3_stmt *q, const void *obj, int with_id)
{
	const struct store_share_request *r = obj;

	if (with_id)
		sqlite3_bind_int64(q, 1, r->id);
	sqlite3_bind_int64(q, 2, r->dataset_id);
	sqlite3_bind_int(q, 3, r->kind);
	bind_text(q, 4, r->requester);
	bind_text(q, 5, r->department);
	bind_text(q, 6, r->fields);
	sqlite3_bind_int64(q, 7, r->actions);
	bind_text(q, 8, r->purpose);
	bind_text(q, 9, r->legal_basis);
	sqlite3_bind_int64(q, 10, r->valid_from);
	sqlite3_bind_int64(q, 11, r->valid_until);
	sqlite3_bind_int64(q, 12, r->expected_rows_day);
	bind_text(q, 13, r->mask_profile);
	bind_text(q, 14, r->service);
	sqlite3_bind_int(q, 15, r->state);
	sqlite3_bind_int(q, 16, r->needs_owner);
	sqlite3_bind_int(q, 17, r->needs_secadmin);
	bind_text(q, 18, r->owner_by);
	sqlite3_bind_int64(q, 19, r->owner_at);
	bind_text(q, 20, r->secadmin_by);
	sqlite3_bind_int64(q, 21, r->secadmin_at);
	bind_id(q, 22, r->grant_id);
	bind_id(q, 23, r->service_id);
	sqlite3_bind_int64(q, 24, r->created_at);
	sqlite3_bind_int64(q, 25, r->updated_at);
}

static void req_read(sqlite3_stmt *q, struct store_share_request *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(q, 0);
	r->dataset_id = sqlite3_column_int64(q, 1);
	r->kind = sqlite3_column_int(q, 2);
	col_text(q, 3, r->requester, sizeof(r->requester));
	col_text(q, 4, r->department, sizeof(r->department));
	col_text(q, 5, r->fields, sizeof(r->fields));
	r->actions = (unsigned)sqlite3_column_int64(q, 6);
	col_text(q, 7, r->purpose, sizeof(r->purpose));
	col_text(q, 8, r->legal_basis, sizeof(r->legal_basis));
	r->valid_from = sqlite3_column_int64(q, 9);
	r->valid_until = sqlite3_column_int64(q, 10);
	r->expected_rows_day = sqlite3_column_int64(q, 11);
	col_text(q, 12, r->mask_profile, sizeof(r->mask_profile));
	col_text(q, 13, r->service, sizeof(r->service));
	r->state = sqlite3_column_int(q, 14);
	r->needs_owner = sqlite3_column_int(q, 15);
	r->needs_secadmin = sqlite3_column_int(q, 16);
	col_text(q, 17, r->owner_by, sizeof(r->owner_by));
	r->owner_at = sqlite3_column_int64(q, 18);
	col_text(q, 19, r->secadmin_by, sizeof(r->secadmin_by));
	r->secadmin_at = sqlite3_column_int64(q, 20);
	r->grant_id = sqlite3_column_int64(q, 21);     /* NULL reads as 0 */
	r->service_id = sqlite3_column_int64(q, 22);
	r->created_at = sqlite3_column_int64(q, 23);
	r->updated_at = sqlite3_column_int64(q, 24);
}

static void event_bind(sqlite3_stmt *q, const void *obj, int with_id)
{
	const struct store_share_event *e = obj;

	(void)with_id;
	sqlite3_bind_int64(q, 1, e->request_id);
	sqlite3_bind_int64(q, 2, e->at);
	bind_text(q, 3, e->actor);
	bind_text(q, 4, e->step);
	bind_text(q, 5, e->comment);
	bind_text(q, 6, e->scope);
}

static void event_read(sqlite3_stmt *q, struct store_share_event *e)
{
	memset(e, 0, sizeof(*e));
	e->request_id = sqlite3_column_int64(q, 0);
	e->at = sqlite3_column_int64(q, 1);
	col_text(q, 2, e->actor, sizeof(e->actor));
	col_text(q, 3, e->step, sizeof(e->step));
	col_text(q, 4, e->comment, sizeof(e->comment));
	col_text(q, 5, e->scope, sizeof(e->scope));
}

/* ---- services ---- */

static void svc_bind(sqlite3_stmt *q, const void *obj, int with_id)
{
	const struct store_service *v = obj;

	if (with_id)
		sqlite3_bind_int64(q, 1, v->id);
	bind_text(q, 2, v->name);
	sqlite3_bind_int(q, 3, v->version);
	sqlite3_bind_int64(q, 4, v->dataset_id);
	bind_id(q, 5, v->request_id);
	bind_id(q, 6, v->grant_id);
	bind_text(q, 7, v->department);
	sqlite3_bind_int(q, 8, v->open);
	bind_text(q, 9, v->fields);
	bind_text(q, 10, v->mask_profile);
	bind_text(q, 11, v->params);
	sqlite3_bind_int(q, 12, v->max_rows);
	sqlite3_bind_int(q, 13, v->rate_per_minute);
	sqlite3_bind_int64(q, 14, v->valid_until);
	sqlite3_bind_int(q, 15, v->state);
	bind_text(q, 16, v->created_by);
	sqlite3_bind_int64(q, 17, v->created_at);
	bind_text(q, 18, v->revoked_by);
	sqlite3_bind_int64(q, 19, v->revoked_at);
}

static void svc_read(sqlite3_stmt *q, struct store_service *v)
{
	memset(v, 0, sizeof(*v));
	v->id = sqlite3_column_int64(q, 0);
	col_text(q, 1, v->name, sizeof(v->name));
	v->version = sqlite3_column_int(q, 2);
	v->dataset_id = sqlite3_column_int64(q, 3);
	v->request_id = sqlite3_column_int64(q, 4);
	v->grant_id = sqlite3_column_int64(q, 5);
	col_text(q, 6, v->department, sizeof(v->department));
	v->open = sqlite3_column_int(q, 7);
	col_text(q, 8, v->fields, sizeof(v->fields));
	col_text(q, 9, v->mask_profile, sizeof(v->mask_profile));
	col_text(q, 10, v->params, sizeof(v->params));
	v->max_rows = sqlite3_column_int(q, 11);
	v->rate_per_minute = sqlite3_column_int(q, 12);
	v->valid_until = sqlite3_column_int64(q, 13);
	v->state = sqlite3_column_int(q, 14);
	col_text(q, 15, v->created_by, sizeof(v->created_by));
	v->created_at = sqlite3_column_int64(q, 16);
	col_text(q, 17, v->revoked_by, sizeof(v->revoked_by));
	v->revoked_at = sqlite3_column_int64(q, 18);
}

/* Inserts svc as the next version of its name, setting svc->version and svc->id;
 * GV_ERR_EXISTS when a version of the name is another dataset's or department's.
 * Lock held, inside a transaction (the version read and the insert go together). */
static gv_err svc_insert(struct sqlite_store *s, struct store_service *svc)
{
	sqlite3_stmt *q = share_stmt(s, QS_SVC_NEXT);
	int64_t next = 0, foreign = 0;
	int rc;

	if (!q)
		return GV_ERR_STORE;
	bind_text(q, 1, svc->name);
	sqlite3_bind_int64(q, 2, svc->dataset_id);
	bind_text(q, 3, svc->department);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		next = sqlite3_column_int64(q, 0);
		foreign = sqlite3_column_int64(q, 1);
	}
	stmt_done(q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? GV_ERR_STORE : map_rc(s, rc);
	if (foreign)
		return GV_ERR_EXISTS;
	if (next > INT32_MAX)
		return GV_ERR_LIMIT;
	svc->version = (int)next;
	return share_write(s, QS_SVC_INSERT, svc_bind, svc, 0, &svc->id);
}

/* ---- consumers ---- */

static void cons_bind(sqlite3_stmt *q, const void *obj, int with_id)
{
	const struct store_consumer *c = obj;

	if (with_id)
		sqlite3_bind_int64(q, 1, c->id);
	bind_text(q, 2, c->client_id);
	bind_text(q, 3, c->name);
	bind_text(q, 4, c->department);
	bind_text(q, 5, c->secret_hash);
	bind_text(q, 6, c->cert_fp);
	bind_text(q, 7, c->ip_allowlist);
	bind_text(q, 8, c->services);
	sqlite3_bind_int(q, 9, c->state);
	bind_text(q, 10, c->created_by);
	sqlite3_bind_int64(q, 11, c->created_at);
	bind_text(q, 12, c->revoked_by);
	sqlite3_bind_int64(q, 13, c->revoked_at);
	sqlite3_bind_int64(q, 14, c->updated_at);
}

static void cons_read(sqlite3_stmt *q, struct store_consumer *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(q, 0);
	col_text(q, 1, c->client_id, sizeof(c->client_id));
	col_text(q, 2, c->name, sizeof(c->name));
	col_text(q, 3, c->department, sizeof(c->department));
	col_text(q, 4, c->secret_hash, sizeof(c->secret_hash));
	col_text(q, 5, c->cert_fp, sizeof(c->cert_fp));
	col_text(q, 6, c->ip_allowlist, sizeof(c->ip_allowlist));
	col_text(q, 7, c->services, sizeof(c->services));
	c->state = sqlite3_column_int(q, 8);
	col_text(q, 9, c->created_by, sizeof(c->created_by));
	c->created_at = sqlite3_column_int64(q, 10);
	col_text(q, 11, c->revoked_by, sizeof(c->revoked_by));
	c->revoked_at = sqlite3_column_int64(q, 12);
	c->updated_at = sqlite3_column_int64(q, 13);
}

/* ---- share_commit ---- */

/* The fields of the caller's structs share_commit may set, as they were on entry. */
struct share_ids {
	int64_t req_id, req_grant_id, req_service_id;
	int64_t ev_request_id;
	int64_t grant_id;
	int64_t svc_id, svc_request_id, svc_grant_id;
	int svc_version;
};

static void ids_save(struct share_ids *k, const struct store_share_request *req,
		     const struct store_share_event *ev, const struct store_grant *grant,
		     const struct store_service *svc)
{
	memset(k, 0, sizeof(*k));
	k->req_id = req->id;
	k->req_grant_id = req->grant_id;
	k->req_service_id = req->service_id;
	if (ev)
		k->ev_request_id = ev->request_id;
	if (grant)
		k->grant_id = grant->id;
	if (svc) {
		k->svc_id = svc->id;
		k->svc_request_id = svc->request_id;
		k->svc_grant_id = svc->grant_id;
		k->svc_version = svc->version;
	}
}

static void ids_restore(const struct share_ids *k, struct store_share_request *req,
			struct store_share_event *ev, struct store_grant *grant,
			struct store_service *svc)
{
	req->id = k->req_id;
	req->grant_id = k->req_grant_id;
	req->service_id = k->req_service_id;
	if (ev)
		ev->request_id = k->ev_request_id;
	if (grant)
		grant->id = k->grant_id;
	if (svc) {
		svc->id = k->svc_id;
		svc->request_id = k->svc_request_id;
		svc->grant_id = k->svc_grant_id;
		svc->version = k->svc_version;
	}
}

/* The writes of share_commit; lock held, inside its transaction.  A new service made
 * in the same step as a new grant or a new request could not know their ids: when it
 * leaves grant_id or request_id 0 it gets the grant's and the request's here. */
static gv_err share_steps(struct sqlite_store *s, struct store_share_request *req,
			  const struct store_share_request *was, struct store_share_event *ev,
			  struct store_grant *grant, struct store_service *svc)
{
	int grant_new = 0, svc_new = 0;
	gv_err err;

	if (grant && grant->id) {
		err = sqp_grant_update_locked(s, grant);
	} else if (grant) {
		grant_new = 1;
		err = sqp_grant_insert_locked(s, grant);
		if (err == GV_OK)
			req->grant_id = grant->id;
	} else {
		err = GV_OK;
	}
	if (err == GV_OK && svc && svc->id) {
		err = share_write(s, QS_SVC_UPDATE, svc_bind, svc, 1, NULL);
	} else if (err == GV_OK && svc) {
		svc_new = 1;
		if (grant_new && !svc->grant_id)
			svc->grant_id = grant->id;
		if (!svc->request_id)
			svc->request_id = req->id;   /* still 0 for a new request: set below */
		err = svc_insert(s, svc);
		if (err == GV_OK)
			req->service_id = svc->id;
	}
	if (err != GV_OK)
		return err;
	if (req->id) {
		/* Only over the row as the caller read it: of two steps racing on one request,
		 * the second finds it changed (every step changes one of these three). */
		sqlite3_stmt *q = share_stmt(s, QS_REQ_UPDATE);

		err = GV_ERR_STORE;
		if (q && was) {
			req_bind(q, req, 1);
			sqlite3_bind_int(q, 26, was->state);
			bind_text(q, 27, was->owner_by);
			bind_text(q, 28, was->secadmin_by);
			err = exec_simple(s, q);
			if (err == GV_OK && sqlite3_changes(s->db) == 0)
				err = GV_ERR_STATE;
		}
	} else {
		err = share_write(s, QS_REQ_INSERT, req_bind, req, 0, &req->id);
		if (err == GV_OK && svc_new && !svc->request_id) {
			sqlite3_stmt *q = share_stmt(s, QS_SVC_SET_REQUEST);

			svc->request_id = req->id;
			err = GV_ERR_STORE;
			if (q) {
				sqlite3_bind_int64(q, 1, svc->id);
				sqlite3_bind_int64(q, 2, svc->request_id);
				err = exec_simple(s, q);
			}
		}
	}
	if (err == GV_OK && ev) {
		ev->request_id = req->id;
		err = share_write(s, QS_EVENT_INSERT, event_bind, ev, 0, NULL);
	}
	return err;
}

gv_err sqs_share_commit(struct gv_store *st, struct store_share_request *req,
			const struct store_share_request *was, struct store_share_event *ev,
			struct store_grant *grant, struct store_service *svc)
{
	struct sqlite_store *s = impl(st);
	struct share_ids saved;
	gv_err err;

	ids_save(&saved, req, ev, grant, svc);
	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	if (err != GV_OK)
		goto out;
	err = share_steps(s, req, was, ev, grant, svc);
	if (err == GV_OK)
		err = sqd_commit(s);   /* rolls back itself when it fails */
	else
		sqd_rollback(s);
out:
	pthread_mutex_unlock(&s->lock);
	if (err != GV_OK)
		ids_restore(&saved, req, ev, grant, svc);
	return err;
}

/* ---- reads ---- */

/* One row into the caller's struct: read is req_read, svc_read or cons_read. */
struct one_row {
	void (*read)(sqlite3_stmt *q, void *out);
	void *out;
};

static int one_row(sqlite3_stmt *q, void *arg)
{
	struct one_row *o = arg;

	o->read(q, o->out);
	return 1;
}

static void req_read_any(sqlite3_stmt *q, void *out)
{
	req_read(q, out);
}

static void svc_read_any(sqlite3_stmt *q, void *out)
{
	svc_read(q, out);
}

static void cons_read_any(sqlite3_stmt *q, void *out)
{
	cons_read(q, out);
}

static gv_err not_found_if_none(gv_err err, int found)
{
	return err == GV_OK && !found ? GV_ERR_NOT_FOUND : err;
}

gv_err sqs_share_request_get(struct gv_store *st, int64_t id, struct store_share_request *out)
{
	struct sqlite_store *s = impl(st);
	struct one_row o = {req_read_any, out};
	int found = 0;
	gv_err err = sq_rows(s, &s->share_stmts[QS_REQ_GET], share_sql[QS_REQ_GET], one_row, &o,
			     &found, "I", id);

	return not_found_if_none(err, found);
}

/* The lists hand every row to the caller's callback through one struct on the heap
 * (requests and services are kilobytes each), one row function per struct type. */
struct req_list {
	store_share_request_cb cb;
	void *ctx;
	struct store_share_request *r;
};

static int req_row(sqlite3_stmt *q, void *arg)
{
	struct req_list *l = arg;

	req_read(q, l->r);
	return l->cb(l->r, l->ctx);
}

gv_err sqs_share_request_list(struct gv_store *st, store_share_request_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct req_list l = {cb, ctx, malloc(sizeof(struct store_share_request))};
	gv_err err = GV_ERR_NOMEM;

	if (l.r)
		err = sq_rows(s, &s->share_stmts[QS_REQ_LIST], share_sql[QS_REQ_LIST], req_row, &l,
			      NULL, "");
	free(l.r);
	return err;
}

struct event_list {
	store_share_event_cb cb;
	void *ctx;
	struct store_share_event e;
};

static int event_row(sqlite3_stmt *q, void *arg)
{
	struct event_list *l = arg;

	event_read(q, &l->e);
	return l->cb(&l->e, l->ctx);
}

gv_err sqs_share_event_list(struct gv_store *st, int64_t request_id, store_share_event_cb cb,
			    void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct event_list *l = malloc(sizeof(*l));
	gv_err err = GV_ERR_NOMEM;

	if (l) {
		l->cb = cb;
		l->ctx = ctx;
		err = sq_rows(s, &s->share_stmts[QS_EVENT_LIST], share_sql[QS_EVENT_LIST], event_row,
			      l, NULL, "I", request_id);
	}
	free(l);
	return err;
}

/* ---- departments a dataset may be shared with ---- */

struct depts_out {
	char *out;
	size_t len, used;
	int overflow;
};

static int dept_row(sqlite3_stmt *q, void *arg)
{
	struct depts_out *d = arg;
	const unsigned char *t = sqlite3_column_text(q, 0);
	size_t n = t ? (size_t)sqlite3_column_bytes(q, 0) : 0;
	size_t sep = d->used ? 1 : 0;

	/* used + sep + n + NUL must fit in len (used < len always holds). */
	if (sep + n >= d->len - d->used) {
		d->overflow = 1;
		return 1;
	}
	if (sep)
		d->out[d->used++] = ',';
	if (n)
		memcpy(d->out + d->used, t, n);
	d->used += n;
	d->out[d->used] = '\0';
	return 0;
}

gv_err sqs_share_depts_get(struct gv_store *st, int64_t dataset_id, char *out, size_t len)
{
	struct sqlite_store *s = impl(st);
	struct depts_out d = {out, len, 0, 0};
	gv_err err;

	if (len == 0)
		return GV_ERR_TOO_LARGE;
	out[0] = '\0';
	err = sq_rows(s, &s->share_stmts[QS_DEPTS_GET], share_sql[QS_DEPTS_GET], dept_row, &d, NULL,
		      "I", dataset_id);
	if (err == GV_OK && d.overflow)
		err = GV_ERR_TOO_LARGE;
	if (err != GV_OK)
		out[0] = '\0';
	return err;
}

/* Adds the departments of a comma list (blanks around names ignored, empty items and
 * repeats skipped); lock held, inside a transaction.  A name longer than the
 * department fields of accounts and requests could never match: GV_ERR_INVALID. */
static gv_err depts_add(struct sqlite_store *s, int64_t dataset_id, const char *list)
{
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		const char *b = p, *e = comma ? comma : p + strlen(p);
		sqlite3_stmt *q;
		gv_err err;

		p = comma ? comma + 1 : e;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == b)
			continue;
		if ((size_t)(e - b) >= STORE_TEXT_LEN)
			return GV_ERR_INVALID;
		q = share_stmt(s, QS_DEPTS_ADD);
		if (!q)
			return GV_ERR_STORE;
		sqlite3_bind_int64(q, 1, dataset_id);
		sqlite3_bind_text(q, 2, b, (int)(e - b), SQLITE_TRANSIENT);
		err = exec_simple(s, q);
		if (err != GV_OK)
			return err;
	}
	return GV_OK;
}

gv_err sqs_share_depts_put(struct gv_store *st, int64_t dataset_id, const char *list)
{
	struct sqlite_store *s = impl(st);
	sqlite3_stmt *q;
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = sqd_begin(s);
	if (err != GV_OK)
		goto out;
	q = share_stmt(s, QS_DEPTS_CLEAR);
	err = GV_ERR_STORE;
	if (q) {
		sqlite3_bind_int64(q, 1, dataset_id);
		err = exec_simple(s, q);
	}
	if (err == GV_OK)
		err = depts_add(s, dataset_id, list);
	if (err == GV_OK)
		err = sqd_commit(s);
	else
		sqd_rollback(s);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ---- services ---- */

struct svc_list {
	store_service_cb cb;
	void *ctx;
	struct store_service *v;
};

static int svc_row(sqlite3_stmt *q, void *arg)
{
	struct svc_list *l = arg;

	svc_read(q, l->v);
	return l->cb(l->v, l->ctx);
}

gv_err sqs_service_list(struct gv_store *st, store_service_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct svc_list l = {cb, ctx, malloc(sizeof(struct store_service))};
	gv_err err = GV_ERR_NOMEM;

	if (l.v)
		err = sq_rows(s, &s->share_stmts[QS_SVC_LIST], share_sql[QS_SVC_LIST], svc_row, &l,
			      NULL, "");
	free(l.v);
	return err;
}

gv_err sqs_service_get(struct gv_store *st, const char *name, int version,
		       struct store_service *out)
{
	struct sqlite_store *s = impl(st);
	struct one_row o = {svc_read_any, out};
	int found = 0;
	gv_err err = version
		? sq_rows(s, &s->share_stmts[QS_SVC_GET], share_sql[QS_SVC_GET], one_row, &o, &found,
			  "si", name, version)
		: sq_rows(s, &s->share_stmts[QS_SVC_LATEST], share_sql[QS_SVC_LATEST], one_row, &o,
			  &found, "s", name);

	return not_found_if_none(err, found);
}

gv_err sqs_service_update(struct gv_store *st, const struct store_service *svc)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = share_write(s, QS_SVC_UPDATE, svc_bind, svc, 1, NULL);
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* ---- consumers ---- */

gv_err sqs_consumer_insert(struct gv_store *st, struct store_consumer *c)
{
	struct sqlite_store *s = impl(st);
	int64_t id = 0;
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = share_write(s, QS_CONS_INSERT, cons_bind, c, 0, &id);
	pthread_mutex_unlock(&s->lock);
	if (err == GV_OK)
		c->id = id;
	return err;
}

gv_err sqs_consumer_update(struct gv_store *st, const struct store_consumer *c)
{
	struct sqlite_store *s = impl(st);
	gv_err err;

	pthread_mutex_lock(&s->lock);
	err = share_write(s, QS_CONS_UPDATE, cons_bind, c, 1, NULL);
	pthread_mutex_unlock(&s->lock);
	return err;
}

gv_err sqs_consumer_get(struct gv_store *st, const char *client_id, struct store_consumer *out)
{
	struct sqlite_store *s = impl(st);
	struct one_row o = {cons_read_any, out};
	int found = 0;
	gv_err err = sq_rows(s, &s->share_stmts[QS_CONS_GET], share_sql[QS_CONS_GET], one_row, &o,
			     &found, "s", client_id);

	return not_found_if_none(err, found);
}

struct cons_list {
	store_consumer_cb cb;
	void *ctx;
	struct store_consumer c;
};

static int cons_row(sqlite3_stmt *q, void *arg)
{
	struct cons_list *l = arg;

	cons_read(q, &l->c);
	return l->cb(&l->c, l->ctx);
}

/* The row copy holds secret hashes (the consumers' token keys): wiped before it goes. */
gv_err sqs_consumer_list(struct gv_store *st, store_consumer_cb cb, void *ctx)
{
	struct sqlite_store *s = impl(st);
	struct cons_list *l = malloc(sizeof(*l));
	gv_err err = GV_ERR_NOMEM;

	if (!l)
		return err;
	l->cb = cb;
	l->ctx = ctx;
	err = sq_rows(s, &s->share_stmts[QS_CONS_LIST], share_sql[QS_CONS_LIST], cons_row, l, NULL,
		      "");
	util_wipe(l, sizeof(*l));
	free(l);
	return err;
}

void sqs_finalize(struct sqlite_store *s)
{
	for (int i = 0; i < QS__COUNT; i++)
		sqlite3_finalize(s->share_stmts[i]);
}
