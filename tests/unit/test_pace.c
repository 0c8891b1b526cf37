/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pace.c - PACE v2.5 driver: the PACE25 rows of
 * tests/fixtures/vectors.tsv (0x42, 0x44, 0xC1, 0xC2 of four packs, an
 * answer for two packs, answers from another address) through scan() +
 * handle() fed in every chunking, built answers (every alarm bit, tails,
 * several packs), whole polls through finish(), the identity, and broken
 * input (bad checksum, truncated, wrong address, impossible counts, error
 * codes); the protection configuration reads 0xD1 .. 0xB6 in a poll marked
 * settings_due (PACE25-11 .. -15, nkinnan's example frames: answered,
 * refused, unanswered, broken, out of range, a pack read through its
 * master).  Protocol facts: bms/PROTOCOLS.md §8, §19. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_pace_driver;

#include "pylon_check.h"

/* tests/fixtures/vectors.tsv, family pylon (+ CR) */
#define PACE25_REQ_42 "~25014642E00201FD30\r"
#define PACE25_REQ_44 "~25014644E00201FD2E\r"
#define PACE25_REQ_C1 "~250146C10000FD9A\r"
#define PACE25_REQ_C2 "~250146C20000FD99\r"
#define PACE25_REQ_42_ALL "~25014642E002FFFD05\r"
#define PACE25_REQ_D1 "~250046D10000FD9A\r"
#define PACE25_REQ_D3 "~250046D30000FD98\r"
#define PACE25_REQ_D5 "~250046D50000FD96\r"
#define PACE25_REQ_D7 "~250046D70000FD94\r"
#define PACE25_REQ_B6 "~250046B60000FD97\r"
#define PACE25_11 "~25004600F010010E100E740D340AFA35\r"
#define PACE25_12 "~25004600F010010AF009C40B540AFA24\r"
#define PACE25_13 "~25004600F01001E100E740D2F00AFA24\r"
#define PACE25_14 "~25004600F01001AF009C40B5400AFA24\r"
#define PACE25_15 "~2500460080080D48001EFBE9\r"
#define PACE25_01 "~25014600F07A0001100CC70CC80CC70CC70CC70CC50CC60CC70CC70CC60CC70CC60CC60CC70CC60CC7060B9B0B" \
	"990B990B990BB30BBCFF1FCCCD12D303286A008C2710E1E4\r"
#define PACE25_02 "~25014600004C000110000000000000000000000000000000000600000000000000000000000E000000000000EF3A\r"
#define PACE25_03 "~25014600602850313653313030412D313831322D312E30302000F58E\r"
#define PACE25_04 "~25014600B050313831323130313338303330394420202020202020202020202020202020202020202020202020" \
	"20EE0F\r"
#define PACE25_05 "~25014600D07C0001100CE90CEA0CEA0CEA0CEA0CE80CEB0CE70CEB0CEA0CEA0CEA0CEB0CEC0CEA0CEB060BA10B" \
	"A40B9F0B9A0BDE0BE4FCF6CEA0272304282D0028271061E0E4\r"
#define PACE25_06 "~25014600602850313653313030412D31423437302D332E303120F585\r"
#define PACE25_07 "~25014600B050314234373033303232353031353739442020202020202020202020202020202020202020202020" \
	"20EE01\r"
#define PACE25_08 "~25014600D0F40002100CDB0CDB0CDB0CDB0CDB0CDC0CDB0CDB0CDB0CDC0CDC0CDC0CDB0CDB0CDB0CDB060B7A0B" \
	"7D0B790B7B0B8C0B850000CDB4114E0227DE000127102B100CE30CE20CE30CE30CE30CE30CE30CE30CE30CE30CE30CE30CE" \
	"30CE30CE30CE1060B700B6E0B6C0B6D0B770B750000CE2D14E30228B50000271033C66B\r"
#define PACE25_09 "~25004600602850313653313030412D31313537302D322E303000F58B\r"
#define PACE25_10 "~25004600B050303320202020202020202020202020202020202039393032303136313631303033" \
	"2D323330363136EDE4\r"

static const char *const all_frames[] = { PACE25_01, PACE25_02, PACE25_03, PACE25_04, PACE25_05,
					  PACE25_06, PACE25_07, PACE25_08, PACE25_09, PACE25_10 };

static const uint16_t cells_01[16] = { 3271, 3272, 3271, 3271, 3271, 3269, 3270, 3271,
				       3271, 3270, 3271, 3270, 3270, 3271, 3270, 3271 };

