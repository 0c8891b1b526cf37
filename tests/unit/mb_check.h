/* SPDX-License-Identifier: MIT */
/* tests/unit/mb_check.h - helpers shared by the unit tests of the Modbus
 * register-table drivers (test_seplos3.c, test_eg4_ll.c, test_renogy.c,
 * test_pace_modbus.c): an independent encoder of answers (not
 * bms/base/mbmaster.c, which is under test), the outstanding read, a valid
 * answer fed in every chunking, and the broken variants of a valid answer
 * (bad CRC, truncated, another address, impossible byte counts, garbage and
 * the request's echo before it).  The gateway's read loop is drive.h's.
 * Include after check.h; define `drv` (const struct bms_driver *) first,
 * and for a Bluetooth-only family (bms_mb_proto.ble) MB_BLE_SLAVE, the
 * slave its requests go to (an answer of any slave is then its), and for
 * one whose frames carry a prefix (bms_mb_proto.prefix) MB_BLE_PREFIX, its
 * bytes as a string literal ("\xA5\xA5"): requests and the frames fed in
 * are then the prefix and the Modbus frame (mb_prefixed()). */
#ifndef TESTS_MB_CHECK_H
#define TESTS_MB_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../bms/bms.h"
#include "drive.h"

/* The slave a poll's requests go to. */
#ifdef MB_BLE_SLAVE
#define MB_SLAVE_OF(poll) ((void)(poll), (uint8_t)MB_BLE_SLAVE)
#else
#define MB_SLAVE_OF(poll) ((poll)->address)
#endif
#ifdef MB_BLE_PREFIX
#define MB_PFX_LEN (sizeof(MB_BLE_PREFIX) - 1)
#else
#define MB_BLE_PREFIX ""
#define MB_PFX_LEN 0u
#endif

/* Chunk sizes the simulated read() returns, cycled. */
static const size_t chunks_odd[] = { 1, 1, 2, 5, 3, 7, 13, 1, 26, 3, 11, 1, 40, 64 };
static const size_t chunks_rand[] = { 17, 2, 90, 1, 1, 33, 4, 129, 6 };
#define MB_WAYS 6
#define MB_MAX_FRAME 260

/* Feed f[0..n) the way'th way: one byte at a time, odd chunks, at once,
 * other odd chunks, random chunks of 1..7 and of 1..64. */
static inline struct drive_res mb_feed_way(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *f, size_t n,
					   int way)
{
	struct drive_res r = { 0 };
	uint32_t seed = 7u + 13u * (unsigned)way;
	switch (way) {
	case 0: return FEED_BYTES(poll, rx, f, n, chunks_one);
	case 1: return FEED_BYTES(poll, rx, f, n, chunks_odd);
	case 2: return FEED_BYTES(poll, rx, f, n, chunks_big);
	case 3: return FEED_BYTES(poll, rx, f, n, chunks_rand);
	default: drive_feed_random(poll, rx, f, n, &seed, way == 4 ? 7 : 64, &r); return r;
	}
}

static inline size_t mb_put_crc(uint8_t *f, size_t n)
{
	uint16_t c = drive_crc16(f, n);
	f[n] = (uint8_t)c;
	f[n + 1] = (uint8_t)(c >> 8);
	return n + 2;
}

/* An answer of `addr` to a read of count registers v[] (FC 0x03 / 0x04)
 * or coils (FC 0x01: v[i] != 0 = on) into f; its length. */
static inline size_t mb_answer(uint8_t *f, uint8_t addr, uint8_t fc, const uint16_t *v, unsigned count)
{
	f[0] = addr;
	f[1] = fc;
	if (fc == 0x01) {
		f[2] = (uint8_t)((count + 7) / 8);
		memset(f + 3, 0, f[2]);
		for (unsigned i = 0; i < count; i++)
			if (v[i])
				f[3 + i / 8] |= (uint8_t)(1u << (i % 8));
	} else {
		f[2] = (uint8_t)(2 * count);
		for (unsigned i = 0; i < count; i++) {
			f[3 + 2 * i] = (uint8_t)(v[i] >> 8);
			f[4 + 2 * i] = (uint8_t)v[i];
		}
	}
	return mb_put_crc(f, 3u + f[2]);
}

static inline size_t mb_exception(uint8_t *f, uint8_t addr, uint8_t fc, uint8_t code)
{
	f[0] = addr;
	f[1] = (uint8_t)(fc | 0x80);
	f[2] = code;
	return mb_put_crc(f, 3);
}

/* The Modbus frame f[0..n) behind the prefix (f has room for it): the
 * length of the whole. */
