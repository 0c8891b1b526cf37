/* SPDX-License-Identifier: MIT */
/* tests/unit/test_paceex.c - the PACEEX (PeiCheng) BMS over Bluetooth LE
 * (bms/paceex.c): every paceex row of tests/fixtures/vectors.tsv (one 16S
 * 100 Ah pack, aiobmsble's test data) through scan() + handle() in whole
 * polls as the gateway runs them (0x0A00 system data, 0x0A02 pack 1's
 * cells), in every chunking (20-byte notifications, odd reads, one byte at
 * a time), the answers bmsgw never asks for (identity, status bitmaps,
 * clock: ignored), `cells =`, and broken input (bad CRC, end byte,
 * lengths, truncation, impossible counts and values).
 * Protocol facts: bms/PROTOCOLS.md §47. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_paceex_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family paceex: each macro is the row of the
 * id it spells (PACEEX_01 = PACEEX-01, PACEEX_REQ_0A00 = PACEEX-REQ-0A00) */
#define PACEEX_REQ_0A00 "9a00000a0000000019519d"
#define PACEEX_REQ_0A02 "9a00000a020000020101289c9d"
#define PACEEX_01                                                                                 \
	"9a00000a0000003301fffffe59000014b500001ce800002710000027104a64000000ef000000000000000001080c" \
	"ef01100cec01030b8e01010b8999169d"
#define PACEEX_02                                                                                 \
	"9a00000a020000440214b6100cee0b890cec0b8b0cee0b8e0cef0b8b0cef00000cee00000cef00000cef00000cef" \
	"00000cf000000cef00000cee00000cee00000cef00000cee00000cec000032a19d"
#define PACEEX_03                                                                                 \
	"9a00000001000043001550313653313030412d33313931362d312e303600002050313653313030412d3331393136" \
	"2d312e30362d3030310000000000000000000a323139333956313430006ca79d"
#define PACEEX_04 "9a0000000200000e0d3132333435363738393031325a7d7d9d"
#define PACEEX_05 "9a00000a0300000d0200000e06000000000000000018ae9d"
#define PACEEX_06 "9a00000007000006190a12110c143b2c9d"

/* synthetic (the layout of §47.3): 4 cells 3370, 3371, 3369, 3372 mV, the
 * temperatures in slots 1 and 3 (25.0, 26.0 °C); PACEEX-01 charging 3.5 A */
#define SYN_C4 "9a00000a02000014020546040d2a0ba50d2b00000d290baf0d2c000091e29d"
#define SYN_CHG                                                                                   \
	"9a00000a00000033010000015e000014b500001ce800002710000027104a64000000ef000000000000000001080c" \
	"ef01100cec01030b8e01010b89336f9d"

static const uint16_t cells_16[16] = { 3310, 3308, 3310, 3311, 3311, 3310, 3311, 3311,
				       3311, 3312, 3311, 3310, 3310, 3311, 3310, 3308 };
static const uint16_t cells_4[4] = { 3370, 3371, 3369, 3372 };

static int poll_of(struct bms_poll *poll, struct bms_rx *rx, const char *const *answers, size_t n,
		   const struct drive_chunking *c)
{
	return drive_poll_hex(poll, rx, answers, n, c, 0); /* requests of 11 and 13 bytes: test_requests */
}

static void check_pack(const struct bms_poll *poll, float i)
{
	const struct bms_snapshot *s = &poll->snap;
	drive_check_cells(s, cells_16, 16);
	CHECK_NEAR(s->voltage, 53.01, 1e-4);
	CHECK_NEAR(s->current, i, 1e-4);
	CHECK_NEAR(s->soc, 74.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 74.0, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 239);
	CHECK_EQ_INT(s->ntemps, 4);
	static const float t[4] = { 22.2f, 22.4f, 22.7f, 22.4f };
	for (int k = 0; k < 4; k++)
		CHECK_NEAR(s->temp_c[k], t[k], 1e-4);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
					 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS);
}

/* ---- the table, the requests --------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "paceex");
	CHECK_EQ_INT(drv->protocol_id, 38);
	CHECK(bms_find("paceex") == drv);
	drive_check_ble16("fff0", "fff1", "fff2");
	CHECK(drive_hinted("PC-1234") && drive_hinted("PC-AB12"));
	CHECK(!drive_hinted("PC-12345") && !drive_hinted("PC-12") && !drive_hinted("XPC-1234"));
}

/* Every request is a read: 0x0A00, then 0x0A02 for pack 1. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, PACEEX_REQ_0A00));
	drive_step(&poll, &rx, PACEEX_01, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, PACEEX_REQ_0A02));
	drive_request_ends(&poll, 12, 3);
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_sessions(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		const char *const a[] = { PACEEX_01, PACEEX_02 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		CHECK_EQ_INT(poll_of(&poll, &rx, a, 2, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, -4.23f);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const char *const b[] = { SYN_CHG, PACEEX_02 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, b, 2, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, 3.5f);
	}
}

/* The answers bmsgw never asks for (versions, serial, status bitmaps,
 * clock) are whole frames, ignored; a request echoed is skipped. */
