/* SPDX-License-Identifier: MIT */
/* gateway/daemon/daemon.c - the daemon's lifecycle: build, serve, reload, free.
 *
 *   gw_init    packs and links from a validated configuration
 *   gw_serve   descriptor budget, the outputs of the service table
 *              (services.c) in its order, the once-a-second tick (systemd
 *              watchdog and status, log repeats, the outputs' ticks)
 *   gw_start   open every link; the poller takes it from there
 *   gw_reload  a new configuration with the least disruption (below)
 *   gw_free    everything, in reverse order
 *
 * A reload follows ser2net's rule: the new file was validated whole before
 * it gets here, and nothing changes unless all of it can be applied.  Each
 * key's row in conf/conf.c says whether a new value is live or restarts
 * its part (reload_plan.c for the packs and wires, each output for itself).  A
 * pack none of whose restarting keys changed keeps its snapshot, counters,
 * freshness and daily SOC maximum, and a poll it has in progress; a wire
 * stays open while some pack still uses it; every output is prepared for
 * the new file first (a listen address that cannot be opened refuses the
 * reload whole) and then switched over, keeping what did not change
 * (Modbus clients stay connected unless `listen` changed); new packs are
 * polled at once; removed ones stop answering (0x0A).  Nothing on the way
 * waits.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/machine.h"
#include "../core/notify.h"
#include "../core/resolve.h"
#include "../core/util.h"
#include "../model/bankstate.h"
#include "../model/events.h"
#include "../model/gw.h"
#include "../poll/control.h"
#include "../poll/poll.h"
#include "../wire/ble/ble.h"
#include "../wire/wire.h"
#include "daemon.h"
#include "reload_plan.h"
#include "records.h"
#include "services.h"

/* descriptors kept for the daemon itself: stdio, epoll, signals, the
 * listening socket and its spare, DNS sockets, notifications, later MQTT
 * and HTTP */
#define GW_FD_RESERVE 32

_Static_assert(sizeof(((struct gw *)0)->machine) > GW_MACHINE_TAG_LEN, "gw.machine holds a machine tag");

static int reload_conf(struct gw *gw, struct conf *nc, const char *who, char *err, size_t errlen);

int gw_init(struct gw *gw, struct ev_loop *loop, struct conf *conf)
{
	memset(gw, 0, sizeof(*gw));
	gw->loop = loop;
	gw->conf = conf;
	gw->reload = reload_conf;
	gw->start = gw_mono();
	gw->fd_limit = -1;
	gw_health_forget(&gw->bank_health);
	if (gw_machine_tag(NULL, 0, gw->machine) < 0)
		gw_info("no machine id in /etc/machine-id: SunSpec serial numbers carry no machine part");
	if (!(gw->resolver = gw_resolver_new(loop))) {
		gw_err("cannot start the name resolver");
		return -1;
	}
	if (!(gw->link_env = calloc(1, sizeof(*gw->link_env))) || !(gw->state = gw_statefile_new(gw_state_records)) ||
	    !(gw->charge = gw_charge_bank_new(gw)) || !(gw->bank = gw_bank_kept_new())) {
		gw_err("out of memory");
		return -1;
	}
	gw->link_env->loop = loop;
	gw->link_env->resolver = gw->resolver;
	gw->link_env->ble_connect_timeout = conf->ble.connect_timeout;
	gw->link_env->ble_max_connections = conf->ble.max_connections;
	struct gw_plan *pl = malloc(sizeof(*pl));
	if (!pl || gw_plan_make(gw, conf, pl) < 0) {
		free(pl);
		return -1;
	}
	gw_plan_apply(gw, pl);
	gw_bank_reset(gw, gw_mono());
	gw_charge_reset(gw);
	free(pl);
	return 0;
}

/* ---------------------------------------------------------- descriptors */

/* Raise RLIMIT_NOFILE to what max_clients, the links and the upstreams need
 * (up to the hard limit), and cap the Modbus clients to what it allows. */
