/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/session.c - the MQTT client's connection to the broker.
 *
 * libmosquitto without its thread: its socket is an ev_io of the daemon's
 * loop (mosquitto_loop_read / _write on readiness, mosquitto_want_write for
 * the write interest) and the daemon's tick runs mosquitto_loop_misc
 * (keepalive).  The broker's name goes through the same non-blocking
 * resolver as the links; libmosquitto only ever sees an address.  With TLS
 * the SSL_CTX is ours, so the certificate is checked against the configured
 * name (X509_VERIFY_PARAM_set1_host) during the handshake, before any
 * credential is sent.  A connection that fails or drops is tried again
 * after the shared backoff (core/retry.h), its outage logged once.
 *
 * Nothing here can delay a Modbus client: a broker that is down, refuses
 * us, or accepts TCP and never answers costs a timer; a broker that stops
 * reading is dropped after STUCK_S seconds; and a client that goes away at
 * a reload is closed without waiting for its broker (only a clean stop,
 * after the loop has ended, gives it a moment to take the offline
 * messages).
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/acceptor.h"
#include "../core/log.h"
#include "../core/mosqtls.h"
#include "../core/net.h"
#include "../core/resolve.h"
#include "../core/util.h"
#include "mqtt_int.h"

static void mq_connect(struct gw_mqtt *m);

/* Drop the connection (or attempt) and try again after the backoff; the
 * first failure of an outage is a warning, the rest debug. */
void mq_lost(struct gw_mqtt *m, const char *why)
{
	struct ev_loop *loop = m->gw->loop;
	bool was_up = m->state == MQ_UP;
	ev_io_stop(loop, &m->io);
	gw_lookup_cancel(&m->lookup);
	m->state = MQ_DOWN;
	m->queued = 0;
	m->pending = 0;
	m->stuck_since = 0;
	ev_timer_stop(loop, &m->rediscover);
	mq_bf_lost(m);
	const struct conf_mqtt *c = &m->cfg;
	snprintf(m->last_error, sizeof(m->last_error), "%s", why);
	char who[CONF_HOST_MAX + 32];
	snprintf(who, sizeof(who), "mqtt: %s:%d", c->host, c->port);
	double wait = gw_retry_failed(&m->rt, who, why);
	if (was_up)
		m->reconnects++;
	ev_timer_stop(loop, &m->retry);
	ev_timer_set(&m->retry, wait, 0.);
	ev_timer_start(loop, &m->retry);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, io);
	/* loop_read first: it also drives a TLS handshake in progress */
	int rc = MOSQ_ERR_SUCCESS;
	if (revents & (EV_READ | EV_WRITE))
		rc = mosquitto_loop_read(m->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && m->state != MQ_DOWN && (revents & EV_WRITE))
		rc = mosquitto_loop_write(m->mosq, 1);
	if (m->state == MQ_DOWN)
		return; /* on_disconnect ran */
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[300];
		gw_mosq_error(m->mosq, rc, why, sizeof(why));
		mq_lost(m, why);
		return;
	}
	if (!mosquitto_want_write(m->mosq))
		m->queued = 0;
	mq_set_events(m);
}

