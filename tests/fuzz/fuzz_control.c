/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_control.c - libFuzzer target: the MOSFET control step of
 * every driver that has one (daly, daly-modbus, jbd, jk, jk-pb, jk-ble), driven the
 * way gateway/poll/poller.c drives it: control->request() for the next frame,
 * then the BMS's bytes through scan() and control->ack() until the frame is
 * acknowledged, refused, or a timeout (a retry sends the same frame again).
 *
 * Input:
 *	byte 0	the driver (% 6)
 *	byte 1	the address
 *	byte 2	bits 0-1 which FETs (charge, discharge), bits 2-3 on, bits
 *		4-5 the intent, bit 6 persist (daly: the board answers at 0x80;
 *		daly-modbus over BLE: the D2 dialect is known), bit 7 over
 *		Bluetooth LE (bms_control.link)
 *	then events, by their first byte E:
 *	E == 0		a timeout: the same frame is sent again
 *	E == 0xFF	the acknowledgement the driver expects, synthesised from
 *			its own request (echo-like protocols) so that checksums a
 *			mutator cannot forge are right; the next byte mutates it
 *			(0 = as is, else XOR into byte next % length)
 *	otherwise	the next min(E, rest) bytes arrive as one read(), framed
 *			by the daemon's loop (bms_frames()).
 * Invariants: requests fit and are never longer than the buffer; a driver
 * sends at most one frame per FET it switches; control->ack() returns only
 * OK, REFUSED, UNEXPECTED or a framing/checksum error; the command's step
 * only ever grows; jbd always writes both lock bits from the intent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static const struct bms_driver *const drivers[] = {
	&bms_daly_driver, &bms_daly_modbus_driver, &bms_jbd_driver, &bms_jk_driver, &bms_jk_pb_driver,
	&bms_jk_ble_driver,
};
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* The acknowledgement a BMS would send to req (per protocol), in out. */
static size_t ack_of(const struct bms_driver *d, const struct bms_control *c, const uint8_t *req, size_t n,
		     uint8_t *out)
{
	if (d == &bms_daly_driver && n == 13) {
		memcpy(out, req, 13);
		/* the board number (over BLE the host is 0x80 for every board) */
		out[1] = (uint8_t)(c->link == BMS_LINK_BLE ? c->address : req[1] == 0x80 ? 1 : req[1] - 0x40 + 1);
		unsigned sum = 0;
		for (int i = 0; i < 12; i++)
			sum += out[i];
		out[12] = (uint8_t)sum;
		return 13;
	}
	if (d == &bms_daly_modbus_driver && n == 8 && req[0] == 0xD2) {
		memcpy(out, req, 8); /* D2 (BLE): the echo */
		return 8;
	}
	if (d == &bms_daly_modbus_driver && n == 8) {
		memcpy(out, req, 8);
		out[0] = (uint8_t)(req[0] - 0x80 + 0x50);
		uint16_t c = crc16(out, 6);
		out[6] = (uint8_t)c;
		out[7] = (uint8_t)(c >> 8);
		return 8;
	}
	if (d == &bms_jbd_driver && n == 9) {
		const uint8_t a[7] = { 0xDD, req[2], 0x00, 0x00, 0x00, 0x00, 0x77 };
		memcpy(out, a, 7);
		return 7;
	}
	if (d == &bms_jk_pb_driver && n >= 8) {
		memcpy(out, req, 6);
		uint16_t c = crc16(out, 6);
		out[6] = (uint8_t)c;
		out[7] = (uint8_t)(c >> 8);
		return 8;
	}
	return 0;
}

/* A command on the wire: what its frames did so far. */
struct acking {
	const struct bms_driver *d;
	struct bms_control *c;
	int frames;                 /* frames sent (a bad acknowledgement takes one back) */
	bool need_frame;            /* the next frame (or the same again) is due */
	bool refused;               /* the BMS said no: the command is over */
	struct bms_frame_counts fc; /* what the framing loop counted */
};

/* A frame the daemon's framing loop (bms_frames()) found while a control
 * frame waits: control->ack() and its invariants; on after an unexpected
 * one, else stop (the next frame, the same again, or the end). */
