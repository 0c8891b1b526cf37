/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc_curve.c - the open-circuit voltage of a rested cell
 * against its state of charge, for the estimator's rest points (soc.c)
 * and light-load points (soc_light.c).
 *
 * The curves are the piecewise-linear fits Sunil, Pattipati and
 * Balasingam publish of pseudo-OCV measurements at C/32, room temperature
 * ("Piecewise Linear Approximation of Battery Open-Circuit Voltage
 * Characteristics Using Dynamic Programming", IEEE Transactions on
 * Instrumentation and Measurement, 2025; the tables:
 * https://github.com/soorajsunil/Piecewise-Battery-OCV/blob/0002eb53c428707e721ee7a2e8f97cad350a1fc9/README.md):
 * LFP from a Lithium Werks APR18650M1B cell, NMC from a Molicel
 * INR21700-P42A.  Only the steep parts say something: LFP's plateau
 * (about 3.20 to 3.40 V, 10 % to 99 %) moves a few mV over 90 % of the
 * charge, less than a cell's hysteresis, so a rest point is taken only at
 * or under 3.20 V and at or over 3.40 V a cell; NMC is steep enough
 * everywhere (10 mV or more per %).  A light-load point reads the curve
 * where its piece rises a few mV a % or more (gw_soc_steep_value): LFP
 * under 3.277 V (30 %).  The band (soc_band.c) bounds a cell's % by its
 * voltage (gw_soc_curve_bound), a cell's own curve taken to depart from a
 * straight piece by up to a given voltage, never beyond the piece's ends.
 * LTO has no curve here: no rest points.
 */
#include "soc.h"

#include <math.h>

struct curve_pt {
	double soc; /* fraction */
	double v;   /* V a cell */
};

static const struct curve_pt lfp[] = {
	{ 0.0000, 2.0102 }, { 0.0033, 2.4177 }, { 0.0117, 2.7405 }, { 0.0267, 2.9299 }, { 0.0534, 3.0872 },
	{ 0.0885, 3.1942 }, { 0.2972, 3.2772 }, { 0.9833, 3.3511 }, { 0.9950, 3.4180 }, { 1.0000, 3.5981 },
};
static const struct curve_pt nmc[] = {
	{ 0.0000, 2.5061 }, { 0.0151, 2.8981 }, { 0.0452, 3.1461 }, { 0.0955, 3.3231 }, { 0.1508, 3.4218 },
	{ 0.2915, 3.5737 }, { 0.4573, 3.7017 }, { 0.8342, 4.0637 }, { 0.9497, 4.1009 }, { 1.0000, 4.1932 },
};
#define NPTS(a) (sizeof(a) / sizeof((a)[0]))

/* LFP's plateau: no rest point strictly between these (design 17). */
#define LFP_FLAT_LO 3.20
#define LFP_FLAT_HI 3.40

/* % at v on a curve, its ends beyond it. */
static double on_curve(const struct curve_pt *c, size_t n, double v)
{
	if (v <= c[0].v)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (v <= c[i].v)
			return 100 * (c[i - 1].soc + (c[i].soc - c[i - 1].soc) * (v - c[i - 1].v) / (c[i].v - c[i - 1].v));
	return 100;
}

/* The rise of the piece of the curve v lies on, mV a % (beyond the ends,
 * the end piece's). */
static double piece_mv(const struct curve_pt *c, size_t n, double v)
{
	size_t i = 1;
	while (i < n - 1 && v > c[i].v)
		i++;
	return 1000 * (c[i].v - c[i - 1].v) / (100 * (c[i].soc - c[i - 1].soc));
}

/* The chemistry's curve and its length; NULL for none. */
static const struct curve_pt *curve_of(enum conf_chemistry chem, size_t *n)
{
	switch (chem) {
	case CONF_CHEM_LFP:
		*n = NPTS(lfp);
		return lfp;
	case CONF_CHEM_NMC:
		*n = NPTS(nmc);
		return nmc;
	default:
		return NULL;
	}
}

double gw_soc_curve(enum conf_chemistry chem, double v)
{
	size_t n;
	const struct curve_pt *c = curve_of(chem, &n);
	return c && isfinite(v) ? on_curve(c, n, v) : NAN;
}

double gw_soc_curve_mv(enum conf_chemistry chem, double v)
{
	size_t n;
	const struct curve_pt *c = curve_of(chem, &n);
	return c && isfinite(v) ? piece_mv(c, n, v) : NAN;
}

double gw_soc_steep_value(enum conf_chemistry chem, double v, double min_mv)
{
	size_t n;
	const struct curve_pt *c = curve_of(chem, &n);
	return c && isfinite(v) && piece_mv(c, n, v) >= min_mv ? on_curve(c, n, v) : NAN;
}

double gw_soc_curve_bound(enum conf_chemistry chem, double v, double min_mv, double piece_v, bool up)
{
	size_t n;
	const struct curve_pt *c = curve_of(chem, &n);
	if (!c || !isfinite(v))
		return NAN;
	size_t i = 1; /* the piece v lies on, as piece_mv() finds it */
	while (i < n - 1 && v > c[i].v)
		i++;
	double end = 100 * (up ? c[i].soc : c[i - 1].soc);
	if (!(piece_mv(c, n, v) >= min_mv))
		return end;
	/* a cell's own curve passes through the points and departs from the
	 * straight piece between them by up to piece_v */
	double x = on_curve(c, n, up ? v + piece_v : v - piece_v);
	return up ? fmin(x, end) : fmax(x, end);
}

double gw_soc_rest_value(enum conf_chemistry chem, double v)
{
	if (chem == CONF_CHEM_LFP && v > LFP_FLAT_LO && v < LFP_FLAT_HI)
		return NAN;
	return gw_soc_curve(chem, v);
}
