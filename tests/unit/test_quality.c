/* test_quality.c - quality rules: parse errors and their messages, every rule's pass and
 * fail, all violations of a row reported together, hook arguments, missing hooks
 * reported as not checked, severities and the batch report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/quality.h"

#define BRIEF_RULES                                                                        \
	"[{\"field\":\"id_no\",\"rule\":\"required\"},"                                    \
	"{\"field\":\"id_no\",\"rule\":\"checksum\",\"kind\":\"resident_id\"},"            \
	"{\"field\":\"age\",\"rule\":\"range\",\"min\":0,\"max\":150},"                    \
	"{\"field\":\"status\",\"rule\":\"enum\",\"values\":[\"a\",\"b\"]},"               \
	"{\"field\":\"phone\",\"rule\":\"pattern\",\"pattern\":\"^1[3-9][0-9]{9}$\"},"     \
	"{\"field\":\"name\",\"rule\":\"type\",\"type\":\"string\"},"                      \
	"{\"field\":\"id_no\",\"rule\":\"unique\"},"                                       \
	"{\"field\":\"dept\",\"rule\":\"reference\",\"dataset\":\"departments\","          \
	"\"ref_field\":\"code\"}]"

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	if (!v)
		fail_msg("bad test JSON at %d: %s", e.position, e.text);
	return v;
}

static struct quality_rules *rules_ok(const char *text, const char *schema)
{
	json_t *r = js(text), *s = schema ? js(schema) : NULL;
	struct quality_rules *q = NULL;
	char why[256];

	if (quality_rules_parse(r, s, &q, why, sizeof(why)) != GV_OK)
		fail_msg("rules refused: %s", why);
	json_decref(r);
	json_decref(s);
	return q;
}

/* Asserts the rules are refused and that the message contains want. */
static void rules_bad(const char *text, const char *schema, const char *want)
{
	json_t *r = js(text), *s = schema ? js(schema) : NULL;
	struct quality_rules *q = (struct quality_rules *)&q; /* must be reset to NULL */
	char why[256];

	assert_int_equal(quality_rules_parse(r, s, &q, why, sizeof(why)), GV_ERR_INVALID);
	assert_null(q);
	if (!strstr(why, want))
		fail_msg("message \"%s\" lacks \"%s\"", why, want);
	json_decref(r);
	json_decref(s);
}

/* Checks one row given as JSON text. */
static void check(const struct quality_rules *q, const char *row,
		  const struct quality_hooks *h, struct quality_result *res)
{
	json_t *v = js(row);

	assert_int_equal(quality_check_row(q, v, h, res), GV_OK);
	json_decref(v);
}

/* Rules with a single rule; returns the number of issues for row. */
static size_t one_rule(const char *rule, const char *row, struct quality_result *res)
{
	char text[512];
	struct quality_rules *q;

	snprintf(text, sizeof(text), "[%s]", rule);
	q = rules_ok(text, NULL);
	check(q, row, NULL, res);
	quality_rules_free(q);
	return res->n;
}

/* ---- hooks that record their arguments -------------------------------------------- */

struct hook_log {
	int seen_calls, exists_calls;
	int seen_rule;
	char seen_field[64], seen_value[64];
	char ex_dataset[64], ex_field[64], ex_value[64];
	int seen_ret, exists_ret;
};

static int hook_seen(void *ctx, int rule_index, const char *field, const char *value)
{
	struct hook_log *l = ctx;

	l->seen_calls++;
	l->seen_rule = rule_index;
	snprintf(l->seen_field, sizeof(l->seen_field), "%s", field);
	snprintf(l->seen_value, sizeof(l->seen_value), "%s", value);
	return l->seen_ret;
}

