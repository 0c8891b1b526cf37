/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pylon_rt.c - Pylontech RT batteries over Bluetooth LE
 * (pylon-rt): the PYLRT rows of tests/fixtures/vectors.tsv (the main block
 * 0x1016 x 13 and the serial 0x2000 x 8 of an RT12100 at slave 1) through
 * scan() + handle() fed in every chunking, the requests (the two reads, at
 * slave 1), whole polls through finish() (a sample without a cell list,
 * its highest and lowest cell the snapshot's extremes; the
 * serial skipped when refused or unanswered), built answers (a charging
 * current, sub-zero temperatures, no design capacity), and broken input
 * (bad CRC, truncated, impossible byte counts, SOC or SOH over 100, an
 * all-zero answer, a poll that did not get through).  Protocol facts:
 * bms/PROTOCOLS.md §51. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>

static const struct bms_driver *const drv = &bms_pylon_rt_driver;

#define MB_BLE_SLAVE 0x01
#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define PYLRT_REQ_01 "01031016000d610b"
#define PYLRT_01 "01031a052cffd00cf00cef00960096005b0063003f00000b9003e803e845d8"
#define PYLRT_REQ_02 "0103200000084fcc"
#define PYLRT_02 "010310413233313031353030303030303030318504"

/* aiobmsble's asserted values: 13.24 V, -4.8 A, 91 %, SOH 99, 100 Ah
 * design, 15.0 and 15.0 degC; the highest and lowest cell 3.312 / 3.311 V,
 * the snapshot's extremes (no cell list, no numbers) */
static void main_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->voltage, 13.24, 1e-4);
	CHECK_NEAR(s->current, -4.8, 1e-4);
	CHECK_NEAR(s->soc, 91.0, 1e-6);
	CHECK_NEAR(s->soh, 99.0, 1e-6);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 15.0, 1e-4);
	CHECK_NEAR(s->temp_c[1], 15.0, 1e-4);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
				     BMS_HAS_TEMPS | BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3312);
	CHECK_EQ_INT(s->ext_min_mv, 3311);
	CHECK_EQ_INT(s->ext_max_cell, 0);
	CHECK_EQ_INT(s->ext_min_cell, 0);
	CHECK_NEAR(s->ext_tmax_c, 15.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 15.0, 1e-4);
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	CHECK_EQ_INT(cs.from, BMS_CELLS_EXT);
	CHECK_EQ_INT(cs.delta_mv, 1);
	CHECK(bms_plausible(s, NULL));
}

static void serial_ok(const struct bms_poll *poll)
{
	CHECK_STR(poll->kept.ident.serial, "A231015000000001");
	CHECK_STR(poll->kept.ident.model, "");
}

static void begin(struct bms_poll *poll, struct bms_rx *rx)
{
	drive_begin(poll, rx, 0, 0, false);
	poll->link = BMS_LINK_BLE;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "pylon-rt");
	CHECK_EQ_INT(drv->protocol_id, 42);
	CHECK(drv->ble->hints != NULL && drv->listen == NULL);
	CHECK(bms_find("pylon-rt") == drv);
	CHECK(!(drv->provides & (BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS)));
	drive_check_ble("00010203-0405-0607-0809-0a0b0c0d1910",
			"00010203-0405-0607-0809-0a0b0c0d2b10",
			"00010203-0405-0607-0809-0a0b0c0d2b11");
	/* the name pattern RT[1-4][2468]* */
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h->name_ok != NULL);
	if (h->name_ok) {
		CHECK(h->name_ok("RT12100-A1B2C3"));
		CHECK(h->name_ok("RT24100"));
		CHECK(h->name_ok("RT48"));
		CHECK(h->name_ok("rt12200"));
		CHECK(!h->name_ok("RT"));
		CHECK(!h->name_ok("RT1"));
		CHECK(!h->name_ok("RT13100"));
		CHECK(!h->name_ok("RT52100"));
		CHECK(!h->name_ok("RT02100"));
		CHECK(!h->name_ok("GModule"));
		CHECK(!h->name_ok("XRT12100"));
	}
	CHECK(h[1].why == NULL);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const uint16_t documented[][3] = { { 0x03, 0x1016, 13 }, { 0x03, 0x2000, 8 } };
	begin(&poll, &rx);
	CHECK(mb_req_is(&poll, PYLRT_REQ_01));
	CHECK(mb_goto(&poll, 0x03, 0x2000));
	CHECK(mb_req_is(&poll, PYLRT_REQ_02));
	mb_reads_only(&poll, documented, 2);
	/* the identity known: the main block alone */
	begin(&poll, &rx);
	poll.kept.ident_state = BMS_IDENT_HAVE;
	CHECK(mb_req_is(&poll, PYLRT_REQ_01));
	CHECK(!mb_goto(&poll, 0x03, 0x2000));
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_every_chunking(&poll, f, mb_hex(PYLRT_01, f), main_ok);
	CHECK_EQ_INT(mb_cur(&poll), 0x2000);
	mb_every_chunking(&poll, f, mb_hex(PYLRT_02, f), serial_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	main_ok(&poll);
	/* the inverted current */
	begin(&poll, &rx);
	poll.invert_current = true;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(PYLRT_01, f)), BMS_OK);
	CHECK_NEAR(poll.snap.current, 4.8, 1e-4);
}

/* 0x1016 x 13 built: v12 (0.01 V), current 0.1 A, temperatures 0.1 degC */
static size_t mk_main(uint8_t *f, uint16_t volts, int16_t amps, int16_t t_hi, int16_t t_lo, uint16_t soc,
		      uint16_t soh, uint16_t design)
{
	uint16_t v[13] = { volts, (uint16_t)amps, 3400, 3390, (uint16_t)t_hi, (uint16_t)t_lo, soc, soh, 0, 0, 0, 0,
			   design };
	return mb_answer(f, 0x01, 0x03, v, 13);
}

