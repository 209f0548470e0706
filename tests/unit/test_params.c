/* test_params.c - data-service parameter specs and the check of a call's arguments
 * (share/params.h), and the per-consumer rate limit (share/ratelimit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "share/params.h"
#include "share/ratelimit.h"

static struct params_spec *parse(const char *text, char *why, size_t len)
{
	json_t *j = json_loads(text, 0, NULL);
	struct params_spec *s = NULL;

	assert_non_null(j);
	if (params_spec_parse(j, &s, why, len) != GV_OK)
		s = NULL;
	json_decref(j);
	return s;
}

static void test_spec_refusals(void **state)
{
	static const struct {
		const char *spec, *why;
	} bad[] = {
		{"{}", "array"},
		{"[1]", "must be an object"},
		{"[{\"name\":\"Id\"}]", "name must be"},
		{"[{\"name\":\"id\",\"colour\":1}]", "unknown key 'colour'"},
		{"[{\"name\":\"id\",\"type\":\"float\"}]", "type must be"},
		{"[{\"name\":\"id\",\"max_length\":0}]", "max_length"},
		{"[{\"name\":\"id\",\"max_length\":257}]", "max_length"},
		{"[{\"name\":\"id\",\"required\":\"yes\"}]", "required"},
		{"[{\"name\":\"id\",\"pattern\":\"(a\"}]", "does not compile"},
		{"[{\"name\":\"id\"},{\"name\":\"id\"}]", "declared twice"},
		{"[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":\"d\"},{\"name\":\"e\"},"
		 "{\"name\":\"f\"},{\"name\":\"g\"},{\"name\":\"h\"},{\"name\":\"i\"}]", "at most 8"},
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct params_spec *s = parse(bad[i].spec, why, sizeof(why));

		assert_null(s);
		if (!strstr(why, bad[i].why))
			fail_msg("%s: '%s' lacks '%s'", bad[i].spec, why, bad[i].why);
	}
}

static void test_spec_canonical(void **state)
{
	char why[256], *text;
	struct params_spec *s = parse("[{\"name\":\"id_no\",\"required\":true,\"pattern\":\"[0-9]+\"},"
				      "{\"name\":\"age\",\"type\":\"integer\",\"field\":\"years\"}]",
				      why, sizeof(why));
	json_t *j;

	(void)state;
	assert_non_null(s);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->p[1].field, "years");
	assert_int_equal(s->p[1].max_length, 19);   /* an integer never needs more */
	j = params_spec_json(s);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "[{\"field\":\"id_no\",\"max_length\":64,\"name\":\"id_no\","
			    "\"pattern\":\"[0-9]+\",\"required\":true,\"type\":\"string\"},"
			    "{\"field\":\"years\",\"max_length\":19,\"name\":\"age\",\"required\":false,"
			    "\"type\":\"integer\"}]");
	free(text);
	json_decref(j);
	params_spec_free(s);
}

static gv_err check(const struct params_spec *s, const char *const *kv, size_t n,
		    struct params_call *call, char *why)
{
	struct params_arg a[8];

	for (size_t i = 0; i < n; i++) {
		a[i].name = kv[2 * i];
		a[i].value = kv[2 * i + 1];
		a[i].len = kv[2 * i + 1] ? strlen(kv[2 * i + 1]) : 0;
	}
	return params_check(s, a, n, call, why, 256);
}

