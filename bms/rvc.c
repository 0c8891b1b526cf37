/* SPDX-License-Identifier: MIT */
/* bms/rvc.c - a battery on an RV-C bus (motorhomes, boats): the DC source
 * status it broadcasts at its J1939 source address, read listen only:
 * bmsgw never sends a frame on that bus (rvc).  EXPERIMENTAL until a
 * capture with identifiers is published: the layouts are the open RV-C
 * readers' (CoachProxy-OS's rvc-spec.yml, rvc2mqtt's, dbus-serialbattery's
 * RV-C driver), checked against the payloads of one Renogy REGO bank that
 * yarrumretep/dbus-rvc-renogy publishes (bms/PROTOCOLS.md §63).
 *
 * 250 kbit/s, 29-bit identifiers (priority, DGN, source address), little
 * endian, the layouts and scalings of bms/base/rvcdgn.c (the rvc inverter output
 * sends them with the same code):
 *	1FFFD DC_SOURCE_STATUS_1   voltage 0.05 V, current 0.001 A + 2e9,
 *	                           + = out of the battery (the readers negate
 *	                           it; the REGO's is negative while it charges;
 *	                           invert_current for a battery that sends
 *	                           + = charging)
 *	1FFFC DC_SOURCE_STATUS_2   temperature 0.03125 degC - 273, SOC 0.5 %
 *	1FFFB DC_SOURCE_STATUS_3   SOH 0.5 %, capacity remaining 1 Ah
 *	1FEC9 DC_SOURCE_STATUS_4   desired charge state ("do not charge": no
 *	                           charge current), voltage (the CVL), current
 *	                           0.05 A - 1600 A (the CCL)
 *	1FEC7 DC_SOURCE_STATUS_6   limits reached and disconnects: voltage,
 *	                           SOC, temperature, current
 *	1FEA5 DC_SOURCE_STATUS_11  charge / discharge bus connected, reserve
 *	                           level, full capacity 1 Ah
 * The pack's `address` is the battery's source address (0x8F unless set);
 * every other node's frames are passed over, and so are those of another
 * DC instance than the battery's (the one of the poll's first 1FFFC or
 * 1FEC9; the frames before it held until then).  A field "not available" is
 * left out.  A poll takes frames as jk-can does (bms_can_took()): whole
 * once 1FFFD and 1FFFC and the DGNs of the last whole poll arrived. */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"
#include "rvcdgn.h"

enum { RV_DC1, RV_DC2, RV_DC3, RV_DC4, RV_DC6, RV_DC11, RV_NSLOTS };

#define RV_BIT(k) (1u << (k))
#define RV_NEED (RV_BIT(RV_DC1) | RV_BIT(RV_DC2))
#define RV_ALL ((1u << RV_NSLOTS) - 1u)

static const uint32_t rv_dgns[RV_NSLOTS] = { RVC_DC1, RVC_DC2, RVC_DC3, RVC_DC4, RVC_DC6, RVC_DC11 };
/* the bytes each one's fields take (an RV-C frame has 8; DC6 reads bytes 2-4) */
static const uint8_t rv_min_dlc[RV_NSLOTS] = { 8, 7, 8, 8, 5, 7 };

/* The DC instance of this poll: that of its first 1FFFC or 1FEC9, which
 * only a battery sends (a shunt's second instance, a starter battery's
 * voltage, is 1FFFD alone); until it is known, the last frame of each other
 * DGN is held, and taken once it is if of that instance. */
struct rv_state {
	bool have;
	uint8_t instance;
	uint8_t held;                 /* bit k: held[k] holds a frame of slot k */
	uint8_t frame[RV_NSLOTS][8];
};

static enum bms_scan rv_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_can_scan(buf, len, n);
}

/* 1FFFD: a voltage is the least a battery gives; the current on the wire
 * is + out of the battery. */
static int rv_dc1(struct bms_poll *poll, const struct rvc_dc_raw *r)
{
	struct bms_snapshot *s = &poll->snap;
	float v = rvc_volt(r->voltage), i = -rvc_amp32(r->current);
	if (!isfinite(v) || v <= 0 || (isfinite(i) && fabsf(i) > BMS_PLAUSIBLE_MAX_A))
		return BMS_E_RANGE;
	s->voltage = v;
	s->present |= BMS_HAS_VOLTAGE;
	if (isfinite(i)) {
		s->current = poll->invert_current ? -i : i;
		s->present |= BMS_HAS_CURRENT;
	}
	return BMS_OK;
}

