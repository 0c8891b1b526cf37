/* gateway/mqtt/mqtt.c - MQTT publisher with Home Assistant discovery.
 *
 * libmosquitto without its thread: its socket is an ev_io of the daemon's
 * loop (mosquitto_loop_read / _write on readiness, mosquitto_want_write for
 * the write interest) and a 1 s ev_timer runs mosquitto_loop_misc
 * (keepalive).  The broker's name goes through the same non-blocking
 * resolver as the links; libmosquitto only ever sees an address.  With TLS
 * the SSL_CTX is ours, so the certificate is checked against the configured
 * name (X509_VERIFY_PARAM_set1_host) during the handshake, before any
 * credential is sent.
 *
 * Nothing here can delay a Modbus client: a broker that is down, refuses
 * us, or accepts TCP and never answers costs a timer.  While disconnected
 * nothing is queued; on (re)connect the latest state of every unit is
 * published.  A broker that stops reading gets at most QUEUE_MAX bytes of
 * state before states are skipped, and is dropped after STUCK_S seconds.
 *
 * Topics (P = topic_prefix; README.md "MQTT and Home Assistant"):
 *   P/status                 online / offline (will), retained
 *   P/NAME/availability      online / offline by the freshness test of
 *                            Modbus 0x0B, retained
 *   P/NAME/state             the --once JSON of the pack, retained
 *   P/bank/availability, P/bank/state     the bank unit
 *   P/gateway                the gateway's own state (JSON), retained
 *   P/NAME/set/charge_mos, P/NAME/set/discharge_mos   commands ON / OFF,
 *                            subscribed only with [mqtt] control = true
 *   P/NAME/result            the outcome of each command (JSON), not retained
 *
 * Commands go through gateway/poll/control.c like Modbus writes (allowed?
 * fresh? not busy? acknowledged? read back?).  A retained command is never
 * executed (it would be replayed at every connect) and is cleared; the
 * session is clean, so nothing queued while disconnected is replayed
 * either.  With MQTT 5 the subscription keeps the retain flag of live
 * messages (retain as published), so a command published retained is
 * refused even the first time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../poll/control.h"
#include "../ha/discovery.h"
#include "../model/gw.h"
#include "../model/json.h"
#include "../core/log.h"
#include "mqtt.h"
#include "../core/resolve.h"
#include "../modbus/server.h"
#include "../core/util.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 30.0
#define CONNECT_TIMEOUT 10.0   /* TCP + TLS + CONNACK */
#define QUEUE_MAX (256 * 1024) /* bytes queued before states are skipped */
#define STUCK_S 30.0           /* the broker takes nothing for this long: reconnect */
#define RECONCILE_S 5.0        /* how long retained configs are collected after connecting */

enum mq_state { MQ_DOWN, MQ_RESOLVING, MQ_CONNECTING, MQ_UP };

/* A command on its way through control.c. */
struct mq_cmd {
	struct gw_mqtt *m;
	struct mq_cmd *next;
	struct gw_ctl *handle;
	char unit[CONF_NAME_MAX + 1];
	char command[32];              /* charge_mos / discharge_mos */
	char payload[4];               /* ON / OFF */
};

struct gw_mqtt {
	struct gw *gw;
	struct mosquitto *mosq;
	SSL_CTX *ssl;
	enum mq_state state;
	struct gw_lookup *lookup;
	ev_io io;
	int fd;
	ev_timer retry;               /* backoff, connect timeout */
	ev_timer tick;                /* 1 s: keepalive, availability, due states */
	ev_timer rediscover;          /* Home Assistant came online: discovery again */
	double backoff;
	bool outage_logged;
	double down_since;
	int protocol;                 /* MQTT_PROTOCOL_V5, or V311 after a refusal */
	char addr[INET6_ADDRSTRLEN];
	unsigned long connects, reconnects;
	double reconcile_until;       /* collecting retained configs of removed units */
	double stuck_since;           /* output pending since, 0 = none */
	size_t queued;                /* bytes handed to libmosquitto since the socket drained */
	unsigned long skipped;        /* states not published because the broker lagged */
	int bank_avail;
	double bank_last;
	bool bank_pending;
	unsigned bank_disc_temps;
	char gw_state[512];           /* last published P/gateway */
	char started[32];
	bool stopping;                /* gw_mqtt_free() runs: a disconnect is expected */
	struct mq_cmd *cmds;          /* commands in progress */
	unsigned long commands;       /* commands received (any outcome) */
	char last_error[200];         /* why the last connection ended or failed */
	double up_since;              /* monotonic, while connected */
};

static void set_events(struct gw_mqtt *m);
static void mq_connect(struct gw_mqtt *m);
static void publish_all(struct gw_mqtt *m);

static const char *prefix(const struct gw_mqtt *m)
{
	return m->gw->conf->mqtt.topic_prefix;
}

bool gw_mqtt_connected(const struct gw_mqtt *m)
{
	return m && m->state == MQ_UP;
}

