/* SPDX-License-Identifier: MIT */
/* bms/pylontech.c - Pylontech US2000/US3000/US5000 RS485 protocol V3.3.
 *
 * bms/PROTOCOLS.md §8 (framing, shared with topbms and seplos:
 * bms/base/pylonframe.c) and §9 (payloads).  A poll sends, to ADR = `address`,
 * with VER 0x20 and INFO = one byte command value = ADR:
 *	0x42 analog values:  cells, temperatures, current, voltage, capacities
 *	0x44 alarm info:     state bytes, Status1..5 (MOSFETs, direction, faults)
 *	0x92 management info: charge / discharge voltage and current limits,
 *			     charge / discharge enable (§9.4)
 * e.g. ~20024642E00202FD33\r.  Several packs share one RS485 port and are
 * polled in turn, one address at a time.
 *
 * Addresses: master module 0x02, slaves 0x03..0x0D; in a multi-group system
 * ADR = 0x10 * group + module (bms/PROTOCOLS.md §9.1).  ADR 0/1 do not
 * answer.
 *
 * 0x42 answer INFO: INFOFLAG, command value (= ADR) or, when the answer covers
 * several modules (system query), their count, then per module:
 *	M, M x cell mV (u16), N, N x temperature (u16 0.1 K; the first is the
 *	BMS board), current (s16 100 mA, + = charge), voltage (u16 mV),
 *	remaining capacity (u16 mAh), P (user-defined count):
 *	P = 2: total capacity (u16 mAh), cycles (u16)
 *	P = 4: the same with the u16 capacities 0xFFFF, then remaining and total
 *	       capacity as u24 mAh (modules above 65 Ah)
 * SOC is not transmitted: it is remaining / total (as Pylontech's own tools
 * compute it).  No SOH, no balancing, no MOSFET temperature.
 *
 * 0x44 answer INFO: DATAFLAG, command value, M, M cell state bytes, N, N
 * temperature state bytes, charge-current state, module-voltage state,
 * discharge-current state, Status1..Status5 (US2000C sends one more byte).
 * State bytes: 00 normal, 01 below the lower limit, 02 above the upper
 * limit, F0 other error.
 *	Status1: b7 module UV, b6 charge OT, b5 discharge OT, b4 discharge OC,
 *		 b2 charge OC, b1 cell UV, b0 module OV (protections)
 *	Status2: b3 using battery power, b2 discharge MOSFET on, b1 charge
 *		 MOSFET on, b0 pre-charge MOSFET
 *	Status3: b7 effective charge current, b6 effective discharge current,
 *		 b5 heater, b3 fully charged, b0 buzzer
 *	Status4/5: cell 1-8 / 9-16 voltage error
 * raw_alarms[]: [0] Status1 << 8 | Status2, [1] Status3 << 8 | Status4,
 *	[2] Status5 << 8 | charge-current state,
 *	[3] module-voltage state << 8 | discharge-current state.
 *
 * 0x92 answer INFO (no DATAFLAG): command value (= ADR), charge voltage
 * limit (u16 mV), discharge voltage limit (u16 mV), charge current limit
 * (s16 100 mA), discharge current limit (s16 100 mA; real packs send it
 * negative, so its magnitude is taken), status: b7 charge enable, b6
 * discharge enable (0 = "request stop": that limit reads 0 A), b5/b4
 * charge immediately, b3 full charge request (not kept).  Asked every poll
 * (the limits are live values).  A pack that refuses the command ("CID2
 * invalid") or has never answered it is not failed for it: the step ends
 * without limits and the command is asked again only on refresh polls;
 * once a pack has answered it, a missing answer fails the try as usual.
 *
 * 0x47 system parameters (the BMS's own settings, §9.6): asked only in a
 * poll the gateway marks settings_due (the first, after a reconnect, every
 * 10 minutes), after 0x92, INFO = ADR; its answer INFO: INFOFLAG,
 * then 12 u16: cell high / low / under voltage limit (mV), charge high /
 * low temperature limit (0.1 K), charge current limit, module high / low /
 * under voltage limit (mV), discharge high / low temperature limit,
 * discharge current limit.  A pack that refuses or ignores it is not failed
 * for it: the poll ends without it.
 *
 * Progress in struct bms_poll: step = index into pyl_steps[];
 * persist PYL_P_MGMT_OK (0x92 answered), PYL_P_MGMT_NONE (refused or never
 * answered: asked on refresh polls only).
 */
#include "bms.h"
#include "bus.h"

#include <string.h>

#include "drivers.h"
#include "pylonframe.h"

