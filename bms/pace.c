/* SPDX-License-Identifier: MIT */
/* bms/pace.c - PACE BMS "paceic" protocol version 2.5 (RS232 / RS485): SOK,
 * Jakiper, Gobel, Easun, Liontron, BSLBATT, Revov, Sunsynk and their many
 * rebrands.
 *
 * bms/PROTOCOLS.md §8 (framing, shared: bms/base/pylonframe.c) and §19.  VER
 * 0x25, CID1 0x46.  A poll sends to ADR = `address` (0..15):
 *	0x42 analog values   INFO = the pack number (= `address`), FF for all
 *	0x44 alarms, status  the same INFO
 *	0xD1, 0xD3, 0xD5, 0xD7, 0xB6 (no INFO): the protection configuration,
 *	     the BMS's own settings, in a poll marked settings_due of a pack
 *	     not read through its master (§19.7); the first refused,
 *	     unanswered or broken one ends them, not the poll
 *	0xC1 hardware version (no INFO), 0xC2 serial numbers: the identity,
 *	     while it is not known (bms_ident_due()); a BMS that refuses or
 *	     ignores them is polled without
 * e.g. ~25014642E00201FD30\r.  Address 0 (common on RS485) has no pack
 * number of its own: it is asked for all (FF) and the first record is its
 * own.  A pack with a `position` is asked for all (FF) at its master's
 * address and its record is the position-th; the other records go into
 * poll->group (the gateway gives them to the other packs of the answer).
 *
 * 0x42 answer INFO: INFOFLAG, then the pack number asked (one record) or
 * the count of records, then per record:
 *	n, n x cell mV (u16), m, m x temperature (u16 0.1 K, 0 degC = 2730;
 *	with m = 6: cells 1-4, MOSFET, environment), current (s16 10 mA, +
 *	= charging), voltage (u16 mV), remaining (u16 10 mAh), P (u8),
 *	full capacity (u16 10 mAh), cycles (u16), design capacity (u16
 *	10 mAh), and on many packs a tail of bytes whose length P does not
 *	tell (PROTOCOLS.md §19.3): the tail is what the counts leave over,
 *	the same for every record of an answer.
 * SOC is remaining / full (not transmitted; the tail's first byte, where
 * there is one, equals it in every capture but is not documented).
 *
 * 0x44 answer INFO: INFOFLAG, pack number / count, then per record: n, n
 * cell state bytes, m, m temperature state bytes, charge-current,
 * total-voltage and discharge-current state, protect state 1 and 2,
 * system state, control state, fault state, balance state 1 (cells 1-8)
 * and 2 (cells 9-16), warn state 1 and 2, and again a tail.
 *	protect 1: b0 cell OV, b1 cell UV, b2 pack OV, b3 pack UV, b4 charge
 *		OC, b5 discharge OC, b6 short circuit
 *	protect 2: b0 charge OT, b1 discharge OT, b2 charge UT, b3 discharge
 *		UT, b4 MOSFET OT, b5 environment OT, b6 environment UT, b7
 *		fully charged (not a fault)
 *	system:	b1 charge MOSFET on, b2 discharge MOSFET on, b3 discharging,
 *		b5 charging (b3 / b5 as the captures show them, §19.4)
 *	fault:	b0 charge MOSFET, b1 discharge MOSFET, b2 NTC, b4 cell, b5
 *		sampling
 *	warn 1:	as protect 1 (b0-b5); warn 2: b0 charge OT, b1 discharge OT,
 *		b2 charge UT, b3 discharge UT, b4 environment OT, b5
 *		environment UT, b6 MOSFET OT, b7 low capacity
 * raw_alarms[]: [0] protect 1 << 8 | protect 2, [1] warn 1 << 8 | warn 2,
 *	[2] fault << 8 | system, [3] control << 8.
 *
 * Progress in struct bms_poll: step = index into pace_steps[] (the table
 * core of bms/base/pylonframe.c).
 */
#include "bms.h"
#include "bus.h"

#include <string.h>

#include "drivers.h"
#include "pylonframe.h"