static inline size_t mb_prefixed(uint8_t *f, size_t n)
{
	memmove(f + MB_PFX_LEN, f, n);
	memcpy(f, MB_BLE_PREFIX, MB_PFX_LEN);
	return MB_PFX_LEN + n;
}

/* A hex string into f[0..MB_MAX_FRAME): its length. */
static inline size_t mb_hex(const char *h, uint8_t *f)
{
	return (size_t)drive_hex(h, f, MB_MAX_FRAME);
}

/* Is the poll's next request exactly the hex string h? */
static inline bool mb_req_is(struct bms_poll *poll, const char *h)
{
	uint8_t req[16], want[16];
	int n = drv->next_request(poll, req, sizeof(req));
	return n == (int)(8 + MB_PFX_LEN) && check_hex(h, want, (int)sizeof(want)) == n &&
	       memcmp(req, want, (size_t)n) == 0;
}

/* The driver table of a register-table protocol: its name and id, baud,
 * addresses (default: the lowest, or dflt), answers from other addresses
 * taken when configured, no MOSFET control. */
static inline void mb_check_table(const char *name, int id, int baud, int lo, int hi, int dflt)
{
	CHECK_STR(drv->name, name);
	CHECK_EQ_INT(drv->protocol_id, id);
	CHECK_EQ_INT(drv->default_baud, baud);
	CHECK_EQ_INT(drv->min_address, lo);
	CHECK_EQ_INT(drv->max_address, hi);
	CHECK_EQ_INT(drv->default_address, dflt);
	CHECK(drv->any_address);
	CHECK(drv->control == NULL);
	CHECK(drv->finish != NULL && drv->timeout != NULL);
	CHECK(bms_find(name) == drv);
}

/* The outstanding read: false when the poll is complete (or refuses). */
static inline bool mb_outstanding(struct bms_poll *poll, uint8_t *fc, uint16_t *start, uint16_t *count)
{
	uint8_t buf[16];
	int n = drv->next_request(poll, buf, sizeof(buf));
	if (n != (int)(8 + MB_PFX_LEN))
		return false;
	CHECK(memcmp(buf, MB_BLE_PREFIX, MB_PFX_LEN) == 0);
	const uint8_t *req = buf + MB_PFX_LEN;
	CHECK_EQ_INT(req[0], MB_SLAVE_OF(poll));
	CHECK_EQ_INT(req[6] | req[7] << 8, drive_crc16(req, 6));
	*fc = req[1];
	*start = (uint16_t)(req[2] << 8 | req[3]);
	*count = (uint16_t)(req[4] << 8 | req[5]);
	return true;
}

/* Start of the outstanding read, -1 when the poll is complete. */
static inline int mb_cur(struct bms_poll *poll)
{
	uint8_t fc;
	uint16_t start, count;
	return mb_outstanding(poll, &fc, &start, &count) ? start : -1;
}

/* Step the poll on to the read of fc at start (true if there is one). */
static inline bool mb_goto(struct bms_poll *poll, uint8_t fc, uint16_t start)
{
	for (int i = 0; i < 16; i++) {
		uint8_t f;
		uint16_t s, c;
		poll->step = i;
		if (mb_outstanding(poll, &f, &s, &c) && f == fc && s == start)
			return true;
	}
	return false;
}

/* The valid answer f[0..n) to the read outstanding in *p0, in every
 * chunking, from a clean buffer: one frame, handled BMS_OK, nothing
 * skipped; check() looks at each resulting poll.  *p0 is left as after the
 * last. */
static inline void mb_every_chunking(struct bms_poll *p0, const uint8_t *f, size_t n,
				     void (*check)(const struct bms_poll *poll))
{
	const struct bms_poll start = *p0;
	for (int way = 0; way < MB_WAYS; way++) {
		struct bms_rx rx = { 0 };
		*p0 = start;
		struct drive_res r = mb_feed_way(p0, &rx, f, n, way);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(rx.len, 0);
		if (check)
			check(p0);
	}
}

/* Feed f[0..n) to a copy of *p0 in every chunking: nothing is handled BMS_OK
 * and the read stays outstanding; returns the checksum errors counted by
 * the last way. */
static inline int mb_not_taken(const struct bms_poll *p0, const uint8_t *f, size_t n)
{
	int badsum = 0;
	for (int way = 0; way < MB_WAYS; way++) {
		struct bms_poll poll = *p0;
		struct bms_rx rx = { 0 };
		struct drive_res r = mb_feed_way(&poll, &rx, f, n, way);
		CHECK_EQ_INT(r.ok, 0);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(poll.step, p0->step);
		badsum = r.badsum;
	}
	return badsum;
}

