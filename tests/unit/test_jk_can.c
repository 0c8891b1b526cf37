/* SPDX-License-Identifier: MIT */
/* tests/unit/test_jk_can.c - a JK BMS's CAN port read listen only
 * (bms/jk_can.c): the JKCAN rows of tests/fixtures/vectors.tsv (two real
 * frames of a JK-B 16S 280 Ah pack, and another node's frame of the same
 * bus) as the CAN transport hands them over (BMS_CAN records), in every
 * chunking; when a poll completes (the wait's end on the first, the slots
 * of the last poll after); the cell frames (all up to the last, or none);
 * the temperatures of both generations; 0x4F4's highest and lowest cell
 * as the snapshot's extremes where the poll has no cell list (the list
 * wins); the alarm fields; broken frames (short DLCs, impossible values,
 * remote frames, bad records).  Protocol
 * facts: bms/PROTOCOLS.md §40. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const struct bms_driver *const drv = &bms_jk_can_driver;

#include "can_recs.h"
#include "drive.h"

/* tests/fixtures/vectors.tsv, family can (JKCAN_01 = row JKCAN-01) */
#define JKCAN_01 "000002F4#1302B20F51000000"
#define JKCAN_02 "18F128F4#E108F00A6B802300"
#define JKCAN_03 "01F21400#C7141200E4002300"

/* A V2 cycle made after the layout (not a capture): 16 cells, temperatures,
 * switches, alarms clear. */
#define V2_CYCLE "2F4#1402A00F3C000000 5F4#4B014802490000 7F4#0000000000000000 " \
	"18F128F4#1027102700006400 18F228F4#044B4A504C4D0000 18F528F4#0700000000000000 " \
	"18E028F4#E40CE50CE60CE70C 18E128F4#E80CE90CEA0CEB0C 18E228F4#EC0CED0CEE0CEF0C " \
	"18E328F4#F00CF10CF20CF30C"

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *text)
{
	uint8_t buf[1024];
	size_t n = recs(buf, sizeof(buf), text);
	return FEED_BYTES(poll, rx, buf, n, chunks_odd);
}

/* A poll that knows no cycle yet (the first). */
static void fresh(struct bms_poll *poll, struct bms_rx *rx, bool inv)
{
	drive_begin(poll, rx, 0, 0, inv);
	poll->persist = 0;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "jk-can");
	CHECK_EQ_INT(drv->protocol_id, 32);
	CHECK(bms_find("jk-can") == drv);
	CHECK(drv->listen_only && drv->next_request == NULL);
	CHECK_EQ_INT(drv->can->bitrate, 250000);
	CHECK(drv->max_address == 0 && !drv->probe);
	CHECK(!drv->ble && drv->control == NULL);
	/* every identifier it reads passes its filters */
	static const unsigned std_ids[] = { 0x2F4, 0x4F4, 0x5F4, 0x7F4 };
	for (size_t i = 0; i < 4; i++)
		CHECK((std_ids[i] & drv->can->mask) == drv->can->id);
	static const uint32_t ext_ids[] = { 0x2F4, 0x18F128F4, 0x18F228F4, 0x18F528F4, 0x18E028F4, 0x18E528F4 };
	for (size_t i = 0; i < 6; i++)
		CHECK((ext_ids[i] & drv->can->ext_mask) == (drv->can->ext_id & drv->can->ext_mask));
	CHECK((0x305 & drv->can->mask) != drv->can->id);
	CHECK((drv->provides & (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT)) == (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT));
}

/* JKCAN-01..03 in one poll, in every chunking: the wait ends, the poll is
 * used; 03 (another node) is passed over. */
