/* SPDX-License-Identifier: MIT */
/* registers/regmap.c - the holding-register map of one unit (bmsgw-modbus(7)
 * "THE REGISTER MAP"; the full map, generated from reg_table[], is
 * register-map.md).
 *
 * reg_table[] is the only place that knows offsets, types and scales.  The
 * data and status encoders, the stale-range check and the Markdown generator
 * (register-map.md) all walk it.
 */
#include "regmap.h"

#include <float.h>
#include <math.h>
#include <string.h>

enum reg_type {
	REG_U16,   /* one register */
	REG_S16,   /* one register, two's complement, -32767..32767 */
	REG_U32,   /* two registers, high word first (whatever float_order is) */
	REG_FLOAT, /* two registers, IEEE-754 single, in float_order */
};

enum reg_kind {
	REG_DATA,   /* from the pack snapshot: refused while stale (policy exception) */
	REG_STATUS, /* live gateway state: always readable */
};

/* What a register reads when its value is absent (or NaN). */
enum reg_absent {
	REG_ABS_NONE, /* never absent (status): no note in the map */
	REG_ABS_ZERO, /* 0 (0.0 for floats) */
	REG_ABS_8000, /* s16 0x8000 (-32768, outside the clamp range) */
	REG_ABS_NAN,  /* float NaN */
	REG_ABS_FFFF, /* u16 0xFFFF (65535, the top of the range: a value clamped there reads 65534) */
};

struct reg_def {
	uint8_t off;            /* first register of the first element */
	uint8_t count;          /* elements (arrays: cells, sensors, words), else 1 */
	uint8_t first;          /* arrays: source index of the first element */
	enum reg_type type;
	uint8_t dec;            /* register = value * 10^dec (0..2) */
	const char *unit;
	enum reg_kind kind;
	enum reg_src src;
	enum reg_absent absent;
	const char *name;       /* arrays: "<name> N", N = first + element + 1 */
	const char *note;       /* meaning; the absent value is appended by the map */
};

