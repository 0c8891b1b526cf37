/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/mqtt.c - the MQTT output as the daemon sees it: its row of
 * the service table (model/service.h).
 *
 * A client per [mqtt] section (session.c: its session, on core/mqttsess.c; publish.c:
 * states, availability, discovery; commands.c: MOSFET commands), holding
 * its own copy of the section.  A reload that changes no key of [mqtt]
 * that restarts it (conf/conf.c: all but discovery, publish_interval,
 * cells and the name of password_file) keeps the client and its
 * connection, gives it those keys and reconciles the topics (removed units
 * cleared, new ones announced); one that changes them closes the old
 * client without waiting for its broker and starts a new one.
 */
#include <mqtt_protocol.h>
#include <string.h>

#include "../core/jsonw.h"
#include "../core/prom.h"
#include "mqtt.h"
#include "mqtt_int.h"

/* The keys of [mqtt] a running client takes from a reload (conf/conf.c's
 * CONF_LIVE ones; the others restart it): what it announces and how
 * often it publishes are reconciled by mq_reloaded(), the password file's
 * name is only a name (its password restarts it). */
static void take_live(struct conf_mqtt *held, const struct conf_mqtt *c)
{
	held->discovery = c->discovery;
	held->publish_interval = c->publish_interval;
	held->cells = c->cells;
	held->victron = c->victron;
	memcpy(held->password_file, c->password_file, sizeof(held->password_file));
	held->backfill = c->backfill;
	held->backfill_rate = c->backfill_rate;
}

static long mqtt_fds(const struct conf *c)
{
	return c->mqtt.enabled ? 1 : 0; /* the broker's socket */
}

static int mqtt_prepare(struct gw_svc_ctx *x)
{
	const struct conf_mqtt *c = &x->nc->mqtt;
	const struct gw_mqtt *m = x->cur;
	x->next = NULL;
	if (!c->enabled)
		return 0;
	if (m && conf_section_same(&conf_sect_mqtt, CONF_RESTART, &m->cfg, c)) {
		x->next = x->cur;
		return 0;
	}
	/* a new broker, or new settings for it: a client that cannot start
	 * (libmosquitto, TLS files) is logged and
	 * MQTT stays off: the gateway serves without it */
	x->next = mq_new(x->gw, c);
	return 0;
}

static void *mqtt_commit(const struct gw_svc_ctx *x)
{
	struct gw_mqtt *cur = x->cur, *next = x->next;
	if (cur && next && cur != next)
		mq_take_old_ids(next, &cur->cfg); /* a new site: the old one's topics cleared */
	if (cur && cur != next)
		mq_close(cur, false); /* removed, or another broker: no waiting */
	if (next && next != cur)
		mq_start(next);
	else if (next && x->oc) {
		bool was_on = next->cfg.backfill;
		take_live(&next->cfg, &x->nc->mqtt);
		mq_bf_reloaded(next, was_on);
		mq_slots_sync(next);
		mq_bf_sync(next);
		mq_reloaded(next, x->oc);
	}
	return next;
}

static void mqtt_discard(const struct gw_svc_ctx *x)
{
	if (x->next && x->next != x->cur)
		mq_close(x->next, false);
}

static void mqtt_stop(const struct gw_svc_ctx *x)
{
	mq_close(x->cur, x->clean);
}

static const void *mqtt_held(void *st, const struct conf_section *s, const char *name)
{
	(void)name;
	const struct gw_mqtt *m = st;
	return s == &conf_sect_mqtt ? &m->cfg : NULL;
}

/* The backfill's part: on or off, the samples owed in all and by unit,
 * those sent and acknowledged. */
static void backfill_json(const struct gw_mqtt *m, FILE *o)
{
	fprintf(o, ",\"backfill\":%s,\"backlog\":%lld,\"backlog_units\":{", m->cfg.backfill ? "true" : "false",
		(long long)mq_bf_backlog(m, -1));
	bool first = true;
	for (int i = 0; i < BF_UNITS && m->cfg.backfill; i++) {
		if (!m->bf.units[i].name[0])
			continue;
		fprintf(o, "%s", first ? "" : ",");
		gw_json_str(o, m->bf.units[i].name);
		fprintf(o, ":%lld", (long long)mq_bf_backlog(m, i));
		first = false;
	}
	fprintf(o, "},\"backfilled\":%lu", m->bf.acked_total);
}

static void mqtt_status_json(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct gw_mqtt *m = st;
	const struct conf_mqtt *c = &m->cfg;
	static const char *const states[] = { "down", "resolving", "connecting", "connected" };
	double now = gw_mono();
	fprintf(o, "{\"broker\":");
	gw_json_str(o, c->host);
	fprintf(o, ",\"port\":%d,\"tls\":%s,\"client_id\":", c->port, c->tls ? "true" : "false");
	gw_json_str(o, c->client_id);
	fprintf(o, ",\"topic_prefix\":");
	gw_json_str(o, c->topic_prefix);
	const struct gw_mqs *s = &m->sess;
	fprintf(o, ",\"state\":\"%s\",\"connected\":%s", states[s->state], mq_up(m) ? "true" : "false");
	if (mq_up(m))
		fprintf(o, ",\"connected_s\":%.0f", now - s->up_since);
	else if (s->rt.outage_logged)
		fprintf(o, ",\"down_s\":%.0f", now - s->rt.down_since);
	fprintf(o, ",\"protocol\":\"%s\",\"connects\":%lu,\"reconnects\":%lu,\"states_skipped\":%lu,"
		"\"commands\":%lu,\"last_error\":", s->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1", s->connects,
		s->reconnects, m->skipped, m->commands);
	if (s->last_error[0])
		gw_json_str(o, s->last_error);
	else
		fputs("null", o);
	backfill_json(m, o);
	fputc('}', o);
}

static void mqtt_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct gw_mqtt *m = st;
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_mqtt_connected", "gauge", "1 while connected to the MQTT broker.", mq_up(m) },
		{ "bmsgw_mqtt_connects_total", "counter", "Connections to the broker.", (double)m->sess.connects },
		{ "bmsgw_mqtt_states_skipped_total", "counter", "States not published because the broker lagged.",
		  (double)m->skipped },
		{ "bmsgw_mqtt_backlog", "gauge", "History samples owed to the broker after an outage ([mqtt] backfill).",
		  (double)mq_bf_backlog(m, -1) },
		{ "bmsgw_mqtt_backfilled_total", "counter", "History samples published after an outage and acknowledged.",
		  (double)m->bf.acked_total },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
}

static void mqtt_polled(void *st, struct gw_pack *p, bool ok)
{
	mq_polled(st, p, ok);
}

static void mqtt_tick(void *st, double now)
{
	(void)now;
	mq_tick(st);
}

const struct gw_service gw_svc_mqtt = {
	.name = "mqtt",
	.fds = mqtt_fds,
	.prepare = mqtt_prepare,
	.commit = mqtt_commit,
	.discard = mqtt_discard,
	.stop = mqtt_stop,
	.held = mqtt_held,
	.status_json = mqtt_status_json,
	.metrics = mqtt_metrics,
	.polled = mqtt_polled,
	.tick = mqtt_tick,
};
