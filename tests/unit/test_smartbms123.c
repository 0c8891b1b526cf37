/* SPDX-License-Identifier: MIT */
/* tests/unit/test_smartbms123.c - 123\SmartBMS gen 3 over Bluetooth LE
 * (bms/smartbms123.c): the smartbms123 rows of tests/fixtures/vectors.tsv
 * (aiobmsble's documented lines of a 4-cell pack, its requests and
 * answers) through scan() + handle() as the gateway runs a poll: the
 * handshake on a fresh connection (a ping, the PIN where there is one, a
 * ping, E!), then a ping a line until U, E and every cell came, in every
 * chunking and with every line arrived at once (kept between the steps);
 * the next poll on that connection pings at once; a refused PIN and an
 * E! not authorised (auth failed); a line's ping unanswered starts the
 * lines again; broken lines (no CR within 120 bytes, a control byte, a
 * field that is no hex, a cell beyond its count, a count that changes, a
 * zero voltage, SOC and SOH over 100 %, the stream before its start).
 * Protocol facts: bms/PROTOCOLS.md §73. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_smartbms123_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family smartbms123 (lines as hex) */
#define SMARTBMS123_REQ_PING "24"
#define SMARTBMS123_REQ_PW "505731323334210d"
#define SMARTBMS123_REQ_E "45210d"
#define SMARTBMS123_01 "555f304138435f2b303030305f2d303032385f2d303032380d"
#define SMARTBMS123_02 "435f30315f30345f3239455f3132365f30335f33300d"
#define SMARTBMS123_03 "435f30325f30345f3241305f3132365f30335f33300d"
#define SMARTBMS123_04 "435f30335f30345f3239465f3132365f30335f33300d"
#define SMARTBMS123_05 "435f30345f30345f3241315f3132365f30335f33300d"
#define SMARTBMS123_06 "455f3030303030305f3030303030305f3030303030305f34420d"
#define SMARTBMS123_07 "4f4b0d"
#define SMARTBMS123_08 "4e410d"

enum { SM_BEGIN = 0, SM_PING0, SM_PW, SM_PING1, SM_EN, SM_DATA };

static const char *const lines[] = { SMARTBMS123_01, SMARTBMS123_02, SMARTBMS123_03,
				     SMARTBMS123_04, SMARTBMS123_05, SMARTBMS123_06 };
static const uint16_t cells_4[4] = { 3350, 3360, 3355, 3365 };

static void check_values(const struct bms_snapshot *s)
{
	CHECK_NEAR(s->voltage, 13.5, 1e-4);
	CHECK_NEAR(s->current, -2.0, 1e-5);
	CHECK_NEAR(s->soc, 75.0, 1e-6);
	drive_check_cells(s, cells_4, 4);
	CHECK_EQ_INT(s->ntemps, 4);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(s->temp_c[i], 18.0, 1e-6);
	CHECK(!(s->present & BMS_HAS_SOH));
}

static void begin(struct bms_poll *poll, struct bms_rx *rx, bool fresh, const char *pin)
{
	drive_begin_link(poll, rx, 0, 0, false, BMS_LINK_BLE, fresh);
	snprintf(poll->pin, sizeof(poll->pin), "%s", pin ? pin : "");
}

/* A step whose request is want (hex) answered by ans (hex): one BMS_OK. */
static void step(struct bms_poll *poll, struct bms_rx *rx, const char *want, const char *ans,
		 const struct drive_chunking *c)
{
	CHECK(drive_req_is(poll, want));
	CHECK(!drv->sent(poll));
	struct drive_res r = drive_feed_hex(poll, rx, ans, c->ch, c->n);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err + r.bad_scan + r.badsum, 0);
}

/* A ping of the handshake: written, its step over. */
static void ping(struct bms_poll *poll)
{
	CHECK(drive_req_is(poll, SMARTBMS123_REQ_PING));
	CHECK(drv->sent(poll));
}

static void data(struct bms_poll *poll, struct bms_rx *rx, const struct drive_chunking *c)
{
	for (size_t i = 0; i < 6; i++)
		step(poll, rx, SMARTBMS123_REQ_PING, lines[i], c);
	uint8_t req[16];
	CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(poll), BMS_OK);
	CHECK_EQ_INT(poll->snap.present & ~drv->provides, 0);
	check_values(&poll->snap);
}

