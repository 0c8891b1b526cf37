/* SPDX-License-Identifier: MIT */
/* tests/unit/test_humsienk.c - the HumsiENK BMS over Bluetooth LE
 * (bms/humsienk.c): the humsienk rows of tests/fixtures/vectors.tsv (the
 * one public session, a BMC-04S001 in patman15/aiobmsble's test data)
 * through scan() + handle() in whole polls as the gateway runs them (0x11
 * model and 0xF5 version on a new connection, 0x20 status, 0x21 info, 0x22
 * cells), in every chunking (20-byte notifications, odd reads, one byte
 * at a time), an unanswered identity, `cells =`, and broken input (bad
 * sums, start byte, lengths, an answer to another command, impossible
 * values).  Protocol facts: bms/PROTOCOLS.md §38. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <strings.h>

static const struct bms_driver *const drv = &bms_humsienk_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family humsienk: each macro is the row of
 * the id it spells (HUMS_01 = HUMS-01, HUMS_REQ_20 = HUMS-REQ-20) */
#define HUMS_REQ_11 "aa11001100"
#define HUMS_REQ_20 "aa20002000"
#define HUMS_REQ_21 "aa21002100"
#define HUMS_REQ_22 "aa22002200"
#define HUMS_REQ_F5 "aaf500f500"
#define HUMS_01 "aa110a424d432d3034533030316202"
#define HUMS_02 "aa200f0000000080008000000000000000002f01"
#define HUMS_03 "aa211a4a33000082fbffff2a64e4f70000f04902000300231a1a1a2c1a9108"
#define HUMS_04 "aa2230d10cdb0cd40cd00c000000000000000000000000000000000000000000" \
		"00000000000000000000000000000000000000d203"
#define HUMS_05 "aa2304dcfbfffffc03"
#define HUMS_06 "aaf50c563032000000000000000000b901"
#define HUMS_REQ_58 "aa58005800"
/* HUMS-07: 0x58, the settings of the same BMC-04S001 (aiobmsble's test) */
#define HUMS_07 "aa58300400983a420e020d0400c409f00a0400f82a10003075140066025000030dd10cab0add0a" \
		"350d030de309150ac50d1e00050b"


/* Close a frame b[0..n) (n = len + 5) with its 16-bit sum. */
static void seal(uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 1; i < n - 2; i++)
		s += b[i];
	b[n - 2] = (uint8_t)s;
	b[n - 1] = (uint8_t)(s >> 8);
}

/* A poll from its answers (one hex frame a request). */
static int poll_of(struct bms_poll *poll, struct bms_rx *rx, const char *const *answers, size_t n,
		   const struct drive_chunking *c)
{
	static uint8_t buf[8][128];
	struct drive_answer a[8];
	for (size_t i = 0; i < n && i < 8; i++)
		a[i] = (struct drive_answer){ buf[i], (size_t)drive_hex(answers[i], buf[i], 128), c->ch, c->n, 0, 5 };
	struct drive_res r = { 0 };
	return drive_poll(poll, rx, a, n < 8 ? n : 8, &r);
}

static void check_session(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	static const uint16_t c[4] = { 3281, 3291, 3284, 3280 };
	drive_check_cells(s, c, 4);
	CHECK_NEAR(s->voltage, 13.13, 1e-4);
	CHECK_NEAR(s->current, -1.15, 1e-5);
	CHECK_NEAR(s->soc, 42.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 63.46, 1e-4);
	CHECK_NEAR(s->full_ah, 150.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 3);
	/* data bytes 20..23 and 25; 24 the MOSFET's (§38.3) */
	CHECK_EQ_INT(s->ntemps, 5);
	CHECK_NEAR(s->temp_c[0], 35.0, 1e-6);
	CHECK_NEAR(s->temp_c[1], 26.0, 1e-6);
	CHECK_NEAR(s->temp_c[2], 26.0, 1e-6);
	CHECK_NEAR(s->temp_c[3], 26.0, 1e-6);
	CHECK_NEAR(s->temp_c[4], 26.0, 1e-6);
	CHECK_NEAR(s->mos_temp_c, 44.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->nraw, 4);
	CHECK_EQ_INT(s->raw_alarms[0], 0x0080);
	CHECK_EQ_INT(s->raw_alarms[1], 0x0080);
	CHECK_EQ_INT(s->present,
		     BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		     BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS);
}

