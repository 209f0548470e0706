/* pii.c - the PII scanner (see pii.h for the contract and the rules).
 *
 * Why hand-written: a regex engine either reports shapes without checksums or must be
 * followed by a second validation pass, and an alternation of ten identifier shapes
 * makes it try every alternative at every byte.  Here one byte table decides what a
 * position can start, and almost everything can only start at an ASCII word (a maximal
 * run of [0-9A-Za-z]), so the scanner walks from word to word, skips bytes that start
 * nothing (all of CJK text) with a table lookup, and looks at each word once:
 *   - the word's length and character classes pick the few kinds it can begin
 *     (18 -> resident ID or USCC, 9 -> passport, 3/4/11/13/15/16-19 digits -> phone or
 *     card, <= 3 digits then '.' -> IPv4, <= 4 hex then ':' -> IPv6, an upper-case letter
 *     after a province character -> plate);
 *   - a detector may read on over separators into following words (grouped card and
 *     mobile numbers, landline area code and number, dotted quads), and backwards only
 *     over the one character a prefix can be ('+' of +86, '(' of an area code, the
 *     province character of a plate);
 *   - the longest candidate at that word wins (equal length: lower kind number).
 * Because every candidate starts at a word and the scan resumes after it, word
 * candidates never overlap.  E-mail is the exception: it is found at its '@' by
 * scanning back over the local part, so it can start before the previous candidate.
 * The last candidate is therefore held back (pending) until the next one is known not to
 * overlap it; an overlapping e-mail joins it into one match over both spans, named by
 * the longer of the two, so that no part of either is left in clear (a card number
 * run into an address once kept 12 of its 16 digits).  Nothing may start before the
 * end of a match already handed to the callback (floor).
 *
 * Bounds: every read is guarded by an index check against len; detectors copy at most
 * 45 bytes into fixed local buffers only after checking the length; the e-mail back-scan
 * is limited to 64 bytes and the domain to 253. */
#include "mask/pii.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "mask/idcheck.h"

enum {
	CL_DIGIT = 1,
	CL_UPPER = 2,
	CL_LOWER = 4,
	CL_HEX = 8,    /* 0-9 a-f A-F */
	CL_LOCAL = 16, /* e-mail local-part punctuation . _ % + - */
	CL_TRIG = 32,  /* @ and : start a candidate outside a word */
};
#define CL_ALPHA (CL_UPPER | CL_LOWER)
#define CL_ALNUM (CL_DIGIT | CL_ALPHA)

#define D_ (CL_DIGIT | CL_HEX)
#define UH (CL_UPPER | CL_HEX)
#define U_ CL_UPPER
#define LH (CL_LOWER | CL_HEX)
#define L_ CL_LOWER
#define P_ CL_LOCAL
#define T_ CL_TRIG

/* Bytes >= 0x80 are 0: no candidate starts inside a multi-byte sequence. */
static const unsigned char pii_class[256] = {
	0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x00 */
	0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x10 */
	0,  0,  0,  0,  0,  P_, 0,  0,  0,  0,  0,  P_, 0,  P_, P_, 0,  /*  !"#$%&'()*+,-./ */
	D_, D_, D_, D_, D_, D_, D_, D_, D_, D_, T_, 0,  0,  0,  0,  0,  /* 0-9 :;<=>? */
	T_, UH, UH, UH, UH, UH, UH, U_, U_, U_, U_, U_, U_, U_, U_, U_, /* @A-O */
	U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, U_, 0,  0,  0,  0,  P_, /* P-Z [\]^_ */
	0,  LH, LH, LH, LH, LH, LH, L_, L_, L_, L_, L_, L_, L_, L_, L_, /* `a-o */
	L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, 0,  0,  0,  0,  0,  /* p-z {|}~ DEL */
};

#undef D_
#undef UH
#undef U_
#undef LH
#undef L_
#undef P_
#undef T_

