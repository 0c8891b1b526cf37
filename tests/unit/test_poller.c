/* SPDX-License-Identifier: MIT */
/* tests/unit/test_poller.c - the real poller (gateway/poll/poller.c), MOSFET
 * control (poll/control.c) and the register cache (model/pack.c) over a
 * real wire: a TCP serial server's link (wire/tcp.c) connected over the
 * loopback to a JBD BMS this test plays on the other end of the socket,
 * with the frames of tests/fixtures/vectors.tsv (JBD-01, JBD-03,
 * JBD-ACK-E1; bms/PROTOCOLS.md §7).  The libev loop runs until a condition
 * holds, with a deadline; nothing sleeps.
 *
 *   - a good poll commits: the registers change only when the poll is
 *     complete (not when its first answer came);
 *   - a BMS gone silent: the poll fails after its retries, the counters and
 *     the registers say so, the old snapshot stays;
 *   - line noise and a frame with a bad checksum: counted, the retry saves
 *     the poll;
 *   - a MOSFET write (screened as a Modbus server does) is sent, acknowledged,
 *     confirmed by a read-back poll, and counted (register 123);
 *   - refused commands: a Modbus write and an MQTT command refused for the
 *     same reason (a bad value, control off, an unknown register or command)
 *     change the counters identically (register 124), as do a writer not
 *     allowed and a retained command.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../gateway/core/mbexc.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/modbus/image.h"
#include "../../gateway/modbus/request.h"
#include "../../gateway/mqtt/mqtt_int.h"
#include "../../gateway/poll/control.h"
#include "../../gateway/poll/poll.h"
#include "check.h"
#include "sections.h"
#include "loop_check.h"
#include "jbd_check.h"
#include "tcp_peer.h"

/* the seconds a condition may take, on a loaded machine under ASan */
#define WAIT_S 10.0

static struct ev_loop *loop;
static struct gw gw;
static struct gw_images *im;

/* ------------------------------------------------------------ the BMS */

/* How the BMS answers the next requests. */
enum mode {
	ANSWER,        /* every request, at once */
	SILENT,        /* none */
	GARBAGE_ONCE,  /* the next 0x03: line noise, then the answer with a bad checksum; then ANSWER */
	HOLD_CELLS,    /* the next 0x04 is held until released */
};

static struct bms {
	struct tcp_peer peer;          /* the gateway's link connects here */
	enum mode mode;
	uint8_t soc;                   /* 0x03 byte 19 */
	bool chg, dsg;                 /* its MOSFETs (0x03 byte 20) */
	unsigned reads, ignored, writes;
	bool held;                     /* a 0x04 request waits */
} bms;

static void bms_send(const uint8_t *p, size_t n)
{
	tcp_peer_send(&bms.peer, p, n);
}

/* 0x03 basic info: JBD-01 (15.60 V, 4 cells, 3 NTCs) with the BMS's SOC and MOSFETs. */
static void send_basic(bool bad_checksum)
{
	uint8_t d[29], f[64];
	check_hex("0618 0000 01f2 01f4 0000 2c7c 0000 0000 0000 80 64 03 04 03 0b8b 0b8a 0b84", d, sizeof(d));
	d[19] = bms.soc;
	d[20] = (uint8_t)((bms.chg ? 1 : 0) | (bms.dsg ? 2 : 0));
	size_t n = jbd_frame(f, 0x03, 0x00, d, sizeof(d));
	if (bad_checksum)
		f[n - 2] ^= 0x55; /* no 0xDD comes of it in the states used: nothing looks like a frame start */
	bms_send(f, n);
}

static void send_cells(void)
{
	uint8_t f[32];
	bms_send(f, (size_t)check_hex("dd0400080f450f3d0f370f3dfec677", f, sizeof(f))); /* JBD-03 */
}

/* One complete request from the gateway. */
static void bms_request(const uint8_t *q, size_t n)
{
	if (q[1] == 0x5A) { /* DD 5A E1 02 00 mask chk chk 77: the MOSFET lock (JBD-MOS-*) */
		CHECK(n == 9 && q[2] == 0xE1);
		bms.writes++;
		bms.chg = !(q[5] & 1);
		bms.dsg = !(q[5] & 2);
		uint8_t ack[8];
		bms_send(ack, (size_t)check_hex("dde10000000077", ack, sizeof(ack))); /* JBD-ACK-E1 */
		return;
	}
	bms.reads++;
	if (bms.mode == SILENT) {
		bms.ignored++;
	} else if (q[2] == 0x03 && bms.mode == GARBAGE_ONCE) {
		bms_send((const uint8_t *)"\x11\x22\x33", 3);
		send_basic(true);
		bms.mode = ANSWER;
	} else if (q[2] == 0x03) {
		send_basic(false);
	} else if (bms.mode == HOLD_CELLS) {
		bms.held = true;
	} else {
		send_cells();
	}
}

