/* SPDX-License-Identifier: MIT */
/* tests/unit/test_cbt_power.c - CBT Power / Creabest "R" packs over
 * Bluetooth LE (bms/cbt_power.c): the cbtpower rows of
 * tests/fixtures/vectors.tsv (aiobmsble's two sets of answers: a 4S pack
 * discharging at -2 degC whose cell answer fills a fifth slot with
 * 2317 mV beside its 13.4 V, twenty cells) through scan() + handle() in
 * whole polls as the gateway runs them, in every chunking, with the reads
 * echoed and noise before the answers; the cell reads ending at the first
 * empty cell or after 0x08, the pack the cells its voltage tells (the
 * spare slot holding a cell's voltage or garbage too; a frame no count
 * fits kept whole and refused by the plausibility table); broken input
 * (bad sum, wrong tail, a length that is not the frame's, a data block too
 * short, another command's answer, SOC out of range, truncated).
 * Protocol facts: bms/PROTOCOLS.md §62. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_cbt_power_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family cbtpower */
#define CBTPOWER_REQ_0B "aa550b000b0a0d"
#define CBTPOWER_REQ_09 "aa550900090a0d"
#define CBTPOWER_REQ_0A "aa550a000a0a0d"
#define CBTPOWER_REQ_15 "aa551500150a0d"
#define CBTPOWER_REQ_21 "aa552100210a0d"
#define CBTPOWER_REQ_05 "aa550500050a0d"
#define CBTPOWER_REQ_06 "aa550600060a0d"
#define CBTPOWER_REQ_07 "aa550700070a0d"
#define CBTPOWER_REQ_08 "aa550800080a0d"
#define CBTPOWER_01 "aa550b0858340000bcf3ffff4c0d0a"
#define CBTPOWER_02 "aa55090cfefffeff00000000000000000f0d0a"
#define CBTPOWER_03 "aa550a0664130d000000940d0a"
#define CBTPOWER_04 "aa55150428000300440d0a"
#define CBTPOWER_05 "aa55210400000000250d0a"
#define CBTPOWER_06 "aa55050a0b0d0b0d0a0d0a0d0d09830d0a"
#define CBTPOWER_07 "aa55060a00000000000000000000100d0a"
#define CBTPOWER_08 "aa550c0c000000005b06000003007402f20d0a"
#define CBTPOWER_09 "aa550b0858340000000000009f0d0a"
#define CBTPOWER_10 "aa55090c1500150000000000000000003f0d0a"
#define CBTPOWER_11 "aa55050a0b0d0a0d090d080d070d7d0d0a"
#define CBTPOWER_12 "aa55060a060d050d040d030d020d650d0a"
#define CBTPOWER_13 "aa55070a010d000dff0cfe0cfd0c4a0d0a"
#define CBTPOWER_14 "aa55080afc0cfb0cfa0cf90cf80c300d0a"

static int handle_at(const char *hex, int step)
{
	return drive_handle_at(hex, step);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "cbt-power");
	CHECK_EQ_INT(drv->protocol_id, 53);
	CHECK(bms_find("cbt-power") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && !drv->listens && !drv->probe && !drv->control);
	CHECK_STR(drv->ble->gatt[0].service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe4-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ffe9-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write_service, "0000ffe5-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[1].service == NULL);
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_COMPANY_SERVICE && h[0].value == 0x03C15352u);
	CHECK(h[1].kind == BMS_BLE_SERVICE && h[1].value == 0xFFE5);
	CHECK(h[2].kind == BMS_BLE_NAME && h[2].name_ok("CBTR012345") && h[2].name_ok("123C456789"));
	CHECK(!h[2].name_ok("CBT-012345") && !h[2].name_ok("CBTR01234") && !h[2].name_ok(""));
	CHECK(h[3].why == NULL);
}