/* 1FFFC: the SOC is what an RV-C battery is read for. */
static int rv_dc2(struct bms_poll *poll, const struct rvc_dc_raw *r)
{
	struct bms_snapshot *s = &poll->snap;
	float soc = rvc_pct(r->soc), t = rvc_temp(r->temp);
	if (!isfinite(soc) || soc > 100)
		return BMS_E_RANGE;
	s->soc = soc;
	s->present |= BMS_HAS_SOC;
	if (isfinite(t)) { /* one outside -50..150 degC is kept: the gateway flags the sensor */
		s->temp_c[0] = t;
		s->ntemps = 1;
		s->present |= BMS_HAS_TEMPS;
	}
	return BMS_OK;
}

static void rv_dc3(struct bms_poll *poll, const struct rvc_dc_raw *r)
{
	struct bms_snapshot *s = &poll->snap;
	float soh = rvc_pct(r->soh), rem = rvc_u16(r->remain_ah);
	if (isfinite(soh) && soh <= 100) {
		s->soh = soh;
		s->present |= BMS_HAS_SOH;
	}
	if (isfinite(rem)) {
		s->remain_ah = rem;
		s->present |= BMS_HAS_REMAIN;
	}
}

/* 1FEC9: the battery's own charge limits; RV-C has no discharge limit. */
static void rv_dc4(struct bms_poll *poll, const struct rvc_dc_raw *r)
{
	struct bms_snapshot *s = &poll->snap;
	float cvl = rvc_volt(r->cvl), ccl = rvc_amp16(r->ccl);
	bool no_charge = r->charge_state == RVC_CS_DO_NOT_CHARGE;
	if (isfinite(ccl) || no_charge)
		bms_set_cur_limits(poll, no_charge || !isfinite(ccl) || ccl < 0 ? 0.0f : ccl, NAN, false);
	if (isfinite(cvl) && cvl > 0) {
		s->bms_cvl_v = cvl;
		s->bms_dvl_v = NAN;
		s->present |= BMS_HAS_VOLT_LIMITS;
	}
}

/* A 2-bit pair of DC_SOURCE_STATUS_6: the limit reached is a warning of
 * its alarm, the disconnect that alarm and a protection. */
static uint32_t rv_pair(uint8_t flags, unsigned bit, uint32_t alarm)
{
	uint32_t al = 0;
	if (rvc_state2(flags, bit) == 1)
		al |= alarm;
	if (rvc_state2(flags, bit + 2u) == 1)
		al |= alarm | BMS_AL_PROTECTION;
	return al;
}

/* 1FEC7 bytes 2-4: voltage, SOC, temperature and current. */
static void rv_dc6(struct bms_poll *poll, const struct rvc_dc_raw *r)
{
	struct bms_snapshot *s = &poll->snap;
	s->alarms |= rv_pair(r->dc6, RVC_DC6_HV_LIMIT, BMS_AL_PACK_OV) | rv_pair(r->dc6, RVC_DC6_LV_LIMIT, BMS_AL_PACK_UV) |
		     rv_pair(r->dc6_soc_temp, RVC_DC6_LIMIT, BMS_AL_SOC_LOW) |
		     rv_pair(r->dc6_soc_temp, RVC_DC6_LIMIT_HI, BMS_AL_CHG_UT | BMS_AL_DSG_UT) |
		     rv_pair(r->dc6_temp_cur, RVC_DC6_LIMIT, BMS_AL_CHG_OT | BMS_AL_DSG_OT) |
		     rv_pair(r->dc6_temp_cur, RVC_DC6_LIMIT_HI, BMS_AL_CHG_OC | BMS_AL_DSG_OC);
	s->raw_alarms[0] = (uint16_t)(r->dc6 | r->dc6_soc_temp << 8);
	s->raw_alarms[2] = r->dc6_temp_cur;
	s->nraw = 3;
	s->present |= BMS_HAS_ALARMS;
}

/* 1FEA5 byte 2: the buses connected (the BMS's switches), the reserve
 * level; the full capacity. */
static void rv_dc11(struct bms_poll *poll, const struct rvc_dc_raw *r)
{
	struct bms_snapshot *s = &poll->snap;
	int chg = rvc_state2(r->dc11, RVC_DC11_CHARGE), dsg = rvc_state2(r->dc11, RVC_DC11_DISCHARGE);
	float full = rvc_u16(r->full_ah);
	if (chg >= 0 && dsg >= 0) {
		s->chg_mos = chg == 1;
		s->dsg_mos = dsg == 1;
		s->present |= BMS_HAS_MOSFETS;
	}
	if (rvc_state2(r->dc11, RVC_DC11_RESERVE) == 1) {
		s->alarms |= BMS_AL_SOC_LOW;
		s->present |= BMS_HAS_ALARMS;
	}
	s->raw_alarms[1] = r->dc11;
	s->nraw = s->nraw > 2 ? s->nraw : 2;
	if (isfinite(full) && full > 0) {
		s->full_ah = full;
		s->present |= BMS_HAS_FULL;
	}
}

