/* SPDX-License-Identifier: MIT */
/* tests/unit/test_dometic.c - Dometic Büttner batteries over Bluetooth LE
 * (bms/dometic.c, a link of channels): the dometic rows of
 * tests/fixtures/vectors.tsv (aiobmsble's greeting, its answers and a
 * stream of battery 0x0F), each a notification of its channel as the
 * transports hand it over (a BMS_CHR record), through scan() + handle() as
 * the gateway runs a poll, in every chunking: the first poll of a
 * connection (the greetings that came while the link was set up, echoed
 * and answered, APP+AEN, APP+NET, APP+RDN=1, the stream), the next ones
 * (the keep-alive, FF and DF in turn, then the stream, the design
 * capacity kept); several batteries on one link (another's frames
 * ignored, address_any takes the first); a pack whose connection another
 * pack greeted; the secret in APP+AEN, a silence after it auth failed (its
 * retry refused); a greeting that never came; a silent stream started again twice, then a
 * failed try; broken input (a channel that is none, a frame cut short,
 * values out of range, garbage between records).  Every request's records
 * byte for byte.  Protocol facts: bms/PROTOCOLS.md §72. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>

static const struct bms_driver *const drv = &bms_dometic_driver;

#include "drive.h"

/* tests/fixtures/vectors.tsv, family dometic: the channels' payloads */
#define DOMETIC_REQ_AEN "4150502b41454e"
#define DOMETIC_REQ_NET "4150502b4e4554"
#define DOMETIC_REQ_RDN "4150502b52444e3d31"
#define DOMETIC_REQ_ECHO "9b00"
#define DOMETIC_REQ_KA_1 "ff"
#define DOMETIC_REQ_KA_2 "df"
#define DOMETIC_01 "9b00"
#define DOMETIC_02 "12"
#define DOMETIC_03 "4d53542b41454e"
#define DOMETIC_04 "4d53542b44434f3d11223340"
#define DOMETIC_05 "23850f02052f8124"
#define DOMETIC_06 "23850f0b5cffffff"
#define DOMETIC_07 "23850f0c0280ffff"
#define DOMETIC_08 "23850f0700000096"
#define DOMETIC_09 "23850f0e64000000"
#define DOMETIC_10 "23850f360716ffff"
#define DOMETIC_11 "23850f560cef0cef"
#define DOMETIC_12 "23850f570cef0ceb"
#define DOMETIC_13 "23850f350aac076c"

enum { DM_BEGIN = 0, DM_HELLO, DM_ECHO, DM_WAITB, DM_ACKB, DM_AEN, DM_NET, DM_RDN, DM_KEEP, DM_DATA, DM_DONE };

static const char *const stream[] = { DOMETIC_05, DOMETIC_06, DOMETIC_07, DOMETIC_08, DOMETIC_09,
				      DOMETIC_10, DOMETIC_11, DOMETIC_12, DOMETIC_13 };
static const uint16_t cells_4[4] = { 3311, 3311, 3311, 3307 };

/* Payloads (hex, each one notification) of channel k as records, appended
 * to b at *n. */
static void recs(uint8_t *b, size_t *n, uint8_t k, const char *const *hex, size_t nhex)
{
	for (size_t i = 0; i < nhex; i++) {
		uint8_t d[64];
		int m = check_hex(hex[i], d, (int)sizeof(d));
		CHECK(m > 0);
		*n += bms_chr_record(b + *n, 512, k, d, (size_t)(m > 0 ? m : 0));
	}
}

static void rec1(uint8_t *b, size_t *n, uint8_t k, const char *hex)
{
	recs(b, n, k, &hex, 1);
}

/* The request is exactly these records (channel, payload hex), in order. */
static bool req_is(struct bms_poll *poll, uint8_t k1, const char *p1, int k2, const char *p2)
{
	uint8_t want[128], got[128];
	size_t n = 0;
	rec1(want, &n, k1, p1);
	if (p2)
		rec1(want, &n, (uint8_t)k2, p2);
	int m = drv->next_request(poll, got, sizeof(got));
	return m == (int)n && memcmp(got, want, n) == 0;
}