/* ---- the table, the requests --------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "humsienk");
	CHECK_EQ_INT(drv->protocol_id, 31);
	CHECK(bms_find("humsienk") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->listens == NULL);
	CHECK_STR(drv->ble->gatt[0].service, "00000001-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "00000003-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "00000002-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[0].write_service == NULL);
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(drv->probe == NULL);
	CHECK(drv->control == NULL);
	CHECK_EQ_INT(drv->max_address, 0);
}

static bool hinted(const char *name)
{
	for (const struct bms_ble_hint *h = drv->ble->hints; h && h->why; h++) {
		CHECK(h->kind == BMS_BLE_NAME);
		if (h->prefix ? strncasecmp(name, h->prefix, strlen(h->prefix)) == 0 : h->name_ok(name))
			return true;
	}
	return false;
}

static void test_hints(void)
{
	CHECK(hinted("HS12V100"));
	CHECK(hinted("HSBMS"));
	CHECK(hinted("ECO1234"));
	CHECK(hinted("ECOABCD"));
	CHECK(!hinted("ECO123"));
	CHECK(!hinted("ECO12345"));
	CHECK(!hinted("ECOW-1234"));
	CHECK(!hinted("SOK-24V1127"));
	CHECK(!hinted("DL-41181211223"));
}

/* Every request is a read: 0x11, 0xF5, 0x20, 0x21, 0x22, 0x58; never 0x00
 * or 0x50..0x53. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, HUMS_REQ_11));
	drive_step(&poll, &rx, HUMS_01, drive_notif20, 1, 0);
	CHECK_STR(poll.kept.ident.model, "BMC-04S001");
	CHECK(drive_req_is(&poll, HUMS_REQ_F5));
	drive_step(&poll, &rx, HUMS_06, drive_notif20, 1, 0);
	CHECK_STR(poll.kept.ident.firmware, "V02");
	CHECK(drive_req_is(&poll, HUMS_REQ_20));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drive_req_is(&poll, HUMS_REQ_20)); /* the identity known: not asked again */
	poll.step = 4;
	CHECK(drive_req_is(&poll, HUMS_REQ_21));
	poll.step = 5;
	CHECK(drive_req_is(&poll, HUMS_REQ_22));
	uint8_t req[8];
	CHECK_EQ_INT(drv->next_request(&poll, req, 4), BMS_E_NOSPACE);
	poll.step = 6; /* the settings (§38.4) */
	CHECK(drive_req_is(&poll, HUMS_REQ_58));
	poll.step = 7;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	poll.step = 9;
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), BMS_E_RANGE);
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_session(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		const char *const first[] = { HUMS_01, HUMS_06, HUMS_02, HUMS_03, HUMS_04 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		CHECK_EQ_INT(poll_of(&poll, &rx, first, 5, &drive_chunkings[k]), BMS_OK);
		check_session(&poll);
		CHECK_STR(poll.kept.ident.model, "BMC-04S001");
		CHECK_STR(poll.kept.ident.firmware, "V02");
		/* the next poll: no identity */
		const char *const next[] = { HUMS_02, HUMS_03, HUMS_04 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, next, 3, &drive_chunkings[k]), BMS_OK);
		check_session(&poll);
	}
}

/* An unanswered identity is skipped: model and version alike. */
static void test_no_ident(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, HUMS_REQ_11));
	CHECK(drv->timeout(&poll));
	CHECK(drive_req_is(&poll, HUMS_REQ_20));
	CHECK(!drv->timeout(&poll)); /* a status read is not skipped */

	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	poll.kept.ident_state = BMS_IDENT_UNKNOWN;
	CHECK(drive_req_is(&poll, HUMS_REQ_11));
	drive_step(&poll, &rx, HUMS_01, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, HUMS_REQ_F5));
	CHECK(drv->timeout(&poll));
	CHECK(drive_req_is(&poll, HUMS_REQ_20));
	CHECK_STR(poll.kept.ident.model, "BMC-04S001");
}

/* `cells =`: fewer than the BMS sends are taken; more fail. */
static void test_cells(void)
{
	static const uint16_t mv[4] = { 3281, 3291, 3284, 3280 };
	drive_check_forced(5, HUMS_04, mv, 4);
}

