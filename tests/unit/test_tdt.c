/* SPDX-License-Identifier: MIT */
/* tests/unit/test_tdt.c - the TDT smart BMS (WattCycle, XDZN) over
 * Bluetooth LE (bms/tdt.c): the tdt rows of tests/fixtures/vectors.tsv
 * (aiobmsble's 4S and 16S units, the GateLink capture of a WattCycle 12 V
 * 100 Ah Mini) through scan() + handle() in whole polls as the gateway
 * runs them (0x8C, 0x8D, then 0x92 on a new connection), in every chunking
 * (20-byte notifications, odd reads, one byte at a time), the request head
 * 0x7E then 0x1E, refused and unanswered identities, `cells =`, the
 * current's flags, and broken input (bad CRC or end byte, truncated
 * frames, headers that cannot be, impossible counts).  Protocol facts:
 * bms/PROTOCOLS.md §45. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <strings.h>

static const struct bms_driver *const drv = &bms_tdt_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family tdt: each macro is the row of the id
 * it spells (TDT_01 = TDT-01, TDT_REQ_8C_1E = TDT-REQ-8C-1E) */
#define TDT_REQ_8C "7e000103008c000099420d"
#define TDT_REQ_8D "7e000103008d000059130d"
#define TDT_REQ_92 "7e000103009200009f220d"
#define TDT_REQ_8C_1E "1e000103008c0000b1440d"
#define TDT_REQ_8D_1E "1e000103008d000071150d"
#define TDT_REQ_92_1E "1e00010300920000b7240d"
#define TDT_01 "7e000103008c0020040ce10cdf0ce10cdc040b930b9b0b8d0b8c40000526023f041c000803e8003791910d"
#define TDT_02 "7e004103008d0018040000000004000000000000000000000609000018000000df680d"
#define TDT_03 "7e000103008c003c100ce30ce60cde0cde0cdd0cde0cdd0cdc0cdc0cda0cde0cde0cde0cdd0cdf0cde060b5e" \
	       "0b6f0b5e0b5e0b5e0b66c039149603df043b000803e8005b2b9c0d"
#define TDT_04 "7e000103008d00271000000000000000000000000000000000060000000000000000000200000e0100001800" \
	       "0000000b7b0d"
#define TDT_05 "7e0001030092003c363033325f3130303136533030305f4c5f34310000000000000000000000000000000000" \
	       "00000000363033323630313632303732373030303100000050010d"
#define TDT_06 "7e000103008c0020040d890da10d9c0d9b040b820b9d0b7f0b7e4000057003e703e8000103e8006455a30d"
#define TDT_07 "7e000103008d0018040000000004000000000000000000000629000000000000bd3f0d"
#define TDT_08 "7e0001030092003c575433305f3130303034535731345f4c5f3031003131313132323232333333333434343435" \
	       "353535494b4b4b4b3030303041494930303030303030302eb70d"

enum { S_ANALOG = 1, S_WARN, S_INFO, S_DONE }; /* the driver's steps (bms/tdt.c) */


/* Close a frame b[0..n) with its CRC (high byte first) and 0x0D. */
static void seal(uint8_t *b, size_t n)
{
	uint16_t c = drive_crc16(b, n - 3);
	b[n - 3] = (uint8_t)(c >> 8);
	b[n - 2] = (uint8_t)c;
	b[n - 1] = 0x0D;
}

/* A poll from its answers (one hex frame a request). */
static int poll_of(struct bms_poll *poll, struct bms_rx *rx, const char *const *answers, size_t n,
		   const struct drive_chunking *c)
{
	static uint8_t buf[4][128];
	struct drive_answer a[4];
	for (size_t i = 0; i < n && i < 4; i++)
		a[i] = (struct drive_answer){ buf[i], (size_t)drive_hex(answers[i], buf[i], 128), c->ch, c->n, 0, 11 };
	struct drive_res r = { 0 };
	return drive_poll(poll, rx, a, n < 4 ? n : 4, &r);
}

