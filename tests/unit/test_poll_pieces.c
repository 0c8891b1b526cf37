/* SPDX-License-Identifier: MIT */
/* tests/unit/test_poll_pieces.c - the poller's two members for a BMS that
 * acknowledges its answer piece by piece (bms.h: sent() and keep_rx; the
 * family behind them is d-powercore, bms/PROTOCOLS.md §69): the real
 * poller and bus engine (gateway/poll/) over a real wire (a TCP serial
 * server's link, wire/tcp.c) to a BMS this test plays, with a driver of
 * its own that has just those members.  The protocol, the test's own:
 *
 *   "Q"          the request; the answer comes in two pieces
 *   'A' k chk    piece k (1, 2), chk = 'A' ^ k
 *   "K" k        the acknowledgement of piece k: K 1 asks for piece 2,
 *                K 2 ends the answer and nothing answers it
 *
 * so that a poll is Q, K 1, K 2.  The driver's sent() says that K 2 is
 * answered by nothing, keep_rx that piece 2 may come before K 1 is written.
 *
 *   - the BMS waits for each acknowledgement: every poll good, no try
 *     timed out (without sent() each poll would wait out K 2's timeout);
 *   - the BMS sends piece 2 right behind piece 1, before K 1: kept and
 *     taken after K 1, still no timeout (a bus that drains what came before
 *     a request loses it and times out);
 *   - a stray byte between two polls (the start of a piece) is not kept
 *     into the next poll: no checksum error, no timeout (kept, it would
 *     make the next answer's first three bytes a bad frame);
 *   - a piece cut short: the try times out (a short frame) and its retry
 *     starts afresh (the cut byte kept would spoil the retry's answer the
 *     same way), the poll is good.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../gateway/daemon/daemon.h"
#include "../../gateway/poll/poll.h"
#include "check.h"
#include "sections.h"
#include "loop_check.h"
#include "tcp_peer.h"

/* the seconds a condition may take, on a loaded machine under ASan */
#define WAIT_S 10.0

static struct ev_loop *loop;
static struct gw gw;

/* ------------------------------------------------------------ the driver */

enum { PC_Q, PC_ACK1, PC_ACK2, PC_DONE };

static int pc_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (cap < 2)
		return BMS_E_INVALID;
	switch (poll->step) {
	case PC_Q:
		out[0] = 'Q';
		return 1;
	case PC_ACK1:
	case PC_ACK2:
		out[0] = 'K';
		out[1] = poll->step == PC_ACK1 ? 1 : 2;
		return 2;
	default:
		return 0;
	}
}

static enum bms_scan pc_scan(const struct bms_poll *poll, const uint8_t *b, size_t len, size_t *n)
{
	(void)poll;
	if (b[0] != 'A') {
		size_t k = 1;
		while (k < len && b[k] != 'A')
			k++;
		*n = k;
		return BMS_SCAN_SKIP;
	}
	if (len < 3)
		return BMS_SCAN_NEED;
	*n = 3;
	return (uint8_t)(b[0] ^ b[1]) == b[2] ? BMS_SCAN_FRAME : BMS_SCAN_BADSUM;
}

static int pc_handle(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	if (len != 3)
		return BMS_E_SHORT;
	if (poll->step == PC_Q && f[1] == 1) {
		struct bms_snapshot *s = &poll->snap;
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS;
		s->voltage = 13.2f;
		s->current = 0;
		s->soc = 50;
		s->ncells = 4;
		for (int i = 0; i < 4; i++)
			s->cell_mv[i] = 3300;
		poll->step = PC_ACK1;
		return BMS_OK;
	}
	if (poll->step == PC_ACK1 && f[1] == 2) {
		poll->step = PC_ACK2;
		return BMS_OK;
	}
	return BMS_E_UNEXPECTED; /* a piece of another step */
}

/* K 2 is taken in silence: the step is done once it is written. */
static bool pc_sent(struct bms_poll *poll)
{
	if (poll->step != PC_ACK2)
		return false;
	poll->step = PC_DONE;
	return true;
}

static const struct bms_driver pieces_driver = {
	.name = "pieces",
	.description = "this test's BMS: an answer in two pieces, each acknowledged",
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS,
	.interbyte = 0.5,
	.next_request = pc_next_request,
	.scan = pc_scan,
	.handle = pc_handle,
	.sent = pc_sent,
	.keep_rx = true,
};

/* ------------------------------------------------------------ the BMS */

enum mode {
	WAITS,        /* piece 2 after K 1 */
	EARLY,        /* piece 2 in the same write as piece 1 */
	CUT_ONCE,     /* the next K 1: the first byte of piece 2 alone, then nothing (once) */
};

static struct bms {
	struct tcp_peer peer;      /* the gateway's link connects here */
	enum mode mode;
	unsigned qs, k1s, k2s;
	bool cut;                  /* CUT_ONCE: that K 1 was answered by a cut piece */
} bms;

static void bms_send(const uint8_t *p, size_t n)
{
	tcp_peer_send(&bms.peer, p, n);
}

static void send_piece(uint8_t k)
{
	uint8_t f[3] = { 'A', k, (uint8_t)('A' ^ k) };
	bms_send(f, sizeof(f));
}

static void send_both(void)
{
	uint8_t f[6] = { 'A', 1, 'A' ^ 1, 'A', 2, 'A' ^ 2 };
	bms_send(f, sizeof(f));
}

