/* SPDX-License-Identifier: MIT */
/* gateway/engine/health_ir.h - one running estimate of an internal
 * resistance, in mOhm, from samples of dV/dI (health_ir.c has the rule and
 * why): a cell's or a pack's, for the cell-health estimator (health.h).
 * Pure. */
#ifndef GATEWAY_ENGINE_HEALTH_IR_H
#define GATEWAY_ENGINE_HEALTH_IR_H

#include <stdbool.h>
#include <stdint.h>

#define GW_IR_WINDOW 32          /* samples the median is taken over */
#define GW_IR_MIN_SAMPLES 5      /* fewer: no estimate yet */

/* One running resistance estimate. */
struct gw_ir_est {
	float r[GW_IR_WINDOW];   /* mOhm, a ring */
	uint8_t n, next;
	uint32_t samples;        /* accepted since the start */
	uint32_t rejected;       /* steps whose dV/dI was not a resistance (<= 0 or absurd) */
	float value;             /* the estimate of the window as it is (gw_ir_add keeps it), */
	bool have_value;         /* ... once GW_IR_MIN_SAMPLES are in */
};

/* Add one sample (the estimate is taken again then, once per sample, and
 * read as often as asked); the estimate: the median of the last samples
 * with those further than 3 MADs out left out (false: fewer than
 * GW_IR_MIN_SAMPLES). */
void gw_ir_add(struct gw_ir_est *e, float mohm);
bool gw_ir_value(const struct gw_ir_est *e, float *mohm);

#endif
