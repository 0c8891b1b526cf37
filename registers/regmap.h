/* SPDX-License-Identifier: MIT */
/* registers/regmap.h - the holding-register map of one unit (bmsgw-modbus(7),
 * register-map.md).
 *
 * One table (reg_table[] in regmap.c) describes every register: offset,
 * name, type, unit/scale, and whether it is pack data (subject to the stale
 * rule) or live status (always readable).  The encoder walks that table and
 * register-map.md is generated from it (`bmsgw --register-map`).
 */
#ifndef REGISTERS_REGMAP_H
#define REGISTERS_REGMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../bms/bms.h"

#define REG_MAP_SIZE 161 /* offsets 0..160: 0..124 in one FC3 read; the counted SOC's 125..137 and 147,
                          * temperature sensors 9..16 (139..146) and the charge settings 150..160 in a second */
/* The cells the map holds: cells 1-16 at offsets 20-35, 17-32 at 83-98.  A
 * pack of more (BMS_MAX_CELLS: a high-voltage pack's 96 or 108) has its
 * count at offset 40 and the rest in /api/state, MQTT, the history and
 * influx; the offsets never move for it. */
#define REG_MAP_CELLS 32
#define REG_READ_MAX 125 /* registers in one FC03 / FC04 read (Modbus application protocol 6.3) */

enum reg_float_order { REG_FLOAT_CDAB = 0, REG_FLOAT_ABCD = 1 };

/* Where a register's value comes from (the rows of the register table). */
enum reg_src {
	/* pack data, from struct bms_snapshot; `i` = array index */
	REG_SRC_SOC,
	REG_SRC_VOLTAGE,
	REG_SRC_CURRENT,
	REG_SRC_POWER,
	REG_SRC_CELL_DELTA,
	REG_SRC_CELL_AVG,
	REG_SRC_CELL_MAX,
	REG_SRC_CELL_MIN,
	REG_SRC_TEMP_AVG,
	REG_SRC_DSG_MOS,
	REG_SRC_CHG_MOS,
	REG_SRC_CELL,
	REG_SRC_NCELLS,
	REG_SRC_REMAIN,
	REG_SRC_SOH,
	REG_SRC_FULL,
	REG_SRC_CYCLES,
	REG_SRC_NTEMPS,
	REG_SRC_MOS_TEMP,
	REG_SRC_TEMP,
	REG_SRC_BALANCE,
	REG_SRC_ALARMS,
	REG_SRC_RAW_ALARM,
	REG_SRC_STATE,
	REG_SRC_HEATER_ON,
	REG_SRC_HEATER_A,
	REG_SRC_HEAT_ENABLED,
	REG_SRC_HEAT_START,
	REG_SRC_HEAT_STOP,
	/* bank unit only, from struct reg_bank (absent for a pack) */
	REG_SRC_BANK_MIN_PACK,
	REG_SRC_BANK_MIN_CELL,
	REG_SRC_BANK_MAX_PACK,
	REG_SRC_BANK_MAX_CELL,
	REG_SRC_BANK_DEVIATION,
	REG_SRC_BANK_DEV_MASK,
	/* gateway status, from struct reg_status */
	REG_SRC_SOC_MAX,
	REG_SRC_SOC_MAX_HOUR,
	REG_SRC_SOC_MAX_MINUTE,
	REG_SRC_FAILURE,
	REG_SRC_HEARTBEAT,
	REG_SRC_TZ,
	REG_SRC_ONLINE,
	REG_SRC_AGE,
	REG_SRC_GOOD_POLLS,
	REG_SRC_FAILED_POLLS,
	REG_SRC_PROTOCOL,
	REG_SRC_BANK_ONLINE,
	REG_SRC_BANK_CONFIGURED,
	REG_SRC_BANK_ONLINE_MASK,
	REG_SRC_BANK_SOURCE,
	REG_SRC_WIRE_CHECKSUM,
	REG_SRC_WIRE_SHORT,
	REG_SRC_WIRE_TIMEOUTS,
	REG_SRC_ENERGY_IN,
	REG_SRC_ENERGY_OUT,
	REG_SRC_CTL_DONE,
	REG_SRC_CTL_FAILED,
	/* charge and discharge limits ([limits]), from struct reg_status */
	REG_SRC_LIM_CVL,
	REG_SRC_LIM_CCL,
	REG_SRC_LIM_DCL,
	REG_SRC_LIM_DVL,
	REG_SRC_LIM_FLAGS,
	REG_SRC_LIM_MODE,
	REG_SRC_LIM_CCL_REASON,
	REG_SRC_LIM_DCL_REASON,
	/* the counted SOC ([soc]), from struct reg_status */
	REG_SRC_SOC_BMS,
	REG_SRC_SOC_COUNTED,
	REG_SRC_SOC_FLAGS,
	REG_SRC_SOC_REMAIN,
	REG_SRC_SOC_CAPACITY,
	REG_SRC_SOC_SOH,
	REG_SRC_SOC_SAMPLES,
	REG_SRC_SOC_SINCE_FULL,
	REG_SRC_SOC_FULL_POINTS,
	REG_SRC_SOC_EMPTY_POINTS,
	REG_SRC_SOC_BAND,
	/* the runtime charge settings (gateway/engine/settings.h), from struct
	 * reg_status, in the order of their registers */
	REG_SRC_SET_MAX_SOC,
	REG_SRC_SET_MAX_SOC_HYST,
	REG_SRC_SET_MIN_SOC,
	REG_SRC_SET_MIN_SOC_HYST,
	REG_SRC_SET_FORCE,
	REG_SRC_SET_FORCE_UNTIL,
	REG_SRC_SET_CCL_CAP,
	REG_SRC_SET_DCL_CAP,
	REG_SRC_SET_CAP_LEASE,
	REG_SRC_SET_FULL_DAYS,
};
#define REG_SET_VALUES 10 /* REG_SRC_SET_MAX_SOC .. REG_SRC_SET_FULL_DAYS */

