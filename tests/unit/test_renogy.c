/* SPDX-License-Identifier: MIT */
/* tests/unit/test_renogy.c - Renogy smart LiFePO4 (Modbus RTU V1.7) driver:
 * the RENOGY rows of tests/fixtures/vectors.tsv (cells and temperatures, the
 * identity and the model read of an RBT100LFP12-BT at slave 0x30) through
 * scan() + handle() fed in every chunking, built answers for the blocks no
 * capture shows (current, voltage, capacities; the alarm and status words,
 * every bit and field), whole polls through finish(), the optional status
 * block and the identity refused, and broken input (bad CRC, truncated,
 * another address, impossible byte and cell counts); the settings read
 * 5200 x 22 asked only when due, its answer built from the levels a
 * RBT100LFP12SH-G1 read out (Grmume/renogy-smart-battery's README, a
 * register dump: no frame of it is captured), ignored, refused, broken,
 * out of range and heard.  Protocol facts: bms/PROTOCOLS.md §18, §24. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../bms/bus.h"
#include "../../bms/mbmaster.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_renogy_driver;

#include "mb_check.h"
#include "renogy_check.h"

/* tests/fixtures/vectors.tsv, family modbus */
#define RENOGY_REQ_01 "300313880022455c"
#define RENOGY_01 "30034400040023002100210021000000000000000000000000000000000000000000000000000200" \
	"aa00aa000000000000000000000000000000000000000000000000000000002574"
#define RENOGY_REQ_02 "300313f0001c4495"
#define RENOGY_02 "3003380000000000060000000000c832303231303532360000000000000000202020202020202052" \
	"42543130304c465031322d4254202030313030552f"
#define RENOGY_REQ_03 "300314020008e41d"
#define RENOGY_03 "3003105242543130304c465031322d4254202058bb"

#define ADR 0x30


static const uint16_t cells_01[4] = { 3500, 3300, 3300, 3300 };

static void check_01(const struct bms_snapshot *s)
{
	drive_check_cells(s, cells_01, 4);
	CHECK_EQ_INT(s->ntemps, 2);
	CHECK_NEAR(s->temp_c[0], 17.0, 1e-6);
	CHECK_NEAR(s->temp_c[1], 17.0, 1e-6);
}

static void cells_ok(const struct bms_poll *poll)
{
	check_01(&poll->snap);
	CHECK_EQ_INT(poll->snap.present, BMS_HAS_CELLS | BMS_HAS_TEMPS);
}

static void check_02(const struct bms_ident *id)
{
	CHECK_STR(id->serial, "20210526");
	CHECK_STR(id->model, "RBT100LFP12-BT");
	CHECK_STR(id->firmware, "0100");
}

static void ident_ok(const struct bms_poll *poll)
{
	check_02(&poll->kept.ident);
	CHECK_EQ_INT(poll->kept.ident_state, BMS_IDENT_HAVE);
}

/* 5042 x 7: current (0.01 A), voltage (0.1 V), remaining and full mAh,
 * cycles (built: no capture). */
static size_t mk_pack(uint8_t *f, int16_t ca, uint16_t dv, uint32_t remain, uint32_t full, uint16_t cycles)
{
	uint16_t v[7] = { (uint16_t)ca, dv, (uint16_t)(remain >> 16), (uint16_t)remain, (uint16_t)(full >> 16),
			  (uint16_t)full, cycles };
	return mb_answer(f, ADR, 0x03, v, 7);
}

/* 5100 x 8: cell voltage / temperature alarm fields, the other alarms,
 * status 1 and 2. */
static size_t mk_status(uint8_t *f, uint32_t cellv, uint32_t cellt, uint32_t other, uint16_t s1, uint16_t s2)
{
	uint16_t v[8] = { (uint16_t)(cellv >> 16), (uint16_t)cellv, (uint16_t)(cellt >> 16), (uint16_t)cellt,
			  (uint16_t)(other >> 16), (uint16_t)other, s1, s2 };
	return mb_answer(f, ADR, 0x03, v, 8);
}


