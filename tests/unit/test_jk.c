/* SPDX-License-Identifier: MIT */
/* tests/unit/test_jk.c - JK-Bx 0x4E57 driver: the jk4e57 rows of
 * tests/fixtures/vectors.tsv through scan() + handle() fed in odd chunks,
 * whole polls, the TLV walk (unknown IDs, bad lengths), current encodings
 * and broken input.  Protocol facts: bms/PROTOCOLS.md §5. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_jk_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family jk4e57: each macro is the row of the id
 * it spells (JK_01 = JK-01, JK_REQ_1 = JK-REQ-1) */
#define JK_01 \
	"4e57011b00000000060001792a010eed020efa030ef7040eec050ef8060efa070ef1080ef8090ee30a0efa0b0ef10c0efb0d" \
	"0efb0e0ef280001d81001e82001c8314ef8480d0850f860287000489000000008a000e8b00008c00078e16268f10ae900fd2" \
	"910fa0920005930bea940c1c95000596012c9700079800039900059a00059b0ce49c00089d019e005a9f0046a00064a10064" \
	"a20014a30046a40046a5ffeca6fff6a7ffeca8fff6a90eaa0000000eab01ac01ad0411ae01af01b0000ab114b23132333435" \
	"3600000000b300b4496e707574205573b532313031b60000e200b748362e585f5f53362e312e33535f5fb800b900000000ba" \
	"425433303732303230313230303030323030353231303031c0010000000068000054d1"
#define JK_02 \
	"4e570118000000000600017927010ffc020fcf030ffd040ffc050ffc060ffa070ff7080ffe090ffe0a0ffc0b0ff70c0ff70d" \
	"0ffd8000168100138200138314c1840000855e860287000089000000008a000d8b00008c00048e15548f0eba901068911004" \
	"920005930b54940c8095000596012c97009698012c9900199a001e9b0ce49c000a9d019e005a9f0046a00064a10064a20014" \
	"a30046a40046a5ffeca6fff6a7ffeca8fff6a90daa00000005ab00ac00ad042eae01af01b0000ab114b23132333435360000" \
	"0000b300b4496e707574205573b532323034b600000000b731302e58575f5331302e30375f5f5fb800b900000000ba496e70" \
	"7574205573657264614a4b2d423241323453313550c00100000000680000544e"
#define JK_REQ_1 "4e5700130000000006030000000000006800000129"
#define JK_REQ_2 "4e5700130000000006020000000000006800000128"

/* The data items of JK-01 split around 0x8C, for frames with extra items. */
#define JK_01_HEAD \
	"792a010eed020efa030ef7040eec050ef8060efa070ef1080ef8090ee30a0efa0b0ef10c0efb0d0efb0e0ef280001d81001e" \
	"82001c8314ef8480d0850f860287000489000000008a000e8b00008c0007"
#define JK_01_SET1 \
	"8e16268f10ae900fd2910fa0920005930bea940c1c95000596012c9700079800039900059a00059b0ce4"
#define JK_01_SET2 "9c00089d019e005a9f0046a00064a10064a20014a30046a40046a5ffeca6fff6a7ffeca8fff6"
#define JK_01_REST \
	"a90eaa0000000eab01ac01ad0411ae01af01b0000ab114b231323334353600000000b300b4496e707574205573b5323130" \
	"31b60000e200b748362e585f5f53362e312e33535f5fb800b900000000ba42543330373230323031323030303032303035" \
	"3231303031c001"
#define JK_01_TAIL JK_01_SET1 JK_01_SET2 JK_01_REST

static const uint16_t cells_01[14] = {
	3821, 3834, 3831, 3820, 3832, 3834, 3825, 3832, 3811, 3834, 3825, 3835, 3835, 3826,
};
static const uint16_t cells_02[13] = {
	4092, 4047, 4093, 4092, 4092, 4090, 4087, 4094, 4094, 4092, 4087, 4087, 4093,
};

static const size_t chunks_odd[] = { 1, 1, 1, 5, 2, 7, 13, 1, 26, 3, 11, 1, 40, 64, 17 };

/* random splits (deterministic) */
static uint32_t lcg = 12345;

/* Build a reply frame: header (cmd, type), the data items given in hex, the
 * trailer and a correct checksum.  Returns the length. */
