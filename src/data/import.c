/* import.c - the streamed import of a batch: parse, check, seal, write in chunks. */
#include "data/import.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "crypto/datakey.h"
#include "data/csvread.h"
#include "data/dataset.h"
#include "data/jsonlread.h"
#include "data/quality.h"
#include "data/rawblock.h"
#include "data/extsort.h"
#include "data/tokenset.h"
#include "data/records.h"

#define CHUNK_ROWS 1024                /* rows per store transaction, */
#define FIRST_CHUNK_ROWS 128           /* doubling up to CHUNK_ROWS, */
#define LAST_CHUNK_ROWS 128            /* halving to this near the end, */
#define CHUNK_BYTES ((size_t)16 << 20)  /* or fewer when they are large */
#define CHUNK_RESERVE ((size_t)4 << 20) /* a chunk's input and bodies, reserved ahead */
#define ROW_BYTES_MAX ((size_t)1 << 20) /* one row as received */
#define FIELD_BYTES_MAX 65536           /* catalog max_len's own bound */
#define BLOCKS_MAX (CHUNK_BYTES + 2 * ROW_BYTES_MAX + ((size_t)1 << 20))   /* a chunk's blocks */
#define REF_MAX 8                       /* datasets reference rules may name */
#define NCHUNKS 3                       /* being filled, and up to two handed over */
#define FEED_MAX ((size_t)1 << 20)      /* bytes taken in one step */
#define INDEX_SLICE 65536               /* index entries added per transaction (7 MB) */
#define SORT_RUN 131072                 /* index entries sorted in memory (10 MB) per run */

/* A row waiting for the next write; its bytes as received are in a block, its
 * record's body in the chunk's bodies. */
struct pending {
	struct store_import_row row;
	struct store_record rec;
	size_t body_at, body_len;
	char *reasons;
};

/* A block of the chunk: where its sealed form is in chunk.sealed. */
struct chunk_block {
	int64_t first_row;
	int rows;
	size_t sealed_at, sealed_len;
};

/* The rows of one transaction, and the blocks that hold them as received (a block
 * never spans two chunks): compressed and sealed by the parser, written by the writer;
 * its input is digested by the digest thread. */
struct chunk {
	struct pending pend[CHUNK_ROWS];
	struct store_import_row rows[CHUNK_ROWS];
	size_t n;
	size_t bytes;
	size_t raw_bytes;   /* about the bytes of its rows as received (tail_flush) */
	struct chunk_block blocks[CHUNK_ROWS];
	struct store_raw_block sblocks[CHUNK_ROWS];
	size_t nblocks;
	struct gv_buf input;    /* the bytes received since the chunk before, for the digest */
	struct gv_buf bodies;   /* the records' bodies, one after another (wiped: grade 1
				 * bodies are clear text) */
	struct gv_buf sealed;
};

/* A blind-index entry waiting for the end of the import, laid out so that memcmp
 * orders entries as the index does: field (by name), token, record id, version. */
struct sort_entry {
	unsigned char field;                  /* rank of its name among the indexed fields' */
	char token[DATAKEY_TOKEN_HEX + 1];    /* NUL-terminated: read back in place */
	char record_id[RECORDS_NEW_ID_HEX + 1];
	unsigned char version[8];             /* big-endian */
};

struct stash_entry {   /* a value of the row being checked, under a unique rule */
	int rule;
	char token[65];
};

struct import_job {
	struct gv_app *app;
	struct store_account *actor;
	struct records_ds *ds;
	struct quality_rules *rules;
	struct quality_report report;
	uint64_t parse_errors, schema_errors;
	struct store_batch *b;
	struct crypto_sm3_stream *sm3;
	struct csv_reader *csv;
	struct jsonl_reader *jsonl;
	struct rawblock_builder *rb;       /* rows as received, not yet in a block */
	struct crypto_gcm *bgcm;           /* the data key's handle for the blocks */
	/* Index entries of the accepted rows, added to the index in its order at the end
	 * (store.h, index_add); the names of the indexed fields in that order. */
	struct extsort *entries;
	const char *index_fields[CATALOG_MAX_FIELDS];
	size_t nindex;
	size_t chunk_rows;                 /* rows of the chunk being filled, at most */
	uint64_t expected_bytes;           /* import_request's */
	uint64_t taken_bytes;              /* about the bytes of the rows taken so far */
	int header_done;
	size_t ncols;
	const struct catalog_field *cols[CATALOG_MAX_FIELDS];
	char fatal[256];                  /* set: the batch will be rejected */
	gv_err store_err;                 /* set: a write failed; the batch fails */
	int finished;
	/* Rows are parsed, checked and sealed, and their blocks compressed and sealed,
	 * into `fill` while the writer thread commits the chunks before and the digest
	 * thread runs the file's SM3 over them, so that the work is shared and the wait
	 * for the disk hidden.  On two cores three threads even out by themselves: with
	 * the digest on the writer, the writer was the slower side.
	 * chunks is a ring: chunk k is chunks[k % NCHUNKS].  `handed` chunks went to the
	 * two threads, of which the writer has written `written` and the digest thread
	 * digested `digested`; the next one is `fill`, whose slot both have left.  Two
	 * handed and not done let a side run ahead for a chunk, as when a commit also
	 * checkpoints the log. */
	struct chunk *chunks[NCHUNKS];
	struct chunk *fill;
	size_t handed, written, digested;
	pthread_t writer, digester;
	int writer_started, digester_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	gv_err write_err;
	int64_t write_us, write_cpu_us, wait_us;   /* the writer's time writing, its CPU; the parser's waits */
	int64_t digest_us;                         /* the digest thread's time digesting */
	/* unique rules: the values of this batch's accepted rows (their index entries are
	 * added only at its end, and found only once it commits), and this row's */
	struct tokenset *uniq;
	struct quality_result *qres;       /* the row's, reused (it is large) */
	/* A CSV row as an object, and a row's reasons: reused from row to row, so that a
	 * row makes no object and no key of its own (a tenth of the parser's work). */
	json_t *row_obj, *reasons;
	json_t *cells[CATALOG_MAX_FIELDS];  /* column i's value in row_obj, or NULL: borrowed */
	int unique_max;                    /* data.import_unique_values */
	struct stash_entry stash[QUALITY_MAX_RULES];
	size_t nstash;
	struct {
		char name[64];
		struct records_ds *ds;
	} refs[REF_MAX];
	int nrefs;
	gv_err (*commit_check)(void *ctx, const struct store_batch *b);
	void *commit_ctx;
};

