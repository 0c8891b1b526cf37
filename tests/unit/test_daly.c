/* SPDX-License-Identifier: MIT */
/* tests/unit/test_daly.c - Daly legacy (0xA5) driver: the daly rows of
 * tests/fixtures/vectors.tsv through scan() + handle() in a simulated poll,
 * whole polls, broken input, and the same over Bluetooth LE (host 0x80,
 * notifications of one, two or part of a frame).  Protocol facts:
 * bms/PROTOCOLS.md §2, §14.1. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_daly_driver;

/* every frame is 13 bytes */
#define DRIVE_FRAME_OK(f, n) ((n) == 13)
#include "drive.h"

/* tests/fixtures/vectors.tsv, family daly: each macro is the row of the id
 * it spells (DALY_01 = DALY-01, DALY_REQ_90_40 = DALY-REQ-90-40); DALY_REQ_90_41
 * is computed (board 2). */
#define DALY_01 "a5019008021400007545037889"
#define DALY_03 "a50190080109000075cf030a99"
#define DALY_04 "a5019008023a0000753001ed0d"
#define DALY_05 "a501900801010000753001462c"
#define DALY_06 "a501900800820000753001f359"
#define DALY_07 "a501900800a200007530038008"
#define DALY_08 "a50190080212000075300200f9"
#define DALY_09 "a50191080d000f0cfe010378e1"
#define DALY_11 "a50191080cb5020cb2010003c4"
#define DALY_12 "a50191080ed2020ece010000fe"
#define DALY_13 "a501920837013701fe0103782a"
#define DALY_15 "a50192083801380100000000b2"
#define DALY_16 "a5019308020101780003cb40cb"
#define DALY_17 "a50193080001019a0002a2d859"
#define DALY_19 "a5019308000101ed0000a000d0"
#define DALY_20 "a5019408100100000000034096"
#define DALY_22 "a50194080e0200000000003a8c"
#define DALY_23 "a5019508010cfd0cfe0cfe40a1a5019508020cfe0cfe0cfe40a3a5019508030cfe0cfe0cfe40a4" \
	"a5019508040cfe0cfc0cfe40a3a5019508050cfe0cff0cfe40a7a5019508060cfc000000004091" \
	"a501950807000000000000408aa501950808000000000000408ba501950809000000000000408c" \
	"a50195080a000000000000408da50195080b000000000000408ea50195080c000000000000408f" \
	"a50195080d0000000000004090a50195080e0000000000004091a50195080f0000000000004092" \
	"a5019508100000000000004093"
#define DALY_24 "a5019508010ece0ed20ed100dfa5019508020ecf0ed10ed100e0a5019508030ed10ed10ed200e4" \
	"a5019508040ed20ed20ecf00e4a5019508050ed10ecf00000004"
#define DALY_26 "a501960801370000000000007ca5019608020000000000000046"
#define DALY_27 "a50196080138380000ffffffb2"
#define DALY_29 "a5019708000000000000000045"
#define DALY_30 "a5019808000000000000000046"
#define DALY_REQ_90_40 "a540900800000000000000007d"
#define DALY_REQ_94_80 "a58094080000000000000000c1"
#define DALY_REQ_90_41 "a541900800000000000000007e"

static const uint16_t cells_23[16] = {
	3325, 3326, 3326, 3326, 3326, 3326, 3326, 3326, 3326, 3326, 3324, 3326, 3326, 3327, 3326, 3324,
};
static const uint16_t cells_24[14] = {
	3790, 3794, 3793, 3791, 3793, 3793, 3793, 3793, 3794, 3794, 3794, 3791, 3793, 3791,
};

/* Chunk sizes the simulated read() returns, cycled. */
static const size_t chunks_odd[] = { 1, 1, 1, 5, 2, 7, 13, 1, 26, 3, 11, 1, 40 };

/* Build a response frame with a correct checksum. */
static void mk(uint8_t *f, uint8_t addr, uint8_t cmd, const uint8_t d[8])
{
	unsigned sum = 0;

	f[0] = 0xA5;
	f[1] = addr;
	f[2] = cmd;
	f[3] = 8;
	memcpy(f + 4, d, 8);
	for (int i = 0; i < 12; i++)
		sum += f[i];
	f[12] = (uint8_t)sum;
}

static int request(struct bms_poll *poll, uint8_t *req)
{
	return drv->next_request(poll, req, 13);
}

/* The command of the current step, 0 when the poll is complete. */
static int cur_cmd(struct bms_poll *poll)
{
	uint8_t req[13];
	int n = request(poll, req);
	return n == 13 ? req[2] : n;
}

/* Answer the outstanding request as the default pack does: `ncells` cells
 * (3300 + i mV) and `nsens` sensors (25 degC).  The command answered, 0
 * when the poll is complete, -1 on a failure. */
