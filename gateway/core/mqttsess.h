/* SPDX-License-Identifier: MIT */
/* gateway/core/mqttsess.h - one MQTT session on the daemon's loop: the
 * libmosquitto client that the MQTT output (mqtt/session.c) and an mqtt-json
 * pack's subscription (wire/mqttlink.c) each hold, and everything of it
 * that is no owner's business.
 *
 * libmosquitto without its thread: the broker's name through the shared
 * non-blocking resolver (core/resolve.h; libmosquitto only ever sees an
 * address), a non-blocking connect, the socket an ev_io of the loop (read
 * always, write while libmosquitto has output), a one-second timer for
 * mosquitto_loop_misc (keepalive), the connect deadline and a broker that
 * takes no data.  TLS with our SSL_CTX (core/mosqtls.h: the certificate
 * checked against the configured name during the handshake, before any
 * credential is sent).  MQTT 5 first; a broker that answers "unsupported
 * protocol version" (a 3.1.1-only broker's CONNACK 1, which libmosquitto
 * reports as MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION) is asked again at once
 * with MQTT 3.1.1, which the session keeps.  A refusal is logged with the
 * reason the broker gave: an MQTT 5 reason code's text (and its reason
 * string, if it sent one), a 3.1.1 return code's.  The password (read
 * from password_file by conf/) goes to libmosquitto only, never to a log.
 *
 * With opts.retry the session connects again by itself after the shared
 * backoff (core/retry.h), its outage logged once when it starts and once
 * when it ends; without, it tells its owner and waits to be started
 * again (a link reopens with its own backoff, wire/link.c).
 *
 * Every field below is written here only; owners read them.
 */
#ifndef GATEWAY_CORE_MQTTSESS_H
#define GATEWAY_CORE_MQTTSESS_H

#include <ev.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "../../conf/conf.h"
#include "retry.h"

#define GW_MQS_CONNECT_TIMEOUT 10.0 /* TCP + TLS + CONNACK (+ what the owner awaits) */
#define GW_MQS_STUCK_S 30.0         /* the broker takes no data this long: the connection is dropped */

struct gw_resolver;
struct gw_lookup;

enum gw_mqs_state { GW_MQS_DOWN, GW_MQS_RESOLVING, GW_MQS_CONNECTING, GW_MQS_UP };

/* What the owner hears.  Every callback may run inside libmosquitto (in a
 * read of the socket) and may call gw_mqs_fail() or gw_mqs_stop(). */
struct gw_mqs_owner {
	/* the broker accepted the session (CONNACK 0): subscribe, publish */
	void (*up)(void *arg);
	/* a connection or an attempt ended (why: "connection lost (...)",
	 * "the broker refused the connection: ..."); not after gw_mqs_stop() */
	void (*down)(void *arg, const char *why);
	void (*message)(void *arg, const struct mosquitto_message *msg);
	/* optional: the name is resolved, the TCP connect starts */
	void (*connecting)(void *arg);
	/* optional: a message was written (QoS 0) or acknowledged (QoS 1) */
	void (*published)(void *arg, int mid);
	/* optional: SUBACK (granted: each filter's QoS or reason code) */
	void (*subscribed)(void *arg, int mid, int n, const int *granted);
};

struct gw_mqs_opts {
	const char *name;              /* the log's: "mqtt", "link mqtt:TOPIC" */
	const char *client_id;
	bool retry;                    /* connect again by itself after the backoff */
	const char *will_topic;        /* its will, "offline" retained at QoS 1; NULL: none */
	/* what the owner waits for after CONNACK before it calls
	 * gw_mqs_ready() ("SUBACK"): the connect deadline runs on until then;
	 * NULL: the session is ready at CONNACK */
	const char *awaits;
	double timeout;                /* seconds from connect to ready (0: GW_MQS_CONNECT_TIMEOUT) */
};

