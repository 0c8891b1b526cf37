/* SPDX-License-Identifier: MIT */
/* conf/fail.c - the first error of a load, "FILE:LINE: [sect] key:
 * problem", and the line it blames.  Every step of the reading and of the
 * checks records its error here, and calls nothing back. */
#include "conf_int.h"

#include <stdarg.h>
#include <stdio.h>

static void vfail(struct conf_load *x, int line, const char *sect, const char *key, const char *fmt, va_list ap)
{
	if (x->failed)
		return;
	x->failed = true;
	size_t n = 0, cap = sizeof(x->msg);
	int r;
	if (line > 0)
		r = snprintf(x->msg, cap, "%s:%d: ", x->file, line);
	else
		r = snprintf(x->msg, cap, "%s: ", x->file);
	n = r > 0 && (size_t)r < cap ? (size_t)r : cap - 1;
	if (sect || key) {
		r = snprintf(x->msg + n, cap - n, "%s%s%s%s%s: ", sect ? "[" : "", sect ? sect : "",
		             sect ? "]" : "", sect && key ? " " : "", key ? key : "");
		n += r > 0 && (size_t)r < cap - n ? (size_t)r : cap - n - 1;
	}
	x->err_line = line;
	snprintf(x->err_sect, sizeof(x->err_sect), "%s", sect ? sect : "");
	snprintf(x->err_key, sizeof(x->err_key), "%s", key ? key : "");
	x->err_at = n;
	vsnprintf(x->msg + n, cap - n, fmt, ap);
}

void conf__fail(struct conf_load *x, int line, const char *sect, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(x, line, sect, key, fmt, ap);
	va_end(ap);
}

void conf_fail(struct conf_load *x, int line, const char *sect, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(x, line, sect, key, fmt, ap);
	va_end(ap);
}

int conf__seen_line(const int *seen, int key, int header)
{
	return seen[key] ? seen[key] : header;
}