static const char *const raw_names[RAW__COUNT] = {"accepted", "flagged", "quarantined",
						  "corrected", "discarded"};
static const char *const state_names[] = {"loading", "committed", "rejected", "failed"};

const char *import_raw_status_name(int status)
{
	return status >= 0 && status < RAW__COUNT ? raw_names[status] : "unknown";
}

int import_raw_status_parse(const char *name)
{
	for (int i = 0; i < RAW__COUNT; i++)
		if (strcmp(name, raw_names[i]) == 0)
			return i;
	return -1;
}

const char *import_batch_state_name(int state)
{
	return state >= 0 && state < (int)GV_ARRAY_LEN(state_names) ? state_names[state] : "unknown";
}

void import_set_commit_check(struct import_job *j, gv_err (*check)(void *ctx, const struct store_batch *b),
			     void *ctx)
{
	j->commit_check = check;
	j->commit_ctx = ctx;
}

int64_t import_batch_id(const struct import_job *j)
{
	return j->b->id;
}

/* quality hook: has value occurred in field, stored or earlier in this batch? */
static int hook_seen(void *ctx, int rule, const char *field, const char *value)
{
	struct import_job *j = ctx;
	struct stash_entry *e = &j->stash[j->nstash];
	int found = 0;

	if (j->nstash >= GV_ARRAY_LEN(j->stash) ||
	    records_token_text(j->ds, field, value, e->token) != GV_OK)
		return -1;
	e->rule = rule;
	found = j->uniq ? tokenset_has(j->uniq, rule, e->token) : 0;   /* none: one row alone */
	if (found)
		return found;
	for (size_t i = 0; i < j->nstash; i++)   /* the same row, another rule on the field */
		if (j->stash[i].rule == rule && strcmp(j->stash[i].token, e->token) == 0)
			return 1;
	if (j->app->st->ops->index_exists(j->app->st, records_dataset(j->ds)->id, field, e->token,
					  &found) != GV_OK)
		return -1;
	if (!found)
		j->nstash++;
	return found;
}

/* quality hook: does dataset have a record whose field is value? */
static int hook_exists(void *ctx, const char *dataset, const char *field, const char *value)
{
	struct import_job *j = ctx;
	struct records_ds *ref = NULL;
	const char *why;
	char token[65];
	int found = 0;

	for (int i = 0; i < j->nrefs && !ref; i++)
		if (strcmp(j->refs[i].name, dataset) == 0)
			ref = j->refs[i].ds;
	if (!ref) {
		if (j->nrefs == REF_MAX ||
		    records_open(j->app, j->actor, dataset, 0, &ref, &why) != GV_OK)
			return -1;
		snprintf(j->refs[j->nrefs].name, sizeof(j->refs[j->nrefs].name), "%s", dataset);
		j->refs[j->nrefs++].ds = ref;
	}
	if (!records_key_version(ref))
		return 0;   /* nothing was ever written to it */
	if (records_token_text(ref, field, value, token) != GV_OK ||
	    j->app->st->ops->index_exists(j->app->st, records_dataset(ref)->id, field, token,
					  &found) != GV_OK)
		return -1;
	return found;
}

/* Empties a written chunk, all but its input (the digest thread's). */
static void chunk_release_written(struct chunk *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct pending *p = &c->pend[i];

		free(p->reasons);
		p->reasons = NULL;
	}
	c->n = 0;
	c->bytes = 0;
	c->raw_bytes = 0;
	c->nblocks = 0;
	if (c->bodies.data)
		util_wipe(c->bodies.data, c->bodies.len);
	c->bodies.len = 0;
	c->sealed.len = 0;   /* kept for the next chunk: ciphertext only */
}

static void chunk_release_input(struct chunk *c)
{
	if (c->input.data)
		util_wipe(c->input.data, c->input.len);
	c->input.len = 0;
}

/* The chunk's sealed blocks as the store takes them: only once the chunk is handed
 * over, as the buffer may move while it grows. */
static void block_refs(struct import_job *j, struct chunk *c)
{
	for (size_t i = 0; i < c->nblocks; i++)
		c->sblocks[i] = (struct store_raw_block){
			j->b->id, c->blocks[i].first_row, c->blocks[i].rows, records_key_version(j->ds),
			(const unsigned char *)c->sealed.data + c->blocks[i].sealed_at,
			c->blocks[i].sealed_len};
}

/* With the lock held: the next chunk of the thread that has done `done` of them, once
 * there is one; NULL when the import stops and none is left. */
static struct chunk *chunk_next(struct import_job *j, const size_t *done)
{
	while (*done == j->handed && !j->stop)
		pthread_cond_wait(&j->cond, &j->lock);
	return *done == j->handed ? NULL : j->chunks[*done % NCHUNKS];
}