/* Broken frames before the status answer: skipped or failing their sum,
 * the answer after them decodes.  0x23 (not asked for) is unexpected. */
static void test_broken(void)
{
	static const struct {
		const char *bad;
		int badsum, unexpected;
	} cases[] = {
		{ "aa200f0000000080008000000000000000002f02", 1, 0 }, /* the sum's high byte */
		{ "aa200f0000000080008000000000000000003001", 1, 0 }, /* the sum's low byte */
		{ "ab200f0000000080008000000000000000002f01", 0, 0 }, /* the start byte: skipped */
		{ "aa200e0000000080008000000000000000002f01", 1, 0 }, /* a length one short */
		{ HUMS_05, 0, 1 },                                   /* 0x23: not asked */
		{ HUMS_REQ_20 "0d0a", 0, 0 },                        /* our request echoed (skipped), noise */
	};
	for (size_t i = 0; i < DRIVE_NCH(cases); i++) {
		struct bms_poll poll;
		drive_check_broken(3, 4, cases[i].bad, HUMS_02, cases[i].badsum, cases[i].unexpected, &poll);
		CHECK(poll.snap.chg_mos && poll.snap.dsg_mos);
	}
}

static int bad_value(const char *frame, int step, size_t off, uint8_t v)
{
	uint8_t b[64];
	size_t n = (size_t)drive_hex(frame, b, 64);
	b[off] = v;
	seal(b, n);
	return drive_bad_frame(b, n, step);
}

/* The frame shortened to len data bytes, sealed again. */
static int short_value(const char *frame, int step, uint8_t len)
{
	uint8_t b[64];
	drive_hex(frame, b, 64);
	b[2] = len;
	seal(b, (size_t)len + 5);
	return drive_bad_frame(b, (size_t)len + 5, step);
}

static void test_impossible(void)
{
	CHECK_EQ_INT(bad_value(HUMS_03, 4, 3 + 8, 101), BMS_E_RANGE);  /* SOC 101 % */
	CHECK_EQ_INT(bad_value(HUMS_03, 4, 3 + 9, 101), BMS_E_RANGE);  /* SOH 101 % */
	CHECK_EQ_INT(bad_value(HUMS_04, 5, 3 + 1, 0x20), BMS_E_RANGE); /* 8.4 V a cell */
	CHECK_EQ_INT(bad_value(HUMS_04, 5, 3 + 10, 0x01), BMS_E_RANGE); /* a cell after an empty slot */
	CHECK_EQ_INT(short_value(HUMS_02, 3, 13), BMS_E_SHORT);          /* status: 13 of 14 bytes */
	CHECK_EQ_INT(short_value(HUMS_03, 4, 25), BMS_E_SHORT);          /* info: 25 of 26 bytes */
	CHECK_EQ_INT(short_value(HUMS_04, 5, 47), BMS_E_SHORT);          /* cells: an odd length */
	/* handle() on its own: the length, start byte and sum */
	uint8_t b[64];
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	size_t n = (size_t)drive_hex(HUMS_02, b, 64);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.step = 3;
	CHECK_EQ_INT(drv->handle(&poll, b, n - 1), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, b, 4), BMS_E_SHORT);
	uint8_t q[8];
	size_t qn = (size_t)drive_hex(HUMS_REQ_20, q, 8), en = 0;
	CHECK_EQ_INT(drv->scan(&poll, q, qn, &en), BMS_SCAN_SKIP); /* a request is never a frame */
	CHECK_EQ_INT(en, 5);
	CHECK_EQ_INT(drv->handle(&poll, q, qn), BMS_E_UNEXPECTED);
	b[0] = 0xAB;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_HEADER);
	b[0] = 0xAA;
	b[n - 1] ^= 1;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_CHECKSUM);
	/* more than 24 cells */
	uint8_t c[64 + 5] = { 0xAA, 0x22, 50 };
	for (int i = 0; i < 25; i++) {
		c[3 + 2 * i] = 0xD0;
		c[4 + 2 * i] = 0x0C;
	}
	seal(c, 55);
	CHECK_EQ_INT(drive_bad_frame(c, 55, 5), BMS_E_SHORT);
	/* no cell at all */
	memset(c + 3, 0, 48);
	c[2] = 48;
	seal(c, 53);
	CHECK_EQ_INT(drive_bad_frame(c, 53, 5), BMS_E_RANGE);
}

