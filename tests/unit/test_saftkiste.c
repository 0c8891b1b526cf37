/* SPDX-License-Identifier: MIT */
/* tests/unit/test_saftkiste.c - the Saftkiste BMS over Bluetooth LE
 * (bms/saftkiste.c): the saftkiste rows of tests/fixtures/vectors.tsv
 * (aiobmsble's recorded login, setup, reads and their answers) through
 * scan() + handle() as the gateway runs a poll: the login and the setup on
 * a fresh connection, with the maker's password or the pack's pin, the
 * reads alone on the connection after, in every chunking; a refused login
 * (auth failed, the login again at the next poll); the setup unanswered;
 * broken input (another head, a frame cut short, a zero voltage or design
 * capacity, a SOC beyond 100 %, an answer to another step).  Protocol
 * facts: bms/PROTOCOLS.md §75. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_saftkiste_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family saftkiste */
#define SAFTKISTE_REQ_LOGIN "f0ff1041424331323300e7806948"
#define SAFTKISTE_REQ_SETUP "f0ff430101e7806996"
#define SAFTKISTE_REQ_02 "f0ff02"
#define SAFTKISTE_REQ_03 "f0ff03"
#define SAFTKISTE_01 "f0ff00e0930400978d04002c01a834b8ff2f0d240d2d0d280d21004705c2050001000000040e6a"
#define SAFTKISTE_02 \
	"f0ff430101e780696f232723e1229a2253220d22c6217f213721ef20a6205d201420cb1f841f461f0d1ff11ec61ea31e701e" \
	"2e1ee71d9f1d571d0f1dc71c7f1c371cef1ba61b5f1b171bcf1a871a3f1af719af196e193b191219f518dd18c31895185718" \
	"1118c917e92644"
#define SAFTKISTE_03 "f0ff02e0930400a78a04002c010c36f5ff840d7f0d850d840d2100b102fe020001000000040e000000030003010012"
#define SAFTKISTE_04 "f0ff030000437429784a690000000103b03242470100c126e09304000003032cc5020006000000000000ff6e"
#define SAFTKISTE_05 "f0ff100007"

enum { SK_BEGIN = 0, SK_LOGIN, SK_SETUP, SK_STATUS, SK_INFO, SK_DONE };

static void check_values(const struct bms_snapshot *s)
{
	static const uint16_t cells[4] = { 3460, 3455, 3461, 3460 };
	CHECK_NEAR(s->voltage, 13.836, 1e-4);
	CHECK_NEAR(s->current, -0.11, 1e-5);
	CHECK_NEAR(s->soc, 99.21, 1e-4);
	CHECK_NEAR(s->full_ah, 300.0, 1e-4);
	CHECK_NEAR(s->remain_ah, 297.639, 1e-4);
	CHECK_EQ_INT(s->cycles, 33);
	drive_check_cells(s, cells, 4);
	CHECK_EQ_INT(s->ntemps, 0);
}

static void begin(struct bms_poll *poll, struct bms_rx *rx, bool fresh)
{
	drive_begin_link(poll, rx, 0, 0, false, BMS_LINK_BLE, fresh);
}

static void test_table(void)
{
	drive_check_ble("6e400001-b5a3-f393-e0a9-e50e24dcca9e", "6e400003-b5a3-f393-e0a9-e50e24dcca9e",
			"6e400002-b5a3-f393-e0a9-e50e24dcca9e");
	CHECK_STR(drv->name, "saftkiste");
	CHECK_EQ_INT(drv->protocol_id, 65);
	CHECK(bms_find("saftkiste") == drv);
	const struct bms_ble_pin *p = drv->ble->pin;
	CHECK(p && p->min_len == 6 && p->max_len == 6 && !p->digits && !p->silent);
	CHECK_STR(p ? p->dflt : "", "ABC123");
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h && h[0].kind == BMS_BLE_COMPANY && h[0].value == 0x1234 && h[1].why == NULL);
}

/* A fresh connection: login (the maker's password), setup, both reads. */
static void test_first_poll(void)
{
	static const char *const answers[] = { SAFTKISTE_01, SAFTKISTE_02, SAFTKISTE_03, SAFTKISTE_04 };
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		begin(&poll, &rx, true);
		poll.secret_req = false;
		CHECK(drive_req_is(&poll, SAFTKISTE_REQ_LOGIN));
		CHECK(poll.secret_req);
		CHECK_EQ_INT(poll.auth, BMS_AUTH_SENT);
		CHECK_EQ_INT(drive_poll_hex(&poll, &rx, answers, 4, &drive_chunkings[k], 0), BMS_OK);
		check_values(&poll.snap);
		CHECK_EQ_INT(poll.auth, BMS_AUTH_OK);
		/* the next poll on that connection: the reads alone */
		begin(&poll, &rx, false);
		poll.secret_req = false;
		CHECK(drive_req_is(&poll, SAFTKISTE_REQ_02));
		CHECK(!poll.secret_req);
		CHECK_EQ_INT(drive_poll_hex(&poll, &rx, answers + 2, 2, &drive_chunkings[k], 3), BMS_OK);
		check_values(&poll.snap);
	}
	/* the requests of each step, byte for byte */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, true);
	poll.step = SK_SETUP;
	CHECK(drive_req_is(&poll, SAFTKISTE_REQ_SETUP));
	poll.step = SK_INFO;
	CHECK(drive_req_is(&poll, SAFTKISTE_REQ_03));
	drive_request_ends(&poll, 2, SK_DONE);
}

