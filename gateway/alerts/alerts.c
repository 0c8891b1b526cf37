/* SPDX-License-Identifier: MIT */
/* gateway/alerts/alerts.c - the alerts output as the daemon sees it: its
 * row of the service table (model/service.h).
 *
 * One destination per [alerts.NAME] (send.c), each with its own copy of
 * its section, its queue and what it said of every unit's conditions
 * (observe.c).  A reload keeps a destination whose section is the same
 * (every key of it restarts it; the password read from its file too) and
 * starts the others afresh: a condition still true is then said again.
 * The conditions are judged once a second (the tick), after the charge
 * limits, on what the model holds; a transfer never waits on the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/curlev.h"
#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/prom.h"
#include "../model/gw.h"
#include "alerts.h"
#include "alerts_int.h"

struct gw_alerts {
	int n;
	struct al_dest *d[CONF_MAX_ALERTS];
	/* prepared, until commit: the running destination each takes over (-1: new) */
	int from[CONF_MAX_ALERTS];
	struct conf_alerts cfg[CONF_MAX_ALERTS];
};

static long alerts_fds(const struct conf *c)
{
	return 2L * gw_nalerts(c); /* a transfer's socket, and the resolver's */
}

static int alerts_prepare(struct gw_svc_ctx *x)
{
	const struct conf *c = x->nc;
	const struct gw_alerts *cur = x->cur;
	x->next = NULL;
	if (!gw_nalerts(c))
		return 0;
	if (!gw_curlev_global()) {
		gw_err("alerts: libcurl does not start: no alerts are sent");
		return 0;
	}
	struct gw_alerts *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(x->err, x->errlen, "alerts: out of memory");
		return -1;
	}
	a->n = gw_nalerts(c);
	for (int i = 0; i < a->n; i++) {
		a->cfg[i] = *gw_alerts_cfg(c, i);
		a->from[i] = -1;
		for (int j = 0; cur && j < cur->n; j++)
			if (cur->d[j] && strcmp(cur->d[j]->cfg.name, a->cfg[i].name) == 0 &&
			    conf_section_same(&gw_alerts_section, CONF_RESTART, &cur->d[j]->cfg, &a->cfg[i]))
				a->from[i] = j;
	}
	x->next = a;
	return 0;
}

static void free_all(struct gw_alerts *a)
{
	for (int i = 0; a && i < a->n; i++)
		al_dest_free(a->d[i]);
	if (a)
		explicit_bzero(a->cfg, sizeof(a->cfg));
	free(a);
}

static void *alerts_commit(const struct gw_svc_ctx *x)
{
	struct gw_alerts *cur = x->cur, *next = x->next;
	for (int i = 0; next && i < next->n; i++) {
		if (next->from[i] >= 0) {
			next->d[i] = cur->d[next->from[i]];
			cur->d[next->from[i]] = NULL;
		} else if (!(next->d[i] = al_dest_new(x->gw, &next->cfg[i])))
			gw_err("alerts.%s: libcurl cannot start it: its alerts are not sent", next->cfg[i].name);
		else
			gw_info("alerts.%s: %s on %s", next->cfg[i].name, next->cfg[i].url.text, next->cfg[i].on.text);
	}
	if (next)
		explicit_bzero(next->cfg, sizeof(next->cfg));
	free_all(cur);
	return next;
}

static void alerts_discard(const struct gw_svc_ctx *x)
{
	free_all(x->next); /* nothing of it started */
}

static void alerts_stop(const struct gw_svc_ctx *x)
{
	free_all(x->cur);
}

static void alerts_at_exit(const struct gw_svc_ctx *x)
{
	(void)x;
	gw_curlev_global_end();
}

static const void *alerts_held(void *st, const struct conf_section *s, const char *name)
{
	const struct gw_alerts *a = st;
	for (int i = 0; s == &gw_alerts_section && name && i < a->n; i++)
		if (a->d[i] && strcmp(a->d[i]->cfg.name, name) == 0)
			return &a->d[i]->cfg;
	return NULL;
}

static void alerts_status_json(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct gw_alerts *a = st;
	fputc('[', o);
	for (int i = 0, k = 0; i < a->n; i++) {
		const struct al_dest *d = a->d[i];
		if (!d)
			continue;
		fprintf(o, "%s{\"name\":", k++ ? "," : "");
		gw_json_str(o, d->cfg.name);
		fprintf(o, ",\"url\":");
		gw_json_str(o, d->cfg.url.text);
		fprintf(o, ",\"ok\":%s,\"sent\":%lu,\"failed\":%lu,\"queued\":%d,\"dropped\":%lu,\"last_error\":",
			d->ok ? "true" : "false", d->sent, d->failed, d->len, d->dropped);
		if (d->last_error[0])
			gw_json_str(o, d->last_error);
		else
			fputs("null", o);
		fputc('}', o);
	}
	fputc(']', o);
}

static void family(FILE *o, const struct gw_alerts *a, const char *name, const char *type, const char *help,
		   int which)
{
	gw_prom_family(o, name, type, help);
	for (int i = 0; i < a->n; i++) {
		const struct al_dest *d = a->d[i];
		if (!d)
			continue;
		double v = which == 0 ? d->ok : which == 1 ? (double)d->sent : which == 2 ? (double)d->failed
			 : which == 3 ? d->len : (double)d->dropped;
		fprintf(o, "%s{destination=", name);
		gw_prom_label(o, d->cfg.name);
		fputc('}', o);
		gw_prom_value(o, v);
	}
}

static void alerts_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct gw_alerts *a = st;
	family(o, a, "bmsgw_alert_destination_ok", "gauge", "1 while the last transfer to the alert destination "
	       "went through (or none was tried).", 0);
	family(o, a, "bmsgw_alerts_sent_total", "counter", "Alert messages the destination took.", 1);
	family(o, a, "bmsgw_alerts_failed_total", "counter", "Transfers to the alert destination that failed.", 2);
	family(o, a, "bmsgw_alerts_queued", "gauge", "Alert messages waiting for the destination.", 3);
	family(o, a, "bmsgw_alerts_dropped_total", "counter", "Alert messages dropped from a full queue.", 4);
}

static void alerts_tick(void *st, double now)
{
	struct gw_alerts *a = st;
	for (int i = 0; i < a->n; i++)
		if (a->d[i])
			al_observe(a->d[i], now);
}

static const struct conf_section *const sections[] = { &gw_alerts_section, NULL };

const struct gw_service gw_svc_alerts = {
	.name = "alerts",
	.sections = sections,
	.fds = alerts_fds,
	.prepare = alerts_prepare,
	.commit = alerts_commit,
	.discard = alerts_discard,
	.stop = alerts_stop,
	.at_exit = alerts_at_exit,
	.held = alerts_held,
	.status_json = alerts_status_json,
	.metrics = alerts_metrics,
	.tick = alerts_tick,
};
