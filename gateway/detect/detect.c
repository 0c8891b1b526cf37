/* SPDX-License-Identifier: MIT */
/* gateway/detect/detect.c - `bmsgw --detect`: the port, the loop and the
 * link's owner (see detect.h).
 *
 * Everything waits on the loop: the link's descriptor is an ev_io of
 * wire/link.c, every window, gap and wait an ev_timer here; nothing sleeps
 * and nothing blocks.  The port is refused before it is opened when a
 * process holds it; it is then opened as the daemon opens its ports
 * (exclusively), and only at the end closed again, its settings restored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/resolve.h"
#include "detect_int.h"
#include "holders.h"

/* ---- the link's owner ---- */

static void on_up(void *arg)
{
	struct det *d = arg;
	if (d->phase == DET_OPEN)
		gw_det_listen_start(d);
}

static void on_down(void *arg)
{
	struct det *d = arg;
	if (d->phase == DET_DONE)
		return;
	struct gw_link_info li;
	gw_link_info(d->link, &li);
	gw_det_say(d, "%s %s: %s", d->phase == DET_OPEN ? "cannot open" : "lost", d->o->port,
		   li.why[0] ? li.why : "closed");
	gw_det_finish(d, 2);
}

static void on_bytes(void *arg, const uint8_t *p, size_t n)
{
	struct det *d = arg;
	d->quiet_from = ev_now(d->loop);
	if (d->phase == DET_LISTEN)
		gw_det_listen_bytes(d, p, n);
	else if (d->phase == DET_GAP || d->phase == DET_SEND || d->phase == DET_WAIT)
		gw_det_probe_bytes(d, p, n);
}

static void on_drained(void *arg)
{
	gw_det_probe_drained(arg);
}

static void on_gone(void *arg)
{
	(void)arg;
}

static const struct gw_link_owner det_owner = { on_up, on_down, on_bytes, on_drained, on_gone };

/* ---- timers and signals ---- */

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct det *d = w->data;
	if (d->phase == DET_LISTEN)
		gw_det_listen_end(d);
	else if (d->phase == DET_GAP || d->phase == DET_SEND || d->phase == DET_WAIT)
		gw_det_probe_timer(d);
}

/* A wait ran out (timer_cb): the answer is over only if no byte is still
 * waiting in the kernel.  libev runs an expired timer before the input
 * that became readable in the same iteration (a detector descheduled for
 * longer than the wait, on a loaded host), and an idle watcher runs only
 * when nothing else is pending: then the line was really quiet. */
static void settle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)revents;
	struct det *d = w->data;
	ev_idle_stop(loop, w);
	if (d->phase == DET_WAIT && d->rx_seq == d->settle_seq)
		gw_det_probe_settled(d);
}

static void budget_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct det *d = w->data;
	gw_det_say(d, "stopped after %.0f s, the time a port may take (%u requests sent; --scan-addresses has no limit)",
		   d->o->budget, d->sent);
	gw_det_finish(d, 1);
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct det *d = w->data;
	gw_det_say(d, "interrupted");
	gw_det_finish(d, 1);
}

/* ---- the port ---- */

/* A serial port somebody holds is not touched: say who. */
static bool port_held(struct det *d)
{
	struct gw_holder h[GW_HOLDERS_MAX];
	int n = gw_holders_find(d->o->port, h, GW_HOLDERS_MAX);
	if (n < 0) {
		gw_det_say(d, "cannot use %s: %s", d->o->port,
			   errno == ENOTTY ? "not a serial device (a character device)" : strerror(errno));
		return true;
	}
	for (int i = 0; i < n; i++) {
		if (h[i].by_lock)
			gw_det_say(d, "%s is held by %s (pid %ld): its lock file %s", d->o->port, h[i].name,
				   (long)h[i].pid, h[i].lock);
		else
			gw_det_say(d, "%s is held by %s (pid %ld): it has the port open", d->o->port, h[i].name,
				   (long)h[i].pid);
	}
	if (n)
		gw_det_say(d, "not touching a port another program uses (stop it first; a bmsgw daemon: "
			      "systemctl stop bmsgw)");
	return n > 0;
}

static int parse_port(struct det *d)
{
	char why[256];
	if (conf_parse_port(&d->port, d->o->port, why, sizeof(why)) < 0) {
		gw_det_say(d, "--detect: %s", why);
		return -1;
	}
	if (d->port.is_ble) {
		gw_det_say(d, "--detect: %s is a Bluetooth device (see bmsgw --ble-scan); --detect looks at serial "
			      "ports and TCP serial servers", d->o->port);
		return -1;
	}
	d->po = (struct gw_plan_opts){ d->port.is_tcp, d->o->baud, d->o->address, d->o->sweep };
	return 0;
}

static int open_link(struct det *d)
{
	d->env = (struct gw_link_env){ .loop = d->loop };
	if (d->port.is_tcp && !(d->env.resolver = gw_resolver_new(d->loop))) {
		gw_det_say(d, "cannot start the name resolver: %s", strerror(errno));
		return -1;
	}
	d->nlisten = gw_plan_listen(&d->po, d->lbauds);
	d->baud = d->lbauds[0] ? d->lbauds[0] : 9600;
	struct gw_line line = { d->baud, 'N', 1 };
	d->link = gw_link_new_port(&d->env, d->o->port, d->port.is_tcp ? d->port.tcp_host : NULL, d->port.tcp_port,
				   &line);
	if (!d->link) {
		gw_det_say(d, "out of memory");
		return -1;
	}
	gw_link_set_owner(d->link, &det_owner, d);
	return 0;
}

static void watch(struct det *d)
{
	ev_init(&d->timer, timer_cb);
	d->timer.data = d;
	ev_init(&d->budget, budget_cb);
	d->budget.data = d;
	ev_idle_init(&d->settle, settle_cb);
	d->settle.data = d;
	ev_signal_init(&d->sigint, signal_cb, SIGINT);
	ev_signal_init(&d->sigterm, signal_cb, SIGTERM);
	d->sigint.data = d->sigterm.data = d;
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sigterm);
	if (!d->o->sweep && d->o->budget > 0) {
		ev_timer_set(&d->budget, d->o->budget, 0.);
		ev_timer_start(d->loop, &d->budget);
	}
}

int gw_detect(struct ev_loop *loop, const struct gw_detect_opts *o, FILE *out, FILE *err)
{
	struct det *d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(err, "bmsgw: out of memory\n");
		return 2;
	}
	d->loop = loop;
	d->o = o;
	d->out = out;
	d->err = err;
	d->rc = 2;
	d->start_listening = gw_det_listen_start;
	d->start_probing = gw_det_probe_start;
	ev_now_update(loop);
	d->t0 = d->quiet_from = ev_now(loop);
	if (parse_port(d) == 0 && (d->port.is_tcp || !port_held(d)) && open_link(d) == 0) {
		watch(d);
		gw_link_open(d->link); /* up (or down) now or from the loop */
		if (d->phase != DET_DONE)
			ev_run(loop, 0);
		ev_signal_stop(loop, &d->sigint);
		ev_signal_stop(loop, &d->sigterm);
		ev_timer_stop(loop, &d->timer);
		ev_timer_stop(loop, &d->budget);
	}
	gw_link_free(d->link);
	gw_resolver_free(d->env.resolver);
	free(d->plan);
	int rc = d->rc;
	free(d);
	return rc;
}