/* What one unit's 0x8C and 0x8D decode to. */
struct tdt_want {
	uint16_t cells[16];
	int ncells;
	float temps[6];
	int ntemps;
	float volts, amps, soc, remain, full;
	uint32_t cycles;
};

/* TDT-01 + TDT-02: aiobmsble's 4S unit. */
static const struct tdt_want want_4s = {
	{ 3297, 3295, 3297, 3292 }, 4, { 23.2f, 24.0f, 22.6f, 22.5f }, 4, 13.18f, 0.0f, 55, 57.5f, 105.2f, 8
};
/* TDT-03 + TDT-04: aiobmsble's 16S unit, discharging 5.7 A. */
static const struct tdt_want want_16s = {
	{ 3299, 3302, 3294, 3294, 3293, 3294, 3293, 3292, 3292, 3290, 3294, 3294, 3294, 3293, 3295, 3294 }, 16,
	{ 17.9f, 19.6f, 17.9f, 17.9f, 17.9f, 18.7f }, 6, 52.7f, -5.7f, 91, 99.1f, 108.3f, 8
};
/* TDT-06 + TDT-07: the GateLink capture, a WattCycle 12 V 100 Ah Mini. */
static const struct tdt_want want_gatelink = {
	{ 3465, 3489, 3484, 3483 }, 4, { 21.5f, 24.2f, 21.2f, 21.1f }, 4, 13.92f, 0.0f, 100, 99.9f, 100.0f, 1
};

static void check_unit(const struct bms_snapshot *s, const struct tdt_want *w)
{
	drive_check_cells(s, w->cells, w->ncells);
	CHECK_EQ_INT(s->ntemps, w->ntemps);
	for (int i = 0; i < w->ntemps; i++)
		CHECK_NEAR(s->temp_c[i], w->temps[i], 1e-4);
	CHECK_NEAR(s->voltage, w->volts, 1e-4);
	CHECK_NEAR(s->current, w->amps, 1e-5);
	CHECK_NEAR(s->soc, w->soc, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-4);
	CHECK_NEAR(s->remain_ah, w->remain, 1e-4);
	CHECK_NEAR(s->full_ah, w->full, 1e-4);
	CHECK_EQ_INT(s->cycles, w->cycles);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(s->alarms, 0);
	CHECK_EQ_INT(s->raw_alarms[0], 0);
	CHECK_EQ_INT(s->present, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
				 BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
				 BMS_HAS_ALARMS);
}

/* ---- the table, the requests --------------------------------------------- */

static void test_table(void)
{
	CHECK_STR(drv->name, "tdt");
	CHECK_EQ_INT(drv->protocol_id, 37);
	CHECK(bms_find("tdt") == drv);
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->listens == NULL);
	const struct bms_gatt *g = drv->ble->gatt;
	CHECK_STR(g[0].service, "0000fff0-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g[0].notify, "0000fff1-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g[0].write, "0000fff2-0000-1000-8000-00805f9b34fb");
	CHECK(g[0].write_service == NULL && drv->ble->write_request);
	const struct bms_ble_auth *a = drv->ble->auth;
	CHECK_STR(a->chr, "0000fffa-0000-1000-8000-00805f9b34fb");
	CHECK(a->len == 6 && memcmp(a->data, "HiLink", 6) == 0 && a->ok == 0x01);
	CHECK(g[1].service == NULL);
	CHECK(drv->probe == NULL);
	CHECK(drv->control == NULL);
	CHECK_EQ_INT(drv->max_address, 0);
}

static bool hinted(const char *name, uint32_t company)
{
	for (const struct bms_ble_hint *h = drv->ble->hints; h && h->why; h++) {
		if (h->kind == BMS_BLE_COMPANY && h->value == company)
			return true;
		if (h->kind == BMS_BLE_NAME && name && strncasecmp(name, h->prefix, strlen(h->prefix)) == 0)
			return true;
	}
	return false;
}

