/* test_pii.c - the PII scanner: every kind found at exact offsets in Chinese text, near
 * misses not found, overlap resolution, buffer edges (every scan reads a heap copy of
 * exactly the text's length, so the sanitizer build catches a read past the end), kind
 * filtering, the callback's stop, and precision / recall on a labelled corpus generated
 * here with a fixed seed (valid identifiers, near misses and number-like noise in
 * Chinese filler).  Check characters are computed with the textbook formulas
 * (as in test_idcheck.c), not with idcheck.c; idcheck is used only to reject generated
 * strings that happen to be valid identifiers of another kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mask/idcheck.h"
#include "mask/pii.h"

#define MAX_HITS 64

struct hits {
	size_t n;
	struct pii_match m[MAX_HITS];
};

static int collect(void *ctx, const struct pii_match *m)
{
	struct hits *h = ctx;

	if (h->n < MAX_HITS)
		h->m[h->n] = *m;
	h->n++;
	return 0;
}

static size_t scan_n(const char *text, size_t len, unsigned kinds, struct hits *h)
{
	char *copy = malloc(len ? len : 1);
	size_t r;

	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(h, 0, sizeof(*h));
	r = pii_scan(copy, len, kinds, collect, h);
	free(copy);
	assert_int_equal(r, h->n);
	return r;
}

static size_t scan(const char *text, unsigned kinds, struct hits *h)
{
	return scan_n(text, strlen(text), kinds, h);
}

static void show(const char *text, const struct hits *h)
{
	print_message("text: %s\n", text);
	for (size_t i = 0; i < h->n && i < MAX_HITS; i++)
		print_message("  %s at %zu: %.*s\n", pii_kind_name(h->m[i].kind), h->m[i].off,
			      (int)h->m[i].len, text + h->m[i].off);
}

/* Exactly one match, of kind k, covering the first occurrence of needle. */
static void expect_one(const char *text, const char *needle, enum pii_kind k)
{
	const char *at = strstr(text, needle);
	struct hits h;

	assert_non_null(at);
	scan(text, PII_ALL, &h);
	if (h.n != 1 || h.m[0].off != (size_t)(at - text) || h.m[0].len != strlen(needle) ||
	    h.m[0].kind != k)
		show(text, &h);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.m[0].off, at - text);
	assert_int_equal(h.m[0].len, strlen(needle));
	assert_int_equal(h.m[0].kind, k);
}

static void expect_none(const char *text)
{
	struct hits h;

	scan(text, PII_ALL, &h);
	if (h.n != 0)
		show(text, &h);
	assert_int_equal(h.n, 0);
}

/* ---- check characters, computed independently of idcheck.c ---- */

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* ISO 7064 MOD 11-2: w_i = 2^(17-i) mod 11, c = (12 - S mod 11) mod 11. */
static char resident_check_char(const char *body17)
{
	int s = 0, c;

	for (int i = 0; i < 17; i++)
		s += (body17[i] - '0') * ((1 << (17 - i)) % 11);
	c = (12 - s % 11) % 11;
	return c == 10 ? 'X' : (char)('0' + c);
}

static void resident_make(const char *body17, char out[19])
{
	memcpy(out, body17, 17);
	out[17] = resident_check_char(body17);
	out[18] = '\0';
}

/* GB 32100: w_i = 3^i mod 31, c = (31 - S mod 31) mod 31. */
static char uscc_check_char(const char *body17)
{
	int s = 0, w = 1;

	for (int i = 0; i < 17; i++) {
		s += (int)(strchr(uscc_alphabet, body17[i]) - uscc_alphabet) * w;
		w = w * 3 % 31;
	}
	return uscc_alphabet[(31 - s % 31) % 31];
}

