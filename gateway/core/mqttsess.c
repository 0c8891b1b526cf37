/* SPDX-License-Identifier: MIT */
/* gateway/core/mqttsess.c - one MQTT session on the loop (mqttsess.h).
 *
 * The state: down (between attempts; the `again` timer holds the next one),
 * resolving, connecting (TCP, TLS, CONNECT sent; `again` is the deadline),
 * up (CONNACK 0; until the owner is ready the deadline runs on).  Every
 * end of a connection or attempt goes through lost(), whoever saw it: a
 * read or write of the socket, keepalive, the deadline, a refusal, the
 * owner.  libmosquitto calls back from inside its reads, so everything
 * after a read looks at `gen` and the state before it goes on.
 */
#include "mqttsess.h"

#include <errno.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acceptor.h"
#include "clock.h"
#include "log.h"
#include "mosqtls.h"
#include "resolve.h"
#include "util.h"

static void attempt(struct gw_mqs *s);

void gw_mqs_watch(struct gw_mqs *s)
{
	if (s->stopped || (s->state != GW_MQS_CONNECTING && s->state != GW_MQS_UP))
		return;
	int fd = mosquitto_socket(s->mosq);
	if (fd < 0) {
		ev_io_stop(s->loop, &s->io);
		return;
	}
	int ev = EV_READ | (mosquitto_want_write(s->mosq) ? EV_WRITE : 0);
	if (ev_is_active(&s->io) && s->io.fd == fd && (s->io.events & (EV_READ | EV_WRITE)) == ev)
		return;
	ev_io_stop(s->loop, &s->io);
	ev_io_set(&s->io, fd, ev);
	ev_io_start(s->loop, &s->io);
}

/* The attempt or connection `gen` ended while libmosquitto had the word. */
static bool gone(const struct gw_mqs *s, unsigned long gen)
{
	return s->gen != gen || s->state == GW_MQS_DOWN || s->stopped;
}

/* Watchers off, the state down (the socket closes at the next connect). */
static void halt(struct gw_mqs *s)
{
	ev_io_stop(s->loop, &s->io);
	ev_timer_stop(s->loop, &s->again);
	ev_timer_stop(s->loop, &s->tick);
	gw_lookup_cancel(&s->lookup);
	s->state = GW_MQS_DOWN;
	s->ready = false;
	s->stuck_since = 0;
}

/* The connection or attempt ended: with retry the next one after the
 * backoff (the first failure of an outage a warning, the rest debug); the
 * owner is told last (it may stop the session). */
static void lost(struct gw_mqs *s, const char *why)
{
	bool was_up = s->state == GW_MQS_UP;
	halt(s);
	snprintf(s->last_error, sizeof(s->last_error), "%s", why);
	if (was_up)
		s->reconnects++;
	if (s->retry && !s->stopped) {
		char who[sizeof(s->name) + CONF_HOST_MAX + 16];
		snprintf(who, sizeof(who), "%s: %s:%d", s->name, s->cfg.host, s->cfg.port);
		ev_timer_set(&s->again, gw_retry_failed(&s->rt, who, why), 0.);
		ev_timer_start(s->loop, &s->again);
	}
	if (!s->stopped)
		s->ow->down(s->arg, why);
}

static void lost_rc(struct gw_mqs *s, int rc)
{
	char why[300];
	gw_mosq_error(s->mosq, rc, why, sizeof(why));
	lost(s, why);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct gw_mqs *s = container_of(w, struct gw_mqs, io);
	unsigned long gen = s->gen;
	/* a read first, whatever woke us: it also drives a TLS handshake */
	int rc = mosquitto_loop_read(s->mosq, 1);
	if (gone(s, gen))
		return; /* a callback ended it */
	if (rc == MOSQ_ERR_SUCCESS && (revents & EV_WRITE))
		rc = mosquitto_loop_write(s->mosq, 1);
	if (gone(s, gen))
		return;
	if (rc != MOSQ_ERR_SUCCESS) {
		lost_rc(s, rc);
		return;
	}
	gw_mqs_watch(s);
}

/* Once a second while connecting or up: keepalive, a broker that takes
 * nothing. */