static void test_hints(void)
{
	CHECK(hinted("XDZN_001_49A1", 0));
	CHECK(hinted("WTbF1234", 0xD6C0));
	CHECK(!hinted("WT12V100", 0));
	CHECK(!hinted("XDZ_001", 0));
	CHECK(!hinted("JBD-SP04S034", 0xD6C1));
}

/* Every request is one of the three reads, head 0x7E; until the BMS has
 * answered, a try that times out swaps the head (0x1E), for good once
 * one is answered. */
static void test_requests(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	CHECK(drive_req_is(&poll, TDT_REQ_8C));
	CHECK(!drv->timeout(&poll));
	CHECK(drive_req_is(&poll, TDT_REQ_8C_1E));
	CHECK(!drv->timeout(&poll));
	CHECK(drive_req_is(&poll, TDT_REQ_8C));
	CHECK(!drv->timeout(&poll));
	drive_step(&poll, &rx, TDT_06, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, TDT_REQ_8D_1E));
	CHECK(!drv->timeout(&poll)); /* answered before: the head stays */
	CHECK(drive_req_is(&poll, TDT_REQ_8D_1E));
	drive_step(&poll, &rx, TDT_07, drive_notif20, 1, 0);
	CHECK(drive_req_is(&poll, TDT_REQ_92_1E));
	drive_step(&poll, &rx, TDT_08, drive_notif20, 1, 0);
	uint8_t req[16];
	CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
	/* the next polls: 1E, no identity */
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	CHECK(drive_req_is(&poll, TDT_REQ_8C_1E));
	/* a BMS that answers 7E keeps it */
	struct bms_poll p2 = { 0 };
	drive_begin_link(&p2, &rx, 0, 0, false, BMS_LINK_BLE, false);
	p2.kept.ident_state = BMS_IDENT_NONE;
	drive_step(&p2, &rx, TDT_01, drive_notif20, 1, 0);
	CHECK(drive_req_is(&p2, TDT_REQ_8D));
	p2.step = S_INFO;
	CHECK(drive_req_is(&p2, TDT_REQ_92));
	CHECK_EQ_INT(drv->next_request(&p2, req, 10), BMS_E_NOSPACE);
	p2.step = 9;
	CHECK_EQ_INT(drv->next_request(&p2, req, sizeof(req)), BMS_E_RANGE);
}

/* ---- whole polls ---------------------------------------------------------- */

static void test_sessions(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		/* the 16S unit: first poll of a connection with its identity */
		const char *const s16[] = { TDT_03, TDT_04, TDT_05 };
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		CHECK_EQ_INT(poll_of(&poll, &rx, s16, 3, &drive_chunkings[k]), BMS_OK);
		check_unit(&poll.snap, &want_16s);
		CHECK_EQ_INT(poll.snap.raw_alarms[2], 0x0002); /* a state byte (discharging?), no alarm */
		CHECK_STR(poll.kept.ident.vendor, "TDT");
		CHECK_STR(poll.kept.ident.firmware, "6032_10016S000_L_41");
		CHECK_STR(poll.kept.ident.serial, "60326016207270001");
		CHECK_STR(poll.kept.ident.model, "");
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		CHECK_EQ_INT(poll_of(&poll, &rx, s16, 2, &drive_chunkings[k]), BMS_OK);
		check_unit(&poll.snap, &want_16s);
		/* the 4S unit (0x8D from address byte 0x41), identity known */
		const char *const s4[] = { TDT_01, TDT_02 };
		struct bms_poll p4 = { 0 };
		drive_begin_link(&p4, &rx, 0, 0, false, BMS_LINK_BLE, false);
		p4.kept.ident_state = BMS_IDENT_NONE;
		CHECK_EQ_INT(poll_of(&p4, &rx, s4, 2, &drive_chunkings[k]), BMS_OK);
		check_unit(&p4.snap, &want_4s);
		/* the GateLink unit, once it took 0x1E */
		const char *const sg[] = { TDT_06, TDT_07, TDT_08 };
		struct bms_poll pg = { 0 };
		drive_begin_link(&pg, &rx, 0, 0, false, BMS_LINK_BLE, true);
		pg.persist = 1; /* requests with 0x1E */
		CHECK_EQ_INT(poll_of(&pg, &rx, sg, 3, &drive_chunkings[k]), BMS_OK);
		check_unit(&pg.snap, &want_gatelink);
		CHECK_STR(pg.kept.ident.firmware, "WT30_10004SW14_L_01");
		CHECK_STR(pg.kept.ident.serial, "IKKKK0000AII00000000");
	}
}