static size_t build(uint8_t *f, size_t cap, uint8_t cmd, uint8_t type, const char *items)
{
	uint8_t d[1024];
	int n = check_hex(items, d, (int)sizeof(d));
	size_t total, sum = 0;

	CHECK(n >= 0);
	if (n < 0)
		n = 0;
	total = 11 + (size_t)n + 9;
	CHECK(total <= cap);
	if (total > cap)
		return 0;
	memset(f, 0, total);
	f[0] = 0x4E;
	f[1] = 0x57;
	f[2] = (uint8_t)((total - 2) >> 8);
	f[3] = (uint8_t)(total - 2);
	f[8] = cmd;
	f[10] = type;
	memcpy(f + 11, d, (size_t)n);
	f[total - 5] = 0x68;
	for (size_t i = 0; i < total - 4; i++)
		sum += f[i];
	f[total - 2] = (uint8_t)(sum >> 8);
	f[total - 1] = (uint8_t)sum;
	return total;
}

/* One whole poll over frame f: request, feed, finish. */
static int poll_frame(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *f, size_t n,
		      uint8_t forced, bool inv, struct drive_res *r)
{
	const struct drive_answer a = { f, n, chunks_odd, DRIVE_NCH(chunks_odd), 0, 21 };

	drive_begin(poll, rx, 0, forced, inv);
	return drive_poll(poll, rx, &a, 1, r);
}

static void check_jk01(const struct bms_snapshot *s, bool inv)
{
	drive_check_cells(s, cells_01, 14);
	CHECK_NEAR(s->voltage, 53.59, 1e-4);
	CHECK_NEAR(s->current, inv ? -2.08 : 2.08, 1e-4);
	CHECK_NEAR(s->soc, 15.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 29.0, 1e-6);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 30.0, 1e-6);
	CHECK_NEAR(s->temp_c[1], 28.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 4);
	CHECK_NEAR(s->full_ah, 14.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 2);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0x0007);
	CHECK_EQ_INT(s->state, 0);
	/* 0xAB / 0xAC: both switches on */
	CHECK(s->chg_set && s->dsg_set);
	/* the over-current settings: charge 0x99 = 5 A, discharge 0x97 = 7 A */
	CHECK_NEAR(s->bms_ccl_a, 5.0, 1e-6);
	CHECK_NEAR(s->bms_dcl_a, 7.0, 1e-6);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES |
		     BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |
		     BMS_HAS_ALARMS | BMS_HAS_FULL | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS);
}

static void check_jk02(const struct bms_snapshot *s)
{
	drive_check_cells(s, cells_02, 13);
	CHECK_NEAR(s->voltage, 53.13, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 94.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 22.0, 1e-6);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 19.0, 1e-6);
	CHECK_NEAR(s->temp_c[1], 19.0, 1e-6);
	CHECK_EQ_INT(s->cycles, 0);
	CHECK_NEAR(s->full_ah, 5.0, 1e-6);
	CHECK(!s->chg_mos && !s->dsg_mos); /* status 0x0004: balancer only */
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->raw_alarms[1], 0x0004);
	CHECK(!(s->present & (BMS_HAS_REMAIN | BMS_HAS_SOH | BMS_HAS_BALANCE | BMS_HAS_POWER)));
	/* charge OCP 25 A, discharge OCP 150 A, but both switches (0xAB / 0xAC)
	 * are off: 0 A either way */
	CHECK(s->present & BMS_HAS_CUR_LIMITS);
	CHECK(!s->chg_set && !s->dsg_set);
	CHECK_NEAR(s->bms_ccl_a, 0.0, 1e-6);
	CHECK_NEAR(s->bms_dcl_a, 0.0, 1e-6);
	CHECK(!(s->present & BMS_HAS_VOLT_LIMITS));
}

