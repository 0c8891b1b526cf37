/* SPDX-License-Identifier: MIT */
/* gateway/core/mosqtls.h - what the MQTT session (mqttsess.h, which the
 * MQTT output and the mqtt-json packs' subscriptions hold) uses of TLS:
 * the context that checks the broker's certificate against the configured
 * name, and libmosquitto's errors as text. */
#ifndef GATEWAY_CORE_MOSQTLS_H
#define GATEWAY_CORE_MOSQTLS_H

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

#endif