void gw_mqtt_status_json(const struct gw_mqtt *m, FILE *o)
{
	const struct conf_mqtt *c = &m->gw->conf->mqtt;
	static const char *const states[] = { "down", "resolving", "connecting", "connected" };
	double now = gw_mono();
	fprintf(o, "{\"broker\":");
	gw_json_str(o, c->host);
	fprintf(o, ",\"port\":%d,\"tls\":%s,\"client_id\":", c->port, c->tls ? "true" : "false");
	gw_json_str(o, c->client_id);
	fprintf(o, ",\"topic_prefix\":");
	gw_json_str(o, c->topic_prefix);
	fprintf(o, ",\"state\":\"%s\",\"connected\":%s", states[m->state], m->state == MQ_UP ? "true" : "false");
	if (m->state == MQ_UP)
		fprintf(o, ",\"connected_s\":%.0f", now - m->up_since);
	else if (m->outage_logged)
		fprintf(o, ",\"down_s\":%.0f", now - m->down_since);
	fprintf(o, ",\"protocol\":\"%s\",\"connects\":%lu,\"reconnects\":%lu,\"states_skipped\":%lu,"
		"\"commands\":%lu,\"last_error\":", m->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1", m->connects,
		m->reconnects, m->skipped, m->commands);
	if (m->last_error[0])
		gw_json_str(o, m->last_error);
	else
		fputs("null", o);
	fputc('}', o);
}

void gw_mqtt_counters(const struct gw_mqtt *m, struct gw_mqtt_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (!m)
		return;
	out->connected = m->state == MQ_UP;
	out->connects = m->connects;
	out->reconnects = m->reconnects;
	out->skipped = m->skipped;
	out->commands = m->commands;
}

/* ---------------------------------------------------------------- publish */

/* Publish when connected; `essential` messages (discovery, availability)
 * are always queued, states are skipped while the broker lags. */
static bool publish(struct gw_mqtt *m, const char *topic, const char *payload, bool retain, int qos, bool essential)
{
	if (m->state != MQ_UP)
		return false;
	size_t len = strlen(payload);
	if (!essential && m->queued > QUEUE_MAX) {
		m->skipped++;
		gw_debug("mqtt: %s skipped: the broker is %zu bytes behind", topic, m->queued);
		return false;
	}
	int rc = mosquitto_publish(m->mosq, NULL, topic, (int)len, payload, qos, retain);
	if (rc != MOSQ_ERR_SUCCESS) {
		gw_debug("mqtt: publish %s: %s", topic, mosquitto_strerror(rc));
		return false;
	}
	m->queued += len + strlen(topic) + 8;
	return true;
}

static void emit_config(void *ctx, const char *topic, const char *payload)
{
	publish(ctx, topic, payload, true, 1, true);
}

/* The JSON of pack p (or the bank) into a malloc'd string without its newline. */
static char *unit_json(struct gw_mqtt *m, const struct gw_pack *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	if (!o)
		return NULL;
	if (p)
		gw_pack_json(o, m->gw, p);
	else
		gw_bank_json(o, m->gw);
	if (fclose(o) != 0) {
		free(buf);
		return NULL;
	}
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

static void publish_state(struct gw_mqtt *m, struct gw_pack *p)
{
	char topic[400];
	snprintf(topic, sizeof(topic), "%s/%s/state", prefix(m), p ? p->cfg->name : "bank");
	char *js = unit_json(m, p);
	if (!js)
		return;
	if (publish(m, topic, js, true, 0, false)) {
		if (p) {
			p->mq.last_state = gw_mono();
			p->mq.state_pending = false;
		} else {
			m->bank_last = gw_mono();
			m->bank_pending = false;
		}
	}
	free(js);
}

static void publish_avail(struct gw_mqtt *m, const char *name, bool online)
{
	char topic[400];
	snprintf(topic, sizeof(topic), "%s/%s/availability", prefix(m), name);
	publish(m, topic, online ? "online" : "offline", true, 1, true);
}

/* The shape discovery announces for p: cells and temperature sensors. */
static void pack_shape(const struct gw_pack *p, unsigned *ncells, unsigned *ntemps)
{
	*ncells = p->cfg->cells > 0 ? (unsigned)p->cfg->cells : p->have_data ? p->snap.ncells : 0;
	*ntemps = p->have_data ? p->snap.ntemps : 0;
}

static unsigned bank_temps(const struct gw *gw)
{
	struct gw_bank_state bs;
	gw_bank_compute(gw, &bs);
	return bs.snap.ntemps;
}

static void discover_pack(struct gw_mqtt *m, struct gw_pack *p)
{
	const struct conf *c = m->gw->conf;
	if (!c->mqtt.discovery || m->state != MQ_UP)
		return;
	unsigned nc, nt;
	pack_shape(p, &nc, &nt);
	gw_disc_pack(c, p->cfg, nc, nt, emit_config, m);
	p->mq.disc_cells = nc;
	p->mq.disc_temps = nt;
	p->mq.disc_sent = true;
}

static void discover_all(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	const struct conf *c = gw->conf;
	if (!c->mqtt.discovery || m->state != MQ_UP)
		return;
	gw_disc_gateway(c, emit_config, m);
	if (c->bank.enabled) {
		m->bank_disc_temps = bank_temps(gw);
		gw_disc_bank(c, m->bank_disc_temps, emit_config, m);
	}
	for (int i = 0; i < gw->npacks; i++)
		discover_pack(m, gw->packs[i]);
}

static void publish_gateway(struct gw_mqtt *m, bool force)
{
	struct gw *gw = m->gw;
	char js[sizeof(m->gw_state)];
	snprintf(js, sizeof(js),
		 "{\"version\":\"%s\",\"started\":\"%s\",\"packs_online\":%d,\"packs_configured\":%d,"
		 "\"modbus_clients\":%d,\"mqtt_reconnects\":%lu,\"reloads\":%lu}",
		 BMSGW_VERSION, m->started, gw_packs_online(gw), gw->npacks, gw_server_clients(gw->server),
		 m->reconnects, gw->reloads);
	if (!force && strcmp(js, m->gw_state) == 0)
		return;
	char topic[300];
	snprintf(topic, sizeof(topic), "%s/gateway", prefix(m));
	if (publish(m, topic, js, true, 1, true))
		memcpy(m->gw_state, js, sizeof(js));
}

/* Availability follows freshness: flip it the moment it changes. */
static void update_availability(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		int on = gw_pack_online(gw, p);
		if (on != p->mq.avail) {
			publish_avail(m, p->cfg->name, on);
			if (m->state == MQ_UP)
				p->mq.avail = on;
		}
	}
	if (gw->conf->bank.enabled) {
		struct gw_unit u = { NULL, true };
		int on = gw_unit_online(gw, &u);
		if (on != m->bank_avail) {
			publish_avail(m, "bank", on);
			if (m->state == MQ_UP)
				m->bank_avail = on;
		}
	}
}

