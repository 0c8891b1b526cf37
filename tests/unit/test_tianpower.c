/* SPDX-License-Identifier: MIT */
/* tests/unit/test_tianpower.c - Tian Power over Bluetooth LE
 * (bms/tianpower.c): the tianpwr rows of tests/fixtures/vectors.tsv (a
 * TP-LT55 board in a Basen 48 V 230 Ah pack) through scan() + handle() in
 * whole polls as the gateway runs them (0x84, 0x83, 0x85, 0x87, 0x88,
 * 0x89, then 0x81 / 0x82 while the identity is due), in every chunking,
 * with junk, echoes and late answers around, and broken: a wrong end byte
 * or length byte, truncated, another type, every field out of what it can
 * be, a pack voltage the cells do not add up to (the protocol has no
 * checksum).  Protocol facts: bms/PROTOCOLS.md §31. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_tianpower_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family tianpwr */
#define TIANPWR_REQ_83 "550483aa"
#define TIANPWR_01 "551481302e312e313000000000000000000000aa"
#define TIANPWR_02 "55148254502d4c543535005442000000000000aa"
#define TIANPWR_03 "551483003c1472011800e600f0000030300064aa"
#define TIANPWR_04 "551484100459d8364800000000000000000000aa"
#define TIANPWR_05 "55148508230000000000000000000000000000aa"
#define TIANPWR_06 "55148700e600e600e600e60000000000000000aa"
#define TIANPWR_07 "5514880cc10cd50cd20cd50cc80cd40cc80cd2aa"
#define TIANPWR_08 "5514890cc80cc80cc70cc70cc10cc30cca0cc8aa"

static const size_t notif20[] = { 20 };
static const size_t chunks_odd[] = { 1, 3, 7, 2, 13, 5 };

/* The answers of a whole first poll, in the order asked. */
static const char *const first_poll[] = { TIANPWR_04, TIANPWR_03, TIANPWR_05, TIANPWR_06,
					  TIANPWR_07, TIANPWR_08, TIANPWR_01, TIANPWR_02 };
#define NFIRST 8
#define NLIVE 6 /* without the identity */

static uint8_t ans[NFIRST][20];

static void load(void)
{
	for (int k = 0; k < NFIRST; k++)
		CHECK_EQ_INT(check_hex(first_poll[k], ans[k], 20), 20);
}

/* A whole poll of n answers (a[k] for the k-th request), each in chunks. */
static int poll_n(struct bms_poll *poll, uint8_t a[][20], int n, const size_t *ch, size_t nch, bool fresh,
		  uint8_t forced, bool inv)
{
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	struct drive_answer da[NFIRST];
	drive_begin_link(poll, &rx, 0, forced, inv, BMS_LINK_BLE, fresh);
	if (n < NFIRST && !fresh && poll->kept.ident_state == BMS_IDENT_UNKNOWN)
		poll->kept.ident_state = BMS_IDENT_NONE; /* as after a first poll whose identity failed */
	for (int k = 0; k < n; k++)
		da[k] = (struct drive_answer){ a[k], 20, ch, nch, 0, 4 };
	return drive_poll(poll, &rx, da, (size_t)n, &r);
}

static void check_values(const struct bms_snapshot *s, bool inv)
{
	static const uint16_t c[16] = { 3265, 3285, 3282, 3285, 3272, 3284, 3272, 3282,
					3272, 3272, 3271, 3271, 3265, 3267, 3274, 3272 };
	drive_check_cells(s, c, 16);
	CHECK_NEAR(s->voltage, 52.34, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	(void)inv;
	CHECK_NEAR(s->soc, 60.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->full_ah, 230.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 138.96, 1e-4);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_NEAR(s->mos_temp_c, 24.0, 1e-5);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], 23.0, 1e-5);
	CHECK(s->chg_mos && s->dsg_mos); /* 0x0823: bits 0 and 1 both set */
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
				 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
				 BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS);
}

