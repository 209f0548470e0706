/* password.c - Argon2id wrapper, policy checks, common-password set. */
#include "auth/password.h"

#include <argon2.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

gv_err password_hash(const struct password_params *p, const char *password, char *out,
		     size_t outlen)
{
	unsigned char salt[PW_SALT_LEN];
	size_t pwlen = strlen(password);
	int rc;

	if (pwlen > PASSWORD_MAX_BYTES)
		return GV_ERR_INVALID;
	util_random_bytes(salt, sizeof(salt));
	rc = argon2id_hash_encoded(p->iterations, p->memory_kib, p->parallelism, password, pwlen,
				   salt, sizeof(salt), PW_HASH_LEN, out, outlen);
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		return GV_ERR_NOMEM;
	return rc == ARGON2_OK ? GV_OK : GV_ERR_CRYPTO;
}

gv_err password_verify(const char *encoded, const char *password)
{
	size_t pwlen = strlen(password);
	int rc;

	if (pwlen > PASSWORD_MAX_BYTES)
		return GV_ERR_AUTH;
	/* argon2id_verify compares the tags in constant time. */
	rc = argon2id_verify(encoded, password, pwlen);
	if (rc == ARGON2_OK)
		return GV_OK;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return GV_ERR_AUTH;
	if (rc == ARGON2_MEMORY_ALLOCATION_ERROR)
		return GV_ERR_NOMEM;
	return GV_ERR_CRYPTO;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Case-insensitive (ASCII) substring search. */
static int contains_ci(const char *hay, const char *needle)
{
	size_t hn = strlen(hay), nn = strlen(needle);

	if (nn == 0 || nn > hn)
		return 0;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t j = 0;

		while (j < nn && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]))
			j++;
		if (j == nn)
			return 1;
	}
	return 0;
}

gv_err password_check_policy(const struct password_policy *pol, const char *username,
			     const char *password, const char **why)
{
	int lower = 0, upper = 0, digit = 0, other = 0;

	*why = NULL;
	if (strlen(password) > PASSWORD_MAX_BYTES) {
		*why = "password is longer than 256 bytes";
		return GV_ERR_POLICY;
	}
	if (!util_utf8_printable(password)) {
		*why = "password must be printable UTF-8 text";
		return GV_ERR_POLICY;
	}
	if ((int)utf8_chars(password) < pol->min_length) {
		*why = "password is shorter than the minimum length";
		return GV_ERR_POLICY;
	}
	for (const unsigned char *p = (const unsigned char *)password; *p; p++) {
		if (islower(*p))
			lower = 1;
		else if (isupper(*p))
			upper = 1;
		else if (isdigit(*p))
			digit = 1;
		else
			other = 1;
	}
	if (lower + upper + digit + other < pol->min_classes) {
		*why = "password needs more character classes (lower case, upper case, digits, symbols)";
		return GV_ERR_POLICY;
	}
	if (username && strlen(username) >= 3 && contains_ci(password, username)) {
		*why = "password must not contain the username";
		return GV_ERR_POLICY;
	}
	if (pol->common && pw_common_contains(pol->common, password)) {
		*why = "password is in the list of common passwords";
		return GV_ERR_POLICY;
	}
	return GV_OK;
}

gv_err password_generate(char *out, size_t len)
{
	static const char *const classes[4] = {
		"abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-=@^_~"};
	unsigned char r;

	if (len < 12)
		return GV_ERR_INVALID;
	for (size_t i = 0; i < len; i++) {
		/* The first four positions guarantee one of each class; shuffled below. */
		const char *set = classes[i < 4 ? i : 0];
		size_t setlen;

		if (i >= 4) {
			do
				util_random_bytes(&r, 1);
			while (r >= 252);
			set = classes[r % 4 == 3 ? 2 : r % 3];
		}
		setlen = strlen(set);
		do
			util_random_bytes(&r, 1);
		while (r >= 256 - 256 % setlen);
		out[i] = set[r % setlen];
	}
	for (size_t i = len - 1; i > 0; i--) {
		size_t j;
		char t;

		do
			util_random_bytes(&r, 1);
		while (r >= 256 - 256 % (i + 1));
		j = r % (i + 1);
		t = out[i];
		out[i] = out[j];
		out[j] = t;
	}
	out[len] = '\0';
	return GV_OK;
}

