/* SPDX-License-Identifier: MIT */
/* bms/mach_e.c - a Ford Mustang Mach-E pack read listen only from its CAN
 * bus (mach-e): bmsgw sends no frame, not the UDS requests.
 *
 * See bms/PROTOCOLS.md §92.  500 kbit/s, 11-bit, big-endian; the layouts
 * are Battery-Emulator's (FORD-MACH-E-BATTERY):
 *	0x07A (10 ms) pack voltage 10 bits (b2 bits 1-0, b3) x 0.5 V
 *	0x07B (10 ms) current s16 b0-b1, A = -raw x 0.2 (raw + = discharging)
 *	0x24C (100 ms) SOC u16 b3-b4 x 0.01 %
 *	0x490-0x4A2 (1 s) 19 frames of five cells, 12 bits each (b0:b1 high
 *	      nibble, b1 low:b2, b3:b4 high, b4 low:b5, b6:b7 high), mV = raw
 *	      + 1000, 0xFFE none (a 90 or 94-cell pack's last ones)
 *	0x4A3 (1 s) cell 96 (b0:b1 high nibble; 0xFFE none) and six cell
 *	      temperatures (b2-b7 - 22) / 2 degC
 * A frame shorter than 8 bytes is dropped whole.  A poll needs 0x07A,
 * 0x07B and 0x24C.
 */
#include "hvcan.h"

#include "drivers.h"

enum { ME_07A, ME_07B, ME_24C };

static bool me_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	if ((m->id >= 0x490 && m->id <= 0x4A3) || m->id == 0x07A || m->id == 0x07B || m->id == 0x24C)
		return m->dlc == 8;
	return true;
}

/* The 12-bit word k (0..4) of a cell frame. */
static unsigned me_word(const uint8_t *d, unsigned k)
{
	static const uint8_t at[5] = { 0, 1, 3, 4, 6 };
	const uint8_t *p = d + at[k];
	return (k == 1 || k == 3) ? (p[0] & 0x0Fu) << 8 | p[1] : (unsigned)p[0] << 4 | p[1] >> 4;
}

static int me_cells(struct bms_poll *poll, unsigned g, const uint8_t *d, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		unsigned raw = me_word(d, k);
		if (raw == 0xFFE)
			continue;
		unsigned mv = raw + 1000u;
		if (mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		hv_cell(poll, 5 * g + k, mv);
	}
	return HV_A(g);
}

static int me_4a3(struct bms_poll *poll, const uint8_t *d)
{
	float t[6];
	for (unsigned i = 0; i < 6; i++)
		t[i] = ((float)d[2 + i] - 22.0f) / 2.0f;
	hv_temps(&poll->snap, t, 6);
	return me_cells(poll, 19, d, 1);
}

static int me_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = m->data;
	if (m->ext)
		return BMS_E_UNEXPECTED;
	if (m->id >= 0x490 && m->id <= 0x4A2)
		return me_cells(poll, m->id - 0x490, d, 5);
	switch (m->id) {
	case 0x4A3: return me_4a3(poll, d);
	case 0x07A:
		s->voltage = (float)((d[2] & 3u) << 8 | d[3]) * 0.5f;
		s->present |= BMS_HAS_VOLTAGE;
		return ME_07A;
	case 0x07B:
		s->current = -(float)bms_bes16(d) * 0.2f;
		s->present |= BMS_HAS_CURRENT;
		return ME_07B;
	case 0x24C: {
		unsigned soc = (unsigned)d[3] << 8 | d[4];
		if (soc > 10000)
			return BMS_E_RANGE;
		s->soc = (float)soc / 100.0f;
		s->present |= BMS_HAS_SOC;
		return ME_24C;
	}
	default: return BMS_E_UNEXPECTED;
	}
}

static const struct hv_family me_family = {
	.check = me_check,
	.frame = me_frame,
	.need = 1u << ME_07A | 1u << ME_07B | 1u << ME_24C,
};

HV_DRIVER_FUNCS(me, me_family)

static const struct bms_can me_can = { .bitrate = 500000 };

const struct bms_driver bms_mach_e_driver = {
	.name = "mach-e",
	.description = "Ford Mustang Mach-E pack on its CAN bus, read listen only (0x07A, 0x07B, 0x24C, the cells "
		       "and temperatures 0x490-0x4A3)",
	.vendor = "Ford",
	.protocol_id = 87,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		    BMS_HAS_TEMP_EXT,
	HV_DRIVER_MEMBERS(me),
	/* the cells once a second */
	.default_timeout = 3.0,
	.can = &me_can,
};
