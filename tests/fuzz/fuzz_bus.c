/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_bus.c - libFuzzer target: listen mode's reading of a bus
 * another master polls (bms/bus.h), as gateway/poll/listener.c reads it:
 * the bytes through a driver's bus framer (bms_bus_scan() with its
 * struct bms_listen.at), the frames through the pairer (bms_bus_pair()),
 * each answer to the driver's hear() on a poll of the pack at its address
 * (begun by bms_poll_begin(), refresh set, as the listener does), a poll
 * complete when a key comes round, judged by finish() and bms_plausible().
 *
 * Input:
 *	byte 0	the driver: the one whose protocol id it is, if that one can
 *		listen, else the listening drivers' (byte mod their number)
 *	byte 1	bit 0 invert_current, bit 6 set: cells_forced = bits 0..5
 *	then events, by their first byte E:
 *	E == 0xFF	a Modbus frame with a correct CRC: the next byte is its
 *			length before the CRC (2..255), its bytes the input's
 *			(zero-padded), arriving as one read
 *	E == 0xFE	a JK-PB 300-byte record (55 AA EB 90, the type from the
 *			next byte, 1..3, the rest of the input, its sum8)
 *	E == 0xFD	a paceic frame built whole: VER, ADR, CID1, CID2, the
 *			INFO length (mod 64), INFO from the input
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * Checked: the framer's lengths (a frame inside the bytes, its length the
 * frame's; a skip of 1 .. the bytes, a bad checksum's of 1), the kinds, the pairs (the request
 * kept no longer than BMS_BUS_REQ_MAX, present exactly when its length is
 * not 0), hear()'s results (a key below BMS_LISTEN_KEYS or a BMS_E_*
 * code), and that a completed poll the plausibility gate lets through has
 * only a battery's values (the bounds of fuzz_drive.h, written apart from
 * bms/base/plausible.c); the sanitizers: no read out of bounds, no overflow. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/bus.h"
#include "../../bms/jkrecord.h"
#include "../../bms/pylonframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

#include "fuzz_served.h"

struct fz {
	const struct bms_driver *drv;
	struct bms_rx rx;
	struct bms_bus_pairer pr;
	struct bms_poll poll;
	bool begun;
	uint32_t got;
	uint8_t cells_forced;
	bool invert;
};

static const struct bms_driver *pick(uint8_t b)
{
	const struct bms_driver *can[64];
	int n = 0;
	for (int i = 0; bms_drivers[i] && n < 64; i++) {
		if (!bms_drivers[i]->listen)
			continue;
		if (bms_drivers[i]->protocol_id == b)
			return bms_drivers[i];
		can[n++] = bms_drivers[i];
	}
	return n ? can[b % n] : NULL;
}

/* The poll is complete: judged as the poller judges a heard one. */
static void complete(struct fz *z)
{
	if (!z->begun)
		return;
	int rc = z->drv->finish ? z->drv->finish(&z->poll) : BMS_OK;
	REQUIRE(rc == BMS_OK || rc < 0);
	if (rc == BMS_OK)
		fuzz_served(&z->poll.snap);
	z->begun = false;
	z->got = 0;
}

static void begin(struct fz *z, uint8_t addr)
{
	bms_poll_begin(&z->poll, addr, z->cells_forced, z->invert);
	z->poll.refresh = true;
	z->poll.link = BMS_LINK_WIRE;
	z->begun = true;
	z->got = 0;
}

/* An answer of the pack at a->addr, as li_hear() takes it. */
static void heard(struct fz *z, const struct bms_bus_answer *a)
{
	if (!z->begun || z->poll.address != a->addr) {
		complete(z);
		begin(z, a->addr);
	}
	struct bms_poll c = z->poll;
	int key = z->drv->listen->hear(&c, a->req, a->rn, a->ans, a->an);
	REQUIRE(key < BMS_LISTEN_KEYS && key >= BMS_E_KEY);
	if (key < 0)
		return;
	if (key < BMS_LISTEN_EXTRA && (z->got & (1u << key))) {
		complete(z); /* the master came round */
		begin(z, a->addr);
		c = z->poll;
		key = z->drv->listen->hear(&c, a->req, a->rn, a->ans, a->an);
		REQUIRE(key < BMS_LISTEN_KEYS && key >= BMS_E_KEY);
		if (key < 0)
			return;
	}
	z->poll = c;
	if (key < BMS_LISTEN_EXTRA)
		z->got |= 1u << key;
}