/* A message was written (QoS 0) or acknowledged (QoS 1). */
static void on_publish(struct mosquitto *mosq, void *obj, int mid, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	struct gw_mqtt *m = obj;
	if (m->pending)
		m->pending--;
	mq_bf_acked(m, mid);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	struct gw_mqtt *m = obj;
	const struct conf_mqtt *c = &m->cfg;
	if (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION && m->protocol == MQTT_PROTOCOL_V5) {
		gw_info("mqtt: %s:%d speaks MQTT 3.1.1 only: using that", c->host, c->port);
		m->protocol = MQTT_PROTOCOL_V311;
		mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
		m->rt.backoff = 0;
		mq_lost(m, "reconnecting with MQTT 3.1.1");
		m->rt.backoff = GW_RETRY_MIN;
		return;
	}
	if (rc != 0) {
		char why[300];
		bool auth = m->protocol == MQTT_PROTOCOL_V5 ? (rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD ||
							       rc == MQTT_RC_NOT_AUTHORIZED)
							    : (rc == CONNACK_REFUSED_BAD_USERNAME_PASSWORD ||
							       rc == CONNACK_REFUSED_NOT_AUTHORIZED);
		snprintf(why, sizeof(why), "the broker refused the connection: %s%s",
			 m->protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc),
			 auth ? " (check username and password_file)" : "");
		mq_lost(m, why);
		return;
	}
	ev_timer_stop(m->gw->loop, &m->retry);
	m->state = MQ_UP;
	m->up_since = gw_mono();
	m->connects++;
	double outage = gw_retry_up(&m->rt);
	if (outage >= 0)
		gw_info("mqtt: connected to %s:%d again after %.0f s", c->host, c->port, outage);
	else
		gw_info("mqtt: connected to %s:%d (%s, MQTT %s%s)", c->host, c->port, m->addr,
			m->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1", c->tls ? ", TLS" : "");
	if (c->discovery) {
		char sub[300];
		snprintf(sub, sizeof(sub), "%s/status", c->discovery_prefix);
		mosquitto_subscribe(m->mosq, NULL, sub, 0);
		/* retained configs of units no longer configured are cleared */
		snprintf(sub, sizeof(sub), "%s/+/+/+/config", c->discovery_prefix);
		mosquitto_subscribe(m->mosq, NULL, sub, 0);
	}
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/+/availability", c->topic_prefix);
	mosquitto_subscribe(m->mosq, NULL, sub, 0);
	if (m->old_prefix[0]) { /* the site changed: the old prefix's topics go */
		snprintf(sub, sizeof(sub), "%s/+/availability", m->old_prefix);
		mosquitto_subscribe(m->mosq, NULL, sub, 0);
		/* and its states: the old client's last publish can reach the
		 * broker after this one's clearing (two connections, no order) */
		snprintf(sub, sizeof(sub), "%s/+/state", m->old_prefix);
		mosquitto_subscribe(m->mosq, NULL, sub, 0);
		snprintf(sub, sizeof(sub), "%s/status", m->old_prefix);
		mq_clear_topic(m, sub);
		snprintf(sub, sizeof(sub), "%s/gateway", m->old_prefix);
		mq_clear_topic(m, sub);
	}
	if (c->control) {
		snprintf(sub, sizeof(sub), "%s/+/set/+", c->topic_prefix);
		if (m->protocol == MQTT_PROTOCOL_V5)
			mosquitto_subscribe_v5(m->mosq, NULL, sub, 1, MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, NULL);
		else
			mosquitto_subscribe(m->mosq, NULL, sub, 1);
	}
	m->reconcile_until = gw_mono() + RECONCILE_S;
	mq_bf_connected(m);
	mq_publish_all(m);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct gw_mqtt *m = obj;
	if (m->state == MQ_DOWN || m->stopping)
		return;
	char why[200];
	snprintf(why, sizeof(why), "connection lost (%s)", rc ? mosquitto_strerror(rc) : "closed");
	mq_lost(m, why);
}

static void rediscover_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, rediscover);
	if (m->state != MQ_UP)
		return;
	gw_info("mqtt: Home Assistant came online: discovery and states sent again");
	mq_publish_all(m);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct gw_mqtt *m = obj;
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

static void resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_mqtt *m = arg;
	const struct conf_mqtt *c = &m->cfg;
	if (!res->ok) {
		char why[400];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host, res->error);
		mq_lost(m, why);
		return;
	}
	gw_peer_host((const struct sockaddr *)&res->addr, m->addr, sizeof(m->addr));
	m->state = MQ_CONNECTING;
	int rc = mosquitto_connect_async(m->mosq, m->addr, c->port, c->keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[300];
		gw_mosq_error(m->mosq, rc, why, sizeof(why));
		mq_lost(m, why);
		return;
	}
	ev_timer_stop(m->gw->loop, &m->retry);
	ev_timer_set(&m->retry, CONNECT_TIMEOUT, 0.);
	ev_timer_start(m->gw->loop, &m->retry);
	mq_set_events(m);
}

