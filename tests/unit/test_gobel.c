/* SPDX-License-Identifier: MIT */
/* tests/unit/test_gobel.c - Gobel Power batteries over Bluetooth LE
 * (gobel): the GOBEL rows of tests/fixtures/vectors.tsv (the status block
 * 0x0000 x 0x3B and the device info 0x00AA x 0x23 of a 4S GP-LA12-314 at
 * slave 1) through scan() + handle() fed in every chunking, the requests
 * (the two reads, at slave 1), whole polls through finish() (the device
 * info refused or unanswered), built answers for what the capture does not
 * show (a current, problem words, MOSFETs off, sub-zero sensors, no MOSFET
 * sensor, the most cells and sensors the block holds, a forced cell count)
 * and broken input (bad CRC, truncated, impossible byte, cell and sensor
 * counts, SOC or SOH over 100).  Protocol facts: bms/PROTOCOLS.md §52. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_gobel_driver;

#define MB_BLE_SLAVE 0x01
#include "mb_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define GOBEL_REQ_01 "01030000003b0419"
#define GOBEL_01 "01037600000533006100647b117eed7aa800010000000000000c0000000000c00000040cff0d020d020d01000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0100d100000000000000000000000000000000000000d3ffff01d6"
#define GOBEL_REQ_02 "010300aa00232433"
#define GOBEL_02 "010346503453323030412d34303536392d312e30320000343035363931314131313030303332502020202047502d" \
	"4c4131322d3331343230323530363138000000000000000000000082a3"

/* aiobmsble's asserted values: 13.31 V, 0 A, 97 %, SOH 100, 315.05 Ah
 * remaining, 324 Ah (324.93), 1 cycle, 4 cells, cell 20.9 degC, MOSFET
 * 21.1 degC, both MOSFETs on, no problem */
static void status_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	static const uint16_t cells[4] = { 3327, 3330, 3330, 3329 };
	CHECK_NEAR(s->voltage, 13.31, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 97.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 315.05, 1e-3);
	CHECK_NEAR(s->full_ah, 324.93, 1e-3);
	CHECK_EQ_INT(s->cycles, 1);
	drive_check_cells(s, cells, 4);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 20.9, 1e-4);
	CHECK(s->present & BMS_HAS_MOS_TEMP);
	CHECK_NEAR(s->mos_temp_c, 21.1, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 3);
	CHECK_EQ_INT(s->raw_alarms[0] | s->raw_alarms[1] | s->raw_alarms[2], 0);
	CHECK(!(s->present & BMS_HAS_BALANCE));
}

static void info_ok(const struct bms_poll *poll)
{
	CHECK_STR(poll->kept.ident.firmware, "P4S200A-40569-1.02");
	CHECK_STR(poll->kept.ident.serial, "4056911A1100032P");
	CHECK_STR(poll->kept.ident.model, "GP-LA12-31420250618");
	CHECK_STR(poll->kept.ident.vendor, "");
}

