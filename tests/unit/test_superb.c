/* SPDX-License-Identifier: MIT */
/* tests/unit/test_superb.c - the Super-B Epsilon over Bluetooth LE
 * (bms/superb.c).  v1: the superb row SUPERB-01 of tests/fixtures/vectors.tsv
 * (aiobmsble's frame) through scan() + handle() as the gateway's listening
 * poll runs it, in every chunking, with bytes out of step before it (a
 * lost piece of a notification), and broken: SOC / SOH over 100 %,
 * currents and voltages that are no measurement (NaN, infinity, denormal,
 * beyond range), truncated; the status byte (bit 0 no problem, bit 7
 * balancing); nothing written.  v2 (the second GATT layout): the read
 * 21 54 00 and its poll from SUPERB-02 (the 0x00 answer) and SUPERB-03
 * (the pushed 0x02 frame) in either order, every chunking, inverted; a
 * poll with one of them only is not whole; broken, truncated, after stray
 * bytes.  The layouts and the --ble-scan hints.  Protocol facts:
 * bms/PROTOCOLS.md §57. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct bms_driver *const drv = &bms_superb_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family superb */
static const char SUPERB_01[] = "00755e64000001a4becccccd416289c500000000";
/* v2: the answer to 21 54 00 (type 0x00) and the pushed type 0x02 frame */
static const char SUPERB_02[] = "00230413ffff81e3000000000000000000001264" "00012f29";
static const char SUPERB_03[] = "020d00000000fffff65f339700000964" "0000000000000000";
static const char SUPERB_REQ_V2[] = "215400";

static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40 };

static void frame_01(uint8_t *f)
{
	CHECK_EQ_INT(drive_hex(SUPERB_01, f, 20), 20);
}

static void put_float(uint8_t *p, float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	p[0] = (uint8_t)(u >> 24);
	p[1] = (uint8_t)(u >> 16);
	p[2] = (uint8_t)(u >> 8);
	p[3] = (uint8_t)u;
}

static void check_01(const struct bms_snapshot *s, bool inv)
{
	CHECK_NEAR(s->voltage, 14.159, 1e-3);
	CHECK_NEAR(s->current, inv ? 0.4 : -0.4, 1e-5);
	CHECK_NEAR(s->soc, 94.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK(!s->balancing);
	CHECK_EQ_INT(s->alarms, 0); /* status 0x75: bit 0 set, no problem */
	CHECK_EQ_INT(s->raw_alarms[0], 0x75);
	CHECK_EQ_INT(s->nraw, 1);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH |
					 BMS_HAS_BALANCING | BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "superb");
	CHECK_EQ_INT(drv->protocol_id, 48);
	CHECK(bms_find("superb") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->next_request && drv->listens);
	/* v1: one notifier, nothing ever written */
	CHECK_STR(drv->ble->gatt[0].service, "74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70");
	CHECK_STR(drv->ble->gatt[0].notify, "6edadbe4-4f53-4a5a-96ed-02f93db93790");
	CHECK(drv->ble->gatt[0].write == NULL && drv->ble->gatt[0].notify2 == NULL);
	/* v2: written and notifying on cf9ccdfa, the second notifier e0fef452 */
	CHECK_STR(drv->ble->gatt[1].service, "cf9ccdf7-eee9-43ce-87a5-82b54af5324e");
	CHECK_STR(drv->ble->gatt[1].notify, "cf9ccdfa-eee9-43ce-87a5-82b54af5324e");
	CHECK_STR(drv->ble->gatt[1].write, "cf9ccdfa-eee9-43ce-87a5-82b54af5324e");
	CHECK_STR(drv->ble->gatt[1].notify2, "e0fef452-9d2b-4005-a1e3-69fe1102b436");
	CHECK(drv->ble->gatt[1].write_service == NULL);
	CHECK(drv->ble->gatt[2].service == NULL);
	CHECK(!drv->control && !drv->probe && !drv->ble->company && !drv->ble->auth);
	CHECK(!(drv->provides & (BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_MOSFETS)));
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_COMPANY && h[0].value == 0x50BE); /* v2, read */
	CHECK(strstr(h[0].why, "not read") == NULL && strstr(h[0].why, "V2") != NULL);
	CHECK(h[1].kind == BMS_BLE_NAME && strcmp(h[1].prefix, "Epsilon-") == 0);
	CHECK(h[2].why == NULL);
}

/* The capture as a poll, in 20-byte notifications, one byte at a time,
 * odd chunks, one read; the current inverted. */
