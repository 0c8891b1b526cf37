/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus.c - the Venus OS output as the daemon sees it: its
 * row of the service table (model/service.h).
 *
 * Each pack with venus = true and the bank ([venus] bank = true, with a
 * [bank]) is a unit: a com.victronenergy.battery.bmsgw_NAME service on its
 * own connection to the bus (venus_int.h says why).  A unit joins the bus
 * at its first data (nothing before: a pack's first good poll, a bank with
 * a fresh member) once its DeviceInstance is claimed (venus_claim.c): its
 * items are built, its BusItem handler set, then its name requested, as
 * VeDbusService registers after its paths are added.  From then on it stays
 * on the bus while bmsgw runs: a unit that is not fresh says /Connected 0
 * (venus_paths.c), at the moment it goes stale (a timer at the next
 * moment a pack or the bank goes stale, not the next tick).
 *
 * Each good poll builds the pack's unit and the bank's and sends what
 * changed; the tick builds every unit (the limits' ramps and holds).  A
 * reload keeps the output and its connections when [venus] is the same
 * (the units follow the packs: one whose pack went, or says venus = false,
 * leaves the bus; a new one joins); any change of [venus] starts it anew.
 * The bus gone (its daemon restarted) closes every connection, and they
 * are tried again with the reconnect policy of every output
 * (core/retry.h); the services come back with the same instances.  It
 * never writes to a BMS: a SetValue reaches /CustomName only, which lives
 * in com.victronenergy.settings.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/prom.h"
#include "../model/bankstate.h"
#include "../model/gw.h"
#include "venus.h"
#include "venus_conf.h"
#include "venus_int.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

static long venus_fds(const struct conf *c)
{
	return gw_venus_conf(c)->enabled ? c->npacks + 2 : 0; /* a connection per unit, and the settings' */
}

#ifdef HAVE_SYSTEMD

struct vn_prepared {
	struct conf_venus cfg;
	bool keep;                     /* the running output goes on */
};

static int venus_prepare(struct gw_svc_ctx *x)
{
	const struct conf_venus *c = gw_venus_conf(x->nc);
	const struct vn_out *cur = x->cur;
	x->next = NULL;
	if (!c->enabled)
		return 0;
	struct vn_prepared *n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(x->err, x->errlen, "venus: out of memory");
		return -1;
	}
	n->cfg = *c;
	n->keep = cur && conf_section_same(&gw_venus_section, CONF_RESTART, &cur->cfg, c);
	x->next = n;
	return 0;
}

/* ---- the units ---------------------------------------------------------- */

static void unit_close(struct vn_unit *u)
{
	u->name_call = sd_bus_slot_unref(u->name_call);
	u->object = sd_bus_slot_unref(u->object);
	vn_conn_close(&u->conn);
	u->named = false;
}

static void unit_free(struct vn_unit *u)
{
	if (!u)
		return;
	unit_close(u);
	vn_items_free(u);
	free(u);
}

static void conn_gone(struct vn_conn *c, const char *why)
{
	struct vn_out *o = c->owner;
	vn_bus_lost(o, why);
}

static struct vn_unit *unit_new(struct vn_out *o, const char *pack)
{
	struct vn_unit *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->out = o;
	snprintf(u->pack, sizeof(u->pack), "%s", pack ? pack : "");
	gw_venus_unit_word(pack, u->word, sizeof(u->word));
	snprintf(u->service, sizeof(u->service), "com.victronenergy.battery.%s", u->word);
	u->instance = o->claimed ? vn_kept_instance(u->word) : -1;
	u->conn.owner = o;
	u->conn.gone = conn_gone;
	u->set_name = vn_claim_set_name;
	return u;
}

static bool back_on_bus(const struct vn_out *o)
{
	for (int i = 0; i < o->nunits; i++)
		if (o->units[i]->had_data && !o->units[i]->named)
			return false;
	return o->ctl.bus != NULL;
}

/* The outage, if one was going on, ends with every unit that had data back. */
static void outage_end(struct vn_out *o)
{
	if (!o->down || !back_on_bus(o))
		return;
	o->down = false;
	o->last_rejoin_s = gw_mono() - o->down_since;
	gw_retry_up(&o->rt);
	gw_info("venus: back on D-Bus with %d services, %.3f s after the bus went away", o->nunits, o->last_rejoin_s);
}

