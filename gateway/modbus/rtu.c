/* SPDX-License-Identifier: MIT */
/* gateway/modbus/rtu.c - the Modbus RTU server on a serial port of its own.
 *
 * The port is a link (wire/link.c: a serial device at the baud rate,
 * parity and stop bits of [rtu] mode, non-blocking, reopened with backoff
 * when it is missing or goes away) whose owner this is.  What read()
 * returned goes to the RTU receiver (rtuframe.c) with the time it arrived;
 * a frame ends after 3.5 characters of silence, found by a timer set at
 * the receiver's deadline.  The timer is a timerfd (CLOCK_MONOTONIC, ns)
 * read by an ev_io, as the poller's: libev's epoll backend sleeps whole
 * milliseconds, at least one more than asked, which alone would exceed
 * the 1.75 ms of t3.5 above 19200 bit/s; an ev_timer stands in if no
 * timerfd can be made.
 *
 * A good frame to a unit this gateway serves is screened and answered by
 * request.c, like a TCP request, and the answer queued on the port in the
 * same turn of the loop.  Silence, as the MODBUS over Serial Line
 * specification V1.02 (https://modbus.org/docs/Modbus_over_serial_line_V1_02.pdf)
 * wants it, for: a bad CRC (counted), a broadcast (address 0; never acted
 * on either: no MOSFET is switched by a broadcast), an address not served
 * or outside 1-247 (other slaves may share the bus), and a response of
 * some other slave (function code with bit 7 set).  Adapters that hear
 * their own transmission give our answer back: the next frame, equal to
 * the answer just sent (an FC06 answer only within its time on the wire
 * and 20 ms: an FTDI chip's default latency timer is 16 ms), is that echo
 * and is dropped - answered, it would
 * start an endless exchange of exceptions with ourselves (is_echo() says
 * when a frame is one).
 *
 * A MOSFET write ([rtu] control = true, then the pack's own rules) is
 * answered when the BMS has confirmed it, if the master still waits: any
 * frame on the bus in the meantime means it gave up, and the late answer
 * is dropped (counted) rather than sent into another transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/prom.h"
#include "../core/util.h"
#include "../poll/control.h"
#include "../wire/wire.h"
#include "request.h"
#include "rtu.h"
#include "rtuframe.h"

/* Seconds a fragment whose CRC failed waits for the rest of its frame
 * (rtuframe.h: an FTDI adapter's 16 ms latency timer, with room). */
#define RTU_REJOIN 0.05
/* An echo of our answer arrives within its time on the wire and this. */
#define RTU_ECHO_SLACK 0.02
#define RTU_MAX_UNIT 247 /* serial line spec, section 2.2: 248-255 reserved */

struct gw_rtu {
	struct gw *gw;
	struct conf_rtu cfg;           /* a copy: a reload replaces the configuration */
	struct gw_link *link;
	struct rtu_rx rx;
	struct gw_answerer *ans;
	int tfd;                       /* the silence timer (timerfd), -1 = ev_timer */
	ev_io tio;
	ev_timer timer;
	struct gw_ctl *ctl;            /* a MOSFET write waiting for the BMS */
	uint8_t ctl_addr;
	uint8_t ctl_pdu[5];            /* its answer: function, address, value / count */
	uint8_t last[RTU_ADU_MAX];     /* the last answer sent, for its echo */
	size_t last_len;
	double last_at;
	unsigned long answered, exceptions, foreign, broadcasts, echoes, late;
	char who[CONF_PORT_MAX + 16];  /* "Modbus RTU /dev/ttyUSB1" (the control log) */
};

/* ---- the silence timer */

static void disarm(struct gw_rtu *r)
{
	ev_timer_stop(r->gw->loop, &r->timer);
	if (r->tfd >= 0) {
		struct itimerspec off;
		memset(&off, 0, sizeof(off));
		timerfd_settime(r->tfd, 0, &off, NULL);
		ev_io_stop(r->gw->loop, &r->tio);
	}
}