static void test_polls(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[20];
	frame_01(f);
	const size_t *chs[] = { drive_notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct drive_res r = { 0 };
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			struct drive_answer a[1] = { { f, 20, chs[k], nchs[k], 0, DRIVE_LISTENS } };
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
			check_01(&poll.snap, inv);
			CHECK_EQ_INT(r.badsum + r.bad_scan + r.err + (int)r.skipped, 0);
		}
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drive_feed_bytes(&poll, &rx, f, 20, drive_notif20, 1).ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, -14.159 * 0.4, 1e-3); /* aiobmsble: -5.664 W */
	CHECK(bms_plausible(&poll.snap, NULL));
	/* a second frame in the same poll is not taken */
	CHECK_EQ_INT(drv->handle(&poll, f, 20), BMS_E_UNEXPECTED);
	/* v1 is never written to: its step listens, no request exists */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drv->listens(&poll));
	uint8_t req[8];
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_HEADER);
}

/* Bytes out of step before the frame (the tail of a lost notification,
 * every length 1..19): skipped, the frame found; every split in two reads. */
static void test_resync(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[20], buf[60];
	frame_01(f);
	for (size_t lost = 1; lost < 20; lost++) {
		size_t len = 20 - lost;
		memcpy(buf, f + lost, len);
		memcpy(buf + len, f, 20);
		len += 20;
		for (size_t k = 1; k < len; k++) {
			const size_t two[] = { k, len - k };
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, two, 2);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
			CHECK_EQ_INT(r.skipped, 20 - lost);
			check_01(&poll.snap, false);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		}
	}
}

/* A frame that is no measurement is skipped (no checksum: the values are
 * what is checked); handed to handle() whole it is BMS_E_RANGE. */
static void expect_skipped(const uint8_t *g, const char *what)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[20];
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = drive_feed_bytes(&poll, &rx, g, 20, drive_notif20, 1);
	if (r.frames != 0)
		printf("  %s: taken\n", what);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(drv->handle(&poll, g, 20), BMS_E_RANGE);
	/* a good frame after it is still found */
	frame_01(f);
	r = drive_feed_bytes(&poll, &rx, f, 20, drive_notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	check_01(&poll.snap, false);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[20], g[20];
	struct drive_res r;
	frame_01(f);

	memcpy(g, f, 20);
	g[2] = 101; /* SOC */
	expect_skipped(g, "SOC 101");
	memcpy(g, f, 20);
	g[3] = 0xFF; /* SOH */
	expect_skipped(g, "SOH 255");
	const float bad_a[] = { NAN, INFINITY, -INFINITY, 3000.5f, -4000.0f, 1e-40f };
	for (size_t i = 0; i < DRIVE_NCH(bad_a); i++) {
		memcpy(g, f, 20);
		put_float(g + 8, bad_a[i]);
		expect_skipped(g, "current");
	}
	const float bad_v[] = { NAN, INFINITY, 0.0f, -14.0f, 100.5f, 1e-40f };
	for (size_t i = 0; i < DRIVE_NCH(bad_v); i++) {
		memcpy(g, f, 20);
		put_float(g + 12, bad_v[i]);
		expect_skipped(g, "voltage");
	}
	/* truncated: nothing, the poll not complete */
	for (size_t k = 0; k < 20; k++) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		r = drive_feed_bytes(&poll, &rx, f, k, chunks_odd, DRIVE_NCH(chunks_odd));
		CHECK_EQ_INT(r.frames, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* whole frames of another length handed to handle() */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, f, 19), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 21), BMS_E_HEADER);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* The status byte: bit 0 clear = a problem (OTHER), bit 7 = balancing;
 * a current of exactly 0 A; 48 V. */
static void test_values(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t g[20];
	struct drive_res r;
	const uint8_t st[] = { 0x74, 0x72, 0xF5 };
	for (size_t i = 0; i < DRIVE_NCH(st); i++) {
		frame_01(g);
		g[1] = st[i];
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		r = drive_feed_bytes(&poll, &rx, g, 20, drive_notif20, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], st[i]);
		CHECK_EQ_INT(poll.snap.alarms, (st[i] & 1) ? 0 : BMS_AL_OTHER);
		CHECK(poll.snap.balancing == ((st[i] & 0x80) != 0));
		CHECK(poll.snap.present & BMS_HAS_BALANCING);
	}
	frame_01(g);
	put_float(g + 8, 0.0f);
	put_float(g + 12, 53.25f);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 20, drive_notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.current, 0.0, 1e-9);
	CHECK_NEAR(poll.snap.voltage, 53.25, 1e-6);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* charging: + (aiobmsble's test_update_chrg edits the sign bit) */
	frame_01(g);
	g[8] = 0x3E;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, g, 20, drive_notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.current, 0.4, 1e-5);
}

