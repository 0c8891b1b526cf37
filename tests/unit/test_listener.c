/* SPDX-License-Identifier: MIT */
/* tests/unit/test_listener.c - listen mode over a real wire: the listener
 * (gateway/poll/listener.c) and the poller's hooks, two TCP serial server
 * links over the loopback to two buses this test plays, each with another
 * master on it, in one libev loop run until a condition holds, with a
 * deadline; nothing sleeps.
 *
 * Bus A, Seplos V3 (`listen = true`, packs 1 = the master's own data, 2
 * and 3): the traffic of the capture BUS-SEPLOS3-* of
 * tests/fixtures/vectors.tsv (mr-manuel/venus-os_dbus-serialbattery#247),
 * the frames given other addresses and their CRCs computed again, written
 * in random chunks:
 *   - each pack's registers appear when the master's round for it is
 *     complete, not before, and match the capture; a round with an answer
 *     damaged and not asked again is dropped, never committed half;
 *   - a pack whose answers stop fails after stale_after and goes offline
 *     while the others stay fresh, and comes back;
 *   - garbage and answers with a broken CRC in between: counted
 *     (checksum_errors), harmless;
 *   - bmsgw writes not one byte to the bus.
 * Bus B, JK-PB (a master at DIP 0, slaves 1 and 2; BUS-JKPB-01,
 * syssi/esphome-jk-bms#442): the slaves' records attributed by the
 * acknowledgement after them, the master's own record acknowledged from
 * 0x00 with no request before it (pack 0); takeover_after: with the
 * master silent bmsgw polls (the test answers as the slaves), and at the
 * first request the test writes as master again it stops: no byte after.
 */
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../gateway/daemon/daemon.h"
#include "../../gateway/modbus/image.h"
#include "../../gateway/poll/listener.h"
#include "../../gateway/poll/poll.h"
#include "bus_vectors.h"
#include "check.h"
#include "sections.h"
#include "loop_check.h"
#include "tcp_peer.h"

/* the seconds a condition may take, on a loaded machine under ASan */
#define WAIT_S 15.0
#define STALE_AFTER 3.0
#define TAKEOVER_AFTER 1.5
#define ROUND_S 0.25

static struct ev_loop *loop;
static struct gw gw;
static struct gw_images *im;

/* ------------------------------------------------------------ a bus end */

struct end {
	int lfd, fd;
	ev_io lio, io;
	ev_timer wt;                   /* writes the queue in random chunks */
	uint8_t q[1 << 16];
	size_t qh, qt;
	uint8_t in[1024];              /* what bmsgw wrote, not yet taken */
	size_t inn;
	size_t heard;                  /* bytes bmsgw wrote, in all */
	void (*got)(struct end *e);    /* bytes from bmsgw arrived (in/inn) */
};

static struct end a, b;

/* The fake ends' own faults (a full queue, a fixture that is not hex),
 * said when they happen and checked once at the end: the number of checks
 * does not hang on how many rounds the masters made. */
static unsigned sim_faults;

static void queue(struct end *e, const uint8_t *p, size_t n)
{
	if (e->qt + n > sizeof(e->q)) {
		memmove(e->q, e->q + e->qh, e->qt - e->qh);
		e->qt -= e->qh;
		e->qh = 0;
	}
	if (e->qt + n > sizeof(e->q)) {
		fprintf(stderr, "the fake end's queue is full: %zu bytes not sent\n", n);
		sim_faults++;
		return;
	}
	memcpy(e->q + e->qt, p, n);
	e->qt += n;
}

static bool drained(const struct end *e)
{
	return e->qh == e->qt;
}

static void write_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)revents;
	struct end *e = t->data;
	if (e->fd < 0 || drained(e))
		return;
	size_t k = 1 + (size_t)rand() % 40;
	if (k > e->qt - e->qh)
		k = e->qt - e->qh;
	ssize_t w = write(e->fd, e->q + e->qh, k);
	if (w > 0)
		e->qh += (size_t)w;
}