/* The broken variants of the valid answer f[0..n) to the read outstanding
 * in *p0. */
static inline void mb_broken(const struct bms_poll *p0, const uint8_t *f, size_t n)
{
	uint8_t b[MB_MAX_FRAME + 64];
	const size_t P = MB_PFX_LEN; /* the Modbus frame is f[P..n) */
	CHECK(n >= 7 + P && n <= MB_MAX_FRAME);
	/* a bad CRC: counted, dropped whole */
	memcpy(b, f, n);
	b[n - 1] ^= 0x5A;
	CHECK_EQ_INT(mb_not_taken(p0, b, n), 1);
	/* a data byte changed: the CRC fails */
	memcpy(b, f, n);
	b[P + 3] ^= 0x01;
	CHECK_EQ_INT(mb_not_taken(p0, b, n), 1);
	/* truncated: waits for the rest */
	for (size_t cut = 1; cut < n; cut += (n - cut > 9 ? 7 : 1))
		CHECK_EQ_INT(mb_not_taken(p0, f, cut), 0);
	/* from another address (a CRC of its own): not ours; taken with
	 * address_any (over Bluetooth, always: one BMS on the link) */
	memcpy(b, f, n);
	b[P] = (uint8_t)(f[P] + 1);
	mb_put_crc(b + P, n - P - 2);
#ifndef MB_BLE_SLAVE
	CHECK_EQ_INT(mb_not_taken(p0, b, n), 0);
#endif
	struct bms_poll any = *p0;
	any.address_any = true;
	struct bms_rx rx = { 0 };
	struct drive_res r = FEED_BYTES(&any, &rx, b, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	/* impossible byte counts (with a right CRC): a register short, a
	 * register too many, none */
	memcpy(b, f, n - 2);
	b[P + 2] = (uint8_t)(f[P + 2] - 2);
	CHECK_EQ_INT(mb_not_taken(p0, b, P + mb_put_crc(b + P, n - P - 4)), 0);
	memcpy(b, f, n - 2);
	b[P + 2] = (uint8_t)(f[P + 2] + 2);
	b[n - 2] = 0;
	b[n - 1] = 0;
	CHECK_EQ_INT(mb_not_taken(p0, b, P + mb_put_crc(b + P, n - P)), 0);
	memcpy(b, f, P + 3);
	b[P + 2] = 0;
	CHECK_EQ_INT(mb_not_taken(p0, b, P + mb_put_crc(b + P, 3)), 0);
	/* another function code (an answer to a write, then to a read of
	 * another kind): ignored */
	memcpy(b, f, n - 2);
	b[P + 1] = f[P + 1] == 0x03 ? 0x04 : 0x03;
	if (f[P + 1] == 0x01)
		b[P + 1] = 0x02;
	CHECK_EQ_INT(mb_not_taken(p0, b, P + mb_put_crc(b + P, n - P - 2)), 0);
	/* the request's echo and garbage before the answer: taken all the same */
	uint8_t req[16];
	struct bms_poll poll = *p0;
	int rn = drv->next_request(&poll, req, sizeof(req));
	CHECK_EQ_INT(rn, (int)(8 + P));
	if (rn != (int)(8 + P))
		return;
	static const uint8_t junk[] = { 0x00, 0xFF, 0x55, 0x03 };
	memcpy(b, req, (size_t)rn);
	memcpy(b + rn, junk, sizeof(junk));
	memcpy(b + rn + sizeof(junk), f, n);
	for (int way = 0; way < MB_WAYS; way++) {
		poll = *p0;
		bms_rx_clear(&rx);
		r = mb_feed_way(&poll, &rx, b, n + (size_t)rn + sizeof(junk), way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(r.skipped, rn + (int)sizeof(junk));
	}
}

/* Every read the poll makes: within the protocol's documented blocks
 * (listed as fc, start, count triples), never a write. */
static inline void mb_reads_only(struct bms_poll *poll, const uint16_t (*blocks)[3], size_t nblocks)
{
	for (int i = 0; i < 16; i++) {
		uint8_t fc;
		uint16_t start, count;
		poll->step = i;
		if (!mb_outstanding(poll, &fc, &start, &count))
			continue;
		bool known = false;
		for (size_t k = 0; k < nblocks; k++)
			known |= fc == blocks[k][0] && start == blocks[k][1] && count == blocks[k][2];
		CHECK(known);
	}
}

#endif
