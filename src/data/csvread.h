/* csvread.h - incremental RFC 4180 CSV reader for batch import.
 *
 * Imports are many gigabytes and arrive in arbitrary pieces (HTTP body callbacks, file
 * reads), so the reader never sees the whole input: the caller feeds chunks that may
 * split anything (a quoted field, a CRLF, a UTF-8 sequence, the BOM) and the reader
 * calls on_row once per record, in input order, from inside csv_reader_feed() /
 * csv_reader_finish().  Memory is bounded by the limits alone: the current record's raw
 * bytes and unescaped fields, in buffers reused from row to row.
 *
 * Format accepted: comma-separated, '"' quoting with "" as an escaped quote, LF or CRLF
 * line ends (a CRLF inside quotes is field data), an optional final line without a line
 * end, an optional UTF-8 BOM at the very start (stripped).  Text must be UTF-8.
 *
 * "Loses nothing": every byte of input after the BOM belongs to exactly one delivered
 * record or one skipped blank line, and every record is delivered either CSV_OK with
 * its fields or with a row-level status.  After an error the reader keeps going and
 * resynchronises as follows:
 *  - content errors (invalid UTF-8, NUL, bare CR, too many fields) do not change the
 *    quoting, so the record ends where RFC 4180 says it ends;
 *  - quoting errors (a quote inside an unquoted field, text after a closing quote) and
 *    limit errors (field or row too long) make the quoting of the rest of the line
 *    untrustworthy, so the record ends at the next LF regardless of quotes.  This is
 *    what stops a missing closing quote from swallowing the rest of the file: the
 *    damage is at most max_row_bytes plus the rest of that physical line.  The price:
 *    when a genuinely over-long quoted field spans lines, its later lines come out as
 *    records of their own - reported, never merged silently, but some may parse as OK
 *    (the caller's field-count check against the header catches most of them).
 * The one boundary the reader cannot recover is an unterminated quote that never
 * reaches a limit: that is reported at end of input as one record.
 *
 * A blank line (an LF or a CRLF on its own, outside quotes) is not a record: it is
 * skipped but counted in row numbers and in the statistics.  A line of spaces is a
 * record with one field; judging field counts against a header is the caller's job. */
#ifndef GV_DATA_CSVREAD_H
#define GV_DATA_CSVREAD_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Upper bounds on the limits themselves, so size arithmetic cannot overflow. */
#define CSV_ROW_BYTES_MAX ((size_t)1 << 30)
#define CSV_FIELDS_MAX ((size_t)1 << 20)

struct csv_limits {
	size_t max_field_bytes; /* unescaped bytes of one field; 1..max_row_bytes */
	size_t max_fields;      /* fields per record; 1..CSV_FIELDS_MAX */
	size_t max_row_bytes;   /* input bytes of one record, line end excluded;
				 * 1..CSV_ROW_BYTES_MAX */
};

enum csv_status {
	CSV_OK = 0,
	CSV_ERR_UNTERMINATED_QUOTE, /* end of input inside a quoted field; err_offset is
				     * its opening quote */
	CSV_ERR_QUOTE_IN_FIELD,     /* '"' inside an unquoted field */
	CSV_ERR_AFTER_QUOTE,        /* something other than , CR LF after a closing quote */
	CSV_ERR_BAD_UTF8,           /* err_offset is the first byte of the bad sequence */
	CSV_ERR_NUL,                /* a NUL byte */
	CSV_ERR_BARE_CR,            /* CR not followed by LF outside quotes */
	CSV_ERR_FIELD_TOO_LONG,
	CSV_ERR_TOO_MANY_FIELDS,
	CSV_ERR_ROW_TOO_LONG,
	CSV_STATUS__COUNT
};

/* A borrowed (pointer, length) view. */
struct csv_slice {
	const char *ptr;
	size_t len;
};

/* One record as delivered to on_row.  Everything it points to is owned by the reader
 * and valid only until on_row returns; copy what you keep. */
struct csv_row {
	uint64_t row_no;   /* 1-based record number, blank lines counted (header = 1) */
	uint64_t line_no;  /* 1-based physical line the record starts on */
	uint64_t offset;   /* input offset of the record's first byte (BOM bytes counted) */
	uint64_t size;     /* input bytes the record occupies, its line end included */
	struct csv_slice raw; /* the record as received, line end excluded */
	int raw_truncated;    /* raw is only the first max_row_bytes (CSV_ERR_ROW_TOO_LONG) */
	enum csv_status status;
	const char *reason;   /* static text of status; NULL when CSV_OK */
	uint64_t err_offset;  /* input offset of the offending byte; 0 when CSV_OK */
	size_t nfields;       /* 0 unless CSV_OK: fields of a bad row are not trustworthy */
	const struct csv_slice *fields; /* unescaped; each also NUL-terminated (an OK field
					 * never contains NUL) */
};

/* Called once per record.  Anything but GV_OK stops the reader: feed/finish return that
 * value and the reader accepts nothing more. */
typedef gv_err (*csv_row_fn)(void *ctx, const struct csv_row *row);

struct csv_stats {
	uint64_t bytes;       /* input bytes consumed, BOM included */
	uint64_t rows;        /* records delivered */
	uint64_t bad_rows;    /* of which status != CSV_OK */
	uint64_t blank_lines; /* blank lines skipped */
	uint64_t blank_bytes; /* input bytes of those blank lines */
	size_t bom_bytes;     /* 3 when a BOM was stripped, else 0 */
	size_t mem_bytes;     /* bytes the reader's buffers hold now (bounded by the limits) */
};

struct csv_reader;

/* Creates a reader; free it with csv_reader_free.  GV_ERR_INVALID for limits outside
 * their ranges or a NULL on_row. */
gv_err csv_reader_new(const struct csv_limits *lim, csv_row_fn on_row, void *ctx,
		      struct csv_reader **out) GV_MUST_CHECK;

/* Consumes len bytes (len 0 is allowed).  Errors: the callback's own error, GV_ERR_NOMEM,
 * GV_ERR_STATE after finish or after an earlier error.  Malformed input is never an
 * error here: it is reported per row. */
gv_err csv_reader_feed(struct csv_reader *r, const void *data, size_t len) GV_MUST_CHECK;

/* Ends the input: delivers a last record without a line end and reports an
 * unterminated quote.  Call once; afterwards only stats and free are valid. */
gv_err csv_reader_finish(struct csv_reader *r) GV_MUST_CHECK;

void csv_reader_stats(const struct csv_reader *r, struct csv_stats *out);

/* Static English text for a status ("ok" for CSV_OK); never NULL. */
const char *csv_status_text(enum csv_status st);

/* Wipes the buffers (imported rows may hold personal data) and frees; NULL is a no-op. */
void csv_reader_free(struct csv_reader *r);

#endif