/* What the gateway sent: garbage before a frame start skipped, each whole
 * request answered (tcp_peer.h's take). */
static size_t bms_take(const uint8_t *b, size_t len)
{
	const uint8_t *s = memchr(b, 0xDD, len);
	if (s != b)
		return s ? (size_t)(s - b) : len;
	size_t need = len >= 4 && b[1] == 0x5A ? (size_t)b[3] + 7 : 7;
	if (len < 4 || len < need)
		return 0;
	bms_request(b, need);
	return need;
}

/* ------------------------------------------------------------ the gateway */

static struct gw_pack *p1, *p2; /* p1 on the BMS above; p2 (control off) never answers */
static int mute_fd;

static unsigned reg(const struct gw_pack *p, enum reg_src src)
{
	struct gw_unit u = { .pack = (struct gw_pack *)p };
	const uint8_t *img = gw_unit_image_wire(&gw, &u, gw_mono(), im);
	int o = reg_offset(src);
	return (unsigned)(img[2 * o] << 8 | img[2 * o + 1]);
}

static unsigned long reg32(const struct gw_pack *p, enum reg_src src)
{
	struct gw_unit u = { .pack = (struct gw_pack *)p };
	const uint8_t *img = gw_unit_image_wire(&gw, &u, gw_mono(), im);
	int o = reg_offset(src);
	return (unsigned long)img[2 * o] << 24 | (unsigned long)img[2 * o + 1] << 16 | (unsigned long)img[2 * o + 2] << 8 |
	       img[2 * o + 3];
}

static uint32_t done_of(const struct gw_pack *p)
{
	uint32_t d, f;
	gw_control_counts(p, &d, &f);
	return d;
}

static uint32_t failed_of(const struct gw_pack *p)
{
	uint32_t d, f;
	gw_control_counts(p, &d, &f);
	return f;
}

static uint32_t refused_of(const struct gw_pack *p)
{
	return gw_control_refusals(p);
}

static void setup(void)
{
	int port1, port2;
	port1 = tcp_peer_start(&bms.peer, loop, bms_take);
	bms.soc = 100;
	bms.chg = bms.dsg = true;
	mute_fd = tcp_listen_any(&port2); /* p2's serial server: connects, never answers */
	loop_check_init();
	char ini[1024], err[256] = "out of memory";
	snprintf(ini, sizeof(ini),
		 "[gateway]\nstate_file = none\nstale_after = 30\n"
		 "[pack.p1]\nprotocol = jbd\nport = tcp://127.0.0.1:%d\ncontrol = true\npoll_interval = 0.2\n"
		 "timeout = 1\nretries = 1\ncontrol_timeout = 5\n"
		 "[pack.p2]\nprotocol = jbd\nport = tcp://127.0.0.1:%d\npoll_interval = 0.2\ntimeout = 0.5\n"
		 "[mqtt]\nhost = 127.0.0.1\ncontrol = true\n",
		 port1, port2);
	struct conf *c = malloc(sizeof(*c));
	if (!c || conf_load_string(ini, "t.ini", c, err, sizeof(err)) < 0 || gw_init(&gw, loop, c) < 0) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	p1 = gw.packs[0];
	p2 = gw.packs[1];
	im = gw_images_new();
	gw_start(&gw);
}

/* ------------------------------------------------------------ polls */

/* The first poll commits; a poll is committed whole, when it is complete. */
static void test_commit(void)
{
	RUN_UNTIL(p1->good_polls >= 1);
	CHECK_EQ_INT(reg(p1, REG_SRC_SOC), 100);
	CHECK_EQ_INT(reg(p1, REG_SRC_ONLINE), 1);
	CHECK_EQ_INT(reg32(p1, REG_SRC_GOOD_POLLS), p1->good_polls);

	uint32_t g0 = p1->good_polls;
	bms.soc = 50;
	bms.mode = HOLD_CELLS;
	bms.held = false;
	RUN_UNTIL(bms.held); /* the 0x03 answer with SOC 50 was taken; the 0x04 one waits */
	CHECK_EQ_INT(p1->good_polls, g0);
	CHECK_EQ_INT(reg(p1, REG_SRC_SOC), 100);
	CHECK_EQ_INT(reg32(p1, REG_SRC_GOOD_POLLS), g0);
	bms.mode = ANSWER;
	send_cells();
	RUN_UNTIL(p1->good_polls > g0);
	CHECK_EQ_INT(reg(p1, REG_SRC_SOC), 50);
	CHECK_EQ_INT(reg32(p1, REG_SRC_GOOD_POLLS), p1->good_polls);
	CHECK_STR(p1->last_error, "");
}