/* Luhn check digit for a payload that will have it appended (doubled-digit table). */
static char luhn_check_digit(const char *payload, size_t n)
{
	static const int dbl[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
	int s = 0;

	for (size_t i = 0; i < n; i++) {
		int d = payload[i] - '0';

		s += ((n - i) % 2 == 1) ? dbl[d] : d;
	}
	return (char)('0' + (10 - s % 10) % 10);
}

static int luhn_ok(const char *digits, size_t n)
{
	return luhn_check_digit(digits, n - 1) == digits[n - 1];
}

/* ---- behaviour ---- */

static void test_example_sentence(void **state)
{
	const char *text = "请联系张三，电话13812345678，身份证11010519491231002X。";
	struct hits h;

	(void)state;
	assert_int_equal(scan(text, PII_ALL, &h), 2);
	assert_int_equal(h.m[0].kind, PII_MOBILE);
	assert_int_equal(h.m[0].off, 24); /* 8 CJK characters of 3 bytes */
	assert_int_equal(h.m[0].len, 11);
	assert_int_equal(h.m[1].kind, PII_RESIDENT_ID);
	assert_int_equal(h.m[1].off, 47);
	assert_int_equal(h.m[1].len, 18);
}

static void test_each_kind(void **state)
{
	static const struct {
		const char *text, *needle;
		enum pii_kind kind;
	} cases[] = {
		{"身份证号11010519491231002X。", "11010519491231002X", PII_RESIDENT_ID},
		{"身份证号11010519491231002x。", "11010519491231002x", PII_RESIDENT_ID},
		{"手机13812345678，", "13812345678", PII_MOBILE},
		{"手机+8613812345678，", "+8613812345678", PII_MOBILE},
		{"手机：+86 13812345678。", "+86 13812345678", PII_MOBILE},
		{"手机008613912345678。", "008613912345678", PII_MOBILE},
		{"手机0086-19912345678。", "0086-19912345678", PII_MOBILE},
		/* 86 without + or 00, and numbers written straight after a label: the digits
		 * are masked (they once passed in clear). */
		{"手机8613812345678。", "8613812345678", PII_MOBILE},
		{"联系tel13812345678。", "13812345678", PII_MOBILE},
		{"电话a13812345678。", "13812345678", PII_MOBILE},
		{"证件ID411502199001011237，", "411502199001011237", PII_RESIDENT_ID},
		{"身份证a11010519491231002X。", "11010519491231002X", PII_RESIDENT_ID},
		{"card4111111111111111。", "4111111111111111", PII_BANK_CARD},
		{"手机 138 1234 5678 联系", "138 1234 5678", PII_MOBILE},
		{"手机138-1234-5678。", "138-1234-5678", PII_MOBILE},
		{"电话010-12345678。", "010-12345678", PII_LANDLINE},
		{"电话01012345678。", "01012345678", PII_LANDLINE},
		{"电话0376-1234567，", "0376-1234567", PII_LANDLINE},
		{"电话 021 87654321 转", "021 87654321", PII_LANDLINE},
		{"电话02087654321。", "02087654321", PII_LANDLINE},
		{"电话(0371)65432100。", "(0371)65432100", PII_LANDLINE},
		{"电话(010) 65432100。", "(010) 65432100", PII_LANDLINE},
		{"电话010-12345678-8001。", "010-12345678-8001", PII_LANDLINE},
		{"卡号4111111111111111。", "4111111111111111", PII_BANK_CARD},
		{"卡号6222021234567890128，", "6222021234567890128", PII_BANK_CARD},
		{"卡号 4111 1111 1111 1111 已冻结", "4111 1111 1111 1111", PII_BANK_CARD},
		{"卡号4111-1111-1111-1111。", "4111-1111-1111-1111", PII_BANK_CARD},
		{"卡号6222 0212 3456 7890 128。", "6222 0212 3456 7890 128", PII_BANK_CARD},
		{"邮箱zhang.san+gv@mail.example.gov.cn，", "zhang.san+gv@mail.example.gov.cn",
		 PII_EMAIL},
		{"发送至 Li_Si@163.COM 即可", "Li_Si@163.COM", PII_EMAIL},
		{"邮箱a@b.cn。", "a@b.cn", PII_EMAIL},
		{"统一社会信用代码91350100M000100Y43。", "91350100M000100Y43", PII_USCC},
		{"护照号E12345678，", "E12345678", PII_PASSPORT},
		{"护照号G87654321，", "G87654321", PII_PASSPORT},
		{"护照号EA1234567，", "EA1234567", PII_PASSPORT},
		{"车牌京A12345，", "京A12345", PII_PLATE},
		{"车牌沪A·D12345停", "沪A·D12345", PII_PLATE},
		{"车牌粤B 1234X停", "粤B 1234X", PII_PLATE},
		{"车牌苏E12345F，", "苏E12345F", PII_PLATE},
		{"车牌琼AF1234。", "琼AF1234", PII_PLATE},
		{"来自192.168.1.1的访问", "192.168.1.1", PII_IPV4},
		{"地址0.0.0.0：8080", "0.0.0.0", PII_IPV4},
		{"地址255.255.255.255。", "255.255.255.255", PII_IPV4},
		{"主机10.1.2.3:8443已上线", "10.1.2.3", PII_IPV4},
		{"地址2001:db8::1，", "2001:db8::1", PII_IPV6},
		{"本机::1。", "::1", PII_IPV6},
		{"地址fe80::1ff:fe23:4567:890a。", "fe80::1ff:fe23:4567:890a", PII_IPV6},
		{"地址2001:0DB8:0000:0000:0000:FF00:0042:8329，", "2001:0DB8:0000:0000:0000:FF00:0042:8329",
		 PII_IPV6},
		{"地址::ffff:192.168.1.1。", "::ffff:192.168.1.1", PII_IPV6},
		{"地址[2001:db8::8]:443", "2001:db8::8", PII_IPV6},
		{"结尾2001:db8::1:", "2001:db8::1", PII_IPV6},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_one(cases[i].text, cases[i].needle, cases[i].kind);
}

static void test_near_misses(void **state)
{
	static const char *const texts[] = {
		/* resident: check character, letter case of a non-X, shape */
		"身份证11010519491231002Y。", "身份证911010519491231002X。",
		"身份证11010519491231002XA。",
		/* mobile: prefix 12/10, length, glued letters, bad grouping, unknown prefix */
		"电话12812345678。", "电话10012345678。", "电话1381234567。", "电话138123456789。",
		"电话13812345678b。", "电话138 1234 567。", "电话138-1234 5678。",
		"电话+8713812345678。", "电话 138 1234 5678 9 ",
		/* landline: area 00, number from 0/1, length */
		"电话001-23456789。", "电话010-02345678。", "电话010-234567。",
		"电话010-234567891。", "电话037612345。", "电话0376123456789。",
		/* bank card: Luhn, length, separators */
		"卡号4111111111111112。", "卡号4111 1111 1111 1112。", "卡号411111111111116。",
		"卡号4111 1111-1111 1111。", "卡号4111 1111 1111。", "卡号 2024 4111 1111 1111 1111 。",
		"卡号4111 1111 1111 1111 1111。",
		/* email */
		"邮箱user@localhost。", "邮箱user@mail.c。", "邮箱user@mail.12。", "邮箱a..b@x.com。",
		"邮箱ab.@x.com。", "邮箱a@@x.com。", "邮箱user@-x.com。", "邮箱张三@x.com。", "@", "a@",
		/* USCC */
		"代码91350100M000100Y44。", "代码91350100m000100y43。", "代码91350100M000100Y4。",
		"代码91350100M000100Y430。", "代码9135010OM000100Y43。",
		/* passport */
		"护照E1234567。", "护照G123456789。", "护照K12345678。", "护照e12345678。",
		"护照E12345678A。", "护照EA123456。",
		/* plate: unknown province, lower case, length, I/O, no digit, new-energy shape */
		"车牌东A12345。", "车牌中A12345。", "车牌京a12345。", "车牌京A1234。", "车牌京A1234567。",
		"车牌京A1234O。", "车牌京AI2345。", "车牌京ABCDE。", "车牌京AX12345。", "车牌京A12345X。",
		"车牌京A··12345。",
		/* IPv4 */
		"地址256.1.1.1。", "地址1.2.3。", "地址1.2.3.4.5。", "地址01.2.3.4。", "地址1.2.3.4a。",
		"地址1.2.3.04。", "地址a1.2.3.4。", "版本v1.2.3.4。",
		/* IPv6 */
		"地址2001:db8::1::2。", "地址12345::1。", "地址1:2:3:4:5:6:7。", "地址1:2:3:4:5:6:7:8:9。",
		"地址fe80:::1。", "地址2001:db8::1g。", "地址dead::beef。", "时间12:30:45。", "std::vector",
		"::", "地址::1g。",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		expect_none(texts[i]);
}

/* Identifiers with valid check characters that fail the other resident ID rules, and
 * 17/19-digit runs around a valid one; each chosen to fail Luhn as well, so that no
 * bank-card reading applies. */
static void test_resident_near_misses(void **state)
{
	static const char *const bodies[] = {
		"11010520990101123", /* born in 2099 */
		"11010518991231123", /* before 1900 */
		"11010519900230123", /* 30 February */
		"11010519901301123", /* month 13 */
		"99010519900101123", /* no such province */
	};
	char id[19], text[64];
	int done17 = 0, done19 = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		resident_make(bodies[k], id);
		if (luhn_ok(id, 18))
			continue;
		snprintf(text, sizeof(text), "身份证%s。", id);
		expect_none(text);
	}
	/* A valid ID with one more digit glued to it, and one cut to 17 digits. */
	for (unsigned seq = 100; seq < 200 && (!done17 || !done19); seq++) {
		char body[18], run[20];

		snprintf(body, sizeof(body), "11010519491231%03u", seq);
		resident_make(body, id);
		if (id[17] == 'X')
			continue;
		assert_true(id_resident_valid(id));
		memcpy(run, id, 18);
		run[18] = '7';
		run[19] = '\0';
		if (!done19 && !luhn_ok(run, 19)) {
			snprintf(text, sizeof(text), "号码%s。", run);
			expect_none(text);
			snprintf(text, sizeof(text), "号码7%s。", id);
			if (!luhn_ok(text + 6, 19)) {
				expect_none(text);
				done19 = 1;
			}
		}
		if (!done17 && !luhn_ok(id, 17)) {
			snprintf(text, sizeof(text), "号码%.17s。", id);
			expect_none(text);
			done17 = 1;
		}
	}
	assert_true(done17 && done19);
}

static void test_overlaps(void **state)
{
	struct hits h;
	char id[19], text[96];
	unsigned seq;

	(void)state;
	/* A mobile that is an e-mail's local part: the longer e-mail wins. */
	expect_one("联系13812345678@qq.com或", "13812345678@qq.com", PII_EMAIL);
	expect_one("联系abc.13812345678.def@x.com。", "abc.13812345678.def@x.com", PII_EMAIL);
	/* A card and an e-mail that overlap become one match over both, named by the
	 * longer: the card when the e-mail is shorter, ... */
	expect_one("卡4111 1111 1111 1111@a.cn", "4111 1111 1111 1111@a.cn", PII_BANK_CARD);
	/* ... the e-mail when it is longer, and no digit of the card is left out (the
	 * e-mail once replaced the card, leaving "4111 1111 1111" in clear). */
	expect_one("x 4111 1111 1111 1111.someonelong@example.com",
		   "4111 1111 1111 1111.someonelong@example.com", PII_EMAIL);
	/* An emitted mobile bounds the next e-mail's local part. */
	scan("13812345678.13912345678@qq.com", PII_ALL, &h);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.m[0].kind, PII_MOBILE);
	assert_int_equal(h.m[0].off, 0);
	assert_int_equal(h.m[1].kind, PII_EMAIL);
	assert_int_equal(h.m[1].off, 12);
	assert_int_equal(h.m[1].len, 18);
	/* Two e-mails and a mobile in a row, never overlapping. */
	scan("a@b.cn,c@d.cn;13812345678", PII_ALL, &h);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.m[0].off, 0);
	assert_int_equal(h.m[1].off, 7);
	assert_int_equal(h.m[2].kind, PII_MOBILE);

	/* An 18-digit resident ID that also passes Luhn: equal length, resident_id wins;
	 * with resident_id masked out, the card reading remains. */
	for (seq = 100; seq < 1000; seq++) {
		char body[18];

		snprintf(body, sizeof(body), "44030619900307%03u", seq);
		resident_make(body, id);
		if (id[17] != 'X' && luhn_ok(id, 18))
			break;
	}
	assert_true(seq < 1000);
	snprintf(text, sizeof(text), "证件%s。", id);
	expect_one(text, id, PII_RESIDENT_ID);
	scan(text, 1u << PII_BANK_CARD, &h);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.m[0].kind, PII_BANK_CARD);
	assert_int_equal(h.m[0].len, 18);
}

