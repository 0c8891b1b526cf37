/* SPDX-License-Identifier: MIT */
/* gateway/engine/settings.h - the charge settings of one unit (a pack or the
 * bank) that an energy manager may change at run time (bmsgw-modbus(7)
 * "CHARGE SETTINGS", design section 18): a SOC ceiling and floor with their
 * hysteresis, a force-charge request with an end, current caps on a lease,
 * full_charge_days.  The limit engine (pack_limits.c) applies them.
 *
 * Pure: no I/O, no globals.  Each value has its origin (the configuration,
 * Modbus, MQTT).  A runtime value only tightens what the configuration
 * allows: gw_settings_write() refuses a value out of range or one that
 * loosens it, whole (nothing of a refused write is taken).
 */
#ifndef GATEWAY_ENGINE_SETTINGS_H
#define GATEWAY_ENGINE_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The values, in the order of their registers (offsets 150-160; the u32
 * force_charge_until takes two). */
enum gw_set_id {
	GW_SET_MAX_SOC = 0,      /* %, 100 = off */
	GW_SET_MAX_SOC_HYST,     /* %, default 5 */
	GW_SET_MIN_SOC,          /* %, 0 = off */
	GW_SET_MIN_SOC_HYST,     /* %, default 5 */
	GW_SET_FORCE,            /* 0 / 1 */
	GW_SET_FORCE_UNTIL,      /* unix s, 0 = until force_charge_soc + 2 % */
	GW_SET_CCL_CAP,          /* 0.1 A, GW_SET_CAP_NONE = none */
	GW_SET_DCL_CAP,          /* 0.1 A, GW_SET_CAP_NONE = none */
	GW_SET_CAP_LEASE,        /* s, 10..3600, default 60 */
	GW_SET_FULL_DAYS,        /* days, 0 = off */
};
#define GW_SET_COUNT 10
/* The two current caps (leased, in 0.1 A, GW_SET_CAP_NONE for none). */
static inline bool gw_settings_is_cap(enum gw_set_id id)
{
	return id == GW_SET_CCL_CAP || id == GW_SET_DCL_CAP;
}
#define GW_SET_CAP_NONE 0xFFFFu
#define GW_SET_HYST_MAX 50u
#define GW_SET_LEASE_MIN 10u
#define GW_SET_LEASE_MAX 3600u
#define GW_SET_DAYS_MAX 3650u

/* Who set a value. */
enum gw_set_origin { GW_ORIGIN_CONFIG = 0, GW_ORIGIN_MODBUS, GW_ORIGIN_MQTT };

struct gw_settings;

/* What a write may not go beyond: the unit's configured maximum currents
 * (A) and [limits] full_charge_days; and the units whose SOC window it
 * shares (a pack's: its bank; the bank's: its packs), whose ceiling and
 * floor it may not contradict (npeers 0: none). */
struct gw_set_bounds {
	double max_charge_a, max_discharge_a;
	double full_charge_days;
	const struct gw_settings *const *peers;
	int npeers;
};

/* One unit's settings. */
struct gw_settings {
	uint32_t v[GW_SET_COUNT];
	enum gw_set_origin origin[GW_SET_COUNT];
	double cap_until[2];     /* monotonic end of the CCL and the DCL cap's lease */
};

/* The result of a write. */
enum gw_set_result {
	GW_SET_OK = 0,
	GW_SET_RANGE,            /* out of range */
	GW_SET_LOOSENS,          /* beyond what the configuration allows (a cap above the
	                          * maximum current) */
	GW_SET_DEADLOCK,         /* max_soc and min_soc with their hysteresis could stop
	                          * charging and discharging at once */
	GW_SET_PEER,             /* the same against a peer's (the bank's, or a pack's of the bank) */
};

/* Why a write was refused, for a log line or an MQTT answer (pack: the
 * unit written is a pack, whose peer is its bank). */
const char *gw_settings_refusal(enum gw_set_result r, bool pack);

/* Whether a SOC ceiling hi (released hi_hyst under it) and a floor lo
 * (released lo_hyst over it) can both hold at once: hi under 100 and lo
 * over 0 need hi - lo >= the larger hysteresis. */
bool gw_settings_deadlock(uint32_t hi, uint32_t hi_hyst, uint32_t lo, uint32_t lo_hyst);

/* Every value at its configured one (origin config, no cap). */
void gw_settings_init(struct gw_settings *s, const struct gw_set_bounds *b);

/* The configuration changed (a reload): the values of origin config take
 * the new configuration's; a runtime value it no longer allows falls back
 * to it.  Returns the bits (1 << id) of the runtime values that fell back. */
unsigned gw_settings_reconfigure(struct gw_settings *s, const struct gw_set_bounds *b);

/* Write n values from id first (v[i] for id first + i), all or nothing,
 * by `origin` at monotonic now: a cap written starts its lease again.
 * *changed: the bits (1 << id) whose value changed (may be NULL). */
enum gw_set_result gw_settings_write(struct gw_settings *s, const struct gw_set_bounds *b, int first, int n,
				     const uint32_t *v, enum gw_set_origin origin, double now, unsigned *changed);

/* Falls back what ended: a cap whose lease ran out (at monotonic now), a
 * force charge whose end passed (wall, unix s) or, without an end, once
 * the SOC in force (NAN: unknown) reached force_end_soc.  Returns the bits
 * (1 << id) that fell back. */
unsigned gw_settings_expire(struct gw_settings *s, double now, int64_t wall, double soc, double force_end_soc);

/* A cap in force, A (< 0: none); id GW_SET_CCL_CAP or GW_SET_DCL_CAP. */
double gw_settings_cap_a(const struct gw_settings *s, enum gw_set_id id);

/* Seconds left on a cap's lease (0 without a cap). */
double gw_settings_cap_left(const struct gw_settings *s, enum gw_set_id id, double now);

/* "max_soc" ...; "config", "modbus", "mqtt". */
const char *gw_settings_name(enum gw_set_id id);
const char *gw_settings_origin_name(enum gw_set_origin o);

/* The registers 150-160 (GW_SET_REGS words): the values in force. */
#define GW_SET_REGS 11
void gw_settings_words(const struct gw_settings *s, uint16_t w[GW_SET_REGS]);
/* The register word k (0..10) -> the id it belongs to, and whether it is
 * the value's first word. */
enum gw_set_id gw_settings_reg_id(unsigned k, bool *first_word);

/* The state file's text of the values worth keeping (not the caps: they
 * are leases), "max_soc=80/modbus ..."; and its reading (nonsense and
 * values the configuration no longer allows are passed over).  Returns
 * false when nothing is worth keeping (every value its configured one). */
bool gw_settings_save(const struct gw_settings *s, char *out, size_t cap);
void gw_settings_load(struct gw_settings *s, const struct gw_set_bounds *b, const char *text);

#endif