/* The receiver's next deadline, if it has one. */
static void arm(struct gw_rtu *r)
{
	double when;
	disarm(r);
	if (!rtu_rx_deadline(&r->rx, &when))
		return;
	if (r->tfd >= 0) {
		struct itimerspec its;
		memset(&its, 0, sizeof(its));
		its.it_value.tv_sec = (time_t)when;
		its.it_value.tv_nsec = (long)((when - (double)its.it_value.tv_sec) * 1e9);
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1; /* all zero would disarm it */
		if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0) {
			ev_io_start(r->gw->loop, &r->tio);
			return;
		}
	}
	double after = when - gw_mono();
	ev_timer_set(&r->timer, after > 0 ? after : 0, 0.);
	ev_timer_start(r->gw->loop, &r->timer);
}

/* ---- frames */

static void send_answer(struct gw_rtu *r, uint8_t addr, const uint8_t *pdu, size_t n)
{
	int len = rtu_adu(addr, pdu, n, r->last, sizeof(r->last));
	if (len < 0 || gw_link_append(r->link, r->last, (size_t)len) != len) {
		r->last_len = 0;
		return;
	}
	r->last_len = (size_t)len;
	r->last_at = gw_mono();
	r->answered++;
}

/* Our own answer, heard back from the adapter?  Only the frame right after
 * it can be.  Most answers cannot be mistaken for a request (a read's has
 * a byte count where a request has its address and quantity), so they are
 * an echo whenever they come back; an FC06 answer repeats its request
 * byte for byte, so only within the answer's time on the wire and
 * RTU_ECHO_SLACK is it one (a master repeating its write later is asking
 * again).  The first rule keeps a loop that ran late from answering an
 * echo. */
static bool is_echo(struct gw_rtu *r, const struct rtu_frame *f, double now)
{
	size_t len = r->last_len;
	r->last_len = 0;
	if (!len || f->pdu_len + 3 != len || f->addr != r->last[0] || memcmp(f->pdu, r->last + 1, f->pdu_len) != 0)
		return false;
	return r->last[1] != 0x06 || now - r->last_at <= len * r->rx.tchar + RTU_ECHO_SLACK;
}

static void ctl_done(void *ctx, int exception, const char *why)
{
	(void)why;
	struct gw_rtu *r = ctx;
	uint8_t pdu[5];
	size_t n = sizeof(pdu);
	if (exception) {
		n = (size_t)gw_request_exception(r->ctl_pdu[0], exception, pdu);
		r->exceptions++;
	} else {
		memcpy(pdu, r->ctl_pdu, n); /* FC06 echoes the request, FC16 gives address and count */
	}
	send_answer(r, r->ctl_addr, pdu, n);
}

/* A frame that wants no answer from us: false.  Counted. */
static bool for_us(struct gw_rtu *r, const struct rtu_frame *f, double now)
{
	struct gw_unit u;
	if (is_echo(r, f, now)) {
		r->echoes++;
		return false;
	}
	if (r->ctl) {
		/* the master sent something else: it no longer waits for the write's answer */
		gw_control_cancel(&r->ctl);
		r->late++;
	}
	if (f->addr == RTU_BROADCAST) {
		r->broadcasts++;
		return false;
	}
	if (f->addr > RTU_MAX_UNIT || (f->pdu[0] & 0x80) || !gw_unit_lookup(r->gw, f->addr, &u)) {
		r->foreign++;
		return false;
	}
	return true;
}

