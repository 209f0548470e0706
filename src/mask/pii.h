/* pii.h - the PII scanner: finds personal identifiers (resident ID, mobile, landline,
 * bank card, e-mail, USCC, passport, licence plate, IPv4/IPv6) inside free UTF-8 text.
 *
 * One forward pass, hand-written, no regex engine; checksum kinds are validated with
 * mask/idcheck.h so a match is an identifier, not just its shape.  The scanner owns no
 * memory and no global state: text is borrowed (len bytes, not NUL-terminated, never read
 * outside [text, text + len)), matches are handed to the callback one by one and live only
 * for that call.  Safe to call from any thread.
 *
 * Rules (beyond mask-api.md): identifiers are ASCII and upper case except that a resident
 * ID's check character may be a lower-case x and e-mail is case-insensitive; full-width
 * digits are not read.  Mobiles may be written 3-4-4 with one space or hyphen, bank cards
 * in groups of four; a landline area code is 0 + 2 digits for 010/02x and 0 + 3 digits
 * otherwise, may be in ASCII parentheses, and the local number does not start with 0.  A
 * plate serial excludes I and O (GA 36) and holds at least one digit.  IPv6 needs at
 * least one decimal digit, so that words such as "dead::beef" are not addresses. */
#ifndef GV_MASK_PII_H
#define GV_MASK_PII_H

#include <stddef.h>

enum pii_kind {
	PII_RESIDENT_ID,
	PII_MOBILE,
	PII_LANDLINE,
	PII_BANK_CARD,
	PII_EMAIL,
	PII_USCC,
	PII_PASSPORT,
	PII_PLATE,
	PII_IPV4,
	PII_IPV6,
	PII__COUNT
};

#define PII_ALL ((1u << PII__COUNT) - 1)

/* One identifier: bytes [off, off + len) of the scanned text. */
struct pii_match {
	size_t off, len;
	enum pii_kind kind;
};

/* Called once per match; return non-zero to stop the scan. */
typedef int (*pii_match_fn)(void *ctx, const struct pii_match *m);

/* Scans text[0..len) for identifiers of the kinds in mask `kinds` (bit 1u << kind) and
 * calls cb (may be NULL to only count) for each, in increasing offset, never overlapping:
 * when candidates overlap the longer wins, and of two of equal length the one of the
 * lower kind number.  Returns the number of matches handed to cb, including one whose
 * callback stopped the scan. */
size_t pii_scan(const char *text, size_t len, unsigned kinds, pii_match_fn cb, void *ctx);

/* Stable name of a kind ("resident_id", "mobile", "landline", "bank_card", "email",
 * "uscc", "passport", "plate", "ipv4", "ipv6"); "unknown" when out of range. */
const char *pii_kind_name(enum pii_kind k);
/* The kind named name, -1 if unknown or NULL. */
int pii_kind_parse(const char *name);

#endif