/* Offset of the first register fed by src (the register table is the only
 * place that knows offsets), or -1 if no register is. */
int reg_offset(enum reg_src src);

/* What the gateway knows about a pack beyond its last snapshot. */
/* The charge and discharge limits as the status registers show them
 * (offsets 46-50, 53-55). */
struct reg_limits {
	double cvl_v, ccl_a, dcl_a, dvl_v;
	uint16_t flags, mode, ccl_reason, dcl_reason;
};

struct reg_status {
	bool online;              /* fresh data (age <= stale_after) */
	bool have_data;           /* a snapshot was ever taken */
	uint32_t age_s;           /* seconds since the last good poll (saturates at 65535) */
	uint16_t heartbeat;       /* seconds counter */
	int16_t tz_hours;         /* hours east of UTC */
	uint16_t soc_max_today;   /* % */
	uint16_t soc_max_hour, soc_max_minute;
	uint32_t good_polls, failed_polls;
	uint16_t protocol_id;       /* 0 = the bank unit */
	bool degraded;              /* bank: a pack offline or deviating -> failure flag */
	uint16_t packs_online;      /* bank only (0 for a pack) */
	uint16_t packs_configured;  /* bank only */
	uint32_t online_mask;       /* bank only: bit n = bank pack n+1 is fresh */
	uint16_t bank_source;       /* bank only: where its current and SOC come from
	                             * (gateway/engine/bank.h gw_bank_shunt_bits) */
	/* error counters of the pack's wire (the bank: of its packs' wires) */
	uint32_t wire_checksum_errors, wire_short_frames, wire_timeouts;
	double energy_in_kwh, energy_out_kwh; /* integrated by the gateway */
	uint32_t ctl_done, ctl_failed;  /* MOSFET commands confirmed / refused or failed */
	struct reg_limits lim;          /* all 0 without [limits] */
	/* the counted SOC (gateway/engine/soc.h's struct gw_soc_out): NAN = none */
	double soc_bms, soc_counted;    /* % */
	uint16_t soc_flags;             /* GW_SOC_F_* */
	double soc_remain_ah, soc_capacity_ah; /* Ah */
	double soh_measured;            /* % (0 until measured) */
	uint16_t soc_samples, soc_full_points, soc_empty_points;
	double since_full_s;            /* s since the last full point, < 0 never */
	double soc_band;                /* % +- of the counted SOC (NAN: not known) */
	/* the charge settings in force, in the order of REG_SRC_SET_* (caps in
	 * 0.1 A, 0xFFFF none) */
	uint32_t settings[REG_SET_VALUES];
	enum reg_float_order fo;        /* the order of the status floats */
};