static void test_table(void)
{
	/* alone or first on a hub: 0x30 */
	mb_check_table("renogy", 18, 9600, 1, 247, 0x30);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16];
	static const uint16_t documented[][3] = {
		{ 0x03, 5000, 34 }, { 0x03, 5042, 7 }, { 0x03, 5100, 8 }, { 0x03, 5104, 28 },
	};

	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK(mb_req_is(&poll, RENOGY_REQ_01));
	CHECK(mb_goto(&poll, 0x03, 5104));
	CHECK(mb_req_is(&poll, RENOGY_REQ_02));
	/* the batteries of a hub, 0x30..0x37, and 0xF7 */
	static const uint8_t addrs[] = { 0x30, 0x33, 0x37, 0xF7, 1 };
	for (size_t k = 0; k < sizeof(addrs); k++) {
		drive_begin(&poll, &rx, addrs[k], 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
		CHECK_EQ_INT(req[0], addrs[k]);
		mb_reads_only(&poll, documented, 4);
	}
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
}

static void test_captures(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];

	drive_begin(&poll, &rx, ADR, 0, false);
	mb_every_chunking(&poll, f, mb_hex(RENOGY_01, f), cells_ok);
	CHECK_EQ_INT(mb_cur(&poll), 5042);
	CHECK(mb_goto(&poll, 0x03, 5104));
	mb_every_chunking(&poll, f, mb_hex(RENOGY_02, f), ident_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* the model read of the BT module (5122 x 8) is not the identity
	 * block's answer */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK(mb_goto(&poll, 0x03, 5104));
	size_t n = mb_hex(RENOGY_03, f);
	CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(mb_not_taken(&poll, f, n), 0);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_UNKNOWN);
	/* ... nor is the exchange of another master (the module's model read,
	 * RENOGY-REQ-03 and its answer) before ours */
	uint8_t g[3 * MB_MAX_FRAME];
	size_t gn = mb_hex(RENOGY_REQ_03, g);
	gn += mb_hex(RENOGY_03, g + gn);
	size_t skip = gn;
	gn += mb_hex(RENOGY_02, g + gn);
	for (int way = 0; way < MB_WAYS; way++) {
		struct bms_poll p = poll;
		bms_rx_clear(&rx);
		struct drive_res r = mb_feed_way(&p, &rx, g, gn, way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.unexpected, 1);
		CHECK_EQ_INT(r.badsum, 0);
		CHECK_EQ_INT(r.skipped, 8);
		CHECK_EQ_INT(skip, 8 + 21);
		ident_ok(&p);
	}
}

