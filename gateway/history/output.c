/* SPDX-License-Identifier: MIT */
/* gateway/history/output.c - the history as the daemon sees it: its row of
 * the service table (model/service.h).
 *
 * The worker starts at commit (a reload that fails elsewhere never opened
 * the new file); a reload that changes no key of [history] keeps it as it
 * is; one that changes any (every one restarts it, conf/conf.c) stops the
 * old worker and starts a new one.
 */
#include <stdlib.h>

#include "../core/jsonw.h"
#include "../core/prom.h"
#include "history.h"
#include "../model/gw.h"

struct hist_out {
	struct gw_history *h;          /* NULL until committed */
};

static long hist_fds(const struct conf *c)
{
	return gw_history_cfg(c)->enabled ? 4 : 0; /* database, WAL, shared memory, journal */
}

static int hist_prepare(struct gw_svc_ctx *x)
{
	const struct conf_history *c = gw_history_cfg(x->nc);
	const struct hist_out *o = x->cur;
	x->next = NULL;
	if (!c->enabled)
		return 0;
	if (o && conf_section_same(&gw_history_section, CONF_RESTART, gw_history_conf(o->h), c)) {
		x->next = x->cur;
		return 0;
	}
	if (!(x->next = calloc(1, sizeof(struct hist_out)))) {
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* model/histsrc.h: the samples of the running history, for the outputs
 * that republish them */
static int src_samples(void *ctx, const char *unit, int64_t after, int64_t upto, int max, gw_hist_rows_cb cb,
		       void *arg)
{
	return gw_history_samples(ctx, unit, after, upto, max, cb, arg);
}

static void src_set(struct gw *gw, struct gw_history *h)
{
	gw->hist_src = (struct gw_hist_source){ .ctx = h, .interval = gw_history_conf(h)->interval,
						.samples = src_samples };
}

/* h no longer answers new questions (those asked still get their answer) */
static void src_clear(struct gw *gw, const struct gw_history *h)
{
	if (gw->hist_src.ctx == h)
		gw->hist_src = (struct gw_hist_source){ 0 };
}

static void hist_stop(const struct gw_svc_ctx *x)
{
	struct hist_out *o = x->cur;
	src_clear(x->gw, o->h);
	gw_history_free(o->h); /* writes what it holds first: the loop has ended */
	free(o);
}

/* The histories a reload replaced that still write (a process-wide list,
 * whether a history runs now or not). */
static void hist_at_exit(const struct gw_svc_ctx *x)
{
	(void)x;
	gw_history_reap_all();
}

static void *hist_commit(const struct gw_svc_ctx *x)
{
	struct hist_out *cur = x->cur, *o = x->next;
	if (cur && cur != o) {
		src_clear(x->gw, cur->h);
		gw_history_retire(cur->h); /* writes what it holds, off the loop */
		free(cur);
	}
	if (o && !o->h && !(o->h = gw_history_new(x->gw))) {
		free(o); /* logged: the gateway goes on without history */
		return NULL;
	}
	if (o)
		src_set(x->gw, o->h);
	return o;
}

static void hist_discard(const struct gw_svc_ctx *x)
{
	if (x->next != x->cur)
		free(x->next); /* never started */
}

static const void *hist_held(void *st, const struct conf_section *s, const char *name)
{
	(void)name;
	const struct hist_out *o = st;
	return s == &gw_history_section && o->h ? gw_history_conf(o->h) : NULL;
}

static void hist_status_json(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	struct gw_history *h = ((struct hist_out *)st)->h;
	const struct conf_history *c = gw_history_conf(h);
	struct gw_history_stats hs;
	gw_history_stats(h, &hs);
	fprintf(o, "{\"file\":");
	gw_json_str(o, hs.path);
	fprintf(o, ",\"open\":%s,\"interval\":%g,\"retention_days\":%g,\"raw_days\":%g,\"written\":%lu,"
		"\"dropped\":%lu,\"errors\":%lu,\"queued\":%zu,\"last_write_ms\":%.1f,\"last_error\":",
		hs.open ? "true" : "false", c->interval, c->retention, c->raw_days, hs.written, hs.dropped, hs.errors,
		hs.queued, hs.last_write_ms);
	if (hs.last_error[0])
		gw_json_str(o, hs.last_error);
	else
		fputs("null", o);
	fputc('}', o);
}

static void hist_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	struct gw_history_stats hs;
	gw_history_stats(((struct hist_out *)st)->h, &hs);
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_history_open", "gauge", "1 while the history database is open.", hs.open },
		{ "bmsgw_history_samples_written_total", "counter", "History samples written.", (double)hs.written },
		{ "bmsgw_history_samples_dropped_total", "counter", "History samples lost (disk full, no database).",
		  (double)hs.dropped },
		{ "bmsgw_history_queue", "gauge", "History samples waiting for the disk.", (double)hs.queued },
		{ "bmsgw_history_last_write_seconds", "gauge", "Duration of the last history write.",
		  hs.last_write_ms / 1000.0 },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
}

static const struct conf_section *const sections[] = { &gw_history_section, NULL };

const struct gw_service gw_svc_history = {
	.name = "history",
	.sections = sections,
	.fds = hist_fds,
	.prepare = hist_prepare,
	.commit = hist_commit,
	.discard = hist_discard,
	.stop = hist_stop,
	.at_exit = hist_at_exit,
	.held = hist_held,
	.status_json = hist_status_json,
	.metrics = hist_metrics,
};

struct gw_history *gw_history_of(const struct gw *gw)
{
	struct hist_out *o = gw_output_state(gw, "history");
	return o ? o->h : NULL;
}