static int hook_exists(void *ctx, const char *dataset, const char *field, const char *value)
{
	struct hook_log *l = ctx;

	l->exists_calls++;
	snprintf(l->ex_dataset, sizeof(l->ex_dataset), "%s", dataset);
	snprintf(l->ex_field, sizeof(l->ex_field), "%s", field);
	snprintf(l->ex_value, sizeof(l->ex_value), "%s", value);
	return l->exists_ret;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_parse_brief_example(void **state)
{
	struct quality_rules *q;

	(void)state;
	q = rules_ok(BRIEF_RULES, NULL);
	assert_int_equal(quality_rules_count(q), 8);
	assert_string_equal(quality_rules_field(q, 7), "dept");
	assert_int_equal(quality_rules_kind(q, 1), QUALITY_CHECKSUM);
	assert_null(quality_rules_field(q, 8));
	quality_rules_free(q);
	quality_rules_free(NULL);

	/* The same rules against a schema in each accepted shape. */
	q = rules_ok(BRIEF_RULES, "[\"id_no\",\"age\",\"status\",\"phone\",\"name\",\"dept\"]");
	quality_rules_free(q);
	q = rules_ok(BRIEF_RULES, "[{\"name\":\"id_no\",\"type\":\"string\"},{\"name\":\"age\"},"
			       "{\"name\":\"status\"},{\"name\":\"phone\"},{\"name\":\"name\"},"
			       "{\"name\":\"dept\"}]");
	quality_rules_free(q);
	q = rules_ok(BRIEF_RULES, "{\"id_no\":{},\"age\":{},\"status\":{},\"phone\":{},"
			       "\"name\":{},\"dept\":{}}");
	quality_rules_free(q);
	q = rules_ok("[]", NULL);
	assert_int_equal(quality_rules_count(q), 0);
	quality_rules_free(q);
}

static void test_parse_errors(void **state)
{
	char many[128 * 40 + 16];
	size_t off = 0;

	(void)state;
	rules_bad("{}", NULL, "rules must be a JSON array");
	rules_bad("[1]", NULL, "rule 0: must be an object");
	rules_bad("[{\"rule\":\"required\"}]", NULL, "rule 0: \"field\" must be");
	rules_bad("[{\"field\":\"\",\"rule\":\"required\"}]", NULL, "\"field\" must be");
	rules_bad("[{\"field\":\"a\\u0000b\",\"rule\":\"required\"}]", NULL, "\"field\" must be");
	rules_bad("[{\"field\":\"a\",\"rule\":\"required\"},{\"field\":\"b\",\"rule\":\"nonempty\"}]",
		  NULL, "rule 1 (field \"b\"): unknown rule");
	rules_bad("[{\"field\":\"a\"}]", NULL, "unknown rule");
	rules_bad("[{\"field\":\"zip\",\"rule\":\"required\"}]", "[\"a\",\"b\"]",
		  "rule 0 (field \"zip\"): unknown field");
	rules_bad("[{\"field\":\"zip\",\"rule\":\"required\"}]", "{\"a\":1}", "unknown field");
	rules_bad("[{\"field\":\"zip\",\"rule\":\"required\"}]", "[{\"name\":\"a\"}]",
		  "unknown field");
	rules_bad("[]", "\"a\"", "schema must be");
	rules_bad("[]", "[1]", "schema must be");
	rules_bad("[{\"field\":\"a\",\"rule\":\"range\",\"maxx\":3}]", NULL,
		  "unknown key \"maxx\" for rule range");
	rules_bad("[{\"field\":\"a\",\"rule\":\"required\",\"min\":3}]", NULL, "unknown key \"min\"");
	rules_bad("[{\"field\":\"a\",\"rule\":\"range\",\"min\":5,\"max\":1}]", NULL,
		  "rule 0 (field \"a\"): \"min\" is greater than \"max\"");
	rules_bad("[{\"field\":\"a\",\"rule\":\"range\"}]", NULL, "range needs \"min\", \"max\"");
	rules_bad("[{\"field\":\"a\",\"rule\":\"range\",\"min\":\"0\"}]", NULL, "must be numbers");
	rules_bad("[{\"field\":\"a\",\"rule\":\"type\",\"type\":\"float\"}]", NULL,
		  "\"type\" must be string, integer");
	rules_bad("[{\"field\":\"a\",\"rule\":\"type\"}]", NULL, "\"type\" must be");
	rules_bad("[{\"field\":\"a\",\"rule\":\"enum\",\"values\":[]}]", NULL, "\"values\" must be");
	rules_bad("[{\"field\":\"a\",\"rule\":\"enum\",\"values\":\"a\"}]", NULL, "\"values\" must be");
	rules_bad("[{\"field\":\"a\",\"rule\":\"enum\",\"values\":[\"x\",2]}]", NULL,
		  "\"values\"[1] must be a string");
	rules_bad("[{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":\"([a-z\"}]", NULL,
		  "not a valid POSIX extended regular expression");
	rules_bad("[{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":\"\"}]", NULL,
		  "\"pattern\" must be a non-empty string");
	rules_bad("[{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":\"^(a*)\\\\1$\"}]", NULL,
		  "back-references are not allowed");
	rules_bad("[{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":\"((a{255}){255}){255}\"}]",
		  NULL, "too large");
	rules_bad("[{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":\"a{256}\"}]", NULL,
		  "above 255");
	rules_bad("[{\"field\":\"a\",\"rule\":\"checksum\",\"kind\":\"passport\"}]", NULL,
		  "\"kind\" must be resident_id, uscc");
	rules_bad("[{\"field\":\"a\",\"rule\":\"reference\",\"dataset\":\"d\"}]", NULL,
		  "\"dataset\" and \"ref_field\" must be");
	rules_bad("[{\"field\":\"a\",\"rule\":\"required\",\"severity\":\"fatal\"}]", NULL,
		  "\"severity\" must be");

	{
		char pat[QUALITY_PATTERN_MAX + 2], text[QUALITY_PATTERN_MAX + 128];

		memset(pat, 'a', sizeof(pat) - 1);
		pat[sizeof(pat) - 1] = '\0';
		snprintf(text, sizeof(text),
			 "[{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":\"%s\"}]", pat);
		rules_bad(text, NULL, "longer than 256 bytes");
	}

	off += (size_t)snprintf(many + off, sizeof(many) - off, "[");
	for (int i = 0; i < QUALITY_MAX_RULES + 1; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
					"%s{\"field\":\"f\",\"rule\":\"required\"}", i ? "," : "");
	snprintf(many + off, sizeof(many) - off, "]");
	rules_bad(many, NULL, "too many rules");

	/* Patterns that are fine despite brackets, braces and escapes. */
	quality_rules_free(rules_ok("[{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":"
				    "\"^[]{}a-z]{1,20}\\\\{9\\\\}[[:digit:]]{3}(x{2}|y){2,}$\"}]", NULL));
}

static void test_parse_args(void **state)
{
	struct quality_rules *q = NULL;
	json_t *r = js("[]");

	(void)state;
	assert_int_equal(quality_rules_parse(r, NULL, NULL, NULL, 0), GV_ERR_INVALID);
	/* why may be NULL. */
	assert_int_equal(quality_rules_parse(r, NULL, &q, NULL, 0), GV_OK);
	quality_rules_free(q);
	json_decref(r);
}

static void test_required(void **state)
{
	struct quality_result res;
	const char *rule = "{\"field\":\"a\",\"rule\":\"required\"}";

	(void)state;
	assert_int_equal(one_rule(rule, "{\"a\":\"x\"}", &res), 0);
	assert_int_equal(res.verdict, QUALITY_ROW_ACCEPTED);
	assert_int_equal(one_rule(rule, "{\"a\":0}", &res), 0);
	assert_int_equal(one_rule(rule, "{\"a\":false}", &res), 0);
	assert_int_equal(one_rule(rule, "{}", &res), 1);
	assert_int_equal(res.issues[0].kind, QUALITY_REQUIRED);
	assert_int_equal(res.issues[0].outcome, QUALITY_VIOLATED);
	assert_string_equal(res.issues[0].reason, "value is missing");
	assert_int_equal(res.verdict, QUALITY_ROW_QUARANTINED);
	assert_int_equal(one_rule(rule, "{\"a\":null}", &res), 1);
	assert_int_equal(one_rule(rule, "{\"a\":\"\"}", &res), 1);
}

/* Missing values are only the business of `required`. */
static void test_missing_skipped(void **state)
{
	struct quality_rules *q;
	struct quality_result res;
	struct hook_log log = {0};
	struct quality_hooks h = {&log, hook_seen, hook_exists};

	(void)state;
	q = rules_ok("[{\"field\":\"a\",\"rule\":\"type\",\"type\":\"integer\"},"
		     "{\"field\":\"a\",\"rule\":\"range\",\"min\":1},"
		     "{\"field\":\"a\",\"rule\":\"enum\",\"values\":[\"x\"]},"
		     "{\"field\":\"a\",\"rule\":\"pattern\",\"pattern\":\"^x$\"},"
		     "{\"field\":\"a\",\"rule\":\"checksum\",\"kind\":\"mobile\"},"
		     "{\"field\":\"a\",\"rule\":\"unique\"},"
		     "{\"field\":\"a\",\"rule\":\"reference\",\"dataset\":\"d\",\"ref_field\":\"f\"}]",
		     NULL);
	check(q, "{}", &h, &res);
	assert_int_equal(res.n, 0);
	check(q, "{\"a\":null}", &h, &res);
	assert_int_equal(res.n, 0);
	check(q, "{\"a\":\"\"}", &h, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.verdict, QUALITY_ROW_ACCEPTED);
	assert_int_equal(log.seen_calls + log.exists_calls, 0);
	quality_rules_free(q);
}

static void test_type(void **state)
{
	static const struct {
		const char *type, *value;
		int ok;
	} cases[] = {
		{"string", "\"x\"", 1},        {"string", "1", 0},
		{"string", "true", 0},         {"string", "{\"k\":1}", 0},
		{"integer", "42", 1},          {"integer", "-7", 1},
		{"integer", "\"42\"", 1},      {"integer", "\"-0\"", 1},
		{"integer", "42.0", 0},        {"integer", "\"4.2\"", 0},
		{"integer", "\"007\"", 0},     {"integer", "\"+1\"", 0},
		{"integer", "\" 1\"", 0},      {"integer", "\"1e3\"", 0},
		{"integer", "\"99999999999999999999\"", 0},
		{"integer", "true", 0},        {"number", "4.5", 1},
		{"number", "4", 1},            {"number", "\"-4.5e-3\"", 1},
		{"number", "\"4.\"", 0},       {"number", "\".5\"", 0},
		{"number", "\"1e999\"", 0},    {"number", "\"nan\"", 0},
		{"number", "\"0x10\"", 0},     {"number", "[1]", 0},
		{"boolean", "true", 1},        {"boolean", "false", 1},
		{"boolean", "\"true\"", 1},    {"boolean", "\"false\"", 1},
		{"boolean", "\"TRUE\"", 0},    {"boolean", "1", 0},
		{"date", "\"2024-02-29\"", 1}, {"date", "\"2023-02-29\"", 0},
		{"date", "\"2024-2-29\"", 0},  {"date", "\"2024-04-31\"", 0},
		{"date", "\"2024-13-01\"", 0}, {"date", "\"2024-02-29T00:00\"", 0},
		{"date", "\"0000-01-01\"", 0}, {"date", "20240229", 0},
		{"date", "\"2024/02/29\"", 0},
	};
	char rule[128], row[128];
	struct quality_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rule, sizeof(rule), "{\"field\":\"v\",\"rule\":\"type\",\"type\":\"%s\"}",
			 cases[i].type);
		snprintf(row, sizeof(row), "{\"v\":%s}", cases[i].value);
		if (one_rule(rule, row, &res) != (size_t)!cases[i].ok)
			fail_msg("type %s, value %s: expected %s", cases[i].type, cases[i].value,
				 cases[i].ok ? "pass" : "fail");
		if (!cases[i].ok) {
			char want[64];

			snprintf(want, sizeof(want), "not a valid %s", cases[i].type);
			assert_string_equal(res.issues[0].reason, want);
		}
	}
}