/* An identity refused (an error code in byte 4) or not answered is skipped. */
static void test_no_ident(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	poll.step = S_INFO;
	CHECK(drv->timeout(&poll));
	CHECK_EQ_INT(poll.step, S_DONE);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);

	uint8_t b[16];
	size_t n = (size_t)drive_hex("7e000103019200010000000d", b, 16);
	seal(b, n);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
	poll.kept.ident_state = BMS_IDENT_UNKNOWN;
	poll.step = S_INFO;
	struct drive_res r = drive_feed_bytes(&poll, &rx, b, n, drive_notif20, 1);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(poll.step, S_DONE);
	CHECK_EQ_INT(poll.refusals, 1);
	CHECK_EQ_INT(poll.kept.ident_state, BMS_IDENT_NONE);
	/* the same error code to a measurement: the try fails */
	b[5] = 0x8C;
	seal(b, n);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	r = drive_feed_bytes(&poll, &rx, b, n, drive_notif20, 1);
	CHECK_EQ_INT(r.err, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_REFUSED);
}

/* `cells =`: fewer than the BMS sends are taken; more fail. */
static void test_cells(void)
{
	static const uint16_t mv[4] = { 3297, 3295, 3297, 3292 };
	drive_check_forced(S_ANALOG, TDT_01, mv, 4);
}

/* Broken frames before the answer: skipped or failing their CRC, the
 * answer after them decodes.  0x8D (not asked for) is unexpected. */
static void test_broken(void)
{
	static const struct {
		const char *bad;
		int badsum, unexpected;
	} cases[] = {
		{ "7e000103008c0020040ce10cdf0ce10cdc040b930b9b0b8d0b8c40000526023f041c000803e8003791920d", 1, 0 },
		{ "7e000103008c0020040ce10cdf0ce10cdc040b930b9b0b8d0b8c40000526023f041c000803e8003791910a", 1, 0 },
		{ "7e000103008c0020040ce10cdf0ce10cdc040b930b9b0b8d0b8c40000526023f041c000803e8003791", 1, 0 }, /* cut */
		{ "7e010103008c0020040ce10cdf0ce10cdc040b930b9b0b8d0b8c40000526023f041c000803e8003791910d", 0, 0 },
		{ "7e000106008c0020040ce10cdf0ce10cdc040b930b9b0b8d0b8c40000526023f041c000803e8003791910d", 0, 0 },
		{ "7e000103008c0fff040ce1", 0, 0 },          /* a length no answer has: skipped */
		{ TDT_02, 0, 1 },                            /* 0x8D: not asked */
		{ TDT_REQ_8C "0d0a", 0, 0 },                 /* our request echoed (skipped), noise */
		{ TDT_REQ_8C_1E "415424535441540d0a", 0, 0 }, /* a 1E request, a module's line */
	};
	for (size_t i = 0; i < DRIVE_NCH(cases); i++) {
		struct bms_poll poll;
		drive_check_broken(S_ANALOG, S_WARN, cases[i].bad, TDT_01, cases[i].badsum, cases[i].unexpected, &poll);
		CHECK_EQ_INT(poll.snap.ncells, 4);
	}
}