#define PYL_VER 0x20
#define PYL_MIN_ADR 0x02
#define PYL_MAX_ADR 0xFD        /* group 15, module 0x0D */
#define PYL_MODULE_MIN 0x02     /* low nibble of ADR */
#define PYL_MODULE_MAX 0x0D
#define PYL_KELVIN_DK 2731      /* 0 degC in 0.1 K */
#define PYL_P_SHORT 2           /* user-defined count: u16 capacities */
#define PYL_P_LONG 4            /* user-defined count: + u24 capacities */
#define PYL_44_SLACK 4          /* bytes an alarm answer may carry beyond Status5 */
#define PYL_92_SLACK 4          /* ... and a management answer beyond its status byte */
#define PYL_RTN_CID2_INVALID 0x04
#define PYL_MGMT_CHG_EN 0x80    /* 0x92 status: charge enable */
#define PYL_MGMT_DSG_EN 0x40    /* discharge enable */
#define PYL_P_MGMT_OK 0x1u      /* persist: the pack has answered 0x92 */
#define PYL_P_MGMT_NONE 0x2u    /* it refused 0x92 or never answered it */

enum {
	PYL_ANALOG = 0x42,
	PYL_ALARM = 0x44,
	PYL_MGMT = 0x92,
	PYL_PARAM = 0x47,
};

static const uint8_t pyl_steps[] = { PYL_ANALOG, PYL_ALARM, PYL_MGMT, PYL_PARAM };
#define PYL_NSTEPS ((int)(sizeof(pyl_steps) / sizeof(pyl_steps[0])))

#define L2 BMS_AL_PROTECTION
/* Status1 bit n -> alarms (b3 undefined) */
static const uint32_t pyl_status1[8] = {
	BMS_AL_PACK_OV | L2, BMS_AL_CELL_UV | L2, BMS_AL_CHG_OC | L2, 0,
	BMS_AL_DSG_OC | L2, BMS_AL_DSG_OT | L2, BMS_AL_CHG_OT | L2, BMS_AL_PACK_UV | L2,
};
#undef L2

static bool pyl_valid_adr(uint8_t adr)
{
	unsigned module = adr & 0x0Fu;
	return adr >= PYL_MIN_ADR && adr <= PYL_MAX_ADR && module >= PYL_MODULE_MIN &&
	       module <= PYL_MODULE_MAX;
}

/* Is step cmd left out of this poll?  0x92 for a pack that does not answer
 * it, except on refresh polls; 0x47 unless the settings are due. */
static bool pyl_skipped(const struct bms_poll *poll, uint8_t cmd)
{
	if (cmd == PYL_MGMT)
		return (poll->persist & PYL_P_MGMT_NONE) && !poll->refresh;
	if (cmd == PYL_PARAM)
		return !poll->settings_due;
	return false;
}

/* The command of the current step; 0 when the poll is complete. */
static uint8_t pyl_cur(const struct bms_poll *poll)
{
	if (poll->step < 0 || poll->step >= PYL_NSTEPS)
		return 0;
	uint8_t cmd = pyl_steps[poll->step];
	return pyl_skipped(poll, cmd) ? 0 : cmd;
}

/* The step is done: on to the next one this poll asks. */
static void pyl_next(struct bms_poll *poll)
{
	poll->step++;
	while (poll->step < PYL_NSTEPS && pyl_skipped(poll, pyl_steps[poll->step]))
		poll->step++;
}

static int pyl_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t adr = poll->address;

	if (!pyl_valid_adr(adr))
		return BMS_E_RANGE;
	if (poll->step < 0)
		return BMS_E_RANGE;
	uint8_t cmd = pyl_cur(poll);
	if (cmd == 0)
		return 0;
	return bms_pylonframe_build(out, cap, PYL_VER, adr, BMS_PYLONFRAME_CID1_BATTERY, cmd, &adr, 1);
}

static enum bms_scan pyl_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_pylonframe_scan(buf, len, n);
}

/* One module record of a 0x42 answer into s.  BMS_OK, BMS_E_SHORT or
 * BMS_E_RANGE (cell count beyond BMS_LV_MAX_CELLS, unknown user-defined count). */