/* Silence: the step is tried 1 + retries times, then the poll fails. */
static void test_timeout(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(p1);
	uint32_t f0 = p1->failed_polls, t0 = st->timeouts, g0 = p1->good_polls;
	unsigned i0 = bms.ignored;
	bms.mode = SILENT;
	RUN_UNTIL(p1->failed_polls > f0);
	bms.mode = ANSWER;
	CHECK_EQ_INT(p1->failed_polls, f0 + 1);
	CHECK_EQ_INT(bms.ignored - i0, 2);        /* retries = 1 */
	CHECK_EQ_INT(st->timeouts - t0, 2);
	CHECK(strstr(p1->last_error, "no complete answer within 1.0 s") != NULL);
	CHECK_EQ_INT(reg32(p1, REG_SRC_FAILED_POLLS), f0 + 1);
	CHECK_EQ_INT(reg(p1, REG_SRC_WIRE_TIMEOUTS), st->timeouts);
	/* the old snapshot is kept, still fresh */
	CHECK_EQ_INT(p1->good_polls, g0);
	CHECK_EQ_INT(reg(p1, REG_SRC_SOC), 50);
	CHECK_EQ_INT(reg(p1, REG_SRC_ONLINE), 1);
	/* and the next poll is good again */
	RUN_UNTIL(p1->good_polls > g0);
	CHECK_STR(p1->last_error, "");
}

/* Noise, then an answer whose checksum fails: counted; the retry saves the poll. */
static void test_garbage(void)
{
	const struct gw_bus_stats *st = gw_pack_bus_stats(p1);
	uint32_t f0 = p1->failed_polls, c0 = st->checksum_errors, t0 = st->timeouts, s0 = st->short_frames;
	bms.mode = GARBAGE_ONCE;
	RUN_UNTIL(bms.mode == ANSWER);
	uint32_t g0 = p1->good_polls;
	RUN_UNTIL(p1->good_polls > g0);
	CHECK_EQ_INT(st->checksum_errors - c0, 1);
	CHECK_EQ_INT(st->timeouts - t0, 1);      /* the try that got only the bad frame */
	CHECK_EQ_INT(st->short_frames, s0);
	CHECK_EQ_INT(p1->failed_polls, f0);
	CHECK_EQ_INT(reg(p1, REG_SRC_WIRE_CHECKSUM), st->checksum_errors);
}

/* ------------------------------------------------------------ control */

struct outcome {
	bool ended;
	int exception;
	bool dsg_read_back;            /* the committed snapshot when the command ended */
};

static void ctl_ended(void *ctx, int exception, const char *why)
{
	struct outcome *o = ctx;
	(void)why;
	o->ended = true;
	o->exception = exception;
	o->dsg_read_back = p1->snap.dsg_mos;
}

/* A Modbus write (function, address offset, value) to p's unit, screened
 * and handed on as the servers do: the exception, 0 when queued. */
static int modbus_write(const struct gw_pack *p, unsigned off, unsigned value, bool allowed, struct outcome *o,
			struct gw_ctl **handle)
{
	struct gw_writer wr = { allowed, "the client is not in control_clients" };
	unsigned a = (unsigned)gw.conf->gw.base + off;
	uint8_t pdu[5] = { 0x06, (uint8_t)(a >> 8), (uint8_t)a, (uint8_t)(value >> 8), (uint8_t)value };
	struct gw_screen s;
	gw_request_screen(&gw, p->cfg->unit_id, pdu, sizeof(pdu), &wr, gw_mono(), &s);
	return gw_request_control(&gw, &s, "Modbus client test", ctl_ended, o, handle) ? 0 : s.exception;
}

/* An MQTT command, through the MQTT output's own handling (a client not
 * connected: its result is not published). */
static void mqtt_command(struct gw_mqtt *m, const char *topic, const char *payload, bool retain)
{
	struct mosquitto_message msg = { .topic = (char *)topic, .payload = (void *)payload,
					 .payloadlen = (int)strlen(payload), .retain = retain };
	CHECK(mq_command(m, &msg));
}

