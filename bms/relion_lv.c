/* SPDX-License-Identifier: MIT */
/* bms/relion_lv.c - a RELiON low-voltage LFP battery (its "LV protocol",
 * 48 V) read listen only from its CAN bus (relion-lv): bmsgw sends no
 * frame, not the controller's contactor message (0x18010081) that
 * Battery-Emulator sends it.
 *
 * See bms/PROTOCOLS.md §98.  250 kbit/s, 29-bit identifiers 0x02XX8100,
 * big-endian ("Motorola"), DLC 8; the layouts and their example frames
 * are Battery-Emulator's RELION-LV-BATTERY:
 *	0x02018100 pack voltage u16 b2-b3 0.1 V
 *	0x02028100 current s16 b0-b1 0.1 A (+ = discharging: turned), the
 *	           system state b2, SOC b3 %, SOH b4 %, the most serious
 *	           fault b5 (its codes are not public: kept raw)
 *	0x02038100 the highest cell u16 b0-b1 mV (its module b2, cell b3),
 *	           the lowest b4-b5 (module b6, cell b7)
 *	0x02048100 the highest temperature b0 - 50 degC (module b1, sensor
 *	           b2), the lowest b3 - 50 (b4, b5)
 *	0x02108100 + 0x10000 k (k 0..47) four cells a frame u16 mV (0: none)
 * Battery-Emulator reads the lowest temperature at b2 (its example frame's
 * 0x01: -49 degC beside a highest of 21): the frame's pattern, the highest
 * and its position then the lowest and its position, puts it at b3.
 * A frame of the battery's shorter than 8 bytes is dropped whole; a value
 * no battery has refuses the poll.  A poll needs 0x02018100 and
 * 0x02028100.
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { RL_V, RL_I, RL_EXT, RL_T };

#define RL_CELL0 0x10
#define RL_CELL_FRAMES 48 /* 192 cells */

static bool rl_ours(uint32_t id)
{
	return (id & 0x1F00FFFFu) == 0x02008100u;
}

static bool rl_check(const struct bms_can_msg *m)
{
	return !m->ext || !rl_ours(m->id) || m->dlc == 8;
}

static int rl_current(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (d[3] > 100 || d[4] > 100)
		return BMS_E_RANGE;
	s->current = -(float)bms_bes16(d) * 0.1f;
	s->soc = d[3];
	s->present |= BMS_HAS_CURRENT | BMS_HAS_SOC;
	if (d[4]) {
		s->soh = d[4];
		s->present |= BMS_HAS_SOH;
	}
	s->raw_alarms[0] = (uint16_t)(d[2] << 8 | d[5]); /* the state and the most serious fault */
	s->nraw = 1;
	s->present |= BMS_HAS_ALARMS;
	return RL_I;
}

static int rl_ext(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = bms_be16(d), lo = bms_be16(d + 4);
	if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	return RL_EXT;
}

static int rl_temps(struct bms_poll *poll, const uint8_t *d)
{
	float t[2] = { (float)d[0] - 50.0f, (float)d[3] - 50.0f };
	if (t[1] > t[0])
		return BMS_E_RANGE;
	hv_temps(&poll->snap, t, 2); /* the highest and lowest as the sensors */
	return RL_T;
}

static int rl_cells(struct bms_poll *poll, unsigned k, const uint8_t *d)
{
	for (unsigned i = 0; i < 4; i++) {
		unsigned mv = bms_be16(d + 2 * i);
		if (!mv)
			continue; /* no cell there */
		if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		hv_cell(poll, 4 * k + i, mv);
	}
	return HV_A(k);
}

static int rl_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	const uint8_t *d = m->data;
	if (!m->ext || !rl_ours(m->id))
		return BMS_E_UNEXPECTED; /* the controller's 0x18010081 */
	unsigned k = (m->id >> 16) & 0xFFu;
	if (k >= RL_CELL0 && k < RL_CELL0 + RL_CELL_FRAMES)
		return rl_cells(poll, k - RL_CELL0, d);
	switch (k) {
	case 0x01:
		poll->snap.voltage = (float)bms_be16(d + 2) * 0.1f;
		poll->snap.present |= BMS_HAS_VOLTAGE;
		return RL_V;
	case 0x02: return rl_current(poll, d);
	case 0x03: return rl_ext(poll, d);
	case 0x04: return rl_temps(poll, d);
	default: return BMS_E_UNEXPECTED; /* the limits 0x02648100 (unsettled), the raw sensors, the rest */
	}
}

static const struct hv_family rl_family = {
	.check = rl_check,
	.frame = rl_frame,
	.need = 1u << RL_V | 1u << RL_I,
};

HV_DRIVER_FUNCS(rl, rl_family)

/* the extended ids 0x02XX8100 */
static const struct bms_can rl_can = { .bitrate = 250000, .id = 0x7FF, .mask = 0x7FF, .ext_id = 0x02008100,
				       .ext_mask = 0x1F00FFFF };

const struct bms_driver bms_relion_lv_driver = {
	.name = "relion-lv",
	.description = "RELiON 48 V LFP battery (its LV CAN protocol), read listen only (0x02018100-0x02048100, "
		       "the cells 0x02108100 ...)",
	.vendor = "RELiON",
	.protocol_id = 93,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CELLS |
		    BMS_HAS_CELL_EXT | BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_ALARMS,
	HV_DRIVER_MEMBERS(rl),
	.default_timeout = 3.0,
	.can = &rl_can,
};
