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
#include "../wire/can.h"
#include "detect_int.h"
#include "holders.h"
#include "portlink.h"

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
	struct det *d = arg;
	if (!d->borrowed)
		return;
	d->link = NULL; /* the lender freed it (a reload took its packs away) */
	if (d->phase != DET_DONE) {
		gw_det_say(d, "%s was taken away (the configuration changed)", d->o->port);
		gw_det_finish(d, 2);
	}
}

static const struct gw_link_owner det_owner = { on_up, on_down, on_bytes, on_drained, on_gone };

/* ---- timers and signals ---- */

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct det *d = w->data;
	if (d->can)
		gw_det_can_timer(d);
	else if (d->phase == DET_LISTEN)
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

/* A serial port somebody holds is not touched (an slcan adapter's too):
 * say who. */
static bool port_held(struct det *d, const char *path)
{
	struct gw_holder h[GW_HOLDERS_MAX];
	int n = gw_holders_find(path, h, GW_HOLDERS_MAX);
	if (n < 0) {
		gw_det_say(d, "cannot use %s: %s", path,
			   errno == ENOTTY ? "not a serial device (a character device)" : strerror(errno));
		return true;
	}
	for (int i = 0; i < n; i++) {
		if (h[i].by_lock)
			gw_det_say(d, "%s is held by %s (pid %ld): its lock file %s", path, h[i].name,
				   (long)h[i].pid, h[i].lock);
		else
			gw_det_say(d, "%s is held by %s (pid %ld): it has the port open", path, h[i].name,
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
			      "ports, TCP serial servers and CAN buses", d->o->port);
		return -1;
	}
	if (d->port.is_can && (d->o->baud || d->o->address >= 0 || d->o->sweep)) {
		gw_det_say(d, "--detect: %s is a CAN bus: --baud, --address and --scan-addresses are for serial ports (the "
			      "CAN drivers' rates and every address are tried)", d->o->port);
		return -1;
	}
	d->po = (struct gw_plan_opts){ d->port.is_tcp, d->o->baud, d->o->address, d->o->sweep };
	return 0;
}

static int open_link(struct det *d, struct gw_link_env *env)
{
	d->env = *env;
	d->nlisten = gw_plan_listen(&d->po, d->lbauds);
	d->baud = d->lbauds[0] ? d->lbauds[0] : 9600;
	char why[160];
	d->link = gw_det_port_link(&d->env, d->o->port, &d->port, d->baud, &det_owner, d, &d->own_resolver, why,
				   sizeof(why));
	if (!d->link) {
		gw_det_say(d, "%s", why);
		return -1;
	}
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
	ev_timer_set(&d->budget, d->o->budget > 0 ? d->o->budget : 1., 0.);
}

/* ---- the detector as a job ---- */

struct gw_detect {
	struct det d;
};

struct gw_detect *gw_detect_new(struct ev_loop *loop, const struct gw_detect_opts *o, FILE *out, FILE *err,
				gw_detect_done_cb *done, void *arg)
{
	struct gw_detect *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	struct det *d = &g->d;
	d->loop = loop;
	d->opts = *o;
	snprintf(d->port_name, sizeof(d->port_name), "%s", o->port);
	d->opts.port = d->port_name;
	d->o = &d->opts;
	d->out = out;
	d->err = err;
	d->done = done;
	d->done_arg = arg;
	d->rc = 2;
	d->start_listening = gw_det_listen_start;
	d->start_probing = gw_det_probe_start;
	ev_now_update(loop);
	d->t0 = d->quiet_from = ev_now(loop);
	watch(d);
	return g;
}

void gw_detect_open(struct gw_detect *g, struct gw_link_env *env)
{
	struct det *d = &g->d;
	if (parse_port(d) < 0) {
		gw_det_finish(d, 2);
		return;
	}
	if (d->port.is_can) {
		/* a SocketCAN interface is shared by nature: only an slcan adapter's tty can be held */
		if (d->port.is_slcan && port_held(d, d->port.can_device)) {
			gw_det_finish(d, 2);
			return;
		}
		if (!d->o->sweep && d->o->budget > 0)
			ev_timer_start(d->loop, &d->budget);
		if (gw_det_can_open(d) < 0)
			gw_det_finish(d, 2);
		return;
	}
	if ((!d->port.is_tcp && port_held(d, d->o->port)) || open_link(d, env) < 0) {
		gw_det_finish(d, 2);
		return;
	}
	if (!d->o->sweep && d->o->budget > 0)
		ev_timer_start(d->loop, &d->budget);
	gw_link_open(d->link); /* up (or down) now or from the loop */
}