/* ---- v2 ---- */

#define SB2 24

/* A poll on the v2 layout (the link found the second one). */
static void begin2(struct bms_poll *poll, struct bms_rx *rx, bool inv)
{
	drive_begin_link(poll, rx, 0, 0, inv, BMS_LINK_BLE, true);
	poll->ble_layout = 1;
}

static void frames2(uint8_t *state, uint8_t *live)
{
	CHECK_EQ_INT(drive_hex(SUPERB_02, state, SB2), SB2);
	CHECK_EQ_INT(drive_hex(SUPERB_03, live, SB2), SB2);
}

/* aiobmsble's _RESULT_DEFS: 13.207 V, -2.465 A, SOC 35 %, SOH 100 %, 18
 * cycles (the runtime 77609 s is not served); no status byte in v2. */
static void check_02_03(const struct bms_snapshot *s, bool inv)
{
	CHECK_NEAR(s->voltage, 13.207, 1e-4);
	CHECK_NEAR(s->current, inv ? 2.465 : -2.465, 1e-5);
	CHECK_NEAR(s->soc, 35.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 18);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->nraw, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CYCLES);
}

/* The request, then both frames in one stream (0x02 first, as it is
 * pushed, or the answer first), in every chunking, inverted or not. */
static void test_v2_polls(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t st[SB2], lv[SB2], both[2 * SB2];
	frames2(st, lv);
	for (int order = 0; order < 2; order++) {
		memcpy(both, order ? st : lv, SB2);
		memcpy(both + SB2, order ? lv : st, SB2);
		for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
			for (int inv = 0; inv < 2; inv++) {
				struct drive_res r = { 0 };
				begin2(&poll, &rx, inv);
				CHECK(!drv->listens(&poll));
				CHECK(drive_req_is(&poll, SUPERB_REQ_V2));
				struct drive_answer a[1] = { { both, sizeof(both), drive_chunkings[k].ch,
							       drive_chunkings[k].n, 0, 3 } };
				CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
				check_02_03(&poll.snap, inv);
				CHECK_EQ_INT(r.more, 1);
				CHECK_EQ_INT(r.badsum + r.bad_scan + r.err + (int)r.skipped, 0);
			}
	}
	/* the ends of next_request(); the echo of the request is no frame */
	begin2(&poll, &rx, false);
	drive_request_ends(&poll, 2, 1);
	begin2(&poll, &rx, false);
	uint8_t echo[3 + SB2 * 2];
	CHECK_EQ_INT(drive_hex(SUPERB_REQ_V2, echo, 3), 3);
	memcpy(echo + 3, lv, SB2);
	memcpy(echo + 3 + SB2, st, SB2);
	struct drive_res r = drive_feed_bytes(&poll, &rx, echo, sizeof(echo), drive_odd, DRIVE_NCH(drive_odd));
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 3);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* pushed frames again: the latest 0x02 of the poll is taken, then no more */
	begin2(&poll, &rx, false);
	uint8_t lv2[SB2];
	memcpy(lv2, lv, SB2);
	lv2[11] = 0x98; /* 13.208 V */
	CHECK_EQ_INT(drv->handle(&poll, lv, SB2), BMS_MORE);
	CHECK_EQ_INT(drv->handle(&poll, lv2, SB2), BMS_MORE);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID); /* no SOC frame yet */
	CHECK_EQ_INT(drv->handle(&poll, st, SB2), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 13.208, 1e-4);
	CHECK_EQ_INT(drv->handle(&poll, lv, SB2), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	bms_snapshot_derive(&poll.snap);
	CHECK(bms_plausible(&poll.snap, NULL));
	/* the answer alone, or the pushed frame alone, makes no sample */
	const uint8_t *one[] = { st, lv };
	for (int i = 0; i < 2; i++) {
		begin2(&poll, &rx, false);
		r = drive_feed_bytes(&poll, &rx, one[i], SB2, drive_notif20, 1);
		CHECK_EQ_INT(r.more, 1);
		CHECK_EQ_INT(r.ok, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
}

/* Stray bytes that cannot start a frame (no type 0x00 or 0x02), every
 * length 1..23, before the frames: skipped, the sample found; every split
 * in two reads. */
static void test_v2_resync(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t st[SB2], lv[SB2], buf[3 * SB2];
	frames2(st, lv);
	for (size_t lost = 1; lost < SB2; lost++) {
		for (size_t i = 0; i < lost; i++)
			buf[i] = (uint8_t)(0x81 + 7 * i); /* never 0x00 or 0x02 */
		memcpy(buf + lost, lv, SB2);
		memcpy(buf + lost + SB2, st, SB2);
		size_t len = lost + 2 * SB2;
		for (size_t k = 1; k < len; k++) {
			const size_t two[] = { k, len - k };
			begin2(&poll, &rx, false);
			struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, two, 2);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
			CHECK_EQ_INT(r.skipped, lost);
			check_02_03(&poll.snap, false);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		}
	}
}

/* A v2 frame that cannot be is skipped (scan) and BMS_E_RANGE / _HEADER
 * whole in handle(); the good frames after it still make the sample. */
static void expect_skipped2(const uint8_t *g, const char *what)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t st[SB2], lv[SB2];
	frames2(st, lv);
	begin2(&poll, &rx, false);
	struct drive_res r = drive_feed_bytes(&poll, &rx, g, SB2, chunks_big, 1);
	if (r.frames != 0)
		printf("  v2 %s: taken\n", what);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	int rc = drv->handle(&poll, g, SB2);
	CHECK(rc == BMS_E_RANGE || rc == BMS_E_HEADER);
	bms_rx_clear(&rx);
	r = drive_feed_bytes(&poll, &rx, lv, SB2, chunks_big, 1);
	r = drive_feed_bytes(&poll, &rx, st, SB2, chunks_big, 1);
	CHECK_EQ_INT(r.ok, 1);
	check_02_03(&poll.snap, false);
}

