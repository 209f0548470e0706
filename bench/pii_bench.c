/* pii_bench.c - the PII scanner against a PCRE2 JIT scan, same text, same run.
 *   pii_bench MIB SECONDS
 * Generates MIB MiB of mixed Chinese/ASCII text (government-style sentences with dates,
 * amounts, times, versions and URLs; about one identifier per 190 bytes, a tenth of them
 * with a wrong last character), then scans it repeatedly for SECONDS each with
 *   pii_scan(all kinds)   shapes, boundaries and checksums (resident ID, USCC, Luhn,
 *                         calendar dates, inet_pton)
 *   PCRE2 JIT             one alternation of the same shapes with the same boundaries
 *                         but no checksum, matched with pcre2_jit_match in a loop
 * and prints, one "name value" per line: text_bytes, identifiers, pii_mb_per_s,
 * pcre2_jit_mb_per_s, pii_matches, pcre2_matches (matches per pass).  bench/pii_bench.py
 * prints them as a table. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mask/pii.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "pii_bench: %s\n", what);
	exit(1);
}

/* ---- text ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

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

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const char provinces[] = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

static const char *const sentences[] = {
	"根据《中华人民共和国个人信息保护法》第十三条的规定，本机关在履行法定职责所必需的范围内处理相关信息",
	"经办人于2023年5月12日受理该申请，材料齐全，符合法定形式，予以受理",
	"请申请人于5个工作日内携带本人有效证件原件到政务服务中心三楼B区12号窗口办理",
	"本次共核查数据1,234,567条，发现问题记录356条，整改完成率为98.7%",
	"会议定于14:30在市政府第二会议室召开，请各单位主要负责同志准时参加",
	"系统已升级至v2.1.0版本，详见https://www.example.gov.cn/zwgk/2024/03/content_6938.html",
	"The applicant submitted the form online and asked for a reply by e-mail within 10 working days",
	"依据信阳市政务数据安全管理办法，对第3级数据实施加密存储和访问审计",
	"来电反映小区供暖不足问题，已转交市住建局处理，办理时限为15个工作日",
	"Reference No. 2024-0315-0042, status: approved, reviewer: Li Si",
	"根据群众反映，该路段夜间照明不足，建议增设路灯12盏，预计投资8.5万元",
	"低保审核结果已于2024年3月1日公示，公示期7天，无异议后发放",
};

static void resident(char *o, size_t cap)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const int regions[] = {11, 31, 32, 33, 37, 41, 42, 44, 51, 61};
	char b[19];
	int s = 0;

	snprintf(b, sizeof(b), "%02d%04u%04u%02u%02u%03u", regions[rnd(10)], rnd(10000),
		 1940 + rnd(80), 1 + rnd(12), 1 + rnd(28), rnd(1000));
	for (int i = 0; i < 17; i++)
		s += (b[i] - '0') * w[i];
	b[17] = "10X98765432"[s % 11];
	b[18] = '\0';
	snprintf(o, cap, "%s", b);
}

static void mobile(char *o, size_t cap)
{
	snprintf(o, cap, "1%c%c%04u%04u", '3' + rnd(7), rdigit(), rnd(10000), rnd(10000));
}

static void landline(char *o, size_t cap)
{
	if (rnd(2))
		snprintf(o, cap, "0%u-%u%07u", 10 + rnd(20), 2 + rnd(8), rnd(10000000));
	else
		snprintf(o, cap, "0%u-%u%06u", 300 + rnd(700), 2 + rnd(8), rnd(1000000));
}

static void bank_card(char *o, size_t cap)
{
	char d[20];
	int n = 16 + (int)rnd(4), s = 0;

	d[0] = '6';
	d[1] = '2';
	for (int i = 2; i < n - 1; i++)
		d[i] = rdigit();
	for (int i = n - 2, k = 0; i >= 0; i--, k++) {
		int v = d[i] - '0';

		if (k % 2 == 0)
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		s += v;
	}
	d[n - 1] = (char)('0' + (10 - s % 10) % 10);
	d[n] = '\0';
	snprintf(o, cap, "%s", d);
}

static void email(char *o, size_t cap)
{
	static const char *const users[] = {"zhangsan", "li.si", "wang_wu", "zhaoliu88", "service"};
	static const char *const hosts[] = {"163.com", "qq.com", "xinyang.gov.cn", "126.com", "example.org"};

	snprintf(o, cap, "%s%u@%s", users[rnd(5)], rnd(1000), hosts[rnd(5)]);
}

static void uscc(char *o, size_t cap)
{
	char b[19];
	int s = 0, w = 1;

	b[0] = "1259"[rnd(4)];
	b[1] = "123"[rnd(3)];
	for (int i = 2; i < 8; i++)
		b[i] = rdigit();
	for (int i = 8; i < 17; i++)
		b[i] = uscc_alphabet[rnd(31)];
	for (int i = 0; i < 17; i++) {
		s += (int)(strchr(uscc_alphabet, b[i]) - uscc_alphabet) * w;
		w = w * 3 % 31;
	}
	b[17] = uscc_alphabet[(31 - s % 31) % 31];
	b[18] = '\0';
	snprintf(o, cap, "%s", b);
}

static void passport(char *o, size_t cap)
{
	snprintf(o, cap, "%c%08u", rnd(2) ? 'E' : 'G', rnd(100000000));
}

static void plate(char *o, size_t cap)
{
	size_t p = 3 * rnd((uint32_t)(sizeof(provinces) - 1) / 3);

	snprintf(o, cap, "%.3s%c%c%04u", provinces + p, "ABCDEFGH"[rnd(8)], "0123456789ABCDEFGHJK"[rnd(20)],
		 rnd(10000));
}

static void ipv4(char *o, size_t cap)
{
	snprintf(o, cap, "%u.%u.%u.%u", 1 + rnd(223), rnd(256), rnd(256), 1 + rnd(254));
}

static void ipv6(char *o, size_t cap)
{
	snprintf(o, cap, "2001:db8:%x::%x", rnd(0x10000), 1 + rnd(0xffff));
}

typedef void (*gen_fn)(char *o, size_t cap);

static const gen_fn gens[] = {resident, mobile, mobile, landline, bank_card, email, uscc,
			      passport, plate, ipv4, ipv6};

static const char *const lead_ins[] = {"，联系电话", "，身份证号", "，邮箱", "，卡号", "，IP地址",
				       "。申请人", "，代码", "，车牌号"};

/* At least size bytes of text (*len: how many), *nids identifiers in it. */
static char *make_text(size_t size, size_t *len_out, size_t *nids)
{
	char *t = malloc(size + 256);
	char id[64];
	size_t len = 0;

	if (!t)
		die("out of memory");
	*nids = 0;
	while (len < size) {
		const char *s = sentences[rnd(sizeof(sentences) / sizeof(sentences[0]))];
		int n;

		n = snprintf(t + len, size + 256 - len, "%s", s);
		if (n < 0 || (size_t)n >= size + 256 - len)
			break;
		len += (size_t)n;
		if (rnd(5) < 3) {
			gens[rnd(sizeof(gens) / sizeof(gens[0]))](id, sizeof(id));
			if (rnd(10) == 0) /* a typo: wrong check character for the checksum kinds */
				id[strlen(id) - 1] = id[strlen(id) - 1] == '1' ? '2' : '1';
			n = snprintf(t + len, size + 256 - len, "%s%s",
				     lead_ins[rnd(sizeof(lead_ins) / sizeof(lead_ins[0]))], id);
			if (n < 0 || (size_t)n >= size + 256 - len)
				break;
			len += (size_t)n;
			(*nids)++;
		}
		n = snprintf(t + len, size + 256 - len, "%s", rnd(4) ? "。" : "。\n");
		if (n < 0 || (size_t)n >= size + 256 - len)
			break;
		len += (size_t)n;
	}
	*len_out = len;
	return t;
}

