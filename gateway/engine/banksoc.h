/* SPDX-License-Identifier: MIT */
/* gateway/engine/banksoc.h - the bank's SOC and capacities: one rule
 * (design section 22), computed in one place for every output that shows
 * them (the register map's offsets 0/60, 44 and the full capacity, the
 * counted block 125-137, the JSON and MQTT, SunSpec's 802, [limits] and
 * the inverter outputs):
 *
 *   SOC = sum of the remaining Ah / sum of the full Ah of the fresh members,
 *   the BMSs' and the counted one alike.
 *
 * A member's full Ah is its BMS's full capacity, else its configured [soc]
 * capacity, else its remaining Ah over its SOC; its remaining Ah the BMS's,
 * else its SOC of that full.  A fresh member with neither is left out of
 * the SOC and named in the bank's warning (the bank's capacities are then
 * not known).  A balancer unit (a protocol without a current: neey) is no
 * member of the SOC, and never a missing pack.
 *
 * The SOC the bank carries is the counted one with [soc] source = counted
 * once every fresh member's count is synced, else the BMSs'.
 */
#ifndef GATEWAY_ENGINE_BANKSOC_H
#define GATEWAY_ENGINE_BANKSOC_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"
#include "soc.h"

/* A member of the bank as its SOC sees it. */
struct gw_bank_member {
	const struct bms_snapshot *snap; /* its last poll; NULL: not fresh (not in the SOC) */
	double bms_soc;                  /* % its BMS says (NAN none): the snapshot's may carry the count */
	double capacity;                 /* Ah: its [soc] capacity, <= 0 none */
	const struct gw_soc *est;        /* its count */
	bool balancer;                   /* a unit without a current: never in the SOC */
};

/* The bank's SOC and capacities. */
struct gw_bank_soc {
	double soc_bms;                  /* % of the BMSs: sum remaining / sum full (NAN none) */
	double remain_ah, full_ah;       /* Ah: those sums; NAN unless every fresh member is in them */
	uint32_t in_soc;                 /* bit k: bank pack k+1 is in the SOC */
	uint32_t left_out;               /* bit k: bank pack k+1 is fresh but has no capacity at all */
	struct gw_soc_out counted;       /* the estimator's figures over the fresh members (soc.h
	                                  * gw_soc_bank): counted, remaining, capacity, flags; its soc
	                                  * and soc_bms are the bank's carried and BMS SOC */
};

/* Pure: the bank's figures from its n members (bank position k = m[k]),
 * c = [soc] (the source), at monotonic time t. */
void gw_bank_soc(const struct gw_bank_member *m, int n, const struct conf_soc *c, double t, struct gw_bank_soc *o);

#endif
