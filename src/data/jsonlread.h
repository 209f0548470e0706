/* jsonlread.h - incremental JSON Lines reader for batch import.
 *
 * The JSON Lines twin of csvread.h: the caller feeds chunks cut anywhere (inside a
 * line, a CRLF, a UTF-8 sequence or the BOM) and on_line is called once per non-blank
 * line, in input order, from inside jsonl_reader_feed() / jsonl_reader_finish().  Only
 * the current line is held, in a buffer reused from line to line and bounded by
 * max_line_bytes, so input of any size runs in bounded memory.
 *
 * A line ends at LF; a CR just before the LF is part of the line end.  A UTF-8 BOM at the
 * very start is stripped.  A line holding only JSON whitespace (space, tab, CR) is blank:
 * skipped, but counted in line numbers and in the statistics.  Every other line is
 * delivered either as a parsed JSON object or with a row-level status, and the next
 * line is read regardless, so a bad line never hides the lines after it: every byte of
 * input after the BOM belongs to exactly one delivered line or one blank line.
 *
 * Checks, in order: line length, NUL and UTF-8 (with the offending byte's offset),
 * nesting depth (scanned before parsing so a hostile line cannot make the parser
 * recurse), then jansson with JSON_REJECT_DUPLICATES, then "must be an object". */
#ifndef GV_DATA_JSONLREAD_H
#define GV_DATA_JSONLREAD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"

#define JSONL_LINE_BYTES_MAX ((size_t)1 << 30)
#define JSONL_DEPTH_MAX 1024

struct jsonl_limits {
	size_t max_line_bytes; /* bytes of one line, line end excluded; 1..JSONL_LINE_BYTES_MAX */
	int max_depth;         /* nesting of objects and arrays; the top object is 1;
				* 1..JSONL_DEPTH_MAX */
};

enum jsonl_status {
	JSONL_OK = 0,
	JSONL_ERR_TOO_LONG,      /* longer than max_line_bytes (raw is truncated) */
	JSONL_ERR_NUL,           /* a NUL byte */
	JSONL_ERR_BAD_UTF8,      /* err_offset is the first byte of the bad sequence */
	JSONL_ERR_TOO_DEEP,      /* err_offset is the bracket beyond max_depth */
	JSONL_ERR_SYNTAX,        /* not valid JSON: detail and err_column from jansson */
	JSONL_ERR_DUPLICATE_KEY, /* an object has a key twice */
	JSONL_ERR_NOT_OBJECT,    /* valid JSON, but not an object */
	JSONL_STATUS__COUNT
};

struct jsonl_slice {
	const char *ptr;
	size_t len;
};

/* One non-blank line as delivered to on_line.  Everything it points to is owned by the
 * reader and valid only until on_line returns; json_incref(obj) to keep the object. */
struct jsonl_line {
	uint64_t line_no;  /* 1-based physical line, blank lines counted */
	uint64_t offset;   /* input offset of the line's first byte (BOM bytes counted) */
	uint64_t size;     /* input bytes the line occupies, its line end included */
	struct jsonl_slice raw; /* the line as received, line end excluded */
	int raw_truncated;      /* raw is only the first max_line_bytes (JSONL_ERR_TOO_LONG) */
	json_t *obj;            /* the parsed object when JSONL_OK, else NULL; borrowed */
	enum jsonl_status status;
	const char *reason;     /* static text of status; NULL when JSONL_OK */
	/* jansson's message for SYNTAX / DUPLICATE_KEY, with the " near '...'" excerpt cut
	 * off so that no input data reaches logs through it; "" otherwise. */
	const char *detail;
	uint64_t err_offset;    /* input offset of the offending byte (for jansson errors,
				 * the byte at which it stopped); 0 when JSONL_OK */
	int err_column;         /* jansson's 1-based column in characters; 0 if not from it */
};

/* Called once per non-blank line.  Anything but GV_OK stops the reader: feed/finish
 * return that value and the reader accepts nothing more. */
typedef gv_err (*jsonl_line_fn)(void *ctx, const struct jsonl_line *line);

struct jsonl_stats {
	uint64_t bytes;       /* input bytes consumed, BOM included */
	uint64_t lines;       /* lines delivered */
	uint64_t bad_lines;   /* of which status != JSONL_OK */
	uint64_t blank_lines;
	uint64_t blank_bytes;
	size_t bom_bytes;     /* 3 when a BOM was stripped, else 0 */
	size_t mem_bytes;     /* bytes the reader's own buffers hold now (not jansson's) */
};

struct jsonl_reader;

/* Creates a reader; free it with jsonl_reader_free.  GV_ERR_INVALID for limits outside
 * their ranges or a NULL on_line. */
gv_err jsonl_reader_new(const struct jsonl_limits *lim, jsonl_line_fn on_line, void *ctx,
			struct jsonl_reader **out) GV_MUST_CHECK;

/* Consumes len bytes (len 0 is allowed).  Errors: the callback's own error, GV_ERR_NOMEM,
 * GV_ERR_STATE after finish or after an earlier error.  Malformed input is never an
 * error here: it is reported per line. */
gv_err jsonl_reader_feed(struct jsonl_reader *r, const void *data, size_t len) GV_MUST_CHECK;

/* Ends the input: delivers a last line without a line end.  Call once; afterwards only
 * stats and free are valid. */
gv_err jsonl_reader_finish(struct jsonl_reader *r) GV_MUST_CHECK;

void jsonl_reader_stats(const struct jsonl_reader *r, struct jsonl_stats *out);

/* Static English text for a status ("ok" for JSONL_OK); never NULL. */
const char *jsonl_status_text(enum jsonl_status st);

/* Wipes the line buffer (imported lines may hold personal data) and frees; NULL is a
 * no-op. */
void jsonl_reader_free(struct jsonl_reader *r);

#endif
