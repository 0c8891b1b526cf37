/* SPDX-License-Identifier: MIT */
/* bms/epoch_pro.c - Epoch Pro batteries (EpochGC2-...) over Bluetooth LE:
 * the system's total and each pack's record, Modbus-like FA F3 frames.
 *
 * See bms/PROTOCOLS.md §77.  Bluetooth LE only: service FFE0, written to
 * FFE1, notified on FFE4.  A request is
 *	FA F3 16 <start u16 BE> <dev> <count u16 BE> <crc LE>
 * and its answer
 *	FA F3 16 <dev> <len = 2 x count> <len bytes> <crc LE>
 * (CRC-16/Modbus over everything before it).  A poll reads the total
 * (start 0x7654, dev 1, 0x37 words) and then each pack p of the count it
 * gives (start 0x75F8, dev p, 0x52 words).  Data offsets (from byte 5),
 * big-endian:
 *	total	8 SOC %, 10 SOH %, 14 voltage 0.01 V, 16 current A (s16, +
 *		charging), 18 temperature 0.1 degC (not served: the packs'
 *		sensors are), 42 the pack count
 *	pack	16 cycles; frame bytes 55 the cell count, 56 the sensor count,
 *		77.. cells mV (u16), 109.. sensors degC (s16)
 * The packs are in parallel, each a string of its cells: the snapshot's
 * cells are the first pack's, the highest and lowest cell of every pack
 * its BMS extremes (BMS_HAS_CELL_EXT), the sensors every pack's (the first
 * 16; the extremes of all of them BMS_HAS_TEMP_EXT), the cycles the most
 * any pack has.  No address; no write of any kind is known.
 *
 * Progress: step 0 the total, p the pack p; priv: struct ep_state.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define EP_SOF0 0xFA
#define EP_SOF1 0xF3
#define EP_VER 0x16
#define EP_HEAD 5
#define EP_OVER 7               /* head + CRC */
#define EP_REQ_LEN 10
#define EP_TOTAL_START 0x7654
#define EP_TOTAL_WORDS 0x37
#define EP_PACK_START 0x75F8
#define EP_PACK_WORDS 0x52
#define EP_MAX_PACKS 15
#define EP_PACK_CELLS 16        /* the slots before the sensors at 109 */
#define EP_PACK_TEMPS 8
#define EP_O_NCELLS 55          /* frame offsets of a pack answer */
#define EP_O_NTEMPS 56
#define EP_O_CELLS 77
#define EP_O_TEMPS 109

struct ep_state {
	uint8_t packs;          /* the total's pack count */
	uint8_t ntemps;         /* sensors of all packs so far */
	uint16_t max_mv, min_mv;
	uint8_t max_cell, min_cell;
	float tmax, tmin;
};

static int ep_request(uint8_t *out, size_t cap, uint16_t start, uint8_t dev, uint16_t words)
{
	if (cap < EP_REQ_LEN)
		return BMS_E_NOSPACE;
	out[0] = EP_SOF0;
	out[1] = EP_SOF1;
	out[2] = EP_VER;
	out[3] = (uint8_t)(start >> 8);
	out[4] = (uint8_t)start;
	out[5] = dev;
	out[6] = (uint8_t)(words >> 8);
	out[7] = (uint8_t)words;
	uint16_t crc = bms_crc16_modbus(out, 8);
	out[8] = (uint8_t)crc;
	out[9] = (uint8_t)(crc >> 8);
	return EP_REQ_LEN;
}

static int ep_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	const struct ep_state *st = BMS_PRIV(poll, struct ep_state);
	if (poll->step == 0)
		return ep_request(out, cap, EP_TOTAL_START, 1, EP_TOTAL_WORDS);
	if (poll->step < 0 || poll->step > EP_MAX_PACKS)
		return BMS_E_RANGE;
	if (poll->step > st->packs)
		return 0;
	return ep_request(out, cap, EP_PACK_START, (uint8_t)poll->step, EP_PACK_WORDS);
}

/* FA F3 16 and a length: a frame of len + 7 bytes whose CRC is right; our
 * request echoed (10 bytes, its start word one we send, its CRC right) is
 * skipped whole. */
static enum bms_scan ep_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	(void)poll;
	if (!bms_scan_start(buf, len, EP_SOF0, &r, n))
		return r;
	if ((len > 1 && buf[1] != EP_SOF1) || (len > 2 && buf[2] != EP_VER)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len >= EP_REQ_LEN && (bms_be16(buf + 3) == EP_TOTAL_START || bms_be16(buf + 3) == EP_PACK_START) &&
	    bms_crc16_modbus_ok(buf, EP_REQ_LEN)) {
		*n = EP_REQ_LEN;
		return BMS_SCAN_SKIP;
	}
	if (len < EP_HEAD)
		return BMS_SCAN_NEED;
	size_t total = (size_t)buf[4] + EP_OVER;
	if (len < total)
		return BMS_SCAN_NEED;
	return bms_scan_tail(bms_crc16_modbus_ok(buf, total), true, total, n);
}