static void *writer_main(void *arg)
{
	struct import_job *j = arg;
	struct chunk *c;

	pthread_mutex_lock(&j->lock);
	while ((c = chunk_next(j, &j->written))) {
		int64_t w0, c0;
		gv_err err;

		pthread_mutex_unlock(&j->lock);
		w0 = util_mono_us();
		c0 = util_thread_cpu_us();
		for (size_t i = 0; i < c->n; i++) {   /* bodies stay where they are now */
			c->pend[i].rec.body = (unsigned char *)c->bodies.data + c->pend[i].body_at;
			c->pend[i].rec.body_len = c->pend[i].body_len;
			c->rows[i] = c->pend[i].row;
		}
		block_refs(j, c);
		err = c->n || c->nblocks ? j->app->st->ops->batch_write(j->app->st, j->b->id, c->rows,
									 c->n, c->sblocks, c->nblocks)
					 : GV_OK;
		chunk_release_written(c);
		pthread_mutex_lock(&j->lock);
		j->write_us += util_mono_us() - w0;
		j->write_cpu_us += util_thread_cpu_us() - c0;
		if (err != GV_OK && j->write_err == GV_OK)
			j->write_err = err;
		j->written++;
		pthread_cond_broadcast(&j->cond);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* The digest of the file as received, chunk after chunk in order. */
static void *digester_main(void *arg)
{
	struct import_job *j = arg;
	struct chunk *c;

	pthread_mutex_lock(&j->lock);
	while ((c = chunk_next(j, &j->digested))) {
		int64_t t0;

		pthread_mutex_unlock(&j->lock);
		t0 = util_mono_us();
		crypto_sm3_stream_update(j->sm3, c->input.data, c->input.len);
		chunk_release_input(c);
		j->app->st->ops->writeback(j->app->st);   /* what the writer committed so far */
		pthread_mutex_lock(&j->lock);
		j->digest_us += util_mono_us() - t0;
		j->digested++;
		pthread_cond_broadcast(&j->cond);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Chunks handed over that the writer or the digest thread has not done yet. */
static size_t chunks_pending(const struct import_job *j)
{
	return j->handed - (j->written < j->digested ? j->written : j->digested);
}

/* Waits until at most `most` chunks are pending with the writer or the digest thread;
 * the writer's error, if any. */
static gv_err chunks_wait(struct import_job *j, size_t most)
{
	gv_err err;
	int64_t t0 = util_mono_us();

	pthread_mutex_lock(&j->lock);
	while (chunks_pending(j) > most)
		pthread_cond_wait(&j->cond, &j->lock);
	j->wait_us += util_mono_us() - t0;
	err = j->write_err;
	pthread_mutex_unlock(&j->lock);
	return err;
}

/* Compresses and seals the rows gathered as received into a block of the chunk being
 * filled.  Sealing here, not on the writer, evens the two out: the writer, which had
 * the rest of the chunk's work after the last row, had become the slower side once
 * commits no longer waited for the disk. */
static gv_err block_close(struct import_job *j)
{
	struct chunk *c = j->fill;
	struct chunk_block *k = &c->blocks[c->nblocks];
	const void *data;
	size_t len;
	gv_err err;

	if (!rawblock_rows(j->rb))
		return GV_OK;
	k->first_row = rawblock_first_row(j->rb);
	k->rows = (int)rawblock_rows(j->rb);
	err = rawblock_compress(j->rb, &data, &len);
	if (err != GV_OK)
		return err;
	k->sealed_at = c->sealed.len;
	err = records_seal_raw_block(j->ds, j->bgcm, j->b->id, k->first_row, data, len, &c->sealed);
	util_wipe((void *)data, len);   /* the rows compressed, in clear: the builder's until the next block */
	k->sealed_len = c->sealed.len - k->sealed_at;
	if (err != GV_OK)
		return err;
	c->nblocks++;
	return GV_OK;
}

/* Hands the filled chunk over (once fewer than NCHUNKS - 1 are pending). */
static gv_err flush(struct import_job *j)
{
	gv_err err = block_close(j);

	if (err != GV_OK) {
		j->store_err = err;
		return err;
	}
	err = chunks_wait(j, NCHUNKS - 2);
	if (err == GV_OK && (j->fill->n || j->fill->input.len)) {
		pthread_mutex_lock(&j->lock);
		j->handed++;
		j->fill = j->chunks[j->handed % NCHUNKS];
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
	if (err != GV_OK)
		j->store_err = err;
	return err;
}

/* Whether to hand the chunk over early near the end of a body of known length, once a
 * first chunk was handed over: when fewer bytes are left than the chunk holds, each
 * chunk takes about half of what is left, down to LAST_CHUNK_ROWS rows.  What remains
 * to write when the body has arrived is then a small last chunk, not up to CHUNK_ROWS
 * rows, while the parser waits. */
static int tail_flush(const struct import_job *j)
{
	uint64_t left = j->expected_bytes > j->taken_bytes ? j->expected_bytes - j->taken_bytes : 0;

	return j->expected_bytes && j->handed && j->fill->n >= LAST_CHUNK_ROWS && left < j->fill->raw_bytes;
}

/* One reason object of a quarantined or flagged row.  Never the value. */
static int reason_add(json_t *list, const char *rule, const char *field, const char *reason)
{
	json_t *o = json_pack("{s:s,s:s}", "rule", rule, "reason", reason);

	if (o && field)
		json_object_set_new(o, "field", json_string(field));
	return o ? json_array_append_new(list, o) : -1;
}

static void set_fatal(struct import_job *j, const char *msg)
{
	if (!j->fatal[0])
		snprintf(j->fatal, sizeof(j->fatal), "%s", msg);
}

static gv_err stash_keep(struct import_job *j)
{
	gv_err err = GV_OK;

	if (j->nstash && tokenset_count(j->uniq) + j->nstash > (size_t)j->unique_max) {
		char msg[160];

		snprintf(msg, sizeof(msg), "more than %d values under unique rules in one batch "
			 "(data.import_unique_values): split the file", j->unique_max);
		set_fatal(j, msg);
		return GV_OK;   /* no more rows are taken; the batch is rejected at its end */
	}
	for (size_t i = 0; err == GV_OK && i < j->nstash; i++)
		err = tokenset_add(j->uniq, j->stash[i].rule, j->stash[i].token);
	return err;
}

/* Keeps an index entry of record r for the end of the import. */
static gv_err entry_keep(struct import_job *j, const struct store_record *r,
			 const struct store_index_entry *e)
{
	struct sort_entry s;
	size_t rank = 0;

	while (rank < j->nindex && strcmp(j->index_fields[rank], e->field) != 0)
		rank++;
	if (rank == j->nindex || strlen(e->token) != sizeof(s.token) - 1 ||
	    strlen(r->record_id) != sizeof(s.record_id) - 1)
		return GV_ERR_INVALID;
	s.field = (unsigned char)rank;
	memcpy(s.token, e->token, sizeof(s.token));
	memcpy(s.record_id, r->record_id, sizeof(s.record_id));
	for (int i = 0; i < 8; i++)
		s.version[i] = (unsigned char)((uint64_t)r->version >> (56 - 8 * i));
	return extsort_add(j->entries, &s);
}

/* Adds the batch's index entries, sorted already (extsort_finish), to the store's
 * index in its order, a slice of INDEX_SLICE per transaction: other requests wait for
 * a slice (about 60 ms for 65,536 here), and fewer, larger slices spare a commit each
 * (most batches need one). */
static gv_err index_entries(struct import_job *j)
{
	struct store_index_row *rows = calloc(INDEX_SLICE, sizeof(*rows));
	struct sort_entry *copy = calloc(INDEX_SLICE, sizeof(*copy));
	gv_err err = rows && copy ? GV_OK : GV_ERR_NOMEM;
	size_t n = 0;

	while (err == GV_OK) {
		const void *e = NULL;

		err = extsort_next(j->entries, &e);
		if (err == GV_OK && e && ((const struct sort_entry *)e)->field >= j->nindex)
			err = GV_ERR_STORE;   /* not what entry_keep wrote: the temporary file changed */
		if (err == GV_OK && e) {
			struct sort_entry *s = &copy[n];

			memcpy(s, e, sizeof(*s));
			s->token[sizeof(s->token) - 1] = '\0';   /* whatever the temporary file holds */
			s->record_id[sizeof(s->record_id) - 1] = '\0';
			rows[n].field = j->index_fields[s->field];
			rows[n].token = s->token;
			rows[n].record_id = s->record_id;
			rows[n].version = 0;
			for (int i = 0; i < 8; i++)
				rows[n].version = rows[n].version << 8 | s->version[i];
			n++;
		}
		if (err == GV_OK && n && (n == INDEX_SLICE || !e)) {
			err = j->app->st->ops->index_add(j->app->st, j->b->id, j->b->dataset_id, rows, n);
			n = 0;
		}
		if (!e)
			break;
	}
	free(rows);
	free(copy);
	return err;
}

/* Takes one row: obj is its parsed content, or NULL with parse_reason.  header marks a
 * CSV header, kept as received but not a record. */
static gv_err take_row(struct import_job *j, uint64_t row_no, uint64_t line_no, const char *raw,
		       size_t rawlen, const json_t *obj, const char *parse_reason, int header)
{
	struct pending *p = &j->fill->pend[j->fill->n];
	struct quality_result *res = j->qres;
	json_t *reasons = j->reasons;
	char why[256];
	int status = RAW_ACCEPTED;
	gv_err err;

	memset(p, 0, sizeof(*p));
	p->body_at = j->fill->bodies.len;
	json_array_clear(reasons);
	err = rawblock_needs_close(j->rb, rawlen) ? block_close(j) : GV_OK;
	if (err == GV_OK)
		err = rawblock_add(j->rb, (int64_t)row_no, raw, rawlen);
	p->row.raw.block_row = rawblock_first_row(j->rb);
	j->nstash = 0;
	if (err != GV_OK || header) {
		/* kept as received below */
	} else if (parse_reason) {
		status = RAW_QUARANTINED;
		j->parse_errors++;
		reason_add(reasons, "parse", NULL, parse_reason);
	} else if (records_check(j->ds, obj, why, sizeof(why)) != GV_OK) {
		status = RAW_QUARANTINED;
		j->schema_errors++;
		reason_add(reasons, "schema", NULL, why);
	} else if (j->rules) {
		struct quality_hooks hooks = {j, hook_seen, hook_exists};

		err = quality_check_row(j->rules, obj, &hooks, res);
		if (err == GV_OK) {
			quality_report_add(&j->report, res);
			status = res->verdict == QUALITY_ROW_QUARANTINED ? RAW_QUARANTINED :
				 res->verdict == QUALITY_ROW_FLAGGED ? RAW_FLAGGED : RAW_ACCEPTED;
			for (size_t i = 0; i < res->n; i++) {
				const struct quality_issue *is = &res->issues[i];

				reason_add(reasons, quality_rule_name(is->kind), is->field,
					   is->outcome == QUALITY_NOT_CHECKED ? "not checked" : is->reason);
			}
		}
	}
	if (err == GV_OK && !header && status != RAW_QUARANTINED) {
		struct store_record *r = &p->rec;
		struct store_index_entry idx[CATALOG_MAX_FIELDS];
		char tokens[CATALOG_MAX_FIELDS][65];
		size_t nidx = 0;

		r->dataset_id = records_dataset(j->ds)->id;
		records_new_id(r->record_id);
		r->version = 1;
		r->key_version = records_key_version(j->ds);
		r->created_at = util_now_s();
		r->batch_id = j->b->id;
		r->raw_row = (int64_t)row_no;
		err = util_strcpy(r->created_by, sizeof(r->created_by), j->actor->username);
		if (err == GV_OK)
			err = records_seal(j->ds, r->record_id, 1, obj, &j->fill->bodies, idx, tokens, &nidx);
		p->body_len = j->fill->bodies.len - p->body_at;
		p->row.rec = r;
		for (size_t i = 0; err == GV_OK && i < nidx; i++)
			err = entry_keep(j, r, &idx[i]);
		if (err == GV_OK)
			err = stash_keep(j);
	}
	/* No reasons (most rows) are stored as [] without writing them. */
	p->reasons = json_array_size(reasons) ? json_dumps(reasons, JSON_COMPACT) : NULL;
	if (err == GV_OK && json_array_size(reasons) && !p->reasons)
		err = GV_ERR_NOMEM;
	if (err != GV_OK) {
		struct gv_buf *b = &j->fill->bodies;

		if (b->len > p->body_at) {
			util_wipe(b->data + p->body_at, b->len - p->body_at);
			b->len = p->body_at;
		}
		free(p->reasons);
		p->reasons = NULL;
		j->store_err = err;
		return err;
	}
	p->row.raw.batch_id = j->b->id;
	p->row.raw.row_no = (int64_t)row_no;
	p->row.raw.line_no = (int64_t)line_no;
	p->row.raw.key_version = records_key_version(j->ds);
	p->row.raw.status = status;
	p->row.raw.reasons = p->reasons;
	j->fill->n++;
	j->fill->bytes += rawlen + p->body_len;
	if (!header) {
		j->b->rows++;
		if (status == RAW_QUARANTINED)
			j->b->quarantined++;
		else if (status == RAW_FLAGGED)
			j->b->flagged++;
		else
			j->b->accepted++;
	}
	/* An estimate (a line end of one byte), enough to size the last chunks: the bytes
	 * fed so far (batch.bytes) run ahead of the rows taken by up to a piece. */
	j->taken_bytes += rawlen + 1;
	j->fill->raw_bytes += rawlen + 1;
	/* Small chunks first, so that the writer starts early; then larger ones: a commit
	 * rewrites the last page of each table it appended to, and syncs the log. */
	if (j->fill->n >= j->chunk_rows || j->fill->bytes >= CHUNK_BYTES || tail_flush(j)) {
		if (j->chunk_rows < CHUNK_ROWS)
			j->chunk_rows *= 2;
		return flush(j);
	}
	return GV_OK;
}

/* The JSON type a CSV cell takes as its field's type reads it (an integer in *iv, a
 * real in *dv); text that is no such literal stays a string, so that the schema check
 * names the field. */
static json_type cell_type(const struct catalog_field *f, const char *text, size_t len,
			   long long *iv, double *dv)
{
	char *end;

	if (f->type == CT_BOOLEAN && (strcmp(text, "true") == 0 || strcmp(text, "false") == 0))
		return text[0] == 't' ? JSON_TRUE : JSON_FALSE;
	if ((f->type == CT_INTEGER || f->type == CT_NUMBER) && len &&
	    strspn(text, "-0123456789.eE+") == len && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
		int integral = strspn(text, "-0123456789") == len;

		errno = 0;
		if (integral) {
			*iv = strtoll(text, &end, 10);
			if (!errno && *end == '\0')
				return JSON_INTEGER;
		} else if (f->type == CT_NUMBER) {
			*dv = strtod(text, &end);
			if (!errno && *end == '\0')
				return JSON_REAL;
		}
	}
	return JSON_STRING;
}

/* Wipes the last row's string in column i before it is freed or replaced: jansson
 * frees without wiping, and a cell may hold personal data. */
static void cell_wipe(json_t *v)
{
	if (v && json_is_string(v))
		util_wipe((char *)json_string_value(v), json_string_length(v));
}

/* Sets column i of the row object to a cell: in place when the last row left a value
 * of the same type there (no new value, no lookup of the name), else as a new value. */
static gv_err cell_set(struct import_job *j, size_t i, const char *text, size_t len)
{
	json_t *old = j->cells[i], *v;
	long long iv = 0;
	double dv = 0;
	json_type t = cell_type(j->cols[i], text, len, &iv, &dv);

	if (old && json_typeof(old) == t && t == JSON_INTEGER)
		return json_integer_set(old, iv) == 0 ? GV_OK : GV_ERR_NOMEM;
	cell_wipe(old);
	/* The reader delivers only valid UTF-8 without NUL in an OK row. */
	if (old && json_typeof(old) == t && t == JSON_STRING)
		return json_string_setn_nocheck(old, text, len) == 0 ? GV_OK : GV_ERR_NOMEM;
	v = t == JSON_INTEGER ? json_integer(iv) : t == JSON_REAL ? json_real(dv) :
	    t == JSON_STRING ? json_stringn_nocheck(text, len) : json_boolean(t == JSON_TRUE);
	/* On failure set_new drops v and the name keeps its old value, which cells[i]
	 * still names (an empty cell later takes it out). */
	if (!v || json_object_set_new(j->row_obj, j->cols[i]->name, v) != 0)
		return GV_ERR_NOMEM;
	j->cells[i] = v;
	return GV_OK;
}

static gv_err csv_header(struct import_job *j, const struct csv_row *row)
{
	const struct catalog_schema *s = records_schema(j->ds);
	char msg[200];

	if (row->status != CSV_OK) {
		snprintf(msg, sizeof(msg), "the header row is malformed: %s", row->reason);
		set_fatal(j, msg);
		return GV_OK;
	}
	for (size_t i = 0; i < row->nfields; i++) {
		const struct catalog_field *f = catalog_field_find(s, row->fields[i].ptr);

		if (!f) {
			snprintf(msg, sizeof(msg), "header column %zu is not a field of the schema", i + 1);
			set_fatal(j, msg);
			return GV_OK;
		}
		for (size_t k = 0; k < i; k++)
			if (j->cols[k] == f) {
				snprintf(msg, sizeof(msg), "header names field '%s' twice", f->name);
				set_fatal(j, msg);
				return GV_OK;
			}
		j->cols[i] = f;
	}
	j->ncols = row->nfields;
	for (int i = 0; i < s->nfields; i++) {
		int present = 0;

		for (size_t k = 0; k < j->ncols; k++)
			present |= j->cols[k] == &s->fields[i];
		if (s->fields[i].required && !present) {
			snprintf(msg, sizeof(msg), "the header lacks required field '%s'", s->fields[i].name);
			set_fatal(j, msg);
			return GV_OK;
		}
	}
	j->header_done = 1;
	return take_row(j, row->row_no, row->line_no, row->raw.ptr, row->raw.len, NULL, NULL, 1);
}

static gv_err on_csv(void *ctx, const struct csv_row *row)
{
	struct import_job *j = ctx;
	json_t *obj = j->row_obj;
	char msg[96];

	if (j->fatal[0])
		return GV_OK;   /* the batch is rejected already; the digest still runs */
	if (!j->header_done)
		return csv_header(j, row);
	if (row->status != CSV_OK)
		return take_row(j, row->row_no, row->line_no, row->raw.ptr, row->raw.len, NULL,
				row->reason, 0);
	if (row->nfields != j->ncols) {
		snprintf(msg, sizeof(msg), "the row has %zu fields, the header %zu", row->nfields, j->ncols);
		return take_row(j, row->row_no, row->line_no, row->raw.ptr, row->raw.len, NULL, msg, 0);
	}
	/* Each column's value replaces the last row's, in place when it has the same type
	 * (no new value, no lookup of the name); an empty cell takes the field out. */
	for (size_t i = 0; i < row->nfields; i++) {
		if (!row->fields[i].len) {
			if (j->cells[i]) {
				cell_wipe(j->cells[i]);
				json_object_del(obj, j->cols[i]->name);
			}
			j->cells[i] = NULL;
			continue;
		}
		if (cell_set(j, i, row->fields[i].ptr, row->fields[i].len) != GV_OK)
			return GV_ERR_NOMEM;
	}
	return take_row(j, row->row_no, row->line_no, row->raw.ptr, row->raw.len, obj, NULL, 0);
}

static gv_err on_jsonl(void *ctx, const struct jsonl_line *line)
{
	struct import_job *j = ctx;
	char msg[200];

	if (j->fatal[0])
		return GV_OK;   /* the batch is rejected already; the digest still runs */
	if (line->status != JSONL_OK) {
		if (line->detail && line->detail[0])
			snprintf(msg, sizeof(msg), "%s: %s", line->reason, line->detail);
		else
			snprintf(msg, sizeof(msg), "%s", line->reason);
		return take_row(j, line->line_no, line->line_no, line->raw.ptr, line->raw.len, NULL,
				msg, 0);
	}
	return take_row(j, line->line_no, line->line_no, line->raw.ptr, line->raw.len, line->obj,
			NULL, 0);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The indexed fields' names, in the order the index keeps them (by name). */
static void index_fields_sort(struct import_job *j)
{
	const struct catalog_schema *s = records_schema(j->ds);

	j->nindex = 0;
	for (int i = 0; i < s->nfields; i++)
		if (s->fields[i].indexed)
			j->index_fields[j->nindex++] = s->fields[i].name;
	qsort(j->index_fields, j->nindex, sizeof(*j->index_fields), cmp_names);
}

/* Opens, before any row, every dataset a reference rule names, with the importer's own
 * rights: a rule the importer cannot evaluate refuses the batch at once. */
static gv_err open_references(struct import_job *j, const json_t *rules, char *why, size_t whylen)
{
	const json_t *rule;
	size_t i;

	json_array_foreach(rules, i, rule) {
		const char *name = json_string_value(json_object_get(rule, "dataset"));
		struct records_ds *ref = NULL;
		const char *w = NULL;
		int known = 0;

		if (strcmp(json_string_value(json_object_get(rule, "rule")), "reference") != 0 || !name)
			continue;
		for (int k = 0; k < j->nrefs; k++)
			known |= strcmp(j->refs[k].name, name) == 0;
		if (known)
			continue;
		if (j->nrefs == REF_MAX) {
			snprintf(why, whylen, "quality rules reference more than %d datasets", REF_MAX);
			return GV_ERR_INVALID;
		}
		if (records_open(j->app, j->actor, name, 0, &ref, &w) != GV_OK) {
			snprintf(why, whylen, "quality rule %zu refers to dataset '%.63s', which you "
				 "cannot read (%s)", i, name, w ? w : "unavailable");
			return GV_ERR_INVALID;
		}
		snprintf(j->refs[j->nrefs].name, sizeof(j->refs[j->nrefs].name), "%s", name);
		j->refs[j->nrefs++].ds = ref;
	}
	return GV_OK;
}

static int hex64(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return 0;
	return 1;
}

gv_err import_begin(struct gv_app *app, const struct store_account *actor,
		    const struct import_request *rq, struct import_job **out, char *why,
		    size_t whylen)
{
	struct import_job *j = calloc(1, sizeof(*j));
	const char *w = NULL;
	json_t *rules = NULL;
	gv_err err;

	*out = NULL;
	why[0] = '\0';
	if (!j)
		return GV_ERR_NOMEM;
	j->app = app;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->actor = malloc(sizeof(*j->actor));
	j->b = calloc(1, sizeof(*j->b));
	err = j->actor && j->b ? GV_OK : GV_ERR_NOMEM;
	for (int k = 0; err == GV_OK && k < NCHUNKS; k++) {
		struct chunk *c = calloc(1, sizeof(*c));

		j->chunks[k] = c;
		if (!c) {
			err = GV_ERR_NOMEM;
			break;
		}
		buf_init(&c->input, BLOCKS_MAX);
		buf_init(&c->bodies, CHUNK_BYTES + 4 * ROW_BYTES_MAX + ((size_t)1 << 20));
		buf_init(&c->sealed, BLOCKS_MAX);
		/* Room for a chunk of 1 KiB rows ahead, so that the buffers do not grow by
		 * copies into fresh pages (a tenth of the parser's time went to page faults);
		 * pages never written cost nothing. */
		if (buf_preallocate(&c->input, CHUNK_RESERVE) != GV_OK ||
		    buf_preallocate(&c->bodies, CHUNK_RESERVE) != GV_OK ||
		    buf_preallocate(&c->sealed, CHUNK_RESERVE / 2) != GV_OK) {
			err = GV_ERR_NOMEM;
			break;
		}
	}
	if (err != GV_OK)
		goto out;
	j->fill = j->chunks[0];
	j->chunk_rows = FIRST_CHUNK_ROWS;
	j->expected_bytes = rq->expected_bytes;
	*j->actor = *actor;
	err = GV_ERR_INVALID;
	if (!rq->source || !*rq->source || strlen(rq->source) > 128 || !util_utf8_printable(rq->source)) {
		snprintf(why, whylen, "source (the source system) is required: 1-128 printable bytes");
		goto out;
	}
	if (!rq->format || (strcmp(rq->format, "csv") != 0 && strcmp(rq->format, "jsonl") != 0)) {
		snprintf(why, whylen, "format must be csv or jsonl");
		goto out;
	}
	if (rq->declared_sm3 && !hex64(rq->declared_sm3)) {
		snprintf(why, whylen, "the SM3 digest must be 64 hexadecimal digits");
		goto out;
	}
	err = records_open(app, actor, rq->dataset, 1, &j->ds, &w);
	if (err != GV_OK) {
		snprintf(why, whylen, "%s", w ? w : gv_strerror(err));
		goto out;
	}
	/* As for writes through the records API: only data the importer may hold. */
	if (actor->clearance < records_dataset(j->ds)->grade ||
	    (records_dataset(j->ds)->grade >= 3 && !actor->totp_enabled)) {
		snprintf(why, whylen, "the account's clearance is below the dataset's grade");
		err = GV_ERR_FORBIDDEN;
		goto out;
	}
	rules = json_loads(records_dataset(j->ds)->quality_rules, 0, NULL);
	if (json_array_size(rules)) {
		err = quality_rules_parse(rules, NULL, &j->rules, why, whylen);
		if (err != GV_OK)
			goto out;
		quality_report_init(&j->report, j->rules);
		err = open_references(j, rules, why, whylen);
		if (err != GV_OK)
			goto out;
	}
	err = crypto_sm3_stream_new(&j->sm3);
	if (err == GV_OK)
		err = rawblock_builder_new(&j->rb);
	if (err == GV_OK)
		err = records_gcm_new(j->ds, &j->bgcm);
	if (err == GV_OK)
		err = tokenset_new(&j->uniq);
	if (err == GV_OK && !(j->qres = malloc(sizeof(*j->qres))))
		err = GV_ERR_NOMEM;
	if (err == GV_OK && (!(j->row_obj = json_object()) || !(j->reasons = json_array())))
		err = GV_ERR_NOMEM;
	if (err == GV_OK)
		err = extsort_new(sizeof(struct sort_entry), SORT_RUN, &j->entries);
	if (err == GV_OK) {
		struct gv_config *cfg = malloc(sizeof(*cfg));   /* large */

		index_fields_sort(j);
		if (cfg)
			app_policy(app, cfg);
		j->unique_max = cfg ? cfg->data_import_unique_values : 0;
		err = cfg ? GV_OK : GV_ERR_NOMEM;
		free(cfg);
	}
	if (err == GV_OK && strcmp(rq->format, "csv") == 0) {
		struct csv_limits lim = {FIELD_BYTES_MAX, CATALOG_MAX_FIELDS, ROW_BYTES_MAX};

		err = csv_reader_new(&lim, on_csv, j, &j->csv);
	} else if (err == GV_OK) {
		struct jsonl_limits lim = {ROW_BYTES_MAX, 8};

		err = jsonl_reader_new(&lim, on_jsonl, j, &j->jsonl);
	}
	if (err != GV_OK)
		goto out;
	j->b->dataset_id = records_dataset(j->ds)->id;
	snprintf(j->b->format, sizeof(j->b->format), "%s", rq->format);
	snprintf(j->b->source, sizeof(j->b->source), "%s", rq->source);
	snprintf(j->b->submitted_by, sizeof(j->b->submitted_by), "%s", actor->username);
	snprintf(j->b->declared_sm3, sizeof(j->b->declared_sm3), "%s",
		 rq->declared_sm3 ? rq->declared_sm3 : "");
	for (char *p = j->b->declared_sm3; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	j->b->submitted_at = util_now_s();
	err = app->st->ops->batch_insert(app->st, j->b);
	if (err == GV_OK) {
		if (pthread_create(&j->writer, NULL, writer_main, j) == 0)
			j->writer_started = 1;
		else
			err = GV_ERR_NOMEM;
		if (err == GV_OK) {
			if (pthread_create(&j->digester, NULL, digester_main, j) == 0)
				j->digester_started = 1;
			else
				err = GV_ERR_NOMEM;
		}
		if (err != GV_OK)   /* the batch row exists: mark it failed on the way out */
			goto fail;
	}
out:
	if (err != GV_OK)
		j->finished = 1;   /* nothing to mark failed */
fail:
	json_decref(rules);
	if (err != GV_OK) {
		import_free(j);
		return err;
	}
	*out = j;
	return GV_OK;
}

gv_err import_feed(struct import_job *j, const void *data, size_t len)
{
	const char *p = data;
	gv_err err = GV_OK;

	if (j->finished || j->store_err)
		return GV_ERR_STATE;
	while (err == GV_OK && len) {
		size_t n = len < FEED_MAX ? len : FEED_MAX;

		/* For the digest, in the chunk being filled (rows these bytes end may land
		 * in the next one: the digest needs only the bytes in order).  A rejected
		 * batch takes no more rows, so its bytes go on their own. */
		if (j->fill->input.len + n > CHUNK_BYTES)
			err = flush(j);
		if (err == GV_OK)
			err = buf_append(&j->fill->input, p, n);
		if (err == GV_OK) {
			j->b->bytes += (int64_t)n;
			err = j->csv ? csv_reader_feed(j->csv, p, n) : jsonl_reader_feed(j->jsonl, p, n);
		}
		p += n;
		len -= n;
	}
	if (err != GV_OK && !j->store_err)
		j->store_err = err;
	return err;
}

static gv_err report_json(struct import_job *j)
{
	json_t *o = NULL, *rules = NULL;
	char *text;
	gv_err err = GV_OK;

	if (j->rules) {
		err = quality_report_json(&j->report, j->rules, &o);
		rules = o ? json_incref(json_object_get(o, "rules")) : NULL;
		json_decref(o);
	}
	if (err != GV_OK)
		return err;
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "rows", (json_int_t)j->b->rows,
		      "accepted", (json_int_t)j->b->accepted, "flagged", (json_int_t)j->b->flagged,
		      "quarantined", (json_int_t)j->b->quarantined, "parse_errors",
		      (json_int_t)j->parse_errors, "schema_errors", (json_int_t)j->schema_errors,
		      "rules", rules ? rules : json_array());
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return GV_ERR_NOMEM;
	snprintf(j->b->report, sizeof(j->b->report), "%s", strlen(text) < sizeof(j->b->report) ? text : "{}");
	free(text);
	return GV_OK;
}

gv_err import_finish(struct import_job *j, struct store_batch *out, char *why, size_t whylen)
{
	gv_err err = GV_OK, verdict = GV_OK;
	int64_t t0 = util_mono_us(), t1 = t0, t2, t3;

	why[0] = '\0';
	if (j->finished)
		return GV_ERR_STATE;
	if (!j->store_err) {
		err = j->csv ? csv_reader_finish(j->csv) : jsonl_reader_finish(j->jsonl);
		if (err == GV_OK)
			err = flush(j);
		/* Sorted while the writer writes the last chunk.  A batch rejected below
		 * wasted the sort of one run in memory at most (spilled runs are sorted). */
		if (err == GV_OK)
			err = extsort_finish(j->entries);
		if (err == GV_OK)
			err = chunks_wait(j, 0);
		t1 = util_mono_us();
		if (err != GV_OK)
			j->store_err = err;
	}
	if (j->store_err)
		return j->store_err;   /* import_free marks it failed */
	if (err != GV_OK)
		return err;
	crypto_sm3_stream_hex(j->sm3, j->b->sm3);
	if (j->fatal[0]) {
		verdict = GV_ERR_INVALID;
		snprintf(j->b->state_reason, sizeof(j->b->state_reason), "%s", j->fatal);
	} else if (j->b->declared_sm3[0] && strcmp(j->b->declared_sm3, j->b->sm3) != 0) {
		verdict = GV_ERR_INTEGRITY;
		snprintf(j->b->state_reason, sizeof(j->b->state_reason),
			 "the SM3 digest of what arrived differs from the one declared: nothing of the "
			 "batch was kept");
	} else if (j->b->rows == 0) {
		verdict = GV_ERR_INVALID;
		snprintf(j->b->state_reason, sizeof(j->b->state_reason), "the file holds no data rows");
	}
	j->b->state = verdict == GV_OK ? BATCH_COMMITTED : BATCH_REJECTED;
	j->b->finished_at = util_now_s();
	err = report_json(j);
	t2 = util_mono_us();
	/* The index entries first (they find nothing until the commit): the check of the
	 * caller's access and its audit record must come right before the commit, not
	 * before a step as long as the batch is large. */
	if (err == GV_OK && verdict == GV_OK && (err = index_entries(j)) != GV_OK)
		j->store_err = err;   /* import_free fails the batch, its entries too */
	t3 = util_mono_us();
	if (err == GV_OK && verdict == GV_OK && j->commit_check)
		err = j->commit_check(j->commit_ctx, j->b);   /* on refusal import_free fails it */
	if (err == GV_OK && (err = j->app->st->ops->batch_finish(j->app->st, j->b)) != GV_OK)
		j->store_err = err;
	/* Where the end of an import goes: the writer catching up, and the index entries. */
	log_debug("import: batch %lld, %lld rows; writer %lld ms (CPU %lld ms), digest %lld ms, parser "
		  "waited %lld ms; last writes %lld ms, finish %lld ms (index %lld ms)",
		  (long long)j->b->id, (long long)j->b->rows, (long long)j->write_us / 1000,
		  (long long)j->write_cpu_us / 1000, (long long)j->digest_us / 1000,
		  (long long)j->wait_us / 1000,
		  (long long)(t1 - t0) / 1000, (long long)(util_mono_us() - t2) / 1000,
		  (long long)(t3 - t2) / 1000);
	if (err != GV_OK)
		return err;
	j->finished = 1;
	*out = *j->b;
	snprintf(why, whylen, "%s", j->b->state_reason);
	return verdict;
}

void import_free(struct import_job *j)
{
	if (!j)
		return;
	/* The threads finish what they hold first, so nothing lands after the clean-up. */
	pthread_mutex_lock(&j->lock);
	j->stop = 1;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	if (j->writer_started)
		pthread_join(j->writer, NULL);
	if (j->digester_started)
		pthread_join(j->digester, NULL);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
	if (!j->finished && j->b && j->b->id) {
		/* The upload stopped or a write failed: nothing of the batch may stay. */
		j->b->state = BATCH_FAILED;
		j->b->finished_at = util_now_s();
		snprintf(j->b->state_reason, sizeof(j->b->state_reason), "%s",
			 j->store_err ? "the batch could not be stored; nothing of it was kept"
				      : "the upload did not complete; nothing of the batch was kept");
		(void)j->app->st->ops->batch_finish(j->app->st, j->b);
	}
	for (int k = 0; k < NCHUNKS; k++) {
		struct chunk *c = j->chunks[k];

		if (c) {
			chunk_release_written(c);
			chunk_release_input(c);
			buf_release(&c->input);
			buf_release(&c->bodies);
			buf_release(&c->sealed);
			free(c);
		}
	}
	rawblock_builder_free(j->rb);
	crypto_gcm_free(j->bgcm);
	csv_reader_free(j->csv);
	jsonl_reader_free(j->jsonl);
	crypto_sm3_stream_free(j->sm3);
	quality_rules_free(j->rules);
	for (int i = 0; i < j->nrefs; i++)
		records_close(j->refs[i].ds);
	records_close(j->ds);
	tokenset_free(j->uniq);
	free(j->qres);
	for (size_t i = 0; i < GV_ARRAY_LEN(j->cells); i++)
		cell_wipe(j->cells[i]);
	json_decref(j->row_obj);
	json_decref(j->reasons);
	extsort_free(j->entries);
	if (j->actor)
		util_wipe(j->actor, sizeof(*j->actor));
	free(j->actor);
	free(j->b);
	free(j);
}

gv_err import_check_record(struct gv_app *app, const struct store_account *actor,
			   struct records_ds *ds, const json_t *data, json_t *reasons, int *status)
{
	struct import_job *j = calloc(1, sizeof(*j));
	struct quality_result *res = malloc(sizeof(*res));
	json_t *rules = json_loads(records_dataset(ds)->quality_rules, 0, NULL);
	char why[256];
	gv_err err = j && res ? GV_OK : GV_ERR_NOMEM;

	*status = RAW_QUARANTINED;
	if (err == GV_OK && records_check(ds, data, why, sizeof(why)) != GV_OK) {
		reason_add(reasons, "schema", NULL, why);
		goto out;
	}
	if (err == GV_OK && json_array_size(rules))
		err = quality_rules_parse(rules, NULL, &j->rules, why, sizeof(why));
	if (err == GV_OK && j->rules) {
		j->app = app;
		j->actor = (struct store_account *)actor;
		if (open_references(j, rules, why, sizeof(why)) != GV_OK) {
			reason_add(reasons, "reference", NULL, why);
			goto out;
		}
	}
	if (err == GV_OK && j->rules) {
		struct quality_hooks hooks = {j, hook_seen, hook_exists};

		j->ds = ds;
		err = quality_check_row(j->rules, data, &hooks, res);
		for (size_t i = 0; err == GV_OK && i < res->n; i++)
			reason_add(reasons, quality_rule_name(res->issues[i].kind), res->issues[i].field,
				   res->issues[i].outcome == QUALITY_NOT_CHECKED ? "not checked"
										 : res->issues[i].reason);
		if (err == GV_OK)
			*status = res->verdict == QUALITY_ROW_QUARANTINED ? RAW_QUARANTINED :
				  res->verdict == QUALITY_ROW_FLAGGED ? RAW_FLAGGED : RAW_ACCEPTED;
	} else if (err == GV_OK) {
		*status = RAW_ACCEPTED;
	}
out:
	if (j) {
		quality_rules_free(j->rules);
		for (int i = 0; i < j->nrefs; i++)
			records_close(j->refs[i].ds);
	}
	json_decref(rules);
	free(res);
	free(j);
	return err;
}