static const struct reg_def reg_table[] = {
	/* off cnt 1st type    dec unit   kind        source              absent */
	/* core block: the offsets of the ScanLabs SmartBMS Data Extractor dongle
	 * (firmware SolarEnergyECUMulti, Modbus TCP from base 100), as its
	 * Modbus register page and its Tasmota display script (one read of 58
	 * registers from 100) in https://github.com/ScanLabs/BMSAssistant list
	 * them: 0 SOC, 1-3 V/A/W, 4-5 cell delta/average, 8-15 floats, 17/18
	 * MOSFETs, 20-35 cells, 40 cells, 41-43 max SOC today, 44 capacity,
	 * 45 failure flag, 51 counter, 52 time zone (6-7, blank there, are
	 * bmsgw's max / min cell) */
	{ 0, 1, 0, REG_U16, 0, "%", REG_DATA, REG_SRC_SOC, REG_ABS_ZERO,
	  "SOC", "state of charge, rounded to a whole percent" },
	{ 1, 1, 0, REG_U16, 2, "V", REG_DATA, REG_SRC_VOLTAGE, REG_ABS_ZERO,
	  "pack voltage", "" },
	{ 2, 1, 0, REG_S16, 1, "A", REG_DATA, REG_SRC_CURRENT, REG_ABS_ZERO,
	  "pack current", "+ = charging, - = discharging" },
	{ 3, 1, 0, REG_S16, 0, "W", REG_DATA, REG_SRC_POWER, REG_ABS_ZERO,
	  "pack power", "+ = charging, - = discharging" },
	{ 4, 1, 0, REG_U16, 0, "mV", REG_DATA, REG_SRC_CELL_DELTA, REG_ABS_ZERO,
	  "cell delta", "highest minus lowest cell voltage (of the cells, else of the BMS's own highest and lowest)" },
	{ 5, 1, 0, REG_U16, 0, "mV", REG_DATA, REG_SRC_CELL_AVG, REG_ABS_ZERO,
	  "cell average", "of the cells: absent for a BMS that gives only its highest and lowest" },
	{ 6, 1, 0, REG_U16, 0, "mV", REG_DATA, REG_SRC_CELL_MAX, REG_ABS_ZERO,
	  "max cell", "highest cell voltage: of the cells, else the BMS's own highest (a BMS that sends no cell list); "
	  "the BMS's own where it is higher than the list's (a list of one string of several in parallel)" },
	{ 7, 1, 0, REG_U16, 0, "mV", REG_DATA, REG_SRC_CELL_MIN, REG_ABS_ZERO,
	  "min cell", "lowest cell voltage: of the cells, else the BMS's own lowest; the BMS's own where it is lower "
	  "than the list's (a list of one string of several in parallel: never a low cell hidden)" },
	{ 8, 1, 0, REG_FLOAT, 0, "°C", REG_DATA, REG_SRC_TEMP_AVG, REG_ABS_NAN,
	  "temperature", "average of the pack temperature sensors (MOS sensor not included)" },
	{ 10, 1, 0, REG_FLOAT, 0, "V", REG_DATA, REG_SRC_VOLTAGE, REG_ABS_ZERO,
	  "pack voltage", "" },
	{ 12, 1, 0, REG_FLOAT, 0, "A", REG_DATA, REG_SRC_CURRENT, REG_ABS_ZERO,
	  "pack current", "+ = charging, - = discharging" },
	{ 14, 1, 0, REG_FLOAT, 0, "W", REG_DATA, REG_SRC_POWER, REG_ABS_ZERO,
	  "pack power", "+ = charging, - = discharging" },
	{ 17, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_DSG_MOS, REG_ABS_ZERO,
	  "discharge MOSFET", "0 off, 1 on" },
	{ 18, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_CHG_MOS, REG_ABS_ZERO,
	  "charge MOSFET", "0 off, 1 on" },
	{ 20, 16, 0, REG_U16, 0, "mV", REG_DATA, REG_SRC_CELL, REG_ABS_ZERO,
	  "cell", "0 beyond the number of cells" },
	/* the heater the BMS drives (jk-pb, chins-nus: bmsgw-bms(7)), in the
	 * core block's unused 36-39 and 56 */
	{ 36, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_HEATER_ON, REG_ABS_ZERO,
	  "heater", "0 off, 1 on (heating now)" },
	{ 37, 1, 0, REG_U16, 2, "A", REG_DATA, REG_SRC_HEATER_A, REG_ABS_ZERO,
	  "heater current", "the current the heater draws" },
	{ 38, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_HEAT_ENABLED, REG_ABS_ZERO,
	  "heating enabled", "the BMS's setting: 0 off, 1 on (it heats below the start temperature); bms_settings heater writes it" },
	{ 39, 1, 0, REG_S16, 0, "°C", REG_DATA, REG_SRC_HEAT_START, REG_ABS_8000,
	  "heating start temperature", "the BMS's setting: it heats below this" },
	{ 40, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_NCELLS, REG_ABS_ZERO,
	  "number of cells", "the pack's, 0-192: a pack of more than 32 (a high-voltage pack's 96 or 108) has "
	  "cells 1-32 here (offsets 20-35, 83-98) and every cell in /api/state, MQTT, the history and influx "
	  "(bmsgw-modbus(7), Cells beyond 32)" },
	{ 41, 1, 0, REG_U16, 0, "%", REG_STATUS, REG_SRC_SOC_MAX, REG_ABS_NONE,
	  "highest SOC today", "highest SOC seen since local midnight" },
	{ 42, 1, 0, REG_U16, 0, "h", REG_STATUS, REG_SRC_SOC_MAX_HOUR, REG_ABS_NONE,
	  "highest SOC today: hour", "local time, 0-23" },
	{ 43, 1, 0, REG_U16, 0, "min", REG_STATUS, REG_SRC_SOC_MAX_MINUTE, REG_ABS_NONE,
	  "highest SOC today: minute", "0-59" },
	{ 44, 1, 0, REG_U16, 1, "Ah", REG_DATA, REG_SRC_REMAIN, REG_ABS_ZERO,
	  "remaining capacity", "the BMS's, else its SOC of the full capacity (bmsgw-modbus(7), Capacities)" },
	{ 45, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_FAILURE, REG_ABS_NONE,
	  "failure flag", "1 = any BMS alarm active, or the pack is stale or never polled; 0 = none" },
	/* charge and discharge limits ([limits]; bmsgw-inverters(7) "CHARGE
	 * LIMITS"): status, so that a stale pack shows its fail-safe */
	{ 46, 1, 0, REG_U16, 2, "V", REG_STATUS, REG_SRC_LIM_CVL, REG_ABS_NONE,
	  "charge voltage limit (CVL)", "the highest pack voltage a charger may aim at now; 0 without [limits]" },
	{ 47, 1, 0, REG_U16, 1, "A", REG_STATUS, REG_SRC_LIM_CCL, REG_ABS_NONE,
	  "charge current limit (CCL)", "0 = do not charge (also while the pack is stale); 0 without [limits]" },
	{ 48, 1, 0, REG_U16, 1, "A", REG_STATUS, REG_SRC_LIM_DCL, REG_ABS_NONE,
	  "discharge current limit (DCL)", "0 = do not discharge (also while the pack is stale); 0 without [limits]" },
	{ 49, 1, 0, REG_U16, 2, "V", REG_STATUS, REG_SRC_LIM_DVL, REG_ABS_NONE,
	  "discharge voltage limit (DVL)", "the lowest pack voltage to discharge to; 0 without [limits]" },
	{ 50, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_LIM_FLAGS, REG_ABS_NONE,
	  "limit flags", "bit 0 charge allowed, 1 discharge allowed, 2 force charge (only while charging is allowed), 3 full-charge request, 4 limits on, 5 fail-safe (the pack is stale, or the bank has no fresh pack), 6 a pack of the bank is stale (bank unit; bank_stale), 7 limit exceeded (the current has been beyond CCL or DCL for limit_exceeded seconds)" },
	{ 51, 1, 0, REG_U16, 0, "s", REG_STATUS, REG_SRC_HEARTBEAT, REG_ABS_NONE,
	  "heartbeat", "seconds counter, wraps at 65536" },
	{ 52, 1, 0, REG_S16, 0, "h", REG_STATUS, REG_SRC_TZ, REG_ABS_NONE,
	  "time zone", "hours east of UTC" },
	{ 53, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_LIM_MODE, REG_ABS_NONE,
	  "charge mode", "0 off, 1 bulk, 2 absorption, 3 float, 4 fail-safe" },
	{ 54, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_LIM_CCL_REASON, REG_ABS_NONE,
	  "CCL reason", "what binds the charge current limit: 0 none, 1 cell voltage, 2 temperature, 3 MOSFET temperature, 4 SOC, 5 MOSFET off, 6 alarm, 7 the BMS's own limit, 8 stale, 9 cap (a runtime ccl_cap / dcl_cap, offsets 157-158), 10 chemistry (the cells do not fit the pack's chemistry, or it is not [limits]')" },
	{ 55, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_LIM_DCL_REASON, REG_ABS_NONE,
	  "DCL reason", "what binds the discharge current limit, as offset 54" },
	{ 56, 1, 0, REG_S16, 0, "°C", REG_DATA, REG_SRC_HEAT_STOP, REG_ABS_8000,
	  "heating stop temperature", "the BMS's setting: it stops heating above this" },
	/* extension block */
	{ 58, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_ONLINE, REG_ABS_NONE,
	  "online", "1 = fresh data (last good poll within stale_after), 0 = stale or never polled" },
	{ 59, 1, 0, REG_U16, 0, "s", REG_STATUS, REG_SRC_AGE, REG_ABS_NONE,
	  "data age", "seconds since the last good poll, saturates at 65535; 65535 = never polled" },
	{ 60, 1, 0, REG_U16, 1, "%", REG_DATA, REG_SRC_SOC, REG_ABS_ZERO,
	  "SOC (0.1 %)", "state of charge" },
	{ 61, 1, 0, REG_U16, 0, "%", REG_DATA, REG_SRC_SOH, REG_ABS_ZERO,
	  "SOH", "state of health" },
	{ 62, 1, 0, REG_U16, 1, "Ah", REG_DATA, REG_SRC_FULL, REG_ABS_ZERO,
	  "full capacity", "the BMS's full / rated capacity, else [soc] capacity, else remaining / SOC (bmsgw-modbus(7), Capacities)" },
	{ 63, 1, 0, REG_U32, 0, "", REG_DATA, REG_SRC_CYCLES, REG_ABS_ZERO,
	  "cycle count", "" },
	{ 65, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_NTEMPS, REG_ABS_ZERO,
	  "number of temperature sensors", "pack sensors, MOS sensor not included; 0-16: sensors 1-8 at offsets 67-74, 9-16 at 139-146" },
	{ 66, 1, 0, REG_S16, 1, "°C", REG_DATA, REG_SRC_MOS_TEMP, REG_ABS_8000,
	  "MOS temperature", "0x8000 for a sensor that reads outside -50..150 °C (a sensor fault: alarm SENSOR)" },
	{ 67, 8, 0, REG_S16, 1, "°C", REG_DATA, REG_SRC_TEMP, REG_ABS_8000,
	  "temperature sensor", "0x8000 beyond the number of sensors, and for a sensor that reads outside -50..150 °C (a sensor fault: alarm SENSOR)" },
	{ 75, 1, 0, REG_U32, 0, "", REG_DATA, REG_SRC_BALANCE, REG_ABS_ZERO,
	  "balancing cells", "bit n = cell n+1 is balancing" },
	{ 77, 1, 0, REG_U32, 0, "", REG_DATA, REG_SRC_ALARMS, REG_ABS_ZERO,
	  "alarms", "normalised alarm bits, see \"Alarm bits\"" },
	{ 79, 4, 0, REG_U16, 0, "", REG_DATA, REG_SRC_RAW_ALARM, REG_ABS_ZERO,
	  "raw alarm word", "the BMS's own alarm bits (brand specific); 0 beyond the words it gives" },
	{ 83, 16, 16, REG_U16, 0, "mV", REG_DATA, REG_SRC_CELL, REG_ABS_ZERO,
	  "cell", "0 beyond the number of cells" },
	{ 99, 1, 0, REG_U32, 0, "", REG_STATUS, REG_SRC_GOOD_POLLS, REG_ABS_NONE,
	  "good polls", "complete, validated polls since the gateway started" },
	{ 101, 1, 0, REG_U32, 0, "", REG_STATUS, REG_SRC_FAILED_POLLS, REG_ABS_NONE,
	  "failed polls", "polls that failed since the gateway started" },
	{ 103, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_PROTOCOL, REG_ABS_NONE,
	  "protocol id", "the pack's protocol, see \"Protocol ids\"" },
	{ 104, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_STATE, REG_ABS_ZERO,
	  "state", "0 idle, 1 charging, 2 discharging: from the current's sign where it is at least 0.1 A (never idle while a current flows), else as the BMS reports it (0 if it reports none)" },
	/* bank unit only (0 on a pack's unit) */
	{ 105, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_BANK_ONLINE, REG_ABS_NONE,
	  "bank: packs online", "bank unit: packs with fresh data; 0 on a pack's unit" },
	{ 106, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_BANK_CONFIGURED, REG_ABS_NONE,
	  "bank: packs configured", "bank unit: packs in the bank; 0 on a pack's unit" },
	{ 107, 1, 0, REG_U32, 0, "", REG_STATUS, REG_SRC_BANK_ONLINE_MASK, REG_ABS_NONE,
	  "bank: online packs", "bank unit: bit n = pack n+1 of the bank (in `packs =` order) is fresh" },
	{ 109, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_BANK_MIN_PACK, REG_ABS_ZERO,
	  "bank: pack of the min cell", "bank unit: 1-based position in the bank of the pack holding the lowest cell" },
	{ 110, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_BANK_MIN_CELL, REG_ABS_ZERO,
	  "bank: min cell number", "bank unit: 1-based cell number of the lowest cell in that pack" },
	{ 111, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_BANK_MAX_PACK, REG_ABS_ZERO,
	  "bank: pack of the max cell", "bank unit: position in the bank of the pack holding the highest cell" },
	{ 112, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_BANK_MAX_CELL, REG_ABS_ZERO,
	  "bank: max cell number", "bank unit: cell number of the highest cell in that pack" },
	{ 113, 1, 0, REG_U16, 0, "", REG_DATA, REG_SRC_BANK_DEVIATION, REG_ABS_ZERO,
	  "bank: voltage deviation", "bank unit: 1 = a fresh pack's voltage departs from the median of the others by more than `max_deviation`" },
	{ 114, 1, 0, REG_U32, 0, "", REG_DATA, REG_SRC_BANK_DEV_MASK, REG_ABS_ZERO,
	  "bank: deviating packs", "bank unit: bit n = pack n+1 of the bank departs" },
	/* the wire's error counters */
	{ 116, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_WIRE_CHECKSUM, REG_ABS_NONE,
	  "wire: checksum errors", "frames on the pack's wire whose checksum failed, since the gateway started; wraps at 65536; the bank unit: the sum over its packs' wires" },
	{ 117, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_WIRE_SHORT, REG_ABS_NONE,
	  "wire: short frames", "frames on the pack's wire cut short (truncated, or abandoned half-way); wraps at 65536; bank: sum" },
	{ 118, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_WIRE_TIMEOUTS, REG_ABS_NONE,
	  "wire: timeouts", "requests on the pack's wire with no complete answer within `timeout` (each try); wraps at 65536; bank: sum" },
	/* energy counters, integrated by the gateway */
	{ 119, 1, 0, REG_U32, 2, "kWh", REG_STATUS, REG_SRC_ENERGY_IN, REG_ABS_NONE,
	  "energy charged", "energy into the pack (the bank: into the bank), integrated from power over good polls only (never across a stale gap), kept across restarts and reloads in the state file" },
	{ 121, 1, 0, REG_U32, 2, "kWh", REG_STATUS, REG_SRC_ENERGY_OUT, REG_ABS_NONE,
	  "energy discharged", "energy out of the pack (the bank: out of the bank), as above" },
	/* MOSFET control */
	{ 123, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_CTL_DONE, REG_ABS_NONE,
	  "control: commands done", "MOSFET commands (over Modbus or MQTT) acknowledged and confirmed by read-back, since the gateway started; wraps at 65536; 0 on the bank" },
	{ 124, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_CTL_FAILED, REG_ABS_NONE,
	  "control: commands failed", "MOSFET commands (over Modbus or MQTT) sent to the BMS that failed (no answer, the BMS said no, the read-back disagreed); a command refused before it was sent (not allowed, control off, a bad register or value, busy, stale) is not counted here but in /metrics bmsgw_pack_control_commands_total{result=\"refused\"}; wraps at 65536" },
	/* the counted SOC ([soc], bmsgw-bms(7) "THE COUNTED SOC"): a second
	 * block, beyond one read of 125 from offset 0 */
	{ 125, 1, 0, REG_U16, 1, "%", REG_STATUS, REG_SRC_SOC_BMS, REG_ABS_NONE,
	  "SOC (BMS)", "the SOC the BMS says (the bank: its fresh packs' remaining Ah over their full Ah), whatever [soc] source is; 0 while the unit has no fresh data" },
	{ 126, 1, 0, REG_U16, 1, "%", REG_STATUS, REG_SRC_SOC_COUNTED, REG_ABS_NONE,
	  "SOC (counted)", "bmsgw's own count of the charge over the capacity in use (the bank: its fresh packs' counted Ah over their capacities); a pack's kept while it is stale; 0 while not counting (flags bit 0 clear)" },
	{ 127, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_SOC_FLAGS, REG_ABS_NONE,
	  "SOC flags", "bit 0 counting, bit 1 synced (a full or empty point since the start or the last lost gap), bit 2 the SOC at offset 0/60 is the counted one ([soc] source = counted and synced), bit 3 resumed from the state file, bit 4 capacity measured" },
	{ 128, 1, 0, REG_FLOAT, 0, "Ah", REG_STATUS, REG_SRC_SOC_REMAIN, REG_ABS_NAN,
	  "remaining (counted)", "the charge counted remaining" },
	{ 130, 1, 0, REG_FLOAT, 0, "Ah", REG_STATUS, REG_SRC_SOC_CAPACITY, REG_ABS_NAN,
	  "capacity in use", "the median of the last 5 capacity samples once measured, else the smaller of [soc] capacity and the BMS's full capacity (either where only one exists)" },
	{ 132, 1, 0, REG_U16, 1, "%", REG_STATUS, REG_SRC_SOC_SOH, REG_ABS_NONE,
	  "SOH (measured)", "the capacity in use over the rated one (the BMS's or [soc] capacity); 0 until measured" },
	{ 133, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_SOC_SAMPLES, REG_ABS_NONE,
	  "capacity samples", "capacity samples taken (full to empty, or full to a rest point at least 50 % away)" },
	{ 134, 1, 0, REG_U32, 0, "s", REG_STATUS, REG_SRC_SOC_SINCE_FULL, REG_ABS_NONE,
	  "since the last full point", "seconds since the count's last full point; 4294967295 = never" },
	{ 136, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_SOC_FULL_POINTS, REG_ABS_NONE,
	  "full points", "full points seen (100 %); wraps at 65536" },
	{ 137, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_SOC_EMPTY_POINTS, REG_ABS_NONE,
	  "empty points", "empty points seen (0 %); wraps at 65536" },
	/* bank unit only: [bank] shunt */
	{ 138, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_BANK_SOURCE, REG_ABS_NONE,
	  "bank: sources", "bank unit ([bank] shunt): bit 0 the current and power (offsets 2, 3, 12, 14) are the shunt's, bit 1 the SOC, remaining and full capacity and the counted SOC (0, 44, 60, 62, 125-137) are the shunt's, bit 2 a shunt is set but not fresh: the packs' sum; 0 without a shunt and on a pack's unit" },
	/* temperature sensors 9-16 (a BMS with more than eight: myvolta's
	 * twelve), as sensors 1-8 at 67-74 */
	{ 139, 8, 8, REG_S16, 1, "°C", REG_DATA, REG_SRC_TEMP, REG_ABS_8000,
	  "temperature sensor", "0x8000 beyond the number of sensors, and for a sensor that reads outside -50..150 °C (a sensor fault: alarm SENSOR)" },
	/* the counted SOC's uncertainty (bmsgw-bms(7) "THE COUNTED SOC"), in the second read too */
	{ 147, 1, 0, REG_U16, 1, "%", REG_STATUS, REG_SRC_SOC_BAND, REG_ABS_FFFF,
	  "SOC uncertainty", "the true SOC lies within SOC (counted) (offset 126) plus or minus this, from what the count has seen since its last full, empty, knee or rest point, the capacity's confidence and the current sensor's offset and gain bounds (the bank: its fresh packs' bands weighed by their capacities); absent while the count is not synced or its band is not known (a gap lost, a restart the BMS could not bridge, a chemistry without a curve: LTO)" },
	/* the charge settings an EMS may write (FC06 / FC16, only from
	 * control_clients; bmsgw-modbus(7) "CHARGE SETTINGS"): the values in force */
	{ 150, 1, 0, REG_U16, 0, "%", REG_STATUS, REG_SRC_SET_MAX_SOC, REG_ABS_NONE,
	  "max_soc", "writable: charging stops (CCL 0, reason SOC) at this SOC and resumes max_soc_hysteresis under it; 1-100, 100 = off" },
	{ 151, 1, 0, REG_U16, 0, "%", REG_STATUS, REG_SRC_SET_MAX_SOC_HYST, REG_ABS_NONE,
	  "max_soc_hysteresis", "writable: 1-50, default 5" },
	{ 152, 1, 0, REG_U16, 0, "%", REG_STATUS, REG_SRC_SET_MIN_SOC, REG_ABS_NONE,
	  "min_soc", "writable: discharging stops (DCL 0, reason SOC) at this SOC and resumes min_soc_hysteresis above it; 0-99, 0 = off; under max_soc by at least the larger hysteresis (also against the bank's or its packs')" },
	{ 153, 1, 0, REG_U16, 0, "%", REG_STATUS, REG_SRC_SET_MIN_SOC_HYST, REG_ABS_NONE,
	  "min_soc_hysteresis", "writable: 1-50, default 5" },
	{ 154, 1, 0, REG_U16, 0, "", REG_STATUS, REG_SRC_SET_FORCE, REG_ABS_NONE,
	  "force_charge", "writable: 1 = request grid charging now (limit flags bit 2, only while charging is allowed), until force_charge_until; 0 = off" },
	{ 155, 1, 0, REG_U32, 0, "s", REG_STATUS, REG_SRC_SET_FORCE_UNTIL, REG_ABS_NONE,
	  "force_charge_until", "writable (both registers in one write): unix time the force charge ends; 0 = when the SOC reaches force_charge_soc + 2 %" },
	{ 157, 1, 0, REG_U16, 1, "A", REG_STATUS, REG_SRC_SET_CCL_CAP, REG_ABS_NONE,
	  "ccl_cap", "writable: a cap on CCL (reason cap), at most the configured maximum charge current; 6553.5 (0xFFFF) = none; falls back to none cap_lease seconds after it was last written" },
	{ 158, 1, 0, REG_U16, 1, "A", REG_STATUS, REG_SRC_SET_DCL_CAP, REG_ABS_NONE,
	  "dcl_cap", "writable: a cap on DCL, as ccl_cap" },
	{ 159, 1, 0, REG_U16, 0, "s", REG_STATUS, REG_SRC_SET_CAP_LEASE, REG_ABS_NONE,
	  "cap_lease", "writable: 10-3600, default 60: how long a cap lasts without being written again" },
	{ 160, 1, 0, REG_U16, 0, "days", REG_STATUS, REG_SRC_SET_FULL_DAYS, REG_ABS_NONE,
	  "full_charge_days", "writable: a full-charge request at least every N days (replaces [limits] full_charge_days); 0-3650, 0 = off" },
};

