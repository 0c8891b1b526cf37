/* SPDX-License-Identifier: MIT */
/* tests/unit/test_roypow.c - the RoyPow / Epoch BMS over Bluetooth LE
 * (bms/roypow.c): every roypow row of tests/fixtures/vectors.tsv (one 4S
 * pack, aiobmsble's test data) through scan() + handle() in whole polls as
 * the gateway runs them (0x03 status, 0x04 pack, 0x02 cells), in every
 * chunking (20-byte notifications, odd reads, one byte at a time), with the
 * module's "AT+STAT\r\n" text before, between and after the frames, the
 * 0x04 frame read by its tags (98.173 Ah left of 105.000, §48.3),
 * `cells =`, and broken input (bad XOR, end byte, header, tags and
 * lengths, truncation, impossible counts and values).
 * Protocol facts: bms/PROTOCOLS.md §48. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_roypow_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family roypow: each macro is the row of the
 * id it spells (ROYPOW_01 = ROYPOW-01, ROYPOW_REQ_02 = ROYPOW-REQ-02) */
#define ROYPOW_REQ_02 "ead10104ff02f9f5"
#define ROYPOW_REQ_03 "ead10104ff03f8f5"
#define ROYPOW_REQ_04 "ead10104ff04fff5"
#define ROYPOW_01 "ead1011aff0332002300000000043b3b3b3c00100000000c07000000eff5"
#define ROYPOW_02                                                                                 \
	"ead10139ff040160020002030001049a28050001069e24070001087f7d09ffff0a04d40b00164a700c250317" \
	"00514505440d2e0d290d144e0000006ff5"

/* the module's own text */
#define AT "41542b535441540d0a"
/* synthetic (the layout of §48.3): 4 cells 3366, 3371, 3368, 3373 mV;
 * 16 cells 3300..3315 mV; ROYPOW-01 discharging (byte 6 bit 0 set) */
#define SYN_C4 "ead1010fff020404040d260d2b0d280d2dfef5"
#define SYN_C16 "ead10127ff021010100ce40ce50ce60ce70ce80ce90cea0ceb0cec0ced0cee0cef0cf00cf10cf20cf3caf5"
#define SYN_DSG "ead1011aff0333002300000000043b3b3b3c00100000000c07000000eef5"

static const uint16_t cells_4[4] = { 3366, 3371, 3368, 3373 };

static int poll_of(struct bms_poll *poll, struct bms_rx *rx, const char *const *answers, size_t n,
		   const struct drive_chunking *c)
{
	return drive_poll_hex(poll, rx, answers, n, c, 8);
}

static void check_pack(const struct bms_poll *poll, float i)
{
	const struct bms_snapshot *s = &poll->snap;
	drive_check_cells(s, cells_4, 4);
	CHECK_NEAR(s->voltage, 13.48, 1e-4);
	CHECK_NEAR(s->current, i, 1e-4);
	CHECK_NEAR(s->soc, 96.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 98.173, 1e-4); /* tags 07, 08: 0x0001 0x7F7D mAh */
	CHECK_NEAR(s->full_ah, 105.0, 1e-4);    /* tags 03, 04: 0x0001 0x9A28 mAh */
	CHECK_EQ_INT(s->cycles, 2);
	CHECK_EQ_INT(s->ntemps, 4);
	static const float t[4] = { 19, 19, 19, 20 };
	for (int k = 0; k < 4; k++)
		CHECK_NEAR(s->temp_c[k], t[k], 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
					 BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
					 BMS_HAS_ALARMS);
}

/* ---- the table, the requests --------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "roypow");
	CHECK_EQ_INT(drv->protocol_id, 39);
	CHECK(bms_find("roypow") == drv);
	drive_check_ble16("ffe0", "ffe1", "ffe1");
	/* aiobmsble's names, the leading space included */
	CHECK(drive_hinted(" B12100B") && drive_hinted(" S12105A") && drive_hinted(" B24100"));
	CHECK(drive_hinted(" S24100") && drive_hinted(" UT12"));
	CHECK(!drive_hinted("B12100B") && !drive_hinted(" X12") && !drive_hinted(""));
}

/* Every request is a read (len 4, FF cmd): 0x03, 0x04, 0x02. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, ROYPOW_REQ_03));
	drive_step(&poll, &rx, ROYPOW_01, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, ROYPOW_REQ_04));
	drive_step(&poll, &rx, ROYPOW_02, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, ROYPOW_REQ_02));
	drive_request_ends(&poll, 7, 4);
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_sessions(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		const char *const a[] = { ROYPOW_01, ROYPOW_02, SYN_C4 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		CHECK_EQ_INT(poll_of(&poll, &rx, a, 3, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, 0.35f);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		/* the module's text before and after every answer */
		const char *const b[] = { AT SYN_DSG AT, AT ROYPOW_02 AT, AT SYN_C4 AT };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, b, 3, &drive_chunkings[k]), BMS_OK);
		check_pack(&poll, -0.35f);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
}

/* The text alone is skipped, counted as no error; a request echoed is
 * skipped whole; another command's answer is ignored. */
static void test_text(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = drive_step(&poll, &rx, AT AT ROYPOW_REQ_03 AT ROYPOW_01 AT, drive_odd,
					 DRIVE_NCH(drive_odd), 0);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.badsum, 0);
	CHECK_EQ_INT(r.skipped, 4 * 9 + 8);
	CHECK_EQ_INT(poll.step, 2);
	/* the cells' answer while 0x04 is due: ignored, then 0x04 */
	r = drive_step(&poll, &rx, SYN_C4 AT ROYPOW_02, drive_notif20, 1, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.step, 3);
}

