/* SPDX-License-Identifier: MIT */
/* bms/growatt_ark_in.c - a Growatt ARK HV battery (ARK 2.5H-A1 / XH) read
 * listen only from the CAN bus to its Growatt inverter (growatt-ark-in):
 * the inverter speaks every second (0x3010 heartbeat, 0x3020 control,
 * 0x3030 time), the battery answers with its set, bmsgw hears both and
 * sends nothing.  The inverse of bmsgw's own growatt-hv-can output
 * (gateway/inverter/dialect/emu_growatt_hv_can.c, gateway/inverter/
 * PROTOCOLS.md §15).
 *
 * See bms/PROTOCOLS.md §99.  500 kbit/s, 29-bit identifiers, big-endian,
 * DLC 8; the layouts are "Growatt BMS CAN-Bus-protocol High Voltage V1.10"
 * as Battery-Emulator's GROWATT-HV-ARK-BATTERY (the inverter's side) and
 * GROWATT-HV-CAN (the battery's) quote it:
 *	0x3110 the charge voltage limit u16 0.1 V, the charge and discharge
 *	       current limit u16 0.1 A; b7 bits 0-1 the state (1 idle, 2
 *	       charging, 3 discharging), bit 2 a fault, bit 5 discharge and
 *	       bit 6 charge forbidden (that limit 0 A)
 *	0x3120 the protections and alarms (kept raw: their bits are not
 *	       public)
 *	0x3130 pack voltage u16 0.1 V, current s16 0.1 A (+ = charging), the
 *	       hottest cell s16 0.1 degC, SOC b6 %, SOH b7 bits 0-6 % (bit 7:
 *	       "unsafe use")
 *	0x3140 remaining and full capacity u16 10 mAh, "GT", cycles u16
 *	0x3150 the discharge voltage limit u16 0.1 V, the control unit's
 *	       temperature s16 0.1 degC, the cells, the modules in series
 *	0x3160 faults, where the highest and lowest cell are, the coldest
 *	       cell s16 b6-b7 0.1 degC
 *	0x3190 status b0, the highest and lowest cell u16 b1-b2, b3-b4 mV
 * 0x3170, 0x3180, 0x3200-0x3290 and 0x3F00 (positions, counts, names,
 * versions, the serial number, zeros) and the inverter's frames are not
 * read.  No cell list is on this bus.  A frame read shorter than 8 bytes
 * is dropped whole; a value no battery has refuses the poll.  A poll
 * needs 0x3130.
 */
#include "hvcan.h"

#include <math.h>

#include "drivers.h"

enum { GA_3130, GA_3110, GA_3120, GA_3140, GA_3150, GA_3160, GA_3190 };

/* What two frames give together, resolved once the poll is whole. */
enum { GA_HOT = 1, GA_COLD = 2 };
struct ga_state {
	int16_t hot, cold;     /* 0x3130's hottest, 0x3160's coldest, 0.1 degC */
	uint16_t cvl, dvl;     /* 0x3110's and 0x3150's voltage limits, 0.1 V (0: none) */
	uint8_t temps;         /* GA_HOT, GA_COLD heard */
};

static bool ga_read(uint32_t id)
{
	switch (id) {
	case 0x3110:
	case 0x3120:
	case 0x3130:
	case 0x3140:
	case 0x3150:
	case 0x3160:
	case 0x3190: return true;
	default: return false;
	}
}

static bool ga_check(const struct bms_can_msg *m)
{
	return !m->ext || !ga_read(m->id) || m->dlc == 8;
}

/* 0x3110: the limits, the forbidden marks, the state, the fault bit. */
static int ga_3110(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned cvl = bms_be16(d), ccl = bms_be16(d + 2), dcl = bms_be16(d + 4);
	if (cvl * 0.1 > BMS_PLAUSIBLE_MAX_V || ccl > 0x7FFF || dcl > 0x7FFF)
		return BMS_E_RANGE; /* neither an s16 (negative) nor a u16 (over 3276.7 A) limit of a battery */
	HV_FAM(poll, struct ga_state)->cvl = (uint16_t)cvl;
	bms_set_cur_limits(poll, (d[7] & 0x40) ? 0.0f : (float)ccl * 0.1f, (d[7] & 0x20) ? 0.0f : (float)dcl * 0.1f,
			   false);
	unsigned st = d[7] & 0x03u;
	if (st)
		s->state = (uint8_t)(st - 1u); /* 1 idle, 2 charging, 3 discharging */
	if (d[7] & 0x04)
		s->alarms |= BMS_AL_OTHER; /* the battery's fault */
	s->present |= BMS_HAS_ALARMS;
	return GA_3110;
}

static int ga_3120(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	for (unsigned i = 0; i < 4; i++)
		s->raw_alarms[i] = bms_be16(d + 2 * i);
	s->nraw = 4;
	s->present |= BMS_HAS_ALARMS;
	return GA_3120;
}

