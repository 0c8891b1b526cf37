/* SPDX-License-Identifier: MIT */
/* tests/unit/test_myvolta.c - Volta Power Systems (myVolta) over Bluetooth
 * LE (bms/myvolta.c): the myvolta rows of tests/fixtures/vectors.tsv (the
 * stream aiobmsble's test records: a 14S pack, 57.345 V, -0.56 A, SOC
 * 94.2 %) through scan() + handle() as the gateway's listening poll runs
 * them, in every chunking and in random ones, inverted, with the cells
 * forced; joined mid-message, after garbage, with messages cut short; and
 * broken: a DLE stuffing error, a bad checksum, the wrong data length, a
 * message short or one byte too long (the framer's exact bound, 16 bytes
 * unstuffed), SOC and voltage out of range, the stuffed bytes 05 55 04 in
 * the data; slots with no sensor; all twelve sensors served (issue 89:
 * eight were, BMS_MAX_TEMPS is 16 now), one of 9..12 out of range a
 * sensor fault of its own.  Nothing is ever written (listen only).
 * Protocol facts: bms/PROTOCOLS.md §68. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_myvolta_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family myvolta: the capture's messages in its
 * order (its second 0x22 left out) */
#define MYVOLTA_01 "555583000801740404"
#define MYVOLTA_02 "55550100020000000801e0c8ff14e0ae03a80404"
#define MYVOLTA_03 "55550101020000000803000017000063e0970404"
#define MYVOLTA_04 "5555011102000000080810081008100810840404"
#define MYVOLTA_05 "5555011202000000080810081003100810880404"
#define MYVOLTA_06 "555501130200000008ff0f0810081008108c0404"
#define MYVOLTA_07 "5555011402000000080810081000000100b00404"
#define MYVOLTA_08 "5555012102000000080080008000800080d40404"
#define MYVOLTA_09 "5555012202000000080080008000002503ab0404"
#define MYVOLTA_10 "555501240200000008ab00ac00ac00ad00210404"
#define MYVOLTA_11 "555501250200000008ac00ac00a600a8002a0404"
#define MYVOLTA_12 "555501260200000008a700a600a900a600330404"
#define MYVOLTA_13 "555501270200000008dcfddcfddcfddcfd6a0404"
#define MYVOLTA_14 "555501280200000008dcfddcfddcfddcfd690404"
#define MYVOLTA_15 "555501290200000008dcfddcfddcfddcfd680404"

static const char *const stream_hex[] = {
	MYVOLTA_01, MYVOLTA_02, MYVOLTA_03, MYVOLTA_04, MYVOLTA_05, MYVOLTA_06, MYVOLTA_07, MYVOLTA_08,
	MYVOLTA_09, MYVOLTA_10, MYVOLTA_11, MYVOLTA_12, MYVOLTA_13, MYVOLTA_14, MYVOLTA_15,
};

/* The stream, hex decoded: bytes 0..stream_len. */
static uint8_t stream[512];
static size_t stream_len;

static void stream_of(void)
{
	for (size_t i = 0; i < DRIVE_NCH(stream_hex); i++)
		stream_len += (size_t)drive_hex(stream_hex[i], stream + stream_len, (int)(sizeof(stream) - stream_len));
}

/* A message of type t with data d, stuffed as the BMS stuffs (05 before
 * 05, 55 and 04), its checksum right unless sum_delta; extra: one more
 * body byte before the checksum (17 unstuffed).  Its length. */
static size_t message(uint8_t *out, uint8_t t, const uint8_t d[8], uint8_t dlen, int sum_delta, bool extra)
{
	uint8_t body[17] = { 0x01, t, 0x02, 0, 0, 0, dlen };
	size_t nb = 7;
	memcpy(body + nb, d, 8);
	nb += 8;
	if (extra)
		body[nb++] = 0x10;
	unsigned sum = 0;
	for (size_t i = 1; i < nb; i++)
		sum += body[i];
	body[nb++] = (uint8_t)((0xFF ^ (sum & 0xFF)) + sum_delta);
	size_t n = 0;
	out[n++] = 0x55;
	out[n++] = 0x55;
	for (size_t i = 0; i < nb; i++) {
		if (body[i] == 0x05 || body[i] == 0x55 || body[i] == 0x04)
			out[n++] = 0x05;
		out[n++] = body[i];
	}
	out[n++] = 0x04;
	out[n++] = 0x04;
	return n;
}

