/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pylontech.c - Pylontech US RS485 V3.3 driver: the pylon
 * rows of tests/fixtures/vectors.tsv (PYL-*; TOP-01 and SEP-01 as foreign
 * answers) through scan() + handle() fed in odd chunks, built 0x42 / 0x44 /
 * 0x92 answers, system (several-module) answers, whole polls through
 * finish(), the 0x92 step of packs that do not answer it, and broken input.
 * Protocol facts: bms/PROTOCOLS.md §8, §9. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_pylontech_driver;

#include "pylon_check.h"

/* tests/fixtures/vectors.tsv, family pylon (+ CR): each macro is the row of
 * the id it spells (PYL_02 = PYL-02, PYL_REQ_44a = PYL-REQ-44a) */
#define PYL_REQ_42 "~20024642E00202FD33\r"
#define PYL_REQ_44a "~20024644E00202FD31\r"
#define PYL_02 "~20024600A04210020F000000000000000000000000000000050000000000000000000E00000000F108\r"
#define PYL_REQ_44b "~20034644E00203FD2F\r"
#define PYL_03 "~20034600A04210030F000000000000000000000000000000050000000000000000000E00000000F106\r"
#define PYL_REQ_93 "~20024693E00202FD2D\r"
#define PYL_04 "~20024600C0220248505443523033313731313132353930F6D2\r"
#define PYL_REQ_51 "~200246510000FDAC\r"
#define PYL_05 "~20024600C04055533230303043000000010750796C6F6E2D2D2D2D2D2D2D2D2D2D2D2D2D2D2DEFBD\r"
#define PYL_06 "~20024600B014026EF05AA0022BFDD5C0F915\r"
#define PYL_07 "~20024600B01402D002AFC80172FE8EC0F91C\r"
#define TOP_01 "~52014600408401100D120D150D0F0D0D0D130D160D150D210D130D130D130D130D100D160D170D2306003D" \
	"003E003E003E003B003B018014EE33B3063A9800025864000000000000E20A\r"
#define SEP_01 "~2000460010960001100CD70CE90CF40CD60CEF0CE50CE10CDC0CE90CF00CE80CEF0CEA0CDA0CDE0CD8060" \
	"BA60BA00B970BA60BA50BA2FD5C14A0344E0A426803134650004603E8149F0000000000000000DC6C\r"
/* computed: the 0x42 request of the first slave, ADR 3 (bms/PROTOCOLS.md
 * §9.1) */
#define PYL_REQ_42_3 "~20034642E00203FD31\r"
/* computed: the 0x92 requests of ADR 2 and 3 (what python-pylontech's
 * get_management_info() sends) */
#define PYL_REQ_92 "~20024692E00202FD2E\r"
#define PYL_REQ_92_3 "~20034692E00203FD2C\r"

/* System answers (INFO FF) from Frankkkkk/python-pylontech examples/pdu:
 * three US2000 modules (P = 2) and four US3000 modules (P = 4). */
#define US2000_3 "~20024600914211030F0CE70CE80CE60CE70CE80CE80CE80CE60CE50CE60CE80CE70CEA0CE50CE6050B910B87" \
	"0B870B870B87FFE6C18982DC02C350001F0F0CE20CE60CE60CE10CE50CE70CE60CE30CE20CE50CE30CE90CE70CE90CE9050B91" \
	"0B870B870B870B87FFE7C17082DC02C350001F0F0CE20CE50CE50CE20CE30CE30CE40CE50CE60CE60CE30CE40CE40CE60CE605" \
	"0B910B7D0B7D0B7D0B7DFFE5C16082DC02C350001FB476\r"
#define US3000_4 "~2002460061DC11040F0CFD0CFC0CFC0CFB0CFC0CFB0CFD0CFC0CFC0CFB0CFA0CFD0CFB0CFE0CFA050BE10BCD" \
	"0BCD0BCD0BCD0000C2C1FFFF04FFFF002F00EFEC0121100F0CEB0CEB0CEB0CEA0CEA0CEC0CEB0CEB0CE90CE80CE60CE90CE90C" \
	"EA0CE8050BE10BCD0BCD0BCD0BCDFFBCC1B2FFFF04FFFF002800F2D00121100F0CE80CE90CEA0CEA0CEA0CE90CEA0CEA0CEB0C" \
	"EC0CEB0CEB0CEB0CEA0CEA050BE10BC30BC30BC30BC3FFB7C1B8FFFF04FFFF007100E7400121100F0CE90CEC0CEB0CEA0CEA0C" \
	"EB0CE90CE80CEA0CEA0CEA0CEB0CEC0CEA0CEA050BD70BC30BC30BC30BB9FFBBC1B9FFFF04FFFF006B00ED080121108D63\r"

/* One module of a 0x42 answer. */
struct pmod {
	int ncells;
	unsigned mv0;       /* cell i = mv0 + i */
	int ntemps;
	unsigned tdk0;      /* sensor i = tdk0 + 10 i (0.1 K) */
	int cur;            /* 100 mA */
	unsigned volt;      /* mV */
	unsigned long rem, total;
	int p;              /* 2 or 4 (or anything, for broken variants) */
	unsigned cycles;
};

static const struct pmod mod_default = { 16, 3300, 4, 2981, 52, 52900, 60000, 100000, 4, 12 };

static void pmod_put(struct pt_info *i, const struct pmod *m)
{
	pt8(i, (unsigned)m->ncells);
	for (int k = 0; k < m->ncells; k++)
		pt16(i, m->mv0 + (unsigned)k);
	pt8(i, (unsigned)m->ntemps);
	for (int k = 0; k < m->ntemps; k++)
		pt16(i, m->tdk0 + 10u * (unsigned)k);
	pt16(i, (unsigned)m->cur & 0xFFFF);
	pt16(i, m->volt);
	pt16(i, m->p == 4 ? 0xFFFF : (unsigned)m->rem);
	pt8(i, (unsigned)m->p);
	pt16(i, m->p == 4 ? 0xFFFF : (unsigned)m->total);
	pt16(i, m->cycles);
	if (m->p == 4) {
		pt24(i, m->rem);
		pt24(i, m->total);
	}
}

/* 0x42 answer from `adr` with command byte b and nmods modules. */
static void mk42(char *out, unsigned adr, unsigned b, const struct pmod *mods, int nmods)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x11);
	pt8(&i, b);
	for (int k = 0; k < nmods; k++)
		pmod_put(&i, &mods[k]);
	pt_frame(out, 0x20, adr, 0x00, i.b, i.n);
}