static void bms_request(const uint8_t *q, size_t n)
{
	if (q[0] == 'Q') {
		bms.qs++;
		if (bms.mode == EARLY)
			send_both(); /* the gateway reads both before it writes K 1 */
		else
			send_piece(1);
		return;
	}
	CHECK(n == 2 && (q[1] == 1 || q[1] == 2));
	if (q[1] == 1) {
		bms.k1s++;
		if (bms.mode == CUT_ONCE) {
			bms_send((const uint8_t *)"A", 1); /* the rest never comes: the try times out */
			bms.cut = true;
			bms.mode = WAITS;
			return;
		}
		if (bms.mode != EARLY)
			send_piece(2);
		return;
	}
	bms.k2s++;
}

/* What the gateway sent: each whole request answered (tcp_peer.h's take). */
static size_t bms_take(const uint8_t *b, size_t len)
{
	size_t need = b[0] == 'K' ? 2 : 1;
	if (len < need)
		return 0;
	bms_request(b, need);
	return need;
}

/* ------------------------------------------------------------ the gateway */

static struct gw_pack *pk;
static char port[64];

static void setup(void)
{
	int bms_port = tcp_peer_start(&bms.peer, loop, bms_take);
	loop_check_init();
	/* a pack of a protocol the configuration knows, then this test's driver
	 * in its place before anything is polled */
	char ini[512], err[256] = "out of memory";
	snprintf(ini, sizeof(ini),
		 "[gateway]\nstate_file = none\nstale_after = 30\n"
		 "[pack.p]\nprotocol = jbd\nport = tcp://127.0.0.1:%d\npoll_interval = 0.2\ntimeout = 2\n"
		 "retries = 1\n",
		 bms_port);
	snprintf(port, sizeof(port), "tcp://127.0.0.1:%d", bms_port);
	struct conf *c = malloc(sizeof(*c));
	if (!c || conf_load_string(ini, "t.ini", c, err, sizeof(err)) < 0 || gw_init(&gw, loop, c) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	pk = gw.packs[0];
	pk->drv = &pieces_driver;
	gw_start(&gw);
}

/* n more good polls, each Q, K 1, K 2 */
static void polls(uint32_t n)
{
	uint32_t g0 = pk->good_polls;
	RUN_UNTIL(pk->good_polls >= g0 + n);
	CHECK_STR(pk->last_error, "");
}

/* The BMS waits for each acknowledgement: no try times out. */
static void test_acked(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(pk);
	bms.mode = WAITS;
	polls(3);
	CHECK_EQ_INT(st->timeouts, 0);
	CHECK_EQ_INT(st->checksum_errors, 0);
	RUN_UNTIL(bms.k2s >= 3); /* the last K 2 may be on its way: the poll ended when it was written */
	CHECK(bms.k1s >= bms.k2s && bms.qs >= bms.k1s);
	CHECK_EQ_INT(pk->failed_polls, 0);
}

/* Piece 2 before K 1 is written: kept, taken after K 1. */
static void test_early(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(pk);
	uint32_t t0 = st->timeouts, f0 = pk->failed_polls;
	unsigned k2 = bms.k2s;
	bms.mode = EARLY;
	polls(3);
	CHECK_EQ_INT(st->timeouts, t0);
	CHECK_EQ_INT(st->checksum_errors, 0);
	CHECK_EQ_INT(pk->failed_polls, f0);
	RUN_UNTIL(bms.k2s >= k2 + 3);
	bms.mode = WAITS;
}

/* A stray byte between two polls stays out of the next one: written
 * while the wire is idle, taken into what the bus keeps before the next
 * poll begins (a turn in which the poll's timer came first is tried again:
 * that stray belongs to the poll it fell into). */
static void test_stray(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(pk);
	struct gw_bus *w = gw_bus_find(&gw, port);
	CHECK(w != NULL);
	if (!w)
		return;
	bool idle_stray = false;
	for (int k = 0; k < 5 && !idle_stray; k++) {
		uint32_t g0 = pk->good_polls;
		RUN_UNTIL(pk->good_polls > g0 && !w->cur);
		bms_send((const uint8_t *)"A", 1);
		RUN_UNTIL(w->rx.len > 0 || w->cur);
		idle_stray = w->rx.len == 1 && !w->cur;
	}
	CHECK(idle_stray);
	uint32_t t0 = st->timeouts, c0 = st->checksum_errors, f0 = pk->failed_polls;
	polls(2);
	CHECK_EQ_INT(st->checksum_errors, c0);
	CHECK_EQ_INT(st->timeouts, t0);
	CHECK_EQ_INT(pk->failed_polls, f0);
}

/* A piece cut short: the try times out, and what it left is not kept into
 * the retry (K 1 again, answered whole). */
static void test_cut(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(pk);
	uint32_t t0 = st->timeouts, s0 = st->short_frames, c0 = st->checksum_errors, f0 = pk->failed_polls;
	bms.cut = false;
	bms.mode = CUT_ONCE;
	RUN_UNTIL(bms.cut);
	polls(2);
	CHECK_EQ_INT(st->timeouts, t0 + 1);
	CHECK_EQ_INT(st->short_frames, s0 + 1);
	CHECK_EQ_INT(st->checksum_errors, c0);
	CHECK_EQ_INT(pk->failed_polls, f0);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	loop = ev_loop_new(EVFLAG_AUTO);
	setup();
	test_acked();
	test_early();
	test_stray();
	test_cut();
	pk->drv = bms_find("jbd");
	gw_free(&gw);
	tcp_peer_close(&bms.peer);
	ev_loop_destroy(loop);
	return check_report();
}
