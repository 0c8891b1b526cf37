/* SPDX-License-Identifier: MIT */
/* conf/text.c - the text helpers every parser of conf/ shares (values.c,
 * address.c, the checks): a message into a fixed buffer, a value's
 * trailing blanks, a whole decimal number, the hint about a '#' in a
 * value.  They call nothing of conf/, so that the parsers stand on them
 * and not on each other.
 */
#include "conf_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void conf_bfmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

char *conf__rstrip(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int conf__parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	if (end == s || *end != '\0')
		return -1;
	if (errno == ERANGE)
		return -2;
	*out = n;
	return 0;
}

const char *conf__comment_hint(const char *v)
{
	return strchr(v, '#') ? "; comments after a value start with \" ;\"" : "";
}
