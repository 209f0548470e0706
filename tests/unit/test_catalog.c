/* test_catalog.c - dataset schemas, record checks and the grading suggestion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "data/catalog.h"

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

static void test_schema_parse_and_errors(void **state)
{
	static const struct {
		const char *schema, *why;
	} bad[] = {
		{"{}", "schema must be"},
		{"{\"fields\":[]}", "schema must be"},
		{"{\"fields\":[{\"name\":\"A\",\"type\":\"string\"}]}", "name must be"},
		{"{\"fields\":[{\"name\":\"a\",\"type\":\"text\"}]}", "type must be"},
		{"{\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"kind\":\"iris\"}]}", "unknown kind"},
		{"{\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"colour\":1}]}", "unknown attribute 'colour'"},
		{"{\"fields\":[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"a\",\"type\":\"date\"}]}", "defined twice"},
		{"{\"fields\":[{\"name\":\"a\",\"type\":\"integer\",\"max_len\":3}]}", "max_len"},
		{"{\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"required\":1}]}", "true or false"},
		{"{\"fields\":[{\"name\":\"a\",\"type\":\"boolean\",\"indexed\":true}]}", "cannot be indexed"},
	};
	struct catalog_schema s;
	char why[256];
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i].schema);
		assert_int_equal(catalog_schema_parse(j, &s, why, sizeof(why)), GV_ERR_INVALID);
		if (!strstr(why, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, why, bad[i].why);
		json_decref(j);
	}
	j = parse("{\"fields\":[{\"name\":\"id_no\",\"type\":\"string\",\"kind\":\"resident_id\","
		  "\"required\":true,\"indexed\":true},{\"name\":\"note\",\"type\":\"string\","
		  "\"kind\":\"free_text\",\"sensitive\":false},{\"name\":\"n\",\"type\":\"integer\"}]}");
	assert_int_equal(catalog_schema_parse(j, &s, why, sizeof(why)), GV_OK);
	json_decref(j);
	assert_int_equal(s.nfields, 3);
	assert_true(s.fields[0].sensitive);   /* personal kinds are sensitive by default */
	assert_false(s.fields[1].sensitive);  /* unless declared otherwise */
	assert_false(s.fields[2].sensitive);
	assert_non_null(catalog_field_find(&s, "n"));
	assert_null(catalog_field_find(&s, "m"));
	/* find_next: the field it is told to try first, or any other; next follows it. */
	{
		int next = 0;

		assert_ptr_equal(catalog_field_find_next(&s, "id_no", &next), &s.fields[0]);
		assert_int_equal(next, 1);
		assert_ptr_equal(catalog_field_find_next(&s, "note", &next), &s.fields[1]);
		assert_int_equal(next, 2);
		assert_ptr_equal(catalog_field_find_next(&s, "id_no", &next), &s.fields[0]);   /* out of order */
		assert_int_equal(next, 1);
		assert_null(catalog_field_find_next(&s, "m", &next));   /* unknown: next stays */
		assert_int_equal(next, 1);
		next = 3;   /* past the end, as after the last field */
		assert_ptr_equal(catalog_field_find_next(&s, "n", &next), &s.fields[2]);
		assert_int_equal(next, 3);
		next = 3;
		assert_null(catalog_field_find_next(&s, "no", &next));
		assert_int_equal(next, 3);
	}
	/* Round trip through JSON. */
	{
		struct catalog_schema s2;
		json_t *back = catalog_schema_json(&s);

		assert_int_equal(catalog_schema_parse(back, &s2, why, sizeof(why)), GV_OK);
		assert_memory_equal(&s, &s2, sizeof(s));
		json_decref(back);
	}
}

static void test_grade_suggestion(void **state)
{
	struct catalog_schema s;
	struct catalog_policy p = {0, 100000};
	char why[256];
	json_t *j;

	(void)state;
	assert_int_equal(catalog_kinds_parse("resident_id, bank_card", &p.important_kinds, why,
					     sizeof(why)), GV_OK);
	assert_int_equal(catalog_kinds_parse("resident_id,iris", &p.important_kinds, why, sizeof(why)),
			 GV_ERR_INVALID);
	assert_non_null(strstr(why, "iris"));
	assert_int_equal(catalog_kinds_parse("resident_id,bank_card", &p.important_kinds, why,
					     sizeof(why)), GV_OK);
	j = parse("{\"fields\":[{\"name\":\"code\",\"type\":\"string\",\"kind\":\"uscc\"}]}");
	assert_int_equal(catalog_schema_parse(j, &s, why, sizeof(why)), GV_OK);
	json_decref(j);
	assert_int_equal(catalog_grade_suggest(&s, 10, &p, why, sizeof(why)), 1);
	j = parse("{\"fields\":[{\"name\":\"tel\",\"type\":\"string\",\"kind\":\"mobile\"}]}");
	assert_int_equal(catalog_schema_parse(j, &s, why, sizeof(why)), GV_OK);
	json_decref(j);
	assert_int_equal(catalog_grade_suggest(&s, 10, &p, why, sizeof(why)), 2);
	assert_non_null(strstr(why, "tel"));
	assert_int_equal(catalog_grade_suggest(&s, 100000, &p, why, sizeof(why)), 3);
	j = parse("{\"fields\":[{\"name\":\"id_no\",\"type\":\"string\",\"kind\":\"resident_id\"}]}");
	assert_int_equal(catalog_schema_parse(j, &s, why, sizeof(why)), GV_OK);
	json_decref(j);
	assert_int_equal(catalog_grade_suggest(&s, 1, &p, why, sizeof(why)), 3);
	assert_non_null(strstr(why, "important"));
}

static void test_record_check(void **state)
{
	static const struct {
		const char *rec, *why;
	} bad[] = {
		{"[]", "JSON object"},
		{"{\"name\":\"x\"}", "'born' is required"},
		{"{\"name\":\"x\",\"born\":\"2001-02-29\"}", "date"},
		{"{\"name\":\"x\",\"born\":\"2000-02-29\",\"age\":1.5}", "integer"},
		{"{\"name\":\"x\",\"born\":\"2000-02-29\",\"extra\":1}", "unknown field 'extra'"},
		{"{\"name\":\"abcdefghijk\",\"born\":\"2000-02-29\"}", "max_len"},
		{"{\"name\":null,\"born\":\"2000-02-29\"}", "'name' is required"},
	};
	struct catalog_schema s;
	char why[256];
	json_t *j = parse("{\"fields\":[{\"name\":\"name\",\"type\":\"string\",\"kind\":\"name\","
			  "\"required\":true,\"max_len\":10},{\"name\":\"born\",\"type\":\"date\","
			  "\"required\":true},{\"name\":\"age\",\"type\":\"integer\"}]}");

	(void)state;
	assert_int_equal(catalog_schema_parse(j, &s, why, sizeof(why)), GV_OK);
	json_decref(j);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse(bad[i].rec);
		assert_int_equal(catalog_record_check(&s, j, why, sizeof(why)), GV_ERR_INVALID);
		if (!strstr(why, bad[i].why))
			fail_msg("case %zu: '%s' does not say '%s'", i, why, bad[i].why);
		json_decref(j);
	}
	j = parse("{\"name\":\"张三\",\"born\":\"2000-02-29\",\"age\":null}");
	assert_int_equal(catalog_record_check(&s, j, why, sizeof(why)), GV_OK);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema_parse_and_errors),
		cmocka_unit_test(test_grade_suggestion),
		cmocka_unit_test(test_record_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
