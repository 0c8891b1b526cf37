/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pylon_can.c - a battery's Pylontech LV CAN read listen only
 * (bms/pylon_can.c): the pyloncan rows of tests/fixtures/vectors.tsv (a
 * US5000's V1.2 cycle, and a Daly's Victron-style set without 0x359 and
 * 0x35C) as the CAN transport hands them over (BMS_CAN records), in every
 * chunking; when a poll completes (the cycle of the last poll, V1.2's six,
 * the next 0x351, the end of the wait); broken frames (a short DLC,
 * impossible values, extended and remote frames, other identifiers,
 * garbage between records); the limits with the request flags; the alarm
 * bits of both levels and SMA's message pairs; the Victron-style sets'
 * 0x373 (the highest and lowest cell and temperature: a Seplos's and a
 * Pytes's real frames) and 0x379, broken ones too.  Protocol facts:
 * bms/PROTOCOLS.md §26.  The inverter codec of the same name is tested by
 * test_inv_pylon_can.c. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/pylon_can.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const struct bms_driver *const drv = &bms_pylon_can_driver;

#include "drive.h"
#include "can_recs.h"

/* tests/fixtures/vectors.tsv, family can (PYLONCAN_01 = row PYLONCAN-01) */
#define PYLONCAN_01 "351#1402C012C012C201 355#58005E00 356#7A13F2FE6B01 359#0000000006504E 35C#C000 " \
	"35E#50594C4F4E202020"
#define PYLONCAN_02 "351#2001A60EA60EE400 355#46006400581B0000 356#460A0000C8000000 35A#0000000000000000 " \
	"35E#4C56616969657900 35F#000001018D000000"
#define PYLONCAN_03 "351#4302E8039E07D001 355#3B00640002170000 356#4E14C1FEEA001A00 35A#AAAAAA02AAAAAA02 " \
	"35E#5348456E65726779 35F#0000100430010000 370#43414E2D534D4152 371#54424D532D424154 " \
	"372#0100000000000000 373#AB0CB70C27012801 374#5061636B2D303123 375#5061636B2D303123 " \
	"376#5061636B2D303123 377#5061636B2D303123 378#6A0F00006D0E0000 379#3001000000000000"
#define PYLONCAN_04 "351#3802E803E803C701 355#33006400 356#8E14F9FFB400 35A#0000000000000000 35E#5059544553 " \
	"35F#01006E013200 360#00 372#0200010001000200 373#D80CDA0C21012301 374#3038303000000000 " \
	"375#3034303000000000 376#3032303000000000 377#3033303000000000 378#400800002B070000 379#6400"

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

static void begin(struct bms_poll *poll, struct bms_rx *rx, bool inv)
{
	drive_begin(poll, rx, 0, 0, inv);
}

/* A poll that knows no cycle yet: it takes every frame up to the wait's end. */
static void fresh(struct bms_poll *poll, struct bms_rx *rx)
{
	begin(poll, rx, false);
	poll->persist = 0;
}

static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *text)
{
	uint8_t buf[1024];
	size_t n = recs(buf, sizeof(buf), text);
	return FEED_BYTES(poll, rx, buf, n, chunks_odd);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "pylon-can");
	CHECK_EQ_INT(drv->protocol_id, 20);
	CHECK(bms_find("pylon-can") == drv);
	CHECK(drv->listen_only && drv->next_request == NULL);
	CHECK_EQ_INT(drv->can->bitrate, 500000);
	CHECK_EQ_INT(drv->can->id, 0x340);
	CHECK_EQ_INT(drv->can->mask, 0x7C0);
	CHECK(drv->max_address == 0);
	CHECK(!drv->ble);
	CHECK(drv->control == NULL);
	CHECK(!(drv->provides & (BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN)));
	CHECK(drv->provides & BMS_HAS_CUR_LIMITS);
	CHECK(drv->provides & BMS_HAS_VOLT_LIMITS);
	/* no cell list: the highest and lowest cell and temperature of 0x373 */
	CHECK((drv->provides & (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT)) == (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT));
	/* every identifier it reads passes its filter; 0x305 (the inverter's) does not */
	static const unsigned ids[] = { 0x351, 0x355, 0x356, 0x359, 0x35A, 0x35C, 0x35E, 0x373, 0x379 };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CHECK((ids[i] & drv->can->mask) == drv->can->id);
	CHECK((0x305 & drv->can->mask) != drv->can->id);
}

