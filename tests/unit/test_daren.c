/* SPDX-License-Identifier: MIT */
/* tests/unit/test_daren.c - Daren / Basen DR-1363 and KS48100 driver: the
 * DAREN rows of tests/fixtures/vectors.tsv (0x42, 0x51, 0xB0 module 3 of a
 * DR48100JC-03-V2 pack, its 0x47 system parameters (the real DAREN-02) in a
 * poll marked settings_due, refused, unanswered, broken and out of range;
 * 0x4F, 0x83, 0xB0 module 4 as answers no poll step takes) through scan() + handle() fed in every chunking, the same
 * answers with the KS48100 start character '>', built answers (every
 * status bit), the search for the start character, whole polls through
 * finish(), and broken input (bad checksum, truncated, wrong address,
 * impossible counts, error codes).  Protocol facts: bms/PROTOCOLS.md §8, §21. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_daren_driver;

#include "pylon_check.h"

/* tests/fixtures/vectors.tsv, family pylon (+ CR) */
#define DAREN_REQ_42 "~22014A42E00201FD28\r"
#define DAREN_REQ_51 "~22014A510000FDA0\r"
#define DAREN_REQ_47 "~22014A47E00201FD23\r"
#define DAREN_REQ_B0_3 "~22014AB0600A010103FF00FB6C\r"
#define DAREN_01 "~22014A00E0C6001A2C14C0100D010D010CDB0D010D010D000D020CE60CF80D020D010CDF0D020D020D000CE0010E010401" \
	"0E040104010401040104000000000050011F4014F000CC00000000000000000023000000000000000000000000000000000000" \
	"0000000000D582\r"
#define DAREN_02 "~22014A006082000E4209C40073002D2EE00E4209C400102EE01F4005A00000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" \
	"FFFF444A4D3232303531383030363120202020202020E02C\r"
#define DAREN_03 "~22014A00E002C8FD14\r"
#define DAREN_04 "~22014A00604654315F472020202020204855414E593034202020313653313030412020200100020101EFB6\r"
#define DAREN_05 "~22014A00103C8301015A0007000100000000000000000000000000000000000000000000F224\r"
#define DAREN_06 "~22014A0040EEB0010103FF714A44324D30323135303836302031202020202020FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" \
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" \
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00C043\r"
#define DAREN_07 "~22014A00D030B0010104FF0014F01F40271000003B87000036D044E139C3F38A\r"

static const uint16_t cells_01[16] = { 3329, 3329, 3291, 3329, 3329, 3328, 3330, 3302,
				       3320, 3330, 3329, 3295, 3330, 3330, 3328, 3296 };

static void check_01(const struct bms_snapshot *s, bool inv)
{
	drive_check_cells(s, cells_01, 16);
	CHECK_EQ_INT(s->ntemps, 5);
	for (int k = 0; k < 4; k++)
		CHECK_NEAR(s->temp_c[k], 26.0, 1e-4);
	CHECK_NEAR(s->temp_c[4], 27.0, 1e-4); /* ambient */
	CHECK_NEAR(s->mos_temp_c, 27.0, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->voltage, 53.12, 1e-4);
	CHECK_NEAR(s->soc, 67.0, 1e-4);
	CHECK_NEAR(s->soh, 80.0, 1e-4);
	CHECK_NEAR(s->full_ah, 80.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 53.6, 1e-4);
	CHECK_EQ_INT(s->cycles, 204);
	CHECK(s->chg_mos && s->dsg_mos); /* FET status 0x0023 */
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->balance, 0);
	(void)inv;
}

/* A text frame with its start character replaced (KS48100: '>'). */
static void ks(char *out, const char *f)
{
	strcpy(out, f);
	out[0] = '>';
}

static struct drive_res feed_way(struct bms_poll *poll, struct bms_rx *rx, const char *f, int way)
{
	switch (way) {
	case 0: return FEED_TEXT(poll, rx, f, chunks_one);
	case 1: return FEED_TEXT(poll, rx, f, chunks_odd);
	case 2: return FEED_TEXT(poll, rx, f, chunks_big);
	default: return feed_random(poll, rx, f, 53u * (unsigned)way, 37);
	}
}