static void check_values(const struct bms_snapshot *s)
{
	CHECK_NEAR(s->voltage, 13.27, 1e-4);
	CHECK_NEAR(s->current, -2.93, 1e-4);
	CHECK_NEAR(s->soc, 92.0, 1e-6);
	CHECK_NEAR(s->soh, 100.0, 1e-6);
	CHECK_EQ_INT(s->ntemps, 1);
	CHECK_NEAR(s->temp_c[0], 14.0, 1e-5);
	CHECK_NEAR(s->full_ah, 150.0, 1e-6);
	CHECK_NEAR(s->remain_ah, 1814.0 / 13.27, 1e-3);
	drive_check_cells(s, cells_4, 4);
}

static void begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t addr, bool fresh)
{
	drive_begin_link(poll, rx, addr, 0, false, BMS_LINK_BLE, fresh);
}

/* As the poller frames (gateway/poll/poller.c poll_frame()): a frame that
 * completes a step (BMS_OK) stops the framing; what came after it stays in
 * the buffer (keep_rx) for the next step. */
static enum bms_frame_next take(void *ctx, const uint8_t *f, size_t n)
{
	struct drive_taking *t = ctx;
	int ok = t->r->ok;
	enum bms_frame_next next = drive_take(ctx, f, n);
	if (t->r->ok > ok) {
		t->done = true;
		return BMS_FRAME_STOP;
	}
	return next;
}

/* What is in the buffer framed (a step begun on what was kept), into *r:
 * true when a frame completed the step. */
static bool pump(struct bms_poll *poll, struct bms_rx *rx, struct drive_res *r)
{
	struct drive_taking t = { .poll = poll, .r = r };
	struct bms_frame_counts c = { 0 };
	bms_frames(drv, poll, rx, take, &t, &c);
	r->skipped += c.skipped;
	r->bad_scan += (int)c.bad_scan;
	return t.done;
}

/* b[0..n) arrives in chunking c, framed after each read; once a step is
 * complete the rest arrives unframed (while the next request is written):
 * the next step frames it (pump()). */
static struct drive_res feed(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *b, size_t n,
			     const struct drive_chunking *c)
{
	struct drive_res r = { 0 };
	size_t off = 0, i = 0;
	bool done = false;
	while (off < n) {
		size_t m = c->ch[i++ % c->n];
		if (m > n - off)
			m = n - off;
		bms_rx_feed(rx, b + off, m);
		off += m;
		if (!done)
			done = pump(poll, rx, &r);
	}
	return r;
}

static const struct drive_chunking whole = { chunks_big, 1 };

/* The stream of battery 0x0F until the poll is whole. */
static void stream_in(struct bms_poll *poll, struct bms_rx *rx, const struct drive_chunking *c)
{
	uint8_t b[512];
	size_t n = 0;
	recs(b, &n, 0, stream, 9);
	CHECK(drv->listens(poll));
	struct drive_res r = feed(poll, rx, b, n, c);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err + r.bad_scan, 0);
	CHECK(!drv->listens(poll));
	uint8_t req[16];
	CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 0);
	CHECK_EQ_INT(drv->finish(poll), BMS_OK);
	CHECK_EQ_INT(poll->snap.present & ~drv->provides, 0);
}

/* The first poll of a connection: the greetings (come while the link was
 * set up: the poll's first bytes; 000a's first, or 0004's), the handshake,
 * the stream. */