static void test_range(void **state)
{
	struct quality_result res;
	const char *r = "{\"field\":\"age\",\"rule\":\"range\",\"min\":0,\"max\":150}";

	(void)state;
	assert_int_equal(one_rule(r, "{\"age\":0}", &res), 0);
	assert_int_equal(one_rule(r, "{\"age\":150}", &res), 0);
	assert_int_equal(one_rule(r, "{\"age\":\"42\"}", &res), 0);
	assert_int_equal(one_rule(r, "{\"age\":149.5}", &res), 0);
	assert_int_equal(one_rule(r, "{\"age\":150.01}", &res), 1);
	assert_string_equal(res.issues[0].reason, "above the maximum 150");
	assert_int_equal(one_rule(r, "{\"age\":-1}", &res), 1);
	assert_string_equal(res.issues[0].reason, "below the minimum 0");
	assert_int_equal(one_rule(r, "{\"age\":\"200\"}", &res), 1);
	assert_int_equal(one_rule(r, "{\"age\":\"old\"}", &res), 1);
	assert_string_equal(res.issues[0].reason, "not a number");
	assert_int_equal(one_rule(r, "{\"age\":true}", &res), 1);
	/* One-sided bounds. */
	assert_int_equal(one_rule("{\"field\":\"x\",\"rule\":\"range\",\"min\":-2.5}",
				  "{\"x\":1e300}", &res), 0);
	assert_int_equal(one_rule("{\"field\":\"x\",\"rule\":\"range\",\"min\":-2.5}",
				  "{\"x\":-3}", &res), 1);
	assert_int_equal(one_rule("{\"field\":\"x\",\"rule\":\"range\",\"max\":10}",
				  "{\"x\":-1e300}", &res), 0);
	assert_int_equal(one_rule("{\"field\":\"x\",\"rule\":\"range\",\"min\":3,\"max\":3}",
				  "{\"x\":3}", &res), 0);
}

