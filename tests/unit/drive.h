/* SPDX-License-Identifier: MIT */
/* tests/unit/drive.h - the gateway's side of a serial link, for the unit
 * tests of the BMS drivers: bytes arrive in chunks the way read() returns
 * them into a struct bms_rx, the daemon's framing loop (bms_frames(), the
 * driver's scan()) finds the frames, handle() decodes them, as
 * gateway/poll/poller.c does; what happened is counted in a struct
 * drive_res.  Also a poll step by step (drain, answer, check) and a whole
 * poll from a list of answers, over a wire or over Bluetooth LE (the
 * transport fields of struct bms_poll), with the steps a driver says
 * listen (struct bms_driver.listens) sending nothing.
 *
 * Include after check.h, with `drv` (const struct bms_driver *) defined
 * first.  A test may define DRIVE_FRAME_OK(f, n) before including this: a
 * frame scan() reports that fails it counts as a bad scan.
 */
#ifndef TESTS_DRIVE_H
#define TESTS_DRIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../../bms/bms.h"
#include "check.h"

#ifndef DRIVE_FRAME_OK
#define DRIVE_FRAME_OK(f, n) true
#endif

#define DRIVE_NCH(a) (sizeof(a) / sizeof((a)[0]))

/* Chunk sizes the simulated read() returns, cycled (each test has its own
 * odd pattern besides). */
static const size_t chunks_one[] __attribute__((unused)) = { 1 };
static const size_t chunks_big[] __attribute__((unused)) = { 1000 };

#define DRIVE_MAX_RC 64

/* What scan() and handle() did with the bytes fed. */
struct drive_res {
	int ok, more, unexpected, err, last_err; /* handle() results; last_err: the last error */
	int frames;                              /* frames handed to handle() */
	size_t skipped;                          /* bytes dropped (SKIP, BADSUM, a framer bug's byte) */
	int badsum;                              /* BADSUM results (checksum errors) */
	int bad_scan;   /* scan() gave a length outside 1..len (bms_frames() dropped a byte), or a
	                 * frame failing DRIVE_FRAME_OK */
	size_t done_at; /* listen-only: offset of the end of the block that completed the poll, 0 = never */
	int nrc;                 /* handle() calls */
	int rc[DRIVE_MAX_RC];    /* their results in order (the first DRIVE_MAX_RC) */
};

/* drive_pump(): handle() on each frame bms_frames() finds. */
struct drive_taking {
	struct bms_poll *poll;
	struct drive_res *r;
	bool done;
};

static inline enum bms_frame_next drive_take(void *ctx, const uint8_t *f, size_t n)
{
	struct drive_taking *t = ctx;
	struct drive_res *r = t->r;

	if (!(DRIVE_FRAME_OK(f, n)))
		r->bad_scan++;
	r->frames++;
	int rc = drv->handle(t->poll, f, n);
	if (r->nrc < DRIVE_MAX_RC)
		r->rc[r->nrc] = rc;
	r->nrc++;
	if (rc == BMS_OK) {
		r->ok++;
		if (drv->listen_only) {
			t->done = true;
			return BMS_FRAME_STOP;
		}
	} else if (rc == BMS_MORE) {
		r->more++;
	} else if (rc == BMS_E_UNEXPECTED) {
		r->unexpected++;
	} else {
		r->err++;
		r->last_err = rc;
	}
	return BMS_FRAME_MORE;
}

/* What the gateway does after every read(): the daemon's framing loop
 * (bms_frames()), handle() on each frame.  A listen-only driver's poll is
 * complete at BMS_OK: the poller stops there (and drops what is left);
 * returns true then. */
static inline bool drive_pump(struct bms_poll *poll, struct bms_rx *rx, struct drive_res *r)
{
	struct drive_taking t = { .poll = poll, .r = r };
	struct bms_frame_counts c = { 0 };

	bms_frames(drv, poll, rx, drive_take, &t, &c);
	r->skipped += c.skipped;
	r->badsum += (int)c.badsum;
	r->bad_scan += (int)c.bad_scan;
	return t.done;
}

/* Feed p[0..len) in chunks of the cycled sizes, pumping after each; adds to
 * *r.  Returns true (and sets r->done_at, an offset in p) when a listen-only
 * driver's poll completed: the rest is not fed. */