static void test_request(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[64], want[32];
	size_t n;

	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 21);
	CHECK_EQ_INT(drive_hex(JK_REQ_1, want, 32), 21);
	CHECK(memcmp(req, want, 21) == 0);
	CHECK_EQ_INT(drv->next_request(&poll, req, 20), BMS_E_NOSPACE);
	poll.attempt = 2; /* retries send the same */
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 21);
	CHECK(memcmp(req, want, 21) == 0);
	/* the request (and ESPHome's variant) echoed back is skipped whole */
	CHECK_EQ_INT(drv->scan(&poll, want, 21, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 21);
	CHECK_EQ_INT(drive_hex(JK_REQ_2, want, 32), 21);
	CHECK_EQ_INT(drv->scan(&poll, want, 21, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 21);
	CHECK_EQ_INT(drv->handle(&poll, want, 21), BMS_E_UNEXPECTED);

	CHECK_STR(drv->name, "jk");
	CHECK_EQ_INT(drv->protocol_id, 4);
	CHECK_EQ_INT(drv->default_baud, 115200);
	CHECK_EQ_INT(drv->min_address, 0);
	CHECK_EQ_INT(drv->max_address, 0);
	CHECK(drv->gap_floor >= 0.1);
	CHECK(drv->default_timeout > 0);
	CHECK(!drv->listen_only);
	CHECK(drv->finish != NULL);
	CHECK(bms_find("jk") == drv);
}

static void test_vectors(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	uint8_t f[2048];
	int n;

	/* JK-01 in every chunking, plain and inverted */
	const size_t *chs[] = { chunks_one, chunks_odd, chunks_big };
	const size_t nch[] = { 1, DRIVE_NCH(chunks_odd), 1 };
	for (int k = 0; k < 3; k++) {
		for (int inv = 0; inv < 2; inv++) {
			drive_begin(&poll, &rx, 0, 0, inv);
			r = drive_feed_hex(&poll, &rx, JK_01, chs[k], nch[k]);
			CHECK_EQ_INT(r.frames, 1);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.skipped, 0);
			CHECK_EQ_INT(r.bad_scan, 0);
			CHECK_EQ_INT(rx.len, 0);
			check_jk01(&poll.snap, inv);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		}
	}
	/* random splits, many times */
	n = drive_hex(JK_02, f, sizeof(f));
	for (int k = 0; k < 50; k++) {
		drive_begin(&poll, &rx, 0, 0, false);
		r = (struct drive_res){ 0 };
		drive_feed_random(&poll, &rx, f, (size_t)n, &lcg, 90, &r);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, 0);
		if (k == 0)
			check_jk02(&poll.snap);
	}
	check_jk02(&poll.snap);

	/* merged with garbage before and after, including fake STX bytes,
	 * an impossible length and a header whose checksum fails */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, "00 4e 4e 57 00 02 ff 68 4e57 00 13 0000 0000 0603 01 00 00000000 68 0000 0000" JK_01 "4e 57 01",
		 chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.skipped, 8 + 21);
	CHECK_EQ_INT(rx.len, 3); /* a possible frame start waits */
	check_jk01(&poll.snap, false);

	/* the previous poll's late answer, then this one's, in one read: the
	 * first completes the poll, the second is unexpected */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JK_02 JK_01, chunks_big);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, 1);
	check_jk02(&poll.snap);
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	uint8_t f[2048];
	int n = drive_hex(JK_01, f, sizeof(f));

	CHECK_EQ_INT(poll_frame(&poll, &rx, f, (size_t)n, 0, false, &r), BMS_OK);
	CHECK_EQ_INT(r.ok, 1);
	check_jk01(&poll.snap, false);
	bms_snapshot_derive(&poll.snap);
	CHECK(poll.snap.present & BMS_HAS_POWER);
	CHECK_NEAR(poll.snap.power, 53.59 * 2.08, 1e-2);
	struct bms_cell_stats st;
	bms_cell_stats(&poll.snap, &st);
	CHECK_EQ_INT(st.max_mv, 3835);
	CHECK_EQ_INT(st.min_mv, 3811);
	CHECK_EQ_INT(st.min_idx, 9);
	/* after the poll nothing more is taken */
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_E_UNEXPECTED);

	/* forced cell counts */
	r = (struct drive_res){ 0 };
	CHECK_EQ_INT(poll_frame(&poll, &rx, f, (size_t)n, 16, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.cell_mv[13], 3826);
	CHECK_EQ_INT(poll.snap.cell_mv[14], 0);
	r = (struct drive_res){ 0 };
	CHECK_EQ_INT(poll_frame(&poll, &rx, f, (size_t)n, 10, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 10);
	CHECK_EQ_INT(poll.snap.cell_mv[9], 3834);
	CHECK_EQ_INT(poll.snap.cell_mv[10], 0);
	r = (struct drive_res){ 0 };
	CHECK_EQ_INT(poll_frame(&poll, &rx, f, (size_t)n, 40, false, &r), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 32);

	n = drive_hex(JK_02, f, sizeof(f));
	r = (struct drive_res){ 0 };
	CHECK_EQ_INT(poll_frame(&poll, &rx, f, (size_t)n, 0, true, &r), BMS_OK);
	check_jk02(&poll.snap);
}

/* Decode one frame built from items; returns handle()'s result. */
static int decode_items(struct bms_poll *poll, const char *items, bool inv)
{
	struct bms_rx rx;
	uint8_t f[1200];
	size_t n = build(f, sizeof(f), 0x06, 1, items);
	size_t fl = 0;

	drive_begin(poll, &rx, 0, 0, inv);
	CHECK_EQ_INT(drv->scan(poll, f, n, &fl), BMS_SCAN_FRAME);
	CHECK_EQ_INT(fl, n);
	return drv->handle(poll, f, n);
}

#define CELLS2 "7906 010d05 020d07 " /* 3333, 3335 mV */
/* 80 bytes no skip pair can cross */
#define ZEROS80 \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000000000000000000000000000000000000"

static void test_current(void)
{
	struct bms_poll poll = { 0 };

	/* protocol 1: bit 15 = charging, 10 mA steps */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 840045 c001", false), BMS_OK);
	CHECK_NEAR(poll.snap.current, -0.69, 1e-4);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 840045 c001", true), BMS_OK);
	CHECK_NEAR(poll.snap.current, 0.69, 1e-4);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 84ffff c001", false), BMS_OK);
	CHECK_NEAR(poll.snap.current, 327.67, 1e-3);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 847fff c001", false), BMS_OK);
	CHECK_NEAR(poll.snap.current, -327.67, 1e-3);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 848000 c001", false), BMS_OK);
	CHECK_NEAR(poll.snap.current, 0.0, 1e-6);
	/* old firmware (0xC0 absent or 0): (10000 - raw) x 10 mA, + = charging */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 842af8", false), BMS_OK);
	CHECK_NEAR(poll.snap.current, -10.0, 1e-4);
	CHECK(poll.snap.present & BMS_HAS_CURRENT);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 84251c c000", false), BMS_OK);
	CHECK_NEAR(poll.snap.current, 5.0, 1e-4);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 84251c c000", true), BMS_OK);
	CHECK_NEAR(poll.snap.current, -5.0, 1e-4);
	/* the walk stopped at an unresolvable ID before 0xC0: the encoding
	 * is unknown, so no current */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 840045 ee" ZEROS80 "c001", false), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CURRENT));
	CHECK(poll.snap.present & BMS_HAS_VOLTAGE);
	CHECK_NEAR(poll.snap.voltage, 53.44, 1e-4);
}

static void test_temps(void)
{
	struct bms_poll poll = { 0 };

	/* 0..100 = degC, above 100: 100 - raw */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "800065 810064 82008c 8314e0", false), BMS_OK);
	CHECK_NEAR(poll.snap.mos_temp_c, -1.0, 1e-6);
	CHECK_EQ_INT(poll.snap.ntemps, 2);
	CHECK_NEAR(poll.snap.temp_c[0], 100.0, 1e-6);
	CHECK_NEAR(poll.snap.temp_c[1], -40.0, 1e-6);
	/* 0x86 limits the sensors */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "800000 810005 820006 8314e0 8601", false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 5.0, 1e-6);
	CHECK_NEAR(poll.snap.mos_temp_c, 0.0, 1e-6);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "810005 820006 8314e0 8600", false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 0);
	CHECK(!(poll.snap.present & (BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP)));
	/* only T2 sent */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "820006 8314e0", false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ntemps, 1);
	CHECK_NEAR(poll.snap.temp_c[0], 6.0, 1e-6);
}