static void test_built(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	const struct bms_snapshot *s = &poll.snap;

	/* 5042: -12.34 A, 13.3 V, 54.321 of 100 Ah, 42 cycles */
	for (int inv = 0; inv < 2; inv++) {
		drive_begin(&poll, &rx, ADR, 0, inv);
		poll.step = 1;
		size_t n = mk_pack(f, -1234, 133, 54321, 100000, 42);
		mb_every_chunking(&poll, f, n, NULL);
		CHECK_NEAR(s->current, inv ? 12.34 : -12.34, 1e-4);
		CHECK_NEAR(s->voltage, 13.3, 1e-4);
		CHECK_NEAR(s->remain_ah, 54.321, 1e-4);
		CHECK_NEAR(s->full_ah, 100.0, 1e-4);
		CHECK_NEAR(s->soc, 54.321, 1e-4);
		CHECK_EQ_INT(s->cycles, 42);
		drive_begin(&poll, &rx, ADR, 0, false);
		poll.step = 1;
		mb_broken(&poll, f, n);
	}
	/* more remaining than full: 100 %; no full capacity: no SOC */
	drive_begin(&poll, &rx, ADR, 0, false);
	poll.step = 1;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_pack(f, 0, 133, 120000, 100000, 0)), BMS_OK);
	CHECK_NEAR(s->soc, 100.0, 1e-6);
	drive_begin(&poll, &rx, ADR, 0, false);
	poll.step = 1;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_pack(f, 0, 133, 1000, 0, 0)), BMS_OK);
	CHECK(!(s->present & BMS_HAS_SOC));

	/* the status words: every bit of status 1 and 2 */
	static const struct {
		int word, bit;
		uint32_t al;
	} map[] = {
		{ 0, 0, BMS_AL_SHORT | BMS_AL_PROTECTION }, { 0, 4, BMS_AL_CHG_OC | BMS_AL_PROTECTION },
		{ 0, 6, BMS_AL_PACK_OV | BMS_AL_PROTECTION }, { 0, 7, BMS_AL_CELL_UV | BMS_AL_PROTECTION },
		{ 0, 8, BMS_AL_CELL_OV | BMS_AL_PROTECTION }, { 0, 11, BMS_AL_DSG_UT | BMS_AL_PROTECTION },
		{ 0, 14, BMS_AL_CHG_OT | BMS_AL_PROTECTION }, { 0, 15, BMS_AL_PACK_UV | BMS_AL_PROTECTION },
		{ 1, 0, BMS_AL_CELL_UV }, { 1, 3, BMS_AL_PACK_OV }, { 1, 4, BMS_AL_CHG_UT }, { 1, 7, BMS_AL_DSG_OT },
		{ 0, 1, 0 }, { 0, 2, 0 }, { 1, 14, 0 }, { 1, 15, 0 },
	};
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		uint16_t w = (uint16_t)(1u << map[k].bit);
		drive_begin(&poll, &rx, ADR, 0, false);
		CHECK(mb_goto(&poll, 0x03, 5100));
		size_t n = mk_status(f, 0, 0, 0, map[k].word ? 0 : w, map[k].word ? w : 0);
		CHECK_EQ_INT(drv->handle(&poll, f, n), BMS_OK);
		CHECK_EQ_INT(s->alarms, map[k].al);
		CHECK_EQ_INT(s->raw_alarms[map[k].word], w);
	}
	/* MOSFETs (status 1 b1 charge, b2 discharge), charging / discharging
	 * (status 2 b15 / b14) */
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK(mb_goto(&poll, 0x03, 5100));
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 0, 0, 0x0002, 0x4000)), BMS_OK);
	CHECK(s->chg_mos && !s->dsg_mos);
	CHECK_EQ_INT(s->state, 2);
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK(mb_goto(&poll, 0x03, 5100));
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 0, 0, 0x0004, 0x8000)), BMS_OK);
	CHECK(!s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->state, 1);

	/* the two-bit fields: cell 2 below its limit, cell 4 above; sensor 1
	 * above; the other alarms' discharge / charge current above (fields 9,
	 * 10) and the BMS temperature above (field 15).  The fields of cells
	 * and sensors the pack does not have are not read. */
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_hex(RENOGY_01, f)), BMS_OK);
	CHECK(mb_goto(&poll, 0x03, 5100));
	uint32_t cellv = 1u << 2 | 2u << 6 | 2u << 20, cellt = 2u << 0 | 1u << 8;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, cellv, cellt, 0, 0, 0)), BMS_OK);
	CHECK_EQ_INT(s->alarms, BMS_AL_CELL_UV | BMS_AL_CELL_OV | BMS_AL_CHG_OT | BMS_AL_DSG_OT);
	static const struct {
		int field;
		uint32_t above;
	} other[] = { { 9, BMS_AL_DSG_OC }, { 10, BMS_AL_CHG_OC }, { 15, BMS_AL_MOS_OT }, { 12, BMS_AL_OTHER } };
	for (size_t k = 0; k < sizeof(other) / sizeof(other[0]); k++) {
		drive_begin(&poll, &rx, ADR, 0, false);
		CHECK(mb_goto(&poll, 0x03, 5100));
		uint32_t o = 2u << (2 * other[k].field);
		CHECK_EQ_INT(drv->handle(&poll, f, mk_status(f, 0, 0, o, 0, 0)), BMS_OK);
		CHECK_EQ_INT(s->alarms, other[k].above);
		CHECK_EQ_INT(s->raw_alarms[2], o >> 16);
		CHECK_EQ_INT(s->raw_alarms[3], o & 0xFFFF);
	}
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK(mb_goto(&poll, 0x03, 5100));
	mb_broken(&poll, f, mk_status(f, 0, 0, 0, 0, 0));
}

/* cells 5000 x 34 with n cells of 3.3 V and nt sensors */
static size_t mk_cells(uint8_t *f, unsigned n, unsigned nt)
{
	return renogy_cells_answer(f, ADR, n, nt);
}

