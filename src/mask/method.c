/* method.c - the masking methods over single values (contract in method.h).
 *
 * Addresses are recognised, not parsed: the province is one of the 34 provincial-level
 * names (a closed list, so "贵州省" is not mistaken for a city ending in 州), and a city or
 * district is a run of 2-16 CJK ideographs ending in one of its level's suffixes.  The
 * run stops at anything that is not an ideograph (digits, Latin letters, punctuation)
 * and at characters that belong to a lower level (a county suffix while looking for a
 * city, 镇 for a town), so "民权路12号小区" is never taken for a district.  When a level
 * is not found the result is the coarser prefix that was, and with nothing found the
 * value is refused: generalising must never hand back more than was asked for. */
#include "mask/method.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "mask/idcheck.h"

/* Code points in one city or district name, its suffix included.  Longer runs are not
 * taken for place names: a sentence ending in 区 or 市 must not pass as one. */
#define ADDR_SEGMENT_MAX 8
#define NUMBER_ABS_MAX 9.0e15        /* reals beyond this are not exact integers */

size_t method_utf8_count(const char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t step = util_utf8_step(s, len, i);

		if (step == 0)
			return (size_t)-1;
		i += step;
		n++;
	}
	return n;
}

static gv_err mask_part(const char *s, size_t len, unsigned keep_first, unsigned keep_last,
			const char *ch, size_t ch_len, struct gv_buf *out)
{
	size_t n = method_utf8_count(s, len), i = 0, cp = 0;
	int all;

	if (n == (size_t)-1)
		return GV_ERR_INVALID;
	/* A value no longer than what would be kept has nothing left to hide behind:
	 * "张" under keep_first 1 would come back whole, so it is masked entirely. */
	all = n <= (size_t)keep_first + keep_last;
	while (i < len) {
		size_t step = util_utf8_step(s, len, i);
		int keep = !all && (cp < keep_first || cp >= n - keep_last);
		gv_err err = keep ? buf_append(out, s + i, step) : buf_append(out, ch, ch_len);

		if (err != GV_OK)
			return err;
		i += step;
		cp++;
	}
	return GV_OK;
}

gv_err method_mask(const char *s, size_t len, unsigned keep_first, unsigned keep_last,
		   const char *ch, size_t ch_len, int keep_domain, struct gv_buf *out)
{
	const char *at = keep_domain ? memrchr(s, '@', len) : NULL;
	size_t local = at ? (size_t)(at - s) : len;
	gv_err err;

	if (at && method_utf8_count(at, len - local) == (size_t)-1)
		return GV_ERR_INVALID;
	err = mask_part(s, local, keep_first, keep_last, ch, ch_len, out);
	if (err == GV_OK && at)
		err = buf_append(out, at, len - local);
	return err;
}

gv_err method_truncate(const char *s, size_t len, unsigned n, struct gv_buf *out)
{
	size_t i = 0, count = method_utf8_count(s, len);

	if (count == (size_t)-1)
		return GV_ERR_INVALID;
	/* A value no longer than n loses its last character all the same: truncation that
	 * removes nothing would hand the value over under the name of masking. */
	if (count <= n)
		n = count ? (unsigned)count - 1 : 0;
	for (unsigned cp = 0; cp < n && i < len; cp++)
		i += util_utf8_step(s, len, i);
	return buf_append(out, s, i);
}

gv_err method_generalise_date(const char *s, size_t len, int month, struct gv_buf *out)
{
	char d[11];

	if (len != 10)
		return GV_ERR_INVALID;
	memcpy(d, s, 10);
	d[10] = '\0';
	if (!id_date_text_valid(d))
		return GV_ERR_INVALID;
	return buf_append(out, d, month ? 7 : 4);
}

static const char *const addr_provinces[] = {
	"北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省",
	"黑龙江省", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省",
	"湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省",
	"甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区",
	"宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区", NULL,
};
/* The first four are municipalities: province and city at once. */
#define ADDR_MUNICIPALITIES 4