static int ep_total(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	struct ep_state *st = BMS_PRIV(poll, struct ep_state);
	uint16_t soc = bms_be16(d + 8), soh = bms_be16(d + 10), packs = bms_be16(d + 42);
	if (soc > 100 || soh > 100 || packs < 1 || packs > EP_MAX_PACKS)
		return BMS_E_RANGE;
	memset(st, 0, sizeof(*st));
	st->packs = (uint8_t)packs;
	st->min_mv = UINT16_MAX;
	st->tmax = -INFINITY;
	st->tmin = INFINITY;
	s->soc = soc;
	s->soh = soh;
	s->voltage = (float)bms_be16(d + 14) / 100.0f;
	s->current = (float)bms_bes16(d + 16);
	if (poll->invert_current)
		s->current = -s->current;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH;
	return BMS_OK;
}

/* Pack p's cells and sensors (f: the whole frame of flen bytes). */
static int ep_pack(struct bms_poll *poll, const uint8_t *f, size_t flen)
{
	struct bms_snapshot *s = &poll->snap;
	struct ep_state *st = BMS_PRIV(poll, struct ep_state);
	unsigned nc = f[EP_O_NCELLS], nt = f[EP_O_NTEMPS];
	if (nc < 1 || nc > EP_PACK_CELLS || nt > EP_PACK_TEMPS || flen < EP_O_TEMPS + 2 * nt + 2)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < nc; i++) {
		uint16_t mv = bms_be16(f + EP_O_CELLS + 2 * i);
		if (poll->step == 1)
			s->cell_mv[i] = mv;
		if (mv > st->max_mv)
			st->max_mv = mv, st->max_cell = (uint8_t)(i + 1);
		if (mv < st->min_mv)
			st->min_mv = mv, st->min_cell = (uint8_t)(i + 1);
	}
	if (poll->step == 1) {
		s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < nc ? poll->cells_forced : nc);
		s->present |= BMS_HAS_CELLS;
	}
	for (unsigned i = 0; i < nt; i++) {
		float t = (float)bms_bes16(f + EP_O_TEMPS + 2 * i);
		st->tmax = fmaxf(st->tmax, t);
		st->tmin = fminf(st->tmin, t);
		if (s->ntemps < BMS_MAX_TEMPS)
			s->temp_c[s->ntemps++] = t;
	}
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	uint16_t cyc = bms_be16(f + EP_HEAD + 16);
	if (!(s->present & BMS_HAS_CYCLES) || cyc > s->cycles)
		s->cycles = cyc;
	s->present |= BMS_HAS_CYCLES;
	return BMS_OK;
}

static int ep_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	const struct ep_state *st = BMS_PRIV(poll, struct ep_state);
	if (len < EP_OVER || frame[0] != EP_SOF0 || frame[1] != EP_SOF1 || frame[2] != EP_VER)
		return len < EP_OVER ? BMS_E_SHORT : BMS_E_HEADER;
	if (len != (size_t)frame[4] + EP_OVER)
		return BMS_E_SHORT;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	int step = poll->step;
	bool total = step == 0;
	/* the answer of the read outstanding: its device and its length */
	if (step < 0 || (!total && step > st->packs) || frame[3] != (total ? 1 : step) ||
	    frame[4] != 2 * (total ? EP_TOTAL_WORDS : EP_PACK_WORDS))
		return BMS_E_UNEXPECTED;
	int rc = total ? ep_total(poll, frame + EP_HEAD) : ep_pack(poll, frame, len);
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

static int ep_finish(struct bms_poll *poll)
{
	const struct ep_state *st = BMS_PRIV(poll, struct ep_state);
	if (poll->step < 1 || poll->step <= st->packs)
		return BMS_E_INVALID;
	bms_set_cell_ext(&poll->snap, st->max_mv, st->max_cell, st->min_mv, st->min_cell);
	if (poll->snap.ntemps)
		bms_set_temp_ext(&poll->snap, st->tmax, st->tmin);
	return bms_check_pack(&poll->snap, false);
}

/* aiobmsble's epoch_pro_bms: FFE0, notify FFE4, write FFE1. */
static const struct bms_gatt ep_gatt[] = {
	BMS_GATT16("ffe0", "ffe4", "ffe1"),
	BMS_GATT_END,
};

/* --ble-scan: aiobmsble's matcher, service data under 3333 beside the
 * service FFE0 (the names are EpochGC2-<serial>), before FFE0 alone (JK's). */
static const struct bms_ble_hint ep_ble_hints[] = {
	{2, BMS_BLE_SERVICE_DATA, NULL, NULL, 0xFFE03333u, false, "service data 3333 with service FFE0 (Epoch Pro)"},
	{0},
};

static const struct bms_ble ep_ble = {
	.only = true,
	.gatt = ep_gatt,
	.hints = ep_ble_hints,
};

const struct bms_driver bms_epoch_pro_driver = {
	.name = "epoch-pro",
	.description = "Epoch Pro batteries over Bluetooth LE (FA F3 16 reads: the total, then each pack)",
	.vendor = "Epoch",
	.protocol_id = 67,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT,
	BMS_BLE_LINK,
	.next_request = ep_next_request,
	.scan = ep_scan,
	.handle = ep_handle,
	.finish = ep_finish,
	.ble = &ep_ble,
};