static int answer_one(struct bms_poll *poll, struct bms_rx *rx, uint8_t ncells, uint8_t nsens)
{
	uint8_t req[13], f[13 * 16], d[8] = { 0 };
	size_t len = 0;
	int n = request(poll, req);

	if (n == 0)
		return 0;
	if (n != 13)
		return -1;
	switch (req[2]) {
	case 0x90:
		d[0] = 0x02; d[1] = 0x12; d[4] = 0x75; d[5] = 0x30; d[6] = 0x02;
		mk(f, poll->address, 0x90, d);
		len = 13;
		break;
	case 0x94:
		d[0] = ncells;
		d[1] = nsens;
		d[6] = 5;
		mk(f, poll->address, 0x94, d);
		len = 13;
		break;
	case 0x95:
		for (unsigned fr = 0; fr * 3 < ncells; fr++) {
			d[0] = (uint8_t)(fr + 1);
			for (unsigned i = 0; i < 3; i++) {
				unsigned v = 3300 + fr * 3 + i;
				d[1 + 2 * i] = (uint8_t)(v >> 8);
				d[2 + 2 * i] = (uint8_t)v;
			}
			mk(f + len, poll->address, 0x95, d);
			len += 13;
		}
		break;
	case 0x96:
		for (unsigned fr = 0; fr * 7 < nsens && fr < 2; fr++) {
			d[0] = (uint8_t)(fr + 1);
			memset(d + 1, 65, 7);
			mk(f + len, poll->address, 0x96, d);
			len += 13;
		}
		break;
	default:
		mk(f, poll->address, req[2], d);
		len = 13;
		break;
	}
	struct drive_res r = { 0 };
	drive_feed(poll, rx, f, len, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	if (r.ok != 1 || r.err)
		return -1;
	return req[2];
}

/* Answer every step until the request for `cmd` is outstanding (0: until
 * the poll is complete). */
static bool advance_to(struct bms_poll *poll, struct bms_rx *rx, int cmd, uint8_t ncells, uint8_t nsens)
{
	for (int guard = 0; guard < 20; guard++) {
		if (cur_cmd(poll) == cmd)
			return true;
		if (answer_one(poll, rx, ncells, nsens) <= 0)
			return false;
	}
	return false;
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16], want[13];

	/* board 1, first try: host 0x40 */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(check_hex(DALY_REQ_90_40, want, 13), 13);
	CHECK(memcmp(req, want, 13) == 0);
	/* board 2: host 0x41, no fallback on retries */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(check_hex(DALY_REQ_90_41, want, 13), 13);
	CHECK(memcmp(req, want, 13) == 0);
	poll.attempt = 1;
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK(memcmp(req, want, 13) == 0);
	/* board 16: host 0x4F; boards 0 and 17 do not exist */
	drive_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x4F);
	CHECK_EQ_INT(req[12], 0x8C);
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(request(&poll, req), BMS_E_RANGE);
	drive_begin(&poll, &rx, 17, 0, false);
	CHECK_EQ_INT(request(&poll, req), BMS_E_RANGE);
	/* buffer too small */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, 12), BMS_E_NOSPACE);

	/* driver table */
	CHECK_STR(drv->name, "daly");
	CHECK_EQ_INT(drv->protocol_id, 1);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK_NEAR(drv->gap_floor, 0, 1e-9);
	CHECK_NEAR(drv->control->gap_floor, 0.02, 1e-9); /* dbus-serialbattery PR #15 */
	CHECK_NEAR(drv->interbyte, 0.2, 1e-9);
	CHECK_EQ_INT(drv->max_address, 16);
	CHECK(drv->timeout != NULL && drv->finish != NULL);
	CHECK(bms_find("daly") == drv);
}

/* Board 1 falls back to host 0x80 on odd attempts and remembers what worked. */
static void test_host_fallback(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[13], want[13];
	struct drive_res r;

	drive_begin(&poll, &rx, 1, 0, false);
	poll.attempt = 1;
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x80);
	CHECK_EQ_INT(req[12], 0xBD);
	r = FEED_HEX(&poll, &rx, DALY_08, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(poll.persist != 0);

	/* next poll starts with 0x80: DALY-REQ-94-80 once 0x94 is reached */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x80);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(check_hex(DALY_REQ_94_80, want, 13), 13);
	CHECK(memcmp(req, want, 13) == 0);
	/* retry alternates back to 0x40; an answer there is learned */
	poll.attempt = 1;
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x40);
	poll.attempt = 2;
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x80);
	poll.attempt = 3;
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x40);
	r = FEED_HEX(&poll, &rx, DALY_20, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x40);

	/* other boards never touch the learned bit */
	poll.persist = 0;
	drive_begin(&poll, &rx, 3, 0, false);
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(req[1], 0x42);
	mk(want, 3, 0x90, (const uint8_t[8]){ 0x02, 0x12, 0, 0, 0x75, 0x30, 0x02, 0 });
	struct drive_res r3 = { 0 };
	drive_feed(&poll, &rx, want, 13, chunks_one, 1, &r3);
	CHECK_EQ_INT(r3.ok, 1);
	CHECK_EQ_INT(poll.persist, 0);
	CHECK_NEAR(poll.snap.voltage, 53.0, 1e-4);
}

struct v90 {
	const char *id, *hex;
	double v, i, soc;
};

static void test_0x90(void)
{
	static const struct v90 rows[] = {
		{ "DALY-01", DALY_01, 53.2, -2.1, 88.8 },
		{ "DALY-03", DALY_03, 26.5, -15.9, 77.8 },
		{ "DALY-04", DALY_04, 57.0, 0.0, 49.3 },
		{ "DALY-05", DALY_05, 25.7, 0.0, 32.6 },
		{ "DALY-06", DALY_06, 13.0, 0.0, 49.9 },
		{ "DALY-07", DALY_07, 16.2, 0.0, 89.6 },
		{ "DALY-08", DALY_08, 53.0, 0.0, 51.2 },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };

	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		for (int inv = 0; inv < 2; inv++) {
			drive_begin(&poll, &rx, 1, 0, inv);
			CHECK_EQ_INT(cur_cmd(&poll), 0x90);
			struct drive_res r = k & 1 ? FEED_HEX(&poll, &rx, rows[k].hex, chunks_one)
					     : FEED_HEX(&poll, &rx, rows[k].hex, chunks_odd);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.frames, 1);
			CHECK_EQ_INT(r.skipped, 0);
			CHECK_NEAR(poll.snap.voltage, rows[k].v, 1e-4);
			CHECK_NEAR(poll.snap.current, inv ? -rows[k].i : rows[k].i, 1e-4);
			CHECK_NEAR(poll.snap.soc, rows[k].soc, 1e-4);
			CHECK(poll.snap.present & BMS_HAS_VOLTAGE);
			CHECK(poll.snap.present & BMS_HAS_CURRENT);
			CHECK(poll.snap.present & BMS_HAS_SOC);
			CHECK_EQ_INT(cur_cmd(&poll), 0x93);
		}
	}
}

/* Current sign: + = charging = raw below 30000; invert flips. */
static void test_current_sign(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[13];
	struct drive_res r = { 0 };

	/* raw 29900 = 10.0 A charging */
	mk(f, 1, 0x90, (const uint8_t[8]){ 0x02, 0x12, 0, 0, 0x74, 0xCC, 0x02, 0 });
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	drive_feed(&poll, &rx, f, 13, chunks_one, 1, &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.current, 10.0, 1e-4);
	drive_begin(&poll, &rx, 1, 0, true);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	drive_feed(&poll, &rx, f, 13, chunks_one, 1, &r);
	CHECK_NEAR(poll.snap.current, -10.0, 1e-4);
	/* raw 0 (all-zero frames): -3000 A */
	mk(f, 1, 0x90, (const uint8_t[8]){ 0 });
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	drive_feed(&poll, &rx, f, 13, chunks_one, 1, &r);
	CHECK_NEAR(poll.snap.current, 3000.0, 1e-3);
	CHECK_NEAR(poll.snap.voltage, 0.0, 1e-6);
	/* raw 65535 */
	mk(f, 1, 0x90, (const uint8_t[8]){ 0x02, 0x12, 0, 0, 0xFF, 0xFF, 0x02, 0 });
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	drive_feed(&poll, &rx, f, 13, chunks_one, 1, &r);
	CHECK_NEAR(poll.snap.current, -3553.5, 1e-2);
}