/* bms_can_record() itself. */
static void test_record(void)
{
	uint8_t out[32], d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	CHECK_EQ_INT(bms_can_record(out, sizeof(out), 0x351, false, false, 8, d), 16);
	CHECK(out[0] == BMS_CAN_MAGIC0 && out[1] == BMS_CAN_MAGIC1 && out[2] == 0);
	CHECK(out[3] == 0x51 && out[4] == 0x03 && out[5] == 0 && out[6] == 0 && out[7] == 8 && out[15] == 8);
	CHECK_EQ_INT(bms_can_record(out, sizeof(out), 0x1FFFFFFF, true, true, 8, NULL), 8);
	CHECK(out[2] == (BMS_CAN_EXT | BMS_CAN_RTR) && out[6] == 0x1F);
	CHECK_EQ_INT(bms_can_record(out, sizeof(out), 0x800, false, false, 0, NULL), 0); /* 12 bits */
	CHECK_EQ_INT(bms_can_record(out, sizeof(out), 0x351, false, false, 9, d), 0);    /* DLC 9 */
	CHECK_EQ_INT(bms_can_record(out, 15, 0x351, false, false, 8, d), 0);             /* no room */
	CHECK_EQ_INT(bms_can_record(out, sizeof(out), 0x351, false, false, 0, NULL), 8);
}

static void check_01(const struct bms_poll *poll, bool inv)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->bms_cvl_v, 53.2, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 480.0, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 480.0, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 45.0, 1e-4);
	CHECK_NEAR(s->soc, 88.0, 1e-4);
	CHECK_NEAR(s->soh, 94.0, 1e-4);
	CHECK_NEAR(s->voltage, 49.86, 1e-4);
	CHECK_NEAR(s->current, inv ? 27.0 : -27.0, 1e-4);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 36.3, 1e-4);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0);
	CHECK_EQ_INT(s->raw_alarms[2], 0xC0); /* charge and discharge enabled */
	CHECK_EQ_INT(s->raw_alarms[3], 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS |
				 BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS);
	CHECK_EQ_INT(BMS_PRIV(poll, struct pc_state)->data[PC_359][4], 6); /* 0x359 byte 4: six modules */
	CHECK_STR(poll->kept.ident.vendor, "PYLON");
	CHECK_EQ_INT(poll->kept.ident_state, BMS_IDENT_HAVE);
}

/* PYLONCAN-01: a whole V1.2 cycle completes the poll at its last frame. */
static void test_v12(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t buf[256];
	size_t n = recs(buf, sizeof(buf), PYLONCAN_01);
	CHECK_EQ_INT(n, 6 * 8 + 8 + 4 + 6 + 7 + 2 + 8);

	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 3; k++)
		for (int inv = 0; inv < 2; inv++) {
			begin(&poll, &rx, inv);
			struct drive_res r = drive_feed_bytes(&poll, &rx, buf, n, chs[k], nchs[k]);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.more, 5);
			CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan + r.badsum, 0);
			CHECK_EQ_INT(r.done_at, n);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			check_01(&poll, inv);
		}
	/* every split into two pieces */
	for (size_t k = 1; k < n; k++) {
		const size_t two[] = { k, n - k };
		begin(&poll, &rx, false);
		struct drive_res r = FEED_BYTES(&poll, &rx, buf, n, two);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
	check_01(&poll, false);

	/* the next poll knows the cycle: the same six, in another order */
	begin(&poll, &rx, false);
	struct drive_res r = feed(&poll, &rx, "356#7A13F2FE6B01 359#0000000006504E 35C#C000 35E#50594C4F4E202020 "
				  "351#1402C012C012C201 355#58005E00");
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_01(&poll, false);
}

/* PYLONCAN-02: no 0x359 nor 0x35C; 0x35A, 0x35F.  The first poll waits for
 * the next 0x351; the next one knows the cycle and ends at its last frame. */
