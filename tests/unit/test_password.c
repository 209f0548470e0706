/* test_password.c - Argon2id wrapper, password policy, common-password list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/password.h"
#include "crypto/crypto.h"

static const struct password_params cheap = {1024, 1, 1};

static void test_hash_verify(void **state)
{
	char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash(&cheap, "Correct-Horse-9", h, sizeof(h)), GV_OK);
	assert_non_null(strstr(h, "$argon2id$"));
	assert_int_equal(password_verify(h, "Correct-Horse-9"), GV_OK);
	assert_int_equal(password_verify(h, "Correct-Horse-8"), GV_ERR_AUTH);
	assert_int_equal(password_hash(&cheap, "Correct-Horse-9", h2, sizeof(h2)), GV_OK);
	assert_string_not_equal(h, h2); /* salted */
}

static void test_needs_rehash(void **state)
{
	struct password_params p = {1024, 1, 1}, q = {2048, 1, 1};
	char h[PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(password_hash(&p, "Correct-Horse-9", h, sizeof(h)), GV_OK);
	assert_false(password_needs_rehash(h, &p));
	assert_true(password_needs_rehash(h, &q));
	q.memory_kib = 1024;
	q.iterations = 2;
	assert_true(password_needs_rehash(h, &q));
	assert_true(password_needs_rehash("$argon2i$v=19$m=1024,t=1,p=1$x$y", &p));
	assert_true(password_needs_rehash("", &p));
}

static void test_policy(void **state)
{
	static const char *const words[] = {"Password123!", "letmein"};
	struct password_policy pol = {12, 3, NULL};
	struct pw_common *set;
	const char *why;

	(void)state;
	assert_int_equal(pw_common_from_words(words, 2, &set), GV_OK);
	pol.common = set;
	assert_int_equal(password_check_policy(&pol, "alice", "Sh0rt!", &why), GV_ERR_POLICY);
	assert_non_null(strstr(why, "shorter"));
	assert_int_equal(password_check_policy(&pol, "alice", "alllowercaseletters", &why), GV_ERR_POLICY);
	assert_int_equal(password_check_policy(&pol, "alice", "xxALICExx-2026", &why), GV_ERR_POLICY);
	assert_non_null(strstr(why, "username"));
	assert_int_equal(password_check_policy(&pol, "bob", "PASSWORD123!", &why), GV_ERR_POLICY);
	assert_non_null(strstr(why, "common"));
	assert_int_equal(password_check_policy(&pol, "bob", "Tr1cky-Meadow", &why), GV_OK);
	assert_int_equal(password_check_policy(&pol, "bob", "Tr1cky-\x01Meadow", &why), GV_ERR_POLICY);
	pw_common_free(set);
}

static void test_common_file(void **state)
{
	char path[] = "/tmp/gvpwXXXXXX";
	struct pw_common *set;
	int fd;
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("#!comment: list header\r\nQwerty123\r\ndragon\n", f);
	fclose(f);
	assert_int_equal(pw_common_load(path, &set), GV_OK);
	assert_int_equal(pw_common_size(set), 2);
	assert_true(pw_common_contains(set, "qwerty123"));
	assert_true(pw_common_contains(set, "DRAGON"));
	assert_false(pw_common_contains(set, "#!comment: list header"));
	pw_common_free(set);
	unlink(path);
	assert_int_equal(pw_common_load("/nonexistent/list", &set), GV_ERR_NOT_FOUND);
}

static void test_generate(void **state)
{
	struct password_policy pol = {12, 4, NULL};
	char pw[21];
	const char *why;

	(void)state;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(password_generate(pw, 20), GV_OK);
		assert_int_equal(strlen(pw), 20);
		assert_int_equal(password_check_policy(&pol, "sysadmin", pw, &why), GV_OK);
	}
	assert_int_equal(password_generate(pw, 8), GV_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_verify), cmocka_unit_test(test_needs_rehash),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_common_file), cmocka_unit_test(test_generate),
	};

	if (crypto_init() != GV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