static void read_cb(struct ev_loop *l, ev_io *w, int revents)
{
	(void)revents;
	struct end *e = w->data;
	ssize_t n = read(e->fd, e->in + e->inn, sizeof(e->in) - e->inn);
	if (n <= 0) {
		ev_io_stop(l, w);
		close(e->fd);
		e->fd = -1;
		e->inn = 0;
		ev_io_start(l, &e->lio);
		return;
	}
	e->heard += (size_t)n;
	e->inn += (size_t)n;
	if (e->got)
		e->got(e);
	if (e->inn == sizeof(e->in))
		e->inn = 0;
}

static void accept_cb(struct ev_loop *l, ev_io *w, int revents)
{
	(void)revents;
	struct end *e = w->data;
	int fd = accept(e->lfd, NULL, NULL);
	if (fd < 0)
		return;
	ev_io_stop(l, w);
	e->fd = fd;
	ev_io_init(&e->io, read_cb, fd, EV_READ);
	e->io.data = e;
	ev_io_start(l, &e->io);
}

/* A listening socket on the loopback for end e: its port. */
static int end_open(struct end *e)
{
	int port;
	int fd = tcp_listen_any(&port);
	e->lfd = fd;
	e->fd = -1;
	ev_io_init(&e->lio, accept_cb, fd, EV_READ);
	e->lio.data = e;
	ev_io_start(loop, &e->lio);
	ev_timer_init(&e->wt, write_cb, 0.001, 0.001);
	e->wt.data = e;
	ev_timer_start(loop, &e->wt);
	return port;
}

/* ------------------------------------------------------------ frames */

static size_t hex(const char *h, uint8_t *p, size_t cap)
{
	int n = check_hex(h, p, (int)cap);
	if (n <= 0) {
		fprintf(stderr, "a fixture that is not hex: %.40s\n", h);
		sim_faults++;
		return 0;
	}
	return (size_t)n;
}

static void crc_end(uint8_t *p, size_t n)
{
	uint16_t c = bms_crc16_modbus(p, n - 2);
	p[n - 2] = (uint8_t)c;
	p[n - 1] = (uint8_t)(c >> 8);
}

/* Modbus frame h from address addr (its CRC again), SOC (0.1 %) put in a
 * PIA answer when soc > 0, the CRC broken when bad; queued on e. */
static void put_mb(struct end *e, const char *h, uint8_t addr, int soc, bool bad)
{
	uint8_t p[300];
	size_t n = hex(h, p, sizeof(p));
	if (n < 4)
		return;
	p[0] = addr;
	if (soc > 0 && p[1] == 0x04 && p[2] == 0x24) {
		p[3 + 10] = (uint8_t)(soc >> 8); /* register 0x1005 */
		p[3 + 11] = (uint8_t)soc;
	}
	crc_end(p, n);
	if (bad)
		p[n - 1] ^= 0x5A;
	queue(e, p, n);
}

/* ------------------------------------------------------------ bus A: Seplos V3 */

static struct {
	bool on;                       /* the master polls */
	unsigned mask;                 /* the packs that answer (bit = address) */
	int soc[4];                    /* each pack's SOC (0.1 %) */
	bool garbage;                  /* noise and a broken answer in each round */
	unsigned rounds;
	ev_timer t;
} ma;

/* One round of the master: its own answers (no request), then each slave
 * asked its PIA, PIB and PIC. */
static void a_round(void)
{
	if (ma.mask & 2) {
		put_mb(&a, BUS_SEPLOS3_01, 1, ma.soc[1], false);
		put_mb(&a, BUS_SEPLOS3_02, 1, 0, false);
		put_mb(&a, BUS_SEPLOS3_03, 1, 0, false);
	}
	static const char *const req[3] = { BUS_SEPLOS3_REQ_01, BUS_SEPLOS3_REQ_02, BUS_SEPLOS3_REQ_03 };
	static const char *const ans[3] = { BUS_SEPLOS3_01, BUS_SEPLOS3_02, BUS_SEPLOS3_03 };
	for (uint8_t s = 2; s <= 3; s++)
		for (int k = 0; k < 3; k++) {
			if (ma.garbage && k == 0) {
				queue(&a, (const uint8_t *)"\xff\x00\x99\xfe", 4);
				put_mb(&a, req[k], s, 0, false);
				put_mb(&a, ans[k], s, ma.soc[s], true); /* broken: the master asks again */
			}
			put_mb(&a, req[k], s, 0, false);
			if (ma.mask & (1u << s))
				put_mb(&a, ans[k], s, ma.soc[s], false);
		}
	ma.rounds++;
}