void gw_detect_lent(struct gw_detect *g, struct gw_link *link)
{
	g->d.link = link;
	g->d.borrowed = true;
}

const struct gw_link_owner *gw_detect_link_owner(void)
{
	return &det_owner;
}

void gw_detect_borrowed(void *arg)
{
	struct det *d = arg;
	if (d->phase == DET_DONE)
		return;
	if (parse_port(d) < 0 || d->port.is_can) {
		if (d->port.is_can)
			gw_det_say(d, "--detect: %s is a CAN bus a pack reads: a detection opens a CAN bus itself", d->o->port);
		gw_det_finish(d, 2);
		return;
	}
	d->nlisten = gw_plan_listen(&d->po, d->lbauds);
	const struct conf_pack *cfg = d->link ? gw_link_cfg(d->link) : NULL;
	d->baud = cfg && cfg->baud ? cfg->baud : 9600;
	if (!d->o->sweep && d->o->budget > 0)
		ev_timer_start(d->loop, &d->budget);
	if (d->link && gw_link_is_up(d->link))
		gw_det_listen_start(d); /* else when it comes up */
}

void gw_detect_stop(struct gw_detect *g, const char *why)
{
	struct det *d = &g->d;
	if (d->phase == DET_DONE)
		return;
	gw_det_say(d, "%s", why);
	gw_det_finish(d, 1);
}

double gw_detect_progress(const struct gw_detect *g)
{
	const struct det *d = &g->d;
	if (d->phase == DET_DONE)
		return 1.0;
	double p = 0;
	if (d->o->budget > 0 && !d->o->sweep)
		p = (ev_now(d->loop) - d->t0) / d->o->budget;
	if (d->nplan)
		p = p > (double)d->pi / (double)d->nplan ? p : (double)d->pi / (double)d->nplan;
	return p < 0.99 ? p : 0.99;
}

bool gw_detect_lost_link(const struct gw_detect *g)
{
	return g->d.borrowed && !g->d.link;
}

bool gw_detect_found(const struct gw_detect *g, int i, struct gw_detect_found *f)
{
	return gw_det_found_info(&g->d, i, f);
}

void gw_detect_free(struct gw_detect *g)
{
	if (!g)
		return;
	struct det *d = &g->d;
	ev_timer_stop(d->loop, &d->timer);
	ev_timer_stop(d->loop, &d->budget);
	ev_idle_stop(d->loop, &d->settle);
	if (!d->borrowed)
		gw_link_free(d->link);
	gw_can_free(d->can); /* an slcan adapter closed ("C") */
	gw_resolver_free(d->own_resolver);
	free(d->plan);
	free(g);
}

/* ---- the tool ---- */

static void tool_done(void *arg, int rc)
{
	(void)rc;
	struct det *d = arg;
	ev_break(d->loop, EVBREAK_ALL);
}

int gw_detect(struct ev_loop *loop, const struct gw_detect_opts *o, FILE *out, FILE *err)
{
	struct gw_detect *g = gw_detect_new(loop, o, out, err, tool_done, NULL);
	if (!g) {
		fprintf(err, "bmsgw: out of memory\n");
		return 2;
	}
	struct det *d = &g->d;
	d->done_arg = d;
	struct gw_link_env env = { .loop = loop };
	ev_signal_init(&d->sigint, signal_cb, SIGINT);
	ev_signal_init(&d->sigterm, signal_cb, SIGTERM);
	d->sigint.data = d->sigterm.data = d;
	ev_signal_start(loop, &d->sigint);
	ev_signal_start(loop, &d->sigterm);
	gw_detect_open(g, &env);
	if (d->phase != DET_DONE)
		ev_run(loop, 0);
	ev_signal_stop(loop, &d->sigint);
	ev_signal_stop(loop, &d->sigterm);
	int rc = d->rc;
	gw_detect_free(g);
	return rc;
}
