/* idcheck.c - identifier checksums and format rules (see idcheck.h for the contract).
 *
 * The weight tables are written out as the standards print them rather than computed
 * (2^(17-i) mod 11, 3^(i-1) mod 31) so they can be compared with the text by eye; the
 * unit tests compute them independently, which catches a typo in either. */
#include "mask/idcheck.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

static const char *const id_kind_names[ID__KIND_COUNT] = {
	[ID_RESIDENT] = "resident_id",
	[ID_USCC] = "uscc",
	[ID_ORG_CODE] = "org_code",
	[ID_BANK_CARD] = "bank_card",
	[ID_MOBILE] = "mobile",
};

/* China Standard Time has no daylight saving, so a fixed offset is exact. */
#define ID_CST_OFFSET_S (8 * 3600)
#define ID_RESIDENT_MIN_YEAR 1900

static void id_fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
}

static int id_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int id_all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!id_is_digit(s[i]))
			return 0;
	return 1;
}

const char *id_kind_name(enum id_kind kind)
{
	return (unsigned)kind < ID__KIND_COUNT ? id_kind_names[kind] : "unknown";
}

int id_kind_parse(const char *name, enum id_kind *out)
{
	if (!name)
		return 0;
	for (int i = 0; i < ID__KIND_COUNT; i++) {
		if (strcmp(id_kind_names[i], name) == 0) {
			*out = (enum id_kind)i;
			return 1;
		}
	}
	return 0;
}

int id_check(enum id_kind kind, const char *s, int64_t now_s, const char **why)
{
	switch (kind) {
	case ID_RESIDENT:
		return id_resident_check(s, now_s, why);
	case ID_USCC:
		return id_uscc_check(s, why);
	case ID_ORG_CODE:
		return id_org_code_check(s, why);
	case ID_BANK_CARD:
		return id_bank_card_check(s, why);
	case ID_MOBILE:
		return id_mobile_check(s, why);
	case ID__KIND_COUNT:
		break;
	}
	id_fail(why, "unknown identifier kind");
	return 0;
}

int id_date_valid(int y, int m, int d)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap, max;

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	max = mdays[m - 1] + (m == 2 && leap);
	return d <= max;
}

/* Province-level prefixes of GB/T 2260 plus the residence-permit prefixes 81/82/83.
 * The 6-digit county list changes every year, so only the first two digits are held. */
static int id_resident_province_ok(int p)
{
	static const unsigned char ranges[][2] = {
		{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}, {71, 71}, {81, 83},
	};

	for (size_t i = 0; i < GV_ARRAY_LEN(ranges); i++)
		if (p >= ranges[i][0] && p <= ranges[i][1])
			return 1;
	return 0;
}

static int id_digits_value(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int id_resident_check(const char *s, int64_t now_s, const char **why)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char map[] = "10X98765432";
	int y, m, d, sum = 0;
	time_t cst = (time_t)(now_s + ID_CST_OFFSET_S);
	struct tm today;

	if (why)
		*why = NULL;
	if (!s || strlen(s) != 18) {
		id_fail(why, "resident ID must be 18 characters");
		return 0;
	}
	if (!id_all_digits(s, 17)) {
		id_fail(why, "resident ID must have 17 digits before the check character");
		return 0;
	}
	if (!id_is_digit(s[17]) && s[17] != 'X') {
		id_fail(why, "resident ID check character must be a digit or upper-case X");
		return 0;
	}
	if (!id_resident_province_ok(id_digits_value(s, 2))) {
		id_fail(why, "resident ID region code is not a known province");
		return 0;
	}
	y = id_digits_value(s + 6, 4);
	m = id_digits_value(s + 10, 2);
	d = id_digits_value(s + 12, 2);
	if (!id_date_valid(y, m, d)) {
		id_fail(why, "resident ID birth date is not a real calendar date");
		return 0;
	}
	if (y < ID_RESIDENT_MIN_YEAR) {
		id_fail(why, "resident ID birth date is before 1900");
		return 0;
	}
	if (!gmtime_r(&cst, &today) ||
	    y * 10000 + m * 100 + d >
		    (today.tm_year + 1900) * 10000 + (today.tm_mon + 1) * 100 + today.tm_mday) {
		id_fail(why, "resident ID birth date is in the future");
		return 0;
	}
	for (int i = 0; i < 17; i++)
		sum += (s[i] - '0') * w[i];
	if (map[sum % 11] != s[17]) {
		id_fail(why, "resident ID check character does not match");
		return 0;
	}
	return 1;
}

