/* SPDX-License-Identifier: MIT */
/* tests/unit/test_dyness_junior.c - the Dyness Junior box over Bluetooth LE
 * (bms/dyness_junior.c): its table (GATT FE00 / FE02 / FE01, the init to
 * FED5 written blind after the notifications, the R07 name) and the
 * dyness rows of tests/fixtures/vectors.tsv (the JBD reads 0x03 and 0x04
 * and aiobmsble's answers of a 4S pack) through scan() + handle() in whole
 * polls as the gateway runs them, in every chunking; broken copies made
 * here (the checksum, the end byte, truncated, a refusal, another
 * register, a request's echo); no write of any kind, the settings read
 * never.  Protocol facts: bms/PROTOCOLS.md §82, §7. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_dyness_junior_driver;

#include "drive.h"
#include "jbd_check.h"

/* tests/fixtures/vectors.tsv, family jbd */
#define DYNESS_REQ_1 "dda50300fffd77"
#define DYNESS_REQ_2 "dda50400fffc77"
#define DYNESS_01 "dd03001d0618fee101f201f4002a2c7c00000000000080640304030b8b0b8a0b84f88477"
#define DYNESS_02 "dd0400080d660d610d680d59fe3c77"

/* aiobmsble's values: 15.6 V, -2.87 A, SOC 100 %, cells 3430 / 3425 /
 * 3432 / 3417 mV, 22.4 / 22.3 / 21.7 degC */
static void check_01(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[4] = { 3430, 3425, 3432, 3417 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 15.6, 1e-4);
	CHECK_NEAR(s->current, inv ? 2.87 : -2.87, 1e-4);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	CHECK_EQ_INT(s->ntemps, 3);
	CHECK_NEAR(s->temp_c[0], 22.4, 1e-4);
	CHECK_NEAR(s->temp_c[1], 22.3, 1e-4);
	CHECK_NEAR(s->temp_c[2], 21.7, 1e-4);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "dyness-junior");
	CHECK_EQ_INT(drv->protocol_id, 72);
	CHECK(bms_find("dyness-junior") == drv);
	drive_check_ble16("fe00", "fe02", "fe01");
	const struct bms_ble_auth *a = drv->ble->auth;
	CHECK(a != NULL);
	if (a) {
		static const uint8_t init[] = { 0xAA, 0x55, 0x01, 0x00, 0x00, 0x56 };
		CHECK_STR(a->chr, "0000fed5-0000-1000-8000-00805f9b34fb");
		CHECK(a->len == sizeof(init) && memcmp(a->data, init, sizeof(init)) == 0);
		CHECK(a->blind && a->after_notify); /* no answer; after subscribing */
	}
	CHECK(drv->writer == NULL && drv->control == NULL && drv->listen == NULL);
	CHECK_EQ_INT(drv->provides, bms_jbd_driver.provides);
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_NAME && h[1].why == NULL);
	CHECK(drive_hinted("R07-A1B2C3") && drive_hinted("r0712345") && !drive_hinted("R08") &&
	      !drive_hinted("xiaoxiang"));
}

/* The two reads, answered, in every chunking, inverted too. */
static void test_polls(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			poll.settings_due = true; /* no writer: never factory mode */
			CHECK(drive_req_is(&poll, DYNESS_REQ_1));
			const char *a[] = { DYNESS_01, DYNESS_02 };
			CHECK_EQ_INT(drive_poll_hex(&poll, &rx, a, 2, &drive_chunkings[k], 7), BMS_OK);
			check_01(&poll.snap, inv);
		}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	poll.step = 1;
	CHECK(drive_req_is(&poll, DYNESS_REQ_2));
}

static void test_broken(void)
{
	uint8_t f[128], g[128];
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	size_t n = (size_t)drive_hex(DYNESS_01, f, (int)sizeof(f));
	/* the checksum, the end byte: counted, dropped */
	memcpy(g, f, n);
	g[n - 2] ^= 0x01;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_res r = FEED_BYTES(&poll, &rx, g, n, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 0);
	memcpy(g, f, n);
	g[n - 1] = 0x78;
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_HEADER);
	/* truncated: no frame, no sample */
	bms_rx_clear(&rx);
	r = FEED_BYTES(&poll, &rx, f, n - 3, chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(drv->handle(&poll, f, n - 1), BMS_E_SHORT);
	/* the read refused (status 0x80), the cells' answer first, our read echoed */
	size_t m = jbd_frame(g, 0x03, 0x80, NULL, 0);
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, g, m), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at(DYNESS_02, 0), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at(DYNESS_REQ_1, 0), BMS_E_UNEXPECTED);
}

int main(void)
{
	test_table();
	test_polls();
	test_broken();
	return check_report();
}