static void check_01(const struct bms_snapshot *s, bool inv)
{
	drive_check_cells(s, cells_01, 16);
	CHECK_EQ_INT(s->ntemps, 5);
	static const float t[5] = { 24.1f, 23.9f, 23.9f, 23.9f, 27.4f };
	for (int k = 0; k < 5; k++)
		CHECK_NEAR(s->temp_c[k], t[k], 1e-4);
	CHECK_NEAR(s->mos_temp_c, 26.5, 1e-4);
	CHECK_NEAR(s->current, inv ? 2.25 : -2.25, 1e-4);
	CHECK_NEAR(s->voltage, 52.429, 1e-4);
	CHECK_NEAR(s->remain_ah, 48.19, 1e-4);
	CHECK_NEAR(s->full_ah, 103.46, 1e-4);
	CHECK_EQ_INT(s->cycles, 140);
	CHECK_NEAR(s->soc, 4819.0 * 100.0 / 10346.0, 1e-3);
	CHECK(!(s->present & BMS_HAS_SOH));
}

/* One 0x42 record: n cells (3300 + k), m sensors (0.1 K), a tail of t. */
static void rec42(struct pt_info *i, int n, int m, int cur, unsigned remain, int t)
{
	pt8(i, (unsigned)n);
	for (int k = 0; k < n; k++)
		pt16(i, 3300u + (unsigned)k);
	pt8(i, (unsigned)m);
	for (int k = 0; k < m; k++)
		pt16(i, 2730u + 200u + 10u * (unsigned)k);
	pt16(i, (unsigned)cur & 0xFFFF);
	pt16(i, 3300u * (unsigned)n / 10u * 10u);
	pt16(i, remain);
	pt8(i, 3);
	pt16(i, 10000);
	pt16(i, 77);
	pt16(i, 10000);
	for (int k = 0; k < t; k++)
		pt8(i, 0x5A);
}

/* A 0x42 answer from adr with count records (count 0: one record, the
 * pack number echoed as b). */
static void mk42(char *out, unsigned adr, unsigned b, int count, int tail)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x00);
	pt8(&i, b);
	for (int k = 0; k < (count ? count : 1); k++)
		rec42(&i, 16, 6, -300 - 100 * k, 5000u + 1000u * (unsigned)k, tail);
	pt_frame(out, 0x25, adr, 0x00, i.b, i.n);
}

/* One 0x44 record: byte[0..13] after the state bytes. */
static void rec44(struct pt_info *i, int n, int m, const uint8_t *cellst, const uint8_t *tst, const uint8_t *b,
		  int t)
{
	pt8(i, (unsigned)n);
	for (int k = 0; k < n; k++)
		pt8(i, cellst ? cellst[k] : 0);
	pt8(i, (unsigned)m);
	for (int k = 0; k < m; k++)
		pt8(i, tst ? tst[k] : 0);
	for (int k = 0; k < 12; k++)
		pt8(i, b[k]);
	for (int k = 0; k < t; k++)
		pt8(i, 0);
}

static void mk44(char *out, unsigned adr, unsigned b0, const uint8_t *b, int count, int tail)
{
	struct pt_info i = { 0 };
	pt8(&i, 0x00);
	pt8(&i, b0);
	for (int k = 0; k < (count ? count : 1); k++)
		rec44(&i, 16, 6, NULL, NULL, b, tail);
	pt_frame(out, 0x25, adr, 0x00, i.b, i.n);
}

static struct drive_res feed_way(struct bms_poll *poll, struct bms_rx *rx, const char *f, int way)
{
	switch (way) {
	case 0: return FEED_TEXT(poll, rx, f, chunks_one);
	case 1: return FEED_TEXT(poll, rx, f, chunks_odd);
	case 2: return FEED_TEXT(poll, rx, f, chunks_big);
	default: return feed_random(poll, rx, f, 77u * (unsigned)way, 29);
	}
}