/* States that wait for publish_interval, once it is over. */
static void publish_due(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	double now = gw_mono(), iv = gw->conf->mqtt.publish_interval;
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		if (p->mq.state_pending && now - p->mq.last_state >= iv && gw_pack_online(gw, p))
			publish_state(m, p);
	}
	if (m->bank_pending && now - m->bank_last >= iv)
		publish_state(m, NULL);
}

/* Everything, after (re)connecting: the latest state, nothing piled up. */
static void publish_all(struct gw_mqtt *m)
{
	struct gw *gw = m->gw;
	char topic[300];
	snprintf(topic, sizeof(topic), "%s/status", prefix(m));
	publish(m, topic, "online", true, 1, true);
	discover_all(m);
	for (int i = 0; i < gw->npacks; i++) {
		struct gw_pack *p = gw->packs[i];
		p->mq.avail = -1;
		if (p->have_data && gw_pack_online(gw, p))
			publish_state(m, p);
	}
	m->bank_avail = -1;
	if (gw->conf->bank.enabled) {
		struct gw_unit u = { NULL, true };
		if (gw_unit_online(gw, &u))
			publish_state(m, NULL);
	}
	update_availability(m);
	publish_gateway(m, true);
	set_events(m);
}

/* ---------------------------------------------------------------- the link */

static void set_events(struct gw_mqtt *m)
{
	if (m->state != MQ_CONNECTING && m->state != MQ_UP)
		return;
	int fd = mosquitto_socket(m->mosq);
	if (fd < 0) {
		ev_io_stop(m->gw->loop, &m->io);
		m->fd = -1;
		return;
	}
	int ev = EV_READ | (mosquitto_want_write(m->mosq) ? EV_WRITE : 0);
	if (ev_is_active(&m->io) && m->fd == fd && m->io.events == ev)
		return;
	ev_io_stop(m->gw->loop, &m->io);
	ev_io_set(&m->io, fd, ev);
	ev_io_start(m->gw->loop, &m->io);
	m->fd = fd;
}

/* Drop the connection (or attempt) and try again after the backoff; the
 * first failure of an outage is a warning, the rest debug. */
static void lost(struct gw_mqtt *m, const char *why)
{
	struct ev_loop *loop = m->gw->loop;
	bool was_up = m->state == MQ_UP;
	ev_io_stop(loop, &m->io);
	m->fd = -1;
	gw_lookup_cancel(&m->lookup);
	m->state = MQ_DOWN;
	m->queued = 0;
	m->stuck_since = 0;
	ev_timer_stop(loop, &m->rediscover);
	const struct conf_mqtt *c = &m->gw->conf->mqtt;
	snprintf(m->last_error, sizeof(m->last_error), "%s", why);
	if (!m->outage_logged) {
		gw_warn("mqtt: %s:%d: %s; retrying in the background (every %.0f s at most)", c->host, c->port, why,
			BACKOFF_MAX);
		m->outage_logged = true;
		m->down_since = gw_mono();
	} else {
		gw_debug("mqtt: %s (retry in %.0f s)", why, m->backoff);
	}
	if (was_up)
		m->reconnects++;
	ev_timer_stop(loop, &m->retry);
	ev_timer_set(&m->retry, m->backoff, 0.);
	ev_timer_start(loop, &m->retry);
	m->backoff = m->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : m->backoff * 2;
}

