/* SPDX-License-Identifier: MIT */
/* bms/base/jkrecord.c - JK's 300-byte records (bms/jkrecord.h): the cell-info /
 * status record decoder shared by jk-pb (RS485) and jk-ble (JK02 over
 * Bluetooth LE), in its two layouts.  bms/PROTOCOLS.md §6.3 (the JK02_32S
 * layout = the JK-PB status frame) and §15.4 (JK02_24S).
 *
 * Cell-info offsets, JK02_32S (JK02_24S: cells 6+2n for 24 slots, mask at
 * 54, every later field 32 bytes earlier, except the MOS temperature and
 * the alarm word, see below):
 *	6+2n cells mV, 70 cell-present mask, 144 MOS temp (int16 0.1 degC),
 *	150 pack mV (u32), 158 current mA (int32, + = charging), 162/164 T1/T2,
 *	166 alarm bits (u32, §6.4), 173 SOC %, 174 remaining mAh (int32),
 *	178 full capacity mAh, 182 cycles (u32), 190 SOH %, 198/199 charge /
 *	discharge MOSFET (1 = on), 214 sensor-present bits (b0 MOS, b1..b4
 *	T1..T4), 256/258 T3/T4 (§6.3 caveat: payload 254 repeats the MOS
 *	temperature, so T3/T4 are read at 256/258 as mr-manuel's driver does;
 *	T5 is not read).
 * JK02_24S: MOS temperature at 134 (where JK02_32S's alarm word begins),
 * alarm bits 0..15 at 136 (u16), sensor-present bits at 182 (b0 MOS, b1 T1,
 * b2 T2; the layout has no T3/T4).
 * Temperatures are two's complement 0.1 degC as the V1.0 document says
 * (a JK02_24S capture at -3.1 degC confirms it, §15.4).  Present sensors
 * are reported in order T1..T4, skipping absent ones.  Not decoded: power
 * (derived from V x I instead), balance current/state (per-cell balancing
 * is not reported), wire resistances, heater, run time.
 *
 * raw_alarms[0] = alarm bits 0..15, raw_alarms[1] = alarm bits 16..31
 * (JK02_32S only: nraw = 1 in JK02_24S).
 *
 * Settings record (both layouts, offsets = settings block 0x1000 offset +
 * 6; bms/PROTOCOLS.md §6.7): 50 max charge current (u32 mA, 0x2C), 62 max
 * discharge current (0x38), 118 / 122 charge / discharge switch (u32,
 * 0x70 / 0x74), 126 the balancer (0x78, "BalanEN"); the JK-PB's heater
 * (status 215, 236; settings 282..285: bms/PROTOCOLS.md §6.9).
 */
#include "../jkrecord.h"

#include <stdlib.h>
#include <string.h>

const uint8_t jk_record_magic[4] = { 0x55, 0xAA, 0xEB, 0x90 };

/* Cell-info offsets of the JK02_32S layout. */
enum {
	JKR_O_CELLS = 6,
	JKR_O_CELL_MASK = 70,
	JKR_O_MOS_TEMP = 144,
	JKR_O_VOLTAGE = 150,
	JKR_O_CURRENT = 158,
	JKR_O_T1 = 162,
	JKR_O_T2 = 164,
	JKR_O_ALARMS = 166,
	JKR_O_SOC = 173,
	JKR_O_REMAIN = 174,
	JKR_O_FULL = 178,
	JKR_O_CYCLES = 182,
	JKR_O_SOH = 190,
	JKR_O_CHG_MOS = 198,
	JKR_O_DSG_MOS = 199,
	JKR_O_SENSORS = 214,
	JKR_O_T3 = 256,
	JKR_O_T4 = 258,
};
#define JKR_SHIFT_24S 32        /* JK02_24S: fields after the mask 32 bytes earlier */
#define JKR_MASK_SHIFT_24S 16   /* ... and the mask itself 16 bytes earlier */
#define JKR_O_MOS_TEMP_24S 134
#define JKR_O_ALARMS_24S 136
#define JKR_SLOTS_32S 32
#define JKR_SLOTS_24S 24

