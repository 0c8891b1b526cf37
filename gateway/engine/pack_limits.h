/* SPDX-License-Identifier: MIT */
/* gateway/engine/pack_limits.h - the charge and discharge limit engine: CVL, CCL,
 * DCL, DVL, the flags an inverter needs, the charge mode and the reasons,
 * for one pack from its snapshot and for the bank from its packs' results.
 *
 * Pure: no I/O, no globals, no allocation.  The caller owns one struct
 * gw_lim_state per pack and calls gw_limits_step() at every good poll and
 * once a second (holds and ramps move with time), with the pack's snapshot
 * while it is fresh and NULL while it is stale.  The algorithm and its
 * sources are described in pack_limits.c.
 */
#ifndef GATEWAY_ENGINE_LIMITS_H
#define GATEWAY_ENGINE_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "settings.h"

/* Charge mode: the values of register offset 53. */
enum gw_lim_mode {
	GW_LIM_OFF = 0,          /* no [limits], or a pack without cell voltages */
	GW_LIM_BULK = 1,
	GW_LIM_ABSORPTION = 2,
	GW_LIM_FLOAT = 3,        /* also while the CVL ramps down to float */
	GW_LIM_FAILSAFE = 4,     /* stale pack, bank without a fresh pack */
};

/* What binds a current limit: the values of register offsets 54 and 55. */
enum gw_lim_reason {
	GW_LR_NONE = 0,          /* the configured maximum current */
	GW_LR_CELL_VOLTAGE = 1,  /* charge_cell_table / discharge_cell_table */
	GW_LR_TEMPERATURE = 2,   /* charge_temp_table / discharge_temp_table */
	GW_LR_MOS_TEMPERATURE = 3, /* mos_temp_table */
	GW_LR_SOC = 4,           /* soc_charge_table / soc_discharge_table */
	GW_LR_MOSFET_OFF = 5,    /* the BMS's FET of that direction is off */
	GW_LR_ALARM = 6,         /* an alarm of that side (gw_limits_alarm_side) */
	GW_LR_BMS_LIMIT = 7,     /* the limit the BMS itself reports */
	GW_LR_STALE = 8,         /* no fresh data */
	GW_LR_CAP = 9,           /* a runtime cap (ccl_cap / dcl_cap, engine/settings.h) */
	GW_LR_CHEMISTRY = 10,    /* the cells do not fit the pack's chemistry (engine/chemfit.h) */
};
#define GW_LR_COUNT 11

/* Bits of the limit flag word, register offset 50 (gw_limits_flags). */
enum {
	GW_LIM_F_CHARGE = 1u << 0,       /* charge allowed (CCL > 0) */
	GW_LIM_F_DISCHARGE = 1u << 1,    /* discharge allowed (DCL > 0) */
	GW_LIM_F_FORCE_CHARGE = 1u << 2,
	GW_LIM_F_FULL_CHARGE = 1u << 3,  /* full-charge request */
	GW_LIM_F_ON = 1u << 4,           /* [limits] is configured */
	GW_LIM_F_FAILSAFE = 1u << 5,
	GW_LIM_F_MEMBER_STALE = 1u << 6, /* the bank: one of its packs is stale */
	GW_LIM_F_EXCEEDED = 1u << 7,     /* the current is beyond CCL or DCL (limit_exceeded) */
};

/* A current beyond a limit for limit_exceeded seconds: which one. */
enum gw_lim_exceeded { GW_LIM_EXC_NONE = 0, GW_LIM_EXC_CHARGE, GW_LIM_EXC_DISCHARGE };