int id_resident_valid(const char *s)
{
	return id_resident_check(s, util_now_s(), NULL);
}

/* Value of c in the GB 32100 alphabet, -1 when c is not in it. */
static int id_uscc_value(char c)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

int id_uscc_check(const char *s, const char **why)
{
	static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int sum = 0, v;

	if (why)
		*why = NULL;
	if (!s || strlen(s) != 18) {
		id_fail(why, "unified social credit code must be 18 characters");
		return 0;
	}
	for (int i = 0; i < 18; i++) {
		if (id_uscc_value(s[i]) < 0) {
			id_fail(why, "unified social credit code has a character outside "
				     "0-9 and upper-case A-Y without I, O, S, V");
			return 0;
		}
	}
	if (!id_all_digits(s + 2, 6)) {
		id_fail(why, "unified social credit code area code (positions 3-8) must be digits");
		return 0;
	}
	for (int i = 0; i < 17; i++)
		sum += id_uscc_value(s[i]) * w[i];
	v = (31 - sum % 31) % 31;
	if (id_uscc_value(s[17]) != v) {
		id_fail(why, "unified social credit code check character does not match");
		return 0;
	}
	return 1;
}

int id_uscc_valid(const char *s)
{
	return id_uscc_check(s, NULL);
}

int id_org_code_check(const char *s, const char **why)
{
	static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
	int sum = 0, c9;
	char expect;

	if (why)
		*why = NULL;
	if (!s || strlen(s) != 9) {
		id_fail(why, "organisation code must be 9 characters without a hyphen");
		return 0;
	}
	for (int i = 0; i < 8; i++) {
		int v;

		if (id_is_digit(s[i]))
			v = s[i] - '0';
		else if (s[i] >= 'A' && s[i] <= 'Z')
			v = s[i] - 'A' + 10;
		else {
			id_fail(why, "organisation code body must be digits or upper-case letters");
			return 0;
		}
		sum += v * w[i];
	}
	c9 = 11 - sum % 11;
	expect = c9 == 10 ? 'X' : c9 == 11 ? '0' : (char)('0' + c9);
	if (s[8] != expect) {
		id_fail(why, "organisation code check character does not match");
		return 0;
	}
	return 1;
}

int id_org_code_valid(const char *s)
{
	return id_org_code_check(s, NULL);
}

int id_luhn_valid(const char *digits)
{
	size_t n;
	int sum = 0;

	if (!digits)
		return 0;
	n = strlen(digits);
	if (n < 2 || !id_all_digits(digits, n))
		return 0;
	/* Double every second digit counting from the check digit at the right. */
	for (size_t i = 0; i < n; i++) {
		int v = digits[n - 1 - i] - '0';

		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

int id_bank_card_check(const char *s, const char **why)
{
	size_t n;

	if (why)
		*why = NULL;
	n = s ? strlen(s) : 0;
	if (n < 16 || n > 19 || !id_all_digits(s, n)) {
		id_fail(why, "bank card number must be 16 to 19 digits");
		return 0;
	}
	if (!id_luhn_valid(s)) {
		id_fail(why, "bank card number fails the Luhn check");
		return 0;
	}
	return 1;
}

int id_bank_card_valid(const char *s)
{
	return id_bank_card_check(s, NULL);
}

int id_mobile_check(const char *s, const char **why)
{
	if (why)
		*why = NULL;
	if (!s || strlen(s) != 11 || !id_all_digits(s, 11)) {
		id_fail(why, "mobile number must be 11 digits");
		return 0;
	}
	if (s[0] != '1' || s[1] < '3') {
		id_fail(why, "mobile number must start with 13 to 19");
		return 0;
	}
	return 1;
}

int id_mobile_valid(const char *s)
{
	return id_mobile_check(s, NULL);
}

int id_date_text_valid(const char *s)
{
	int y, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return id_date_valid(y, m, d);
}
