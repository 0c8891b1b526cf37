/* SPDX-License-Identifier: MIT */
/* bms/byd_hvs_in.c - a BYD Battery-Box Premium HVS / HVM read listen only
 * from the CAN bus to its inverter (byd-hvs-in): the battery sends its
 * frames on its own schedule once the inverter has spoken, bmsgw hears
 * them and sends nothing.  The inverse of bmsgw's own byd-hvs-can output
 * (gateway/inverter/dialect/emu_byd_hvs_can.c, gateway/inverter/
 * PROTOCOLS.md §9).
 *
 * See bms/PROTOCOLS.md §96.  500 kbit/s, 11-bit identifiers, big-endian,
 * DLC 8; the layouts are SunshadeCorp/can-service's (an emulator written
 * from a two-channel recording of a real HVS and its inverter) and
 * Battery-Emulator's BYD-CAN, which took them over:
 *	0x110 (every 2 s) the charge voltage limit u16 0.1 V, the discharge
 *	      voltage limit u16 0.1 V, the discharge current limit s16 0.1 A,
 *	      the charge current limit s16 0.1 A
 *	0x150 (10 s) SOC u16 0.01 %, SOH u16 0.01 %, remaining and full
 *	      capacity u16 0.1 Ah (0: not given)
 *	0x1D0 (10 s) pack voltage u16 0.1 V, current s16 0.1 A (+ =
 *	      charging), temperature s16 0.1 degC, `03 08`
 *	0x210 (10 s) the highest and lowest cell temperature s16 0.1 degC
 * 0x190 (alarms whose bits nobody has decoded), the identification (0x250,
 * 0x290, 0x2D0, 0x3D0) and the inverter's frames (0x091, 0x0D1, 0x111,
 * 0x151, 0x191) are not read.  No cell is on this bus.  A frame of the
 * battery's shorter than 8 bytes is dropped whole; a value no battery has
 * (an SOC or SOH above 100 %, a charge voltage limit not above the
 * discharge one, a negative current limit, a lowest temperature above the
 * highest, more remaining than full) refuses the poll.  A poll needs 0x1D0;
 * a learning poll listens 12 s (the 10 s frames).
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { BH_1D0, BH_110, BH_150, BH_210 };

struct bh_state {
	float tavg;   /* 0x1D0's temperature */
	bool t210;    /* 0x210 heard */
};

static bool bh_check(const struct bms_can_msg *m)
{
	if (m->ext)
		return true;
	switch (m->id) {
	case 0x110:
	case 0x150:
	case 0x1D0:
	case 0x210: return m->dlc == 8;
	default: return true;
	}
}

static int bh_110(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	float cvl = (float)bms_be16(d) * 0.1f, dvl = (float)bms_be16(d + 2) * 0.1f;
	int dcl = bms_bes16(d + 4), ccl = bms_bes16(d + 6);
	if (!(cvl > dvl) || cvl > BMS_PLAUSIBLE_MAX_V || dcl < 0 || ccl < 0)
		return BMS_E_RANGE;
	s->bms_cvl_v = cvl;
	s->bms_dvl_v = dvl > 0 ? dvl : NAN;
	s->present |= BMS_HAS_VOLT_LIMITS;
	bms_set_cur_limits(poll, (float)ccl * 0.1f, (float)dcl * 0.1f, false);
	return BH_110;
}

static int bh_150(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soc = bms_be16(d), soh = bms_be16(d + 2), rem = bms_be16(d + 4), full = bms_be16(d + 6);
	if (soc > 10000 || soh > 10000 || (full && rem > full))
		return BMS_E_RANGE;
	s->soc = (float)soc / 100.0f;
	s->present |= BMS_HAS_SOC;
	if (soh) {
		s->soh = (float)soh / 100.0f;
		s->present |= BMS_HAS_SOH;
	}
	if (full) {
		s->remain_ah = (float)rem * 0.1f;
		s->full_ah = (float)full * 0.1f;
		s->present |= BMS_HAS_REMAIN | BMS_HAS_FULL;
	}
	return BH_150;
}

static int bh_1d0(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	s->voltage = (float)bms_be16(d) * 0.1f;
	s->current = (float)bms_bes16(d + 2) * 0.1f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	HV_FAM(poll, struct bh_state)->tavg = (float)bms_bes16(d + 4) * 0.1f;
	return BH_1D0;
}

static int bh_210(struct bms_poll *poll, const uint8_t *d)
{
	float t[2] = { (float)bms_bes16(d) * 0.1f, (float)bms_bes16(d + 2) * 0.1f };
	if (t[1] > t[0])
		return BMS_E_RANGE;
	hv_temps(&poll->snap, t, 2); /* the highest and lowest as the sensors */
	HV_FAM(poll, struct bh_state)->t210 = true;
	return BH_210;
}

static int bh_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	if (m->ext)
		return BMS_E_UNEXPECTED;
	switch (m->id) {
	case 0x110: return bh_110(poll, m->data);
	case 0x150: return bh_150(poll, m->data);
	case 0x1D0: return bh_1d0(poll, m->data);
	case 0x210: return bh_210(poll, m->data);
	default: return BMS_E_UNEXPECTED; /* 0x190, the identification, the inverter's */
	}
}

/* Without 0x210, 0x1D0's temperature is the one sensor. */
static int bh_derive(struct bms_poll *poll)
{
	const struct bh_state *b = HV_FAM(poll, struct bh_state);
	if (!b->t210)
		hv_temps(&poll->snap, &b->tavg, 1);
	return BMS_OK;
}

static const struct hv_family bh_family = {
	.check = bh_check,
	.frame = bh_frame,
	.finish = bh_derive,
	.need = 1u << BH_1D0,
};

HV_DRIVER_FUNCS(bh, bh_family)

static const struct bms_can bh_can = { .bitrate = 500000 }; /* every standard id: mask 0 */

const struct bms_driver bms_byd_hvs_in_driver = {
	.name = "byd-hvs-in",
	.description = "BYD Battery-Box Premium HVS / HVM heard on its inverter's CAN bus, listen only (0x110, 0x150, "
		       "0x1D0, 0x210; no cell list)",
	.vendor = "BYD",
	.protocol_id = 91,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		    BMS_HAS_FULL | BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	HV_DRIVER_MEMBERS(bh),
	/* 0x150, 0x1D0 and 0x210 come every 10 s */
	.default_timeout = 12.0,
	.can = &bh_can,
};
