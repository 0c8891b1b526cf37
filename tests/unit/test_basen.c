/* SPDX-License-Identifier: MIT */
/* tests/unit/test_basen.c - the Basen BMS over Bluetooth LE (bms/basen.c):
 * every basen row of tests/fixtures/vectors.tsv (one 8S pack, the vendor
 * app's btsnoop log in syssi's esphome-basen-bms) through scan() +
 * handle() in whole polls as the gateway runs them (0x2A status, 0x2B
 * general, 0x24 cells, 0x25 / 0x26 while every slot holds a cell), in
 * every chunking (20-byte notifications, odd reads, one byte at a time),
 * a status with the start byte 3B and one pushed while the cells are due,
 * the answers bmsgw never asks for (ignored), `cells =`, and broken input
 * (bad sums, CR LF, address and lengths, impossible counts and values).
 * Protocol facts: bms/PROTOCOLS.md §55. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_basen_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family basen: each macro is the row of the id
 * it spells (BASEN_01 = BASEN-01, BASEN_REQ_2A = BASEN-REQ-2A) */
#define BASEN_REQ_2A "3a162a010041000d0a"
#define BASEN_REQ_2B "3a162b010042000d0a"
#define BASEN_REQ_24 "3a162401003b000d0a"
#define BASEN_REQ_25 "3a162501003c000d0a"
#define BASEN_01 "3b162a1843040000cd68000015161919691f00008080000007020000c2030d0a"
#define BASEN_02 "3a162a1815040000d368000015161919701f00008080000007020000a1030d0a"
#define BASEN_03 "3a162a1843040000d568000015161919741f00008080000007020000d5030d0a"
#define BASEN_04 "3a162418170d1b0d180d190d180d1b0d1c0d1c0d000000000000000088010d0a"
#define BASEN_05 "3a162418180d1c0d1a0d1a0d190d1b0d1c0d1c0d00000000000000008e010d0a"
#define BASEN_06 "3a162b18a08601000064000091a0010000000000307500007153070086040d0a"
#define BASEN_07 "3a16251800000000000000000000000000000000000000000000000053000d0a"
#define BASEN_08 "3a16fe1300f90f2c80800000800000000000000276536107050d0a"
#define BASEN_09 "3a16e810307500007153070088131e0000080f2775030d0a"

/* synthetic: 12 cells of 3300..3311 mV, then a 13th in 0x25; 0x26 empty */
#define SYN_C12 "3a162418e40ce50ce60ce70ce80ce90cea0ceb0cec0ced0cee0cef0cd40b0d0a"
#define SYN_C25_1 "3a162518f10c0000000000000000000000000000000000000000000050010d0a"

static int poll_of(struct bms_poll *poll, struct bms_rx *rx, const char *const *answers, size_t n,
		   const struct drive_chunking *c)
{
	return drive_poll_hex(poll, rx, answers, n, c, 9);
}

static const uint16_t cells_04[8] = { 3351, 3355, 3352, 3353, 3352, 3355, 3356, 3356 };
static const uint16_t cells_05[8] = { 3352, 3356, 3354, 3354, 3353, 3355, 3356, 3356 };

static void check_pack(const struct bms_poll *poll, float v, float i, float remain, const uint16_t *cells)
{
	const struct bms_snapshot *s = &poll->snap;
	drive_check_cells(s, cells, 8);
	CHECK_NEAR(s->voltage, v, 1e-4);
	CHECK_NEAR(s->current, i, 1e-4);
	CHECK_NEAR(s->remain_ah, remain, 1e-4);
	CHECK_NEAR(s->soc, 7.0, 1e-6);
	CHECK_NEAR(s->full_ah, 106.641, 1e-3);
	CHECK_EQ_INT(s->cycles, 7);
	CHECK_EQ_INT(s->ntemps, 4);
	static const float t[4] = { 21, 22, 25, 25 };
	for (int k = 0; k < 4; k++)
		CHECK_NEAR(s->temp_c[k], t[k], 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0x8080);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
					 BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
					 BMS_HAS_ALARMS);
}

