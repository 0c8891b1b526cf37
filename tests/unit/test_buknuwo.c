/* SPDX-License-Identifier: MIT */
/* tests/unit/test_buknuwo.c - Buknuwo batteries over Bluetooth LE
 * (buknuwo): the BUKNUWO rows of tests/fixtures/vectors.tsv (the main block
 * 0x0000 x 0x0D, the MOSFET temperature 0x0039 and the sensors 0x002E x
 * 0x0B at slave 1, the mock of aiobmsble's test) through scan() + handle()
 * fed in every chunking, the requests (the three reads, at slave 1), whole
 * polls through finish(), built answers for what the capture does not show
 * (a discharge, the problem bits aiobmsble masks out, MOSFETs off, sensors
 * below zero, the most sensors) and broken input (aiobmsble's wrong
 * function code, wrong CRC and wrong length; SOC or SOH over 100, 11
 * sensors).  Protocol facts: bms/PROTOCOLS.md §65. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_buknuwo_driver;

#define MB_BLE_SLAVE 0x01
#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define BUKNUWO_REQ_01 "01030000000d840f"
#define BUKNUWO_01 "01031a0184055900630064205620a1232800010000000480002d000000219b"
#define BUKNUWO_REQ_02 "0103003900015407"
#define BUKNUWO_02 "01030200bbf837"
#define BUKNUWO_REQ_03 "0103002e000b6404"
#define BUKNUWO_03 "010316000100c3000000000000000000000000000000000000c8e7"

/* aiobmsble's asserted values: 13.69 V, 3.88 A, 99 %, SOH 100, 82.78 Ah,
 * design 90 Ah, 1 cycle, both MOSFETs on, a problem (0x480000000 masked) */
static void main_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->voltage, 13.69, 1e-4);
	CHECK_NEAR(s->current, 3.88, 1e-4);
	CHECK_NEAR(s->soc, 99.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 82.78, 1e-3);
	CHECK_NEAR(s->full_ah, 90.0, 1e-3);
	CHECK_EQ_INT(s->cycles, 1);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(s->nraw, 3);
	CHECK_EQ_INT(s->raw_alarms[0], 0x0004);
	CHECK_EQ_INT(s->raw_alarms[1], 0x8000);
	CHECK_EQ_INT(s->raw_alarms[2], 0x2D00);
	CHECK_EQ_INT(s->ncells, 0);
}

static void mos_ok(const struct bms_poll *poll)
{
	CHECK(poll->snap.present & BMS_HAS_MOS_TEMP);
	CHECK_NEAR(poll->snap.mos_temp_c, 18.7, 1e-4);
}

static void temps_ok(const struct bms_poll *poll)
{
	CHECK_EQ_INT(poll->snap.ntemps, 1);
	CHECK_NEAR(poll->snap.temp_c[0], 19.5, 1e-4);
}

static void begin(struct bms_poll *poll, struct bms_rx *rx)
{
	drive_begin(poll, rx, 0, 0, false);
	poll->link = BMS_LINK_BLE;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "buknuwo");
	CHECK_EQ_INT(drv->protocol_id, 56);
	CHECK(bms_find("buknuwo") == drv);
	CHECK(drv->listen == NULL);
	drive_check_ble("00002760-08c2-11e1-9073-0e8ac72e1001", "00002760-08c2-11e1-9073-0e8ac72e0002",
			"00002760-08c2-11e1-9073-0e8ac72e0001");
	CHECK(drive_hinted("CDZG202512050020000242 "));
	CHECK(!drive_hinted("BMS-1A2B") && !drive_hinted("CDZ"));
	CHECK(!(drv->provides & BMS_HAS_CELLS));
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const uint16_t documented[][3] = { { 0x03, 0x0000, 0x0D }, { 0x03, 0x0039, 0x01 },
						  { 0x03, 0x002E, 0x0B } };
	begin(&poll, &rx);
	CHECK(mb_req_is(&poll, BUKNUWO_REQ_01));
	CHECK(mb_goto(&poll, 0x03, 0x0039));
	CHECK(mb_req_is(&poll, BUKNUWO_REQ_02));
	CHECK(mb_goto(&poll, 0x03, 0x002E));
	CHECK(mb_req_is(&poll, BUKNUWO_REQ_03));
	mb_reads_only(&poll, documented, 3);
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_every_chunking(&poll, f, mb_hex(BUKNUWO_01, f), main_ok);
	CHECK_EQ_INT(mb_cur(&poll), 0x0039);
	mb_every_chunking(&poll, f, mb_hex(BUKNUWO_02, f), mos_ok);
	CHECK_EQ_INT(mb_cur(&poll), 0x002E);
	mb_every_chunking(&poll, f, mb_hex(BUKNUWO_03, f), temps_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	main_ok(&poll);
}