static void test_capture(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t buf[256];
	size_t n = recs(buf, sizeof(buf), JKCAN_01 " " JKCAN_02 " " JKCAN_03);
	CHECK_EQ_INT(n, 3 * 16);
	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 3; k++)
		for (int inv = 0; inv < 2; inv++) {
			fresh(&poll, &rx, inv);
			struct drive_res r = drive_feed_bytes(&poll, &rx, buf, n, chs[k], nchs[k]);
			CHECK_EQ_INT(r.ok, 0);
			CHECK_EQ_INT(r.more, 2);
			CHECK_EQ_INT(r.unexpected, 1);
			CHECK_EQ_INT(r.err + r.bad_scan + r.badsum, 0);
			CHECK(drv->timeout(&poll));
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			const struct bms_snapshot *s = &poll.snap;
			CHECK_NEAR(s->voltage, 53.1, 1e-4);
			CHECK_NEAR(s->current, inv ? -1.8 : 1.8, 1e-4);
			CHECK_NEAR(s->soc, 81.0, 1e-4);
			CHECK_NEAR(s->remain_ah, 227.3, 1e-4);
			CHECK_NEAR(s->full_ah, 280.0, 1e-4);
			CHECK_EQ_INT(s->cycles, 35);
			CHECK_EQ_INT(s->ncells, 0);
			CHECK_EQ_INT(s->ntemps, 0);
			CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN |
						 BMS_HAS_FULL | BMS_HAS_CYCLES);
		}
	/* every split into two pieces */
	for (size_t k = 1; k < n; k++) {
		const size_t two[] = { k, n - k };
		fresh(&poll, &rx, false);
		struct drive_res r = FEED_BYTES(&poll, &rx, buf, n, two);
		CHECK_EQ_INT(r.more, 2);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK_NEAR(poll.snap.voltage, 53.1, 1e-4);
	}
	/* the next poll knows the two slots: complete at the second */
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = feed(&poll, &rx, JKCAN_03 " " JKCAN_02 " " JKCAN_01);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* the standard 0x2F4 of JK's document reads as the capture's */
	fresh(&poll, &rx, false);
	r = feed(&poll, &rx, "2F4#1302B20F51000000");
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 53.1, 1e-4);
	/* a refused frame fails the poll, whatever else came */
	fresh(&poll, &rx, false);
	r = feed(&poll, &rx, JKCAN_01 " 18F128F4#F00AE1086B802300");
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a slot missed once stays learned: the next poll waits for it */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, JKCAN_01 " " JKCAN_02);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	drive_begin(&poll, &rx, 0, 0, false);
	feed(&poll, &rx, JKCAN_01);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	drive_begin(&poll, &rx, 0, 0, false);
	r = feed(&poll, &rx, JKCAN_01 " " JKCAN_02);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 1);
	/* without 0x2F4 the poll is not used */
	fresh(&poll, &rx, false);
	r = feed(&poll, &rx, JKCAN_02 " " JKCAN_03);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* A whole V2 cycle: cells, temperatures, MOSFET sensor, switches. */
static void test_v2(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	struct drive_res r = feed(&poll, &rx, V2_CYCLE);
	CHECK_EQ_INT(r.more, 10);
	CHECK_EQ_INT(r.err + r.unexpected, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 53.2, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-4);
	CHECK_NEAR(s->soc, 60.0, 1e-4);
	CHECK_EQ_INT(s->ncells, 16);
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(s->cell_mv[i], 3300 + i);
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[0], 25.0, 1e-4);
	CHECK_NEAR(s->temp_c[1], 24.0, 1e-4);
	CHECK_NEAR(s->temp_c[2], 26.0, 1e-4);
	CHECK_NEAR(s->temp_c[3], 27.0, 1e-4);
	CHECK_NEAR(s->mos_temp_c, 30.0, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos && s->balancing);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(s->present & BMS_HAS_CELLS && s->present & BMS_HAS_MOSFETS && s->present & BMS_HAS_BALANCING);

	/* the next poll: complete when the last of the ten slots arrives */
	drive_begin(&poll, &rx, 0, 0, false);
	r = feed(&poll, &rx, V2_CYCLE " " V2_CYCLE);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 9);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);

	/* a cell frame missing below the last one seen: no cells, the rest is used */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#1402A00F3C000000 18E028F4#E40CE50CE60CE70C 18E228F4#EC0CED0CEE0CEF0C");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK(!(poll.snap.present & BMS_HAS_CELLS));
	CHECK_EQ_INT(poll.snap.cell_mv[0], 0);
	/* the last cell frame missed: the cells do not add up to the pack, none */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#1402A00F3C000000 18E028F4#E40CE50CE60CE70C 18E128F4#E80CE90CEA0CEB0C "
	     "18E228F4#EC0CED0CEE0CEF0C");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 0);
	/* 0 mV ends the count; a cell after it: no list (a 6-cell pack of 19.8 V) */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#C600A00F3C000000 18E028F4#E40CE50CE60CE70C 18E128F4#E80CE90C00000000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 6);
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#8400A00F3C000000 18E028F4#E40CE50C0000E70C");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
}