static bool answer_ok(struct bms_poll *poll, const char *f)
{
	return drv->handle(poll, (const uint8_t *)f, strlen(f)) == BMS_OK;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "pace");
	CHECK_EQ_INT(drv->protocol_id, 13);
	CHECK_EQ_INT(drv->default_baud, 9600);
	CHECK_EQ_INT(drv->min_address, 0);
	CHECK_EQ_INT(drv->max_address, 15);
	CHECK(drv->any_address);
	CHECK_EQ_INT(drv->group, BMS_MAX_GROUP);
	CHECK(!drv->control && !drv->ble);
	CHECK(bms_find("pace") == drv);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char buf[64], f[PT_MAX];

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PACE25_REQ_42);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_01, strlen(PACE25_01)), BMS_OK);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PACE25_REQ_44);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_02, strlen(PACE25_02)), BMS_OK);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PACE25_REQ_C1);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_03, strlen(PACE25_03)), BMS_OK);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PACE25_REQ_C2);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_04, strlen(PACE25_04)), BMS_OK);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	/* the identity is known: the next poll asks 0x42 and 0x44 only */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.refresh = false;
	CHECK(answer_ok(&poll, PACE25_01) && answer_ok(&poll, PACE25_02));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	/* ... unless the link was reopened */
	drive_begin_link(&poll, &rx, 1, 0, false, BMS_LINK_WIRE, true);
	CHECK(answer_ok(&poll, PACE25_01) && answer_ok(&poll, PACE25_02));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PACE25_REQ_C1);

	/* address 0 asks for all packs; a position too, at its master's address */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "~25004642E002FFFD06\r");
	drive_begin(&poll, &rx, 1, 0, false);
	poll.position = 2;
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), PACE25_REQ_42_ALL);
	drive_begin(&poll, &rx, 16, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), BMS_E_RANGE);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, 19), BMS_E_NOSPACE);

	/* echoes are no answers */
	static const char *const reqs[] = { PACE25_REQ_42, PACE25_REQ_44, PACE25_REQ_C1, PACE25_REQ_C2,
					    PACE25_REQ_42_ALL };
	size_t n;
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)reqs[k], strlen(reqs[k]), &n), BMS_SCAN_SKIP);
		CHECK_EQ_INT(n, strlen(reqs[k]));
	}
	drive_begin(&poll, &rx, 1, 0, false);
	snprintf(f, sizeof(f), "%s%s", PACE25_REQ_42, PACE25_01);
	struct drive_res r = FEED_TEXT(&poll, &rx, f, chunks_one);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.skipped, strlen(PACE25_REQ_42));
}

static void test_analog(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;

	for (int way = 0; way < 7; way++) {
		bool inv = way == 5;
		drive_begin(&poll, &rx, 1, 0, inv);
		r = feed_way(&poll, &rx, PACE25_01, way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.err + r.skipped + r.bad_scan, 0);
		check_01(&poll.snap, inv);
		CHECK_EQ_INT(cur_cmd(&poll), 0x44);
	}
	/* PACE25-05: one byte after the design capacity (SOC 97 %) */
	static const uint16_t c05[16] = { 3305, 3306, 3306, 3306, 3306, 3304, 3307, 3303,
					  3307, 3306, 3306, 3306, 3307, 3308, 3306, 3307 };
	for (int way = 0; way < 5; way++) {
		drive_begin(&poll, &rx, 1, 0, false);
		r = feed_way(&poll, &rx, PACE25_05, way);
		CHECK_EQ_INT(r.ok, 1);
		const struct bms_snapshot *s = &poll.snap;
		drive_check_cells(s, c05, 16);
		CHECK_NEAR(s->current, -7.78, 1e-4);
		CHECK_NEAR(s->voltage, 52.896, 1e-4);
		CHECK_NEAR(s->remain_ah, 100.19, 1e-4);
		CHECK_NEAR(s->full_ah, 102.85, 1e-4);
		CHECK_EQ_INT(s->cycles, 40);
		CHECK_NEAR(s->mos_temp_c, 30.8, 1e-4);
		CHECK_NEAR(s->temp_c[4], 31.4, 1e-4);
		CHECK_NEAR(s->soc, 97.4, 0.05);
	}
	/* cells forced, garbage around */
	drive_begin(&poll, &rx, 1, 12, false);
	r = FEED_TEXT(&poll, &rx, "\r~~25~2501\r" PACE25_01 "~2501", chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 12);
	/* the answer of ADR 1 is not ADR 2's, unless address_any */
	drive_begin(&poll, &rx, 2, 0, false);
	r = FEED_TEXT(&poll, &rx, PACE25_01, chunks_odd);
	CHECK_EQ_INT(r.unexpected, 1);
	CHECK_EQ_INT(poll.snap.present, 0);
	drive_begin(&poll, &rx, 2, 0, false);
	poll.address_any = true;
	r = FEED_TEXT(&poll, &rx, PACE25_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1); /* one record: a count of 1 and pack number 1 look alike */
	drive_begin(&poll, &rx, 0, 0, false);
	poll.address_any = true;
	r = FEED_TEXT(&poll, &rx, PACE25_01, chunks_odd);
	CHECK_EQ_INT(r.ok, 1); /* asked for all at ADR 0, pack 1 answered from ADR 1 */
	check_01(&poll.snap, false);
}