/* ---- scanners ---- */

/* The same shapes and boundaries as the scanner, without any checksum. */
#define PB "(?<![0-9A-Za-z])"
#define PA "(?![0-9A-Za-z])"
#define H4 "[0-9A-Fa-f]{1,4}"
#define OCT "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
#define V4 OCT "\\." OCT "\\." OCT "\\." OCT
static const char pattern[] =
	PB "(?:"
	"\\d{17}[\\dXx]"                                                /* resident ID */
	"|[0-9A-HJ-NPQRTUWXY]{2}\\d{6}[0-9A-HJ-NPQRTUWXY]{10}"          /* USCC */
	"|\\d{16,19}|\\d{4}([ -])\\d{4}\\1\\d{4}\\1\\d{4}(?:\\1\\d{1,3})?" /* bank card */
	"|(?:(?:\\+86|0086)[ -]?)?1[3-9]\\d(?:\\d{8}|([ -])\\d{4}\\2\\d{4})" /* mobile */
	"|(?:0(?:[12]\\d|[3-9]\\d\\d)|\\(0(?:[12]\\d|[3-9]\\d\\d)\\) ?)" /* landline */
	"[ -]?[1-9]\\d{6,7}(?:-\\d{1,6})?"
	"|[EG]\\d{8}|E[A-Z]\\d{7}"                                      /* passport */
	"|" V4                                                          /* IPv4 */
	"|::(?:[Ff]{4}:)?" V4 "|(?:" H4 ":){1,4}:" V4                   /* IPv6 */
	"|(?:" H4 ":){7}" H4 "|(?:" H4 ":){1,7}:|(?:" H4 ":){1,6}:" H4
	"|(?:" H4 ":){1,5}(?::" H4 "){1,2}|(?:" H4 ":){1,4}(?::" H4 "){1,3}"
	"|(?:" H4 ":){1,3}(?::" H4 "){1,4}|(?:" H4 ":){1,2}(?::" H4 "){1,5}"
	"|" H4 ":(?::" H4 "){1,6}|:(?:(?::" H4 "){1,7}|:)"
	")" PA
	"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}" /* e-mail */
	"|(?:京|津|沪|渝|冀|豫|云|辽|黑|湘|皖|鲁|新|苏|浙|赣|鄂|桂|甘|晋|蒙|陕|吉|闽|贵|粤|青|藏|川|宁|琼)"
	"[A-Z](?:·| )?[A-HJ-NP-Z0-9]{5,6}" PA;                           /* plate */

