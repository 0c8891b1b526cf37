/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inverter.c - the inverter outputs as the daemon sees
 * them: their row of the service table (model/service.h).
 *
 * One running output per [inverter.NAME].  A reload keeps an output whose
 * settings did not change running as it is, without a gap in its frames or
 * answers (its source may have moved in the pack list: it follows); one
 * whose settings changed is stopped and started again, after the ones that
 * go away have let go of their ports.  Nothing is ever sent to an inverter
 * without this section.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/prom.h"
#include "inverter.h"
#include "invout.h"

/* The running outputs, and the ones a reload prepares. */
struct inv_set {
	struct inv_out *list;
};

/* What an output does, by its protocol row's kind. */
static const struct inv_kind *const kinds[] = {
	[CONF_INV_CAN] = &inv_kind_can,
	[CONF_INV_RS485] = &inv_kind_rs485,
};

/* The same output under the new section: its name, and every key that
 * restarts it (inverter_conf.c: all of them). */
static bool same_output(const struct conf_inverter *a, const struct conf_inverter *b)
{
	return strcmp(a->name, b->name) == 0 && conf_section_same(&gw_inverter_section, CONF_RESTART, a, b);
}

static long inv_fds(const struct conf *c)
{
	return 2L * gw_ninverters(c); /* the port, a serial adapter's line */
}

static void out_stop(struct inv_out *o)
{
	o->kind->stop(o);
	gw_info("inverter %s: stopped", o->cfg.name);
	free(o);
}

/* A prepared set, none of whose outputs started. */
static void free_unstarted(struct inv_set *n)
{
	for (struct inv_out *o = n ? n->list : NULL, *nx; o; o = nx) {
		nx = o->next;
		free(o);
	}
	free(n);
}

static int inv_prepare(struct gw_svc_ctx *x)
{
	const struct conf *nc = x->nc;
	x->next = NULL;
	if (!gw_ninverters(nc))
		return 0;
	struct inv_set *n = calloc(1, sizeof(*n));
	if (!n)
		goto fail;
	struct inv_out **tail = &n->list;
	for (int i = 0; i < gw_ninverters(nc); i++) {
		struct inv_out *o = calloc(1, sizeof(*o));
		if (!o)
			goto fail;
		o->gw = x->gw;
		o->cfg = *gw_inverter_cfg(nc, i); /* started at commit, unless a running one is kept */
		o->codec = inv_codec_for(&o->cfg);
		o->kind = kinds[inv_dialect_kind(o->cfg.protocol)];
		*tail = o;
		tail = &o->next;
	}
	x->next = n;
	return 0;
fail:
	free_unstarted(n);
	snprintf(x->err, x->errlen, "out of memory");
	return -1;
}

/* The running output that a prepared one replaces unchanged, or NULL. */
static struct inv_out *take_same(struct inv_set *cur, const struct conf_inverter *c)
{
	for (struct inv_out **pp = cur ? &cur->list : NULL; pp && *pp; pp = &(*pp)->next)
		if (same_output(&(*pp)->cfg, c)) {
			struct inv_out *o = *pp;
			*pp = o->next;
			o->next = NULL;
			return o;
		}
	return NULL;
}

static void *inv_commit(const struct gw_svc_ctx *x)
{
	struct inv_set *c = x->cur, *n = x->next;
	/* keep what did not change; the rest lets go of its ports first */
	for (struct inv_out **pp = n ? &n->list : NULL; pp && *pp; pp = &(*pp)->next) {
		struct inv_out *kept = take_same(c, &(*pp)->cfg);
		if (kept) {
			/* its settings stay; its source may have moved in the pack list */
			kept->cfg.source_pack = (*pp)->cfg.source_pack;
			kept->next = (*pp)->next;
			free(*pp);
			*pp = kept;
		}
	}
	while (c && c->list) {
		struct inv_out *o = c->list;
		c->list = o->next;
		out_stop(o);
	}
	free(c);
	for (struct inv_out *o = n ? n->list : NULL; o; o = o->next) {
		char err[200];
		if (o->running)
			continue; /* kept */
		if (o->kind->start(o, err, sizeof(err)) < 0)
			gw_err("%s", err);
		else
			o->running = true;
	}
	return n;
}

static void inv_discard(const struct gw_svc_ctx *x)
{
	free_unstarted(x->next);
}

static void inv_stop(const struct gw_svc_ctx *x)
{
	struct inv_set *s = x->cur;
	while (s->list) {
		struct inv_out *o = s->list;
		s->list = o->next;
		out_stop(o);
	}
	free(s);
}

