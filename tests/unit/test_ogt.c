/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ogt.c - Offgridtec Smart Pro type A over Bluetooth LE
 * (bms/ogt.c): every ogt row of tests/fixtures/vectors.tsv (two real
 * sessions of one type A pack whose name gives the key 0x1A, syssi's
 * esphome-ogt-bms docs/traffic.txt and traffic2.txt, and its design
 * capacity from traffic3.txt) through scan() +
 * handle() in whole polls as the gateway runs them, in every chunking;
 * the key from the advertised name (type A only: a type B, a malformed
 * name or none gives no key and no request), the capacity read as
 * syssi reads it, a refusal (+RD,Err), and broken input (wrong register,
 * lengths, hex, SOC, truncated answers, noise, a request echoed).
 * Protocol facts: bms/PROTOCOLS.md §56. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static const struct bms_driver *const drv = &bms_ogt_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family ogt (OGT_REQ_02 = OGT-REQ-02) */
#define OGT_REQ_02 "31485b5b2a282a2b"
#define OGT_REQ_04 "31485b5b2a2e2a29"
#define OGT_REQ_08 "31485b5b2a222a28"
#define OGT_REQ_0C "31485b5b2a592a28"
#define OGT_REQ_10 "31485b5b2b2a2a29"
#define OGT_REQ_18 "31485b5b2b222a28"
#define OGT_REQ_2C "31485b5b28592a28"
#define OGT_01 "31485e362a282e2c1710"
#define OGT_02 "31485e362a2e282f2b592a5b1710"
#define OGT_03 "31485e362a222a2a292e1710"
#define OGT_04 "31485e362a5923222a581710"
#define OGT_05 "31485e362b2a5e235c5c2a2a1710"
#define OGT_06 "31485e362b225b2e285e1710"
#define OGT_07 "31485e362a282e2f1710"
#define OGT_08 "31485e362a2e222c2b582a5b1710"
#define OGT_09 "31485e362a225c2229291710"
#define OGT_10 "31485e362a5923222a581710"
#define OGT_11 "31485e362b2a5e595c5c2a2a1710"
#define OGT_12 "31485e362b225e5c285e1710"
#define OGT_13 "31485e3628592b5b2a2a1710"
#define OGT_REQ_3C "31485b5b29592a29"
/* OGT-14: the design capacity +RD,3C10270A (0x2710 x 10 mAh = 100 Ah),
 * docs/traffic3.txt of the same pack */
#define OGT_14 "31485e3629592b2a282d2a5b1710"

/* synthetic (key 0x1A): the full capacity +RD,06DE270A (102.06 Ah, the
 * figure SOC 70 % of OGT-02 points at), its request +RAA0603, a refusal
 * +RD,Err */
#define SYN_FULL "31485e362a2c5e5f282d2a5b1710"
#define SYN_REQ_06 "31485b5b2a2c2a29"
#define SYN_ERR "31485e365f68681710"

/* A name whose key is 0x1A: 10007 = 0x2717, 4 + 6 + 5 + 6 = 21, + 5 */
#define NAME_1A "SmartBat-A10007"

/* Plain text under the key, as hex (the test's own encoder). */
static const char *enc(const char *plain, uint8_t key)
{
	static char hex[64];
	size_t i = 0;
	for (; plain[i] && 2 * i + 2 < sizeof(hex); i++)
		snprintf(hex + 2 * i, 3, "%02x", (uint8_t)plain[i] ^ key);
	hex[2 * i] = '\0';
	return hex;
}

static void og_begin(struct bms_poll *poll, struct bms_rx *rx, const char *name, bool inv)
{
	drive_begin_link(poll, rx, 0, 0, inv, BMS_LINK_BLE, false);
	snprintf(poll->peer_name, sizeof(poll->peer_name), "%s", name);
}

/* handle() of one frame (hex) at `step`, the pack named NAME_1A. */
static int handle_at(const char *hex, int step)
{
	struct bms_poll poll;
	uint8_t f[64];
	int n = check_hex(hex, f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	snprintf(poll.peer_name, sizeof(poll.peer_name), "%s", NAME_1A);
	poll.step = step;
	return drv->handle(&poll, f, (size_t)(n > 0 ? n : 0));
}

/* The key a name gives (the first request's first byte XOR '+'), -1: no request. */
static int key_of(const char *name)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t req[16];
	og_begin(&poll, &rx, name, false);
	int n = drv->next_request(&poll, req, sizeof(req));
	return n == 8 ? req[0] ^ '+' : n;
}