static void on_frame(struct gw_rtu *r, const struct rtu_frame *f)
{
	struct gw *gw = r->gw;
	double now = gw_mono();
	if (!for_us(r, f, now))
		return;
	struct gw_writer wr = { r->cfg.control, "[rtu] control is off" };
	struct gw_screen s;
	gw_request_screen(gw, f->addr, f->pdu, f->pdu_len, &wr, now, &s);
	if (gw_request_control(gw, &s, r->who, ctl_done, r, &r->ctl)) {
		r->ctl_addr = f->addr;
		memcpy(r->ctl_pdu, f->pdu, sizeof(r->ctl_pdu)); /* FC06 / FC16: 5 bytes at least */
		return;
	}
	uint8_t pdu[GW_PDU_MAX];
	int n = s.exception ? -s.exception : gw_request_answer(r->ans, &s, f->pdu, f->pdu_len, now, pdu);
	if (n < 0) {
		r->exceptions++;
		gw_debug("%s: unit %d fc %d addr %u count %u -> exception 0x%02x", r->who, s.unit, s.function, s.addr,
			 s.count, -n);
		n = gw_request_exception(s.function, -n, pdu);
	}
	send_answer(r, f->addr, pdu, (size_t)n);
}

static void take_all(struct gw_rtu *r)
{
	struct rtu_frame f;
	while (rtu_rx_take(&r->rx, &f))
		on_frame(r, &f);
}

static void silence(struct gw_rtu *r)
{
	rtu_rx_poll(&r->rx, gw_mono());
	take_all(r);
	arm(r);
}

static void tio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_rtu *r = container_of(w, struct gw_rtu, tio);
	uint64_t expirations;
	if (read(r->tfd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;
	silence(r);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	silence(container_of(w, struct gw_rtu, timer));
}

/* ---- the port's owner */

static void port_up(void *arg)
{
	struct gw_rtu *r = arg;
	struct rtu_stats st = r->rx.st; /* the counters run on across reopens */
	rtu_rx_init(&r->rx, r->cfg.baud, RTU_REJOIN);
	r->rx.st = st;
	r->last_len = 0;
}

static void port_down(void *arg)
{
	struct gw_rtu *r = arg;
	disarm(r);
	gw_control_cancel(&r->ctl);
}

static void port_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct gw_rtu *r = arg;
	double t = gw_mono();
	while (n) {
		/* 0 taken: the silence before these bytes ended a frame,
		 * taken now; then they go in */
		size_t used = rtu_rx_feed(&r->rx, p, n, t);
		take_all(r);
		p += used;
		n -= used;
	}
	arm(r);
}

static void port_nop(void *arg)
{
	(void)arg;
}

static const struct gw_link_owner owner = { port_up, port_down, port_bytes, port_nop, port_nop };

/* ---- the server */

static void line_of(const struct conf_rtu *c, struct gw_line *l)
{
	l->baud = c->baud;
	l->parity = c->mode == CONF_RTU_8E1 ? 'E' : c->mode == CONF_RTU_8O1 ? 'O' : 'N';
	l->stop_bits = c->mode == CONF_RTU_8N2 ? 2 : 1;
}

static const char *mode_name(enum conf_rtu_mode m)
{
	switch (m) {
	case CONF_RTU_8E1: return "8E1";
	case CONF_RTU_8O1: return "8O1";
	case CONF_RTU_8N2: return "8N2";
	default: return "8N1";
	}
}

struct gw_rtu *gw_rtu_new(struct gw *gw, const struct conf_rtu *cfg)
{
	struct gw_rtu *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->gw = gw;
	r->cfg = *cfg;
	r->tfd = -1;
	struct gw_line line;
	line_of(cfg, &line);
	r->ans = gw_answerer_new(gw);
	r->link = r->ans ? gw_link_new_port(gw->link_env, cfg->port, NULL, 0, &line) : NULL;
	if (!r->link) {
		gw_answerer_free(r->ans);
		free(r);
		return NULL;
	}
	snprintf(r->who, sizeof(r->who), "Modbus RTU %s", cfg->port);
	rtu_rx_init(&r->rx, cfg->baud, RTU_REJOIN);
	ev_init(&r->timer, timer_cb);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->tfd < 0)
		gw_warn("%s: timerfd: %s (the 3.5-character silence keeps libev's millisecond timer)", r->who,
			strerror(errno));
	ev_io_init(&r->tio, tio_cb, r->tfd, EV_READ);
	gw_link_set_owner(r->link, &owner, r);
	return r;
}