/* 16 cells; `cells =` takes the first N, N + 1 refused. */
static void test_cells(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	const char *const a[] = { ROYPOW_01, ROYPOW_02, SYN_C16 };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(poll_of(&poll, &rx, a, 3, &drive_chunkings[1]), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3300);
	CHECK_EQ_INT(poll.snap.cell_mv[15], 3315);
	drive_check_forced(3, SYN_C4, cells_4, 4);
	/* an inverted current */
	drive_begin_link(&poll, &rx, 0, 0, true, BMS_LINK_BLE, false);
	CHECK_EQ_INT(poll_of(&poll, &rx, a, 3, &drive_chunkings[0]), BMS_OK);
	CHECK_NEAR(poll.snap.current, -0.35, 1e-4);
}

/* ---- broken input --------------------------------------------------------- */

static void test_impossible(void)
{
	CHECK_EQ_INT(drive_handle_at(ROYPOW_01, 1), BMS_OK);
	CHECK_EQ_INT(drive_handle_at(ROYPOW_02, 2), BMS_OK);
	/* status: 11 temperatures (past the MOSFET byte), none; 18 data bytes (no MOSFET byte) */
	CHECK_EQ_INT(drive_handle_at("ead1011aff03320023000000000b3b3b3b3c00100000000c07000000e0f5", 1), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("ead1011aff0332002300000000003b3b3b3c00100000000c07000000ebf5", 1), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("ead10116ff0332002300000000043b3b3b3c00100000000ce4f5", 1), BMS_E_SHORT);
	/* pack: SOC 101 %; tag 09 where 08 stands (another layout); 42 data bytes (half a voltage) */
	CHECK_EQ_INT(drive_handle_at("ead10139ff040165020002030001049a28050001069e24070001087f7d09ffff0a04d40b00164a70"
				     "0c25031700514505440d2e0d290d144e0000006af5", 2), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("ead10139ff040160020002030001049a28050001069e24070001097f7d09ffff0a04d40b00164a70"
				     "0c25031700514505440d2e0d290d144e0000006ef5", 2), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("ead1012eff040160020002030001049a28050001069e24070001087f7d09ffff0a04d40b00164a70"
				     "0c250317005145056cf5", 2), BMS_E_SHORT);
	/* cells: none, a 0 mV cell, 6.5 V, half a cell, 33 cells */
	CHECK_EQ_INT(drive_handle_at("ead10107ff02000000faf5", 3), BMS_E_SHORT);
	CHECK_EQ_INT(drive_handle_at("ead10109ff020101010000f5f5", 3), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("ead10109ff02010101196589f5", 3), BMS_E_RANGE);
	CHECK_EQ_INT(drive_handle_at("ead1010aff020101010d2f0dd9f5", 3), BMS_E_SHORT);
	CHECK_EQ_INT(drive_handle_at("ead10149ff022121210d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f"
				     "0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2f0d2fb7f5", 3),
		     BMS_E_RANGE);
	/* a problem code and the MOSFETs off */
	struct bms_poll poll = { 0 };
	uint8_t f[64];
	int n = check_hex("ead1011aff0332002300000100043b3b3b3c00100000000c01000000e8f5", f, sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 1);
	CHECK(!poll.snap.chg_mos && !poll.snap.dsg_mos);
	/* another command in this step; a bad XOR, header, end byte, length */
	CHECK_EQ_INT(drive_handle_at(ROYPOW_02, 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at("ead1011aff0332002300000000043b3b3b3c00100000000c07000000eef5", 1), BMS_E_CHECKSUM);
	CHECK_EQ_INT(drive_handle_at("ead1021aff0332002300000000043b3b3b3c00100000000c07000000eff5", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("ead1011afe0332002300000000043b3b3b3c00100000000c07000000eff5", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("ead1011aff0332002300000000043b3b3b3c00100000000c07000000eff4", 1), BMS_E_HEADER);
	CHECK_EQ_INT(drive_handle_at("ead1011bff0332002300000000043b3b3b3c00100000000c07000000eff5", 1), BMS_E_SHORT);
}

/* The framer: a bad XOR, a wrong end byte, a false start, a length under
 * 4, truncation and noise; the good frame after them is found. */
static void test_framer(void)
{
	uint8_t b[64];
	size_t n = 99, k = 30;
	drive_scan_whole(ROYPOW_01, b, sizeof(b), k);
	b[28] ^= 1;
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	b[28] ^= 1;
	b[29] = 0xF4;
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_BADSUM);
	b[29] = 0xF5;
	b[1] = 0xD2; /* not a start */
	CHECK_EQ_INT(drv->scan(NULL, b, 2, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	b[1] = 0xD1;
	b[3] = 0; /* the length byte would be its own end */
	CHECK_EQ_INT(drv->scan(NULL, b, k, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);

	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	/* a status cut after 20 bytes, the text, noise, the status */
	char hex[300];
	snprintf(hex, sizeof(hex), "%.40s" AT "00eaeaf5" "%s", ROYPOW_01, ROYPOW_01);
	struct drive_res r = drive_step(&poll, &rx, hex, drive_notif20, 1, 0);
	CHECK(r.badsum >= 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(poll.step, 2);
	/* a truncated pack answer: the poll does not complete */
	r = drive_feed_hex(&poll, &rx, "ead10139ff040160020002030001049a280500", drive_notif20, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_requests();
	test_sessions();
	test_text();
	test_cells();
	test_impossible();
	test_framer();
	return check_report();
}
