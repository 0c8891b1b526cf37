/* SPDX-License-Identifier: MIT */
/* gateway/core/prom.c - the Prometheus text format (see prom.h). */
#include "prom.h"

#include <math.h>

void gw_prom_label(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(o, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", o);
		else
			fputc(*s, o);
	}
	fputc('"', o);
}

void gw_prom_family(FILE *o, const char *name, const char *type, const char *help)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void gw_prom_value(FILE *o, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
		fprintf(o, " %.0f\n", v);
	else if (isfinite(v))
		fprintf(o, " %.7g\n", v); /* the values are floats: no digits beyond theirs */
	else
		fprintf(o, " NaN\n");
}

void gw_prom_sample(FILE *o, const char *name, const char *pack, const char *extra, double v)
{
	fprintf(o, "%s{pack=", name);
	gw_prom_label(o, pack);
	if (extra)
		fprintf(o, ",%s", extra);
	fputc('}', o);
	gw_prom_value(o, v);
}

void gw_prom_singles(FILE *o, const struct gw_prom_metric *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gw_prom_family(o, m[i].name, m[i].type, m[i].help);
		fputs(m[i].name, o);
		gw_prom_value(o, m[i].v);
	}
}