/* The commands a poll sends, answering each with the default pack
 * (advance_to); "refresh" as the gateway sets it. */
static int poll_cmds(struct bms_poll *poll, struct bms_rx *rx, bool refresh, uint8_t *cmds, int cap)
{
	int n = 0, c;
	drive_begin(poll, rx, 1, 0, false);
	poll->refresh = refresh;
	while (n < cap && (c = answer_one(poll, rx, 16, 1)) > 0)
		cmds[n++] = (uint8_t)c;
	return n;
}

/* What a poll asks for: never 0x91 / 0x92 (their extremes are those of
 * 0x95 / 0x96, computed by the gateway); 0x94 only when the slow values are
 * due (the first poll, or refresh), the other polls use what it kept. */
static void test_requested(void)
{
	static const uint8_t full[] = { 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98 };
	static const uint8_t fast[] = { 0x90, 0x93, 0x95, 0x96, 0x97, 0x98 };
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t cmds[32];
	int n;

	/* first poll: nothing kept, 0x94 is read */
	n = poll_cmds(&poll, &rx, false, cmds, 32);
	CHECK_EQ_INT(n, (int)sizeof(full));
	CHECK(n == (int)sizeof(full) && memcmp(cmds, full, sizeof(full)) == 0);
	CHECK_EQ_INT(poll.kept.have, BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_CYCLES);
	CHECK_EQ_INT(poll.kept.ncells, 16);
	CHECK_EQ_INT(poll.kept.cycles, 5);
	/* next poll: 0x94 skipped, its values kept */
	n = poll_cmds(&poll, &rx, false, cmds, 32);
	CHECK_EQ_INT(n, (int)sizeof(fast));
	CHECK(n == (int)sizeof(fast) && memcmp(cmds, fast, sizeof(fast)) == 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_EQ_INT(poll.snap.cycles, 5);
	CHECK(poll.snap.present & BMS_HAS_CYCLES);
	CHECK(poll.snap.present & BMS_HAS_CELLS);
	CHECK_EQ_INT(poll.snap.cell_mv[15], 3315);
	/* refresh asked: 0x94 again */
	n = poll_cmds(&poll, &rx, true, cmds, 32);
	CHECK(n == (int)sizeof(full) && memcmp(cmds, full, sizeof(full)) == 0);

	/* a 0x94 the poll must not keep (more cells than fit, `cells` forced):
	 * the next polls read 0x94 again */
	{
		struct bms_poll p2 = { 0 };
		uint8_t f[13];
		drive_begin(&p2, &rx, 1, 8, false);
		CHECK(advance_to(&p2, &rx, 0x94, 8, 1));
		mk(f, 1, 0x94, (const uint8_t[8]){ 40, 1, 0, 0, 0, 0, 7, 0 });
		struct drive_res r = { 0 };
		drive_feed(&p2, &rx, f, 13, chunks_one, 1, &r);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(p2.snap.ncells, 8);
		CHECK(!(p2.kept.have & BMS_HAS_CELLS));
		drive_begin(&p2, &rx, 1, 0, false);
		CHECK(advance_to(&p2, &rx, 0x94, 16, 1));
	}

	/* 0x91 / 0x92 answers (late, or from another master) are not this poll's */
	static const char *const late[] = { DALY_09, DALY_11, DALY_12, DALY_13, DALY_15 };
	for (size_t k = 0; k < sizeof(late) / sizeof(late[0]); k++) {
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK(advance_to(&poll, &rx, 0x95, 16, 1));
		uint32_t present = poll.snap.present;
		struct drive_res r = FEED_HEX(&poll, &rx, late[k], chunks_odd);
		CHECK_EQ_INT(r.ok, 0);
		CHECK_EQ_INT(r.unexpected, 1);
		CHECK_EQ_INT(poll.snap.present, present);
		CHECK_EQ_INT(cur_cmd(&poll), 0x95);
	}
}

static void test_0x93(void)
{
	static const struct {
		const char *hex;
		int state;
		bool chg, dsg;
		double ah;
	} rows[] = {
		{ DALY_16, 2, true, true, 248.640 },
		{ DALY_17, 0, true, true, 172.760 },
		{ DALY_19, 0, true, true, 40.960 },
	};
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };

	for (size_t k = 0; k < 3; k++) {
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK(advance_to(&poll, &rx, 0x93, 16, 1));
		struct drive_res r = FEED_HEX(&poll, &rx, rows[k].hex, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.state, rows[k].state);
		CHECK_EQ_INT(poll.snap.chg_mos, rows[k].chg);
		CHECK_EQ_INT(poll.snap.dsg_mos, rows[k].dsg);
		CHECK_NEAR(poll.snap.remain_ah, rows[k].ah, 1e-3);
		CHECK(poll.snap.present & BMS_HAS_REMAIN);
		CHECK(poll.snap.present & BMS_HAS_MOSFETS);
	}
	/* MOSFETs off */
	uint8_t f[13];
	struct drive_res r = { 0 };
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x93, 16, 1));
	mk(f, 1, 0x93, (const uint8_t[8]){ 1, 0, 0, 5, 0, 0, 0x27, 0x10 });
	drive_feed(&poll, &rx, f, 13, chunks_one, 1, &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.state, 1);
	CHECK(!poll.snap.chg_mos && !poll.snap.dsg_mos);
	CHECK_NEAR(poll.snap.remain_ah, 10.0, 1e-4);
}

