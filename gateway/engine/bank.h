/* SPDX-License-Identifier: MIT */
/* gateway/engine/bank.h - the bank unit: one virtual pack of a parallel
 * bank, aggregated from its fresh members' snapshots (bank.c, whose
 * opening comment has the rules), pure.  The daemon's bank is computed by
 * model/bankstate.c from its packs (which are fresh, which are balancer
 * units), kept there, and read by every output through gw_bank_at(). */
#ifndef GATEWAY_ENGINE_BANK_H
#define GATEWAY_ENGINE_BANK_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../../registers/regmap.h"
#include "banksoc.h"
#include "bank_strings.h"

/* The bank unit. */
struct gw_bank_state {
	struct bms_snapshot snap;      /* aggregated; no cells of its own; its SOC, remaining and
	                                * full capacity are soc's (banksoc.h) */
	struct reg_bank rb;            /* cross-pack cell statistics, deviation */
	uint16_t online, configured;
	uint32_t online_mask;          /* bit n = bank pack n+1 fresh */
	uint16_t missing;              /* packs of the bank not fresh, balancer units aside:
	                                * the failure flag's "a pack missing" */
	uint32_t missing_mask;         /* bit n = bank pack n+1 missing */
	struct gw_bank_soc soc;        /* the SOC and capacities, one rule (banksoc.h) */
	uint32_t alarms;               /* the OR of the fresh packs' words */
	uint32_t protect, warn;        /* the OR of their levels (gw_limits_alarm_levels) */
	struct gw_temp_at {           /* the coldest and hottest sensor of every fresh pack */
		float c;
		uint8_t pack, index;   /* bank position and sensor, 1-based; pack 0 = none */
	} tmin, tmax;
	struct gw_bank_shunt {         /* [bank] shunt: where the bank's values come from */
		bool configured;       /* a shunt is set */
		bool current;          /* current, power and state are the shunt's (fresh) */
		bool soc;              /* SOC, remaining and full Ah and the counted SOC are the shunt's */
	} shunt;
};

/* The bank's shunt as the bank sees it at one instant. */
struct gw_bank_shunt_in {
	const struct bms_snapshot *snap; /* its last poll; NULL: not fresh */
	double bms_soc;                  /* % its own SOC (NAN none) */
	double capacity;                 /* Ah: its [soc] capacity, <= 0 none */
	const struct gw_soc_out *counted; /* its count's figures (soc.h gw_soc_output) */
};

/* Pure: aggregate the n packs of a bank, fresh[k] = bank pack k's snapshot
 * if its data is fresh, NULL if not (it counts as configured, not online);
 * its state says idle under state_threshold A ([soc] current_threshold).
 * No SOC, remaining or full capacity: those are the one rule's
 * (banksoc.h), which gw_bank_soc_apply() adds. */
void gw_bank_aggregate(const struct bms_snapshot *const fresh[], int n, double max_deviation,
		       double state_threshold, struct gw_bank_state *out);
/* Pure: out->soc's SOC (the one carried) and its BMSs' remaining and full
 * capacity into the bank's snapshot. */
void gw_bank_soc_apply(struct gw_bank_state *out);
/* Pure: the shunt's measurements over the bank of out (bank_shunt.c): a
 * fresh shunt with a current gives the bank's current, power and state; with
 * a SOC also the SOC, remaining and full Ah (the capacity rule over the
 * shunt, the packs' full Ah standing in for a capacity of its own while
 * no pack is missing) and the
 * counted SOC (its own count).  A stale shunt, or a bank without data,
 * changes nothing: the packs' figures stay. */
void gw_bank_shunt_apply(const struct gw_bank_shunt_in *in, double state_threshold, struct gw_bank_state *out);
/* Pure: the source word of the bank's register and JSON: bit 0 current and
 * power from the shunt, bit 1 SOC from the shunt, bit 2 a shunt is set but
 * not fresh (the packs' sum). */
unsigned gw_bank_shunt_bits(const struct gw_bank_shunt *s);
/* Pure: the bank of a bank of strings (cb->nstrings of them): its strings
 * ss[s], each as one member, with its packs' freshness online[k] (bank
 * pack k, k < cb->npacks): the packs not fresh are its missing ones. */
void gw_bank_of_strings(const struct conf_bank *cb, const struct gw_string_state *ss, const bool online[],
			double state_threshold, struct gw_bank_state *out);

#endif
