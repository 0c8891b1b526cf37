/* SPDX-License-Identifier: MIT */
/* gateway/detect/capture.c - `bmsgw --capture PORT` (see capture.h): the
 * port, the loop, the records.
 *
 * Listen only unless o->probe: then the only bytes ever written are that
 * protocol's probe request, once per GW_CAPTURE_PERIOD, and only when the
 * classifier takes it for one read of a protocol bmsgw knows.
 *
 * A CAN port (can0, slcan://...) is a CAN port of wire/can.h, unfiltered,
 * at the bit rate of --probe's CAN protocol (else 500 kbit/s): every frame
 * is recorded in candump's log format, "(seconds.micro) IFACE ID#DATA"
 * (canplayer plays it), the header and what bmsgw sent as comments.  It
 * only listens (an slcan adapter opened with "L"), unless --probe names a
 * CAN protocol that needs a request (daly-can): then that protocol's first
 * read request of a poll goes out once per GW_CAPTURE_PERIOD, and only if
 * it is one (data frames whose bytes are all 0).
 */
#include "capture.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capfile.h"
#include "../../conf/conf.h"
#include "../core/resolve.h"
#include "../wire/can.h"
#include "../wire/wire.h"
#include "holders.h"
#include "portlink.h"
#include "sniff.h"

struct cap {
	struct ev_loop *loop;
	const struct gw_capture_opts *o;
	FILE *err, *out;
	struct conf_pack port;
	struct gw_link_env env;
	struct gw_link *link;
	struct gw_can *can;             /* a CAN port instead of link */
	ev_timer end, tick;
	ev_signal sigint, sigterm;
	ev_tstamp t0;
	bool up, done;
	int rc;
	int baud;
	uint8_t address;
	unsigned long rx_records, rx_bytes, tx_records;
	unsigned attempt;
};

static void say(struct cap *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cap *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(c->err, "bmsgw --capture: ");
	vfprintf(c->err, fmt, ap);
	fprintf(c->err, "\n");
	va_end(ap);
}

static void finish(struct cap *c, int rc)
{
	if (c->done)
		return;
	c->done = true;
	c->rc = rc;
	ev_timer_stop(c->loop, &c->end);
	ev_timer_stop(c->loop, &c->tick);
	ev_break(c->loop, EVBREAK_ALL);
}

static double since(const struct cap *c)
{
	double t = ev_now(c->loop) - c->t0;
	return t > 0 ? t : 0;
}

static void record(struct cap *c, bool sent, const uint8_t *p, size_t n)
{
	char line[CAPFILE_MAX_LINE];
	while (n > 0) {
		size_t k = n > CAPFILE_MAX_RECORD ? CAPFILE_MAX_RECORD : n;
		size_t len = capfile_line(line, sizeof(line), since(c), sent, p, k);
		if (len && fwrite(line, 1, len, c->out) != len) {
			say(c, "cannot write the capture: %s", strerror(errno));
			finish(c, 2);
			return;
		}
		p += k;
		n -= k;
	}
	fflush(c->out);
}

/* One CAN frame, as a candump log line (sent ones as a comment). */
static void record_can(struct cap *c, bool sent, const struct gw_can_frame *f)
{
	double t = ev_now(c->loop);
	char data[2 * GW_CAN_MAX_DLC + 2] = "";
	if (f->rtr)
		snprintf(data, sizeof(data), "R");
	for (unsigned i = 0; !f->rtr && i < f->dlc && i < GW_CAN_MAX_DLC; i++)
		snprintf(data + 2 * i, sizeof(data) - 2 * i, "%02X", f->data[i]);
	/* an slcan adapter has no interface name: slcan0, as the kernel's driver names it */
	if (fprintf(c->out, "%s(%.6f) %s %0*X#%s\n", sent ? "# sent " : "", t,
		    c->port.is_slcan ? "slcan0" : c->port.can_device, f->ext ? 8 : 3, (unsigned)f->id, data) < 0) {
		say(c, "cannot write the capture: %s", strerror(errno));
		finish(c, 2);
		return;
	}
	fflush(c->out);
}

