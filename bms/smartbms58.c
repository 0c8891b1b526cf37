/* SPDX-License-Identifier: MIT */
/* bms/smartbms58.c - the 123SmartBMS (123electric, the generation before
 * gen 3) through its Bluetooth UART bridge: the 58-byte status frame it
 * pushes once a second, listened to.
 *
 * bms/PROTOCOLS.md §74.  Nothing is written.  A frame is 58 bytes, the
 * last the low byte of the sum of the 57 before it; big-endian:
 *	0..2 voltage u24 1/200 V; 9 the current's sign ('+', '-', 'X' none),
 *	10..11 its magnitude 0.125 A; 12..13 / 15..16 the lowest / highest
 *	cell 1/200 V; 18..19 / 21..22 the lowest / highest temperature
 *	(- 0x114, degC); 24 a cell's number (1-based, 0 none), 25 the cell
 *	count, 26..27 its voltage 1/200 V, 28..29 its temperature; 30 status
 *	(bit 0 charge, bit 1 discharge allowed, bits 2..7 a problem code);
 *	40 SOC; 47 a key (+25, 0..18) whose value is 48; 49..50 the capacity
 *	0.1 kWh
 * Each frame carries one cell and one key: a poll takes frames, one a
 * step (each step listens, BMS timeout), until every cell came.  The keys
 * (0 the SOH, 4 / 5 the nominal cell voltage, 8 / 9 the cycles, 16 status
 * 2) come as they come, a key a second, and are kept from poll to poll:
 * persist bits 0..7 the SOH + 1 (0: none yet), 8..15 / 16..23 keys 4 / 5
 * (bits 24 / 25: came), bits 26 / 27 keys 8 / 9 came (their bytes in
 * kept.cycles); the design capacity is the frame's kWh over the nominal
 * pack voltage once both halves came.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define SB_LEN 58
#define SB_TEMP0 0x114
#define SB_KEY0 25
#define SB_KEYS 19
#define SB_MAX_CELLS 32
#define SB_STEP_LIMIT 80    /* frames a poll takes at most (two of every cell and more) */
#define SB_P_N4 (1u << 24)  /* persist: key 4 came (its byte at 8..15) */
#define SB_P_N5 (1u << 25)  /* ... key 5 (16..23) */
#define SB_P_C8 (1u << 26)  /* ... key 8 (kept.cycles bits 8..15) */
#define SB_P_C9 (1u << 27)  /* ... key 9 (kept.cycles bits 0..7) */

/* The driver's state of a poll. */
struct sb_state {
	uint32_t cells;       /* bit n: cell n + 1 came */
	uint8_t ncells;       /* the cell count of the frames */
	bool status2;         /* key 16 came this poll */
	uint8_t kv16;         /* ... its value */
	uint16_t kwh10;       /* the capacity, 0.1 kWh */
};

static bool sb_complete(const struct bms_poll *poll)
{
	const struct sb_state *st = BMS_PRIV(poll, struct sb_state);
	return st->ncells && st->cells == (st->ncells == 32 ? 0xFFFFFFFFu : (1u << st->ncells) - 1u);
}

/* Every step listens until the poll is whole (or took its most frames). */
static bool sb_listens(const struct bms_poll *poll)
{
	return !sb_complete(poll) && poll->step < SB_STEP_LIMIT;
}

static int sb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	(void)out;
	(void)cap;
	return sb_listens(poll) ? BMS_E_RANGE : 0; /* nothing is ever written */
}

static bool sb_sum_ok(const uint8_t *f)
{
	return (uint8_t)bms_sum(f, SB_LEN - 1) == f[SB_LEN - 1];
}

/* The frame's fields that hold whatever the sum says: the current's sign,
 * the cell count and number, the SOC. */
static bool sb_shape(const uint8_t *f)
{
	return (f[9] == '+' || f[9] == '-' || f[9] == 'X') && f[25] >= 1 && f[25] <= SB_MAX_CELLS && f[24] <= f[25] &&
	       f[40] <= 100;
}

/* 58 bytes with their sum, of the frame's shape; a window that is not one
 * is a byte of garbage (no start byte exists: the sum and the shape find
 * the frame). */
static enum bms_scan sb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len < SB_LEN)
		return BMS_SCAN_NEED;
	if (!sb_shape(buf)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	return bms_scan_tail(sb_sum_ok(buf), true, SB_LEN, n);
}

static float sb_temp(const uint8_t *p)
{
	return (float)((int)bms_be16(p) - SB_TEMP0);
}

/* The values every frame carries. */
static void sb_common(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_snapshot *s = &poll->snap;
	s->voltage = (float)(((uint32_t)f[0] << 16) | ((uint32_t)f[1] << 8) | f[2]) / 200.0f;
	float a = (float)bms_be16(f + 10) * 0.125f;
	s->current = f[9] == 'X' ? 0.0f : f[9] == '-' ? -a : a;
	s->soc = f[40];
	s->chg_mos = (f[30] & 0x01) != 0;
	s->dsg_mos = (f[30] & 0x02) != 0;
	bms_set_cell_ext(s, bms_be16(f + 15) * 5u, 0, bms_be16(f + 12) * 5u, 0);
	bms_set_temp_ext(s, sb_temp(f + 21), sb_temp(f + 18));
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_MOSFETS;
}