static const char *const addr_city_suffix[] = {"市", "州", "盟", "地区", NULL};
/* Characters that do not occur in city or district names but do in street addresses
 * and sentences: a run holding one is not a place name (the value is then cut at the
 * level above, or redacted). */
#define ADDR_NOT_PLACE "乡", "村", "镇", "路", "街", "道", "号", "巷", "弄", "栋", "楼", "室", \
	"单元", "家", "住", "里", "院", "园", "苑", "小", "的", "位", "于", "在", "对", "面"
static const char *const addr_city_stop[] = {"区", "县", "旗", ADDR_NOT_PLACE, NULL};
static const char *const addr_district_suffix[] = {"区", "县", "旗", "市", NULL};
static const char *const addr_district_stop[] = {ADDR_NOT_PLACE, NULL};

/* Byte length of the first of words found at s[i], 0 if none. */
static size_t addr_word_at(const char *s, size_t len, size_t i, const char *const *words)
{
	for (; *words; words++) {
		size_t n = strlen(*words);

		if (len - i >= n && memcmp(s + i, *words, n) == 0)
			return n;
	}
	return 0;
}

/* 1 if s[i] starts a CJK Unified Ideograph (U+4E00..U+9FFF, three bytes E4-E9). */
static int addr_ideograph_at(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];

	return c >= 0xe4 && c <= 0xe9 && util_utf8_step(s, len, i) == 3;
}

/* Bytes of the name at the start of s that ends in one of suffix (the name has at least
 * one ideograph before its suffix, so "市中区" is a district, not "市"), 0 if none.
 * Suffixes that follow at once are taken too ("泉州" + "市"). */
static size_t addr_segment(const char *s, size_t len, const char *const *suffix,
			   const char *const *stop)
{
	size_t i = 0;

	for (unsigned cp = 0; cp < ADDR_SEGMENT_MAX && i < len; cp++) {
		size_t n;

		if (!addr_ideograph_at(s, len, i))
			return 0;
		if (cp > 0 && (n = addr_word_at(s, len, i, suffix)) != 0) {
			i += n;
			while (i < len && (n = addr_word_at(s, len, i, suffix)) != 0)
				i += n;
			return i;
		}
		if (addr_word_at(s, len, i, stop))
			return 0;
		i += 3;
	}
	return 0;
}

gv_err method_generalise_address(const char *s, size_t len, enum method_level level,
				 struct gv_buf *out)
{
	size_t province = 0, city = 0, district = 0, n, end = 0;
	int muni = 0;

	if (method_utf8_count(s, len) == (size_t)-1)
		return GV_ERR_INVALID;
	for (int k = 0; addr_provinces[k]; k++) {
		n = strlen(addr_provinces[k]);
		if (len >= n && memcmp(s, addr_provinces[k], n) == 0) {
			province = n;
			muni = k < ADDR_MUNICIPALITIES;
			break;
		}
	}
	if (muni) {
		city = province;
	} else {
		n = addr_segment(s + province, len - province, addr_city_suffix, addr_city_stop);
		city = n ? province + n : 0;
	}
	n = city ? city : province;
	district = addr_segment(s + n, len - n, addr_district_suffix, addr_district_stop);
	district = district ? n + district : 0;
	if (province)
		end = province;
	if (level >= METHOD_CITY && city)
		end = city;
	if (level >= METHOD_DISTRICT && district)
		end = district;
	if (end == 0)
		return GV_ERR_INVALID;
	return buf_append(out, s, end);
}

gv_err method_generalise_integer(long long v, long long step, struct gv_buf *out)
{
	long long q, lo, hi;

	if (step < 1)
		return GV_ERR_INVALID;
	q = v / step;
	if (v % step != 0 && v < 0)
		q--;
	if (__builtin_mul_overflow(q, step, &lo) || __builtin_add_overflow(lo, step - 1, &hi))
		return GV_ERR_INVALID;
	return buf_printf(out, "%lld-%lld", lo, hi);
}