static void test_edges(void **state)
{
	static const char *const tails[] = {
		"1381234567", "+86", "0086", "010-", "010-123456", "(010)123456", "4111 1111 1111 111", "a@",
		"a@b", "a@b.", "a@b.c", "1.2.3.", "1.2.3", "2001:", "::", ":", "京", "京A",
		"京A·", "京A\xC2", "\xE4\xBA", "E1234567", "(010)", "@x.com",
	};
	struct hits h;
	char buf[64];

	(void)state;
	assert_int_equal(pii_scan(NULL, 0, PII_ALL, collect, &h), 0);
	assert_int_equal(pii_scan(NULL, 10, PII_ALL, NULL, NULL), 0);
	assert_int_equal(scan("", PII_ALL, &h), 0);
	assert_int_equal(scan_n("13812345678", 0, PII_ALL, &h), 0);

	/* Whole buffer, start and end. */
	expect_one("13812345678", "13812345678", PII_MOBILE);
	expect_one("11010519491231002X", "11010519491231002X", PII_RESIDENT_ID);
	expect_one("a@b.cn", "a@b.cn", PII_EMAIL);
	expect_one("::1", "::1", PII_IPV6);
	expect_one("京A12345", "京A12345", PII_PLATE);
	expect_one("1.2.3.4", "1.2.3.4", PII_IPV4);
	expect_one("+8613812345678", "+8613812345678", PII_MOBILE);
	expect_one("(010)12345678", "(010)12345678", PII_LANDLINE);
	expect_one("1.2.3.4.", "1.2.3.4", PII_IPV4); /* a sentence's full stop */
	expect_one("13812345678是手机", "13812345678", PII_MOBILE);
	expect_one("手机是13812345678", "13812345678", PII_MOBILE);

	/* A buffer cut inside an identifier finds nothing and reads nothing past its end. */
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(buf, sizeof(buf), "号码%s", tails[i]);
		expect_none(buf);
	}
	/* Every prefix of a text holding every kind, separated by spaces only ("12345678 4111"
	 * is a number and then a card, not a group before the card). */
	{
		const char *all = "京A12345 13812345678 010-12345678 4111 1111 1111 1111 a@b.cn "
				  "91350100M000100Y43 E12345678 1.2.3.4 2001:db8::1 "
				  "11010519491231002X";

		size_t n = strlen(all);

		for (size_t cut = 0; cut <= n; cut++)
			scan_n(all, cut, PII_ALL, &h);
		assert_int_equal(scan(all, PII_ALL, &h), 10);
		for (int k = 0; k < PII__COUNT; k++) {
			int seen = 0;

			for (size_t i = 0; i < h.n; i++)
				seen += h.m[i].kind == (enum pii_kind)k;
			assert_int_equal(seen, 1);
		}
	}
}

static void test_multibyte(void **state)
{
	(void)state;
	/* CJK and full-width punctuation on both sides are boundaries. */
	expect_one("（13812345678）", "13812345678", PII_MOBILE);
	expect_one("【a@b.cn】", "a@b.cn", PII_EMAIL);
	expect_one("地址“192.168.0.1”", "192.168.0.1", PII_IPV4);
	expect_one("车牌号：京A12345号", "京A12345", PII_PLATE);
	/* A province character inside a longer word, ahead of the plate. */
	expect_one("北京A12345。", "京A12345", PII_PLATE);
	/* Full-width digits are not read as identifiers. */
	expect_none("电话１３８１２３４５６７８。");
	/* Broken UTF-8 around an identifier. */
	expect_one("\xE4\xBA" "13812345678\xFF", "13812345678", PII_MOBILE);
	expect_none("\xE4\xBA\xAC" "a12345");
}