static void test_v13(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	begin(&poll, &rx, false);
	struct drive_res r = feed(&poll, &rx, PYLONCAN_02);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 5);
	CHECK_EQ_INT(r.unexpected, 1); /* 0x35F */
	CHECK_EQ_INT(r.err, 0);
	r = feed(&poll, &rx, "351#2001A60EA60EE400");
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->bms_cvl_v, 28.8, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 375.0, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 375.0, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 22.8, 1e-4);
	CHECK_NEAR(s->soc, 70.0, 1e-4); /* 7000 in 0.01 %: it agrees */
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_NEAR(s->voltage, 26.30, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->temp_c[0], 20.0, 1e-4);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK(s->present & BMS_HAS_ALARMS); /* 0x35A: no message raised */
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->raw_alarms[2], 0); /* no 0x35C */
	CHECK_STR(poll.kept.ident.vendor, "LVaiiey");

	/* learned: 0x351, 0x355, 0x356, 0x35A, 0x35E */
	begin(&poll, &rx, false);
	r = feed(&poll, &rx, PYLONCAN_02);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.more, 4);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 26.30, 1e-4);

	/* the battery is V1.2 again: the learned 0x35A never comes, so the
	 * cycle ends at the next 0x351; the poll after that knows V1.2's six */
	begin(&poll, &rx, false);
	r = feed(&poll, &rx, PYLONCAN_01);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 6);
	r = feed(&poll, &rx, "351#1402C012C012C201");
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_01(&poll, false);
	begin(&poll, &rx, false);
	r = feed(&poll, &rx, PYLONCAN_01);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.done_at > 0, 1);
}

/* The learned set holds an id the battery stopped sending: the next 0x351
 * ends the cycle, and that 0x351 is not taken into it. */
static void test_wrap(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	begin(&poll, &rx, false);
	CHECK_EQ_INT(feed(&poll, &rx, PYLONCAN_01).ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* the next cycle lacks 0x35E */
	begin(&poll, &rx, false);
	struct drive_res r = feed(&poll, &rx, "351#1402C012C012C201 355#58005E00 356#7A13F2FE6B01 "
				  "359#0000000006504E 35C#C000");
	CHECK_EQ_INT(r.ok, 0);
	r = feed(&poll, &rx, "351#E4010000C8000000 355#58005E00");
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_cvl_v, 53.2, 1e-4); /* the first 0x351's */
	CHECK_NEAR(poll.snap.bms_ccl_a, 480.0, 1e-4);
	CHECK_STR(poll.kept.ident.vendor, "PYLON"); /* kept from the poll before */

	/* a second 0x351 before 0x355 / 0x356: it replaces the first */
	begin(&poll, &rx, false);
	r = feed(&poll, &rx, "351#1402C012C012C201 351#E4010000C8000000 355#58005E00 356#7A13F2FE6B01");
	CHECK_EQ_INT(r.ok, 0);
	CHECK(drv->timeout(&poll)); /* the wait ends: 0x351, 0x355, 0x356 are there */
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.bms_cvl_v, 48.4, 1e-4);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.bms_dcl_a, 20.0, 1e-4);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS)); /* neither 0x359 nor 0x35A this time */
}

/* PYLONCAN-03, a Seplos on Victron's set: 0x373's highest and lowest cell
 * and cell temperature, 0x379's installed capacity, 0x356's cycles; the
 * other ids of the set (0x35F, 0x370-0x372, 0x374-0x378) passed over. */
static void check_03(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->voltage, 51.98, 1e-4);
	CHECK_NEAR(s->current, -31.9, 1e-4);
	CHECK_NEAR(s->soc, 58.9, 1e-4); /* 5890 in 0.01 %: it agrees with 59 */
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_NEAR(s->temp_c[0], 23.4, 1e-4);
	CHECK_NEAR(s->bms_cvl_v, 57.9, 1e-4);
	CHECK_NEAR(s->bms_ccl_a, 100.0, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 195.0, 1e-4);
	CHECK_NEAR(s->bms_dvl_v, 46.4, 1e-4);
	CHECK_EQ_INT(s->cycles, 26);
	CHECK_NEAR(s->full_ah, 304.0, 1e-4);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->ext_max_mv, 3255);
	CHECK_EQ_INT(s->ext_min_mv, 3243);
	CHECK_EQ_INT(s->ext_max_cell, 0); /* 0x373 gives no numbers (0x374-0x377 are names) */
	CHECK_EQ_INT(s->ext_min_cell, 0);
	CHECK_NEAR(s->ext_tmax_c, 296 - 273.15, 1e-3);
	CHECK_NEAR(s->ext_tmin_c, 295 - 273.15, 1e-3);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS |
				 BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_CYCLES | BMS_HAS_FULL |
				 BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT);
	CHECK_EQ_INT(s->alarms, 0); /* 0x35A: every message "left" */
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs);
	CHECK_EQ_INT(cs.from, BMS_CELLS_EXT);
	CHECK_EQ_INT(cs.max_mv, 3255);
	CHECK_EQ_INT(cs.min_mv, 3243);
	CHECK_EQ_INT(cs.delta_mv, 12);
	CHECK_EQ_INT(cs.avg_mv, 0); /* not known */
	CHECK(bms_plausible(s, NULL));
	CHECK_STR(poll->kept.ident.vendor, "SHEnergy");
}

