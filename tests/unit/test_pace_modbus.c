/* SPDX-License-Identifier: MIT */
/* tests/unit/test_pace_modbus.c - PACE Modbus (V1.3) driver.  No capture of
 * this protocol is public (bms/PROTOCOLS.md §25.4): the answers are built
 * here from the document's register table, fed through scan() + handle() in
 * every chunking; every flag bit, invalid MOSFET / environment
 * temperatures, the cell count from the non-zero slots, whole polls through
 * finish(), the identity refused, and broken input (bad CRC, truncated,
 * another address, impossible byte counts); the settings read 60 x 55,
 * asked only when due, its answer built from the document's register
 * table (no capture), ignored, refused, broken and out of range.
 * Protocol facts: bms/PROTOCOLS.md §18, §25. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <math.h>
#include <stdint.h>

static const struct bms_driver *const drv = &bms_pace_modbus_driver;

#include "mb_check.h"

/* The requests (computed from the document: FC03 0 x 37, 150 x 30). */
#define REQ_LIVE_1 "0103000000258411"
#define REQ_IDENT_1 "01030096001e25ee"

#define NLIVE 37

/* A 16-cell pack at 53.2 V: registers 0..36. */
static void image(uint16_t *v)
{
	memset(v, 0, NLIVE * sizeof(v[0]));
	v[0] = (uint16_t)-1234;     /* -12.34 A */
	v[1] = 5320;
	v[2] = 76;
	v[3] = 99;
	v[4] = 7600;                /* 76.00 Ah */
	v[5] = 10000;
	v[6] = 10000;
	v[7] = 321;
	v[11] = 0x0C00 | 0x0200;    /* both MOSFETs on, discharging */
	v[12] = 0x0003;
	for (int i = 0; i < 16; i++)
		v[15 + i] = (uint16_t)(3320 + i);
	v[31] = 251;
	v[32] = 252;
	v[33] = (uint16_t)-53;
	v[34] = 254;
	v[35] = 305;
	v[36] = 221;
}

static size_t mk_live(uint8_t *f, uint8_t adr, const uint16_t *v)
{
	return mb_answer(f, adr, 0x03, v, NLIVE);
}

static void live_ok(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	bool inv = poll->invert_current;
	CHECK_NEAR(s->current, inv ? 12.34 : -12.34, 1e-4);
	CHECK_NEAR(s->voltage, 53.20, 1e-4);
	CHECK_NEAR(s->soc, 76.0, 1e-6);
	CHECK_NEAR(s->soh, 99.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 76.0, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 321);
	CHECK_EQ_INT(s->ncells, 16);
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(s->cell_mv[i], 3320 + i);
	static const float t[5] = { 25.1f, 25.2f, -5.3f, 25.4f, 22.1f };
	CHECK_EQ_INT(s->ntemps, 5);
	for (int k = 0; k < 5; k++)
		CHECK_NEAR(s->temp_c[k], t[k], 1e-4);
	CHECK_NEAR(s->mos_temp_c, 30.5, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->state, 2);
	CHECK_EQ_INT(s->balance, 0x0003);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 3);
	CHECK_EQ_INT(s->raw_alarms[2], 0x0E00);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		     BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_MOSFETS);
}

/* Registers 150..179: version, BMS serial, pack serial (20 ASCII each). */
static size_t mk_ident(uint8_t *f, uint8_t adr)
{
	static const char *const text[3] = { "P16S100A-1B470-3.01", "BMS0123456789", "PACK42 " };
	uint16_t v[30] = { 0 };
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; text[k][i]; i++)
			v[10 * k + i / 2] |= (uint16_t)((uint8_t)text[k][i] << (i % 2 ? 0 : 8));
	return mb_answer(f, adr, 0x03, v, 30);
}

static void ident_ok(const struct bms_poll *poll)
{
	CHECK_STR(poll->kept.ident.firmware, "P16S100A-1B470-3.01");
	CHECK_STR(poll->kept.ident.serial, "BMS0123456789");
	CHECK_STR(poll->kept.ident.pack_serial, "PACK42");
	CHECK_EQ_INT(poll->kept.ident_state, BMS_IDENT_HAVE);
}


static void test_table(void)
{
	mb_check_table("pace-modbus", 19, 9600, 1, 247, 0);
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t req[16];
	static const uint16_t documented[][3] = { { 0x03, 0, 37 }, { 0x03, 150, 30 } };

	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(mb_req_is(&poll, REQ_LIVE_1));
	poll.step = 1;
	CHECK(mb_req_is(&poll, REQ_IDENT_1));
	for (int a = 1; a <= 16; a++) {
		drive_begin(&poll, &rx, (uint8_t)a, 0, false);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
		CHECK_EQ_INT(req[0], a);
		mb_reads_only(&poll, documented, 2);
	}
	drive_begin(&poll, &rx, 0, 0, false);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
}