#define REG_NDEFS (sizeof(reg_table) / sizeof(reg_table[0]))

static unsigned reg_width(enum reg_type t)
{
	return t == REG_U16 || t == REG_S16 ? 1 : 2;
}

/* Registers covered by a row (all its elements). */
static unsigned reg_span(const struct reg_def *d)
{
	return d->count * reg_width(d->type);
}

/* ---- values ---- */

static bool reg_has(const struct bms_snapshot *s, uint32_t bit)
{
	return (s->present & bit) != 0;
}

/* Average of the valid pack sensors; false if there is none. */
static bool reg_temp_avg(const struct bms_snapshot *s, double *v)
{
	if (!reg_has(s, BMS_HAS_TEMPS))
		return false;
	unsigned n = s->ntemps <= BMS_MAX_TEMPS ? s->ntemps : BMS_MAX_TEMPS, used = 0;
	double sum = 0;
	for (unsigned i = 0; i < n; i++)
		if (isfinite(s->temp_c[i])) {
			sum += s->temp_c[i];
			used++;
		}
	if (used == 0)
		return false;
	*v = sum / used;
	return true;
}

/* Value of a data source (physical units) in *v; false if absent.  `cs` are
 * the cell statistics of s. */
static bool reg_data_value(const struct bms_snapshot *s, const struct bms_cell_stats *cs,
			   const struct reg_bank *b, enum reg_src src, unsigned i, double *v)
{
	bool cells = reg_has(s, BMS_HAS_CELLS) && s->ncells > 0;
	/* a list's statistics, else the BMS's own extremes (no average); the
	 * bank compares cells across packs */
	bool ext = cs->from == BMS_CELLS_EXT;
	bool stats = b ? b->have_cells : cells || ext;
	bool avg = b ? b->have_cells && !b->no_avg : cells;
	switch (src) {
	case REG_SRC_SOC: *v = s->soc; return reg_has(s, BMS_HAS_SOC);
	case REG_SRC_VOLTAGE: *v = s->voltage; return reg_has(s, BMS_HAS_VOLTAGE);
	case REG_SRC_CURRENT: *v = s->current; return reg_has(s, BMS_HAS_CURRENT);
	case REG_SRC_POWER: *v = s->power; return reg_has(s, BMS_HAS_POWER);
	case REG_SRC_CELL_DELTA: *v = cs->delta_mv; return stats;
	case REG_SRC_CELL_AVG: *v = cs->avg_mv; return avg;
	case REG_SRC_CELL_MAX: *v = cs->max_mv; return stats;
	case REG_SRC_CELL_MIN: *v = cs->min_mv; return stats;
	case REG_SRC_TEMP_AVG: return reg_temp_avg(s, v);
	case REG_SRC_DSG_MOS: *v = s->dsg_mos; return reg_has(s, BMS_HAS_MOSFETS);
	case REG_SRC_CHG_MOS: *v = s->chg_mos; return reg_has(s, BMS_HAS_MOSFETS);
	case REG_SRC_CELL:
		if (!cells || i >= s->ncells || i >= BMS_MAX_CELLS)
			return false;
		*v = s->cell_mv[i];
		return true;
	case REG_SRC_NCELLS:
		*v = s->ncells <= BMS_MAX_CELLS ? s->ncells : BMS_MAX_CELLS;
		return cells;
	case REG_SRC_REMAIN: *v = s->remain_ah; return reg_has(s, BMS_HAS_REMAIN);
	case REG_SRC_SOH: *v = s->soh; return reg_has(s, BMS_HAS_SOH);
	case REG_SRC_FULL: *v = s->full_ah; return reg_has(s, BMS_HAS_FULL);
	case REG_SRC_CYCLES: *v = s->cycles; return reg_has(s, BMS_HAS_CYCLES);
	case REG_SRC_NTEMPS:
		*v = s->ntemps <= BMS_MAX_TEMPS ? s->ntemps : BMS_MAX_TEMPS;
		return reg_has(s, BMS_HAS_TEMPS);
	case REG_SRC_MOS_TEMP: *v = s->mos_temp_c; return reg_has(s, BMS_HAS_MOS_TEMP);
	case REG_SRC_TEMP:
		if (!reg_has(s, BMS_HAS_TEMPS) || i >= s->ntemps || i >= BMS_MAX_TEMPS)
			return false;
		*v = s->temp_c[i];
		return true;
	case REG_SRC_BALANCE: *v = s->balance; return reg_has(s, BMS_HAS_BALANCE);
	case REG_SRC_ALARMS: *v = s->alarms; return reg_has(s, BMS_HAS_ALARMS);
	case REG_SRC_RAW_ALARM:
		if (!reg_has(s, BMS_HAS_ALARMS) || i >= s->nraw || i >= BMS_MAX_RAW_ALARMS)
			return false;
		*v = s->raw_alarms[i];
		return true;
	case REG_SRC_STATE: *v = s->state; return true;
	case REG_SRC_HEATER_ON: *v = s->heater_on; return reg_has(s, BMS_HAS_HEATER);
	case REG_SRC_HEATER_A: *v = s->heater_a; return reg_has(s, BMS_HAS_HEATER) && isfinite(s->heater_a);
	case REG_SRC_HEAT_ENABLED: *v = s->heater_enabled; return reg_has(s, BMS_HAS_HEATER_SET);
	case REG_SRC_HEAT_START: *v = s->heat_start_c; return reg_has(s, BMS_HAS_HEATER_SET) && isfinite(s->heat_start_c);
	case REG_SRC_HEAT_STOP: *v = s->heat_stop_c; return reg_has(s, BMS_HAS_HEATER_SET) && isfinite(s->heat_stop_c);
	case REG_SRC_BANK_MIN_PACK: *v = b ? b->min_pack : 0; return b && b->have_cells;
	case REG_SRC_BANK_MIN_CELL: *v = b ? b->min_cell : 0; return b && b->have_cells;
	case REG_SRC_BANK_MAX_PACK: *v = b ? b->max_pack : 0; return b && b->have_cells;
	case REG_SRC_BANK_MAX_CELL: *v = b ? b->max_cell : 0; return b && b->have_cells;
	case REG_SRC_BANK_DEVIATION: *v = b ? b->deviation : 0; return b != NULL;
	case REG_SRC_BANK_DEV_MASK: *v = b ? b->deviation_mask : 0; return b != NULL;
	default: return false; /* a status source */
	}
}