static const char *const pii_kind_names[PII__COUNT] = {
	[PII_RESIDENT_ID] = "resident_id",
	[PII_MOBILE] = "mobile",
	[PII_LANDLINE] = "landline",
	[PII_BANK_CARD] = "bank_card",
	[PII_EMAIL] = "email",
	[PII_USCC] = "uscc",
	[PII_PASSPORT] = "passport",
	[PII_PLATE] = "plate",
	[PII_IPV4] = "ipv4",
	[PII_IPV6] = "ipv6",
};

/* Licence-plate province abbreviations (GA 36), UTF-8, three bytes each. */
static const char pii_provinces[] = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

#define PII_EMAIL_LOCAL_MAX 64
#define PII_EMAIL_LABEL_MAX 63
#define PII_EMAIL_DOMAIN_MAX 253
#define PII_IPV6_TEXT_MAX 45 /* INET6_ADDRSTRLEN - 1 */

struct pii_scanner {
	const unsigned char *t;
	size_t len;
	unsigned kinds;
	pii_match_fn cb;
	void *ctx;
	size_t count;
	int stop;
	int has_pending;
	struct pii_match pending;
	size_t floor;   /* end of the last match handed out */
	int64_t now_s;  /* for resident birth dates; read once, on first need */
	int have_now;
};

/* The best candidate at one word. */
struct pii_cand {
	size_t off, end;
	enum pii_kind kind;
	int found;
};

static int pii_at(const struct pii_scanner *sc, size_t i, unsigned cls)
{
	return i < sc->len && (pii_class[sc->t[i]] & cls);
}

static int pii_at_char(const struct pii_scanner *sc, size_t i, unsigned char c)
{
	return i < sc->len && sc->t[i] == c;
}

/* First index >= i whose byte is not in cls. */
static size_t pii_run(const struct pii_scanner *sc, size_t i, unsigned cls)
{
	while (i < sc->len && (pii_class[sc->t[i]] & cls))
		i++;
	return i;
}

/* Length of the word at p when it is digits only (*end set to its end), else 0. */
static size_t pii_digit_word(const struct pii_scanner *sc, size_t p, size_t *end)
{
	size_t e = pii_run(sc, p, CL_DIGIT);

	if (e == p || pii_at(sc, e, CL_ALPHA))
		return 0;
	*end = e;
	return e - p;
}

/* A group sequence (card or mobile in groups) must not be one piece of a longer one:
 * no further group of 1-4 digits joined by the same separator after its end or before
 * its start.  A longer number there is a different number ("12345678 4111 ..."). */
static int pii_group_isolated(const struct pii_scanner *sc, size_t s, size_t e,
			      unsigned char sep)
{
	size_t q, n, b;

	if (pii_at_char(sc, e, sep)) {
		n = pii_digit_word(sc, e + 1, &q);
		if (n >= 1 && n <= 4)
			return 0;
	}
	if (s < 2 || sc->t[s - 1] != sep)
		return 1;
	/* Up to five digits back from the separator: 1-4 of them, not glued to a letter,
	 * are a group. */
	for (b = s - 1; b > 0 && (pii_class[sc->t[b - 1]] & CL_DIGIT) && s - 1 - b < 5; b--)
		;
	n = s - 1 - b;
	return n == 0 || n > 4 || (b > 0 && (pii_class[sc->t[b - 1]] & CL_ALPHA));
}

static int pii_is_sep(const struct pii_scanner *sc, size_t i)
{
	return pii_at_char(sc, i, ' ') || pii_at_char(sc, i, '-');
}

static void pii_offer(struct pii_cand *c, size_t off, size_t end, enum pii_kind kind)
{
	if (!c->found || end - off > c->end - c->off ||
	    (end - off == c->end - c->off && kind < c->kind)) {
		c->off = off;
		c->end = end;
		c->kind = kind;
		c->found = 1;
	}
}

static int pii_wants(const struct pii_scanner *sc, enum pii_kind k)
{
	return (sc->kinds >> k) & 1u;
}