static bool answer_ok(struct bms_poll *poll, const char *f)
{
	return drv->handle(poll, (const uint8_t *)f, strlen(f)) == BMS_OK;
}

static void test_table(void)
{
	CHECK_STR(drv->name, "daren");
	CHECK_EQ_INT(drv->protocol_id, 15);
	CHECK_EQ_INT(drv->default_baud, 19200);
	CHECK_EQ_INT(drv->min_address, 1);
	CHECK_EQ_INT(drv->max_address, 15);
	CHECK(drv->any_address && drv->group == 0 && !drv->control);
	CHECK(bms_find("daren") == drv);
}

static void test_requests(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	char buf[64], k[PT_MAX];

	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), DAREN_REQ_42);
	CHECK(answer_ok(&poll, DAREN_01));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), DAREN_REQ_51);
	CHECK(answer_ok(&poll, DAREN_04));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), DAREN_REQ_B0_3);
	CHECK(answer_ok(&poll, DAREN_06));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
	CHECK_STR(poll.kept.ident.model, "HUANY04 16S100A T1_G");
	CHECK_STR(poll.kept.ident.firmware, "01.00.02");
	CHECK_STR(poll.kept.ident.pack_serial, "JD2M02150860 1");
	CHECK_STR(poll.kept.ident.serial, "");
	for (int a = 0; a <= 16; a += 16) {
		drive_begin(&poll, &rx, (uint8_t)a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, (uint8_t *)buf, sizeof(buf)), BMS_E_RANGE);
	}
	/* the echo is no answer, with either start character */
	size_t n;
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)DAREN_REQ_42, strlen(DAREN_REQ_42), &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, strlen(DAREN_REQ_42));
	ks(k, DAREN_REQ_42);
	CHECK_EQ_INT(drv->scan(&poll, (const uint8_t *)k, strlen(k), &n), BMS_SCAN_SKIP);
	CHECK_EQ_INT(n, strlen(k));
}

static void test_vectors(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	char k[PT_MAX];

	for (int way = 0; way < 6; way++) {
		drive_begin(&poll, &rx, 1, 0, way == 4);
		r = feed_way(&poll, &rx, DAREN_01, way);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.err + r.skipped + r.bad_scan, 0);
		check_01(&poll.snap, false);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		/* KS48100: the same answer with '>' */
		ks(k, DAREN_01);
		drive_begin(&poll, &rx, 1, 0, false);
		r = feed_way(&poll, &rx, k, way);
		CHECK_EQ_INT(r.ok, 1);
		check_01(&poll.snap, false);
	}
	/* the answers no step of a poll takes: 0x47, 0x4F, 0x83, module 4 */
	static const char *const others[] = { DAREN_02, DAREN_03, DAREN_05, DAREN_07 };
	for (size_t i = 0; i < 4; i++) {
		drive_begin(&poll, &rx, 1, 0, false);
		r = FEED_TEXT(&poll, &rx, others[i], chunks_odd);
		CHECK_EQ_INT(r.frames, 1);
		CHECK_EQ_INT(r.ok, 0);
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	/* module 4 where module 3 is asked: not its answer */
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 3; /* 0x42, 0x47 (settings), 0x51, 0xB0 */
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)DAREN_07, strlen(DAREN_07)), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)DAREN_06, strlen(DAREN_06)), BMS_OK);
}

/* A 0x42 answer of the layout of DAREN-01 with status words w[15]. */
static void mk42(char *out, const uint16_t *w, int16_t cur)
{
	uint8_t info[120];
	size_t ni = pt_info_of(DAREN_01, info, sizeof(info));
	info[53] = (uint8_t)((uint16_t)cur >> 8);
	info[54] = (uint8_t)cur;
	for (int k = 0; k < 15; k++) {
		info[66 + 2 * k] = (uint8_t)(w[k] >> 8);
		info[67 + 2 * k] = (uint8_t)w[k];
	}
	pt_frame_ex(out, '~', 0x22, 1, 0x4A, 0x00, info, ni);
}