/* Settings record: the switches (u32, 1 on), the over-current settings
 * (u32 mA). */
#define JKR_O_SET_CHG 118
#define JKR_O_SET_DSG 122
#define JKR_O_SET_CCL 50
#define JKR_O_SET_DCL 62
/* Device-info record: the software version, 8 characters. */
#define JKR_O_SW 30
#define JKR_SW_LEN 8

/* Alarm bit n (§6.4) -> normalised alarms.  "P" bits are protections that
 * switch a MOSFET off; b24-31 are not defined. */
#define P BMS_AL_PROTECTION
static const uint32_t jkr_alarm_map[32] = {
	BMS_AL_HW_FAULT,                /* b0 balance-wire resistance */
	BMS_AL_MOS_OT | P,              /* b1 MOS over-temperature protection */
	BMS_AL_HW_FAULT,                /* b2 cell count differs from the setting */
	BMS_AL_HW_FAULT,                /* b3 current sensor error */
	BMS_AL_CELL_OV | P,             /* b4 cell OVP */
	BMS_AL_PACK_OV | P,             /* b5 pack OVP */
	BMS_AL_CHG_OC | P,              /* b6 charge OCP */
	BMS_AL_SHORT | P,               /* b7 charge short circuit */
	BMS_AL_CHG_OT | P,              /* b8 charge OTP */
	BMS_AL_CHG_UT | P,              /* b9 charge UTP */
	BMS_AL_COMM,                    /* b10 internal communication error */
	BMS_AL_CELL_UV | P,             /* b11 cell UVP */
	BMS_AL_PACK_UV | P,             /* b12 pack UVP */
	BMS_AL_DSG_OC | P,              /* b13 discharge OCP */
	BMS_AL_SHORT | P,               /* b14 discharge short circuit */
	BMS_AL_DSG_OT | P,              /* b15 discharge OTP */
	BMS_AL_MOS_FAULT,               /* b16 charge MOSFET fault */
	BMS_AL_MOS_FAULT,               /* b17 discharge MOSFET fault */
	BMS_AL_OTHER,                   /* b18 GPS disconnected */
	BMS_AL_OTHER,                   /* b19 "modify password in time" */
	BMS_AL_MOS_FAULT,               /* b20 discharge switch-on failed */
	BMS_AL_CHG_OT | BMS_AL_DSG_OT,  /* b21 battery over-temperature alarm */
	BMS_AL_SENSOR,                  /* b22 temperature sensor anomaly (V1.1) */
	BMS_AL_HW_FAULT,                /* b23 PCL module anomaly (V1.1) */
	0, 0, 0, 0, 0, 0, 0, 0,         /* b24-31 undefined */
};
#undef P

uint8_t jk_record_sum(const uint8_t *p, size_t n)
{
	return (uint8_t)bms_sum(p, n);
}

bool jk_record_ok(const uint8_t *p)
{
	return memcmp(p, jk_record_magic, sizeof(jk_record_magic)) == 0 &&
	       jk_record_sum(p, JK_RECORD_LEN - 1) == p[JK_RECORD_SUM];
}

static float le_temp(const uint8_t *p) { return (float)bms_les16(p) / 10.0f; }

