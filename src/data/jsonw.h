/* jsonw.h - a fast JSON writer for values whose strings are known to be valid UTF-8.
 *
 * jansson's json_dumps walks every string code point by code point to validate it
 * again; strings in records were validated once on the way in (the request body, the
 * CSV and JSON Lines readers), so writing them needs only the escapes.  Output is
 * compact JSON that jansson reads back to the same value; object keys keep their
 * order.  Reals are written with %.17g, as jansson does. */
#ifndef GV_DATA_JSONW_H
#define GV_DATA_JSONW_H

#include <jansson.h>

#include "common/buf.h"

/* Appends v as compact JSON; GV_ERR_TOO_LARGE at the buffer's limit, GV_ERR_INVALID for
 * a real that is not finite or nesting deeper than 64. */
gv_err jsonw_append(struct gv_buf *out, const json_t *v) GV_MUST_CHECK;
/* Appends one member of an object, "key":v, after a comma unless it is the first:
 * for a writer that splits an object's members between two outputs. */
gv_err jsonw_append_member(struct gv_buf *out, const char *key, const json_t *v,
			   int first) GV_MUST_CHECK;
/* How many bytes from s on need no escape inside a JSON string (not a control
 * character, '"' or '\\'): the writer's rule, which readers of its output share. */
size_t jsonw_plain_len(const char *s, size_t len);
/* A JSON string of s (valid UTF-8), quotes included. */
gv_err jsonw_append_string(struct gv_buf *out, const char *s, size_t len) GV_MUST_CHECK;

#endif