static void test_0x94(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	r = FEED_HEX(&poll, &rx, DALY_20, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_EQ_INT(poll.snap.cycles, 3);
	CHECK(poll.snap.present & BMS_HAS_CYCLES);
	CHECK_EQ_INT(cur_cmd(&poll), 0x95);

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	r = FEED_HEX(&poll, &rx, DALY_22, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 14);
	CHECK_EQ_INT(poll.snap.ntemps, 2);
	CHECK_EQ_INT(poll.snap.cycles, 0); /* D5-6, bms/PROTOCOLS.md §2.4 */

	/* 32 cells is the limit, 33 is out of range, 12 sensors all kept (20
	 * clamp to the 16 a snapshot holds) */
	uint8_t f[13];
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	mk(f, 1, 0x94, (const uint8_t[8]){ 32, 12, 0, 0, 0, 0x01, 0x02, 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 32);
	CHECK_EQ_INT(poll.snap.ntemps, 12);
	CHECK_EQ_INT(poll.snap.cycles, 258);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	mk(f, 1, 0x94, (const uint8_t[8]){ 32, 20, 0, 0, 0, 0x01, 0x02, 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, BMS_MAX_TEMPS);

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	mk(f, 1, 0x94, (const uint8_t[8]){ 33, 1, 0, 0, 0, 0, 0, 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_E_RANGE);
	CHECK_EQ_INT(cur_cmd(&poll), 0x94); /* the step is not complete */
	mk(f, 1, 0x94, (const uint8_t[8]){ 255, 1, 0, 0, 0, 0, 0, 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_E_RANGE);
	/* with a forced count the BMS's count does not matter */
	drive_begin(&poll, &rx, 1, 16, false);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
}

static void test_0x95(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	/* DALY-23: 16S, the BMS sends 16 frames; 6 are needed */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 16, 1));
	r = FEED_HEX(&poll, &rx, DALY_23, chunks_odd);
	CHECK_EQ_INT(r.frames, 16);
	CHECK_EQ_INT(r.more, 5);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 10);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.skipped, 0);
	for (int k = 0; k < 16; k++) /* in order: 5 more, the 6th completes, 10 surplus */
		CHECK_EQ_INT(r.rc[k], k < 5 ? BMS_MORE : k == 5 ? BMS_OK : BMS_E_UNEXPECTED);
	drive_check_cells(&poll.snap, cells_23, 16);
	CHECK(poll.snap.present & BMS_HAS_CELLS);
	CHECK_EQ_INT(cur_cmd(&poll), 0x96);

	/* DALY-24: 14S, exactly 5 frames, one byte at a time */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 14, 2));
	r = FEED_HEX(&poll, &rx, DALY_24, chunks_one);
	CHECK_EQ_INT(r.more, 4);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 0);
	drive_check_cells(&poll.snap, cells_24, 14);

	/* DALY-24 in one read */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 14, 2));
	r = FEED_HEX(&poll, &rx, DALY_24, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	drive_check_cells(&poll.snap, cells_24, 14);

	/* frames out of order, duplicated, and frame 0 / 40 ignored */
	uint8_t buf[13 * 8], f[13];
	int n = check_hex(DALY_24, buf, (int)sizeof(buf));
	CHECK_EQ_INT(n, 65);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 14, 2));
	mk(f, 1, 0x95, (const uint8_t[8]){ 0, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_MORE);
	mk(f, 1, 0x95, (const uint8_t[8]){ 40, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_MORE);
	static const int order[] = { 4, 2, 2, 0, 3 };
	for (int k = 0; k < 5; k++)
		CHECK_EQ_INT(drv->handle(&poll, buf + 13 * order[k], 13), BMS_MORE);
	CHECK(!drv->timeout(&poll)); /* frame 2 (index 1) missing */
	CHECK_EQ_INT(cur_cmd(&poll), 0x95);
	CHECK_EQ_INT(drv->handle(&poll, buf + 13, 13), BMS_OK);
	drive_check_cells(&poll.snap, cells_24, 14);
	CHECK_EQ_INT(drv->handle(&poll, buf + 13, 13), BMS_E_UNEXPECTED); /* duplicate after the end */

	/* built like a capture described in bms/PROTOCOLS.md §2.10 (not a fixture
	 * row): 16S, junk "cells 17, 18" (3276, 3280 mV) in frame 6 */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 16, 1));
	uint8_t all[13 * 16];
	CHECK_EQ_INT(check_hex(DALY_23, all, (int)sizeof(all)), 13 * 16);
	mk(all + 13 * 5, 1, 0x95, (const uint8_t[8]){ 6, 0x0c, 0xfc, 0x0c, 0xcc, 0x0c, 0xd0, 0x40 });
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, all, 13 * 6, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.ok, 1);
	drive_check_cells(&poll.snap, cells_23, 16);

	/* forced 14 cells on a BMS that says 16: 5 frames, cells 15/16 dropped */
	drive_begin(&poll, &rx, 1, 14, false);
	CHECK(advance_to(&poll, &rx, 0x95, 16, 1));
	r = FEED_HEX(&poll, &rx, DALY_23, chunks_odd);
	CHECK_EQ_INT(r.more, 4);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 11);
	drive_check_cells(&poll.snap, cells_23, 14);

	/* 32 cells: 11 frames, the last one has 2 junk slots */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 32, 1));
	uint16_t want32[32];
	int rc = 0;
	for (int fr = 1; fr <= 11; fr++) {
		uint8_t d[8] = { (uint8_t)fr };
		for (int i = 0; i < 3; i++) {
			unsigned v = 3000u + (unsigned)(fr * 3 + i);
			if ((fr - 1) * 3 + i < 32)
				want32[(fr - 1) * 3 + i] = (uint16_t)v;
			d[1 + 2 * i] = (uint8_t)(v >> 8);
			d[2 + 2 * i] = (uint8_t)v;
		}
		mk(f, 1, 0x95, d);
		rc = drv->handle(&poll, f, 13);
		if (fr < 11)
			CHECK_EQ_INT(rc, BMS_MORE);
	}
	CHECK_EQ_INT(rc, BMS_OK);
	drive_check_cells(&poll.snap, want32, 32);
}

static void test_0x96(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	/* DALY-26 with 1 sensor: frame 1 completes, frame 2 is surplus */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x96, 16, 1));
	r = FEED_HEX(&poll, &rx, DALY_26, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 15.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[1], 0.0, 1e-6);
	CHECK(poll.snap.present & BMS_HAS_TEMPS);
	CHECK_EQ_INT(cur_cmd(&poll), 0x97);

	/* DALY-26 with 8 sensors: both frames needed */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x96, 16, 8));
	r = FEED_HEX(&poll, &rx, DALY_26, chunks_one);
	CHECK_EQ_INT(r.more, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ntemps, 8);
	CHECK_NEAR(poll.snap.temp_c[0], 15.0, 1e-6);
	for (int i = 1; i < 8; i++)
		CHECK_NEAR(poll.snap.temp_c[i], -40.0, 1e-6);

	/* DALY-27: 2 sensors, unused slots 0x00 / 0xFF not stored */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x96, 14, 2));
	r = FEED_HEX(&poll, &rx, DALY_27, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ntemps, 2);
	CHECK_NEAR(poll.snap.temp_c[0], 16.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[1], 16.0, 1e-6);
	for (int i = 2; i < BMS_MAX_TEMPS; i++)
		CHECK_NEAR(poll.snap.temp_c[i], 0.0, 1e-6);

	/* 0 sensors: the step is skipped */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 16, 0));
	r = FEED_HEX(&poll, &rx, DALY_23, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(cur_cmd(&poll), 0x97);
}