static void test_all_packs(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	struct bms_snapshot group[BMS_MAX_GROUP];

	/* PACE25-08: two packs through the master, each with a tail of one */
	for (int pos = 1; pos <= 2; pos++) {
		for (int way = 0; way < 4; way++) {
			drive_begin(&poll, &rx, 1, 0, false);
			poll.position = (uint8_t)pos;
			memset(group, 0xA5, sizeof(group));
			poll.group = group;
			poll.group_cap = BMS_MAX_GROUP;
			r = feed_way(&poll, &rx, PACE25_08, way);
			CHECK_EQ_INT(r.ok, 1);
			const struct bms_snapshot *me = &poll.snap, *other = &group[2 - pos];
			CHECK_EQ_INT(poll.group_have, 1u << (2 - pos));
			const struct bms_snapshot *p1 = pos == 1 ? me : other, *p2 = pos == 1 ? other : me;
			CHECK_NEAR(p1->voltage, 52.660, 1e-4);
			CHECK_NEAR(p1->remain_ah, 44.30, 1e-4);
			CHECK_NEAR(p1->full_ah, 102.06, 1e-4);
			CHECK_EQ_INT(p1->cycles, 1);
			CHECK_NEAR(p1->temp_c[0], 20.8, 1e-4);
			CHECK_NEAR(p2->voltage, 52.781, 1e-4);
			CHECK_NEAR(p2->remain_ah, 53.47, 1e-4);
			CHECK_NEAR(p2->full_ah, 104.21, 1e-4);
			CHECK_EQ_INT(p2->cycles, 0);
			CHECK_EQ_INT(p2->cell_mv[15], 3297);
			CHECK_NEAR(p2->mos_temp_c, 20.5, 1e-4);
			CHECK_NEAR(p2->current, 0.0, 1e-6);
		}
	}
	/* without a group, the other record is only stepped over */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.position = 2;
	r = FEED_TEXT(&poll, &rx, PACE25_08, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.group_have, 0);
	CHECK_NEAR(poll.snap.voltage, 52.781, 1e-4);
	/* a position beyond the answer's packs fails the try */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.position = 3;
	r = FEED_TEXT(&poll, &rx, PACE25_08, chunks_odd);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	/* a pack number answered inside an answer for several packs */
	char f[PT_MAX];
	mk42(f, 1, 3, 3, 2);
	drive_begin(&poll, &rx, 1, 0, false);
	memset(group, 0, sizeof(group));
	poll.group = group;
	poll.group_cap = BMS_MAX_GROUP;
	r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_NEAR(poll.snap.current, -3.0, 1e-4);
	CHECK_EQ_INT(poll.group_have, 0); /* no position: the others are not taken */
	/* tails of 0..16 (0x42) and 0..4 (0x44), 1..15 packs; the alarms of the group follow */
	for (int n = 1; n <= BMS_MAX_GROUP; n += 7) {
		for (int t = 0; t <= 16; t += 4) {
			mk42(f, 1, n == 1 ? 0xFF : (unsigned)n, n, t);
			drive_begin(&poll, &rx, 1, 0, false);
			poll.position = 1;
			memset(group, 0, sizeof(group));
			poll.group = group;
			poll.group_cap = BMS_MAX_GROUP;
			if (n == 1)
				continue; /* count 0xFF: impossible, below */
			r = FEED_TEXT(&poll, &rx, f, chunks_odd);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(poll.group_have, ((1u << n) - 1) & ~1u);
			CHECK_NEAR(group[n - 1].current, -3.0 - (n - 1), 1e-4);
			uint8_t b[12] = { 0 };
			b[3] = 0x40; /* short circuit */
			b[5] = 0x06;
			mk44(f, 1, (unsigned)n, b, n, t / 4);
			r = FEED_TEXT(&poll, &rx, f, chunks_odd);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(group[n - 1].alarms, BMS_AL_SHORT | BMS_AL_PROTECTION);
			CHECK(group[n - 1].chg_mos && group[n - 1].dsg_mos);
			CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
			CHECK_EQ_INT(poll.group_have, ((1u << n) - 1) & ~1u);
		}
	}
	/* a group record finish() refuses loses its bit */
	struct pt_info i = { 0 };
	pt8(&i, 0);
	pt8(&i, 2);
	rec42(&i, 16, 6, 0, 100, 0);
	rec42(&i, 0, 6, 0, 100, 0);
	pt_frame(f, 0x25, 1, 0, i.b, i.n);
	drive_begin(&poll, &rx, 1, 0, false);
	poll.position = 1;
	poll.group = group;
	poll.group_cap = BMS_MAX_GROUP;
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.group_have, 2);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.group_have, 0);
}