static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *p, size_t n,
			     const struct drive_chunking *c, bool inv, uint8_t forced)
{
	drive_begin_link(poll, rx, 0, forced, inv, BMS_LINK_BLE, true);
	return drive_feed_bytes(poll, rx, p, n, c->ch, c->n);
}

/* handle() of one message (bytes) on a fresh poll. */
static int handle_bytes(const uint8_t *m, size_t n)
{
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	return drv->handle(&poll, m, n);
}

/* The capture's sample (aiobmsble's test's values; 14 cells, §68.4): its
 * twelve sensors, all served (0x24 .. 0x26). */
static void check_capture(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[14] = { 4104, 4104, 4104, 4104, 4104, 4104, 4099,
					4104, 4095, 4104, 4104, 4104, 4104, 4104 };
	static const float t[12] = { 17.1f, 17.2f, 17.2f, 17.3f, 17.2f, 17.2f,
				     16.6f, 16.8f, 16.7f, 16.6f, 16.9f, 16.6f };
	drive_check_cells(s, c, 14);
	CHECK_NEAR(s->voltage, 57.345, 1e-4);
	CHECK_NEAR(s->current, inv ? 0.56 : -0.56, 1e-5);
	CHECK_NEAR(s->soc, 94.2, 1e-4);
	CHECK_EQ_INT(s->ntemps, 12);
	for (int i = 0; i < 12; i++)
		CHECK_NEAR(s->temp_c[i], t[i], 1e-4);
	CHECK_NEAR(s->ext_tmax_c, 17.3, 1e-4); /* of all twelve */
	CHECK_NEAR(s->ext_tmin_c, 16.6, 1e-4);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_TEMPS |
					 BMS_HAS_TEMP_EXT | BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "myvolta");
	CHECK_EQ_INT(drv->protocol_id, 59);
	CHECK(bms_find("myvolta") == drv);
	CHECK(bms_ble_only(drv) && drv->listen_only && !drv->next_request && !drv->listens);
	CHECK_STR(drv->ble->gatt[0].service, "00035b03-58e6-07dd-021a-08123a000300");
	CHECK_STR(drv->ble->gatt[0].notify, "00035b03-58e6-07dd-021a-08123a000301");
	CHECK(drv->ble->gatt[0].write == NULL); /* nothing is ever written */
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!drv->control && !drv->probe && !drv->ble->company && !drv->ble->auth);
	CHECK(drive_hinted("VPS-197B") && drive_hinted("VPS-1A50") && drive_hinted("VPS-00ff"));
	/* any other RN4020 module's name, or a name merely like it */
	CHECK(!drive_hinted("VPS-") && !drive_hinted("VPS-197") && !drive_hinted("VPS-197B0") &&
	      !drive_hinted("VPS-19GB") && !drive_hinted("vps-197b") && !drive_hinted("RN4020_1A2B") &&
	      !drive_hinted("VPS197B"));
}

/* The capture in every chunking, inverted too: the sample completes at
 * 0x26; 0x83 is skipped whole, 0x21 and 0x22 are taken and not used. */
static void test_polls(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			struct drive_res r = feed(&poll, &rx, stream, stream_len, &drive_chunkings[k], inv, 0);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.more, 10);
			CHECK_EQ_INT(r.err + r.badsum + r.bad_scan + r.unexpected, 0);
			CHECK_EQ_INT(r.skipped, 9); /* the 0x83 message */
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			check_capture(&poll.snap, inv);
			/* what comes after the sample is the next poll's */
			uint8_t m[64];
			size_t n = (size_t)drive_hex(MYVOLTA_13, m, (int)sizeof(m));
			CHECK_EQ_INT(drv->handle(&poll, m, n), BMS_E_UNEXPECTED);
		}
	/* random chunks of 1..23 bytes, the stream twice (a poll ends at its
	 * sample: the second run starts a fresh poll) */
	uint32_t seed = 7;
	for (int i = 0; i < 50; i++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = { 0 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		drive_feed_random(&poll, &rx, stream, stream_len, &seed, 23, &r);
		CHECK(r.ok >= 1);
		CHECK_EQ_INT(r.badsum + r.bad_scan + r.err, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_capture(&poll.snap, false);
	}
	/* the cells forced to 12: slots 13..16 dropped */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	struct drive_res r = feed(&poll, &rx, stream, stream_len, &drive_chunkings[1], false, 12);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 12);
	CHECK_EQ_INT(poll.snap.cell_mv[12], 0);
	CHECK_EQ_INT(poll.snap.cell_mv[11], 4104);
}

