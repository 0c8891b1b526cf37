/* SPDX-License-Identifier: MIT */
/* tests/unit/test_abc.c - SOK / ABC-BMS over Bluetooth LE (bms/abc.c): the
 * sok rows of tests/fixtures/vectors.tsv (the one public SOK session,
 * patman15/aiobmsble's test data) through scan() + handle() in whole polls
 * as the gateway runs them (C0 name, C1 info, C2 detail, C4 protection),
 * in every chunking (20-byte notifications, odd reads, one byte at a
 * time), answers in another order, the cells' count learned from the pack
 * voltage, `cells =`, a BMS without C4, and broken input (aiobmsble's bad
 * CRC, start byte, type and length; impossible values).  Protocol facts:
 * bms/PROTOCOLS.md §33. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <strings.h>

static const struct bms_driver *const drv = &bms_abc_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family sok: each macro is the row of the id
 * it spells (SOK_01 = SOK-01, SOK_REQ_C1 = SOK-REQ-C1) */
#define SOK_REQ_C0 "eec000000041"
#define SOK_REQ_C1 "eec1000000ce"
#define SOK_REQ_C2 "eec200000046"
#define SOK_01 "ccf0a26b00000000a08601409e01070063000021"
#define SOK_02 "ccf1534f4b2d424d530d00000000000000000040"
#define SOK_03 "ccf201010114000000000000000200000000007f"
#define SOK_04 "ccf3170312006400000100000000000000000036"
#define SOK_05 "ccf401720d0002a80d00032f0d0004880d00008b"
#define SOK_06 "ccf405810d0006650d00071f0d00085c0d000033"
/* aiobmsble's test of abc_bms: the F9 answer (all clear), its
 * problem answers (the first and the last flag), its broken F0 answers */
#define SOK_F9 "ccf90000000000000000000000000000000000ed"
#define SOK_F9_FIRST "ccf96900000000000000000000000000000000" "1d"
#define SOK_F9_LAST "ccf90000000000000000000000000000006900" "05"
#define SOK_BAD_CRC "ccf0a26b00000000a08601409e01070063000020"
#define SOK_BAD_SOF "c0f0a26b00000000a08601409e01070063000021"
#define SOK_BAD_TYPE "ccfea26b00000000a08601409e0107006300004f"
#define SOK_BAD_LEN "ccf0a26b00000000a08601409e010700630021"
#define REQ_C4 "eec40000004f"

static const size_t chunks_odd[] = { 1, 2, 7, 13, 1, 26, 3, 11, 40, 64, 17, 150 };
static const size_t notif20[] = { 20 };

struct chunking {
	const size_t *ch;
	size_t n;
};
static const struct chunking chunkings[] = {
	{ notif20, DRIVE_NCH(notif20) }, { chunks_odd, DRIVE_NCH(chunks_odd) }, { chunks_one, DRIVE_NCH(chunks_one) },
	{ chunks_big, DRIVE_NCH(chunks_big) },
};
#define NCHUNKINGS DRIVE_NCH(chunkings)

/* The bytes of fixtures written one after the other (up to 8). */
static size_t cat(uint8_t *out, const char *const *hex)
{
	size_t n = 0;
	for (int i = 0; hex[i]; i++)
		n += (size_t)drive_hex(hex[i], out + n, 512);
	return n;
}

static uint8_t crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8C) : (uint8_t)(crc >> 1);
	}
	return crc;
}

static bool req_is(struct bms_poll *poll, const char *hex)
{
	uint8_t req[32], want[32];
	int n = drv->next_request(poll, req, sizeof(req));
	int m = check_hex(hex, want, 32);
	return n == m && n > 0 && memcmp(req, want, (size_t)n) == 0;
}

/* The answers of the captured session, by request. */
static const char *const ans_c0[] = { SOK_02, NULL };
static const char *const ans_c1[] = { SOK_01, SOK_03, NULL };
static const char *const ans_c1_rev[] = { SOK_03, SOK_01, NULL };
static const char *const ans_c2[] = { SOK_01, SOK_04, SOK_05, SOK_06, NULL };
static const char *const ans_c2_rev[] = { SOK_06, SOK_04, SOK_01, SOK_05, NULL };
static const char *const ans_c4[] = { SOK_F9, NULL };

/* A poll from its answers (NULL ends the list), each after its request. */
static int poll_of(struct bms_poll *poll, struct bms_rx *rx, const char *const *const *answers, const struct chunking *c)
{
	static uint8_t buf[8][512];
	struct drive_answer a[8];
	size_t n = 0;
	for (; answers[n] && n < 8; n++)
		a[n] = (struct drive_answer){ buf[n], cat(buf[n], answers[n]), c->ch, c->n, 0, 6 };
	struct drive_res r = { 0 };
	return drive_poll(poll, rx, a, n, &r);
}