static void test_counts(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];

	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_cells(f, 16, 16)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 16);
	CHECK_EQ_INT(poll.snap.ntemps, BMS_MAX_TEMPS); /* the rest are not kept */
	CHECK_NEAR(poll.snap.temp_c[0], -5.5, 1e-5);
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_cells(f, 17, 2)), BMS_E_RANGE);
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_cells(f, 4, 17)), BMS_E_RANGE);
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_cells(f, 4, 0)), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_TEMPS));
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME], a3[MB_MAX_FRAME], a4[MB_MAX_FRAME];
	struct drive_answer ans[] = {
		{ a1, mb_hex(RENOGY_01, a1), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mk_pack(a2, 250, 136, 90000, 100000, 3), chunks_one, 1, 0, 8 },
		{ a3, mk_status(a3, 0, 0, 0, 0x0006, 0x8000), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
		{ a4, mb_hex(RENOGY_02, a4), chunks_big, 1, 0, 8 },
	};
	struct drive_res r = { 0 };

	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 4, &r), BMS_OK);
	check_01(&poll.snap);
	check_02(&poll.kept.ident);
	CHECK_NEAR(poll.snap.soc, 90.0, 1e-4);
	CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	/* a BMS that refuses the status block: polled without it, asked again
	 * on a refresh */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, ADR, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, a1, ans[0].len), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, a2, ans[1].len), BMS_OK);
	uint8_t e[8];
	CHECK_EQ_INT(drv->handle(&poll, e, mb_exception(e, ADR, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(mb_cur(&poll), 5104);
	CHECK_EQ_INT(drv->handle(&poll, a4, ans[3].len), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK(!(poll.snap.present & (BMS_HAS_ALARMS | BMS_HAS_MOSFETS)));
	bms_poll_begin(&poll, ADR, 0, false);
	bms_rx_clear(&rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 2, &r), BMS_OK);
	bms_poll_begin(&poll, ADR, 0, false);
	poll.refresh = true;
	poll.step = 2;
	CHECK_EQ_INT(mb_cur(&poll), 5100);
	/* a status block once answered and then silent fails the try */
	CHECK_EQ_INT(drv->handle(&poll, a3, ans[2].len), BMS_OK);
	bms_poll_begin(&poll, ADR, 0, false);
	poll.step = 2;
	CHECK(!drv->timeout(&poll));
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];

	drive_begin(&poll, &rx, ADR, 0, false);
	mb_broken(&poll, f, mb_hex(RENOGY_01, f));
	CHECK(mb_goto(&poll, 0x03, 5104));
	mb_broken(&poll, f, mb_hex(RENOGY_02, f));
	/* the answer of 0x30 to the battery at 0x31 of the hub: not its */
	drive_begin(&poll, &rx, 0x31, 0, false);
	CHECK_EQ_INT(mb_not_taken(&poll, f, mb_hex(RENOGY_01, f)), 0);
}

/* 5200 x 22: a RBT100LFP12SH-G1's levels (Grmume/renogy-smart-battery,
 * README's register dump at 0x1450 .. 0x1465), the register values as
 * read out: cell OV / high / low / UV, charge OT / high / low / UT, charge
 * over 2 / over 1 / high, module OV / high / low / UV, discharge OT / high
 * / low / UT, discharge over 2 / over 1 / high. */
static const uint16_t set_g1[22] = { 37, 35, 30, 25, 550, 500, 50, 0, 12000, 10000, 6000,
				     148, 142, 120, 100, 600, 500, 65436, 65286, 50536, 52536, 54536 };

static void check_key(const struct bms_settings *st, enum bms_set_key k, double want)
{
	CHECK(bms_settings_has(st, k));
	CHECK_NEAR(st->v[k], want, 1e-4);
}

static void settings_g1(const struct bms_poll *poll)
{
	const struct bms_settings *st = &poll->kept.settings;
	check_key(st, BMS_SET_CELL_OVP_V, 3.7);
	check_key(st, BMS_SET_CELL_UVP_V, 2.5);
	check_key(st, BMS_SET_CHARGE_OTP_C, 55.0);
	check_key(st, BMS_SET_CHARGE_UTP_C, 0.0);
	check_key(st, BMS_SET_CHARGE_OCP_A, 100.0);
	check_key(st, BMS_SET_PACK_OVP_V, 14.8);
	check_key(st, BMS_SET_PACK_UVP_V, 10.0);
	check_key(st, BMS_SET_DISCHARGE_OTP_C, 60.0);
	check_key(st, BMS_SET_DISCHARGE_UTP_C, -25.0);
	check_key(st, BMS_SET_DISCHARGE_OCP_A, 130.0);
	CHECK_EQ_INT((long long)st->have, (long long)drv->settings);
	CHECK_EQ_INT(mb_cur((struct bms_poll *)poll), -1);
}

/* the poll of RENOGY-01, a pack block and RENOGY-02 (the identity) */
static void poll_to_settings(struct bms_poll *poll, struct bms_rx *rx, bool due)
{
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME], a4[MB_MAX_FRAME];
	uint8_t e[8];
	memset(poll, 0, sizeof(*poll));
	drive_begin(poll, rx, ADR, 0, false);
	poll->settings_due = due;
	CHECK_EQ_INT(drv->handle(poll, a1, mb_hex(RENOGY_01, a1)), BMS_OK);
	CHECK_EQ_INT(drv->handle(poll, a2, mk_pack(a2, 250, 136, 90000, 100000, 3)), BMS_OK);
	CHECK_EQ_INT(drv->handle(poll, e, mb_exception(e, ADR, 0x03, 0x02)), BMS_OK); /* no status block */
	CHECK_EQ_INT(drv->handle(poll, a4, mb_hex(RENOGY_02, a4)), BMS_OK);
	poll->refusals = 0;
}