static void test_victron_set(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	fresh(&poll, &rx);
	struct drive_res r = feed(&poll, &rx, PYLONCAN_03);
	CHECK_EQ_INT(r.ok, 0); /* the first poll knows no cycle: it waits */
	CHECK_EQ_INT(r.more, 7);
	CHECK_EQ_INT(r.unexpected, 9);
	CHECK_EQ_INT(r.err, 0);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_03(&poll);
	/* the next poll knows the cycle, 0x373 and 0x379 in it: whole at 0x379 */
	begin(&poll, &rx, false);
	uint8_t buf[512];
	size_t n = recs(buf, sizeof(buf), PYLONCAN_03);
	r = FEED_BYTES(&poll, &rx, buf, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.done_at, n);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_03(&poll);
	/* ... and without them it waits for them: the cycle wraps at 0x351 */
	begin(&poll, &rx, false);
	r = feed(&poll, &rx, "351#4302E8039E07D001 355#3B00640002170000 356#4E14C1FEEA001A00 "
		 "35A#AAAAAA02AAAAAA02 35E#5348456E65726779");
	CHECK_EQ_INT(r.ok, 0);
	r = feed(&poll, &rx, "351#4302E8039E07D001");
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT | BMS_HAS_FULL)));
	struct bms_cell_stats cs;
	bms_cell_stats(&poll.snap, &cs);
	CHECK_EQ_INT(cs.from, BMS_CELLS_NONE);

	/* PYLONCAN-04, a Pytes V5: 0x379 of two bytes, 0x356 of six (no
	 * cycles), 0x360 passed over */
	fresh(&poll, &rx);
	r = feed(&poll, &rx, PYLONCAN_04);
	CHECK_EQ_INT(r.err, 0);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->voltage, 52.62, 1e-4);
	CHECK_NEAR(s->current, -0.7, 1e-4);
	CHECK_NEAR(s->soc, 51.0, 1e-4);
	CHECK_NEAR(s->temp_c[0], 18.0, 1e-4);
	CHECK(!(s->present & BMS_HAS_CYCLES));
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->ext_max_mv, 3290);
	CHECK_EQ_INT(s->ext_min_mv, 3288);
	CHECK_NEAR(s->ext_tmax_c, 291 - 273.15, 1e-3);
	CHECK_NEAR(s->ext_tmin_c, 289 - 273.15, 1e-3);
	CHECK_STR(poll.kept.ident.vendor, "PYTES");
	CHECK(bms_plausible(s, NULL));
}