/* Value of a status source in *v; false if it is not a status source. */
static bool reg_status_value(const struct reg_status *st, uint32_t alarms, enum reg_src src, double *v)
{
	bool online = st->online && st->have_data;
	switch (src) {
	case REG_SRC_SOC_MAX: *v = st->soc_max_today; return true;
	case REG_SRC_SOC_MAX_HOUR: *v = st->soc_max_hour; return true;
	case REG_SRC_SOC_MAX_MINUTE: *v = st->soc_max_minute; return true;
	case REG_SRC_FAILURE: *v = alarms != 0 || !online || st->degraded; return true;
	case REG_SRC_HEARTBEAT: *v = st->heartbeat; return true;
	case REG_SRC_TZ: *v = st->tz_hours; return true;
	case REG_SRC_ONLINE: *v = online; return true;
	case REG_SRC_AGE: *v = st->have_data ? st->age_s : 65535; return true;
	case REG_SRC_GOOD_POLLS: *v = st->good_polls; return true;
	case REG_SRC_FAILED_POLLS: *v = st->failed_polls; return true;
	case REG_SRC_PROTOCOL: *v = st->protocol_id; return true;
	case REG_SRC_BANK_ONLINE: *v = st->packs_online; return true;
	case REG_SRC_BANK_CONFIGURED: *v = st->packs_configured; return true;
	case REG_SRC_BANK_ONLINE_MASK: *v = st->online_mask; return true;
	case REG_SRC_BANK_SOURCE: *v = st->bank_source; return true;
	/* counters wrap, as Modbus diagnostic counters do */
	case REG_SRC_WIRE_CHECKSUM: *v = st->wire_checksum_errors & 0xffff; return true;
	case REG_SRC_WIRE_SHORT: *v = st->wire_short_frames & 0xffff; return true;
	case REG_SRC_WIRE_TIMEOUTS: *v = st->wire_timeouts & 0xffff; return true;
	/* u32 0.01 kWh wraps after 42.9 GWh: no wrap handling needed */
	case REG_SRC_ENERGY_IN: *v = st->energy_in_kwh; return true;
	case REG_SRC_ENERGY_OUT: *v = st->energy_out_kwh; return true;
	case REG_SRC_CTL_DONE: *v = st->ctl_done & 0xffff; return true;
	case REG_SRC_CTL_FAILED: *v = st->ctl_failed & 0xffff; return true;
	case REG_SRC_LIM_CVL: *v = st->lim.cvl_v; return true;
	case REG_SRC_LIM_CCL: *v = st->lim.ccl_a; return true;
	case REG_SRC_LIM_DCL: *v = st->lim.dcl_a; return true;
	case REG_SRC_LIM_DVL: *v = st->lim.dvl_v; return true;
	case REG_SRC_LIM_FLAGS: *v = st->lim.flags; return true;
	case REG_SRC_LIM_MODE: *v = st->lim.mode; return true;
	case REG_SRC_LIM_CCL_REASON: *v = st->lim.ccl_reason; return true;
	case REG_SRC_LIM_DCL_REASON: *v = st->lim.dcl_reason; return true;
	case REG_SRC_SOC_BMS: *v = online ? st->soc_bms : NAN; return true;
	case REG_SRC_SOC_COUNTED: *v = st->soc_counted; return true;
	case REG_SRC_SOC_FLAGS: *v = st->soc_flags; return true;
	case REG_SRC_SOC_REMAIN: *v = st->soc_remain_ah; return true;
	case REG_SRC_SOC_CAPACITY: *v = st->soc_capacity_ah; return true;
	case REG_SRC_SOC_SOH: *v = st->soh_measured; return true;
	case REG_SRC_SOC_SAMPLES: *v = st->soc_samples; return true;
	case REG_SRC_SOC_SINCE_FULL: *v = st->since_full_s < 0 ? 4294967295.0 : st->since_full_s; return true;
	case REG_SRC_SOC_FULL_POINTS: *v = st->soc_full_points; return true;
	case REG_SRC_SOC_EMPTY_POINTS: *v = st->soc_empty_points; return true;
	case REG_SRC_SOC_BAND: *v = st->soc_band; return true;
	case REG_SRC_SET_CCL_CAP:
	case REG_SRC_SET_DCL_CAP: *v = st->settings[src - REG_SRC_SET_MAX_SOC] / 10.0; return true;
	case REG_SRC_SET_MAX_SOC:
	case REG_SRC_SET_MAX_SOC_HYST:
	case REG_SRC_SET_MIN_SOC:
	case REG_SRC_SET_MIN_SOC_HYST:
	case REG_SRC_SET_FORCE:
	case REG_SRC_SET_FORCE_UNTIL:
	case REG_SRC_SET_CAP_LEASE:
	case REG_SRC_SET_FULL_DAYS: *v = st->settings[src - REG_SRC_SET_MAX_SOC]; return true;
	default: return false; /* a data source */
	}
}