/* ---- detectors: each offers what it finds at word [s, e) into c ---- */

static void pii_try_resident(struct pii_scanner *sc, size_t s, size_t e, struct pii_cand *c)
{
	char id[19];

	if (e - s != 18 || pii_run(sc, s, CL_DIGIT) < s + 17)
		return;
	memcpy(id, sc->t + s, 18);
	id[18] = '\0';
	/* Free text often has a lower-case x; idcheck takes only the canonical X. */
	if (id[17] == 'x')
		id[17] = 'X';
	if (!sc->have_now) {
		sc->now_s = util_now_s();
		sc->have_now = 1;
	}
	if (id_resident_check(id, sc->now_s, NULL))
		pii_offer(c, s, e, PII_RESIDENT_ID);
}

static void pii_try_uscc(const struct pii_scanner *sc, size_t s, size_t e, unsigned word_or,
			 struct pii_cand *c)
{
	char code[19];

	if (e - s != 18 || (word_or & CL_LOWER) || pii_run(sc, s + 2, CL_DIGIT) < s + 8)
		return;
	memcpy(code, sc->t + s, 18);
	code[18] = '\0';
	if (id_uscc_valid(code))
		pii_offer(c, s, e, PII_USCC);
}

/* End of a mobile number body starting at p: 11 digits 1[3-9]..., or the same as 3-4-4
 * with one space or hyphen; 0 if none.  p may be inside a digit word (after 0086). */
static size_t pii_mobile_body(const struct pii_scanner *sc, size_t p)
{
	const unsigned char *t = sc->t;
	size_t e, q, r, n = pii_digit_word(sc, p, &e);
	unsigned char sep;

	if (n < 3 || t[p] != '1' || t[p + 1] < '3')
		return 0;
	if (n == 11)
		return e;
	if (n != 3 || !pii_is_sep(sc, e))
		return 0;
	sep = t[e];
	if (pii_digit_word(sc, e + 1, &q) != 4 || !pii_at_char(sc, q, sep) ||
	    pii_digit_word(sc, q + 1, &r) != 4 || !pii_group_isolated(sc, p, r, sep))
		return 0;
	return r;
}

/* National form, or +86 / 0086 directly before it or separated by one space or hyphen. */
static void pii_try_mobile(const struct pii_scanner *sc, size_t s, size_t e, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	size_t start = s, p = 0, end;

	if ((end = pii_mobile_body(sc, s)) != 0) {
		pii_offer(c, s, end, PII_MOBILE);
		return;
	}
	if (e - s >= 4 && memcmp(t + s, "0086", 4) == 0) {
		p = s + 4;
	} else if (s > 0 && t[s - 1] == '+' && e - s >= 2 && t[s] == '8' && t[s + 1] == '6') {
		p = s + 2;
		start = s - 1;
	} else if (e - s == 13 && t[s] == '8' && t[s + 1] == '6') {
		p = s + 2;   /* 86 without + or 00, written as dialled from a phone's contacts */
	}
	if (p == 0)
		return;
	if (p == e) {
		if (!pii_is_sep(sc, p))
			return;
		p++;
	}
	if ((end = pii_mobile_body(sc, p)) != 0)
		pii_offer(c, start, end, PII_MOBILE);
}

/* 0 + area code (010 and 02x have two digits, the rest three), then '-', ' ' or nothing,
 * or the area code in parentheses; a 7-8 digit number from 2-9; optional -extension. */