/* JK-B CAN V1: no 0x18F228F4, 0x5F4's highest and lowest sensors; no cell
 * frames, 0x4F4's highest and lowest cell (made after mr-manuel's layout:
 * no capture of 0x4F4 is public) are the snapshot's extremes. */
static void test_v1_temps(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#1402A00F3C000000 4F4#E80C05E40C0100 5F4#4B014802490000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 25.0, 1e-4);
	CHECK_NEAR(s->temp_c[1], 22.0, 1e-4);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK(!(s->present & BMS_HAS_CELLS));
	CHECK(s->present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(s->ext_max_mv, 3304);
	CHECK_EQ_INT(s->ext_max_cell, 5);
	CHECK_EQ_INT(s->ext_min_mv, 3300);
	CHECK_EQ_INT(s->ext_min_cell, 1);
	CHECK(s->present & BMS_HAS_TEMP_EXT);
	CHECK_NEAR(s->ext_tmax_c, 25.0, 1e-4);
	CHECK_NEAR(s->ext_tmin_c, 22.0, 1e-4);
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	CHECK_EQ_INT(cs.from, BMS_CELLS_EXT);
	CHECK_EQ_INT(cs.max_idx, 5);
	CHECK_EQ_INT(cs.min_idx, 1);
	CHECK_EQ_INT(cs.delta_mv, 4);
	CHECK(bms_plausible(s, NULL));
	/* the next poll waits for 0x4F4 too (learned) */
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = feed(&poll, &rx, "2F4#1402A00F3C000000 5F4#4B014802490000");
	CHECK_EQ_INT(r.ok, 0);
	r = feed(&poll, &rx, "4F4#E80C05E40C0100");
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ext_max_mv, 3304);
	/* no cell numbers (0): the voltages alone */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#1402A00F3C000000 4F4#E80C00E40C00");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(poll.snap.present & BMS_HAS_CELL_EXT);
	CHECK_EQ_INT(poll.snap.ext_max_cell, 0);
	/* a 0x4F4 of zeros gives nothing */
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#1402A00F3C000000 4F4#000000000000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CELL_EXT));
}

/* A V2 BMS sends its cells and 0x4F4: the list wins, no extremes in the
 * snapshot; a cell frame missed that poll: 0x4F4's extremes instead. */
static void test_list_wins(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	feed(&poll, &rx, V2_CYCLE " 4F4#F30C10E40C0100");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK(!(poll.snap.present & BMS_HAS_CELL_EXT));
	struct bms_cell_stats cs;
	bms_cell_stats(&poll.snap, &cs);
	CHECK_EQ_INT(cs.from, BMS_CELLS_LIST);
	CHECK_EQ_INT(cs.max_mv, 3315);
	CHECK_EQ_INT(cs.avg_mv, 3308);
	CHECK(poll.snap.present & BMS_HAS_TEMP_EXT); /* 0x5F4's, beside the probes */
	CHECK_EQ_INT(poll.snap.ntemps, 4);
	fresh(&poll, &rx, false);
	feed(&poll, &rx, "2F4#1402A00F3C000000 18E028F4#E40CE50CE60CE70C 18E228F4#EC0CED0CEE0CEF0C "
	     "4F4#F30C10E40C0100");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(poll.snap.ext_max_mv, 3315);
	CHECK_EQ_INT(poll.snap.ext_max_cell, 16);
	bms_cell_stats(&poll.snap, &cs);
	CHECK_EQ_INT(cs.from, BMS_CELLS_EXT);
}

