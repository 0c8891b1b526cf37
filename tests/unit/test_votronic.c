/* SPDX-License-Identifier: MIT */
/* tests/unit/test_votronic.c - the Votronic battery computer over Bluetooth
 * LE (bms/votronic.c): its table (the monitoring service, the battery
 * computer's characteristic, listened to, never written; the 128-bit
 * service hint, pairing) and the votronic row of
 * tests/fixtures/vectors.tsv (syssi's notification of a 280 Ah bank)
 * through scan() + handle() as the gateway's listening poll runs them, in
 * every chunking, after a lost piece of a notification; frames that are
 * none (SOC, voltage, current, capacity no computer reports, byte 9 not 0:
 * skipped a byte at a time); a charging current; no sample without a frame.
 * Protocol facts: bms/PROTOCOLS.md §84. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_votronic_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family votronic */
#define VOTRONIC_01 "0a05bc041401600062005736fff00a5e14540204"

static uint8_t frame[20];

static void check_01(const struct bms_snapshot *s, bool inv)
{
	CHECK_NEAR(s->voltage, 12.9, 1e-4);
	CHECK_NEAR(s->current, inv ? 51.625 : -51.625, 1e-4);
	CHECK_NEAR(s->soc, 98.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 276.0, 1e-4);
	CHECK_NEAR(s->full_ah, 280.0, 1e-4);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "votronic");
	CHECK_EQ_INT(drv->protocol_id, 74);
	CHECK(bms_find("votronic") == drv);
	CHECK(bms_ble_only(drv) && drv->listen_only && drv->next_request == NULL);
	const struct bms_gatt *g = drv->ble->gatt;
	CHECK_STR(g[0].service, "d0cb6aa7-8548-46d0-99f8-2d02611e5270");
	CHECK_STR(g[0].notify, "9a082a4e-5bcc-4b1d-9958-a97cfccfa5ec");
	CHECK(g[0].write == NULL && g[1].service == NULL);
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_SERVICE128 && h[0].pairing && h[1].why == NULL);
	CHECK_STR(h[0].prefix, "d0cb6aa7-8548-46d0-99f8-2d02611e5270");
	CHECK(drv->probe == NULL && drv->control == NULL && drv->writer == NULL && drv->ble->auth == NULL);
	/* a shunt: a current, no cells (the bank's meter, [bank] shunt) */
	CHECK((drv->provides & BMS_HAS_CURRENT) && !(drv->provides & BMS_HAS_CELLS));
}

/* The notification, in every chunking, inverted too; after the end of a
 * lost one (12 bytes) the frame is found again. */
static void test_listen(void)
{
	uint8_t b[64];
	memcpy(b, frame + 8, 12);
	memcpy(b + 12, frame, 20);
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			struct drive_answer a[] = { { frame, 20, drive_chunkings[k].ch, drive_chunkings[k].n, 0, 0 } };
			struct drive_res r = { 0 };
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
			check_01(&poll.snap, inv);
		}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_res r = FEED_BYTES(&poll, &rx, b, 32, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 12);
	check_01(&poll.snap, false);
}

/* A frame with byte i set to v. */
static int handle_with(int i, uint8_t v)
{
	uint8_t f[20];
	struct bms_poll poll;
	memcpy(f, frame, 20);
	f[i] = v;
	bms_poll_begin(&poll, 0, 0, false);
	size_t n = 0;
	enum bms_scan s = drv->scan(&poll, f, 20, &n);
	int rc = drv->handle(&poll, f, 20);
	CHECK_EQ_INT(s == BMS_SCAN_FRAME, rc == BMS_OK);
	return rc;
}

static void test_values(void)
{
	/* none: SOC 101, byte 9 not 0, 0.99 V, 100.01 V, a nominal capacity of 0, 3001 A */
	CHECK_EQ_INT(handle_with(8, 101), BMS_E_RANGE);
	CHECK_EQ_INT(handle_with(9, 1), BMS_E_RANGE);
	CHECK_EQ_INT(handle_with(0, 0x63), BMS_OK); /* 0x0563: still a voltage */
	uint8_t f[20];
	struct bms_poll poll;
	memcpy(f, frame, 20);
	f[0] = 0x63;
	f[1] = 0x00; /* 0.99 V */
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, 20), BMS_E_RANGE);
	f[0] = 0x11;
	f[1] = 0x27; /* 100.01 V */
	CHECK_EQ_INT(drv->handle(&poll, f, 20), BMS_E_RANGE);
	memcpy(f, frame, 20);
	f[13] = f[14] = 0;
	CHECK_EQ_INT(drv->handle(&poll, f, 20), BMS_E_RANGE);
	memcpy(f, frame, 20);
	f[10] = 0xB8; /* 3,000,120 mA */
	f[11] = 0xC7;
	f[12] = 0x2D;
	CHECK_EQ_INT(drv->handle(&poll, f, 20), BMS_E_RANGE);
	/* a charging current: 12.5 A */
	memcpy(f, frame, 20);
	f[10] = 0xD4;
	f[11] = 0x30;
	f[12] = 0x00;
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, 20), BMS_OK);
	CHECK_NEAR(poll.snap.current, 12.5, 1e-5);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* a second frame in the poll is not its; too short, too long */
	CHECK_EQ_INT(drv->handle(&poll, frame, 20), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, frame, 19), BMS_E_SHORT);
	/* no frame, no sample */
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	CHECK_EQ_INT(drive_hex(VOTRONIC_01, frame, 20), 20);
	test_table();
	test_listen();
	test_values();
	return check_report();
}