static int ga_3130(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soh = d[7] & 0x7Fu;
	if (d[6] > 100 || soh > 100)
		return BMS_E_RANGE;
	s->voltage = (float)bms_be16(d) * 0.1f;
	s->current = (float)bms_bes16(d + 2) * 0.1f;
	s->soc = d[6];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
	if (soh) {
		s->soh = (float)soh;
		s->present |= BMS_HAS_SOH;
	}
	if (d[7] & 0x80) {
		s->alarms |= BMS_AL_OTHER; /* "the battery is in unsafe use" */
		s->present |= BMS_HAS_ALARMS;
	}
	struct ga_state *g = HV_FAM(poll, struct ga_state);
	g->hot = bms_bes16(d + 4);
	g->temps |= GA_HOT;
	return GA_3130;
}

static int ga_3140(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned rem = bms_be16(d), full = bms_be16(d + 2), cycles = bms_be16(d + 6);
	if (full && rem > full)
		return BMS_E_RANGE;
	if (full) {
		s->remain_ah = (float)rem * 0.01f;
		s->full_ah = (float)full * 0.01f;
		s->present |= BMS_HAS_REMAIN | BMS_HAS_FULL;
	}
	if (cycles) { /* 0: not counted (an emulator's) */
		s->cycles = cycles;
		s->present |= BMS_HAS_CYCLES;
	}
	return GA_3140;
}

static int ga_3150(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	HV_FAM(poll, struct ga_state)->dvl = bms_be16(d);
	s->mos_temp_c = (float)bms_bes16(d + 2) * 0.1f; /* the control unit's */
	s->present |= BMS_HAS_MOS_TEMP;
	return GA_3150;
}

static int ga_3160(struct bms_poll *poll, const uint8_t *d)
{
	struct ga_state *g = HV_FAM(poll, struct ga_state);
	g->cold = bms_bes16(d + 6);
	g->temps |= GA_COLD;
	return GA_3160;
}

static int ga_3190(struct bms_poll *poll, const uint8_t *d)
{
	unsigned hi = bms_be16(d + 1), lo = bms_be16(d + 3);
	if (hi || lo) { /* 0 and 0: not given */
		if (lo > hi || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
		bms_set_cell_ext(&poll->snap, hi, 0, lo, 0);
	}
	return GA_3190;
}

static int ga_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	const uint8_t *d = m->data;
	if (!m->ext || !ga_read(m->id))
		return BMS_E_UNEXPECTED; /* the inverter's 0x3010-0x3030, the frames not read */
	switch (m->id) {
	case 0x3110: return ga_3110(poll, d);
	case 0x3120: return ga_3120(poll, d);
	case 0x3130: return ga_3130(poll, d);
	case 0x3140: return ga_3140(poll, d);
	case 0x3150: return ga_3150(poll, d);
	case 0x3160: return ga_3160(poll, d);
	default: return ga_3190(poll, d);
	}
}

/* The voltage limits (0x3110's CVL above 0x3150's DVL) and the hottest
 * and coldest cell (0x3130, 0x3160: the coldest not above the hottest),
 * also as the two sensors; two frames that disagree refuse the poll
 * (BMS_E_INVALID, as a finish() says it). */
static int ga_derive(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct ga_state *g = HV_FAM(poll, struct ga_state);
	if (g->cvl) {
		if (g->dvl && g->dvl >= g->cvl)
			return BMS_E_INVALID;
		s->bms_cvl_v = (float)g->cvl * 0.1f;
		s->bms_dvl_v = g->dvl ? (float)g->dvl * 0.1f : NAN;
		s->present |= BMS_HAS_VOLT_LIMITS;
	}
	float t[2];
	unsigned n = 0;
	if (g->temps & GA_HOT)
		t[n++] = (float)g->hot * 0.1f;
	if (g->temps & GA_COLD)
		t[n++] = (float)g->cold * 0.1f;
	if (n == 2 && t[1] > t[0])
		return BMS_E_INVALID;
	if (n)
		hv_temps(s, t, n);
	return BMS_OK;
}

static const struct hv_family ga_family = {
	.check = ga_check,
	.frame = ga_frame,
	.finish = ga_derive,
	.need = 1u << GA_3130,
};

HV_DRIVER_FUNCS(ga, ga_family)

/* the extended ids 0x3000 ... 0x3FFF (the inverter's 0x3010-0x3030, the
 * battery's 0x3110-0x3290, 0x3F00) */
static const struct bms_can ga_can = { .bitrate = 500000, .id = 0x7FF, .mask = 0x7FF, .ext_id = 0x3000,
				       .ext_mask = 0x1FFFF000 };

const struct bms_driver bms_growatt_ark_in_driver = {
	.name = "growatt-ark-in",
	.description = "Growatt ARK HV battery (ARK 2.5H-A1 / XH) heard on its Growatt inverter's bus, listen only "
		       "(0x3110-0x3190; no cell list)",
	.vendor = "Growatt",
	.protocol_id = 94,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		    BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS | BMS_HAS_CELL_EXT |
		    BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	HV_DRIVER_MEMBERS(ga),
	/* the battery answers every second once the inverter has spoken */
	.default_timeout = 3.0,
	.can = &ga_can,
};