static void test_0x97_0x98(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[13];
	struct drive_res r;

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x97, 16, 1));
	r = FEED_HEX(&poll, &rx, DALY_29, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.balance, 0);
	CHECK(poll.snap.present & BMS_HAS_BALANCE);
	r = FEED_HEX(&poll, &rx, DALY_30, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.alarms, 0);
	CHECK_EQ_INT(poll.snap.nraw, 4);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(poll.snap.raw_alarms[i], 0);
	CHECK(poll.snap.present & BMS_HAS_ALARMS);
	CHECK_EQ_INT(cur_cmd(&poll), 0);

	/* balance bit order (a): D0 bit0 = cell 1, D1 bit0 = cell 9 */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x97, 16, 1));
	mk(f, 1, 0x97, (const uint8_t[8]){ 0x81, 0x01, 0x00, 0x80, 0xFF, 0xFF, 0, 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0x80000181u);

	/* alarms (bms/PROTOCOLS.md §2.6): cell OV L2 (D0 b1), SOC low L2 (D2 b7),
	 * MOS adhesion (D4 b4), fault code 5 (D7) */
	mk(f, 1, 0x98, (const uint8_t[8]){ 0x02, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, 0x05 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_OV | BMS_AL_PROTECTION | BMS_AL_SOC_LOW |
		     BMS_AL_MOS_FAULT | BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.nraw, 4);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x0200);
	CHECK_EQ_INT(poll.snap.raw_alarms[1], 0x8000);
	CHECK_EQ_INT(poll.snap.raw_alarms[2], 0x1000);
	CHECK_EQ_INT(poll.snap.raw_alarms[3], 0x0005);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0x181u); /* cell 32 does not exist in a 16S pack */

	/* one bit at a time, level 1 only */
	static const struct {
		int byte, bit;
		uint32_t al;
	} map[] = {
		{ 0, 0, BMS_AL_CELL_OV }, { 0, 2, BMS_AL_CELL_UV }, { 0, 4, BMS_AL_PACK_OV },
		{ 0, 6, BMS_AL_PACK_UV }, { 1, 0, BMS_AL_CHG_OT }, { 1, 2, BMS_AL_CHG_UT },
		{ 1, 4, BMS_AL_DSG_OT }, { 1, 6, BMS_AL_DSG_UT }, { 2, 0, BMS_AL_CHG_OC },
		{ 2, 2, BMS_AL_DSG_OC }, { 2, 4, BMS_AL_SOC_HIGH }, { 2, 6, BMS_AL_SOC_LOW },
		{ 3, 0, BMS_AL_CELL_DIFF }, { 3, 2, BMS_AL_TEMP_DIFF }, { 3, 4, 0 },
		{ 4, 0, BMS_AL_MOS_OT }, { 4, 3, BMS_AL_SENSOR }, { 4, 7, BMS_AL_MOS_FAULT },
		{ 5, 0, BMS_AL_HW_FAULT }, { 5, 2, BMS_AL_SENSOR }, { 5, 3, BMS_AL_HW_FAULT },
		{ 5, 6, BMS_AL_COMM }, { 5, 7, BMS_AL_COMM }, { 6, 0, BMS_AL_HW_FAULT },
		{ 6, 2, BMS_AL_SHORT | BMS_AL_PROTECTION }, { 6, 7, 0 },
		{ 3, 1, BMS_AL_CELL_DIFF | BMS_AL_PROTECTION },
		{ 1, 7, BMS_AL_DSG_UT | BMS_AL_PROTECTION },
	};
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		uint8_t d[8] = { 0 };
		d[map[k].byte] = (uint8_t)(1u << map[k].bit);
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK(advance_to(&poll, &rx, 0x98, 16, 1));
		mk(f, 1, 0x98, d);
		CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
		if (poll.snap.alarms != map[k].al)
			fprintf(stderr, "alarm D%d bit %d\n", map[k].byte, map[k].bit);
		CHECK_EQ_INT(poll.snap.alarms, map[k].al);
	}
}

/* A step of a whole poll: the request for cmd is outstanding, its answer clean. */
#define STEP(poll, rx, cmd, hex, ch, unexp) DRIVE_STEP(poll, rx, cur_cmd, cmd, hex, ch, unexp)

/* Whole polls made only of captured frames. */
static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;

	/* 16S (mpp-solar captures) */
	drive_begin(&poll, &rx, 1, 0, false);
	STEP(&poll, &rx, 0x90, DALY_01, chunks_odd, 0);
	STEP(&poll, &rx, 0x93, DALY_16, chunks_big, 0);
	STEP(&poll, &rx, 0x94, DALY_20, chunks_odd, 0);
	STEP(&poll, &rx, 0x95, DALY_23, chunks_odd, 10);
	STEP(&poll, &rx, 0x96, DALY_26, chunks_one, 1);
	STEP(&poll, &rx, 0x97, DALY_29, chunks_odd, 0);
	STEP(&poll, &rx, 0x98, DALY_30, chunks_odd, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	bms_snapshot_derive(s);
	CHECK_NEAR(s->voltage, 53.2, 1e-4);
	CHECK_NEAR(s->current, -2.1, 1e-4);
	CHECK_NEAR(s->power, 53.2 * -2.1, 1e-2);
	CHECK_NEAR(s->soc, 88.8, 1e-4);
	CHECK_NEAR(s->remain_ah, 248.64, 1e-3);
	CHECK_EQ_INT(s->cycles, 3);
	CHECK_EQ_INT(s->state, 2);
	drive_check_cells(s, cells_23, 16);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 15.0, 1e-6);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN |
		     BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		     BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_POWER);
	struct bms_cell_stats st;
	bms_cell_stats(s, &st);
	CHECK_EQ_INT(st.max_mv, 3327);
	CHECK_EQ_INT(st.min_mv, 3324);
	CHECK_EQ_INT(st.max_idx, 14);

	/* 14S (R24TS captures), inverted current */
	drive_begin(&poll, &rx, 1, 0, true);
	STEP(&poll, &rx, 0x90, DALY_08, chunks_one, 0);
	STEP(&poll, &rx, 0x93, DALY_19, chunks_one, 0);
	STEP(&poll, &rx, 0x94, DALY_22, chunks_odd, 0);
	STEP(&poll, &rx, 0x95, DALY_24, chunks_odd, 0);
	STEP(&poll, &rx, 0x96, DALY_27, chunks_big, 0);
	STEP(&poll, &rx, 0x97, DALY_29, chunks_one, 0);
	STEP(&poll, &rx, 0x98, DALY_30, chunks_odd, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(s->voltage, 53.0, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 51.2, 1e-4);
	CHECK_NEAR(s->remain_ah, 40.96, 1e-3);
	drive_check_cells(s, cells_24, 14);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[1], 16.0, 1e-6);
	bms_cell_stats(s, &st);
	CHECK_EQ_INT(st.delta_mv, 4); /* the source's "delta 4 mV" */
	CHECK(!(s->present & (BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_MOS_TEMP | BMS_HAS_POWER)));
	/* and again: a finished poll asks for nothing more */
	uint8_t req[13];
	CHECK_EQ_INT(request(&poll, req), 0);
	CHECK(!drv->timeout(&poll));
	uint8_t f[13];
	CHECK_EQ_INT(check_hex(DALY_30, f, 13), 13);
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_E_UNEXPECTED);
}