static void test_fields(void)
{
	struct bms_poll poll = { 0 };

	/* SOC above 100 is clamped; capacity: 0xB9 when set, else 0xAA, 0 = none */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 85ff aa00000064 b900000000", false), BMS_OK);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	CHECK_NEAR(poll.snap.full_ah, 100.0, 1e-6);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 aa00000064 b90000005a", false), BMS_OK);
	CHECK_NEAR(poll.snap.full_ah, 90.0, 1e-6);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 aa00000000 b900000000", false), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_FULL));
	/* MOSFET bits */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 8c0001", false), BMS_OK);
	CHECK(poll.snap.chg_mos && !poll.snap.dsg_mos);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 8c000e", false), BMS_OK);
	CHECK(!poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS)); /* no 0x8B */
	/* a frame with neither cells nor voltage is not a data answer */
	CHECK_EQ_INT(decode_items(&poll, "8c0003 c001", false), BMS_E_INVALID);
	CHECK_EQ_INT(decode_items(&poll, "", false), BMS_E_INVALID);
	/* cells without voltage: handle() takes it, finish() refuses */
	CHECK_EQ_INT(decode_items(&poll, CELLS2, false), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "830000", false), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(decode_items(&poll, "7900 8314e0", false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0", false), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

/* The over-current settings 0x99 (charge) / 0x97 (discharge) as current
 * limits, gated by the switches 0xAB / 0xAC; outside 1..1000 A none. */
static void test_limits(void)
{
	struct bms_poll poll = { 0 };
	static const struct {
		const char *items;
		bool have;
		double ccl, dcl;
	} v[] = {
		{ CELLS2 "8314e0 970096 990019 ab01 ac01", true, 25.0, 150.0 },
		{ CELLS2 "8314e0 970096 990019 ab00 ac01", true, 0.0, 150.0 },
		{ CELLS2 "8314e0 970096 990019 ab01 ac00", true, 25.0, 0.0 },
		{ CELLS2 "8314e0 970096 990019", true, 25.0, 150.0 },     /* no switches: not gated */
		{ CELLS2 "8314e0 9703e8 990001 ab01 ac01", true, 1.0, 1000.0 },
		{ CELLS2 "8314e0 970096 ab01 ac01", false, 0, 0 },        /* 0x99 missing */
		{ CELLS2 "8314e0 990019 ab01 ac01", false, 0, 0 },        /* 0x97 missing */
		{ CELLS2 "8314e0 970000 990019 ab01 ac01", false, 0, 0 }, /* 0 A */
		{ CELLS2 "8314e0 970096 9903e9 ab01 ac01", false, 0, 0 }, /* 1001 A */
		{ CELLS2 "8314e0 97ffff 990019 ab01 ac01", false, 0, 0 },
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		CHECK_EQ_INT(decode_items(&poll, v[k].items, false), BMS_OK);
		CHECK_EQ_INT(!!(poll.snap.present & BMS_HAS_CUR_LIMITS), v[k].have);
		if (v[k].have) {
			CHECK_NEAR(poll.snap.bms_ccl_a, v[k].ccl, 1e-6);
			CHECK_NEAR(poll.snap.bms_dcl_a, v[k].dcl, 1e-6);
		}
		/* the rest of the sample does not depend on them */
		CHECK_NEAR(poll.snap.voltage, 53.44, 1e-4);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	}
}

/* The BMS's settings among JK-01's items (0x8E..0xAA, §5.3), kept for the
 * outputs; out-of-range values left out, a repeated ID's first kept. */
static void test_bms_settings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	drive_begin(&poll, &rx, 0, 0, false);
	r = drive_feed_hex(&poll, &rx, JK_01, chunks_one, 1);
	CHECK_EQ_INT(r.ok, 1);
	static const struct {
		enum bms_set_key k;
		double v;
	} want[] = {
		{ BMS_SET_PACK_OVP_V, 56.70 }, { BMS_SET_PACK_UVP_V, 42.70 },
		{ BMS_SET_CELL_OVP_V, 4.050 }, { BMS_SET_CELL_OVP_RELEASE_V, 4.000 },
		{ BMS_SET_CELL_OVP_DELAY_S, 5 }, { BMS_SET_CELL_UVP_V, 3.050 },
		{ BMS_SET_CELL_UVP_RELEASE_V, 3.100 }, { BMS_SET_CELL_UVP_DELAY_S, 5 },
		{ BMS_SET_CELL_DIFF_V, 0.300 }, { BMS_SET_DISCHARGE_OCP_A, 7 },
		{ BMS_SET_DISCHARGE_OCP_DELAY_S, 3 }, { BMS_SET_CHARGE_OCP_A, 5 },
		{ BMS_SET_CHARGE_OCP_DELAY_S, 5 }, { BMS_SET_BALANCE_START_V, 3.300 },
		{ BMS_SET_BALANCE_DELTA_V, 0.008 }, { BMS_SET_MOS_OTP_C, 90 },
		{ BMS_SET_MOS_OTP_RELEASE_C, 70 }, { BMS_SET_CHARGE_OTP_C, 70 },
		{ BMS_SET_DISCHARGE_OTP_C, 70 }, { BMS_SET_CHARGE_UTP_C, -20 },
		{ BMS_SET_CHARGE_UTP_RELEASE_C, -10 }, { BMS_SET_DISCHARGE_UTP_C, -20 },
		{ BMS_SET_DISCHARGE_UTP_RELEASE_C, -10 }, { BMS_SET_CELL_COUNT, 14 },
		{ BMS_SET_CAPACITY_AH, 14 },
	};
	uint64_t have = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(bms_settings_has(&poll.kept.settings, want[i].k));
		CHECK_NEAR(poll.kept.settings.v[want[i].k], want[i].v, 1e-5);
		have |= (uint64_t)1 << want[i].k;
	}
	CHECK(poll.kept.settings.have == have);
	CHECK(drv->settings == have); /* what discovery announces */

	/* out of range: 0 mV cell OVP, 33 cells, 1001 A; repeated 0x93: the first */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 900000 a921 9703e9 930bea 930c1c", false), BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CELL_COUNT));
	CHECK(!bms_settings_has(st, BMS_SET_DISCHARGE_OCP_A));
	CHECK(bms_settings_has(st, BMS_SET_CELL_UVP_V));
	CHECK_NEAR(st->v[BMS_SET_CELL_UVP_V], 3.050, 1e-6);
	CHECK(st->have == (uint64_t)1 << BMS_SET_CELL_UVP_V);
	/* a frame without settings leaves the kept ones */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0", false), BMS_OK);
	CHECK(poll.kept.settings.have == (uint64_t)1 << BMS_SET_CELL_UVP_V);
	/* a truncated settings item ends the walk: nothing of it is stored */
	drive_begin(&poll, &rx, 0, 0, false);
	memset(&poll.kept.settings, 0, sizeof(poll.kept.settings));
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 90", false), BMS_OK);
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_CELL_OVP_V));
}

