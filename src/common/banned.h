/* banned.h - functions that make buffer overflows easy, turned into compile errors
 * (after git's banned.h).  Use util_strcpy, snprintf, the bounded gv_buf or memcpy with
 * a checked length instead.
 *
 * Force-included into every project source by the top-level CMakeLists.txt.  The C library
 * headers that declare these functions are included first, so their own declarations
 * are read before the macros exist and later includes of them are no-ops. */
#ifndef GV_COMMON_BANNED_H
#define GV_COMMON_BANNED_H

#include <stdio.h>
#include <string.h>

#define GV_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) GV_BANNED(strcpy)
#undef strcat
#define strcat(x, y) GV_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) GV_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) GV_BANNED(strncat)
#undef sprintf
#define sprintf(...) GV_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) GV_BANNED(vsprintf)
#undef gets
#define gets(x) GV_BANNED(gets)
#undef strtok
#define strtok(x, y) GV_BANNED(strtok)

#endif