static void test_kind_mask(void **state)
{
	const char *all = "京A12345，13812345678，010-12345678，4111111111111111，a@b.cn，"
			  "91350100M000100Y43，E12345678，1.2.3.4，2001:db8::1，"
			  "11010519491231002X。";
	struct hits h;

	(void)state;
	for (int k = 0; k < PII__COUNT; k++) {
		assert_int_equal(scan(all, 1u << k, &h), 1);
		assert_int_equal(h.m[0].kind, k);
		/* Everything but k: the others, and not k. */
		assert_int_equal(scan(all, PII_ALL & ~(1u << k), &h), PII__COUNT - 1);
		for (size_t i = 0; i < h.n; i++)
			assert_int_not_equal(h.m[i].kind, k);
	}
	assert_int_equal(scan(all, 0, &h), 0);
	assert_int_equal(scan(all, ~PII_ALL, &h), 0);
	assert_int_equal(scan(all, ~0u, &h), PII__COUNT);
	/* The e-mail disabled: the mobile in its local part is reported. */
	assert_int_equal(scan("13812345678@qq.com", PII_ALL & ~(1u << PII_EMAIL), &h), 1);
	assert_int_equal(h.m[0].kind, PII_MOBILE);
}

static int stop_at_two(void *ctx, const struct pii_match *m)
{
	size_t *n = ctx;

	(void)m;
	return ++*n == 2;
}

static void test_stop_and_count(void **state)
{
	const char *text = "13812345678 13912345678 13712345678";
	size_t n = 0;

	(void)state;
	assert_int_equal(pii_scan(text, strlen(text), PII_ALL, stop_at_two, &n), 2);
	assert_int_equal(n, 2);
	assert_int_equal(pii_scan(text, strlen(text), PII_ALL, NULL, NULL), 3);
}

static void test_names(void **state)
{
	(void)state;
	for (int k = 0; k < PII__COUNT; k++)
		assert_int_equal(pii_kind_parse(pii_kind_name((enum pii_kind)k)), k);
	assert_string_equal(pii_kind_name(PII_BANK_CARD), "bank_card");
	assert_string_equal(pii_kind_name(PII_IPV6), "ipv6");
	assert_string_equal(pii_kind_name(PII__COUNT), "unknown");
	assert_int_equal(pii_kind_parse("name"), -1);
	assert_int_equal(pii_kind_parse(""), -1);
	assert_int_equal(pii_kind_parse(NULL), -1);
}

/* ---- generated labelled corpus ---- */

#define CORPUS_PER_KIND 5000

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32) % n;
}

static char rdigit(void)
{
	return (char)('0' + rnd(10));
}

static char rpick(const char *set)
{
	return set[rnd((uint32_t)strlen(set))];
}

static void rdigits(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rdigit();
}

struct gbuf {
	char *p;
	size_t len, cap;
};