static void test_table(void)
{
	drive_check_ble("6e400001-b5a3-f393-e0a9-e50e24dcca9e", "6e400003-b5a3-f393-e0a9-e50e24dcca9e",
			"6e400002-b5a3-f393-e0a9-e50e24dcca9e");
	CHECK_STR(drv->name, "smartbms123");
	CHECK_EQ_INT(drv->protocol_id, 63);
	CHECK(drv->keep_rx && drv->sent);
	CHECK(drive_hinted("123\\SmartBMS") && !drive_hinted("123BMS-BLE-01"));
	const struct bms_ble_pin *p = drv->ble->pin;
	CHECK(p && p->digits && p->min_len == 4 && p->max_len == 4 && !p->dflt);
}

/* The poller's take: the frame that completes the step stops the framing. */
struct one_take {
	struct bms_poll *poll;
	int took;
};

static enum bms_frame_next take_one(void *ctx, const uint8_t *f, size_t n)
{
	struct one_take *t = ctx;
	if (drv->handle(t->poll, f, n) != BMS_OK)
		return BMS_FRAME_MORE;
	t->took++;
	return BMS_FRAME_STOP;
}

static void test_polls(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		const struct drive_chunking *c = &drive_chunkings[k];
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		/* no PIN: a ping, E!, the lines */
		begin(&poll, &rx, true, NULL);
		ping(&poll);
		step(&poll, &rx, SMARTBMS123_REQ_E, SMARTBMS123_07, c);
		data(&poll, &rx, c);
		/* the next poll on that connection: the lines at once */
		begin(&poll, &rx, false, NULL);
		data(&poll, &rx, c);
		/* a PIN: a ping, PW, a ping, E!, the lines */
		begin(&poll, &rx, true, "1234");
		ping(&poll);
		poll.secret_req = false;
		CHECK(drive_req_is(&poll, SMARTBMS123_REQ_PW));
		CHECK(poll.secret_req);
		step(&poll, &rx, SMARTBMS123_REQ_PW, SMARTBMS123_07, c);
		CHECK_EQ_INT(poll.auth, BMS_AUTH_OK);
		ping(&poll);
		step(&poll, &rx, SMARTBMS123_REQ_E, SMARTBMS123_07, c);
		data(&poll, &rx, c);
	}
	/* every line arrived at once: each step takes one, the rest kept */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, false, NULL);
	poll.persist = 0x1u; /* streaming */
	uint8_t all[512];
	size_t n = 0;
	for (int i = 0; i < 6; i++)
		n += (size_t)check_hex(lines[i], all + n, (int)(sizeof(all) - n));
	bms_rx_feed(&rx, all, n);
	for (int i = 0; i < 6; i++) {
		CHECK(drive_req_is(&poll, SMARTBMS123_REQ_PING));
		struct one_take t = { &poll, 0 };
		/* the poller frames what is kept after each request, and stops
		 * at the line that ends the step */
		bms_frames(drv, &poll, &rx, take_one, &t, NULL);
		CHECK_EQ_INT(t.took, 1);
	}
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
}

static void test_refusals(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	/* the PIN refused */
	begin(&poll, &rx, true, "1234");
	ping(&poll);
	CHECK(drive_req_is(&poll, SMARTBMS123_REQ_PW));
	struct drive_res r = drive_feed_hex(&poll, &rx, SMARTBMS123_08, drive_odd, DRIVE_NCH(drive_odd));
	CHECK_EQ_INT(r.last_err, BMS_E_AUTH);
	CHECK_EQ_INT(drive_handle_at("57524f4e470d", SM_PW), BMS_E_AUTH); /* WRONG */
	CHECK_EQ_INT(drive_handle_at("4b4f0d", SM_PW), BMS_E_AUTH);       /* KO */
	/* E! not authorised (a module that wants a PIN, none given) */
	begin(&poll, &rx, true, NULL);
	ping(&poll);
	CHECK(drive_req_is(&poll, SMARTBMS123_REQ_E));
	r = drive_feed_hex(&poll, &rx, SMARTBMS123_08, chunks_one, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_AUTH);
	/* refused: the next poll starts again with the ping */
	begin(&poll, &rx, false, NULL);
	ping(&poll);
	/* an answer that comes late: ignored */
	CHECK_EQ_INT(drive_handle_at(SMARTBMS123_07, SM_DATA), BMS_E_UNEXPECTED);
	/* the stream before its start */
	CHECK_EQ_INT(drive_handle_at(SMARTBMS123_01, SM_EN), BMS_E_UNEXPECTED);
	/* a line's ping unanswered: the next try starts the lines again */
	begin(&poll, &rx, false, NULL);
	poll.persist = 0x1u;
	CHECK(drive_req_is(&poll, SMARTBMS123_REQ_PING));
	CHECK(!drv->timeout(&poll));
	ping(&poll);
	CHECK(drive_req_is(&poll, SMARTBMS123_REQ_E));
}