static void test_table(void)
{
	CHECK_STR(drv->name, "tianpower");
	CHECK_EQ_INT(drv->protocol_id, 24);
	CHECK(bms_find("tianpower") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && !drv->listens);
	CHECK_STR(drv->ble->gatt[0].service, "0000ff00-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ff01-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ff02-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!drv->control && !drv->probe);
	CHECK_STR(drv->ble->hints[0].prefix, "TP_");
	CHECK(drv->ble->hints[1].why == NULL);
}

/* The requests of a first poll, and of a later one (identity known). */
static void test_requests(void)
{
	static const uint8_t types[] = { 0x84, 0x83, 0x85, 0x87, 0x88, 0x89, 0x81, 0x82 };
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[8], want[8];
	size_t n = 0;

	load();
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK_EQ_INT(drv->next_request(&poll, req, 3), BMS_E_NOSPACE);
	for (int k = 0; k < NFIRST; k++) {
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 4);
		CHECK(req[0] == 0x55 && req[1] == 0x04 && req[2] == types[k] && req[3] == 0xAA);
		/* our request echoed: skipped whole */
		CHECK_EQ_INT(drv->scan(&poll, req, 3, &n), BMS_SCAN_NEED);
		CHECK_EQ_INT(drv->scan(&poll, req, 4, &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT(n, 4);
		CHECK_EQ_INT(drv->handle(&poll, ans[k], 20), BMS_OK);
	}
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(check_hex(TIANPWR_REQ_83, want, 8), 4);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(drv->handle(&poll, ans[0], 20), BMS_OK);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 4);
	CHECK(memcmp(req, want, 4) == 0);
}

static void test_polls(void)
{
	struct bms_poll poll = { 0 };
	load();
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++) {
		memset(&poll, 0, sizeof(poll));
		CHECK_EQ_INT(poll_n(&poll, ans, NFIRST, chs[k], nchs[k], true, 0, false), BMS_OK);
		check_values(&poll.snap, false);
		CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
		CHECK_STR(poll.kept.ident.firmware, "0.1.10");
		CHECK_STR(poll.kept.ident.model, "TP-LT55");
		/* the next polls: no identity commands */
		CHECK_EQ_INT(poll_n(&poll, ans, NLIVE, chs[k], nchs[k], false, 0, false), BMS_OK);
		check_values(&poll.snap, false);
		CHECK_STR(poll.kept.ident.model, "TP-LT55");
	}
	/* a reconnection asks the identity again */
	CHECK_EQ_INT(poll_n(&poll, ans, NFIRST, notif20, 1, true, 0, false), BMS_OK);
	/* every split of one answer into two notifications */
	for (int a = 0; a < NLIVE; a++)
		for (size_t k = 1; k < 20; k++) {
			const size_t two[] = { k, 20 - k };
			struct bms_rx rx = { 0 };
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			poll.step = 0;
			for (int b = 0; b < a; b++)
				CHECK_EQ_INT(drv->handle(&poll, ans[b], 20), BMS_OK);
			struct drive_res r = FEED_BYTES(&poll, &rx, ans[a], 20, two);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.err + r.unexpected + r.badsum + r.bad_scan, 0);
		}
	/* a negative current (s16 0.01 A), and invert_current */
	uint8_t a2[NFIRST][20];
	memcpy(a2, ans, sizeof(a2));
	a2[1][13] = 0xFE; /* -2.00 A */
	a2[1][14] = 0x38;
	CHECK_EQ_INT(poll_n(&poll, a2, NLIVE, notif20, 1, false, 0, false), BMS_OK);
	CHECK_NEAR(poll.snap.current, -4.56, 1e-4);
	CHECK_EQ_INT(poll_n(&poll, a2, NLIVE, notif20, 1, false, 0, true), BMS_OK);
	CHECK_NEAR(poll.snap.current, 4.56, 1e-4);
}

/* Junk, echoes, a late answer and the type of another request around an
 * answer. */
static void test_noise(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t buf[128];
	size_t len = 0;
	load();
	static const uint8_t junk[] = { 0x55, 0x13, 0xAA, 0x00, 0x55, 0x04, 0x84, 0xAA, 0x55, 0x04, 0x84, 0x00 };
	memcpy(buf, junk, sizeof(junk));
	len = sizeof(junk);
	memcpy(buf + len, ans[1], 20); /* 0x83: not the answer to 0x84 */
	len += 20;
	memcpy(buf + len, ans[0], 20);
	len += 20;
	const size_t *chs[] = { notif20, chunks_one, chunks_odd, chunks_big };
	const size_t nchs[] = { 1, 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 4; k++) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_feed_bytes(&poll, &rx, buf, len, chs[k], nchs[k]);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.unexpected, 1);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(poll.step, 1);
	}
}

