/* SPDX-License-Identifier: MIT */
/* bms/byd_atto3.c - a BYD Atto 3 (Blade) pack read listen only from its
 * CAN bus (byd-atto3): bmsgw sends no frame, not the OBD requests.
 *
 * See bms/PROTOCOLS.md §90.  500 kbit/s, 11-bit; the layouts are
 * Battery-Emulator's (BYD-ATTO-3-BATTERY, its log 5_BydAtto3_base):
 *	b7 = NOT(the sum of b0-b6) on 0x444, 0x438, 0x447, 0x43A, 0x345 and
 *	      0x35E: a frame whose check byte fails is dropped whole
 *	0x444 pack voltage, whole volts, 12 bits (b1 low nibble, b0); current
 *	      (u16 LE b2-b3 - 5000) x 0.1 A, + = charging; SOH b4 %, SOC b5 %
 *	0x438 pack voltage u16 LE b5-b6 x 0.1 V (the finer one, where sent)
 *	0x447 the coldest sensor's number b0 and temperature b1 - 40, the
 *	      hottest's b2 and b3 - 40 degC; SOC 12 bits (b5 low nibble, b4)
 *	      0.1 % (the finer one); the mean b6 - 40
 *	0x446 the lowest cell's number b0, its mV b1 | (b2 & 0x0F) << 8; the
 *	      highest's b4, b5 | (b6 & 0x0F) << 8
 *	0x43D three cells a frame, index b0: cell 3 b0 + i = b(2i+1) |
 *	      (b(2i+2) & 0x0F) << 8 mV, 0xFFF none (a module not fitted)
 *	0x43C the modules' temperatures, mux b0 (0, 1): b1-b6 - 40 degC, 0xFF
 *	      none
 * A frame shorter than 8 bytes is dropped whole.  A poll needs 0x444.
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { BY_444, BY_438, BY_447, BY_446 };
#define BY_FRAMES 54 /* 0x43D: 160 cells at most */

/* b7 = NOT(sum b0..b6) */
static bool by_sum_ok(const uint8_t *d)
{
	return (uint8_t)~bms_sum(d, 7) == d[7];
}

static bool by_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	switch (m->id) {
	case 0x444:
	case 0x438:
	case 0x447:
	case 0x43A:
	case 0x345:
	case 0x35E: return m->dlc == 8 && by_sum_ok(m->data);
	case 0x446:
	case 0x43C:
	case 0x43D: return m->dlc == 8;
	default: return true;
	}
}

/* The finer voltage and SOC of 0x438 and 0x447, where a poll has them,
 * are kept beside 0x444's. */
struct by_state {
	float v438, soc447;
	bool have438, have447;
};

static int by_444(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[4] > 100 || d[5] > 100)
		return BMS_E_RANGE;
	s->voltage = (float)((d[1] & 0x0Fu) << 8 | d[0]);
	s->current = ((float)bms_le16(d + 2) - 5000.0f) * 0.1f;
	s->soh = d[4];
	s->soc = d[5];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOH | BMS_HAS_SOC;
	return BY_444;
}

static int by_447(struct bms_poll *poll, const uint8_t *d)
{
	struct by_state *b = HV_FAM(poll, struct by_state);
	unsigned soc = (d[5] & 0x0Fu) << 8 | d[4];
	if (soc > 1000)
		return BMS_E_RANGE;
	b->soc447 = (float)soc / 10.0f;
	b->have447 = true;
	bms_set_temp_ext(&poll->snap, (float)d[3] - 40.0f, (float)d[1] - 40.0f);
	return BY_447;
}

static int by_446(struct bms_poll *poll, const uint8_t *d)
{
	unsigned lo = d[1] | (d[2] & 0x0Fu) << 8, hi = d[5] | (d[6] & 0x0Fu) << 8;
	if (!lo || !hi || lo == 0xFFF || hi == 0xFFF)
		return HV_TAKEN;
	if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	bms_set_cell_ext(&poll->snap, hi, d[4], lo, d[0]);
	return BY_446;
}

static int by_43d(struct bms_poll *poll, const uint8_t *d)
{
	if (d[0] >= BY_FRAMES)
		return BMS_E_UNEXPECTED;
	for (unsigned i = 0; i < 3; i++) {
		unsigned mv = d[2 * i + 1] | (d[2 * i + 2] & 0x0Fu) << 8;
		if (mv == 0xFFF)
			continue;
		if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		hv_cell(poll, 3u * d[0] + i, mv);
	}
	return HV_A(d[0]);
}

/* 0x43C: six modules' temperatures a frame, as sensors 6 mux + 1 ... */
static int by_43c(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[0] > 1)
		return BMS_E_UNEXPECTED;
	for (unsigned i = 0; i < 6; i++)
		s->temp_c[6 * d[0] + i] = d[1 + i] == 0xFF ? NAN : (float)d[1 + i] - 40.0f;
	return HV_B(d[0]);
}

static int by_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	const uint8_t *d = m->data;
	struct by_state *b = HV_FAM(poll, struct by_state);
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x444: return by_444(poll, d);
	case 0x438:
		b->v438 = (float)bms_le16(d + 5) * 0.1f;
		b->have438 = true;
		return BY_438;
	case 0x447: return by_447(poll, d);
	case 0x446: return by_446(poll, d);
	case 0x43D: return by_43d(poll, d);
	case 0x43C: return by_43c(poll, d);
	default: return BMS_E_UNEXPECTED;
	}
}

/* The finer voltage and SOC where the poll has them; the modules'
 * temperatures as sensors where both frames came. */
static int by_derive(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct by_state *b = HV_FAM(poll, struct by_state);
	if (b->have438 && b->v438 > 0)
		s->voltage = b->v438;
	if (b->have447)
		s->soc = b->soc447;
	if (BMS_PRIV(poll, struct hv_state)->b == 3u) {
		s->ntemps = 12; /* both frames of the modules' temperatures (NaN: a module not fitted) */
		s->present |= BMS_HAS_TEMPS;
	} else {
		for (unsigned i = 0; i < 12; i++)
			s->temp_c[i] = 0;
		float t[2] = { s->ext_tmax_c, s->ext_tmin_c };
		if (b->have447)
			hv_temps(s, t, 2); /* 0x447's highest and lowest as the sensors */
	}
	return BMS_OK;
}

static const struct hv_family by_family = {
	.check = by_check,
	.frame = by_frame,
	.finish = by_derive,
	.need = 1u << BY_444,
};

HV_DRIVER_FUNCS(by, by_family)

static const struct bms_can by_can = { .bitrate = 500000 };

const struct bms_driver bms_byd_atto3_driver = {
	.name = "byd-atto3",
	.description = "BYD Atto 3 (Blade) pack on its CAN bus, read listen only (0x444, 0x438, 0x447, 0x446, the "
		       "cells 0x43D, the modules' temperatures 0x43C)",
	.vendor = "BYD",
	.protocol_id = 85,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CELLS |
		    BMS_HAS_CELL_EXT | BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT,
	HV_DRIVER_MEMBERS(by),
	.default_timeout = 3.0,
	.can = &by_can,
};