#define PACE_VER 0x25
#define PACE_MAX_ADR 15
#define PACE_ALL 0xFF           /* INFO: all packs */
#define PACE_KELVIN_DK 2730     /* 0 degC in 0.1 K (§19.3) */
#define PACE_MAX_TAIL42 16      /* bytes after a record's documented fields: 0x42 */
#define PACE_MAX_TAIL44 4       /* ... 0x44 */
#define PACE_MAX_TEMPS 16
#define PACE_DOC_TEMPS 6        /* cells 1-4, MOSFET, environment */
#define PACE_MOS_TEMP 4         /* index of the MOSFET sensor among PACE_DOC_TEMPS */
#define PACE_SN_LEN 20          /* 0xC2: BMS serial, then pack serial */
#define PACE_SET_LEN 8          /* 0xD1 .. 0xD7: 01, three u16 mV, the delay */
#define PACE_BAL_LEN 4          /* 0xB6: two u16 mV */
#define PACE_SET_SLACK 4        /* bytes a settings answer may carry beyond its layout */

#define L2 BMS_AL_PROTECTION
/* protect 1, protect 2, fault, warn 1, warn 2 (words 0..4 of pace_words()) */
static const struct bms_alarm_rule pace_alarm_rules[] = {
	{ 0, 0, BMS_AL_CELL_OV | L2 }, { 0, 1, BMS_AL_CELL_UV | L2 }, { 0, 2, BMS_AL_PACK_OV | L2 },
	{ 0, 3, BMS_AL_PACK_UV | L2 }, { 0, 4, BMS_AL_CHG_OC | L2 }, { 0, 5, BMS_AL_DSG_OC | L2 },
	{ 0, 6, BMS_AL_SHORT | L2 }, { 0, 7, BMS_AL_OTHER },
	{ 1, 0, BMS_AL_CHG_OT | L2 }, { 1, 1, BMS_AL_DSG_OT | L2 }, { 1, 2, BMS_AL_CHG_UT | L2 },
	{ 1, 3, BMS_AL_DSG_UT | L2 }, { 1, 4, BMS_AL_MOS_OT | L2 }, { 1, 5, BMS_AL_OTHER | L2 },
	{ 1, 6, BMS_AL_OTHER | L2 },
	{ 2, 0, BMS_AL_MOS_FAULT }, { 2, 1, BMS_AL_MOS_FAULT }, { 2, 2, BMS_AL_SENSOR },
	{ 2, 4, BMS_AL_HW_FAULT }, { 2, 5, BMS_AL_HW_FAULT },
	{ 3, 0, BMS_AL_CELL_OV }, { 3, 1, BMS_AL_CELL_UV }, { 3, 2, BMS_AL_PACK_OV }, { 3, 3, BMS_AL_PACK_UV },
	{ 3, 4, BMS_AL_CHG_OC }, { 3, 5, BMS_AL_DSG_OC },
	{ 4, 0, BMS_AL_CHG_OT }, { 4, 1, BMS_AL_DSG_OT }, { 4, 2, BMS_AL_CHG_UT }, { 4, 3, BMS_AL_DSG_UT },
	{ 4, 4, BMS_AL_OTHER }, { 4, 5, BMS_AL_OTHER }, { 4, 6, BMS_AL_MOS_OT }, { 4, 7, BMS_AL_SOC_LOW },
};
#undef L2
#define PACE_SYS_CHG_MOS 0x02
#define PACE_SYS_DSG_MOS 0x04
#define PACE_SYS_DSG 0x08
#define PACE_SYS_CHG 0x20

/* The INFO byte of 0x42 / 0x44: the pack number, or all. */
static uint8_t pace_cmd(const struct bms_poll *poll)
{
	return poll->position || poll->address == 0 ? PACE_ALL : poll->address;
}

/* The record of this pack in an answer of count records. */
static unsigned pace_own(const struct bms_poll *poll)
{
	return poll->position ? poll->position - 1u : 0u;
}

static size_t pace_info(const struct bms_poll *poll, uint8_t *info)
{
	info[0] = pace_cmd(poll);
	return 1;
}

/* Bytes of a record's documented fields, from its counts n and m. */
static size_t pace_rec_len(bool analog, unsigned n, unsigned m)
{
	return analog ? 2u * n + 2u * m + 15u : n + m + 14u;
}

/* Do count records, each with `tail` bytes after its documented fields,
 * fill info[off..len) exactly? */