static void test_enum(void **state)
{
	struct quality_result res;
	const char *r = "{\"field\":\"s\",\"rule\":\"enum\",\"values\":[\"a\",\"b\",\"1\",\"true\"]}";

	(void)state;
	assert_int_equal(one_rule(r, "{\"s\":\"a\"}", &res), 0);
	assert_int_equal(one_rule(r, "{\"s\":\"b\"}", &res), 0);
	assert_int_equal(one_rule(r, "{\"s\":1}", &res), 0);    /* integers compare as decimal */
	assert_int_equal(one_rule(r, "{\"s\":true}", &res), 0);
	assert_int_equal(one_rule(r, "{\"s\":\"A\"}", &res), 1); /* case-sensitive */
	assert_string_equal(res.issues[0].reason, "not one of the allowed values");
	assert_int_equal(one_rule(r, "{\"s\":\"c\"}", &res), 1);
	assert_int_equal(one_rule(r, "{\"s\":[\"a\"]}", &res), 1);
	assert_string_equal(res.issues[0].reason, "not a text or scalar value");
	/* A NUL would cut "a\0evil" short to "a" in C; such strings never match. */
	assert_int_equal(one_rule(r, "{\"s\":\"a\\u0000evil\"}", &res), 1);
}

static void test_pattern(void **state)
{
	struct quality_result res;
	const char *r = "{\"field\":\"p\",\"rule\":\"pattern\",\"pattern\":\"^1[3-9][0-9]{9}$\"}";
	char row[QUALITY_PATTERN_VALUE_MAX + 32];

	(void)state;
	assert_int_equal(one_rule(r, "{\"p\":\"13800138000\"}", &res), 0);
	assert_int_equal(one_rule(r, "{\"p\":13800138000}", &res), 0);
	assert_int_equal(one_rule(r, "{\"p\":\"12800138000\"}", &res), 1);
	assert_string_equal(res.issues[0].reason, "does not match the pattern");
	assert_int_equal(one_rule(r, "{\"p\":\"138001380001\"}", &res), 1);
	assert_int_equal(one_rule(r, "{\"p\":\"13800138000\\u0000x\"}", &res), 1);
	assert_string_equal(res.issues[0].reason, "not a text or scalar value");
	/* Unanchored patterns match anywhere. */
	assert_int_equal(one_rule("{\"field\":\"p\",\"rule\":\"pattern\",\"pattern\":\"b+\"}",
				  "{\"p\":\"abbc\"}", &res), 0);

	memcpy(row, "{\"p\":\"", 6);
	memset(row + 6, 'b', QUALITY_PATTERN_VALUE_MAX + 1);
	snprintf(row + 6 + QUALITY_PATTERN_VALUE_MAX + 1, 4, "\"}");
	assert_int_equal(one_rule("{\"field\":\"p\",\"rule\":\"pattern\",\"pattern\":\"b+\"}", row,
				  &res), 1);
	assert_string_equal(res.issues[0].reason, "longer than 4096 bytes, not matched");
}