/* ---- encoding ---- */

/* Round to nearest (current rounding mode, like lrint) after clamping to
 * [lo, hi], so no out-of-range value ever reaches an integer conversion. */
static long long reg_round(double v, double lo, double hi)
{
	if (!(v > lo)) /* also -inf */
		return (long long)lo;
	if (v >= hi)
		return (long long)hi;
	return llrint(v);
}

static float reg_to_float(double v)
{
	if (v > FLT_MAX)
		return HUGE_VALF;
	if (v < -FLT_MAX)
		return -HUGE_VALF;
	return (float)v;
}

/* Write one element of row d at r; `have` false = absent. */
static void reg_store(uint16_t *r, const struct reg_def *d, bool have, double v, enum reg_float_order fo)
{
	static const double mult[] = { 1, 10, 100 };
	if (have && isnan(v))
		have = false;
	if (have)
		v *= mult[d->dec];
	switch (d->type) {
	case REG_U16:
		if (d->absent == REG_ABS_FFFF)
			r[0] = have ? (uint16_t)reg_round(v, 0, UINT16_MAX - 1) : UINT16_MAX;
		else
			r[0] = have ? (uint16_t)reg_round(v, 0, UINT16_MAX) : 0;
		break;
	case REG_S16:
		if (have)
			r[0] = (uint16_t)(int16_t)reg_round(v, -INT16_MAX, INT16_MAX);
		else
			r[0] = d->absent == REG_ABS_8000 ? 0x8000 : 0;
		break;
	case REG_U32: {
		uint32_t u = have ? (uint32_t)reg_round(v, 0, UINT32_MAX) : 0;
		r[0] = (uint16_t)(u >> 16);
		r[1] = (uint16_t)(u & 0xffff);
		break;
	}
	case REG_FLOAT:
		if (have)
			reg_put_float(r, reg_to_float(v), fo);
		else
			reg_put_float(r, d->absent == REG_ABS_NAN ? NAN : 0.0f, fo);
		break;
	}
}

void reg_put_float(uint16_t *r, float v, enum reg_float_order fo)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	uint16_t hi = (uint16_t)(u >> 16), lo = (uint16_t)(u & 0xffff);
	if (fo == REG_FLOAT_ABCD) {
		r[0] = hi;
		r[1] = lo;
	} else {
		r[0] = lo;
		r[1] = hi;
	}
}

float reg_get_float(const uint16_t *r, enum reg_float_order fo)
{
	uint32_t u;
	if (fo == REG_FLOAT_ABCD)
		u = (uint32_t)r[0] << 16 | r[1];
	else
		u = (uint32_t)r[1] << 16 | r[0];
	float v;
	memcpy(&v, &u, sizeof(v));
	return v;
}

static void reg_encode(const struct bms_snapshot *s, const struct reg_bank *b, enum reg_float_order fo,
		       uint16_t regs[REG_MAP_SIZE])
{
	static const struct bms_snapshot none; /* never polled: everything absent */
	struct bms_cell_stats cs;
	if (!s)
		s = &none;
	bms_cell_stats(s, &cs);
	if (b) {
		cs.min_mv = b->min_mv;
		cs.max_mv = b->max_mv;
		cs.avg_mv = b->avg_mv;
		cs.delta_mv = (uint16_t)(b->max_mv >= b->min_mv ? b->max_mv - b->min_mv : 0);
	}
	memset(regs, 0, REG_MAP_SIZE * sizeof(regs[0]));
	for (size_t k = 0; k < REG_NDEFS; k++) {
		const struct reg_def *d = &reg_table[k];
		if (d->kind != REG_DATA)
			continue;
		for (unsigned e = 0; e < d->count; e++) {
			double v = 0;
			bool have = reg_data_value(s, &cs, b, d->src, d->first + e, &v);
			reg_store(regs + d->off + e * reg_width(d->type), d, have, v, fo);
		}
	}
}

void reg_encode_data(const struct bms_snapshot *s, enum reg_float_order fo, uint16_t regs[REG_MAP_SIZE])
{
	reg_encode(s, NULL, fo, regs);
}

void reg_encode_bank(const struct bms_snapshot *s, const struct reg_bank *b, enum reg_float_order fo,
		     uint16_t regs[REG_MAP_SIZE])
{
	reg_encode(s, b, fo, regs);
}

