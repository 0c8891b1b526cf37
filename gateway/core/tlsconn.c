/* SPDX-License-Identifier: MIT */
/* gateway/core/tlsconn.c - TLS on a non-blocking socket (OpenSSL): the
 * server context with client certificates, and the handshake, reads and
 * writes of one connection as steps that never wait (tlsconn.h).
 *
 * OpenSSL's own rules for a non-blocking socket (SSL_get_error(3)): a call
 * that returns SSL_ERROR_WANT_READ / WANT_WRITE is repeated, with the same
 * arguments for a write, once the socket is ready; the error queue is
 * emptied before each call so that an old error is not read as this one's
 * (looked at first: clearing an empty queue costs OpenSSL 3 as much as a
 * record's cipher, twice a request).
 * Reads take whatever the socket holds (read ahead: one read(2) for a
 * record's header and body, and for the records behind it), so that
 * requests sent together are answered together; gw_tls_pending() then
 * tells of records read but not yet decrypted too.
 * The files are read by tlsfiles.c, as --check reads them.
 * Session tickets and the session cache are off: a Modbus client keeps its
 * connection, and a resumed session would skip the client certificate's
 * check that the role rests on.
 * What a request costs here (issue 62, OpenSSL 3.0.19, TLS 1.3
 * AES-256-GCM, callgrind): a read of one record and a write of one, about
 * 13k instructions together against some 1k for the rest of a Modbus
 * request, of which AES-GCM itself is about 2k; the rest is the library's
 * record layer (the cipher set up again for each record's nonce, its
 * parameters looked up by name, the tag, the BIO), not a copy or a call of
 * ours.  SSL_MODE_RELEASE_BUFFERS changed nothing measurable and stays
 * off: the buffers stay allocated.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "../../conf/conf.h"
#include "tlsconn.h"
#include "tlsfiles.h"

/* The error queue empty before an SSL call. */
static void errors_clear(void)
{
	if (ERR_peek_error())
		ERR_clear_error();
}

/* What went wrong, from the error queue (or errno for a socket error). */
static void why_ssl(SSL *s, int err, char *why, size_t wl)
{
	unsigned long e = ERR_peek_last_error();
	long vr = s ? SSL_get_verify_result(s) : X509_V_OK;
	if (vr != X509_V_OK)
		snprintf(why, wl, "client certificate refused: %s", X509_verify_cert_error_string(vr));
	else if (err == SSL_ERROR_SYSCALL && !e)
		snprintf(why, wl, "%s", errno ? strerror(errno) : "connection closed in the handshake");
	else if (e)
		snprintf(why, wl, "%s", ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "TLS error");
	else
		snprintf(why, wl, "TLS error %d", err);
	ERR_clear_error();
}

