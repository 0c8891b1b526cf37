/* SPDX-License-Identifier: MIT */
/* bms/pylon_can.c - a battery that speaks Pylontech LV CAN V1.2 to its
 * inverter (Pylontech, Pytes, Dyness, PACE, SOK, Seplos, JK-PB ...), read
 * listen only: bmsgw never sends a frame on that bus (pylon-can).
 *
 * See bms/PROTOCOLS.md §26.  The battery broadcasts about once a second,
 * 500 kbit/s, 11-bit identifiers, little-endian fields:
 *	0x351 CVL u16 0.1 V, CCL s16 0.1 A, DCL s16 0.1 A, (DVL u16 0.1 V)
 *	0x355 SOC u16 %, SOH u16 %, (SOC u16 0.01 %: SMA / Victron sets)
 *	0x356 voltage s16 0.01 V, current s16 0.1 A (+ = charging),
 *	      temperature s16 0.1 degC
 *	0x359 protection bytes 0-1, alarm bytes 2-3, modules, "PN"
 *	0x35A SMA's alarm (bytes 0-3) and warning (4-7) messages, 2 bits each
 *	0x35C request flags: b7 charge enable, b6 discharge enable, b5 / b4
 *	      force charge I / II, b3 full charge request
 *	0x35E manufacturer, 8 ASCII
 *	0x373 (Victron-style sets) lowest / highest cell u16 mV, lowest /
 *	      highest cell temperature u16 K
 *	0x379 (Victron-style sets) installed capacity u16 Ah
 * Firmware of protocol V1.3 and the Victron-style sets send no 0x359 and
 * no 0x35C (0x35A instead): both generations decode.  No cell list: 0x373's
 * highest and lowest cell are the snapshot's extremes (bms.h).
 *
 * The CAN transport hands every frame to scan() as a record (bms.h:
 * BMS_CAN_MAGIC0 ...).  handle() checks a frame (its DLC, its values) and
 * keeps its data: the driver's state, struct pc_state (bms/pylon_can.h),
 * holds the last frame of each identifier (its data and DLC in slot k) and
 * poll->seen which slots arrived; finish() decodes them.  A poll is a whole cycle:
 * complete once 0x351, 0x355 and 0x356 arrived and either the identifiers
 * of the last complete cycle (poll->persist) or all six of V1.2 did, or
 * when 0x351 comes again (the cycle wrapped; that 0x351 is left to the
 * next poll), or when the wait ends with those three (timeout()).
 *
 * Decoded: voltage, current, SOC, SOH, the temperature, the cycles (bytes
 * 6-7 of an 8-byte 0x356, where not 0), the cell and temperature extremes
 * (0x373), the installed capacity as the full capacity (0x379), the battery's own
 * CVL / CCL / DCL / DVL (BMS-reported limits; a request flag's enable bit
 * clear makes its current limit 0 A; no DVL is NAN), protections and alarms (0x359,
 * 0x35A) into the normalised alarms, the manufacturer as the BMS's
 * identity.  Kept in the raw alarm words (no field of the snapshot holds
 * them): [0] 0x359 bytes 0-1, [1] bytes 2-3, [2] 0x35C bytes 0-1 (force
 * charge, full charge request), [3] bit k-1 = SMA alarm message k raised.
 * The module count (0x359 byte 4) stays in the driver's state.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"
#include "pylon_can.h"

/* The identifiers of the slots of struct pc_state. */
static const uint16_t pc_ids[PC_NSLOTS] = { 0x351, 0x355, 0x356, 0x359, 0x35A, 0x35C, 0x35E, 0x373, 0x379 };
/* The least DLC whose bytes hold the fields read (the real battery's DLCs
 * are 8, 4, 6, 7, 2, 8: setfirelabs' capture, PYLONCAN-01; 0x373 and 0x379
 * 8 in the Seplos capture, PYLONCAN-03, 0x379 2 in Pytes', PYLONCAN-04). */
static const uint8_t pc_min_dlc[PC_NSLOTS] = { 6, 4, 6, 4, 8, 1, 1, 8, 2 };

#define PC_BIT(k) (1u << (k))
#define PC_NEED (PC_BIT(PC_351) | PC_BIT(PC_355) | PC_BIT(PC_356))
#define PC_V12 (PC_NEED | PC_BIT(PC_359) | PC_BIT(PC_35C) | PC_BIT(PC_35E))
#define PC_ALL ((1u << PC_NSLOTS) - 1u)
#define PC_LEARNED 0x80000000u /* persist: the slots of the last complete cycle are known */

