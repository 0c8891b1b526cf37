/* SPDX-License-Identifier: MIT */
/* bms/pylon_hv_can.c - a Pylontech HV / Force-H battery (or one speaking
 * its protocol) answering its inverter on CAN, read listen only: bmsgw
 * never sends a frame on that bus (pylon-hv-can).
 *
 * See bms/PROTOCOLS.md §42.  500 kbit/s, 29-bit identifiers, little-endian
 * fields.  The inverter asks (0x4200) about once a second; the battery
 * answers with its group, the identifiers' last nibble its address (0 or
 * 1: the pack's `address`, default 0):
 *	0x4210 voltage 0.1 V, current 0.1 A + 30000 (+ = charging),
 *	       temperature 0.1 degC + 1000, SOC %, SOH %
 *	0x4220 charge / discharge cut-off voltage 0.1 V, max charge current
 *	       30000 + 0.1 A, max discharge current 30000 - 0.1 A
 *	0x4240 highest and lowest cell temperature (0.1 degC + 1000), numbers
 *	0x4250 status, error bits, alarm bits, protection bits
 *	0x4280 charge / discharge forbidden (0xAA)
 *	0x7320 cells, modules, cells a module, voltage level, capacity Ah
 *	0x7330 / 0x7340 maker, 8 + 8 ASCII
 * 0x4230 (highest and lowest cell) is no cell list: not read.  No real
 * battery's whole answer is public (one real 0x4220, PYLONHV-01): the
 * layout is the open implementations' (§42), marked there.
 *
 * A poll takes frames as jk-can does (bms_can_took(): complete when 0x4210
 * and every slot the battery was heard sending arrived; the first poll
 * listens for the whole wait; a refused frame fails the poll).
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

enum { PH_4210, PH_4220, PH_4240, PH_4250, PH_4280, PH_7320, PH_7330, PH_7340, PH_NSLOTS };

#define PH_BIT(k) (1u << (k))
#define PH_NEED PH_BIT(PH_4210)
#define PH_ALL ((1u << PH_NSLOTS) - 1u)
#define PH_FORBIDDEN 0xAA
#define PH_OFFSET_A 30000
#define PH_OFFSET_C 1000

static const uint16_t ph_ids[PH_NSLOTS] = { 0x4210, 0x4220, 0x4240, 0x4250, 0x4280, 0x7320, 0x7330, 0x7340 };
static const uint8_t ph_min_dlc[PH_NSLOTS] = { 8, 8, 4, 8, 2, 8, 1, 1 };

/* The driver's state of a poll: 0x4280's marks (bit 0 charge, bit 1
 * discharge forbidden), the maker's two halves. */
struct ph_state {
	uint8_t forbid;
	char maker[16];
};

static enum bms_scan ph_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_can_scan(buf, len, n);
}

static int ph_slot(const struct bms_can_msg *m)
{
	if (!m->ext || m->rtr)
		return -1;
	for (int k = 0; k < PH_NSLOTS; k++)
		if (ph_ids[k] == (m->id & ~0xFu))
			return k;
	return -1;
}

static float dec_temp(const uint8_t *p)
{
	return (float)((int)bms_le16(p) - PH_OFFSET_C) / 10.0f;
}

/* 0x4210. */
static int dec_4210(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	if (bms_le16(d) == 0 || d[6] > 100 || d[7] > 100)
		return BMS_E_RANGE;
	float cur = (float)((int)bms_le16(d + 2) - PH_OFFSET_A) / 10.0f;
	s->voltage = (float)bms_le16(d) / 10.0f;
	s->current = poll->invert_current ? -cur : cur;
	s->temp_c[0] = dec_temp(d + 4); /* the BMS's own sensor; out of range: flagged by the gateway */
	s->ntemps = s->ntemps ? s->ntemps : 1;
	s->soc = d[6];
	s->soh = d[7];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS;
	return BMS_OK;
}

/* 0x4220: the battery's limits (a forbidden direction: 0 A, 0x4280). */
static int dec_4220(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	float cvl = (float)bms_le16(d) / 10.0f, dvl = (float)bms_le16(d + 2) / 10.0f;
	/* the discharge limit's sign varies between emitters: its magnitude */
	float ccl = (float)((int)bms_le16(d + 4) - PH_OFFSET_A) / 10.0f;
	float dcl = fabsf((float)((int)bms_le16(d + 6) - PH_OFFSET_A) / 10.0f);
	if (ccl > BMS_PLAUSIBLE_MAX_A || dcl > BMS_PLAUSIBLE_MAX_A)
		return BMS_E_RANGE;
	s->bms_ccl_a = ccl > 0 ? ccl : 0.0f;
	s->bms_dcl_a = dcl;
	s->present |= BMS_HAS_CUR_LIMITS;
	if (cvl > 0) {
		s->bms_cvl_v = cvl;
		s->bms_dvl_v = dvl > 0 && dvl < cvl ? dvl : NAN;
		s->present |= BMS_HAS_VOLT_LIMITS;
	}
	return BMS_OK;
}

/* 0x4250's alarm and protection bits [impl, DIY / B2I]: 0 cell low V, 1
 * cell high V, 2 pile low V, 3 pile high V, 4 charge low T, 5 charge high
 * T, 6 discharge low T, 7 discharge high T, 8 charge over-current, 9
 * discharge over-current, 10 module low V, 11 module high V. */
static const uint32_t ph_bits[12] = {
	BMS_AL_CELL_UV, BMS_AL_CELL_OV, BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_CHG_UT, BMS_AL_CHG_OT,
	BMS_AL_DSG_UT, BMS_AL_DSG_OT, BMS_AL_CHG_OC, BMS_AL_DSG_OC, BMS_AL_PACK_UV, BMS_AL_PACK_OV,
};