static void check_session(const struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	static const uint16_t c[8] = { 3442, 3496, 3375, 3464, 3457, 3429, 3359, 3420 };
	drive_check_cells(s, c, 8);
	CHECK_NEAR(s->voltage, 27.554, 1e-4);
	CHECK_NEAR(s->current, 0.0, 1e-6);
	CHECK_NEAR(s->soc, 99.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 106.048, 1e-4);
	CHECK_NEAR(s->full_ah, 100.0, 1e-4);
	CHECK_EQ_INT(s->cycles, 7);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 20.0, 1e-6);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK(!s->balancing);
	CHECK_EQ_INT(s->balance, 0);
	CHECK_EQ_INT(s->state, 0);
	CHECK_EQ_INT(s->present & ~(uint32_t)BMS_HAS_ALARMS,
		     BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES |
		     BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_BALANCING);
}

/* ---- the table, the requests --------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "abc");
	CHECK_EQ_INT(drv->protocol_id, 26);
	CHECK(bms_find("abc") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->listens == NULL);
	CHECK_STR(drv->ble->gatt[0].service, "0000ffe0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].notify, "0000ffe1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(drv->ble->gatt[0].write, "0000ffe2-0000-1000-8000-00805f9b34fb");
	CHECK(drv->ble->gatt[0].write_service == NULL);
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(drv->probe == NULL);
	CHECK(drv->control == NULL);
	CHECK_EQ_INT(drv->max_address, 0);
}

static bool hinted(const char *name)
{
	for (const struct bms_ble_hint *h = drv->ble->hints; h && h->why; h++) {
		CHECK(h->kind == BMS_BLE_NAME); /* never FFF0 alone: Daly's */
		if (h->prefix ? strncasecmp(name, h->prefix, strlen(h->prefix)) == 0 : h->name_ok(name))
			return true;
	}
	return false;
}

static void test_hints(void)
{
	CHECK(hinted("SOK-24V1127"));
	CHECK(hinted("SOK-AA02120"));
	CHECK(hinted("ABC-BMS"));
	CHECK(hinted("NB-1234"));
	CHECK(hinted("Hoover"));
	CHECK(!hinted("Hoover2"));
	CHECK(!hinted("SOKO"));
	CHECK(!hinted("DL-41181211223"));
	CHECK(!hinted("JK-B2A24S15P"));
}

static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(req_is(&poll, SOK_REQ_C0));
	drive_step(&poll, &rx, SOK_02, notif20, 1, 0);
	CHECK_STR(poll.kept.ident.model, "SOK-BMS");
	CHECK(req_is(&poll, SOK_REQ_C1));
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(req_is(&poll, SOK_REQ_C1)); /* the name known: not asked again */
	poll.step = 3; /* DETAIL */
	CHECK(req_is(&poll, SOK_REQ_C2));
	poll.step = 4; /* PROT */
	CHECK(req_is(&poll, REQ_C4));
	uint8_t req[8];
	CHECK_EQ_INT(drv->next_request(&poll, req, 5), BMS_E_NOSPACE);
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_session(void)
{
	for (size_t k = 0; k < NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		/* a new connection: the name, info, detail, protection */
		const char *const *const first[] = { ans_c0, ans_c1, ans_c2, ans_c4, NULL };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		CHECK_EQ_INT(poll_of(&poll, &rx, first, &chunkings[k]), BMS_OK);
		check_session(&poll);
		CHECK(poll.snap.present & BMS_HAS_ALARMS);
		CHECK_EQ_INT(poll.snap.alarms, 0);
		CHECK_EQ_INT(poll.snap.nraw, 1);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], 0);
		CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_HAVE);
		CHECK_STR(poll.kept.ident.model, "SOK-BMS");
		/* the cells' count learned from the voltage */
		CHECK(poll.kept.have & BMS_HAS_CELLS);
		CHECK_EQ_INT(poll.kept.ncells, 8);
		/* the next poll: the answers in another order, the count known */
		const char *const *const next[] = { ans_c1_rev, ans_c2_rev, ans_c4, NULL };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		poll.refresh = false;
		CHECK_EQ_INT(poll_of(&poll, &rx, next, &chunkings[k]), BMS_OK);
		check_session(&poll);
		/* with the slow values: learned again, from the voltage */
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, next, &chunkings[k]), BMS_OK);
		check_session(&poll);
	}
}

