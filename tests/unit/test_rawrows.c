/* test_rawrows.c - rows as received through the records layer and the store: a row
 * sealed on its own (as every row was before schema 9) and rows of a sealed block
 * both open to their bytes; a block opens only where it was sealed; key rotation
 * re-seals both, after which the old key version is unused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "data/rawblock.h"
#include "data/records.h"
#include "store/sqlite_int.h"
#include "testapp.h"

static struct testapp t;
static int64_t batch_id;

static const char *const rows[] = {"id,name", "legacy,row sealed alone", "110101199003074514,王伟",
				   "", "last,row"};

static int setup(void **state)
{
	struct store_batch b;

	(void)state;
	if (testapp_open(&t, "/tmp/gvrawrowsXXXXXX",
			 "{\"fields\":[{\"name\":\"name\",\"type\":\"string\"}]}") != GV_OK)
		return -1;
	memset(&b, 0, sizeof(b));
	b.dataset_id = t.dataset_id;
	snprintf(b.format, sizeof(b.format), "csv");
	if (t.app.st->ops->batch_insert(t.app.st, &b) != GV_OK)
		return -1;
	batch_id = b.id;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	testapp_close(&t);
	return 0;
}

static struct records_ds *open_ds(void)
{
	struct records_ds *ds = testapp_people(&t);

	assert_non_null(ds);
	return ds;
}

/* Copies the row the store returns, with its sealed bytes. */
struct got {
	struct store_raw_row w;
	unsigned char sealed[4096];
};

static int keep_row(const struct store_raw_row *w, void *ctx)
{
	struct got *g = ctx;

	assert_true(w->sealed_len <= sizeof(g->sealed));
	g->w = *w;
	memcpy(g->sealed, w->sealed, w->sealed_len);
	g->w.sealed = g->sealed;
	g->w.reasons = g->w.record_id = g->w.resolved_by = g->w.resolution = NULL;
	return 1;
}

static void expect_raw(struct records_ds *ds, int64_t row_no, const char *text)
{
	struct got g;
	struct gv_buf out;

	assert_int_equal(t.app.st->ops->raw_row_get(t.app.st, batch_id, row_no, keep_row, &g), GV_OK);
	buf_init(&out, 1 << 20);
	assert_int_equal(records_open_raw(ds, &g.w, &out), GV_OK);
	assert_int_equal(out.len, strlen(text));
	assert_memory_equal(out.data ? out.data : "", text, out.len);
	buf_release(&out);
}

/* The connection's PRAGMA synchronous (2: FULL). */
static int synchronous_mode(void)
{
	sqlite3 *db = ((struct sqlite_store *)t.app.st)->db;
	sqlite3_stmt *q;
	int v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA synchronous", -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* The PRAGMA synchronous statements the connection ran, in order ("N" for NORMAL,
 * "F" for FULL). */
static char pragmas[64];

static int trace_pragma(unsigned type, void *ctx, void *p, void *x)
{
	const char *sql = sqlite3_sql((sqlite3_stmt *)p);
	size_t n = strlen(pragmas);

	(void)type;
	(void)ctx;
	(void)x;
	if (sql && strncmp(sql, "PRAGMA synchronous=", 19) == 0 && n + 1 < sizeof(pragmas))
		pragmas[n] = sql[19];
	return 0;
}

/* Row 1 (a header) and row 2 sealed on their own, rows 3 to 5 in a block at 3. */
static void test_write_and_read(void **state)
{
	struct records_ds *ds = open_ds();
	struct rawblock_builder *b;
	struct gv_buf own[2], block;
	struct store_import_row r[5];
	struct store_raw_block k;
	const void *packed;
	size_t plen;

	(void)state;
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 2; i++) {
		buf_init(&own[i], 1 << 20);
		assert_int_equal(records_seal_raw(ds, batch_id, i + 1, rows[i], strlen(rows[i]), &own[i]), GV_OK);
		r[i].raw.sealed = (unsigned char *)own[i].data;
		r[i].raw.sealed_len = own[i].len;
	}
	assert_int_equal(rawblock_builder_new(&b), GV_OK);
	for (int i = 2; i < 5; i++) {
		assert_int_equal(rawblock_add(b, i + 1, rows[i], strlen(rows[i])), GV_OK);
		r[i].raw.block_row = 3;
	}
	assert_int_equal(rawblock_compress(b, &packed, &plen), GV_OK);
	buf_init(&block, 1 << 20);
	assert_int_equal(records_seal_raw_block(ds, NULL, batch_id, 3, packed, plen, &block), GV_OK);
	rawblock_builder_free(b);
	for (int i = 0; i < 5; i++) {
		r[i].raw.batch_id = batch_id;
		r[i].raw.row_no = r[i].raw.line_no = i + 1;
		r[i].raw.key_version = records_key_version(ds);
		r[i].raw.status = RAW_QUARANTINED;   /* rows without records */
	}
	k = (struct store_raw_block){batch_id, 3, 3, records_key_version(ds),
				     (unsigned char *)block.data, block.len};
	assert_int_equal(synchronous_mode(), 2);
	assert_int_equal(sqlite3_trace_v2(((struct sqlite_store *)t.app.st)->db, SQLITE_TRACE_STMT,
					  trace_pragma, NULL), SQLITE_OK);
	assert_int_equal(t.app.st->ops->batch_write(t.app.st, batch_id, r, 5, &k, 1), GV_OK);
	/* The chunk was committed under NORMAL, without an fsync of its own (the batch's
	 * last commit syncs it); every other transaction still gets FULL. */
	assert_string_equal(pragmas, "NF");
	assert_int_equal(synchronous_mode(), 2);
	assert_true(((struct sqlite_store *)t.app.st)->wal_fd >= 0);   /* the log, for writeback */
	t.app.st->ops->writeback(t.app.st);
	{   /* the page cache is the store's region (sq_configure), not malloc's */
		int used = 0, high = 0;

		assert_int_equal(sqlite3_status(SQLITE_STATUS_PAGECACHE_USED, &used, &high, 0), SQLITE_OK);
		assert_true(used > 0);
	}
	for (int i = 0; i < 5; i++)
		expect_raw(ds, i + 1, rows[i]);
	/* A refused chunk (rolled back) leaves FULL too. */
	k.batch_id = batch_id + 1;
	assert_int_equal(t.app.st->ops->batch_write(t.app.st, batch_id, r, 5, &k, 1), GV_ERR_INVALID);
	assert_int_equal(synchronous_mode(), 2);
	assert_string_equal(pragmas, "NFNF");
	/* Had FULL not come back, the next write restores it before anything commits. */
	{
		struct sqlite_store *ss = (struct sqlite_store *)t.app.st;

		assert_int_equal(sqlite3_exec(ss->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL), SQLITE_OK);
		ss->sync_lost = 1;
		assert_int_equal(t.app.st->ops->batch_write(t.app.st, batch_id, r, 5, &k, 1), GV_ERR_INVALID);
		assert_int_equal(ss->sync_lost, 0);
		assert_int_equal(synchronous_mode(), 2);
		assert_int_equal(sqlite3_trace_v2(ss->db, 0, NULL, NULL), SQLITE_OK);
	}
	for (int i = 0; i < 5; i++)
		expect_raw(ds, i + 1, rows[i]);
	buf_release(&own[0]);
	buf_release(&own[1]);
	buf_release(&block);
	records_close(ds);
}