/* 0x373 and 0x379 that carry nothing, or what no battery has. */
static void test_extremes_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	static const struct {
		const char *f;
		int rc;
	} bad[] = {
		{ "373#AB0CB70C2701", BMS_E_SHORT },       /* PYLONCAN-03's 0x373 cut short */
		{ "379#30", BMS_E_SHORT },
		{ "373#AB0C701727012801", BMS_E_RANGE },   /* a highest cell of 5.999 V */
		{ "373#F301B70C27012801", BMS_E_RANGE },   /* a lowest cell of 0.499 V */
		{ "373#B70CAB0C27012801", BMS_E_RANGE },   /* the lowest above the highest */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		begin(&poll, &rx, false);
		struct drive_res r = feed(&poll, &rx, bad[i].f);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, bad[i].rc);
		CHECK_EQ_INT(poll.seen, 0);
		CHECK(!(poll.snap.present & (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT | BMS_HAS_FULL)));
	}
	/* 0.501 V is a cell (at the plausible edge) */
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#4302E8039E07D001 355#3B006400 356#4E14C1FEEA00 373#F501B70C27012801");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ext_min_mv, 501);
	/* zeros: nothing given; 0 K and 65535 K are no temperature; a later
	 * 0x373 in the cycle replaces an earlier one whole; 0x379 of 0 Ah: none */
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#4302E8039E07D001 355#3B006400 356#4E14C1FEEA00 373#AB0CB70C27012801 "
		   "373#0000000000000000 379#0000");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & (BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT | BMS_HAS_FULL)));
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#4302E8039E07D001 355#3B006400 356#4E14C1FEEA00 373#AB0CB70C0000FFFF");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(poll.snap.present & BMS_HAS_CELL_EXT);
	CHECK(!(poll.snap.present & BMS_HAS_TEMP_EXT));
	CHECK(bms_plausible(&poll.snap, NULL));
	/* one temperature given: the other absent */
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#4302E8039E07D001 355#3B006400 356#4E14C1FEEA00 373#0000000000002801");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CELL_EXT));
	CHECK(poll.snap.present & BMS_HAS_TEMP_EXT);
	CHECK(isnan(poll.snap.ext_tmin_c));
	CHECK_NEAR(poll.snap.ext_tmax_c, 296 - 273.15, 1e-3);
	/* an 8-byte 0x356 padded with 0 (PYLONCAN-02): no cycles */
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, PYLONCAN_02);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CYCLES));
}

/* Frames a decoder must refuse or pass over. */
static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	/* a DLC too short for the fields read */
	static const char *const shorts[] = { "351#1402C012C0", "355#5800", "356#7A13F2FE", "359#000000",
					      "35A#00000000000000", "35C#", "35E#" };
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		begin(&poll, &rx, false);
		r = feed(&poll, &rx, shorts[i]);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
		CHECK_EQ_INT(poll.seen, 0);
	}
	/* impossible values: SOC 101 %, 0 V, a negative voltage */
	static const char *const ranges[] = { "355#65005E00", "356#00000000B400", "356#00F00000B400" };
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		begin(&poll, &rx, false);
		r = feed(&poll, &rx, ranges[i]);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
		CHECK_EQ_INT(poll.seen, 0);
	}
	/* extended and remote frames of the same ids, other ids: passed over */
	begin(&poll, &rx, false);
	r = feed(&poll, &rx, "351x#1402C012C012C201 351r#8 305#0000000000000000 370#0102030405060708 "
		 "35F#000001018D000000 7FF#");
	CHECK_EQ_INT(r.unexpected, 6);
	CHECK_EQ_INT(r.err + r.ok + r.more, 0);
	CHECK_EQ_INT(poll.seen, 0);
	/* garbage between records is skipped; so is a header with a DLC of 9 or
	 * unknown flags */
	uint8_t buf[512];
	size_t n = recs(buf, sizeof(buf), "351#1402C012C012C201");
	static const uint8_t junk[] = { 0x00, 0xCA, 0x00, 0xCA, 0x4E, 0x00, 0x51, 0x03, 0, 0, 9, 0xCA, 0x4E,
					0x10, 0x51, 0x03, 0, 0, 0, 't', '3', '5', '1', '\r' };
	memcpy(buf + n, junk, sizeof(junk));
	n += sizeof(junk);
	n += recs(buf + n, sizeof(buf) - n, "355#58005E00 356#7A13F2FE6B01 359#0000000006504E 35C#C000 "
		  "35E#50594C4F4E202020");
	begin(&poll, &rx, false);
	r = FEED_BYTES(&poll, &rx, buf, n, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err + r.bad_scan, 0);
	CHECK(r.skipped >= sizeof(junk));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_01(&poll, false);

	/* 0x351, 0x355 or 0x356 missing: never complete, not even at the end of
	 * the wait; finish() refuses it */
	static const char *const missing[] = {
		"355#58005E00 356#7A13F2FE6B01 359#0000000006504E 35C#C000 35E#50594C4F4E202020",
		"351#1402C012C012C201 356#7A13F2FE6B01 359#0000000006504E 35C#C000 35E#50594C4F4E202020 "
		"351#1402C012C012C201",
		"351#1402C012C012C201 355#58005E00 359#0000000006504E 35C#C000 35E#50594C4F4E202020",
	};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		begin(&poll, &rx, false);
		r = feed(&poll, &rx, missing[i]);
		CHECK_EQ_INT(r.ok, 0);
		CHECK(!drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* handle() on a frame scan() would never give */
	begin(&poll, &rx, false);
	uint8_t bad[16] = { BMS_CAN_MAGIC0, BMS_CAN_MAGIC1, 0, 0x51, 0x03, 0, 0, 8 };
	CHECK_EQ_INT(drv->handle(&poll, bad, 12), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, bad, 4), BMS_E_SHORT);
	bad[7] = 9;
	CHECK_EQ_INT(drv->handle(&poll, bad, 16), BMS_E_SHORT);
	bad[0] = 0;
	bad[7] = 0;
	CHECK_EQ_INT(drv->handle(&poll, bad, 8), BMS_E_SHORT);
}