static int named_cb(sd_bus_message *m, void *ud, sd_bus_error *e)
{
	(void)e;
	struct vn_unit *u = ud;
	u->name_call = sd_bus_slot_unref(u->name_call);
	const sd_bus_error *err = sd_bus_message_get_error(m);
	if (err) {
		gw_err("venus: %s cannot be taken (%s): another process owns it; tried again in a second",
		       u->service, err->message ? err->message : err->name);
		unit_close(u);
		return 1;
	}
	u->named = true;
	u->joined = gw_mono();
	u->joins++;
	gw_info("venus: %s on D-Bus, DeviceInstance %d", u->service, u->instance);
	vn_keep_instance(u->out->gw, u->word, u->instance);
	outage_end(u->out);
	return 1;
}

/* u goes on the bus: its connection, its items, its handler, its name. */
static void unit_join(struct vn_unit *u, double now)
{
	struct vn_out *o = u->out;
	if (u->conn.bus || !o->ctl.bus || !o->claimed || u->instance < 0)
		return;
	int r = vn_conn_open(&u->conn, o->gw->loop, o->cfg.bus);
	if (r < 0) {
		vn_bus_lost(o, strerror(-r));
		return;
	}
	vn_paths_build(u, o->gw, now);
	for (int k = 0; k < u->nitems; k++)
		u->items[k].changed = false; /* its first scan reads them */
	if ((r = vn_items_serve(u)) >= 0)
		r = sd_bus_request_name_async(u->conn.bus, &u->name_call, u->service, 0, named_cb, u);
	if (r < 0) {
		gw_err("venus: %s: %s", u->service, strerror(-r));
		unit_close(u);
	}
}

static void unit_update(struct vn_unit *u)
{
	vn_paths_build(u, u->out->gw, gw_mono());
	vn_items_signal(u);
}

/* Build u at now, send its changes, join the bus at its first data. */
static void unit_step(struct vn_unit *u, double now)
{
	const struct gw *gw = u->out->gw;
	bool fresh = vn_unit_fresh(u, gw, now);
	if (fresh)
		u->had_data = true;
	if (!u->had_data)
		return;
	if (!u->conn.bus) {
		unit_join(u, now);
		return;
	}
	vn_paths_build(u, gw, now);
	vn_items_signal(u);
	if (!fresh && !u->stale_said && u->named) {
		gw_warn("venus: %s: /Connected 0 (no fresh data)", u->service);
		u->stale_said = true;
	} else if (fresh) {
		u->stale_said = false;
	}
}

static void unit_rejoin(struct vn_unit *u)
{
	unit_close(u);
	unit_join(u, gw_mono());
}

static void claimed(struct vn_out *o)
{
	o->claimed = true;
	double now = gw_mono();
	for (int i = 0; i < o->nunits; i++)
		unit_step(o->units[i], now);
	outage_end(o);
}

/* The units the configuration asks for: kept by name, the others made, the
 * ones it no longer has freed (their names leave the bus). */
static void units_sync(struct vn_out *o)
{
	const struct conf *c = o->gw->conf;
	struct vn_unit *want[CONF_MAX_PACKS + 1];
	int n = 0;
	bool added = false;
	for (int i = -1; i < c->npacks; i++) {
		const char *pack = i < 0 ? NULL : c->packs[i].name;
		if (i < 0 ? !(o->cfg.bank && c->bank.enabled) : !c->packs[i].venus)
			continue;
		struct vn_unit *u = NULL;
		for (int k = 0; k < o->nunits && !u; k++)
			if (o->units[k] && strcmp(o->units[k]->pack, pack ? pack : "") == 0) {
				u = o->units[k];
				o->units[k] = NULL;
			}
		if (!u && (u = unit_new(o, pack)) != NULL)
			added = true;
		if (u)
			want[n++] = u;
	}
	for (int k = 0; k < o->nunits; k++)
		unit_free(o->units[k]);
	memcpy(o->units, want, (size_t)n * sizeof(want[0]));
	o->nunits = n;
	if (added && o->ctl.bus && !o->claim_call)
		vn_claim_start(o); /* the new ones' instances */
}

/* ---- the bus ------------------------------------------------------------ */

/* The next try at the bus: logged by the policy of every output
 * (core/retry.h), but a second at most apart, not its growing backoff: a
 * try is a connect() on the machine's own bus daemon, which a restart
 * brings back in a moment. */
static void retry_after(struct vn_out *o, const char *why)
{
	char who[CONF_HOST_MAX + 32];
	snprintf(who, sizeof(who), "venus: D-Bus %s", o->cfg.bus);
	double w = gw_retry_failed(&o->rt, who, why);
	ev_timer_set(&o->retry, w < 1.0 ? w : 1.0, 0.);
	ev_timer_start(o->gw->loop, &o->retry);
}