static uint32_t ph_level(uint16_t w)
{
	uint32_t al = 0;
	for (unsigned b = 0; b < 16; b++)
		if (w & (1u << b))
			al |= b < 12 ? ph_bits[b] : BMS_AL_OTHER;
	return al;
}

static void dec_4250(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint16_t warn = bms_le16(d + 4), prot = bms_le16(d + 6);
	uint8_t err = d[3];
	s->alarms = ph_level(warn) | ph_level(prot);
	if (prot)
		s->alarms |= BMS_AL_PROTECTION;
	/* error bits: 0 voltage sensor, 1 temperature sensor, 2 internal
	 * communication, 5 relay check, 6 battery damaged; the others */
	if (err & 0x03)
		s->alarms |= BMS_AL_HW_FAULT;
	if (err & 0x04)
		s->alarms |= BMS_AL_COMM;
	if (err & 0x60)
		s->alarms |= BMS_AL_HW_FAULT;
	if (err & 0x98)
		s->alarms |= BMS_AL_OTHER;
	unsigned st = d[0] & 7u;
	s->state = st == 1 ? 1 : st == 2 ? 2 : 0;
	s->raw_alarms[0] = warn;
	s->raw_alarms[1] = prot;
	s->raw_alarms[2] = (uint16_t)(d[0] | err << 8);
	s->nraw = 3;
	s->present |= BMS_HAS_ALARMS;
}

static int ph_decode(struct bms_poll *poll, int k, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	struct ph_state *st = BMS_PRIV(poll, struct ph_state);
	switch (k) {
	case PH_4210:
		return dec_4210(poll, d);
	case PH_4220:
		return dec_4220(poll, d);
	case PH_4240:
		s->temp_c[1] = dec_temp(d);
		s->temp_c[2] = dec_temp(d + 2);
		s->ntemps = 3;
		s->present |= BMS_HAS_TEMPS;
		return BMS_OK;
	case PH_4250:
		dec_4250(poll, d);
		return BMS_OK;
	case PH_4280:
		st->forbid = (uint8_t)((d[0] == PH_FORBIDDEN ? 1u : 0u) | (d[1] == PH_FORBIDDEN ? 2u : 0u));
		return BMS_OK;
	case PH_7320:
		if (bms_le16(d) == 0 || bms_le16(d) > 1000)
			return BMS_E_RANGE;
		s->full_ah = (float)bms_le16(d + 6);
		if (s->full_ah > 0)
			s->present |= BMS_HAS_FULL;
		return BMS_OK;
	default: /* the maker's name, 0x7330 then 0x7340 */
		memcpy(st->maker + (k == PH_7340 ? 8 : 0), d, 8);
		return BMS_OK;
	}
}

static int ph_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_can_msg m;
	int rc = bms_can_parse(frame, len, &m);
	if (rc != BMS_OK)
		return rc;
	int k = ph_slot(&m);
	if (k < 0 || (m.id & 0xFu) != poll->address)
		return BMS_E_UNEXPECTED; /* the inverter's requests, another battery */
	return bms_can_take(poll, k, &m, ph_min_dlc[k], ph_decode, PH_NEED);
}

static bool ph_timeout(struct bms_poll *poll)
{
	return bms_can_usable(poll, PH_NEED);
}

static int ph_finish(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	if (bms_can_learn(poll, PH_NEED, PH_ALL) != BMS_OK)
		return BMS_E_INVALID;
	const struct ph_state *st = BMS_PRIV(poll, struct ph_state);
	/* a forbidden direction allows 0 A, whatever 0x4220 says; without
	 * 0x4220 the other one has no limit of the battery's (the highest a
	 * snapshot holds), not 0 A */
	if (st->forbid || (s->present & BMS_HAS_CUR_LIMITS)) {
		bool lim = (s->present & BMS_HAS_CUR_LIMITS) != 0;
		float none = (float)BMS_PLAUSIBLE_MAX_A;
		float ccl = lim ? s->bms_ccl_a : none, dcl = lim ? s->bms_dcl_a : none;
		bms_set_cur_limits(poll, (st->forbid & 1) ? 0.0f : ccl, (st->forbid & 2) ? 0.0f : dcl, false);
	}
	struct bms_ident id;
	memset(&id, 0, sizeof(id));
	bms_ident_text(id.vendor, sizeof(id.vendor), (const uint8_t *)st->maker, 16);
	if (bms_ident_any(&id)) {
		poll->kept.ident = id;
		poll->kept.ident_state = BMS_IDENT_HAVE;
	}
	return BMS_OK;
}

static const struct bms_can ph_can = {
	.bitrate = 500000,
	.id = 0,
	.mask = 0x7FF, /* no standard frame */
	/* 0x42x0 / 0x73x0 and their address nibble (0x4200 too: passed over) */
	.ext_id = 0x4000,
	.ext_mask = 0x1FFF8000,
};

const struct bms_driver bms_pylon_hv_can_driver = {
	.name = "pylon-hv-can",
	.description = "a battery answering its inverter in Pylontech HV / Force-H CAN, read listen only "
		       "(0x4210-0x4280, 0x7320; SocketCAN or an slcan adapter)",
	.vendor = "Pylontech HV CAN",
	.protocol_id = 34,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_FULL | BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	/* addresses: the last nibble of the battery's identifiers */
	BMS_CAN_LINK(0, 1),
	/* the inverter asks about once a second */
	.default_timeout = 3.0,
	.listen_only = true,
	.next_request = NULL,
	.scan = ph_scan,
	.handle = ph_handle,
	.timeout = ph_timeout,
	.finish = ph_finish,
	.can = &ph_can,
};
