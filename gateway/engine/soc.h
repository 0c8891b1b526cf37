/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc.h - bmsgw's own state of charge: a count of the charge
 * from the BMS's current, set at full, empty and rest points, pulled down
 * at knee points, held under the open-circuit curve at light-load points,
 * with a learned current offset and a measured capacity, and how sure it is
 * (design sections 17 and 22; the method and its sources: soc.c, the
 * light-load point: soc_light.c, the uncertainty: soc_band.c).
 *
 * Pure: no I/O, no clock, no globals, no allocation.  Time comes in with
 * every step (monotonic seconds), wall-clock time only with save and load.
 * The caller owns one struct gw_soc per pack (zeroed: nothing known) and
 *   - at every good poll: gw_soc_step() with what the poll read (the
 *     pack's struct conf_soc, its [gateway] stale_after), then logs
 *     ev.bits and saves at a point (GW_SOC_EV_SAVE);
 *   - on a stale tick: nothing (the count holds; the next good poll sees
 *     the gap and bridges it or marks the count unsynced);
 *   - every save_interval, at a point and at exit: gw_soc_save() into one
 *     line of the state file;
 *   - at start: gw_soc_load() of that line (a count saved within 24 h is
 *     resumed, an older one keeps only what was learned);
 *   - for what it publishes: gw_soc_output() per pack, gw_soc_bank() for
 *     the bank (the sum of its fresh packs' counts over the sum of their
 *     capacities: engine/banksoc.h, the one rule of the bank).
 */
#ifndef GATEWAY_ENGINE_SOC_H
#define GATEWAY_ENGINE_SOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../conf/conf.h"

#define GW_SOC_SAMPLES 5            /* capacity samples whose median is in use */
#define GW_SOC_RESUME_MAX 86400.0   /* s: a saved count older than this is not resumed */
#define GW_SOC_RECORD_MAX 2048      /* bytes of gw_soc_save()'s line, NUL included */
#define GW_SOC_R_SAMPLES 9          /* resistance samples whose median is in use (soc_light.c) */

/* What one good poll read; NAN where the BMS gives nothing. */
struct gw_soc_in {
	double t;                   /* s, monotonic: when the poll was answered */
	double current;             /* A, + = charging; NAN: this poll is not counted */
	double cell_min_v, cell_max_v; /* V: the lowest and highest cell */
	double cell_avg_v;          /* V: the mean cell (pack / cells); NAN = (min + max) / 2 */
	double bms_soc;             /* % */
	double bms_remain_ah;       /* Ah the BMS says remain */
	double bms_full_ah;         /* Ah: the BMS's full (rated) capacity */
	double temp_min_c, temp_max_c; /* degC of the cell sensors */
};

/* What a step saw (the caller logs each; they are also counted). */
enum {
	GW_SOC_EV_START = 1u << 0,  /* the count starts from the BMS's SOC, unsynced */
	GW_SOC_EV_FULL = 1u << 1,   /* a full point: 100 % */
	GW_SOC_EV_EMPTY = 1u << 2,  /* an empty point: 0 % */
	GW_SOC_EV_REST = 1u << 3,   /* a rest point: ev.rest_soc % from the open-circuit curve */
	GW_SOC_EV_BRIDGED = 1u << 4, /* a gap of ev.gap_s taken from the BMS's remaining Ah */
	GW_SOC_EV_LOST = 1u << 5,   /* a gap of ev.gap_s not counted: unsynced */
	GW_SOC_EV_SAMPLE = 1u << 6, /* a capacity sample ev.sample_ah; ev.capacity_ah in use now */
	GW_SOC_EV_REJECTED = 1u << 7, /* a capacity sample ev.sample_ah outside 0.5..1.5 x rated: not used */
	GW_SOC_EV_OFFSET = 1u << 8, /* a current offset learned between two full points: ev.offset_a */
	GW_SOC_EV_KNEE = 1u << 9,   /* a knee point: the count, ev.knee_from %, pulled down to knee_soc
	                             * (the lowest cell at ev.knee_v) */
	GW_SOC_EV_PRIOR = 1u << 10, /* until measured, the capacity in use is now ev.capacity_ah: the
	                             * BMS's full capacity under the configured one (ev.prior_bms), or
	                             * the configured one again */
	GW_SOC_EV_LIGHT = 1u << 11, /* a light-load point begins: the count, ev.light_from %, is over
	                             * what the lowest cell (ev.light_v at ev.light_a) allows,
	                             * ev.light_to %, and is brought down to it (soc_light.c) */
	GW_SOC_EV_DROPPED = 1u << 12, /* the rated capacity changed: ev.dropped capacity samples kept
	                               * from before lie outside 0.5..1.5 x it (another battery's
	                               * capacity), no longer used */
};
/* Events after which the state file is written (design: at each point). */
#define GW_SOC_EV_SAVE                                                                                    \
	(GW_SOC_EV_FULL | GW_SOC_EV_EMPTY | GW_SOC_EV_REST | GW_SOC_EV_SAMPLE | GW_SOC_EV_KNEE | GW_SOC_EV_LIGHT | \
	 GW_SOC_EV_DROPPED)
struct gw_soc_ev {
	unsigned bits;              /* GW_SOC_EV_* */
	double gap_s, rest_soc, sample_ah, capacity_ah, offset_a, knee_from, knee_v;
	double light_from, light_to, light_v, light_a;
	bool prior_bms;
	unsigned dropped;
};

/* A point's condition over the polls (soc.c held_for). */
struct gw_soc_timer {
	bool on;                    /* it holds, since `since` */
	bool taken;                 /* the point was taken: not again until it has ended for a while */
	double since, off_since;    /* s */
};

/* The charge counted since a full or an empty point (soc.c). */
struct gw_soc_run {
	double ah, s;               /* net Ah counted (unclamped), over s seconds */
	bool ok;                    /* since the point, without a gap */
	bool sampled;               /* a capacity sample was taken from it ... */
	bool light;                 /* ... at a light-load point: a later point's replaces it */
	double p_lo, p_hi;          /* %: the true SOC at the point, as it said (soc_band.c) */
	double drift_ah;            /* Ah the sensor may have got wrong since (soc_band.c) */
};

/* The count's uncertainty (soc_band.c): the true SOC (the cell's whole
 * charge, %) minus the count lies within [lo, hi] as the last point (or
 * the last fold) left it, plus what the count may have got wrong since. */
struct gw_soc_band {
	bool ok;                    /* known: since a full, empty, knee or rest point, nothing lost since */
	double lo, hi;              /* %: the truth minus the count then */
	double klo, khi;            /* the truth's change over the count's (the capacity's confidence) */
	double net_ah;              /* Ah counted since (+ = charged, after the efficiency) */
	double drift_ah;            /* Ah the sensor's offset, the dead band and the charge efficiency may
	                             * have got wrong since */
	/* not kept: the widths of a full and an empty point under the
	 * configured voltages (shares), for the chemistry and voltages they were
	 * taken for (a live reload may change them) */
	bool widths;
	int w_chem;
	double w_full_v, w_empty_v, w_full, w_empty;
};

/* A cell's resistance, from the mean cell's voltage change over a current
 * step between two polls, and the discharge current its polarisation
 * still remembers (soc_light.c). */
struct gw_soc_ir {
	double r[GW_SOC_R_SAMPLES]; /* ohm, a ring ... */
	double w[GW_SOC_R_SAMPLES]; /* ... and the current step of each, A (its weight) */
	unsigned n;                 /* samples taken so far */
	double value;               /* ohm: the resistance of the samples (0: too few) */
	double dis_a;               /* A: the discharge current remembered (a peak, decaying) */
};

/* One pack's estimator.  Zeroed = nothing known yet. */
struct gw_soc {
	bool started;               /* ah holds a count */
	bool synced;                /* since a full or empty point, and no gap lost since */
	bool resumed;               /* the count came from the state file */
	double ah;                  /* Ah counted remaining, 0..cap_ah */
	double cap_ah;              /* the capacity ah is counted against */
	double rated_ah;            /* the configured or BMS capacity (SOH's denominator) */
	double bms_full_ah;         /* the BMS's full capacity at the last poll that gave one (0 none) */
	double prior_ah;            /* the capacity in use until measured: the smaller of the configured
	                             * one and bms_full_ah where both exist, else rated_ah */
	bool prior_bms;             /* prior_ah is the BMS's, under the configured one */
	bool have_last;             /* last_* are the previous good poll's */
	double last_t, last_i, last_remain; /* s, A (as read), Ah (NAN none) */
	double last_vmin, last_vmax, last_vavg; /* V: the lowest, highest and mean cell (NAN none) */
	struct gw_soc_timer full_tm, empty_tm, rest_tm, knee_tm, light_tm; /* each point's condition */
	bool light_on;              /* a light-load point is bringing the count down ... */
	bool light_over;            /* ... from LIGHT_SAMPLE_OVER or more over its ceiling */
	double offset_a;            /* A: the learned current offset ... */
	double offset_w;            /* ... and the seconds of runs it rests on (0: never learned) */
	struct gw_soc_run run_full, run_empty; /* since the last full and empty point */
	bool have_full;             /* a full point was seen: full_age is s since it ... */
	bool full_pinned;           /* ... at monotonic full_age_t (else at the next step) */
	double full_age, full_age_t;
	double sample[GW_SOC_SAMPLES]; /* the last capacity samples, Ah (a ring) ... */
	double sample_s[GW_SOC_SAMPLES]; /* ... and the s of their runs, < 0 discharging (the offset's share) */
	double sample_flo[GW_SOC_SAMPLES], sample_fhi[GW_SOC_SAMPLES]; /* ... and each one's share of the
	                            * whole charge, its bounds (soc_band.c; 0: none known) */
	unsigned nsamples;          /* taken so far */
	unsigned full_points, empty_points, rest_points, knee_points, light_points;
	bool have_saved_remain;     /* the loaded record's BMS remaining Ah, to bridge a restart */
	double saved_remain;
	double load_gap_s;          /* s the record was saved before it was loaded (until the next poll) */
	struct gw_soc_ir ir;        /* for the light-load points */
	struct gw_soc_band band;    /* the count's uncertainty */
};

/* Bits of the flag word, register offset 127. */
enum {
	GW_SOC_F_COUNTING = 1u << 0, /* the charge is counted */
	GW_SOC_F_SYNCED = 1u << 1,   /* since a full or empty point */
	GW_SOC_F_SOURCE = 1u << 2,   /* the SOC carried is the counted one (source = counted, synced) */
	GW_SOC_F_RESUMED = 1u << 3,  /* the count was resumed from the state file */
	GW_SOC_F_MEASURED = 1u << 4, /* the capacity in use is measured */
};

/* What is published for a unit (design 17: registers 125-137 and 147, JSON "soc_estimate"). */
struct gw_soc_out {
	double soc;                 /* % carried: the counted one with GW_SOC_F_SOURCE, else the BMS's (NAN none) */
	double soc_bms;             /* % the BMS says (NAN none) */
	double soc_counted;         /* % counted (NAN while not counting) */
	unsigned flags;             /* GW_SOC_F_* */
	double remaining_ah;        /* counted (NAN while not counting) */
	double capacity_ah;         /* in use: measured, else configured or the BMS's (NAN unknown) */
	double soh_measured;        /* % = capacity in use / rated; 0 until measured */
	unsigned capacity_samples;
	double since_full_s;        /* s since the last full point; < 0 never */
	unsigned full_points, empty_points, rest_points, knee_points, light_points;
	double band;                /* % +-: the true SOC lies within soc_counted +- band (rounded up to
	                             * 0.1 %); NAN while not synced or not known (soc_band.c) */
	double band_lo, band_hi;    /* %: the truth minus soc_counted lies within these (NAN as band) */
};

/* charging / discharging / idle from the current where a BMS says none
 * (offset 104, JSON state): never idle while |current| >= threshold. */
enum gw_soc_dir { GW_SOC_IDLE = 0, GW_SOC_CHARGING, GW_SOC_DISCHARGING };
enum gw_soc_dir gw_soc_direction(double current, double threshold);

/* One good poll: count the charge since the previous one, take the points
 * their conditions reached.  With c->count false nothing happens. */
void gw_soc_step(struct gw_soc *s, const struct conf_soc *c, double stale_after, const struct gw_soc_in *in,
		 struct gw_soc_ev *ev);
/* The unit's figures at monotonic time t (its since_full_s), with the
 * BMS's SOC of now (NAN none). */
void gw_soc_output(const struct gw_soc *s, const struct conf_soc *c, double bms_soc, double t,
		   struct gw_soc_out *o);
/* The bank's figures from its n packs (the fresh ones: banksoc.h): SOC =
 * the packs' counted Ah over their capacities (counting once every pack
 * counts; synced, measured and resumed when all are; samples and points
 * the fewest of any pack, since the last full the longest), c = [soc] (its
 * source), bms_soc the bank's. */
void gw_soc_bank(const struct gw_soc *const *packs, int n, const struct conf_soc *c, double bms_soc, double t,
		 struct gw_soc_out *o);

/* The open-circuit curve (soc_curve.c): % of a rested cell at v volts
 * (its ends beyond it; NAN for LTO, which has none here). */
double gw_soc_curve(enum conf_chemistry chem, double v);
/* The same where a rest point may use it: NAN where the curve is too flat
 * to tell (LFP strictly between 3.20 and 3.40 V). */
double gw_soc_rest_value(enum conf_chemistry chem, double v);
/* How steep the curve is at v: the millivolts a % of the piece v lies on
 * (beyond the ends, the end piece's; NAN where there is no curve). */
double gw_soc_curve_mv(enum conf_chemistry chem, double v);
/* The curve's % at v where it rises at least min_mv millivolts a % there,
 * else NAN. */
double gw_soc_steep_value(enum conf_chemistry chem, double v, double min_mv);
/* A bound of the % of a cell whose open-circuit voltage is v: where its
 * piece of the curve rises at least min_mv millivolts a %, the piece's
 * value at v - piece_v (up false) or v + piece_v (a cell's own curve
 * departs from the straight piece by up to piece_v), within the piece;
 * where it rises less, the piece's lower or upper end (NAN where there is
 * no curve). */
double gw_soc_curve_bound(enum conf_chemistry chem, double v, double min_mv, double piece_v, bool up);

/* The state as one line of text, without newline: a version, then
 * key=value fields (soc_record.c), saved at wall time `wall` (unix s) and
 * monotonic t.  The length, or -1 if cap is too small. */
int gw_soc_save(const struct gw_soc *s, double t, int64_t wall, char *buf, size_t cap);
/* What gw_soc_load() did. */
enum gw_soc_load {
	GW_SOC_LOAD_BAD = -1,       /* not a record of a known version: nothing taken */
	GW_SOC_LOAD_OLD = 0,        /* saved more than 24 h ago (or in the future): what was learned
	                             * is kept (capacity samples, offset, points), the count starts
	                             * anew from the BMS's SOC, unsynced */
	GW_SOC_LOAD_RESUMED = 1,    /* the count resumes (synced as it was) */
};
/* Read a record of gw_soc_save() into a zeroed s at wall time `wall`.  A
 * restart shorter than stale_after keeps the learning runs going. */
enum gw_soc_load gw_soc_load(struct gw_soc *s, const char *text, int64_t wall, double stale_after);

#endif