static void test_checksum(void **state)
{
	static const struct {
		const char *kind, *good, *bad;
	} cases[] = {
		{"resident_id", "\"11010519491231002X\"", "\"110105194912310021\""},
		{"uscc", "\"91350100M000100Y43\"", "\"91350100M000100Y44\""},
		{"org_code", "\"M000100Y4\"", "\"M000100Y5\""},
		{"bank_card", "\"4111111111111111\"", "\"4111111111111112\""},
		{"bank_card", "4111111111111111", "4111111111111121"},
		{"mobile", "\"13800138000\"", "\"12800138000\""},
	};
	char rule[128], row[128];
	struct quality_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rule, sizeof(rule), "{\"field\":\"v\",\"rule\":\"checksum\",\"kind\":\"%s\"}",
			 cases[i].kind);
		snprintf(row, sizeof(row), "{\"v\":%s}", cases[i].good);
		assert_int_equal(one_rule(rule, row, &res), 0);
		snprintf(row, sizeof(row), "{\"v\":%s}", cases[i].bad);
		assert_int_equal(one_rule(rule, row, &res), 1);
		assert_int_equal(res.issues[0].kind, QUALITY_CHECKSUM);
	}
	one_rule("{\"field\":\"v\",\"rule\":\"checksum\",\"kind\":\"resident_id\"}",
		 "{\"v\":\"110105194912310021\"}", &res);
	assert_string_equal(res.issues[0].reason, "resident ID check character does not match");
	/* The reason never repeats the identifier. */
	assert_null(strstr(res.issues[0].reason, "110105"));
}

