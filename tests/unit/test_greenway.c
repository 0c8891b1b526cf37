/* SPDX-License-Identifier: MIT */
/* tests/unit/test_greenway.c - the Greenway BMS of Talaria bikes over
 * Bluetooth LE (bms/greenway.c): the greenway rows of
 * tests/fixtures/vectors.tsv (the eleven answers of aiobmsble's test, a 20S
 * pack, and the requests its driver writes) through whole polls in every
 * chunking; broken answers (a bad sum, another type's answer, a wrong
 * length byte, truncated, SOC over 100, our request echoed).  Protocol
 * facts: bms/PROTOCOLS.md §66. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_greenway_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family greenway, in the order a poll asks */
#define GREENWAY_REQ_09 "46160109046a"
#define GREENWAY_09 "47160109047c39010021"
#define GREENWAY_REQ_0A "4616010a046b"
#define GREENWAY_0A "4716010a047b3a000021"
#define GREENWAY_REQ_0D "4616010d046e"
#define GREENWAY_0D "4716010d044a000000b9"
#define GREENWAY_REQ_0E "4616010e046f"
#define GREENWAY_0E "4716010e0464000000d4"
#define GREENWAY_REQ_0F "4616010f0470"
#define GREENWAY_0F "4716010f040c6e0000eb"
#define GREENWAY_REQ_17 "461601170478"
#define GREENWAY_17 "47160117041000000089"
#define GREENWAY_REQ_18 "461601180479"
#define GREENWAY_18 "4716011804809300008d"
#define GREENWAY_REQ_16 "461601161083"
#define GREENWAY_16 "4716011610889000000000000000008e00000000002a"
#define GREENWAY_REQ_08 "461601082085"
#define GREENWAY_08 "471601082011111112131313001100000000000000000000000000006b6b640000000000004f"
#define GREENWAY_REQ_24 "4616012420a1"
#define GREENWAY_24 "4716012420b00fad0fae0fad0faf0faf0fab0fb10fb10fb20fac0fab0faa0fab0faa0fa90f66"
#define GREENWAY_REQ_25 "4616012520a2"
#define GREENWAY_25 "4716012520aa0fab0faa0fa90f00000000000000000000000000000000000000000000000087"

static const char *const answers[] = { GREENWAY_09, GREENWAY_0A, GREENWAY_0D, GREENWAY_0E, GREENWAY_0F, GREENWAY_17,
				       GREENWAY_18, GREENWAY_16, GREENWAY_08, GREENWAY_24, GREENWAY_25 };
static const char *const requests[] = { GREENWAY_REQ_09, GREENWAY_REQ_0A, GREENWAY_REQ_0D, GREENWAY_REQ_0E,
					GREENWAY_REQ_0F, GREENWAY_REQ_17, GREENWAY_REQ_18, GREENWAY_REQ_16,
					GREENWAY_REQ_08, GREENWAY_REQ_24, GREENWAY_REQ_25 };
#define NSTEPS 11

/* aiobmsble's asserted values: 80.252 V, 14.971 A, 74 %, SOH 100, 28.172
 * Ah, 16 cycles, design 37.760 Ah, 20 cells, 7 sensors, no problem */
static void check_all(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[20] = { 4016, 4013, 4014, 4013, 4015, 4015, 4011, 4017, 4017, 4018,
					4012, 4011, 4010, 4011, 4010, 4009, 4010, 4011, 4010, 4009 };
	static const float t[7] = { 17, 17, 17, 18, 19, 19, 19 };
	CHECK_NEAR(s->voltage, 80.252, 1e-3);
	CHECK_NEAR(s->current, inv ? -14.971 : 14.971, 1e-4);
	CHECK_NEAR(s->soc, 74.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 28.172, 1e-4);
	CHECK_NEAR(s->full_ah, 37.76, 1e-4);
	CHECK_EQ_INT(s->cycles, 16);
	drive_check_cells(s, c, 20);
	CHECK_EQ_INT(s->ntemps, 7);
	for (int i = 0; i < 7; i++)
		CHECK_NEAR(s->temp_c[i], t[i], 1e-6);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "greenway");
	CHECK_EQ_INT(drv->protocol_id, 57);
	CHECK(bms_find("greenway") == drv);
	drive_check_ble16("fff0", "fff1", "fff1");
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_ADDRESS_SERVICE && h[0].value == 0xFFF0);
	CHECK_STR(h[0].prefix, "C4:A9:B8");
	CHECK(h[1].why == NULL);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	bms_poll_begin(&poll, 0, 0, false);
	for (int k = 0; k < NSTEPS; k++) {
		poll.step = k;
		CHECK(drive_req_is(&poll, requests[k]));
	}
	poll.step = 0;
	drive_request_ends(&poll, 5, NSTEPS);
}

