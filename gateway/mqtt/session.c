/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/session.c - the MQTT client's session with the broker and
 * what it subscribes to and hears.
 *
 * The connection is core/mqttsess.c's (the one every libmosquitto client
 * of the daemon holds): the name resolved off the loop, the socket an
 * ev_io, keepalive, TLS with the broker's certificate checked against the
 * configured name before any credential is sent, MQTT 5 with 3.1.1 for a
 * broker that refuses 5, the refusal's reason in the log, and a reconnect
 * after the shared backoff (core/retry.h), its outage logged once.  Here:
 * the will (P/status offline), what is subscribed once connected (Home
 * Assistant's status, the retained configs and availability to reconcile,
 * the commands), what a message means, and the stop.
 *
 * Nothing here can delay a Modbus client: a broker that is down, refuses
 * us, or accepts TCP and never answers costs a timer; a broker that stops
 * reading is dropped after GW_MQS_STUCK_S seconds; and a client that goes
 * away at a reload is closed without waiting for its broker (only a clean
 * stop, after the loop has ended, gives it a moment to take the offline
 * messages).
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/util.h"
#include "mqtt_int.h"

/* The connection ended or an attempt failed (the session logged it and
 * tries again): nothing queued or in flight any more. */
static void sess_down(void *arg, const char *why)
{
	(void)why;
	struct gw_mqtt *m = arg;
	m->queued = 0;
	m->pending = 0;
	ev_timer_stop(m->gw->loop, &m->rediscover);
	mq_bf_lost(m);
}

/* A message was written (QoS 0) or acknowledged (QoS 1). */
static void sess_published(void *arg, int mid)
{
	struct gw_mqtt *m = arg;
	if (m->pending)
		m->pending--;
	mq_bf_acked(m, mid);
}

/* The site changed: the old prefix's topics go. */
static void clear_old_prefix(struct gw_mqtt *m)
{
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/+/availability", m->old_prefix);
	mosquitto_subscribe(m->sess.mosq, NULL, sub, 0);
	/* and its states: the old client's last publish can reach the
	 * broker after this one's clearing (two connections, no order) */
	snprintf(sub, sizeof(sub), "%s/+/state", m->old_prefix);
	mosquitto_subscribe(m->sess.mosq, NULL, sub, 0);
	snprintf(sub, sizeof(sub), "%s/status", m->old_prefix);
	mq_clear_topic(m, sub);
	snprintf(sub, sizeof(sub), "%s/gateway", m->old_prefix);
	mq_clear_topic(m, sub);
}

/* Connected: subscribe, then everything published again. */
static void sess_up(void *arg)
{
	struct gw_mqtt *m = arg;
	const struct conf_mqtt *c = &m->cfg;
	struct mosquitto *mosq = m->sess.mosq;
	char sub[300];
	if (c->discovery) {
		snprintf(sub, sizeof(sub), "%s/status", c->discovery_prefix);
		mosquitto_subscribe(mosq, NULL, sub, 0);
		/* retained configs of units no longer configured are cleared */
		snprintf(sub, sizeof(sub), "%s/+/+/+/config", c->discovery_prefix);
		mosquitto_subscribe(mosq, NULL, sub, 0);
	}
	snprintf(sub, sizeof(sub), "%s/+/availability", c->topic_prefix);
	mosquitto_subscribe(mosq, NULL, sub, 0);
	if (m->old_prefix[0])
		clear_old_prefix(m);
	if (c->control) {
		snprintf(sub, sizeof(sub), "%s/+/set/+", c->topic_prefix);
		if (m->sess.protocol == MQTT_PROTOCOL_V5)
			mosquitto_subscribe_v5(mosq, NULL, sub, 1, MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, NULL);
		else
			mosquitto_subscribe(mosq, NULL, sub, 1);
	}
	m->reconcile_until = gw_mono() + RECONCILE_S;
	mq_bf_connected(m);
	mq_publish_all(m);
}

static void rediscover_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, rediscover);
	if (!mq_up(m))
		return;
	gw_info("mqtt: Home Assistant came online: discovery and states sent again");
	mq_publish_all(m);
}

static void sess_message(void *arg, const struct mosquitto_message *msg)
{
	struct gw_mqtt *m = arg;
	const struct conf_mqtt *c = &m->cfg;
	char st[300];
	snprintf(st, sizeof(st), "%s/status", c->discovery_prefix);
	if (c->discovery && strcmp(msg->topic, st) == 0) {
		/* Home Assistant's birth message: resend after a short random
		 * delay, as its documentation asks (many gateways at once) */
		if (msg->payloadlen == 6 && memcmp(msg->payload, "online", 6) == 0 && !ev_is_active(&m->rediscover)) {
			ev_timer_set(&m->rediscover, 1.0 + (double)(rand() % 2000) / 1000.0, 0.);
			ev_timer_start(m->gw->loop, &m->rediscover);
		}
		return;
	}
	if (c->control && mq_command(m, msg))
		return;
	mq_reconcile(m, msg);
}

static const struct gw_mqs_owner mq_owner = {
	.up = sess_up,
	.down = sess_down,
	.message = sess_message,
	.published = sess_published,
};