/* ---- the table, the requests --------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "basen");
	CHECK_EQ_INT(drv->protocol_id, 46);
	CHECK(bms_find("basen") == drv);
	drive_check_ble16("fa00", "fa01", "fa02");
	CHECK(drv->ble->hints[0].kind == BMS_BLE_SERVICE && drv->ble->hints[0].value == 0xFA00);
	CHECK(drv->ble->hints[1].why == NULL);
}

/* Every request is a read (len 1, data 00): 0x2A, 0x2B, 0x24, 0x25, 0x26. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, BASEN_REQ_2A));
	drive_step(&poll, &rx, BASEN_02, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, BASEN_REQ_2B));
	drive_step(&poll, &rx, BASEN_06, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, BASEN_REQ_24));
	drive_step(&poll, &rx, SYN_C12, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, BASEN_REQ_25));
	poll.step = 5;
	CHECK(drive_req_is(&poll, "3a162601003d000d0a"));
	drive_request_ends(&poll, 8, 6);
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_sessions(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		const char *const a[] = { BASEN_02, BASEN_06, BASEN_04 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		CHECK_EQ_INT(poll_of(&poll, &rx, a, 3, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, 26.835f, 1.045f, 8.048f, cells_04);
		/* the status with the start byte 3B */
		const char *const b[] = { BASEN_01, BASEN_06, BASEN_05 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, b, 3, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, 26.829f, 1.091f, 8.041f, cells_05);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
}

/* A status pushed (3B) before the cells, and the answers bmsgw never asks
 * for (balancing 0xFE, settings 0xE8): each a whole frame, ignored. */