/* What is published for a pack or the bank. */
struct gw_limits {
	bool enabled;            /* [limits] is configured (else all 0, mode off) */
	bool volt_valid;         /* cvl_v / dvl_v are known: from the cells, or
	                          * reported by the BMS (a pack without cell
	                          * voltages that reports none: false, both 0) */
	double cvl_v;            /* charge voltage limit, V */
	double ccl_a;            /* charge current limit, A (>= 0) */
	double dcl_a;            /* discharge current limit, A (>= 0) */
	double dvl_v;            /* discharge voltage limit, V */
	bool charge_allowed;     /* ccl_a > 0 */
	bool discharge_allowed;  /* dcl_a > 0 */
	bool force_charge;
	bool full_charge_request;
	bool failsafe;
	enum gw_lim_mode mode;
	enum gw_lim_reason ccl_reason, dcl_reason;
	bool member_stale;       /* the bank: a configured pack of it is stale */
	enum gw_lim_exceeded exceeded; /* the current goes beyond CCL or DCL (an inverter
	                          * that does not follow them) */
	/* What the bank's charge machine reads of a pack */
	int cells;               /* cells in series, 0 = unknown */
	double bulk_cvl_v;       /* the bulk / absorption CVL (cell over-voltage reduction,
	                          * the BMS's cap and voltage_drop included) even in float */
	bool absorbed;           /* absorption completed in this charge cycle (float) */
};

/* One current limit (CCL or DCL) on its way: it falls at once, and rises
 * only once its target has stayed above it for recovery_hold, at
 * recovery_rate. */
struct gw_lim_current {
	double a;                /* published limit, A */
	bool rising;             /* the target is above a: hold, then ramp */
	double since;            /* when the target rose above a (monotonic s) */
	enum gw_lim_reason reason; /* published reason: the target's, kept while rising */
};

/* A current beyond its limit: the direction it is beyond now and since
 * when, and what was declared after limit_exceeded seconds. */
struct gw_lim_exceed {
	enum gw_lim_exceeded state;   /* declared */
	enum gw_lim_exceeded now;     /* beyond now (NONE = within) */
	double since;                 /* monotonic start of `now` */
};

/* A runtime SOC ceiling and floor reached (engine/settings.h): held until
 * the SOC is their hysteresis back. */
struct gw_lim_latch {
	bool hi;                 /* SOC >= max_soc: no charging */
	bool lo;                 /* SOC <= min_soc: no discharging */
};

/* The engine's memory for one pack.  gw_limits_init() before the first
 * step; charge.c then restores last_full_wall from the state file, and
 * saves it from here. */
struct gw_lim_state {
	bool seen;               /* a fresh snapshot was stepped since init */
	bool have_prev;          /* prev_* hold the last published words */
	double t_prev;           /* monotonic time of the previous step */
	enum gw_lim_mode mode;   /* the CVL machine: bulk, absorption or float */
	double abs_since;        /* absorption timer: start (restarted when the spread widens) */
	bool soc_armed;          /* in float: SOC seen at or above rebulk_soc */
	bool absorbed;           /* absorption completed in this charge cycle */
	bool at_target;          /* bulk: the cells reached the target (max_bulk_time runs) */
	double target_since;     /* ... since then (monotonic) */
	bool cvl_known;          /* cvl holds a value */
	double cvl;              /* the bulk / absorption CVL, V (before the BMS's cap), kept in float too */
	bool fcvl_known;
	double fcvl;             /* the float CVL on its ramp, V */
	bool cvl_limited;        /* held below the bulk target (cell over-voltage,
	                          * stale, back from float): recovering */
	double cvl_since;        /* last time it was lowered: the hold runs from here */
	double cvl_out, dvl_out; /* last published CVL and DVL (kept while stale) */
	bool volt_valid;         /* and whether they were known */
	struct gw_lim_current ccl, dcl;
	double frac[2];          /* cell-table fractions held (charge, discharge): table_hysteresis */
	bool frac_known[2];
	struct gw_lim_exceed exc;
	bool force;              /* force-charge flag (with its hysteresis) */
	int64_t last_full_wall;  /* unix time of the last step in absorption or
	                          * float, 0 = unknown: the first fresh step with
	                          * a plausible clock sets it (the request then
	                          * comes full_charge_days after that) */
	enum gw_lim_mode prev_mode;
	enum gw_lim_reason prev_ccl_reason, prev_dcl_reason;
	struct gw_lim_latch latch; /* the runtime max_soc / min_soc (gw_limits_step_set) */
};

