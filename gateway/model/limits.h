/* gateway/model/limits.h - the charge and discharge limit engine: CVL, CCL,
 * DCL, DVL, the flags an inverter needs, the charge mode and the reasons,
 * for one pack from its snapshot and for the bank from its packs' results.
 *
 * Pure: no I/O, no globals, no allocation.  The caller owns one struct
 * gw_lim_state per pack and calls gw_limits_step() at every good poll and
 * once a second (holds and ramps move with time), with the pack's snapshot
 * while it is fresh and NULL while it is stale.  The algorithm and its
 * sources are described in limits.c.
 */
#ifndef GATEWAY_MODEL_LIMITS_H
#define GATEWAY_MODEL_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"

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
};
#define GW_LR_COUNT 9

/* Bits of the limit flag word, register offset 50 (gw_limits_flags). */
enum {
	GW_LIM_F_CHARGE = 1u << 0,       /* charge allowed (CCL > 0) */
	GW_LIM_F_DISCHARGE = 1u << 1,    /* discharge allowed (DCL > 0) */
	GW_LIM_F_FORCE_CHARGE = 1u << 2,
	GW_LIM_F_FULL_CHARGE = 1u << 3,  /* full-charge request */
	GW_LIM_F_ON = 1u << 4,           /* [limits] is configured */
	GW_LIM_F_FAILSAFE = 1u << 5,
};

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

/* The engine's memory for one pack.  gw_limits_init() before the first
 * step; the daemon may then restore last_full_wall from its state file,
 * and saves it from here. */
struct gw_lim_state {
	bool seen;               /* a fresh snapshot was stepped since init */
	bool have_prev;          /* prev_* hold the last published words */
	double t_prev;           /* monotonic time of the previous step */
	enum gw_lim_mode mode;   /* the CVL machine: bulk, absorption or float */
	double abs_since;        /* absorption timer: start (restarted when the spread widens) */
	bool soc_armed;          /* in float: SOC seen at or above rebulk_soc */
	bool cvl_known;          /* cvl holds a value */
	double cvl;              /* the machine's CVL, V (before the BMS's cap) */
	bool cvl_limited;        /* held below the bulk target (cell over-voltage,
	                          * stale, back from float): recovering */
	double cvl_since;        /* last time it was lowered: the hold runs from here */
	double cvl_out, dvl_out; /* last published CVL and DVL (kept while stale) */
	bool volt_valid;         /* and whether they were known */
	struct gw_lim_current ccl, dcl;
	bool force;              /* force-charge flag (with its hysteresis) */
	int64_t last_full_wall;  /* unix time of the last step in absorption or
	                          * float, 0 = unknown: the first fresh step with
	                          * a plausible clock sets it (the request then
	                          * comes full_charge_days after that) */
	enum gw_lim_mode prev_mode;
	enum gw_lim_reason prev_ccl_reason, prev_dcl_reason;
};

/* What changed in a step (gw_limits_step's result, gw_limits_changes). */
enum {
	GW_LIM_CHANGED_MODE = 1u << 0,
	GW_LIM_CHANGED_CCL_REASON = 1u << 1,
	GW_LIM_CHANGED_DCL_REASON = 1u << 2,
};

/* Which pack binds each bank value: an index into packs[], -1 = none. */
struct gw_lim_binding {
	int cvl, dvl, ccl, dcl;
};

void gw_limits_init(struct gw_lim_state *st);

/* One step for one pack.  s: its snapshot, NULL while it is stale (then
 * at once CCL = DCL = 0, nothing allowed, mode failsafe, reasons stale;
 * the CVL and DVL keep their last values).  now: monotonic seconds (holds,
 * ramps, the absorption timer); wall: unix time (full_charge_days only).
 * Returns the GW_LIM_CHANGED_* bits of mode and reasons against the
 * previous step (all three on the first step), so that the caller logs a
 * change once, never per poll. */