static int bad_value(const char *frame, int step, size_t off, uint8_t v)
{
	uint8_t b[128];
	size_t n = (size_t)drive_hex(frame, b, 128);
	b[off] = v;
	seal(b, n);
	return drive_bad_frame(b, n, step);
}

/* The frame's data cut to len bytes, length field and CRC made to fit. */
static int short_value(const char *frame, int step, uint8_t len)
{
	uint8_t b[128];
	drive_hex(frame, b, 128);
	b[6] = 0;
	b[7] = len;
	seal(b, (size_t)len + 11);
	return drive_bad_frame(b, (size_t)len + 11, step);
}

static void test_impossible(void)
{
	CHECK_EQ_INT(bad_value(TDT_01, S_ANALOG, 8, 0), BMS_E_RANGE);          /* no cell */
	CHECK_EQ_INT(bad_value(TDT_01, S_ANALOG, 8, 33), BMS_E_RANGE);         /* 33 cells */
	CHECK_EQ_INT(bad_value(TDT_01, S_ANALOG, 8, 10), BMS_E_SHORT);         /* 10 cells in 32 bytes */
	CHECK_EQ_INT(bad_value(TDT_01, S_ANALOG, 8 + 9, 5), BMS_E_SHORT);      /* 5 sensors: no room */
	CHECK_EQ_INT(bad_value(TDT_01, S_ANALOG, 8 + 31, 101), BMS_E_RANGE);   /* SOC 101 % */
	CHECK_EQ_INT(bad_value(TDT_01, S_ANALOG, 8 + 30, 1), BMS_E_RANGE);     /* SOC 256 + 55 % */
	CHECK_EQ_INT(bad_value(TDT_02, S_WARN, 8, 30), BMS_E_SHORT);           /* 30 cell states in 24 bytes */
	CHECK_EQ_INT(bad_value(TDT_02, S_WARN, 8 + 5, 20), BMS_E_SHORT);       /* 20 sensor states */
	CHECK_EQ_INT(short_value(TDT_01, S_ANALOG, 31), BMS_E_SHORT);          /* 0x8C one byte short */
	CHECK_EQ_INT(short_value(TDT_01, S_ANALOG, 9), BMS_E_SHORT);           /* the cells, no sensor count */
	CHECK_EQ_INT(short_value(TDT_02, S_WARN, 16), BMS_E_SHORT);            /* 0x8D: the MOSFET byte cut */
	CHECK_EQ_INT(short_value(TDT_05, S_INFO, 59), BMS_E_SHORT);            /* 0x92: 59 of 60 bytes */
	/* handle() on its own: the length, header, end byte and CRC */
	uint8_t b[128];
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	size_t n = (size_t)drive_hex(TDT_01, b, 128);
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.step = S_ANALOG;
	CHECK_EQ_INT(drv->handle(&poll, b, n - 1), BMS_E_SHORT);
	CHECK_EQ_INT(drv->handle(&poll, b, 10), BMS_E_SHORT);
	uint8_t q[16];
	size_t qn = (size_t)drive_hex(TDT_REQ_8C, q, 16), en = 0;
	CHECK_EQ_INT(drv->scan(&poll, q, qn, &en), BMS_SCAN_SKIP); /* a request is never a frame */
	CHECK_EQ_INT(en, 11);
	CHECK_EQ_INT(drv->handle(&poll, q, qn), BMS_E_UNEXPECTED);
	b[1] = 0x02;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_HEADER);
	b[1] = 0x00;
	b[n - 1] = 0x0A;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_CHECKSUM);
	b[n - 1] = 0x0D;
	b[n - 2] ^= 1;
	CHECK_EQ_INT(drv->handle(&poll, b, n), BMS_E_CHECKSUM);
}

