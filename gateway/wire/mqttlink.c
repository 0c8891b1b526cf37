/* SPDX-License-Identifier: MIT */
/* gateway/wire/mqttlink.c - the MQTT transport of a link: an mqtt-json
 * pack (port mqtt:TOPIC, made by conf/ from its topic) subscribes to its
 * topic on [mqtt]'s broker and hands every message to its owner as one
 * record (bms/jsonmap.h: BMS_MSG_MAGIC0 ...), as a CAN port hands over its
 * frames (canlink.c).
 *
 * Its own session, apart from the MQTT output's (gateway/mqtt/, a higher
 * room): client id `<client_id>-in-<pack>`, clean session, QoS 0, so that
 * the broker's retained message (if the node retains) is the first one.
 * Nothing is ever published on it: a write is dropped and logged (the
 * driver is listen only and never asks for one).  libmosquitto without
 * its thread, as the output does it: the socket an ev_io of the loop, a
 * one-second timer for mosquitto_loop_misc (keepalive) and the connect
 * timeout; the broker's name through the shared resolver; TLS with the
 * certificate checked against the configured name (core/mosqtls.c).  A
 * failure closes the link (gw_link_close): link.c reopens it after the
 * shared backoff, the outage logged once.
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/jsonmap.h"
#include "../core/acceptor.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mosqtls.h"
#include "../core/resolve.h"
#include "../core/util.h"
#include "wire_int.h"

#define ML_CONNECT_TIMEOUT 10.0 /* TCP + TLS + CONNACK + SUBACK */

/* The link's own state (l->tr_data). */
struct ml {
	struct gw_link *l;
	struct mosquitto *mosq;
	SSL_CTX *ssl;
	struct gw_lookup *lookup;
	ev_io io;
	ev_timer tick;                 /* keepalive, the connect timeout */
	double connect_by;             /* monotonic end of the connection attempt, 0 = up */
	char addr[INET6_ADDRSTRLEN];
	char client_id[CONF_ID_MAX + CONF_NAME_MAX + 8];
};

static void ml_fail(struct ml *m, const char *what, int rc)
{
	char why[300], e[260];
	gw_mosq_error(m->mosq, rc, e, sizeof(e));
	snprintf(why, sizeof(why), "mqtt %s: %s", what, e);
	gw_link_close(m->l, why);
}

static void ml_events(struct ml *m)
{
	gw_mosq_watch(m->l->env->loop, &m->io, m->mosq);
}

static void ml_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct ml *m = container_of(w, struct ml, io);
	struct gw_link *l = m->l;
	unsigned long opens = l->opens;
	int rc = mosquitto_loop_read(m->mosq, 1);
	if (l->state == GW_LINK_DOWN || l->opens != opens)
		return; /* a callback closed the link */
	if (rc == MOSQ_ERR_SUCCESS && (revents & EV_WRITE))
		rc = mosquitto_loop_write(m->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS) {
		ml_fail(m, "connection", rc);
		return;
	}
	ml_events(m);
}

static void ml_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct ml *m = container_of(w, struct ml, tick);
	if (m->connect_by && gw_mono() > m->connect_by) {
		char why[96];
		snprintf(why, sizeof(why), "mqtt: no answer (CONNACK, SUBACK) within %.0f s", ML_CONNECT_TIMEOUT);
		gw_link_close(m->l, why);
		return;
	}
	int rc = mosquitto_loop_misc(m->mosq);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
		ml_fail(m, "keepalive", rc);
		return;
	}
	ml_events(m);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	struct ml *m = obj;
	if (rc != 0) {
		char why[200];
		snprintf(why, sizeof(why), "mqtt: the broker refused the connection: %s%s", mosquitto_connack_string(rc),
			 rc == CONNACK_REFUSED_BAD_USERNAME_PASSWORD || rc == CONNACK_REFUSED_NOT_AUTHORIZED
				 ? " (check [mqtt] username and password_file)" : "");
		gw_link_close(m->l, why);
		return;
	}
	if (!m->l->cfg) {
		gw_link_close(m->l, "mqtt: the pack went away");
		return;
	}
	int src = mosquitto_subscribe(m->mosq, NULL, m->l->cfg->topic, 0);
	if (src != MOSQ_ERR_SUCCESS)
		ml_fail(m, "subscribe", src);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
			 const mosquitto_property *props)
{
	(void)mosq;
	(void)mid;
	(void)props;
	struct ml *m = obj;
	if (n < 1 || granted[0] >= 0x80) {
		gw_link_close(m->l, "mqtt: the broker refused the subscription (check its access list)");
		return;
	}
	m->connect_by = 0;
	gw_link_up(m->l);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct ml *m = obj;
	if (m->l->state == GW_LINK_DOWN)
		return;
	char why[200];
	snprintf(why, sizeof(why), "mqtt: connection lost (%s)", rc ? mosquitto_strerror(rc) : "closed");
	gw_link_close(m->l, why);
}

