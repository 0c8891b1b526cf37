/* SPDX-License-Identifier: MIT */
/* tests/unit/test_superb.c - the Super-B Epsilon (v1) over Bluetooth LE
 * (bms/superb.c): the superb row of tests/fixtures/vectors.tsv (SUPERB-01,
 * aiobmsble's frame) through scan() + handle() as the gateway's listening
 * poll runs it, in every chunking, with bytes out of step before it (a
 * lost piece of a notification), and broken: SOC / SOH over 100 %,
 * currents and voltages that are no measurement (NaN, infinity, denormal,
 * beyond range), truncated; the status byte (bit 0 no problem, bit 7
 * balancing); the GATT layout (nothing written) and the --ble-scan hints
 * (v2 named, not read).  Protocol facts: bms/PROTOCOLS.md §57. */
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
	CHECK(drv->ble_only && drv->listen_only && !drv->next_request && !drv->listens);
	CHECK_STR(drv->ble_gatt[0].service, "74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70");
	CHECK_STR(drv->ble_gatt[0].notify, "6edadbe4-4f53-4a5a-96ed-02f93db93790");
	CHECK(drv->ble_gatt[0].write == NULL); /* nothing is ever written */
	CHECK(drv->ble_gatt[1].service == NULL);
	CHECK(!drv->control_request && !drv->probe && !drv->ble_company && !drv->ble_auth);
	CHECK(!(drv->provides & (BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_CYCLES | BMS_HAS_REMAIN | BMS_HAS_FULL |
				 BMS_HAS_MOSFETS)));
	const struct bms_ble_hint *h = drv->ble_hints;
	CHECK(h[0].kind == BMS_BLE_COMPANY && h[0].value == 0x50BE); /* v2: named, not read */
	CHECK(strstr(h[0].why, "not read") != NULL);
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

int main(void)
{
	test_table();
	test_polls();
	test_resync();
	test_broken();
	test_values();
	return check_report();
}
