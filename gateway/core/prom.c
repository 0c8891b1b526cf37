/* SPDX-License-Identifier: MIT */
/* gateway/core/prom.c - the Prometheus text format (see prom.h). */
#include "prom.h"

#include <math.h>
#include <string.h>

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

/* One sample line l[0..n) (no newline) with the site label put first. */
static void site_line(FILE *o, const char *l, size_t n, const char *site)
{
	size_t k = 0; /* the metric name: [a-zA-Z_:][a-zA-Z0-9_:]* */
	while (k < n && (l[k] == '_' || l[k] == ':' || (l[k] >= 'a' && l[k] <= 'z') ||
			 (l[k] >= 'A' && l[k] <= 'Z') || (k && l[k] >= '0' && l[k] <= '9')))
		k++;
	if (!k || k == n || (l[k] != '{' && l[k] != ' ')) { /* not a sample: as it is */
		fwrite(l, 1, n, o);
		return;
	}
	fwrite(l, 1, k, o);
	fputs("{site=", o);
	gw_prom_label(o, site);
	if (l[k] == '{') {
		k++;
		if (k < n && l[k] != '}')
			fputc(',', o);
	} else {
		fputc('}', o);
	}
	fwrite(l + k, 1, n - k, o);
}

void gw_prom_with_site(FILE *o, const char *text, size_t len, const char *site)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		if (n && text[i] != '#')
			site_line(o, text + i, n, site);
		else
			fwrite(text + i, 1, n, o);
		if (nl)
			fputc('\n', o);
		i += n + (nl ? 1 : 0);
	}
}