/* What changed in a step (gw_limits_step's result, gw_limits_changes). */
enum {
	GW_LIM_CHANGED_MODE = 1u << 0,
	GW_LIM_CHANGED_CCL_REASON = 1u << 1,
	GW_LIM_CHANGED_DCL_REASON = 1u << 2,
	GW_LIM_CHANGED_EXCEEDED = 1u << 3,  /* limits.exceeded was raised or cleared */
	GW_LIM_CHANGED_MEMBER = 1u << 4,    /* the bank: member_stale changed */
	GW_LIM_EVENT_BULK_TIME = 1u << 5,   /* a pack entered float by max_bulk_time (not a change of words) */
};
#define GW_LIM_CHANGED_WORDS (GW_LIM_CHANGED_MODE | GW_LIM_CHANGED_CCL_REASON | GW_LIM_CHANGED_DCL_REASON)

/* A pack's own current ratings, A: [pack.NAME] max_charge_current and
 * max_discharge_current, else [limits]'; cells: its [pack.NAME] cells (0:
 * the BMS's), for the DVL of a pack whose BMS sends a CVL but neither a
 * DVL nor its cells (cells x min_cell_voltage; none known: 0). */
struct gw_lim_rating {
	double charge_a, discharge_a;
	int cells;
};

/* Which pack binds each bank value: an index into packs[], -1 = none. */
struct gw_lim_binding {
	int cvl, dvl, ccl, dcl;
};

void gw_limits_init(struct gw_lim_state *st);

/* One step for one pack.  r: its ratings (NULL = [limits]' currents).  s:
 * its snapshot, NULL while it is stale (then at once CCL = DCL = 0,
 * nothing allowed, mode failsafe, reasons stale; the CVL and DVL keep
 * their last values).  now: monotonic seconds (holds, ramps, the
 * absorption timer); wall: unix time (full_charge_days only).  Returns the
 * GW_LIM_CHANGED_* bits of mode, reasons and exceeded against the previous
 * step (the words on the first step), and GW_LIM_EVENT_BULK_TIME, so that
 * the caller logs a change once, never per poll. */
unsigned gw_limits_step(const struct conf_limits *cfg, const struct gw_lim_rating *r, const struct bms_snapshot *s,
			double now, int64_t wall, struct gw_lim_state *st, struct gw_limits *out);

/* A step for a pack whose cells do not fit its chemistry (engine/chemfit.h:
 * its cell rules would be another chemistry's): fail-safe as a stale one
 * (CCL = DCL = 0 at once, nothing allowed, mode failsafe, the CVL and DVL
 * kept), reasons chemistry; back, its current limits recover by the hold
 * and ramp rules.  Returns what gw_limits_step() returns. */
unsigned gw_limits_step_unfit(const struct conf_limits *cfg, double now, struct gw_lim_state *st,
			      struct gw_limits *out);

/* gw_limits_step() with a unit's runtime settings (NULL: none), applied to
 * the current targets before the hold and the ramp: SOC >= max_soc -> CCL 0
 * (reason soc) until the SOC is max_soc_hysteresis under it; SOC <= min_soc
 * -> DCL 0 (reason soc) until min_soc_hysteresis above; ccl_cap / dcl_cap
 * bound the targets (reason cap); force_charge (before its end) sets the
 * force-charge flag while charging is allowed; a full_charge_days that is
 * not the configuration's replaces [limits]'.  The SOC is the snapshot's
 * (the SOC in force). */
unsigned gw_limits_step_set(const struct conf_limits *cfg, const struct gw_lim_rating *r,
			    const struct gw_settings *set, const struct bms_snapshot *s, double now, int64_t wall,
			    struct gw_lim_state *st, struct gw_limits *out);

/* The settings' rule on one unit's current targets (shared by the pack's
 * step and the bank's): the latch stepped with the SOC (have_soc false:
 * kept as it is), then each target lowered to 0 or to its cap. */
void gw_limits_settings_apply(const struct gw_settings *set, bool have_soc, double soc, struct gw_lim_latch *latch,
			      double *ccl, enum gw_lim_reason *ccl_reason, double *dcl,
			      enum gw_lim_reason *dcl_reason);

/* Whether a force charge the settings ask for is in force at wall. */
bool gw_limits_settings_force(const struct gw_settings *set, int64_t wall);

/* The least CVL published while fresh: the measured voltage less 0.05 V per
 * 16 cells (cells 0: 16), so that an inverter never discharges the
 * battery to reach the CVL (SMA, Deye). */
