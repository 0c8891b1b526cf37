/* SPDX-License-Identifier: MIT */
/* bms/zoe1.c - a Renault Zoe 22/41 kWh, Fluence or Kangoo Z.E. pack (its
 * LBC) read listen only from its CAN bus (zoe1): bmsgw sends no frame,
 * not the requests a tester sends.
 *
 * See bms/PROTOCOLS.md §87.  500 kbit/s, 11-bit, big-endian; the layouts
 * are Battery-Emulator's (after OVMS's vehicle_renaultzoe):
 *	0x155 current 12 bits (b1 low nibble, b2) 0.25 A - 500 A, + =
 *	      charging; SOC u16 b4-b5 0.0025 %
 *	0x424 the LBC's levels (b0: cell under-voltage bits 1-0, isolation
 *	      3-2, pack under-voltage 5-4, end of charge 7-6; b1:
 *	      over-current 1-0, over-temperature 3-2, pack over-voltage 5-4,
 *	      cell over-voltage 7-6), SOH b5, the lowest and highest cell
 *	      temperature b4, b7 (- 40 degC); b6 a heartbeat 0x55 / 0xAA
 *	0x425 the highest cell ((b4 & 3) << 7 | b5 >> 1) x 10 + 1000 mV, the
 *	      lowest ((b6 & 1) << 8 | b7) x 10 + 1000 mV
 *	0x42E (not on the 41 kWh pack) pack voltage (u16 b3-b4 >> 5) & 0x3FF
 *	      x 0.5 V
 *	0x7BB the LBC's answers to another tester's requests on 0x79B
 *	      (KWP2000 over ISO-TP): "61 41" cells 1-62, "61 42" cells 63-96,
 *	      big-endian mV
 * A frame shorter than 8 bytes, or 0x424 without its heartbeat, is dropped
 * whole.  A poll needs 0x155; the pack voltage is 0x42E's, else the sum of
 * the cells while a tester asks (a 41 kWh pack without one has no pack
 * voltage: no sample).
 */
#include "hvcan.h"

#include "drivers.h"

enum { Z1_155, Z1_424, Z1_425, Z1_42E };

static const struct hv_answer z1_answers[] = { { 0x61, 0x41, 0, 62 }, { 0x61, 0x42, 62, 34 } };

static bool z1_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	switch (m->id) {
	case 0x155:
	case 0x425:
	case 0x42E: return m->dlc == 8;
	case 0x424: return m->dlc == 8 && (m->data[6] == 0x55 || m->data[6] == 0xAA);
	case 0x7BB: return hv_tp_check(m);
	default: return true;
	}
}

static int z1_155(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soc = bms_be16(d + 4);
	if (soc > 40000) /* 100 % */
		return BMS_E_RANGE;
	s->current = (float)(((d[1] & 0x0Fu) << 8) | d[2]) * 0.25f - 500.0f;
	s->soc = (float)soc * 0.0025f;
	s->present |= BMS_HAS_CURRENT | BMS_HAS_SOC;
	return Z1_155;
}

/* 0x424: the LBC's levels as alarms, its SOH and temperatures. */
static int z1_424(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t al = 0;
	al |= (d[0] & 0x03u) ? BMS_AL_CELL_UV : 0;
	al |= (d[0] & 0x0Cu) ? BMS_AL_HW_FAULT : 0; /* isolation */
	al |= (d[0] & 0x30u) ? BMS_AL_PACK_UV : 0;
	al |= (d[1] & 0x03u) ? BMS_AL_CHG_OC | BMS_AL_DSG_OC : 0;
	al |= (d[1] & 0x0Cu) ? BMS_AL_CHG_OT | BMS_AL_DSG_OT : 0;
	al |= (d[1] & 0x30u) ? BMS_AL_PACK_OV : 0;
	al |= (d[1] & 0xC0u) ? BMS_AL_CELL_OV : 0;
	s->alarms = al;
	s->raw_alarms[0] = (uint16_t)(d[0] | d[1] << 8);
	s->nraw = 1;
	if (d[5] > 100)
		return BMS_E_RANGE;
	s->soh = d[5];
	float t[2] = { (float)d[7] - 40.0f, (float)d[4] - 40.0f };
	hv_temps(s, t, 2);
	s->present |= BMS_HAS_ALARMS | BMS_HAS_SOH;
	return Z1_424;
}

static int z1_425(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = ((d[4] & 3u) << 7 | d[5] >> 1) * 10u + 1000u, lo = ((d[6] & 1u) << 8 | d[7]) * 10u + 1000u;
	if (lo > hi || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	return Z1_425;
}

static int z1_42e(struct bms_poll *poll, const uint8_t *d)
{
	poll->snap.voltage = (float)((bms_be16(d + 3) >> 5) & 0x3FFu) * 0.5f;
	poll->snap.present |= BMS_HAS_VOLTAGE;
	return Z1_42E;
}

static const struct hv_family z1_family;

static int z1_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x155: return z1_155(poll, m->data);
	case 0x424: return z1_424(poll, m->data);
	case 0x425: return z1_425(poll, m->data);
	case 0x42E: return z1_42e(poll, m->data);
	case 0x7BB: return hv_tp_frame(&z1_family, poll, m);
	default: return BMS_E_UNEXPECTED;
	}
}

/* The pack voltage 0x42E does not give: the sum of the cells. */
static int z1_derive(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	if ((s->present & BMS_HAS_VOLTAGE) || !(s->present & BMS_HAS_CELLS))
		return BMS_OK;
	uint32_t mv = 0;
	for (unsigned i = 0; i < s->ncells; i++)
		mv += s->cell_mv[i];
	s->voltage = (float)mv / 1000.0f;
	s->present |= BMS_HAS_VOLTAGE;
	return BMS_OK;
}

static const struct hv_family z1_family = {
	.check = z1_check,
	.frame = z1_frame,
	.finish = z1_derive,
	.need = 1u << Z1_155,
	.answers = z1_answers,
	.nanswers = 2,
	.answer_id = 0x7BB,
};

HV_DRIVER_FUNCS(z1, z1_family)

static const struct bms_can z1_can = { .bitrate = 500000 };

const struct bms_driver bms_zoe1_driver = {
	.name = "zoe1",
	.description = "Renault Zoe 22/41 kWh, Fluence, Kangoo Z.E. pack on its CAN bus, read listen only (0x155, "
		       "0x424, 0x425, 0x42E; cells while another tester asks)",
	.vendor = "Renault",
	.protocol_id = 82,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CELLS |
		    BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_CELL_EXT | BMS_HAS_ALARMS,
	HV_DRIVER_MEMBERS(z1),
	.default_timeout = 3.0,
	.can = &z1_can,
};