/* One answer, broken, fed at the step of its type: the handle() result. */
static struct drive_res feed_at(struct bms_poll *poll, int step, const uint8_t *f, size_t n)
{
	struct bms_rx rx = { 0 };
	drive_begin_link(poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	for (int b = 0; b < step; b++)
		CHECK_EQ_INT(drv->handle(poll, ans[b], 20), BMS_OK);
	return FEED_BYTES(poll, &rx, f, n, chunks_odd);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	uint8_t g[64];
	struct drive_res r;
	load();

	/* a wrong end byte: counted like a checksum error, nothing taken */
	memcpy(g, ans[1], 20);
	g[19] = 0xAB;
	r = feed_at(&poll, 1, g, 20);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.badsum, 1);
	/* then the good answer is still found */
	memcpy(g + 20, ans[1], 20);
	r = feed_at(&poll, 1, g, 40);
	CHECK_EQ_INT(r.ok, 1);
	/* a wrong length byte: not a frame */
	memcpy(g, ans[1], 20);
	g[1] = 0x13;
	r = feed_at(&poll, 1, g, 20);
	CHECK_EQ_INT(r.frames, 0);
	/* truncated: nothing */
	for (size_t k = 0; k < 20; k++) {
		r = feed_at(&poll, 1, ans[1], k);
		CHECK_EQ_INT(r.frames + r.badsum, 0);
		CHECK_EQ_INT(poll.step, 1);
	}
	/* a lost byte: the frame's end is no 0xAA; the next answer is found */
	memcpy(g, ans[1], 10);
	memcpy(g + 10, ans[1] + 11, 9);
	memcpy(g + 19, ans[1], 20);
	r = feed_at(&poll, 1, g, 39);
	CHECK_EQ_INT(r.ok, 1);
	/* fields out of what they can be */
	static const struct {
		int step, off;
		uint8_t v;
	} bad[] = {
		{ 0, 3, 0 },        /* 0 cells */
		{ 0, 3, 25 },       /* 25 cells */
		{ 0, 4, 9 },        /* 9 sensors */
		{ 1, 4, 101 },      /* SOC 101 % */
		{ 1, 18, 101 },     /* SOH 101 % */
		{ 1, 11, 0x40 },    /* MOSFET temperature 1638 degC */
		{ 3, 3, 0x40 },     /* sensor 1: 1638 degC */
		{ 3, 5, 0xF0 },     /* sensor 2: -409 degC */
		{ 4, 3, 0x13 },     /* cell 1: 4.8 V + 0x1300 mV */
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		memcpy(g, ans[bad[k].step], 20);
		g[bad[k].off] = bad[k].v;
		r = feed_at(&poll, bad[k].step, g, 20);
		CHECK_EQ_INT(r.err, 1);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
		CHECK_EQ_INT(poll.step, bad[k].step);
	}
	/* identity text that is not text */
	memcpy(g, ans[6], 20);
	g[5] = 0x07;
	struct bms_rx rx = { 0 };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	for (int b = 0; b < NLIVE; b++)
		CHECK_EQ_INT(drv->handle(&poll, ans[b], 20), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, g, 20), BMS_E_RANGE);
	/* the pack voltage the cells do not add up to (52.34 V vs 26.2 V: a
	 * misplaced answer the missing checksum cannot tell) */
	uint8_t a2[NFIRST][20];
	memcpy(a2, ans, sizeof(a2));
	a2[1][5] = 0x0A; /* 0x0A72 = 26.74 V */
	CHECK_EQ_INT(poll_n(&poll, a2, NLIVE, notif20, 1, false, 0, false), BMS_E_INVALID);
	a2[1][5] = 0x15; /* 0x1572 = 54.90 V: within 10 % of 52.39 V */
	CHECK_EQ_INT(poll_n(&poll, a2, NLIVE, notif20, 1, false, 0, false), BMS_OK);
	/* a forced cell count: 8 cells, not checked against the voltage */
	CHECK_EQ_INT(poll_n(&poll, ans, NLIVE - 1, notif20, 1, false, 8, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	/* not complete: finish() refuses */
	feed_at(&poll, 2, ans[2], 20);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* The identity not answered: the poll completes without it. */
static void test_no_ident(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[8];
	load();
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	for (int b = 0; b < NLIVE; b++)
		CHECK_EQ_INT(drv->handle(&poll, ans[b], 20), BMS_OK);
	CHECK(!drv->timeout(&(struct bms_poll){ 0 })); /* a live step: no */
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 4);
	CHECK_EQ_INT(req[2], 0x81);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	check_values(&poll.snap, false);
	/* a later poll on the same link does not ask again */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	for (int b = 0; b < NLIVE; b++)
		CHECK_EQ_INT(drv->handle(&poll, ans[b], 20), BMS_OK);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
}

/* The MOSFET word: bits 0 and 1 served only when they agree; balancing;
 * sensors and cells as counted. */
static void test_fets_counts(void)
{
	struct bms_poll poll = { 0 };
	uint8_t a2[NFIRST][20];
	load();
	static const struct {
		uint8_t lo;
		bool have, on;
	} f[] = { { 0x23, true, true }, { 0x20, true, false }, { 0x21, false, false }, { 0x22, false, false } };
	for (size_t k = 0; k < 4; k++) {
		memcpy(a2, ans, sizeof(a2));
		a2[2][4] = f[k].lo;
		a2[2][13] = 0x80; /* balancing cells 8 and 16 */
		a2[2][14] = 0x80;
		CHECK_EQ_INT(poll_n(&poll, a2, NLIVE, notif20, 1, false, 0, false), BMS_OK);
		CHECK_EQ_INT((poll.snap.present & BMS_HAS_MOSFETS) != 0, f[k].have);
		if (f[k].have)
			CHECK(poll.snap.chg_mos == f[k].on && poll.snap.dsg_mos == f[k].on);
		CHECK_EQ_INT(poll.snap.balance, 0x8080);
	}
	/* 2 sensors; no sensor at all: no 0x87; 20 cells: 0x8A too */
	memcpy(a2, ans, sizeof(a2));
	a2[0][4] = 2;
	CHECK_EQ_INT(poll_n(&poll, a2, NLIVE, notif20, 1, false, 0, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 2);
	a2[0][4] = 0;
	uint8_t b[NLIVE - 1][20];
	memcpy(b[0], a2[0], 20);
	memcpy(b[1], a2[1], 20);
	memcpy(b[2], a2[2], 20);
	memcpy(b[3], a2[4], 20);
	memcpy(b[4], a2[5], 20);
	CHECK_EQ_INT(poll_n(&poll, b, NLIVE - 1, notif20, 1, false, 0, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 0);
	CHECK(!(poll.snap.present & BMS_HAS_TEMPS));
	uint8_t c[NLIVE + 1][20];
	memcpy(c, ans, NLIVE * 20);
	c[0][3] = 20;
	c[1][5] = 0x19; /* 65.48 V: the 20 cells' sum */
	c[1][6] = 0x94;
	static const uint8_t cells3[20] = { 0x55, 0x14, 0x8A, 0x0C, 0xC8, 0x0C, 0xC8, 0x0C, 0xC8, 0x0C, 0xC8,
					    0, 0, 0, 0, 0, 0, 0, 0, 0xAA };
	memcpy(c[NLIVE], cells3, 20);
	CHECK_EQ_INT(poll_n(&poll, c, NLIVE + 1, notif20, 1, false, 0, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 20);
	CHECK_EQ_INT(poll.snap.cell_mv[19], 3272);
}

static void test_alarms(void)
{
	static const struct {
		int word, bit;
		uint32_t al;
	} t[] = {
		{ 0, 0, BMS_AL_CELL_OV | BMS_AL_PROTECTION }, { 0, 4, BMS_AL_CELL_OV }, { 0, 8, BMS_AL_CELL_DIFF },
		{ 0, 14, 0 }, /* going to sleep: no alarm */
		{ 0, 10, BMS_AL_OTHER }, { 1, 1, BMS_AL_SHORT | BMS_AL_PROTECTION },
		{ 1, 3, BMS_AL_DSG_OC | BMS_AL_PROTECTION }, { 2, 1, BMS_AL_CHG_UT | BMS_AL_PROTECTION },
		{ 2, 6, BMS_AL_MOS_OT | BMS_AL_PROTECTION }, { 2, 11, BMS_AL_DSG_UT },
		{ 3, 5, 0 }, /* LED alarm enabled: a setting */
		{ 3, 13, BMS_AL_SENSOR }, { 3, 15, BMS_AL_MOS_FAULT },
	};
	struct bms_poll poll = { 0 };
	uint8_t a2[NFIRST][20];
	load();
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		memcpy(a2, ans, sizeof(a2));
		uint16_t w = (uint16_t)(1u << t[k].bit);
		a2[0][11 + 2 * t[k].word] = (uint8_t)(w >> 8);
		a2[0][12 + 2 * t[k].word] = (uint8_t)w;
		CHECK_EQ_INT(poll_n(&poll, a2, NLIVE, notif20, 1, false, 0, false), BMS_OK);
		CHECK_EQ_INT(poll.snap.alarms, t[k].al);
		CHECK_EQ_INT(poll.snap.raw_alarms[t[k].word], w);
	}
}

int main(void)
{
	test_table();
	test_requests();
	test_polls();
	test_noise();
	test_broken();
	test_no_ident();
	test_fets_counts();
	test_alarms();
	return check_report();
}