/* Status bits: balancing cells, an unknown protection bit, a lost cell. */
static void test_status(void)
{
	uint8_t b[64];
	size_t n = (size_t)drive_hex(HUMS_02, b, 64);
	b[3 + 4] = 0x00; /* charge MOSFET off */
	b[3 + 5] = 0x82; /* balancing (bit 15) and bit 9 */
	b[3 + 8] = 0x05; /* cells 1 and 3 balancing */
	seal(b, n);
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	struct drive_res r = drive_step_at(&poll, &rx, 3, b, n, drive_notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK(!poll.snap.chg_mos && poll.snap.dsg_mos);
	CHECK_EQ_INT(poll.snap.balance, 5);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.raw_alarms[0], 0x8200);
	drive_hex(HUMS_02, b, 64);
	b[3 + 11] = 0x02; /* cell 2 disconnected */
	seal(b, n);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_step_at(&poll, &rx, 3, b, n, drive_notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.alarms, BMS_AL_OTHER);
	CHECK_EQ_INT(poll.snap.raw_alarms[2], 2);
}

/* The current: signed, + = charging; invert_current. */
static void test_current(void)
{
	for (int inv = 0; inv < 2; inv++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t b[64];
		size_t n = (size_t)drive_hex(HUMS_03, b, 64);
		b[3 + 4] = 0xDC; /* +1500 mA */
		b[3 + 5] = 0x05;
		b[3 + 6] = 0;
		b[3 + 7] = 0;
		seal(b, n);
		drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, false);
		struct drive_res r = drive_step_at(&poll, &rx, 4, b, n, drive_notif20, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_NEAR(poll.snap.current, inv ? -1.5 : 1.5, 1e-6);
	}
}

/* Random reads of the whole first poll's bytes. */
static void test_random(void)
{
	uint32_t seed = 3;
	static const char *const all[] = { HUMS_01, HUMS_06, HUMS_02, HUMS_03, HUMS_04 };
	for (int round = 0; round < 40; round++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = { 0 };
		uint8_t buf[128], req[8];
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		for (size_t i = 0; i < DRIVE_NCH(all); i++) {
			CHECK(drv->next_request(&poll, req, sizeof(req)) == 5);
			bms_rx_clear(&rx);
			drive_feed_random(&poll, &rx, buf, (size_t)drive_hex(all[i], buf, 128), &seed, 25, &r);
		}
		CHECK_EQ_INT(r.ok, 5);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_session(&poll);
	}
}

/* ---- the settings, 0x58 (§38.4) ------------------------------------------ */

static void check_set(const struct bms_settings *st, enum bms_set_key k, double want)
{
	CHECK(bms_settings_has(st, k));
	CHECK_NEAR(st->v[k], want, 1e-5);
}

/* HUMS-07 in a poll marked settings_due, after the cells; a poll not
 * marked due does not ask it; one left unanswered ends the poll good. */
