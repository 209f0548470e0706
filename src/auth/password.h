/* password.h - Argon2id password hashing and the password policy.
 *
 * The common-password list is loaded once into a read-only hash set and consulted
 * case-insensitively.  Password history is checked by verifying the candidate against
 * each stored Argon2id hash, so no weaker fingerprint of old passwords is kept. */
#ifndef GV_AUTH_PASSWORD_H
#define GV_AUTH_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define PASSWORD_MAX_BYTES 256
#define PASSWORD_HASH_MAX 256

struct password_params {
	uint32_t memory_kib;
	uint32_t iterations;
	uint32_t parallelism;
};

struct password_policy {
	int min_length;
	int min_classes;
	const struct pw_common *common;   /* may be NULL */
};

struct pw_common;

gv_err password_hash(const struct password_params *p, const char *password, char *out,
		     size_t outlen) GV_MUST_CHECK;
/* GV_OK on match, GV_ERR_AUTH on mismatch; runs in time independent of where they differ. */
gv_err password_verify(const char *encoded, const char *password) GV_MUST_CHECK;

/* 1 if encoded was not made with exactly the parameters p (so a successful login
 * should store a new hash at today's cost). */
int password_needs_rehash(const char *encoded, const struct password_params *p);

/* GV_OK or GV_ERR_POLICY with a static reason that never quotes the password. */
gv_err password_check_policy(const struct password_policy *pol, const char *username,
			     const char *password, const char **why) GV_MUST_CHECK;

/* A random password of len chars (>= 12) containing all four character classes. */
gv_err password_generate(char *out, size_t len) GV_MUST_CHECK;

/* Loads a one-per-line list; lines starting "#!comment:" are skipped. */
gv_err pw_common_load(const char *path, struct pw_common **out) GV_MUST_CHECK;
/* Builds a list from an in-memory array (tests). */
gv_err pw_common_from_words(const char *const *words, size_t n, struct pw_common **out) GV_MUST_CHECK;
int pw_common_contains(const struct pw_common *set, const char *password);
size_t pw_common_size(const struct pw_common *set);
void pw_common_free(struct pw_common *set);

#endif
