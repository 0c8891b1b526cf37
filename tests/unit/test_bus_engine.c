/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bus_engine.c - the transaction engine of a bus
 * (gateway/poll/bus_engine.c) driven over a socketpair: a link whose transport is
 * one end of it (wire/wire_int.h), a JBD BMS this test plays on the other
 * end, and two clients of the engine standing in for the poller and MOSFET
 * control (struct gw_bus_client), each with a JBD pack whose framer the
 * engine runs.  The libev loop runs until a condition holds, with a
 * deadline; nothing sleeps.
 *
 *   - a poll step and a MOSFET frame queued together: the frame goes out
 *     first (control is asked ahead of the poller), each answer reaches
 *     its own client;
 *   - a MOSFET frame queued while a poll step waits out its gap goes ahead
 *     of that step;
 *   - a step nobody answers: its client hears the timeout, once; the late
 *     answer, heard in the gap before the next frame, reaches nobody;
 *   - a reply for the wrong client (a read answer while the MOSFET frame
 *     waits for its acknowledgement) goes to the client of the transaction
 *     on the wire, never to the poller, and the acknowledgement after it
 *     still ends that transaction.
 * The frames are JBD's (bms/PROTOCOLS.md §7): the 0x03 read request and
 * answer of tests/fixtures/vectors.tsv JBD-01, the MOSFET write 0xE1 and
 * its acknowledgement JBD-ACK-E1.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../gateway/daemon/daemon.h"
#include "../../gateway/poll/bus_engine.h"
#include "../../gateway/wire/wire_int.h"
#include "check.h"
#include "sections.h"
#include "loop_check.h"
#include "jbd_check.h"

#define WAIT_S 10.0

static struct ev_loop *loop;
static struct gw gw;

/* ------------------------------------------------------------ the BMS */

static struct bms {
	int fd;                        /* its end of the socketpair */
	ev_io io;
	uint8_t buf[256];
	size_t got;
	char order[32];                /* what came, in order: R a read request, W a MOSFET write */
	bool answer_reads, answer_writes;
	bool stray;                    /* answer the next write with a read answer first */
} bms;

static void bms_send(const uint8_t *p, size_t n)
{
	CHECK(write(bms.fd, p, n) == (ssize_t)n);
}

static void send_basic(void)
{
	uint8_t d[29], f[64];
	check_hex("0618 0000 01f2 01f4 0000 2c7c 0000 0000 0000 80 64 03 04 03 0b8b 0b8a 0b84", d, sizeof(d));
	bms_send(f, jbd_frame(f, 0x03, 0x00, d, sizeof(d)));
}

static void send_ack(void)
{
	uint8_t ack[8];
	bms_send(ack, (size_t)check_hex("dde10000000077", ack, sizeof(ack))); /* JBD-ACK-E1 */
}

static void bms_request(const uint8_t *q)
{
	size_t n = strlen(bms.order);
	bool w = q[1] == 0x5A;
	if (n + 1 < sizeof(bms.order)) {
		bms.order[n] = w ? 'W' : 'R';
		bms.order[n + 1] = 0;
	}
	if (w && bms.stray) {
		bms.stray = false;
		send_basic(); /* the poller's kind of answer, while the write waits */
	}
	if (w && bms.answer_writes)
		send_ack();
	else if (!w && bms.answer_reads)
		send_basic();
}

static void bms_io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	ssize_t n = read(bms.fd, bms.buf + bms.got, sizeof(bms.buf) - bms.got);
	if (n <= 0)
		return;
	bms.got += (size_t)n;
	for (;;) {
		uint8_t *s = memchr(bms.buf, 0xDD, bms.got);
		size_t skip = s ? (size_t)(s - bms.buf) : bms.got;
		memmove(bms.buf, bms.buf + skip, bms.got - skip);
		bms.got -= skip;
		size_t need = bms.got >= 4 && bms.buf[1] == 0x5A ? (size_t)bms.buf[3] + 7 : 7;
		if (bms.got < 4 || bms.got < need)
			return;
		bms_request(bms.buf);
		memmove(bms.buf, bms.buf + need, bms.got - need);
		bms.got -= need;
	}
}

/* ------------------------------------------------------------ the link: a socketpair */

static int gw_end;

static void pair_open(struct gw_link *l)
{
	gw_link_attach(l, gw_end);
	gw_link_up(l);
}

static void pair_close(struct gw_link *l)
{
	(void)l; /* the test closes its socketpair */
}

/* a TCP serial server's transport, opened on the socketpair (setup at start) */
static struct gw_transport pair_transport;