static int rv_decode(struct bms_poll *poll, int k, const uint8_t *d)
{
	struct rvc_dc_raw r;
	rvc_raw_na(&r);
	if (!rvc_get(rv_dgns[k], d, rv_min_dlc[k], &r))
		return BMS_E_SHORT;
	switch (k) {
	case RV_DC1:
		return rv_dc1(poll, &r);
	case RV_DC2:
		return rv_dc2(poll, &r);
	case RV_DC3:
		rv_dc3(poll, &r);
		return BMS_OK;
	case RV_DC4:
		rv_dc4(poll, &r);
		return BMS_OK;
	case RV_DC6:
		rv_dc6(poll, &r);
		return BMS_OK;
	default:
		rv_dc11(poll, &r);
		return BMS_OK;
	}
}

/* The battery's instance is known: the frames held of it are taken. */
static void rv_lock(struct bms_poll *poll, struct rv_state *st, uint8_t instance)
{
	st->have = true;
	st->instance = instance;
	for (int k = 0; k < RV_NSLOTS; k++) {
		if (!(st->held & RV_BIT(k)) || st->frame[k][0] != instance)
			continue;
		struct bms_can_msg m = { .ext = true, .dlc = 8 };
		memcpy(m.data, st->frame[k], 8);
		(void)bms_can_take(poll, k, &m, rv_min_dlc[k], rv_decode, RV_NEED);
	}
	st->held = 0;
}

static int rv_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_can_msg m;
	int rc = bms_can_parse(frame, len, &m);
	if (rc != BMS_OK)
		return rc;
	int k = -1;
	for (int i = 0; i < RV_NSLOTS && m.ext && !m.rtr; i++)
		if (rvc_id_dgn(m.id) == rv_dgns[i])
			k = i;
	if (k < 0 || rvc_id_sa(m.id) != poll->address)
		return BMS_E_UNEXPECTED; /* another node's, another DGN (a charger's, the claims) */
	struct rv_state *st = BMS_PRIV(poll, struct rv_state);
	if (m.dlc >= 1 && !st->have && k != RV_DC2 && k != RV_DC4) {
		if (m.dlc < rv_min_dlc[k])
			return BMS_E_UNEXPECTED; /* whose it is cannot be told yet: passed over */
		memcpy(st->frame[k], m.data, 8);
		st->held |= (uint8_t)RV_BIT(k);
		return BMS_MORE;
	}
	if (m.dlc >= 1 && !st->have)
		rv_lock(poll, st, m.data[0]);
	if (m.dlc >= 1 && m.data[0] != st->instance)
		return BMS_E_UNEXPECTED; /* another DC instance of the battery's node */
	return bms_can_take(poll, k, &m, rv_min_dlc[k], rv_decode, RV_NEED);
}

static bool rv_timeout(struct bms_poll *poll)
{
	return bms_can_usable(poll, RV_NEED);
}

static int rv_finish(struct bms_poll *poll)
{
	return bms_can_learn(poll, RV_NEED, RV_ALL);
}

static const struct bms_can rv_can = {
	.bitrate = 250000,
	.id = 0,
	.mask = 0x7FF, /* no standard frame: RV-C has none (id 0 is no battery's) */
	/* data page 1, PF 0xFE or 0xFF: the DC source DGNs among them */
	.ext_id = 0x01FE0000,
	.ext_mask = 0x01FE0000,
};

const struct bms_driver bms_rvc_driver = {
	.name = "rvc",
	.description = "a battery on an RV-C bus: its DC source status at its source address, read listen only "
		       "(DC_SOURCE_STATUS_1-4, 6, 11; experimental)",
	.vendor = "RV-C",
	.protocol_id = 54,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_CUR_LIMITS |
		BMS_HAS_VOLT_LIMITS,
	/* listen only: no request; the address is the battery's J1939 source address */
	BMS_CAN_LINK(0, 253),
	.default_address = 0x8F,
	.listen_only = true,
	.default_timeout = 3.0, /* 1FFFD-1FFFB every 500 ms, 1FEC9 every second */
	.scan = rv_scan,
	.handle = rv_handle,
	.timeout = rv_timeout,
	.finish = rv_finish,
	.can = &rv_can,
};