/* The block opens only as the block of its batch at its first row, and only for the
 * rows it holds. */
static void test_block_bound_to_its_place(void **state)
{
	struct records_ds *ds = open_ds();
	struct gv_buf out;
	struct got g;

	(void)state;
	assert_int_equal(t.app.st->ops->raw_row_get(t.app.st, batch_id, 4, keep_row, &g), GV_OK);
	assert_int_equal(g.w.block_row, 3);
	buf_init(&out, 1 << 20);
	g.w.row_no = 2;                          /* a row the block does not hold */
	assert_int_equal(records_open_raw(ds, &g.w, &out), GV_ERR_STORE);
	g.w.row_no = 4;
	g.w.batch_id = batch_id + 1;             /* another batch's place */
	assert_int_equal(records_open_raw(ds, &g.w, &out), GV_ERR_STORE);
	g.w.batch_id = batch_id;
	g.w.block_row = 4;                       /* another first row */
	assert_int_equal(records_open_raw(ds, &g.w, &out), GV_ERR_STORE);
	g.w.block_row = 0;                       /* read as a row sealed alone */
	assert_int_equal(records_open_raw(ds, &g.w, &out), GV_ERR_STORE);
	g.w.block_row = 3;
	g.sealed[g.w.sealed_len / 2] ^= 1;
	assert_int_equal(records_open_raw(ds, &g.w, &out), GV_ERR_STORE);
	assert_int_equal(out.len, 0);
	buf_release(&out);
	records_close(ds);
}

static int collect(const struct store_raw_row *w, void *ctx)
{
	struct got *list = ctx;
	int i = 0;

	while (list[i].w.batch_id)
		i++;
	assert_true(i < 4);
	keep_row(w, &list[i]);
	return 0;
}

/* A rotation re-seals the rows sealed alone and the block, under the same places. */
static void test_rotation(void **state)
{
	struct records_ds *ds = open_ds();
	static struct got stale[5];
	int64_t rec = 0, raw = 0;
	int v = 0;

	(void)state;
	assert_int_equal(records_add_key(ds, &v), GV_OK);
	assert_int_equal(v, 2);
	memset(stale, 0, sizeof(stale));
	assert_int_equal(t.app.st->ops->raw_row_stale_keys(t.app.st, records_dataset(ds)->id, 2, 10, collect,
							 stale), GV_OK);
	assert_int_equal(stale[0].w.row_no, 1);
	assert_int_equal(stale[1].w.row_no, 2);
	assert_int_equal(stale[2].w.block_row, 3);
	assert_int_equal(stale[3].w.batch_id, 0);
	for (int i = 0; i < 3; i++) {
		struct store_raw_row n = stale[i].w;
		struct gv_buf out;

		buf_init(&out, 1 << 20);
		assert_int_equal(records_rekey_raw(ds, &stale[i].w, &out), GV_OK);
		n.sealed = (unsigned char *)out.data;
		n.sealed_len = out.len;
		n.key_version = 2;
		assert_int_equal(t.app.st->ops->raw_row_rekey(t.app.st, &n, 1), GV_OK);
		buf_release(&out);
	}
	assert_int_equal(t.app.st->ops->datakey_usage(t.app.st, records_dataset(ds)->id, 1, &rec, &raw), GV_OK);
	assert_int_equal(raw, 0);
	assert_int_equal(t.app.st->ops->datakey_usage(t.app.st, records_dataset(ds)->id, 2, &rec, &raw), GV_OK);
	assert_int_equal(raw, 5);
	records_close(ds);
	ds = open_ds();
	for (int i = 0; i < 5; i++)
		expect_raw(ds, i + 1, rows[i]);
	records_close(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_read),
		cmocka_unit_test(test_block_bound_to_its_place),
		cmocka_unit_test(test_rotation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