static void frame(struct fz *z, const struct bms_bus_frame *f, const uint8_t *b)
{
	REQUIRE(f->kind <= BMS_BUS_ACK);
	struct bms_bus_answer a;
	int r = bms_bus_pair(&z->pr, f, b, &a);
	REQUIRE(r == BMS_BUS_NOTHING || r == BMS_BUS_ASKED || r == BMS_BUS_ANSWERED);
	REQUIRE((r == BMS_BUS_ASKED) == (f->kind == BMS_BUS_REQUEST));
	if (r != BMS_BUS_ANSWERED)
		return;
	REQUIRE(f->kind != BMS_BUS_REQUEST);
	REQUIRE(a.rn <= BMS_BUS_REQ_MAX && (a.rn == 0) == (a.req == NULL));
	REQUIRE(a.an > 0 && a.ans != NULL);
	if (f->kind == BMS_BUS_ACK) /* the anonymous answer before it, kept */
		REQUIRE(a.addr == f->addr && a.an <= BMS_BUS_ANON_MAX);
	else /* an answer, or an anonymous one after its acknowledgement */
		REQUIRE(a.ans == b && a.an == f->len && (f->kind == BMS_BUS_ANON || a.addr == f->addr));
	heard(z, &a);
}

/* One read() of n bytes, framed as the listener frames it. */
static void bytes(struct fz *z, const uint8_t *p, size_t n)
{
	bms_rx_feed(&z->rx, p, n);
	REQUIRE(z->rx.len <= BMS_RX_CAP);
	for (;;) {
		struct bms_bus_frame f;
		size_t k = 0;
		enum bms_scan r = bms_bus_scan(z->drv->listen->at, &z->pr.ctx, z->rx.buf, z->rx.len, &f, &k);
		if (r == BMS_SCAN_NEED)
			return;
		REQUIRE(k >= 1 && k <= z->rx.len);
		if (r == BMS_SCAN_FRAME) {
			REQUIRE(f.len == k);
			frame(z, &f, z->rx.buf);
		} else {
			REQUIRE(r == BMS_SCAN_SKIP || (r == BMS_SCAN_BADSUM && k == 1));
		}
		bms_rx_consume(&z->rx, k);
	}
}

/* The synthesised frames (E = 0xFF, 0xFE, 0xFD): the input bytes used. */
static size_t synth(struct fz *z, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t b[BMS_RX_CAP];
	size_t used = 0, n = 0;
	if (e == 0xFF && avail >= 1) {
		n = p[0] < 2 ? 2 : p[0];
		used = 1 + (avail - 1 < n ? avail - 1 : n);
		memset(b, 0, n);
		memcpy(b, p + 1, used - 1);
		uint16_t c = bms_crc16_modbus(b, n);
		b[n++] = (uint8_t)c;
		b[n++] = (uint8_t)(c >> 8);
	} else if (e == 0xFE && avail >= 1) {
		n = JK_RECORD_LEN;
		memset(b, 0, n);
		memcpy(b, jk_record_magic, sizeof(jk_record_magic));
		b[JK_RECORD_TYPE] = (uint8_t)(1 + p[0] % 3);
		size_t body = JK_RECORD_LEN - 1 - (JK_RECORD_TYPE + 1);
		used = 1 + (avail - 1 < body ? avail - 1 : body);
		memcpy(b + JK_RECORD_TYPE + 1, p + 1, used - 1);
		b[JK_RECORD_SUM] = jk_record_sum(b, JK_RECORD_LEN - 1);
	} else if (e == 0xFD && avail >= 5) {
		size_t ninfo = p[4] % 64;
		used = 5 + (avail - 5 < ninfo ? avail - 5 : ninfo);
		int r = bms_pylonframe_build(b, sizeof(b), p[0], p[1], p[2], p[3], p + 5, used - 5);
		n = r > 0 ? (size_t)r : 0;
	} else {
		return 0;
	}
	if (n)
		bytes(z, b, n);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	static struct fz z;
	memset(&z, 0, sizeof(z));
	z.drv = pick(data[0]);
	if (!z.drv)
		return 0;
	z.invert = data[1] & 1;
	z.cells_forced = (data[1] & 0x40) ? (data[1] & 0x3F) : 0;
	bms_bus_pair_reset(&z.pr);
	size_t i = 2;
	while (i < size) {
		uint8_t e = data[i++];
		if (e >= 0xFD) {
			i += synth(&z, e, data + i, size - i);
			continue;
		}
		size_t n = e < size - i ? e : size - i;
		if (n == 0)
			continue;
		bytes(&z, data + i, n);
		i += n;
	}
	complete(&z);
	return 0;
}