/* One step fed buf: its counts. */
static struct drive_res step_bytes(struct bms_poll *poll, struct bms_rx *rx, int step, const uint8_t *buf, size_t n,
				   const size_t *ch, size_t nch)
{
	uint8_t req[8];
	poll->step = step;
	CHECK(drv->next_request(poll, req, sizeof(req)) == 6);
	bms_rx_clear(rx);
	return drive_feed_bytes(poll, rx, buf, n, ch, nch);
}

/* A detail step of a poll whose INFO gave SOK-01's voltage. */
static void detail_begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t forced)
{
	uint8_t buf[512];
	drive_begin_link(poll, rx, 0, forced, false, BMS_LINK_BLE, false);
	poll->kept.ident_state = BMS_IDENT_NONE;
	struct drive_res r = step_bytes(poll, rx, 2, buf, cat(buf, ans_c1), notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll->step, 3);
}

static void test_cells(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t buf[512];
	/* the first four cells alone are not the pack (13.8 V of 27.6 V) */
	detail_begin(&poll, &rx, 0);
	const char *const four[] = { SOK_01, SOK_04, SOK_05, NULL };
	struct drive_res r = drive_feed_bytes(&poll, &rx, buf, cat(buf, four), notif20, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.more, 3);
	CHECK(!drv->timeout(&poll)); /* the try fails: never fewer cells than there are */
	/* cells 5..8 first: a gap until 1..4 come */
	detail_begin(&poll, &rx, 0);
	const char *const gap[] = { SOK_06, SOK_04, SOK_01, NULL };
	r = drive_feed_bytes(&poll, &rx, buf, cat(buf, gap), chunks_odd, DRIVE_NCH(chunks_odd));
	CHECK_EQ_INT(r.ok, 0);
	r = drive_feed_hex(&poll, &rx, SOK_05, notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.step, 4);
	/* `cells = 4`: complete with the first F4, 4 cells */
	detail_begin(&poll, &rx, 4);
	r = drive_feed_bytes(&poll, &rx, buf, cat(buf, four), notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	CHECK_EQ_INT(poll.snap.cell_mv[3], 3464);
	/* `cells = 12`: never with 8 */
	detail_begin(&poll, &rx, 12);
	r = drive_feed_bytes(&poll, &rx, buf, cat(buf, ans_c2), notif20, 1);
	CHECK_EQ_INT(r.ok, 0);
	/* a count learned (8) that the slow values do not ask to learn again */
	detail_begin(&poll, &rx, 0);
	poll.refresh = false;
	poll.kept.have |= BMS_HAS_CELLS;
	poll.kept.ncells = 4;
	r = drive_feed_bytes(&poll, &rx, buf, cat(buf, four), notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.snap.ncells, 4);
	CHECK_EQ_INT(poll.snap.cell_mv[4], 0);
}

/* A BMS that does not answer C4: skipped, then not asked on this
 * connection (its alarms absent); a new connection asks again. */
static void test_no_prot(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	const char *const *const first[] = { ans_c0, ans_c1, ans_c2, NULL };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	struct drive_res r = { 0 };
	uint8_t b[3][512];
	struct drive_answer a[3];
	for (int i = 0; i < 3; i++)
		a[i] = (struct drive_answer){ b[i], cat(b[i], first[i]), notif20, 1, 0, 6 };
	uint8_t req[8];
	for (int i = 0; i < 3; i++) {
		CHECK(drv->next_request(&poll, req, sizeof(req)) == 6);
		bms_rx_clear(&rx);
		drive_feed(&poll, &rx, a[i].p, a[i].len, notif20, 1, &r);
	}
	CHECK_EQ_INT(r.ok, 3);
	CHECK(req_is(&poll, REQ_C4));
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_session(&poll);
	CHECK(!(poll.snap.present & BMS_HAS_ALARMS));
	const char *const *const next[] = { ans_c1, ans_c2, NULL };
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK_EQ_INT(poll_of(&poll, &rx, next, &chunkings[0]), BMS_OK);
	check_session(&poll);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	poll.step = 4;
	CHECK(req_is(&poll, REQ_C4));
}

static void test_protection(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	static const struct {
		const char *f9;
		uint16_t raw;
	} cases[] = { { SOK_F9, 0 }, { SOK_F9_FIRST, 0x0001 }, { SOK_F9_LAST, 0x8000 } };
	for (size_t i = 0; i < DRIVE_NCH(cases); i++) {
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		poll.step = 4;
		CHECK(req_is(&poll, REQ_C4));
		drive_step(&poll, &rx, cases[i].f9, notif20, 1, 0);
		CHECK_EQ_INT(poll.step, 5);
		CHECK_EQ_INT(poll.snap.raw_alarms[0], cases[i].raw);
		CHECK_EQ_INT(poll.snap.alarms, cases[i].raw ? BMS_AL_OTHER : 0);
		CHECK(poll.snap.present & BMS_HAS_ALARMS);
	}
}

/* ---- noise and broken input ------------------------------------------------ */

/* aiobmsble's broken F0 answers, then SOK-01 and SOK-03 whole: each broken
 * one dropped (a bad CRC counted), the INFO step completed by the good. */
static void test_broken(void)
{
	static const struct {
		const char *bad;
		int badsum;
	} cases[] = { { SOK_BAD_CRC, 1 }, { SOK_BAD_SOF, 0 }, { SOK_BAD_TYPE, 0 }, { SOK_BAD_LEN, 1 },
		      { "eec1000000ce" "4154" "0d0a" "cc", 0 } /* our request echoed, noise, a lone start */ };
	for (size_t i = 0; i < DRIVE_NCH(cases); i++)
		for (size_t k = 0; k < NCHUNKINGS; k++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			uint8_t buf[512];
			const char *const seq[] = { cases[i].bad, SOK_01, SOK_03, NULL };
			drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
			poll.kept.ident_state = BMS_IDENT_NONE;
			struct drive_res r = step_bytes(&poll, &rx, 2, buf, cat(buf, seq), chunkings[k].ch, chunkings[k].n);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(r.badsum, cases[i].badsum);
			CHECK_EQ_INT(r.err, 0);
			CHECK_EQ_INT(r.bad_scan, 0);
			CHECK_EQ_INT(poll.step, 3);
			CHECK_NEAR(poll.snap.voltage, 27.554, 1e-4);
		}
}

/* A frame with a good CRC whose content cannot be: the try fails. */
static int bad_value(const char *frame, int step, size_t off, uint8_t v)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t b[32];
	drive_hex(frame, b, 32);
	b[off] = v;
	b[19] = crc8(b, 19);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.kept.ident_state = BMS_IDENT_NONE;
	struct drive_res r = step_bytes(&poll, &rx, step, b, 20, chunks_big, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.err, 1);
	return r.last_err;
}