static void test_pushed(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	drive_step(&poll, &rx, BASEN_03, drive_odd, DRIVE_NCH(drive_odd), 0);
	drive_step(&poll, &rx, BASEN_08 BASEN_06, drive_odd, DRIVE_NCH(drive_odd), 1);
	struct drive_res r = drive_step(&poll, &rx, BASEN_01 BASEN_09 BASEN_04, drive_notif20, 1, 2);
	CHECK_EQ_INT(r.frames, 3);
	CHECK_EQ_INT(r.skipped, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_pack(&poll, 26.837f, 1.091f, 8.052f, cells_04); /* the status asked for, not the pushed one */
	/* a request echoed is skipped */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_step(&poll, &rx, BASEN_REQ_2A BASEN_02, drive_notif20, 1, 0);
	CHECK_EQ_INT(r.skipped, 9);
}

/* 12 cells fill 0x24: 0x25 is asked (BASEN-07: none there), then 13 with
 * 0x25's first slot (0x26 asked, empty); `cells =`. */
static void test_more_cells(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	const char *const a[] = { BASEN_02, BASEN_06, SYN_C12, BASEN_07 };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(poll_of(&poll, &rx, a, 4, &drive_chunkings[1]), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 12);
	CHECK_EQ_INT(poll.snap.cell_mv[11], 3311);
	const char *const b[] = { BASEN_02, BASEN_06, SYN_C12, SYN_C25_1 };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(poll_of(&poll, &rx, b, 4, &drive_chunkings[0]), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 13);
	CHECK_EQ_INT(poll.snap.cell_mv[12], 3313);
	/* cells = 4, an inverted current; cells = 9 of 8: refused */
	const char *const c[] = { BASEN_02, BASEN_06, BASEN_04 };
	drive_begin_link(&poll, &rx, 0, 4, true, BMS_LINK_BLE, false);
	CHECK_EQ_INT(poll_of(&poll, &rx, c, 3, &drive_chunkings[2]), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 0);
	CHECK_NEAR(poll.snap.current, -1.045, 1e-4);
	drive_begin_link(&poll, &rx, 0, 9, false, BMS_LINK_BLE, false);
	poll.step = 3;
	CHECK_EQ_INT(drive_feed_hex(&poll, &rx, BASEN_04, drive_notif20, 1).last_err, BMS_E_RANGE);
}

/* ---- broken input --------------------------------------------------------- */

static void test_impossible(void)
{
	CHECK_EQ_INT(drive_handle_at(BASEN_02, 1), BMS_OK);
	/* SOC 101 %; a status and a general of 23 bytes */
	CHECK_EQ_INT(drive_handle_at("3a162a1815040000d368000015161919701f00008080000065020000ff030d0a", 1), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("3a162a1715040000d368000015161919701f000080800000070200a0030d0a", 1), BMS_E_SHORT);
	CHECK_EQ_INT(drive_handle_at("3a162b17a08601000064000091a00100000000003075000071530785040d0a", 2), BMS_E_SHORT);
	/* cells: none, a gap, 6.6 V, a 0x26 of 10 slots taken, of 12 refused */
	CHECK_EQ_INT(drive_handle_at("3a16241800000000000000000000000000000000000000000000000052000d0a", 3), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("3a162418e40c0000e40c00000000000000000000000000000000000032020d0a", 3), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("3a162418c8190000000000000000000000000000000000000000000033010d0a", 3), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("3a162614000000000000000000000000000000000000000050000d0a", 5), BMS_OK);
	CHECK_EQ_INT(drive_handle_at(BASEN_07, 4), BMS_OK);
	CHECK_EQ_INT(drive_handle_at("3a16261800000000000000000000000000000000000000000000000054000d0a", 5), BMS_E_SHORT);
	/* protections: charge over-current, discharge short circuit, MOSFETs on */
	struct bms_poll poll = { 0 };
	uint8_t f[64];
	int n = check_hex("3a162a1815040000d368000015161919701f000081a0000007020000c2030d0a", f, sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CHG_OC | BMS_AL_SHORT);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	/* another type in this step; a bad sum, a wrong address, CR LF, length */
	CHECK_EQ_INT(drive_handle_at(BASEN_04, 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at("3a162a1815040000d368000015161919701f00008080000007020000a2030d0a", 1), BMS_E_CHECKSUM);
	CHECK_EQ_INT(drive_handle_at("3a172a1815040000d368000015161919701f00008080000007020000a2030d0a", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("3a162a1815040000d368000015161919701f00008080000007020000a1030d0b", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("3a162a1915040000d368000015161919701f00008080000007020000a1030d0a", 1), BMS_E_SHORT);
}

/* The framer: a bad sum, a wrong CR LF, an overlong length, truncation
 * and noise; the good frame after them is found. */
static void test_framer(void)
{
	uint8_t b[64];
	size_t n = 99, k = 32;
	drive_scan_whole(BASEN_02, b, sizeof(b), k);
	b[28] ^= 1;
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	b[28] ^= 1;
	b[1] = 0x17;
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_BADSUM);
	b[1] = 0x16;
	b[3] = 0x30; /* no frame is that long */
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);

	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	/* a status cut after 20 bytes (the capture's own case), noise, the status */
	char hex[300];
	snprintf(hex, sizeof(hex), "%.40s" "003bff3a0d0a" "%s", BASEN_02, BASEN_02);
	struct drive_res r = drive_step(&poll, &rx, hex, drive_notif20, 1, 0);
	CHECK(r.badsum >= 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(poll.step, 2);
	/* a truncated cells answer: the poll does not complete */
	drive_step(&poll, &rx, BASEN_06, drive_notif20, 1, 0);
	r = drive_feed_hex(&poll, &rx, "3a162418170d1b0d180d190d180d1b0d1c0d", drive_notif20, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_requests();
	test_sessions();
	test_pushed();
	test_more_cells();
	test_impossible();
	test_framer();
	return check_report();
}