static void test_alarms(void)
{
	static const struct {
		int bit;
		uint32_t al;
	} map[] = {
		{ 0, BMS_AL_SOC_LOW }, { 1, BMS_AL_MOS_OT }, { 2, BMS_AL_PACK_OV }, { 3, BMS_AL_PACK_UV },
		{ 4, BMS_AL_CHG_OT | BMS_AL_DSG_OT }, { 5, BMS_AL_CHG_OC }, { 6, BMS_AL_DSG_OC },
		{ 7, BMS_AL_CELL_DIFF }, { 8, BMS_AL_CHG_OT | BMS_AL_DSG_OT },
		{ 9, BMS_AL_CHG_UT | BMS_AL_DSG_UT }, { 10, BMS_AL_CELL_OV }, { 11, BMS_AL_CELL_UV },
		{ 12, BMS_AL_PROTECTION }, { 13, BMS_AL_PROTECTION }, { 14, 0 }, { 15, 0 },
	};
	struct bms_poll poll = { 0 };
	char items[128];

	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		snprintf(items, sizeof(items), CELLS2 "8314e0 8b%04x 8c0003", 1u << map[k].bit);
		CHECK_EQ_INT(decode_items(&poll, items, false), BMS_OK);
		if (poll.snap.alarms != map[k].al)
			fprintf(stderr, "warning bit %d\n", map[k].bit);
		CHECK_EQ_INT(poll.snap.alarms, map[k].al);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], 1u << map[k].bit);
		CHECK_EQ_INT(poll.snap.raw_alarms[1], 3);
		CHECK_EQ_INT(poll.snap.nraw, 2);
		CHECK(poll.snap.present & BMS_HAS_ALARMS);
	}
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 8bffff", false), BMS_OK);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_SOC_LOW | BMS_AL_MOS_OT | BMS_AL_PACK_OV | BMS_AL_PACK_UV |
		     BMS_AL_CHG_OT | BMS_AL_DSG_OT | BMS_AL_CHG_OC | BMS_AL_DSG_OC | BMS_AL_CELL_DIFF |
		     BMS_AL_CHG_UT | BMS_AL_DSG_UT | BMS_AL_CELL_OV | BMS_AL_CELL_UV | BMS_AL_PROTECTION);
}