static bool pace_walk(const uint8_t *info, size_t len, size_t off, unsigned count, bool analog, size_t tail)
{
	for (unsigned k = 0; k < count; k++) {
		if (off >= len)
			return false;
		unsigned n = info[off];
		size_t moff = off + 1 + (analog ? 2u * n : n);
		if (n > BMS_LV_MAX_CELLS || moff >= len || info[moff] > PACE_MAX_TEMPS)
			return false;
		off += pace_rec_len(analog, n, info[moff]) + tail;
	}
	return off == len;
}

/* The tail of the records of an answer: the shortest that walks count
 * records to the end of INFO, or -1. */
static int pace_tail(const uint8_t *info, size_t len, size_t off, unsigned count, bool analog)
{
	for (size_t t = 0; t <= (analog ? PACE_MAX_TAIL42 : PACE_MAX_TAIL44); t++)
		if (pace_walk(info, len, off, count, analog, t))
			return (int)t;
	return -1;
}

/* Are the n cell state bytes of the first 0x44 record state values (00,
 * 01, 02, 80..FF)?  A late 0x42 answer has cell voltages there. */
static bool pace_states(const uint8_t *info, size_t len)
{
	if (len < 3)
		return false;
	for (size_t i = 3; i < 3u + info[2] && i < len; i++)
		if (info[i] > 0x02 && info[i] < 0x80)
			return false;
	return true;
}

/* One 0x42 record into s (what the poll has of it: the values of its 0x44
 * are kept).  The pack's own `cells` and current sign apply to its own
 * record only (mine). */
static int pace_analog_rec(struct bms_pylonframe_rd *r, size_t tail, struct bms_snapshot *s,
			   const struct bms_poll *poll, bool mine)
{
	unsigned n = bms_pylonframe_u8(r);
	for (unsigned i = 0; i < n && i < BMS_LV_MAX_CELLS; i++)
		s->cell_mv[i] = bms_pylonframe_u16(r);
	unsigned m = bms_pylonframe_u8(r);
	float t[PACE_MAX_TEMPS];
	for (unsigned i = 0; i < m && i < PACE_MAX_TEMPS; i++)
		t[i] = (float)((int)bms_pylonframe_u16(r) - PACE_KELVIN_DK) / 10.0f;
	int16_t cur = bms_pylonframe_s16(r);
	uint16_t mv = bms_pylonframe_u16(r), remain = bms_pylonframe_u16(r);
	(void)bms_pylonframe_u8(r); /* P */
	uint16_t full = bms_pylonframe_u16(r), cycles = bms_pylonframe_u16(r);
	(void)bms_pylonframe_u16(r); /* design capacity */
	if (!bms_pylonframe_skip(r, tail) || r->bad || n > BMS_LV_MAX_CELLS || m > PACE_MAX_TEMPS)
		return BMS_E_SHORT;

	unsigned forced = mine ? poll->cells_forced : 0;
	s->ncells = (uint8_t)(forced && forced < n ? forced : n);
	s->ntemps = 0;
	for (unsigned i = 0; i < m && s->ntemps < BMS_MAX_TEMPS; i++) {
		if (m == PACE_DOC_TEMPS && i == PACE_MOS_TEMP) {
			s->mos_temp_c = t[i];
			s->present |= BMS_HAS_MOS_TEMP;
		} else {
			s->temp_c[s->ntemps++] = t[i];
		}
	}
	s->current = (float)cur / 100.0f;
	if (mine && poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)mv / 1000.0f;
	s->remain_ah = (float)remain / 100.0f;
	s->full_ah = (float)full / 100.0f;
	s->cycles = cycles;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES |
		      BMS_HAS_CELLS | (s->ntemps ? BMS_HAS_TEMPS : 0);
	if (full > 0) {
		s->soc = remain >= full ? 100.0f : (float)((double)remain * 100.0 / (double)full);
		s->present |= BMS_HAS_SOC;
	}
	return BMS_OK;
}