gv_err method_generalise_real(double v, long long step, struct gv_buf *out)
{
	long long whole;

	/* The buckets have integer bounds, so floor(v) falls in the same one as v; it is
	 * taken by hand because the conversion truncates towards zero (and libm is not
	 * linked for one call). */
	if (!(v > -NUMBER_ABS_MAX && v < NUMBER_ABS_MAX))
		return GV_ERR_INVALID;
	whole = (long long)v;
	if ((double)whole > v)
		whole--;
	return method_generalise_integer(whole, step, out);
}

gv_err method_noise_seed(struct crypto_hmac *h, const char *target, const char *text, size_t len,
			 unsigned char seed[CRYPTO_SM3_LEN])
{
	/* The leading 0x01 keeps these inputs apart from pseudonyms' (target || 0x00 ||
	 * value): no target starts with it. */
	const void *parts[5] = {"\x01noise", "", target, "", text};
	size_t lens[5] = {6, 1, strlen(target), 1, len};

	return crypto_hmac_parts(h, parts, lens, 5, seed);
}

/* The seed's i-th 64-bit word. */
static uint64_t seed_word(const unsigned char seed[CRYPTO_SM3_LEN], int i)
{
	uint64_t x;

	memcpy(&x, seed + 8 * i, sizeof(x));
	return x;
}

gv_err method_noise_integer(long long v, long long bound, const unsigned char seed[CRYPTO_SM3_LEN],
			    long long *out)
{
	uint64_t span, limit, x = 0;
	long long delta;

	if (bound < 1 || bound > (long long)NUMBER_ABS_MAX)
		return GV_ERR_INVALID;
	span = 2 * (uint64_t)bound + 1;
	/* Rejection sampling: only the largest multiple of span is used, so every offset
	 * is equally likely.  A word is refused with odds below 2^-11 (span <= 2^54), so
	 * four words all refused (odds 2^-44) leave a bias nobody can see. */
	limit = UINT64_MAX - UINT64_MAX % span;
	for (int i = 0; i < CRYPTO_SM3_LEN / 8; i++) {
		x = seed_word(seed, i);
		if (x < limit)
			break;
	}
	delta = (long long)(x % span) - bound;
	/* Near the ends of the range the offset is mirrored: still within the bound. */
	if (__builtin_add_overflow(v, delta, out))
		*out = v - delta;
	return GV_OK;
}

gv_err method_noise_real(double v, double bound, const unsigned char seed[CRYPTO_SM3_LEN],
			 double *out)
{
	double u = (double)(seed_word(seed, 0) >> 11) * 0x1p-53;

	/* A bound below v's precision would return v itself under the name of noise. */
	if (!isfinite(v) || !(bound > 0) || v + bound == v || v - bound == v)
		return GV_ERR_INVALID;
	*out = v + (2.0 * u - 1.0) * bound;
	return isfinite(*out) ? GV_OK : GV_ERR_INVALID;
}

gv_err method_pseudonym(struct crypto_hmac *h, const char *target, const char *value,
			size_t len, char out[METHOD_PSEUDONYM_LEN + 1])
{
	/* The separator keeps (field "ab", value "c") apart from (field "a", value "bc"). */
	const void *parts[3] = {target, "", value};
	size_t lens[3] = {strlen(target), 1, len};
	unsigned char mac[CRYPTO_SM3_LEN];
	gv_err err;

	out[0] = '\0';
	err = crypto_hmac_parts(h, parts, lens, 3, mac);
	if (err == GV_OK) {
		memcpy(out, "pn_", 3);
		util_hex_encode(mac, 8, out + 3);
	}
	util_wipe(mac, sizeof(mac));
	return err;
}