/* --probe of a CAN protocol that asks: its first read of a poll. */
static void send_can_probe(struct cap *c)
{
	const struct bms_driver *d = c->o->probe;
	struct bms_poll poll;
	uint8_t req[64];
	bms_poll_begin(&poll, c->address, 0, false);
	int n = d->next_request(&poll, req, sizeof(req));
	size_t off = 0;
	while (n > 0 && off < (size_t)n) {
		size_t k = 0;
		struct bms_can_msg m;
		bool zero = true;
		if (bms_can_scan(req + off, (size_t)n - off, &k) != BMS_SCAN_FRAME ||
		    bms_can_parse(req + off, k, &m) != BMS_OK || m.rtr)
			break;
		for (unsigned i = 0; i < m.dlc; i++)
			zero = zero && m.data[i] == 0;
		if (!zero)
			break;
		struct gw_can_frame f = { .id = m.id, .dlc = m.dlc, .ext = m.ext };
		record_can(c, true, &f);
		c->tx_records++;
		(void)gw_can_send(c->can, &f);
		off += k;
	}
	if (n <= 0 || off != (size_t)n) {
		say(c, "--probe %s: its request is %s: nothing more sent", d->name,
		    n <= 0 ? bms_strerror(n) : "not a read request");
		finish(c, 2);
	}
}

/* --probe: the protocol's probe request, once a period. */
static void send_probe(struct cap *c)
{
	const struct bms_driver *d = c->o->probe;
	if (c->can) {
		send_can_probe(c);
		return;
	}
	const struct bms_probe *pr = d->probe;
	struct bms_poll poll;
	uint8_t req[256];
	unsigned tries = pr->tries ? pr->tries : 1;
	bms_probe_begin(d, &poll, c->address, (int)(c->attempt++ % tries));
	int n = bms_probe_request(d, &poll, req, sizeof(req));
	if (n <= 0 || !gw_sniff_is_read(req, (size_t)n)) {
		say(c, "--probe %s: its request is %s: nothing sent", d->name,
		    n <= 0 ? bms_strerror(n) : "not a read request bmsgw knows");
		finish(c, 2);
		return;
	}
	record(c, true, req, (size_t)n);
	c->tx_records++;
	if (gw_link_send(c->link, req, (size_t)n) < 0 && !c->done) {
		say(c, "cannot write to %s", c->o->port);
		finish(c, 2);
	}
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct cap *c = w->data;
	if (c->up && !c->done)
		send_probe(c);
}

static void end_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct cap *c = w->data;
	if (!c->up)
		say(c, "cannot open %s (its outage is logged above)", c->o->port);
	finish(c, c->up ? 0 : 2);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct cap *c = w->data;
	say(c, "interrupted: the capture ends here");
	finish(c, 0);
}

/* ---- the link's owner ---- */

static void header(struct cap *c)
{
	char when[64] = "unknown";
	time_t now = time(NULL);
	struct tm tm;
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(c->out, "# bmsgw capture: send this file with your battery's make and model\n");
	if (c->can) {
		/* candump's log format: the header as comments */
		fprintf(c->out, "# candump log of %s at %d bit/s, %s%s\n# started %s\n", c->o->port, c->baud,
			c->o->probe && !c->o->probe->listen_only ? "sending the read of " : "listen only",
			c->o->probe && !c->o->probe->listen_only ? c->o->probe->name : "", when);
		fflush(c->out);
		return;
	}
	fprintf(c->out, "%s\nport %s\nbaud %d\nmode %s\n", CAPFILE_MAGIC, c->o->port, c->port.is_tcp ? 0 : c->baud,
		c->o->probe ? "probe" : "listen");
	if (c->o->probe)
		fprintf(c->out, "protocol %s\n", c->o->probe->name);
	fprintf(c->out, "started %s\n", when);
	fflush(c->out);
}