/* Over Bluetooth LE every request goes to host 0x80 (the BT dongle's
 * host), on every try and for every board, and nothing is learned; a
 * notification holds one answer, two (26 bytes) or part of one. */
static void test_ble(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct bms_snapshot *s = &poll.snap;
	uint8_t req[16], want[13];

	CHECK(drv->ble->gatt != NULL);
	CHECK_STR(drv->ble->gatt[0].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000fff1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000fff2-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(!bms_ble_only(drv) && drv->ble->company == 0 && drv->listens == NULL);

	for (uint8_t board = 1; board <= 16; board += 15)
		for (int attempt = 0; attempt < 4; attempt++) {
			drive_begin_link(&poll, &rx, board, 0, false, BMS_LINK_BLE, attempt == 0);
			poll.persist = attempt & 1; /* whatever the wire learned */
			poll.attempt = attempt;
			CHECK_EQ_INT(request(&poll, req), 13);
			CHECK_EQ_INT(req[1], 0x80);
			CHECK_EQ_INT(req[2], 0x90);
			CHECK_EQ_INT(req[12], 0xBD);
			/* our request is never an answer */
			size_t n = 0;
			CHECK_EQ_INT(drv->scan(&poll, req, 13, &n), BMS_SCAN_SKIP);
			CHECK_EQ_INT(n, 13);
		}
	/* 0x94 for board 1 over BLE: DALY-REQ-94-80 */
	poll.persist = 0;
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, true);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	CHECK_EQ_INT(request(&poll, req), 13);
	CHECK_EQ_INT(check_hex(DALY_REQ_94_80, want, 13), 13);
	CHECK(memcmp(req, want, 13) == 0);
	CHECK_EQ_INT(poll.persist, 0); /* nothing learned over BLE */

	/* a whole poll of the captured 16S pack, notified two frames at a
	 * time, then split unevenly */
	static const size_t notif2[] = { 26 };
	static const size_t notif_split[] = { 7, 19, 13, 2, 24 };
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_BLE, true);
	STEP(&poll, &rx, 0x90, DALY_01, notif_split, 0);
	STEP(&poll, &rx, 0x93, DALY_16, notif2, 0);
	STEP(&poll, &rx, 0x94, DALY_20, notif_split, 0);
	STEP(&poll, &rx, 0x95, DALY_23, notif2, 10);
	STEP(&poll, &rx, 0x96, DALY_26, notif2, 1);
	STEP(&poll, &rx, 0x97, DALY_29, notif_split, 0);
	STEP(&poll, &rx, 0x98, DALY_30, notif2, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(s->voltage, 53.2, 1e-4);
	CHECK_NEAR(s->soc, 88.8, 1e-4);
	drive_check_cells(s, cells_23, 16);
	CHECK_EQ_INT(poll.persist, 0);

	/* the 14S capture's cell frames at every split point of a
	 * two-frame notification */
	uint8_t f[13 * 5];
	CHECK_EQ_INT(check_hex(DALY_24, f, sizeof(f)), 13 * 5);
	for (size_t k = 1; k < 26; k++) {
		const size_t two[] = { k, 26 - k, 13 };
		drive_begin_link(&poll, &rx, 1, 14, false, BMS_LINK_BLE, false);
		CHECK(advance_to(&poll, &rx, 0x95, 14, 2));
		bms_rx_clear(&rx);
		struct drive_res r = FEED_BYTES(&poll, &rx, f, sizeof(f), two);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.more, 4);
		CHECK_EQ_INT(r.err + r.unexpected + r.bad_scan + r.badsum, 0);
		drive_check_cells(s, cells_24, 14);
	}
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[64], g[13];
	size_t n;
	struct drive_res r;

	/* garbage merged with frames, including 0xA5 bytes and fake headers */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	r = FEED_HEX(&poll, &rx, "00 ff a5 a5 01 90 07 a5 01 90 08 01 02" DALY_08 "a5 01", chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.skipped, 13);
	CHECK_EQ_INT(rx.len, 2); /* a possible frame start waits for more */
	CHECK_NEAR(poll.snap.voltage, 53.0, 1e-4);

	/* bad checksum: rejected, the rescan finds the next good frame */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	r = FEED_HEX(&poll, &rx, "a5019008021400007545037888" DALY_04, chunks_one);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 13);
	CHECK_EQ_INT(r.badsum, 1); /* counted as a checksum error by the gateway */
	CHECK_NEAR(poll.snap.voltage, 57.0, 1e-4);
	CHECK_EQ_INT(check_hex("a5019008021400007545037888", f, 13), 13);
	CHECK_EQ_INT(drv->scan(&poll, f, 13, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_E_CHECKSUM);

	/* truncated frame: NEED; then a frame cut after 9 bytes followed by
	 * the next full frame (dbus-serialbattery#165) */
	CHECK_EQ_INT(check_hex(DALY_04, f, 13), 13);
	for (size_t k = 0; k < 13; k++)
		CHECK_EQ_INT(drv->scan(&poll, f, k, &n), BMS_SCAN_NEED);
	CHECK_EQ_INT(drv->scan(&poll, f, 13, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, 13);
	CHECK_EQ_INT(drv->handle(&poll, f, 12), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 14), BMS_E_SHORT);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x95, 14, 2));
	r = FEED_HEX(&poll, &rx, "a5019508010ece0ed20e" DALY_24, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 5);
	CHECK_EQ_INT(r.skipped, 10);
	drive_check_cells(&poll.snap, cells_24, 14);

	/* wrong layout: length byte not 8, start byte not A5 */
	CHECK_EQ_INT(check_hex("a5019007021400007545037888", f, 13), 13);
	CHECK_EQ_INT(drv->scan(&poll, f, 4, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_E_HEADER);
	CHECK_EQ_INT(check_hex("00 11 22 a5 01", f, 5), 5);
	CHECK_EQ_INT(drv->scan(&poll, f, 5, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(drv->scan(&poll, f, 3, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(drv->scan(&poll, f, 0, &n), BMS_SCAN_NEED);

	/* wrong command: a stale answer to another request is ignored */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x93, 16, 1));
	r = FEED_HEX(&poll, &rx, DALY_01 DALY_20 DALY_19, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 2);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.remain_ah, 40.96, 1e-3);
	CHECK_NEAR(poll.snap.voltage, 53.0, 1e-4); /* from advance_to, not DALY-01 */
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(check_hex(DALY_04, f, 13), 13);
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_E_UNEXPECTED);

	/* wrong board: board 2 polled, board 1 answers */
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	r = FEED_HEX(&poll, &rx, DALY_01, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK(!(poll.snap.present & BMS_HAS_VOLTAGE));
	mk(g, 2, 0x90, (const uint8_t[8]){ 0x02, 0x14, 0, 0, 0x75, 0x45, 0x03, 0x78 });
	CHECK_EQ_INT(drv->handle(&poll, g, 13), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 53.2, 1e-4);

	/* echo of the request (sleeping BMS, or a half-duplex adapter) */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request(&poll, f), 13);
	CHECK_EQ_INT(drv->scan(&poll, f, 13, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 13);
	r = FEED_HEX(&poll, &rx, DALY_REQ_90_40 DALY_REQ_94_80 "a5 80 90 08 aa aa aa aa aa aa aa aa 0d"
		 "a5 4f 90 08 00 00 00 00 00 00 00 00 8c", chunks_odd);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.skipped, 52);
	CHECK_EQ_INT(rx.len, 0);
	r = FEED_HEX(&poll, &rx, DALY_REQ_90_40 DALY_05, chunks_one);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.voltage, 25.7, 1e-4);

	/* rx buffer overflow with garbage: nothing breaks */
	uint8_t junk[3000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)(k * 7 + (k >> 3));
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK(rx.len < 13);
}