static void pii_try_landline(const struct pii_scanner *sc, size_t s, size_t e, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	size_t n = e - s, area, start = s, p, q, x, xe;

	if (n < 3 || t[s] != '0' || t[s + 1] == '0')
		return;
	area = t[s + 1] <= '2' ? 3 : 4;
	if (n == area + 7 || n == area + 8) {
		if (t[s + area] == '0')
			return;
		q = e;
	} else if (n == area) {
		p = e;
		if (s > 0 && t[s - 1] == '(' && pii_at_char(sc, p, ')')) {
			start = s - 1;
			p++;
			if (pii_at_char(sc, p, ' '))
				p++;
		} else if (pii_is_sep(sc, p)) {
			p++;
		} else {
			return;
		}
		x = pii_digit_word(sc, p, &q);
		if ((x != 7 && x != 8) || t[p] == '0')
			return;
	} else {
		return;
	}
	if (pii_at_char(sc, q, '-')) {
		x = pii_digit_word(sc, q + 1, &xe);
		if (x >= 1 && x <= 6)
			q = xe;
	}
	pii_offer(c, start, q, PII_LANDLINE);
}

/* 16-19 digits in one word, or groups of four joined by one kind of separator (the last
 * group may be shorter), passing Luhn. */
static void pii_try_bank_card(const struct pii_scanner *sc, size_t s, size_t e, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	char d[20];
	size_t n = e - s, end = e, g, q;
	unsigned char sep;

	if (n >= 16 && n <= 19) {
		memcpy(d, t + s, n);
		d[n] = '\0';
		if (id_bank_card_valid(d))
			pii_offer(c, s, e, PII_BANK_CARD);
		return;
	}
	if (n != 4 || !pii_is_sep(sc, e))
		return;
	sep = t[e];
	memcpy(d, t + s, 4);
	for (;;) {
		if (!pii_at_char(sc, end, sep))
			break;
		g = pii_digit_word(sc, end + 1, &q);
		if (g == 0 || g > 4 || n + g > 19)
			break;
		memcpy(d + n, t + end + 1, g);
		n += g;
		end = q;
		if (g < 4)
			break;
	}
	if (n < 16 || !pii_group_isolated(sc, s, end, sep))
		return;
	d[n] = '\0';
	if (id_bank_card_valid(d))
		pii_offer(c, s, end, PII_BANK_CARD);
}

/* E or G + 8 digits, or E + letter + 7 digits. */
static void pii_try_passport(const struct pii_scanner *sc, size_t s, size_t e, struct pii_cand *c)
{
	const unsigned char *t = sc->t;

	if (e - s != 9)
		return;
	if (((t[s] == 'E' || t[s] == 'G') && pii_run(sc, s + 1, CL_DIGIT) == e) ||
	    (t[s] == 'E' && (pii_class[t[s + 1]] & CL_UPPER) && pii_run(sc, s + 2, CL_DIGIT) == e))
		pii_offer(c, s, e, PII_PASSPORT);
}

static int pii_is_province(const unsigned char *p)
{
	for (size_t k = 0; k + 3 <= sizeof(pii_provinces) - 1; k += 3)
		if (memcmp(pii_provinces + k, p, 3) == 0)
			return 1;
	return 0;
}

static int pii_plate_serial_ok(const unsigned char *p, size_t n)
{
	size_t digits = 0, lead = 0, k;

	if (n != 5 && n != 6)
		return 0;
	for (k = 0; k < n; k++) {
		if (pii_class[p[k]] & CL_DIGIT)
			digits++;
		else if (!(pii_class[p[k]] & CL_UPPER) || p[k] == 'I' || p[k] == 'O')
			return 0;
	}
	if (n == 5)
		return digits > 0;
	/* New-energy plates: D/F, a letter or digit, four digits; or five digits, D/F. */
	for (k = 0; k < 5 && (pii_class[p[k]] & CL_DIGIT); k++)
		lead++;
	if (lead == 5)
		return p[5] == 'D' || p[5] == 'F';
	return (p[0] == 'D' || p[0] == 'F') && digits >= 4 && (pii_class[p[2]] & CL_DIGIT) &&
	       (pii_class[p[3]] & CL_DIGIT) && (pii_class[p[4]] & CL_DIGIT) &&
	       (pii_class[p[5]] & CL_DIGIT);
}

/* Word s starts with the authority letter; the province character is the 3 bytes
 * before it; the serial follows in the same word or after '·' or a space. */