static void first_poll(struct bms_poll *poll, struct bms_rx *rx, const struct drive_chunking *c, bool ka_first)
{
	uint8_t b[512];
	size_t n = 0;
	begin(poll, rx, 0x0F, true);
	if (ka_first)
		rec1(b, &n, 3, DOMETIC_02);
	rec1(b, &n, 1, DOMETIC_01);
	if (!ka_first)
		rec1(b, &n, 3, DOMETIC_02);
	CHECK(drv->listens(poll));
	struct drive_res r = feed(poll, rx, b, n, c);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.unexpected, ka_first);
	CHECK(req_is(poll, 2, DOMETIC_REQ_ECHO, 0, NULL));
	CHECK(drv->sent(poll));
	if (!ka_first) { /* the keep-alive's greeting is kept: framed at once */
		CHECK(drv->listens(poll));
		struct drive_res r2 = { 0 };
		CHECK(pump(poll, rx, &r2));
		CHECK_EQ_INT(r2.ok, 1);
	}
	CHECK(!drv->listens(poll));
	CHECK(req_is(poll, 4, DOMETIC_REQ_KA_1, 0, NULL));
	CHECK(drv->sent(poll));
	poll->secret_req = false;
	CHECK(req_is(poll, 0, DOMETIC_REQ_AEN, 0, NULL));
	CHECK(!poll->secret_req);
	CHECK(!drv->sent(poll)); /* APP+AEN is answered */
	n = 0;
	rec1(b, &n, 0, DOMETIC_03);
	CHECK_EQ_INT(feed(poll, rx, b, n, c).ok, 1);
	CHECK(req_is(poll, 0, DOMETIC_REQ_NET, 0, NULL));
	CHECK(drv->sent(poll));
	CHECK(req_is(poll, 0, DOMETIC_REQ_RDN, 0, NULL));
	CHECK(drv->sent(poll));
	/* MST+DCO and a frame of another battery on the way: ignored */
	n = 0;
	rec1(b, &n, 0, DOMETIC_04);
	rec1(b, &n, 0, "2385000b5cffffff");
	r = feed(poll, rx, b, n, c);
	CHECK_EQ_INT(r.unexpected, 2);
	CHECK_EQ_INT(r.ok + r.err, 0);
	stream_in(poll, rx, c);
	check_values(&poll->snap);
}

static void test_table(void)
{
	CHECK(bms_ble_only(drv) && drv->keep_rx && drv->sent && drv->listens && drv->any_address);
	CHECK_EQ_INT(drv->max_address, 255);
	CHECK_STR(drv->name, "dometic");
	CHECK_EQ_INT(drv->protocol_id, 62);
	const struct bms_gatt *g = drv->ble->gatt;
	CHECK_STR(g[0].service, "0000fefb-0000-1000-8000-00805f9b34fb");
	CHECK_STR(g[0].notify, "00000002-0000-1000-8000-008025000000");
	CHECK_STR(g[0].write, "00000001-0000-1000-8000-008025000000");
	CHECK_STR(g[1].service, "00002345-0000-1000-8000-00805f9b34fb");
	CHECK(g[2].service == NULL);
	static const char *const more[4] = { "0000000a", "00000009", "00000004", "00000003" };
	for (int i = 0; i < 4; i++) {
		CHECK(strncmp(g[0].more[i].uuid, more[i], 8) == 0);
		CHECK_EQ_INT(g[0].more[i].notify, i % 2 == 0);
	}
	CHECK(g[0].more[4].uuid == NULL);
	const struct bms_ble_hint *h = drv->ble->hints;
	CHECK(h[0].kind == BMS_BLE_COMPANY && h[0].value == 2117 && h[1].why == NULL);
	CHECK(drv->ble->pin && !drv->ble->pin->dflt);
}

static void test_polls(void)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		const struct drive_chunking *c = &drive_chunkings[k];
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		first_poll(&poll, &rx, c, k % 2 == 1);
		/* the next poll: the keep-alive (APP+NET, DF now), the stream;
		 * the design capacity kept (a stream without 07 will do) */
		begin(&poll, &rx, 0x0F, false);
		poll.refresh = false;
		CHECK(!drv->listens(&poll));
		CHECK(req_is(&poll, 0, DOMETIC_REQ_NET, 4, DOMETIC_REQ_KA_2));
		CHECK(drv->sent(&poll));
		uint8_t b[512];
		size_t n = 0;
		recs(b, &n, 0, stream, 3);
		recs(b, &n, 0, stream + 4, 5);
		CHECK_EQ_INT(feed(&poll, &rx, b, n, c).ok, 1);
		CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
		check_values(&poll.snap);
		/* and the next: FF again */
		begin(&poll, &rx, 0x0F, false);
		CHECK(req_is(&poll, 0, DOMETIC_REQ_NET, 4, DOMETIC_REQ_KA_1));
	}
}