static void test_live(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	uint16_t v[NLIVE];

	image(v);
	for (int inv = 0; inv < 2; inv++) {
		drive_begin(&poll, &rx, 5, 0, inv);
		mb_every_chunking(&poll, f, mk_live(f, 5, v), live_ok);
		CHECK_EQ_INT(mb_cur(&poll), 150);
	}
	mb_every_chunking(&poll, f, mk_ident(f, 5), ident_ok);
	CHECK_EQ_INT(mb_cur(&poll), -1);

	/* 8 cells: the slots past them read 0; a forced count */
	for (int i = 8; i < 16; i++)
		v[15 + i] = 0;
	drive_begin(&poll, &rx, 5, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 5, v)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	drive_begin(&poll, &rx, 5, 4, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 5, v)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	/* a middle slot 0 (a broken cell wire) stays in the count */
	v[15 + 3] = 0;
	drive_begin(&poll, &rx, 5, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 5, v)), BMS_OK);
	CHECK_EQ_INT(poll.snap.ncells, 8);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 0);
	/* no cells at all: finish() refuses the sample */
	for (int i = 0; i < 16; i++)
		v[15 + i] = 0;
	drive_begin(&poll, &rx, 5, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 5, v)), BMS_OK);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);

	/* MOSFET / environment temperature "invalid": absent */
	image(v);
	v[35] = 0x8000;
	v[36] = 0x7FFF;
	drive_begin(&poll, &rx, 5, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 5, v)), BMS_OK);
	CHECK(!(poll.snap.present & BMS_HAS_MOS_TEMP));
	CHECK_EQ_INT(poll.snap.ntemps, 4);
	/* SOC / SOH above 100 %: 100 % */
	v[2] = 250;
	v[3] = 101;
	drive_begin(&poll, &rx, 5, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 5, v)), BMS_OK);
	CHECK_NEAR(poll.snap.soc, 100.0, 1e-6);
	CHECK_NEAR(poll.snap.soh, 100.0, 1e-6);
}

static void test_flags(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	uint16_t v[NLIVE];
	/* registers 9 (warning), 10 (protection), 11 (status / fault) bit by
	 * bit (§25.3) */
	static const struct {
		int reg, bit;
		uint32_t al;
	} map[] = {
		{ 9, 0, BMS_AL_CELL_OV }, { 9, 3, BMS_AL_PACK_UV }, { 9, 5, BMS_AL_DSG_OC }, { 9, 8, BMS_AL_CHG_OT },
		{ 9, 11, BMS_AL_DSG_UT }, { 9, 12, BMS_AL_OTHER }, { 9, 14, BMS_AL_MOS_OT }, { 9, 15, BMS_AL_SOC_LOW },
		{ 9, 6, 0 }, { 10, 1, BMS_AL_CELL_UV | BMS_AL_PROTECTION }, { 10, 4, BMS_AL_CHG_OC | BMS_AL_PROTECTION },
		{ 10, 6, BMS_AL_SHORT | BMS_AL_PROTECTION }, { 10, 7, BMS_AL_OTHER | BMS_AL_PROTECTION },
		{ 10, 9, BMS_AL_DSG_OT | BMS_AL_PROTECTION }, { 10, 12, BMS_AL_MOS_OT | BMS_AL_PROTECTION },
		{ 10, 15, 0 }, { 11, 0, BMS_AL_MOS_FAULT }, { 11, 1, BMS_AL_MOS_FAULT }, { 11, 2, BMS_AL_SENSOR },
		{ 11, 4, BMS_AL_HW_FAULT }, { 11, 5, BMS_AL_HW_FAULT }, { 11, 3, 0 }, { 11, 12, 0 }, { 11, 15, 0 },
	};
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		image(v);
		v[11] = 0;
		v[map[k].reg] = (uint16_t)(1u << map[k].bit);
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 1, v)), BMS_OK);
		CHECK_EQ_INT(poll.snap.alarms, map[k].al);
		CHECK_EQ_INT(poll.snap.raw_alarms[map[k].reg - 9], 1u << map[k].bit);
	}
	/* the state and MOSFET bits of register 11 */
	static const struct {
		uint16_t st;
		int state;
		bool chg, dsg;
	} st[] = {
		{ 0x0100, 1, false, false }, { 0x0200, 2, false, false }, { 0x0400, 0, true, false },
		{ 0x0800, 0, false, true }, { 0x0D00, 1, true, true },
	};
	for (size_t k = 0; k < sizeof(st) / sizeof(st[0]); k++) {
		image(v);
		v[11] = st[k].st;
		drive_begin(&poll, &rx, 1, 0, false);
		CHECK_EQ_INT(drv->handle(&poll, f, mk_live(f, 1, v)), BMS_OK);
		CHECK_EQ_INT(poll.snap.state, st[k].state);
		CHECK(poll.snap.chg_mos == st[k].chg && poll.snap.dsg_mos == st[k].dsg);
	}
}

