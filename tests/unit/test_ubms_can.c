/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ubms_can.c - a Valence U-BMS read listen only on its CAN
 * port (bms/ubms_can.c), on the frames of gimx/dbus_ubms's candumps of a
 * real U-BMS with eight U27-12XP modules (tests/fixtures/README.md):
 * UBMS-01 one cycle of the modules' cells and the status frames while it
 * discharges at 16 A, UBMS-02 the same while it absorbs at +4 A (the charge
 * limit down to 14.6 A), UBMS-03 a 0x0C1 charging at 24 A; in every
 * chunking, the string its 0x0C1 tells (`cells` 0: 13 V, one module) and as
 * two modules in series (`cells = 8`, dbus_ubms's 2018 bank, whose U-BMS
 * counts 2 V a unit); issue 89's battery, eight U27-12XP in parallel (a
 * 12 V battery: 0x0C1 13 V), built from the protocol: four cells, 13.284 V,
 * and the same modules as 2S4P, 4S2P, 8S and 1S16P as 0x0C1 tells; a low
 * cell of a module in parallel (issue 97) the pack's lowest; the
 * U-BMS's other frames, a VMU's command, extended and remote frames passed
 * over; broken frames (short, impossible SOC, cells, temperatures,
 * modules; a pack voltage between two counts, of none, of more modules
 * than communicate or than a snapshot holds; a string whose sum is not the
 * voltage) refused, the poll with them; a poll without a module's cells
 * not whole. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const struct bms_driver *const drv = &bms_ubms_can_driver;

#include "can_recs.h"
#include "drive.h"

#define UBMS_01 "350#01000CFE0CFE0CFE 351#01000CFE 352#01000CFF0CFE0CFC 353#01000CFD 354#01000CFC0CFE0CFD " \
	"355#01000CFF 356#01000D020CFE0D00 357#01000CFF 358#01000CFF0CFF0CFE 359#01000CFF " \
	"35A#01000D030CFF0D03 35B#01000D01 35C#01000CFE0CFE0D00 35D#01000CFF 35E#01000CFF0CFE0CFD " \
	"35F#01000CFE 0C4#413C4040020DFC0C 0C1#0DF07FA705B60E04 0C0#520A000000080000 0C2#0000000000"
#define UBMS_02 "350#01000E470E370E54 351#01000E4A 352#01000E2B0E4C0E4F 353#01000E4B 354#01000E3C0E360E58 " \
	"355#01000E59 356#01000E390E390E49 357#01000E4F 358#01000E360E320E53 359#01000E53 " \
	"35A#01000E520E550E32 35B#01000E52 35C#01000E310E520E4B 35D#01000E55 35E#01000E500E350E30 " \
	"35F#01000E51 0C4#3D3B403E5A0E2A0E 0C1#0E04801105920E00 0C0#630A000000080000 0C2#0000000000"
#define UBMS_03 "0C1#0D1880A705B60E04"

/* Issue 89: a U-BMS with eight U27-12XP modules in parallel, a 12 V
 * battery, built from the protocol (§71): the modules' cells 3320 ... 3322
 * mV (module 1 13.284 V, all eight 106.274 V), 0x0C4 24 and 21 degC, the
 * PCB 27 degC, cells 3322 / 3320 mV; 0x0C1 13 V, 5 A out (0x7FFB), in
 * drive mode 100.0 A DCL and 80.0 A CCL; 0x0C0 SOC 76 %, drive, eight
 * modules. */
#define P8_CELLS "350#01000CF90CFA0CF8 351#01000CF9 352#01000CFA0CF90CF9 353#01000CFA 354#01000CF80CF90CFA " \
	"355#01000CF9 356#01000CF90CF80CF9 357#01000CFA 358#01000CFA0CFA0CF9 359#01000CF8 " \
	"35A#01000CF90CF90CF8 35B#01000CF9 35C#01000CF80CFA0CF9 35D#01000CF9 35E#01000CF90CF90CFA 35F#01000CF8"
#define P8_C4 "0C4#403D4043FA0CF80C"
#define P8_C0 "0C0#4C02000000080000"
#define UBMS_P8 P8_CELLS " " P8_C4 " 0C1#0DFB7FE803200E03 " P8_C0

/* Frames of the same bus the driver passes over: module 1's status pair,
 * module SOCs and temperatures, the firmware frame (dbus_ubms's candumps),
 * a VMU's mode command, an extended and a remote frame. */