static inline bool drive_feed(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *p, size_t len,
			      const size_t *chunks, size_t nchunks, struct drive_res *r)
{
	size_t off = 0, c = 0;

	while (off < len) {
		size_t n = chunks[c++ % nchunks];
		if (n > len - off)
			n = len - off;
		bms_rx_feed(rx, p + off, n);
		off += n;
		if (drive_pump(poll, rx, r)) {
			r->done_at = off - rx->len; /* the end of the completing block */
			return true;
		}
	}
	return false;
}

static inline struct drive_res drive_feed_bytes(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *p,
						size_t len, const size_t *chunks, size_t nchunks)
{
	struct drive_res r = { 0 };
	drive_feed(poll, rx, p, len, chunks, nchunks, &r);
	return r;
}

/* check_hex() that must give at least one byte; 0 on failure. */
static inline int drive_hex(const char *hex, uint8_t *buf, int cap)
{
	int n = check_hex(hex, buf, cap);
	CHECK(n > 0);
	return n > 0 ? n : 0;
}

/* Feed a hex string (spaces allowed). */
static inline struct drive_res drive_feed_hex(struct bms_poll *poll, struct bms_rx *rx, const char *hex,
					      const size_t *chunks, size_t nchunks)
{
	uint8_t buf[4096];
	int n = drive_hex(hex, buf, (int)sizeof(buf));
	return drive_feed_bytes(poll, rx, buf, (size_t)n, chunks, nchunks);
}

/* Feed a text (ASCII protocols). */
static inline struct drive_res drive_feed_text(struct bms_poll *poll, struct bms_rx *rx, const char *s,
					       const size_t *chunks, size_t nchunks)
{
	return drive_feed_bytes(poll, rx, (const uint8_t *)s, strlen(s), chunks, nchunks);
}

#define FEED_BYTES(poll, rx, p, n, ch) drive_feed_bytes(poll, rx, p, n, ch, DRIVE_NCH(ch))
#define FEED_HEX(poll, rx, hex, ch) drive_feed_hex(poll, rx, hex, ch, DRIVE_NCH(ch))
#define FEED_TEXT(poll, rx, s, ch) drive_feed_text(poll, rx, s, ch, DRIVE_NCH(ch))

/* A deterministic LCG: the next value in lo..hi, from bits shift.. of the
 * state. */
static inline size_t drive_rnd(uint32_t *state, int shift, size_t lo, size_t hi)
{
	*state = *state * 1103515245u + 12345u;
	return lo + (*state >> shift) % (hi - lo + 1);
}

/* Feed in random chunks of 1..max bytes; *state carries on from call to
 * call. */
static inline void drive_feed_random(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *p, size_t len,
				     uint32_t *state, size_t max, struct drive_res *r)
{
	size_t off = 0;
	while (off < len) {
		size_t n = drive_rnd(state, 8, 1, max);
		if (n > len - off)
			n = len - off;
		bms_rx_feed(rx, p + off, n);
		off += n;
		drive_pump(poll, rx, r);
	}
}

/* A fresh poll from a clean buffer, reading the slow-changing values too
 * (refresh, as the gateway's first poll of a pack; a test of struct
 * bms_kept clears it after this). */
static inline void drive_begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t addr, uint8_t forced, bool inv)
{
	bms_poll_begin(poll, addr, forced, inv);
	poll->refresh = true;
	bms_rx_clear(rx);
}

/* One step of a poll as the gateway runs it, its request sent: the rx
 * buffer is drained (the poller flushes before each request) and the answer
 * (hex) arrives in chunks.  A clean step: exactly one BMS_OK, no error, no
 * bad scan, and `unexpected` frames ignored. */
static inline struct drive_res drive_step(struct bms_poll *poll, struct bms_rx *rx, const char *hex,
					  const size_t *chunks, size_t nchunks, int unexpected)
{
	bms_rx_clear(rx);
	struct drive_res r = drive_feed_hex(poll, rx, hex, chunks, nchunks);
	CHECK_EQ_INT(r.ok, 1);
	CHECK_EQ_INT(r.err, 0);
	CHECK_EQ_INT(r.unexpected, unexpected);
	CHECK_EQ_INT(r.bad_scan, 0);
	return r;
}

/* drive_begin() for a pack reached by `link` (enum bms_link), first poll
 * since the link was opened when `fresh`, as the gateway sets the
 * transport fields after bms_poll_begin(). */
static inline void drive_begin_link(struct bms_poll *poll, struct bms_rx *rx, uint8_t addr, uint8_t forced,
				    bool inv, uint8_t link, bool fresh)
{
	drive_begin(poll, rx, addr, forced, inv);
	poll->link = link;
	poll->link_fresh = fresh;
}