static void fd_budget(struct gw *gw)
{
	const struct conf *c = gw->conf;
	/* each link: what its transport holds (wire + timerfd; BLE: the timerfd
	 * and, once for all, the D-Bus socket); the outputs say what they hold */
	long other = GW_FD_RESERVE + gw_services_fds(c);
	bool ble = false;
	for (int i = 0; i < gw->nbuses; i++) {
		other += gw_link_fds(gw->buses[i]->link);
		ble = ble || gw_link_cfg(gw->buses[i]->link)->is_ble;
	}
	other += ble;
	long need = c->gw.max_clients + other;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		gw->fd_limit = -1;
		gw->client_cap = 0;
		return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need) {
		rlim_t want = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (rlim_t)need) ? (rlim_t)need
											   : rl.rlim_max;
		struct rlimit nr = { want, rl.rlim_max };
		if (want > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &nr) == 0) {
			gw_info("open-file limit raised from %llu to %llu (max_clients = %d)",
				(unsigned long long)rl.rlim_cur, (unsigned long long)want, c->gw.max_clients);
			rl.rlim_cur = want;
		}
	}
	int limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
	long cap = limit - other;
	if (cap < 1)
		cap = 1;
	if (cap < c->gw.max_clients && (gw->fd_limit != limit || gw->client_cap != (int)cap)) {
		char hard[32];
		if (rl.rlim_max == RLIM_INFINITY)
			snprintf(hard, sizeof(hard), "unlimited");
		else
			snprintf(hard, sizeof(hard), "%llu", (unsigned long long)rl.rlim_max);
		gw_warn("open-file limit %d (hard limit %s) is below the %ld descriptors that max_clients = %d "
			"needs (%ld more for links, upstreams, tunnels and the daemon): at most %ld Modbus clients "
			"will be served; raise LimitNOFILE= (systemd) or ulimit -n",
			limit, hard, need, c->gw.max_clients, other, cap);
	}
	gw->fd_limit = limit;
	gw->client_cap = (int)(cap > INT_MAX ? INT_MAX : cap);
}

/* ------------------------------------------------------------ the tick */

static void send_status(struct gw *gw, bool force)
{
	char st[sizeof(gw->status)];
	snprintf(st, sizeof(st), "%d/%d pack(s) online, %d Modbus client(s)%s", gw_packs_online(gw),
		 gw->npacks, gw->modbus_clients,
		 gw->reload_failures ? ", last reload failed (see the log)" : "");
	if (!force && strcmp(st, gw->status) == 0)
		return;
	memcpy(gw->status, st, sizeof(st));
	gw_notify("STATUS=%s", st);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw *gw = container_of(w, struct gw, tick);
	/* sent from the loop itself: a loop that stalls stops the pings and
	 * systemd restarts the daemon */
	if (gw->watchdog > 0)
		gw_notify("WATCHDOG=1");
	send_status(gw, false);
	double now = gw_mono();
	gw_log_flush(now);
	gw_statefile_tick(gw, now);
	gw_emit_tick(gw, now);
}

int gw_serve(struct gw *gw)
{
	char err[512];
	void *next[GW_MAX_OUTPUTS];
	fd_budget(gw);
	gw_statefile_load(gw);
	if (gw_services_prepare(gw, gw->conf, true, next, err, sizeof(err)) < 0) {
		gw_err("%s", err);
		return -1;
	}
	gw->serving = true;
	gw_services_commit(gw, next, NULL);
	double wd = gw->watchdog = gw_notify_watchdog();
	double period = wd > 0 && wd / 2 < 1.0 ? wd / 2 : 1.0;
	ev_timer_init(&gw->tick, tick_cb, period, period);
	ev_timer_start(gw->loop, &gw->tick);
	if (wd > 0)
		gw_info("systemd watchdog: %.1f s, pinged every %.2f s", wd, period);
	gw_notify("READY=1");
	send_status(gw, true);
	return 0;
}