/* Unknown IDs must not derail the walk. */
static void test_unknown_ids(void)
{
	struct bms_poll poll = { 0 };

	/* one unknown ID (3 value bytes that look like IDs) after 0x8C */
	CHECK_EQ_INT(decode_items(&poll, JK_01_HEAD "c8 01 8b 84" JK_01_TAIL, false), BMS_OK);
	check_jk01(&poll.snap, false);
	/* two, one with no value, one with a 24-byte value */
	CHECK_EQ_INT(decode_items(&poll, JK_01_HEAD "c8 f0 000102030405060708090a0b0c0d0e0f1011121314151617"
				  JK_01_TAIL, false), BMS_OK);
	check_jk01(&poll.snap, false);
	/* an unknown ID at the very end and one at the start */
	CHECK_EQ_INT(decode_items(&poll, "ee 0102" JK_01_HEAD JK_01_TAIL "cc 0000", false), BMS_OK);
	check_jk01(&poll.snap, false);
	/* 0x88 / 0x8D never occur: unknown too */
	CHECK_EQ_INT(decode_items(&poll, JK_01_HEAD "88 0000 8d 0000" JK_01_TAIL, false), BMS_OK);
	check_jk01(&poll.snap, false);
	/* three unknown IDs next to each other: resolved as two longer ones */
	CHECK_EQ_INT(decode_items(&poll, JK_01_HEAD "c8 01 c9 02 ca 03" JK_01_TAIL, false), BMS_OK);
	check_jk01(&poll.snap, false);
	/* three unknown IDs far apart: the walk stops at the first; what came
	 * before stays, nothing after it is used */
	CHECK_EQ_INT(decode_items(&poll, JK_01_HEAD "c8 01" JK_01_SET1 "c9 02" JK_01_SET2 "ca 03" JK_01_REST,
				  false), BMS_OK);
	drive_check_cells(&poll.snap, cells_01, 14);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK(!(poll.snap.present & (BMS_HAS_CURRENT | BMS_HAS_FULL)));
	CHECK_NEAR(poll.snap.voltage, 53.59, 1e-4);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	/* a value longer than any skip tried: same */
	CHECK_EQ_INT(decode_items(&poll, JK_01_HEAD "c8" ZEROS80 JK_01_TAIL, false), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CURRENT));
	CHECK_EQ_INT(poll.snap.ncells, 14);
}