static void pii_try_plate(const struct pii_scanner *sc, size_t s, size_t e, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	size_t p, q;

	if (s < 3 || !(pii_class[t[s]] & CL_UPPER) || !pii_is_province(t + s - 3))
		return;
	if (e - s > 1) {
		p = s + 1;
		q = e;
	} else {
		p = e;
		if (pii_at_char(sc, p, 0xC2) && pii_at_char(sc, p + 1, 0xB7))
			p += 2;
		else if (pii_at_char(sc, p, ' '))
			p++;
		else
			return;
		q = pii_run(sc, p, CL_ALNUM);
	}
	if (pii_plate_serial_ok(t + p, q - p))
		pii_offer(c, s - 3, q, PII_PLATE);
}

/* Four decimal octets 0-255 without leading zeros; not part of a longer dotted run. */
static void pii_try_ipv4(const struct pii_scanner *sc, size_t s, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	size_t p = s, q;
	unsigned v;

	if (s >= 2 && t[s - 1] == '.' && (pii_class[t[s - 2]] & CL_ALNUM))
		return;
	for (int k = 0; k < 4; k++) {
		q = pii_run(sc, p, CL_DIGIT);
		if (q == p || q - p > 3 || (q - p > 1 && t[p] == '0'))
			return;
		v = 0;
		for (size_t i = p; i < q; i++)
			v = v * 10 + (unsigned)(t[i] - '0');
		if (v > 255)
			return;
		if (k < 3) {
			if (!pii_at_char(sc, q, '.'))
				return;
			p = q + 1;
		} else {
			p = q;
		}
	}
	if (pii_at(sc, p, CL_ALPHA) || (pii_at_char(sc, p, '.') && pii_at(sc, p + 1, CL_DIGIT)))
		return;
	pii_offer(c, s, p, PII_IPV4);
}

/* The longest run of hex digits, ':' and '.' at s, trimmed of a sentence's trailing
 * '.' or ':', as inet_pton reads it.  At least one decimal digit is required so that
 * words such as "dead::beef" in prose are not taken for addresses. */
static void pii_try_ipv6(const struct pii_scanner *sc, size_t s, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	char text[PII_IPV6_TEXT_MAX + 1];
	unsigned char addr[16];
	size_t p = s, e;
	int digit = 0;

	if (s > 0 && ((pii_class[t[s - 1]] & CL_ALNUM) || t[s - 1] == ':' ||
		      (t[s - 1] == '.' && s >= 2 && (pii_class[t[s - 2]] & CL_ALNUM))))
		return;
	while (p < sc->len && p - s <= PII_IPV6_TEXT_MAX &&
	       ((pii_class[t[p]] & CL_HEX) || t[p] == ':' || t[p] == '.')) {
		digit |= pii_class[t[p]] & CL_DIGIT;
		p++;
	}
	if (p - s > PII_IPV6_TEXT_MAX || pii_at(sc, p, CL_ALNUM) || !digit)
		return;
	e = p;
	while (e > s && t[e - 1] == '.')
		e--;
	if (e - s >= 2 && t[e - 1] == ':' && t[e - 2] != ':')
		e--;
	memcpy(text, t + s, e - s);
	text[e - s] = '\0';
	if (inet_pton(AF_INET6, text, addr) == 1)
		pii_offer(c, s, e, PII_IPV6);
}

/* At '@' (index a): the local part back to the first byte that cannot be in one (never
 * before floor, at most 64 bytes; no leading, trailing or doubled dot), then at least
 * two domain labels of letters, digits and inner hyphens, the last one letters only. */