static void a_timer(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)t;
	(void)revents;
	if (ma.on && a.fd >= 0 && drained(&a))
		a_round();
}

/* ------------------------------------------------------------ bus B: JK-PB */

static struct {
	bool on;                       /* the master polls */
	bool slave;                    /* the test answers bmsgw's triggers as slaves 1 and 2 */
	unsigned rounds, asked;        /* rounds written; triggers bmsgw wrote */
	ev_timer t;
} mb;

static void put_record_ack(struct end *e, uint8_t addr, uint16_t reg)
{
	uint8_t p[320];
	size_t n = hex(BUS_JKPB_01, p, sizeof(p)); /* the status record + the ACK of 1 */
	if (n != 308)
		return;
	uint8_t *ack = p + 300;
	ack[0] = addr;
	ack[2] = (uint8_t)(reg >> 8);
	ack[3] = (uint8_t)reg;
	crc_end(ack, 8);
	queue(e, p, n);
}

static void b_round(void)
{
	uint8_t q[16];
	/* slaves 1 and 2 asked and answering, 14 asked and absent, the master's own */
	for (uint8_t s = 1; s <= 2; s++) {
		size_t n = hex(JKPB_REQ_2, q, sizeof(q));
		q[0] = s;
		crc_end(q, n);
		queue(&b, q, n);
		put_record_ack(&b, s, 0x1620);
	}
	queue(&b, q, hex(BUS_JKPB_REQ_05, q, sizeof(q)));
	put_record_ack(&b, 0, 0x1620);
	mb.rounds++;
}

static void b_timer(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)l;
	(void)t;
	(void)revents;
	if (mb.on && b.fd >= 0 && drained(&b))
		b_round();
}

/* bmsgw's own triggers (taken over): answered as a slave would. */
static void b_got(struct end *e)
{
	while (e->inn >= 11) {
		if (e->in[1] != 0x10 || !bms_crc16_modbus_ok(e->in, 11)) {
			memmove(e->in, e->in + 1, --e->inn);
			continue;
		}
		mb.asked++;
		if (mb.slave && (e->in[0] == 1 || e->in[0] == 2) && e->in[2] == 0x16 && e->in[3] == 0x20)
			put_record_ack(e, e->in[0], 0x1620);
		memmove(e->in, e->in + 11, e->inn - 11);
		e->inn -= 11;
	}
}

/* ------------------------------------------------------------ the gateway */

static struct gw_pack *pa[4], *pb[3]; /* bus A by address 1..3; bus B by address 0..2 */

static unsigned reg(const struct gw_pack *p, enum reg_src src)
{
	struct gw_unit u = { .pack = (struct gw_pack *)p };
	const uint8_t *img = gw_unit_image_wire(&gw, &u, gw_mono(), im);
	int o = reg_offset(src);
	return (unsigned)(img[2 * o] << 8 | img[2 * o + 1]);
}