static void on_up(void *arg)
{
	struct cap *c = arg;
	if (c->up || c->done)
		return;
	c->up = true;
	ev_now_update(c->loop);
	c->t0 = ev_now(c->loop);
	header(c);
	bool asks = c->o->probe && !(c->can && c->o->probe->listen_only);
	say(c, "recording %s for %g s, %s", c->o->port, c->o->seconds,
	    asks ? "sending only the probe's read request once a second" : "listening only (nothing is sent)");
	ev_timer_stop(c->loop, &c->end);
	ev_timer_set(&c->end, c->o->seconds, 0.);
	ev_timer_start(c->loop, &c->end);
	if (c->o->probe && !(c->can && c->o->probe->listen_only)) {
		ev_timer_set(&c->tick, 0.1, GW_CAPTURE_PERIOD);
		ev_timer_start(c->loop, &c->tick);
	}
}

static void on_down(void *arg)
{
	struct cap *c = arg;
	if (c->done)
		return;
	struct gw_link_info li;
	gw_link_info(c->link, &li);
	say(c, "%s %s: %s", c->up ? "lost" : "cannot open", c->o->port, li.why[0] ? li.why : "closed");
	finish(c, 2);
}

static void on_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct cap *c = arg;
	if (!c->up || c->done || n == 0)
		return;
	record(c, false, p, n);
	c->rx_records++;
	c->rx_bytes += n;
}

static void on_nothing(void *arg)
{
	(void)arg;
}

static const struct gw_link_owner cap_owner = { on_up, on_down, on_bytes, on_nothing, on_nothing };

/* A CAN port's owner: up, down (logged by the port), every frame. */
static void on_can_down(void *arg)
{
	struct cap *c = arg;
	if (c->up && !c->done) {
		say(c, "lost %s", c->o->port);
		finish(c, 2);
	}
}

static void on_can_frame(void *arg, const struct gw_can_frame *f)
{
	struct cap *c = arg;
	if (!c->up || c->done)
		return;
	record_can(c, false, f);
	c->rx_records++;
	c->rx_bytes += f->dlc;
}

static const struct gw_can_owner cap_can_owner = { on_up, on_can_down, on_can_frame };

/* ---- the port ---- */

static bool port_held(struct cap *c, const char *path)
{
	struct gw_holder h[GW_HOLDERS_MAX];
	int n = gw_holders_find(path, h, GW_HOLDERS_MAX);
	if (n < 0) {
		say(c, "cannot use %s: %s", path,
		    errno == ENOTTY ? "not a serial device (a character device)" : strerror(errno));
		return true;
	}
	for (int i = 0; i < n; i++)
		say(c, "%s is held by %s (pid %ld)%s", path, h[i].name, (long)h[i].pid,
		    h[i].by_lock ? ": its lock file" : ": it has the port open");
	if (n)
		say(c, "not touching a port another program uses (stop it first; a bmsgw daemon: "
		       "systemctl stop bmsgw)");
	return n > 0;
}

static int open_output(struct cap *c)
{
	if (c->o->output && strcmp(c->o->output, "-") != 0) {
		c->out = fopen(c->o->output, "w");
		if (!c->out) {
			say(c, "cannot write %s: %s", c->o->output, strerror(errno));
			return -1;
		}
	} else {
		c->out = stdout;
	}
	return 0;
}

/* A CAN port: at --probe's protocol's bit rate (else 500 kbit/s), sending
 * only for a protocol that asks. */
static int setup_can(struct cap *c)
{
	const struct bms_driver *d = c->o->probe;
	if (d && !d->can) {
		say(c, "--probe %s: the protocol is not spoken on a CAN bus", d->name);
		return -1;
	}
	if (c->o->baud) {
		say(c, "%s is a CAN bus: its bit rate is --probe's protocol's (500 kbit/s without it), not --baud",
		    c->o->port);
		return -1;
	}
	c->baud = d ? (int)d->can->bitrate : 500000;
	c->address = c->o->address >= 0 ? (uint8_t)c->o->address : d ? d->min_address : 0;
	if (c->port.is_slcan && port_held(c, c->port.can_device))
		return -1;
	if (open_output(c) < 0)
		return -1;
	c->env = (struct gw_link_env){ .loop = c->loop };
	c->can = gw_can_new_listener(&c->env, c->o->port, c->port.is_slcan, c->port.can_device, (uint32_t)c->baud, NULL,
				     d && !d->listen_only, &cap_can_owner, c);
	if (!c->can) {
		say(c, "out of memory");
		return -1;
	}
	return 0;
}

