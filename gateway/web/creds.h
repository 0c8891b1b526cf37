/* SPDX-License-Identifier: MIT */
/* gateway/web/creds.h - the HTTPS server's certificate chain and its key
 * (PEM) loaded with GnuTLS and checked to match: for the load of [http]
 * tls_cert / tls_key (and --check's, [http]'s check in http_conf.c), and what
 * the HTTPS server hands each handshake (tls.c). */
#ifndef GATEWAY_WEB_CREDS_H
#define GATEWAY_WEB_CREDS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stddef.h>

#include "hosts.h"

#define GW_CREDS_CHAIN_MAX 8
#define GW_CREDS_NAMES 16              /* DNS names of the certificate kept */

struct gw_creds {
	gnutls_pcert_st pcert[GW_CREDS_CHAIN_MAX];
	unsigned npcert;
	gnutls_privkey_t key;
	char about[200];               /* "CN=..., serial ..., valid until ..." for the log */
	char names[GW_CREDS_NAMES][GW_HOSTS_NAME]; /* its subjectAltName's DNS names (the Host check) */
	int nnames;
};

/* Load cert (a PEM chain, the server's first) and key (PEM): NULL with err
 * (naming the file, never quoting the key) when either cannot be read or
 * parsed, others may read or write the key, or the key is not the
 * certificate's. */
struct gw_creds *gw_creds_load(const char *cert, const char *key, char *err, size_t errlen);
void gw_creds_free(struct gw_creds *c);
/* The check of --check ([http]'s, http_conf.c): load and free. 0, or
 * -1 with why. */
int gw_creds_check(const char *cert, const char *key, char *why, size_t wl);

#endif