static void test_full_poll(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t a1[MB_MAX_FRAME], a2[MB_MAX_FRAME];
	uint16_t v[NLIVE];
	image(v);
	struct drive_answer ans[] = {
		{ a1, mk_live(a1, 2, v), chunks_odd, DRIVE_NCH(chunks_odd), 0, 8 },
		{ a2, mk_ident(a2, 2), chunks_rand, DRIVE_NCH(chunks_rand), 0, 8 },
	};
	struct drive_res r = { 0 };

	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 2, &r), BMS_OK);
	live_ok(&poll);
	ident_ok(&poll);
	bms_poll_begin(&poll, 2, 0, false);
	bms_rx_clear(&rx);
	CHECK_EQ_INT(drive_poll(&poll, &rx, ans, 1, &r), BMS_OK);
	/* the identity refused */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 2, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, a1, ans[0].len), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, a2, mb_exception(a2, 2, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	CHECK_EQ_INT(poll.refusals, 1);
	/* a pack answering from another address (address_any) */
	memset(&poll, 0, sizeof(poll));
	drive_begin(&poll, &rx, 2, 0, false);
	poll.address_any = true;
	r = FEED_BYTES(&poll, &rx, a1, mk_live(a1, 1, v), chunks_odd);
	CHECK_EQ_INT(r.ok, 1);
	live_ok(&poll);
}

static void test_broken(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME];
	uint16_t v[NLIVE];

	image(v);
	drive_begin(&poll, &rx, 3, 0, false);
	mb_broken(&poll, f, mk_live(f, 3, v));
	poll.step = 1;
	mb_broken(&poll, f, mk_ident(f, 3));
	/* the live block refused fails the try */
	drive_begin(&poll, &rx, 3, 0, false);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 3, 0x03, 0x02)), BMS_E_REFUSED);
	CHECK(!drv->timeout(&poll));
}

/* 60 .. 114: a 16S LFP pack's levels (built from the document's table) */
static const int16_t set_16s[55] = {
	(int16_t)56800, (int16_t)57600, (int16_t)54000, 10, 3550, 3650, 3400, 12,
	(int16_t)48000, (int16_t)44800, (int16_t)49600, 10, 2900, 2700, 3000, 15,
	105, 110, 30, 105, 120, 25, 150, 40,
	500, 550, 500, 550, 600, 550, 20, 0, 50, -150, -200, -150,
	1000, 1100, 850, 600, 650, 550, -200, -250, -200,
	3400, 30, (int16_t)56000, 2000, 2500, 720, 12, 10, 150, 40,
};

static size_t mk_set(uint8_t *f, const int16_t *lv)
{
	uint16_t v[55];
	for (int i = 0; i < 55; i++)
		v[i] = (uint16_t)lv[i];
	return mb_answer(f, 1, 0x03, v, 55);
}

static void check_key(const struct bms_settings *st, enum bms_set_key k, double want)
{
	CHECK(bms_settings_has(st, k));
	CHECK_NEAR(st->v[k], want, fabs(want) * 1e-6 + 1e-9);
}

