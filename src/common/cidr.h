/* cidr.h - IPv4/IPv6 CIDR parsing and matching for address allowlists.
 *
 * Lists are comma-separated ("10.0.0.0/8, ::1/128, 192.0.2.7"); an empty list allows
 * every address.  IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 entries. */
#ifndef GV_COMMON_CIDR_H
#define GV_COMMON_CIDR_H

#include "common/error.h"

struct cidr {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];   /* network byte order, host bits cleared */
	unsigned prefix;
};

gv_err cidr_parse(const char *text, struct cidr *out) GV_MUST_CHECK;
/* 1 if the textual address ip falls in c. */
int cidr_contains(const struct cidr *c, const char *ip);
/* GV_OK if every entry parses. */
gv_err cidr_list_validate(const char *list) GV_MUST_CHECK;
/* 1 if list is empty or some entry contains ip; 0 otherwise (also on a bad list). */
int cidr_list_allows(const char *list, const char *ip);

#endif