static void setup(void)
{
	int port_a = end_open(&a), port_b = end_open(&b);
	b.got = b_got;
	loop_check_init();
	char ini[2048], err[256] = "out of memory";
	snprintf(ini, sizeof(ini),
		 "[gateway]\nstate_file = none\nstale_after = %g\n"
		 "[pack.a1]\nprotocol = seplos3\nport = tcp://127.0.0.1:%d\naddress = 1\nlisten = true\n"
		 "[pack.a2]\nprotocol = seplos3\nport = tcp://127.0.0.1:%d\naddress = 2\nlisten = true\n"
		 "[pack.a3]\nprotocol = seplos3\nport = tcp://127.0.0.1:%d\naddress = 3\nlisten = true\n"
		 "[pack.b0]\nprotocol = jk-pb\nport = tcp://127.0.0.1:%d\naddress = 0\nlisten = true\n"
		 "takeover_after = %g\npoll_interval = 0.2\ntimeout = 0.5\n"
		 "[pack.b1]\nprotocol = jk-pb\nport = tcp://127.0.0.1:%d\naddress = 1\nlisten = true\n"
		 "takeover_after = %g\npoll_interval = 0.2\ntimeout = 0.5\n"
		 "[pack.b2]\nprotocol = jk-pb\nport = tcp://127.0.0.1:%d\naddress = 2\nlisten = true\n"
		 "takeover_after = %g\npoll_interval = 0.2\ntimeout = 0.5\n",
		 STALE_AFTER, port_a, port_a, port_a, port_b, TAKEOVER_AFTER, port_b, TAKEOVER_AFTER, port_b,
		 TAKEOVER_AFTER);
	struct conf *c = malloc(sizeof(*c));
	if (!c || conf_load_string(ini, "t.ini", c, err, sizeof(err)) < 0 || gw_init(&gw, loop, c) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	for (int i = 0; i < 3; i++) {
		pa[i + 1] = gw.packs[i];
		pb[i] = gw.packs[3 + i];
	}
	im = gw_images_new();
	for (int s = 1; s <= 3; s++)
		ma.soc[s] = 681;
	ma.mask = 0xE;
	ma.on = mb.on = true;
	ev_timer_init(&ma.t, a_timer, ROUND_S, ROUND_S);
	ev_timer_start(loop, &ma.t);
	ev_timer_init(&mb.t, b_timer, ROUND_S, ROUND_S);
	ev_timer_start(loop, &mb.t);
	gw_start(&gw);
}

/* ------------------------------------------------------------ bus A */

static void check_m2(const struct gw_pack *p)
{
	static const uint16_t cells[16] = { 3272, 3273, 3273, 3271, 3271, 3274, 3272, 3273,
					    3270, 3274, 3272, 3275, 3271, 3273, 3275, 3278 };
	const struct bms_snapshot *s = &p->snap;
	CHECK_NEAR(s->voltage, 52.37, 1e-4);
	CHECK_NEAR(s->current, -6.09, 1e-4);
	CHECK_EQ_INT(s->ncells, 16);
	for (int i = 0; i < 16; i++)
		CHECK_EQ_INT(s->cell_mv[i], cells[i]);
	CHECK_NEAR(s->temp_c[0], 17.7, 1e-4);
	CHECK_NEAR(s->mos_temp_c, 16.8, 1e-4);
	CHECK(s->chg_mos && s->dsg_mos);
	CHECK_EQ_INT(reg(p, REG_SRC_VOLTAGE), 5237);
	CHECK_EQ_INT(reg(p, REG_SRC_ONLINE), 1);
}

/* Every pack heard, its registers the capture's. */
static void test_heard(void)
{
	RUN_UNTIL(pa[1]->good_polls >= 2 && pa[2]->good_polls >= 2 && pa[3]->good_polls >= 2);
	for (int s = 1; s <= 3; s++) {
		check_m2(pa[s]);
		CHECK_NEAR(pa[s]->snap.soc, 68.1, 1e-4);
		CHECK_EQ_INT(reg(pa[s], REG_SRC_SOC), 68);
		CHECK_EQ_INT(pa[s]->failed_polls, 0);
		CHECK_STR(pa[s]->last_error, "");
	}
}

/* A marker: a PIC read of an address no pack has and its answer broken.
 * When it is counted, bmsgw has taken every byte before it.  (Its broken
 * CRC may look like the beginning of a long frame: the frames after it
 * come through when the bus has been quiet for a moment, the listener's
 * silence rule, as the last frame of a round must.) */
static void marker_then_wait(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(pa[2]);
	uint32_t c0 = st->checksum_errors;
	put_mb(&a, BUS_SEPLOS3_REQ_03, 9, 0, false);
	put_mb(&a, "090112000000000000000000000000000000000000" "0000", 9, 0, true);
	RUN_UNTIL(st->checksum_errors > c0);
}

/* A pack's registers change when its round is complete, not before. */
static void test_round_whole(void)
{
	ma.on = false;
	RUN_UNTIL(drained(&a));
	marker_then_wait();
	uint32_t g = pa[2]->good_polls, g3 = pa[3]->good_polls;
	put_mb(&a, BUS_SEPLOS3_REQ_01, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_01, 2, 700, false);
	put_mb(&a, BUS_SEPLOS3_REQ_02, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_02, 2, 0, false);
	marker_then_wait();
	CHECK_EQ_INT(pa[2]->good_polls, g);
	CHECK_EQ_INT(reg(pa[2], REG_SRC_SOC), 68);
	put_mb(&a, BUS_SEPLOS3_REQ_03, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_03, 2, 0, false);
	RUN_UNTIL(pa[2]->good_polls > g);
	CHECK_EQ_INT(pa[2]->good_polls, g + 1);
	CHECK_NEAR(pa[2]->snap.soc, 70.0, 1e-4);
	CHECK_EQ_INT(reg(pa[2], REG_SRC_SOC), 70);
	CHECK_EQ_INT(pa[3]->good_polls, g3);
	ma.soc[2] = 700;
	ma.on = true;
}

/* An answer damaged on the wire that the master does not ask again: its
 * round is never committed half, and the master's round is not taken to
 * be shorter (the next round commits when whole, not at its second
 * answer: a decoder that builds its snapshot anew from one block would
 * then lose the others' values for good). */
static void test_round_damaged(void)
{
	ma.on = false;
	RUN_UNTIL(drained(&a));
	marker_then_wait();
	uint32_t g = pa[2]->good_polls;
	put_mb(&a, BUS_SEPLOS3_REQ_01, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_01, 2, 710, false);
	put_mb(&a, BUS_SEPLOS3_REQ_02, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_02, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_REQ_03, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_03, 2, 0, true); /* damaged, not asked again */
	marker_then_wait();
	CHECK_EQ_INT(pa[2]->good_polls, g);
	/* the next round: its first answer comes round; the damaged round is dropped */
	put_mb(&a, BUS_SEPLOS3_REQ_01, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_01, 2, 720, false);
	marker_then_wait();
	CHECK_EQ_INT(pa[2]->good_polls, g);
	put_mb(&a, BUS_SEPLOS3_REQ_02, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_02, 2, 0, false);
	marker_then_wait();
	CHECK_EQ_INT(pa[2]->good_polls, g);
	CHECK_EQ_INT(reg(pa[2], REG_SRC_SOC), 70);
	put_mb(&a, BUS_SEPLOS3_REQ_03, 2, 0, false);
	put_mb(&a, BUS_SEPLOS3_03, 2, 0, false);
	RUN_UNTIL(pa[2]->good_polls > g);
	CHECK_EQ_INT(pa[2]->good_polls, g + 1);
	CHECK_NEAR(pa[2]->snap.soc, 72.0, 1e-4);
	ma.on = true;
}

/* Pack 3 no longer answers: it fails after stale_after and goes offline;
 * the others stay fresh; it answers again and is back. */
static void test_stale(void)
{
	/* heard again first: while the test before drove pack 2 by hand, a
	 * loaded machine can let packs 1 and 3 go unheard for stale_after,
	 * and a pack fails once until it is heard again */
	uint32_t g0 = pa[3]->good_polls;
	RUN_UNTIL(pa[3]->good_polls > g0);
	uint32_t f3 = pa[3]->failed_polls;
	ma.mask = 0x6;
	RUN_UNTIL(pa[3]->failed_polls > f3);
	CHECK(strstr(pa[3]->last_error, "no answer of it heard") != NULL);
	RUN_UNTIL(reg(pa[3], REG_SRC_ONLINE) == 0);
	uint32_t g1 = pa[1]->good_polls, g2 = pa[2]->good_polls;
	RUN_UNTIL(pa[1]->good_polls > g1 + 2 && pa[2]->good_polls > g2 + 2);
	CHECK_EQ_INT(reg(pa[1], REG_SRC_ONLINE), 1);
	CHECK_EQ_INT(reg(pa[2], REG_SRC_ONLINE), 1);
	CHECK_EQ_INT(pa[2]->failed_polls, 0);
	uint32_t g3 = pa[3]->good_polls;
	ma.mask = 0xE;
	RUN_UNTIL(pa[3]->good_polls > g3 && reg(pa[3], REG_SRC_ONLINE) == 1);
	check_m2(pa[3]);
	CHECK_STR(pa[3]->last_error, "");
}

/* Noise and broken answers between the frames: counted, harmless. */
static void test_garbage(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(pa[2]);
	uint32_t c0 = st->checksum_errors, f2 = pa[2]->failed_polls;
	uint32_t g2 = pa[2]->good_polls, g3 = pa[3]->good_polls;
	ma.garbage = true;
	/* a broken answer of each slave per round, each counted */
	RUN_UNTIL(st->checksum_errors >= c0 + 2 * 4 && pa[2]->good_polls > g2 + 3 && pa[3]->good_polls > g3 + 3);
	ma.garbage = false;
	CHECK_EQ_INT(reg(pa[2], REG_SRC_WIRE_CHECKSUM), st->checksum_errors);
	CHECK_EQ_INT(pa[2]->failed_polls, f2);
	check_m2(pa[2]);
	CHECK_EQ_INT(reg(pa[2], REG_SRC_SOC), 70);
}

/* ------------------------------------------------------------ bus B */

static void test_jkpb(void)
{
	RUN_UNTIL(pb[0]->good_polls >= 2 && pb[1]->good_polls >= 2 && pb[2]->good_polls >= 2);
	for (int s = 0; s <= 2; s++) {
		const struct bms_snapshot *sn = &pb[s]->snap;
		CHECK_NEAR(sn->voltage, 53.538, 1e-3);
		CHECK_NEAR(sn->soc, 100, 1e-4);
		CHECK_EQ_INT(sn->ncells, 16);
		CHECK_EQ_INT(sn->cell_mv[0], 3346);
		CHECK_EQ_INT(sn->cell_mv[15], 3345);
		CHECK_EQ_INT(reg(pb[s], REG_SRC_SOC), 100);
		CHECK_STR(pb[s]->last_error, "");
	}
	CHECK_EQ_INT(b.heard, 0);
}

/* The master falls silent: bmsgw polls after takeover_after (the test
 * answers as slaves 1 and 2); the master asks again: bmsgw stops. */
static void test_takeover(void)
{
	mb.on = false;
	mb.slave = true;
	RUN_UNTIL(drained(&b));
	uint32_t g1 = pb[1]->good_polls;
	RUN_UNTIL(mb.asked >= 4 && pb[1]->good_polls > g1 + 1);
	CHECK(gw_listener_polls(pb[1]->bus->li));
	CHECK_NEAR(pb[1]->snap.voltage, 53.538, 1e-3);
	/* the master is back: its first request */
	mb.slave = false;
	uint8_t q[16];
	queue(&b, q, hex(BUS_JKPB_REQ_05, q, sizeof(q)));
	RUN_UNTIL(!gw_listener_polls(pb[1]->bus->li));
	size_t n_yield = b.heard;
	uint32_t f1 = pb[1]->failed_polls, f2 = pb[2]->failed_polls;
	mb.on = true;
	/* a round of the master heard whole: a trigger bmsgw wrote before it
	 * yielded has come by then */
	uint32_t g2 = pb[2]->good_polls;
	RUN_UNTIL(pb[2]->good_polls > g2);
	size_t n0 = b.heard;
	CHECK(n0 - n_yield <= 11);
	unsigned r0 = mb.rounds;
	g2 = pb[2]->good_polls;
	RUN_UNTIL(mb.rounds >= r0 + 8 && pb[2]->good_polls > g2 + 2);
	CHECK_EQ_INT(b.heard, n0);
	CHECK(!gw_listener_polls(pb[1]->bus->li));
	/* polled good until the master came back: not failed for the time
	 * the listener did not hear them */
	CHECK_EQ_INT(pb[1]->failed_polls, f1);
	CHECK_EQ_INT(pb[2]->failed_polls, f2);
	CHECK_STR(pb[1]->last_error, "");
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	srand(36);
	signal(SIGPIPE, SIG_IGN);
	loop = ev_loop_new(EVFLAG_AUTO);
	setup();
	test_heard();
	test_jkpb();
	test_round_whole();
	test_round_damaged();
	test_stale();
	test_garbage();
	CHECK_EQ_INT(a.heard, 0); /* bmsgw never wrote to the listened bus */
	test_takeover();
	CHECK_EQ_INT(a.heard, 0);
	CHECK_EQ_INT(sim_faults, 0);
	gw_images_free(im);
	gw_free(&gw);
	if (a.fd >= 0)
		close(a.fd);
	if (b.fd >= 0)
		close(b.fd);
	close(a.lfd);
	close(b.lfd);
	ev_loop_destroy(loop);
	return check_report();
}