#define PC_CHG_EN 0x80
#define PC_DSG_EN 0x40

/* Records (bms/base/canrec.c). */
static enum bms_scan pc_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_can_scan(buf, len, n);
}

static int pc_slot(uint32_t id)
{
	for (int k = 0; k < PC_NSLOTS; k++)
		if (pc_ids[k] == id)
			return k;
	return -1;
}

/* A frame's values that no battery can send (the frame is refused). */
static int pc_check(int k, const uint8_t *d, uint8_t dlc)
{
	if (dlc < pc_min_dlc[k])
		return BMS_E_SHORT;
	if (k == PC_355 && bms_le16(d) > 100)
		return BMS_E_RANGE; /* SOC */
	if (k == PC_356 && bms_les16(d) <= 0)
		return BMS_E_RANGE; /* the battery feeds its BMS: no voltage, no data */
	return BMS_OK;
}

/* The cycle is whole: the slots of the last complete one, or V1.2's six. */
static bool pc_complete(const struct bms_poll *poll)
{
	uint32_t seen = poll->seen;
	uint32_t want = (poll->persist & PC_LEARNED) ? (poll->persist & PC_ALL) | PC_NEED : PC_V12;
	return (seen & PC_NEED) == PC_NEED && (seen & want) == want;
}

/* 0x373: the lowest and highest cell (mV; 0 = none, else a cell's voltage,
 * the lowest not above the highest) and cell temperature (K; 0 = none)
 * into the snapshot, the last frame's whole. */
static int pc_373(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned lo = bms_le16(d), hi = bms_le16(d + 2), tlo = bms_le16(d + 4), thi = bms_le16(d + 6);
	bool bad_lo = lo && (lo < BMS_PLAUSIBLE_MIN_CELL_MV || lo > BMS_PLAUSIBLE_MAX_CELL_MV);
	bool bad_hi = hi && (hi < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV);
	if (bad_lo || bad_hi || (lo && hi && lo > hi))
		return BMS_E_RANGE;
	s->present &= ~(uint32_t)(BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT);
	bms_set_cell_ext(s, hi, 0, lo, 0);
	bms_set_temp_ext(s, thi ? (float)thi - 273.15f : NAN, tlo ? (float)tlo - 273.15f : NAN);
	return BMS_OK;
}

/* 0x379: the installed capacity (Ah; 0 = none) as the full capacity. */
static void pc_379(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned ah = bms_le16(d);
	s->present &= ~(uint32_t)BMS_HAS_FULL;
	if (ah) {
		s->full_ah = (float)ah;
		s->present |= BMS_HAS_FULL;
	}
}

static int pc_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < BMS_CAN_HDR || frame[0] != BMS_CAN_MAGIC0 || frame[1] != BMS_CAN_MAGIC1)
		return BMS_E_SHORT;
	uint8_t flags = frame[2], dlc = frame[7];
	if (dlc > BMS_CAN_MAX_DLC || len != BMS_CAN_HDR + ((flags & BMS_CAN_RTR) ? 0u : dlc))
		return BMS_E_SHORT;
	int k = pc_slot(bms_le32(frame + 3));
	if (k < 0 || (flags & (BMS_CAN_EXT | BMS_CAN_RTR)))
		return BMS_E_UNEXPECTED; /* another frame of the bus (0x305, 0x35F, 0x370 ...) */
	const uint8_t *d = frame + BMS_CAN_HDR;
	int rc = pc_check(k, d, dlc);
	if (rc != BMS_OK)
		return rc;
	if (k == PC_351 && (poll->seen & PC_BIT(PC_351)) && (poll->seen & PC_NEED) == PC_NEED)
		return BMS_OK; /* the next cycle begins: this one is whole */
	if (k == PC_373 && (rc = pc_373(poll, d)) != BMS_OK)
		return rc;
	if (k == PC_379)
		pc_379(poll, d);
	if (k < PC_NDATA) {
		struct pc_state *st = BMS_PRIV(poll, struct pc_state);
		memset(st->data[k], 0, sizeof(st->data[k]));
		memcpy(st->data[k], d, dlc);
		st->dlc[k] = dlc;
	}
	poll->seen |= PC_BIT(k);
	poll->sub++;
	return pc_complete(poll) ? BMS_OK : BMS_MORE;
}

/* The wait ended: a cycle whose 0x351, 0x355 and 0x356 arrived is used. */
static bool pc_timeout(struct bms_poll *poll)
{
	return (poll->seen & PC_NEED) == PC_NEED;
}