/* ALM_INFO's 2-bit fields. */
static void test_alarms(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx, false);
	/* fields 0 (cell OV, level 1), 5 (discharge OC, level 2), 10 (SOC low), 15 (unnamed) */
	feed(&poll, &rx, "2F4#1402A00F3C000000 7F4#0108104000000000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_OV | BMS_AL_DSG_OC | BMS_AL_SOC_LOW | BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.nraw, 2);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x0801);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x4010);
	CHECK(!(poll.snap.alarms & BMS_AL_PROTECTION));
}

/* Broken frames are refused, a broken record skipped; nothing of them
 * reaches the snapshot. */
static void test_broken(void)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{ "2F4#1302B20F", BMS_E_SHORT },               /* JKCAN-01 truncated: no SOC */
		{ "000002F4#1302B20F", BMS_E_SHORT },
		{ "18F128F4#E108F00A6B8023", BMS_E_SHORT },    /* JKCAN-02 truncated */
		{ "2F4#0000B20F51000000", BMS_E_RANGE },       /* 0 V */
		{ "2F4#1302B20F65000000", BMS_E_RANGE },       /* SOC 101 */
		{ "18F128F4#F00AE1086B802300", BMS_E_RANGE },  /* remaining above full */
		{ "18F128F4#0000000000002300", BMS_E_RANGE },  /* no capacity */
		{ "18E028F4#7017E50CE60CE70C", BMS_E_RANGE },  /* a cell of 6 V */
		{ "18E028F4#0100E50CE60CE70C", BMS_E_RANGE },  /* a cell of 1 mV */
		{ "18E028F4#E40CE50CE60C", BMS_E_SHORT },
		{ "5F4#4B01", BMS_E_SHORT },
		{ "7F4#000000", BMS_E_SHORT },
		{ "2F4r#8", BMS_E_UNEXPECTED },                /* a remote frame */
		{ "18E628F4#E40CE50CE60CE70C", BMS_E_UNEXPECTED }, /* no seventh cell frame */
		{ "4F4#E80C05E40C", BMS_E_SHORT },            /* no number of the lowest */
		{ "4F4#70170EE40C0100", BMS_E_RANGE },        /* a highest cell of 6 V */
		{ "4F4#E80C05F3010100", BMS_E_RANGE },        /* a lowest cell of 0.499 V */
		{ "4F4#E40C05E80C0100", BMS_E_RANGE },        /* the lowest above the highest */
		{ JKCAN_03, BMS_E_UNEXPECTED },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(&poll, &rx, false);
		struct drive_res r = feed(&poll, &rx, bad[i].text);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.nrc ? r.rc[0] : 99, bad[i].rc);
		/* nothing taken; a refused frame (not another node's) marks the poll */
		CHECK_EQ_INT(poll.seen, bad[i].rc == BMS_E_UNEXPECTED ? 0u : BMS_CAN_REFUSED);
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* a record whose length is not its DLC's, a header the transport never writes */
	uint8_t rec[32];
	size_t n = recs(rec, sizeof(rec), JKCAN_01);
	fresh(&poll, &rx, false);
	CHECK_EQ_INT(drv->handle(&poll, rec, n - 1), BMS_E_SHORT);
	rec[2] = 0x04;
	CHECK_EQ_INT(drv->handle(&poll, rec, n), BMS_E_SHORT);
	struct drive_res r = FEED_BYTES(&poll, &rx, rec, n, chunks_odd);
	CHECK_EQ_INT(r.frames, 0);
	CHECK(r.skipped > 0);
	CHECK_EQ_INT(poll.seen, 0);
	/* garbage between records is skipped */
	uint8_t buf[64] = { 0x00, 0xCA, 0x11, 0x4E };
	n = 4 + recs(buf + 4, sizeof(buf) - 4, JKCAN_01);
	fresh(&poll, &rx, false);
	r = FEED_BYTES(&poll, &rx, buf, n, chunks_odd);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

int main(void)
{
	test_table();
	test_capture();
	test_v2();
	test_v1_temps();
	test_list_wins();
	test_alarms();
	test_broken();
	return check_report();
}
