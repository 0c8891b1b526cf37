/* SPDX-License-Identifier: MIT */
/* gateway/inverter/battery.h - the virtual battery an inverter sees: the one
 * plain input every inverter encoder (dialect/emu_pylon_can.c, dialect/emu_pylon_rs485.c) takes.
 * The output fills it from a pack or the bank and the limit engine; the
 * encoders only scale, clamp and place it (gateway/inverter/PROTOCOLS.md).
 *
 * Units: V, A (+ = charging), degC, %, Ah, mV.  A member is used only when
 * its INV_HAS_* bit is set in `present`; an absent value is sent as the
 * protocol's "invalid" where it has one (SMA) and as documented per field
 * otherwise. */
#ifndef GATEWAY_INVERTER_BATTERY_H
#define GATEWAY_INVERTER_BATTERY_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

/* Bits of struct inv_battery.present. */
enum {
	INV_HAS_LIMITS = 1u << 0,       /* cvl_v, ccl_a, dcl_a, dvl_v and the four flags */
	INV_HAS_SOC = 1u << 1,
	INV_HAS_SOH = 1u << 2,
	INV_HAS_VOLTAGE = 1u << 3,
	INV_HAS_CURRENT = 1u << 4,
	INV_HAS_TEMP = 1u << 5,         /* temp_c */
	INV_HAS_CELL_MINMAX = 1u << 6,  /* cell_min_mv, cell_max_mv and where they are */
	INV_HAS_TEMP_MINMAX = 1u << 7,  /* temp_min_c, temp_max_c and where they are */
	INV_HAS_MOS_TEMP = 1u << 8,
	INV_HAS_CYCLES = 1u << 9,
	INV_HAS_REMAIN = 1u << 10,
	INV_HAS_FULL = 1u << 11,
	INV_HAS_ALARMS = 1u << 12,      /* protect, warn */
	INV_HAS_CELLS = 1u << 13,       /* ncells, cell_mv[] */
	INV_HAS_TEMPS = 1u << 14,       /* ntemps, temps_c[] */
	INV_HAS_TEMP_LIMITS = 1u << 15, /* chg_tmin_c .. dsg_tmax_c */
};

/* The phase of the source's charge machine (struct inv_battery.charge_phase):
 * none when it runs none (a pack without cells: the BMS's own limits). */
enum { INV_PHASE_NONE = 0, INV_PHASE_BULK, INV_PHASE_ABSORPTION, INV_PHASE_FLOAT };

/* Where a minimum or maximum is: pack (module) and cell or sensor, both
 * 1-based; 0 = unknown. */
struct inv_where {
	uint8_t pack;
	uint8_t index;
};

#define INV_MANUFACTURER_MAX 8 /* characters of the manufacturer text (CAN 0x35E) */

struct inv_battery {
	uint32_t present;               /* INV_HAS_* */

	/* limits, from the limit engine (INV_HAS_LIMITS) */
	float cvl_v;                    /* charge voltage limit, V */
	float ccl_a;                    /* charge current limit, A, >= 0 */
	float dcl_a;                    /* discharge current limit, A, >= 0 */
	float dvl_v;                    /* discharge voltage limit, V */
	bool charge_allowed;            /* false: the encoders also send CCL = 0 */
	bool discharge_allowed;         /* false: the encoders also send DCL = 0 */
	bool force_charge;              /* charge now, from any source (low SOC) */
	bool full_charge_request;       /* no full charge for too long (SOC calibration) */

	/* state */
	float soc;                      /* %, 0..100 */
	float soh;                      /* %, 0..100 */
	float voltage;                  /* V, battery (bank) voltage */
	float current;                  /* A, + = charging, - = discharging */
	float temp_c;                   /* degC, average cell temperature */
	uint16_t cell_min_mv, cell_max_mv; /* lowest / highest cell, mV */
	struct inv_where cell_min_at, cell_max_at;
	float temp_min_c, temp_max_c;   /* degC, coldest / hottest sensor */
	struct inv_where temp_min_at, temp_max_at;
	float mos_temp_c;               /* degC, MOSFET (power stage) temperature */
	uint32_t cycles;                /* charge cycles */
	float remain_ah;                /* Ah left */
	float full_ah;                  /* Ah when full (capacity) */

	/* Alarms, as the normalised BMS_AL_* bits of bms/bms.h, split by level:
	 * protect = protections acting now (the BMS cut, or will cut, the
	 * current), warn = warnings (a protection may be in both).  The
	 * output splits a pack's word with gw_limits_alarm_levels() and the
	 * bank's with gw_limits_bank_alarm_levels() (engine/pack_limits.h). */
	uint32_t protect;
	uint32_t warn;

	uint16_t packs;                 /* packs (modules) online; 0 = unknown, sent as 1 */
	uint16_t packs_offline;         /* configured packs not online (the bank's stale ones) */
	uint16_t packs_no_charge;       /* packs online that do not allow charging */
	uint16_t packs_no_discharge;    /* ... discharging */
	bool absorbed;                  /* the source completed absorption in this charge cycle */
	bool machine;                   /* the source runs a charge machine (it has cells) */
	char manufacturer[INV_MANUFACTURER_MAX + 1]; /* ASCII, NUL-terminated; "" = "PYLON" */

	/* Optional detail for the RS485 module commands (0x42, 0x44, 0x47) */
	uint8_t ncells;                 /* cells in cell_mv[] (INV_HAS_CELLS) */
	uint16_t cell_mv[BMS_MAX_CELLS];
	uint8_t ntemps;                 /* sensors in temps_c[] (INV_HAS_TEMPS) */
	float temps_c[BMS_MAX_TEMPS];
	uint8_t series_cells;           /* cells in series, for per-cell limits; 0 = unknown */
	uint16_t total_cells;           /* cells in series of the whole source (a string's: its members'
	                                 * sum), every string alike; 0 = unknown */
	uint8_t modules;                /* packs in series making them up (1 for a pack); 0 = unknown */
	uint8_t chemistry;              /* enum conf_chemistry of [limits] (0 LFP, 1 NMC, 2 LTO) */
	bool failsafe;                  /* the fail-safe battery of a stale source (invsource.c): the
	                                 * limits are zero for that, whatever a flag a dialect has says */
	/* The identity the inverter is told ([inverter.NAME] report_*, battery_type; invsource.c puts
	 * report_cells in total_cells, report_capacity_ah in full_ah and remain_ah) */
	uint8_t report_modules;         /* the module count to send; 0: the dialect's rule from the source */
	uint8_t battery_type;           /* solax-can, foxess-can 0x1877 byte 4 */
	uint8_t address;                /* the output's address on its bus ([inverter.NAME] address:
	                                 * sofar-can's battery id in its identifiers) */
	char machine_tag[9];            /* the machine's tag (8 hex digits of /etc/machine-id), "" unknown:
	                                 * what a dialect's serial numbers are made from (invident.h) */
	uint8_t instance;               /* rvc: the DC source instance ([inverter.NAME] instance), 0 unset */
	uint8_t charge_phase;           /* the source's charge machine: INV_PHASE_* */
	float chg_tmin_c, chg_tmax_c;   /* degC, charge allowed between (INV_HAS_TEMP_LIMITS) */
	float dsg_tmin_c, dsg_tmax_c;   /* degC, discharge allowed between */
};

#endif
