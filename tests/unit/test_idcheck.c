/* test_idcheck.c - identifier validators: public examples, identifiers built here with
 * check characters computed independently of idcheck.c (weights derived from the
 * standards' formulas, not copied from its tables), and near-misses that must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mask/idcheck.h"

/* 2024-03-01T00:00:00Z; China Standard Time is 08:00 the same day. */
#define T_2024_03_01 INT64_C(1709251200)

static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* Deterministic generator so failures reproduce. */
static uint32_t rng_state = 12345;
static unsigned rng_next(unsigned mod)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) % mod;
}

/* GB 11643 via ISO 7064 MOD 11-2 in its textbook form: w_i = 2^(17-i) mod 11 and the
 * check value c satisfies S + c = 1 (mod 11), i.e. c = (12 - S mod 11) mod 11. */
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

static void uscc_make(const char *body17, char out[19])
{
	memcpy(out, body17, 17);
	out[17] = uscc_check_char(body17);
	out[18] = '\0';
}

/* Luhn check digit from the left with the doubled-digit table, not the subtract-9 loop. */
static char luhn_check_digit(const char *payload)
{
	static const int dbl[10] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
	size_t n = strlen(payload);
	int s = 0;

	for (size_t i = 0; i < n; i++) {
		int d = payload[i] - '0';

		/* The check digit will sit at the right, so the payload's last digit is doubled. */
		s += ((n - i) % 2 == 1) ? dbl[d] : d;
	}
	return (char)('0' + (10 - s % 10) % 10);
}

static void test_public_examples(void **state)
{
	const char *why = NULL;

	(void)state;
	/* standards.md section 4 */
	assert_true(id_resident_valid("11010519491231002X"));
	assert_true(id_uscc_valid("91350100M000100Y43"));
	assert_true(id_org_code_valid("M000100Y4")); /* the code embedded in that USCC */
	assert_true(id_luhn_valid("79927398713"));
	assert_false(id_luhn_valid("79927398710"));

	/* 440524188001010014 is the reference's second checksum example; its check digit is
	 * right, but an 1880 birth date is refused by the >= 1900 plausibility rule. */
	assert_int_equal(resident_check_char("44052418800101001"), '4');
	assert_false(id_resident_check("440524188001010014", T_2024_03_01, &why));
	assert_string_equal(why, "resident ID birth date is before 1900");
}

static void test_resident_computed(void **state)
{
	static const char *const bodies[] = {
		"11010519491231002", "44030619900307123", "65010220000229456",
		"81000019851015001", "82000019700101002", "83000019991231003",
		"71000019500615111", "31011519000101009", "53010220240301888",
	};
	char id[19];

	(void)state;
	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		resident_make(bodies[k], id);
		assert_true(id_resident_check(id, T_2024_03_01, NULL));
	}
	assert_true(id_resident_valid("11010519491231002X"));
}

/* Every single substitution and every adjacent transposition of distinct characters
 * must be caught (MOD 11-2 detects both); so must a wrong check character. */
