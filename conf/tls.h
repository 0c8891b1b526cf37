/* SPDX-License-Identifier: MIT */
/* conf/tls.h - a server certificate chain and its key (PEM) loaded with
 * GnuTLS and checked to match: for --check and the load of [http]
 * tls_cert / tls_key, and what the HTTPS server hands each handshake. */
#ifndef CONF_TLS_H
#define CONF_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stddef.h>

#define CONF_TLS_CHAIN_MAX 8

struct conf_tls_creds {
	gnutls_pcert_st pcert[CONF_TLS_CHAIN_MAX];
	unsigned npcert;
	gnutls_privkey_t key;
	char about[200];               /* "CN=..., serial ..., valid until ..." for the log */
};

/* Load cert (a PEM chain, the server's first) and key (PEM): NULL with err
 * (naming the file, never quoting the key) when either cannot be read or
 * parsed, others may read or write the key, or the key is not the
 * certificate's. */
struct conf_tls_creds *conf_tls_load(const char *cert, const char *key, char *err, size_t errlen);
void conf_tls_free(struct conf_tls_creds *c);

#endif