static void mq_connect(struct gw_mqtt *m)
{
	m->state = MQ_RESOLVING;
	gw_resolve(m->gw->resolver, m->cfg.host, m->cfg.port, resolved, m, &m->lookup);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, retry);
	if (m->state == MQ_CONNECTING) {
		char why[64];
		snprintf(why, sizeof(why), "no answer (CONNACK) within %.0f s", CONNECT_TIMEOUT);
		mq_lost(m, why);
	} else if (m->state == MQ_DOWN) {
		mq_connect(m);
	}
}

/* Once a second: keepalive, a broker that takes nothing, the end of the
 * reconciliation window, then what is due to be published. */
void mq_tick(struct gw_mqtt *m)
{
	if (m->state != MQ_UP)
		return;
	int rc = mosquitto_loop_misc(m->mosq);
	if (m->state != MQ_UP)
		return;
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[300];
		gw_mosq_error(m->mosq, rc, why, sizeof(why));
		mq_lost(m, why);
		return;
	}
	if (mosquitto_want_write(m->mosq)) {
		if (!m->stuck_since)
			m->stuck_since = gw_mono();
		else if (gw_mono() - m->stuck_since > STUCK_S) {
			char why[64];
			snprintf(why, sizeof(why), "the broker has taken no data for %.0f s", STUCK_S);
			mq_lost(m, why);
			return;
		}
	} else {
		m->stuck_since = 0;
		m->queued = 0;
	}
	if (m->reconcile_until && gw_mono() > m->reconcile_until) {
		m->reconcile_until = 0;
		const struct conf_mqtt *c = &m->cfg;
		char sub[300];
		snprintf(sub, sizeof(sub), "%s/+/+/+/config", c->discovery_prefix);
		if (c->discovery)
			mosquitto_unsubscribe(m->mosq, NULL, sub);
		snprintf(sub, sizeof(sub), "%s/+/availability", c->topic_prefix);
		mosquitto_unsubscribe(m->mosq, NULL, sub);
		if (m->old_prefix[0]) {
			snprintf(sub, sizeof(sub), "%s/+/availability", m->old_prefix);
			mosquitto_unsubscribe(m->mosq, NULL, sub);
			snprintf(sub, sizeof(sub), "%s/+/state", m->old_prefix);
			mosquitto_unsubscribe(m->mosq, NULL, sub);
			m->old_prefix[0] = '\0';
		}
		m->old_gid[0] = '\0';
	}
	mq_bf_tick(m);
	mq_publish_periodic(m);
	mq_set_events(m);
}

/* A client for section c (gw->conf may still be the previous configuration
 * at a reload: nothing here reads it); it connects once started. */
