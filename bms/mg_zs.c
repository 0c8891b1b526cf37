/* SPDX-License-Identifier: MIT */
/* bms/mg_zs.c - an MG ZS EV (gen 1) / MG5 (gen 1) pack read listen only
 * from its CAN bus (mg-zs): bmsgw sends no frame, not the UDS requests
 * that read its cells.
 *
 * See bms/PROTOCOLS.md §89.  500 kbit/s, 11-bit, big-endian; the layouts
 * are Battery-Emulator's (MG-GEN1-BATTERY, its logs 37_MgGen1_*):
 *	0x3AC SOC u16 b2-b3 0.1 % (1022 and above: not available); pack
 *	      voltage 12 bits (b4 low nibble, b5) 0.25 V; current u16 b6-b7,
 *	      A = -(raw - 20000) / 20 (+ = charging); the voltage and current
 *	      only when 0 < voltage < 2400 and 16000 < current < 24000 (the
 *	      copy of 0x3AC on the pack's second bus carries the SOC alone)
 *	0x173 the highest and lowest cell u16 b4-b5, b6-b7 mV (1..0x1FFF)
 *	0x2A2 the highest and lowest cell temperature b0, b5: x 256 / 500 -
 *	      40 degC (0xFE, 0xFF: none)
 *	0x297 b1 the BMS's state: 1 disconnected, 2 precharge, 3 connected,
 *	      15 a fault, 0 and 8 checking
 * A frame shorter than 8 bytes is dropped whole.  A poll needs 0x3AC with
 * its voltage; the BMS's own extremes stand for the cells (no cell list
 * is broadcast).
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { MG_3AC, MG_173, MG_2A2, MG_297 };

static bool mg_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	switch (m->id) {
	case 0x3AC:
	case 0x173:
	case 0x2A2:
	case 0x297: return m->dlc == 8;
	default: return true;
	}
}

static int mg_3ac(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soc = bms_be16(d + 2), v = (d[4] & 0x0Fu) << 8 | d[5], i = bms_be16(d + 6);
	if (soc < 1022) {
		if (soc > 1000)
			return BMS_E_RANGE;
		s->soc = (float)soc / 10.0f;
		s->present |= BMS_HAS_SOC;
	}
	if (!(v > 0 && v < 2400 && i > 16000 && i < 24000))
		return HV_TAKEN; /* the second bus's copy: its SOC alone */
	s->voltage = (float)v * 0.25f;
	s->current = -((float)i - 20000.0f) / 20.0f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	return MG_3AC;
}

static int mg_173(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = bms_be16(d + 4), lo = bms_be16(d + 6);
	if (!hi || !lo || hi >= 0x2000 || lo >= 0x2000)
		return HV_TAKEN; /* not measured */
	if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	return MG_173;
}

static int mg_2a2(struct bms_poll *poll, const uint8_t *d)
{
	float hi = d[0] < 0xFE ? (float)(d[0] << 8) / 500.0f - 40.0f : NAN;
	float lo = d[5] < 0xFE ? (float)(d[5] << 8) / 500.0f - 40.0f : NAN;
	bms_set_temp_ext(&poll->snap, hi, lo);
	return MG_2A2;
}

/* 0x297: connected (the contactors closed), a fault. */
static int mg_297(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	s->chg_mos = s->dsg_mos = d[1] == 3;
	s->alarms = d[1] == 15 ? BMS_AL_PROTECTION : 0;
	s->raw_alarms[0] = d[1];
	s->nraw = 1;
	s->present |= BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	return MG_297;
}

static int mg_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x3AC: return mg_3ac(poll, m->data);
	case 0x173: return mg_173(poll, m->data);
	case 0x2A2: return mg_2a2(poll, m->data);
	case 0x297: return mg_297(poll, m->data);
	default: return BMS_E_UNEXPECTED;
	}
}

static const struct hv_family mg_family = {
	.check = mg_check,
	.frame = mg_frame,
	.need = 1u << MG_3AC,
};

HV_DRIVER_FUNCS(mg, mg_family)

static const struct bms_can mg_can = { .bitrate = 500000 };

const struct bms_driver bms_mg_zs_driver = {
	.name = "mg-zs",
	.description = "MG ZS EV / MG5 (gen 1) pack on its CAN bus, read listen only (0x3AC, 0x173, 0x2A2, "
		       "0x297; no cell list)",
	.vendor = "MG",
	.protocol_id = 84,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELL_EXT |
		    BMS_HAS_TEMP_EXT | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	HV_DRIVER_MEMBERS(mg),
	.default_timeout = 3.0,
	.can = &mg_can,
};