/* One 0x44 record into s. */
static int pace_alarm_rec(struct bms_pylonframe_rd *r, size_t tail, struct bms_snapshot *s)
{
	uint32_t al = 0;
	unsigned n = bms_pylonframe_u8(r);
	for (unsigned i = 0; i < n && !r->bad; i++)
		al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(r), BMS_AL_CELL_UV, BMS_AL_CELL_OV, BMS_AL_OTHER);
	unsigned m = bms_pylonframe_u8(r);
	for (unsigned i = 0; i < m && !r->bad; i++)
		al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(r), BMS_AL_CHG_UT | BMS_AL_DSG_UT,
						 m == PACE_DOC_TEMPS && i == PACE_MOS_TEMP ? BMS_AL_MOS_OT
						 : BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_SENSOR);
	uint8_t b[12];
	for (int i = 0; i < 12; i++)
		b[i] = bms_pylonframe_u8(r);
	if (!bms_pylonframe_skip(r, tail) || r->bad)
		return BMS_E_SHORT;
	/* b: 0 charge current, 1 voltage, 2 discharge current, 3 protect 1,
	 * 4 protect 2, 5 system, 6 control, 7 fault, 8/9 balance, 10/11 warn */
	uint16_t w[5] = { b[3], (uint16_t)(b[4] & 0x7Fu), b[7], b[10], b[11] };
	al |= bms_pylonframe_state_alarm(b[0], BMS_AL_OTHER, BMS_AL_CHG_OC, BMS_AL_OTHER);
	al |= bms_pylonframe_state_alarm(b[1], BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_OTHER);
	al |= bms_pylonframe_state_alarm(b[2], BMS_AL_OTHER, BMS_AL_DSG_OC, BMS_AL_OTHER);
	al |= bms_alarm_map(w, 5, pace_alarm_rules, sizeof(pace_alarm_rules) / sizeof(pace_alarm_rules[0]));
	s->alarms = al;
	s->nraw = 4;
	s->raw_alarms[0] = (uint16_t)(b[3] << 8 | b[4]);
	s->raw_alarms[1] = (uint16_t)(b[10] << 8 | b[11]);
	s->raw_alarms[2] = (uint16_t)(b[7] << 8 | b[5]);
	s->raw_alarms[3] = (uint16_t)(b[6] << 8);
	s->balance = (uint32_t)b[8] | (uint32_t)b[9] << 8;
	s->chg_mos = (b[5] & PACE_SYS_CHG_MOS) != 0;
	s->dsg_mos = (b[5] & PACE_SYS_DSG_MOS) != 0;
	s->state = (b[5] & PACE_SYS_CHG) ? 1 : (b[5] & PACE_SYS_DSG) ? 2 : 0;
	s->present |= BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE;
	return BMS_OK;
}

/* A 0x42 or 0x44 answer: the records, this pack's into the poll's
 * snapshot, the others (for a pack read through its master) into the
 * group. */
static int pace_records(struct bms_poll *poll, const uint8_t *info, size_t ninfo, bool analog)
{
	if (ninfo < 2)
		return BMS_E_SHORT;
	uint8_t cmd = pace_cmd(poll), b = info[1];
	unsigned count = 1, idx = 0;
	if (cmd == PACE_ALL || (b != cmd && b != 1)) {
		/* the count of the records; this pack's is its position, or its
		 * number in an answer that covers others too */
		count = b;
		idx = cmd == PACE_ALL ? pace_own(poll) : cmd - 1u;
		if (count == 0 || count > BMS_MAX_GROUP)
			return BMS_E_RANGE;
		if (idx >= count)
			return cmd == PACE_ALL ? BMS_E_RANGE : BMS_E_UNEXPECTED;
	}
	if (!analog && !pace_states(info, ninfo))
		return BMS_E_UNEXPECTED; /* not an alarm answer */
	int tail = pace_tail(info, ninfo, 2, count, analog);
	if (tail < 0)
		return BMS_E_RANGE;
	/* every record is decoded before any is used: a bad one fails the
	 * answer and changes nothing */
	struct bms_snapshot recs[BMS_MAX_GROUP];
	struct bms_pylonframe_rd r;
	bms_pylonframe_rd_init(&r, info, ninfo);
	bms_pylonframe_skip(&r, 2);
	for (unsigned k = 0; k < count; k++) {
		/* a record adds to what this poll has of it: a 0x42 heard after
		 * the 0x44 (a master that asks 0x44 first, or a listened round
		 * that begins there) keeps the alarms and MOSFETs */
		if (k == idx)
			recs[k] = poll->snap;
		else if (poll->group && k < poll->group_cap && (poll->group_have & (1u << k)))
			recs[k] = poll->group[k];
		else
			memset(&recs[k], 0, sizeof(recs[k]));
		int rc = analog ? pace_analog_rec(&r, (size_t)tail, &recs[k], poll, k == idx)
				: pace_alarm_rec(&r, (size_t)tail, &recs[k]);
		if (rc < 0)
			return rc;
	}
	poll->snap = recs[idx];
	for (unsigned k = 0; k < count && poll->position && poll->group; k++) {
		if (k == idx || k >= poll->group_cap || (!analog && !(poll->group_have & (1u << k))))
			continue;
		poll->group[k] = recs[k];
		poll->group_have |= 1u << k;
	}
	return BMS_OK;
}

