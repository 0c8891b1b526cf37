/* SPDX-License-Identifier: MIT */
/* gateway/engine/capacity.h - a pack's full and remaining capacity: one rule
 * (design section 22; bmsgw-modbus(7) "Capacities"), pure, for every output
 * that shows or sends them:
 *
 *   full Ah       its BMS's full capacity (> 0), else its configured [soc]
 *                 capacity, else its BMS's remaining Ah over its BMS's SOC
 *                 (above 1 %)
 *   remaining Ah  its BMS's, else its BMS's SOC of that full capacity
 *
 * Neither: unknown (never 0).  pack.c applies it to each good poll's
 * snapshot, after the SOC step has read the BMS's own figures (the counted
 * SOC never enters it), so that the registers, the JSON, MQTT, SunSpec, the
 * Victron JSON, InfluxDB, the strings, the bank and the inverter outputs
 * all carry the same figures; a string takes its smallest member's full
 * and its weakest member's remaining Ah, the bank the sums (banksoc.h),
 * both of these. */
#ifndef GATEWAY_ENGINE_CAPACITY_H
#define GATEWAY_ENGINE_CAPACITY_H

#include <stdbool.h>

#include "../../bms/bms.h"

/* A unit's capacities by the rule: NAN where unknown. */
struct gw_ah {
	double full_ah;
	double remain_ah;
};

/* Pure: s as its BMS gave it, bms_soc the BMS's SOC in % (NAN none),
 * capacity the configured [soc] capacity in Ah (<= 0 none). */
void gw_capacity_rule(const struct bms_snapshot *s, double bms_soc, double capacity, struct gw_ah *o);

/* Pure: the rule's figures into s (BMS_HAS_FULL / BMS_HAS_REMAIN set where
 * known, cleared where not: a BMS's full capacity of 0 is no capacity). */
void gw_capacity_apply(struct bms_snapshot *s, double bms_soc, double capacity);

/* Pure: what a pack can carry by the rule, of BMS_HAS_FULL and
 * BMS_HAS_REMAIN, given what its driver provides (BMS_HAS_*) and its
 * configured capacity: for the entities announced ahead (Home Assistant). */
uint32_t gw_capacity_provides(uint32_t provides, double capacity);

#endif
