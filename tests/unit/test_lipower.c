/* SPDX-License-Identifier: MIT */
/* tests/unit/test_lipower.c - Ective LiPower over Bluetooth LE
 * (bms/lipower.c): the lipower rows of tests/fixtures/vectors.tsv (the
 * answers at the ids 0x22, 0x0B (a ninth register) and 0x08 of aiobmsble's
 * test) through whole polls in every chunking; the ids tried in turn until
 * one answers, then kept; broken answers (aiobmsble's wrong start, CRC and
 * length, a direction or SOC out of range, another id's answer, our echo).
 * Protocol facts: bms/PROTOCOLS.md §64. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_lipower_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define LIPOWER_REQ_22 "220304000008426f"
#define LIPOWER_REQ_0B "0b03040000084596"
#define LIPOWER_REQ_08 "08030400000845a5"
#define LIPOWER_01 "2203100076006305cf001600010008008900019ecf"
#define LIPOWER_02 "0b03120070005e0035002d000100c90085001a00024716"
#define LIPOWER_03 "0803100076006305cf001600010008008900018ed1"

/* 13.7 V, discharging 0.08 A, SOC 99 %, 118 Ah left (LIPOWER-01, -03) */
static void check_137(const struct bms_snapshot *s, bool inv)
{
	CHECK_NEAR(s->voltage, 13.7, 1e-4);
	CHECK_NEAR(s->current, inv ? 0.08 : -0.08, 1e-5);
	CHECK_NEAR(s->soc, 99.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 118.0, 1e-6);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "lipower");
	CHECK_EQ_INT(drv->protocol_id, 55);
	CHECK(bms_find("lipower") == drv);
	drive_check_ble16("ffe0", "ffe1", "ffe1");
	CHECK(drv->ble->hints[0].kind == BMS_BLE_SERVICE && drv->ble->hints[0].value == 0xAF30);
	CHECK(drv->ble->hints[1].why == NULL);
	CHECK(!(drv->provides & (BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_MOSFETS)));
}

/* One poll at the id the pack asks now: its answer, in every chunking. */
static void test_polls(void)
{
	static const char *const ans[] = { LIPOWER_01, LIPOWER_02, LIPOWER_03 };
	static const char *const req[] = { LIPOWER_REQ_22, LIPOWER_REQ_0B, LIPOWER_REQ_08 };
	for (unsigned id = 0; id < 3; id++)
		for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
			for (int inv = 0; inv < 2; inv++) {
				struct bms_poll poll = { 0 };
				struct bms_rx rx;
				drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
				poll.persist = id;
				CHECK(drive_req_is(&poll, req[id]));
				CHECK_EQ_INT(drive_poll_hex(&poll, &rx, &ans[id], 1, &drive_chunkings[k], 8), BMS_OK);
				CHECK_EQ_INT(poll.persist, 4u | id);
				if (id == 1) {
					CHECK_NEAR(poll.snap.voltage, 13.3, 1e-4);
					CHECK_NEAR(poll.snap.current, inv ? 2.01 : -2.01, 1e-5);
					CHECK_NEAR(poll.snap.soc, 94.0, 1e-6);
					CHECK_NEAR(poll.snap.remain_ah, 112.0, 1e-6);
				} else {
					check_137(&poll.snap, inv);
				}
			}
	struct bms_poll poll = { 0 };
	bms_poll_begin(&poll, 0, 0, false);
	drive_request_ends(&poll, 7, 1);
}

/* A pack at 0x08: 0x22 and 0x0B time out, one poll each; 0x08 answers and
 * is kept; a later timeout does not move it. */
static void test_ids_in_turn(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, LIPOWER_REQ_22));
	CHECK(!drv->timeout(&poll));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drive_req_is(&poll, LIPOWER_REQ_0B));
	CHECK(!drv->timeout(&poll));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drive_req_is(&poll, LIPOWER_REQ_08));
	/* 0x22's answer now is not ours */
	struct drive_res r = FEED_HEX(&poll, &rx, LIPOWER_01, drive_notif20);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	r = FEED_HEX(&poll, &rx, LIPOWER_03, drive_notif20);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(!drv->timeout(&poll));
	CHECK(drive_req_is(&poll, LIPOWER_REQ_08));
	/* no id answers: the turn comes back to 0x22 */
	poll.persist = 2;
	CHECK(!drv->timeout(&poll));
	CHECK(drive_req_is(&poll, LIPOWER_REQ_22));
}

/* aiobmsble's broken answers (a start byte no id has, a bad CRC, a length
 * byte that is not the frame's), a direction and a SOC out of range, our
 * request echoed: none is taken, the good answer after them is. */
static void test_broken(void)
{
	/* wrong start 0x10: skipped */
	drive_check_broken(0, 1, "1003100076006305cf00160001000800890001a873", LIPOWER_01, 0, 0, NULL);
	/* a bad CRC: counted */
	drive_check_broken(0, 1, "2203100076006305cf0016000100080089000100cf", LIPOWER_01, 1, 0, NULL);
	/* our request echoed: skipped whole */
	drive_check_broken(0, 1, LIPOWER_REQ_22, LIPOWER_01, 0, 0, NULL);
	/* the length byte 0x11 (odd: no registers): skipped */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_res r = FEED_HEX(&poll, &rx, "2203110076006305cf00160001000800890001cf5f", drive_notif20);
	CHECK_EQ_INT(r.ok + r.err + r.frames, 0);
	/* direction 2 and SOC 101 % (CRCs made good): out of range */
	uint8_t f[32];
	int n = check_hex(LIPOWER_01, f, (int)sizeof(f));
	static const struct {
		int at;
		uint8_t v;
	} bad[] = { { 12, 2 }, { 6, 101 } };
	for (size_t k = 0; k < 2; k++) {
		uint8_t g[32];
		memcpy(g, f, (size_t)n);
		g[bad[k].at] = bad[k].v;
		uint16_t crc = bms_crc16_modbus(g, (size_t)n - 2);
		g[n - 2] = (uint8_t)crc;
		g[n - 1] = (uint8_t)(crc >> 8);
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		r = FEED_BYTES(&poll, &rx, g, (size_t)n, drive_notif20);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* truncated: never a frame; a poll without an answer does not finish */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	r = drive_feed_bytes(&poll, &rx, f, (size_t)n - 1, chunks_one, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(drv->handle(&poll, f, 10), BMS_E_SHORT);
}

int main(void)
{
	test_table();
	test_polls();
	test_ids_in_turn();
	test_broken();
	return check_report();
}