static size_t pcre2_scan(const pcre2_code *re, pcre2_match_data *md, const char *t, size_t len)
{
	PCRE2_SIZE off = 0, *ov;
	size_t n = 0;
	int rc;

	while (off < len) {
		rc = pcre2_jit_match(re, (PCRE2_SPTR)t, len, off, 0, md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
			die("pcre2_jit_match");
		ov = pcre2_get_ovector_pointer(md);
		n++;
		off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	return n;
}

int main(int argc, char **argv)
{
	size_t size, len, nids, pii_n = 0, re_n = 0;
	double seconds, t0, el;
	long passes;
	pcre2_code *re;
	pcre2_match_data *md;
	int err;
	PCRE2_SIZE erroff;
	char *text;

	if (argc != 3)
		die("usage: pii_bench MIB SECONDS");
	size = (size_t)atol(argv[1]) << 20;
	seconds = atof(argv[2]);
	if (size == 0 || seconds <= 0)
		die("usage: pii_bench MIB SECONDS");
	text = make_text(size, &len, &nids);
	size = len;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &err, &erroff, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(err, msg, sizeof(msg));
		fprintf(stderr, "pii_bench: regex at %zu: %s\n", (size_t)erroff, (char *)msg);
		return 1;
	}
	if (pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) != 0)
		die("pcre2_jit_compile");
	md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md)
		die("pcre2_match_data_create_from_pattern");

	printf("text_bytes %zu\nidentifiers %zu\n", size, nids);
	/* One warm-up pass each, then timed loops of at least one pass. */
	pii_n = pii_scan(text, size, PII_ALL, NULL, NULL);
	re_n = pcre2_scan(re, md, text, size);
	passes = 0;
	t0 = now_s();
	do {
		if (pii_scan(text, size, PII_ALL, NULL, NULL) != pii_n)
			die("pii_scan is not deterministic");
		passes++;
	} while ((el = now_s() - t0) < seconds);
	printf("pii_mb_per_s %.1f\n", (double)size * (double)passes / 1e6 / el);
	passes = 0;
	t0 = now_s();
	do {
		if (pcre2_scan(re, md, text, size) != re_n)
			die("pcre2 scan is not deterministic");
		passes++;
	} while ((el = now_s() - t0) < seconds);
	printf("pcre2_jit_mb_per_s %.1f\n", (double)size * (double)passes / 1e6 / el);
	printf("pii_matches %zu\npcre2_matches %zu\n", pii_n, re_n);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	free(text);
	return 0;
}