/* 0x44 answer: states all 0 except those given, Status1..5. */
static void mk44(char *out, unsigned adr, int ncells, uint8_t cell_state, int ntemps, uint8_t temp_state,
		 uint8_t chg, uint8_t volt, uint8_t dsg, const uint8_t st[5], int trailing)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x10);
	pt8(&i, adr);
	pt8(&i, (unsigned)ncells);
	for (int k = 0; k < ncells; k++)
		pt8(&i, k == 0 ? cell_state : 0);
	pt8(&i, (unsigned)ntemps);
	for (int k = 0; k < ntemps; k++)
		pt8(&i, k == ntemps - 1 ? temp_state : 0);
	pt8(&i, chg);
	pt8(&i, volt);
	pt8(&i, dsg);
	for (int k = 0; k < 5; k++)
		pt8(&i, st[k]);
	for (int k = 0; k < trailing; k++)
		pt8(&i, 0);
	pt_frame(out, 0x20, adr, 0x00, i.b, i.n);
}

/* Answer the 0x42 step with the default module. */
static bool answer_42(struct bms_poll *poll, struct bms_rx *rx)
{
	char f[PT_MAX];
	if (cur_cmd(poll) != 0x42)
		return false;
	mk42(f, poll->address, poll->address, &mod_default, 1);
	bms_rx_clear(rx);
	struct drive_res r = FEED_TEXT(poll, rx, f, chunks_odd);
	return r.ok == 1 && r.err == 0 && cur_cmd(poll) == 0x44;
}

/* 0x92 answer from adr: command value b, CVL / DVL mV, CCL / DCL 100 mA,
 * status byte, `trailing` extra zero bytes. */
static void mk92(char *out, unsigned adr, unsigned b, unsigned cvl, unsigned dvl, int ccl, int dcl,
		 uint8_t st, int trailing)
{
	struct pt_info i = { 0 };
	pt8(&i, b);
	pt16(&i, cvl);
	pt16(&i, dvl);
	pt16(&i, (unsigned)ccl & 0xFFFF);
	pt16(&i, (unsigned)dcl & 0xFFFF);
	pt8(&i, st);
	for (int k = 0; k < trailing; k++)
		pt8(&i, 0);
	pt_frame(out, 0x20, adr, 0x00, i.b, i.n);
}

/* Answer the 0x42 and 0x44 steps: the 0x92 request is outstanding. */
static bool answer_42_44(struct bms_poll *poll, struct bms_rx *rx)
{
	static const uint8_t st[5] = { 0, 0x06, 0x80, 0, 0 };
	char f[PT_MAX];
	if (!answer_42(poll, rx))
		return false;
	mk44(f, poll->address, 16, 0, 4, 0, 0, 0, 0, st, 0);
	bms_rx_clear(rx);
	struct drive_res r = FEED_TEXT(poll, rx, f, chunks_odd);
	return r.ok == 1 && r.err == 0 && cur_cmd(poll) == 0x92;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "pylontech");
	CHECK_EQ_INT(drv->protocol_id, 7);
	CHECK_EQ_INT(drv->default_baud, 115200);
	CHECK_EQ_INT(drv->min_address, 2);
	CHECK_EQ_INT(drv->max_address, 0xFD);
	CHECK(drv->default_timeout > 0);
	CHECK(drv->gap_floor >= 0 && drv->interbyte > 0);
	CHECK(!drv->listen_only);
	CHECK(drv->next_request && drv->scan && drv->handle && drv->finish);
	CHECK(bms_find("pylontech") == drv);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[64];

	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PYL_REQ_42);
	poll.attempt = 2; /* a retry asks the same */
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PYL_REQ_42);
	CHECK(answer_42(&poll, &rx));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PYL_REQ_44a);
	drive_begin(&poll, &rx, 3, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PYL_REQ_42_3);
	CHECK(answer_42(&poll, &rx));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PYL_REQ_44b);

	/* group 1, module 2; the last valid address */
	drive_begin(&poll, &rx, 0x12, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "~20124642E00212FD31\r");
	drive_begin(&poll, &rx, 0xFD, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), 20);
	/* not a module address: 0, 1, 0x0E, 0x0F, 0x10, 0x11, 0xFE, 0xFF */
	static const uint8_t bad[] = { 0, 1, 0x0E, 0x0F, 0x10, 0x11, 0x21, 0xFE, 0xFF };
	for (size_t k = 0; k < sizeof(bad); k++) {
		drive_begin(&poll, &rx, bad[k], 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), BMS_E_RANGE);
	}
	/* buffer too small */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, 19), BMS_E_NOSPACE);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, 20), 20);
}

/* Our own requests (half-duplex echo) and other commands are never frames. */
static void test_echo(void)
{
	static const char *const reqs[] = {
		PYL_REQ_42, PYL_REQ_44a, PYL_REQ_44b, PYL_REQ_93, PYL_REQ_51, PYL_REQ_42_3,
		"~21014642E00201FD34\r", "~20004642E00200FD37\r", "~200246470000FDA7\r",
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	size_t n;

	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)reqs[k], strlen(reqs[k]), &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT(n, strlen(reqs[k]));
	}
	/* echo, then the answer, in one read and byte by byte */
	char f[PT_MAX], both[2 * PT_MAX];
	drive_begin(&poll, &rx, 2, 0, false);
	mk42(f, 2, 2, &mod_default, 1);
	snprintf(both, sizeof(both), "%s%s", PYL_REQ_42, f);
	struct drive_res r = FEED_TEXT(&poll, &rx, both, chunks_big);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, strlen(PYL_REQ_42));
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, both, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, strlen(PYL_REQ_42));
	CHECK_EQ_INT(r.bad_scan, 0);
}