static void test_alarms(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	char f[PT_MAX];
	const uint32_t P = BMS_AL_PROTECTION;

	/* PACE25-02: quiet, both MOSFETs on, discharging (b3, the pack of PACE25-01 at -2.25 A) */
	for (int way = 0; way < 5; way++) {
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK(answer_ok(&poll, PACE25_01));
		r = feed_way(&poll, &rx, PACE25_02, way);
		CHECK_EQ_INT(r.ok, 1);
		const struct bms_snapshot *s = &poll.snap;
		CHECK_EQ_INT(s->alarms, 0);
		CHECK(s->chg_mos && s->dsg_mos);
		CHECK_EQ_INT(s->state, 2);
		CHECK_EQ_INT(s->nraw, 4);
		CHECK_EQ_INT(s->raw_alarms[2], 0x000E);
		CHECK_EQ_INT(s->balance, 0);
	}
	/* every bit of protect 1 / 2, fault, warn 1 / 2 */
	static const struct {
		int byte;
		uint32_t al[8];
	} bits[] = {
		{ 3, { BMS_AL_CELL_OV | P, BMS_AL_CELL_UV | P, BMS_AL_PACK_OV | P, BMS_AL_PACK_UV | P,
		       BMS_AL_CHG_OC | P, BMS_AL_DSG_OC | P, BMS_AL_SHORT | P, BMS_AL_OTHER } },
		{ 4, { BMS_AL_CHG_OT | P, BMS_AL_DSG_OT | P, BMS_AL_CHG_UT | P, BMS_AL_DSG_UT | P, BMS_AL_MOS_OT | P,
		       BMS_AL_OTHER | P, BMS_AL_OTHER | P, 0 } },
		{ 7, { BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT, BMS_AL_SENSOR, 0, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, 0, 0 } },
		{ 10, { BMS_AL_CELL_OV, BMS_AL_CELL_UV, BMS_AL_PACK_OV, BMS_AL_PACK_UV, BMS_AL_CHG_OC, BMS_AL_DSG_OC,
			0, 0 } },
		{ 11, { BMS_AL_CHG_OT, BMS_AL_DSG_OT, BMS_AL_CHG_UT, BMS_AL_DSG_UT, BMS_AL_OTHER, BMS_AL_OTHER,
			BMS_AL_MOS_OT, BMS_AL_SOC_LOW } },
	};
	for (size_t k = 0; k < sizeof(bits) / sizeof(bits[0]); k++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t b[12] = { 0 };
			b[bits[k].byte] = (uint8_t)(1u << bit);
			mk44(f, 3, 3, b, 0, 0);
			drive_begin(&poll, &rx, 3, 0, false);
			poll.step = 1;
			r = FEED_TEXT(&poll, &rx, f, chunks_odd);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(poll.snap.alarms, bits[k].al[bit]);
		}
	}
	/* state bytes, balancing, MOSFETs, charging */
	static const struct {
		int byte;
		uint8_t v;
		uint32_t al;
	} st[] = {
		{ 0, 0x02, BMS_AL_CHG_OC }, { 0, 0x01, BMS_AL_OTHER }, { 1, 0x01, BMS_AL_PACK_UV },
		{ 1, 0x02, BMS_AL_PACK_OV }, { 2, 0x02, BMS_AL_DSG_OC }, { 2, 0xF0, BMS_AL_OTHER },
	};
	for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++) {
		uint8_t b[12] = { 0 };
		b[st[k].byte] = st[k].v;
		mk44(f, 3, 3, b, 0, 1);
		drive_begin(&poll, &rx, 3, 0, false);
		poll.step = 1;
		CHECK(answer_ok(&poll, f));
		CHECK_EQ_INT(poll.snap.alarms, st[k].al);
	}
	uint8_t b[12] = { 0 };
	b[5] = 0x22; /* charging, charge MOSFET only */
	b[6] = 0x04;
	b[8] = 0x81;
	b[9] = 0x40;
	mk44(f, 3, 3, b, 0, 0);
	drive_begin(&poll, &rx, 3, 0, false);
	poll.step = 1;
	CHECK(answer_ok(&poll, f));
	CHECK(poll.snap.chg_mos && !poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.state, 1);
	CHECK_EQ_INT(poll.snap.balance, 0x4081);
	CHECK_EQ_INT(poll.snap.raw_alarms[3], 0x0400);
	/* cell and sensor states: the fifth of six is the MOSFET */
	struct pt_info i = { 0 };
	uint8_t cs[16] = { 0 }, ts[6] = { 0 };
	cs[7] = 0x02;
	ts[4] = 0x02;
	ts[1] = 0x01;
	ts[5] = 0xF0;
	memset(b, 0, sizeof(b));
	pt8(&i, 0);
	pt8(&i, 3);
	rec44(&i, 16, 6, cs, ts, b, 0);
	pt_frame(f, 0x25, 3, 0, i.b, i.n);
	drive_begin(&poll, &rx, 3, 0, false);
	poll.step = 1;
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_CELL_OV | BMS_AL_MOS_OT | BMS_AL_CHG_UT | BMS_AL_DSG_UT | BMS_AL_SENSOR);
	/* a late 0x42 while 0x44 is outstanding: not an alarm answer */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 1;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_01, strlen(PACE25_01)), BMS_E_UNEXPECTED);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	/* ... nor a 0x44 one while 0x42 is */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_02, strlen(PACE25_02)), BMS_E_RANGE);
	CHECK_EQ_INT(poll.snap.present, 0);
}

