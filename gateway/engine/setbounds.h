/* SPDX-License-Identifier: MIT */
/* gateway/engine/setbounds.h - the bounds and the ordering a BMS setting
 * is checked against before anything is sent (`bms_settings`, bmsgw-bms(7)
 * BMS SETTINGS).
 *
 * The effective range of a key is the protocol's range (its struct
 * bms_wfield) within the key's own: a cell voltage within the pack's
 * chemistry's cell range (conf/chem.h: LFP 2.50-3.65 V, NMC 3.00-4.20 V,
 * LTO 1.50-2.80 V), balance_delta_v 0.003-0.500 V, soc 0-100 %,
 * capacity_ah and the over-currents from 1, the balancer 0 or 1.  A value
 * off the protocol's step is refused, never rounded.  The cell voltages
 * keep their order against the values the BMS last reported for the
 * others: cell_ovp_v > cell_ovp_release_v > cell_uvp_release_v >
 * cell_uvp_v, each GW_WSET_GAP_V apart, and cell_uvp_release_v <=
 * balance_start_v < cell_ovp_v; a key the protocol does not write drops
 * out of the chain, and a partner it writes that was never read refuses
 * the change (503: nothing is known to keep it in order with).
 *
 * Pure: numbers in, a verdict out. */
#ifndef GATEWAY_ENGINE_SETBOUNDS_H
#define GATEWAY_ENGINE_SETBOUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bms/setwrite.h"
#include "../../conf/chem.h"

#define GW_WSET_GAP_V 0.02         /* V between two steps of the protection chain */
#define GW_WSET_DELTA_MIN_V 0.003  /* balance_delta_v's range */
#define GW_WSET_DELTA_MAX_V 0.500

/* What a change is checked against. */
struct gw_wset_ask {
	enum bms_wkey key;
	double value;                   /* in the key's unit (the balancer 0 / 1) */
	const struct bms_writer *w;     /* the pack's family */
	uint32_t keys;                  /* BMS_W_BIT()s the family writes on the pack's link */
	enum conf_chemistry chem;       /* the pack's own chemistry (checked by conf/ for the
	                                 * cell-voltage keys) */
	const struct bms_settings *have; /* what the BMS last reported */
};

/* The range and step of key k on w for chemistry chem. */
void gw_wset_range(const struct bms_writer *w, enum bms_wkey k, enum conf_chemistry chem, double *lo, double *hi,
		   double *step);
/* Check a: 0 with *raw (the value on the wire), else the HTTP status of
 * the refusal (422 out of range, off the step, out of order; 503 a
 * partner never read) with why. */
int gw_wset_check(const struct gw_wset_ask *a, int64_t *raw, char *why, size_t wl);

#endif