static void test_command(void)
{
	struct outcome o = { 0 };
	struct gw_ctl *handle = NULL;
	uint32_t d0 = done_of(p1), f0 = failed_of(p1);
	CHECK_EQ_INT(reg(p1, REG_SRC_DSG_MOS), 1);
	CHECK_EQ_INT(modbus_write(p1, 17, 0, true, &o, &handle), 0); /* discharge MOSFET off */
	RUN_UNTIL(o.ended);
	CHECK_EQ_INT(o.exception, 0);
	CHECK_EQ_INT(bms.writes, 1);
	CHECK(!bms.dsg && bms.chg);
	CHECK(!o.dsg_read_back);                 /* confirmed by a poll that read it back */
	CHECK(handle == NULL);
	CHECK_EQ_INT(done_of(p1), d0 + 1);
	CHECK_EQ_INT(failed_of(p1), f0);
	CHECK_EQ_INT(reg(p1, REG_SRC_CTL_DONE), d0 + 1);
	CHECK_EQ_INT(reg(p1, REG_SRC_DSG_MOS), 0);
}

/* One refusal each way: both count one refusal, registers 123 and 124
 * (done, failed at the BMS) do not move: an outsider's refusals are not
 * the pack's failures. */
static void refused_alike(const char *what, const struct gw_pack *p, int mb_exc, unsigned off, unsigned value,
			  struct gw_mqtt *m, const char *topic, const char *payload)
{
	struct outcome o = { 0 };
	struct gw_ctl *handle = NULL;
	uint32_t d0 = done_of(p), f0 = failed_of(p), r0 = refused_of(p), w0 = bms.writes;
	int exc = modbus_write(p, off, value, true, &o, &handle);
	uint32_t r1 = refused_of(p);
	mqtt_command(m, topic, payload, false);
	uint32_t d2 = done_of(p), f2 = failed_of(p), r2 = refused_of(p);
	fprintf(stderr, "  %s: Modbus 0x%02X, refusals %u -> %u -> (MQTT) %u\n", what, exc, r0, r1, r2);
	CHECK_EQ_INT(exc, mb_exc);
	CHECK_EQ_INT(r1 - r0, 1);
	CHECK_EQ_INT(r2 - r1, 1);
	CHECK_EQ_INT(d2, d0);
	CHECK_EQ_INT(f2, f0);
	CHECK_EQ_INT(reg(p, REG_SRC_CTL_FAILED), f0);
	CHECK(!o.ended && handle == NULL);
	CHECK_EQ_INT(bms.writes, w0);
}

static void test_refusals(void)
{
	struct gw_mqtt *m = mq_new(&gw, &gw.conf->mqtt);
	CHECK(m != NULL);
	if (!m)
		return;
	refused_alike("a bad value", p1, GW_MB_ILLEGAL_VALUE, 18, 2, m, "bmsgw/p1/set/charge_mos", "off");
	refused_alike("control off", p2, GW_MB_ILLEGAL_FUNCTION, 18, 0, m, "bmsgw/p2/set/charge_mos", "OFF");
	refused_alike("not a MOSFET", p1, GW_MB_ILLEGAL_ADDRESS, 16, 0, m, "bmsgw/p1/set/heater", "ON");
	/* refused for reasons of one way only: counted the same */
	struct outcome o = { 0 };
	struct gw_ctl *handle = NULL;
	uint32_t f0 = failed_of(p1), r0 = refused_of(p1);
	CHECK_EQ_INT(modbus_write(p1, 17, 1, false, &o, &handle), GW_MB_ILLEGAL_FUNCTION);
	CHECK_EQ_INT(refused_of(p1), r0 + 1);
	mqtt_command(m, "bmsgw/p1/set/charge_mos", "OFF", true); /* retained: never executed */
	CHECK_EQ_INT(refused_of(p1), r0 + 2);
	CHECK_EQ_INT(failed_of(p1), f0);
	CHECK_EQ_INT(reg(p1, REG_SRC_CTL_FAILED), f0);
	/* a command for no pack counts nowhere */
	uint32_t a = refused_of(p1), b = refused_of(p2);
	mqtt_command(m, "bmsgw/nosuch/set/charge_mos", "OFF", false);
	CHECK(refused_of(p1) == a && refused_of(p2) == b);
	mq_close(m, false);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	loop = ev_loop_new(EVFLAG_AUTO);
	setup();
	test_commit();
	test_timeout();
	test_garbage();
	test_command();
	test_refusals();
	gw_images_free(im);
	gw_free(&gw);
	tcp_peer_close(&bms.peer);
	close(mute_fd);
	ev_loop_destroy(loop);
	return check_report();
}