static void test_identity(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	static const struct {
		const char *c1, *c2, *model, *serial, *pack;
		bool any;
	} v[] = {
		{ PACE25_03, PACE25_04, "P16S100A-1812-1.00", "1812101380309D", "", false },
		{ PACE25_06, PACE25_07, "P16S100A-1B470-3.01", "1B4703022501579D", "", false },
		{ PACE25_09, PACE25_10, "P16S100A-11570-2.00", "03", "9902016161003-230616", true },
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		for (int way = 0; way < 4; way++) {
			memset(&poll, 0, sizeof(poll));
			drive_begin(&poll, &rx, 1, 0, false);
			poll.address_any = v[k].any;
			poll.step = 2;
			CHECK_EQ_INT(cur_cmd(&poll), 0xC1);
			struct drive_res r = feed_way(&poll, &rx, v[k].c1, way);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_UNKNOWN);
			r = feed_way(&poll, &rx, v[k].c2, way);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
			CHECK_STR(poll.kept.ident.model, v[k].model);
			CHECK_STR(poll.kept.ident.serial, v[k].serial);
			CHECK_STR(poll.kept.ident.pack_serial, v[k].pack);
			CHECK_STR(poll.kept.ident.vendor, "");
			CHECK_EQ_INT(cur_cmd(&poll), 0);
		}
	}
	/* PACE25-09 comes from ADR 0: not ADR 1's answer without address_any */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_09, strlen(PACE25_09)), BMS_E_UNEXPECTED);
	/* refused: counted, the poll goes on, not asked again */
	char f[PT_MAX];
	pt_frame(f, 0x25, 1, 0x04, NULL, 0);
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	/* not answered: the same, without a refusal */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_EQ_INT(poll.refusals, 0);
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	/* other steps are not completed by a timeout */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(!drv->timeout(&poll));
	poll.step = 1;
	CHECK(!drv->timeout(&poll));
	/* a pack read through its master has no identity of its own */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.position = 2;
	poll.step = 2;
	CHECK_EQ_INT(cur_cmd(&poll), 0);
	poll.position = 1;
	CHECK_EQ_INT(cur_cmd(&poll), 0xC1);
}

