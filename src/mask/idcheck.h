/* idcheck.h - validators for Chinese identifier formats (resident ID, unified social
 * credit code, organisation code, bank card, mobile number).
 *
 * Every validator takes a NUL-terminated string, returns 1 when it is a well-formed
 * identifier of its kind and 0 otherwise (NULL is 0), allocates nothing and reads no
 * global state except the clock (resident ID birth dates must not be in the future).
 * The *_check forms also hand back a static English reason for a 0; the reason names the
 * rule that failed and never echoes the identifier, so it is safe to log or return in an
 * API error even though the input is personal information.
 *
 * Only canonical spellings validate: no spaces, hyphens, country prefixes or lower-case
 * letters.  The `unique` and `reference` quality rules compare bytes, so accepting two
 * spellings of one identifier would let the same person or organisation in twice;
 * normalisation, if wanted, belongs to ingestion before validation. */
#ifndef GV_MASK_IDCHECK_H
#define GV_MASK_IDCHECK_H

#include <stdint.h>

enum id_kind {
	ID_RESIDENT,   /* "resident_id": GB 11643 18-character citizen identity number */
	ID_USCC,       /* "uscc": GB 32100 unified social credit code */
	ID_ORG_CODE,   /* "org_code": GB 11714 9-character organisation code, no hyphen */
	ID_BANK_CARD,  /* "bank_card": 16-19 digits passing Luhn (ISO/IEC 7812) */
	ID_MOBILE,     /* "mobile": mainland number, 11 digits: 1, then 3-9, then 9 digits */
	ID__KIND_COUNT
};

/* Stable name of a kind ("resident_id", ...); "unknown" when out of range. */
const char *id_kind_name(enum id_kind kind);
/* 1 and *out set when name is a kind's name, 0 otherwise. */
int id_kind_parse(const char *name, enum id_kind *out);

/* Dispatches to the validator of kind; now_s (seconds since the epoch) is only used by
 * ID_RESIDENT.  *why (when why is non-NULL) gets a static reason on 0, NULL on 1. */
int id_check(enum id_kind kind, const char *s, int64_t now_s, const char **why);

/* GB 11643-1999: 6-digit area code + YYYYMMDD + 3-digit sequence + check character
 * ("10X98765432"[sum(d_i * w_i) mod 11], ISO 7064 MOD 11-2).  Also required: the first
 * two digits are a province-level code of GB/T 2260 (11-15, 21-23, 31-37, 41-46, 50-54,
 * 61-65, 71) or 81/82/83 (Hong Kong / Macau / Taiwan residence permits), and the birth
 * date is a real calendar date from 1900-01-01 up to today in China Standard Time
 * (UTC+8) at now_s.  The check character X must be upper case; the legacy 15-digit form
 * (no check character) is rejected. */
int id_resident_check(const char *s, int64_t now_s, const char **why);
/* id_resident_check at the current time, without a reason. */
int id_resident_valid(const char *s);

/* GB 32100-2015: 18 characters of "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I O S V Z),
 * positions 3-8 (administrative area, GB/T 2260) digits, and check character =
 * (31 - sum(v_i * w_i) mod 31) mod 31 with w_i = 3^(i-1) mod 31.  The registration
 * authority and organisation type (positions 1-2) are only checked against the
 * alphabet, and the embedded organisation code (positions 9-17) is not checked; use
 * ID_ORG_CODE on it when a stricter check is wanted. */
int id_uscc_check(const char *s, const char **why);
int id_uscc_valid(const char *s);

/* GB 11714: 8 characters of 0-9A-Z then a check character 0-9 or X,
 * C9 = 11 - (sum(v_i * w_i) mod 11) with w = 3 7 9 10 5 8 4 2, 10 -> X, 11 -> 0. */
int id_org_code_check(const char *s, const char **why);
int id_org_code_valid(const char *s);

/* Luhn over a string of at least 2 decimal digits (the rightmost is the check digit). */
int id_luhn_valid(const char *digits);

/* 16 to 19 digits passing Luhn. */
int id_bank_card_check(const char *s, const char **why);
int id_bank_card_valid(const char *s);

/* Exactly 11 digits, "1" then 3-9.  No +86 / 0086 prefix: store the national form. */
int id_mobile_check(const char *s, const char **why);
int id_mobile_valid(const char *s);

/* 1 when y-m-d is a proleptic Gregorian date with 1 <= y <= 9999. */
int id_date_valid(int y, int m, int d);
/* 1 if s is exactly YYYY-MM-DD and a real calendar date. */
int id_date_text_valid(const char *s);

#endif