static void bus_try(struct vn_out *o)
{
	int r = vn_conn_open(&o->ctl, o->gw->loop, o->cfg.bus);
	if (r < 0) {
		retry_after(o, strerror(-r));
		return;
	}
	o->claimed = false;
	vn_claim_start(o);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	bus_try((struct vn_out *)w->data);
}

void vn_bus_lost(struct vn_out *o, const char *why)
{
	vn_claim_stop(o);
	for (int i = 0; i < o->nunits; i++)
		unit_close(o->units[i]);
	vn_conn_close(&o->ctl);
	if (ev_is_active(&o->retry))
		return; /* the other connections of the same outage */
	if (!o->down) {
		o->down = true;
		o->down_since = gw_mono();
		o->outages++;
	}
	retry_after(o, why);
}

/* ---- staleness ---------------------------------------------------------- */

/* The next moment after now a unit's pack, or the bank, goes stale. */
static double next_stale(const struct vn_out *o, double now)
{
	const struct gw *gw = o->gw;
	double t = INFINITY;
	for (int i = 0; i < o->nunits; i++) {
		const struct gw_pack *p = o->units[i]->pack[0] ? gw_find_pack(gw, o->units[i]->pack) : NULL;
		if (p && gw_pack_online_at(gw, p, now)) {
			double at = p->last_good + conf_pack_stale_after(p->cfg, gw->conf->gw.stale_after);
			t = at < t ? at : t;
		}
	}
	if (gw->conf->bank.enabled) {
		double b = gw_bank_next_stale(gw, now);
		t = b < t ? b : t;
	}
	return t;
}

static void stale_arm(struct vn_out *o, double now)
{
	double t = next_stale(o, now);
	ev_timer_stop(o->gw->loop, &o->stale);
	if (isfinite(t)) {
		ev_timer_set(&o->stale, t - now + GW_CHARGE_STALE_SLACK * 2, 0.);
		ev_timer_start(o->gw->loop, &o->stale);
	}
}

static void step_all(struct vn_out *o, double now)
{
	for (int i = 0; i < o->nunits; i++)
		unit_step(o->units[i], now);
	stale_arm(o, now);
}

static void stale_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct vn_out *o = w->data;
	step_all(o, gw_mono()); /* the model's own step of the bank ran at GW_CHARGE_STALE_SLACK */
}

/* ---- the row ------------------------------------------------------------ */

static void out_free(struct vn_out *o)
{
	if (!o)
		return;
	vn_claim_stop(o);
	for (int i = 0; i < o->nunits; i++)
		unit_free(o->units[i]);
	vn_conn_close(&o->ctl);
	ev_timer_stop(o->gw->loop, &o->retry);
	ev_timer_stop(o->gw->loop, &o->stale);
	free(o);
}

static void *venus_commit(const struct gw_svc_ctx *x)
{
	struct vn_out *cur = x->cur;
	struct vn_prepared *next = x->next;
	if (next && next->keep) {
		free(next);
		units_sync(cur);
		step_all(cur, gw_mono());
		return cur;
	}
	out_free(cur);
	if (!next)
		return NULL;
	struct vn_out *o = calloc(1, sizeof(*o));
	if (!o) {
		gw_err("venus: out of memory: no service on D-Bus");
		free(next);
		return NULL;
	}
	o->gw = x->gw;
	o->cfg = next->cfg;
	free(next);
	o->last_rejoin_s = -1;
	gw_retry_init(&o->rt);
	ev_init(&o->retry, retry_cb);
	o->retry.data = o;
	ev_init(&o->stale, stale_cb);
	o->stale.data = o;
	o->ctl.owner = o;
	o->ctl.gone = conn_gone;
	o->rejoin = unit_rejoin;
	o->on_claimed = claimed;
	o->update = unit_update;
	units_sync(o);
	gw_info("venus: %d battery services on D-Bus %s from their first data", o->nunits,
		strcmp(o->cfg.bus, "system") == 0 ? "(the system bus)" : o->cfg.bus);
	bus_try(o);
	return o;
}

static void venus_discard(const struct gw_svc_ctx *x)
{
	free(x->next);
}

static void venus_stop(const struct gw_svc_ctx *x)
{
	out_free(x->cur);
}

static const void *venus_held(void *st, const struct conf_section *s, const char *name)
{
	(void)name;
	return s == &gw_venus_section ? &((const struct vn_out *)st)->cfg : NULL;
}