static void test_v2_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t st[SB2], lv[SB2], g[SB2];
	frames2(st, lv);
	memcpy(g, st, SB2);
	g[1] = 101; /* SOC */
	expect_skipped2(g, "SOC 101");
	memcpy(g, st, SB2);
	g[19] = 0xC8; /* SOH 200 */
	expect_skipped2(g, "SOH 200");
	/* currents beyond +-3000 A (3000.001 A, -3000.001 A, -2^31 mA), 0 V */
	const uint32_t bad_ma[] = { 3000001u, (uint32_t)-3000001, 0x80000000u };
	for (size_t i = 0; i < DRIVE_NCH(bad_ma); i++) {
		memcpy(g, lv, SB2);
		for (int b = 0; b < 4; b++)
			g[6 + b] = (uint8_t)(bad_ma[i] >> (24 - 8 * b));
		expect_skipped2(g, "current");
	}
	memcpy(g, lv, SB2);
	g[10] = g[11] = 0;
	expect_skipped2(g, "0 V");
	/* types other than 0x00 and 0x02 (0x01, 0x03, 0x21, 0xFF): no frame */
	const uint8_t types[] = { 0x01, 0x03, 0x21, 0xFF };
	for (size_t i = 0; i < DRIVE_NCH(types); i++) {
		memcpy(g, lv, SB2);
		g[0] = types[i];
		begin2(&poll, &rx, false);
		CHECK_EQ_INT(drv->handle(&poll, g, SB2), BMS_E_HEADER);
	}
	/* the limits themselves are measurements: +-3000 A, 1 mV */
	const uint32_t edge_ma[] = { 3000000u, (uint32_t)-3000000 };
	for (size_t i = 0; i < DRIVE_NCH(edge_ma); i++) {
		memcpy(g, lv, SB2);
		for (int b = 0; b < 4; b++)
			g[6 + b] = (uint8_t)(edge_ma[i] >> (24 - 8 * b));
		g[10] = 0;
		g[11] = 1;
		begin2(&poll, &rx, false);
		CHECK_EQ_INT(drv->handle(&poll, g, SB2), BMS_MORE);
		CHECK_NEAR(poll.snap.current, i ? -3000.0 : 3000.0, 1e-3);
		CHECK_NEAR(poll.snap.voltage, 0.001, 1e-7);
	}
	/* truncated: every length 0..23 of either frame, then nothing */
	for (size_t k = 0; k < SB2; k++)
		for (int i = 0; i < 2; i++) {
			begin2(&poll, &rx, false);
			struct drive_res r = drive_feed_bytes(&poll, &rx, i ? st : lv, k, drive_odd, DRIVE_NCH(drive_odd));
			CHECK_EQ_INT(r.frames, 0);
			CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
		}
	/* whole frames of another length handed to handle() */
	begin2(&poll, &rx, false);
	CHECK_EQ_INT(drv->handle(&poll, st, 23), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, st, 20), BMS_E_SHORT); /* a v1 length */
	CHECK_EQ_INT(drv->handle(&poll, st, 25), BMS_E_HEADER);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_polls();
	test_resync();
	test_broken();
	test_values();
	test_v2_polls();
	test_v2_resync();
	test_v2_broken();
	return check_report();
}