static void test_multiple_violations(void **state)
{
	struct quality_rules *q;
	struct quality_result res;
	struct hook_log log = {.seen_ret = 1, .exists_ret = 0};
	struct quality_hooks h = {&log, hook_seen, hook_exists};
	static const enum quality_rule_kind kinds[] = {
		QUALITY_CHECKSUM, QUALITY_RANGE, QUALITY_ENUM, QUALITY_PATTERN,
		QUALITY_TYPE, QUALITY_UNIQUE, QUALITY_REFERENCE,
	};

	(void)state;
	q = rules_ok(BRIEF_RULES, NULL);
	check(q, "{\"id_no\":\"11010519491231002X\",\"age\":30,\"status\":\"a\","
		 "\"phone\":\"13800138000\",\"name\":\"Li\",\"dept\":\"D1\"}", NULL, &res);
	/* Everything passes except the two storage rules, which have no hooks. */
	assert_int_equal(res.n, 2);
	assert_int_equal(res.violated, 0);
	assert_int_equal(res.not_checked, 2);
	assert_int_equal(res.verdict, QUALITY_ROW_FLAGGED);

	check(q, "{\"id_no\":\"110105194912310021\",\"age\":200,\"status\":\"c\","
		 "\"phone\":\"1380013800\",\"name\":7,\"dept\":\"D9\"}", &h, &res);
	assert_int_equal(res.n, 7);
	assert_int_equal(res.violated, 7);
	assert_int_equal(res.not_checked, 0);
	assert_int_equal(res.verdict, QUALITY_ROW_QUARANTINED);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(res.issues[i].rule, (int)i + 1);
		assert_int_equal(res.issues[i].kind, kinds[i]);
		assert_int_equal(res.issues[i].outcome, QUALITY_VIOLATED);
		assert_true(res.issues[i].reason[0] != '\0');
	}
	assert_string_equal(res.issues[0].field, "id_no");
	assert_string_equal(res.issues[1].field, "age");
	assert_string_equal(res.issues[1].reason, "above the maximum 150");
	assert_string_equal(res.issues[4].field, "name");
	assert_string_equal(res.issues[5].reason, "duplicate value");
	assert_string_equal(res.issues[6].field, "dept");
	assert_string_equal(res.issues[6].reason, "no record in departments with this code");

	/* A missing id_no: required fails, the other id_no rules skip. */
	check(q, "{\"age\":-1,\"status\":\"a\"}", &h, &res);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.issues[0].kind, QUALITY_REQUIRED);
	assert_int_equal(res.issues[0].rule, 0);
	assert_int_equal(res.issues[1].kind, QUALITY_RANGE);
	quality_rules_free(q);
}