double gw_limits_floor(double volts, int cells);

/* Exceeded: step e with the current (A, + = charging) against the limits
 * published; raised and cleared after limit_exceeded seconds each way
 * (0 = off).  true when e->state changed. */
bool gw_limits_exceed_step(const struct conf_limits *cfg, struct gw_lim_exceed *e, bool have_i, double amps,
			   double ccl, double dcl, double now);

/* One pack of the bank, as the bank engine sees it. */
struct gw_lim_member {
	const struct gw_limits *lim;   /* its limits while its data is fresh, else NULL */
	bool stale;                    /* not fresh, and not merely unread at start: it is
	                                * missing from the bank though still on its bus */
	struct gw_lim_rating rating;   /* its max currents */
	double capacity_ah;            /* its capacity for bank_rule = weighted, 0 = unknown */
};

/* What the bank engine is given: its packs and the bank's measurements. */
struct gw_lim_bank_in {
	const struct gw_lim_member *m;
	int n;
	bool have_v, have_i, have_soc;
	double volts, amps, soc;       /* the bank's voltage, current (+ = charging), SOC */
};

/* The bank's target from its packs (bank_limits.c), stateless:
 *  - a pack with a fresh snapshot counts for the voltages; for the currents
 *    only once its own limits recovered from stale (a reason "stale": its 0 A
 *    would stop the bank), unless none has (every fresh one recovering: then
 *    they count, their 0 A rising is the bank's), and a pack without a fresh
 *    snapshot not at all; no fresh pack: fail-safe;
 *  - one charge machine: while a pack with cells has not completed absorption
 *    in this cycle, CVL = the lowest of the packs' bulk / absorption CVLs
 *    (never a pack's float CVL); once every one has, float: the lowest of
 *    their CVLs (each ramping down as its voltage falls);
 *  - a stale member: bank_stale = block makes the bank fail-safe; degrade caps
 *    the CVL at cells x float_cell_voltage (+ voltage_drop); member_stale;
 *  - DVL the highest; CCL / DCL by bank_rule (min: packs x the lowest; sum;
 *    weighted: the lowest of each pack's limit over its share of the bank's
 *    capacity), 0 as soon as one pack does not allow that direction;
 *  - a CVL under the bank's voltage less the margin (gw_limits_floor) is
 *    raised to it, and charging stopped through the CCL;
 *  - force charge only while charging is allowed; the full-charge request of
 *    any pack, cleared while the bank floats or its SOC is 97 % or more.
 * The mode: float, absorption (a pack absorbs), else bulk; each reason that
 * of the pack whose limit binds.  binding may be NULL. */
void gw_limits_bank(const struct conf_limits *cfg, const struct gw_lim_bank_in *in, struct gw_limits *out,
		    struct gw_lim_binding *binding);

/* The bank's own memory: what it published, so that its limits too fall
 * at once and rise slowly (a pack joining, a pack's limit recovering). */
struct gw_lim_bank_state {
	bool seen;
	double t_prev;
	struct gw_lim_current ccl, dcl;
	bool cvl_known;
	double cvl;
	double dvl;     /* the last DVL published, kept through fail-safe */
	struct gw_lim_exceed exc;
	struct gw_lim_latch latch;  /* the bank's runtime max_soc / min_soc */
	int64_t last_full_wall;     /* the bank's last absorption, float or 97 % (its own full_charge_days) */
};
void gw_limits_bank_init(struct gw_lim_bank_state *st);
/* After gw_limits_bank(): bring *o (the bank's target) to what the bank
 * may publish now: a lower CCL / DCL / CVL at once, a higher one after
 * recovery_hold at recovery_rate (the CVL at cvl_rate per cell, never under
 * the floor; a current whose target is its members' recovery from stale
 * follows them up at recovery_rate without a hold of its own: they held),
 * the anti-flap threshold counted over the packs' ratings; the
 * exceeded flag from the bank's current.  With no fresh pack it is
 * fail-safe at once, its CVL and DVL the last ones (an inverter must not
 * read an empty battery).  Returns GW_LIM_CHANGED_EXCEEDED when that flag
 * changed. */
unsigned gw_limits_bank_follow(const struct conf_limits *cfg, struct gw_lim_bank_state *st,
			       const struct gw_lim_bank_in *in, double now, struct gw_limits *o);

