/* SPDX-License-Identifier: MIT */
/* gateway/core/tlsconn.c - TLS on a non-blocking socket (GnuTLS, as the
 * status page's HTTPS): the server context with client certificates, and
 * the handshake, reads and writes of one connection as steps that never
 * wait (tlsconn.h).
 *
 * GnuTLS's own rules for a non-blocking socket: a call that returns
 * GNUTLS_E_AGAIN is repeated once the socket is ready for what
 * gnutls_record_get_direction() says, a send with the same bytes.
 * The socket is read through our own pull function, which reads ahead:
 * one read(2) for whatever the socket holds (a record's header and body,
 * and the records behind it), handed to GnuTLS as it asks, so that requests
 * sent together are answered together and a record costs one read;
 * gw_tls_pending() then tells of bytes read but not yet taken.
 * The files are read by tlsfiles.c, as --check reads them.
 * Session tickets are off: a Modbus client keeps its connection, and a
 * resumed session would skip the client certificate's check that the role
 * rests on.  Renegotiation (TLS 1.2) is refused: the connection fails.
 * What a request costs (issue 62, make bench): OpenSSL 3.0's record layer
 * (the cipher set up again for each record, its parameters looked up by
 * name) cost about 0.9 us a request on each side against 0.45 us for
 * GnuTLS 3.7's, for the same AES-256-GCM in TLS 1.3 (measured in memory,
 * one 12-byte request and one 255-byte answer).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tlsconn.h"
#include "tlsfiles.h"

#define RA_BYTES 4096 /* read ahead: many requests, one read */
/* TLS 1.2 or later, GnuTLS's usual ciphers */
#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct gw_tls_ctx {
	int refs;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
};

struct gw_tls {
	gnutls_session_t s;
	struct gw_tls_ctx *ctx;
	int fd;
	bool done;                     /* the handshake has finished */
	bool fatal;                    /* no close_notify after a fatal error */
	bool eof;                      /* the peer closed its side */
	unsigned long sent;            /* bytes written to the socket */
	size_t rpos, rlen;             /* read ahead: ra[rpos..rlen) not taken yet */
	uint8_t ra[RA_BYTES];
};

struct gw_tls_ctx *gw_tls_server_ctx(const char *cert_file, const char *key_file, const char *ca_file, char *err,
				     size_t errlen)
{
	struct gw_tls_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx || gnutls_certificate_allocate_credentials(&ctx->cred) < 0) {
		free(ctx);
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	ctx->refs = 1;
	if (gnutls_priority_init2(&ctx->prio, TLS_PRIORITY, NULL, 0) < 0) {
		snprintf(err, errlen, "TLS: GnuTLS refuses the priority %s", TLS_PRIORITY);
		ctx->prio = NULL;
		gw_tls_ctx_free(ctx);
		return NULL;
	}
	if (gw_tls_files_load(ctx->cred, cert_file, key_file, ca_file, err, errlen) < 0) {
		gw_tls_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

void gw_tls_ctx_free(struct gw_tls_ctx *ctx)
{
	if (!ctx || --ctx->refs > 0)
		return;
	if (ctx->prio)
		gnutls_priority_deinit(ctx->prio);
	gnutls_certificate_free_credentials(ctx->cred);
	free(ctx);
}

/* GnuTLS's reads: from the bytes read ahead, one read(2) of all the socket
 * holds when none are left. */
static ssize_t pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
	struct gw_tls *t = p;
	if (t->rpos == t->rlen) {
		ssize_t k = read(t->fd, t->ra, sizeof(t->ra));
		if (k <= 0) {
			t->eof = k == 0;
			gnutls_transport_set_errno(t->s, k < 0 ? errno : 0);
			return k;
		}
		t->rpos = 0;
		t->rlen = (size_t)k;
	}
	size_t a = t->rlen - t->rpos;
	if (n > a)
		n = a;
	memcpy(buf, t->ra + t->rpos, n);
	t->rpos += n;
	return (ssize_t)n;
}

static ssize_t push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
	struct gw_tls *t = p;
	ssize_t k = send(t->fd, buf, n, MSG_NOSIGNAL);
	if (k < 0)
		gnutls_transport_set_errno(t->s, errno);
	else
		t->sent += (unsigned long)k;
	return k;
}

struct gw_tls *gw_tls_accept_new(struct gw_tls_ctx *ctx, int fd)
{
	struct gw_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->fd = fd;
	if (gnutls_init(&t->s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS) < 0) {
		free(t);
		return NULL;
	}
	if (gnutls_priority_set(t->s, ctx->prio) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, ctx->cred) < 0) {
		gnutls_deinit(t->s);
		free(t);
		return NULL;
	}
	gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_cert(t->s, NULL, 0);
	gnutls_handshake_set_timeout(t->s, GNUTLS_INDEFINITE_TIMEOUT); /* the owner's timer rules */
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_pull_function(t->s, pull);
	gnutls_transport_set_push_function(t->s, push);
	t->ctx = ctx;
	ctx->refs++;
	return t;
}