static int pyl_analog_module(struct bms_pylonframe_rd *r, struct bms_snapshot *s,
			     const struct bms_poll *poll)
{
	struct bms_pylonframe_analog a;
	uint32_t remain, total;

	int rc = bms_pylonframe_analog(r, &a);
	if (rc != BMS_OK)
		return rc;
	unsigned m = a.ncells, nt = a.ntemps, p = a.p;
	memcpy(s->cell_mv, a.cell_mv, m * sizeof(a.cell_mv[0]));
	for (unsigned i = 0; i < nt && i < BMS_MAX_TEMPS; i++)
		s->temp_c[i] = (float)((int)a.temp[i] - PYL_KELVIN_DK) / 10.0f;
	int16_t cur = a.current;
	uint16_t mv = a.voltage;
	remain = a.remain;
	if (p != PYL_P_SHORT && p != PYL_P_LONG)
		return BMS_E_RANGE;
	total = bms_pylonframe_u16(r);
	s->cycles = bms_pylonframe_u16(r);
	if (p == PYL_P_LONG) {
		remain = bms_pylonframe_u24(r);
		total = bms_pylonframe_u24(r);
	}
	if (r->bad)
		return BMS_E_SHORT;

	s->ncells = (uint8_t)m;
	if (poll->cells_forced && poll->cells_forced < m)
		s->ncells = poll->cells_forced;
	s->ntemps = (uint8_t)(nt < BMS_MAX_TEMPS ? nt : BMS_MAX_TEMPS);
	s->current = (float)cur / 10.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)mv / 1000.0f;
	s->remain_ah = (float)remain / 1000.0f;
	s->full_ah = (float)total / 1000.0f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_FULL |
		      BMS_HAS_CYCLES | BMS_HAS_CELLS | (s->ntemps ? BMS_HAS_TEMPS : 0);
	if (total > 0) {
		s->soc = remain >= total ? 100.0f : (float)((double)remain * 100.0 / (double)total);
		s->present |= BMS_HAS_SOC;
	}
	return BMS_OK;
}

static int pyl_analog(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_pylonframe_rd r;
	struct bms_snapshot s = poll->snap, skip;
	int idx, rc;

	bms_pylonframe_rd_init(&r, info, ninfo);
	(void)bms_pylonframe_u8(&r); /* INFOFLAG */
	uint8_t b = bms_pylonframe_u8(&r);
	if (r.bad)
		return BMS_E_SHORT;
	/* a system answer lists the modules of the group from the master (x2) */
	idx = bms_pylonframe_pack_index(b, poll->address, (poll->address & 0x0Fu) - PYL_MODULE_MIN);
	if (idx < 0)
		return idx;
	for (int k = 0; k < idx; k++) {
		memset(&skip, 0, sizeof(skip));
		rc = pyl_analog_module(&r, &skip, poll);
		if (rc < 0)
			return rc;
	}
	rc = pyl_analog_module(&r, &s, poll);
	if (rc < 0)
		return rc;
	poll->snap = s;
	return BMS_OK;
}

static int pyl_alarm(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_snapshot *s = &poll->snap;
	struct bms_pylonframe_rd r;
	uint32_t al = 0;
	uint8_t st[5], chg, volt, dsg;
	unsigned m, nt;

	bms_pylonframe_rd_init(&r, info, ninfo);
	(void)bms_pylonframe_u8(&r); /* DATAFLAG */
	uint8_t b = bms_pylonframe_u8(&r);
	if (r.bad)
		return BMS_E_SHORT;
	/* Records of a system answer have no known length: only the first
	 * (the group master's) can be read. */
	int idx = bms_pylonframe_pack_index(b, poll->address, (poll->address & 0x0Fu) - PYL_MODULE_MIN);
	if (idx < 0)
		return idx;
	if (idx > 0)
		return BMS_E_UNEXPECTED;
	m = bms_pylonframe_u8(&r);
	for (unsigned i = 0; i < m && !r.bad; i++)
		al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(&r), BMS_AL_CELL_UV, BMS_AL_CELL_OV,
						 BMS_AL_OTHER);
	nt = bms_pylonframe_u8(&r);
	for (unsigned i = 0; i < nt && !r.bad; i++)
		al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(&r), BMS_AL_CHG_UT | BMS_AL_DSG_UT,
						 BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_SENSOR);
	chg = bms_pylonframe_u8(&r);
	volt = bms_pylonframe_u8(&r);
	dsg = bms_pylonframe_u8(&r);
	for (int i = 0; i < 5; i++)
		st[i] = bms_pylonframe_u8(&r);
	if (r.bad)
		return BMS_E_SHORT;
	/* far longer than an alarm answer: a late analog answer */
	if (bms_pylonframe_left(&r) > PYL_44_SLACK)
		return BMS_E_UNEXPECTED;

	al |= bms_pylonframe_state_alarm(chg, BMS_AL_OTHER, BMS_AL_CHG_OC, BMS_AL_OTHER);
	al |= bms_pylonframe_state_alarm(volt, BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_OTHER);
	al |= bms_pylonframe_state_alarm(dsg, BMS_AL_OTHER, BMS_AL_DSG_OC, BMS_AL_OTHER);
	for (int bit = 0; bit < 8; bit++)
		if (st[0] & (1u << bit))
			al |= pyl_status1[bit];
	if (st[3] || st[4])
		al |= BMS_AL_OTHER; /* cell voltage errors */

	s->alarms = al;
	s->nraw = 4;
	s->raw_alarms[0] = (uint16_t)(st[0] << 8 | st[1]);
	s->raw_alarms[1] = (uint16_t)(st[2] << 8 | st[3]);
	s->raw_alarms[2] = (uint16_t)(st[4] << 8 | chg);
	s->raw_alarms[3] = (uint16_t)(volt << 8 | dsg);
	s->chg_mos = (st[1] & 0x02) != 0;
	s->dsg_mos = (st[1] & 0x04) != 0;
	s->state = (st[2] & 0x80) ? 1 : (st[2] & 0x40) ? 2 : 0;
	s->present |= BMS_HAS_ALARMS | BMS_HAS_MOSFETS;
	return BMS_OK;
}

