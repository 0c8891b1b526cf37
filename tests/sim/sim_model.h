/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_model.h - bmsgw-sim's battery model: a battery with a known
 * truth, for the SOC estimator's tests (bmsgw --soc-replay) and for a
 * live pack (`--pack model=lfp,...`).
 *
 * The truth: a true capacity (a few % under the rated one), a charge
 * efficiency, cells with an open-circuit curve (LFP or NMC), hysteresis, an
 * internal resistance and a polarisation.  What a BMS reports: the current
 * through a sensor with a gain and an offset error and noise, a SOC the
 * BMS counts with that sensor against its rated capacity and resets only
 * by its own rule (at its over-voltage, which the charger never reaches;
 * a Daly-like dead band).  The day: solar with the weather of the day, a
 * base load, mornings and evenings, appliances; a charger that follows
 * bmsgw's charge machine (bulk to 3.45 V a cell, absorption, float); now
 * and then a deep evening until the inverter's cut-off, then a rest until
 * the sun.  No real time: the caller steps it (sim_trace.c writes a trace
 * at any speed; sim_pack.c runs a live pack on the wall clock).
 */
#ifndef BMSGW_SIM_MODEL_H
#define BMSGW_SIM_MODEL_H

#include <stdint.h>
#include <stdio.h>

#define SIM_MODEL_CELLS 192 /* as a pack: sim.h SIM_MAX_CELLS (an EV pack of 96 or 108) */

/* The model's settings: key=value of a --pack SPEC (sim_model_set). */
struct sim_model_cfg {
	int on;                  /* model=lfp|nmc given */
	int nmc;                 /* 0 lfp, 1 nmc */
	int cells;               /* in series (the pack's `cells`) */
	double rated_ah;         /* the BMS's capacity (the pack's `capacity`) */
	double true_ah;          /* true capacity; 0 = 0.97 x rated */
	double efficiency;       /* share of the charge in that is stored */
	double gain;             /* the BMS's current sensor reads I x (1 + gain) ... */
	double offset;           /* ... + offset A ... */
	double noise;            /* ... + Gaussian noise of this rms, A */
	double r_ahohm;          /* cell resistance x capacity, ohm Ah (R0 = this / true_ah) */
	int bms_daly;            /* the BMS counts nothing under bms_band A (Daly), else everything */
	double bms_band;         /* A */
	double bms_full_v;       /* V: a cell at or over this resets the BMS's SOC to 100 % */
	double soc0;             /* true SOC at the start, % */
	double bms_soc0;         /* the BMS's SOC at the start, % (< 0: the true one) */
	double pv;               /* solar current at noon of a clear day, C */
	double load;             /* base load, C */
	double deep_every;       /* days between deep evenings (0 = never) */
	double deep_load;        /* the load of a deep evening, C */
	double cutoff_v;         /* lowest cell at which the inverter stops (under load) */
	double speed;            /* live: model seconds per second */
	double start_hour;       /* time of day at the start */
	uint64_t seed;           /* weather, appliances, noise, cell spread */
	double r_all_mohm;       /* `r_mohm`: every cell's R0, mOhm (0: r_ahohm's, spread) */
	double cell_r_mohm[SIM_MODEL_CELLS]; /* `high_r=N:MOHM`: cell N's R0 (0: as the others) */
	int low_cell;            /* `low_cap=N:PCT`: cell N (1-based, 0 none) has ... */
	double low_pct;          /* ... PCT % less capacity than the least of the others */
	int rise_cell;           /* `r_rise=N:PCT`: cell N's (1-based, 0 none) R0 rises ... */
	double rise_pct;         /* ... PCT % of itself every 30 days, linearly */
};

struct sim_model {
	struct sim_model_cfg cfg;
	double t;                /* s since the start */
	double q;                /* true Ah in the pack */
	double cell_off[SIM_MODEL_CELLS]; /* each cell's SOC beside the pack's (fraction) */
	double cell_r[SIM_MODEL_CELLS];   /* each cell's resistance, ohm (now) */
	double cell_r0[SIM_MODEL_CELLS];  /* ... at the start */
	int weak;                /* the cell of the least capacity (0-based): the pack's */
	double cell_v[SIM_MODEL_CELLS];   /* V, terminal */
	double vp;               /* polarisation, V a cell */
	double h;                /* hysteresis -1 (discharged) .. 1 (charged) */
	double i_true, i_meas;   /* A */
	double bms_ah;           /* what the BMS counts */
	int mode;                /* the charger: 0 bulk, 1 absorption, 2 float */
	double abs_s;            /* s in absorption */
	int day;                 /* the day being simulated (weather, deep) */
	double weather;          /* 0..1: the day's share of clear-sky solar */
	double cloud;            /* this quarter hour's share */
	int deep, cut;           /* a deep evening today; the inverter is cut off (until the sun) */
	int deep_night;          /* the deep evening's load is on (from 17:00 to the cut-off or 7:00) */
	double appliance;        /* A of an appliance on now */
	double appliance_until;  /* s */
	double temp_c;
	uint64_t rng;
	int driven;              /* the current is set (sim_model_drive): no day, no charger, no cut-off */
	double i_driven;         /* A, true */
};

void sim_model_defaults(struct sim_model_cfg *c);
/* One key of a pack SPEC: 0 taken, -1 a bad value, 1 not a model key. */
int sim_model_set(struct sim_model_cfg *c, const char *key, const char *val);
/* Start with c (its rated capacity and cells set). */
void sim_model_init(struct sim_model *m, const struct sim_model_cfg *c);
/* From now on the battery's true current is `amps` (+ = charging), as set
 * (a live pack's `set ADDR current`): the day's sun and loads, the charger
 * and the inverter's cut-off no longer move it; the cells, the BMS's
 * sensor and count go on. */
void sim_model_drive(struct sim_model *m, double amps);
/* dt seconds pass (any dt; it steps 1 s at a time). */
void sim_model_run(struct sim_model *m, double dt);
double sim_model_true_soc(const struct sim_model *m);   /* % */
double sim_model_true_ah(const struct sim_model *m);    /* the true capacity */
double sim_model_bms_soc(const struct sim_model *m);    /* % */
double sim_model_voltage(const struct sim_model *m);    /* V, the pack */
double sim_model_cell_ah(const struct sim_model *m, int i); /* cell i's capacity (0-based) */
/* The trace: `days` of the model at `step` s, as a history CSV (bmsgw
 * --history-csv's columns) with the truth in columns after them; with
 * `cells` each cell's voltage too (cell_NN_mv) and the truth of the cells
 * (true_r_mohm a column: the cells' resistances summed; each cell's
 * capacity and resistance at the start and at the end in '#' lines after
 * the rows). */
int sim_trace_write(const struct sim_model_cfg *c, double days, double step, int cells, FILE *out);

#endif