static void check_default_module(const struct bms_snapshot *s, bool inv)
{
	CHECK_EQ_INT(s->ncells, 16);
	for (int k = 0; k < 16; k++)
		CHECK_EQ_INT(s->cell_mv[k], 3300 + k);
	CHECK_EQ_INT(s->ntemps, 4);
	CHECK_NEAR(s->temp_c[0], 25.0, 1e-4);
	CHECK_NEAR(s->temp_c[3], 28.0, 1e-4);
	CHECK_NEAR(s->current, inv ? -5.2 : 5.2, 1e-4);
	CHECK_NEAR(s->voltage, 52.9, 1e-4);
	CHECK_NEAR(s->remain_ah, 60.0, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_NEAR(s->soc, 60.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 12);
	CHECK_EQ_INT(s->present & (BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN |
				   BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS),
		     BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
			     BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS);
	CHECK(!(s->present & (BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE | BMS_HAS_POWER)));
}

static void test_analog(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	struct drive_res r;

	/* P = 4 (u24 capacities), every way of splitting, both current signs */
	mk42(f, 2, 2, &mod_default, 1);
	for (int way = 0; way < 5; way++) {
		bool inv = way & 1;
		drive_begin(&poll, &rx, 2, 0, inv);
		switch (way) {
		case 0: r = FEED_TEXT(&poll, &rx, f, chunks_one); break;
		case 1: r = FEED_TEXT(&poll, &rx, f, chunks_odd); break;
		case 2: r = FEED_TEXT(&poll, &rx, f, chunks_big); break;
		default: r = feed_random(&poll, &rx, f, (unsigned)way * 77u, 17); break;
		}
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.skipped, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		check_default_module(&poll.snap, inv);
		CHECK_EQ_INT(cur_cmd(&poll), 0x44);
	}

	/* P = 2 (u16 capacities), discharging, 15 cells, 5 sensors */
	struct pmod m = { 15, 3200, 5, 2731 - 50, -40, 48100, 33500, 50000, 2, 31 };
	mk42(f, 5, 5, &m, 1);
	drive_begin(&poll, &rx, 5, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 15);
	CHECK_EQ_INT(poll.snap.cell_mv[14], 3214);
	CHECK_EQ_INT(poll.snap.ntemps, 5);
	CHECK_NEAR(poll.snap.temp_c[0], -5.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[4], -1.0, 1e-4);
	CHECK_NEAR(poll.snap.current, -4.0, 1e-4); /* 0xFFD8 = -4.0 A (bms/PROTOCOLS.md §9.2) */
	CHECK_NEAR(poll.snap.voltage, 48.1, 1e-4);
	CHECK_NEAR(poll.snap.remain_ah, 33.5, 1e-4);
	CHECK_NEAR(poll.snap.full_ah, 50.0, 1e-4);
	CHECK_NEAR(poll.snap.soc, 67.0, 1e-4);
	CHECK_EQ_INT(poll.snap.cycles, 31);

	/* total 0: no SOC; remaining above total: 100 % */
	m.total = 0;
	mk42(f, 5, 5, &m, 1);
	drive_begin(&poll, &rx, 5, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(!(poll.snap.present & BMS_HAS_SOC));
	CHECK(poll.snap.present & BMS_HAS_FULL);
	m.total = 30000;
	mk42(f, 5, 5, &m, 1);
	drive_begin(&poll, &rx, 5, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_big);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);

	/* 11 sensors: all kept; more than 16: the first 16 are kept, the
	 * record still parses */
	struct pmod t = mod_default;
	t.ntemps = 11;
	mk42(f, 2, 2, &t, 1);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ntemps, 11);
	CHECK_NEAR(poll.snap.temp_c[7], 32.0, 1e-4);
	CHECK_NEAR(poll.snap.temp_c[10], 35.0, 1e-4);
	CHECK_EQ_INT(poll.snap.cycles, 12);
	t.ntemps = 20;
	mk42(f, 2, 2, &t, 1);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ntemps, BMS_MAX_TEMPS);
	CHECK_NEAR(poll.snap.temp_c[15], 40.0, 1e-4);
	CHECK_EQ_INT(poll.snap.cycles, 12);

	/* cells forced below the count: a cap */
	mk42(f, 2, 2, &mod_default, 1);
	drive_begin(&poll, &rx, 2, 15, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 15);
	drive_begin(&poll, &rx, 2, 20, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(poll.snap.ncells, 16);

	/* 0 cells and 0 sensors parse; finish() refuses the sample */
	struct pmod z = mod_default;
	z.ncells = 0;
	z.ntemps = 0;
	mk42(f, 2, 2, &z, 1);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(!(poll.snap.present & BMS_HAS_TEMPS));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* A system answer covering several modules: the addressed one is decoded. */
static void test_system_answers(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	struct drive_res r;

	/* real US2000 x3 (P = 2): ADR 2 is the first module */
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, US2000_3, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(poll.snap.ncells, 15);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 0x0CE7);
	CHECK_EQ_INT(poll.snap.cell_mv[14], 0x0CE6);
	CHECK_EQ_INT(poll.snap.ntemps, 5);
	CHECK_NEAR(poll.snap.temp_c[0], (0x0B91 - 2731) / 10.0, 1e-4);
	CHECK_NEAR(poll.snap.current, -2.6, 1e-4);
	CHECK_NEAR(poll.snap.voltage, 49.545, 1e-4);
	CHECK_NEAR(poll.snap.remain_ah, 33.5, 1e-4);
	CHECK_NEAR(poll.snap.full_ah, 50.0, 1e-4);
	CHECK_NEAR(poll.snap.soc, 67.0, 1e-4);
	CHECK_EQ_INT(poll.snap.cycles, 31);

	/* real US3000 x4 (P = 4, u24 capacities) */
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, US3000_4, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 15);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 0x0CFD);
	CHECK_NEAR(poll.snap.current, 0.0, 1e-6);
	CHECK_NEAR(poll.snap.voltage, 49.857, 1e-4);
	CHECK_NEAR(poll.snap.remain_ah, 61.42, 1e-4);
	CHECK_NEAR(poll.snap.full_ah, 74.0, 1e-4);
	CHECK_NEAR(poll.snap.soc, 6142.0 / 74.0, 1e-3);
	CHECK_EQ_INT(poll.snap.cycles, 47);

	/* the same answer is not ADR 3's (it comes from ADR 2) */
	drive_begin(&poll, &rx, 3, 0, false);
	r = FEED_TEXT(&poll, &rx, US3000_4, chunks_odd);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.snap.present, 0);

	/* a group answer from ADR 4 with 3 modules: the third record is ADR 4 */
	struct pmod mods[3] = { mod_default, mod_default, mod_default };
	mods[0].mv0 = 3100;
	mods[1].mv0 = 3150;
	mods[1].p = 2;
	mods[1].rem = 1000;
	mods[1].total = 2000;
	mods[2].mv0 = 3400;
	mods[2].cycles = 99;
	mk42(f, 4, 3, mods, 3);
	drive_begin(&poll, &rx, 4, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3400);
	CHECK_EQ_INT(poll.snap.cycles, 99);
	/* from ADR 0x13 (group 1, second module): record 1 */
	mk42(f, 0x13, 3, mods, 3);
	drive_begin(&poll, &rx, 0x13, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 3150);
	CHECK_NEAR(poll.snap.soc, 50.0, 1e-4);
	/* ADR 5 is not among 3 modules; a count of 0 is impossible */
	mk42(f, 5, 3, mods, 3);
	drive_begin(&poll, &rx, 5, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	mk42(f, 5, 0, mods, 0);
	drive_begin(&poll, &rx, 5, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* a count whose records are not all there */
	mk42(f, 4, 3, mods, 2);
	drive_begin(&poll, &rx, 4, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_SHORT);
}

static void test_alarm(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	struct drive_res r;

	/* PYL-02 (ADR 2) and PYL-03 (ADR 3): Status2 0x0E = both MOSFETs on */
	static const char *const caps[] = { PYL_02, PYL_03 };
	for (int k = 0; k < 2; k++) {
		for (int way = 0; way < 4; way++) {
			drive_begin(&poll, &rx, (uint8_t)(2 + k), 0, false);
			CHECK(answer_42(&poll, &rx));
			bms_rx_clear(&rx);
			switch (way) {
			case 0: r = FEED_TEXT(&poll, &rx, caps[k], chunks_one); break;
			case 1: r = FEED_TEXT(&poll, &rx, caps[k], chunks_odd); break;
			case 2: r = FEED_TEXT(&poll, &rx, caps[k], chunks_big); break;
			default: r = feed_random(&poll, &rx, caps[k], 31u + (unsigned)k, 9); break;
			}
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err, 0);
			CHECK_EQ_INT(r.skipped, 0);
			const struct bms_snapshot *s = &poll.snap;
			CHECK(s->present & BMS_HAS_ALARMS);
			CHECK(s->present & BMS_HAS_MOSFETS);
			CHECK(s->chg_mos && s->dsg_mos);
			CHECK_EQ_INT(s->alarms, 0);
			CHECK_EQ_INT(s->nraw, 4);
			CHECK_EQ_INT(s->raw_alarms[0], 0x000E);
			CHECK_EQ_INT(s->raw_alarms[1], 0);
			CHECK_EQ_INT(s->raw_alarms[2], 0);
			CHECK_EQ_INT(s->raw_alarms[3], 0);
			CHECK_EQ_INT(s->state, 0);
			CHECK_EQ_INT(cur_cmd(&poll), 0x92);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		}
	}
	/* PYL-03 is ADR 3's: not an answer for ADR 2 */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_42(&poll, &rx));
	r = FEED_TEXT(&poll, &rx, PYL_03, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(cur_cmd(&poll), 0x44);

	/* Status1 bit by bit */
	static const struct {
		int bit;
		uint32_t al;
	} s1[] = {
		{ 0, BMS_AL_PACK_OV | BMS_AL_PROTECTION }, { 1, BMS_AL_CELL_UV | BMS_AL_PROTECTION },
		{ 2, BMS_AL_CHG_OC | BMS_AL_PROTECTION }, { 3, 0 },
		{ 4, BMS_AL_DSG_OC | BMS_AL_PROTECTION }, { 5, BMS_AL_DSG_OT | BMS_AL_PROTECTION },
		{ 6, BMS_AL_CHG_OT | BMS_AL_PROTECTION }, { 7, BMS_AL_PACK_UV | BMS_AL_PROTECTION },
	};
	for (size_t k = 0; k < sizeof(s1) / sizeof(s1[0]); k++) {
		uint8_t st[5] = { (uint8_t)(1u << s1[k].bit), 0x02, 0x80, 0, 0 };
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK(answer_42(&poll, &rx));
		mk44(f, 2, 15, 0, 5, 0, 0, 0, 0, st, 0);
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.alarms, s1[k].al);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], (1u << s1[k].bit) << 8 | 0x02);
		CHECK(poll.snap.chg_mos && !poll.snap.dsg_mos);
		CHECK_EQ_INT(poll.snap.state, 1);
	}
	/* state bytes, Status3 direction, Status4/5, raw words */
	struct {
		uint8_t cell, temp, chg, volt, dsg, st[5];
		uint32_t al;
		int state;
	} v[] = {
		{ 0x01, 0, 0, 0, 0, { 0, 0x04, 0x40, 0, 0 }, BMS_AL_CELL_UV, 2 },
		{ 0x02, 0, 0, 0, 0, { 0, 0, 0xC0, 0, 0 }, BMS_AL_CELL_OV, 1 },
		{ 0xF0, 0, 0, 0, 0, { 0 }, BMS_AL_OTHER, 0 },
		{ 0, 0x01, 0, 0, 0, { 0 }, BMS_AL_CHG_UT | BMS_AL_DSG_UT, 0 },
		{ 0, 0x02, 0, 0, 0, { 0 }, BMS_AL_CHG_OT | BMS_AL_DSG_OT, 0 },
		{ 0, 0xF0, 0, 0, 0, { 0 }, BMS_AL_SENSOR, 0 },
		{ 0, 0, 0x02, 0, 0, { 0 }, BMS_AL_CHG_OC, 0 },
		{ 0, 0, 0, 0x01, 0, { 0 }, BMS_AL_PACK_UV, 0 },
		{ 0, 0, 0, 0x02, 0, { 0 }, BMS_AL_PACK_OV, 0 },
		{ 0, 0, 0, 0, 0x02, { 0 }, BMS_AL_DSG_OC, 0 },
		{ 0, 0, 0, 0, 0, { 0, 0, 0, 0x10, 0 }, BMS_AL_OTHER, 0 },
		{ 0, 0, 0, 0, 0, { 0, 0, 0, 0, 0x80 }, BMS_AL_OTHER, 0 },
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK(answer_42(&poll, &rx));
		mk44(f, 2, 16, v[k].cell, 4, v[k].temp, v[k].chg, v[k].volt, v[k].dsg, v[k].st, 1);
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.alarms, v[k].al);
		CHECK_EQ_INT(poll.snap.state, v[k].state);
		CHECK_EQ_INT(poll.snap.raw_alarms[1], v[k].st[2] << 8 | v[k].st[3]);
		CHECK_EQ_INT(poll.snap.raw_alarms[2], v[k].st[4] << 8 | v[k].chg);
		CHECK_EQ_INT(poll.snap.raw_alarms[3], v[k].volt << 8 | v[k].dsg);
	}

	/* a late 0x42 answer while 0x44 is outstanding is not taken for alarms */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_42(&poll, &rx));
	mk42(f, 2, 2, &mod_default, 1);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	CHECK_EQ_INT(cur_cmd(&poll), 0x44);
	r = FEED_TEXT(&poll, &rx, PYL_02, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);

	/* truncated alarm records */
	uint8_t st0[5] = { 0 };
	mk44(f, 2, 16, 0, 4, 0, 0, 0, 0, st0, 0);
	for (int cut = 1; cut <= 5; cut++) {
		uint8_t info[64];
		size_t n = pt_info_of(f, info, sizeof(info));
		char g[PT_MAX];
		pt_frame(g, 0x20, 2, 0, info, n - (size_t)cut);
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK(answer_42(&poll, &rx));
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
		CHECK_EQ_INT(cur_cmd(&poll), 0x44);
	}
}