static void test_built(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	const struct bms_snapshot *s = &poll.snap;
	/* charging 12.5 A, -5.5 and -12.0 degC, SOC 0, SOH 100 */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 2712, 125, -55, -120, 0, 100, 2000)), BMS_OK);
	CHECK_NEAR(s->voltage, 27.12, 1e-4);
	CHECK_NEAR(s->current, 12.5, 1e-4);
	CHECK_NEAR(s->temp_c[0], -5.5, 1e-4);
	CHECK_NEAR(s->temp_c[1], -12.0, 1e-4);
	CHECK_NEAR(s->soc, 0.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->full_ah, 200.0, 1e-4);
	CHECK_EQ_INT(s->ext_max_mv, 3400);
	CHECK_EQ_INT(s->ext_min_mv, 3390);
	CHECK_NEAR(s->ext_tmax_c, -5.5, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, -12.0, 1e-4);
	/* the highest and lowest cell given as 0: none; the lowest above the
	 * highest, or 6 V: the poll is refused by the plausibility table; a
	 * temperature of -60 degC: no temperature extreme (its sensor the
	 * gateway serves absent with a sensor fault) */
	uint16_t v[13] = { 1300, 0, 0, 0, 200, 180, 50, 90, 0, 0, 0, 0, 1000 };
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 13)), BMS_OK);
	CHECK(!(s->present & BMS_HAS_CELL_EXT));
	v[2] = 3300, v[3] = 3310;
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 13)), BMS_OK);
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK(!bms_plausible(s, NULL));
	v[2] = 6000, v[3] = 3310;
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 13)), BMS_OK);
	CHECK(!bms_plausible(s, NULL));
	v[2] = 3320, v[4] = (uint16_t)-600;
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 13)), BMS_OK);
	CHECK(isnan(s->ext_tmax_c));
	CHECK_NEAR(s->ext_tmin_c, 18.0, 1e-4);
	CHECK(s->present & BMS_HAS_TEMP_EXT);
	CHECK_NEAR(s->temp_c[0], -60.0, 1e-4);
	/* the largest discharge the s16 carries */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 1300, -32768, 0, 0, 50, 90, 1000)), BMS_OK);
	CHECK_NEAR(s->current, -3276.8, 1e-2);
	/* no design capacity: absent, not 0 Ah */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 1300, 0, 200, 180, 50, 90, 0)), BMS_OK);
	CHECK(!(s->present & BMS_HAS_FULL));
	begin(&poll, &rx);
	mb_broken(&poll, f, mk_main(f, 1300, 0, 200, 180, 50, 90, 0));
	/* a serial of spaces and NULs: no identity */
	begin(&poll, &rx);
	CHECK(mb_goto(&poll, 0x03, 0x2000));
	uint16_t sn[8] = { 0x2020, 0x2000 };
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, sn, 8)), BMS_OK);
	CHECK_STR(poll.kept.ident.serial, "");
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_broken(&poll, f, mb_hex(PYLRT_01, f));
	CHECK(mb_goto(&poll, 0x03, 0x2000));
	mb_broken(&poll, f, mb_hex(PYLRT_02, f));
	/* SOC or SOH over 100 */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 1300, 0, 0, 0, 101, 90, 1000)), BMS_E_RANGE);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 1300, 0, 0, 0, 100, 101, 1000)), BMS_E_RANGE);
	CHECK_EQ_INT(mb_cur(&poll), 0x1016);
	/* the main block's 13 registers cut to 12: another read's answer */
	uint16_t v[13] = { 1300 };
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 12)), BMS_E_UNEXPECTED);
	/* an exception to the main read fails the try */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 0x01, 0x03, 0x02)), BMS_E_REFUSED);
	/* an all-zero answer is no sample */
	begin(&poll, &rx);
	poll.kept.ident_state = BMS_IDENT_HAVE;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_main(f, 0, 0, 0, 0, 0, 0, 0)), BMS_OK);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a poll that did not get through the main read is no sample */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK(!drv->timeout(&poll));
	poll.step = -1;
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME];
	struct drive_answer ans[] = {
		{ a1, mb_hex(PYLRT_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mb_hex(PYLRT_02, a2), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
	};
	struct drive_res r = { 0 };
	begin(&poll, &rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 2, &r), BMS_OK);
	main_ok(&poll);
	serial_ok(&poll);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
	/* the next poll reads the main block alone */
	begin(&poll, &rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 1, &r), BMS_OK);
	serial_ok(&poll);
	/* a BMS that refuses the serial: a sample all the same, not asked again */
	struct bms_poll p2 = { 0 };
	begin(&p2, &rx);
	CHECK_EQ_INT(drv->handle(&p2, a1, ans[0].len), BMS_OK);
	uint8_t e[8];
	CHECK_EQ_INT(drv->handle(&p2, e, mb_exception(e, 0x01, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT(mb_cur(&p2), -1);
	CHECK_EQ_INT(drv->finish(&p2), BMS_OK);
	CHECK_EQ_INT(p2.kept.ident_state, BMS_IDENT_NONE);
	/* ... or does not answer it */
	struct bms_poll p3 = { 0 };
	begin(&p3, &rx);
	CHECK_EQ_INT(drv->handle(&p3, a1, ans[0].len), BMS_OK);
	CHECK(drv->timeout(&p3));
	CHECK_EQ_INT(mb_cur(&p3), -1);
	CHECK_EQ_INT(drv->finish(&p3), BMS_OK);
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
