/* SPDX-License-Identifier: MIT */
/* gateway/core/prom.h - the Prometheus text exposition format (0.0.4), as
 * /metrics writes it: families with their HELP and TYPE, samples with
 * labels, and a table of single-value metrics for the counters of an
 * output (one call per output instead of a block of its own). */
#ifndef GATEWAY_CORE_PROM_H
#define GATEWAY_CORE_PROM_H

#include <stddef.h>
#include <stdio.h>

/* "# HELP name help" and "# TYPE name type". */
void gw_prom_family(FILE *o, const char *name, const char *type, const char *help);
/* A label value in quotes, escaped. */
void gw_prom_label(FILE *o, const char *s);
/* " value\n": integers whole, floats with the digits they have, NaN. */
void gw_prom_value(FILE *o, double v);
/* name{pack="x"[,extra]} value */
void gw_prom_sample(FILE *o, const char *name, const char *pack, const char *extra, double v);

/* Text (the exposition of len bytes, whole lines) to o with label
 * site="SITE" first in every sample line: `name{a="x"} v` becomes
 * `name{site="SITE",a="x"} v`, `name v` becomes `name{site="SITE"} v`;
 * comments and empty lines as they are.  One place, so that every family
 * of every writer carries it (bmsgw.ini(5) [gateway] site). */
void gw_prom_with_site(FILE *o, const char *text, size_t len, const char *site);

/* A metric with one value and no labels. */
struct gw_prom_metric {
	const char *name, *type, *help;
	double v;
};
/* Each of m[0..n): its family and its value. */
void gw_prom_singles(FILE *o, const struct gw_prom_metric *m, size_t n);

#endif