static enum bms_frame_next ack_take(void *ctx, const uint8_t *f, size_t fl)
{
	struct acking *a = ctx;
	REQUIRE(a->fc.bad_scan == 0); /* every length scan() gave was one of the bytes */
	int before = a->c->step;
	int rc = a->d->control->ack(a->c, f, fl);
	REQUIRE(rc == BMS_OK || rc == BMS_E_REFUSED || rc == BMS_E_UNEXPECTED || rc == BMS_E_CHECKSUM ||
		rc == BMS_E_HEADER || rc == BMS_E_SHORT);
	REQUIRE(a->c->step == before + (rc == BMS_OK));
	if (rc == BMS_E_UNEXPECTED)
		return BMS_FRAME_MORE;
	if (rc == BMS_E_REFUSED)
		a->refused = true;
	else if (rc != BMS_OK)
		a->frames--; /* a bad acknowledgement: the frame is sent again */
	a->need_frame = true;
	return BMS_FRAME_STOP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	const struct bms_driver *d = drivers[data[0] % NDRIVERS];
	REQUIRE(d->control && d->control->ack);
	struct bms_control c;
	memset(&c, 0, sizeof(c));
	c.address = data[1];
	for (int f = 0; f < 2; f++) {
		c.set[f] = (data[2] >> f) & 1;
		c.on[f] = (data[2] >> (2 + f)) & 1;
		c.intent[f] = (data[2] >> (4 + f)) & 1;
	}
	c.persist = (data[2] & 0x40) ? 1 : 0;
	c.link = (data[2] & 0x80) ? BMS_LINK_BLE : BMS_LINK_WIRE;
	int nset = c.set[0] + c.set[1];
	struct bms_poll poll;
	memset(&poll, 0, sizeof(poll));
	poll.address = c.address;
	poll.persist = c.persist;
	poll.link = c.link;
	struct bms_rx rx;
	bms_rx_clear(&rx);
	uint8_t req[256];
	struct acking a = { .d = d, .c = &c, .need_frame = true };
	size_t k = 3;
	int n = 0;
	while (k <= size) {
		if (a.need_frame) {
			int last_step = c.step;
			n = d->control->request(&c, req, sizeof(req));
			REQUIRE(n <= (int)sizeof(req));
			REQUIRE(c.step >= last_step);
			if (n <= 0)
				return 0; /* done, or an address the protocol refuses */
			a.frames++;
			REQUIRE(a.frames <= (d == &bms_jbd_driver ? 1 : nset));
			if (d == &bms_jbd_driver)
				REQUIRE(req[5] == ((c.intent[0] ? 0 : 1) | (c.intent[1] ? 0 : 2)));
			if (d == &bms_daly_driver && c.link == BMS_LINK_BLE)
				REQUIRE(req[1] == 0x80);
			if (d == &bms_daly_modbus_driver && c.link == BMS_LINK_BLE)
				REQUIRE(req[0] == 0xD2); /* persist 1: D2 known */
			a.need_frame = false;
			bms_rx_clear(&rx);
			if (d->control->unacked) {
				a.need_frame = true; /* nothing comes back */
				continue;
			}
		}
		if (k == size)
			break;
		uint8_t e = data[k++];
		if (e == 0) {
			c.step = c.step; /* the same frame again */
			a.frames--;
			a.need_frame = true;
			continue;
		}
		uint8_t in[256];
		size_t len;
		if (e == 0xFF) {
			len = ack_of(d, &c, req, (size_t)n, in);
			if (k < size) {
				uint8_t m = data[k++];
				if (m && len)
					in[m % len] ^= m;
			}
		} else {
			len = size - k < e ? size - k : e;
			memcpy(in, data + k, len);
			k += len;
		}
		bms_rx_feed(&rx, in, len);
		bms_frames(d, &poll, &rx, ack_take, &a, &a.fc);
		REQUIRE(a.fc.bad_scan == 0);
		if (a.refused)
			return 0;
	}
	return 0;
}