#define OTHERS "188#0101FFFB7EFE0861 06A#01DAE1D5D1D6E4DF 76A#01000871082E0973 180#9C0A260122434F33 " \
	"440#00020000 18FF50E5#0102 0C0r#8"

static const size_t chunks_odd[] = { 1, 3, 2, 7, 5, 11 };

static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const char *text)
{
	uint8_t buf[2048];
	size_t n = recs(buf, sizeof(buf), text);
	return FEED_BYTES(poll, rx, buf, n, chunks_odd);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "ubms-can");
	CHECK_EQ_INT(drv->protocol_id, 60);
	CHECK(bms_find("ubms-can") == drv);
	CHECK(drv->listen_only && drv->next_request == NULL && drv->control == NULL);
	CHECK_EQ_INT(drv->can->bitrate, 250000);
	CHECK_EQ_INT(drv->can->ext_mask, 0);
	static const uint16_t ids[] = { 0x0C0, 0x0C1, 0x0C4, 0x350, 0x35F, 0x36F };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		CHECK((ids[i] & drv->can->mask) == (drv->can->id & drv->can->mask));
}

/* UBMS-01: the 2018-09-03 bank discharging. */
static void test_discharge(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (int inv = 0; inv < 2; inv++) {
		drive_begin(&poll, &rx, 0, 0, inv);
		struct drive_res r = feed(&poll, &rx, OTHERS " " UBMS_01);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.unexpected, 7); /* OTHERS (0x0C2 comes after the poll is whole) */
		CHECK(drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		/* 0x0C1's 13 V: one module in series (this U-BMS counts 2 V a
		 * unit, a 2S bank: it needs `cells = 8`, below) */
		CHECK_EQ_INT(s->ncells, 4);
		CHECK_EQ_INT(s->cell_mv[0], 3326);
		CHECK_EQ_INT(s->cell_mv[3], 3326);
		CHECK_EQ_INT(s->cell_mv[4], 0);
		CHECK_NEAR(s->voltage, 13.304, 1e-4);
		CHECK_NEAR(s->current, inv ? 16 : -16, 1e-6); /* 0x7FF0 */
		CHECK_NEAR(s->soc, 82, 1e-6);
		CHECK_NEAR(s->bms_dcl_a, 144.7, 1e-4); /* drive mode: 0x05A7 */
		CHECK_NEAR(s->bms_ccl_a, 120.6, 1e-4); /* 0xB6, 0x04 */
		CHECK_EQ_INT(s->ntemps, 2);
		CHECK_NEAR(s->temp_c[0], 25, 1e-6);
		CHECK_NEAR(s->temp_c[1], 20, 1e-6);
		CHECK_NEAR(s->mos_temp_c, 24, 1e-6);
		/* 0x0C4 says 3330 / 3324, module 6's cells 3331 (0x0D03) in the
		 * same cycle: the highest heard */
		CHECK_EQ_INT(s->ext_max_mv, 3331);
		CHECK_EQ_INT(s->ext_min_mv, 3324);
		CHECK_EQ_INT(s->alarms, 0);
		CHECK(!s->balancing);
	}
	/* dbus_ubms's 2018 bank: two modules in series (`cells = 8`) */
	drive_begin(&poll, &rx, 0, 8, false);
	struct drive_res r = feed(&poll, &rx, UBMS_01);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	CHECK_NEAR(poll.snap.voltage, 26.606, 1e-4); /* modules 1 and 2: 13.304 + 13.302 V */
}

/* UBMS-02: absorbing at +4 A, the charge limit down; UBMS-03 +24 A. */
static void test_charge(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	drive_begin(&poll, &rx, 0, 16, false);
	struct drive_res r = feed(&poll, &rx, UBMS_02);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_snapshot *s = &poll.snap;
	CHECK_NEAR(s->current, 4, 1e-6);
	CHECK_NEAR(s->soc, 99, 1e-6);
	CHECK_NEAR(s->bms_ccl_a, 14.6, 1e-4);
	CHECK_NEAR(s->bms_dcl_a, 129.7, 1e-4);
	CHECK_EQ_INT(s->ncells, 16);
	CHECK_EQ_INT(s->cell_mv[0], 0x0E47);
	CHECK_EQ_INT(s->cell_mv[15], 0x0E4F); /* module 4, cell 4 (0x357) */
	CHECK_NEAR(s->temp_c[0], 21, 1e-6);
	/* UBMS-03 in place of its 0x0C1: +24 A */
	drive_begin(&poll, &rx, 0, 8, false);
	feed(&poll, &rx, "350#01000CFE0CFE0CFE 351#01000CFE 352#01000CFF0CFE0CFC 353#01000CFD " UBMS_03
			 " 0C4#413C4040020DFC0C 0C0#520A000000080000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.current, 24, 1e-6);
	/* charge mode (1): no limits in 0x0C1 */
	drive_begin(&poll, &rx, 0, 4, false);
	feed(&poll, &rx, "350#01000CFE0CFE0CFE 351#01000CFE " UBMS_03 " 0C4#413C4040020DFC0C 0C0#52090000000800FF");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.present & BMS_HAS_CUR_LIMITS, 0);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER); /* a shutdown reason */
}