/* The 0x92 answer: limits into the snapshot. */
static int pyl_mgmt(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_snapshot *s = &poll->snap;
	struct bms_pylonframe_rd r;

	/* no DATAFLAG: the command value comes first (a late 0x44 answer
	 * starts with its DATAFLAG, never a module address) */
	if (ninfo > 0 && info[0] != poll->address)
		return BMS_E_UNEXPECTED;
	bms_pylonframe_rd_init(&r, info, ninfo);
	(void)bms_pylonframe_u8(&r);
	uint16_t cvl = bms_pylonframe_u16(&r);
	uint16_t dvl = bms_pylonframe_u16(&r);
	int16_t ccl = bms_pylonframe_s16(&r);
	int16_t dcl = bms_pylonframe_s16(&r);
	uint8_t st = bms_pylonframe_u8(&r);
	if (r.bad)
		return BMS_E_SHORT;
	if (bms_pylonframe_left(&r) > PYL_92_SLACK)
		return BMS_E_UNEXPECTED;
	/* a charge limit below zero, or a charge voltage limit not above the
	 * discharge one, is no limit anybody can apply */
	if (cvl == 0 || dvl == 0 || dvl >= cvl || ccl < 0)
		return BMS_E_RANGE;

	float dcl_a = (float)(dcl < 0 ? -(int32_t)dcl : dcl) / 10.0f;
	bms_set_cur_limits(poll, (st & PYL_MGMT_CHG_EN) ? (float)ccl / 10.0f : 0.0f,
			   (st & PYL_MGMT_DSG_EN) ? dcl_a : 0.0f, false);
	s->bms_cvl_v = (float)cvl / 1000.0f;
	s->bms_dvl_v = (float)dvl / 1000.0f;
	s->present |= BMS_HAS_VOLT_LIMITS;
	poll->persist = (poll->persist & ~PYL_P_MGMT_NONE) | PYL_P_MGMT_OK;
	return BMS_OK;
}

/* The 0x47 answer (§9.6): the BMS's own settings, shown read only; a value
 * outside its field's range leaves its key absent.  The current limits
 * (their scale differs between readers) are not shown. */
static void pyl_set_t(struct bms_settings *st, enum bms_set_key k, uint16_t raw)
{
	int dk = (int16_t)raw;
	if (dk >= PYL_KELVIN_DK - 400 && dk <= PYL_KELVIN_DK + 1200)
		bms_settings_put(st, k, (float)(dk - PYL_KELVIN_DK) / 10.0f);
}

static void pyl_set_v(struct bms_settings *st, enum bms_set_key k, uint16_t mv, uint16_t hi)
{
	bms_settings_put_raw(st, k, mv, 1, hi, 1000.0);
}

static int pyl_param(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_pylonframe_rd r;
	uint16_t v[12];

	bms_pylonframe_rd_init(&r, info, ninfo);
	(void)bms_pylonframe_u8(&r); /* INFOFLAG */
	for (int i = 0; i < 12; i++)
		v[i] = bms_pylonframe_u16(&r);
	if (r.bad)
		return BMS_E_SHORT;
	if (bms_pylonframe_left(&r) > PYL_92_SLACK)
		return BMS_E_UNEXPECTED;
	struct bms_settings *st = &poll->kept.settings;
	pyl_set_v(st, BMS_SET_CELL_OVP_V, v[0], 5000);  /* cell high voltage limit */
	pyl_set_v(st, BMS_SET_CELL_UVP_V, v[2], 5000);  /* cell under voltage limit */
	pyl_set_t(st, BMS_SET_CHARGE_OTP_C, v[3]);
	pyl_set_t(st, BMS_SET_CHARGE_UTP_C, v[4]);
	pyl_set_v(st, BMS_SET_PACK_OVP_V, v[6], 65535); /* module high voltage limit */
	pyl_set_v(st, BMS_SET_PACK_UVP_V, v[8], 65535); /* module under voltage limit */
	pyl_set_t(st, BMS_SET_DISCHARGE_OTP_C, v[9]);
	pyl_set_t(st, BMS_SET_DISCHARGE_UTP_C, v[10]);
	return BMS_OK;
}

