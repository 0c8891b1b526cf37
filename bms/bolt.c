/* SPDX-License-Identifier: MIT */
/* bms/bolt.c - a Chevrolet Bolt / Opel Ampera-e pack read listen only
 * from its CAN bus (bolt): bmsgw sends no frame, not the OBD requests.
 *
 * See bms/PROTOCOLS.md §91.  500 kbit/s, 11-bit; the layouts are
 * Battery-Emulator's (BOLT-AMPERA-BATTERY, its log 4_BoltAmpera_cv88):
 *	0x200, 0x202, 0x204, 0x206 the cell matrices 1-4: mux b6 bits 7-5
 *	      (0..7), three cells a frame in 1.25 mV: ((b0 & 0x1F) << 7 |
 *	      b1 >> 1), ((b2 & 0x1F) << 7 | b3 >> 1), (b4 << 4 | b5 >> 4);
 *	      cell (id - 0x200) / 2 x 24 + 3 mux + its place (96 cells; the
 *	      fifth matrix, 0x208, is empty on most packs: passed over)
 *	0x2C7 pack voltage (b3 << 4 | b4 >> 4) x 0.125 V
 *	0x20C the highest and lowest cell b4, b5 x 20 mV
 *	0x3E3 the lowest and highest temperature b2, b4: / 2 - 40 degC
 * A frame shorter than its length (8 bytes; 0x2C7 6) is dropped whole.  A poll needs 0x2C7.
 * No SOC is broadcast (Battery-Emulator guesses one from the cells: none
 * here), and no current whose scale a source gives (0x216's sensors).
 */
#include "hvcan.h"

#include "drivers.h"

enum { BT_2C7, BT_20C, BT_3E3 };

static bool bt_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	switch (m->id) {
	case 0x200:
	case 0x202:
	case 0x204:
	case 0x206:
	case 0x20C:
	case 0x3E3: return m->dlc == 8;
	case 0x2C7: return m->dlc >= 6;
	default: return true;
	}
}

/* A cell of 1.25 mV counts, rounded down as Battery-Emulator's are. */
static int bt_cells(struct bms_poll *poll, unsigned id, const uint8_t *d)
{
	unsigned mux = d[6] >> 5, first = (id - 0x200) / 2 * 24 + 3 * mux;
	unsigned raw[3] = { (d[0] & 0x1Fu) << 7 | d[1] >> 1, (d[2] & 0x1Fu) << 7 | d[3] >> 1,
			    (unsigned)d[4] << 4 | d[5] >> 4 };
	for (unsigned k = 0; k < 3; k++) {
		if (!raw[k])
			continue; /* no cell there */
		unsigned mv = raw[k] * 5u / 4u;
		if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		hv_cell(poll, first + k, mv);
	}
	return HV_A((id - 0x200) / 2 * 8 + mux);
}

static int bt_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = m->data;
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x200:
	case 0x202:
	case 0x204:
	case 0x206: return bt_cells(poll, m->id, d);
	case 0x2C7:
		s->voltage = (float)((unsigned)d[3] << 4 | d[4] >> 4) * 0.125f;
		s->present |= BMS_HAS_VOLTAGE;
		return BT_2C7;
	case 0x20C:
		if (!d[4] || !d[5])
			return HV_TAKEN;
		if (d[5] > d[4] || d[5] * 20u < BMS_PLAUSIBLE_MIN_CELL_MV || d[4] * 20u > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		bms_set_cell_ext(s, d[4] * 20u, 0, d[5] * 20u, 0);
		return BT_20C;
	case 0x3E3: {
		float t[2] = { (float)d[4] / 2.0f - 40.0f, (float)d[2] / 2.0f - 40.0f };
		hv_temps(s, t, 2); /* the highest and lowest as the sensors */
		return BT_3E3;
	}
	default: return BMS_E_UNEXPECTED;
	}
}

static const struct hv_family bt_family = {
	.check = bt_check,
	.frame = bt_frame,
	.need = 1u << BT_2C7,
};

HV_DRIVER_FUNCS(bt, bt_family)

static const struct bms_can bt_can = { .bitrate = 500000 };

const struct bms_driver bms_bolt_driver = {
	.name = "bolt",
	.description = "Chevrolet Bolt / Opel Ampera-e pack on its CAN bus, read listen only (the cell matrices "
		       "0x200-0x206, 0x2C7, 0x20C, 0x3E3; no SOC, no current)",
	.vendor = "GM",
	.protocol_id = 86,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CELLS | BMS_HAS_CELL_EXT | BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT,
	HV_DRIVER_MEMBERS(bt),
	.default_timeout = 3.0,
	.can = &bt_can,
};