/* The frames of UBMS_P8 with 0x0C1's volts v and 0x0C0's modules n. */
static void p8_text(char *text, size_t cap, unsigned v, unsigned n)
{
	snprintf(text, cap, "%s %s 0C1#%02XFB7FE803200E03 0C0#4C02000000%02X0000", P8_CELLS, P8_C4, v, n);
}

/* Issue 89's battery: eight modules in parallel at 13 V, in odd chunks:
 * one module in series, four cells, 13.284 V (before issue 89 the eight
 * modules in series: 32 cells, 106.274 V); the same modules as other
 * banks, as 0x0C1 tells. */
static void test_parallel(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (int inv = 0; inv < 2; inv++) {
		drive_begin(&poll, &rx, 0, 0, inv);
		struct drive_res r = feed(&poll, &rx, OTHERS " " UBMS_P8);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err, 0);
		CHECK(drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_EQ_INT(s->ncells, 4);
		static const uint16_t m1[4] = { 3321, 3322, 3320, 3321 };
		for (int i = 0; i < 4; i++)
			CHECK_EQ_INT(s->cell_mv[i], m1[i]);
		for (int i = 4; i < BMS_MAX_CELLS; i++)
			CHECK_EQ_INT(s->cell_mv[i], 0);
		CHECK_NEAR(s->voltage, 13.284, 1e-4);
		CHECK_NEAR(s->current, inv ? 5 : -5, 1e-6);
		CHECK_NEAR(s->soc, 76, 1e-6);
		CHECK_NEAR(s->bms_dcl_a, 100.0, 1e-4);
		CHECK_NEAR(s->bms_ccl_a, 80.0, 1e-4);
		CHECK_NEAR(s->temp_c[0], 24, 1e-6);
		CHECK_NEAR(s->temp_c[1], 21, 1e-6);
		CHECK_NEAR(s->mos_temp_c, 27, 1e-6);
		CHECK(bms_plausible(s, NULL));
	}
	/* 0x0C1 names the string: 2S4P 26 V, 4S2P 53 V, 8S 106 V; sixteen
	 * modules (1S16P) at 13 V */
	static const struct {
		unsigned v, n, cells;
		double volts;
	} banks[] = {
		{ 26, 8, 8, 26.570 }, { 53, 8, 16, 53.138 }, { 106, 8, 32, 106.274 }, { 13, 16, 4, 13.284 },
		{ 14, 8, 4, 13.284 }, /* a whole volt up (14.6 V full: 14) */
	};
	for (size_t k = 0; k < sizeof(banks) / sizeof(banks[0]); k++) {
		char text[1024];
		p8_text(text, sizeof(text), banks[k].v, banks[k].n);
		drive_begin(&poll, &rx, 0, 0, false);
		struct drive_res r = feed(&poll, &rx, text);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK_EQ_INT(poll.snap.ncells, banks[k].cells);
		CHECK_NEAR(poll.snap.voltage, banks[k].volts, 1e-4);
	}
	/* `cells` wins over 0x0C1: 8 at 13 V reads two modules */
	drive_begin(&poll, &rx, 0, 8, false);
	feed(&poll, &rx, UBMS_P8);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	CHECK_NEAR(poll.snap.voltage, 26.570, 1e-4);
}

/* Issue 97: eight modules in parallel, one low cell in module 5 (cell 1 at
 * 3300 mV, 0x0C4's lowest 3300): the list is module 1's four cells, but the
 * pack's lowest cell is 3300, its number not known; 0x0C4 lower than every
 * module heard (the cells of a burst not in the poll) wins too, as does a
 * module heard under an older 0x0C4; the list's own extremes where nothing
 * lies beyond them. */