/* The current step sends nothing and waits for the BMS's own frames. */
static inline bool drive_listens(const struct bms_poll *poll)
{
	return drv->listen_only || (drv->listens && drv->listens(poll));
}

/* drive_step() when the test's own cur(poll) (which request is outstanding)
 * says want. */
#define DRIVE_STEP(poll, rx, cur, want, hex, ch, unexp) \
	do { \
		CHECK_EQ_INT(cur(poll), want); \
		drive_step(poll, rx, hex, ch, DRIVE_NCH(ch), unexp); \
	} while (0)

/* The answer to one step of a whole poll. */
struct drive_answer {
	const uint8_t *p;     /* its bytes */
	size_t len;
	const size_t *chunks; /* read() sizes, cycled */
	size_t nchunks;
	int unexpected;       /* frames handle() ignores on the way */
	int req_len;          /* the request it answers is this long (0: any;
	                       * DRIVE_LISTENS: the step listens, no request) */
};
#define DRIVE_LISTENS (-1)

#define DRIVE_ANSWER(p, len, ch) { (const uint8_t *)(p), (len), (ch), DRIVE_NCH(ch), 0, 0 }

/* A whole poll from its answers, the way the poller runs it (the poll
 * begun): for each answer a request must be outstanding (or the step
 * listens: nothing is sent), then the rx buffer is drained and the answer
 * arrives, a clean step (see drive_step); after the last, next_request()
 * must say the poll is complete (a listen-only driver has no requests: the
 * answers just arrive).  Adds to *r; returns finish()'s result (BMS_OK for
 * a driver without one). */
static inline int drive_poll(struct bms_poll *poll, struct bms_rx *rx, const struct drive_answer *a, size_t n,
			     struct drive_res *r)
{
	uint8_t req[256];

	for (size_t k = 0; k < n; k++) {
		if (!drv->listen_only && drive_listens(poll)) {
			CHECK_EQ_INT(a[k].req_len, DRIVE_LISTENS);
			bms_rx_clear(rx); /* a listening step starts from a clean buffer */
		} else if (!drv->listen_only) {
			int rn = drv->next_request(poll, req, sizeof(req));
			if (a[k].req_len)
				CHECK_EQ_INT(rn, a[k].req_len);
			else
				CHECK(rn > 0);
			bms_rx_clear(rx);
		}
		const struct drive_res was = *r;
		drive_feed(poll, rx, a[k].p, a[k].len, a[k].chunks, a[k].nchunks, r);
		CHECK_EQ_INT(r->ok - was.ok, 1);
		CHECK_EQ_INT(r->err - was.err, 0);
		CHECK_EQ_INT(r->unexpected - was.unexpected, a[k].unexpected);
		CHECK_EQ_INT(r->bad_scan - was.bad_scan, 0);
	}
	if (!drv->listen_only) {
		CHECK(!drive_listens(poll));
		CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 0);
	}
	int rc = drv->finish ? drv->finish(poll) : BMS_OK;
	/* the driver delivers nothing its table does not announce (discovery relies on it) */
	CHECK_EQ_INT(poll->snap.present & ~drv->provides, 0);
	return rc;
}

/* The cells are want[0..n), exactly: n of them, the slots beyond are 0
 * (mismatches are listed on stderr). */
static inline void drive_check_cells(const struct bms_snapshot *s, const uint16_t *want, int n)
{
	int bad = 0;

	CHECK_EQ_INT(s->ncells, n);
	for (int i = 0; i < n; i++)
		if (s->cell_mv[i] != want[i]) {
			fprintf(stderr, "cell %d: %u != %u\n", i + 1, s->cell_mv[i], want[i]);
			bad++;
		}
	for (int i = n; i < BMS_MAX_CELLS; i++)
		if (s->cell_mv[i] != 0) {
			fprintf(stderr, "cell %d: %u != 0\n", i + 1, s->cell_mv[i]);
			bad++;
		}
	CHECK_EQ_INT(bad, 0);
}

/* ---- a Bluetooth-only driver's table and requests ---- */

/* The request of the current step is exactly hex. */
static inline bool drive_req_is(struct bms_poll *poll, const char *hex)
{
	uint8_t req[256], want[256];
	int n = drv->next_request(poll, req, sizeof(req));
	int m = check_hex(hex, want, (int)sizeof(want));
	return n == m && n > 0 && memcmp(req, want, (size_t)n) == 0;
}