void jk_record_decode_cells(const uint8_t *p, enum jk_layout layout, uint8_t cells_forced,
			    bool invert_current, struct bms_snapshot *s)
{
	const bool l24 = layout == JK_LAYOUT_24S;
	const unsigned slots = l24 ? JKR_SLOTS_24S : JKR_SLOTS_32S;
	const unsigned sh = l24 ? JKR_SHIFT_24S : 0; /* later fields: offset - sh */
	uint32_t mask = bms_le32(p + JKR_O_CELL_MASK - (l24 ? JKR_MASK_SHIFT_24S : 0));
	uint8_t sensors = p[JKR_O_SENSORS - sh];
	unsigned n = 0;

	memset(s, 0, sizeof(*s));
	if (cells_forced) {
		n = cells_forced < slots ? cells_forced : slots;
		for (unsigned i = 0; i < n; i++)
			s->cell_mv[i] = bms_le16(p + JKR_O_CELLS + 2 * i);
	} else {
		for (unsigned i = 0; i < slots; i++)
			if (mask & (1u << i))
				s->cell_mv[n++] = bms_le16(p + JKR_O_CELLS + 2 * i);
	}
	s->ncells = (uint8_t)n;
	s->present |= BMS_HAS_CELLS;

	s->voltage = (float)bms_le32(p + JKR_O_VOLTAGE - sh) / 1000.0f;
	float cur = (float)(int32_t)bms_le32(p + JKR_O_CURRENT - sh) / 1000.0f;
	s->current = invert_current ? -cur : cur;
	s->soc = p[JKR_O_SOC - sh] > 100 ? 100.0f : (float)p[JKR_O_SOC - sh];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;

	int32_t remain = (int32_t)bms_le32(p + JKR_O_REMAIN - sh);
	if (remain >= 0) {
		s->remain_ah = (float)remain / 1000.0f;
		s->present |= BMS_HAS_REMAIN;
	}
	s->full_ah = (float)bms_le32(p + JKR_O_FULL - sh) / 1000.0f;
	s->cycles = bms_le32(p + JKR_O_CYCLES - sh);
	s->soh = p[JKR_O_SOH - sh] > 100 ? 100.0f : (float)p[JKR_O_SOH - sh];
	s->present |= BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_SOH;

	if (sensors & 0x01) {
		s->mos_temp_c = le_temp(p + (l24 ? JKR_O_MOS_TEMP_24S : JKR_O_MOS_TEMP));
		s->present |= BMS_HAS_MOS_TEMP;
	}
	static const uint16_t toff[4] = { JKR_O_T1, JKR_O_T2, JKR_O_T3, JKR_O_T4 };
	const unsigned ntoff = l24 ? 2 : 4; /* JK02_24S has T1 and T2 only */
	for (unsigned i = 0; i < ntoff; i++)
		if (sensors & (1u << (i + 1)))
			s->temp_c[s->ntemps++] = le_temp(p + toff[i] - sh);
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;

	s->chg_mos = p[JKR_O_CHG_MOS - sh] != 0;
	s->dsg_mos = p[JKR_O_DSG_MOS - sh] != 0;
	s->present |= BMS_HAS_MOSFETS;

	uint32_t al = l24 ? bms_le16(p + JKR_O_ALARMS_24S) : bms_le32(p + JKR_O_ALARMS);
	for (unsigned bit = 0; bit < 32; bit++)
		if (al & (1u << bit))
			s->alarms |= jkr_alarm_map[bit];
	s->raw_alarms[0] = (uint16_t)al;
	s->raw_alarms[1] = (uint16_t)(al >> 16);
	s->nraw = l24 ? 1 : 2;
	s->present |= BMS_HAS_ALARMS;
}

void jk_record_switches(const uint8_t *p, bool *chg_on, bool *dsg_on)
{
	*chg_on = bms_le32(p + JKR_O_SET_CHG) != 0;
	*dsg_on = bms_le32(p + JKR_O_SET_DSG) != 0;
}

int jk_record_limits(const uint8_t *p, float *ccl_a, float *dcl_a)
{
	uint32_t ccl = bms_le32(p + JKR_O_SET_CCL), dcl = bms_le32(p + JKR_O_SET_DCL);
	bool chg, dsg;

	if (ccl > JK_RECORD_MAX_CUR_MA || dcl > JK_RECORD_MAX_CUR_MA)
		return BMS_E_RANGE;
	jk_record_switches(p, &chg, &dsg);
	*ccl_a = chg ? (float)ccl / 1000.0f : 0.0f;
	*dcl_a = dsg ? (float)dcl / 1000.0f : 0.0f;
	return BMS_OK;
}