/* A libmosquitto error code as text (errno for MOSQ_ERR_ERRNO, the
 * certificate check or the TLS library's error for MOSQ_ERR_TLS). */
static void mosq_error(struct gw_mqtt *m, int rc, char *buf, size_t cap)
{
	if (rc == MOSQ_ERR_ERRNO) {
		snprintf(buf, cap, "%s", strerror(errno));
	} else if (rc == MOSQ_ERR_TLS) {
		SSL *ssl = mosquitto_ssl_get(m->mosq);
		long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
		unsigned long e = ERR_get_error();
		char es[256] = "";
		if (vr != X509_V_OK)
			snprintf(es, sizeof(es), "the broker's certificate: %s", X509_verify_cert_error_string(vr));
		else if (e)
			ERR_error_string_n(e, es, sizeof(es));
		snprintf(buf, cap, "TLS: %s", es[0] ? es : "handshake failed");
		ERR_clear_error();
	} else {
		snprintf(buf, cap, "%s", mosquitto_strerror(rc));
	}
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
		mosq_error(m, rc, why, sizeof(why));
		lost(m, why);
		return;
	}
	if (!mosquitto_want_write(m->mosq))
		m->queued = 0;
	set_events(m);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	(void)props;
	struct gw_mqtt *m = obj;
	const struct conf_mqtt *c = &m->gw->conf->mqtt;
	if (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION && m->protocol == MQTT_PROTOCOL_V5) {
		gw_info("mqtt: %s:%d speaks MQTT 3.1.1 only: using that", c->host, c->port);
		m->protocol = MQTT_PROTOCOL_V311;
		mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
		m->backoff = 0;
		lost(m, "reconnecting with MQTT 3.1.1");
		m->backoff = BACKOFF_MIN;
		return;
	}
	if (rc != 0) {
		char why[300];
		bool auth = m->protocol == MQTT_PROTOCOL_V5 ? (rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD ||
							       rc == MQTT_RC_NOT_AUTHORIZED)
							    : (rc == 4 || rc == 5);
		snprintf(why, sizeof(why), "the broker refused the connection: %s%s",
			 m->protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc),
			 auth ? " (check username and password_file)" : "");
		lost(m, why);
		return;
	}
	ev_timer_stop(m->gw->loop, &m->retry);
	m->state = MQ_UP;
	m->up_since = gw_mono();
	m->backoff = BACKOFF_MIN;
	m->connects++;
	if (m->outage_logged)
		gw_info("mqtt: connected to %s:%d again after %.0f s", c->host, c->port, gw_mono() - m->down_since);
	else
		gw_info("mqtt: connected to %s:%d (%s, MQTT %s%s)", c->host, c->port, m->addr,
			m->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1", c->tls ? ", TLS" : "");
	m->outage_logged = false;
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
	if (c->control) {
		snprintf(sub, sizeof(sub), "%s/+/set/+", c->topic_prefix);
		if (m->protocol == MQTT_PROTOCOL_V5)
			mosquitto_subscribe_v5(m->mosq, NULL, sub, 1, MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, NULL);
		else
			mosquitto_subscribe(m->mosq, NULL, sub, 1);
	}
	m->reconcile_until = gw_mono() + RECONCILE_S;
	publish_all(m);
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
	lost(m, why);
}

/* Is `name` a unit of this configuration ("bank", "gateway" included)? */
static bool configured(const struct gw *gw, const char *name)
{
	if (strcmp(name, "gateway") == 0 || (gw->conf->bank.enabled && strcmp(name, "bank") == 0))
		return true;
	return gw_find_pack(gw, name) != NULL;
}

static void clear_topic(struct gw_mqtt *m, const char *topic)
{
	publish(m, topic, "", true, 1, true);
}

/* Does the JSON text name `id` as its via_device ("via_device" : "id",
 * blanks allowed)? */
static bool names_via(const char *js, const char *id)
{
	for (const char *p = strstr(js, "\"via_device\""); p; p = strstr(p + 1, "\"via_device\"")) {
		const char *q = p + strlen("\"via_device\"");
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		if (*q++ != ':')
			continue;
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		size_t n = strlen(id);
		if (*q == '"' && strncmp(q + 1, id, n) == 0 && q[1 + n] == '"')
			return true;
	}
	return false;
}

/* A retained config or availability of a unit this gateway no longer has:
 * clear it.  Configs are matched by the gateway id they name, so those of
 * another bmsgw on the same broker are left alone. */