/* The reads in order, each the fixtures' request. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	static const char *const req[] = { CBTPOWER_REQ_0B, CBTPOWER_REQ_09, CBTPOWER_REQ_0A, CBTPOWER_REQ_15,
					   CBTPOWER_REQ_21, CBTPOWER_REQ_05, CBTPOWER_REQ_06, CBTPOWER_REQ_07,
					   CBTPOWER_REQ_08 };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	for (int k = 0; k < 9; k++) {
		poll.step = k;
		CHECK(drive_req_is(&poll, req[k]));
	}
	poll.step = 0;
	drive_request_ends(&poll, 6, 9);
}

/* Frames built from the protocol (§62) beside the recorded ones: the
 * twenty cells' 0x0B with their sum (66.59 V, 0 A); the recorded cells with
 * a fifth slot of 3.3 V and of 0xFFFF; a 5S pack's cells (3.336 V fifth)
 * and its 16.69 V; the recorded 0x0B at 8.2 V (three cells make 10.016 V,
 * two 6.678 V). */
#define CB_0B_TWENTY "aa550b081e04010000000000360d0a"
#define CB_05_SPARE_3300 "aa55050a0b0d0b0d0a0d0a0de40c5d0d0a"
#define CB_05_SPARE_FFFF "aa55050a0b0d0b0d0a0d0a0dffff6b0d0a"
#define CB_0B_5S "aa550b0832410000bcf3ffff330d0a"
#define CB_05_5S "aa55050a0b0d0b0d0a0d0a0d080d820d0a"
#define CB_0B_8V2 "aa550b0808200000bcf3ffffe80d0a"

/* One whole poll of answers a[0..n) (the reads in order); the finish's rc. */
static int poll_of(struct bms_poll *poll, const char *const *a, int n, int cells)
{
	struct bms_rx rx;
	uint8_t req[16];
	drive_begin_link(poll, &rx, 0, cells, false, BMS_LINK_BLE, true);
	for (int k = 0; k < n; k++) {
		CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 7);
		drive_step(poll, &rx, a[k], drive_odd, DRIVE_NCH(drive_odd), 0);
	}
	CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 0);
	return drv->finish(poll);
}

/* aiobmsble's recorded pack: 13.4 V, a cell answer of 3339, 3339, 3338,
 * 3338 and 2317 mV, 0x06 empty.  A 4S pack: its four cells make 13.354 V,
 * all five 15.671 V (beyond the plausibility table's 10 %, which refused
 * every poll of it).  In every chunking, inverted too, each answer after
 * its read echoed. */
static void test_spare_slot(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			const char *const a[] = { CBTPOWER_REQ_0B CBTPOWER_01, "00" CBTPOWER_02, CBTPOWER_03, CBTPOWER_04,
						  CBTPOWER_05, CBTPOWER_06, CBTPOWER_07 };
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, true);
			CHECK_EQ_INT(drive_poll_hex(&poll, &rx, a, 7, &drive_chunkings[k], 7), BMS_OK);
			const struct bms_snapshot *s = &poll.snap;
			static const uint16_t c[4] = { 3339, 3339, 3338, 3338 };
			drive_check_cells(s, c, 4);
			CHECK_EQ_INT(s->cell_mv[4], 0); /* the spare slot emptied */
			CHECK(bms_plausible(s, NULL));
			CHECK_NEAR(s->voltage, 13.4, 1e-4);
			CHECK_NEAR(s->current, inv ? 3.14 : -3.14, 1e-5);
			CHECK_NEAR(s->temp_c[0], -2.0, 1e-6);
			CHECK_EQ_INT(s->ntemps, 1);
			CHECK_NEAR(s->soc, 100.0, 1e-6);
			CHECK_NEAR(s->full_ah, 40.0, 1e-6);
			CHECK_EQ_INT(s->cycles, 3);
			CHECK_EQ_INT(s->alarms, 0);
			CHECK_EQ_INT(s->nraw, 2);
			CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_TEMPS | BMS_HAS_SOC |
							 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_ALARMS | BMS_HAS_CELLS);
		}
	/* the spare slot holding a cell's voltage (3.3 V: 16.654 V for five)
	 * or garbage (0xFFFF): four cells all the same */
	static const char *const spare[] = { CB_05_SPARE_3300, CB_05_SPARE_FFFF };
	for (int k = 0; k < 2; k++) {
		struct bms_poll poll;
		const char *const a[] = { CBTPOWER_01, CBTPOWER_02, CBTPOWER_03, CBTPOWER_04,
					  CBTPOWER_05, spare[k], CBTPOWER_07 };
		CHECK_EQ_INT(poll_of(&poll, a, 7, 0), BMS_OK);
		CHECK_EQ_INT(poll.snap.ncells, 4);
		CHECK_EQ_INT(poll.snap.cell_mv[4], 0);
		CHECK(bms_plausible(&poll.snap, NULL));
	}
	/* `cells = 5` forces the fifth slot in: the table refuses the five */
	struct bms_poll poll;
	const char *const a5[] = { CBTPOWER_01, CBTPOWER_02, CBTPOWER_03, CBTPOWER_04, CBTPOWER_05, CBTPOWER_06 };
	CHECK_EQ_INT(poll_of(&poll, a5, 6, 5), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 5);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 2317);
	CHECK(!bms_plausible(&poll.snap, NULL));
	/* a 5S pack: its fifth cell counts (16.69 V) */
	const char *const b[] = { CB_0B_5S, CBTPOWER_02, CBTPOWER_03, CBTPOWER_04, CBTPOWER_05, CB_05_5S, CBTPOWER_07 };
	CHECK_EQ_INT(poll_of(&poll, b, 7, 0), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 5);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 3336);
	CHECK(bms_plausible(&poll.snap, NULL));
	/* a pack voltage (8.2 V) no count of the cells fits: the list stays
	 * whole and the plausibility table refuses the poll */
	const char *const d[] = { CB_0B_8V2, CBTPOWER_02, CBTPOWER_03, CBTPOWER_04, CBTPOWER_05, CBTPOWER_06, CBTPOWER_07 };
	CHECK_EQ_INT(poll_of(&poll, d, 7, 0), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 5);
	struct bms_implausible why;
	CHECK(!bms_plausible(&poll.snap, &why));
	CHECK_STR(why.field, "voltage against the cells' sum");
}