static void test_resident_near_misses(void **state)
{
	char id[19], bad[19];
	const char *why;

	(void)state;
	for (int round = 0; round < 20; round++) {
		char body[18];

		/* region 11..65 (kept valid), random birth date in 1950-1999, random sequence */
		snprintf(body, sizeof(body), "%02u%04u%04u%02u%02u%03u", 11 + rng_next(5),
			 rng_next(10000), 1950 + rng_next(50), 1 + rng_next(12), 1 + rng_next(28),
			 rng_next(1000));
		resident_make(body, id);
		assert_true(id_resident_check(id, T_2024_03_01, NULL));
		for (int i = 0; i < 18; i++) {
			const char *alts = i == 17 ? "0123456789X" : "0123456789";

			for (const char *a = alts; *a; a++) {
				if (*a == id[i])
					continue;
				memcpy(bad, id, sizeof(bad));
				bad[i] = *a;
				assert_false(id_resident_check(bad, T_2024_03_01, NULL));
			}
		}
		for (int i = 0; i < 17; i++) {
			if (id[i] == id[i + 1])
				continue;
			memcpy(bad, id, sizeof(bad));
			bad[i] = id[i + 1];
			bad[i + 1] = id[i];
			assert_false(id_resident_check(bad, T_2024_03_01, NULL));
		}
	}

	/* Right check character, impossible birth dates. */
	resident_make("11010519900230123", id); /* Feb 30 */
	assert_false(id_resident_check(id, T_2024_03_01, &why));
	assert_string_equal(why, "resident ID birth date is not a real calendar date");
	resident_make("11010519000229123", id); /* 1900 is not a leap year */
	assert_false(id_resident_check(id, T_2024_03_01, NULL));
	resident_make("11010520000229123", id); /* 2000 is */
	assert_true(id_resident_check(id, T_2024_03_01, NULL));
	resident_make("11010519901301123", id); /* month 13 */
	assert_false(id_resident_check(id, T_2024_03_01, NULL));
	resident_make("11010519900100123", id); /* day 0 */
	assert_false(id_resident_check(id, T_2024_03_01, NULL));
	resident_make("11010529990101123", id);
	assert_false(id_resident_check(id, T_2024_03_01, &why));
	assert_string_equal(why, "resident ID birth date is in the future");

	/* Right check character, region codes outside the province list. */
	static const char *const regions[] = {"00", "10", "16", "20", "24", "30", "38", "40",
					      "47", "55", "60", "66", "70", "72", "80", "84",
					      "90", "99"};
	for (size_t k = 0; k < sizeof(regions) / sizeof(regions[0]); k++) {
		char body[18];

		snprintf(body, sizeof(body), "%s010519900101123", regions[k]);
		resident_make(body, id);
		assert_false(id_resident_check(id, T_2024_03_01, &why));
		assert_string_equal(why, "resident ID region code is not a known province");
	}

	/* Shape. */
	assert_false(id_resident_check("11010519491231002x", T_2024_03_01, &why));
	assert_string_equal(why, "resident ID check character must be a digit or upper-case X");
	assert_false(id_resident_check("110105491231002", T_2024_03_01, &why)); /* legacy 15 */
	assert_string_equal(why, "resident ID must be 18 characters");
	assert_false(id_resident_check("11010519491231002X0", T_2024_03_01, NULL));
	assert_false(id_resident_check("1101051949123100X2", T_2024_03_01, &why));
	assert_string_equal(why, "resident ID must have 17 digits before the check character");
	assert_false(id_resident_check(" 1010519491231002X", T_2024_03_01, NULL));
	assert_false(id_resident_check("", T_2024_03_01, NULL));
	assert_false(id_resident_check(NULL, T_2024_03_01, NULL));
	assert_false(id_resident_valid(NULL));
}

/* "Not in the future" is judged in China Standard Time (UTC+8). */
static void test_resident_today_cst(void **state)
{
	char id[19];
	const int64_t cst_midnight = T_2024_03_01 - 8 * 3600; /* 2024-02-29T16:00:00Z */

	(void)state;
	resident_make("11010520240301123", id);
	assert_true(id_resident_check(id, T_2024_03_01, NULL));
	assert_true(id_resident_check(id, cst_midnight, NULL));
	assert_false(id_resident_check(id, cst_midnight - 1, NULL));
	resident_make("11010520240302123", id);
	assert_false(id_resident_check(id, T_2024_03_01, NULL));
}