/* Lengths from the wire that do not fit. */
static void test_bad_lengths(void)
{
	struct bms_poll poll = { 0 };

	/* a known ID cut by the end of the data: the walk stops, earlier items stay */
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 8400", false), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 53.44, 1e-4);
	CHECK(!(poll.snap.present & BMS_HAS_CURRENT));
	CHECK_EQ_INT(decode_items(&poll, CELLS2 "8314e0 aa0000", false), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_FULL));
	/* 0x79 longer than the data, or not a multiple of 3 */
	CHECK_EQ_INT(decode_items(&poll, "8314e0 7909 010d05 020d07", false), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_CELLS));
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	CHECK_EQ_INT(decode_items(&poll, "7905 010d05 020d 8314e0", false), BMS_E_INVALID);
	CHECK_EQ_INT(decode_items(&poll, "79", false), BMS_E_INVALID);
	/* cell numbers out of range are not stored */
	CHECK_EQ_INT(decode_items(&poll, "7909 000d05 050d07 020d09 8314e0", false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 3);
	CHECK_EQ_INT(poll.snap.cell_mv[0], 0);
	CHECK_EQ_INT(poll.snap.cell_mv[1], 3337);
	CHECK_EQ_INT(poll.snap.cell_mv[2], 0);
	/* 32 cells is the limit, 33 is out of range unless the count is forced */
	char items[1024];
	size_t o = (size_t)snprintf(items, sizeof(items), "79%02x", 33 * 3);
	for (int i = 1; i <= 33; i++)
		o += (size_t)snprintf(items + o, sizeof(items) - o, "%02x0d%02x", i, i);
	snprintf(items + o, sizeof(items) - o, "8314e0");
	CHECK_EQ_INT(decode_items(&poll, items, false), BMS_E_RANGE);
	struct bms_rx rx;
	uint8_t f[1200];
	size_t n = build(f, sizeof(f), 0x06, 1, items);
	drive_begin(&poll, &rx, 0, 24, false);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 24);
	CHECK_EQ_INT(poll.snap.cell_mv[23], 0x0d18);
	o = (size_t)snprintf(items, sizeof(items), "79%02x", 32 * 3);
	for (int i = 1; i <= 32; i++)
		o += (size_t)snprintf(items + o, sizeof(items) - o, "%02x0d%02x", i, i);
	snprintf(items + o, sizeof(items) - o, "8314e0");
	CHECK_EQ_INT(decode_items(&poll, items, false), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 32);
	CHECK_EQ_INT(poll.snap.cell_mv[31], 0x0d20);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[2048], g[2048];
	size_t n, fl;
	struct drive_res r;
	int len = drive_hex(JK_01, f, sizeof(f));

	/* every prefix needs more; the whole is a frame */
	drive_begin(&poll, &rx, 0, 0, false);
	for (int k = 0; k < len; k++) {
		if (drv->scan(&poll, f, (size_t)k, &n) != BMS_SCAN_NEED) {
			CHECK(0);
			fprintf(stderr, "prefix %d\n", k);
			break;
		}
	}
	CHECK_EQ_INT(drv->scan(&poll, f, (size_t)len, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, len);
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)len - 1), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, f, 10), BMS_E_SHORT);

	/* bad checksum: skipped one byte at a time; the good frame after it is found */
	memcpy(g, f, (size_t)len);
	g[len - 1] ^= 0x01;
	CHECK_EQ_INT(drv->scan(&poll, g, (size_t)len, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(drv->handle(&poll, g, (size_t)len), BMS_E_CHECKSUM);
	memcpy(g + len, f, (size_t)len);
	drive_begin(&poll, &rx, 0, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, g, 2 * (size_t)len, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, len);
	check_jk01(&poll.snap, false);
	/* a data byte flipped: checksum catches it */
	memcpy(g, f, (size_t)len);
	g[100] ^= 0x10;
	CHECK_EQ_INT(drv->scan(&poll, g, (size_t)len, &n), BMS_SCAN_BADSUM);

	/* truncated (FT232-style: the rest never comes), then a whole frame:
	 * the cut frame's length swallows part of the next, which is then
	 * found by the rescan */
	memcpy(g, f, 150);
	memcpy(g + 150, f, (size_t)len);
	drive_begin(&poll, &rx, 0, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, g, 150 + (size_t)len, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.skipped, 150);
	check_jk01(&poll.snap, false);

	/* impossible LEN: too short, too long */
	CHECK_EQ_INT(check_hex("4e57 0011", g, 4), 4);
	CHECK_EQ_INT(drv->scan(&poll, g, 4, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(check_hex("4e57 ffff", g, 4), 4);
	CHECK_EQ_INT(drv->scan(&poll, g, 4, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(check_hex("4e57 027f", g, 4), 4); /* 641 bytes */
	CHECK_EQ_INT(drv->scan(&poll, g, 4, &n), BMS_SCAN_SKIP);
	/* wrong second STX byte, garbage runs */
	CHECK_EQ_INT(check_hex("4e 58 00 13", g, 4), 4);
	CHECK_EQ_INT(drv->scan(&poll, g, 4, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(check_hex("00 11 22 4e", g, 4), 4);
	CHECK_EQ_INT(drv->scan(&poll, g, 4, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(drv->scan(&poll, g, 3, &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(drv->scan(&poll, g, 0, &n), BMS_SCAN_NEED);
	/* a transport type that does not exist */
	memcpy(g, f, (size_t)len);
	g[10] = 3;
	CHECK_EQ_INT(drv->scan(&poll, g, 11, &n), BMS_SCAN_SKIP);
	/* end marker not at its place (the checksum made right) */
	n = build(g, sizeof(g), 0x06, 1, CELLS2 "8314e0");
	g[n - 5] = 0x69;
	{
		unsigned s = 0;
		for (size_t i = 0; i < n - 4; i++)
			s += g[i];
		g[n - 2] = (uint8_t)(s >> 8);
		g[n - 1] = (uint8_t)s;
	}
	CHECK_EQ_INT(drv->scan(&poll, g, n, &fl), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(fl, 1);
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_HEADER);
	g[0] = 0x4F;
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_HEADER);

	/* other commands and transport types are not the answer */
	n = build(g, sizeof(g), 0x02, 1, "ab01");
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->scan(&poll, g, n, &fl), BMS_SCAN_FRAME);
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_UNEXPECTED);
	n = build(g, sizeof(g), 0x05, 1, "");
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_UNEXPECTED);
	n = build(g, sizeof(g), 0x06, 0, CELLS2 "8314e0"); /* a "request" with data */
	CHECK_EQ_INT(drv->scan(&poll, g, n, &fl), BMS_SCAN_SKIP);
	CHECK_EQ_INT(fl, n);
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_E_UNEXPECTED);
	/* read (0x03) and active upload (type 2) carry the same data */
	n = build(g, sizeof(g), 0x03, 1, CELLS2 "8314e0");
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_OK);
	drive_begin(&poll, &rx, 0, 0, false);
	n = build(g, sizeof(g), 0x06, 2, CELLS2 "8314e0");
	CHECK_EQ_INT(drv->handle(&poll, g, n), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);

	/* echo of the request, then the answer */
	drive_begin(&poll, &rx, 0, 0, false);
	r = FEED_HEX(&poll, &rx, JK_REQ_1 JK_01, chunks_odd);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, 21);

	/* overflowing the rx buffer with garbage breaks nothing */
	uint8_t junk[5000];
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)(k % 7 == 0 ? 0x4E : k % 7 == 1 ? 0x57 : k * 13 + (k >> 4));
	drive_begin(&poll, &rx, 0, 0, false);
	r = (struct drive_res){ 0 };
	drive_feed(&poll, &rx, junk, sizeof(junk), chunks_big, 1, &r);
	CHECK_EQ_INT(r.bad_scan, 0);
	CHECK_EQ_INT(r.frames, 0);
	drive_feed(&poll, &rx, f, (size_t)len, chunks_big, 1, &r);
	/* the frame arrives behind at most 640 bytes of a fake header's length */
	bms_rx_clear(&rx);
	drive_feed(&poll, &rx, f, (size_t)len, chunks_odd, DRIVE_NCH(chunks_odd), &r);
	CHECK_EQ_INT(r.ok, 1);
}

int main(void)
{
	test_request();
	test_vectors();
	test_bms_settings();
	test_full_poll();
	test_current();
	test_temps();
	test_fields();
	test_limits();
	test_alarms();
	test_unknown_ids();
	test_bad_lengths();
	test_broken();
	return check_report();
}