struct gw_mqtt *mq_new(struct gw *gw, const struct conf_mqtt *c)
{
	static bool lib_init;
	if (!lib_init) {
		mosquitto_lib_init();
		lib_init = true;
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
	}
	struct gw_mqtt *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->gw = gw;
	m->cfg = *c;
	gw_retry_init(&m->rt);
	m->protocol = MQTT_PROTOCOL_V5;
	m->bank_avail = -1;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(m->started, sizeof(m->started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	m->mosq = mosquitto_new(c->client_id, true, m);
	if (!m->mosq) {
		gw_err("mqtt: cannot start libmosquitto: %s", strerror(errno));
		free(m);
		return NULL;
	}
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(m->mosq, on_message);
	mosquitto_publish_v5_callback_set(m->mosq, on_publish);
	char topic[300];
	snprintf(topic, sizeof(topic), "%s/status", c->topic_prefix);
	mosquitto_will_set(m->mosq, topic, 7, "offline", 1, true);
	if (c->username[0])
		mosquitto_username_pw_set(m->mosq, c->username, c->password[0] ? c->password : NULL);
	if (c->tls) {
		m->ssl = gw_mosq_ssl_ctx(c, "mqtt");
		if (!m->ssl) {
			mosquitto_destroy(m->mosq);
			free(m);
			return NULL;
		}
		mosquitto_int_option(m->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
		mosquitto_void_option(m->mosq, MOSQ_OPT_SSL_CTX, m->ssl);
	}
	ev_init(&m->io, io_cb);
	ev_init(&m->retry, retry_cb);
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
	mq_connect(m);
}

/* Give libmosquitto until `end` (monotonic) to write what is queued and
 * to have it acknowledged: QoS 1 messages beyond the broker's receive
 * maximum wait in libmosquitto for the acks of those in flight, unwritten.
 * Only at a clean stop, after the loop has ended (nothing else waits then). */
static void flush(struct gw_mqtt *m, double end)
{
	while ((mosquitto_want_write(m->mosq) || m->pending) && mosquitto_socket(m->mosq) >= 0) {
		double left = end - gw_mono();
		if (left <= 0)
			break;
		short ev = POLLIN | (mosquitto_want_write(m->mosq) ? POLLOUT : 0);
		struct pollfd pfd = { mosquitto_socket(m->mosq), ev, 0 };
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		if ((pfd.revents & POLLIN) && mosquitto_loop_read(m->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
		if ((pfd.revents & POLLOUT) && mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
	}
}

/* Queue what the broker may still take without waiting: the socket is
 * non-blocking, so this writes what the kernel accepts now and no more. */
static void write_now(struct gw_mqtt *m)
{
	for (int i = 0; i < 64 && mosquitto_want_write(m->mosq) && mosquitto_socket(m->mosq) >= 0; i++)
		if (mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
}

/* A clean stop: what was queued before, then every unit offline, confirmed
 * by the broker within STOP_S in all.  If the broker has not confirmed the
 * offline messages by then, the connection ends without a clean DISCONNECT
 * (MQTT 5: "disconnect with will message"; 3.1.1: the socket just closes),
 * so that the broker publishes the will, P/status offline. */
static void clean_disconnect(struct gw_mqtt *m)
{
	double t0 = gw_mono();
	flush(m, t0 + STOP_S / 2);
	mq_offline(m);
	double end = t0 + STOP_S;
	flush(m, end - gw_mono() < STOP_MIN_S ? gw_mono() + STOP_MIN_S : end);
	bool confirmed = !m->pending;
	if (confirmed)
		mosquitto_disconnect(m->mosq);
	else if (m->protocol == MQTT_PROTOCOL_V5)
		mosquitto_disconnect_v5(m->mosq, MQTT_RC_DISCONNECT_WITH_WILL_MSG, NULL);
	if (confirmed || m->protocol == MQTT_PROTOCOL_V5)
		flush(m, gw_mono() + 0.2);
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
	struct ev_loop *loop = m->gw->loop;
	ev_io_stop(loop, &m->io);
	ev_timer_stop(loop, &m->retry);
	ev_timer_stop(loop, &m->rediscover);
	gw_lookup_cancel(&m->lookup);
	mq_commands_cancel(m);
	mq_bf_close(m);
	if (m->state == MQ_UP) {
		m->stopping = true;
		if (clean) {
			clean_disconnect(m);
		} else {
			mq_offline(m);
			mosquitto_disconnect(m->mosq);
			write_now(m);
			gw_info("mqtt: disconnected (everything marked offline%s)",
				!mosquitto_want_write(m->mosq) ? "" : "; the broker did not take it all");
		}
	}
	mosquitto_destroy(m->mosq);
	if (m->ssl)
		SSL_CTX_free(m->ssl);
	free(m);
}