void gw_start(struct gw *gw)
{
	/* each link reports up or down to the poller, which then schedules */
	for (int i = 0; i < gw->nbuses; i++)
		gw_bus_open(gw->buses[i]);
}

/* ------------------------------------------------------------ reload */

int gw_reload(struct gw *gw, struct conf *nc, char *err, size_t errlen)
{
	struct conf *oc = gw->conf;
	void *next[GW_MAX_OUTPUTS];
	struct gw_plan *pl = malloc(sizeof(*pl));
	if (!pl || gw_plan_make(gw, nc, pl) < 0) {
		free(pl);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* every output for the new file first: a listen address that cannot be
	 * opened fails here, and then nothing has changed */
	if (gw->serving && gw_services_prepare(gw, nc, false, next, err, errlen) < 0)
		goto undo;
	/* from here on nothing fails */
	int kept = 0, kept_links = 0, old_n = gw->npacks, old_nl = gw->nbuses;
	for (int j = 0; j < gw->npacks; j++)
		kept += pl->old_pack_kept[j];
	for (int j = 0; j < gw->nbuses; j++)
		kept_links += pl->old_link_kept[j];
	gw->conf = nc;
	gw->link_env->ble_connect_timeout = nc->ble.connect_timeout;
	gw->link_env->ble_max_connections = nc->ble.max_connections;
	gw_plan_apply(gw, pl);
	gw_control_reloaded(gw);
	gw_bank_reset(gw, gw_mono());
	gw_charge_reset(gw);
	if (!gw->verbose)
		gw_log_threshold = nc->gw.log_level;
	for (int i = 0; i < gw->npacks; i++)
		if (pl->pack_new[i])
			gw_statefile_restore_pack(gw, gw->packs[i]);
	if (gw->serving) {
		fd_budget(gw);
		gw_statefile_save(gw, true);
		gw_services_commit(gw, next, oc);
	}
	for (int k = 0; k < gw->nbuses; k++) {
		if (pl->link_new[k])
			gw_bus_open(gw->buses[k]);
		else
			gw_poll_schedule(gw->buses[k]); /* new packs on it are due now */
	}
	gw_info("reload: %d pack(s) kept, %d added, %d removed; %d link(s) kept, %d opened, %d closed",
		kept, nc->npacks - kept, old_n - kept, kept_links, gw->nbuses - kept_links,
		old_nl - kept_links);
	free(pl);
	free(oc);
	return 0;
undo:
	gw_plan_undo(pl);
	free(pl);
	return -1;
}

static void warn_log(void *arg, const char *text)
{
	(void)arg;
	gw_warn("reload: %s", text);
}

/* A new configuration (nc, taken: freed when refused), as SIGHUP applies
 * it: systemd told, counted, logged, its warnings said.  0, or -1 with
 * err and the running configuration as it was. */
static int reload_conf_from(struct gw *gw, struct conf *nc, const char *who, double t0, char *err, size_t errlen)
{
	unsigned long n = gw->reloads + gw->reload_failures_total + 1;
	if (who) { /* SIGHUP's said so before it read the file */
		gw_notify("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)gw_mono_usec());
		gw_info("%s: reload #%lu", who, n);
	}
	int rc = gw_reload(gw, nc, err, errlen);
	if (rc < 0) {
		free(nc);
		gw->reload_failures++;
		gw->reload_failures_total++;
		gw_err("reload #%lu failed, still running on the previous configuration: %s", n, err);
	} else {
		conf_warnings(gw->conf, warn_log, NULL);
		gw->reloads++;
		gw->reload_failures = 0;
		gw_info("reload #%lu: applied in %.1f ms", n, (gw_mono() - t0) * 1000);
	}
	gw_notify("READY=1");
	send_status(gw, true);
	return rc;
}

/* gw->reload: the setup API's, with the file read and checked already. */
static int reload_conf(struct gw *gw, struct conf *nc, const char *who, char *err, size_t errlen)
{
	return reload_conf_from(gw, nc, who ? who : "reload", gw_mono(), err, errlen);
}

void gw_reload_file(struct gw *gw)
{
	double t0 = gw_mono();
	char err[CONF_ERR_MAX];
	unsigned long n = gw->reloads + gw->reload_failures_total + 1;
	gw_notify("RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)gw_mono_usec());
	gw_info("SIGHUP: reload #%lu: reading %s again", n, gw->conf->file);
	struct conf *nc = malloc(sizeof(*nc));
	if (nc && conf_load_file(gw->conf->file, nc, err, sizeof(err)) == 0) {
		reload_conf_from(gw, nc, NULL, t0, err, sizeof(err)); /* the time with the reading */
		return;
	}
	if (!nc)
		snprintf(err, sizeof(err), "out of memory");
	free(nc);
	gw->reload_failures++;
	gw->reload_failures_total++;
	gw_err("reload #%lu failed, still running on the previous configuration: %s", n, err);
	gw_notify("READY=1");
	send_status(gw, true);
}

/* ------------------------------------------------------------ stop */

static void stop_now(struct gw *gw)
{
	gw->on_quiet = NULL;
	ev_timer_stop(gw->loop, &gw->stop_wait);
	ev_break(gw->loop, EVBREAK_ALL);
}

static void quiet_cb(struct gw *gw)
{
	gw_info("stopping: the commands on the wires ended");
	stop_now(gw);
}

static void stop_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw *gw = container_of(w, struct gw, stop_wait);
	gw_warn("stopping: a command is still on a wire after the time its frames may take: stopping without its end");
	stop_now(gw);
}

int gw_stop_begin(struct gw *gw)
{
	if (gw->stopping) {
		stop_now(gw);
		return 0;
	}
	gw->stopping = true;
	double wait;
	int n = gw_control_stop(gw, &wait);
	if (!n)
		return 0;
	if (wait > GW_STOP_WAIT_MAX)
		wait = GW_STOP_WAIT_MAX;
	gw_info("stopping: waiting up to %.1f s for %d command(s) on the wires to end (a BMS left as it was found)",
		wait, n);
	gw->on_quiet = quiet_cb;
	ev_timer_init(&gw->stop_wait, stop_wait_cb, wait, 0.);
	ev_timer_start(gw->loop, &gw->stop_wait);
	return 1;
}

/* ------------------------------------------------------------ teardown */

void gw_free(struct gw *gw)
{
	gw->stopping = true;
	gw->on_quiet = NULL;
	if (gw->loop) {
		ev_timer_stop(gw->loop, &gw->tick);
		ev_timer_stop(gw->loop, &gw->stop_wait);
	}
	if (gw->state) {
		if (gw->serving)
			gw_statefile_save(gw, true);
		gw_statefile_flush(gw); /* the loop is done: waiting for the disk is fine now */
	}
	gw_services_stop(gw, true); /* in reverse: the HTTP server before the history it reads */
	gw->serving = false;
	for (int i = 0; i < gw->npacks; i++)
		gw_control_drop(gw->packs[i]);
	for (int i = 0; i < gw->nbuses; i++)
		gw_bus_free(gw->buses[i]);
	gw->nbuses = 0;
	for (int i = 0; i < gw->npacks; i++)
		gw_plan_pack_free(gw->packs[i]);
	gw->npacks = 0;
	gw_resolver_free(gw->resolver);
	gw->resolver = NULL;
#ifdef HAVE_SYSTEMD
	if (gw->link_env)
		gw_ble_free(gw->link_env->ble); /* after the links: their Disconnect()s go out with it */
#endif
	free(gw->link_env);
	gw->link_env = NULL;
	gw_statefile_free(gw->state);
	gw->state = NULL;
	gw_charge_bank_free(gw->charge);
	gw->charge = NULL;
	gw_bank_kept_free(gw->bank);
	gw->bank = NULL;
	free(gw->conf);
	gw->conf = NULL;
}
