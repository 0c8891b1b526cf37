/* SPDX-License-Identifier: MIT */
/* gateway/core/mosqtls.c - the broker's TLS context and libmosquitto's
 * errors as text (mosqtls.h), for the MQTT session (mqttsess.c).  Its
 * files (ca_file, cert_file, key_file) are read by conf/rfile.c, as every
 * file bmsgw reads: never a FIFO's wait on the loop, nor another user's
 * link; OpenSSL gets their text. */
#include "mosqtls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The PEM file at path as a memory BIO (conf/rfile.c: never a FIFO's wait,
 * nor another user's link; a key private), its text in *text (free_text()). */
static BIO *pem_bio(const char *path, bool secret, char **text, size_t *n, const char *who)
{
	char why[CONF_PORT_MAX + 200];
	*n = 0;
	*text = conf_file_read(path, secret, n, why, sizeof(why));
	BIO *b = *text ? BIO_new_mem_buf(*text, (int)*n) : NULL;
	if (!*text)
		gw_err("%s: TLS: %s", who, why);
	else if (!b)
		gw_err("%s: TLS: out of memory", who);
	return b;
}

static void free_text(BIO *b, char *text, size_t n)
{
	BIO_free(b);
	if (text)
		explicit_bzero(text, n);
	free(text);
}

/* ca_file's certificates as the only ones trusted: 1, or 0 (said). */
static int load_cas(SSL_CTX *ctx, const char *path, const char *who)
{
	char *text;
	size_t n;
	BIO *b = pem_bio(path, false, &text, &n, who);
	int got = 0;
	X509 *x;
	while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		got += X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), x) == 1;
		X509_free(x);
	}
	ERR_clear_error(); /* the end of the text */
	if (b && !got)
		gw_err("%s: TLS: %s holds no PEM certificate", who, path);
	free_text(b, text, n);
	return got > 0;
}

/* The client certificate (its chain after it) and its key: 1, or 0 (said). */
static int load_client(SSL_CTX *ctx, const struct conf_mqtt *c, const char *who)
{
	char *ct = NULL, *kt = NULL;
	size_t cn = 0, kn = 0;
	BIO *cb = pem_bio(c->cert_file, false, &ct, &cn, who);
	BIO *kb = cb ? pem_bio(c->key_file, true, &kt, &kn, who) : NULL;
	if (!kb) {
		free_text(cb, ct, cn);
		free_text(NULL, kt, kn);
		return 0;
	}
	X509 *x = PEM_read_bio_X509_AUX(cb, NULL, NULL, NULL);
	int ok = x && SSL_CTX_use_certificate(ctx, x) == 1;
	X509_free(x);
	while (ok && (x = PEM_read_bio_X509(cb, NULL, NULL, NULL))) {
		ok = SSL_CTX_add0_chain_cert(ctx, x) == 1; /* taken when added */
		if (!ok)
			X509_free(x);
	}
	if (ok)
		ERR_clear_error(); /* the end of the chain */
	EVP_PKEY *k = ok ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(k);
	if (!ok) {
		char es[256] = "?";
		ERR_error_string_n(ERR_get_error(), es, sizeof(es));
		gw_err("%s: TLS: client certificate %s / key %s: %s", who, c->cert_file, c->key_file, es);
	}
	free_text(cb, ct, cn);
	free_text(kb, kt, kn);
	return ok;
}

SSL_CTX *gw_mosq_ssl_ctx(const struct conf_mqtt *c, const char *who)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	int ok = c->ca_file[0] ? load_cas(ctx, c->ca_file, who) : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		if (!c->ca_file[0])
			gw_err("%s: TLS: cannot load the system's CA certificates", who);
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
	if (c->cert_file[0] && load_client(ctx, c, who) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