static void check_pack(const struct bms_poll *poll, float soc, float remain, float v, float i)
{
	const struct bms_snapshot *s = &poll->snap;
	CHECK_NEAR(s->soc, soc, 1e-6);
	CHECK_NEAR(s->remain_ah, remain, 1e-4);
	CHECK_NEAR(s->full_ah, 102.06, 1e-4);
	CHECK_NEAR(s->voltage, v, 1e-4);
	CHECK_NEAR(s->mos_temp_c, 23.65, 1e-3);
	CHECK_NEAR(s->current, i, 1e-4);
	CHECK_EQ_INT(s->cycles, 26);
	CHECK_EQ_INT(s->ncells, 0);
	CHECK_EQ_INT(s->ntemps, 0);
	CHECK_EQ_INT(s->present, BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_VOLTAGE | BMS_HAS_MOS_TEMP |
					 BMS_HAS_CURRENT | BMS_HAS_CYCLES);
}

/* ---- the table, the key, the requests ------------------------------------ */

static void test_table(void)
{
	CHECK_STR(drv->name, "ogt");
	CHECK_EQ_INT(drv->protocol_id, 47);
	CHECK(bms_find("ogt") == drv);
	drive_check_ble16("fff0", "fff4", "fff6");
	CHECK(drive_hinted(NAME_1A) && drive_hinted("SmartBat-B00001") && !drive_hinted("SmartBat"));
}

static void test_key(void)
{
	CHECK_EQ_INT(key_of(NAME_1A), 0x1A);
	CHECK_EQ_INT(key_of("SmartBat-A12345"), 16); /* 0x3039: 3 + 2 + 3 + 3 + 5 */
	CHECK_EQ_INT(key_of("SmartBat-A00000"), 13);
	CHECK_EQ_INT(key_of("SmartBat-A65535"), 5 + 4 * 3); /* FFFF */
	/* a type B, an id over 0xFFFF, four or six digits, a letter, no name */
	CHECK_EQ_INT(key_of("SmartBat-B10007"), BMS_E_KEY);
	CHECK_EQ_INT(key_of("SmartBat-A65536"), BMS_E_KEY);
	CHECK_EQ_INT(key_of("SmartBat-A1000"), BMS_E_KEY);
	CHECK_EQ_INT(key_of("SmartBat-A100070"), BMS_E_KEY);
	CHECK_EQ_INT(key_of("SmartBat-A1000x"), BMS_E_KEY);
	CHECK_EQ_INT(key_of("smartbat-a10007"), BMS_E_KEY);
	CHECK_EQ_INT(key_of(""), BMS_E_KEY);
	/* no key: every answer refused, the bytes dropped */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	og_begin(&poll, &rx, "SmartBat-B10007", false);
	uint8_t f[16];
	int n = check_hex(OGT_01, f, (int)sizeof(f));
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_E_KEY);
	struct drive_res r = drive_feed_hex(&poll, &rx, OGT_01, drive_notif20, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.skipped, 10);
}

