/* SPDX-License-Identifier: MIT */
/* gateway/influx/influx.c - the influx output as the daemon sees it: its
 * row of the service table (model/service.h).
 *
 * Every `interval` seconds (the tick) one point per unit: each pack whose
 * data is fresh, the bank while one of its packs is, each string of the
 * bank while all its members are (a stale unit sends nothing, never an old
 * value as a new one), in measurement bmsgw with the tags site ([gateway]
 * site, when set) and unit (the pack's name, "bank", "string1" ...), the fields named as /api/state names them (line.h), the second
 * sched.c gives them (precision=s: never two points of a unit in one
 * second, which InfluxDB would keep as one).  The points go to the queue of the pusher
 * (push.c).  A reload keeps the output when [influx] is the same (its
 * queue too); any change of it starts a new one.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/curlev.h"
#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/prom.h"
#include "../model/bankstate.h"
#include "../model/gw.h"
#include "../model/strings_gw.h"
#include "influx.h"
#include "influx_conf.h"
#include "influx_int.h"
#include "line.h"
#include "sched.h"

#define IX_MEASUREMENT "bmsgw"

struct gw_influx {
	struct gw *gw;
	struct ix_push *push;
	struct ix_sched sched;         /* when the points are due, their second */
	struct conf_influx cfg;        /* prepared: the section to start (unless keep) */
	bool keep;                     /* prepared: the running output goes on */
};

static long influx_fds(const struct conf *c)
{
	return gw_influx_conf(c)->enabled ? 2 : 0; /* a POST's socket, and the resolver's */
}

static int influx_prepare(struct gw_svc_ctx *x)
{
	const struct conf_influx *c = gw_influx_conf(x->nc);
	const struct gw_influx *cur = x->cur;
	x->next = NULL;
	if (!c->enabled)
		return 0;
	struct gw_influx *n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(x->err, x->errlen, "influx: out of memory");
		return -1;
	}
	n->cfg = *c;
	n->keep = cur && cur->push && conf_section_same(&gw_influx_section, CONF_RESTART, &cur->push->cfg, c);
	x->next = n;
	return 0;
}

static void free_one(struct gw_influx *ix)
{
	if (!ix)
		return;
	ix_push_free(ix->push);
	explicit_bzero(&ix->cfg, sizeof(ix->cfg));
	free(ix);
}

static void *influx_commit(const struct gw_svc_ctx *x)
{
	struct gw_influx *cur = x->cur, *next = x->next;
	if (next && next->keep) {
		free_one(next);
		return cur;
	}
	free_one(cur);
	if (!next)
		return NULL;
	next->gw = x->gw;
	if (!gw_curlev_global() || !(next->push = ix_push_new(x->gw->loop, &next->cfg)))
		gw_err("influx: libcurl cannot start: no points are sent to %s", next->cfg.url.text);
	else
		gw_info("influx: %s (InfluxDB %d), a point of each unit every %g s", next->cfg.url.text,
			next->cfg.version, next->cfg.interval);
	explicit_bzero(&next->cfg, sizeof(next->cfg));
	return next;
}

static void influx_discard(const struct gw_svc_ctx *x)
{
	free_one(x->next); /* nothing of it started */
}

static void influx_stop(const struct gw_svc_ctx *x)
{
	free_one(x->cur);
}

static void influx_at_exit(const struct gw_svc_ctx *x)
{
	(void)x;
	gw_curlev_global_end();
}

static const void *influx_held(void *st, const struct conf_section *s, const char *name)
{
	const struct gw_influx *ix = st;
	(void)name;
	return s == &gw_influx_section && ix->push ? &ix->push->cfg : NULL;
}

/* One unit's point handed to put, if it has a field. */
static void point(ix_put_fn put, void *arg, const char *site, const char *unit, const struct bms_snapshot *s,
		  const struct reg_bank *rb, long long t)
{
	char buf[IX_LINE_MAX];
	struct ix_line l;
	ix_line_start(&l, buf, sizeof(buf), IX_MEASUREMENT, site, unit);
	ix_line_snapshot(&l, s, rb);
	size_t n = ix_line_end(&l, t);
	if (n)
		put(arg, buf, n);
}

/* Each string of the bank ([bank] strings) whose every member is fresh:
 * unit=string1 ... (gw_string_name), its cells' statistics across its
 * members. */