static void set_ok(const struct bms_poll *poll)
{
	const struct bms_settings *st = &poll->kept.settings;
	check_key(st, BMS_SET_PACK_OVP_V, 57.6);
	check_key(st, BMS_SET_CELL_OVP_V, 3.65);
	check_key(st, BMS_SET_CELL_OVP_RELEASE_V, 3.4);
	check_key(st, BMS_SET_CELL_OVP_DELAY_S, 1.2);
	check_key(st, BMS_SET_PACK_UVP_V, 44.8);
	check_key(st, BMS_SET_CELL_UVP_V, 2.7);
	check_key(st, BMS_SET_CELL_UVP_RELEASE_V, 3.0);
	check_key(st, BMS_SET_CELL_UVP_DELAY_S, 1.5);
	check_key(st, BMS_SET_CHARGE_OCP_A, 110);
	check_key(st, BMS_SET_CHARGE_OCP_DELAY_S, 3.0);
	check_key(st, BMS_SET_DISCHARGE_OCP_A, 120);
	check_key(st, BMS_SET_DISCHARGE_OCP_DELAY_S, 2.5);
	check_key(st, BMS_SET_CHARGE_OTP_C, 55.0);
	check_key(st, BMS_SET_CHARGE_OTP_RELEASE_C, 50.0);
	check_key(st, BMS_SET_DISCHARGE_OTP_C, 60.0);
	check_key(st, BMS_SET_DISCHARGE_OTP_RELEASE_C, 55.0);
	check_key(st, BMS_SET_CHARGE_UTP_C, 0.0);
	check_key(st, BMS_SET_CHARGE_UTP_RELEASE_C, 5.0);
	check_key(st, BMS_SET_DISCHARGE_UTP_C, -20.0);
	check_key(st, BMS_SET_DISCHARGE_UTP_RELEASE_C, -15.0);
	check_key(st, BMS_SET_MOS_OTP_C, 110.0);
	check_key(st, BMS_SET_MOS_OTP_RELEASE_C, 85.0);
	check_key(st, BMS_SET_BALANCE_START_V, 3.4);
	check_key(st, BMS_SET_BALANCE_DELTA_V, 0.03);
	check_key(st, BMS_SET_SMART_SLEEP_V, 2.5);
	check_key(st, BMS_SET_SHORT_CIRCUIT_DELAY_S, 0.0003);
	CHECK_EQ_INT((long long)st->have, (long long)drv->settings);
	CHECK_EQ_INT(mb_cur((struct bms_poll *)poll), -1);
}

static void at_set(struct bms_poll *poll, struct bms_rx *rx)
{
	memset(poll, 0, sizeof(*poll));
	drive_begin(poll, rx, 1, 0, false);
	poll->settings_due = true;
	CHECK(mb_goto(poll, 0x03, 60));
}

static void test_settings(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx = { 0 };
	uint8_t f[MB_MAX_FRAME], req[16];
	int16_t lv[55];

	/* not due: no read of 60 */
	drive_begin(&poll, &rx, 1, 0, false);
	CHECK(!mb_goto(&poll, 0x03, 60));
	/* due: FC03 60 x 55 after the identity, 01 03 00 3c 00 37 <crc> */
	at_set(&poll, &rx);
	CHECK_EQ_INT(poll.step, 2);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 8);
	CHECK(memcmp(req, "\x01\x03\x00\x3c\x00\x37", 6) == 0);
	size_t n = mk_set(f, set_16s);
	mb_every_chunking(&poll, f, n, set_ok);
	at_set(&poll, &rx);
	mb_broken(&poll, f, n);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	/* ignored, refused: the poll ends, no settings */
	at_set(&poll, &rx);
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(mb_cur(&poll), -1);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	at_set(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mb_exception(f, 1, 0x03, 0x02)), BMS_OK);
	CHECK_EQ_INT((int)poll.refusals, 1);
	CHECK_EQ_INT(mb_cur(&poll), -1);
	/* out of range: a delay of 0 and of 25.6 s, an invalid MOSFET
	 * temperature (BMS-4820), a short-circuit delay of 525 us: absent */
	memcpy(lv, set_16s, sizeof(lv));
	lv[67 - 60] = 0;
	lv[75 - 60] = 256;
	lv[97 - 60] = (int16_t)0x8000;
	lv[111 - 60] = 21;
	at_set(&poll, &rx);
	CHECK_EQ_INT(drv->handle(&poll, f, mk_set(f, lv)), BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_DELAY_S));
	CHECK(!bms_settings_has(st, BMS_SET_CELL_UVP_DELAY_S));
	CHECK(!bms_settings_has(st, BMS_SET_MOS_OTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_SHORT_CIRCUIT_DELAY_S));
	check_key(st, BMS_SET_MOS_OTP_RELEASE_C, 85.0);
	/* nothing in range: dropped, the settings before stay */
	struct bms_settings before = poll.kept.settings;
	memset(lv, 0, sizeof(lv));
	for (int r = 84; r <= 104; r++)
		lv[r - 60] = (int16_t)0x8000;
	at_set(&poll, &rx);
	poll.kept.settings = before;
	CHECK_EQ_INT(drv->handle(&poll, f, mk_set(f, lv)), BMS_OK);
	CHECK(memcmp(&poll.kept.settings, &before, sizeof(before)) == 0);
	CHECK_EQ_INT(mb_cur(&poll), -1);
}

int main(void)
{
	test_table();
	test_requests();
	test_live();
	test_flags();
	test_full_poll();
	test_broken();
	test_settings();
	return check_report();
}