static void venus_polled(void *st, struct gw_pack *p, bool ok)
{
	struct vn_out *o = st;
	if (!ok)
		return;
	double now = gw_mono();
	for (int i = 0; i < o->nunits; i++) {
		struct vn_unit *u = o->units[i];
		if (u->pack[0] ? strcmp(u->pack, p->cfg->name) == 0 : gw_pack_feeds_bank(o->gw, p))
			unit_step(u, now);
	}
	stale_arm(o, now);
}

static void venus_tick(void *st, double now)
{
	step_all(st, now);
}

static void unit_json(const struct vn_unit *u, const struct gw *gw, double now, FILE *o)
{
	fputs("{\"service\":", o);
	gw_json_str(o, u->service);
	fprintf(o, ",\"instance\":");
	if (u->instance >= 0)
		fprintf(o, "%d", u->instance);
	else
		fputs("null", o);
	fprintf(o, ",\"on_bus\":%s,\"connected\":%s,\"paths\":%d,\"joins\":%lu,\"signals\":%lu,"
		"\"refused\":%lu}", u->named ? "true" : "false", vn_unit_fresh(u, gw, now) ? "true" : "false",
		u->nitems, u->joins, u->signals, u->refused);
}

static void venus_status_json(void *st, const struct gw *gw, FILE *o)
{
	const struct vn_out *v = st;
	double now = gw_mono();
	fputs("{\"bus\":", o);
	gw_json_str(o, v->cfg.bus);
	fprintf(o, ",\"up\":%s,\"settings\":%s,\"outages\":%lu,\"last_rejoin_s\":", v->down ? "false" : "true",
		v->settings_there ? "true" : "false", v->outages);
	if (v->last_rejoin_s >= 0)
		fprintf(o, "%.3f", v->last_rejoin_s);
	else
		fputs("null", o);
	fputs(",\"services\":[", o);
	for (int i = 0; i < v->nunits; i++) {
		if (i)
			fputc(',', o);
		unit_json(v->units[i], gw, now, o);
	}
	fputs("]}", o);
}

static void venus_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct vn_out *v = st;
	int on = 0;
	unsigned long sig = 0, refused = 0;
	for (int i = 0; i < v->nunits; i++) {
		on += v->units[i]->named;
		sig += v->units[i]->signals;
		refused += v->units[i]->refused;
	}
	const struct gw_prom_metric m[] = {
		{ "bmsgw_venus_up", "gauge", "1 while bmsgw is on the D-Bus of [venus].", !v->down && v->ctl.bus },
		{ "bmsgw_venus_services_on_bus", "gauge", "Battery services bmsgw holds on D-Bus now.", on },
		{ "bmsgw_venus_signals_total", "counter", "PropertiesChanged and ItemsChanged signals sent.", (double)sig },
		{ "bmsgw_venus_setvalue_refused_total", "counter", "SetValue calls refused (a read-only path, a wrong type).",
		  (double)refused },
		{ "bmsgw_venus_outages_total", "counter", "Times the bus went away.", (double)v->outages },
	};
	gw_prom_singles(o, m, sizeof(m) / sizeof(m[0]));
}

static const struct conf_section *const sections[] = { &gw_venus_section, NULL };

const struct gw_service gw_svc_venus = {
	.name = "venus",
	.sections = sections,
	.fds = venus_fds,
	.prepare = venus_prepare,
	.commit = venus_commit,
	.discard = venus_discard,
	.stop = venus_stop,
	.held = venus_held,
	.status_json = venus_status_json,
	.metrics = venus_metrics,
	.polled = venus_polled,
	.tick = venus_tick,
};

#else /* !HAVE_SYSTEMD */

/* Without libsystemd there is no sd-bus: [venus] is refused at start. */
static int venus_prepare(struct gw_svc_ctx *x)
{
	x->next = NULL;
	if (!gw_venus_conf(x->nc)->enabled)
		return 0;
	snprintf(x->err, x->errlen, "venus: this bmsgw was built without libsystemd, which [venus] needs for D-Bus");
	return -1;
}

static void *venus_commit(const struct gw_svc_ctx *x)
{
	(void)x;
	return NULL;
}

static void venus_stop(const struct gw_svc_ctx *x)
{
	(void)x;
}

static const struct conf_section *const sections[] = { &gw_venus_section, NULL };

const struct gw_service gw_svc_venus = {
	.name = "venus",
	.sections = sections,
	.fds = venus_fds,
	.prepare = venus_prepare,
	.commit = venus_commit,
	.stop = venus_stop,
};

#endif /* HAVE_SYSTEMD */