static int setup(struct cap *c)
{
	char why[256];
	const struct bms_driver *d = c->o->probe;
	if (conf_parse_port(&c->port, c->o->port, why, sizeof(why)) < 0) {
		say(c, "%s", why);
		return -1;
	}
	if (c->port.is_ble) {
		say(c, "%s is a Bluetooth device: --capture records serial ports, TCP serial servers and CAN buses",
		    c->o->port);
		return -1;
	}
	if (c->port.is_can)
		return setup_can(c);
	if (d && (!d->probe || bms_ble_only(d) || d->listen_only)) {
		say(c, "--probe %s: the protocol has no read-only probe to send (listen only: leave --probe out)",
		    d->name);
		return -1;
	}
	c->baud = c->o->baud ? c->o->baud : d ? d->default_baud : 9600;
	c->address = c->o->address >= 0 ? (uint8_t)c->o->address : d ? bms_probe_address(d) : 0;
	if (!c->port.is_tcp && port_held(c, c->o->port))
		return -1;
	if (open_output(c) < 0)
		return -1;
	c->env = (struct gw_link_env){ .loop = c->loop };
	struct gw_resolver *made; /* in c->env, freed at the end */
	c->link = gw_det_port_link(&c->env, c->o->port, &c->port, c->baud, &cap_owner, c, &made, why, sizeof(why));
	if (!c->link) {
		say(c, "%s", why);
		return -1;
	}
	return 0;
}

static void watch(struct cap *c)
{
	ev_init(&c->end, end_cb);
	ev_init(&c->tick, tick_cb);
	c->end.data = c->tick.data = c;
	ev_signal_init(&c->sigint, signal_cb, SIGINT);
	ev_signal_init(&c->sigterm, signal_cb, SIGTERM);
	c->sigint.data = c->sigterm.data = c;
	ev_signal_start(c->loop, &c->sigint);
	ev_signal_start(c->loop, &c->sigterm);
}

int gw_capture(struct ev_loop *loop, const struct gw_capture_opts *o, FILE *err)
{
	struct cap *c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(err, "bmsgw: out of memory\n");
		return 2;
	}
	c->loop = loop;
	c->o = o;
	c->err = err;
	c->rc = 2;
	if (setup(c) == 0) {
		watch(c);
		if (c->can) {
			/* a port that never comes up ends the capture all the same */
			ev_timer_set(&c->end, c->o->seconds, 0.);
			ev_timer_start(loop, &c->end);
			gw_can_open(c->can);
		} else {
			gw_link_open(c->link); /* up (or down) now or from the loop */
		}
		if (!c->done)
			ev_run(loop, 0);
		ev_signal_stop(loop, &c->sigint);
		ev_signal_stop(loop, &c->sigterm);
		ev_timer_stop(loop, &c->end);
		ev_timer_stop(loop, &c->tick);
		if (c->up) {
			fprintf(c->out, "# end: %lu %s heard (%lu bytes), %lu requests sent, %.1f s\n", c->rx_records,
				c->can ? "frames" : "chunks", c->rx_bytes, c->tx_records, since(c));
			say(c, "%lu %s heard (%lu bytes), %lu requests sent", c->rx_records, c->can ? "frames" : "chunks",
			    c->rx_bytes, c->tx_records);
		}
	}
	gw_link_free(c->link);
	gw_can_free(c->can);
	gw_resolver_free(c->env.resolver);
	if (c->out && c->out != stdout)
		fclose(c->out);
	else if (c->out)
		fflush(c->out);
	int rc = c->rc;
	free(c);
	return rc;
}