int jk_record_sw_major(const uint8_t *p)
{
	const uint8_t *v = p + JKR_O_SW;
	size_t i = 0;
	int major = 0;

	if (v[0] == 'V' || v[0] == 'v')
		i++;
	if (i >= JKR_SW_LEN || v[i] < '0' || v[i] > '9')
		return -1;
	for (; i < JKR_SW_LEN && v[i] >= '0' && v[i] <= '9'; i++)
		if (major < 1000)
			major = major * 10 + (v[i] - '0');
	return major;
}

/* The settings record's fields (u32 / int32 little-endian at offset =
 * settings block offset + 6), their scale to the key's unit and the range
 * of raw values taken (bms/PROTOCOLS.md §6.7).  Offset 6 (smart-sleep
 * voltage on JK-PB, something else on older JK02 software) and 30..45
 * (SOC 100 % / 0 % and request charge / float voltage: 0 on older
 * software) are not read. */
static const struct {
	uint16_t off;
	uint8_t key;            /* enum bms_set_key */
	bool is_signed;
	float div;              /* raw / div = the value in the key's unit */
	int32_t lo, hi;         /* raw range taken */
} jkr_set[] = {
	{ 10, BMS_SET_CELL_UVP_V, false, 1000.0f, 1, 10000 },
	{ 14, BMS_SET_CELL_UVP_RELEASE_V, false, 1000.0f, 1, 10000 },
	{ 18, BMS_SET_CELL_OVP_V, false, 1000.0f, 1, 10000 },
	{ 22, BMS_SET_CELL_OVP_RELEASE_V, false, 1000.0f, 1, 10000 },
	{ 26, BMS_SET_BALANCE_DELTA_V, false, 1000.0f, 1, 10000 },
	{ 46, BMS_SET_POWER_OFF_V, false, 1000.0f, 1, 10000 },
	{ 50, BMS_SET_CHARGE_OCP_A, false, 1000.0f, 0, (int32_t)JK_RECORD_MAX_CUR_MA },
	{ 54, BMS_SET_CHARGE_OCP_DELAY_S, false, 1.0f, 0, 86400 },
	{ 58, BMS_SET_CHARGE_OCP_RELEASE_S, false, 1.0f, 0, 86400 },
	{ 62, BMS_SET_DISCHARGE_OCP_A, false, 1000.0f, 0, (int32_t)JK_RECORD_MAX_CUR_MA },
	{ 66, BMS_SET_DISCHARGE_OCP_DELAY_S, false, 1.0f, 0, 86400 },
	{ 70, BMS_SET_DISCHARGE_OCP_RELEASE_S, false, 1.0f, 0, 86400 },
	{ 74, BMS_SET_SHORT_CIRCUIT_RELEASE_S, false, 1.0f, 0, 86400 },
	{ 78, BMS_SET_BALANCE_CURRENT_A, false, 1000.0f, 0, 100000 },
	{ 82, BMS_SET_CHARGE_OTP_C, true, 10.0f, -1000, 2000 },
	{ 86, BMS_SET_CHARGE_OTP_RELEASE_C, true, 10.0f, -1000, 2000 },
	{ 90, BMS_SET_DISCHARGE_OTP_C, true, 10.0f, -1000, 2000 },
	{ 94, BMS_SET_DISCHARGE_OTP_RELEASE_C, true, 10.0f, -1000, 2000 },
	{ 98, BMS_SET_CHARGE_UTP_C, true, 10.0f, -1000, 2000 },
	{ 102, BMS_SET_CHARGE_UTP_RELEASE_C, true, 10.0f, -1000, 2000 },
	{ 106, BMS_SET_MOS_OTP_C, true, 10.0f, -1000, 2000 },
	{ 110, BMS_SET_MOS_OTP_RELEASE_C, true, 10.0f, -1000, 2000 },
	{ 114, BMS_SET_CELL_COUNT, false, 1.0f, 1, 32 },
	{ 126, BMS_SET_BALANCER, false, 1.0f, 0, 1 },
	{ 130, BMS_SET_CAPACITY_AH, false, 1000.0f, 1, (int32_t)JK_RECORD_MAX_CAP_MAH },
	{ 134, BMS_SET_SHORT_CIRCUIT_DELAY_S, false, 1000000.0f, 0, 10000000 },
	{ 138, BMS_SET_BALANCE_START_V, false, 1000.0f, 1, 10000 },
};