/* The pack's pin in place of the maker's; a refusal. */
static void test_pin(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, true);
	snprintf(poll.pin, sizeof(poll.pin), "XYZ789");
	CHECK(drive_req_is(&poll, "f0ff10" "58595a373839" "00e7806948"));
	struct drive_res r = drive_feed_hex(&poll, &rx, SAFTKISTE_05, drive_odd, DRIVE_NCH(drive_odd));
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_AUTH);
	CHECK_EQ_INT(r.bad_scan, 0);
	/* refused: the next poll logs in again, on the same connection */
	begin(&poll, &rx, false);
	CHECK(drive_req_is(&poll, SAFTKISTE_REQ_LOGIN));
	/* an answer that comes to another step: ignored (the login's and the
	 * setup's are framed by their head) */
	CHECK_EQ_INT(drive_handle_at("f0ff00", SK_STATUS), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at("f0ff10", SK_INFO), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at("f0ff43", SK_STATUS), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at(SAFTKISTE_03, SK_INFO), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(drive_handle_at(SAFTKISTE_01, SK_LOGIN), BMS_E_SHORT);
	/* a new connection: the login again */
	poll.persist = 0x1u;
	begin(&poll, &rx, true);
	CHECK(drive_req_is(&poll, SAFTKISTE_REQ_LOGIN));
}

/* The setup left unanswered: the reads follow. */
static void test_setup_silent(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, true);
	CHECK(drive_req_is(&poll, SAFTKISTE_REQ_LOGIN));
	CHECK_EQ_INT(drive_feed_hex(&poll, &rx, SAFTKISTE_01, chunks_big, 1).ok, 1);
	CHECK(drive_req_is(&poll, SAFTKISTE_REQ_SETUP));
	CHECK(drv->timeout(&poll));
	CHECK(drive_req_is(&poll, SAFTKISTE_REQ_02));
	CHECK(!drv->timeout(&poll)); /* an unanswered read is a failed try */
}

static void test_broken(void)
{
	uint8_t b[64];
	size_t n;
	/* garbage, a head that is no frame, another type before the answer */
	drive_check_broken(SK_STATUS, SK_INFO, "00f0f0aa55f0ff7701", SAFTKISTE_03, 0, 0, NULL);
	struct bms_poll last;
	drive_check_broken(SK_INFO, SK_DONE, "f0fe03", SAFTKISTE_04, 0, 0, &last);
	CHECK_NEAR(last.snap.soc, 99.21, 1e-4);
	/* every part of a read's answer needs the rest */
	drive_scan_whole(SAFTKISTE_03, b, sizeof(b), 47);
	drive_scan_whole(SAFTKISTE_04, b, sizeof(b), 44);
	/* values that cannot be: a zero voltage, design 0, remaining beyond
	 * it, a zero cell, SOC over 100 % */
	static const struct { int at, len; uint32_t v; int step; } bad[] = {
		{ 13, 2, 0, SK_STATUS }, { 3, 4, 0, SK_STATUS }, { 7, 4, 400000, SK_STATUS }, { 19, 2, 0, SK_STATUS },
		{ 22, 2, 10001, SK_INFO },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = (size_t)check_hex(bad[i].step == SK_STATUS ? SAFTKISTE_03 : SAFTKISTE_04, b, (int)sizeof(b));
		for (int k = 0; k < bad[i].len; k++)
			b[bad[i].at + k] = (uint8_t)(bad[i].v >> (8 * k));
		CHECK_EQ_INT(drive_bad_frame(b, n, bad[i].step), BMS_E_RANGE);
	}
	/* handle() on a frame of the wrong length or head */
	n = (size_t)check_hex(SAFTKISTE_03, b, (int)sizeof(b));
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = SK_STATUS;
	CHECK_EQ_INT(drv->handle(&poll, b, n - 1), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, b, 2), BMS_E_HEADER);
	b[2] = 0x07;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_HEADER);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)"\xf0\xff\x00\x00", 4), BMS_E_SHORT);
}

int main(void)
{
	test_table();
	test_first_poll();
	test_pin();
	test_setup_silent();
	test_broken();
	return check_report();
}