static void test_check(void **state)
{
	char why[256];
	struct params_call call;
	struct params_spec *s = parse(
		"[{\"name\":\"id_no\",\"required\":true,\"max_length\":18,\"pattern\":\"[0-9]{17}[0-9X]\"},"
		"{\"name\":\"age\",\"type\":\"integer\"},{\"name\":\"district\",\"max_length\":4}]",
		why, sizeof(why));
	static const char *const ok[] = {"district", "east", "id_no", "11010519491231002X"};
	static const struct {
		const char *kv[4];
		size_t n;
		const char *why;
	} bad[] = {
		{{"district", "east"}, 1, "'id_no' is required"},
		{{"id_no", "11010519491231002X", "limit", "9"}, 2, "unknown parameter 'limit'"},
		{{"id_no", "11010519491231002X", "LIMIT", "9"}, 2, "(not a parameter name)"},
		{{"id_no", "11010519491231002X", "id_no", "11010519491231002X"}, 2, "given twice"},
		{{"id_no", "' OR 1=1 --"}, 1, "does not match"},
		{{"id_no", "110105194912310020"}, 1, NULL},                       /* fits the pattern */
		{{"id_no", "11010519491231002"}, 1, "does not match"},            /* anchored: whole */
		{{"id_no", "11010519491231002XX"}, 1, "longer than 18"},
		{{"id_no", "11010519491231002X", "age", "4x"}, 2, "must be an integer"},
		{{"id_no", "11010519491231002X", "age", "-"}, 2, "must be an integer"},
		{{"id_no", "11010519491231002X", "district", "north"}, 2, "longer than 4"},
		{{"id_no", ""}, 1, "is empty"},
		{{"id_no", NULL}, 1, "is empty"},
		{{"id_no", "1101051949\x01" "1231002"}, 1, "printable"},
	};

	(void)state;
	assert_non_null(s);
	assert_int_equal(check(s, ok, 2, &call, why), GV_OK);
	assert_string_equal(call.vals[0], "11010519491231002X");
	assert_null(call.vals[1]);
	assert_string_equal(call.vals[2], "east");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gv_err err = check(s, bad[i].kv, bad[i].n, &call, why);

		if (!bad[i].why) {
			assert_int_equal(err, GV_OK);
			continue;
		}
		assert_int_equal(err, GV_ERR_INVALID);
		if (!strstr(why, bad[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, why, bad[i].why);
		assert_null(strstr(why, "OR 1=1"));   /* never the value */
	}
	params_spec_free(s);
}

static void test_nul_inside(void **state)
{
	char why[256], value[] = "12345\0" "6789";
	struct params_call call;
	struct params_spec *s = parse("[{\"name\":\"code\"}]", why, sizeof(why));
	struct params_arg a = {"code", value, sizeof(value) - 1};

	(void)state;
	assert_int_equal(params_check(s, &a, 1, &call, why, sizeof(why)), GV_ERR_INVALID);
	assert_non_null(strstr(why, "printable"));
	params_spec_free(s);
}

/* A pattern that backtracks exponentially stops at the match limit: refused, quickly. */
static void test_backtracking_bounded(void **state)
{
	char why[256], value[257];
	struct params_call call;
	struct params_spec *s = parse("[{\"name\":\"q\",\"max_length\":256,\"pattern\":\"(a|aa)+b\"}]",
				      why, sizeof(why));
	struct params_arg a = {"q", value, 0};
	struct timespec t0, t1;

	(void)state;
	assert_non_null(s);
	memset(value, 'a', 200);
	value[200] = 'c';
	value[201] = '\0';
	a.len = 201;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(params_check(s, &a, 1, &call, why, sizeof(why)), GV_ERR_INVALID);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Unbounded, this would not end in the life of the machine; bounded, well under 1 s
	 * even under the sanitizers. */
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	params_spec_free(s);
}

static void test_rate_limit(void **state)
{
	int retry = 0;
	int64_t t = 1000000000000LL;

	(void)state;
	ratelimit_clear();
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_take(1, 7, 3, t, &retry));
	assert_false(ratelimit_take(1, 7, 3, t, &retry));
	assert_int_equal(retry, 20);                       /* one token per 20 s at 3/min */
	assert_true(ratelimit_take(2, 7, 3, t, &retry));   /* another consumer: its own bucket */
	assert_true(ratelimit_take(1, 8, 3, t, &retry));   /* another service too */
	assert_false(ratelimit_take(1, 7, 3, t + 19000000, &retry));
	assert_int_equal(retry, 1);
	assert_true(ratelimit_take(1, 7, 3, t + 20000000, &retry));
	/* A long pause refills to the minute's allowance, not beyond. */
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_take(1, 7, 3, t + 3600000000LL, &retry));
	assert_false(ratelimit_take(1, 7, 3, t + 3600000000LL, &retry));
	/* Many buckets: the table grows and keeps each one. */
	for (int64_t c = 100; c < 1100; c++)
		assert_true(ratelimit_take(c, 1, 1, t, &retry));
	for (int64_t c = 100; c < 1100; c++)
		assert_false(ratelimit_take(c, 1, 1, t, &retry));
	assert_false(ratelimit_take(5, 5, 0, t, &retry));   /* no allowance, no call */
	ratelimit_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_refusals),
		cmocka_unit_test(test_spec_canonical),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_nul_inside),
		cmocka_unit_test(test_backtracking_bounded),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