/* 0 V, 0 cells and other unusable samples are rejected by finish(). */
static void test_invalid(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[13];

	/* 0 cells: the cell step is skipped, finish() refuses */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x94, 16, 1));
	mk(f, 1, 0x94, (const uint8_t[8]){ 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK_EQ_INT(cur_cmd(&poll), 0x97);
	CHECK(advance_to(&poll, &rx, 0, 0, 0));
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);

	/* 0 V (all-zero frames after hours of uptime) */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	mk(f, 1, 0x90, (const uint8_t[8]){ 0 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK(advance_to(&poll, &rx, 0, 16, 1));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);

	/* the same poll with a real voltage is fine */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0, 16, 1));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.cell_mv[15], 3315);
	CHECK_NEAR(poll.snap.temp_c[0], 25.0, 1e-6);

	/* balance bits beyond the cell count are dropped */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0x97, 4, 0));
	mk(f, 1, 0x97, (const uint8_t[8]){ 0xff, 0xff, 0xff, 0xff });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_OK);
	CHECK(advance_to(&poll, &rx, 0, 4, 0));
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0xf);
	CHECK(!(poll.snap.present & BMS_HAS_TEMPS));
	CHECK_EQ_INT(poll.snap.ntemps, 0);

	/* timeout() completes nothing that is not complete */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0x90);
	CHECK(advance_to(&poll, &rx, 0x96, 16, 8));
	CHECK(!drv->timeout(&poll));
	mk(f, 1, 0x96, (const uint8_t[8]){ 1, 65, 65, 65, 65, 65, 65, 65 });
	CHECK_EQ_INT(drv->handle(&poll, f, 13), BMS_MORE);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0x96);
}

/* ---- the settings reads (bms/PROTOCOLS.md §2.11) ------------------------
 * No capture of these answers is public: the frames below are built from
 * the layout gmanic/daly_bms_bt reads (and dbus-serialbattery for 0x50),
 * with a 16S LFP pack's levels. */
static const uint8_t set_cmds[] = { 0x50, 0x59, 0x5A, 0x5B, 0x5E, 0x5F, 0x60 };
static const uint8_t set_data[7][8] = {
	{ 0x00, 0x04, 0x93, 0xE0, 0x00, 0x00, 0x0C, 0x80 }, /* 300000 mAh, 3200 mV */
	{ 0x0E, 0x10, 0x0E, 0x42, 0x0A, 0xF0, 0x09, 0xC4 }, /* 3600 3650 2800 2500 mV */
	{ 0x02, 0x40, 0x02, 0x48, 0x01, 0xC0, 0x01, 0x90 }, /* 57.6 58.4 44.8 40.0 V */
	{ 0x71, 0x48, 0x71, 0x16, 0x7B, 0x0C, 0x7B, 0x70 }, /* chg 100 105 A, dsg 150 160 A */
	{ 0x01, 0x2C, 0x01, 0xF4, 0x05, 0x0A, 0x00, 0x00 }, /* 300 500 mV; 5 10 degC */
	{ 0x0D, 0x48, 0x00, 0x1E, 0x00, 0x00, 0x00, 0x00 }, /* 3400 mV, 30 mV */
	{ 0x03, 0x20, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00 }, /* 800 A, shunt 100 */
};

/* Answer the outstanding settings read with set_data[] (cmd's row). */
static struct drive_res answer_set(struct bms_poll *poll, struct bms_rx *rx, uint8_t cmd, const uint8_t *d)
{
	uint8_t f[13];
	struct drive_res r = { 0 };
	mk(f, poll->address, cmd, d);
	bms_rx_clear(rx);
	drive_feed(poll, rx, f, 13, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	return r;
}

static void check_set(const struct bms_settings *st, enum bms_set_key k, double want)
{
	CHECK(bms_settings_has(st, k));
	CHECK_NEAR(st->v[k], want, 1e-4);
}

static void test_settings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[13];