static void pii_try_email(const struct pii_scanner *sc, size_t a, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	size_t l = a, p, q, end = 0, labels = 0;
	int alpha;

	while (l > sc->floor && (pii_class[t[l - 1]] & (CL_ALNUM | CL_LOCAL))) {
		if (a - l >= PII_EMAIL_LOCAL_MAX)
			return;
		l--;
	}
	while (l < a && t[l] == '.')
		l++;
	if (l == a || t[a - 1] == '.')
		return;
	for (p = l; p + 1 < a; p++)
		if (t[p] == '.' && t[p + 1] == '.')
			return;
	p = a + 1;
	for (;;) {
		alpha = 1;
		for (q = p; q < sc->len && q - p <= PII_EMAIL_LABEL_MAX &&
			    ((pii_class[t[q]] & CL_ALNUM) || t[q] == '-');
		     q++)
			alpha &= (pii_class[t[q]] & CL_ALPHA) != 0;
		if (q == p || q - p > PII_EMAIL_LABEL_MAX || t[p] == '-' || t[q - 1] == '-')
			break;
		labels++;
		if (labels >= 2 && alpha && q - p >= 2)
			end = q;
		if (!pii_at_char(sc, q, '.') || !pii_at(sc, q + 1, CL_ALNUM) ||
		    q + 1 - (a + 1) >= PII_EMAIL_DOMAIN_MAX)
			break;
		p = q + 1;
	}
	if (end == 0 || pii_at(sc, end, CL_ALNUM) || pii_at_char(sc, end, '-'))
		return;
	pii_offer(c, l, end, PII_EMAIL);
}

/* ---- emission ---- */

static void pii_emit(struct pii_scanner *sc, const struct pii_match *m)
{
	sc->count++;
	sc->floor = m->off + m->len;
	if (sc->cb && sc->cb(sc->ctx, m))
		sc->stop = 1;
}

/* Takes a candidate; 1 if the pending match now covers it, 0 if it was refused
 * (it starts inside a match already handed on). */
static int pii_submit(struct pii_scanner *sc, const struct pii_cand *c)
{
	struct pii_match m = {.off = c->off, .len = c->end - c->off, .kind = c->kind};
	struct pii_match *p = &sc->pending;

	if (m.off < sc->floor)
		return 0;
	if (sc->has_pending) {
		if (m.off < p->off + p->len) {
			size_t off = m.off < p->off ? m.off : p->off;
			size_t end = m.off + m.len > p->off + p->len ? m.off + m.len : p->off + p->len;

			if (m.len > p->len || (m.len == p->len && m.kind < p->kind))
				p->kind = m.kind;
			p->off = off;
			p->len = end - off;
			return 1;
		}
		pii_emit(sc, p);
	}
	sc->pending = m;
	sc->has_pending = 1;
	return 1;
}

/* A word of letters then digits: the digits alone may be a mobile, a card or a resident
 * ID written straight after a label ("tel13812345678", "ID41150219900101123X").  When
 * in doubt, mask: such a run is taken as the number it would be on its own.  Letters
 * after the digits ("13812345678b") still make a code, not a number. */
static void pii_scan_labelled(struct pii_scanner *sc, size_t s, size_t e, struct pii_cand *c)
{
	const unsigned char *t = sc->t;
	size_t ds, de = e;

	if (t[e - 1] == 'X' || t[e - 1] == 'x')
		de = e - 1;   /* a resident ID's check character */
	for (ds = de; ds > s && (pii_class[t[ds - 1]] & CL_DIGIT); ds--)
		;
	if (ds == s || !(pii_class[t[ds - 1]] & CL_ALPHA) || de - ds < 11)
		return;
	if (de == e) {
		if (pii_wants(sc, PII_MOBILE))
			pii_try_mobile(sc, ds, e, c);
		if (pii_wants(sc, PII_BANK_CARD))
			pii_try_bank_card(sc, ds, e, c);
		if (pii_wants(sc, PII_RESIDENT_ID) && e - ds == 18)
			pii_try_resident(sc, ds, e, c);
	} else if (pii_wants(sc, PII_RESIDENT_ID) && de - ds == 17) {
		pii_try_resident(sc, ds, e, c);
	}
}