static void test_uscc(void **state)
{
	static const char *const bodies[] = {
		"91350100M000100Y4", "11100000000013127", "52110000500021676",
		"92440300MA5EQXL17", "Y1110000123456789",
	};
	char code[19], bad[19];
	const char *why;

	(void)state;
	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		uscc_make(bodies[k], code);
		assert_true(id_uscc_check(code, &why));
		assert_null(why);
	}
	assert_int_equal(uscc_check_char("91350100M000100Y4"), '3');

	for (int round = 0; round < 20; round++) {
		char body[18];

		for (int i = 0; i < 17; i++)
			body[i] = (i >= 2 && i < 8) ? (char)('0' + rng_next(10))
						    : uscc_alphabet[rng_next(31)];
		body[17] = '\0';
		uscc_make(body, code);
		assert_true(id_uscc_valid(code));
		/* Mod 31 with non-zero weights catches any single substitution ... */
		for (int i = 0; i < 18; i++) {
			for (const char *a = uscc_alphabet; *a; a++) {
				if (*a == code[i])
					continue;
				memcpy(bad, code, sizeof(bad));
				bad[i] = *a;
				assert_false(id_uscc_valid(bad));
			}
		}
		/* ... and any adjacent transposition (w_i - w_i+1 = -2 * 3^i != 0 mod 31). */
		for (int i = 0; i < 17; i++) {
			if (code[i] == code[i + 1])
				continue;
			memcpy(bad, code, sizeof(bad));
			bad[i] = code[i + 1];
			bad[i + 1] = code[i];
			assert_false(id_uscc_valid(bad));
		}
	}

	/* Letters outside the GB 32100 set, even where the sum would work out. */
	for (const char *a = "IOSVZ"; *a; a++) {
		memcpy(bad, "91350100M000100Y43", sizeof(bad));
		bad[8] = *a;
		assert_false(id_uscc_check(bad, &why));
		assert_non_null(strstr(why, "character outside"));
	}
	assert_false(id_uscc_valid("91350100m000100y43"));
	/* Area code (positions 3-8) must be digits even with a right check character. */
	uscc_make("9135A100M000100Y4", code);
	assert_false(id_uscc_check(code, &why));
	assert_non_null(strstr(why, "area code"));
	assert_false(id_uscc_check("91350100M000100Y4", &why));
	assert_string_equal(why, "unified social credit code must be 18 characters");
	assert_false(id_uscc_check("91350100M000100Y44", &why));
	assert_string_equal(why, "unified social credit code check character does not match");
	assert_false(id_uscc_valid(NULL));
}

static void test_org_code(void **state)
{
	const char *why;

	(void)state;
	/* C9 = 11 - S mod 11 with w = 3 7 9 10 5 8 4 2 and A = 10 ... Z = 35. */
	assert_true(id_org_code_valid("M000100Y4")); /* S = 139 -> 4 */
	assert_true(id_org_code_valid("000000000")); /* S = 0 -> 11 -> '0' */
	/* S = 10*4 + 1*2 = 42, 42 mod 11 = 9 -> 2 */
	assert_true(id_org_code_valid("000000A12"));
	/* S = 6*2 = 12, 12 mod 11 = 1 -> 10 -> X */
	assert_true(id_org_code_valid("00000006X"));
	assert_false(id_org_code_check("00000006x", &why));
	assert_string_equal(why, "organisation code check character does not match");
	assert_false(id_org_code_valid("M000100Y5"));
	assert_false(id_org_code_valid("M0001000Y4"));
	assert_false(id_org_code_valid("M000100-Y"));
	assert_false(id_org_code_valid("m000100Y4"));
	assert_false(id_org_code_valid(NULL));
}