/* Several batteries on one link. */
static void test_batteries(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	uint8_t b[512];
	size_t n = 0;
	/* the pack of battery 0x00 on a connection battery 0x0F's pack greeted:
	 * the stream runs, straight to it; 0x0F's frames ignored */
	begin(&poll, &rx, 0x00, true);
	poll.refresh = false;
	poll.kept.have |= BMS_HAS_FULL;
	poll.kept.full_ah = 150.0f;
	recs(b, &n, 0, stream, 9);
	static const char *const other[] = { "2385000205308111", "2385000b5cffffff", "2385000c0280ffff",
					     "2385000e64000000", "238500360725ffff", "238500560cf30cf4",
					     "238500570cf20cf0" };
	recs(b, &n, 0, other, 7);
	static const struct drive_chunking odd = { drive_odd, DRIVE_NCH(drive_odd) };
	struct drive_res r = feed(&poll, &rx, b, n, &odd);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.more + r.unexpected, 15); /* 0x0F's stream, 0x00's first six */
	CHECK_EQ_INT(poll.step, DM_DONE);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	CHECK_NEAR(poll.snap.voltage, 13.28, 1e-4);
	CHECK_NEAR(poll.snap.current, -2.74, 1e-4);
	CHECK_NEAR(poll.snap.soc, 92.0, 1e-6);
	static const uint16_t c0[4] = { 3315, 3316, 3314, 3312 };
	drive_check_cells(&poll.snap, c0, 4);
	/* address_any: the first battery heard */
	begin(&poll, &rx, 0x00, false);
	poll.address_any = true;
	poll.step = DM_DATA;
	n = 0;
	recs(b, &n, 0, stream, 9);
	recs(b, &n, 0, other, 7);
	r = feed(&poll, &rx, b, n, &whole);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(drv->finish(&poll), BMS_OK);
	check_values(&poll.snap);
}

static void test_secret(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, 0x0F, false);
	snprintf(poll.pin, sizeof(poll.pin), "h0tel");
	poll.step = DM_AEN;
	poll.secret_req = false;
	CHECK(req_is(&poll, 0, "4150502b41454e3d683074656c", 0, NULL));
	CHECK(poll.secret_req);
	CHECK_EQ_INT(poll.auth, BMS_AUTH_SENT);
	/* no answer to it: auth failed when the poll fails so */
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(poll.auth, BMS_AUTH_REFUSED);
	/* the step's retry is refused: auth failed, the secret once a poll */
	uint8_t b[64];
	CHECK_EQ_INT(drv->next_request(&poll, b, sizeof(b)), BMS_E_AUTH);
	/* the next poll's is answered: taken */
	begin(&poll, &rx, 0x0F, false);
	snprintf(poll.pin, sizeof(poll.pin), "h0tel");
	poll.step = DM_AEN;
	CHECK(req_is(&poll, 0, "4150502b41454e3d683074656c", 0, NULL));
	size_t n = 0;
	rec1(b, &n, 0, DOMETIC_03);
	CHECK_EQ_INT(feed(&poll, &rx, b, n, &whole).ok, 1);
	CHECK_EQ_INT(poll.auth, BMS_AUTH_OK);
	CHECK_EQ_INT(poll.step, DM_NET);
	/* without a secret the silence is a plain failed try */
	begin(&poll, &rx, 0x0F, false);
	poll.step = DM_AEN;
	CHECK(!drv->timeout(&poll));
	CHECK_EQ_INT(poll.auth, BMS_AUTH_NONE);
}

