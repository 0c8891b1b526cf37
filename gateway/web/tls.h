/* SPDX-License-Identifier: MIT */
/* gateway/web/tls.h - the HTTPS server's certificate: the one new
 * handshakes get, replaced at a reload while connections that shook hands
 * with an older one keep it until they close. */
#ifndef GATEWAY_WEB_TLS_H
#define GATEWAY_WEB_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

struct gw_creds;
struct gw_tls;

/* Serve c (taken over). */
struct gw_tls *gw_tls_new(struct gw_creds *c);
/* New handshakes get c (taken over) from now on. */
void gw_tls_set(struct gw_tls *t, struct gw_creds *c);
/* "CN=..., serial ..., valid until ..." of the certificate served. */
const char *gw_tls_about(const struct gw_tls *t);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION, started and closed: *slot
 * holds what the connection's handshake used.  slot is the first member
 * of what the connection's socket context points at (http.c's
 * connection), where gw_tls_retrieve() finds it. */
void gw_tls_conn_started(struct gw_tls *t, void **slot);
void gw_tls_conn_closed(void **slot);
/* MHD_OPTION_HTTPS_CERT_CALLBACK (gnutls_certificate_retrieve_function2). */
int gw_tls_retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
		    unsigned int *pcert_length, gnutls_privkey_t *privkey);
/* After libmicrohttpd stopped (every connection closed). */
void gw_tls_free(struct gw_tls *t);

#endif