/* PYL-04 / PYL-05 answer commands we never send: never decoded as data. */
static void test_foreign_answers(void)
{
	static const char *const frames[] = { PYL_04, PYL_05 };
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	for (int k = 0; k < 2; k++) {
		drive_begin(&poll, &rx, 2, 0, false);
		r = FEED_TEXT(&poll, &rx, frames[k], chunks_odd);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.ok, 0);
		CHECK_EQ_INT(poll.snap.present, 0);
		CHECK_EQ_INT(cur_cmd(&poll), 0x42);
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK(answer_42(&poll, &rx));
		r = FEED_TEXT(&poll, &rx, frames[k], chunks_one);
		CHECK_EQ_INT(r.ok, 0);
		CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	}
	/* TopBMS (ADR 1) and Seplos (ADR 0) answers: other addresses */
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, TOP_01 SEP_01, chunks_odd);
	CHECK_EQ_INT(r.frames, 2);
	CHECK_EQ_INT(r.unexpected, 2);
	CHECK_EQ_INT(poll.snap.present, 0);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX], f44[PT_MAX], f92[PT_MAX];
	struct drive_res r = { 0 };
	uint8_t st[5] = { 0, 0x06, 0x80, 0, 0 };

	drive_begin(&poll, &rx, 0x12, 0, false);
	mk42(f, 0x12, 0x12, &mod_default, 1);
	mk44(f44, 0x12, 16, 0, 4, 0, 0, 0, 0, st, 1);
	mk92(f92, 0x12, 0x12, 56800, 48000, 500, -1000, 0xC0, 0);
	const struct drive_answer answers[] = {
		DRIVE_ANSWER(f, strlen(f), chunks_odd),
		DRIVE_ANSWER(f44, strlen(f44), chunks_one),
		DRIVE_ANSWER(f92, strlen(f92), chunks_odd),
	};
	CHECK_EQ_INT(drive_poll(&poll, &rx, answers, 3, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 3);
	CHECK_NEAR(poll.snap.bms_ccl_a, 50.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_dcl_a, 100.0, 1e-4);
	CHECK_NEAR(poll.snap.bms_cvl_v, 56.8, 1e-4);
	CHECK_NEAR(poll.snap.bms_dvl_v, 48.0, 1e-4);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	check_default_module(&poll.snap, false);
	bms_snapshot_derive(&poll.snap);
	CHECK_NEAR(poll.snap.power, 52.9 * 5.2, 1e-2);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.state, 1);
	CHECK_EQ_INT(poll.snap.present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		     BMS_HAS_ALARMS | BMS_HAS_POWER | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS);
	/* finished: nothing more, anything else is unexpected */
	char buf[64];
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PYL_02, strlen(PYL_02)), BMS_E_UNEXPECTED);

	/* 0 V is no sample */
	struct pmod z = mod_default;
	z.volt = 0;
	drive_begin(&poll, &rx, 2, 0, false);
	mk42(f, 2, 2, &z, 1);
	r = FEED_TEXT(&poll, &rx, f, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	r = FEED_TEXT(&poll, &rx, PYL_02, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* nothing answered at all */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* 0x92: the two recorded answers in every chunking, the status bits. */
static void test_mgmt(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[64];
	struct drive_res r;
	static const struct {
		const char *frame;
		double ccl, dcl, cvl, dvl;
	} caps[] = {
		/* UP2500 (24 V): 28.4 / 23.2 V, +55.5 / -55.5 A, status C0 */
		{ PYL_06, 55.5, 55.5, 28.4, 23.2 },
		/* 48 V: 53.25 / 45.0 V, +37.0 / -37.0 A, status C0 */
		{ PYL_07, 37.0, 37.0, 53.25, 45.0 },
	};

	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_42_44(&poll, &rx));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PYL_REQ_92);
	drive_begin(&poll, &rx, 3, 0, false);
	CHECK(answer_42_44(&poll, &rx));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PYL_REQ_92_3);

	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		for (int way = 0; way < 5; way++) {
			drive_begin(&poll, &rx, 2, 0, false);
			CHECK(answer_42_44(&poll, &rx));
			bms_rx_clear(&rx);
			switch (way) {
			case 0: r = FEED_TEXT(&poll, &rx, caps[k].frame, chunks_one); break;
			case 1: r = FEED_TEXT(&poll, &rx, caps[k].frame, chunks_odd); break;
			case 2: r = FEED_TEXT(&poll, &rx, caps[k].frame, chunks_big); break;
			default: r = feed_random(&poll, &rx, caps[k].frame, 5u * (unsigned)way + (unsigned)k, 7); break;
			}
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err, 0);
			CHECK_EQ_INT(r.skipped, 0);
			CHECK_EQ_INT(r.bad_scan, 0);
			const struct bms_snapshot *s = &poll.snap;
			CHECK_EQ_INT(s->present & (BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS),
				     BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS);
			CHECK_NEAR(s->bms_ccl_a, caps[k].ccl, 1e-4);
			CHECK_NEAR(s->bms_dcl_a, caps[k].dcl, 1e-4);
			CHECK_NEAR(s->bms_cvl_v, caps[k].cvl, 1e-4);
			CHECK_NEAR(s->bms_dvl_v, caps[k].dvl, 1e-4);
			/* the earlier steps' data is still there */
			check_default_module(s, false);
			CHECK(s->chg_mos && s->dsg_mos);
			CHECK_EQ_INT(cur_cmd(&poll), 0);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		}
	}

	/* status: b7 charge enable, b6 discharge enable; b5..b3 change nothing;
	 * a positive discharge limit counts the same as a negative one */
	static const struct {
		uint8_t st;
		int dcl;
		double want_ccl, want_dcl;
	} sv[] = {
		{ 0xC0, -370, 37.0, 37.0 }, { 0x40, -370, 0.0, 37.0 }, { 0x80, -370, 37.0, 0.0 },
		{ 0x00, -370, 0.0, 0.0 },   { 0xF8, -370, 37.0, 37.0 }, { 0x38, -370, 0.0, 0.0 },
		{ 0xC0, 370, 37.0, 37.0 },  { 0xC0, 0, 37.0, 0.0 },     { 0xC0, -32768, 37.0, 3276.8 },
	};
	for (size_t k = 0; k < sizeof(sv) / sizeof(sv[0]); k++) {
		char f[PT_MAX];
		drive_begin(&poll, &rx, 5, 0, false);
		CHECK(answer_42_44(&poll, &rx));
		mk92(f, 5, 5, 53250, 45000, 370, sv[k].dcl, sv[k].st, (int)k % 3);
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_NEAR(poll.snap.bms_ccl_a, sv[k].want_ccl, 1e-3);
		CHECK_NEAR(poll.snap.bms_dcl_a, sv[k].want_dcl, 1e-3);
		CHECK_NEAR(poll.snap.bms_cvl_v, 53.25, 1e-4);
		CHECK_NEAR(poll.snap.bms_dvl_v, 45.0, 1e-4);
		CHECK_EQ_INT(cur_cmd(&poll), 0);
	}
}