static void begin(struct bms_poll *poll, struct bms_rx *rx)
{
	drive_begin(poll, rx, 0, 0, false);
	poll->link = BMS_LINK_BLE;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "gobel");
	CHECK_EQ_INT(drv->protocol_id, 43);
	CHECK(drv->ble->hints != NULL && drv->listen == NULL);
	CHECK(bms_find("gobel") == drv);
	drive_check_ble("00002760-08c2-11e1-9073-0e8ac72e1001",
			"00002760-08c2-11e1-9073-0e8ac72e0002",
			"00002760-08c2-11e1-9073-0e8ac72e0001");
	/* aiobmsble's name pattern BMS-[0-9A-F]* */
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h->name_ok != NULL);
	if (h->name_ok) {
		CHECK(h->name_ok("BMS-1A2B3C4D5E6F7A8B"));
		CHECK(h->name_ok("BMS-F"));
		CHECK(h->name_ok("BMS-0123456789ABCDEF  "));
		CHECK(!h->name_ok("BMS-"));
		CHECK(!h->name_ok("BMS-G123"));
		CHECK(!h->name_ok("BMS-a123"));
		CHECK(!h->name_ok("BMS_1234"));
		CHECK(!h->name_ok("XBMS-1234"));
	}
	CHECK(h[1].why == NULL);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const uint16_t documented[][3] = { { 0x03, 0x0000, 0x3B }, { 0x03, 0x00AA, 0x23 } };
	begin(&poll, &rx);
	CHECK(mb_req_is(&poll, GOBEL_REQ_01));
	CHECK(mb_goto(&poll, 0x03, 0x00AA));
	CHECK(mb_req_is(&poll, GOBEL_REQ_02));
	mb_reads_only(&poll, documented, 2);
	/* the identity known: the status block alone */
	begin(&poll, &rx);
	poll.kept.ident_state = BMS_IDENT_HAVE;
	CHECK(mb_req_is(&poll, GOBEL_REQ_01));
	CHECK(!mb_goto(&poll, 0x03, 0x00AA));
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_every_chunking(&poll, f, mb_hex(GOBEL_01, f), status_ok);
	CHECK_EQ_INT(mb_cur(&poll), 0x00AA);
	mb_every_chunking(&poll, f, mb_hex(GOBEL_02, f), info_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	status_ok(&poll);
	/* a forced cell count: the first cells only */
	drive_begin(&poll, &rx, 0, 3, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(GOBEL_01, f)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 3);
}

/* The status block built: current (0.01 A), n cells of 3300 + i mV, nt
 * sensors of -5.0 + i degC, the MOSFET sensor (0xFFFF: none), the MOSFET
 * word, a problem word at 8 + k. */
static size_t mk_status(uint8_t *f, int16_t amps, unsigned n, unsigned nt, uint16_t mos_t, uint16_t mos, int k,
			uint16_t prob)
{
	uint16_t v[0x3B] = { (uint16_t)amps, 1330, 50, 98, 5000, 10000, 10000, 7 };
	if (k >= 0)
		v[8 + k] = prob;
	v[14] = mos;
	v[15] = (uint16_t)n;
	for (unsigned i = 0; i < n && i < 30; i++)
		v[16 + i] = (uint16_t)(3300 + i);
	v[46] = (uint16_t)nt;
	for (unsigned i = 0; i < nt && i < 10; i++)
		v[47 + i] = (uint16_t)(int16_t)(-50 + 10 * (int)i);
	v[57] = mos_t;
	v[58] = 0xFFFF;
	return mb_answer(f, 0x01, 0x03, v, 0x3B);
}

