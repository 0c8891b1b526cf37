/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invscale.h - the one rule by which the inverter encoders
 * turn a value into a field (gateway/inverter/PROTOCOLS.md §4): scale,
 * round (measurements to the nearest; limits toward the safe side), clamp
 * to the field's range, never wrap.  Private to gateway/inverter/. */
#ifndef GATEWAY_INVERTER_INVSCALE_H
#define GATEWAY_INVERTER_INVSCALE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "battery.h"

enum inv_round {
	INV_NEAR,   /* measurements: to the nearest, halves away from zero */
	INV_DOWN,   /* CVL, CCL, DCL: never above what the limit engine allows */
	INV_UP,     /* DVL: never below */
	INV_FLOOR,  /* SOC: rounded down, never 100 % before the battery says 100 */
};

/* Tolerance, in units of the field, against binary fractions (a float's
 * 55.2 is 55.1999...) before a limit is rounded toward the safe side; the
 * SOC's is 0.0001 % (a mean of packs at 60 % may be 59.99998; 99.999 %
 * is not 100). */
#define INV_SCALE_EPS 0.01
#define INV_FLOOR_EPS 1e-4

/* v * per_unit rounded as asked and clamped to [lo, hi]; a non-finite v
 * gives lo. */
static inline long inv_scale(double v, double per_unit, enum inv_round r, long lo, long hi)
{
	double x = v * per_unit;

	if (!isfinite(x))
		return lo;
	if (r == INV_DOWN)
		x = floor(x + INV_SCALE_EPS);
	else if (r == INV_FLOOR)
		x = floor(x + INV_FLOOR_EPS * per_unit);
	else if (r == INV_UP)
		x = ceil(x - INV_SCALE_EPS);
	else
		x = round(x);
	if (x < (double)lo)
		return lo;
	if (x > (double)hi)
		return hi;
	return (long)x;
}

/* Is the value of INV_HAS_* bit present and a number? */
static inline bool inv_has(const struct inv_battery *b, uint32_t bit, float v)
{
	return (b->present & bit) && isfinite(v);
}

#endif
