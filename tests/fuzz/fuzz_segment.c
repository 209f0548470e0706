/* fuzz_segment.c - the audit segment reader: frame splitting and record decoding.
 * Property checked besides memory safety: a payload that decodes re-encodes to the very
 * same bytes (the encoding is canonical, so the chain hash cannot be sidestepped by a
 * second spelling of a record). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/record.h"
#include "audit/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0, plen;
	const unsigned char *p, *h;

	while (seg_frame_next(data, size, &pos, &p, &plen, &h) == SEG_FRAME) {
		struct audit_rec r;
		struct gv_buf b;

		if (audit_rec_decode(p, plen, &r) != GV_OK)
			continue;
		buf_init(&b, AUDIT_REC_MAX);
		if (audit_rec_encode(&r, &b) != GV_OK || b.len != plen || memcmp(b.data, p, plen) != 0)
			abort();
		buf_release(&b);
	}
	return 0;
}