/* What the bank unit adds to an aggregated snapshot (cells are compared
 * across packs; indices are 1-based, pack = position in the bank's list). */
struct reg_bank {
	bool have_cells;               /* a fresh pack gave its cells or its own extremes */
	bool no_avg;                   /* a fresh pack gave only its extremes: avg_mv is
	                                * not of every cell (absent) */
	uint16_t min_mv, max_mv, avg_mv;
	uint8_t min_pack, min_cell, max_pack, max_cell;
	bool deviation;             /* a pack's voltage departs from the others */
	uint32_t deviation_mask;    /* bit n = bank pack n+1 departs */
};

/* Encode a snapshot (the data registers) into regs[0..REG_MAP_SIZE).  Every
 * register not written by the table is 0. */
void reg_encode_data(const struct bms_snapshot *s, enum reg_float_order fo, uint16_t regs[REG_MAP_SIZE]);
/* The bank unit: like reg_encode_data() for the aggregated snapshot `s`
 * (which has no cells of its own), with the cell statistics 4-7 taken across
 * packs from b and the bank-only registers filled. */
void reg_encode_bank(const struct bms_snapshot *s, const struct reg_bank *b, enum reg_float_order fo,
		     uint16_t regs[REG_MAP_SIZE]);
/* Overwrite the live status registers (online, age, heartbeat, failure flag,
 * counters, time zone, highest SOC today, protocol id) from st.  `alarms`
 * are the snapshot's alarm bits (for the failure flag). */
void reg_encode_status(const struct reg_status *st, uint32_t alarms, uint16_t regs[REG_MAP_SIZE]);

/* True if any register in [off, off+count) holds pack data (so a read of it
 * must be refused while the pack is stale under stale_policy=exception). */
bool reg_range_has_data(unsigned off, unsigned count);

/* Encode a float into two registers in the given order (no libmodbus helpers). */
void reg_put_float(uint16_t *r, float v, enum reg_float_order fo);
float reg_get_float(const uint16_t *r, enum reg_float_order fo);

/* Home Assistant `sensors:` entries (YAML list items, indented for a hub)
 * for one unit: name "<label> SOC" ..., unique_id "bmsgw_<id>_soc" ...
 * `ncells` individual cell sensors (0 = none); `bank` adds the bank rows
 * and leaves out per-pack ones; `limits` ([limits]) adds the charge
 * limits; `counted` (the unit counts: [soc] count and what the count
 * needs) the counted SOC's: SOC (BMS), SOC (counted), SOC uncertainty,
 * Capacity (measured), SOH (measured); `provides` (BMS_HAS_*, a pack's):
 * only the values its BMS gives (no SOH, no full capacity of a Daly).
 * Addresses, types and scales come from the register table. */
void reg_write_ha_sensors(FILE *out, unsigned base, enum reg_float_order fo, int unit, const char *label,
			  const char *id, unsigned ncells, bool bank, bool limits, bool counted, uint32_t provides,
			  int scan_interval);

/* Write register-map.md (Markdown) for the given base address. */
void reg_write_markdown(FILE *out, unsigned base);

#endif