/* Broken and foreign 0x92 answers. */
static void test_mgmt_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX], g[2 * PT_MAX];
	struct drive_res r;
	size_t n, len = strlen(PYL_06);

	/* bad CHKSUM: scan drops it, handle says checksum; the good one after it counts */
	strcpy(g, PYL_06);
	g[len - 2] = g[len - 2] == '0' ? '1' : '0';
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, len, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, len);
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_42_44(&poll, &rx));
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, len), BMS_E_CHECKSUM);
	strcat(g, PYL_REQ_92);
	strcat(g, PYL_06);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.skipped, len + strlen(PYL_REQ_92));
	CHECK_NEAR(poll.snap.bms_ccl_a, 55.5, 1e-4);

	/* truncated INFO (checksum recomputed): too short */
	uint8_t info[32];
	size_t ni = pt_info_of(PYL_06, info, sizeof(info));
	CHECK_EQ_INT(ni, 10);
	for (size_t cut = 1; cut < ni; cut++) {
		pt_frame(f, 0x20, 2, 0, info, ni - cut);
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK(answer_42_44(&poll, &rx));
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_SHORT);
		CHECK(!(poll.snap.present & (BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)));
		CHECK_EQ_INT(cur_cmd(&poll), 0x92);
	}
	/* every cut of the text: the framer waits */
	for (size_t k = 0; k < len; k++)
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)PYL_06, k, &n), BMS_SCAN_NEED);

	/* not an answer to this 0x92: another command value, far too long, another
	 * address, a late 0x44 answer */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_42_44(&poll, &rx));
	mk92(f, 2, 3, 53250, 45000, 370, -370, 0xC0, 0);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED);
	mk92(f, 2, 2, 53250, 45000, 370, -370, 0xC0, 5);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED);
	mk92(f, 3, 3, 53250, 45000, 370, -370, 0xC0, 0);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED);
	r = FEED_TEXT(&poll, &rx, PYL_02, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	CHECK_EQ_INT(cur_cmd(&poll), 0x92);
	/* a 0x92 answer is no 0x42 or 0x44 answer */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(drv->handle(&poll, (const uint8_t *)PYL_06, strlen(PYL_06)) < 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0x42);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	CHECK(answer_42(&poll, &rx));
	CHECK(drv->handle(&poll, (const uint8_t *)PYL_06, strlen(PYL_06)) < 0);
	CHECK(!(poll.snap.present & (BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS)));
	CHECK_EQ_INT(cur_cmd(&poll), 0x44);

	/* impossible values: no charge voltage limit, none below it, a charge
	 * limit below zero */
	static const struct {
		unsigned cvl, dvl;
		int ccl;
	} bad[] = {
		{ 0, 45000, 370 }, { 53250, 0, 370 }, { 45000, 45000, 370 }, { 45000, 53250, 370 },
		{ 53250, 45000, -1 }, { 53250, 45000, -370 },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK(answer_42_44(&poll, &rx));
		mk92(f, 2, 2, bad[k].cvl, bad[k].dvl, bad[k].ccl, -370, 0xC0, 0);
		r = FEED_TEXT(&poll, &rx, f, chunks_odd);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
		CHECK(!(poll.snap.present & (BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)));
		CHECK_EQ_INT(cur_cmd(&poll), 0x92);
	}
	/* error return codes other than "CID2 invalid": a refusal of this try */
	static const char *const rtn[] = { "01", "02", "03", "05", "06", "90", "91" };
	for (size_t k = 0; k < sizeof(rtn) / sizeof(rtn[0]); k++) {
		uint8_t none = 0;
		pt_frame(g, 0x20, 2, 0, &none, 0);
		memcpy(g + 7, rtn[k], 2);
		pt_fix_chksum(g);
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK(answer_42_44(&poll, &rx));
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, BMS_E_REFUSED);
		CHECK_EQ_INT(cur_cmd(&poll), 0x92);
	}
}

