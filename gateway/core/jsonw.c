/* SPDX-License-Identifier: MIT */
/* gateway/core/jsonw.c - JSON writers every layer shares (see jsonw.h). */
#include "jsonw.h"

void gw_json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

void gw_json_utc(FILE *o, const char *key, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	fprintf(o, "\"%s\":\"%04d-%02d-%02dT%02d:%02d:%02dZ\"", key, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		tm.tm_hour, tm.tm_min, tm.tm_sec);
}