static void gb_put(struct gbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1 << 20;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void gb_puts(struct gbuf *b, const char *s)
{
	gb_put(b, s, strlen(s));
}

/* Accidental validity as a checksum kind, for rejecting generated near misses (and
 * ambiguous positives): an all-digit word of 16-19 is a card when Luhn passes. */
static int other_checksum_kind(const char *s)
{
	size_t n = strlen(s);

	if (n >= 16 && n <= 19 && id_bank_card_valid(s))
		return 1;
	if (n == 18 && (id_uscc_valid(s) || id_resident_valid(s)))
		return 1;
	return 0;
}

static const char *const provinces_ok = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
static const char *const provinces_bad = "东南西北中国人民大小上下";
static const char plate_letters[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";

static void gen_resident_valid(char out[19])
{
	static const int regions[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35,
				      36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
				      61, 62, 63, 64, 65, 71, 81, 82, 83};
	char body[18];

	snprintf(body, sizeof(body), "%02d%04u%04u%02u%02u%03u",
		 regions[rnd(sizeof(regions) / sizeof(regions[0]))], rnd(10000), 1900 + rnd(124),
		 1 + rnd(12), 1 + rnd(28), rnd(1000));
	resident_make(body, out);
}

static void gen_resident_near(char *out, size_t cap)
{
	static const char *const bad_regions[] = {"00", "10", "16", "20", "24", "30", "38", "40",
						  "47", "55", "60", "66", "70", "72", "80", "84",
						  "90", "99"};
	char id[19], body[18];

	do {
		gen_resident_valid(id);
		memcpy(body, id, 17);
		body[17] = '\0';
		switch (rnd(8)) {
		case 0: /* wrong check character */
			do
				id[17] = rpick("0123456789X");
			while (id[17] == resident_check_char(body));
			snprintf(out, cap, "%s", id);
			break;
		case 1: /* born in the future */
			memcpy(body + 6, "209", 3);
			body[9] = rdigit();
			resident_make(body, id);
			snprintf(out, cap, "%s", id);
			break;
		case 2: /* not a calendar date: month 13-19, or 30/31 February */
			if (rnd(2)) {
				body[10] = '1';
				body[11] = (char)('3' + rnd(7));
			} else {
				memcpy(body + 10, rnd(2) ? "0230" : "0231", 4);
			}
			resident_make(body, id);
			snprintf(out, cap, "%s", id);
			break;
		case 3: /* region outside the province list */
			memcpy(body, bad_regions[rnd(sizeof(bad_regions) / sizeof(bad_regions[0]))], 2);
			resident_make(body, id);
			snprintf(out, cap, "%s", id);
			break;
		case 4: /* before 1900 */
			memcpy(body + 6, "18", 2);
			resident_make(body, id);
			snprintf(out, cap, "%s", id);
			break;
		case 5: /* a digit glued on: 19 characters */
			if (rnd(2))
				snprintf(out, cap, "%c%s", rdigit(), id);
			else
				snprintf(out, cap, "%s%c", id, rdigit());
			break;
		case 6: /* 17 digits */
			snprintf(out, cap, "%.17s", id);
			break;
		default: /* an ASCII letter glued on after it (before it, a label: still an ID) */
			snprintf(out, cap, "%s%c", id, rpick("abcXYZ"));
			break;
		}
	} while (other_checksum_kind(out));
}

static void gen_mobile_body(char out[12])
{
	out[0] = '1';
	out[1] = (char)('3' + rnd(7));
	rdigits(out + 2, 9);
	out[11] = '\0';
}

static void gen_mobile_valid(char *out, size_t cap)
{
	char m[12];
	char sep = rnd(2) ? ' ' : '-';

	gen_mobile_body(m);
	switch (rnd(10)) {
	case 0:
		snprintf(out, cap, "+86%s", m);
		break;
	case 1:
		snprintf(out, cap, "0086%s", m);
		break;
	case 2:
		snprintf(out, cap, "+86%c%s", sep, m);
		break;
	case 3:
	case 4:
		snprintf(out, cap, "%.3s%c%.4s%c%.4s", m, sep, m + 3, sep, m + 7);
		break;
	default:
		snprintf(out, cap, "%s", m);
		break;
	}
}

static void gen_mobile_near(char *out, size_t cap)
{
	char m[12];

	gen_mobile_body(m);
	switch (rnd(7)) {
	case 0: /* 10, 11 or 12 */
		m[1] = (char)('0' + rnd(3));
		snprintf(out, cap, "%s", m);
		break;
	case 1: /* 10 digits */
		snprintf(out, cap, "%.10s", m);
		break;
	case 2: /* 12 digits */
		snprintf(out, cap, "%s%c", m, rdigit());
		break;
	case 3: /* a letter glued on after it (before it, a label: still a mobile) */
		snprintf(out, cap, "%s%c", m, rpick("abTel"));
		break;
	case 4: /* 3-4-3 or mixed separators */
		if (rnd(2))
			snprintf(out, cap, "%.3s %.4s %.3s", m, m + 3, m + 7);
		else
			snprintf(out, cap, "%.3s-%.4s %.4s", m, m + 3, m + 7);
		break;
	case 5: /* another country's prefix */
		snprintf(out, cap, "%s%s", rnd(2) ? "+87" : "0087", m);
		break;
	default: /* 3-4-5 */
		snprintf(out, cap, "%.3s-%.4s-%.4s%c", m, m + 3, m + 7, rdigit());
		break;
	}
}

/* Area code: 010 / 02x, or 0 + [3-9]xx. */
static size_t gen_area(char out[5])
{
	if (rnd(2)) {
		out[0] = '0';
		out[1] = rnd(4) ? '2' : '1';
		out[2] = out[1] == '1' ? '0' : rdigit();
		out[3] = '\0';
		return 3;
	}
	out[0] = '0';
	out[1] = (char)('3' + rnd(7));
	out[2] = rdigit();
	out[3] = rdigit();
	out[4] = '\0';
	return 4;
}

static void gen_landline_valid(char *out, size_t cap)
{
	char area[5], num[9], ext[8] = "";
	size_t alen = gen_area(area), nlen = alen == 3 ? 8 : 7 + rnd(2);

	num[0] = (char)('1' + rnd(9));
	rdigits(num + 1, nlen - 1);
	num[nlen] = '\0';
	if (rnd(10) == 0)
		snprintf(ext, sizeof(ext), "-%u", 1 + rnd(9999));
	switch (rnd(20)) {
	case 0:
	case 1:
	case 2:
	case 3:
		snprintf(out, cap, "%s%s%s", area, num, ext);
		break;
	case 4:
	case 5:
	case 6:
		snprintf(out, cap, "%s %s%s", area, num, ext);
		break;
	case 7:
	case 8:
		snprintf(out, cap, "(%s)%s%s%s", area, rnd(2) ? " " : "", num, ext);
		break;
	default:
		snprintf(out, cap, "%s-%s%s", area, num, ext);
		break;
	}
}

static void gen_landline_near(char *out, size_t cap)
{
	char area[5], num[12];
	size_t alen = gen_area(area);

	num[0] = (char)('2' + rnd(8));
	rdigits(num + 1, 10);
	switch (rnd(5)) {
	case 0: /* number starts with 0 */
		num[0] = '0';
		num[alen == 3 ? 8 : 7] = '\0';
		snprintf(out, cap, "%s-%s", area, num);
		break;
	case 1: /* 5-6 digit number */
		num[5 + rnd(2)] = '\0';
		snprintf(out, cap, "%s-%s", area, num);
		break;
	case 2: /* 9 digit number */
		num[9] = '\0';
		snprintf(out, cap, "%s-%s", area, num);
		break;
	case 3: /* area code 00x */
		num[8] = '\0';
		snprintf(out, cap, "00%c-%s", rdigit(), num);
		break;
	default: /* unseparated, wrong total length */
		num[alen == 3 ? 6 : 9] = '\0';
		snprintf(out, cap, "%s%s", area, num);
		break;
	}
}

static void gen_card_digits(char *d, size_t n)
{
	static const char *const iins[] = {"62", "4", "5", "35", "9"};
	const char *iin = iins[rnd(sizeof(iins) / sizeof(iins[0]))];
	size_t k = strlen(iin);

	memcpy(d, iin, k);
	rdigits(d + k, n - 1 - k);
	d[n - 1] = luhn_check_digit(d, n - 1);
	d[n] = '\0';
}

static void group_digits(const char *d, char sep, char *out, size_t cap)
{
	size_t n = strlen(d), o = 0;

	for (size_t i = 0; i < n && o + 2 < cap; i++) {
		if (i && i % 4 == 0)
			out[o++] = sep;
		out[o++] = d[i];
	}
	out[o] = '\0';
}

static void gen_bank_valid(char *out, size_t cap)
{
	char d[20];

	do
		gen_card_digits(d, 16 + rnd(4));
	while (id_resident_valid(d) || id_uscc_valid(d));
	if (rnd(10) < 3)
		group_digits(d, rnd(2) ? ' ' : '-', out, cap);
	else
		snprintf(out, cap, "%s", d);
}

static void gen_bank_near(char *out, size_t cap)
{
	char d[22];
	size_t n;

	do {
		switch (rnd(5)) {
		case 0: /* Luhn fails */
		case 1:
			n = 16 + rnd(4);
			gen_card_digits(d, n);
			d[n - 1] = (char)('0' + (d[n - 1] - '0' + 1 + rnd(9)) % 10);
			if (rnd(2))
				snprintf(out, cap, "%s", d);
			else
				group_digits(d, ' ', out, cap);
			break;
		case 2: /* Luhn passes, 15 or 20 digits */
			gen_card_digits(d, rnd(2) ? 15 : 20);
			if (rnd(2))
				snprintf(out, cap, "%s", d);
			else
				group_digits(d, '-', out, cap);
			break;
		case 3: /* mixed separators */
			gen_card_digits(d, 16);
			snprintf(out, cap, "%.4s %.4s-%.4s %.4s", d, d + 4, d + 8, d + 12);
			break;
		default: /* three groups */
			gen_card_digits(d, 12);
			group_digits(d, ' ', out, cap);
			break;
		}
	} while (other_checksum_kind(out));
}

static void gen_label(char *p, size_t n, const char *set)
{
	p[0] = rpick("abcdefghijklmnopqrstuvwxyz0123456789");
	for (size_t i = 1; i < n; i++)
		p[i] = rpick(set);
	if (n > 1 && p[n - 1] == '-')
		p[n - 1] = 'x';
	p[n] = '\0';
}

static void gen_email_valid(char *out, size_t cap)
{
	static const char *const tlds[] = {"com", "cn", "net", "org", "gov.cn", "edu.cn", "com.cn", "io"};
	char local[20], d1[12], d2[12];
	size_t ln = 1 + rnd(16);

	local[0] = rpick("abcdefghijklmnopqrstuvwxyz0123456789");
	for (size_t i = 1; i < ln; i++) {
		local[i] = rpick("abcdefghijklmnopqrstuvwxyz0123456789abcxyz._+-");
		if (local[i] == '.' && local[i - 1] == '.')
			local[i] = 'q';
	}
	if (local[ln - 1] == '.')
		local[ln - 1] = 'z';
	local[ln] = '\0';
	gen_label(d1, 2 + rnd(9), "abcdefghijklmnopqrstuvwxyz0123456789-");
	gen_label(d2, 2 + rnd(6), "abcdefghijklmnopqrstuvwxyz");
	if (rnd(3) == 0)
		snprintf(out, cap, "%s@%s.%s.%s", local, d1, d2, tlds[rnd(8)]);
	else
		snprintf(out, cap, "%s@%s.%s", local, d1, tlds[rnd(8)]);
	if (rnd(8) == 0)
		for (char *p = out; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
}

static void gen_email_near(char *out, size_t cap)
{
	char u[10], d[10];

	gen_label(u, 3 + rnd(6), "abcdefghijklmnopqrstuvwxyz");
	gen_label(d, 3 + rnd(6), "abcdefghijklmnopqrstuvwxyz");
	u[0] = rpick("abcdefghijklmnopqrstuvwxyz");
	switch (rnd(8)) {
	case 0:
		snprintf(out, cap, "%s@%s", u, d); /* no dot */
		break;
	case 1:
		snprintf(out, cap, "%s@%s.%c", u, d, rpick("abcdefghijklmnopqrstuvwxyz"));
		break;
	case 2:
		snprintf(out, cap, "%s@%s.%u", u, d, 10 + rnd(90)); /* numeric TLD */
		break;
	case 3:
		snprintf(out, cap, "%.2s..%s@%s.com", u, u + 2, d);
		break;
	case 4:
		snprintf(out, cap, "%s.@%s.com", u, d);
		break;
	case 5:
		snprintf(out, cap, "%s@@%s.cn", u, d);
		break;
	case 6:
		snprintf(out, cap, "%s@-%s.cn", u, d);
		break;
	default:
		snprintf(out, cap, "张三@%s.com", d); /* no ASCII local part */
		break;
	}
}

static void gen_uscc_valid(char out[19])
{
	char body[18];

	do {
		body[0] = rpick("123456789ANY");
		body[1] = rpick("12359");
		rdigits(body + 2, 6);
		for (int i = 8; i < 17; i++)
			body[i] = rnd(3) ? rdigit() : rpick(uscc_alphabet);
		body[17] = '\0';
		memcpy(out, body, 17);
		out[17] = uscc_check_char(body);
		out[18] = '\0';
	} while (id_resident_valid(out) || id_bank_card_valid(out));
}

static void gen_uscc_near(char *out, size_t cap)
{
	char code[19], body[18];

	do {
		gen_uscc_valid(code);
		memcpy(body, code, 17);
		body[17] = '\0';
		switch (rnd(6)) {
		case 0: /* wrong check character */
			do
				code[17] = rpick(uscc_alphabet);
			while (code[17] == uscc_check_char(body));
			snprintf(out, cap, "%s", code);
			break;
		case 1: /* lower case (made to hold a letter) */
			code[9] = rpick("ABCDEFGHJKLMNPQRTUWXY");
			body[9] = code[9];
			code[17] = uscc_check_char(body);
			for (int i = 0; i < 18; i++)
				if (code[i] >= 'A' && code[i] <= 'Z')
					code[i] = (char)(code[i] - 'A' + 'a');
			snprintf(out, cap, "%s", code);
			break;
		case 2: /* a letter in the area code, check recomputed */
			body[2 + rnd(6)] = rpick("ABCDEFGHJKLMNPQRTUWXY");
			memcpy(code, body, 17);
			code[17] = uscc_check_char(body);
			snprintf(out, cap, "%s", code);
			break;
		case 3: /* a letter outside the alphabet */
			code[8 + rnd(9)] = rpick("IOSVZ");
			snprintf(out, cap, "%s", code);
			break;
		case 4: /* 17 characters */
			snprintf(out, cap, "%.17s", code);
			break;
		default: /* 19 characters */
			snprintf(out, cap, "%s%c", code, rpick(uscc_alphabet));
			break;
		}
	} while (other_checksum_kind(out));
}

static void gen_passport_valid(char *out, size_t cap)
{
	char d[9];

	rdigits(d, 8);
	d[8] = '\0';
	if (rnd(3) == 0)
		snprintf(out, cap, "E%c%.7s", rpick(plate_letters), d);
	else
		snprintf(out, cap, "%c%s", rnd(2) ? 'E' : 'G', d);
}

static void gen_passport_near(char *out, size_t cap)
{
	char d[10];

	rdigits(d, 9);
	d[9] = '\0';
	switch (rnd(6)) {
	case 0:
		snprintf(out, cap, "%c%.7s", rnd(2) ? 'E' : 'G', d);
		break;
	case 1:
		snprintf(out, cap, "%c%s", rnd(2) ? 'E' : 'G', d);
		break;
	case 2:
		snprintf(out, cap, "%c%.8s", rpick("DKPSH"), d);
		break;
	case 3:
		snprintf(out, cap, "%c%.8s", rnd(2) ? 'e' : 'g', d);
		break;
	case 4:
		snprintf(out, cap, "E%.8s%c", d, rpick("ABab"));
		break;
	default:
		snprintf(out, cap, "E%c%.6s", rpick(plate_letters), d);
		break;
	}
}

static void gen_serial5(char s[6])
{
	do {
		int digits = 0;

		for (int i = 0; i < 5; i++) {
			s[i] = rnd(3) ? rdigit() : rpick("ABCDEFGHJKLMNPQRSTUVWXYZ");
			digits += s[i] >= '0' && s[i] <= '9';
		}
		if (digits)
			break;
	} while (1);
	s[5] = '\0';
}

static void gen_plate_valid(char *out, size_t cap)
{
	char serial[8];
	size_t p = 3 * rnd((uint32_t)strlen(provinces_ok) / 3);
	const char *sep = "";

	if (rnd(10) < 2) {
		char d[5];

		rdigits(d, 4);
		if (rnd(2))
			snprintf(serial, sizeof(serial), "%c%c%.4s", rpick("DF"),
				 rnd(2) ? rdigit() : rpick(plate_letters), d);
		else
			snprintf(serial, sizeof(serial), "%.4s%c%c", d, rdigit(), rpick("DF"));
	} else {
		gen_serial5(serial);
	}
	switch (rnd(10)) {
	case 0:
	case 1:
		sep = "·";
		break;
	case 2:
		sep = " ";
		break;
	default:
		break;
	}
	snprintf(out, cap, "%.3s%c%s%s", provinces_ok + p, rpick(plate_letters), sep, serial);
}

static void gen_plate_near(char *out, size_t cap)
{
	char serial[8], d[8];
	size_t p = 3 * rnd((uint32_t)strlen(provinces_ok) / 3);
	size_t b = 3 * rnd((uint32_t)strlen(provinces_bad) / 3);

	gen_serial5(serial);
	rdigits(d, 7);
	switch (rnd(7)) {
	case 0: /* not a province */
		snprintf(out, cap, "%.3s%c%s", provinces_bad + b, rpick(plate_letters), serial);
		break;
	case 1: /* lower-case authority letter */
		snprintf(out, cap, "%.3s%c%s", provinces_ok + p, rpick("abcdefgh"), serial);
		break;
	case 2: /* 4-character serial */
		snprintf(out, cap, "%.3s%c%.4s", provinces_ok + p, rpick(plate_letters), d);
		break;
	case 3: /* 7-character serial */
		snprintf(out, cap, "%.3s%c%.7s", provinces_ok + p, rpick(plate_letters), d);
		break;
	case 4: /* I or O in the serial */
		serial[rnd(5)] = rpick("IO");
		snprintf(out, cap, "%.3s%c%s", provinces_ok + p, rpick(plate_letters), serial);
		break;
	case 5: /* no digit */
		for (int i = 0; i < 5; i++)
			serial[i] = rpick("ABCDEFGHJKLMNPQRSTUVWXYZ");
		snprintf(out, cap, "%.3s%c%s", provinces_ok + p, rpick(plate_letters), serial);
		break;
	default: /* six characters, not a new-energy shape */
		snprintf(out, cap, "%.3s%c%c%.5s", provinces_ok + p, rpick(plate_letters),
			 rpick("ABCGHJKXYZ"), d);
		break;
	}
}

static void gen_ipv4_valid(char *out, size_t cap)
{
	snprintf(out, cap, "%u.%u.%u.%u", rnd(256), rnd(256), rnd(256), rnd(256));
}

static void gen_ipv4_near(char *out, size_t cap)
{
	unsigned o[5] = {rnd(256), rnd(256), rnd(256), rnd(256), rnd(256)};

	switch (rnd(4)) {
	case 0:
		o[rnd(4)] = 256 + rnd(744);
		snprintf(out, cap, "%u.%u.%u.%u", o[0], o[1], o[2], o[3]);
		break;
	case 1:
		snprintf(out, cap, "%u.%u.%u", o[0], o[1], o[2]);
		break;
	case 2:
		snprintf(out, cap, "%u.%u.%u.%u.%u", o[0], o[1], o[2], o[3], o[4]);
		break;
	default:
		snprintf(out, cap, "%u.0%u.%u.%u", o[0], rnd(10), o[2], o[3]);
		break;
	}
}

static void gen_ipv6_valid(char *out, size_t cap)
{
	unsigned char a[16];
	char text[64];

	do {
		for (int i = 0; i < 16; i++)
			a[i] = (unsigned char)rnd(256);
		switch (rnd(10)) {
		case 0: /* IPv4-mapped */
			memset(a, 0, 10);
			a[10] = a[11] = 0xff;
			break;
		case 1: /* short, like ::1 or fe80::x */
			memset(a + 2, 0, 12);
			if (rnd(2))
				a[0] = a[1] = 0;
			break;
		default: { /* a run of zero groups, compressed by inet_ntop */
			unsigned g = rnd(8), n = rnd(5);

			for (unsigned k = g; k < g + n && k < 8; k++)
				a[2 * k] = a[2 * k + 1] = 0;
			break;
		}
		}
		assert_non_null(inet_ntop(AF_INET6, a, text, sizeof(text)));
		if (rnd(10) == 0) /* full form with leading zeros */
			snprintf(text, sizeof(text), "%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
				 "%02x%02x:%02x%02x:%02x%02x:%02x%02x", a[0], a[1], a[2], a[3],
				 a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
				 a[14], a[15]);
		if (rnd(5) == 0)
			for (char *p = text; *p; p++)
				if (*p >= 'a' && *p <= 'f')
					*p = (char)(*p - 'a' + 'A');
	} while (strpbrk(text, "0123456789") == NULL); /* the scanner wants a digit */
	snprintf(out, cap, "%s", text);
}

static void gen_ipv6_near(char *out, size_t cap)
{
	unsigned g[9];

	for (int i = 0; i < 9; i++)
		g[i] = rnd(0x10000);
	switch (rnd(6)) {
	case 0: /* two :: */
		snprintf(out, cap, "%x:%x::%x::%x", g[0], g[1], g[2], g[3]);
		break;
	case 1: /* a 5-digit group */
		snprintf(out, cap, "%x:%x:1%04x::%x", g[0], g[1], g[2], g[3]);
		break;
	case 2: /* 7 groups */
		snprintf(out, cap, "%x:%x:%x:%x:%x:%x:%x", g[0], g[1], g[2], g[3], g[4], g[5], g[6]);
		break;
	case 3: /* 9 groups */
		snprintf(out, cap, "%x:%x:%x:%x:%x:%x:%x:%x:%x", g[0], g[1], g[2], g[3], g[4], g[5],
			 g[6], g[7], g[8]);
		break;
	case 4: /* ::: */
		snprintf(out, cap, "%x:::%x", g[0], g[1] | 1);
		break;
	default: /* a non-hex letter glued on */
		snprintf(out, cap, "%x:%x::%x%c", g[0], g[1], g[2], rpick("ghkz"));
		break;
	}
}

/* Filler: government-style Chinese with numbers, dates, times and ASCII inside; every
 * piece starts and ends with a CJK character so that it never joins an identifier. */
static const char *const fillers[] = {
	"根据《个人信息保护法》第13条规定",
	"经办人于2023年5月12日受理",
	"金额合计1234.50元整",
	"会议定于14:30在三楼召开",
	"系统版本v2.1.0已上线",
	"编号No.2023051201号",
	"共计3页附件",
	"请于5个工作日内办理",
	"按照MLPS 2.0三级要求",
	"访问量达到1200次",
	"比例为12.5%左右",
	"截至2024年底",
	"申请材料齐全",
	"该事项已办结",
	"详见附件A第2节",
	"联系人李四",
	"办理结果如下",
	"数据分级为第3级",
	"第4季度报告",
	"共256项指标",
	"地址为河南省信阳市浉河区",
	"经审核符合要求",
	"备注无",
	"时间戳1700000000秒",
	"上午9:00至下午5:30受理",
};

/* Numbers and punctuation that are no identifier by the rules: dates, times, amounts,
 * versions, URLs, mentions, hex, and digit runs of lengths no digit kind has (a first
 * digit of 1-9, so never a landline). */
static void gen_noise(char *out, size_t cap)
{
	static const unsigned run_lengths[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 20, 24};
	char d[32];
	unsigned n;

	switch (rnd(9)) {
	case 0:
		snprintf(out, cap, "%u-%02u-%02u", 1990 + rnd(40), 1 + rnd(12), 1 + rnd(28));
		break;
	case 1:
		snprintf(out, cap, "%02u:%02u:%02u", rnd(24), rnd(60), rnd(60));
		break;
	case 2:
		snprintf(out, cap, "%u,%03u,%03u.%02u", 1 + rnd(999), rnd(1000), rnd(1000), rnd(100));
		break;
	case 3:
		snprintf(out, cap, "v%u.%u.%u", rnd(10), rnd(20), rnd(100));
		break;
	case 4:
		snprintf(out, cap, "https://www.example.gov.cn/zwgk/%u/%02u/content_%u.html",
			 2000 + rnd(25), 1 + rnd(12), rnd(1000000));
		break;
	case 5:
		snprintf(out, cap, "@李四 @wang%u", rnd(1000));
		break;
	case 6:
		snprintf(out, cap, "0x%X", rnd(0x10000));
		break;
	case 7:
		snprintf(out, cap, "%u.%u.%u", rnd(256), rnd(256), rnd(256));
		break;
	default:
		n = run_lengths[rnd(sizeof(run_lengths) / sizeof(run_lengths[0]))];
		d[0] = (char)('1' + rnd(9));
		rdigits(d + 1, n - 1);
		d[n] = '\0';
		snprintf(out, cap, "%s", d);
		break;
	}
}

static const char *const seps[] = {"，", "：", " ", "。", "、", "；", "\n", "（", "）", "【", "】", "“", "”"};

typedef void (*gen_fn)(char *out, size_t cap);

static void gen_resident_valid_any(char *out, size_t cap)
{
	char id[19];

	gen_resident_valid(id);
	snprintf(out, cap, "%s", id);
}

static void gen_uscc_valid_any(char *out, size_t cap)
{
	char code[19];

	gen_uscc_valid(code);
	snprintf(out, cap, "%s", code);
}

static const gen_fn gen_valid[PII__COUNT] = {
	[PII_RESIDENT_ID] = gen_resident_valid_any,
	[PII_MOBILE] = gen_mobile_valid,
	[PII_LANDLINE] = gen_landline_valid,
	[PII_BANK_CARD] = gen_bank_valid,
	[PII_EMAIL] = gen_email_valid,
	[PII_USCC] = gen_uscc_valid_any,
	[PII_PASSPORT] = gen_passport_valid,
	[PII_PLATE] = gen_plate_valid,
	[PII_IPV4] = gen_ipv4_valid,
	[PII_IPV6] = gen_ipv6_valid,
};

static const gen_fn gen_near[PII__COUNT] = {
	[PII_RESIDENT_ID] = gen_resident_near,
	[PII_MOBILE] = gen_mobile_near,
	[PII_LANDLINE] = gen_landline_near,
	[PII_BANK_CARD] = gen_bank_near,
	[PII_EMAIL] = gen_email_near,
	[PII_USCC] = gen_uscc_near,
	[PII_PASSPORT] = gen_passport_near,
	[PII_PLATE] = gen_plate_near,
	[PII_IPV4] = gen_ipv4_near,
	[PII_IPV6] = gen_ipv6_near,
};

struct label {
	size_t off, len;
	enum pii_kind kind;
};

struct score {
	const struct label *labels;
	size_t nlabels, next;
	unsigned char *matched;
	size_t tp[PII__COUNT], fp[PII__COUNT], found[PII__COUNT];
	const char *text;
};

/* Matches and labels both come in increasing offset: merge them. */
static int score_match(void *ctx, const struct pii_match *m)
{
	struct score *s = ctx;

	s->found[m->kind]++;
	while (s->next < s->nlabels && s->labels[s->next].off < m->off)
		s->next++;
	if (s->next < s->nlabels && s->labels[s->next].off == m->off &&
	    s->labels[s->next].len == m->len && s->labels[s->next].kind == m->kind) {
		s->matched[s->next] = 1;
		s->tp[m->kind]++;
	} else {
		if (s->fp[m->kind] < 3)
			print_message("false positive %s: %.*s\n", pii_kind_name(m->kind), (int)m->len,
				      s->text + m->off);
		s->fp[m->kind]++;
	}
	return 0;
}

static void test_corpus(void **state)
{
	const size_t nitems = 2 * CORPUS_PER_KIND * PII__COUNT;
	uint32_t *items = malloc(nitems * sizeof(*items));
	struct label *labels = malloc(nitems * sizeof(*labels));
	struct score sc = {.nlabels = 0};
	struct gbuf text = {.p = NULL};
	size_t nlabels = 0, pos[PII__COUNT] = {0}, fn[PII__COUNT] = {0};
	char id[128];

	(void)state;
	assert_non_null(items);
	assert_non_null(labels);
	/* Item i: kind i % PII__COUNT, valid when (i / PII__COUNT) is even; shuffled. */
	for (size_t i = 0; i < nitems; i++)
		items[i] = (uint32_t)i;
	for (size_t i = nitems - 1; i > 0; i--) {
		size_t j = rnd((uint32_t)(i + 1));
		uint32_t tmp = items[i];

		items[i] = items[j];
		items[j] = tmp;
	}
	for (size_t i = 0; i < nitems; i++) {
		enum pii_kind k = (enum pii_kind)(items[i] % PII__COUNT);
		int valid = (items[i] / PII__COUNT) % 2 == 0;

		gb_puts(&text, fillers[rnd(sizeof(fillers) / sizeof(fillers[0]))]);
		gb_puts(&text, seps[rnd(sizeof(seps) / sizeof(seps[0]))]);
		gen_noise(id, sizeof(id));
		gb_puts(&text, id);
		gb_puts(&text, "，");
		(valid ? gen_valid : gen_near)[k](id, sizeof(id));
		if (valid) {
			labels[nlabels].off = text.len;
			labels[nlabels].len = strlen(id);
			labels[nlabels].kind = k;
			nlabels++;
			pos[k]++;
		}
		gb_puts(&text, id);
		gb_puts(&text, seps[rnd(sizeof(seps) / sizeof(seps[0]))]);
	}
	gb_puts(&text, fillers[0]);

	sc.labels = labels;
	sc.nlabels = nlabels;
	sc.matched = calloc(nlabels, 1);
	sc.text = text.p;
	assert_non_null(sc.matched);
	pii_scan(text.p, text.len, PII_ALL, score_match, &sc);
	for (size_t i = 0; i < nlabels; i++) {
		if (sc.matched[i])
			continue;
		if (fn[labels[i].kind] < 3)
			print_message("missed %s: %.*s\n", pii_kind_name(labels[i].kind),
				      (int)labels[i].len, text.p + labels[i].off);
		fn[labels[i].kind]++;
	}

	printf("PII corpus: %zu bytes, %zu valid identifiers, %zu near misses, %zu noise "
	       "numbers (seed fixed)\n", text.len, nlabels, nitems - nlabels, nitems);
	printf("%-12s %6s %6s %6s %6s %6s %10s %8s\n", "kind", "valid", "found", "TP", "FP", "FN",
	       "precision", "recall");
	for (int k = 0; k < PII__COUNT; k++) {
		double precision = sc.found[k] ? (double)sc.tp[k] / (double)sc.found[k] : 1.0;
		double recall = pos[k] ? (double)sc.tp[k] / (double)pos[k] : 1.0;

		printf("%-12s %6zu %6zu %6zu %6zu %6zu %10.4f %8.4f\n", pii_kind_name((enum pii_kind)k),
		       pos[k], sc.found[k], sc.tp[k], sc.fp[k], fn[k], precision, recall);
		assert_int_equal(pos[k], CORPUS_PER_KIND);
		assert_true(recall >= 1.0);
		assert_true(precision >= 0.99);
	}
	free(sc.matched);
	free(text.p);
	free(labels);
	free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_sentence),
		cmocka_unit_test(test_each_kind),
		cmocka_unit_test(test_near_misses),
		cmocka_unit_test(test_resident_near_misses),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_multibyte),
		cmocka_unit_test(test_kind_mask),
		cmocka_unit_test(test_stop_and_count),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