/* Joined mid-message, after garbage (55s, 04 04, 05s), a message cut short
 * by a lost notification before a whole one: the whole ones are found. */
static void test_resync(void)
{
	static const uint8_t junk[] = { 0x10, 0x55, 0x04, 0x04, 0x55, 0x01, 0x05, 0x05, 0x55, 0x55, 0x04, 0x55 };
	uint8_t buf[2048];
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		size_t n = 0;
		memcpy(buf + n, stream + 20, stream_len - 20); /* from inside 0x00 on */
		n += stream_len - 20;
		memcpy(buf + n, junk, sizeof(junk));
		n += sizeof(junk);
		/* each message cut after 7 bytes, then whole */
		for (size_t off = 9; off < stream_len; off += 20) {
			memcpy(buf + n, stream + off, 7);
			n += 7;
			memcpy(buf + n, stream + off, 20);
			n += 20;
		}
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = feed(&poll, &rx, buf, n, &drive_chunkings[k], false, 0);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_capture(&poll.snap, false);
	}
	/* a stream that never sends 0x26: no sample */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	struct drive_res r = feed(&poll, &rx, stream, 9 + 20 * 10, &drive_chunkings[0], false, 0);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 10);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* The stream with one message (index i of stream_hex, 1..) replaced by
 * bad[0..nb) and then the good one: the sample still completes, with the
 * bad one counted as a bad frame (badsum) or skipped. */
static void broken_then_good(const uint8_t *bad, size_t nb, int badsum, size_t skipped)
{
	uint8_t buf[1024];
	size_t n = 0;
	memcpy(buf, stream + 9, 20); /* 0x00 */
	n += 20;
	memcpy(buf + n, bad, nb);
	n += nb;
	memcpy(buf + n, stream + 29, stream_len - 29);
	n += stream_len - 29;
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = feed(&poll, &rx, buf, n, &drive_chunkings[k], false, 0);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.badsum, badsum);
		CHECK_EQ_INT(r.skipped, skipped);
		CHECK_EQ_INT(r.err + r.bad_scan, 0);
		check_capture(&poll.snap, false);
	}
}

