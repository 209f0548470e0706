/* timewin.c - day/time window lists. */
#include "common/timewin.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct window {
	int day_from, day_to;  /* 0 = Monday .. 6 = Sunday */
	int start, end;        /* minutes after local midnight */
};

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_parse(const char *s, size_t len)
{
	char lower[4];

	if (len != 3)
		return -1;
	for (size_t i = 0; i < 3; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	lower[3] = '\0';
	for (int i = 0; i < 7; i++)
		if (strcmp(lower, day_names[i]) == 0)
			return i;
	return -1;
}

static int hhmm_parse(const char *s, int *minutes)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');

	/* 24:00 is accepted as an end-of-day marker. */
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

static int window_parse(const char *entry, struct window *w)
{
	const char *sp = strchr(entry, ' ');
	const char *times;
	size_t dlen;

	if (!sp)
		return -1;
	dlen = (size_t)(sp - entry);
	times = sp;
	while (*times == ' ')
		times++;
	if (dlen == 1 && entry[0] == '*') {
		w->day_from = 0;
		w->day_to = 6;
	} else if (dlen == 7 && entry[3] == '-') {
		w->day_from = day_parse(entry, 3);
		w->day_to = day_parse(entry + 4, 3);
	} else {
		w->day_from = w->day_to = day_parse(entry, dlen);
	}
	if (w->day_from < 0 || w->day_to < 0)
		return -1;
	if (strlen(times) != 11 || times[5] != '-')
		return -1;
	if (hhmm_parse(times, &w->start) || hhmm_parse(times + 6, &w->end))
		return -1;
	if (w->start == w->end || w->start == 24 * 60)
		return -1;
	return 0;
}

static int day_in(const struct window *w, int day)
{
	if (w->day_from <= w->day_to)
		return day >= w->day_from && day <= w->day_to;
	return day >= w->day_from || day <= w->day_to; /* "sat-mon" */
}

static int window_allows(const struct window *w, int day, int minute)
{
	if (w->start < w->end)
		return day_in(w, day) && minute >= w->start && minute < w->end;
	/* Overnight: the part after midnight belongs to the previous day's window. */
	if (minute >= w->start)
		return day_in(w, day);
	return minute < w->end && day_in(w, (day + 6) % 7);
}

/* Splits on commas, trims, and calls fn per entry. */
static int list_walk(const char *list, int (*fn)(const struct window *w, void *ctx), void *ctx)
{
	const char *p = list;

	while (*p) {
		char entry[64];
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		size_t s = 0, e = len;
		struct window w;
		int rc;

		while (s < e && isspace((unsigned char)p[s]))
			s++;
		while (e > s && isspace((unsigned char)p[e - 1]))
			e--;
		if (e == s || e - s >= sizeof(entry))
			return -1;
		memcpy(entry, p + s, e - s);
		entry[e - s] = '\0';
		if (window_parse(entry, &w) != 0)
			return -1;
		rc = fn(&w, ctx);
		if (rc)
			return rc;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int accept_all(const struct window *w, void *ctx)
{
	(void)w;
	(void)ctx;
	return 0;
}

gv_err timewin_list_validate(const char *list)
{
	return list_walk(list, accept_all, NULL) == 0 ? GV_OK : GV_ERR_INVALID;
}

struct when {
	int day, minute;
};

static int match_when(const struct window *w, void *ctx)
{
	const struct when *t = ctx;

	return window_allows(w, t->day, t->minute) ? 1 : 0;
}

int timewin_list_allows(const char *list, int64_t now_s, int utc_offset_min)
{
	int64_t local = now_s + (int64_t)utc_offset_min * 60;
	int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	struct when t;

	if (!list || !*list)
		return 1;
	/* 1970-01-01 was a Thursday (index 3 with Monday = 0). */
	t.day = (int)(((days % 7) + 7 + 3) % 7);
	t.minute = (int)((local - days * 86400) / 60);
	return list_walk(list, match_when, &t) == 1;
}

gv_err timewin_parse_offset(const char *text, int *minutes)
{
	int h, m;

	if (strcmp(text, "Z") == 0 || strcmp(text, "UTC") == 0) {
		*minutes = 0;
		return GV_OK;
	}
	if ((text[0] != '+' && text[0] != '-') || strlen(text) != 6 ||
	    hhmm_parse(text + 1, &h) != 0)
		return GV_ERR_INVALID;
	m = h;
	if (m > 14 * 60)
		return GV_ERR_INVALID;
	*minutes = text[0] == '-' ? -m : m;
	return GV_OK;
}