static const uint8_t *pc_data(const struct bms_poll *poll, int k)
{
	return (poll->seen & PC_BIT(k)) ? BMS_PRIV(poll, struct pc_state)->data[k] : NULL;
}

static uint8_t pc_dlc(const struct bms_poll *poll, int k)
{
	return BMS_PRIV(poll, struct pc_state)->dlc[k];
}

/* 0x351 (and 0x35C's enable bits): the battery's own limits. */
static void pc_limits(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = pc_data(poll, PC_351), *rq = pc_data(poll, PC_35C);
	float cvl = (float)bms_le16(d) / 10.0f, ccl = (float)bms_les16(d + 2) / 10.0f, dcl = (float)bms_les16(d + 4) / 10.0f;
	float dvl = pc_dlc(poll, PC_351) >= 8 ? (float)bms_le16(d + 6) / 10.0f : 0.0f;

	/* a negative charge limit allows nothing; the discharge limit's sign
	 * varies between emitters, its magnitude is the limit */
	ccl = ccl > 0 ? ccl : 0.0f;
	dcl = fabsf(dcl);
	if (rq && !(rq[0] & PC_CHG_EN))
		ccl = 0.0f;
	if (rq && !(rq[0] & PC_DSG_EN))
		dcl = 0.0f;
	bms_set_cur_limits(poll, ccl, dcl, false);
	if (cvl > 0) {
		s->bms_cvl_v = cvl;
		s->bms_dvl_v = dvl > 0 && dvl < cvl ? dvl : NAN; /* none sent, or none usable */
		s->present |= BMS_HAS_VOLT_LIMITS;
	}
}

/* 0x355 and 0x356. */
static void pc_measurements(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = pc_data(poll, PC_355);
	unsigned soc = bms_le16(d), soh = bms_le16(d + 2);

	s->soc = (float)soc;
	if (pc_dlc(poll, PC_355) >= 6) {
		/* SMA's SOC in 0.01 %, taken where it agrees with the 1 % one */
		unsigned hi = bms_le16(d + 4);
		if (hi <= 10000 && hi / 100 + 1 >= soc && hi / 100 <= soc + 1)
			s->soc = (float)hi / 100.0f;
	}
	s->present |= BMS_HAS_SOC;
	if (soh <= 100) {
		s->soh = (float)soh;
		s->present |= BMS_HAS_SOH;
	}
	d = pc_data(poll, PC_356);
	float cur = (float)bms_les16(d + 2) / 10.0f, t = (float)bms_les16(d + 4) / 10.0f;
	s->voltage = (float)bms_les16(d) / 100.0f;
	s->current = poll->invert_current ? -cur : cur;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	/* an 8-byte 0x356's bytes 6-7: the cycles (Seplos' Victron set,
	 * PYLONCAN-03; 0 in the sets that pad it, PYLONCAN-02: none) */
	if (pc_dlc(poll, PC_356) >= 8 && bms_le16(d + 6)) {
		s->cycles = bms_le16(d + 6);
		s->present |= BMS_HAS_CYCLES;
	}
	/* one outside -50..150 degC is kept as read: the gateway serves it
	 * absent and flags a sensor fault (bms_sensor_faults) */
	s->temp_c[0] = t;
	s->ntemps = 1;
	s->present |= BMS_HAS_TEMPS;
}

/* Pylontech's protection (bytes 0-1) and alarm (bytes 2-3) bits, one layout
 * for both levels [doc PYLON-CAN table 1-4]: byte 0 / 2 b1 cell or module
 * over voltage, b2 under voltage, b3 cell over temperature, b4 under
 * temperature, b7 discharge over current; byte 1 / 3 b0 charge over
 * current, b3 system error (byte 1) / internal communication fail (byte 3).
 * A bit the document does not name is OTHER. */
static uint32_t pc_level(uint8_t lo, uint8_t hi, bool protect)
{
	static const uint32_t lo_map[8] = {
		BMS_AL_OTHER, BMS_AL_CELL_OV, BMS_AL_CELL_UV, BMS_AL_CHG_OT | BMS_AL_DSG_OT,
		BMS_AL_CHG_UT, BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_DSG_OC,
	};
	uint32_t al = 0;
	for (unsigned b = 0; b < 8; b++) {
		if (lo & (1u << b))
			al |= lo_map[b];
		if (hi & (1u << b))
			al |= b == 0 ? BMS_AL_CHG_OC : b == 3 ? (protect ? BMS_AL_HW_FAULT : BMS_AL_COMM) : BMS_AL_OTHER;
	}
	return al && protect ? al | BMS_AL_PROTECTION : al;
}