void jk_record_settings(const uint8_t *p, struct bms_settings *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(jkr_set) / sizeof(jkr_set[0]); i++) {
		uint32_t u = bms_le32(p + jkr_set[i].off);
		int64_t raw = jkr_set[i].is_signed ? (int64_t)(int32_t)u : (int64_t)u;
		bms_settings_put_raw(out, (enum bms_set_key)jkr_set[i].key, raw, jkr_set[i].lo, jkr_set[i].hi,
				     jkr_set[i].div);
	}
}

#define JKR_O_HEATER 215
#define JKR_O_HEATER_MA 236

void jk_record_heater(const uint8_t *p, struct bms_snapshot *s)
{
	s->heater_on = p[JKR_O_HEATER] != 0;
	s->heater_a = (float)bms_le16(p + JKR_O_HEATER_MA) / 1000.0f;
	s->present |= BMS_HAS_HEATER;
}

/* Does the device-info record p name firmware whose settings record has
 * heating temperatures of its own (284, 285)?  Hardware above "15A", or
 * "15A" with software 15.41 or later (dbus-serialbattery 358d3c7's
 * jkbms_pb): JK_HEAT_OWN; older: JK_HEAT_UTP; no hardware text:
 * JK_HEAT_UNKNOWN. */
#define JKR_O_HW 22
#define JKR_HW_LEN 8

int jk_record_heat_temps(const uint8_t *p)
{
	char hw[JKR_HW_LEN + 1], sw[JKR_SW_LEN + 1];
	bms_ident_text(hw, sizeof(hw), p + JKR_O_HW, JKR_HW_LEN);
	bms_ident_text(sw, sizeof(sw), p + JKR_O_SW, JKR_SW_LEN);
	if (!hw[0])
		return JK_HEAT_UNKNOWN;
	int c = strcmp(hw, "15A");
	const char *v = sw[0] == 'V' || sw[0] == 'v' ? sw + 1 : sw;
	char *end;
	double ver = strtod(v, &end);
	if (c > 0 || (c == 0 && end != v && ver >= 15.41 - 1e-6))
		return JK_HEAT_OWN;
	return JK_HEAT_UTP;
}

void jk_record_heat_settings(const uint8_t *p, int temps, struct bms_settings *out)
{
	const uint8_t *h = p + JK_RECORD_HEAT_OFF;
	bms_settings_put(out, BMS_SET_HEATER, (bms_le16(h) & JK_RECORD_HEAT_ENABLE) ? 1.0f : 0.0f);
	if (temps == JK_HEAT_OWN) {
		bms_settings_put(out, BMS_SET_HEAT_START_C, (float)(int8_t)h[2]);
		bms_settings_put(out, BMS_SET_HEAT_STOP_C, (float)(int8_t)h[3]);
	} else if (temps == JK_HEAT_UTP && bms_settings_has(out, BMS_SET_CHARGE_UTP_C) &&
		   bms_settings_has(out, BMS_SET_CHARGE_UTP_RELEASE_C)) {
		/* the heater follows the charge under-temperature protection */
		bms_settings_put(out, BMS_SET_HEAT_START_C, out->v[BMS_SET_CHARGE_UTP_C]);
		bms_settings_put(out, BMS_SET_HEAT_STOP_C, out->v[BMS_SET_CHARGE_UTP_RELEASE_C]);
	}
}
