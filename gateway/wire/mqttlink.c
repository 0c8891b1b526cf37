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
 * driver is listen only and never asks for one).  The connection is
 * core/mqttsess.c's, as the output's is: the name resolved off the loop,
 * the socket an ev_io, keepalive, TLS with the certificate checked against
 * the configured name, MQTT 5 with 3.1.1 for a broker that refuses 5, a
 * refusal's reason in the log.  The link is up once the broker granted the
 * subscription (SUBACK; CONNACK and SUBACK within GW_MQS_CONNECT_TIMEOUT).
 * A failure closes the link (gw_link_close): link.c reopens it after the
 * shared backoff, the outage logged once; the session, and the protocol
 * the broker took, are kept from one open to the next.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/jsonmap.h"
#include "../core/log.h"
#include "../core/mqttsess.h"
#include "wire_int.h"

/* The link's own state (l->tr_data). */
struct ml {
	struct gw_link *l;
	struct gw_mqs s;               /* made at the first open (its TLS files read then) */
	bool made;
	char client_id[CONF_ID_MAX + CONF_NAME_MAX + 8];
};

static void ml_connecting(void *arg)
{
	struct ml *m = arg;
	m->l->state = GW_LINK_CONNECTING;
}

/* CONNACK: the subscription (the link is up at its SUBACK). */
static void ml_up(void *arg)
{
	struct ml *m = arg;
	if (!m->l->cfg) {
		gw_mqs_fail(&m->s, "the pack went away");
		return;
	}
	int rc = mosquitto_subscribe(m->s.mosq, NULL, m->l->cfg->topic, 0);
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[200];
		snprintf(why, sizeof(why), "subscribe: %s", mosquitto_strerror(rc));
		gw_mqs_fail(&m->s, why);
		return;
	}
	gw_mqs_watch(&m->s);
}

static void ml_subscribed(void *arg, int mid, int n, const int *granted)
{
	(void)mid;
	struct ml *m = arg;
	if (n < 1 || granted[0] >= 0x80) {
		gw_mqs_fail(&m->s, "the broker refused the subscription (check its access list)");
		return;
	}
	gw_mqs_ready(&m->s);
	gw_link_up(m->l);
}

/* The session ended or could not start: the link closes and reopens after
 * its backoff. */
static void ml_down(void *arg, const char *why)
{
	struct ml *m = arg;
	if (m->l->state == GW_LINK_DOWN)
		return;
	char w[320];
	snprintf(w, sizeof(w), "mqtt: %s", why);
	gw_link_close(m->l, w);
}

/* A message on the topic: to the owner, whole, as one record. */
static void ml_message(void *arg, const struct mosquitto_message *msg)
{
	struct ml *m = arg;
	const struct conf_pack *cfg = m->l->cfg;
	if (m->l->state != GW_LINK_UP || !cfg || strcmp(msg->topic, cfg->topic) != 0 || msg->payloadlen < 0)
		return;
	uint8_t rec[BMS_MSG_HDR + BMS_JSON_MSG_MAX];
	size_t n = bms_msg_record(rec, sizeof(rec), msg->payload, (size_t)msg->payloadlen);
	if (n)
		gw_link_bytes(m->l, rec, n);
}

static const struct gw_mqs_owner ml_owner = {
	.up = ml_up,
	.down = ml_down,
	.message = ml_message,
	.connecting = ml_connecting,
	.subscribed = ml_subscribed,
};

static int ml_setup(struct gw_link *l, const struct conf_pack *cfg)
{
	struct ml *m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->l = l;
	snprintf(m->client_id, sizeof(m->client_id), "%s-in-%s", cfg->broker.client_id, cfg->name);
	l->tr_data = m;
	return 0;
}

static void ml_open(struct gw_link *l)
{
	struct ml *m = l->tr_data;
	if (!m->made) {
		char name[CONF_PORT_MAX + 8];
		snprintf(name, sizeof(name), "link %s", l->port);
		const struct gw_mqs_opts o = { .name = name, .client_id = m->client_id, .awaits = "SUBACK" };
		if (gw_mqs_init(&m->s, l->env->loop, l->env->resolver, &l->cfg->broker, &o, &ml_owner, m) < 0) {
			gw_link_failed(l, errno == EINVAL ? "TLS" : "open", errno);
			return;
		}
		m->made = true;
	}
	l->state = GW_LINK_RESOLVING;
	gw_mqs_start(&m->s);
}

/* The session ends (a subscriber has nothing to flush): DISCONNECT queued
 * (written now if the socket takes it; this may run inside one of
 * libmosquitto's callbacks), the socket closed at the next open or with
 * the link. */
static void ml_close(struct gw_link *l)
{
	struct ml *m = l->tr_data;
	if (!m->made)
		return;
	gw_mqs_stop(&m->s);
	gw_mqs_disconnect(&m->s, false);
}

static int ml_write(struct gw_link *l)
{
	gw_err("link %s: an MQTT subscription is never written to: %zu bytes dropped", l->port, l->txlen - l->txoff);
	l->txlen = l->txoff = 0;
	return 0;
}

static void ml_release(struct gw_link *l)
{
	struct ml *m = l->tr_data;
	if (!m)
		return;
	if (m->made)
		gw_mqs_free(&m->s);
	free(m);
	l->tr_data = NULL;
}

const struct gw_transport gw_transport_mqtt = {
	.name = "mqtt",
	.bms_link = BMS_LINK_WIRE,
	.messages = true,
	.fds = 2, /* the broker's socket, the poll timerfd */
	/* a node that publishes nothing is a silent battery: stale by age */
	.silent_reopen = 0,
	.setup = ml_setup,
	.open = ml_open,
	.close = ml_close,
	.write = ml_write,
	.release = ml_release,
};
