/* cidr.c - CIDR parsing and matching. */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int addr_parse(const char *text, int *family, unsigned char addr[16])
{
	struct in6_addr a6;

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(a6.s6_addr, mapped, 12) == 0) {
			*family = AF_INET;
			memcpy(addr, a6.s6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, a6.s6_addr, 16);
		}
		return 0;
	}
	return -1;
}

gv_err cidr_parse(const char *text, struct cidr *out)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned maxbits, prefix;

	if (hlen == 0 || hlen >= sizeof(host))
		return GV_ERR_INVALID;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (addr_parse(host, &out->family, out->addr) != 0)
		return GV_ERR_INVALID;
	/* A bare IPv4 literal written as mapped IPv6 with a prefix would be ambiguous. */
	if (out->family == AF_INET && strchr(host, ':') && slash)
		return GV_ERR_INVALID;
	maxbits = out->family == AF_INET ? 32 : 128;
	prefix = maxbits;
	if (slash) {
		char *end;
		long v;

		if (!isdigit((unsigned char)slash[1]))
			return GV_ERR_INVALID;
		v = strtol(slash + 1, &end, 10);
		if (*end != '\0' || v < 0 || v > (long)maxbits || end - (slash + 1) > 3)
			return GV_ERR_INVALID;
		prefix = (unsigned)v;
	}
	out->prefix = prefix;
	for (unsigned bit = prefix; bit < maxbits; bit++)
		out->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	return GV_OK;
}

int cidr_contains(const struct cidr *c, const char *ip)
{
	unsigned char addr[16];
	unsigned full, rest;
	int family;

	if (addr_parse(ip, &family, addr) != 0 || family != c->family)
		return 0;
	full = c->prefix / 8;
	rest = c->prefix % 8;
	if (memcmp(addr, c->addr, full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff00u >> rest);

		if ((addr[full] & mask) != c->addr[full])
			return 0;
	}
	return 1;
}

/* Calls fn for each trimmed, non-empty entry; stops at the first non-zero return. */
static int list_each(const char *list, int (*fn)(const char *entry, void *ctx), void *ctx)
{
	const char *p = list;

	while (*p) {
		char entry[80];
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t s = 0, e = len;
		int rc;

		while (s < e && isspace((unsigned char)p[s]))
			s++;
		while (e > s && isspace((unsigned char)p[e - 1]))
			e--;
		if (e - s >= sizeof(entry))
			return -1;
		if (e == s)
			return -1; /* empty element such as "a,,b" */
		memcpy(entry, p + s, e - s);
		entry[e - s] = '\0';
		rc = fn(entry, ctx);
		if (rc)
			return rc;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int entry_check(const char *entry, void *ctx)
{
	struct cidr c;

	(void)ctx;
	return cidr_parse(entry, &c) == GV_OK ? 0 : -1;
}

gv_err cidr_list_validate(const char *list)
{
	return list_each(list, entry_check, NULL) == 0 ? GV_OK : GV_ERR_INVALID;
}

static int entry_match(const char *entry, void *ctx)
{
	struct cidr c;

	if (cidr_parse(entry, &c) != GV_OK)
		return -1;
	return cidr_contains(&c, ctx) ? 1 : 0;
}

int cidr_list_allows(const char *list, const char *ip)
{
	int rc;

	if (!list || !*list)
		return 1;
	rc = list_each(list, entry_match, (void *)ip);
	return rc == 1;
}