/* A cycle from its frames' data: 0x351, 0x35C (NULL: none), 0x359 (NULL:
 * none), finished. */
static int cycle(struct bms_poll *poll, const char *f351, const char *f35c, const char *f359, const char *f35a)
{
	struct bms_rx rx = { 0 };
	char text[512];
	begin(poll, &rx, false);
	poll->persist = 0; /* no cycle learned: every frame given is fed */
	snprintf(text, sizeof(text), "351#%s 355#3C006400 356#C8140000FA00 %s%s %s%s %s%s", f351,
		 f359 ? "359#" : "", f359 ? f359 : "", f35a ? "35A#" : "", f35a ? f35a : "", f35c ? "35C#" : "",
		 f35c ? f35c : "");
	(void)feed(poll, &rx, text);
	CHECK(drv->timeout(poll));
	return drv->finish(poll);
}

/* 0x356's temperature out of range (0x7FFF: 3276.7 degC): kept for the
 * gateway's gate, which serves it absent with a sensor fault; the cycle
 * counts. */
static void test_temp_out_of_range(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	begin(&poll, &rx, false);
	poll.persist = 0;
	(void)feed(&poll, &rx, "351#3002F401E803E001 355#3C006400 356#C8140000FF7F");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 3276.7, 1e-2);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 0);
	CHECK(isnan(poll.snap.temp_c[0]));
	CHECK(bms_plausible(&poll.snap, NULL));
}

static void test_limits(void)
{
	struct bms_poll poll = { 0 };
	/* CVL 56.0 V, CCL 50.0 A, DCL 100.0 A, DVL 48.0 V, both enabled */
	CHECK_EQ_INT(cycle(&poll, "3002F401E803E001", "C0", NULL, NULL), BMS_OK);
	CHECK_NEAR(poll.snap.bms_cvl_v, 56.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_ccl_a, 50.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 100.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dvl_v, 48.0, 1e-4);
	/* charge enable clear: CCL 0; discharge enable clear: DCL 0 */
	CHECK_EQ_INT(cycle(&poll, "3002F401E803E001", "40", NULL, NULL), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.bms_dcl_a, 100.0, 1e-4);
	CHECK_EQ_INT(cycle(&poll, "3002F401E803E001", "B8", "00000000", NULL), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 50.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 0.0, 1e-6);
	CHECK_EQ_INT(poll.snap.raw_alarms[2], 0xB8); /* force charge I + II, full charge request */
	/* no 0x35C (V1.3): the limits as sent */
	CHECK_EQ_INT(cycle(&poll, "3002F401E803E001", NULL, NULL, NULL), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 50.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 100.0, 1e-4);
	/* a negative DCL is its magnitude; a negative CCL allows nothing */
	CHECK_EQ_INT(cycle(&poll, "300218FC18FCE001", NULL, NULL, NULL), BMS_OK);
	CHECK_NEAR(poll.snap.bms_ccl_a, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.bms_dcl_a, 100.0, 1e-4);
	/* CVL 0: no voltage limits; a DVL at or above the CVL is none; DLC 6:
	 * no DVL */
	CHECK_EQ_INT(cycle(&poll, "0000F401E803E001", NULL, NULL, NULL), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_VOLT_LIMITS));
	CHECK(poll.snap.present & BMS_HAS_CUR_LIMITS);
	CHECK_EQ_INT(cycle(&poll, "3002F401E8033002", NULL, NULL, NULL), BMS_OK);
	CHECK_NEAR(poll.snap.bms_cvl_v, 56.0, 1e-4);
	CHECK(isnan(poll.snap.bms_dvl_v));
	CHECK_EQ_INT(cycle(&poll, "3002F401E803", NULL, NULL, NULL), BMS_OK);
	CHECK(isnan(poll.snap.bms_dvl_v));
	CHECK(poll.snap.present & BMS_HAS_VOLT_LIMITS);
}