static void test_settings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME], req[16];
	uint16_t v[22];

	/* not due: the poll ends with the identity */
	poll_to_settings(&poll, &rx, false);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* due: FC03 5200 x 22 after it, 30 03 14 50 00 16 <crc> */
	poll_to_settings(&poll, &rx, true);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
	CHECK(memcmp(req, "\x30\x03\x14\x50\x00\x16", 6) == 0);
	size_t n = mb_answer(f, ADR, 0x03, set_g1, 22);
	mb_every_chunking(&poll, f, n, settings_g1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	poll_to_settings(&poll, &rx, true);
	mb_broken(&poll, f, n);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);

	/* ignored: the timeout ends the poll, good, without settings */
	poll_to_settings(&poll, &rx, true);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	/* refused (exception 02): the same, counted as a refusal */
	poll_to_settings(&poll, &rx, true);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, ADR, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT((int)poll.refusals, 1);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);

	/* out of range: cell OV 0, cell UV 5.1 V, charge OT 150.1 degC, module
	 * UV 100.1 V, no charge / discharge over-current level: those keys
	 * absent, the others read */
	memcpy(v, set_g1, sizeof(v));
	v[0] = 0;
	v[3] = 51;
	v[4] = 1501;
	v[14] = 1001;
	v[9] = 0;
	v[20] = 0;
	poll_to_settings(&poll, &rx, true);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, ADR, 0x03, v, 22)), BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CELL_UVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_OTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_PACK_UVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_OCP_A));
	CHECK(!bms_settings_has(st, BMS_SET_DISCHARGE_OCP_A));
	check_key(st, BMS_SET_PACK_OVP_V, 14.8);
	check_key(st, BMS_SET_DISCHARGE_UTP_C, -25.0);
	/* a positive discharge level is taken by its size; -327.68 A at most */
	v[20] = 0x8000;
	poll_to_settings(&poll, &rx, true);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, ADR, 0x03, v, 22)), BMS_OK);
	check_key(&poll.kept.settings, BMS_SET_DISCHARGE_OCP_A, 327.68);
	/* nothing in range: dropped, the settings read before stay, the poll
	 * goes on */
	struct bms_settings before = poll.kept.settings;
	memset(v, 0, sizeof(v));
	v[4] = v[7] = v[15] = v[18] = 0x8000; /* -3276.8 degC */
	poll_to_settings(&poll, &rx, true);
	poll.kept.settings = before;
	CHECK_EQ_INT(drv->handle(&poll, f, mb_answer(f, ADR, 0x03, v, 22)), BMS_OK);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK(memcmp(&poll.kept.settings, &before, sizeof(before)) == 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

/* Listen mode: another master's read of 5200 x 22 and its answer give the
 * settings (a key of their own, not one of the round's); the answer heard
 * without its request is not taken for them. */
static void test_settings_heard(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME], q[8];

	drive_begin(&poll, &rx, ADR, 0, false);
	size_t n = mb_answer(f, ADR, 0x03, set_g1, 22);
	CHECK_EQ_INT(bms_mb_request(q, sizeof(q), ADR, 0x03, 5200, 22), 8);
	CHECK_EQ_INT(drv->listen->hear(&poll, q, 8, f, n), BMS_LISTEN_EXTRA + 4);
	CHECK_EQ_INT((long long)poll.kept.settings.have, (long long)drv->settings);
	drive_begin(&poll, &rx, ADR, 0, false);
	memset(&poll.kept.settings, 0, sizeof(poll.kept.settings));
	CHECK_EQ_INT(drv->listen->hear(&poll, NULL, 0, f, n), BMS_E_UNEXPECTED);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
}

int main(void)
{
	test_table();
	test_requests();
	test_captures();
	test_built();
	test_counts();
	test_full_poll();
	test_broken();
	test_settings();
	test_settings_heard();
	return check_report();
}