static void test_status(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	char f[PT_MAX];
	const uint32_t P = BMS_AL_PROTECTION;
	static const struct {
		int word, bit;
		uint32_t al;
	} st[] = {
		{ 0, 0, BMS_AL_CELL_OV | P }, { 0, 1, BMS_AL_CELL_UV | P }, { 0, 2, BMS_AL_PACK_OV | P },
		{ 0, 3, BMS_AL_PACK_UV | P }, { 0, 4, BMS_AL_CELL_OV }, { 0, 5, BMS_AL_CELL_UV }, { 0, 6, BMS_AL_PACK_OV },
		{ 0, 7, BMS_AL_PACK_UV }, { 0, 8, BMS_AL_CELL_DIFF }, { 0, 13, BMS_AL_HW_FAULT }, { 0, 14, BMS_AL_CELL_DIFF | P },
		{ 0, 9, 0 },
		{ 1, 2, BMS_AL_CHG_OC | P }, { 1, 3, BMS_AL_SHORT | P }, { 1, 4, BMS_AL_DSG_OC | P },
		{ 1, 5, BMS_AL_DSG_OC | P }, { 1, 6, BMS_AL_CHG_OC }, { 1, 7, BMS_AL_DSG_OC },
		{ 2, 0, BMS_AL_CHG_OT | P }, { 2, 1, BMS_AL_CHG_UT | P }, { 2, 2, BMS_AL_DSG_OT | P },
		{ 2, 3, BMS_AL_DSG_UT | P }, { 2, 4, BMS_AL_OTHER | P }, { 2, 6, BMS_AL_MOS_OT | P },
		{ 2, 8, BMS_AL_CHG_OT }, { 2, 11, BMS_AL_DSG_UT }, { 2, 14, BMS_AL_MOS_OT },
		{ 3, 0, BMS_AL_CELL_DIFF }, { 3, 2, BMS_AL_SENSOR }, { 3, 4, BMS_AL_MOS_FAULT }, { 3, 7, BMS_AL_SOC_LOW },
		{ 5, 3, P }, { 12, 0, P },
	};
	for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++) {
		uint16_t w[15] = { 0 };
		w[4] = 0x0003;
		w[st[k].word] |= (uint16_t)(1u << st[k].bit);
		mk42(f, w, 0);
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK(answer_ok(&poll, f));
		CHECK_EQ_INT(poll.snap.alarms, st[k].al);
		CHECK_EQ_INT(poll.snap.raw_alarms[st[k].word < 4 ? st[k].word : 0], st[k].word < 4 ? w[st[k].word] : 0);
	}
	/* MOSFETs, balancing, current sign */
	uint16_t w[15] = { 0 };
	w[4] = 0x0002;
	w[9] = 0x8001;
	w[10] = 0x0003;
	mk42(f, w, -1234);
	drive_begin(&poll, &rx, 1, 0, true);
	CHECK(answer_ok(&poll, f));
	CHECK(poll.snap.chg_mos && !poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.balance, 0x00038001);
	CHECK_NEAR(poll.snap.current, 12.34, 1e-4);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT(poll.snap.balance, 0x8001); /* 16 cells */
}

static void test_start_character(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	char buf[64], k[PT_MAX];

	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '~');
	/* no answer: the next try asks with '>', then with '~' again */
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '>');
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '~');
	CHECK(!drv->timeout(&poll));
	/* a '>' answer: kept, for the identity too and for the next polls */
	ks(k, DAREN_01);
	CHECK(answer_ok(&poll, k));
	ks(k, DAREN_04);
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '>');
	CHECK(answer_ok(&poll, k));
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '>');
	/* a known one that fails is asked once more, then the search goes on */
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '>');
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '~');
	/* an error code proves the start character too */
	pt_frame_ex(k, '~', 0x22, 1, 0x4A, 0x02, NULL, 0);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)k, strlen(k)), BMS_E_REFUSED);
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(request_str(&poll, buf, sizeof(buf))[0], '~');
}