	/* not due: the poll ends after 0x98, nothing read */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0, 16, 1));
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);

	/* due: after 0x98 the seven reads, each one request of 13 bytes */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	CHECK(advance_to(&poll, &rx, 0x50, 16, 1));
	for (size_t i = 0; i < sizeof(set_cmds); i++) {
		CHECK_EQ_INT(request(&poll, req), 13);
		CHECK_EQ_INT(req[2], set_cmds[i]);
		CHECK_EQ_INT(req[1], 0x40);
		CHECK_EQ_INT(req[3], 8);
		struct drive_res r = answer_set(&poll, &rx, set_cmds[i], set_data[i]);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err, 0);
	}
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	check_set(st, BMS_SET_CAPACITY_AH, 300.0);
	check_set(st, BMS_SET_CELL_OVP_V, 3.650);
	check_set(st, BMS_SET_CELL_UVP_V, 2.500);
	check_set(st, BMS_SET_PACK_OVP_V, 58.4);
	check_set(st, BMS_SET_PACK_UVP_V, 40.0);
	check_set(st, BMS_SET_CHARGE_OCP_A, 105.0);
	check_set(st, BMS_SET_DISCHARGE_OCP_A, 160.0);
	check_set(st, BMS_SET_CELL_DIFF_V, 0.500);
	check_set(st, BMS_SET_BALANCE_START_V, 3.400);
	check_set(st, BMS_SET_BALANCE_DELTA_V, 0.030);
	check_set(st, BMS_SET_SHORT_CIRCUIT_A, 800.0);
	/* exactly the keys the driver table announces */
	CHECK_EQ_INT((long long)st->have, (long long)drv->settings);
	/* kept by the next poll, which does not ask again */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(advance_to(&poll, &rx, 0, 16, 1));
	CHECK_EQ_INT((long long)poll.kept.settings.have, (long long)drv->settings);

	/* a BMS that ignores them: the first timeout ends the settings and
	 * the poll, complete and good, without a retry */
	struct bms_poll p2 = { 0 };
	drive_begin(&p2, &rx, 1, 0, false);
	p2.settings_due = true;
	CHECK(advance_to(&p2, &rx, 0x50, 16, 1));
	CHECK(drv->timeout(&p2));
	CHECK_EQ_INT(cur_cmd(&p2), 0);
	CHECK_EQ_INT(drv->finish(&p2), BMS_OK);
	CHECK_EQ_INT((int)p2.kept.settings.have, 0);
	CHECK_EQ_INT(p2.snap.ncells, 16);

	/* one unknown after others answered: only that one is skipped */
	drive_begin(&p2, &rx, 1, 0, false);
	p2.settings_due = true;
	CHECK(advance_to(&p2, &rx, 0x50, 16, 1));
	CHECK_EQ_INT(answer_set(&p2, &rx, 0x50, set_data[0]).ok, 1);
	CHECK_EQ_INT(answer_set(&p2, &rx, 0x59, set_data[1]).ok, 1);
	CHECK_EQ_INT(cur_cmd(&p2), 0x5A);
	CHECK(drv->timeout(&p2));
	CHECK_EQ_INT(cur_cmd(&p2), 0x5B);
	CHECK_EQ_INT(answer_set(&p2, &rx, 0x5B, set_data[3]).ok, 1);
	CHECK(drv->timeout(&p2)); /* 0x5E */
	CHECK(drv->timeout(&p2)); /* 0x5F */
	CHECK_EQ_INT(cur_cmd(&p2), 0x60);
	CHECK(drv->timeout(&p2));
	CHECK_EQ_INT(cur_cmd(&p2), 0);
	CHECK_EQ_INT(drv->finish(&p2), BMS_OK);
	CHECK(bms_settings_has(&p2.kept.settings, BMS_SET_CELL_OVP_V));
	CHECK(bms_settings_has(&p2.kept.settings, BMS_SET_CHARGE_OCP_A));
	CHECK(!bms_settings_has(&p2.kept.settings, BMS_SET_PACK_OVP_V));
	CHECK(!bms_settings_has(&p2.kept.settings, BMS_SET_BALANCE_START_V));
}

/* Broken settings answers: a bad checksum, a cut frame, another board's or
 * another command's answer are not taken; values outside a field's range
 * leave their key absent. */
static void test_settings_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[13];
	struct drive_res r;

	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	CHECK(advance_to(&poll, &rx, 0x59, 16, 1));
	/* bad checksum */
	mk(f, 1, 0x59, set_data[1]);
	f[12]++;
	memset(&r, 0, sizeof(r));
	bms_rx_clear(&rx);
	drive_feed(&poll, &rx, f, 13, chunks_one, 1, &r);
	CHECK_EQ_INT(r.ok, 0);
	CHECK(r.badsum > 0);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	/* truncated: 12 of 13 bytes, the step still waits */
	mk(f, 1, 0x59, set_data[1]);
	memset(&r, 0, sizeof(r));
	bms_rx_clear(&rx);
	drive_feed(&poll, &rx, f, 12, chunks_one, 1, &r);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0x59);
	/* board 2's answer, and a late 0x98 */
	CHECK_EQ_INT(drv->handle(&poll, (mk(f, 2, 0x59, set_data[1]), f), 13), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, (mk(f, 1, 0x98, set_data[1]), f), 13), BMS_E_UNEXPECTED);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	/* out of range: 0 mV and > 10 V cells, a current level at the zero
	 * point, 0 mAh, 0 A short circuit */
	static const uint8_t cell_bad[8] = { 0x0E, 0x10, 0x00, 0x00, 0x0A, 0xF0, 0x27, 0x11 };
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x59, cell_bad).ok, 1);
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_CELL_UVP_V));
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x5A, set_data[2]).ok, 1);
	static const uint8_t cur_zero[8] = { 0x75, 0x30, 0x75, 0x30, 0x75, 0x30, 0x75, 0x30 };
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x5B, cur_zero).ok, 1);
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_CHARGE_OCP_A));
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_DISCHARGE_OCP_A));
	/* a firmware with the other current sign: the magnitude */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	CHECK(advance_to(&poll, &rx, 0x50, 16, 1));
	static const uint8_t zero[8] = { 0 };
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x50, zero).ok, 1);
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_CAPACITY_AH));
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x59, set_data[1]).ok, 1);
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x5A, set_data[2]).ok, 1);
	static const uint8_t cur_inv[8] = { 0x7B, 0x0C, 0x7B, 0x3E, 0x71, 0x48, 0x70, 0xE4 };
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x5B, cur_inv).ok, 1);
	check_set(&poll.kept.settings, BMS_SET_CHARGE_OCP_A, 155.0);
	check_set(&poll.kept.settings, BMS_SET_DISCHARGE_OCP_A, 110.0);
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x5E, set_data[4]).ok, 1);
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x5F, set_data[5]).ok, 1);
	CHECK_EQ_INT(answer_set(&poll, &rx, 0x60, zero).ok, 1);
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_SHORT_CIRCUIT_A));
	CHECK_EQ_INT(cur_cmd(&poll), 0);
}

int main(void)
{
	test_requests();
	test_host_fallback();
	test_0x90();
	test_current_sign();
	test_requested();
	test_0x93();
	test_0x94();
	test_0x95();
	test_0x96();
	test_0x97_0x98();
	test_full_poll();
	test_ble();
	test_broken();
	test_invalid();
	test_settings();
	test_settings_broken();
	return check_report();
}