/* A key's value, kept from poll to poll where it is a slow one. */
static void sb_key(struct bms_poll *poll, struct sb_state *st, unsigned key, uint8_t v)
{
	uint32_t *p = &poll->persist;
	switch (key) {
	case 0:
		if (v <= 100)
			*p = (*p & ~0xFFu) | (v + 1u);
		return;
	case 4: case 5:
		*p = (*p & ~(0xFFu << (key == 4 ? 8 : 16))) | (uint32_t)v << (key == 4 ? 8 : 16) |
		     (key == 4 ? SB_P_N4 : SB_P_N5);
		return;
	case 8: case 9:
		poll->kept.cycles = (poll->kept.cycles & (key == 8 ? 0x00FFu : 0xFF00u)) | (uint32_t)v << (key == 8 ? 8 : 0);
		*p |= key == 8 ? SB_P_C8 : SB_P_C9;
		if ((*p & (SB_P_C8 | SB_P_C9)) == (SB_P_C8 | SB_P_C9))
			poll->kept.have |= BMS_HAS_CYCLES;
		return;
	case 16:
		st->status2 = true;
		st->kv16 = v;
		return;
	default:
		return;
	}
}

static int sb_handle(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	struct sb_state *st = BMS_PRIV(poll, struct sb_state);
	if (len != SB_LEN)
		return BMS_E_SHORT;
	if (!sb_sum_ok(f))
		return BMS_E_CHECKSUM;
	if (!sb_shape(f))
		return BMS_E_RANGE;
	if (st->ncells && f[25] != st->ncells)
		return BMS_E_RANGE; /* the count changed within a poll */
	uint32_t mv = ((uint32_t)f[0] << 16 | (uint32_t)f[1] << 8 | f[2]) * 5u;
	if (mv == 0)
		return BMS_E_RANGE;
	st->ncells = f[25];
	if (f[24]) {
		unsigned i = f[24] - 1u;
		poll->snap.cell_mv[i] = (uint16_t)(bms_be16(f + 26) * 5u);
		if (i < BMS_MAX_TEMPS) /* a sensor per cell, as many as a snapshot holds */
			poll->snap.temp_c[i] = sb_temp(f + 28);
		st->cells |= 1u << i;
	}
	if (f[47] >= SB_KEY0 && f[47] - SB_KEY0 < SB_KEYS)
		sb_key(poll, st, f[47] - SB_KEY0, f[48]);
	st->kwh10 = bms_be16(f + 49);
	sb_common(poll, f);
	poll->snap.nraw = 2;
	poll->snap.raw_alarms[0] = f[30] >> 2;
	poll->snap.raw_alarms[1] = st->status2 ? st->kv16 : 0;
	poll->step++;
	return BMS_OK;
}

static int sb_finish(struct bms_poll *poll)
{
	const struct sb_state *st = BMS_PRIV(poll, struct sb_state);
	struct bms_snapshot *s = &poll->snap;
	if (!sb_complete(poll))
		return BMS_E_INVALID;
	s->ncells = st->ncells;
	s->ntemps = (uint8_t)(st->ncells < BMS_MAX_TEMPS ? st->ncells : BMS_MAX_TEMPS);
	s->present |= BMS_HAS_CELLS | BMS_HAS_TEMPS;
	unsigned nominal = (poll->persist >> 8) & 0xFFFFu; /* key 4 << 8 | key 5, 1/200 V */
	nominal = (nominal & 0xFFu) << 8 | nominal >> 8;
	if ((poll->persist & (SB_P_N4 | SB_P_N5)) == (SB_P_N4 | SB_P_N5) && nominal && st->kwh10) {
		poll->kept.full_ah = (float)st->kwh10 * 100.0f * 200.0f / ((float)nominal * (float)st->ncells);
		poll->kept.have |= BMS_HAS_FULL;
	}
	if (poll->persist & 0xFFu) {
		s->soh = (float)((poll->persist & 0xFFu) - 1u);
		s->present |= BMS_HAS_SOH;
	}
	if (poll->kept.have & BMS_HAS_CYCLES) {
		s->cycles = poll->kept.cycles;
		s->present |= BMS_HAS_CYCLES;
	}
	if (poll->kept.have & BMS_HAS_FULL) {
		s->full_ah = poll->kept.full_ah;
		s->present |= BMS_HAS_FULL;
	}
	/* the problem code (status bits 2..7) and status 2's warning bits
	 * (key 16, 0x0E): their meanings are not published */
	if (s->raw_alarms[0] || (s->raw_alarms[1] & 0x0E))
		s->alarms |= BMS_AL_OTHER;
	s->present |= BMS_HAS_ALARMS;
	return bms_check_pack(s, false);
}

/* The Nordic UART service of its bridge (a Raytac / Alice nRF52810
 * module): notified on 6e400003; nothing is written. */
static const struct bms_gatt sb_gatt[] = {
	{ .service = BMS_NUS_UUID("1"), .notify = BMS_NUS_UUID("3"), .write = NULL },
	BMS_GATT_END,
};

/* --ble-scan: its bridge's names 123BMS-BLE... (aiobmsble's smartbms_bms;
 * the other name it takes, 123\SmartBMS, is gen 3's: smartbms123). */
static const struct bms_ble_hint sb_ble_hints[] = {
	{1, BMS_BLE_NAME, "123BMS-BLE", NULL, 0, false, "name 123BMS-BLE* (123SmartBMS, 58-byte frames)"},
	{0},
};

static const struct bms_ble sb_ble = {
	.only = true,
	.gatt = sb_gatt,
	.hints = sb_ble_hints,
};

const struct bms_driver bms_smartbms58_driver = {
	.name = "smartbms58",
	.description = "123SmartBMS through its Bluetooth bridge (the 58-byte frame it pushes once a second, listened to)",
	.vendor = "123electric",
	.protocol_id = 64,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
		BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_CELL_EXT |
		BMS_HAS_TEMP_EXT,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	/* a frame a second: a step waits three */
	.default_timeout = 3.0,
	.next_request = sb_next_request,
	.scan = sb_scan,
	.handle = sb_handle,
	.finish = sb_finish,
	.listens = sb_listens,
	.keep_rx = true,
	.ble = &sb_ble,
};