/* Between gw_limits_bank() and gw_limits_bank_follow(): the bank's runtime
 * settings on its target *o (gw_limits_settings_apply with the bank's SOC;
 * force_charge; a runtime full_charge_days counted from the bank's own last
 * full charge, at wall).  Nothing for a fail-safe target or set NULL. */
void gw_limits_bank_settings(const struct gw_settings *set, const struct gw_lim_bank_in *in, int64_t wall,
			     struct gw_lim_bank_state *st, struct gw_limits *o);

/* GW_LIM_CHANGED_* bits where a and b differ. */
unsigned gw_limits_changes(const struct gw_limits *a, const struct gw_limits *b);

/* The flag word of register offset 50 (GW_LIM_F_*). */
uint16_t gw_limits_flags(const struct gw_limits *l);

/* "off", "bulk", "absorption", "float", "failsafe"; "cell_voltage" ...;
 * "charge", "discharge" or NULL (none). */
const char *gw_limits_mode_name(enum gw_lim_mode m);
const char *gw_limits_reason_name(enum gw_lim_reason r);
const char *gw_limits_exceeded_name(enum gw_lim_exceeded e);

/* The engine's rule for one current limit, shared by the pack and the bank
 * (pack_limits.c): down to target at once; up only after recovery_hold, at
 * recovery_rate, and from 0 only above 1.5 % of max.  prev: the time of
 * the previous step. */
void gw_limits_current_follow(const struct conf_limits *cfg, struct gw_lim_current *l, double target,
			      enum gw_lim_reason reason, double max, double now, double prev);

/* The fraction (0..1) of table t at x: below its first point the first
 * fraction, above its last the last; linear interpolation between points,
 * or step: at a point its own fraction, between two points the lower of
 * their two.  1 for an empty table or an x that is not a number. */
double gw_limits_table(const struct conf_table *t, double x, enum conf_interp interp);

/* Which alarm bits (BMS_AL_*) forbid charging, and which discharging. */
#define GW_LIM_AL_CHARGE (BMS_AL_CELL_OV | BMS_AL_PACK_OV | BMS_AL_CHG_OT | BMS_AL_CHG_UT | \
			  BMS_AL_CHG_OC | BMS_AL_SENSOR | BMS_AL_SOC_HIGH)
#define GW_LIM_AL_DISCHARGE (BMS_AL_CELL_UV | BMS_AL_PACK_UV | BMS_AL_DSG_OT | BMS_AL_DSG_UT | \
			     BMS_AL_DSG_OC | BMS_AL_SHORT | BMS_AL_SOC_LOW)
#define GW_LIM_AL_BOTH (BMS_AL_MOS_OT | BMS_AL_MOS_FAULT | BMS_AL_HW_FAULT | BMS_AL_COMM)
/* The GW_LIM_F_CHARGE / GW_LIM_F_DISCHARGE sides an alarm set blocks
 * (BMS_AL_PROTECTION: see pack_limits.c). */
unsigned gw_limits_alarm_side(uint32_t alarms);

/* A pack's alarm word split by level: warn = every bit it shows; protect =
 * the bits a BMS raising BMS_AL_PROTECTION protects on: its sided bits
 * (GW_LIM_AL_*) when it shows any, else all of them (the level of each
 * bit is not carried, so a protection without a side is taken as the
 * protection).  BMS_AL_PROTECTION itself is in neither. */
void gw_limits_alarm_levels(uint32_t alarms, uint32_t *protect, uint32_t *warn);
/* The same for a snapshot: the levels of the BMS's own alarms
 * (bms_own_alarms), and the sensor fault the gateway flagged a warning. */
void gw_limits_snap_levels(const struct bms_snapshot *s, uint32_t *protect, uint32_t *warn);

/* The bank's protections given its limits: a pack's protection stays one
 * where the bank's own limit in its direction is 0 (both, for a bit of both
 * sides or none), and is a warning otherwise (the bank still charges or
 * discharges through the other packs).  protect and warn in, out. */
void gw_limits_bank_alarm_levels(const struct gw_limits *bank, uint32_t *protect, uint32_t *warn);

#endif