/* The reconciliation window ends: what it watched is unsubscribed. */
static void reconcile_end(struct gw_mqtt *m)
{
	const struct conf_mqtt *c = &m->cfg;
	struct mosquitto *mosq = m->sess.mosq;
	char sub[300];
	m->reconcile_until = 0;
	snprintf(sub, sizeof(sub), "%s/+/+/+/config", c->discovery_prefix);
	if (c->discovery)
		mosquitto_unsubscribe(mosq, NULL, sub);
	snprintf(sub, sizeof(sub), "%s/+/availability", c->topic_prefix);
	mosquitto_unsubscribe(mosq, NULL, sub);
	if (m->old_prefix[0]) {
		snprintf(sub, sizeof(sub), "%s/+/availability", m->old_prefix);
		mosquitto_unsubscribe(mosq, NULL, sub);
		snprintf(sub, sizeof(sub), "%s/+/state", m->old_prefix);
		mosquitto_unsubscribe(mosq, NULL, sub);
		m->old_prefix[0] = '\0';
	}
	m->old_gid[0] = '\0';
}

/* Once a second (the daemon's tick): the end of the reconciliation
 * window, then what is due to be published. */
void mq_tick(struct gw_mqtt *m)
{
	if (!mq_up(m))
		return;
	if (m->reconcile_until && gw_mono() > m->reconcile_until)
		reconcile_end(m);
	mq_bf_tick(m);
	mq_publish_periodic(m);
	mq_set_events(m);
}

/* A client for section c (gw->conf may still be the previous configuration
 * at a reload: nothing here reads it); it connects once started. */
struct gw_mqtt *mq_new(struct gw *gw, const struct conf_mqtt *c)
{
	static bool seeded;
	if (!seeded) {
		seeded = true;
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
	}
	struct gw_mqtt *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->gw = gw;
	m->cfg = *c;
	m->bank_avail = -1;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(m->started, sizeof(m->started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char will[300];
	snprintf(will, sizeof(will), "%s/status", c->topic_prefix);
	const struct gw_mqs_opts o = { .name = "mqtt", .client_id = c->client_id, .retry = true, .will_topic = will };
	if (gw_mqs_init(&m->sess, gw->loop, gw->resolver, c, &o, &mq_owner, m) < 0) {
		free(m);
		return NULL;
	}
	ev_init(&m->rediscover, rediscover_cb);
	mq_bf_init(m);
	return m;
}

/* Start: slots for the packs, then the connection (gw->conf is the
 * client's configuration now). */
void mq_start(struct gw_mqtt *m)
{
	const struct conf_mqtt *c = &m->cfg;
	mq_slots_sync(m);
	mq_bf_sync(m);
	gw_info("mqtt: publishing under %s/ to %s:%d%s as %s", c->topic_prefix, c->host, c->port,
		c->tls ? " (TLS)" : "", c->client_id);
	gw_mqs_start(&m->sess);
}

/* A clean stop: what was queued before, then every unit offline, confirmed
 * by the broker within STOP_S in all.  If the broker has not confirmed the
 * offline messages by then, the connection ends without a clean DISCONNECT
 * (MQTT 5: "disconnect with will message"; 3.1.1: the socket just closes),
 * so that the broker publishes the will, P/status offline.  QoS 1 messages
 * beyond the broker's receive maximum wait in libmosquitto for the acks of
 * those in flight, unwritten: gw_mqs_flush() waits for m->pending. */
static void clean_disconnect(struct gw_mqtt *m)
{
	struct gw_mqs *s = &m->sess;
	double t0 = gw_mono();
	gw_mqs_flush(s, t0 + STOP_S / 2, &m->pending);
	mq_offline(m);
	double end = t0 + STOP_S;
	gw_mqs_flush(s, end - gw_mono() < STOP_MIN_S ? gw_mono() + STOP_MIN_S : end, &m->pending);
	bool confirmed = !m->pending;
	if (gw_mqs_disconnect(s, !confirmed))
		gw_mqs_flush(s, gw_mono() + 0.2, NULL);
	if (confirmed)
		gw_info("mqtt: disconnected (everything marked offline)");
	else
		gw_warn("mqtt: disconnected; the broker confirmed not every offline message within %.1f s: "
			"it publishes the will (%s/status offline)", STOP_S, m->cfg.topic_prefix);
}

/* Close the client and free it.  Every unit goes offline first (the will
 * is not sent on a clean disconnect).  clean (the daemon stops, the loop
 * has ended): clean_disconnect(); otherwise (a reload
 * to another broker) what the socket takes now is sent and the connection
 * closed without waiting: a broker that stopped reading costs nothing. */
void mq_close(struct gw_mqtt *m, bool clean)
{
	struct gw_mqs *s = &m->sess;
	gw_mqs_stop(s); /* still up, if it was, for the offline messages */
	ev_timer_stop(m->gw->loop, &m->rediscover);
	mq_commands_cancel(m);
	mq_bf_close(m);
	if (mq_up(m)) {
		if (clean) {
			clean_disconnect(m);
		} else {
			mq_offline(m);
			gw_mqs_disconnect(s, false);
			gw_info("mqtt: disconnected (everything marked offline%s)",
				gw_mqs_write_now(s) ? "" : "; the broker did not take it all");
		}
	}
	gw_mqs_free(s);
	free(m);
}