static void reconcile(struct gw_mqtt *m, const struct mosquitto_message *msg)
{
	const struct conf *c = m->gw->conf;
	if (!msg->payloadlen || gw_mono() > m->reconcile_until)
		return;
	const char *t = msg->topic;
	size_t pl = strlen(c->mqtt.topic_prefix);
	if (strncmp(t, c->mqtt.topic_prefix, pl) == 0 && t[pl] == '/') {
		/* P/NAME/availability */
		char name[CONF_NAME_MAX + 1];
		const char *n = t + pl + 1, *e = strchr(n, '/');
		if (!e || (size_t)(e - n) >= sizeof(name) || strcmp(e, "/availability") != 0)
			return;
		memcpy(name, n, (size_t)(e - n));
		name[e - n] = '\0';
		if (configured(m->gw, name))
			return;
		char topic[400];
		gw_info("mqtt: clearing the retained topics of unit %s (no longer configured)", name);
		snprintf(topic, sizeof(topic), "%s/%s/availability", c->mqtt.topic_prefix, name);
		clear_topic(m, topic);
		snprintf(topic, sizeof(topic), "%s/%s/state", c->mqtt.topic_prefix, name);
		clear_topic(m, topic);
		return;
	}
	/* <discovery_prefix>/<component>/bmsgw_<cid>_<NAME>/<key>/config (a
	 * switch config of a pack that may no longer be switched is ours to
	 * clear too) */
	char gid[96], node_pfx[128];
	gw_disc_gateway_id(c, gid, sizeof(gid));
	snprintf(node_pfx, sizeof(node_pfx), "%s_", gid);
	size_t dl = strlen(c->mqtt.discovery_prefix);
	if (strncmp(t, c->mqtt.discovery_prefix, dl) != 0 || t[dl] != '/')
		return;
	const char *node = strchr(t + dl + 1, '/');
	if (!node)
		return;
	node++;
	const char *end = strchr(node, '/');
	if (!end || strncmp(node, node_pfx, strlen(node_pfx)) != 0)
		return;
	char name[CONF_NAME_MAX + 1];
	const char *n = node + strlen(node_pfx);
	if (end <= n || (size_t)(end - n) >= sizeof(name))
		return;
	memcpy(name, n, (size_t)(end - n));
	name[end - n] = '\0';
	/* ours: the payload names this gateway as its hub */
	char *payload = strndup(msg->payload, (size_t)msg->payloadlen);
	bool ours = payload && names_via(payload, gid);
	free(payload);
	if (!ours)
		return;
	if (configured(m->gw, name)) {
		size_t sl = strlen("/switch/");
		const struct gw_pack *p = gw_find_pack(m->gw, name);
		if (strncmp(t + dl, "/switch/", sl) != 0 || (p && gw_disc_control(c, p->cfg)))
			return;
		gw_debug("mqtt: clearing %s (MQTT control of %s is off)", t, name);
	} else {
		gw_debug("mqtt: clearing %s (unit %s is no longer configured)", t, name);
	}
	clear_topic(m, t);
}

static void rediscover_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, rediscover);
	if (m->state != MQ_UP)
		return;
	gw_info("mqtt: Home Assistant came online: discovery and states sent again");
	publish_all(m);
}

/* ---------------------------------------------------------------- commands */

static void publish_result(struct gw_mqtt *m, const char *unit, const char *command, const char *payload,
			   const char *result, int exception, const char *message)
{
	char *buf = NULL, topic[400];
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	if (!o)
		return;
	fprintf(o, "{\"command\":");
	gw_json_str(o, command);
	fprintf(o, ",\"payload\":");
	gw_json_str(o, payload);
	fprintf(o, ",\"result\":\"%s\",\"exception\":", result);
	if (exception)
		fprintf(o, "%d", exception);
	else
		fprintf(o, "null");
	fprintf(o, ",\"message\":");
	gw_json_str(o, message);
	fprintf(o, "}");
	if (fclose(o) == 0 && buf) {
		snprintf(topic, sizeof(topic), "%s/%s/result", prefix(m), unit);
		publish(m, topic, buf, false, 1, true);
		set_events(m);
	}
	free(buf);
}