static void test_built(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	const struct bms_snapshot *s = &poll.snap;
	/* discharging 12.34 A, 2 sensors below zero, no MOSFET sensor, the
	 * MOSFETs one at a time, a problem word each */
	for (int k = 0; k < 3; k++) {
		begin(&poll, &rx);
		uint16_t mos = k == 1 ? 0x4000 : k == 2 ? 0x8000 : 0;
		CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, -1234, 4, 2, 0xFFFF, mos, k, 0x0100)), BMS_OK);
		CHECK_NEAR(s->current, -12.34, 1e-4);
		CHECK_EQ_INT(s->alarms, BMS_AL_OTHER);
		CHECK_EQ_INT(s->raw_alarms[k], 0x0100);
		CHECK(s->chg_mos == (k == 1) && s->dsg_mos == (k == 2));
		CHECK(!(s->present & BMS_HAS_MOS_TEMP));
		CHECK_EQ_INT(s->ntemps, 2);
		CHECK_NEAR(s->temp_c[0], -5.0, 1e-4);
		CHECK_NEAR(s->temp_c[1], -4.0, 1e-4);
		CHECK_NEAR(s->remain_ah, 50.0, 1e-4);
		CHECK_NEAR(s->full_ah, 100.0, 1e-4);
		CHECK_EQ_INT(s->cycles, 7);
	}
	/* a charging current, a MOSFET sensor below zero, no sensors */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 2500, 4, 0, (uint16_t)-35, 0xC000, -1, 0)), BMS_OK);
	CHECK_NEAR(s->current, 25.0, 1e-4);
	CHECK_NEAR(s->mos_temp_c, -3.5, 1e-4);
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK(!(s->present & BMS_HAS_TEMPS));
	/* the inverted current */
	begin(&poll, &rx);
	poll.invert_current = true;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 2500, 4, 0, 0, 0, -1, 0)), BMS_OK);
	CHECK_NEAR(s->current, -25.0, 1e-4);
	/* the most the block holds: 30 cells, 10 sensors (all kept); the count's
	 * high byte is not part of it */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 30 | 0x100, 10 | 0x200, 250, 0, -1, 0)), BMS_OK);
	CHECK_EQ_INT(s->ncells, 30);
	CHECK_EQ_INT(s->cell_mv[29], 3329);
	CHECK_EQ_INT(s->ntemps, 10);
	CHECK_NEAR(s->temp_c[7], 2.0, 1e-4);
	CHECK_NEAR(s->mos_temp_c, 25.0, 1e-4);
	begin(&poll, &rx);
	mb_broken(&poll, f, mk_status(f, 0, 30, 10, 250, 0, -1, 0));
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	begin(&poll, &rx);
	mb_broken(&poll, f, mb_hex(GOBEL_01, f));
	CHECK(mb_goto(&poll, 0x03, 0x00AA));
	mb_broken(&poll, f, mb_hex(GOBEL_02, f));
	/* 31 cells, 11 sensors do not fit the block */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 31, 1, 0, 0, -1, 0)), BMS_E_RANGE);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 4, 11, 0, 0, -1, 0)), BMS_E_RANGE);
	CHECK_EQ_INT(mb_cur(&poll), 0x0000);
	/* SOC or SOH over 100 */
	uint16_t v[0x3B] = { 0, 1330, 101, 100 };
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 0x3B)), BMS_E_RANGE);
	v[2] = 100;
	v[3] = 101;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, 0x01, 0x03, v, 0x3B)), BMS_E_RANGE);
	/* an exception to the status read fails the try */
	begin(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 0x01, 0x03, 0x02)), BMS_E_REFUSED);
	/* a status without cells is no sample */
	begin(&poll, &rx);
	poll.kept.ident_state = BMS_IDENT_HAVE;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 0, 1, 0, 0, -1, 0)), BMS_OK);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME];
	struct drive_answer ans[] = {
		{ a1, mb_hex(GOBEL_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mb_hex(GOBEL_02, a2), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
	};
	struct drive_res r = { 0 };
	begin(&poll, &rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 2, &r), BMS_OK);
	status_ok(&poll);
	info_ok(&poll);
	/* the next poll reads the status alone */
	begin(&poll, &rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 1, &r), BMS_OK);
	info_ok(&poll);
	/* a BMS that refuses the device info, or does not answer it */
	struct bms_poll p2 = { 0 };
	begin(&p2, &rx);
	CHECK_EQ_INT(drv->handle(&p2, a1, ans[0].len), BMS_OK);
	uint8_t e[8];
	CHECK_EQ_INT(drv->handle(&p2, e, mb_exception(e, 0x01, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT(mb_cur(&p2), -1);
	CHECK_EQ_INT(drv->finish(&p2), BMS_OK);
	CHECK_EQ_INT(p2.kept.ident_state, BMS_IDENT_NONE);
	struct bms_poll p3 = { 0 };
	begin(&p3, &rx);
	CHECK_EQ_INT(drv->handle(&p3, a1, ans[0].len), BMS_OK);
	CHECK(drv->timeout(&p3));
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