/* A message on the topic: to the owner, whole, as one record. */
static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct ml *m = obj;
	const struct conf_pack *cfg = m->l->cfg;
	if (m->l->state != GW_LINK_UP || !cfg || strcmp(msg->topic, cfg->topic) != 0 || msg->payloadlen < 0)
		return;
	uint8_t rec[BMS_MSG_HDR + BMS_JSON_MSG_MAX];
	size_t n = bms_msg_record(rec, sizeof(rec), msg->payload, (size_t)msg->payloadlen);
	if (n)
		gw_link_bytes(m->l, rec, n);
}

/* A fresh libmosquitto client with the session's options and callbacks. */
static int ml_client(struct ml *m)
{
	const struct conf_mqtt *c = &m->l->cfg->broker;
	if (m->mosq)
		mosquitto_reinitialise(m->mosq, m->client_id, true, m);
	else
		m->mosq = mosquitto_new(m->client_id, true, m);
	if (!m->mosq)
		return -1;
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_subscribe_v5_callback_set(m->mosq, on_subscribe);
	mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(m->mosq, on_message);
	if (c->username[0])
		mosquitto_username_pw_set(m->mosq, c->username, c->password[0] ? c->password : NULL);
	if (m->ssl) {
		mosquitto_int_option(m->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
		mosquitto_void_option(m->mosq, MOSQ_OPT_SSL_CTX, m->ssl);
	}
	return 0;
}

static int ml_setup(struct gw_link *l, const struct conf_pack *cfg)
{
	static bool lib_init;
	if (!lib_init) {
		mosquitto_lib_init();
		lib_init = true;
	}
	struct ml *m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->l = l;
	snprintf(m->client_id, sizeof(m->client_id), "%s-in-%s", cfg->broker.client_id, cfg->name);
	ev_init(&m->io, ml_io);
	ev_init(&m->tick, ml_tick);
	l->tr_data = m;
	return 0;
}

static void ml_resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_link *l = arg;
	struct ml *m = l->tr_data;
	const struct conf_mqtt *c = &l->cfg->broker;
	if (!res->ok) {
		char why[400];
		snprintf(why, sizeof(why), "mqtt: cannot resolve %s: %s", c->host, res->error);
		gw_link_close(l, why);
		return;
	}
	gw_peer_host((const struct sockaddr *)&res->addr, m->addr, sizeof(m->addr));
	l->state = GW_LINK_CONNECTING;
	if (ml_client(m) < 0) {
		gw_link_failed(l, "open", ENOMEM);
		return;
	}
	int rc = mosquitto_connect_async(m->mosq, m->addr, c->port, c->keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		ml_fail(m, "connect", rc);
		return;
	}
	m->connect_by = gw_mono() + ML_CONNECT_TIMEOUT;
	ev_timer_set(&m->tick, 1.0, 1.0);
	ev_timer_start(l->env->loop, &m->tick);
	ml_events(m);
}

static void ml_open(struct gw_link *l)
{
	struct ml *m = l->tr_data;
	const struct conf_mqtt *c = &l->cfg->broker;
	if (c->tls && !m->ssl && !(m->ssl = gw_mosq_ssl_ctx(c, "mqtt-json"))) {
		gw_link_failed(l, "TLS", EINVAL);
		return;
	}
	l->state = GW_LINK_RESOLVING;
	gw_resolve(l->env->resolver, c->host, c->port, ml_resolved, l, &m->lookup);
}

/* The session ends (a subscriber has nothing to flush). */
static void ml_close(struct gw_link *l)
{
	struct ml *m = l->tr_data;
	gw_lookup_cancel(&m->lookup);
	ev_io_stop(l->env->loop, &m->io);
	ev_timer_stop(l->env->loop, &m->tick);
	m->connect_by = 0;
	/* DISCONNECT queued (written now if the socket takes it); the socket
	 * itself closes at the next open (mosquitto_reinitialise) or with the
	 * link: this may run inside one of libmosquitto's callbacks */
	if (m->mosq && mosquitto_socket(m->mosq) >= 0)
		mosquitto_disconnect(m->mosq);
}

static int ml_write(struct gw_link *l)
{
	gw_err("link %s: an MQTT subscription is never written to: %zu bytes dropped", l->port, l->txlen - l->txoff);
	l->txlen = l->txoff = 0;
	return 0;
}

static size_t ml_drain(struct gw_link *l)
{
	(void)l;
	return 0;
}

static void ml_release(struct gw_link *l)
{
	struct ml *m = l->tr_data;
	if (!m)
		return;
	ml_close(l);
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	if (m->ssl)
		SSL_CTX_free(m->ssl);
	free(m);
	l->tr_data = NULL;
}

const struct gw_transport gw_transport_mqtt = {
	.name = "mqtt",
	.bms_link = BMS_LINK_WIRE,
	.fds = 2, /* the broker's socket, the poll timerfd */
	/* a node that publishes nothing is a silent battery: stale by age */
	.silent_reopen = 0,
	.setup = ml_setup,
	.open = ml_open,
	.close = ml_close,
	.write = ml_write,
	.drain = ml_drain,
	.release = ml_release,
};