/* The seven reads, in order, each the capture's request; never 0x18. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	og_begin(&poll, &rx, NAME_1A, false);
	static const char *const req[] = { OGT_REQ_02, OGT_REQ_04, SYN_REQ_06, OGT_REQ_08,
					   OGT_REQ_0C, OGT_REQ_10, OGT_REQ_2C };
	static const char *const ans[] = { OGT_07, OGT_08, SYN_FULL, OGT_09, OGT_10, OGT_11, OGT_13 };
	for (int k = 0; k < 7; k++) {
		CHECK(drive_req_is(&poll, req[k]));
		CHECK(!drive_req_is(&poll, OGT_REQ_18));
		drive_step(&poll, &rx, ans[k], drive_notif20, 1, 0);
	}
	CHECK_EQ_INT(poll.step, 9); /* not due: the design capacity not asked */
	poll.step = 8;
	CHECK(drive_req_is(&poll, OGT_REQ_3C));
	poll.step = 1;
	drive_request_ends(&poll, 7, 9);
	/* another name: the same register under its key */
	og_begin(&poll, &rx, "SmartBat-A12345", false);
	CHECK(drive_req_is(&poll, enc("+RAA0201", 16)));
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_sessions(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		/* traffic.txt (its cycles and full capacity not in it: OGT-13, synthetic) */
		const char *const a[] = { OGT_01, OGT_02, SYN_FULL, OGT_03, OGT_04, OGT_05, OGT_13 };
		og_begin(&poll, &rx, NAME_1A, false);
		CHECK_EQ_INT(drive_poll_hex(&poll, &rx, a, 7, &drive_chunkings[k], 8), BMS_OK);
		check_pack(&poll, 70, 72.05f, 13.312f, -0.39f);
		/* traffic2.txt, the current inverted */
		const char *const b[] = { OGT_07, OGT_08, SYN_FULL, OGT_09, OGT_10, OGT_11, OGT_13 };
		og_begin(&poll, &rx, NAME_1A, true);
		CHECK_EQ_INT(drive_poll_hex(&poll, &rx, b, 7, &drive_chunkings[k], 8), BMS_OK);
		check_pack(&poll, 69, 70.46f, 13.304f, 0.36f);
	}
}

/* The time to empty (0x18), never asked: a late answer of another
 * register is ignored, the one asked for taken. */
static void test_other_register(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	og_begin(&poll, &rx, NAME_1A, false);
	struct drive_res r = drive_step(&poll, &rx, OGT_06 OGT_12 OGT_01, drive_odd, DRIVE_NCH(drive_odd), 2);
	CHECK_EQ_INT(r.frames, 3);
	CHECK_EQ_INT(poll.step, 2);
	CHECK_EQ_INT(handle_at(OGT_10, 1), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_at(OGT_10, 5), BMS_OK);
}

/* ---- broken input --------------------------------------------------------- */