/* The word at s; returns where the scan resumes. */
static size_t pii_scan_word(struct pii_scanner *sc, size_t s)
{
	const unsigned char *t = sc->t;
	struct pii_cand c = {.found = 0};
	unsigned any = 0, all = 0xff;
	size_t e = s, n;

	while (e < sc->len && (pii_class[t[e]] & CL_ALNUM)) {
		any |= pii_class[t[e]];
		all &= pii_class[t[e]];
		e++;
	}
	n = e - s;
	if (n == 18) {
		if (pii_wants(sc, PII_RESIDENT_ID))
			pii_try_resident(sc, s, e, &c);
		if (pii_wants(sc, PII_USCC))
			pii_try_uscc(sc, s, e, any, &c);
	}
	if (all & CL_DIGIT) {
		if (pii_wants(sc, PII_MOBILE))
			pii_try_mobile(sc, s, e, &c);
		if (pii_wants(sc, PII_LANDLINE) && t[s] == '0')
			pii_try_landline(sc, s, e, &c);
		if (pii_wants(sc, PII_BANK_CARD) && n >= 4)
			pii_try_bank_card(sc, s, e, &c);
		if (pii_wants(sc, PII_IPV4) && n <= 3 && pii_at_char(sc, e, '.'))
			pii_try_ipv4(sc, s, &c);
	} else {
		if (pii_wants(sc, PII_PASSPORT) && n == 9)
			pii_try_passport(sc, s, e, &c);
		if (pii_wants(sc, PII_PLATE) && s >= 3 && t[s - 3] >= 0xE0)
			pii_try_plate(sc, s, e, &c);
	}
	if (pii_wants(sc, PII_IPV6) && n <= 4 && (all & CL_HEX) && pii_at_char(sc, e, ':'))
		pii_try_ipv6(sc, s, &c);
	if (!c.found && (any & CL_ALPHA) && (any & CL_DIGIT))
		pii_scan_labelled(sc, s, e, &c);
	if (c.found && pii_submit(sc, &c))
		return c.end;
	return e;
}

size_t pii_scan(const char *text, size_t len, unsigned kinds, pii_match_fn cb, void *ctx)
{
	struct pii_scanner sc = {
		.t = (const unsigned char *)text,
		.len = len,
		.kinds = kinds & PII_ALL,
		.cb = cb,
		.ctx = ctx,
	};
	const unsigned char *t = sc.t;
	size_t i = 0;

	if (!text || sc.kinds == 0)
		return 0;
	while (!sc.stop) {
		struct pii_cand c = {.found = 0};

		for (;;) {
			/* Runs of multi-byte text (CJK) eight bytes at a time. */
			while (len - i >= 8) {
				uint64_t v;

				memcpy(&v, t + i, 8);
				if ((v & 0x8080808080808080ull) != 0x8080808080808080ull)
					break;
				i += 8;
			}
			if (i >= len || (pii_class[t[i]] & (CL_ALNUM | CL_TRIG)))
				break;
			i++;
		}
		if (i >= len)
			break;
		if (pii_class[t[i]] & CL_ALNUM) {
			i = pii_scan_word(&sc, i);
			continue;
		}
		if (t[i] == '@' && pii_wants(&sc, PII_EMAIL))
			pii_try_email(&sc, i, &c);
		else if (t[i] == ':' && pii_wants(&sc, PII_IPV6) && pii_at_char(&sc, i + 1, ':'))
			pii_try_ipv6(&sc, i, &c);
		i = c.found && pii_submit(&sc, &c) ? c.end : i + 1;
	}
	if (!sc.stop && sc.has_pending)
		pii_emit(&sc, &sc.pending);
	return sc.count;
}

const char *pii_kind_name(enum pii_kind k)
{
	return (unsigned)k < PII__COUNT ? pii_kind_names[k] : "unknown";
}

int pii_kind_parse(const char *name)
{
	if (!name)
		return -1;
	for (int k = 0; k < PII__COUNT; k++)
		if (strcmp(pii_kind_names[k], name) == 0)
			return k;
	return -1;
}