static void test_settings(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		const char *const due[] = { HUMS_02, HUMS_03, HUMS_04, HUMS_07 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		poll.kept.ident_state = BMS_IDENT_HAVE;
		poll.settings_due = true;
		CHECK_EQ_INT(poll_of(&poll, &rx, due, 4, &drive_chunkings[k]), BMS_OK);
		check_session(&poll);
		const struct bms_settings *st = &poll.kept.settings;
		CHECK_EQ_INT((long long)st->have, (long long)drv->settings);
		check_set(st, BMS_SET_CELL_COUNT, 4);
		check_set(st, BMS_SET_CAPACITY_AH, 150.0);
		check_set(st, BMS_SET_CELL_OVP_V, 3.650);
		check_set(st, BMS_SET_CELL_OVP_RELEASE_V, 3.330);
		check_set(st, BMS_SET_CELL_OVP_DELAY_S, 4);
		check_set(st, BMS_SET_CELL_UVP_V, 2.500);
		check_set(st, BMS_SET_CELL_UVP_RELEASE_V, 2.800);
		check_set(st, BMS_SET_CELL_UVP_DELAY_S, 4);
		check_set(st, BMS_SET_CHARGE_OTP_C, 60.0);
		check_set(st, BMS_SET_CHARGE_OTP_RELEASE_C, 55.0);
		check_set(st, BMS_SET_CHARGE_UTP_C, 0.0);
		check_set(st, BMS_SET_CHARGE_UTP_RELEASE_C, 5.0);
		check_set(st, BMS_SET_DISCHARGE_OTP_C, 65.0);
		check_set(st, BMS_SET_DISCHARGE_OTP_RELEASE_C, 60.0);
		check_set(st, BMS_SET_DISCHARGE_UTP_C, -20.0);
		check_set(st, BMS_SET_DISCHARGE_UTP_RELEASE_C, -15.0);
		CHECK(!bms_settings_has(st, BMS_SET_CHARGE_OCP_A)); /* scale uncertain (§38.4) */
		CHECK(!bms_settings_has(st, BMS_SET_DISCHARGE_OCP_A));
		/* not due: not asked */
		const char *const next[] = { HUMS_02, HUMS_03, HUMS_04 };
		struct bms_poll p2 = { 0 };
		drive_begin_link(&p2, &rx, 0, 0, false, BMS_LINK_BLE, false);
		p2.kept.ident_state = BMS_IDENT_HAVE;
		CHECK_EQ_INT(poll_of(&p2, &rx, next, 3, &drive_chunkings[k]), BMS_OK);
		CHECK_EQ_INT((int)p2.kept.settings.have, 0);
	}
	/* unanswered: skipped, the poll good */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.kept.ident_state = BMS_IDENT_HAVE;
	poll.settings_due = true;
	drive_step(&poll, &rx, HUMS_02, drive_notif20, 1, 0);
	drive_step(&poll, &rx, HUMS_03, drive_notif20, 1, 0);
	drive_step(&poll, &rx, HUMS_04, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, HUMS_REQ_58));
	CHECK(drv->timeout(&poll));
	uint8_t req[8];
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
}

/* Broken 0x58: a bad sum, too short, values out of range. */
static void test_settings_broken(void)
{
	uint8_t f[64];
	int n = drive_hex(HUMS_07, f, sizeof(f));
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.step = 6;
	f[10] ^= 1; /* the sum wrong */
	struct drive_res r = FEED_BYTES(&poll, &rx, f, (size_t)n, drive_odd);
	CHECK_EQ_INT(r.frames, 0);
	CHECK(r.badsum >= 1);
	/* 40 data bytes: short */
	n = drive_hex(HUMS_07, f, sizeof(f));
	f[2] = 40;
	seal(f, 45);
	CHECK_EQ_INT(drv->handle(&poll, f, 45), BMS_E_SHORT);
	CHECK_EQ_INT(poll.step, 6);
	/* cell count 0, cell OVP 7 V, a charge OTP of 200 degC (4731 dK), a
	 * discharge UTP of -60 degC (2131 dK): absent, the others kept */
	n = drive_hex(HUMS_07, f, sizeof(f));
	f[3] = 0;
	f[7] = 0x58; /* 0x1B58 = 7000 mV */
	f[8] = 0x1B;
	f[31] = 0x7B; /* 0x127B = 4731 */
	f[32] = 0x12;
	f[43] = 0x53; /* 0x0853 = 2131 */
	f[44] = 0x08;
	seal(f, (size_t)n);
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	const struct bms_settings *st = &poll.kept.settings;
	CHECK(!bms_settings_has(st, BMS_SET_CELL_COUNT));
	CHECK(!bms_settings_has(st, BMS_SET_CELL_OVP_V));
	CHECK(!bms_settings_has(st, BMS_SET_CHARGE_OTP_C));
	CHECK(!bms_settings_has(st, BMS_SET_DISCHARGE_UTP_C));
	check_set(st, BMS_SET_CELL_UVP_V, 2.500);
	check_set(st, BMS_SET_DISCHARGE_UTP_RELEASE_C, -15.0);
	/* another command's answer at the settings step: not taken */
	poll.step = 6;
	n = drive_hex(HUMS_04, f, sizeof(f));
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_E_UNEXPECTED);
}

int main(void)
{
	test_table();
	test_hints();
	test_requests();
	test_session();
	test_no_ident();
	test_cells();
	test_broken();
	test_impossible();
	test_status();
	test_current();
	test_random();
	test_settings();
	test_settings_broken();
	return check_report();
}