static void test_broken(void)
{
	uint8_t m[64];
	size_t n;
	static const uint8_t info[8] = { 0x03, 0x00, 0x00, 0x17, 0x00, 0x00, 0x63, 0xE0 };
	/* aiobmsble's wrong_CRC (0x00 with the checksum FF): counted, dropped */
	n = (size_t)drive_hex("55550100020000000801e0c8ff14e0ae03ff0404", m, (int)sizeof(m));
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_CHECKSUM);
	broken_then_good(m, n, 1, n);
	/* aiobmsble's wrong_len (data length 0x0A, checksum right): not ours */
	n = (size_t)drive_hex("55550100020000000a01e0c8ff14e0ae03a60404", m, (int)sizeof(m));
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_HEADER);
	broken_then_good(m, n, 0, n);
	/* aiobmsble's too_short: skipped whole */
	n = (size_t)drive_hex("5555010002000000000404", m, (int)sizeof(m));
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_HEADER);
	broken_then_good(m, n, 0, n);
	/* the capture's 0x83 message (another command): skipped, never decoded */
	n = (size_t)drive_hex(MYVOLTA_01, m, (int)sizeof(m));
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_HEADER);
	/* a DLE stuffing error: 05 before 10 (no byte it escapes); and an ETX
	 * before 04's own 04 inside: counted as damaged, one byte dropped,
	 * the rest skipped up to the next start */
	n = (size_t)drive_hex("55550101020000000803000517000063e0970404", m, (int)sizeof(m));
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_CHECKSUM);
	broken_then_good(m, n, 1, n);
	n = (size_t)drive_hex("55550101020000000803000417000063e0970404", m, (int)sizeof(m));
	broken_then_good(m, n, 1, n);
	/* the bound: 16 bytes unstuffed is a message, a 17th byte makes none
	 * (skipped a byte, then up to the next start) */
	n = message(m, 0x01, info, 8, 0, false);
	CHECK_EQ_INT(handle_bytes(m, n), BMS_MORE);
	n = message(m, 0x01, info, 8, 0, true);
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_SHORT);
	broken_then_good(m, n, 0, n);
	/* the framer at its bound, byte by byte: 16 body bytes and no end yet
	 * need more; a 17th makes no message (a byte skipped); an end after
	 * the 16th ends one (16 bytes of 0x10: not ours, skipped whole) */
	uint8_t b[40] = { 0x55, 0x55 };
	size_t k = 0;
	memset(b + 2, 0x10, 17);
	CHECK_EQ_INT(drv->scan(NULL, b, 18, &k), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(NULL, b, 19, &k), BMS_SCAN_SKIP);
	CHECK_EQ_INT(k, 1);
	b[18] = 0x04;
	CHECK_EQ_INT(drv->scan(NULL, b, 19, &k), BMS_SCAN_NEED);
	b[19] = 0x04;
	CHECK_EQ_INT(drv->scan(NULL, b, 20, &k), BMS_SCAN_SKIP);
	CHECK_EQ_INT(k, 20);
	b[19] = 0x10; /* ETX then a byte it does not escape */
	CHECK_EQ_INT(drv->scan(NULL, b, 20, &k), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(k, 1);
	/* a message whose every data byte is stuffed (28 bytes on the wire) */
	static const uint8_t stuffed[8] = { 0x05, 0x55, 0x04, 0x05, 0x55, 0x04, 0x05, 0x55 };
	n = message(m, 0x12, stuffed, 8, 0, false);
	CHECK(n >= 28);
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, m, n), BMS_MORE);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 0x5505);
	CHECK_EQ_INT(poll.snap.cell_mv[5], 0x0504);
	CHECK_EQ_INT(poll.snap.cell_mv[6], 0x0455);
	CHECK_EQ_INT(poll.snap.cell_mv[7], 0x5505);
	/* ETX before 05 or 55 is that byte too (aiobmsble's rule) */
	n = (size_t)drive_hex("5555011202000000080810081003100455" "103b0404", m, (int)sizeof(m));
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, m, n), BMS_MORE);
	CHECK_EQ_INT(poll.snap.cell_mv[7], 0x1055);
	/* values no battery has: SOC 100.1 %, 0 V */
	static const uint8_t soc[8] = { 0x01, 0xE0, 0xC8, 0xFF, 0x14, 0xE0, 0xE9, 0x03 };
	static const uint8_t volts0[8] = { 0x00, 0x00, 0xC8, 0xFF, 0x14, 0xE0, 0xAE, 0x03 };
	n = message(m, 0x00, soc, 8, 0, false);
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_RANGE);
	n = message(m, 0x00, volts0, 8, 0, false);
	CHECK_EQ_INT(handle_bytes(m, n), BMS_E_RANGE);
	/* cut: no end, or the frame handed over short */
	n = (size_t)drive_hex(MYVOLTA_02, m, (int)sizeof(m));
	CHECK_EQ_INT(handle_bytes(m, n - 1), BMS_E_SHORT);
	CHECK_EQ_INT(handle_bytes(m, 3), BMS_E_SHORT);
	/* the problem code: raw (bytes 1, 2 and 4; 3 is the heater's), no alarm */
	static const uint8_t prob[8] = { 0x03, 0x34, 0x12, 0x97, 0x56, 0x00, 0x63, 0xE0 };
	n = message(m, 0x01, prob, 8, 0, false);
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, m, n), BMS_MORE);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x1234);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x56);
	CHECK_EQ_INT(poll.snap.alarms, 0);
}

