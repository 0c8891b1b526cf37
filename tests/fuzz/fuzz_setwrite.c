/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_setwrite.c - libFuzzer target: a change of a BMS's own
 * setting (bms/setwrite.h) by every driver that writes one (jbd, daly,
 * jk-pb, jk-ble, daly-modbus's D2 dialect),
 * driven as gateway/poll/bmsset.c drives it through control's fence:
 * request() for the next frame, the BMS's bytes through the daemon's
 * framing loop (bms_frames()) into answer(), a timeout that sends the same
 * frame again or gives up (quit).
 *
 * Input:
 *	byte 0	the driver (% 5), byte 1 the key (% BMS_W_COUNT), byte 2 the
 *		address, bytes 3-4 the raw value (u16 BE, signed for a
 *		negative field), byte 5 bit 0 over Bluetooth LE, bits 1-2 persist
 *		(jbd: factory mode entered; jk-ble: the layout known, JK02_24S;
 *		daly-modbus: a dialect known, the 0x81 one)
 *	then events, by their first byte E:
 *	E == 0		a timeout: the same frame again, or (E's next byte odd) quit
 *	E == 0xFF	the answer the family would give, made from the request
 *			(its checksum right; jk-pb's and jk-ble's read-back a
 *			settings record holding the value written; a D2 read: the
 *			next byte's registers), the next
 *			byte XORed into it
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * Invariants: requests fit their buffer; the step never goes back; after
 * quit or a refusal at most the frames that leave an unlock follow (jbd:
 * one); answer() returns only OK, REFUSED, UNEXPECTED, a framing error or
 * (daly-modbus: an over-current register at 0 A) RANGE; daly-modbus sends
 * a write only in D2, over Bluetooth LE, after its read was answered, of
 * its key's register;
 * a change over (request() 0) that was unlocked is left.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static const struct bms_driver *const drivers[] = { &bms_jbd_driver, &bms_daly_driver, &bms_jk_pb_driver,
						    &bms_jk_ble_driver, &bms_daly_modbus_driver };
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

/* A JK settings record (type 1) into out whose field at off holds v. */
static size_t jk_settings(uint8_t *out, unsigned off, uint32_t v)
{
	memset(out, 0, 300);
	static const uint8_t magic[4] = { 0x55, 0xAA, 0xEB, 0x90 };
	memcpy(out, magic, 4);
	out[4] = 1;
	for (int i = 0; i < 4; i++)
		out[off + (unsigned)i] = (uint8_t)(v >> (8 * i));
	unsigned s = 0;
	for (int i = 0; i < 299; i++)
		s += out[i];
	out[299] = (uint8_t)s;
	return 300;
}

/* jk-pb: the write's FC16 answer; the trigger's settings record (the value
 * written at the field's offset) and its FC16 answer. */
static size_t jkpb_answer(const struct bms_wchange *c, const uint8_t *req, size_t n, uint8_t *out)
{
	size_t k = 0;
	if (n == 11) {
		unsigned reg = c->key < BMS_W_COUNT ? bms_jk_pb_driver.writer->field[c->key].reg : 0x1000;
		k = jk_settings(out, reg >= 0x1000 && reg < 0x1100 ? reg - 0x1000 + 6 : 6, (uint32_t)c->raw);
	}
	memcpy(out + k, req, 6);
	uint16_t crc = bms_crc16_modbus(out + k, 6);
	out[k + 6] = (uint8_t)crc;
	out[k + 7] = (uint8_t)(crc >> 8);
	return k + 8;
}

/* jk-ble: the 0xC8 acknowledgement of a write; the settings record of 0x96. */
static size_t jkble_answer(const struct bms_wchange *c, const uint8_t *req, uint8_t *out)
{
	if (req[4] == 0x96) {
		unsigned reg = c->key < BMS_W_COUNT ? bms_jk_ble_driver.writer->field[c->key].reg : 1;
		return jk_settings(out, reg >= 1 && reg <= 0x40 ? 6 + 4 * (reg - 1) : 6, (uint32_t)c->raw);
	}
	static const uint8_t ack[20] = { 0xAA, 0x55, 0x90, 0xEB, 0xC8, 0x01, 0x01, [19] = 0x44 };
	memcpy(out, ack, 20);
	return 20;
}

/* The answer the family gives to req. */
/* daly-modbus D2: a read's registers, each the value v (an over-current's
 * side: v's), or the echo of a write. */
static size_t d2_answer(const uint8_t *req, uint8_t *out, uint16_t v)
{
	size_t len = 6;
	if (req[1] == 0x03) {
		unsigned cnt = req[5] ? req[5] : 1;
		out[0] = 0xD2;
		out[1] = 0x03;
		out[2] = (uint8_t)(2 * cnt);
		for (unsigned i = 0; i < cnt && i < 4; i++) {
			out[3 + 2 * i] = (uint8_t)(v >> 8);
			out[4 + 2 * i] = (uint8_t)v;
		}
		len = 3 + 2 * (cnt < 4 ? cnt : 4);
	} else {
		memcpy(out, req, 6); /* the echo */
	}
	uint16_t crc = bms_crc16_modbus(out, len);
	out[len] = (uint8_t)crc;
	out[len + 1] = (uint8_t)(crc >> 8);
	return len + 2;
}

static size_t answer_of(const struct bms_driver *d, const struct bms_wchange *c, const uint8_t *req, size_t n,
			uint8_t *out, uint16_t v)
{
	if (d == &bms_daly_modbus_driver && n == 8)
		return d2_answer(req, out, v);
	if (d == &bms_jk_pb_driver && (n == 11 || n == 13))
		return jkpb_answer(c, req, n, out);
	if (d == &bms_jk_ble_driver && n == 20)
		return jkble_answer(c, req, out);
	if (d == &bms_jbd_driver && n >= 7) {
		bool read = req[1] == 0xA5;
		uint8_t f[9] = { 0xDD, req[2], 0x00, (uint8_t)(read ? 2 : 0), 0x0E, 0x10 };
		size_t dl = read ? 2 : 0;
		unsigned s = f[2] + f[3] + (read ? f[4] + f[5] : 0);
		unsigned cs = (0x10000u - s) & 0xFFFFu;
		f[4 + dl] = (uint8_t)(cs >> 8);
		f[5 + dl] = (uint8_t)cs;
		f[6 + dl] = 0x77;
		memcpy(out, f, 7 + dl);
		return 7 + dl;
	}
	if (d == &bms_daly_driver && n == 13) {
		memcpy(out, req, 13);
		out[1] = 1;
		out[4] = 1;
		unsigned s = 0;
		for (int i = 0; i < 12; i++)
			s += out[i];
		out[12] = (uint8_t)s;
		return 13;
	}
	return 0;
}

struct run {
	const struct bms_driver *d;
	struct bms_wchange *c;
	bool need;
	struct bms_frame_counts fc;
};

static enum bms_frame_next take(void *ctx, const uint8_t *f, size_t fl)
{
	struct run *r = ctx;
	int before = r->c->step;
	int rc = r->d->writer->answer(r->c, f, fl);
	REQUIRE(rc == BMS_OK || rc == BMS_E_REFUSED || rc == BMS_E_UNEXPECTED || rc == BMS_E_CHECKSUM ||
		rc == BMS_E_HEADER || rc == BMS_E_SHORT || (rc == BMS_E_RANGE && r->d == &bms_daly_modbus_driver));
	REQUIRE(r->c->step >= before);
	if (rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc != BMS_OK && rc != BMS_E_REFUSED)
		r->c->quit = true; /* a wrong answer: the gateway gives up */
	r->need = true;
	return BMS_FRAME_STOP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	const struct bms_driver *d = drivers[data[0] % NDRIVERS];
	struct bms_wchange c;
	memset(&c, 0, sizeof(c));
	c.key = (uint8_t)(data[1] % BMS_W_COUNT);
	const struct bms_wfield *fl = &d->writer->field[c.key];
	if (!fl->mul)
		return 0;
	int64_t raw = (int64_t)(data[3] << 8 | data[4]);
	c.raw = fl->lo < 0 ? raw - 65536 : raw;
	if (c.raw < fl->lo || c.raw > fl->hi)
		return 0;
	c.address = data[2];
	c.link = (data[5] & 1) ? BMS_LINK_BLE : BMS_LINK_WIRE;
	c.persist = (data[5] >> 1) & 3;
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	poll.link = c.link; /* the framer takes D2 frames over Bluetooth LE only */
	struct bms_rx rx;
	bms_rx_clear(&rx);
	uint8_t req[256];
	struct run r = { .d = d, .c = &c, .need = true };
	size_t k = 6;
	int n = 0, after_quit = 0;
	bool resent = false;
	for (int guard = 0; guard < 4096; guard++) {
		if (r.need) {
			int step = c.step;
			n = d->writer->request(&c, req, sizeof(req));
			REQUIRE(n <= (int)sizeof(req));
			REQUIRE(c.step >= step);
			if (n <= 0) {
				REQUIRE(n < 0 || !c.unlocked || c.quit || c.refused); /* left, or given up on */
				return 0;
			}
			if ((c.quit || c.refused) && !resent)
				REQUIRE(++after_quit <= 2); /* the frame that leaves the unlock, and its end */
			if (d == &bms_daly_modbus_driver && req[1] == 0x06) /* a D2 write, of the key's register, read first */
				REQUIRE(c.link == BMS_LINK_BLE && req[0] == 0xD2 && c.have_old && (c.persist & 3) != 3 &&
					(req[2] << 8 | req[3]) == fl->reg && !c.quit && !c.refused);
			r.need = false;
			resent = false;
			bms_rx_clear(&rx);
		}
		if (k >= size)
			return 0;
		uint8_t e = data[k++];
		uint8_t in[512];
		size_t len;
		if (e == 0) { /* no answer: the same frame again, or the gateway gives up */
			bool give_up = k < size && (data[k++] & 1);
			if (give_up && (c.quit || c.refused))
				return 0; /* what leaves the unlock went unanswered: the end */
			c.quit = c.quit || give_up;
			resent = !give_up;
			r.need = true;
			continue;
		}
		if (e == 0xFF) {
			len = answer_of(d, &c, req, (size_t)n, in, (uint16_t)(k < size ? 29000u + 10u * data[k] : 0));
			if (k < size && len)
				in[data[k] % len] ^= data[k];
			k++;
		} else {
			len = size - k < e ? size - k : e;
			memcpy(in, data + k, len);
			k += len;
		}
		bms_rx_feed(&rx, in, len);
		bms_frames(d, &poll, &rx, take, &r, &r.fc);
	}
	return 0;
}
