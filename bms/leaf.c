/* SPDX-License-Identifier: MIT */
/* bms/leaf.c - a Nissan Leaf pack (AZE0, ZE1: its LBC) read listen only
 * from its EV-CAN (leaf): bmsgw sends no frame, not the group requests a
 * tester sends.
 *
 * See bms/PROTOCOLS.md §85.  500 kbit/s, 11-bit; the layouts are the Leaf
 * DBC's (dalathegreat/leaf_can_bus_messages EV-can_AZE0.dbc):
 *	0x1DB current s11 (b0, b1 bits 7-5) 0.5 A, + = charging; pack
 *	      voltage 10 bits (b2, b3 bits 7-6) 0.5 V (0x3FF: not
 *	      available); relay cut request b1 bits 4-3, failsafe status b1
 *	      bits 2-0, main relay on b3 bit 5, full b3 bit 4, interlock b3
 *	      bit 3; b7 CRC-8 (poly 0x85, init 0) of b0-b6
 *	0x55B SOC 10 bits (b0, b1 bits 7-6) 0.1 % (0x3FF: not available);
 *	      the same CRC in b7
 *	0x7BB the LBC's answers to the group requests another tester (Leaf
 *	      Spy, a Battery-Emulator) sends on 0x79B, ISO-TP: group 2's
 *	      "61 02" and 96 cells, big-endian mV
 * A frame whose CRC fails, or shorter than 8 bytes, is dropped whole.  A
 * poll needs 0x1DB and 0x55B and waits for a group 2 answer up to
 * `timeout`: the cells come with it while a tester asks, a poll without
 * one is used without cells.
 */
#include "hvcan.h"

#include "drivers.h"

enum { LF_1DB, LF_55B };

static const struct hv_answer lf_answers[] = { { 0x61, 0x02, 0, 96 } };

static bool lf_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	if (m->id == 0x1DB || m->id == 0x55B)
		return m->dlc == 8 && hv_crc8(0x85, m->data, 7) == m->data[7];
	return m->id == 0x7BB ? hv_tp_check(m) : true;
}

/* 0x1DB: current, voltage, the LBC's requests and relays. */
static int lf_1db(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	int raw = d[0] << 3 | d[1] >> 5;
	unsigned v = (unsigned)d[2] << 2 | d[3] >> 6;
	if (v == 0x3FF)
		return HV_TAKEN; /* not available (the LBC starting): the next one */
	if (raw & 0x400)
		raw -= 0x800;
	s->current = (float)raw * 0.5f;
	s->voltage = (float)v * 0.5f;
	unsigned cut = (d[1] >> 3) & 3u, fail = d[1] & 7u;
	uint32_t al = 0;
	al |= cut ? BMS_AL_PROTECTION : 0;      /* it asks for its relays to open */
	al |= fail >= 4 ? BMS_AL_OTHER : 0;     /* its caution lamp */
	al |= (fail & 1u) ? BMS_AL_SOC_LOW : 0; /* "normal stop": empty */
	al |= (fail & 2u) ? BMS_AL_SOC_HIGH : 0; /* "charging stop": full */
	s->alarms = al;
	s->raw_alarms[0] = d[1] & 0x1Fu;
	s->raw_alarms[1] = d[3] & 0x3Fu;
	s->nraw = 2;
	s->chg_mos = s->dsg_mos = (d[3] & 0x20u) != 0; /* its main relay */
	s->present |= BMS_HAS_CURRENT | BMS_HAS_VOLTAGE | BMS_HAS_ALARMS | BMS_HAS_MOSFETS;
	return LF_1DB;
}

/* 0x55B: the SOC. */
static int lf_55b(struct bms_poll *poll, const uint8_t *d)
{
	unsigned soc = (unsigned)d[0] << 2 | d[1] >> 6;
	if (soc == 0x3FF)
		return HV_TAKEN;
	if (soc > 1000)
		return BMS_E_RANGE;
	poll->snap.soc = (float)soc / 10.0f;
	poll->snap.present |= BMS_HAS_SOC;
	return LF_55B;
}

static const struct hv_family lf_family;

static int lf_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x1DB: return lf_1db(poll, m->data);
	case 0x55B: return lf_55b(poll, m->data);
	case 0x7BB: return hv_tp_frame(&lf_family, poll, m);
	default: return BMS_E_UNEXPECTED; /* the tester's requests on 0x79B, the car's frames */
	}
}

static const struct hv_family lf_family = {
	.check = lf_check,
	.frame = lf_frame,
	.need = 1u << LF_1DB | 1u << LF_55B,
	.answers = lf_answers,
	.nanswers = 1,
	.answer_id = 0x7BB,
};

HV_DRIVER_FUNCS(lf, lf_family)

static const struct bms_can lf_can = { .bitrate = 500000 }; /* every standard id: mask 0 */

const struct bms_driver bms_leaf_driver = {
	.name = "leaf",
	.description = "Nissan Leaf pack (AZE0, ZE1) on its EV-CAN, read listen only (0x1DB, 0x55B; cells "
		       "while another tester asks for group 2)",
	.vendor = "Nissan",
	.protocol_id = 80,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_ALARMS |
		    BMS_HAS_MOSFETS,
	HV_DRIVER_MEMBERS(lf),
	/* 0x1DB every 10 ms, 0x55B every 100 ms; a poll waits this long for
	 * a tester's group 2 answer */
	.default_timeout = 3.0,
	.can = &lf_can,
};