/* No cells: a pack whose 0x11 sends 0 in slot 1 has no sample. */
static void test_no_cells(void)
{
	uint8_t buf[1024], m[64];
	static const uint8_t zero[8] = { 0 };
	size_t n = 0;
	memcpy(buf, stream, stream_len);
	n = stream_len;
	size_t k = message(m, 0x11, zero, 8, 0, false);
	/* 0x00, 0x01, then the zero 0x11, then the rest but 0x11 */
	size_t at = 9 + 40;
	memmove(buf + at + k, buf + at + 20, stream_len - at - 20);
	memcpy(buf + at, m, k);
	n = stream_len - 20 + k;
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	struct drive_res r = feed(&poll, &rx, buf, n, &drive_chunkings[3], false, 0);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.last_err, BMS_E_INVALID);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* Slots with no sensor (0x8000, FDDC, as the capture's unread types
 * send): absent, never a reading; the sensors up to the last there (12
 * here: sensor 12 reads, 3..11 absent); none at all: no temperatures.
 * Sensor 10 reading 0x7FFF (3276.7 degC): a sensor fault of its own (bit
 * 9), the others served, the poll kept. */
static void test_sensors(void)
{
	static const uint8_t t24[8] = { 0xC8, 0x00, 0xD2, 0x00, 0xDC, 0xFD, 0x00, 0x80 }; /* 20.0 21.0 - - */
	static const uint8_t none[8] = { 0xDC, 0xFD, 0xDC, 0xFD, 0x00, 0x80, 0xDC, 0xFD };
	static const uint8_t t26[8] = { 0xDC, 0xFD, 0xDC, 0xFD, 0xDC, 0xFD, 0x90, 0x01 }; /* - - - 40.0 */
	for (int all = 0; all < 2; all++) {
		uint8_t buf[1024];
		size_t n = 9 + 20 * 9; /* the 0x83 message, 0x00 .. 0x22 */
		memcpy(buf, stream, n);
		n += message(buf + n, 0x24, all ? none : t24, 8, 0, false);
		n += message(buf + n, 0x25, none, 8, 0, false);
		n += message(buf + n, 0x26, all ? none : t26, 8, 0, false);
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = feed(&poll, &rx, buf, n, &drive_chunkings[1], false, 0);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		if (all) {
			CHECK_EQ_INT(s->ntemps, 0);
			CHECK_EQ_INT(s->present & (BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT), 0);
			continue;
		}
		CHECK_EQ_INT(s->ntemps, 12);
		CHECK_NEAR(s->temp_c[0], 20.0, 1e-4);
		CHECK_NEAR(s->temp_c[1], 21.0, 1e-4);
		for (int i = 2; i < 11; i++)
			CHECK(isnan(s->temp_c[i]));
		CHECK_NEAR(s->temp_c[11], 40.0, 1e-4);
		CHECK_NEAR(s->ext_tmax_c, 40.0, 1e-4);
		CHECK_NEAR(s->ext_tmin_c, 20.0, 1e-4);
		CHECK(s->present & BMS_HAS_TEMPS);
	}
	/* the capture with sensor 10 (0x26's second) at 0x7FFF */
	static const uint8_t hot[8] = { 0xA7, 0x00, 0xFF, 0x7F, 0xA9, 0x00, 0xA6, 0x00 };
	uint8_t buf[1024];
	size_t n = 9 + 20 * 10; /* the 0x83 message, 0x00 .. 0x25 */
	memcpy(buf, stream, n);
	n += message(buf + n, 0x26, hot, 8, 0, false);
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	CHECK_EQ_INT(feed(&poll, &rx, buf, n, &drive_chunkings[1], false, 0).ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->ntemps, 12);
	CHECK_NEAR(s->temp_c[9], 3276.7, 1e-2);
	CHECK_EQ_INT(bms_sensor_faults(s, NULL), 1u << 9);
	CHECK(isnan(s->temp_c[9]));
	CHECK_NEAR(s->temp_c[8], 16.7, 1e-4);
	CHECK_NEAR(s->temp_c[11], 16.6, 1e-4);
	CHECK_EQ_INT(s->sensor_faults, (1u << 9) | BMS_FAULT_ALARM);
	CHECK(s->alarms & BMS_AL_SENSOR);
	CHECK(bms_plausible(s, NULL));
}

int main(void)
{
	stream_of();
	test_table();
	test_polls();
	test_resync();
	test_broken();
	test_no_cells();
	test_sensors();
	return check_report();
}