static void test_hooks_arguments(void **state)
{
	struct quality_rules *q;
	struct quality_result res;
	struct hook_log log = {.exists_ret = 1};
	struct quality_hooks h = {&log, hook_seen, hook_exists};
	json_t *row;

	(void)state;
	q = rules_ok("[{\"field\":\"x\",\"rule\":\"required\"},"
		     "{\"field\":\"id_no\",\"rule\":\"unique\"},"
		     "{\"field\":\"dept\",\"rule\":\"reference\",\"dataset\":\"departments\","
		     "\"ref_field\":\"code\"}]", NULL);
	check(q, "{\"x\":1,\"id_no\":\"11010519491231002X\",\"dept\":\"D1\"}", &h, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.verdict, QUALITY_ROW_ACCEPTED);
	assert_int_equal(log.seen_calls, 1);
	assert_int_equal(log.seen_rule, 1);
	assert_string_equal(log.seen_field, "id_no");
	assert_string_equal(log.seen_value, "11010519491231002X");
	assert_int_equal(log.exists_calls, 1);
	assert_string_equal(log.ex_dataset, "departments");
	assert_string_equal(log.ex_field, "code");
	assert_string_equal(log.ex_value, "D1");

	/* Integer values reach the hooks as decimal text. */
	check(q, "{\"x\":1,\"id_no\":42,\"dept\":7}", &h, &res);
	assert_string_equal(log.seen_value, "42");
	assert_string_equal(log.ex_value, "7");

	log.seen_ret = 1;
	check(q, "{\"x\":1,\"id_no\":\"a\",\"dept\":\"D1\"}", &h, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.issues[0].kind, QUALITY_UNIQUE);
	assert_string_equal(res.issues[0].reason, "duplicate value");

	/* A failing hook aborts the row with a store error. */
	log.seen_ret = -1;
	row = js("{\"x\":1,\"id_no\":\"a\",\"dept\":\"D1\"}");
	assert_int_equal(quality_check_row(q, row, &h, &res), GV_ERR_STORE);
	log.seen_ret = 0;
	log.exists_ret = -1;
	assert_int_equal(quality_check_row(q, row, &h, &res), GV_ERR_STORE);
	json_decref(row);
	quality_rules_free(q);
}

static void test_hooks_missing(void **state)
{
	struct quality_rules *q;
	struct quality_result res;
	struct hook_log log = {.exists_ret = 1};
	struct quality_hooks only_exists = {&log, NULL, hook_exists};
	struct quality_hooks none = {0};

	(void)state;
	q = rules_ok("[{\"field\":\"id\",\"rule\":\"unique\"},"
		     "{\"field\":\"d\",\"rule\":\"reference\",\"dataset\":\"ds\",\"ref_field\":\"c\"}]",
		     NULL);
	check(q, "{\"id\":\"a\",\"d\":\"b\"}", NULL, &res);
	assert_int_equal(res.n, 2);
	assert_int_equal(res.not_checked, 2);
	assert_int_equal(res.violated, 0);
	assert_int_equal(res.issues[0].outcome, QUALITY_NOT_CHECKED);
	assert_string_equal(res.issues[0].reason, "no uniqueness hook configured");
	assert_int_equal(res.issues[1].outcome, QUALITY_NOT_CHECKED);
	assert_string_equal(res.issues[1].reason, "no reference hook configured");
	assert_int_equal(res.verdict, QUALITY_ROW_FLAGGED);

	check(q, "{\"id\":\"a\",\"d\":\"b\"}", &none, &res);
	assert_int_equal(res.not_checked, 2);

	check(q, "{\"id\":\"a\",\"d\":\"b\"}", &only_exists, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.issues[0].kind, QUALITY_UNIQUE);
	assert_int_equal(res.issues[0].outcome, QUALITY_NOT_CHECKED);
	assert_int_equal(log.exists_calls, 1);
	quality_rules_free(q);
}