static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqs *s = container_of(w, struct gw_mqs, tick);
	if (s->state != GW_MQS_UP)
		return;
	unsigned long gen = s->gen;
	int rc = mosquitto_loop_misc(s->mosq);
	if (gone(s, gen))
		return;
	if (rc != MOSQ_ERR_SUCCESS) {
		lost_rc(s, rc);
		return;
	}
	if (!mosquitto_want_write(s->mosq)) {
		s->stuck_since = 0;
	} else if (!s->stuck_since) {
		s->stuck_since = gw_mono();
	} else if (gw_mono() - s->stuck_since > GW_MQS_STUCK_S) {
		char why[64];
		snprintf(why, sizeof(why), "the broker has taken no data for %.0f s", GW_MQS_STUCK_S);
		lost(s, why);
		return;
	}
	gw_mqs_watch(s);
}

/* Down: the next attempt is due.  Otherwise the deadline has passed. */
static void again_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_mqs *s = container_of(w, struct gw_mqs, again);
	if (s->state == GW_MQS_DOWN) {
		attempt(s);
	} else if (s->state == GW_MQS_CONNECTING || (s->state == GW_MQS_UP && !s->ready)) {
		char why[64];
		snprintf(why, sizeof(why), "no answer (%s) within %.0f s", s->state == GW_MQS_UP ? s->awaits : "CONNACK",
			 s->timeout);
		lost(s, why);
	}
}

/* Printable ASCII of what the broker said, the rest '?', at most cap - 1. */
static void broker_text(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; in && in[n] && n + 1 < cap && n < 100; n++)
		out[n] = in[n] >= 0x20 && in[n] < 0x7f ? in[n] : '?';
	out[n] = '\0';
}

void gw_mqs_refusal(int protocol, int rc, const char *reason, char *buf, size_t cap)
{
	bool v5 = protocol == MQTT_PROTOCOL_V5;
	bool auth = v5 ? rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD || rc == MQTT_RC_NOT_AUTHORIZED
		       : rc == CONNACK_REFUSED_BAD_USERNAME_PASSWORD || rc == CONNACK_REFUSED_NOT_AUTHORIZED;
	char said[104];
	broker_text(v5 ? reason : NULL, said, sizeof(said));
	snprintf(buf, cap, "the broker refused the connection: %s%s%s%s%s",
		 v5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc), said[0] ? " (\"" : "", said,
		 said[0] ? "\")" : "", auth ? " (check [mqtt] username and password_file)" : "");
}

static void log_up(struct gw_mqs *s)
{
	const struct conf_mqtt *c = &s->cfg;
	double outage = s->retry ? gw_retry_up(&s->rt) : -1;
	if (outage >= 0)
		gw_info("%s: connected to %s:%d again after %.0f s", s->name, c->host, c->port, outage);
	else
		gw_log(s->retry || s->connects == 1 ? GW_LOG_INFO : GW_LOG_DEBUG, "%s: connected to %s:%d (%s, MQTT %s%s)",
		       s->name, c->host, c->port, s->addr, s->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1",
		       c->tls ? ", TLS" : "");
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	(void)mosq;
	(void)flags;
	struct gw_mqs *s = obj;
	if (s->state != GW_MQS_CONNECTING || s->stopped)
		return;
	if (rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION && s->protocol == MQTT_PROTOCOL_V5) {
		/* asked again at once, not an outage: the owner hears nothing */
		gw_info("%s: %s:%d speaks MQTT 3.1.1 only: using that", s->name, s->cfg.host, s->cfg.port);
		s->protocol = MQTT_PROTOCOL_V311;
		mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
		halt(s);
		ev_timer_set(&s->again, 0., 0.);
		ev_timer_start(s->loop, &s->again);
		return;
	}
	if (rc != 0) {
		char *reason = NULL, why[400];
		if (s->protocol == MQTT_PROTOCOL_V5)
			mosquitto_property_read_string(props, MQTT_PROP_REASON_STRING, &reason, false);
		gw_mqs_refusal(s->protocol, rc, reason, why, sizeof(why));
		free(reason);
		lost(s, why);
		return;
	}
	s->state = GW_MQS_UP;
	s->up_since = gw_mono();
	s->connects++;
	log_up(s);
	s->ready = !s->awaits[0];
	if (s->ready)
		ev_timer_stop(s->loop, &s->again);
	s->ow->up(s->arg);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct gw_mqs *s = obj;
	if (s->state == GW_MQS_DOWN || s->stopped)
		return;
	/* an MQTT 5 broker's DISCONNECT gives its reason code (0x80 and up);
	 * libmosquitto's own ends give its error codes (below 0x80) */
	const char *what = !rc ? "closed"
		: rc >= 0x80 && s->protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc) : mosquitto_strerror(rc);
	char why[200];
	snprintf(why, sizeof(why), "connection lost (%s)", what);
	lost(s, why);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct gw_mqs *s = obj;
	if (s->state == GW_MQS_UP && !s->stopped)
		s->ow->message(s->arg, msg);
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)rc;
	(void)props;
	struct gw_mqs *s = obj;
	if (s->ow->published)
		s->ow->published(s->arg, mid);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
			 const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	struct gw_mqs *s = obj;
	if (s->state == GW_MQS_UP && !s->stopped && s->ow->subscribed)
		s->ow->subscribed(s->arg, mid, n, granted);
}