static void test_parallel_low_cell(void)
{
	static const struct {
		const char *m5, *c4;
		unsigned lo, hi;
	} cases[] = {
		{ "358#01000CE40CFA0CF9", "0C4#403D4043FA0CE40C", 3300, 3322 },
		{ "358#01000CFA0CFA0CF9", "0C4#403D4043FA0CDA0C", 3290, 3322 },
		{ "358#01000CE40CFA0CF9", "0C4#403D4043FA0CF80C", 3300, 3322 },
		{ "358#01000CFA0CFA0D20", "0C4#403D4043FA0CF80C", 3320, 3360 },
		{ "358#01000CFA0CFA0CF9", "0C4#403D4043FA0CF80C", 3320, 3322 },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx = { 0 };
		char text[1024];
		snprintf(text, sizeof(text),
			 "350#01000CF90CFA0CF8 351#01000CF9 352#01000CFA0CF90CF9 353#01000CFA 354#01000CF80CF90CFA "
			 "355#01000CF9 356#01000CF90CF80CF9 357#01000CFA %s 359#01000CF8 35A#01000CF90CF90CF8 "
			 "35B#01000CF9 35C#01000CF80CFA0CF9 35D#01000CF9 35E#01000CF90CF90CFA 35F#01000CF8 %s "
			 "0C1#0DFB7FE803200E03 " P8_C0,
			 cases[k].m5, cases[k].c4);
		drive_begin(&poll, &rx, 0, 0, false);
		struct drive_res r = feed(&poll, &rx, text);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_EQ_INT(s->ncells, 4);
		CHECK(bms_plausible(s, NULL));
		struct bms_cell_stats cs;
		bms_cell_stats(s, &cs);
		CHECK_EQ_INT(cs.from, BMS_CELLS_LIST);
		CHECK_EQ_INT(cs.min_mv, cases[k].lo);
		CHECK_EQ_INT(cs.max_mv, cases[k].hi);
		CHECK_EQ_INT(cs.delta_mv, cases[k].hi - cases[k].lo);
		CHECK_EQ_INT(cs.min_idx, cases[k].lo == 3320 ? 3 : 0); /* module 1's cell 3, else not listed */
		CHECK_EQ_INT(cs.max_idx, cases[k].hi == 3322 ? 2 : 0);
		CHECK_EQ_INT(cs.avg_mv, 3321); /* the list's mean */
	}
}

/* A pack voltage that tells no string the U-BMS can have: refused, the
 * poll with it; a string whose sum is not the voltage: the poll refused. */