static void test_alarms(void)
{
	struct bms_poll poll = { 0 };
	const char *lim = "3002F401E803E001";
	/* protections: over voltage, over temperature, charge over current,
	 * system error; all with PROTECTION */
	CHECK_EQ_INT(cycle(&poll, lim, "C0", "0A090000010000", NULL), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_OV | BMS_AL_CHG_OT | BMS_AL_DSG_OT | BMS_AL_CHG_OC |
				       BMS_AL_HW_FAULT | BMS_AL_PROTECTION);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x090A);
	/* alarms (warnings): under voltage, under temperature, discharge over
	 * current, internal communication fail; no PROTECTION */
	CHECK_EQ_INT(cycle(&poll, lim, "C0", "00009408010000", NULL), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_UV | BMS_AL_CHG_UT | BMS_AL_DSG_OC | BMS_AL_COMM);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x0894);
	/* bits the document does not name: OTHER (protection level too) */
	CHECK_EQ_INT(cycle(&poll, lim, "C0", "6100000002504E", NULL), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER | BMS_AL_PROTECTION);
	CHECK_EQ_INT(cycle(&poll, lim, "C0", "000080F0", NULL), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_DSG_OC | BMS_AL_OTHER);
	/* SMA's 0x35A: message 2 raised as an alarm (01), message 3 cleared
	 * (10), message 4 "11" (ignored); warnings: message 1 raised, 13
	 * raised; message 14 raised is SMA's own: raw only */
	CHECK_EQ_INT(cycle(&poll, lim, NULL, NULL, "E4000004" "01000001"), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_PACK_OV | BMS_AL_PROTECTION | BMS_AL_OTHER | BMS_AL_CELL_DIFF);
	CHECK_EQ_INT(poll.snap.raw_alarms[3], (1u << 1) | (1u << 13));
	CHECK_EQ_INT(poll.snap.nraw, 4);
	/* both frames: their alarms together */
	CHECK_EQ_INT(cycle(&poll, lim, "C0", "02000000", "00000000" "00000100"), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_OV | BMS_AL_PROTECTION | BMS_AL_CHG_OC);
}

/* SOC, SOH, temperature: what is taken and what is not. */
static void test_values(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	/* 0.01 % SOC that agrees (70.55 %), that does not (12.00 % vs 70 %) */
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#2001A60EA60EE400 355#460064008F1B 356#460A0000C800");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.soc, 70.55, 1e-3);
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#2001A60EA60EE400 355#46006400B004 356#460A0000C800");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.soc, 70.0, 1e-4);
	/* SOH 101: absent; a temperature of -60 degC or 200 degC: kept, and
	 * the gateway's gate serves it absent with a sensor fault */
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#2001A60EA60EE400 355#46006500 356#460A0000A8FD");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_SOH));
	CHECK_NEAR(poll.snap.temp_c[0], -60.0, 1e-4);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 0);
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#2001A60EA60EE400 355#46006400 356#460A9CFFD007");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.temp_c[0], 200.0, 1e-4);
	CHECK_EQ_INT(bms_sensor_faults(&poll.snap, NULL), 1u << 0);
	CHECK_NEAR(poll.snap.current, -10.0, 1e-4);
	/* -10.5 degC is a reading */
	fresh(&poll, &rx);
	(void)feed(&poll, &rx, "351#2001A60EA60EE400 355#46006400 356#460A9CFF97FF");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.temp_c[0], -10.5, 1e-4);
	/* an empty or unprintable 0x35E is no identity */
	fresh(&poll, &rx);
	poll.kept.ident_state = BMS_IDENT_UNKNOWN;
	memset(&poll.kept.ident, 0, sizeof(poll.kept.ident));
	(void)feed(&poll, &rx, "351#2001A60EA60EE400 355#46006400 356#460A00000000 35E#2020000102");
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_UNKNOWN);
}

int main(void)
{
	test_table();
	test_record();
	test_v12();
	test_v13();
	test_wrap();
	test_victron_set();
	test_extremes_broken();
	test_broken();
	test_limits();
	test_temp_out_of_range();
	test_alarms();
	test_values();
	return check_report();
}