static void test_identity(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	char f[PT_MAX];

	/* 0x51 answered, module 3 refused: what 0x51 gave is the identity */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK(answer_ok(&poll, DAREN_04));
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x04, NULL, 0);
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
	CHECK_STR(poll.kept.ident.firmware, "01.00.02");
	/* neither answered: none */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_STR(request_str(&poll, (char *)f, 64), "");
	/* short answers */
	uint8_t info[140];
	size_t ni = pt_info_of(DAREN_04, info, sizeof(info));
	CHECK_EQ_INT(ni, 35);
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x00, info, 32);
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.step = 2;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_SHORT);
	ni = pt_info_of(DAREN_06, info, sizeof(info));
	CHECK_EQ_INT(ni, 119);
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x00, info, 25);
	poll.step = 3;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	struct drive_res r;
	char g[2 * PT_MAX], f[PT_MAX];
	size_t len = strlen(DAREN_01);

	for (size_t cut = 1; cut < len; cut += 13) {
		drive_begin(&poll, &rx, 1, 0, false);
		memcpy(g, DAREN_01, cut);
		strcpy(g + cut, DAREN_01);
		r = FEED_TEXT(&poll, &rx, g, chunks_odd);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.skipped, cut);
	}
	strcpy(g, DAREN_01);
	g[len - 3] = g[len - 3] == '8' ? '9' : '8';
	drive_begin(&poll, &rx, 1, 0, false);
	r = FEED_TEXT(&poll, &rx, g, chunks_odd);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.ok, 0);
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)DAREN_01, len), BMS_E_UNEXPECTED);
	poll.address_any = true;
	CHECK(answer_ok(&poll, DAREN_01));
	uint8_t info[120];
	size_t ni = pt_info_of(DAREN_01, info, sizeof(info));
	CHECK_EQ_INT(ni, 99);
	static const struct {
		size_t at;
		uint8_t v;
	} bad[] = { { 5, 0x21 }, { 5, 0x0F }, { 44, 0x08 }, { 44, 0x03 } };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		uint8_t x[120];
		memcpy(x, info, ni);
		x[bad[k].at] = bad[k].v;
		pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0, x, ni);
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_RANGE);
		CHECK_EQ_INT(poll.snap.present, 0);
	}
	for (size_t cut = 1; cut < ni; cut++) {
		pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0, info, ni - cut);
		drive_begin(&poll, &rx, 1, 0, false);
		int rc = drv->handle(&poll, (const uint8_t *)f, strlen(f));
		CHECK(rc == BMS_E_RANGE || rc == BMS_E_SHORT);
	}
	pt_frame(f, 0x22, 1, 0x00, info, ni);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED); /* CID1 0x46 */
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x02, NULL, 0);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_REFUSED);
}

static void test_full_poll(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	struct drive_res r = { 0 };
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	const struct drive_answer a[] = {
		DRIVE_ANSWER(DAREN_01, strlen(DAREN_01), chunks_odd),
		DRIVE_ANSWER(DAREN_04, strlen(DAREN_04), chunks_one),
		DRIVE_ANSWER(DAREN_06, strlen(DAREN_06), chunks_big),
	};
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 3, &r), BMS_OK);
	check_01(&poll.snap, false);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK_EQ_INT(drive_poll(&poll, &rx, a, 1, &r), BMS_OK);
}

/* ---- the settings: 0x47 when due (§21.5) --------------------------------- */

static void check_02(const struct bms_settings *st)
{
	CHECK_EQ_INT(st->have, drv->settings);
	CHECK_NEAR(st->v[BMS_SET_CELL_OVP_V], 3.650, 1e-6);
	CHECK_NEAR(st->v[BMS_SET_CELL_UVP_V], 2.500, 1e-6);
	CHECK_NEAR(st->v[BMS_SET_CELL_COUNT], 16, 1e-6);
}