/* The current word: bit 15 discharging, bit 14 0.1 A (else 1 A); invert. */
static void test_current(void)
{
	static const struct {
		uint8_t hi, lo;
		float a;
	} cases[] = {
		{ 0xC0, 0x39, -5.7f }, { 0x40, 0x39, 5.7f }, { 0x00, 0x39, 57.0f }, { 0x80, 0x05, -5.0f },
		{ 0x7F, 0xFF, 1638.3f }, { 0x40, 0x00, 0.0f },
	};
	for (size_t i = 0; i < DRIVE_NCH(cases); i++)
		for (int inv = 0; inv < 2; inv++) {
			struct bms_poll poll = { 0 };
			struct bms_rx rx;
			uint8_t b[128];
			size_t n = (size_t)drive_hex(TDT_01, b, 128);
			b[8 + 18] = cases[i].hi;
			b[8 + 19] = cases[i].lo;
			seal(b, n);
			drive_begin_link(&poll, &rx, 0, 0, inv, BMS_LINK_BLE, false);
			struct drive_res r = drive_step_at(&poll, &rx, S_ANALOG, b, n, drive_notif20, 1);
			CHECK_EQ_INT(r.ok, 1);
			CHECK_NEAR(poll.snap.current, inv ? -cases[i].a : cases[i].a, 1e-3);
		}
}

/* 0x8D: a problem code or a cell's state is an alarm; the MOSFET bits. */
static void test_warn(void)
{
	static const struct {
		size_t off;
		uint8_t v;
		uint32_t alarms;
		bool chg, dsg;
	} cases[] = {
		{ 8 + 2, 0x01, BMS_AL_OTHER, true, true },   /* cell 2's state */
		{ 8 + 7, 0x04, BMS_AL_OTHER, true, true },   /* sensor 2's state */
		{ 8 + 15, 0x10, BMS_AL_OTHER, true, true },  /* the problem code */
		{ 8 + 13, 0x02, 0, true, true },             /* a current/voltage state byte */
		{ 8 + 16, 0x02, 0, false, true },            /* charge MOSFET off */
		{ 8 + 16, 0x04, 0, true, false },            /* discharge MOSFET off */
	};
	for (size_t i = 0; i < DRIVE_NCH(cases); i++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t b[128];
		size_t n = (size_t)drive_hex(TDT_02, b, 128);
		b[cases[i].off] = cases[i].v;
		seal(b, n);
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_step_at(&poll, &rx, S_WARN, b, n, drive_notif20, 1);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(poll.snap.alarms, cases[i].alarms);
		CHECK(poll.snap.chg_mos == cases[i].chg && poll.snap.dsg_mos == cases[i].dsg);
	}
}

/* Random reads of a whole first poll's bytes. */
static void test_random(void)
{
	uint32_t seed = 7;
	static const char *const all[] = { TDT_03, TDT_04, TDT_05 };
	for (int round = 0; round < 40; round++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		struct drive_res r = { 0 };
		uint8_t buf[128], req[16];
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, true);
		for (size_t i = 0; i < DRIVE_NCH(all); i++) {
			CHECK(drv->next_request(&poll, req, sizeof(req)) == 11);
			bms_rx_clear(&rx);
			drive_feed_random(&poll, &rx, buf, (size_t)drive_hex(all[i], buf, 128), &seed, 25, &r);
		}
		CHECK_EQ_INT(r.ok, 3);
		CHECK_EQ_INT(r.err + r.badsum + r.bad_scan, 0);
		CHECK_EQ_INT(drv->next_request(&poll, req, sizeof(req)), 0);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_unit(&poll.snap, &want_16s);
	}
}

int main(void)
{
	test_table();
	test_hints();
	test_requests();
	test_sessions();
	test_no_ident();
	test_cells();
	test_broken();
	test_impossible();
	test_current();
	test_warn();
	test_random();
	return check_report();
}