/* Firmware without 0x92: a refusal ("CID2 invalid") or silence ends the
 * step without limits, and 0x92 is asked again only on refresh polls; a
 * pack that has answered it is failed by a missing answer as usual. */
static void test_mgmt_unsupported(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char g[PT_MAX];
	uint8_t none = 0;
	struct drive_res r;

	/* "CID2 invalid" */
	pt_frame(g, 0x20, 2, 0, &none, 0);
	memcpy(g + 7, "04", 2);
	pt_fix_chksum(g);
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_42_44(&poll, &rx));
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK(!(poll.snap.present & (BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS)));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* the next poll (no refresh) stops after 0x44; a refresh poll asks again */
	drive_begin(&poll, &rx, 2, 0, false);
	poll.refresh = false;
	CHECK(answer_42(&poll, &rx));
	r = FEED_TEXT(&poll, &rx, PYL_02, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PYL_06, strlen(PYL_06)), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	drive_begin(&poll, &rx, 2, 0, false); /* refresh */
	CHECK(answer_42_44(&poll, &rx));
	r = FEED_TEXT(&poll, &rx, PYL_06, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(poll.snap.present & BMS_HAS_CUR_LIMITS);
	/* answered once: every poll asks, and a timeout is a failed try */
	drive_begin(&poll, &rx, 2, 0, false);
	poll.refresh = false;
	CHECK(answer_42_44(&poll, &rx));
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0x92);

	/* silence from a pack that never answered 0x92 */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(!drv->timeout(&poll)); /* 0x42 is never skipped */
	CHECK(answer_42(&poll, &rx));
	CHECK(!drv->timeout(&poll)); /* nor 0x44 */
	r = FEED_TEXT(&poll, &rx, PYL_02, chunks_odd);
	CHECK_EQ_INT(cur_cmd(&poll), 0x92);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CUR_LIMITS));
	drive_begin(&poll, &rx, 2, 0, false);
	poll.refresh = false;
	CHECK(answer_42(&poll, &rx));
	r = FEED_TEXT(&poll, &rx, PYL_02, chunks_odd);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	/* a bad answer from such a pack ends the step the same way */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_42_44(&poll, &rx));
	mk92(g, 2, 2, 0, 45000, 370, -370, 0xC0, 0);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_RANGE);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX], g[2 * PT_MAX];
	struct drive_res r;
	size_t n, len;

	mk42(f, 2, 2, &mod_default, 1);
	len = strlen(f);

	/* garbage, stray '~', CRs and a fake header around a good frame */
	drive_begin(&poll, &rx, 2, 0, false);
	snprintf(g, sizeof(g), "\x01\xff~~\r~2002~20024600ZZ\r~200246%s~2002", f);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(rx.len, 5); /* a possible frame start waits */
	check_default_module(&poll.snap, false);

	/* every truncation: NEED; then a cut frame followed by the full one */
	for (size_t k = 0; k < len; k++)
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)f, k, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)f, len, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, len);
	for (size_t cut = 1; cut < len; cut += 7) {
		drive_begin(&poll, &rx, 2, 0, false);
		memcpy(g, f, cut);
		strcpy(g + cut, f);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.skipped, cut);
	}
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, len - 1), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, 10), BMS_E_SHORT);

	/* bad CHKSUM: skipped whole, handle says checksum */
	strcpy(g, f);
	g[len - 2] = g[len - 2] == '0' ? '1' : '0';
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, len, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, len);
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, len), BMS_E_CHECKSUM);
	strcat(g, PYL_REQ_42);
	strcat(g, f);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, len + strlen(PYL_REQ_42));

	/* a damaged INFO character (checksum recomputed: the hex check catches it) */
	strcpy(g, f);
	g[20] = 'G';
	pt_fix_chksum(g);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, len, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 20);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, len), BMS_E_HEADER);
	/* lower-case hex is hex */
	strcpy(g, f);
	for (size_t k = 1; k + 1 < len; k++)
		if (g[k] >= 'A' && g[k] <= 'F')
			g[k] = (char)(g[k] - 'A' + 'a');
	pt_fix_chksum(g);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);

	/* LENGTH: bad LCHKSUM, odd LENID, longer than the rx buffer */
	strcpy(g, f);
	g[9] = g[9] == '0' ? '1' : '0';
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, 13, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, len), BMS_E_HEADER);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)"~20024600F001", 13, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	/* LENID 4080: longer than the rx buffer (BMS_RX_CAP) */
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)"~200246002FF0", 13, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)"~2002460073E8", 13, &n), BMS_SCAN_NEED); /* LENID 1000 */
	/* EOI missing */
	strcpy(g, f);
	g[len - 1] = 'x';
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)g, len, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, len - 1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, len), BMS_E_HEADER);

	/* wrong address, wrong device type, error return codes */
	drive_begin(&poll, &rx, 3, 0, false);
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.snap.present, 0);
	strcpy(g, f);
	g[5] = '4';
	g[6] = '7';
	pt_fix_chksum(g);
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	static const char *const rtn[] = { "01", "02", "03", "04", "05", "06", "90", "91" };
	for (size_t k = 0; k < sizeof(rtn) / sizeof(rtn[0]); k++) {
		uint8_t none = 0;
		pt_frame(g, 0x20, 2, 0, &none, 0);
		memcpy(g + 7, rtn[k], 2);
		pt_fix_chksum(g);
		drive_begin(&poll, &rx, 2, 0, false);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, BMS_E_REFUSED);
		CHECK_EQ_INT(cur_cmd(&poll), 0x42);
	}

	/* impossible counts */
	struct pmod m = mod_default;
	m.ncells = 33;
	mk42(g, 2, 2, &m, 1);
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_RANGE);
	m = mod_default;
	m.p = 3;
	mk42(g, 2, 2, &m, 1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_RANGE);
	m.p = 0;
	mk42(g, 2, 2, &m, 1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_RANGE);
	/* counts running past the INFO: cells, sensors, P = 4 tail */
	uint8_t info[600];
	mk42(g, 2, 2, &mod_default, 1);
	size_t ni = pt_info_of(g, info, sizeof(info));
	CHECK(ni > 60);
	for (size_t cut = 1; cut < ni - 2; cut += 3) {
		pt_frame(g, 0x20, 2, 0, info, ni - cut);
		drive_begin(&poll, &rx, 2, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
		CHECK_EQ_INT(poll.snap.present, 0);
		CHECK_EQ_INT(poll.snap.ncells, 0);
	}
	info[2] = 32; /* 32 cells announced, 16 there */
	pt_frame(g, 0x20, 2, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	info[2] = 16;
	info[3 + 32] = 250; /* 250 sensors */
	pt_frame(g, 0x20, 2, 0, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	pt_frame(g, 0x20, 2, 0, info, 1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	pt_frame(g, 0x20, 2, 0, info, 0);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);

	/* rx buffer overflow with garbage: nothing breaks */
	static uint8_t junk[5000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)"~0123456789ABCDEF\r"[(k * 7 + (k >> 3)) % 18];
	drive_begin(&poll, &rx, 2, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.ok, 0);
	r = FEED_TEXT(&poll, &rx, f, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
}

/* ---- 0x47 system parameters (bms/PROTOCOLS.md §9.6) ----------------------
 * No public capture of a Pylontech 0x47 answer: built from the layout
 * python-pylontech, OpenDTU-OnBattery and libpylon read (a US3000's
 * 15-cell limits). */
static const uint16_t params_us3000[12] = {
	3700, 3050, 2900, 2731 + 500, 2731, 500, 55500, 45750, 43500, 2731 + 600, 2731 - 100, 500,
};

static void mk47(char *out, unsigned adr, const uint16_t v[12], int trailing)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x11);
	for (int k = 0; k < 12; k++)
		pt16(&i, v[k]);
	for (int k = 0; k < trailing; k++)
		pt8(&i, 0);
	pt_frame(out, 0x20, adr, 0x00, i.b, i.n);
}

/* Through 0x92 (answered): the 0x47 request is outstanding, or (not due)
 * the poll is complete. */
static bool answer_to_47(struct bms_poll *poll, struct bms_rx *rx)
{
	char f[PT_MAX];
	if (!answer_42_44(poll, rx))
		return false;
	mk92(f, poll->address, poll->address, 56000, 45000, 370, -370, 0xC0, 0);
	bms_rx_clear(rx);
	struct drive_res r = FEED_TEXT(poll, rx, f, chunks_odd);
	return r.ok == 1 && r.err == 0;
}

static void check_key(const struct bms_settings *st, enum bms_set_key k, double want)
{
	CHECK(bms_settings_has(st, k));
	CHECK_NEAR(st->v[k], want, 1e-4);
}

static void test_params(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char g[PT_MAX];
	uint8_t req[64];
	struct drive_res r;

	/* not due: the poll ends after 0x92 */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK(answer_to_47(&poll, &rx));
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	/* due: 0x47 with INFO = ADR, ~20024647E00202FD..\r */
	drive_begin(&poll, &rx, 2, 0, false);
	poll.settings_due = true;
	CHECK(answer_to_47(&poll, &rx));
	CHECK_EQ_INT(cur_cmd(&poll), 0x47);
	int n = drv->next_request(&poll, req, sizeof(req));
	CHECK_EQ_INT(n, 20);
	CHECK(n == 20 && memcmp(req, "~20024647E00202", 15) == 0);
	mk47(g, 2, params_us3000, 0);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	check_key(st, BMS_SET_CELL_OVP_V, 3.700);
	check_key(st, BMS_SET_CELL_UVP_V, 2.900);
	check_key(st, BMS_SET_PACK_OVP_V, 55.5);
	check_key(st, BMS_SET_PACK_UVP_V, 43.5);
	check_key(st, BMS_SET_CHARGE_OTP_C, 50.0);
	check_key(st, BMS_SET_CHARGE_UTP_C, 0.0);
	check_key(st, BMS_SET_DISCHARGE_OTP_C, 60.0);
	check_key(st, BMS_SET_DISCHARGE_UTP_C, -10.0);
	CHECK_EQ_INT((long long)st->have, (long long)drv->settings);
	/* the limits of 0x92 are untouched by it */
	CHECK(poll.snap.present & BMS_HAS_VOLT_LIMITS);

	/* after a 0x92 the pack never answers, 0x47 still asked when due */
	struct bms_poll p2 = { 0 };
	drive_begin(&p2, &rx, 2, 0, false);
	p2.settings_due = true;
	CHECK(answer_42_44(&p2, &rx));
	CHECK(drv->timeout(&p2));
	CHECK_EQ_INT(cur_cmd(&p2), 0x47);
	/* ignored: the timeout ends the poll, good, without settings */
	CHECK(drv->timeout(&p2));
	CHECK_EQ_INT(cur_cmd(&p2), 0);
	CHECK_EQ_INT(drv->finish(&p2), BMS_OK);
	CHECK_EQ_INT((int)p2.kept.settings.have, 0);
	/* refused (RTN 04): the same, counted as a refusal */
	drive_begin(&p2, &rx, 2, 0, false);
	p2.settings_due = true;
	p2.refresh = false;
	CHECK(answer_42(&p2, &rx));
	r = FEED_TEXT(&p2, &rx, PYL_02, chunks_odd);
	CHECK_EQ_INT(cur_cmd(&p2), 0x47); /* 0x92 skipped: never answered */
	uint8_t none = 0;
	pt_frame(g, 0x20, 2, 0, &none, 0);
	memcpy(g + 7, "04", 2);
	pt_fix_chksum(g);
	r = FEED_TEXT(&p2, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT((int)p2.refusals, 1);
	CHECK_EQ_INT(cur_cmd(&p2), 0);
	CHECK_EQ_INT(drv->finish(&p2), BMS_OK);
	CHECK_EQ_INT((int)p2.kept.settings.have, 0);
}

/* Broken 0x47 answers: cut short, too long, a bad checksum, another
 * pack's; values out of range leave their keys absent. */
static void test_params_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char g[PT_MAX];
	struct drive_res r;

	drive_begin(&poll, &rx, 2, 0, false);
	poll.settings_due = true;
	CHECK(answer_to_47(&poll, &rx));
	/* 11 values */
	{
		struct pt_info i = { 0 };
		pt8(&i, 0x11);
		for (int k = 0; k < 11; k++)
			pt16(&i, params_us3000[k]);
		pt_frame(g, 0x20, 2, 0x00, i.b, i.n);
	}
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_SHORT);
	/* far too long */
	mk47(g, 2, params_us3000, 9);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)g, strlen(g)), BMS_E_UNEXPECTED);
	/* another pack's */
	mk47(g, 3, params_us3000, 0);
	CHECK(drv->handle(&poll, (const uint8_t *)g, strlen(g)) < 0);
	/* a bad checksum */
	mk47(g, 2, params_us3000, 0);
	g[strlen(g) - 2] = g[strlen(g) - 2] == '0' ? '1' : '0';
	CHECK(drv->handle(&poll, (const uint8_t *)g, strlen(g)) < 0);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0x47);
	/* a bad answer ends the step through timeout() */
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0);

	/* out of range: 0 mV, a cell limit above 5 V, temperatures outside
	 * -40..120 degC; four trailing bytes are taken */
	static const uint16_t odd[12] = { 0, 3050, 5001, 2731 + 1201, 2731 - 401, 500, 0, 45750, 43500,
					  2731 + 1200, 2731 - 400, 500 };
	drive_begin(&poll, &rx, 2, 0, false);
	poll.settings_due = true;
	CHECK(answer_to_47(&poll, &rx));
	mk47(g, 2, odd, 4);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CELL_UVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_OTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_UTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_PACK_OVP_V));
	check_key(st, BMS_SET_PACK_UVP_V, 43.5);
	check_key(st, BMS_SET_DISCHARGE_OTP_C, 120.0);
	check_key(st, BMS_SET_DISCHARGE_UTP_C, -40.0);
}

int main(void)
{
	test_table();
	test_requests();
	test_echo();
	test_analog();
	test_system_answers();
	test_alarm();
	test_foreign_answers();
	test_full_poll();
	test_mgmt();
	test_mgmt_broken();
	test_mgmt_unsupported();
	test_broken();
	test_params();
	test_params_broken();
	return check_report();
}