/* The main block built: current (0.01 A), the problem words 9..11. */
static size_t mk_main(uint8_t *f, int16_t amps, uint16_t w9, uint16_t w10, uint16_t w11)
{
	uint16_t v[0x0D] = { (uint16_t)amps, 2660, 50, 98, 5000, 10000, 10000, 7, 0, w9, w10, w11, 0 };
	return mb_answer(f, 0x01, 0x03, v, 0x0D);
}

static void test_built(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	const struct bms_snapshot *s = &poll.snap;
	/* discharging 12.34 A, MOSFETs off, the bits aiobmsble masks out: no problem */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, -1234, 0x00C0, 0x0080, 0xF380)), BMS_OK);
	CHECK_NEAR(s->current, -12.34, 1e-4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->raw_alarms[2], 0xF380);
	CHECK(!s->chg_mos && !s->dsg_mos);
	/* a problem bit in each word */
	static const uint16_t bit[3][3] = { { 0x0001, 0, 0 }, { 0, 0x0100, 0 }, { 0, 0, 0x0040 } };
	for (int k = 0; k < 3; k++) {
		begin(&poll, &rx);
		CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 0, bit[k][0], bit[k][1], bit[k][2])), BMS_OK);
		CHECK_EQ_INT(s->alarms, BMS_AL_OTHER);
	}
	/* the charge MOSFET alone, the inverted current */
	begin(&poll, &rx);
	poll.invert_current = true;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 2500, 0, 0, 0x0400)), BMS_OK);
	CHECK_NEAR(s->current, -25.0, 1e-4);
	CHECK(s->chg_mos && !s->dsg_mos);
	/* 10 sensors below zero (all kept), a MOSFET below zero */
	begin(&poll, &rx);
	CHECK(mb_goto(&poll, 0x03, 0x0039));
	uint16_t m[1] = { (uint16_t)-35 };
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, m, 1)), BMS_OK);
	CHECK_NEAR(s->mos_temp_c, -3.5, 1e-4);
	uint16_t t[0x0B] = { 10 };
	for (int i = 0; i < 10; i++)
		t[1 + i] = (uint16_t)(int16_t)(-50 + 10 * i);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, t, 0x0B)), BMS_OK);
	CHECK_EQ_INT(s->ntemps, 10);
	CHECK_NEAR(s->temp_c[0], -5.0, 1e-4);
	CHECK_NEAR(s->temp_c[7], 2.0, 1e-4);
	CHECK_NEAR(s->temp_c[9], 4.0, 1e-4);
	/* no sensors */
	t[0] = 0;
	begin(&poll, &rx);
	CHECK(mb_goto(&poll, 0x03, 0x002E));
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, t, 0x0B)), BMS_OK);
	CHECK(!(s->present & BMS_HAS_TEMPS));
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_broken(&poll, f, mb_hex(BUKNUWO_01, f));
	/* aiobmsble's: FC 04 instead of 03, a wrong CRC, a length the frame
	 * has not: none is taken */
	begin(&poll, &rx);
	CHECK_EQ_INT(mb_not_taken(&poll, f, mb_hex("01041a0184055900630064205620a1232800010000000480002d0000002ddb", f)), 0);
	CHECK_EQ_INT(mb_not_taken(&poll, f, mb_hex("01031a0184055900630064205620a1232800010000000480002d000000ffff", f)), 1);
	CHECK_EQ_INT(mb_not_taken(&poll, f, mb_hex("01030f60f4", f)), 0);
	CHECK(mb_goto(&poll, 0x03, 0x002E));
	mb_broken(&poll, f, mb_hex(BUKNUWO_03, f));
	/* 11 sensors do not fit the block */
	uint16_t t[0x0B] = { 11 };
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, t, 0x0B)), BMS_E_RANGE);
	/* SOC or SOH over 100 */
	begin(&poll, &rx);
	uint16_t v[0x0D] = { 0, 1330, 101, 100 };
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 0x0D)), BMS_E_RANGE);
	v[2] = 100;
	v[3] = 101;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 0x0D)), BMS_E_RANGE);
	/* an exception to the main read fails the try */
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 0x01, 0x03, 0x02)), BMS_E_REFUSED);
	/* 0 V is no sample; a poll not done is none */
	begin(&poll, &rx);
	v[1] = 0;
	v[3] = 100;
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 0x0D)), BMS_OK);
	CHECK(drv->handle(&poll, f, mb_hex(BUKNUWO_02, f)) == BMS_OK);
	CHECK(drv->handle(&poll, f, mb_hex(BUKNUWO_03, f)) == BMS_OK);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME], a3[MB_MAX_FRAME];
	struct drive_answer ans[] = {
		{ a1, mb_hex(BUKNUWO_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mb_hex(BUKNUWO_02, a2), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
		{ a3, mb_hex(BUKNUWO_03, a3), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
	};
	struct drive_res r = { 0 };
	begin(&poll, &rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 3, &r), BMS_OK);
	main_ok(&poll);
	mos_ok(&poll);
	temps_ok(&poll);
	CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
}

int main(void)
{
	test_table();
	test_requests();
	test_captures();
	test_built();
	test_broken();
	test_full_poll();
	return check_report();
}