/* The 20-cell answers: all four cell reads, the list ends after 0x08.
 * With a 0x0B of their sum (66.59 V) the pack has twenty; with the
 * recorded 0x0B's 13.4 V (aiobmsble's mock reuses the 4S pack's) the
 * voltage tells four. */
static void test_twenty_cells(void)
{
	struct bms_poll poll;
	const char *const a[] = { CB_0B_TWENTY, CBTPOWER_10, CBTPOWER_03, CBTPOWER_04, CBTPOWER_05,
				  CBTPOWER_11, CBTPOWER_12, CBTPOWER_13, CBTPOWER_14 };
	CHECK_EQ_INT(poll_of(&poll, a, 9, 0), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 20);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3339);
	CHECK_EQ_INT(poll.snap.cell_mv[19], 3320);
	CHECK_NEAR(poll.snap.voltage, 66.59, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[0], 21.0, 1e-6);
	CHECK_NEAR(poll.snap.current, 0.0, 1e-6);
	CHECK(bms_plausible(&poll.snap, NULL));
	const char *const m[] = { CBTPOWER_09, CBTPOWER_10, CBTPOWER_03, CBTPOWER_04, CBTPOWER_05,
				  CBTPOWER_11, CBTPOWER_12, CBTPOWER_13, CBTPOWER_14 };
	CHECK_EQ_INT(poll_of(&poll, m, 9, 0), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 4); /* 3339 + 3338 + 3337 + 3336 = 13.35 V */
	CHECK_EQ_INT(poll.snap.cell_mv[4], 0);
	CHECK(bms_plausible(&poll.snap, NULL));
}

/* bms_cells_for_voltage() itself: the nearest count of those within
 * 10 %, none: all; a list with an empty slot or no voltage kept. */