static void test_impossible(void)
{
	CHECK_EQ_INT(handle_at(SYN_ERR, 1), BMS_E_REFUSED);
	CHECK_EQ_INT(handle_at(enc("+RD,0265\r\n", 0x1A), 1), BMS_E_RANGE);	   /* SOC 101 % */
	CHECK_EQ_INT(handle_at(enc("+RD,024\r\n", 0x1A), 1), BMS_E_SHORT);	   /* an odd digit count */
	CHECK_EQ_INT(handle_at(enc("+RD,0246FF\r\n", 0x1A), 1), BMS_E_SHORT);   /* a byte too many */
	CHECK_EQ_INT(handle_at(enc("+RD,04251C\r\n", 0x1A), 2), BMS_E_SHORT);   /* a byte short */
	CHECK_EQ_INT(handle_at(enc("+RD,02G6\r\n", 0x1A), 1), BMS_E_HEADER);    /* not hex */
	CHECK_EQ_INT(handle_at(enc("+RD,02\r\n", 0x1A), 1), BMS_E_HEADER);      /* no value */
	CHECK_EQ_INT(handle_at(enc("+RX,0246\r\n", 0x1A), 1), BMS_E_HEADER);
	CHECK_EQ_INT(handle_at(enc("+RD,0246\n\n", 0x1A), 1), BMS_E_HEADER);
	CHECK_EQ_INT(handle_at(enc("+RD,0246\r\n", 0x1B), 1), BMS_E_HEADER);    /* another key */
	CHECK_EQ_INT(handle_at("31485e362a282e2c1710000000000000", 1), BMS_E_SHORT); /* 16 bytes */
	CHECK_EQ_INT(handle_at(OGT_01, 9), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(handle_at(OGT_01, 1), BMS_OK);
	/* a capacity's third byte is its factor (0 gives 0 Ah, as syssi reads it) */
	struct bms_poll poll;
	uint8_t f[32];
	int n = check_hex(enc("+RD,04102701\r\n", 0x1A), f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	snprintf(poll.peer_name, sizeof(poll.peer_name), "%s", NAME_1A);
	poll.step = 2;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK_NEAR(poll.snap.remain_ah, 10.0, 1e-4);
	/* a poll without its voltage, or not complete, is not a sample */
	poll.step = 9;
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
}

/* The framer: noise, an echoed request, a start without "RD,", an answer
 * without its CR LF (truncated), the good answer after them. */
static void test_framer(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	og_begin(&poll, &rx, NAME_1A, false);
	uint8_t b[32];
	size_t n = 0;
	int k = check_hex(OGT_02, b, (int)sizeof(b));
	CHECK_EQ_INT(drv->scan(&poll, b, (size_t)k, &n), BMS_SCAN_FRAME);
	CHECK_EQ_INT(n, 14);
	for (int i = 1; i < k; i++)
		CHECK_EQ_INT(drv->scan(&poll, b, (size_t)i, &n), BMS_SCAN_NEED);
	char hex[200];
	snprintf(hex, sizeof(hex), "00ff" OGT_REQ_02 "%.16s" "%s", OGT_08, OGT_01);
	struct drive_res r = drive_step(&poll, &rx, hex, drive_notif20, 1, 0);
	CHECK_EQ_INT(r.frames, 1);
	CHECK_EQ_INT(r.skipped, 2 + 8 + 8);
	CHECK_EQ_INT(poll.step, 2);
	/* a byte no answer holds before CR LF: a bad frame, its start dropped */
	r = drive_feed_hex(&poll, &rx, enc("+RD,0G46\r\n", 0x1A), chunks_big, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(r.badsum, 1);
	CHECK_EQ_INT(r.skipped, 10);
	/* truncated: no frame, the poll does not complete */
	r = drive_feed_hex(&poll, &rx, "31485e362a2e282f2b592a5b17", chunks_one, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* 14 bytes without CR LF: the start is dropped */
	bms_rx_clear(&rx);
	r = drive_feed_hex(&poll, &rx, "31485e362a2e282f2b592a5b2a2a2a2a", chunks_big, 1);
	CHECK_EQ_INT(r.frames, 0);
	CHECK(r.skipped >= 1);
}

/* ---- the design capacity, 0x3C (§56.4) ------------------------------------ */

/* Asked after the cycles in a poll marked settings_due: OGT-14 gives
 * capacity_ah 100; refused (+RD,Err) or unanswered, the poll is good
 * without it; out of range (0): absent. */
static void test_design(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		const char *const a[] = { OGT_01, OGT_02, SYN_FULL, OGT_03, OGT_04, OGT_05, OGT_13, OGT_14 };
		og_begin(&poll, &rx, NAME_1A, false);
		poll.settings_due = true;
		CHECK_EQ_INT(drive_poll_hex(&poll, &rx, a, 8, &drive_chunkings[k], 8), BMS_OK);
		check_pack(&poll, 70, 72.05f, 13.312f, -0.39f);
		CHECK_EQ_INT((long long)poll.kept.settings.have, (long long)drv->settings);
		CHECK_NEAR(poll.kept.settings.v[BMS_SET_CAPACITY_AH], 100.0, 1e-4);
	}
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t req[16];
	og_begin(&poll, &rx, NAME_1A, false);
	poll.settings_due = true;
	poll.step = 8;
	drive_step(&poll, &rx, SYN_ERR, drive_notif20, 1, 0); /* refused: taken, counted */
	CHECK_EQ_INT((int)poll.refusals, 1);
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	CHECK_EQ_INT((int)poll.kept.settings.have, 0);
	og_begin(&poll, &rx, NAME_1A, false);
	poll.step = 8;
	CHECK(drv->timeout(&poll)); /* unanswered: skipped */
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	poll.step = 7;
	CHECK(!drv->timeout(&poll)); /* a status register: a failed try */
	CHECK_EQ_INT(handle_at(OGT_14, 7), BMS_E_UNEXPECTED); /* at the cycles' step */
	CHECK_EQ_INT(handle_at(enc("+RD,3C1027\r\n", 0x1A), 8), BMS_E_SHORT);
	uint8_t f[32];
	int n = check_hex(enc("+RD,3C102700\r\n", 0x1A), f, (int)sizeof(f));
	og_begin(&poll, &rx, NAME_1A, false);
	poll.step = 8;
	CHECK_EQ_INT(drv->handle(&poll, f, (size_t)n), BMS_OK);
	CHECK(!bms_settings_has(&poll.kept.settings, BMS_SET_CAPACITY_AH)); /* 0 mAh */
}

int main(void)
{
	test_table();
	test_key();
	test_requests();
	test_sessions();
	test_other_register();
	test_impossible();
	test_framer();
	test_design();
	return check_report();
}