/* A line (text) handled at a data step: its result. */
static int line_at(const char *text)
{
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = SM_DATA;
	return drv->handle(&poll, (const uint8_t *)text, strlen(text));
}

static void test_broken(void)
{
	uint8_t b[300];
	size_t n = 0;
	/* garbage, a control byte in a line, an LF, before a line */
	drive_check_broken(SM_DATA, SM_DATA + 1, "0a0d00", SMARTBMS123_01, 0, 0, NULL);
	drive_check_broken(SM_DATA, SM_DATA + 1, "0a4107", SMARTBMS123_01, 1, 0, NULL);
	/* 121 bytes without a CR: damage, a byte at a time */
	memset(b, 'A', 121);
	CHECK_EQ_INT(drv->scan(NULL, b, 121, &n), BMS_SCAN_BADSUM);
	CHECK_EQ_INT(drv->scan(NULL, b, 120, &n), BMS_SCAN_NEED);
	drive_scan_whole(SMARTBMS123_02, b, sizeof(b), 22);
	/* values and fields that cannot be */
	CHECK_EQ_INT(line_at("U_0000_0000_+0010_0000\r"), BMS_E_RANGE);
	CHECK_EQ_INT(line_at("U_0A8C_0000_+0G10_0000\r"), BMS_E_HEADER);
	CHECK_EQ_INT(line_at("U_0A8C\r"), BMS_E_HEADER);
	CHECK_EQ_INT(line_at("C_05_04_29E_126\r"), BMS_E_RANGE);
	CHECK_EQ_INT(line_at("C_00_04_29E_126\r"), BMS_E_RANGE);
	CHECK_EQ_INT(line_at("C_01_21_29E_126\r"), BMS_E_RANGE);
	CHECK_EQ_INT(line_at("C_01_04_000_126\r"), BMS_E_RANGE);
	CHECK_EQ_INT(line_at("E_0_0_0_65\r"), BMS_E_RANGE);
	CHECK_EQ_INT(line_at("H_65\r"), BMS_E_RANGE);
	CHECK_EQ_INT(line_at("H_5F_00\r"), BMS_OK);
	CHECK_EQ_INT(line_at("T_01_02\r"), BMS_OK); /* another line of the stream */
	CHECK_EQ_INT(line_at("hello\r"), BMS_E_UNEXPECTED);
	CHECK_EQ_INT(line_at("U_0A8C_0000_X_0000\r"), BMS_OK); /* X: not available */
	CHECK_EQ_INT(line_at("\r"), BMS_E_SHORT);
	CHECK_EQ_INT(line_at("U_0A8C_0000_+0010_0000"), BMS_E_SHORT);
	/* a count that changes within a poll */
	struct bms_poll poll;
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = SM_DATA;
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)"C_01_04_29E_126\r", 16), BMS_OK);
	CHECK_EQ_INT(drv->handle(&poll, (const uint8_t *)"C_02_05_29E_126\r", 16), BMS_E_RANGE);
	/* a poll without E: not whole */
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a buffer too small for PW */
	struct bms_rx rx;
	begin(&poll, &rx, true, "1234");
	poll.step = SM_PW;
	CHECK_EQ_INT(drv->next_request(&poll, b, 7), BMS_E_NOSPACE);
}

int main(void)
{
	test_table();
	test_polls();
	test_refusals();
	test_broken();
	return check_report();
}