struct pw_common {
	char **slots;
	size_t cap;     /* power of two */
	size_t count;
};

static uint64_t fnv1a_lower(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 1099511628211ULL;
	}
	return h;
}

static int streq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static gv_err set_add(struct pw_common *set, const char *word, size_t len)
{
	char *copy;
	size_t i;

	if (len == 0)
		return GV_OK;
	if ((set->count + 1) * 2 > set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 1024;
		char **nslots = calloc(ncap, sizeof(*nslots));

		if (!nslots)
			return GV_ERR_NOMEM;
		for (size_t k = 0; k < set->cap; k++) {
			if (!set->slots[k])
				continue;
			i = fnv1a_lower(set->slots[k]) & (ncap - 1);
			while (nslots[i])
				i = (i + 1) & (ncap - 1);
			nslots[i] = set->slots[k];
		}
		free(set->slots);
		set->slots = nslots;
		set->cap = ncap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return GV_ERR_NOMEM;
	memcpy(copy, word, len);
	copy[len] = '\0';
	i = fnv1a_lower(copy) & (set->cap - 1);
	while (set->slots[i]) {
		if (streq_ci(set->slots[i], copy)) {
			free(copy);
			return GV_OK;
		}
		i = (i + 1) & (set->cap - 1);
	}
	set->slots[i] = copy;
	set->count++;
	return GV_OK;
}

gv_err pw_common_from_words(const char *const *words, size_t n, struct pw_common **out)
{
	struct pw_common *set = calloc(1, sizeof(*set));
	gv_err err = GV_OK;

	*out = NULL;
	if (!set)
		return GV_ERR_NOMEM;
	for (size_t i = 0; err == GV_OK && i < n; i++)
		err = set_add(set, words[i], strlen(words[i]));
	if (err != GV_OK) {
		pw_common_free(set);
		return err;
	}
	*out = set;
	return GV_OK;
}

gv_err pw_common_load(const char *path, struct pw_common **out)
{
	struct pw_common *set = NULL;
	char *text = NULL;
	size_t len = 0, pos = 0;
	gv_err err;

	*out = NULL;
	err = util_file_read(path, 64 << 20, &text, &len);
	if (err != GV_OK)
		return err;
	err = pw_common_from_words(NULL, 0, &set);
	while (err == GV_OK && pos < len) {
		size_t start = pos, end;

		while (pos < len && text[pos] != '\n')
			pos++;
		end = pos;
		pos++;
		if (end > start && text[end - 1] == '\r')
			end--;
		if (end - start >= 10 && memcmp(text + start, "#!comment:", 10) == 0)
			continue;
		err = set_add(set, text + start, end - start);
	}
	free(text);
	if (err != GV_OK) {
		pw_common_free(set);
		return err;
	}
	*out = set;
	return GV_OK;
}

int pw_common_contains(const struct pw_common *set, const char *password)
{
	size_t i;

	if (!set || set->cap == 0)
		return 0;
	i = fnv1a_lower(password) & (set->cap - 1);
	while (set->slots[i]) {
		if (streq_ci(set->slots[i], password))
			return 1;
		i = (i + 1) & (set->cap - 1);
	}
	return 0;
}

size_t pw_common_size(const struct pw_common *set)
{
	return set ? set->count : 0;
}

void pw_common_free(struct pw_common *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	free(set);
}

int password_needs_rehash(const char *encoded, const struct password_params *p)
{
	unsigned m, t, par;

	/* libargon2's encoding: $argon2id$v=19$m=<kib>,t=<iterations>,p=<lanes>$salt$tag */
	if (sscanf(encoded, "$argon2id$v=19$m=%u,t=%u,p=%u$", &m, &t, &par) != 3)
		return 1;
	return m != p->memory_kib || t != p->iterations || par != p->parallelism;
}