SSL_CTX *gw_tls_server_ctx(const char *cert_file, const char *key_file, const char *ca_file, char *err,
			   size_t errlen)
{
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "TLS: out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_read_ahead(ctx, 1);
	if (gw_ssl_load(ctx, cert_file, key_file, ca_file, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

SSL *gw_tls_accept_new(SSL_CTX *ctx, int fd)
{
	SSL *s = SSL_new(ctx);
	if (!s)
		return NULL;
	if (SSL_set_fd(s, fd) != 1) {
		SSL_free(s);
		return NULL;
	}
	SSL_set_accept_state(s);
	return s;
}

/* The result of an SSL call that returned r. */
static enum gw_tls_st step(SSL *s, int r, char *why, size_t wl)
{
	int e = SSL_get_error(s, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return GW_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return GW_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		snprintf(why, wl, "closed the connection");
		return GW_TLS_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (errno == EAGAIN || errno == EINTR) {
			ERR_clear_error();
			return GW_TLS_WANT_READ;
		}
		if (!ERR_peek_last_error() && (errno == 0 || errno == ECONNRESET)) {
			snprintf(why, wl, "%s", SSL_is_init_finished(s) ? "closed the connection"
									: "closed the connection in the handshake");
			return GW_TLS_CLOSED;
		}
		/* fall through */
	default:
		why_ssl(s, e, why, wl);
		SSL_set_quiet_shutdown(s, 1); /* after a fatal error no close_notify (gw_tls_close) */
		return GW_TLS_FAILED;
	}
}

void gw_tls_close(SSL *s)
{
	if (!s)
		return;
	/* one try at close_notify on a connection that finished its handshake and
	 * had no fatal error; the socket is non-blocking: it never waits, and
	 * what does not fit is not sent */
	if (SSL_is_init_finished(s) && !SSL_get_quiet_shutdown(s))
		SSL_shutdown(s);
	ERR_clear_error();
	SSL_free(s);
}

enum gw_tls_st gw_tls_handshake(SSL *s, char *why, size_t wl)
{
	errors_clear();
	errno = 0;
	int r = SSL_accept(s);
	return r == 1 ? GW_TLS_OK : step(s, r, why, wl);
}

enum gw_tls_st gw_tls_read(SSL *s, void *buf, size_t len, size_t *got, char *why, size_t wl)
{
	errors_clear();
	errno = 0;
	*got = 0;
	if (SSL_read_ex(s, buf, len, got) == 1)
		return GW_TLS_OK;
	return step(s, 0, why, wl);
}

enum gw_tls_st gw_tls_write(SSL *s, const void *buf, size_t len, char *why, size_t wl)
{
	errors_clear();
	errno = 0;
	size_t n = 0;
	if (SSL_write_ex(s, buf, len, &n) == 1)
		return GW_TLS_OK; /* partial writes are off: all of it */
	enum gw_tls_st st = step(s, 0, why, wl);
	return st == GW_TLS_CLOSED ? GW_TLS_FAILED : st;
}

bool gw_tls_pending(SSL *s)
{
	return SSL_has_pending(s) == 1;
}

void gw_tls_peer_subject(SSL *s, char *out, size_t len)
{
	out[0] = '\0';
	X509 *x = SSL_get0_peer_certificate(s);
	BIO *b = x ? BIO_new(BIO_s_mem()) : NULL;
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
		int n = BIO_read(b, out, (int)len - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
}

int gw_tls_peer_ext_utf8(SSL *s, const char *oid, char *out, size_t len)
{
	out[0] = '\0';
	X509 *x = SSL_get0_peer_certificate(s);
	ASN1_OBJECT *o = x ? OBJ_txt2obj(oid, 1) : NULL;
	if (!o)
		return 0;
	int i = X509_get_ext_by_OBJ(x, o, -1);
	ASN1_OBJECT_free(o);
	if (i < 0)
		return 0;
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(x, i));
	const unsigned char *p = ASN1_STRING_get0_data(v);
	long vl = ASN1_STRING_length(v);
	ASN1_UTF8STRING *u = d2i_ASN1_UTF8STRING(NULL, &p, vl);
	int ok = -1;
	/* the whole extension value is the one string */
	if (u && p == ASN1_STRING_get0_data(v) + vl) {
		int n = ASN1_STRING_length(u);
		const unsigned char *d = ASN1_STRING_get0_data(u);
		if (n >= 0 && (size_t)n < len && !memchr(d, 0, (size_t)n)) {
			memcpy(out, d, (size_t)n);
			out[n] = '\0';
			ok = 1;
		}
	}
	ASN1_UTF8STRING_free(u);
	ERR_clear_error();
	return ok;
}

const char *gw_tls_version(const SSL *s)
{
	return SSL_get_version(s);
}

bool gw_tls_peer_trusted(SSL *s, SSL_CTX *ctx, char *why, size_t wl)
{
	X509 *x = SSL_get0_peer_certificate(s);
	if (!x) {
		snprintf(why, wl, "no client certificate");
		return false;
	}
	X509_STORE_CTX *v = X509_STORE_CTX_new();
	if (!v || !X509_STORE_CTX_init(v, SSL_CTX_get_cert_store(ctx), x, SSL_get_peer_cert_chain(s))) {
		X509_STORE_CTX_free(v);
		snprintf(why, wl, "out of memory");
		return false;
	}
	X509_STORE_CTX_set_purpose(v, X509_PURPOSE_SSL_CLIENT);
	bool ok = X509_verify_cert(v) == 1;
	if (!ok)
		snprintf(why, wl, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(v)));
	X509_STORE_CTX_free(v);
	return ok;
}

bool gw_tls_answered(SSL *s)
{
	BIO *w = SSL_get_wbio(s);
	return w && BIO_number_written(w) > 0;
}