void reg_encode_status(const struct reg_status *st, uint32_t alarms, uint16_t regs[REG_MAP_SIZE])
{
	static const struct reg_status none;
	if (!st)
		st = &none;
	for (size_t k = 0; k < REG_NDEFS; k++) {
		const struct reg_def *d = &reg_table[k];
		if (d->kind != REG_STATUS)
			continue;
		for (unsigned e = 0; e < d->count; e++) {
			double v = 0;
			bool have = reg_status_value(st, alarms, d->src, &v);
			reg_store(regs + d->off + e * reg_width(d->type), d, have, v, st->fo);
		}
	}
}

int reg_offset(enum reg_src src)
{
	for (size_t k = 0; k < REG_NDEFS; k++)
		if (reg_table[k].src == src)
			return reg_table[k].off;
	return -1;
}

bool reg_range_has_data(unsigned off, unsigned count)
{
	unsigned long long lo = off, hi = (unsigned long long)off + count;
	for (size_t k = 0; k < REG_NDEFS; k++) {
		const struct reg_def *d = &reg_table[k];
		if (d->kind == REG_DATA && d->off < hi && lo < (unsigned long long)d->off + reg_span(d))
			return true;
	}
	return false;
}

/* ---- register-map.md ---- */

/* Kind of the register at offset o, or -1 if unused. */
static int reg_kind_at(unsigned o)
{
	for (size_t k = 0; k < REG_NDEFS; k++)
		if (o >= reg_table[k].off && o < reg_table[k].off + reg_span(&reg_table[k]))
			return (int)reg_table[k].kind;
	return -1;
}

/* Print the offsets of kind `want` (-1 = unused), plus `add`, as "a-b, c". */
static void reg_md_ranges(FILE *out, int want, unsigned add)
{
	const char *sep = "";
	for (unsigned o = 0; o < REG_MAP_SIZE; o++) {
		if (reg_kind_at(o) != want)
			continue;
		unsigned e = o;
		while (e + 1 < REG_MAP_SIZE && reg_kind_at(e + 1) == want)
			e++;
		if (e == o)
			fprintf(out, "%s%u", sep, o + add);
		else
			fprintf(out, "%s%u-%u", sep, o + add, e + add);
		sep = ", ";
		o = e;
	}
}

/* First row fed by src with the given type (for the examples). */
static const struct reg_def *reg_find(enum reg_src src, enum reg_type type)
{
	for (size_t k = 0; k < REG_NDEFS; k++)
		if (reg_table[k].src == src && reg_table[k].type == type)
			return &reg_table[k];
	return NULL;
}

static const char *reg_type_name(enum reg_type t)
{
	switch (t) {
	case REG_U16: return "u16";
	case REG_S16: return "s16";
	case REG_U32: return "u32";
	case REG_FLOAT: return "float";
	}
	return "?";
}

static const char *reg_absent_text(enum reg_absent a)
{
	switch (a) {
	case REG_ABS_NONE: return "";
	case REG_ABS_ZERO: return "0 when absent";
	case REG_ABS_8000: return "0x8000 (-32768) when absent";
	case REG_ABS_NAN: return "NaN when absent";
	case REG_ABS_FFFF: return "0xFFFF (65535) when absent";
	}
	return "";
}

static void reg_md_intro(FILE *out, unsigned base)
{
	const unsigned size = REG_MAP_SIZE;
	fprintf(out,
		"# bmsgw register map\n"
		"\n"
		"Generated by `bmsgw --register-map` from the register table in\n"
		"`registers/regmap.c`, the same table the encoder uses. Do not edit by hand.\n"
		"\n"
		"## Addressing\n"
		"\n"
		"- Holding registers, function 03, one register image per Modbus unit id\n"
		"  (one per configured pack); function 04 (input registers) reads the same\n"
		"  image with the same rules.\n"
		"- Base address: **%u**. Address = base + offset. Addresses are 0-based\n"
		"  protocol addresses, as in `mbpoll -0` and Home Assistant's `address:`;\n"
		"  tools that count from 1 (`mbpoll` without `-0`, \"4xxxx\" notation) show\n"
		"  address + 1.\n"
		"- The map is offsets 0-%u (addresses %u-%u): one read of 125 registers at\n"
		"  address %u returns offsets 0-124, everything but the counted SOC,\n"
		"  temperature sensors 9-16 and the charge settings; a second read of %u at\n"
		"  address %u returns the counted SOC (offsets 125-137, its uncertainty 147),\n"
		"  temperature sensors 9-16 (offsets 139-146, `data`: see \"Stale data\") and\n"
		"  the charge settings (offsets 150-%u).\n"
		"- Writable: the MOSFET registers 17-18 of a pack with control, and the\n"
		"  charge settings 150-%u of every unit (FC06 / FC16, only from\n"
		"  `control_clients`; bmsgw-modbus(7) \"CHARGE SETTINGS\").\n"
		"- Unused offsets read 0: ",
		base, size - 1, base, base + size - 1, base, size - 125, base + 125, size - 1, size - 1);
	reg_md_ranges(out, -1, 0);
	fprintf(out,
		".\n"
		"- `float`: IEEE-754 single precision in two registers, in `float_order`.\n"
		"  `cdab` (default): the register at the lower address holds the low 16 bits\n"
		"  (Home Assistant `data_type: float32` with `swap: word`). `abcd`: the high\n"
		"  16 bits first (Home Assistant `swap: none`; the ScanLabs display and\n"
		"  Tasmota `ffffffff`).\n"
		"- `u32`: two registers, high word first, whatever `float_order` is (Home\n"
		"  Assistant `data_type: uint32`, no swap).\n"
		"- `s16`: two's complement (Home Assistant `data_type: int16`).\n"
		"- Scaled values are rounded to the nearest step and clamped to the type's\n"
		"  range (u16 0..65535, s16 -32767..32767); a value the BMS did not give\n"
		"  reads as the Notes column says.\n"
		"\n"
		"## Stale data\n"
		"\n"
		"`data` registers hold the pack's last complete snapshot; `status` registers\n"
		"are live gateway state. A pack is stale when its last good poll is older\n"
		"than `stale_after` seconds, or when it has never been polled.\n"
		"\n"
		"- `stale_policy = exception`: while the pack is stale, a read\n"
		"  whose range touches any `data` register is answered with exception 0x0B\n"
		"  (gateway target device failed to respond). Reads of `status` and unused\n"
		"  registers only are answered normally, so the online flag, data age,\n"
		"  counters and heartbeat stay readable.\n"
		"- `stale_policy = flag`: the last values are served, with online = 0 and\n"
		"  failure flag = 1.\n"
		"\n"
		"Status offsets: ");
	reg_md_ranges(out, REG_STATUS, 0);
	fprintf(out, " (addresses ");
	reg_md_ranges(out, REG_STATUS, base);
	fprintf(out,
		").\n"
		"\n"
		"## Unit ids and exceptions\n"
		"\n"
		"- The unit id of a configured pack: that pack's image.\n"
		"- The `[bank]` unit id (default 100): the bank, the same map aggregated\n"
		"  from the fresh packs (offsets 105-115 are filled only there).\n"
		"- Unit 0 and 255: the bank when one is configured; otherwise the only\n"
		"  pack, when exactly one pack is configured; otherwise exception 0x0A\n"
		"  (gateway path unavailable).\n"
		"- Any other unknown unit id: exception 0x0A.\n"
		"- A function not served (see \"Function codes\" below): exception 0x01\n"
		"  (illegal function).\n"
		"- A range outside the map (start < %u or start + quantity > %u):\n"
		"  exception 0x02 (illegal data address).\n"
		"- A write (06, 16) to a register that is not writable (any but the\n"
		"  MOSFET offsets 17-18 and the charge settings 150-160), in the map or\n"
		"  outside it: exception 0x02, whoever writes; to a writable one that the\n"
		"  client or the unit may not make: 0x01 (bmsgw(8), MOSFET CONTROL).\n"
		"- Quantity 0 or more than %u: exception 0x03 (illegal data value).\n"
		"\n",
		base, base + size, REG_READ_MAX);
	fprintf(out,
		"## Charge and discharge limits\n"
		"\n"
		"With a `[limits]` section, offsets 46-50 and 53-55 of every pack and of\n"
		"the bank hold the charge voltage limit (CVL), the charge and discharge\n"
		"current limits (CCL, DCL), the discharge voltage limit (DVL), the flags,\n"
		"the charge mode and what binds each current limit (bmsgw-inverters(7),\n"
		"CHARGE LIMITS). They are status registers: a stale pack (or a\n"
		"bank without a fresh pack) reads CCL = DCL = 0, flags with bit 5\n"
		"(fail-safe) set and bits 0-1 clear, mode 4, reasons 8 - never the last\n"
		"limits as if they were current. Without `[limits]` they read 0.\n"
		"\n"
		"An EMS or a PLC that controls a charger or an inverter should read\n"
		"%u-%u (one read of 10 registers) every few seconds and:\n"
		"\n"
		"- stop charging when bit 0 of offset 50 clears, and discharging when\n"
		"  bit 1 clears;\n"
		"- never set a charge current above CCL nor a discharge current above\n"
		"  DCL, nor a charge voltage above CVL;\n"
		"- treat a failed read, exception 0x0A or bit 5 of offset 50 as \"no\n"
		"  charging, no discharging\": silence must never mean \"carry on\".\n"
		"\n"
		"Bit 6 of the bank's offset 50 says that one of its packs is stale while\n"
		"still on the DC bus: with `bank_stale = degrade` the bank's CVL is held\n"
		"at float voltage meanwhile, with `block` the bank is fail-safe. Bit 7\n"
		"(any unit) says that the current has been beyond CCL or DCL by max(5 A,\n"
		"10 %%) for `limit_exceeded` seconds: the inverter does not follow them.\n"
		"\n",
		base + 46, base + 55);
}

