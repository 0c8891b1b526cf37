/* SPDX-License-Identifier: MIT */
/* gateway/engine/health.h - cell health of one pack, from its polls: the
 * internal resistance of each cell and of the pack, the weak cell, the
 * imbalance over days ([health], design section 26).  Pure: snapshots and
 * times in, figures out; no I/O, no allocation.  The rules, and why, are in
 * health.c and, for the resistance, health_ir.c.
 *
 *   resistance  per cell and per pack from the voltage change over a current
 *               step between two polls close together (dV/dI), a robust
 *               running estimate: the median of the last 32 samples with the
 *               outliers out, in mOhm, with its sample count
 *   weak cell   the cell that leads most often into the knees (highest at
 *               full, lowest at empty), counted once per knee; its lead in
 *               Ah measured as the charge that flows until the median cell
 *               reaches the voltage it crossed (under 0.25 % of the capacity
 *               a tie: no lead, the knee not counted); its capacity deficit
 *               the sum of its mean leads at both ends (an end where it never
 *               led and the knees were ties: 0); where an end's knees were
 *               all cut before the median caught up (the cut-off first), a
 *               lower bound instead: the most charge such a knee took; named
 *               only once three knees agree
 *   imbalance   the spread at full and at rest of each day, their trend
 *               over the days kept; the pack's resistance per day for its
 *               trend (today against 30 days ago)
 */
#ifndef GATEWAY_ENGINE_HEALTH_H
#define GATEWAY_ENGINE_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"
#include "health_ir.h"

#define GW_HEALTH_DAYS 31        /* days of spread and resistance kept */
#define GW_WEAK_MIN_KNEES 3      /* knees that must agree before a weak cell is named */
#define GW_KNEE_TIE 0.0025       /* a lead under this share of the capacity is a tie: no lead */
#define GW_KNEE_MEET_MV 2        /* the median this near the leader's crossing has caught up */

/* What the estimators are given ([health], [limits]/[soc] chemistry, the
 * pack's rating). */
struct gw_health_params {
	double min_step_a;       /* A: a current step at least this large is a sample
	                          * (ir_min_step x the rated capacity) */
	double max_gap_s;        /* s: both polls within this of each other (2) */
	uint16_t knee_high_mv;   /* a cell at or over this is in the full knee (LFP 3450) */
	uint16_t knee_low_mv;    /* a cell at or under this is in the empty knee (LFP 3000) */
	uint16_t knee_hyst_mv;   /* a knee ends this far back (100) */
	double rest_a;           /* A: |I| under this is rest (0.01 C) */
	double rest_s;           /* s of rest before the spread at rest is taken (1800) */
	double capacity_ah;      /* the rated capacity, for the deficit in %; <= 0 unknown */
};

/* A knee in progress: the cell that crossed first, the voltage it crossed
 * at, and the charge since (+ = into the pack). */
struct gw_knee {
	bool in;                 /* in the knee now */
	bool measured;           /* the lead of this knee was taken */
	uint8_t cell;            /* 0-based */
	uint16_t cross_mv;       /* the leading cell's voltage at the crossing */
	double ah;               /* charge since the crossing */
	double peak_ah;          /* the most of it so far (the charge can turn before the knee ends) */
};

/* One day of imbalance and resistance figures. */
struct gw_health_day {
	int32_t day;             /* days since 1970 (local), 0 = none */
	uint16_t spread_full_mv; /* the largest spread seen in the full knee, 0 = none */
	uint16_t spread_rest_mv; /* the last spread after rest_s of rest, 0 = none */
	float ir_mohm;           /* the pack's estimate that day, 0 = none */
};

struct gw_health {
	bool have_prev;
	double t_prev;
	float i_prev, v_prev;
	bool v_prev_ok;
	uint8_t ncells;
	uint16_t mv_prev[BMS_MAX_CELLS];
	struct gw_ir_est cell[BMS_MAX_CELLS], pack;
	struct gw_knee hi, lo;
	uint16_t knees_high[BMS_MAX_CELLS], knees_low[BMS_MAX_CELLS]; /* knees each cell led */
	uint16_t knees;          /* knees seen */
	float lead_high_ah[BMS_MAX_CELLS], lead_low_ah[BMS_MAX_CELLS]; /* sums of the measured leads */
	uint16_t leads_high[BMS_MAX_CELLS], leads_low[BMS_MAX_CELLS];  /* ... and their counts */
	uint16_t ties_high, ties_low; /* knees the median reached within a tie of the leader */
	/* the largest charge of a knee each cell led that ended before the
	 * median reached its voltage (the cut-off came first): its lead there
	 * was at least that */
	float cut_high_ah[BMS_MAX_CELLS], cut_low_ah[BMS_MAX_CELLS];
	double rest_since;       /* monotonic start of the rest, < 0 none */
	struct gw_health_day days[GW_HEALTH_DAYS]; /* a ring by day */
};

/* The figures as every output shows them. */
struct gw_health_out {
	uint8_t ncells;
	float cell_ir_mohm[BMS_MAX_CELLS]; /* NAN: no estimate */
	uint32_t cell_ir_samples[BMS_MAX_CELLS];
	float ir_mohm;           /* the pack's, NAN none */
	uint32_t ir_samples;
	float ir_30d_mohm;       /* the pack's 30 days ago (the oldest day kept of 25-31 days ago), NAN */
	float ir_rise_pct;       /* today's against that, NAN */
	bool weak;               /* a weak cell is named */
	uint8_t weak_cell;       /* 1-based */
	uint8_t weak_ir_rank;    /* 1 = the highest resistance, 0 = unknown */
	float weak_deficit_pct;  /* NAN: not measured at both ends */
	float weak_deficit_min_pct; /* NAN, or (the deficit unmeasured) at least this: an end's knees cut
				       before the median caught up, the other end measured or tied */
	uint16_t weak_knees_low, weak_knees_high;
	uint16_t knees;
	uint16_t spread_full_mv, spread_rest_mv;   /* the latest day's, 0 none */
	float spread_full_trend, spread_rest_trend; /* mV per day over the days kept, NAN (< 3 days) */
};

void gw_health_init(struct gw_health *h);
/* One good poll at monotonic now, local day `day` (days since 1970). */
void gw_health_step(struct gw_health *h, const struct gw_health_params *p, const struct bms_snapshot *s,
		    double now, int32_t day);
void gw_health_output(const struct gw_health *h, const struct gw_health_params *p, int32_t today,
		      struct gw_health_out *o);

#endif
