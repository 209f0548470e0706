/* fuzz_pii.c - the PII scanner (mask/pii.h).
 *
 * Input: 2 header bytes, then the text.  The header XORed with "PI" holds, in its low
 * 10 bits, the kinds left out (so the seeds, which start with "PI", scan for all) and, in
 * the top 6 bits of the second byte, the match number - 1 at which a second run's
 * callback stops.  The text is copied into a buffer of exactly its length so that a read
 * past the end is caught.  Checks, any violation aborts:
 *   - matches are inside the text, non-empty, of a requested kind, in increasing offset
 *     and never overlapping; the return value is the number of callbacks;
 *   - each match, scanned again on its own with the same kinds, is found again whole and
 *     of the same kind, and nothing else is found in it;
 *   - a run whose callback stops at match k returns k and saw the first k matches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mask/pii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_MATCHES 8192

struct run {
	size_t len;
	unsigned kinds;
	size_t n, stop_at;
	struct pii_match m[MAX_MATCHES];
};

static int on_match(void *ctx, const struct pii_match *m)
{
	struct run *r = ctx;

	CHECK(m->len > 0 && m->off <= r->len && m->len <= r->len - m->off);
	CHECK((unsigned)m->kind < PII__COUNT && (r->kinds >> m->kind) & 1u);
	if (r->n > 0) {
		const struct pii_match *p = &r->m[r->n - 1];

		CHECK(m->off >= p->off + p->len);
	}
	CHECK(r->n < MAX_MATCHES);
	r->m[r->n++] = *m;
	return r->stop_at != 0 && r->n == r->stop_at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run full, part, alone;
	unsigned kinds;
	char *text;
	size_t count;

	if (size < 2)
		return 0;
	kinds = PII_ALL & ~((unsigned)(data[0] ^ 'P') | (unsigned)(data[1] ^ 'I') << 8);
	full = (struct run){.len = size - 2, .kinds = kinds};
	text = malloc(size - 2 ? size - 2 : 1);
	if (!text)
		return 0;
	memcpy(text, data + 2, size - 2);

	count = pii_scan(text, size - 2, kinds, on_match, &full);
	CHECK(count == full.n);

	for (size_t i = 0; i < full.n; i++) {
		const struct pii_match *m = &full.m[i];
		char *copy = malloc(m->len);

		CHECK(copy != NULL);
		memcpy(copy, text + m->off, m->len);
		alone = (struct run){.len = m->len, .kinds = kinds};
		CHECK(pii_scan(copy, m->len, kinds, on_match, &alone) == 1);
		CHECK(alone.m[0].off == 0 && alone.m[0].len == m->len && alone.m[0].kind == m->kind);
		free(copy);
	}

	part = (struct run){.len = size - 2, .kinds = kinds, .stop_at = 1 + ((data[1] ^ 'I') >> 2)};
	count = pii_scan(text, size - 2, kinds, on_match, &part);
	if (part.stop_at <= full.n) {
		CHECK(count == part.stop_at);
		for (size_t i = 0; i < count; i++)
			CHECK(part.m[i].off == full.m[i].off && part.m[i].len == full.m[i].len &&
			      part.m[i].kind == full.m[i].kind);
	} else {
		CHECK(count == full.n);
	}
	free(text);
	return 0;
}
