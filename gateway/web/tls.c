/* SPDX-License-Identifier: MIT */
/* gateway/web/tls.c - the HTTPS server's certificate, replaceable while it
 * serves.
 *
 * libmicrohttpd asks for the certificate at each handshake through GnuTLS'
 * retrieve callback (MHD_OPTION_HTTPS_CERT_CALLBACK), so a reload only
 * swaps what the callback hands out: connections open (a live page's event
 * stream) go on, new handshakes get the new certificate.  GnuTLS keeps
 * pointers to the certificate and key a session was given, so each
 * connection holds a reference to the set its handshake used (in its
 * socket context, from MHD_OPTION_NOTIFY_CONNECTION) and a set is freed
 * when it is neither served nor used.  The callback finds the connection
 * through the session's pointer, which libmicrohttpd sets to its
 * connection (gnutls_session_set_ptr in daemon.c of 0.9.75), and the
 * connection's part as the first member of its socket context. */
#include <microhttpd.h>
#include <stdlib.h>

#include "creds.h"
#include "tls.h"

struct held {
	struct gw_creds *c;
	int refs;
};

struct gw_tls {
	struct held *cur;
};

/* One connection's: its server and what its handshake used. */
struct tconn {
	struct gw_tls *t;
	struct held *h;
};

static struct held *hold(struct gw_creds *c)
{
	struct held *h = calloc(1, sizeof(*h));
	if (!h) {
		gw_creds_free(c);
		return NULL;
	}
	h->c = c;
	h->refs = 1;
	return h;
}

static void unhold(struct held *h)
{
	if (h && --h->refs == 0) {
		gw_creds_free(h->c);
		free(h);
	}
}

struct gw_tls *gw_tls_new(struct gw_creds *c)
{
	struct gw_tls *t = calloc(1, sizeof(*t));
	if (!t || !(t->cur = hold(c))) {
		if (!t)
			gw_creds_free(c);
		free(t);
		return NULL;
	}
	return t;
}

void gw_tls_set(struct gw_tls *t, struct gw_creds *c)
{
	struct held *h = hold(c);
	if (!h)
		return; /* out of memory: the old one stays */
	unhold(t->cur);
	t->cur = h;
}

const char *gw_tls_about(const struct gw_tls *t)
{
	return t->cur->c->about;
}

void gw_tls_conn_started(struct gw_tls *t, void **slot)
{
	struct tconn *tc = calloc(1, sizeof(*tc));
	if (tc)
		tc->t = t;
	*slot = tc;
}

void gw_tls_conn_closed(void **slot)
{
	struct tconn *tc = *slot;
	if (!tc)
		return;
	unhold(tc->h);
	free(tc);
	*slot = NULL;
}

int gw_tls_retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
		    unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	struct MHD_Connection *con = gnutls_session_get_ptr(s);
	const union MHD_ConnectionInfo *ci =
		con ? MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	void **slot = ci ? ci->socket_context : NULL;
	struct tconn *tc = slot ? *slot : NULL;
	if (!tc)
		return -1; /* no memory for it: the handshake fails, nothing else */
	if (!tc->h) {
		tc->h = tc->t->cur;
		tc->h->refs++;
	}
	*pcert = tc->h->c->pcert;
	*pcert_length = tc->h->c->npcert;
	*privkey = tc->h->c->key;
	return 0;
}

void gw_tls_free(struct gw_tls *t)
{
	if (!t)
		return;
	unhold(t->cur);
	free(t);
}