static void cmd_done(void *ctx, int exception, const char *why)
{
	struct mq_cmd *k = ctx;
	struct gw_mqtt *m = k->m;
	for (struct mq_cmd **pp = &m->cmds; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	publish_result(m, k->unit, k->command, k->payload, exception ? "failed" : "done", exception, why);
	free(k);
}

/* Refused before anything reached the BMS: log, answer, count. */
static void cmd_refuse(struct gw_mqtt *m, const char *unit, const char *command, const char *payload, int exception,
		       const char *why)
{
	gw_warn("mqtt: command %s/%s/set/%s \"%s\" refused: %s", prefix(m), unit, command, payload, why);
	publish_result(m, unit, command, payload, "refused", exception, why);
}

/* P/NAME/set/COMMAND: is this a command topic?  Fills unit and command. */
static bool command_topic(const struct gw_mqtt *m, const char *t, char *unit, size_t ul, char *cmd, size_t cl)
{
	size_t pl = strlen(prefix(m));
	if (strncmp(t, prefix(m), pl) != 0 || t[pl] != '/')
		return false;
	const char *n = t + pl + 1, *e = strstr(n, "/set/");
	if (!e || e == n || (size_t)(e - n) >= ul || memchr(n, '/', (size_t)(e - n)))
		return false;
	const char *c = e + strlen("/set/");
	if (!*c || strchr(c, '/') || strlen(c) >= cl)
		return false;
	memcpy(unit, n, (size_t)(e - n));
	unit[e - n] = '\0';
	strcpy(cmd, c);
	return true;
}

static void on_command(struct gw_mqtt *m, const struct mosquitto_message *msg, const char *unit, const char *cmd)
{
	struct gw *gw = m->gw;
	if (msg->payloadlen == 0)
		return; /* a retained command being cleared (ours, or someone's) */
	m->commands++;
	char payload[16];
	size_t n = (size_t)msg->payloadlen < sizeof(payload) - 1 ? (size_t)msg->payloadlen : sizeof(payload) - 1;
	for (size_t i = 0; i < n; i++) {
		char ch = ((const char *)msg->payload)[i];
		payload[i] = ch >= 0x20 && ch < 0x7F ? ch : '?';
	}
	payload[n] = '\0';
	struct gw_pack *p = gw_find_pack(gw, unit);
	if (!p) {
		gw_warn("mqtt: command on %s ignored: no pack is called %s", msg->topic, unit);
		return;
	}
	if (msg->retain) {
		/* never executed: it would be replayed at every connect; cleared */
		cmd_refuse(m, unit, cmd, payload, 0x01,
			   "a retained command is never executed (it would be replayed at every connect); "
			   "it has been cleared");
		clear_topic(m, msg->topic);
		return;
	}
	int fet = strcmp(cmd, "charge_mos") == 0 ? BMS_FET_CHARGE : strcmp(cmd, "discharge_mos") == 0 ? BMS_FET_DISCHARGE : -1;
	if (fet < 0) {
		cmd_refuse(m, unit, cmd, payload, 0x02, "unknown command (expected charge_mos or discharge_mos)");
		return;
	}
	bool on;
	if (msg->payloadlen == 2 && memcmp(msg->payload, "ON", 2) == 0)
		on = true;
	else if (msg->payloadlen == 3 && memcmp(msg->payload, "OFF", 3) == 0)
		on = false;
	else {
		cmd_refuse(m, unit, cmd, payload, 0x03, "the payload must be exactly ON or OFF");
		return;
	}
	struct mq_cmd *k = calloc(1, sizeof(*k));
	if (!k) {
		cmd_refuse(m, unit, cmd, payload, 0x04, "out of memory");
		return;
	}
	k->m = m;
	snprintf(k->unit, sizeof(k->unit), "%s", unit);
	snprintf(k->command, sizeof(k->command), "%s", cmd);
	snprintf(k->payload, sizeof(k->payload), "%s", on ? "ON" : "OFF");
	bool set[2] = { false, false }, want[2] = { false, false };
	set[fet] = true;
	want[fet] = on;
	char why[200];
	int exc = gw_control_submit(gw, p, set, want, "mqtt", cmd_done, k, &k->handle, why, sizeof(why));
	if (exc) {
		/* control.c logged it */
		publish_result(m, unit, cmd, k->payload, "refused", exc, why);
		free(k);
		return;
	}
	k->next = m->cmds;
	m->cmds = k;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct gw_mqtt *m = obj;
	const struct conf_mqtt *c = &m->gw->conf->mqtt;
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
	char unit[CONF_NAME_MAX + 1], cmd[32];
	if (c->control && command_topic(m, msg->topic, unit, sizeof(unit), cmd, sizeof(cmd))) {
		on_command(m, msg, unit, cmd);
		return;
	}
	reconcile(m, msg);
}

/* ---------------------------------------------------------------- connect */

static SSL_CTX *make_ssl(const struct conf_mqtt *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	int ok = c->ca_file[0] ? SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL)
			       : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		gw_err("mqtt: TLS: cannot load %s", c->ca_file[0] ? c->ca_file : "the system's CA certificates");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* the broker's certificate must name the host of the configuration */
	X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
	struct sockaddr_storage ss;
	socklen_t sl;
	if (gw_numeric_addr(c->host, c->port, &ss, &sl))
		ok = X509_VERIFY_PARAM_set1_ip_asc(vp, c->host);
	else
		ok = X509_VERIFY_PARAM_set1_host(vp, c->host, 0);
	if (ok != 1) {
		gw_err("mqtt: TLS: cannot check certificates against %s", c->host);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (c->cert_file[0] && (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1 ||
				SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1 ||
				SSL_CTX_check_private_key(ctx) != 1)) {
		char es[256] = "?";
		ERR_error_string_n(ERR_get_error(), es, sizeof(es));
		gw_err("mqtt: TLS: client certificate %s / key %s: %s", c->cert_file, c->key_file, es);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_mqtt *m = arg;
	const struct conf_mqtt *c = &m->gw->conf->mqtt;
	if (!res->ok) {
		char why[400];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->host, res->error);
		lost(m, why);
		return;
	}
	const void *a = res->addr.ss_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)&res->addr)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)&res->addr)->sin_addr;
	inet_ntop(res->addr.ss_family, a, m->addr, sizeof(m->addr));
	m->state = MQ_CONNECTING;
	int rc = mosquitto_connect_async(m->mosq, m->addr, c->port, c->keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[300];
		mosq_error(m, rc, why, sizeof(why));
		lost(m, why);
		return;
	}
	ev_timer_stop(m->gw->loop, &m->retry);
	ev_timer_set(&m->retry, CONNECT_TIMEOUT, 0.);
	ev_timer_start(m->gw->loop, &m->retry);
	set_events(m);
}