static void test_severity_and_row_errors(void **state)
{
	struct quality_rules *q;
	struct quality_result res;
	json_t *arr;

	(void)state;
	q = rules_ok("[{\"field\":\"a\",\"rule\":\"required\",\"severity\":\"warning\"},"
		     "{\"field\":\"b\",\"rule\":\"required\",\"severity\":\"error\"}]", NULL);
	check(q, "{\"b\":1}", NULL, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.verdict, QUALITY_ROW_FLAGGED);
	check(q, "{}", NULL, &res);
	assert_int_equal(res.verdict, QUALITY_ROW_QUARANTINED);
	check(q, "{\"a\":1,\"b\":1}", NULL, &res);
	assert_int_equal(res.verdict, QUALITY_ROW_ACCEPTED);

	arr = js("[1]");
	assert_int_equal(quality_check_row(q, arr, NULL, &res), GV_ERR_INVALID);
	assert_int_equal(quality_check_row(q, NULL, NULL, &res), GV_ERR_INVALID);
	assert_int_equal(quality_check_row(NULL, arr, NULL, &res), GV_ERR_INVALID);
	json_decref(arr);
	quality_rules_free(q);

	assert_string_equal(quality_rule_name(QUALITY_REFERENCE), "reference");
	assert_string_equal(quality_rule_name(QUALITY__KIND_COUNT), "unknown");
	assert_string_equal(quality_outcome_name(QUALITY_NOT_CHECKED), "not_checked");
	assert_string_equal(quality_verdict_name(QUALITY_ROW_FLAGGED), "flagged");
}

static void test_report(void **state)
{
	struct quality_rules *q, *other;
	struct quality_result res;
	struct quality_report rep;
	json_t *out = NULL, *rules, *r;

	(void)state;
	q = rules_ok("[{\"field\":\"a\",\"rule\":\"required\"},"
		     "{\"field\":\"b\",\"rule\":\"range\",\"max\":5,\"severity\":\"warning\"},"
		     "{\"field\":\"a\",\"rule\":\"unique\"}]", NULL);
	quality_report_init(&rep, q);
	check(q, "{\"a\":1,\"b\":1}", NULL, &res); /* flagged: unique not checked */
	quality_report_add(&rep, &res);
	check(q, "{\"b\":9}", NULL, &res);         /* quarantined: required; range warns */
	quality_report_add(&rep, &res);
	check(q, "{\"a\":2,\"b\":9}", NULL, &res); /* flagged */
	quality_report_add(&rep, &res);
	{
		struct quality_hooks h = {NULL, NULL, NULL};
		struct quality_rules *q2 = rules_ok("[{\"field\":\"a\",\"rule\":\"required\"}]", NULL);

		check(q2, "{\"a\":1}", &h, &res); /* accepted (counted against q's report) */
		quality_report_add(&rep, &res);
		quality_rules_free(q2);
	}
	assert_int_equal(rep.rows, 4);
	assert_int_equal(rep.accepted, 1);
	assert_int_equal(rep.flagged, 2);
	assert_int_equal(rep.quarantined, 1);
	assert_int_equal(rep.violated[0], 1);
	assert_int_equal(rep.violated[1], 2);
	assert_int_equal(rep.not_checked[2], 2);

	assert_int_equal(quality_report_json(&rep, q, &out), GV_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "rows")), 4);
	assert_int_equal(json_integer_value(json_object_get(out, "accepted")), 1);
	assert_int_equal(json_integer_value(json_object_get(out, "flagged")), 2);
	assert_int_equal(json_integer_value(json_object_get(out, "quarantined")), 1);
	rules = json_object_get(out, "rules");
	assert_int_equal(json_array_size(rules), 3);
	r = json_array_get(rules, 1);
	assert_int_equal(json_integer_value(json_object_get(r, "index")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "field")), "b");
	assert_string_equal(json_string_value(json_object_get(r, "rule")), "range");
	assert_string_equal(json_string_value(json_object_get(r, "severity")), "warning");
	assert_int_equal(json_integer_value(json_object_get(r, "violated")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "not_checked")), 0);
	r = json_array_get(rules, 2);
	assert_string_equal(json_string_value(json_object_get(r, "rule")), "unique");
	assert_int_equal(json_integer_value(json_object_get(r, "not_checked")), 2);
	json_decref(out);

	/* A report must be rendered with the rules it counted. */
	other = rules_ok("[]", NULL);
	assert_int_equal(quality_report_json(&rep, other, &out), GV_ERR_INVALID);
	assert_null(out);
	quality_rules_free(other);
	quality_rules_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_brief_example),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_missing_skipped),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_multiple_violations),
		cmocka_unit_test(test_hooks_arguments),
		cmocka_unit_test(test_hooks_missing),
		cmocka_unit_test(test_severity_and_row_errors),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