static int pyl_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_pylonframe f;
	uint8_t info[BMS_PYLONFRAME_MAX_INFO];
	int rc;
	uint8_t cmd = pyl_cur(poll);

	rc = bms_pylonframe_take(poll, PYL_NSTEPS, frame, len, &f, info, sizeof(info));
	if (rc >= 0 && cmd == 0)
		return BMS_E_UNEXPECTED; /* the poll is complete */
	if (rc == BMS_E_REFUSED && cmd == PYL_MGMT && f.cid2 == PYL_RTN_CID2_INVALID) {
		/* the firmware does not know 0x92: the poll goes on without limits */
		poll->persist = (poll->persist & ~PYL_P_MGMT_OK) | PYL_P_MGMT_NONE;
		pyl_next(poll);
		return BMS_OK;
	}
	if (rc == BMS_E_REFUSED && cmd == PYL_PARAM) {
		/* no settings from this pack: the poll ends without them */
		poll->refusals++;
		pyl_next(poll);
		return BMS_OK;
	}
	if (rc < 0)
		return rc;
	if (cmd == PYL_ANALOG)
		rc = pyl_analog(poll, info, f.ninfo);
	else if (cmd == PYL_ALARM)
		rc = pyl_alarm(poll, info, f.ninfo);
	else if (cmd == PYL_MGMT)
		rc = pyl_mgmt(poll, info, f.ninfo);
	else
		rc = pyl_param(poll, info, f.ninfo);
	if (rc == BMS_OK)
		pyl_next(poll);
	return rc;
}

/* A try failed.  For 0x92 of a pack that has never answered it: the step
 * is complete without limits, and 0x92 is asked again on refresh polls
 * only (firmware that ignores unknown commands costs one timeout then). */
static bool pyl_timeout(struct bms_poll *poll)
{
	uint8_t cmd = pyl_cur(poll);
	if (cmd == PYL_PARAM) {
		/* 0x47 unanswered (or answered badly): the poll ends without it */
		pyl_next(poll);
		return true;
	}
	if (cmd != PYL_MGMT || (poll->persist & PYL_P_MGMT_OK))
		return false;
	poll->persist |= PYL_P_MGMT_NONE;
	pyl_next(poll);
	return true;
}

/* Identification (§27): the poll's first read, 0x42 analog
 * values of ADR 2 (VER 0x20, CID1 0x46); the answer carries VER 0x20 (a
 * Pace pack answers with its own 0x25). */
static void pyl_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	static const uint8_t vers[] = { 0x20, 0 };
	bms_paceic_probe_judge(&bms_pylontech_driver, vers, poll, buf, len, r);
}

static const struct bms_probe pyl_probe = {
	.bauds = { 115200, 9600 },
	.addrs = { PYL_MIN_ADR },
	.naddrs = 1,
	.rank = 6,
	.gap = 0.05,
	.timeout = 0.3,
	.judge = pyl_probe_judge,
};

/* Listen mode (bms/bus.h): the answers to the requests of its own poll. */
BMS_LISTEN_REPLAY(pyl, bms_pylontech_driver, bms_bus_paceic_at, bms_listen_same_paceic)

const struct bms_driver bms_pylontech_driver = {
	.name = "pylontech",
	.description = "Pylontech US2000/US3000/US5000 RS485 protocol V3.3 (~...CR ASCII, 0x42/0x44/0x92)",
	.vendor = "Pylontech",
	.protocol_id = 7,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.default_baud = 115200,
	BMS_PYLONFRAME_LINK(PYL_MIN_ADR, PYL_MAX_ADR),
	.address_ok = pyl_valid_adr,
	.default_timeout = 1.0,
	.next_request = pyl_next_request,
	.listen = &pyl_listen,
	.scan = pyl_scan,
	.handle = pyl_handle,
	.timeout = pyl_timeout,
	.finish = bms_finish_pack,
	.probe = &pyl_probe,
	/* 0x47 system parameters, when the settings are due (§9.6) */
	.settings = BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) |
		BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V) |
		BMS_SET_BIT(BMS_SET_CHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_UTP_C) |
		BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_UTP_C),
};