static void mq_connect(struct gw_mqtt *m)
{
	m->state = MQ_RESOLVING;
	gw_resolve(m->gw->resolver, m->gw->conf->mqtt.host, m->gw->conf->mqtt.port, resolved, m, &m->lookup);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, retry);
	if (m->state == MQ_CONNECTING)
		lost(m, "no answer (CONNACK) within 10 s");
	else if (m->state == MQ_DOWN)
		mq_connect(m);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqtt *m = container_of(w, struct gw_mqtt, tick);
	if (m->state != MQ_UP)
		return;
	int rc = mosquitto_loop_misc(m->mosq);
	if (m->state != MQ_UP)
		return;
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[300];
		mosq_error(m, rc, why, sizeof(why));
		lost(m, why);
		return;
	}
	if (mosquitto_want_write(m->mosq)) {
		if (!m->stuck_since)
			m->stuck_since = gw_mono();
		else if (gw_mono() - m->stuck_since > STUCK_S) {
			lost(m, "the broker has taken no data for 30 s");
			return;
		}
	} else {
		m->stuck_since = 0;
		m->queued = 0;
	}
	if (m->reconcile_until && gw_mono() > m->reconcile_until) {
		m->reconcile_until = 0;
		const struct conf_mqtt *c = &m->gw->conf->mqtt;
		char sub[300];
		snprintf(sub, sizeof(sub), "%s/+/+/+/config", c->discovery_prefix);
		if (c->discovery)
			mosquitto_unsubscribe(m->mosq, NULL, sub);
		snprintf(sub, sizeof(sub), "%s/+/availability", c->topic_prefix);
		mosquitto_unsubscribe(m->mosq, NULL, sub);
	}
	update_availability(m);
	publish_due(m);
	publish_gateway(m, false);
	set_events(m);
}