static void test_others(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = drive_step(&poll, &rx, PACEEX_03 PACEEX_04 PACEEX_REQ_0A00 PACEEX_01, drive_odd,
					 DRIVE_NCH(drive_odd), 2);
	CHECK_EQ_INT(r.frames, 3);
	CHECK_EQ_INT(r.skipped, 11);
	r = drive_step(&poll, &rx, PACEEX_05 PACEEX_06 PACEEX_01 PACEEX_02, drive_notif20, 1, 3);
	CHECK_EQ_INT(r.frames, 4);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_pack(&poll, -4.23f);
}

/* Temperatures only where a slot has one; `cells =`; inverted current. */
static void test_cells(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	const char *const a[] = { PACEEX_01, SYN_C4 };
	drive_begin_link(&poll, &rx, 0, 0, true, BMS_LINK_BLE, false);
	CHECK_EQ_INT(poll_of(&poll, &rx, a, 2, &drive_chunkings[1]), BMS_OK);
	drive_check_cells(&poll.snap, cells_4, 4);
	CHECK_EQ_INT(poll.snap.ntemps, 2);
	CHECK_NEAR(poll.snap.temp_c[0], 25.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[1], 26.0, 1e-4);
	CHECK_NEAR(poll.snap.current, 4.23, 1e-4);
	drive_check_forced(2, PACEEX_02, cells_16, 16);
}

/* ---- broken input --------------------------------------------------------- */

static void test_impossible(void)
{
	CHECK_EQ_INT(drive_handle_at(PACEEX_01, 1), BMS_OK);
	CHECK_EQ_INT(drive_handle_at(PACEEX_02, 2), BMS_OK);
	/* system: SOC 101 %, SOH 101 %, 50 data bytes */
	CHECK_EQ_INT(drive_handle_at("9a00000a0000003301fffffe59000014b500001ce800002710000027106564000000ef0000000000"
				     "00000001080cef01100cec01030b8e01010b8969249d", 1), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("9a00000a0000003301fffffe59000014b500001ce800002710000027104a65000000ef0000000000"
				     "00000001080cef01100cec01030b8e01010b8998d69d", 1), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("9a00000a0000003201fffffe59000014b500001ce800002710000027104a64000000ef0000000000"
				     "00000001080cef01100cec01030b8e01010b9a899d", 1), BMS_E_SHORT);
	/* cells: 17 announced for 16 slots, none, a 0 mV cell, 6.6 V */
	CHECK_EQ_INT(drive_handle_at("9a00000a020000440214b6110cee0b890cec0b8b0cee0b8e0cef0b8b0cef00000cee00000cef0000"
				     "0cef00000cef00000cf000000cef00000cee00000cee00000cef00000cee00000cec0000a2909d", 2),
		     BMS_E_SHORT);
	CHECK_EQ_INT(drive_handle_at("9a00000a020000040214b600fe869d", 2), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("9a00000a020000440214b61000000b890cec0b8b0cee0b8e0cef0b8b0cef00000cee00000cef0000"
				     "0cef00000cef00000cf000000cef00000cee00000cee00000cef00000cee00000cec00000ccc9d", 2),
		     BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("9a00000a020000440214b61019c80b890cec0b8b0cee0b8e0cef0b8b0cef00000cee00000cef0000"
				     "0cef00000cef00000cf000000cef00000cee00000cee00000cef00000cee00000cec000004c29d", 2),
		     BMS_E_RANGE);
	/* another command in this step; a bad CRC, end byte, length */
	CHECK_EQ_INT(drive_handle_at(PACEEX_02, 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at(PACEEX_05, 2), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at("9a00000a0000003301fffffe59000014b500001ce800002710000027104a64000000ef0000000000"
				     "00000001080cef01100cec01030b8e01010b8999179d", 1), BMS_E_CHECKSUM);
	CHECK_EQ_INT(drive_handle_at("9a00000a0000003301fffffe59000014b500001ce800002710000027104a64000000ef0000000000"
				     "00000001080cef01100cec01030b8e01010b8999169e", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("9a00000a0000003401fffffe59000014b500001ce800002710000027104a64000000ef0000000000"
				     "00000001080cef01100cec01030b8e01010b8999169d", 1), BMS_E_SHORT);
}

/* The framer: a bad CRC, a wrong end byte, truncation and noise; the good
 * frame after them is found. */
static void test_framer(void)
{
	uint8_t b[128];
	size_t n = 99, k = 62;
	drive_scan_whole(PACEEX_01, b, sizeof(b), k);
	b[60] ^= 1;
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	b[60] ^= 1;
	b[61] = 0x9E;
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_BADSUM);
	b[61] = 0x9D;
	b[0] = 0x00;
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_SKIP);

	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	/* a system answer cut after 20 bytes, noise, the answer */
	char hex[400];
	snprintf(hex, sizeof(hex), "%.40s" "009a9d00" "%s", PACEEX_01, PACEEX_01);
	struct drive_res r = drive_step(&poll, &rx, hex, drive_notif20, 1, 0);
	CHECK(r.badsum >= 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(poll.step, 2);
	/* a truncated cells answer: the poll does not complete */
	r = drive_feed_hex(&poll, &rx, "9a00000a020000440214b6100cee0b890cec0b8b0cee", drive_notif20, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_requests();
	test_sessions();
	test_others();
	test_cells();
	test_impossible();
	test_framer();
	return check_report();
}