void gw_tls_close(struct gw_tls *t)
{
	if (!t)
		return;
	/* one try at close_notify on a connection that finished its handshake and
	 * had no fatal error; the socket is non-blocking: it never waits, and
	 * what does not fit is not sent */
	if (t->done && !t->fatal)
		gnutls_bye(t->s, GNUTLS_SHUT_WR);
	gnutls_deinit(t->s);
	gw_tls_ctx_free(t->ctx);
	free(t);
}

/* Why the peer's certificate was refused, from the verification's status:
 * the first reason it has, NULL for none of these. */
static const char *cert_reason(unsigned status)
{
	static const struct {
		unsigned bit;
		const char *text;
	} reasons[] = {
		{ GNUTLS_CERT_SIGNER_NOT_FOUND, "its issuer is not among the trusted CAs" },
		{ GNUTLS_CERT_EXPIRED, "certificate has expired" },
		{ GNUTLS_CERT_NOT_ACTIVATED, "certificate is not yet valid" },
		{ GNUTLS_CERT_REVOKED, "certificate revoked" },
		{ GNUTLS_CERT_SIGNATURE_FAILURE, "certificate signature failure" },
		{ GNUTLS_CERT_INSECURE_ALGORITHM, "certificate signed with an insecure algorithm" },
		{ GNUTLS_CERT_PURPOSE_MISMATCH, "certificate is not for a TLS client" },
		{ GNUTLS_CERT_SIGNER_NOT_CA, "its issuer is no CA" },
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (status & reasons[i].bit)
			return reasons[i].text;
	return NULL;
}

static void why_cert(unsigned status, char *why, size_t wl)
{
	const char *r = cert_reason(status);
	if (r)
		snprintf(why, wl, "client certificate refused: %s", r);
	else
		snprintf(why, wl, "client certificate refused (status 0x%x)", status);
}

/* The result of a GnuTLS call that returned r < 0. */
static enum gw_tls_st step(struct gw_tls *t, int r, char *why, size_t wl)
{
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return gnutls_record_get_direction(t->s) ? GW_TLS_WANT_WRITE : GW_TLS_WANT_READ;
	/* the peer went: at the end of a record, or inside one (a ClientHello
	 * cut off, which GnuTLS calls a decoding error) */
	if (r == GNUTLS_E_PREMATURE_TERMINATION || t->eof || (r == GNUTLS_E_PULL_ERROR && errno == ECONNRESET)) {
		snprintf(why, wl, "%s", t->done ? "closed the connection" : "closed the connection in the handshake");
		return GW_TLS_CLOSED;
	}
	if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
		why_cert(gnutls_session_get_verify_cert_status(t->s), why, wl);
	else if (r == GNUTLS_E_NO_CERTIFICATE_FOUND || r == GNUTLS_E_CERTIFICATE_REQUIRED)
		snprintf(why, wl, "no client certificate");
	else if (r == GNUTLS_E_REHANDSHAKE)
		snprintf(why, wl, "renegotiation refused");
	else if (r == GNUTLS_E_PUSH_ERROR || r == GNUTLS_E_PULL_ERROR)
		snprintf(why, wl, "%s", errno ? strerror(errno) : gnutls_strerror(r));
	else
		snprintf(why, wl, "%s", gnutls_strerror(r));
	t->fatal = true;
	return GW_TLS_FAILED;
}

enum gw_tls_st gw_tls_handshake(struct gw_tls *t, char *why, size_t wl)
{
	int r;
	errno = 0;
	do
		r = gnutls_handshake(t->s);
	while (r < 0 && !gnutls_error_is_fatal(r) && r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED);
	if (r == 0) {
		t->done = true;
		return GW_TLS_OK;
	}
	return step(t, r, why, wl);
}

enum gw_tls_st gw_tls_read(struct gw_tls *t, void *buf, size_t len, size_t *got, char *why, size_t wl)
{
	ssize_t r;
	errno = 0;
	*got = 0;
	/* a warning alert, a TLS 1.3 key update or ticket: read on */
	for (int i = 0;; i++) {
		r = gnutls_record_recv(t->s, buf, len);
		if (r >= 0 || gnutls_error_is_fatal((int)r) || r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
		    r == GNUTLS_E_REHANDSHAKE || i == 8)
			break;
	}
	if (r > 0) {
		*got = (size_t)r;
		return GW_TLS_OK;
	}
	if (r == 0) {
		snprintf(why, wl, "closed the connection");
		return GW_TLS_CLOSED;
	}
	return step(t, (int)r, why, wl);
}

enum gw_tls_st gw_tls_write(struct gw_tls *t, const void *buf, size_t len, char *why, size_t wl)
{
	size_t off = 0;
	errno = 0;
	while (off < len) {
		ssize_t r = gnutls_record_send(t->s, (const uint8_t *)buf + off, len - off);
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		enum gw_tls_st st = step(t, r ? (int)r : GNUTLS_E_PUSH_ERROR, why, wl);
		return st == GW_TLS_CLOSED ? GW_TLS_FAILED : st;
	}
	return GW_TLS_OK;
}

bool gw_tls_pending(struct gw_tls *t)
{
	return t->rpos < t->rlen || gnutls_record_check_pending(t->s) > 0;
}

/* The peer's certificate (its first), NULL without one. */
static gnutls_x509_crt_t peer_cert(struct gw_tls *t)
{
	unsigned n = 0;
	const gnutls_datum_t *l = gnutls_certificate_get_peers(t->s, &n);
	gnutls_x509_crt_t x;
	if (!l || n == 0 || gnutls_x509_crt_init(&x) < 0)
		return NULL;
	if (gnutls_x509_crt_import(x, &l[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(x);
		return NULL;
	}
	return x;
}

void gw_tls_peer_subject(struct gw_tls *t, char *out, size_t len)
{
	out[0] = '\0';
	gnutls_x509_crt_t x = peer_cert(t);
	gnutls_datum_t dn = { NULL, 0 };
	/* GnuTLS's compatible form: the most specific first, "CN=op1,O=site" */
	if (x && gnutls_x509_crt_get_dn3(x, &dn, GNUTLS_X509_DN_FLAG_COMPAT) == 0)
		snprintf(out, len, "%.*s", (int)dn.size, (const char *)dn.data);
	gnutls_free(dn.data);
	if (x)
		gnutls_x509_crt_deinit(x);
}

int gw_der_utf8(const uint8_t *der, size_t n, char *out, size_t len)
{
	out[0] = '\0';
	/* tag 0x0C, a length (short form, or long in one or two bytes), the
	 * bytes: the whole value */
	if (n < 2 || der[0] != 0x0C)
		return -1;
	size_t l = der[1], at = 2;
	if (l == 0x81 || l == 0x82) {
		size_t k = l & 0x7F;
		if (n < 2 + k)
			return -1;
		l = k == 1 ? der[2] : (size_t)der[2] << 8 | der[3];
		if (l < (k == 1 ? 0x80u : 0x100u))
			return -1; /* not the shortest form: not DER */
		at = 2 + k;
	} else if (l & 0x80) {
		return -1;
	}
	if (n - at != l || l >= len || memchr(der + at, 0, l))
		return -1;
	memcpy(out, der + at, l);
	out[l] = '\0';
	return 1;
}

int gw_tls_peer_ext_utf8(struct gw_tls *t, const char *oid, char *out, size_t len)
{
	out[0] = '\0';
	gnutls_x509_crt_t x = peer_cert(t);
	if (!x)
		return 0;
	gnutls_datum_t v = { NULL, 0 };
	unsigned critical = 0;
	int r = gnutls_x509_crt_get_extension_by_oid2(x, oid, 0, &v, &critical);
	int ok = r == 0 ? gw_der_utf8(v.data, v.size, out, len) : 0; /* the first of that OID */
	gnutls_free(v.data);
	gnutls_x509_crt_deinit(x);
	return ok;
}

const char *gw_tls_version(const struct gw_tls *t)
{
	switch (gnutls_protocol_get_version(t->s)) {
	case GNUTLS_TLS1_3:
		return "TLSv1.3";
	case GNUTLS_TLS1_2:
		return "TLSv1.2";
	default:
		return "TLS";
	}
}

bool gw_tls_peer_trusted(struct gw_tls *t, struct gw_tls_ctx *ctx, char *why, size_t wl)
{
	unsigned n = 0;
	const gnutls_datum_t *l = gnutls_certificate_get_peers(t->s, &n);
	if (!l || n == 0) {
		snprintf(why, wl, "no client certificate");
		return false;
	}
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_certificate_get_trust_list(ctx->cred, &tl);
	gnutls_x509_crt_t chain[16];
	unsigned k = 0;
	bool ok = false;
	for (; k < n && k < 16; k++) {
		if (gnutls_x509_crt_init(&chain[k]) < 0) {
			snprintf(why, wl, "out of memory");
			goto out;
		}
		if (gnutls_x509_crt_import(chain[k], &l[k], GNUTLS_X509_FMT_DER) < 0) {
			k++; /* deinit it too */
			snprintf(why, wl, "its certificate cannot be read");
			goto out;
		}
	}
	gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0 };
	unsigned status = 0;
	if (gnutls_x509_trust_list_verify_crt2(tl, chain, k, &purpose, 1, 0, &status, NULL) < 0) {
		snprintf(why, wl, "out of memory");
		goto out;
	}
	ok = status == 0;
	if (!ok) {
		const char *r = cert_reason(status);
		if (r)
			snprintf(why, wl, "%s", r);
		else
			why_cert(status, why, wl);
	}
out:
	while (k > 0)
		gnutls_x509_crt_deinit(chain[--k]);
	return ok;
}

bool gw_tls_answered(const struct gw_tls *t)
{
	return t->sent > 0;
}