static void test_impossible(void)
{
	CHECK_EQ_INT(bad_value(SOK_01, 2, 16, 101), BMS_E_RANGE); /* SOC 101 % */
	CHECK_EQ_INT(bad_value(SOK_03, 2, 4, 8), BMS_E_RANGE);    /* 8 sensors: beyond the frame */
	CHECK_EQ_INT(bad_value(SOK_05, 3, 2, 33), BMS_E_RANGE);   /* cell 33 */
	CHECK_EQ_INT(bad_value(SOK_05, 3, 5, 0x01), BMS_E_RANGE); /* 68.9 V a cell */
}

/* The current: signed, + = charging as aiobmsble reads it; invert_current. */
static void test_current(void)
{
	uint8_t b[32];
	drive_hex(SOK_01, b, 32);
	b[5] = 0x24; /* -1500 mA */
	b[6] = 0xFA;
	b[7] = 0xFF;
	b[19] = crc8(b, 19);
	for (int inv = 0; inv < 2; inv++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t buf[64];
		memcpy(buf, b, 20);
		size_t n = 20 + (size_t)drive_hex(SOK_03, buf + 20, 32);
		drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, false);
		poll.kept.ident_state = BMS_IDENT_NONE;
		struct drive_res r = step_bytes(&poll, &rx, 2, buf, n, notif20, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_NEAR(poll.snap.current, inv ? 1.5 : -1.5, 1e-6);
	}
}

/* Random reads of the whole first poll's bytes. */
static void test_random(void)
{
	uint32_t seed = 3;
	for (int round = 0; round < 40; round++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = { 0 };
		static const char *const *const all[] = { ans_c0, ans_c1, ans_c2, ans_c4 };
		uint8_t buf[512], req[8];
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		for (size_t i = 0; i < DRIVE_NCH(all); i++) {
			CHECK(drv->next_request(&poll, req, sizeof(req)) == 6);
			bms_rx_clear(&rx);
			drive_feed_random(&poll, &rx, buf, cat(buf, all[i]), &seed, 25, &r);
		}
		CHECK_EQ_INT(r.ok, 4);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_session(&poll);
	}
}

int main(void)
{
	test_table();
	test_hints();
	test_requests();
	test_session();
	test_cells();
	test_no_prot();
	test_protection();
	test_broken();
	test_impossible();
	test_current();
	test_random();
	return check_report();
}
