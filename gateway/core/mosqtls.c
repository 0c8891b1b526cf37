/* SPDX-License-Identifier: MIT */
/* gateway/core/mosqtls.c - the broker's TLS context and libmosquitto's
 * errors as text (mosqtls.h), for the MQTT session (mqttsess.c). */
#include "mosqtls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "net.h"
#include "resolve.h"

void gw_mosq_error(struct mosquitto *mosq, int rc, char *buf, size_t cap)
{
	if (rc == MOSQ_ERR_ERRNO) {
		snprintf(buf, cap, "%s", strerror(errno));
	} else if (rc == MOSQ_ERR_TLS) {
		SSL *ssl = mosquitto_ssl_get(mosq);
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

SSL_CTX *gw_mosq_ssl_ctx(const struct conf_mqtt *c, const char *who)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	int ok = c->ca_file[0] ? SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL)
			       : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		gw_err("%s: TLS: cannot load %s", who, c->ca_file[0] ? c->ca_file : "the system's CA certificates");
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
		gw_err("%s: TLS: cannot check certificates against %s", who, c->host);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (c->cert_file[0] && (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1 ||
				SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1 ||
				SSL_CTX_check_private_key(ctx) != 1)) {
		char es[256] = "?";
		ERR_error_string_n(ERR_get_error(), es, sizeof(es));
		gw_err("%s: TLS: client certificate %s / key %s: %s", who, c->cert_file, c->key_file, es);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