static void test_voltage_broken(void)
{
	static const struct {
		unsigned v, n;
	} bad[] = {
		{ 20, 8 },  /* 1.5 modules: 6.6 V from two, 6.7 V from one */
		{ 0, 8 },   /* none */
		{ 6, 8 },   /* half a module */
		{ 53, 2 },  /* four in series, two communicating */
		{ 120, 9 }, /* nine in series: 36 cells, more than a snapshot holds */
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char text[1024];
		p8_text(text, sizeof(text), bad[k].v, bad[k].n);
		drive_begin(&poll, &rx, 0, 0, false);
		struct drive_res r = feed(&poll, &rx, text);
		CHECK(r.err >= 1);
		CHECK(poll.seen & BMS_CAN_REFUSED);
		CHECK(!drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* module 2 at 2.5 V a cell: 0x0C1's 26 V tells two modules, whose sum
	 * (23.284 V) is not 26 V */
	drive_begin(&poll, &rx, 0, 0, false);
	feed(&poll, &rx, "350#01000CF90CFA0CF8 351#01000CF9 352#010009C409C409C4 353#010009C4 " P8_C4
			 " 0C1#1AFB7FE803200E03 " P8_C0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* with `cells = 8` the U-BMS's scaling is the user's: taken */
	drive_begin(&poll, &rx, 0, 8, false);
	feed(&poll, &rx, "350#01000CF90CFA0CF8 351#01000CF9 352#010009C409C409C4 353#010009C4 " P8_C4
			 " 0C1#1AFB7FE803200E03 " P8_C0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 23.284, 1e-4);
}

/* 0x0C0's alarm bits as dbus_ubms maps them; balancing. */
static void test_alarms(void)
{
	static const struct {
		const char *c0;
		uint32_t al;
	} cases[] = {
		{ "0C0#522A000000080000", BMS_AL_CHG_UT | BMS_AL_DSG_UT },
		{ "0C0#520A080000080000", BMS_AL_SOC_LOW },
		{ "0C0#520A100000080000", BMS_AL_PACK_UV },
		{ "0C0#520A200000080000", BMS_AL_PACK_OV },
		{ "0C0#520A020000080000", BMS_AL_CHG_OT | BMS_AL_DSG_OT },
		{ "0C0#520A000001080000", BMS_AL_DSG_OC },
		{ "0C0#520A000008080000", BMS_AL_MOS_OT },
		{ "0C0#520A010200080000", BMS_AL_COMM },
		{ "0C0#521A000000080000", 0 },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "350#01000CFE0CFE0CFE 351#01000CFE %s 0C4#413C4040020DFC0C %s", UBMS_03,
			 cases[i].c0);
		drive_begin(&poll, &rx, 0, 4, false);
		feed(&poll, &rx, text);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		CHECK_EQ_INT(poll.snap.alarms, cases[i].al);
		CHECK(poll.snap.balancing == (i == 8));
	}
}

static void test_broken(void)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{ "0C0#520A0000000800", BMS_E_SHORT },        /* 7 bytes */
		{ "0C0#650A000000080000", BMS_E_RANGE },      /* SOC 101 % */
		{ "0C0#520A000000000000", BMS_E_RANGE },      /* no module */
		{ "0C0#520A000000110000", BMS_E_RANGE },      /* 17 modules */
		{ "0C4#3C4140400D02FC0C", BMS_E_RANGE },      /* lowest above highest */
		{ "0C4#413C404000000000", BMS_E_RANGE },      /* no cell */
		{ "0C4#413C4040020D", BMS_E_SHORT },
		{ "0C1#0DF0", BMS_E_SHORT },
		{ "350#01000CFE0CFE", BMS_E_SHORT },
		{ "351#0100", BMS_E_SHORT },
		{ "352#01000CFF13880CFC", BMS_E_RANGE },      /* 5000 mV is the most; 0x1388 = 5000 */
		{ "352#01000CFF13890CFC", BMS_E_RANGE },
		{ "353#010001F3", BMS_E_RANGE },              /* 499 mV */
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		drive_begin(&poll, &rx, 0, 0, false);
		struct drive_res r = feed(&poll, &rx, bad[i].text);
		CHECK_EQ_INT(r.frames, 1);
		if (i == 10) { /* exactly 5000 mV is a cell */
			CHECK_EQ_INT(r.err, 0);
			continue;
		}
		CHECK_EQ_INT(r.nrc ? r.rc[0] : 99, bad[i].rc);
		CHECK(poll.seen & BMS_CAN_REFUSED);
		CHECK(!drv->timeout(&poll));
		CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	}
	/* a whole cycle and then a broken cell frame: the poll refused */
	drive_begin(&poll, &rx, 0, 0, false);
	feed(&poll, &rx, "0C0#520A000000010000 350#01000CFE0CFE 351#01000CFE 350#01000CFE0CFE0CFE 0C4#413C4040020DFC0C "
			 "0C1#0DF07FA705B60E04");
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a module's second frame missing: never whole */
	drive_begin(&poll, &rx, 0, 0, false);
	struct drive_res r = feed(&poll, &rx, "0C0#520A000000020000 350#01000CFE0CFE0CFE 351#01000CFE 352#01000CFF0CFE0CFC "
					      "0C4#413C4040020DFC0C 0C1#1AF07FA705B60E04");
	CHECK_EQ_INT(r.ok, 0);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a discharge limit of 6553.5 A: refused */
	drive_begin(&poll, &rx, 0, 4, false);
	feed(&poll, &rx, "350#01000CFE0CFE0CFE 351#01000CFE 0C1#0DF07FFFFFB60E04 0C4#413C4040020DFC0C 0C0#520A000000080000");
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* 0x0C1 missing: not whole either */
	drive_begin(&poll, &rx, 0, 4, false);
	r = feed(&poll, &rx, "350#01000CFE0CFE0CFE 351#01000CFE 0C4#413C4040020DFC0C 0C0#520A000000080000");
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

int main(void)
{
	test_table();
	test_discharge();
	test_charge();
	test_parallel();
	test_parallel_low_cell();
	test_voltage_broken();
	test_alarms();
	test_broken();
	return check_report();
}