static void resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_mqs *s = arg;
	if (!res->ok) {
		char why[400];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", s->cfg.host, res->error);
		lost(s, why);
		return;
	}
	gw_peer_host((const struct sockaddr *)&res->addr, s->addr, sizeof(s->addr));
	s->state = GW_MQS_CONNECTING;
	if (s->ow->connecting)
		s->ow->connecting(s->arg);
	int rc = mosquitto_connect_async(s->mosq, s->addr, s->cfg.port, s->cfg.keepalive);
	if (rc != MOSQ_ERR_SUCCESS) {
		lost_rc(s, rc);
		return;
	}
	ev_timer_set(&s->again, s->timeout, 0.);
	ev_timer_start(s->loop, &s->again);
	ev_timer_set(&s->tick, 1., 1.);
	ev_timer_start(s->loop, &s->tick);
	gw_mqs_watch(s);
}

static void attempt(struct gw_mqs *s)
{
	s->gen++;
	s->state = GW_MQS_RESOLVING;
	gw_resolve(s->resolver, s->cfg.host, s->cfg.port, resolved, s, &s->lookup);
}

void gw_mqs_start(struct gw_mqs *s)
{
	halt(s);
	s->stopped = false;
	attempt(s);
}

void gw_mqs_ready(struct gw_mqs *s)
{
	if (s->state != GW_MQS_UP || s->ready)
		return;
	s->ready = true;
	ev_timer_stop(s->loop, &s->again);
}

void gw_mqs_fail(struct gw_mqs *s, const char *why)
{
	if (s->state != GW_MQS_DOWN && !s->stopped)
		lost(s, why);
}

void gw_mqs_stop(struct gw_mqs *s)
{
	s->stopped = true;
	ev_io_stop(s->loop, &s->io);
	ev_timer_stop(s->loop, &s->again);
	ev_timer_stop(s->loop, &s->tick);
	gw_lookup_cancel(&s->lookup);
}

bool gw_mqs_disconnect(struct gw_mqs *s, bool will)
{
	bool open = mosquitto_socket(s->mosq) >= 0;
	s->state = GW_MQS_DOWN;
	s->ready = false;
	if (!open || (will && s->protocol != MQTT_PROTOCOL_V5))
		return false;
	if (will)
		mosquitto_disconnect_v5(s->mosq, MQTT_RC_DISCONNECT_WITH_WILL_MSG, NULL);
	else
		mosquitto_disconnect(s->mosq);
	return true;
}

bool gw_mqs_publish(struct gw_mqs *s, int *mid, const char *topic, const char *payload, size_t len, int qos,
		    bool retain, int *rc)
{
	int id = 0;
	*rc = mosquitto_publish(s->mosq, &id, topic, (int)len, payload, qos, retain);
	if (mid)
		*mid = id;
	if (*rc == MOSQ_ERR_SUCCESS)
		return true;
	/* a mid is given once the message passed libmosquitto's checks; at QoS
	 * 1 and 2 it is then queued, and only the socket can fail after */
	bool conn = *rc == MOSQ_ERR_NO_CONN || *rc == MOSQ_ERR_CONN_LOST || *rc == MOSQ_ERR_ERRNO ||
		    *rc == MOSQ_ERR_TLS;
	return qos > 0 && id != 0 && conn;
}