/* The ends of next_request(): a buffer of short_cap bytes is too small
 * for the current step's request, step `done` has none (the poll is
 * complete), a step beyond it is refused. */
static inline void drive_request_ends(struct bms_poll *poll, size_t short_cap, int done)
{
	uint8_t req[64];
	CHECK_EQ_INT(drv->next_request(poll, req, short_cap), BMS_E_NOSPACE);
	poll->step = done;
	CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), 0);
	poll->step = done + 3;
	CHECK_EQ_INT(drv->next_request(poll, req, sizeof(req)), BMS_E_RANGE);
}

/* handle() of one frame (hex) in a fresh poll at `step`: its result. */
static inline int drive_handle_at(const char *hex, int step)
{
	struct bms_poll poll;
	uint8_t f[512];
	int n = check_hex(hex, f, (int)sizeof(f));
	bms_poll_begin(&poll, 0, 0, false);
	poll.step = step;
	return drv->handle(&poll, f, (size_t)(n > 0 ? n : 0));
}

/* scan() takes the frame (hex) whole, n bytes, and needs more for every
 * part of it; the frame is left in b[0..n). */
static inline void drive_scan_whole(const char *hex, uint8_t *b, size_t cap, size_t n)
{
	size_t got = 0;
	int k = check_hex(hex, b, (int)cap);
	CHECK_EQ_INT(k, (int)n);
	CHECK_EQ_INT(drv->scan(NULL, b, n, &got), BMS_SCAN_FRAME);
	CHECK_EQ_INT(got, n);
	for (size_t i = 1; i < n; i++)
		CHECK_EQ_INT(drv->scan(NULL, b, i, &got), BMS_SCAN_NEED);
}

/* Does one of the driver's BMS_BLE_NAME hints take this name (each hint a
 * name hint)? */
static inline bool drive_hinted(const char *name)
{
	for (const struct bms_ble_hint *h = drv->ble ? drv->ble->hints : NULL; h && h->why; h++) {
		CHECK(h->kind == BMS_BLE_NAME);
		if (h->prefix ? strncasecmp(name, h->prefix, strlen(h->prefix)) == 0 : h->name_ok(name))
			return true;
	}
	return false;
}

/* A Bluetooth-only driver that is polled (not listened to), with one
 * GATT layout (full UUIDs), no probe, no MOSFET control, no address. */
static inline void drive_check_ble(const char *svc, const char *ntf, const char *wr)
{
	CHECK(bms_ble_only(drv) && !drv->listen_only && drv->listens == NULL);
	CHECK(drv->ble && drv->ble->gatt != NULL);
	if (!drv->ble || !drv->ble->gatt)
		return;
	CHECK_STR(drv->ble->gatt[0].service, svc);
	CHECK_STR(drv->ble->gatt[0].notify, ntf);
	CHECK_STR(drv->ble->gatt[0].write, wr);
	CHECK(drv->ble->gatt[0].write_service == NULL);
	CHECK(drv->ble->gatt[1].service == NULL);
	CHECK(drv->probe == NULL);
	CHECK(drv->control == NULL);
	CHECK_EQ_INT(drv->max_address, 0);
}

/* The same with a layout of 16-bit UUIDs ("ffe0"). */
static inline void drive_check_ble16(const char *svc, const char *ntf, const char *wr)
{
	char u[3][40];
	snprintf(u[0], sizeof(u[0]), "0000%s-0000-1000-8000-00805f9b34fb", svc);
	snprintf(u[1], sizeof(u[1]), "0000%s-0000-1000-8000-00805f9b34fb", ntf);
	snprintf(u[2], sizeof(u[2]), "0000%s-0000-1000-8000-00805f9b34fb", wr);
	drive_check_ble(u[0], u[1], u[2]);
}

/* Read sizes a Bluetooth link gives (20-byte notifications, odd reads, one
 * byte at a time, everything at once), and a whole poll from its answers
 * (hex, one a request of req_len bytes) in one of them. */
static const size_t drive_notif20[] __attribute__((unused)) = { 20 };
static const size_t drive_odd[] __attribute__((unused)) = { 1, 2, 7, 13, 1, 26, 3, 11, 40, 64, 17, 150 };
struct drive_chunking {
	const size_t *ch;
	size_t n;
};
static const struct drive_chunking drive_chunkings[] __attribute__((unused)) = {
	{ drive_notif20, 1 }, { drive_odd, DRIVE_NCH(drive_odd) }, { chunks_one, 1 }, { chunks_big, 1 },
};
#define DRIVE_NCHUNKINGS DRIVE_NCH(drive_chunkings)