static int pace_analog(struct bms_poll *poll, const uint8_t *info, size_t n)
{
	return pace_records(poll, info, n, true);
}

static int pace_alarm(struct bms_poll *poll, const uint8_t *info, size_t n)
{
	return pace_records(poll, info, n, false);
}

/* 0xC1: the hardware version string. */
static int pace_hw(struct bms_poll *poll, const uint8_t *info, size_t n)
{
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id)); /* the first identity answer: a new identity */
	bms_ident_text(id->model, sizeof(id->model), info, n);
	return BMS_OK;
}

/* 0xC2: the BMS's serial, then the pack's. */
static int pace_serial(struct bms_poll *poll, const uint8_t *info, size_t n)
{
	struct bms_ident *id = &poll->kept.ident;
	size_t first = n < PACE_SN_LEN ? n : PACE_SN_LEN;
	bms_ident_text(id->serial, sizeof(id->serial), info, first);
	bms_ident_text(id->pack_serial, sizeof(id->pack_serial), info + first, n - first);
	poll->kept.ident_state = BMS_IDENT_HAVE;
	return BMS_OK;
}

/* The protection configuration reads (§19.7): 0xD1 / 0xD3 cell over- /
 * under-voltage, 0xD5 / 0xD7 pack over- / under-voltage, each INFO = 01,
 * alarm, protection, release (u16 mV), delay (u8 100 ms); 0xB6 balancing:
 * start, cell difference (u16 mV).  Shown: the protection, its release
 * and delay; the alarm level has no key.  An INFO shorter than the
 * layout, or another first byte, is refused. */
static int pace_set_volt(struct bms_poll *poll, const uint8_t *info, size_t n, const uint8_t keys[3], int64_t hi)
{
	if (n < PACE_SET_LEN)
		return BMS_E_SHORT;
	if (n > PACE_SET_LEN + PACE_SET_SLACK || info[0] != 0x01)
		return BMS_E_RANGE;
	struct bms_settings *st = &poll->kept.settings;
	bms_settings_put_raw(st, (enum bms_set_key)keys[0], bms_be16(info + 3), 1000, hi, 1000.0);
	bms_settings_put_raw(st, (enum bms_set_key)keys[1], bms_be16(info + 5), 1000, hi, 1000.0);
	bms_settings_put_raw(st, (enum bms_set_key)keys[2], info[7], 0, 255, 10.0);
	return BMS_OK;
}

/* One decoder a read: its three keys (BMS_SET_COUNT: none), its highest
 * value; the pack's release and delay have no key. */
#define PACE_VOLT_READ(name, k0, k1, k2, hi)                                                    \
	static int name(struct bms_poll *poll, const uint8_t *info, size_t n)                    \
	{                                                                                         \
		static const uint8_t k[3] = { k0, k1, k2 };                                       \
		return pace_set_volt(poll, info, n, k, hi);                                       \
	}
PACE_VOLT_READ(pace_cell_ov, BMS_SET_CELL_OVP_V, BMS_SET_CELL_OVP_RELEASE_V, BMS_SET_CELL_OVP_DELAY_S, 5000)
PACE_VOLT_READ(pace_cell_uv, BMS_SET_CELL_UVP_V, BMS_SET_CELL_UVP_RELEASE_V, BMS_SET_CELL_UVP_DELAY_S, 5000)
PACE_VOLT_READ(pace_pack_ov, BMS_SET_PACK_OVP_V, BMS_SET_COUNT, BMS_SET_COUNT, 65535)
PACE_VOLT_READ(pace_pack_uv, BMS_SET_PACK_UVP_V, BMS_SET_COUNT, BMS_SET_COUNT, 65535)