static void test_full_poll(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };

	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	const struct drive_answer a[] = {
		DRIVE_ANSWER(PACE25_01, strlen(PACE25_01), chunks_odd),
		DRIVE_ANSWER(PACE25_02, strlen(PACE25_02), chunks_one),
		DRIVE_ANSWER(PACE25_03, strlen(PACE25_03), chunks_big),
		DRIVE_ANSWER(PACE25_04, strlen(PACE25_04), chunks_odd),
	};
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 4, &r), BMS_OK);
	check_01(&poll.snap, false);
	CHECK_EQ_INT(poll.snap.present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
		     BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |
		     BMS_HAS_BALANCE | BMS_HAS_ALARMS);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
	/* the next poll: two requests */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 2, &r), BMS_OK);
	/* nothing, no cells */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	char g[2 * PT_MAX], f[PT_MAX];
	size_t n, len = strlen(PACE25_01);

	/* every frame is complete only at its CR */
	for (size_t k = 0; k < sizeof(all_frames) / sizeof(all_frames[0]); k++) {
		size_t fl = strlen(all_frames[k]);
		for (size_t c = 0; c < fl; c++)
			CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)all_frames[k], c, &n), BMS_SCAN_NEED);
		CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)all_frames[k], fl, &n), BMS_SCAN_FRAME);
		CHECK_EQ_INT(n, fl);
	}
	/* truncated, then whole */
	for (size_t cut = 1; cut < len; cut += 7) {
		drive_begin(&poll, &rx, 1, 0, false);
		memcpy(g, PACE25_01, cut);
		strcpy(g + cut, PACE25_01);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, cut);
		check_01(&poll.snap, false);
	}
	/* a bad checksum: counted, dropped; the next frame is used */
	strcpy(g, PACE25_01);
	g[len - 2] = g[len - 2] == '4' ? '5' : '4';
	strcat(g, PACE25_01);
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 1);
	/* a changed digit with its checksum fixed: a wrong count */
	uint8_t info[200];
	size_t ni = pt_info_of(PACE25_01, info, sizeof(info));
	CHECK_EQ_INT(ni, 61);
	static const struct {
		size_t at;
		uint8_t v;
		int rc;
	} bad[] = {
		{ 1, 0x00, BMS_E_RANGE },   /* count 0 */
		{ 1, 0x10, BMS_E_RANGE },   /* 16 packs */
		{ 2, 0x21, BMS_E_RANGE },   /* 33 cells */
		{ 2, 0x0F, BMS_E_RANGE },   /* 15 cells: the counts do not walk */
		{ 35, 0x07, BMS_E_RANGE },  /* 7 sensors */
		{ 35, 0x40, BMS_E_RANGE },  /* 64 sensors */
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		uint8_t x[200];
		memcpy(x, info, ni);
		x[bad[k].at] = bad[k].v;
		pt_frame(f, 0x25, 1, 0, x, ni);
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), bad[k].rc);
		CHECK_EQ_INT(poll.snap.present, 0);
		CHECK_EQ_INT(poll.step, 0);
	}
	/* every truncation of the INFO */
	for (size_t cut = 1; cut + 2 < ni; cut++) {
		pt_frame(f, 0x25, 1, 0, info, ni - cut);
		drive_begin(&poll, &rx, 1, 0, false);
		int rc = drv->handle(&poll, (const uint8_t *)f, strlen(f));
		CHECK(rc == BMS_E_RANGE || rc == BMS_E_SHORT);
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	pt_frame(f, 0x25, 1, 0, info, 1);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_SHORT);
	/* an error code fails the try; another device type is no answer */
	pt_frame(f, 0x25, 1, 0x02, NULL, 0);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_REFUSED);
	pt_frame_ex(f, '~', 0x25, 1, 0x4A, 0x00, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED);
	/* a '>' frame is not PACE */
	pt_frame_ex(f, '>', 0x25, 1, 0x46, 0x00, info, ni);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)f, strlen(f), &n), BMS_SCAN_SKIP);
	/* the poll is complete: no more answers */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.kept.ident_state = BMS_IDENT_NONE;
	CHECK(answer_ok(&poll, PACE25_01) && answer_ok(&poll, PACE25_02));
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)PACE25_02, strlen(PACE25_02)), BMS_E_UNEXPECTED);
}

/* ---- the settings: 0xD1 .. 0xB6 when due (§19.7) ------------------------- */

static void check_set(const struct bms_settings *st)
{
	static const struct {
		enum bms_set_key k;
		float v;
	} want[] = {
		{ BMS_SET_CELL_OVP_V, 3.700f },        { BMS_SET_CELL_OVP_RELEASE_V, 3.380f },
		{ BMS_SET_CELL_OVP_DELAY_S, 1.0f },    { BMS_SET_CELL_UVP_V, 2.500f },
		{ BMS_SET_CELL_UVP_RELEASE_V, 2.900f }, { BMS_SET_CELL_UVP_DELAY_S, 1.0f },
		{ BMS_SET_PACK_OVP_V, 59.20f },        { BMS_SET_PACK_UVP_V, 40.00f },
		{ BMS_SET_BALANCE_START_V, 3.400f },   { BMS_SET_BALANCE_DELTA_V, 0.030f },
	};
	CHECK(st->have == drv->settings);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_NEAR(st->v[want[i].k], want[i].v, 1e-4);
}