static void test_bank_card(void **state)
{
	char card[21], bad[21];
	const char *why;

	(void)state;
	for (unsigned len = 16; len <= 19; len++) {
		for (int round = 0; round < 10; round++) {
			memcpy(card, "622202", 6);
			for (unsigned i = 6; i < len - 1; i++)
				card[i] = (char)('0' + rng_next(10));
			card[len - 1] = '\0';
			card[len - 1] = luhn_check_digit(card);
			card[len] = '\0';
			assert_true(id_bank_card_valid(card));
			assert_true(id_luhn_valid(card));
			for (unsigned i = 0; i < len; i++) {
				for (char d = '0'; d <= '9'; d++) {
					if (d == card[i])
						continue;
					memcpy(bad, card, sizeof(bad));
					bad[i] = d;
					assert_false(id_bank_card_valid(bad));
				}
			}
			/* Luhn misses only the 09 <-> 90 transposition. */
			for (unsigned i = 0; i + 1 < len; i++) {
				int a = card[i] - '0', b = card[i + 1] - '0';

				if (a == b || (a == 0 && b == 9) || (a == 9 && b == 0))
					continue;
				memcpy(bad, card, sizeof(bad));
				bad[i] = card[i + 1];
				bad[i + 1] = card[i];
				assert_false(id_bank_card_valid(bad));
			}
		}
	}
	/* Luhn-valid but 15 and 20 digits long. */
	for (unsigned len = 15; len <= 20; len += 5) {
		memset(card, '6', len - 1);
		card[len - 1] = '\0';
		card[len - 1] = luhn_check_digit(card);
		card[len] = '\0';
		assert_true(id_luhn_valid(card));
		assert_false(id_bank_card_check(card, &why));
		assert_string_equal(why, "bank card number must be 16 to 19 digits");
	}
	assert_true(id_luhn_valid("4111111111111111"));
	assert_true(id_bank_card_valid("4111111111111111"));
	assert_false(id_bank_card_check("79927398713", &why)); /* Luhn-valid, too short */
	assert_string_equal(why, "bank card number must be 16 to 19 digits");
	assert_false(id_bank_card_check("4111111111111112", &why));
	assert_string_equal(why, "bank card number fails the Luhn check");
	assert_false(id_bank_card_valid("41111111111111110000")); /* 20 digits */
	assert_false(id_bank_card_valid("4111 1111 1111 1111"));
	assert_false(id_luhn_valid("0"));
	assert_false(id_luhn_valid(""));
	assert_false(id_luhn_valid("7992739871a"));
	assert_false(id_luhn_valid(NULL));
}

static void test_mobile(void **state)
{
	static const char *const good[] = {"13800138000", "14512345678", "15012345678",
					   "16612345678", "17012345678", "18612345678",
					   "19912345678"};
	static const char *const bad[] = {"12345678901", "10012345678", "23800138000",
					  "1380013800",  "138001380001", "+8613800138000",
					  "8613800138000", "1380013800a", "138 0013 800", ""};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(id_mobile_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(id_mobile_valid(bad[i]));
	assert_false(id_mobile_check("12345678901", &why));
	assert_string_equal(why, "mobile number must start with 13 to 19");
	assert_false(id_mobile_valid(NULL));
}

static void test_kinds_and_dates(void **state)
{
	enum id_kind k;
	const char *why = "stale";

	(void)state;
	for (int i = 0; i < ID__KIND_COUNT; i++) {
		assert_true(id_kind_parse(id_kind_name((enum id_kind)i), &k));
		assert_int_equal(k, i);
	}
	assert_false(id_kind_parse("passport", &k));
	assert_false(id_kind_parse(NULL, &k));
	assert_string_equal(id_kind_name(ID__KIND_COUNT), "unknown");
	assert_true(id_check(ID_MOBILE, "13800138000", 0, &why));
	assert_null(why);
	assert_true(id_check(ID_RESIDENT, "11010519491231002X", T_2024_03_01, NULL));
	assert_false(id_check(ID_BANK_CARD, "79927398713", 0, &why));
	assert_non_null(why);
	assert_false(id_check(ID__KIND_COUNT, "x", 0, &why));

	assert_true(id_date_valid(2024, 2, 29));
	assert_false(id_date_valid(2023, 2, 29));
	assert_false(id_date_valid(2100, 2, 29));
	assert_true(id_date_valid(2000, 2, 29));
	assert_true(id_date_valid(2023, 12, 31));
	assert_false(id_date_valid(2023, 4, 31));
	assert_false(id_date_valid(0, 1, 1));
	assert_false(id_date_valid(10000, 1, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_examples),
		cmocka_unit_test(test_resident_computed),
		cmocka_unit_test(test_resident_near_misses),
		cmocka_unit_test(test_resident_today_cst),
		cmocka_unit_test(test_uscc),
		cmocka_unit_test(test_org_code),
		cmocka_unit_test(test_bank_card),
		cmocka_unit_test(test_mobile),
		cmocka_unit_test(test_kinds_and_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