struct gw_mqs {
	struct ev_loop *loop;
	struct gw_resolver *resolver;
	struct conf_mqtt cfg;          /* the broker and the login (a copy: the password zeroed at free) */
	char name[CONF_PORT_MAX + 16];
	char client_id[CONF_ID_MAX + CONF_NAME_MAX + 8];
	char awaits[16];
	double timeout;
	bool retry;
	const struct gw_mqs_owner *ow;
	void *arg;
	struct mosquitto *mosq;
	SSL_CTX *ssl;
	struct gw_lookup *lookup;
	ev_io io;
	ev_timer again;                /* the next attempt: after the backoff, or at once (3.1.1) */
	ev_timer tick;                 /* 1 s: keepalive, the connect deadline, a stuck broker */
	enum gw_mqs_state state;
	bool ready;                    /* up and what the owner awaited came */
	bool stopped;                  /* gw_mqs_stop(): the owner hears nothing more */
	unsigned long gen;             /* attempts made: a callback that ended one is seen */
	int protocol;                  /* MQTT_PROTOCOL_V5, or V311 after a broker refused 5 */
	char addr[INET6_ADDRSTRLEN];   /* the address connected to */
	double connect_by;             /* monotonic deadline of the attempt until ready */
	double stuck_since;            /* libmosquitto holds output since (monotonic), 0 = none */
	double up_since;               /* monotonic, while up */
	unsigned long connects, reconnects; /* sessions accepted; connections lost after being up */
	char last_error[200];          /* why the last connection ended or failed */
	struct gw_retry rt;            /* with retry: the backoff and the outage log */
};

/* A session with broker c (copied), unstarted: the client, its options and
 * callbacks, its TLS context when c->tls.  0, or -1 after logging why
 * (errno EINVAL: the TLS files; ENOMEM: libmosquitto), nothing held. */
int gw_mqs_init(struct gw_mqs *s, struct ev_loop *loop, struct gw_resolver *r, const struct conf_mqtt *c,
		const struct gw_mqs_opts *o, const struct gw_mqs_owner *ow, void *arg);
/* Connect (again): resolve, connect, and with retry on failure again
 * after the backoff until gw_mqs_stop(). */
void gw_mqs_start(struct gw_mqs *s);
/* What the owner awaited after CONNACK came: the connect deadline ends. */
void gw_mqs_ready(struct gw_mqs *s);
/* The owner ends the connection (a refused subscription): as if it was
 * lost, the owner told `why` too. */
void gw_mqs_fail(struct gw_mqs *s, const char *why);
/* No more attempts or watchers, the owner hears nothing more.  A session
 * that was up stays connected for the owner's last messages until
 * gw_mqs_disconnect() or gw_mqs_free().  Safe inside a callback. */
void gw_mqs_stop(struct gw_mqs *s);
/* After gw_mqs_stop(): DISCONNECT queued and written if the socket takes it
 * now.  will: ask the broker to publish the will (MQTT 5: reason 0x04; 3.1.1
 * has no way but to close the socket without one, at gw_mqs_free()).
 * Returns whether a DISCONNECT was queued. */
bool gw_mqs_disconnect(struct gw_mqs *s, bool will);
/* Write what the socket takes now, without waiting; true when nothing is
 * left. */
bool gw_mqs_write_now(struct gw_mqs *s);
/* Publish on the session's client; true when libmosquitto has the message:
 * written or queued for the socket (*rc 0), or, at QoS 1 and 2, taken and
 * then met a failed connection (*rc a connection's error).  libmosquitto
 * 2.0 puts a QoS 1 or 2 message in its list of messages in flight before it
 * tries the socket, and after the reconnection sends it again with the
 * same mid: an owner that counted it unsent would send it twice.  false:
 * not taken (*rc why: a bad topic, too large, no memory).  mid: may be NULL. */
bool gw_mqs_publish(struct gw_mqs *s, int *mid, const char *topic, const char *payload, size_t len, int qos,
		    bool retain, int *rc);
/* Wait until libmosquitto has nothing to write and *pending (the owner's
 * count, lowered by its published callback) is 0, or until `end`
 * (monotonic).  It blocks: only at a clean stop, after the loop ended. */
void gw_mqs_flush(struct gw_mqs *s, double end, const unsigned *pending);
/* The socket's watcher again, after the owner queued output. */
void gw_mqs_watch(struct gw_mqs *s);
/* Stop, close, free what init took (the struct is the owner's). */
void gw_mqs_free(struct gw_mqs *s);

/* Pure: what the log says of a refused CONNECT (rc: an MQTT 5 reason code
 * when protocol is MQTT_PROTOCOL_V5, a 3.1.1 return code otherwise;
 * reason: the MQTT 5 reason string the broker sent, NULL if none; its
 * bytes outside printable ASCII are shown as '?', at most 100 of them). */
void gw_mqs_refusal(int protocol, int rc, const char *reason, char *buf, size_t cap);

#endif