static void inv_polled(void *st, struct gw_pack *p, bool ok)
{
	(void)p;
	if (!ok)
		return;
	struct inv_set *s = st;
	double now = gw_mono();
	for (struct inv_out *o = s->list; o; o = o->next)
		if (o->running && o->kind->polled)
			o->kind->polled(o, now);
}

static void inv_tick(void *st, double now)
{
	struct inv_set *s = st;
	for (struct inv_out *o = s->list; o; o = o->next)
		if (o->running)
			o->kind->tick(o, now);
}

static const void *inv_held(void *st, const struct conf_section *s, const char *name)
{
	const struct inv_set *set = st;
	for (const struct inv_out *o = set->list; s == &gw_inverter_section && name && o; o = o->next)
		if (strcmp(o->cfg.name, name) == 0)
			return &o->cfg;
	return NULL;
}

static void inv_status_json(void *st, const struct gw *gw, FILE *out)
{
	(void)gw;
	const struct inv_set *s = st;
	double now = gw_mono();
	fputc('[', out);
	for (const struct inv_out *o = s->list; o; o = o->next) {
		fprintf(out, "%s{\"name\":", o == s->list ? "" : ",");
		gw_json_str(out, o->cfg.name);
		fprintf(out, ",\"protocol\":\"%s\",\"port\":", inv_dialect_name(o->cfg.protocol));
		gw_json_str(out, o->cfg.port);
		fprintf(out, ",\"source\":");
		gw_json_str(out, o->cfg.source);
		fprintf(out, ",\"state\":\"%s\",\"inverter_seen\":%s", inv_state_name(o->state),
			o->last_seen > 0 && now - o->last_seen <= INV_SEEN_S ? "true" : "false");
		if (o->last_seen > 0)
			fprintf(out, ",\"seen_s\":%.0f", now - o->last_seen);
		if (o->stale_since > 0)
			fprintf(out, ",\"stale_s\":%.0f", now - o->stale_since);
		if (o->told.limits)
			fprintf(out, ",\"sent_ccl_a\":%.2f", o->told.ccl_a);
		if (o->told.limits && !o->told.ccl_only) /* rvc has no discharge limit */
			fprintf(out, ",\"sent_dcl_a\":%.2f", o->told.dcl_a);
		if (o->running)
			o->kind->status(o, out);
		fputc('}', out);
	}
	fputc(']', out);
}

static void inv_metrics(void *st, const struct gw *gw, FILE *out)
{
	(void)gw;
	const struct inv_set *s = st;
	double now = gw_mono();
	char lab[160];
	gw_prom_family(out, "bmsgw_inverter_state", "gauge",
		       "1 for the state the inverter output is in: down, waiting, sending, failsafe, silent or out_of_range.");
	for (const struct inv_out *o = s->list; o; o = o->next)
		for (int k = INV_DOWN; k < INV_STATES; k++) {
			fprintf(out, "bmsgw_inverter_state{inverter=");
			gw_prom_label(out, o->cfg.name);
			fprintf(out, ",state=\"%s\"}", inv_state_name((enum inv_state)k));
			gw_prom_value(out, o->state == (enum inv_state)k);
		}
	char seen[96];
	snprintf(seen, sizeof(seen), "1 when the inverter sent a frame or a request in the last %d s.", INV_SEEN_S);
	const char *const fam[][3] = {
		{ "bmsgw_inverter_sent_total", "counter", "CAN frames sent to the inverter, or RS485 answers." },
		{ "bmsgw_inverter_received_total", "counter", "CAN frames or RS485 requests from the inverter." },
		{ "bmsgw_inverter_seen", "gauge", seen },
	};
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		gw_prom_family(out, fam[f][0], fam[f][1], fam[f][2]);
		for (const struct inv_out *o = s->list; o; o = o->next) {
			double v[] = { (double)o->sent, (double)o->received,
				       o->last_seen > 0 && now - o->last_seen <= INV_SEEN_S };
			snprintf(lab, sizeof(lab), "%s{inverter=", fam[f][0]);
			fputs(lab, out);
			gw_prom_label(out, o->cfg.name);
			fprintf(out, ",protocol=\"%s\"}", inv_dialect_name(o->cfg.protocol));
			gw_prom_value(out, v[f]);
		}
	}
}

static const struct conf_section *const sections[] = { &gw_inverter_section, NULL };

const struct gw_service gw_svc_inverter = {
	.name = "inverters",
	.sections = sections,
	.fds = inv_fds,
	.prepare = inv_prepare,
	.commit = inv_commit,
	.discard = inv_discard,
	.stop = inv_stop,
	.held = inv_held,
	.status_json = inv_status_json,
	.metrics = inv_metrics,
	.polled = inv_polled,
	.tick = inv_tick,
};