/* The settings steps of a poll of ADR 0 marked due, from after 0x44. */
static void begin_set(struct bms_poll *poll, struct bms_rx *rx)
{
	memset(poll, 0, sizeof(*poll));
	drive_begin(poll, rx, 0, 0, false);
	poll->settings_due = true;
	poll->step = 2;
}

static void test_settings(void)
{
	static const char *const req[5] = { PACE25_REQ_D1, PACE25_REQ_D3, PACE25_REQ_D5, PACE25_REQ_D7, PACE25_REQ_B6 };
	static const char *const ans[5] = { PACE25_11, PACE25_12, PACE25_13, PACE25_14, PACE25_15 };
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	char buf[64];

	for (int way = 0; way < 4; way++) {
		begin_set(&poll, &rx);
		for (int i = 0; i < 5; i++) {
			CHECK_STR(request_str(&poll, buf, sizeof(buf)), req[i]);
			CHECK_EQ_INT(feed_way(&poll, &rx, ans[i], way).ok, 1);
		}
		CHECK_EQ_INT(cur_cmd(&poll), 0xC1); /* then the identity */
		check_set(&poll.kept.settings);
	}
	/* not due: from 0x44 on to the identity */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 0, 0, false);
	poll.step = 2;
	CHECK_EQ_INT(cur_cmd(&poll), 0xC1);
	/* a pack read through its master: none */
	begin_set(&poll, &rx);
	poll.position = 2;
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	/* the first unanswered one ends them all, not the poll; refused too */
	begin_set(&poll, &rx);
	CHECK(answer_ok(&poll, PACE25_11));
	CHECK_EQ_INT(cur_cmd(&poll), 0xD3);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0xC1);
	begin_set(&poll, &rx);
	char f[PT_MAX];
	pt_frame_ex(f, '~', 0x25, 0, 0x46, 0x04, NULL, 0);
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(cur_cmd(&poll), 0xC1);
	CHECK_EQ_INT(poll.kept.settings.have, 0);
}

/* Short, long, another first byte: refused (timeout() ends them); out of
 * range: absent. */
static void test_settings_broken(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	uint8_t info[16];
	char f[PT_MAX];
	size_t ni = pt_info_of(PACE25_11, info, sizeof(info));
	CHECK_EQ_INT(ni, 8);

	static const struct {
		size_t n;
		uint8_t first;
		int rc;
	} cases[] = { { 7, 1, BMS_E_SHORT }, { 13, 1, BMS_E_RANGE }, { 8, 2, BMS_E_RANGE } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[16] = { 0 };
		memcpy(b, info, 8);
		b[0] = cases[i].first;
		pt_frame_ex(f, '~', 0x25, 0, 0x46, 0x00, b, cases[i].n);
		begin_set(&poll, &rx);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), cases[i].rc);
		CHECK(poll.kept.settings.have == 0 && drv->timeout(&poll) && cur_cmd(&poll) == 0xC1);
	}
	/* a protection of 0 mV and a release of 6 V: absent, the delay read */
	uint8_t b[16];
	memcpy(b, info, 8);
	b[3] = b[4] = 0;
	b[5] = 0x17;
	b[6] = 0x70;
	pt_frame_ex(f, '~', 0x25, 0, 0x46, 0x00, b, 8);
	begin_set(&poll, &rx);
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.kept.settings.have, BMS_SET_BIT(BMS_SET_CELL_OVP_DELAY_S));
	/* balancing short; a bad checksum: not taken */
	pt_info_of(PACE25_15, b, sizeof(b));
	pt_frame_ex(f, '~', 0x25, 0, 0x46, 0x00, b, 3);
	begin_set(&poll, &rx);
	poll.step = 6;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_SHORT);
	strcpy(f, PACE25_11);
	f[15] = f[15] == '0' ? '1' : '0';
	begin_set(&poll, &rx);
	struct drive_res r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK(r.ok == 0 && poll.kept.settings.have == 0);
}

int main(void)
{
	test_table();
	test_requests();
	test_analog();
	test_all_packs();
	test_alarms();
	test_identity();
	test_full_poll();
	test_broken();
	test_settings();
	test_settings_broken();
	return check_report();
}