static inline int drive_poll_hex(struct bms_poll *poll, struct bms_rx *rx, const char *const *answers, size_t n,
				 const struct drive_chunking *c, int req_len)
{
	static uint8_t buf[8][512];
	struct drive_answer a[8];
	for (size_t i = 0; i < n && i < 8; i++)
		a[i] = (struct drive_answer){ buf[i], (size_t)drive_hex(answers[i], buf[i], 512), c->ch, c->n, 0,
					      req_len };
	struct drive_res r = { 0 };
	return drive_poll(poll, rx, a, n < 8 ? n : 8, &r);
}

/* One step of the poll at `step` on b[0..n), from a clean buffer. */
static inline struct drive_res drive_step_at(struct bms_poll *poll, struct bms_rx *rx, int step, const uint8_t *b,
					     size_t n, const size_t *ch, size_t nch)
{
	poll->step = step;
	bms_rx_clear(rx);
	return drive_feed_bytes(poll, rx, b, n, ch, nch);
}

/* `cells =` on the answer `frame` (hex) to `step`: 1..n cells are taken
 * (the first of mv[0..n)), n + 1 fail the try with BMS_E_RANGE. */
static inline void drive_check_forced(int step, const char *frame, const uint16_t *mv, int n)
{
	for (int forced = 1; forced <= n + 1; forced++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t b[512];
		drive_begin_link(&poll, &rx, 0, (uint8_t)forced, false, BMS_LINK_BLE, false);
		size_t len = (size_t)drive_hex(frame, b, (int)sizeof(b));
		struct drive_res r = drive_step_at(&poll, &rx, step, b, len, drive_notif20, 1);
		if (forced <= n) {
			CHECK_EQ_INT(r.ok, 1);
			CHECK_EQ_INT(poll.snap.ncells, forced);
			CHECK_EQ_INT(poll.snap.cell_mv[forced - 1], mv[forced - 1]);
		} else {
			CHECK_EQ_INT(r.err, 1);
			CHECK_EQ_INT(r.last_err, BMS_E_RANGE);
		}
	}
}

/* Broken bytes `bad` (hex) before the good answer `good` to `step`, in
 * every chunking of drive_chunkings: the answer decodes (the poll moves to
 * `next`), `badsum` checksum errors and `unexpected` ignored frames on the
 * way, no error, no framer bug.  *last (may be NULL): the last poll. */
static inline void drive_check_broken(int step, int next, const char *bad, const char *good, int badsum,
				      int unexpected, struct bms_poll *last)
{
	for (size_t k = 0; k < DRIVE_NCHUNKINGS; k++) {
		struct bms_poll poll = { 0 };
		struct bms_rx rx;
		uint8_t buf[1024];
		size_t n = (size_t)drive_hex(bad, buf, 512);
		n += (size_t)drive_hex(good, buf + n, 512);
		drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
		struct drive_res r = drive_step_at(&poll, &rx, step, buf, n, drive_chunkings[k].ch, drive_chunkings[k].n);
		CHECK_EQ_INT(r.ok, 1);
		CHECK_EQ_INT(r.badsum, badsum);
		CHECK_EQ_INT(r.unexpected, unexpected);
		CHECK_EQ_INT(r.err, 0);
		CHECK_EQ_INT(r.bad_scan, 0);
		CHECK_EQ_INT(poll.step, next);
		if (last)
			*last = poll;
	}
}

/* A frame b[0..n) with a good checksum whose content cannot be, as the
 * answer to `step`: the try fails; its error. */
static inline int drive_bad_frame(const uint8_t *b, size_t n, int step)
{
	struct bms_poll poll = { 0 };
	struct bms_rx rx;
	drive_begin_link(&poll, &rx, 0, 0, false, BMS_LINK_BLE, false);
	poll.kept.ident_state = BMS_IDENT_NONE;
	struct drive_res r = drive_step_at(&poll, &rx, step, b, n, chunks_big, 1);
	CHECK_EQ_INT(r.ok, 0);
	CHECK_EQ_INT(r.err, 1);
	return r.last_err;
}

/* CRC-16/MODBUS, the tests' own (not the drivers'). */
static inline uint16_t drive_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* CRC-16/XMODEM, the tests' own. */
static inline uint16_t drive_crc16_xmodem(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

#endif