static void reg_md_example(FILE *out, unsigned base)
{
	const struct reg_def *soc = reg_find(REG_SRC_SOC, REG_U16);
	const struct reg_def *volt = reg_find(REG_SRC_VOLTAGE, REG_FLOAT);
	const struct reg_def *cur = reg_find(REG_SRC_CURRENT, REG_FLOAT);
	const struct reg_def *cell = reg_find(REG_SRC_CELL, REG_U16);
	if (!soc || !volt || !cur || !cell)
		return;
	fprintf(out,
		"## Example: Home Assistant\n"
		"\n"
		"```yaml\n"
		"modbus:\n"
		"  - name: bmsgw\n"
		"    type: tcp\n"
		"    host: 192.0.2.10\n"
		"    port: 502\n"
		"    sensors:\n"
		"      - {name: Pack SOC, address: %u, slave: 1, input_type: holding, data_type: uint16, unit_of_measurement: \"%%\", device_class: battery}\n"
		"      - {name: Pack voltage, address: %u, slave: 1, input_type: holding, data_type: float32, swap: word, precision: 2, unit_of_measurement: V, device_class: voltage}\n"
		"      - {name: Pack current, address: %u, slave: 1, input_type: holding, data_type: float32, swap: word, precision: 2, unit_of_measurement: A, device_class: current}\n"
		"      - {name: Cell 1, address: %u, slave: 1, input_type: holding, data_type: uint16, unit_of_measurement: mV, virtual_count: %u}\n"
		"```\n"
		"\n"
		"With `float_order = abcd` use `swap: none` for the float32 sensors.\n"
		"\n",
		base + soc->off, base + volt->off, base + cur->off, base + cell->off,
		(unsigned)cell->count - 1);
}

/* First row fed by src with the given type and scale. */
static const struct reg_def *reg_find_dec(enum reg_src src, enum reg_type type, unsigned dec)
{
	for (size_t k = 0; k < REG_NDEFS; k++)
		if (reg_table[k].src == src && reg_table[k].type == type && reg_table[k].dec == dec)
			return &reg_table[k];
	return NULL;
}

/* The Home Assistant sensors of a unit, by register source; `needs`: the
 * BMS_HAS_* values a pack's protocol must give for it (all of them, or
 * with `any` one), as the MQTT discovery's (gateway/ha/discovery.c): a
 * register of a value the BMS never gives reads 0 ("SOH 0 %"). */
enum { HA_BOTH, HA_PACK, HA_BANK, HA_LIMITS, HA_COUNTED };
#define HA_CELLS (BMS_HAS_CELLS | BMS_HAS_CELL_EXT)
static const struct {
	enum reg_src src;
	enum reg_type type;
	uint8_t dec;
	uint8_t which;        /* HA_BOTH, HA_PACK, HA_BANK */
	const char *key;      /* unique_id suffix */
	const char *name;
	const char *device_class;
	const char *state_class;
	int precision;
	uint32_t needs;       /* BMS_HAS_* (packs) */
	bool any;             /* one of needs is enough */
} reg_ha[] = {
	{ REG_SRC_SOC, REG_U16, 1, HA_BOTH, "soc", "SOC", "battery", "measurement", 1, BMS_HAS_SOC, false },
	{ REG_SRC_VOLTAGE, REG_FLOAT, 0, HA_BOTH, "voltage", "voltage", "voltage", "measurement", 2, BMS_HAS_VOLTAGE,
	  false },
	{ REG_SRC_CURRENT, REG_FLOAT, 0, HA_BOTH, "current", "current", "current", "measurement", 2, BMS_HAS_CURRENT,
	  false },
	{ REG_SRC_POWER, REG_FLOAT, 0, HA_BOTH, "power", "power", "power", "measurement", 0, BMS_HAS_POWER, false },
	{ REG_SRC_TEMP_AVG, REG_FLOAT, 0, HA_BOTH, "temperature", "temperature", "temperature", "measurement", 1,
	  BMS_HAS_TEMPS, false },
	{ REG_SRC_MOS_TEMP, REG_S16, 1, HA_PACK, "mos_temperature", "MOS temperature", "temperature", "measurement", 1,
	  BMS_HAS_MOS_TEMP, false },
	{ REG_SRC_CELL_MIN, REG_U16, 0, HA_BOTH, "cell_min", "cell min", "voltage", "measurement", 0, HA_CELLS, true },
	{ REG_SRC_CELL_MAX, REG_U16, 0, HA_BOTH, "cell_max", "cell max", "voltage", "measurement", 0, HA_CELLS, true },
	{ REG_SRC_CELL_DELTA, REG_U16, 0, HA_BOTH, "cell_delta", "cell delta", "voltage", "measurement", 0, HA_CELLS,
	  true },
	{ REG_SRC_REMAIN, REG_U16, 1, HA_BOTH, "remaining", "remaining capacity", NULL, "measurement", 1,
	  BMS_HAS_REMAIN, false },
	{ REG_SRC_FULL, REG_U16, 1, HA_BOTH, "full", "full capacity", NULL, "measurement", 1, BMS_HAS_FULL, false },
	{ REG_SRC_SOH, REG_U16, 0, HA_BOTH, "soh", "SOH", NULL, "measurement", 0, BMS_HAS_SOH, false },
	{ REG_SRC_CYCLES, REG_U32, 0, HA_BOTH, "cycles", "cycles", NULL, "total_increasing", 0, BMS_HAS_CYCLES, false },
	{ REG_SRC_ALARMS, REG_U32, 0, HA_BOTH, "alarms", "alarm bits", NULL, NULL, 0, BMS_HAS_ALARMS, false },
	{ REG_SRC_FAILURE, REG_U16, 0, HA_BOTH, "failure", "failure", NULL, NULL, 0, 0, false },
	{ REG_SRC_ONLINE, REG_U16, 0, HA_BOTH, "online", "online", NULL, NULL, 0, 0, false },
	{ REG_SRC_AGE, REG_U16, 0, HA_BOTH, "data_age", "data age", "duration", "measurement", 0, 0, false },
	{ REG_SRC_BANK_ONLINE, REG_U16, 0, HA_BANK, "packs_online", "packs online", NULL, "measurement", 0, 0, false },
	{ REG_SRC_BANK_DEVIATION, REG_U16, 0, HA_BANK, "deviation", "voltage deviation", NULL, NULL, 0, 0, false },
	/* with [limits], on packs and the bank */
	{ REG_SRC_LIM_CVL, REG_U16, 2, HA_LIMITS, "cvl", "charge voltage limit", "voltage", "measurement", 2, 0, false },
	{ REG_SRC_LIM_CCL, REG_U16, 1, HA_LIMITS, "ccl", "charge current limit", "current", "measurement", 1, 0, false },
	{ REG_SRC_LIM_DCL, REG_U16, 1, HA_LIMITS, "dcl", "discharge current limit", "current", "measurement", 1, 0,
	  false },
	{ REG_SRC_LIM_MODE, REG_U16, 0, HA_LIMITS, "charge_mode", "charge mode", NULL, NULL, 0, 0, false },
	/* where the unit counts ([soc] count and what the count needs), on
	 * packs and the bank: the names of the MQTT discovery's (bmsgw-mqtt(7)) */
	{ REG_SRC_SOC_BMS, REG_U16, 1, HA_COUNTED, "soc_bms", "SOC (BMS)", "battery", "measurement", 1, 0, false },
	{ REG_SRC_SOC_COUNTED, REG_U16, 1, HA_COUNTED, "soc_counted", "SOC (counted)", "battery", "measurement", 1, 0,
	  false },
	{ REG_SRC_SOC_BAND, REG_U16, 1, HA_COUNTED, "soc_uncertainty", "SOC uncertainty", NULL, "measurement", 1, 0,
	  false },
	{ REG_SRC_SOC_CAPACITY, REG_FLOAT, 0, HA_COUNTED, "capacity_measured", "Capacity (measured)", NULL,
	  "measurement", 1, 0, false },
	{ REG_SRC_SOC_SOH, REG_U16, 1, HA_COUNTED, "soh_measured", "SOH (measured)", NULL, "measurement", 1, 0, false },
};