void gw_rtu_start(struct gw_rtu *r)
{
	gw_info("Modbus RTU server on %s, %d baud %s, MOSFET writes %s", r->cfg.port, r->cfg.baud,
		mode_name(r->cfg.mode), r->cfg.control ? "accepted by the packs' rules" : "refused");
	gw_link_open(r->link);
}

const struct conf_rtu *gw_rtu_conf(const struct gw_rtu *r)
{
	return &r->cfg;
}

/* The keys of [rtu] a running server takes from a reload (modbus_conf.c's
 * CONF_LIVE ones); the others restart it. */
void gw_rtu_apply(struct gw_rtu *r, const struct conf_rtu *cfg)
{
	if (cfg->control != r->cfg.control)
		gw_info("%s: MOSFET writes %s", r->who, cfg->control ? "accepted by the packs' rules" : "refused");
	r->cfg.control = cfg->control;
}

void gw_rtu_free(struct gw_rtu *r)
{
	if (!r)
		return;
	gw_control_cancel(&r->ctl);
	disarm(r);
	gw_link_free(r->link);
	if (r->tfd >= 0)
		close(r->tfd);
	gw_answerer_free(r->ans);
	free(r);
}

void gw_rtu_status_json(const struct gw_rtu *r, FILE *o)
{
	const struct rtu_stats *st = &r->rx.st;
	fprintf(o, "{\"port\":");
	gw_json_str(o, r->cfg.port);
	fprintf(o, ",\"baud\":%d,\"mode\":\"%s\",\"control\":%s,\"open\":%s,\"opens\":%lu,\"frames\":%lu,"
		"\"answered\":%lu,\"exceptions\":%lu,\"bad_crc\":%lu,\"short_frames\":%lu,\"overruns\":%lu,"
		"\"foreign_unit\":%lu,\"broadcasts\":%lu,\"echoes\":%lu,\"late_answers\":%lu}",
		r->cfg.baud, mode_name(r->cfg.mode), r->cfg.control ? "true" : "false",
		gw_link_is_up(r->link) ? "true" : "false", gw_link_opens(r->link), st->frames, r->answered, r->exceptions,
		st->bad_crc, st->short_frames, st->overruns, r->foreign, r->broadcasts, r->echoes, r->late);
}

void gw_rtu_metrics(const struct gw_rtu *r, FILE *o)
{
	const struct rtu_stats *st = &r->rx.st;
	const struct gw_prom_metric m[] = {
		{ "bmsgw_rtu_up", "gauge", "Modbus RTU server: 1 while its serial port is open.",
		  gw_link_is_up(r->link) },
		{ "bmsgw_rtu_frames_total", "counter", "Modbus RTU frames received with a good CRC.",
		  (double)st->frames },
		{ "bmsgw_rtu_answered_total", "counter", "Modbus RTU requests answered.", (double)r->answered },
		{ "bmsgw_rtu_exceptions_total", "counter", "Modbus RTU requests answered with an exception.",
		  (double)r->exceptions },
		{ "bmsgw_rtu_bad_crc_total", "counter", "Modbus RTU frames dropped for a bad CRC.",
		  (double)st->bad_crc },
		{ "bmsgw_rtu_short_frames_total", "counter", "Modbus RTU pieces shorter than a frame, dropped.",
		  (double)st->short_frames },
		{ "bmsgw_rtu_foreign_unit_total", "counter",
		  "Modbus RTU frames for a unit id not served here (silence).", (double)r->foreign },
		{ "bmsgw_rtu_broadcasts_total", "counter", "Modbus RTU broadcasts (address 0), never answered.",
		  (double)r->broadcasts },
	};
	gw_prom_singles(o, m, sizeof(m) / sizeof(m[0]));
}