struct gw_mqtt *gw_mqtt_new(struct gw *gw)
{
	const struct conf_mqtt *c = &gw->conf->mqtt;
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
	m->fd = -1;
	m->backoff = BACKOFF_MIN;
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
	char topic[300];
	snprintf(topic, sizeof(topic), "%s/status", c->topic_prefix);
	mosquitto_will_set(m->mosq, topic, 7, "offline", 1, true);
	if (c->username[0])
		mosquitto_username_pw_set(m->mosq, c->username, c->password[0] ? c->password : NULL);
	if (c->tls) {
		m->ssl = make_ssl(c);
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
	ev_timer_init(&m->tick, tick_cb, 1.0, 1.0);
	ev_timer_start(gw->loop, &m->tick);
	for (int i = 0; i < gw->npacks; i++)
		gw->packs[i]->mq.avail = -1;
	gw_info("mqtt: publishing under %s/ to %s:%d%s as %s", c->topic_prefix, c->host, c->port,
		c->tls ? " (TLS)" : "", c->client_id);
	mq_connect(m);
	return m;
}

/* ---------------------------------------------------------------- polls */

void gw_mqtt_polled(struct gw_mqtt *m, struct gw_pack *p, bool ok)
{
	struct gw *gw = m->gw;
	if (ok) {
		double now = gw_mono(), iv = gw->conf->mqtt.publish_interval;
		if (m->state != MQ_UP || now - p->mq.last_state < iv)
			p->mq.state_pending = true;
		else
			publish_state(m, p);
		unsigned nc, nt;
		pack_shape(p, &nc, &nt);
		if (m->state == MQ_UP && p->mq.disc_sent && (nc != p->mq.disc_cells || nt != p->mq.disc_temps))
			discover_pack(m, p); /* the pack showed its cells / sensors */
		const struct conf_bank *b = &gw->conf->bank;
		for (int k = 0; b->enabled && k < b->npacks; k++)
			if (gw->packs[b->pack_idx[k]] == p) {
				if (m->state != MQ_UP || now - m->bank_last < iv)
					m->bank_pending = true;
				else
					publish_state(m, NULL);
				if (m->state == MQ_UP && bank_temps(gw) != m->bank_disc_temps) {
					m->bank_disc_temps = bank_temps(gw);
					gw_disc_bank(gw->conf, m->bank_disc_temps, emit_config, m);
				}
			}
	}
	update_availability(m);
	set_events(m);
}

/* ---------------------------------------------------------------- reload */

static bool same_broker(const struct conf_mqtt *a, const struct conf_mqtt *b)
{
	return strcmp(a->host, b->host) == 0 && a->port == b->port && strcmp(a->client_id, b->client_id) == 0 &&
	       strcmp(a->username, b->username) == 0 && strcmp(a->password, b->password) == 0 &&
	       a->tls == b->tls && strcmp(a->ca_file, b->ca_file) == 0 && strcmp(a->cert_file, b->cert_file) == 0 &&
	       strcmp(a->key_file, b->key_file) == 0 && strcmp(a->topic_prefix, b->topic_prefix) == 0 &&
	       strcmp(a->discovery_prefix, b->discovery_prefix) == 0 && a->keepalive == b->keepalive &&
	       a->control == b->control; /* the command subscription */
}

/* The configs and retained topics of a unit that is gone. */
static void clear_unit(struct gw_mqtt *m, const struct conf *oc, const char *name)
{
	char topic[400];
	if (oc->mqtt.discovery)
		gw_disc_clear(oc, name, emit_config, m);
	snprintf(topic, sizeof(topic), "%s/%s/availability", prefix(m), name);
	clear_topic(m, topic);
	snprintf(topic, sizeof(topic), "%s/%s/state", prefix(m), name);
	clear_topic(m, topic);
}

bool gw_mqtt_reload(struct gw_mqtt *m, const struct conf *oc)
{
	struct gw *gw = m->gw;
	if (!same_broker(&oc->mqtt, &gw->conf->mqtt))
		return false;
	for (int i = 0; i < oc->npacks; i++)
		if (!configured(gw, oc->packs[i].name)) {
			gw_info("mqtt: pack %s removed: its entities and topics are cleared", oc->packs[i].name);
			clear_unit(m, oc, oc->packs[i].name);
		}
	if (oc->bank.enabled && !gw->conf->bank.enabled)
		clear_unit(m, oc, "bank");
	for (int i = 0; i < oc->npacks; i++) {
		const struct gw_pack *p = gw_find_pack(gw, oc->packs[i].name);
		if (p && oc->mqtt.discovery && gw_disc_control(oc, &oc->packs[i]) && !gw_disc_control(gw->conf, p->cfg))
			gw_disc_clear_switches(oc, p->cfg->name, emit_config, m);
	}
	if (m->state == MQ_UP)
		publish_all(m); /* new packs, new shapes, new settings (cells, names) */
	return true;
}

/* ---------------------------------------------------------------- stop */

/* Give libmosquitto up to `budget` seconds to write what is queued. */
static void flush(struct gw_mqtt *m, double budget)
{
	double end = gw_mono() + budget;
	while (mosquitto_want_write(m->mosq) && mosquitto_socket(m->mosq) >= 0) {
		double left = end - gw_mono();
		if (left <= 0)
			break;
		struct pollfd pfd = { mosquitto_socket(m->mosq), POLLIN | POLLOUT, 0 };
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		if ((pfd.revents & POLLIN) && mosquitto_loop_read(m->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
		if ((pfd.revents & POLLOUT) && mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
	}
}

void gw_mqtt_free(struct gw_mqtt *m)
{
	if (!m)
		return;
	struct gw *gw = m->gw;
	struct ev_loop *loop = gw->loop;
	ev_io_stop(loop, &m->io);
	ev_timer_stop(loop, &m->retry);
	ev_timer_stop(loop, &m->tick);
	ev_timer_stop(loop, &m->rediscover);
	gw_lookup_cancel(&m->lookup);
	while (m->cmds) {
		/* the commands go on; their outcome is only logged */
		struct mq_cmd *k = m->cmds;
		m->cmds = k->next;
		gw_control_cancel(&k->handle);
		free(k);
	}
	if (m->state == MQ_UP) {
		/* a clean stop: the will is not sent, so say it ourselves */
		for (int i = 0; i < gw->npacks; i++)
			publish_avail(m, gw->packs[i]->cfg->name, false);
		if (gw->conf->bank.enabled)
			publish_avail(m, "bank", false);
		char topic[300];
		snprintf(topic, sizeof(topic), "%s/status", prefix(m));
		publish(m, topic, "offline", true, 1, true);
		m->stopping = true;
		flush(m, 1.0);
		mosquitto_disconnect(m->mosq);
		flush(m, 0.2);
		gw_info("mqtt: disconnected (everything marked offline)");
	}
	mosquitto_destroy(m->mosq);
	if (m->ssl)
		SSL_CTX_free(m->ssl);
	free(m);
}

/* ---------------------------------------------------------------- --mqtt-dump */

static void emit_print(void *ctx, const char *topic, const char *payload)
{
	fprintf(ctx, "%s %s\n", topic, payload);
}

void gw_mqtt_dump(struct gw *gw, FILE *out)
{
	const struct conf *c = gw->conf;
	if (!c->mqtt.discovery) {
		fprintf(out, "# discovery = false: no discovery configs are published\n");
		return;
	}
	gw_disc_gateway(c, emit_print, out);
	if (c->bank.enabled)
		gw_disc_bank(c, bank_temps(gw), emit_print, out);
	for (int i = 0; i < gw->npacks; i++) {
		unsigned nc, nt;
		pack_shape(gw->packs[i], &nc, &nt);
		if (!gw->packs[i]->have_data)
			fprintf(out, "# pack %s did not answer: its cell and temperature sensors appear after its "
				     "first poll\n", gw->packs[i]->cfg->name);
		gw_disc_pack(c, gw->packs[i]->cfg, nc, nt, emit_print, out);
	}
}
