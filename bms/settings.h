/* SPDX-License-Identifier: MIT */
/* bms/settings.h - a BMS's own settings (protection thresholds, balancing,
 * capacity), as its protocol reads them: shown read only (JSON
 * "settings_bms", MQTT / Home Assistant diagnostic entities, the page),
 * never written.
 *
 * A fixed vocabulary of keys shared by every protocol, each with its unit
 * (the table in bms/base/settings.c; bms/PROTOCOLS.md §1.6 lists it and says per
 * protocol which a driver fills, from which frame).  A key a protocol
 * cannot read is absent (its bit in `have` clear), never zero.  A driver's
 * decoder fills a struct bms_settings from a whole, checked frame (pure:
 * bytes in, struct out) into struct bms_kept.settings; the pack keeps it
 * like struct bms_ident, read at the driver's own pace, not each poll.
 */
#ifndef BMS_SETTINGS_H
#define BMS_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

/* The vocabulary.  _v volts (per cell unless pack_), _a amperes, _c degC,
 * _s seconds, _ah ampere-hours; _release_ the value at which a protection
 * lets go again. */
enum bms_set_key {
	BMS_SET_CELL_OVP_V = 0,         /* cell over-voltage protection */
	BMS_SET_CELL_OVP_RELEASE_V,
	BMS_SET_CELL_UVP_V,             /* cell under-voltage protection */
	BMS_SET_CELL_UVP_RELEASE_V,
	BMS_SET_CELL_OVP_DELAY_S,
	BMS_SET_CELL_UVP_DELAY_S,
	BMS_SET_CELL_DIFF_V,            /* cell voltage difference protection */
	BMS_SET_PACK_OVP_V,             /* pack over-voltage protection */
	BMS_SET_PACK_UVP_V,             /* pack under-voltage protection */
	BMS_SET_POWER_OFF_V,            /* cell voltage at which the BMS switches itself off */
	BMS_SET_SMART_SLEEP_V,          /* cell voltage below which the BMS sleeps */
	BMS_SET_CHARGE_OCP_A,           /* charge over-current protection */
	BMS_SET_CHARGE_OCP_DELAY_S,
	BMS_SET_CHARGE_OCP_RELEASE_S,   /* time after which it lets go */
	BMS_SET_DISCHARGE_OCP_A,
	BMS_SET_DISCHARGE_OCP_DELAY_S,
	BMS_SET_DISCHARGE_OCP_RELEASE_S,
	BMS_SET_SHORT_CIRCUIT_A,        /* short-circuit protection current */
	BMS_SET_SHORT_CIRCUIT_DELAY_S,
	BMS_SET_SHORT_CIRCUIT_RELEASE_S,
	BMS_SET_CHARGE_OTP_C,           /* charge over-temperature protection */
	BMS_SET_CHARGE_OTP_RELEASE_C,
	BMS_SET_CHARGE_UTP_C,           /* charge under-temperature protection */
	BMS_SET_CHARGE_UTP_RELEASE_C,
	BMS_SET_DISCHARGE_OTP_C,
	BMS_SET_DISCHARGE_OTP_RELEASE_C,
	BMS_SET_DISCHARGE_UTP_C,
	BMS_SET_DISCHARGE_UTP_RELEASE_C,
	BMS_SET_MOS_OTP_C,              /* MOSFET over-temperature protection */
	BMS_SET_MOS_OTP_RELEASE_C,
	BMS_SET_BALANCE_START_V,        /* cell voltage above which balancing may start */
	BMS_SET_BALANCE_DELTA_V,        /* cell difference that starts balancing */
	BMS_SET_BALANCE_CURRENT_A,      /* maximum balancing current */
	BMS_SET_CAPACITY_AH,            /* the capacity set in the BMS (nominal) */
	BMS_SET_CELL_COUNT,             /* cells in series set in the BMS */
	BMS_SET_BALANCER,               /* the balancer switched on (1) or off (0) */
	BMS_SET_HEATER,                 /* heating enabled (1) or not (0) */
	BMS_SET_HEAT_START_C,           /* the temperature below which the heater starts */
	BMS_SET_HEAT_STOP_C,            /* the temperature above which it stops */
	BMS_SET_COUNT
};

struct bms_settings {
	uint64_t have;                  /* bit k: v[k] was read */
	float v[BMS_SET_COUNT];
};

/* The key's JSON / MQTT name ("cell_ovp_v") and unit ("V", "A", "°C", "s",
 * "Ah", "" for a count); NULL for a key out of range. */
const char *bms_settings_name(enum bms_set_key k);
const char *bms_settings_unit(enum bms_set_key k);
/* Its name for people ("Cell over-voltage protection"). */
const char *bms_settings_label(enum bms_set_key k);
/* Decimals the key is shown with. */
int bms_settings_decimals(enum bms_set_key k);

/* Set key k to value (a finite value; others are ignored). */
void bms_settings_put(struct bms_settings *s, enum bms_set_key k, float value);
/* A raw value of the wire into key k: raw / div when lo <= raw <= hi, else
 * the key stays absent (a raw value outside its field's possible range). */
void bms_settings_put_raw(struct bms_settings *s, enum bms_set_key k, int64_t raw, int64_t lo, int64_t hi,
			  double div);
/* Is key k read? */
bool bms_settings_has(const struct bms_settings *s, enum bms_set_key k);

/* The bit of key k in a set of keys (struct bms_driver.settings). */
#define BMS_SET_BIT(k) ((uint64_t)1 << (k))
/* Groups of keys many BMSs read together: a cell's over- and under-voltage
 * protections with their releases and delays; the charge and discharge
 * over-current protections with their delays; the charge and discharge
 * over- and under-temperature protections with their releases. */
#define BMS_SET_CELL_PROTECT                                                                                    \
	(BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_OVP_RELEASE_V) |                            \
	 BMS_SET_BIT(BMS_SET_CELL_OVP_DELAY_S) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) |                              \
	 BMS_SET_BIT(BMS_SET_CELL_UVP_RELEASE_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_DELAY_S))
#define BMS_SET_OCP_PROTECT                                                                                     \
	(BMS_SET_BIT(BMS_SET_CHARGE_OCP_A) | BMS_SET_BIT(BMS_SET_CHARGE_OCP_DELAY_S) |                          \
	 BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_A) | BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_DELAY_S))
#define BMS_SET_TEMP_PROTECT                                                                                    \
	(BMS_SET_BIT(BMS_SET_CHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_OTP_RELEASE_C) |                        \
	 BMS_SET_BIT(BMS_SET_CHARGE_UTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_UTP_RELEASE_C) |                        \
	 BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_RELEASE_C) |                  \
	 BMS_SET_BIT(BMS_SET_DISCHARGE_UTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_UTP_RELEASE_C))

#endif
