/* SPDX-License-Identifier: MIT */
/* bms/volvo_spa.c - a Volvo / Polestar SPA pack read listen only from its
 * CAN bus (volvo-spa): bmsgw sends no frame, not the diagnostic requests
 * that read its cells.
 *
 * See bms/PROTOCOLS.md §93.  500 kbit/s, 11-bit, big-endian; the layouts
 * are Battery-Emulator's (VOLVO-SPA-BATTERY); a validity bit gates each
 * field, a field whose bit is clear is none:
 *	0x3A  b0 & 0x08: pack voltage ((b0 & 7) << 8 | b1) x 0.25 V; b6 &
 *	      0x80: current (((b6 & 0x7F) << 8) | b7) - 16380 in 0.1 A, + =
 *	      discharging (bmsgw's + = charging: turned); b0 & 0x40: the HV
 *	      relays (b0 bits 5-4: 0 open, 1 closed); b2 & 0x40, b2 & 0x80:
 *	      the DC relays 1 and 2 (b2, b4 bits 5-4: 3 a fault)
 *	0x413 b0 & 0x20: temperatures 13-bit signed 0.1 degC, the mean (b0
 *	      & 0x1F, b1), the highest (b2 & 0x1F, b3), the lowest (b4 &
 *	      0x1F, b5); b0 & 0x80: the pack's error indication (b0 bit 6)
 *	0x37D b0 & 0x40: SOC ((b6 & 3) << 8 | b7) x 0.1 %; b0 & 0x04: the
 *	      highest cell ((b2 & 1) << 8 | b3) x 10 mV; b0 & 0x02: the lowest
 *	      ((b0 & 1) << 8 | b1) x 10 mV; b0 & 0x08: the highest's number
 *	      ((b4 & 1) << 8 | b5)
 * A frame shorter than 8 bytes is dropped whole.  A poll needs 0x3A with a
 * valid voltage and current.
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { VS_3A, VS_413, VS_37D };

static bool vs_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	return (m->id == 0x3A || m->id == 0x413 || m->id == 0x37D) ? m->dlc == 8 : true;
}

static int vs_3a(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (!(d[0] & 0x08u) || !(d[6] & 0x80u))
		return HV_TAKEN; /* voltage or current not valid: the next one */
	s->voltage = (float)((d[0] & 7u) << 8 | d[1]) * 0.25f;
	s->current = -(float)((int)((d[6] & 0x7Fu) << 8 | d[7]) - 16380) * 0.1f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	if (d[0] & 0x40u) {
		s->chg_mos = s->dsg_mos = ((d[0] >> 4) & 3u) == 1;
		s->present |= BMS_HAS_MOSFETS;
	}
	bool fault = ((d[2] & 0x40u) && ((d[2] >> 4) & 3u) == 3) || ((d[2] & 0x80u) && ((d[4] >> 4) & 3u) == 3);
	s->alarms = (s->alarms & ~(uint32_t)BMS_AL_MOS_FAULT) | (fault ? BMS_AL_MOS_FAULT : 0);
	s->raw_alarms[0] = (uint16_t)((d[0] & 0xF0u) | (d[2] & 0xF0u) << 4 | (d[4] & 0xF0u) << 8);
	s->nraw = s->nraw > 1 ? s->nraw : 1;
	s->present |= BMS_HAS_ALARMS;
	return VS_3A;
}

static float vs_s13(const uint8_t *p)
{
	int v = (p[0] & 0x1F) << 8 | p[1];
	return (float)(v & 0x1000 ? v - 0x2000 : v) / 10.0f;
}

static int vs_413(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[0] & 0x80u) {
		s->alarms = (s->alarms & ~(uint32_t)BMS_AL_OTHER) | ((d[0] & 0x40u) ? BMS_AL_OTHER : 0);
		s->raw_alarms[1] = (uint16_t)(d[0] >> 6);
		s->nraw = 2;
		s->present |= BMS_HAS_ALARMS;
	}
	if (!(d[0] & 0x20u))
		return HV_TAKEN;
	float t[2] = { vs_s13(d + 2), vs_s13(d + 4) };
	hv_temps(s, t, 2); /* the highest and lowest as the sensors */
	return VS_413;
}

static int vs_37d(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[0] & 0x40u) {
		unsigned soc = (d[6] & 3u) << 8 | d[7];
		if (soc > 1000)
			return BMS_E_RANGE;
		s->soc = (float)soc / 10.0f;
		s->present |= BMS_HAS_SOC;
	}
	if ((d[0] & 0x06u) == 0x06u) {
		unsigned hi = ((d[2] & 1u) << 8 | d[3]) * 10u, lo = ((d[0] & 1u) << 8 | d[1]) * 10u;
		unsigned at = (d[0] & 0x08u) ? ((d[4] & 1u) << 8 | d[5]) : 0;
		if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		bms_set_cell_ext(s, hi, at <= BMS_MAX_CELLS ? at : 0, lo, 0);
	}
	return (d[0] & 0x46u) ? VS_37D : HV_TAKEN;
}

static int vs_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x3A: return vs_3a(poll, m->data);
	case 0x413: return vs_413(poll, m->data);
	case 0x37D: return vs_37d(poll, m->data);
	default: return BMS_E_UNEXPECTED;
	}
}

static const struct hv_family vs_family = {
	.check = vs_check,
	.frame = vs_frame,
	.need = 1u << VS_3A,
};

HV_DRIVER_FUNCS(vs, vs_family)

static const struct bms_can vs_can = { .bitrate = 500000 };

const struct bms_driver bms_volvo_spa_driver = {
	.name = "volvo-spa",
	.description = "Volvo / Polestar SPA pack on its CAN bus, read listen only (0x3A, 0x413, 0x37D; no cell "
		       "list)",
	.vendor = "Volvo",
	.protocol_id = 88,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELL_EXT | BMS_HAS_TEMPS |
		    BMS_HAS_TEMP_EXT | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	HV_DRIVER_MEMBERS(vs),
	.default_timeout = 3.0,
	.can = &vs_can,
};
