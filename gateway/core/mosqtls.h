/* SPDX-License-Identifier: MIT */
/* gateway/core/mosqtls.h - what every libmosquitto client of the daemon
 * shares (the MQTT output, mqtt/session.c; the MQTT subscription of the
 * mqtt-json packs, wire/mqttlink.c): the TLS context that checks the
 * broker's certificate against the configured name, libmosquitto's
 * errors as text, and its socket's watcher. */
#ifndef GATEWAY_CORE_MOSQTLS_H
#define GATEWAY_CORE_MOSQTLS_H

#include <ev.h>
#include <mosquitto.h>
#include <openssl/ssl.h>
#include <stddef.h>

#include "../../conf/conf.h"

/* The client context of broker c (ca_file or the system's CAs, the name or
 * address c->host checked during the handshake, the client certificate);
 * NULL after logging why.  who prefixes the log ("mqtt"). */
SSL_CTX *gw_mosq_ssl_ctx(const struct conf_mqtt *c, const char *who);
/* A libmosquitto error code as text into buf: errno for MOSQ_ERR_ERRNO,
 * the certificate check or the TLS library's error for MOSQ_ERR_TLS. */
void gw_mosq_error(struct mosquitto *mosq, int rc, char *buf, size_t cap);
/* The client's socket on the loop: io watches it for reading, and for
 * writing while libmosquitto has output; stopped while it has no socket. */
void gw_mosq_watch(struct ev_loop *loop, ev_io *io, struct mosquitto *mosq);

#endif
