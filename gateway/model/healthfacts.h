/* SPDX-License-Identifier: MIT */
/* gateway/model/healthfacts.h - what a cell-health estimator states about
 * a unit, for the outputs to read (the alerts' weak_cell and ir_rise).
 *
 * The estimator (a producer in the model) states a fact with
 * gw_health_state(); the outputs read p->health (or gw->bank_health) and
 * never compute one.  Until a producer has stated a fact it is unknown,
 * and a condition on it never fires: nothing is guessed.
 */
#ifndef GATEWAY_MODEL_HEALTHFACTS_H
#define GATEWAY_MODEL_HEALTHFACTS_H

#include <stdbool.h>

struct gw_health_facts {
	bool known;            /* a producer has stated the facts below */
	int weak_cell;         /* the cell named weak, 1-based; 0 = none named */
	double ir_rise_pct;    /* the unit's resistance now against its trend's start, %;
	                        * NaN = not known yet */
	double at;             /* monotonic time it was stated */
};

/* The estimator states the facts of a unit (f: the pack's p->health or
 * the bank's gw->bank_health) at monotonic time now. */
void gw_health_state(struct gw_health_facts *f, int weak_cell, double ir_rise_pct, double now);
/* Forget them (a pack made again at a reload starts unknown). */
void gw_health_forget(struct gw_health_facts *f);

#endif