/* ------------------------------------------------------------ two clients */

/* One client: its pack, frames waiting to go out, what it heard. */
struct client {
	enum gw_bus_who who;
	struct gw_pack *pack;
	const uint8_t *req;
	size_t reqlen;
	int queued;                    /* frames still to send */
	int sent, answers, timeouts;
	uint8_t last_reg;              /* byte 1 of the last frame it got */
	uint8_t own_reg;               /* its answer's byte 1 */
};

static struct client poller, control;
static struct bms_poll session;
static struct gw_bus *bus;

static bool c_start(struct client *c, struct gw_bus *w)
{
	if (!c->queued)
		return false;
	gw_bus_gap(w, c->who, c->pack, c->who == GW_BUS_CONTROL);
	return true;
}

static bool ctl_start(struct gw_bus *w)
{
	return c_start(&control, w);
}

static bool poll_start(struct gw_bus *w)
{
	return c_start(&poller, w);
}

/* Each callback knows its own client: the engine must call the right one. */
static void c_send(struct client *c, struct gw_bus *w)
{
	CHECK_EQ_INT(w->who, c->who);
	c->queued--;
	c->sent++;
	CHECK_EQ_INT(gw_bus_send(w, c->req, c->reqlen), 0);
}

static enum bms_frame_next c_frame(struct client *c, struct gw_bus *w, const uint8_t *f, size_t fl)
{
	CHECK(fl >= 2);
	c->last_reg = f[1];
	c->answers++;
	if (f[1] != c->own_reg)
		return BMS_FRAME_MORE; /* not an answer to its frame: the next one may be */
	gw_bus_release(w);
	return BMS_FRAME_STOP;
}

static void c_timeout(struct client *c, struct gw_bus *w)
{
	c->timeouts++;
	gw_bus_release(w);
}

static void ctl_send(struct gw_bus *w)
{
	c_send(&control, w);
}

static void poll_send(struct gw_bus *w)
{
	c_send(&poller, w);
}

static enum bms_frame_next ctl_frame(struct gw_bus *w, const uint8_t *f, size_t fl)
{
	return c_frame(&control, w, f, fl);
}

static enum bms_frame_next poll_frame(struct gw_bus *w, const uint8_t *f, size_t fl)
{
	return c_frame(&poller, w, f, fl);
}

static void ctl_timeout(struct gw_bus *w)
{
	c_timeout(&control, w);
}

static void poll_timeout(struct gw_bus *w)
{
	c_timeout(&poller, w);
}

static void c_stop(struct gw_bus *w, enum gw_bus_stop why)
{
	(void)w;
	(void)why;
}

static struct bms_poll *c_session(const struct gw_pack *p)
{
	(void)p;
	return &session;
}

static const struct gw_bus_client ctl_client = { ctl_start, ctl_send, ctl_frame, ctl_timeout, c_stop, NULL };
static const struct gw_bus_client poll_client = { poll_start, poll_send, poll_frame, poll_timeout, c_stop, c_session };


static const uint8_t read_req[] = { 0xDD, 0xA5, 0x03, 0x00, 0xFF, 0xFD, 0x77 };
static const uint8_t write_req[] = { 0xDD, 0x5A, 0xE1, 0x02, 0x00, 0x02, 0xFF, 0x1B, 0x77 };

