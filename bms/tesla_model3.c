/* SPDX-License-Identifier: MIT */
/* bms/tesla_model3.c - a Tesla Model 3 / Model Y pack read listen only
 * from its CAN bus (tesla-model3): bmsgw sends no frame.
 *
 * See bms/PROTOCOLS.md §86.  500 kbit/s, 11-bit; the layouts are the
 * Tesla DBC's (joshwardell/model3dbc Model3CAN.dbc), little-endian bit
 * fields:
 *	0x132 pack voltage u16 0.01 V (bits 0-15); smoothed current s16
 *	      (bits 16-31), the DBC's factor -0.1 (+ = discharging): raw x
 *	      0.1 A is + = charging
 *	0x292 SOCmin (bits 0-9), SOCUI (10-19), SOCmax (20-29), SOCave
 *	      (30-39), 0.1 %: the SOC is SOCUI, the one the car shows
 *	0x332 (6 bytes) mux bits 0-1: 1 the highest and lowest brick (bits
 *	      2-13, 16-27, 2 mV) and their numbers (bits 32-38, 40-46, +1);
 *	      0 the highest and lowest cell temperature (b2, b3: 0.5 degC
 *	      - 40), served as two sensors too
 *	0x401 every brick: mux b0 (0..35), three a frame, u16 at b2, b4, b6
 *	      in 0.1 mV; brick 3 m + k (the DBC's names of mux 11's second
 *	      and third are swapped, not their places); 0 or 0xFFFF: none
 *	0x20A the pack's negative and positive contactor (bits 0-2, 3-5:
 *	      4 pulled in, 6 economized = closed, 7 welded, 0 not
 *	      available); the HV interlock (bits 40-43: 1 fine, 2-9 a fault)
 * A frame shorter than the DBC's length (8 bytes; 0x332, 0x20A 6) is
 * dropped whole.  A poll needs 0x132
 * and 0x292, and every brick frame, 0x332 and 0x20A the pack was heard
 * sending.
 */
#include "hvcan.h"

#include "drivers.h"

enum { T3_132, T3_292, T3_332_V, T3_332_T, T3_20A };
#define T3_MUXES 36 /* 108 bricks */

static bool t3_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	switch (m->id) {
	case 0x132:
	case 0x292:
	case 0x401: return m->dlc == 8;
	case 0x332:
	case 0x20A: return m->dlc >= 6;
	default: return true;
	}
}

static int t3_132(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	s->voltage = (float)bms_le16(d) * 0.01f;
	s->current = (float)bms_les16(d + 2) * 0.1f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	return T3_132;
}

static int t3_292(struct bms_poll *poll, const uint8_t *d)
{
	unsigned ui = hv_bits_le(d, 10, 10);
	if (ui > 1000)
		return BMS_E_RANGE;
	poll->snap.soc = (float)ui / 10.0f;
	poll->snap.present |= BMS_HAS_SOC;
	return T3_292;
}

static int t3_332(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned mux = d[0] & 3u;
	if (mux == 1) {
		unsigned hi = hv_bits_le(d, 2, 12) * 2u, lo = hv_bits_le(d, 16, 12) * 2u;
		if (!hi || !lo)
			return HV_TAKEN; /* not measured yet */
		if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		bms_set_cell_ext(s, hi, hv_bits_le(d, 32, 7) + 1u, lo, hv_bits_le(d, 40, 7) + 1u);
		return T3_332_V;
	}
	if (mux == 0) {
		float t[2] = { (float)d[2] * 0.5f - 40.0f, (float)d[3] * 0.5f - 40.0f };
		hv_temps(s, t, 2); /* the highest and lowest as the sensors */
		return T3_332_T;
	}
	return BMS_E_UNEXPECTED;
}

static int t3_401(struct bms_poll *poll, const uint8_t *d)
{
	unsigned mux = d[0];
	if (mux >= T3_MUXES)
		return BMS_E_UNEXPECTED;
	for (unsigned k = 0; k < 3; k++) {
		unsigned raw = bms_le16(d + 2 + 2 * k);
		if (raw == 0 || raw == 0xFFFF)
			continue; /* no brick there */
		unsigned mv = (raw + 5u) / 10u;
		if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		hv_cell(poll, 3 * mux + k, mv);
	}
	return HV_A(mux);
}

/* 0x20A: the pack's contactors as its switches, a welded one or the
 * interlock a fault. */
static int t3_20a(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned neg = d[0] & 7u, pos = (d[0] >> 3) & 7u, hvil = d[5] & 0x0Fu;
	if (!neg || !pos)
		return HV_TAKEN; /* not available */
	s->chg_mos = s->dsg_mos = (neg == 4 || neg == 6) && (pos == 4 || pos == 6);
	s->alarms |= (neg == 7 || pos == 7) ? BMS_AL_MOS_FAULT : 0;
	s->alarms |= hvil >= 2 ? BMS_AL_HW_FAULT : 0;
	s->raw_alarms[0] = (uint16_t)(d[0] & 0x3Fu);
	s->raw_alarms[1] = (uint16_t)hvil;
	s->nraw = 2;
	s->present |= BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	return T3_20A;
}

static int t3_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x132: return t3_132(poll, m->data);
	case 0x292: return t3_292(poll, m->data);
	case 0x332: return t3_332(poll, m->data);
	case 0x401: return t3_401(poll, m->data);
	case 0x20A: return t3_20a(poll, m->data);
	default: return BMS_E_UNEXPECTED;
	}
}

static const struct hv_family t3_family = {
	.check = t3_check,
	.frame = t3_frame,
	.need = 1u << T3_132 | 1u << T3_292,
};

HV_DRIVER_FUNCS(t3, t3_family)

static const struct bms_can t3_can = { .bitrate = 500000 };

const struct bms_driver bms_tesla_model3_driver = {
	.name = "tesla-model3",
	.description = "Tesla Model 3 / Model Y pack on its CAN bus, read listen only (0x132, 0x292, 0x332, "
		       "the bricks 0x401, the contactors 0x20A)",
	.vendor = "Tesla",
	.protocol_id = 81,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_CELL_EXT |
		    BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	HV_DRIVER_MEMBERS(t3),
	.default_timeout = 3.0,
	.can = &t3_can,
};