bool gw_mqs_write_now(struct gw_mqs *s)
{
	for (int i = 0; i < 64 && mosquitto_want_write(s->mosq) && mosquitto_socket(s->mosq) >= 0; i++)
		if (mosquitto_loop_write(s->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
	return !mosquitto_want_write(s->mosq);
}

void gw_mqs_flush(struct gw_mqs *s, double end, const unsigned *pending)
{
	while ((mosquitto_want_write(s->mosq) || (pending && *pending)) && mosquitto_socket(s->mosq) >= 0) {
		double left = end - gw_mono();
		if (left <= 0)
			break;
		short ev = POLLIN | (mosquitto_want_write(s->mosq) ? POLLOUT : 0);
		struct pollfd pfd = { mosquitto_socket(s->mosq), ev, 0 };
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		if ((pfd.revents & POLLIN) && mosquitto_loop_read(s->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
		if ((pfd.revents & POLLOUT) && mosquitto_loop_write(s->mosq, 1) != MOSQ_ERR_SUCCESS)
			break;
	}
}

/* The client and its options; 0 or -1 (logged, errno set). */
static int client(struct gw_mqs *s, const char *will_topic)
{
	const struct conf_mqtt *c = &s->cfg;
	s->mosq = mosquitto_new(s->client_id, true, s);
	if (!s->mosq) {
		gw_err("%s: cannot start libmosquitto: %s", s->name, strerror(errno));
		errno = ENOMEM;
		return -1;
	}
	mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(s->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(s->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(s->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(s->mosq, on_message);
	mosquitto_publish_v5_callback_set(s->mosq, on_publish);
	mosquitto_subscribe_v5_callback_set(s->mosq, on_subscribe);
	if (will_topic)
		mosquitto_will_set(s->mosq, will_topic, 7, "offline", 1, true);
	if (c->username[0])
		mosquitto_username_pw_set(s->mosq, c->username, c->password[0] ? c->password : NULL);
	if (c->tls) {
		s->ssl = gw_mosq_ssl_ctx(c, s->name);
		if (!s->ssl) {
			errno = EINVAL;
			return -1;
		}
		mosquitto_int_option(s->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
		mosquitto_void_option(s->mosq, MOSQ_OPT_SSL_CTX, s->ssl);
	}
	return 0;
}

int gw_mqs_init(struct gw_mqs *s, struct ev_loop *loop, struct gw_resolver *r, const struct conf_mqtt *c,
		const struct gw_mqs_opts *o, const struct gw_mqs_owner *ow, void *arg)
{
	static bool lib_init;
	if (!lib_init) {
		mosquitto_lib_init();
		lib_init = true;
	}
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->resolver = r;
	s->cfg = *c;
	snprintf(s->name, sizeof(s->name), "%s", o->name);
	snprintf(s->client_id, sizeof(s->client_id), "%s", o->client_id);
	snprintf(s->awaits, sizeof(s->awaits), "%s", o->awaits ? o->awaits : "");
	s->timeout = o->timeout > 0 ? o->timeout : GW_MQS_CONNECT_TIMEOUT;
	s->retry = o->retry;
	s->ow = ow;
	s->arg = arg;
	s->protocol = MQTT_PROTOCOL_V5;
	gw_retry_init(&s->rt);
	ev_init(&s->io, io_cb);
	ev_init(&s->again, again_cb);
	ev_init(&s->tick, tick_cb);
	if (client(s, o->will_topic) < 0) {
		int e = errno;
		gw_mqs_free(s);
		errno = e;
		return -1;
	}
	return 0;
}

void gw_mqs_free(struct gw_mqs *s)
{
	if (s->loop)
		gw_mqs_stop(s);
	if (s->mosq)
		mosquitto_destroy(s->mosq);
	if (s->ssl)
		SSL_CTX_free(s->ssl);
	s->mosq = NULL;
	s->ssl = NULL;
	explicit_bzero(s->cfg.password, sizeof(s->cfg.password));
}