/* A poll marked settings_due: 0x42, 0x47 (DAREN-02), the identity; again
 * with the identity known: 0x42, 0x47; not due: 0x42 alone; '>' frames. */
static void test_settings(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	char buf[64], k[PT_MAX];

	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), DAREN_REQ_42);
	CHECK(answer_ok(&poll, DAREN_01));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), DAREN_REQ_47);
	CHECK_EQ_INT(feed_way(&poll, &rx, DAREN_02, 1).ok, 1);
	check_02(&poll.kept.settings);
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), DAREN_REQ_51);
	CHECK(answer_ok(&poll, DAREN_04));
	CHECK(answer_ok(&poll, DAREN_06));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	memset(&poll.kept.settings, 0, sizeof(poll.kept.settings));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	CHECK(answer_ok(&poll, DAREN_01));
	CHECK_EQ_INT(cur_cmd(&poll), 0x47);
	ks(k, DAREN_02); /* a pack answers '~' and '>' alike here */
	CHECK(answer_ok(&poll, k));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	check_02(&poll.kept.settings);
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(answer_ok(&poll, DAREN_01));
	CHECK_STR(request_str(&poll, buf, sizeof(buf)), "");
	check_02(&poll.kept.settings);
	/* refused (RTN 04): the poll goes on, counted; unanswered: the same */
	char f[PT_MAX];
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x04, NULL, 0);
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	CHECK(answer_ok(&poll, DAREN_01));
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(cur_cmd(&poll), 0x51);
	CHECK_EQ_INT(poll.kept.settings.have, 0);
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	CHECK(answer_ok(&poll, DAREN_01));
	CHECK_EQ_INT(cur_cmd(&poll), 0x47);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0x51);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

/* 0x47 broken: a bad checksum, short or long INFO (refused; timeout()
 * then ends the step), values out of range (absent). */
static void test_settings_broken(void)
{
	struct bms_poll poll;
	struct bms_rx rx = { 0 };
	uint8_t info[140];
	char f[PT_MAX];
	size_t ni = pt_info_of(DAREN_02, info, sizeof(info));
	CHECK_EQ_INT(ni, 65);

	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 1, 0, false);
	poll.settings_due = true;
	poll.step = 1;
	strcpy(f, DAREN_02);
	f[20] = f[20] == '0' ? '1' : '0';
	struct drive_res r = FEED_TEXT(&poll, &rx, f, chunks_odd);
	CHECK(r.ok == 0 && poll.kept.settings.have == 0);
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x00, info, 24);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_SHORT);
	memset(info + 65, 0, 10);
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x00, info, 66);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_RANGE);
	CHECK(poll.kept.settings.have == 0 && drv->timeout(&poll));
	CHECK_EQ_INT(cur_cmd(&poll), 0x51);
	/* just the words (no barcodes): taken; cell limits 0 and 6000 mV, 0 cells: absent */
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x00, info, 25);
	poll.step = 1;
	CHECK(answer_ok(&poll, f));
	check_02(&poll.kept.settings);
	memset(&poll.kept.settings, 0, sizeof(poll.kept.settings));
	info[1] = info[2] = 0;
	info[3] = 0x17;
	info[4] = 0x70;
	info[15] = info[16] = 0;
	pt_frame_ex(f, '~', 0x22, 1, 0x4A, 0x00, info, 65);
	poll.step = 1;
	CHECK(answer_ok(&poll, f));
	CHECK_EQ_INT(poll.kept.settings.have, 0);
	/* another pack's answer */
	pt_info_of(DAREN_02, info, sizeof(info));
	pt_frame_ex(f, '~', 0x22, 2, 0x4A, 0x00, info, 65);
	poll.step = 1;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)f, strlen(f)), BMS_E_UNEXPECTED);
}

int main(void)
{
	test_table();
	test_requests();
	test_vectors();
	test_status();
	test_start_character();
	test_identity();
	test_broken();
	test_full_poll();
	test_settings();
	test_settings_broken();
	return check_report();
}