static void sample_strings(const struct gw_bank_view *v, const char *site, long long t, ix_put_fn put, void *arg)
{
	char name[32];
	for (int s = 0; s < v->nstrings; s++) {
		const struct gw_string_state *ss = &v->strings[s];
		if (!ss->fresh)
			continue;
		struct reg_bank rb = { .have_cells = ss->cell_min_at.member != 0, .min_mv = ss->cell_min_mv,
				       .max_mv = ss->cell_max_mv, .avg_mv = ss->cell_avg_mv, .no_avg = ss->cell_ext };
		gw_string_name(s, name, sizeof(name));
		point(put, arg, site, name, &ss->snap, &rb, t);
	}
}

void ix_sample(const struct gw *gw, double now, long long t, ix_put_fn put, void *arg)
{
	const char *site = gw->conf->gw.site;
	for (int i = 0; i < gw->npacks; i++) {
		const struct gw_pack *p = gw->packs[i];
		if (p->have_data && gw_pack_online_at(gw, p, now))
			point(put, arg, site, p->cfg->name, &p->snap, NULL, t);
	}
	if (!gw->conf->bank.enabled)
		return;
	const struct gw_bank_view *v = gw_bank_at(gw, now);
	if (v->bank.online > 0)
		point(put, arg, site, "bank", &v->bank.snap, &v->bank.rb, t);
	sample_strings(v, site, t, put, arg);
}

static void queue_put(void *arg, const char *line, size_t n)
{
	ix_push_queue(arg, line, n);
}

static void influx_tick(void *st, double now)
{
	struct gw_influx *ix = st;
	if (!ix->push)
		return;
	long long t;
	if (ix_sched_due(&ix->sched, now, gw_wall(), ix->push->cfg.interval, &t))
		ix_sample(ix->gw, now, t, queue_put, ix->push);
	ix_push_kick(ix->push);
}

static void influx_status_json(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct gw_influx *ix = st;
	const struct ix_push *p = ix->push;
	if (!p) {
		fputs("{\"ok\":false,\"last_error\":\"libcurl cannot start\"}", o);
		return;
	}
	fputs("{\"url\":", o);
	gw_json_str(o, p->cfg.url.text);
	fprintf(o, ",\"version\":%d,\"interval\":%g,\"ok\":%s,\"queued\":%d,\"sent\":%lu,\"dropped\":%lu,"
		"\"rejected\":%lu,\"failed\":%lu,\"last_error\":", p->cfg.version, p->cfg.interval,
		p->ok ? "true" : "false", p->len, p->sent, p->dropped, p->rejected, p->failed);
	if (p->last_error[0])
		gw_json_str(o, p->last_error);
	else
		fputs("null", o);
	fputc(',', o);
	if (p->last_success > 0)
		gw_json_utc(o, "last_success", (time_t)p->last_success);
	else
		fputs("\"last_success\":null", o);
	fputc('}', o);
}

static void influx_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct ix_push *p = ((const struct gw_influx *)st)->push;
	if (!p)
		return;
	const struct gw_prom_metric m[] = {
		{ "bmsgw_influx_up", "gauge", "1 while the last POST to InfluxDB went through (or none was tried).",
		  p->ok },
		{ "bmsgw_influx_points_queued", "gauge", "Points waiting for InfluxDB.", p->len },
		{ "bmsgw_influx_points_sent_total", "counter", "Points InfluxDB took.", (double)p->sent },
		{ "bmsgw_influx_points_dropped_total", "counter", "Points dropped from a full queue.", (double)p->dropped },
		{ "bmsgw_influx_points_rejected_total", "counter", "Points in POSTs InfluxDB refused for good (a 4xx "
		  "answer).", (double)p->rejected },
		{ "bmsgw_influx_posts_failed_total", "counter", "POSTs to InfluxDB that failed and are tried again.",
		  (double)p->failed },
		{ "bmsgw_influx_last_success_timestamp_seconds", "gauge", "Unix time of the last POST InfluxDB took "
		  "(0: none yet).", p->last_success },
	};
	gw_prom_singles(o, m, sizeof(m) / sizeof(m[0]));
}

static const struct conf_section *const sections[] = { &gw_influx_section, NULL };

const struct gw_service gw_svc_influx = {
	.name = "influx",
	.sections = sections,
	.fds = influx_fds,
	.prepare = influx_prepare,
	.commit = influx_commit,
	.discard = influx_discard,
	.stop = influx_stop,
	.at_exit = influx_at_exit,
	.held = influx_held,
	.status_json = influx_status_json,
	.metrics = influx_metrics,
	.tick = influx_tick,
};
