/* timewin.h - allowed login/use time windows.
 *
 * A list is comma-separated entries "DAYS HH:MM-HH:MM" where DAYS is "*", a day
 * ("mon") or a range ("mon-fri").  An end before the start wraps past midnight
 * ("22:00-06:00").  Times are local to a fixed UTC offset in minutes (the agency's
 * zone, +08:00 by default).  An empty list allows every time. */
#ifndef GV_COMMON_TIMEWIN_H
#define GV_COMMON_TIMEWIN_H

#include <stdint.h>

#include "common/error.h"

gv_err timewin_list_validate(const char *list) GV_MUST_CHECK;
/* 1 if the list is empty or now falls in some window; 0 otherwise (also on a bad list). */
int timewin_list_allows(const char *list, int64_t now_s, int utc_offset_min);
/* Parses "+08:00" / "-05:30" / "Z" into minutes east of UTC. */
gv_err timewin_parse_offset(const char *text, int *minutes) GV_MUST_CHECK;

#endif