static void test_polls(void)
{
	static uint8_t buf[NSTEPS][64];
	struct drive_answer a[NSTEPS];
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			struct drive_res r = { 0 };
			for (int i = 0; i < NSTEPS; i++)
				a[i] = (struct drive_answer){ buf[i], (size_t)drive_hex(answers[i], buf[i], 64),
							      drive_chunkings[k].ch, drive_chunkings[k].n, 0, 6 };
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK_EQ_INT(drive_poll(&poll, &rx, a, NSTEPS, &r), BMS_OK);
			CHECK_EQ_INT(r.badsum + r.bad_scan, 0);
			check_all(&poll.snap, inv);
		}
}

/* A bad sum, another type's answer, a wrong length byte, our request
 * echoed: none is taken, the good answer after them is. */
static void test_broken(void)
{
	char bad[64];
	snprintf(bad, sizeof(bad), "%s", GREENWAY_09);
	bad[19] = bad[19] == '0' ? '1' : '0'; /* the sum */
	drive_check_broken(0, 1, bad, GREENWAY_09, 1, 0, NULL);
	drive_check_broken(0, 1, GREENWAY_0A, GREENWAY_09, 0, 1, NULL);
	drive_check_broken(0, 1, GREENWAY_REQ_09, GREENWAY_09, 0, 0, NULL);
	/* the answer to 0x09 with 5 data bytes (its sum made good): refused */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_res r = FEED_HEX(&poll, &rx, "47160109057c3901000022", drive_notif20);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
	/* SOC 101 % */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	poll.step = 2;
	r = FEED_HEX(&poll, &rx, "4716010d0465000000d4", drive_notif20);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* truncated: never a frame; a poll that did not end is no sample */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	r = FEED_HEX(&poll, &rx, "47160109047c390100", chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* Built cells: 32 cells, a gap (a 0 among them stays), a forced count; a
 * problem bit; temperatures below zero. */
static void test_built(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t f[64] = { 0x47, 0x16, 0x01, 0x24, 0x20 };
	drive_begin_link(&poll, &rx, 0, 30, false, BMS_LINK_BLE, true);
	for (int half = 0; half < 2; half++) {
		f[3] = half ? 0x25 : 0x24;
		for (int i = 0; i < 16; i++) {
			unsigned mv = (half == 0 && i == 3) ? 0 : 3300u + (unsigned)(16 * half + i);
			f[5 + 2 * i] = (uint8_t)mv;
			f[6 + 2 * i] = (uint8_t)(mv >> 8);
		}
		f[37] = (uint8_t)bms_sum(f, 37);
		poll.step = 9 + half;
		CHECK_EQ_INT(drv->handle(&poll, f, 38), BMS_OK);
	}
	CHECK_EQ_INT(poll.snap.ncells, 30);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
	CHECK_EQ_INT(poll.snap.cell_mv[29], 3329);
	uint8_t st[22] = { 0x47, 0x16, 0x01, 0x16, 0x10 };
	st[5 + 9] = 0x80;
	st[21] = (uint8_t)bms_sum(st, 21);
	poll.step = 7;
	CHECK_EQ_INT(drv->handle(&poll, st, 22), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.raw_alarms[3], 0x8000);
	uint8_t tp[38] = { 0x47, 0x16, 0x01, 0x08, 0x20, 0xF6, 0x00, 0x81 };
	tp[37] = (uint8_t)bms_sum(tp, 37);
	poll.step = 8;
	CHECK_EQ_INT(drv->handle(&poll, tp, 38), BMS_OK);
	CHECK_NEAR(poll.snap.temp_c[0], -10.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[2], -127.0, 1e-6);
}

int main(void)
{
	test_table();
	test_requests();
	test_polls();
	test_broken();
	test_built();
	return check_report();
}