static void test_silences(void)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	/* no greeting: 9B 00 echoed anyway, the keep-alive answered anyway */
	begin(&poll, &rx, 0x0F, true);
	CHECK(drv->listens(&poll));
	CHECK(drv->timeout(&poll));
	CHECK(req_is(&poll, 2, DOMETIC_REQ_ECHO, 0, NULL));
	CHECK(drv->sent(&poll));
	CHECK(drv->listens(&poll));
	CHECK(drv->timeout(&poll));
	CHECK(req_is(&poll, 4, DOMETIC_REQ_KA_1, 0, NULL));
	/* a silent stream: APP+RDN=1 again on the retry, twice, then the tries
	 * only listen (the poller's retries end the poll) */
	begin(&poll, &rx, 0x0F, false);
	poll.step = DM_DATA;
	for (int i = 0; i < 2; i++) {
		CHECK(drv->listens(&poll));
		CHECK(!drv->timeout(&poll));
		poll.attempt = 1;
		CHECK(!drv->listens(&poll));
		CHECK(req_is(&poll, 0, DOMETIC_REQ_RDN, 0, NULL));
		CHECK(drv->sent(&poll));
		poll.attempt = 0;
	}
	poll.attempt = 1;
	CHECK(drv->listens(&poll));
}

static void test_broken(void)
{
	uint8_t b[256];
	size_t n = 0;
	/* garbage between records; a record of a channel that is none; a
	 * frame cut short (7 bytes) */
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	begin(&poll, &rx, 0x0F, false);
	poll.step = DM_DATA;
	b[n++] = 0x55;
	b[n++] = 0xAD;
	b[n++] = 0x00;
	rec1(b, &n, 7, "0102");
	rec1(b, &n, 0, "23850f02052f81");
	recs(b, &n, 0, stream, 9);
	struct drive_res r = drive_feed_bytes(&poll, &rx, b, n, drive_odd, DRIVE_NCH(drive_odd));
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.last_err, BMS_E_HEADER); /* channel 7 */
	CHECK_EQ_INT(r.unexpected, 2);          /* the 7-byte frame; 35 after the poll was whole */
	CHECK_EQ_INT(r.bad_scan, 0);
	/* a record needs all its bytes */
	n = 0;
	rec1(b, &n, 0, DOMETIC_05);
	size_t used = 0;
	CHECK_EQ_INT(drv->scan(NULL, b, n, &used), BMS_SCAN_FRAME);
	CHECK_EQ_INT(used, n);
	for (size_t i = 1; i < n; i++)
		CHECK_EQ_INT(drv->scan(NULL, b, i, &used), BMS_SCAN_NEED);
	/* values that cannot be */
	static const char *const bad[] = { "23850f0200008124", "23850f0b65ffffff", "23850f0700000000",
					   "23850f0e65000000", "23850f5600000cef" };
	for (size_t i = 0; i < 5; i++) {
		begin(&poll, &rx, 0x0F, false);
		poll.step = DM_DATA;
		n = 0;
		rec1(b, &n, 0, bad[i]);
		r = feed(&poll, &rx, b, n, &whole);
		CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
	}
	/* handle() on what the framer never gives; finish() of a poll not whole */
	CHECK_EQ_INT(drv->handle(&poll, b, n - 1), BMS_E_SHORT);
	begin(&poll, &rx, 0x0F, false);
	CHECK_EQ_INT(drv->finish(&poll), BMS_E_INVALID);
	/* a buffer too small for the keep-alive's two records, or its first */
	poll.persist |= 0x1u; /* greeted: the keep-alive */
	CHECK_EQ_INT(drv->next_request(&poll, b, 12), BMS_E_NOSPACE);
	CHECK_EQ_INT(drv->next_request(&poll, b, 8), BMS_E_NOSPACE);
}

int main(void)
{
	test_table();
	test_polls();
	test_batteries();
	test_secret();
	test_silences();
	test_broken();
	return check_report();
}