/* SMA's messages 1-13 [doc SMA-SI §7.1]; 14-16 are SMA's own. */
static const uint32_t pc_sma_msgs[13] = {
	BMS_AL_OTHER, BMS_AL_PACK_OV, BMS_AL_PACK_UV, BMS_AL_DSG_OT, BMS_AL_DSG_UT, BMS_AL_CHG_OT,
	BMS_AL_CHG_UT, BMS_AL_DSG_OC, BMS_AL_CHG_OC, BMS_AL_MOS_FAULT, BMS_AL_SHORT, BMS_AL_HW_FAULT,
	BMS_AL_CELL_DIFF,
};

/* Four bytes of 0x35A: the messages raised ("arrive" set, "leave" clear),
 * as bits (message k = bit k-1) and as alarms. */
static uint32_t pc_sma(const uint8_t *p, uint16_t *raised)
{
	uint32_t al = 0;
	*raised = 0;
	for (unsigned k = 0; k < 16; k++) {
		unsigned pair = (p[k / 4] >> (2 * (k % 4))) & 3u;
		if (pair != 1)
			continue;
		*raised |= (uint16_t)(1u << k);
		if (k < 13)
			al |= pc_sma_msgs[k];
	}
	return al;
}

static void pc_alarms(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *a = pc_data(poll, PC_359), *m = pc_data(poll, PC_35A), *rq = pc_data(poll, PC_35C);
	if (!a && !m)
		return;
	if (a) {
		s->alarms |= pc_level(a[0], a[1], true) | pc_level(a[2], a[3], false);
		s->raw_alarms[0] = bms_le16(a);
		s->raw_alarms[1] = bms_le16(a + 2);
	}
	if (rq)
		s->raw_alarms[2] = (uint16_t)(rq[0] | (pc_dlc(poll, PC_35C) >= 2 ? rq[1] << 8 : 0));
	if (m) {
		uint16_t alarm_msgs, warn_msgs;
		uint32_t protect = pc_sma(m, &alarm_msgs);
		s->alarms |= pc_sma(m + 4, &warn_msgs);
		if (protect)
			s->alarms |= protect | BMS_AL_PROTECTION;
		s->raw_alarms[3] = alarm_msgs;
	}
	s->nraw = 4;
	s->present |= BMS_HAS_ALARMS;
}

/* 0x35E: the maker, as the BMS's identity. */
static void pc_ident(struct bms_poll *poll)
{
	const uint8_t *d = pc_data(poll, PC_35E);
	struct bms_ident id;
	if (!d)
		return;
	memset(&id, 0, sizeof(id));
	bms_ident_text(id.vendor, sizeof(id.vendor), d, pc_dlc(poll, PC_35E));
	if (!bms_ident_any(&id))
		return;
	poll->kept.ident = id;
	poll->kept.ident_state = BMS_IDENT_HAVE;
}

static int pc_finish(struct bms_poll *poll)
{
	if ((poll->seen & PC_NEED) != PC_NEED)
		return BMS_E_INVALID;
	/* the identifiers of a whole cycle, for the next poll */
	poll->persist = PC_LEARNED | (poll->seen & PC_ALL);
	pc_measurements(poll);
	pc_limits(poll);
	pc_alarms(poll);
	pc_ident(poll);
	return BMS_OK;
}

static const struct bms_can pc_can = {
	.bitrate = 500000,
	/* 0x340-0x37F: 0x351-0x35E and the Victron-style sets' 0x370-0x379 */
	.id = 0x340,
	.mask = 0x7C0,
};

const struct bms_driver bms_pylon_can_driver = {
	.name = "pylon-can",
	.description = "a battery speaking Pylontech LV CAN V1.2 to its inverter, read listen only "
		       "(0x351-0x35E, 0x373, 0x379; SocketCAN or an slcan adapter)",
	.vendor = "Pylontech LV CAN",
	.protocol_id = 20,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_FULL |
		BMS_HAS_CYCLES | BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT,
	/* listen only: nothing is sent; a record is handed over whole */
	BMS_CAN_LINK(0, 0),
	/* a cycle a second; the first poll may need two to see it whole */
	.default_timeout = 3.0,
	.listen_only = true,
	.next_request = NULL,
	.scan = pc_scan,
	.handle = pc_handle,
	.timeout = pc_timeout,
	.finish = pc_finish,
	.can = &pc_can,
};