static void setup(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	bms.fd = sv[0];
	gw_end = sv[1];
	ev_io_init(&bms.io, bms_io_cb, bms.fd, EV_READ);
	ev_io_start(loop, &bms.io);
	loop_check_init();
	char err[256] = "out of memory";
	const char *ini = "[gateway]\nstate_file = none\n"
			  "[pack.a]\nprotocol = jbd\nport = tcp://127.0.0.1:9\ntimeout = 0.3\n"
			  "[pack.b]\nprotocol = jbd\nport = tcp://127.0.0.1:10\ntimeout = 0.3\n";
	struct conf *c = malloc(sizeof(*c));
	if (!c || conf_load_string(ini, "t.ini", c, err, sizeof(err)) < 0 || gw_init(&gw, loop, c) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	bms_poll_begin(&session, 1, 0, false);
	poller = (struct client){ .who = GW_BUS_POLL, .pack = gw.packs[0], .req = read_req,
				  .reqlen = sizeof(read_req), .own_reg = 0x03 };
	control = (struct client){ .who = GW_BUS_CONTROL, .pack = gw.packs[1], .req = write_req,
				   .reqlen = sizeof(write_req), .own_reg = 0xE1 };
	const struct gw_bus_client *const clients[GW_BUS_CLIENTS] = { &ctl_client, &poll_client };
	pair_transport = gw_transport_tcp;
	pair_transport.name = "socketpair";
	pair_transport.silent_reopen = 0;
	pair_transport.open = pair_open;
	pair_transport.close = pair_close;
	pair_transport.release = NULL;
	struct gw_link *l = gw_link_alloc(gw.link_env, &pair_transport, "socketpair");
	CHECK(l != NULL);
	l->cfg = gw.packs[0]->cfg;
	bus = gw_bus_make(&gw, l, clients);
	CHECK(bus != NULL);
	bms.answer_reads = bms.answer_writes = true;
	gw_bus_open(bus); /* up at once: nothing is queued yet */
	CHECK(bus->ps == GW_BUS_IDLE);
}

/* Both queued on an idle bus: control is asked first. */
static void test_order(void)
{
	bms.order[0] = 0;
	poller.queued = control.queued = 1;
	gw_poll_kick(bus);
	RUN_UNTIL(poller.answers == 1 && control.answers == 1);
	CHECK_STR(bms.order, "WR");
	CHECK_EQ_INT(control.last_reg, 0xE1);
	CHECK_EQ_INT(poller.last_reg, 0x03);
	CHECK(bus->ps == GW_BUS_IDLE);
}

/* A MOSFET frame queued while a poll step waits out its gap goes ahead of
 * the step; the step goes out after it. */
static void test_ahead(void)
{
	bms.order[0] = 0;
	int pa = poller.answers, ca = control.answers;
	poller.queued = 1;
	gw_poll_kick(bus);
	CHECK(bus->ps == GW_BUS_GAP && bus->who == GW_BUS_POLL);
	control.queued = 1;
	gw_poll_kick(bus); /* not idle: it waits for the end of the gap */
	CHECK(bus->who == GW_BUS_POLL);
	RUN_UNTIL(poller.answers == pa + 1 && control.answers == ca + 1);
	CHECK_STR(bms.order, "WR");
}

/* Nobody answers the step: its client hears the timeout once; the late
 * answer comes in the gap before the next frame and reaches nobody. */
static void test_timeout(void)
{
	bms.order[0] = 0;
	bms.answer_reads = false;
	int pa = poller.answers, ca = control.answers, pt = poller.timeouts;
	poller.queued = 1;
	gw_poll_kick(bus);
	RUN_UNTIL(poller.timeouts == pt + 1);
	CHECK_EQ_INT(poller.answers, pa);
	/* the next transaction (control's) waits out its gap: the late answer
	 * arrives in it */
	control.queued = 1;
	gw_poll_kick(bus);
	CHECK(bus->ps == GW_BUS_GAP && bus->who == GW_BUS_CONTROL);
	send_basic();
	RUN_UNTIL(control.answers > ca);
	CHECK_STR(bms.order, "RW");
	CHECK_EQ_INT(control.answers, ca + 1);    /* the ack, not the late read answer */
	CHECK_EQ_INT(control.last_reg, 0xE1);
	CHECK_EQ_INT(poller.answers, pa);
	CHECK_EQ_INT(poller.timeouts, pt + 1);
	bms.answer_reads = true;
}

/* A read answer while the MOSFET frame waits for its acknowledgement: the
 * control client gets it (and waits on), the poller never does. */
static void test_wrong_client(void)
{
	bms.order[0] = 0;
	int pa = poller.answers, ca = control.answers, ct = control.timeouts;
	bms.stray = true;
	control.queued = 1;
	gw_poll_kick(bus);
	RUN_UNTIL(control.answers == ca + 2);
	CHECK_EQ_INT(control.last_reg, 0xE1);     /* the stray frame first, then its ack */
	CHECK_EQ_INT(control.timeouts, ct);
	CHECK_EQ_INT(poller.answers, pa);
	CHECK(bus->ps == GW_BUS_IDLE);
	/* and the poller's next step is answered as before */
	poller.queued = 1;
	gw_poll_kick(bus);
	RUN_UNTIL(poller.answers == pa + 1);
	CHECK_EQ_INT(poller.last_reg, 0x03);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	loop = ev_loop_new(EVFLAG_AUTO);
	setup();
	test_order();
	test_ahead();
	test_timeout();
	test_wrong_client();
	gw_bus_free(bus);
	gw_free(&gw);
	close(bms.fd);
	close(gw_end);
	ev_loop_destroy(loop);
	return check_report();
}
