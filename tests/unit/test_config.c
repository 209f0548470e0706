/* test_config.c - defaults, overrides, refusals with file:line, round trip, reload set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"

static gv_err parse(const char *text, struct gv_config *c, char *err, size_t errlen)
{
	config_defaults(c);
	return config_parse(text, strlen(text), "t.conf", c, err, errlen);
}

static void test_defaults(void **state)
{
	struct gv_config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.port, 8443);
	assert_string_equal(c.listen, "127.0.0.1");
	assert_int_equal(c.pw_min_length, 12);
	assert_int_equal(c.pw_min_classes, 3);
	assert_int_equal(c.pw_history, 5);
	assert_int_equal(c.pw_max_age_days, 90);
	assert_int_equal(c.lock_max_failures, 5);
	assert_int_equal(c.lock_duration_s, 1800);
	assert_int_equal(c.session_idle_s, 900);
	assert_int_equal(c.session_absolute_s, 28800);
	assert_int_equal(c.argon2_memory_kib, 65536);
	assert_int_equal(c.argon2_iterations, 3);
	assert_int_equal(c.dormant_days, 90);
	assert_int_equal(c.utc_offset_min, 480);
}

static void test_overrides(void **state)
{
	struct gv_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse("# comment\n[server]\nport = 9000\ntls = off\n; c\n[accounts]\n"
			       "utc_offset = -05:30\n[server]\nport=9001\n",
			       &c, err, sizeof(err)),
			 GV_OK);
	assert_int_equal(c.port, 9001);
	assert_int_equal(c.tls, 0);
	assert_int_equal(c.utc_offset_min, -330);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *text;
		const char *where;
	} bad[] = {
		{"[nope]\n", "t.conf:1:"},
		{"[server]\nbogus = 1\n", "t.conf:2:"},
		{"[server]\n\nport = 70000\n", "t.conf:3:"},
		{"[server]\ntls = maybe\n", "t.conf:2:"},
		{"port = 1\n", "t.conf:1:"},
		{"[server]\nport\n", "t.conf:2:"},
		{"[log]\nlevel = loud\n", "t.conf:2:"},
		{"[accounts]\nutc_offset = 8\n", "t.conf:2:"},
		{"[storage]\nbackend = oracle\n", "t.conf:2:"},
	};
	struct gv_config c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].text, &c, err, sizeof(err)), GV_ERR_CONFIG);
		assert_non_null(strstr(err, bad[i].where));
	}
}

static void test_default_file_round_trip(void **state)
{
	struct gv_config a, b;
	struct gv_buf out;
	char err[256];

	(void)state;
	buf_init(&out, 1 << 20);
	assert_int_equal(config_format_default(&out), GV_OK);
	config_defaults(&a);
	config_defaults(&b);
	assert_int_equal(config_parse(out.data, out.len, "d.conf", &b, err, sizeof(err)), GV_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	buf_release(&out);
}

static void test_load_resolves_paths(void **state)
{
	char dir[] = "/tmp/gvcfgXXXXXX", path[128];
	struct gv_config c;
	char err[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/govvault.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[storage]\npath = sub/x.db\n", f);
	fclose(f);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), GV_OK);
	assert_non_null(strstr(c.db_path, dir));
	assert_non_null(strstr(c.db_path, "/sub/x.db"));
	unlink(path);
	rmdir(dir);
}

static void test_reloadable(void **state)
{
	struct gv_config cur, next;

	(void)state;
	config_defaults(&cur);
	config_defaults(&next);
	next.port = 1;
	next.session_idle_s = 5;
	next.lock_max_failures = 9;
	config_apply_reloadable(&cur, &next);
	assert_int_equal(cur.port, 8443);
	assert_int_equal(cur.session_idle_s, 5);
	assert_int_equal(cur.lock_max_failures, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_refusals),     cmocka_unit_test(test_default_file_round_trip),
		cmocka_unit_test(test_load_resolves_paths), cmocka_unit_test(test_reloadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