static const char *reg_ha_type(enum reg_type t)
{
	switch (t) {
	case REG_U16: return "uint16";
	case REG_S16: return "int16";
	case REG_U32: return "uint32";
	case REG_FLOAT: return "float32";
	}
	return "uint16";
}

static void reg_ha_entry(FILE *out, const struct reg_def *d, unsigned addr, enum reg_float_order fo, int unit,
			 const char *name, const char *label, const char *uid, const char *device_class,
			 const char *state_class, int precision, int scan)
{
	fprintf(out, "      - name: \"%s %s\"\n", label, name);
	fprintf(out, "        unique_id: %s\n", uid);
	fprintf(out, "        slave: %d\n", unit);
	fprintf(out, "        address: %u\n", addr);
	fprintf(out, "        input_type: holding\n");
	fprintf(out, "        data_type: %s\n", reg_ha_type(d->type));
	if (d->type == REG_FLOAT)
		fprintf(out, "        swap: %s\n", fo == REG_FLOAT_CDAB ? "word" : "none");
	if (d->dec)
		fprintf(out, "        scale: %s\n", d->dec == 1 ? "0.1" : "0.01");
	if (d->absent == REG_ABS_8000)
		fprintf(out, "        nan_value: -32768\n");
	if (d->absent == REG_ABS_FFFF)
		fprintf(out, "        nan_value: 65535\n");
	fprintf(out, "        precision: %d\n", precision);
	const char *u = d->unit;
	if (strcmp(u, "s") == 0 || (u[0] && strcmp(u, "h") && strcmp(u, "min")))
		fprintf(out, "        unit_of_measurement: \"%s\"\n", u);
	if (device_class)
		fprintf(out, "        device_class: %s\n", device_class);
	if (state_class)
		fprintf(out, "        state_class: %s\n", state_class);
	fprintf(out, "        scan_interval: %d\n", scan);
}

void reg_write_ha_sensors(FILE *out, unsigned base, enum reg_float_order fo, int unit, const char *label,
			  const char *id, unsigned ncells, bool bank, bool limits, bool counted, uint32_t provides,
			  int scan_interval)
{
	char uid[192];
	for (size_t k = 0; k < sizeof(reg_ha) / sizeof(reg_ha[0]); k++) {
		uint32_t needs = bank ? 0 : reg_ha[k].needs, got = needs & provides;
		if (reg_ha[k].which == (bank ? HA_PACK : HA_BANK) || (reg_ha[k].which == HA_LIMITS && !limits) ||
		    (reg_ha[k].which == HA_COUNTED && !counted) || (reg_ha[k].any ? needs && !got : got != needs))
			continue;
		const struct reg_def *d = reg_find_dec(reg_ha[k].src, reg_ha[k].type, reg_ha[k].dec);
		if (!d)
			continue;
		snprintf(uid, sizeof(uid), "bmsgw_%s_%s", id, reg_ha[k].key);
		reg_ha_entry(out, d, base + d->off, fo, unit, reg_ha[k].name, label, uid, reg_ha[k].device_class,
			     reg_ha[k].state_class, reg_ha[k].precision, scan_interval);
	}
	if (bank)
		return;
	/* individual cells: the rows fed by REG_SRC_CELL, in cell order */
	for (unsigned c = 0; c < ncells && c < BMS_MAX_CELLS; c++) {
		for (size_t k = 0; k < REG_NDEFS; k++) {
			const struct reg_def *d = &reg_table[k];
			if (d->src != REG_SRC_CELL || c < d->first || c >= d->first + d->count)
				continue;
			char name[32];
			snprintf(name, sizeof(name), "cell %u", c + 1);
			snprintf(uid, sizeof(uid), "bmsgw_%s_cell_%u", id, c + 1);
			reg_ha_entry(out, d, base + d->off + (c - d->first), fo, unit, name, label, uid, "voltage",
				     "measurement", 0, scan_interval);
		}
	}
}

static void reg_md_table(FILE *out, unsigned base)
{
	fprintf(out,
		"## Registers\n"
		"\n"
		"| Address | Offset | Name | Type | Unit / scale | Kind | Notes |\n"
		"|---|---|---|---|---|---|---|\n");
	for (size_t k = 0; k < REG_NDEFS; k++) {
		const struct reg_def *d = &reg_table[k];
		unsigned w = reg_width(d->type);
		for (unsigned e = 0; e < d->count; e++) {
			unsigned o = d->off + e * w;
			if (w == 1)
				fprintf(out, "| %u | %u | ", base + o, o);
			else
				fprintf(out, "| %u-%u | %u-%u | ", base + o, base + o + w - 1, o, o + w - 1);
			if (d->count > 1)
				fprintf(out, "%s %u", d->name, d->first + e + 1);
			else
				fputs(d->name, out);
			fprintf(out, " | %s | ", reg_type_name(d->type));
			if (d->dec)
				fprintf(out, "0.%.*s1%s%s", d->dec - 1, "000", *d->unit ? " " : "", d->unit);
			else
				fputs(d->unit, out);
			fprintf(out, " | %s | %s", d->kind == REG_DATA ? "data" : "status", d->note);
			const char *abs = reg_absent_text(d->absent);
			if (*abs)
				fprintf(out, "%s%s", *d->note ? "; " : "", abs);
			fputs(" |\n", out);
		}
	}
	fputs("\n", out);
}

static void reg_md_alarms(FILE *out, unsigned base)
{
	const struct reg_def *al = reg_find(REG_SRC_ALARMS, REG_U32);
	if (al) {
		unsigned o = al->off;
		fprintf(out,
			"## Alarm bits\n"
			"\n"
			"Bit n of the u32 `alarms` at offsets %u-%u (addresses %u-%u): offset %u\n"
			"holds bits 31-16, offset %u bits 15-0. Each BMS brand maps its own alarm\n"
			"bits onto this set; its raw words are in the `raw alarm word` registers.\n"
			"\n",
			o, o + 1, base + o, base + o + 1, o, o + 1);
	}
	fprintf(out, "| Bit | Mask | Name | Meaning |\n|---|---|---|---|\n");
	for (unsigned bit = 0; bit < BMS_AL_COUNT; bit++)
		fprintf(out, "| %u | 0x%08X | %s | %s |\n", bit, 1u << bit, bms_alarm_label(bit),
			bms_alarm_text(bit));
	fputs("\n", out);
}

static void reg_md_protocols(FILE *out)
{
	fprintf(out,
		"## Protocol ids\n"
		"\n"
		"| Protocol id | `protocol` |\n"
		"|---|---|\n");
	fprintf(out, "| 0 | the bank unit (`[bank]`) |\n");
	for (unsigned id = 1; id <= UINT16_MAX; id++) /* in id order, whatever the registry's order */
		for (size_t k = 0; bms_drivers[k]; k++)
			if (bms_drivers[k]->protocol_id == id)
				fprintf(out, "| %u | %s |\n", id, bms_drivers[k]->name);
}

void reg_write_markdown(FILE *out, unsigned base)
{
	reg_md_intro(out, base);
	reg_md_table(out, base);
	reg_md_alarms(out, base);
	reg_md_example(out, base);
	reg_md_protocols(out);
}