static int pace_balance(struct bms_poll *poll, const uint8_t *info, size_t n)
{
	if (n < PACE_BAL_LEN)
		return BMS_E_SHORT;
	if (n > PACE_BAL_LEN + PACE_SET_SLACK)
		return BMS_E_RANGE;
	struct bms_settings *st = &poll->kept.settings;
	bms_settings_put_raw(st, BMS_SET_BALANCE_START_V, bms_be16(info), 1000, 5000, 1000.0);
	bms_settings_put_raw(st, BMS_SET_BALANCE_DELTA_V, bms_be16(info + 2), 1, 1000, 1000.0);
	return BMS_OK;
}

/* A pack read through its master has no identity of its own: the
 * master's is position 1's. */
static bool pace_has_ident(const struct bms_poll *poll)
{
	return poll->position <= 1;
}

static const struct bms_paceic_step pace_steps[] = {
	{ 0x42, false, pace_info, pace_analog },
	{ 0x44, false, pace_info, pace_alarm },
	/* the settings (settings_steps): when due, no INFO (§19.7) */
	{ 0xD1, false, NULL, pace_cell_ov },
	{ 0xD3, false, NULL, pace_cell_uv },
	{ 0xD5, false, NULL, pace_pack_ov },
	{ 0xD7, false, NULL, pace_pack_uv },
	{ 0xB6, false, NULL, pace_balance },
	{ 0xC1, true, NULL, pace_hw },
	{ 0xC2, true, NULL, pace_serial },
};

static const struct bms_paceic pace_proto = {
	.ver = PACE_VER,
	.cid1 = BMS_PYLONFRAME_CID1_BATTERY,
	.min_address = 0,
	.max_address = PACE_MAX_ADR,
	.sois = "~",
	.steps = pace_steps,
	.nsteps = sizeof(pace_steps) / sizeof(pace_steps[0]),
	.settings_steps = 0x1Fu << 2,
	.has_ident = pace_has_ident,
};

BMS_PACEIC_DRIVER_FUNCS(pace, pace_proto)

static int pace_finish(struct bms_poll *poll)
{
	for (unsigned k = 0; k < poll->group_cap && poll->group; k++)
		if ((poll->group_have & (1u << k)) && bms_check_pack(&poll->group[k], false) != BMS_OK)
			poll->group_have &= ~(1u << k);
	return bms_check_pack(&poll->snap, false);
}

/* Identification (§27): the poll's first read, 0x42 for all
 * packs at ADR 0 (VER 0x25), then 0x42 of pack 1 at ADR 1 (what PbmsTools
 * and RS232 use): an answer of VER 0x25 only.  A pack at ADR 1 answers the
 * request for all at ADR 0 from ADR 1 (issue 36): taken, and the judge
 * says the address it came from (the detector prints `address_any`). */
static void pace_probe_prepare(struct bms_poll *poll)
{
	poll->address_any = true;
}

static void pace_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	static const uint8_t vers[] = { 0x25, 0 };
	bms_paceic_probe_judge(&bms_pace_driver, vers, poll, buf, len, r);
}

static const struct bms_probe pace_probe = {
	.bauds = { 9600 },
	.addrs = { 0, 1 },
	.naddrs = 2,
	.rank = 8,
	.gap = 0.05,
	.timeout = 0.3,
	.prepare = pace_probe_prepare,
	.judge = pace_probe_judge,
};

/* Listen mode (bms/bus.h): the answers to the requests of its own poll. */
BMS_LISTEN_REPLAY(pace, bms_pace_driver, bms_bus_paceic_at, bms_listen_same_paceic)

const struct bms_driver bms_pace_driver = {
	.name = "pace",
	.description = "PACE BMS paceic v2.5 RS232/RS485 (~25...CR ASCII, 0x42/0x44/0xC1/0xC2)",
	.vendor = "PACE",
	.protocol_id = 13,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	/* 0xD1, 0xD3, 0xD5, 0xD7, 0xB6 when the settings are due (§19.7) */
	.settings = BMS_SET_CELL_PROTECT | BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V) |
		BMS_SET_BIT(BMS_SET_BALANCE_START_V) | BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V),
	.default_baud = 9600,
	BMS_PYLONFRAME_LINK(0, PACE_MAX_ADR),
	.any_address = true,
	.group = BMS_MAX_GROUP,
	.default_timeout = 1.0,
	.next_request = pace_next_request,
	.listen = &pace_listen,
	.scan = pace_scan,
	.handle = pace_handle,
	.timeout = pace_timeout,
	.finish = pace_finish,
	.probe = &pace_probe,
};