unsigned gw_limits_step(const struct conf_limits *cfg, const struct bms_snapshot *s,
			double now, int64_t wall, struct gw_lim_state *st, struct gw_limits *out);

/* The bank from its packs' results: packs[i] NULL (or fail-safe, or still
 * recovering from stale: a reason "stale") = that pack is not fresh.  CVL = the lowest of the fresh packs, DVL = the highest,
 * CCL/DCL by cfg->bank_rule (min: fresh packs x the lowest pack's limit;
 * sum: the sum), 0 as soon as one fresh pack does not allow that
 * direction; no fresh pack: fail-safe.  The mode is that of the pack whose
 * CVL binds, each reason that of the pack whose limit binds (the lowest).
 * binding may be NULL.  Stateless: the caller compares with
 * gw_limits_changes() to log a change once. */
void gw_limits_bank(const struct conf_limits *cfg, const struct gw_limits *const packs[], int n,
		    struct gw_limits *out, struct gw_lim_binding *binding);

/* The bank's own memory: what it published, so that its limits too fall
 * at once and rise slowly (a pack joining, a pack's limit recovering). */
struct gw_lim_bank_state {
	bool seen;
	double t_prev;
	struct gw_lim_current ccl, dcl;
	bool cvl_known;
	double cvl;
	double dvl;     /* the last DVL published, kept through fail-safe */
};
void gw_limits_bank_init(struct gw_lim_bank_state *st);
/* After gw_limits_bank(): bring *o (the bank's target) to what the bank
 * may publish now: a lower CCL / DCL / CVL at once, a higher one after
 * recovery_hold at recovery_rate (the CVL at cvl_rate per cell), the
 * anti-flap threshold counted over `packs` packs (the bank's).  With no
 * fresh pack it is fail-safe at once, its CVL and DVL the last ones (an
 * inverter must not read an empty battery). */
void gw_limits_bank_follow(const struct conf_limits *cfg, struct gw_lim_bank_state *st, int packs, double now,
			   struct gw_limits *o);

/* GW_LIM_CHANGED_* bits where a and b differ. */
unsigned gw_limits_changes(const struct gw_limits *a, const struct gw_limits *b);

/* The flag word of register offset 50 (GW_LIM_F_*). */
uint16_t gw_limits_flags(const struct gw_limits *l);

/* "off", "bulk", "absorption", "float", "failsafe"; "cell_voltage" ... */
const char *gw_limits_mode_name(enum gw_lim_mode m);
const char *gw_limits_reason_name(enum gw_lim_reason r);

/* The fraction (0..1) of table t at x: below its first point the first
 * fraction, above its last the last; linear interpolation between points,
 * or step: at a point its own fraction, between two points the lower of
 * their two.  1 for an empty table or an x that is not a number. */
double gw_limits_table(const struct conf_table *t, double x, enum conf_interp interp);

/* Which alarm bits (BMS_AL_*) forbid charging, and which discharging. */
#define GW_LIM_AL_CHARGE (BMS_AL_CELL_OV | BMS_AL_PACK_OV | BMS_AL_CHG_OT | BMS_AL_CHG_UT | \
			  BMS_AL_CHG_OC | BMS_AL_SENSOR)
#define GW_LIM_AL_DISCHARGE (BMS_AL_CELL_UV | BMS_AL_PACK_UV | BMS_AL_DSG_OT | BMS_AL_DSG_UT | \
			     BMS_AL_DSG_OC | BMS_AL_SHORT)
#define GW_LIM_AL_BOTH (BMS_AL_MOS_OT | BMS_AL_MOS_FAULT | BMS_AL_HW_FAULT | BMS_AL_COMM)
/* The GW_LIM_F_CHARGE / GW_LIM_F_DISCHARGE sides an alarm set blocks
 * (BMS_AL_PROTECTION: see limits.c). */
unsigned gw_limits_alarm_side(uint32_t alarms);

#endif