static void test_cells_for_voltage(void)
{
	static const uint16_t c[6] = { 3339, 3339, 3338, 3338, 2317, 3300 };
	CHECK_EQ_INT(bms_cells_for_voltage(c, 5, 13.4f), 4);
	CHECK_EQ_INT(bms_cells_for_voltage(c, 5, 15.671f), 5);
	CHECK_EQ_INT(bms_cells_for_voltage(c, 6, 13.4f), 4);
	CHECK_EQ_INT(bms_cells_for_voltage(c, 4, 13.4f), 4);
	CHECK_EQ_INT(bms_cells_for_voltage(c, 5, 6.7f), 2);  /* two cells: 6.678 V */
	CHECK_EQ_INT(bms_cells_for_voltage(c, 5, 8.2f), 5);  /* 3 cells 10.016 V, 2 6.678 V: none within 10 % */
	CHECK_EQ_INT(bms_cells_for_voltage(c, 5, 30.0f), 5); /* all, though far: the table refuses them */
	CHECK_EQ_INT(bms_cells_for_voltage(c, 5, 0.0f), 5);
	CHECK_EQ_INT(bms_cells_for_voltage(c, 5, -13.4f), 5);
	static const uint16_t gap[5] = { 3339, 0, 3338, 3338, 2317 };
	CHECK_EQ_INT(bms_cells_for_voltage(gap, 5, 3.3f), 5); /* an empty slot: no guess */
	CHECK_EQ_INT(bms_cells_for_voltage(c, 0, 13.4f), 0);
	/* 3 cells (9.05 V) nearer to 10 V than 4 (10.96 V) but not within
	 * 10 % of their sum; 4 are: four */
	static const uint16_t near[5] = { 3000, 3000, 3050, 1910, 3000 };
	CHECK_EQ_INT(bms_cells_for_voltage(near, 5, 10.0f), 4);
}

static void test_broken(void)
{
	CHECK_EQ_INT(handle_at(CBTPOWER_01, 1), BMS_E_UNEXPECTED); /* 0x0B at the temperature's step */
	CHECK_EQ_INT(handle_at(CBTPOWER_08, 0), BMS_E_UNEXPECTED); /* 0x0C: never asked */
	CHECK_EQ_INT(handle_at("aa550a0665130d000000950d0a", 2), BMS_E_RANGE); /* SOC 101 */
	CHECK_EQ_INT(handle_at("aa550b04583400009b0d0a", 0), BMS_E_SHORT); /* 4 bytes of 0x0B */
	CHECK_EQ_INT(handle_at("aa550b0858340000bcf3ffff4d0d0a", 0), BMS_E_CHECKSUM);
	CHECK_EQ_INT(handle_at("aa550b0858340000bcf3ffff4c0a0d", 0), BMS_E_SHORT);
	CHECK_EQ_INT(handle_at("ab550b0858340000bcf3ffff4c0d0a", 0), BMS_E_HEADER);
	/* a warning: raw, OTHER */
	struct bms_poll poll;
	uint8_t f[32];
	int n = check_hex("aa55210401020000280d0a", f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = 4;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x0201);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	/* the framer: a bad sum counted, a wrong tail, noise, truncated */
	struct bms_rx rx;
	bms_poll_begin(&poll, 0, 0, false);
	bms_rx_clear(&rx);
	struct drive_res r = FEED_HEX(&poll, &rx, "aa550b0858340000bcf3ffff4d0d0a" CBTPOWER_01, chunks_big);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.bad_scan, 0);
	bms_poll_begin(&poll, 0, 0, false);
	bms_rx_clear(&rx);
	r = FEED_HEX(&poll, &rx, "aa550b0858340000bcf3ffff4c0a0d" "aa55", chunks_one);
	CHECK_EQ_INT(r.frames, 0);
	CHECK(r.badsum >= 1);
	bms_poll_begin(&poll, 0, 0, false);
	bms_rx_clear(&rx);
	r = FEED_HEX(&poll, &rx, "aa550b0858340000bcf3", drive_notif20);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a forced count of 3: 0x05 alone, three cells; of 7: 0x06's first two */
	bms_poll_begin(&poll, 0, 3, false);
	n = check_hex(CBTPOWER_06, f, (int)sizeof(f));
	poll.step = 5;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.step, 9);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	bms_poll_begin(&poll, 0, 7, false);
	poll.step = 5;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.step, 6);
	n = check_hex(CBTPOWER_07, f, (int)sizeof(f));
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.step, 9);
	CHECK_EQ_INT(poll.snap.ncells, 7);
	CHECK_EQ_INT(poll.snap.cell_mv[6], 0); /* forced: a cell the BMS reports 0 */
	/* no cells: the first cell 0 ends the poll without a sample */
	bms_poll_begin(&poll, 0, 0, false);
	n = check_hex(CBTPOWER_07, f, (int)sizeof(f));
	f[2] = 0x05;
	f[14] = 0x0F;
	poll.step = 5;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_EQ_INT(poll.step, 9); /* done */
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_requests();
	test_spare_slot();
	test_twenty_cells();
	test_cells_for_voltage();
	test_broken();
	return check_report();
}
