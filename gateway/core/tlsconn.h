/* SPDX-License-Identifier: MIT */
/* gateway/core/tlsconn.h - TLS on a non-blocking socket for bmsgw's servers
 * (OpenSSL): the server context with mutual authentication, and one
 * connection's handshake, reads and writes as steps that never wait.
 *
 * Every step returns what the connection needs next: done, or the socket
 * readable (GW_TLS_WANT_READ) or writable (GW_TLS_WANT_WRITE) before the
 * same step is tried again; the owner maps that to its ev_io.  Bytes
 * OpenSSL already holds (decrypted, or records read ahead from the socket)
 * are not signalled by the socket: the owner asks gw_tls_pending() after
 * each read. */
#ifndef GATEWAY_CORE_TLSCONN_H
#define GATEWAY_CORE_TLSCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

enum gw_tls_st {
	GW_TLS_OK = 0,       /* done (a read: bytes given) */
	GW_TLS_WANT_READ,    /* try again when the socket is readable */
	GW_TLS_WANT_WRITE,   /* try again when the socket is writable */
	GW_TLS_CLOSED,       /* the peer closed the connection */
	GW_TLS_FAILED,       /* a protocol error, a refused certificate, a socket error: why says */
};

/* A server context: the certificate chain and key, TLS 1.2 or later, and a
 * client certificate that must chain to the CAs of ca_file (refused in the
 * handshake without one).  NULL with the reason (the file and what is wrong
 * with it: unreadable, not PEM, key not matching the certificate) in err. */
SSL_CTX *gw_tls_server_ctx(const char *cert_file, const char *key_file, const char *ca_file, char *err,
			   size_t errlen);

/* A server connection on the non-blocking socket fd (the caller keeps the
 * fd: SSL_free() does not close it); NULL when out of memory. */
SSL *gw_tls_accept_new(SSL_CTX *ctx, int fd);

/* Send close_notify once (never waiting, never after a fatal error) and free
 * the connection; the fd stays the caller's.  NULL is nothing. */
void gw_tls_close(SSL *s);

/* One step of the handshake (SSL_accept). */
enum gw_tls_st gw_tls_handshake(SSL *s, char *why, size_t wl);
/* Read up to len decrypted bytes: GW_TLS_OK with *got > 0, or what to wait for. */
enum gw_tls_st gw_tls_read(SSL *s, void *buf, size_t len, size_t *got, char *why, size_t wl);
/* Write all of buf (len > 0): GW_TLS_OK, or GW_TLS_WANT_* when the socket is
 * full (then call again with the same bytes), or failed. */
enum gw_tls_st gw_tls_write(SSL *s, const void *buf, size_t len, char *why, size_t wl);
/* Bytes waiting in OpenSSL (decrypted, or records read ahead but not yet
 * decrypted, perhaps a part of one), which the socket will not signal. */
bool gw_tls_pending(SSL *s);

/* The verified peer certificate's subject ("CN=op1,O=site", RFC 2253) into
 * out ("" without one). */
void gw_tls_peer_subject(SSL *s, char *out, size_t len);
/* The peer certificate's extension oid ("1.3.6.1.4.1.50316.802.1") read as
 * one ASN.1 UTF8String into out: 1, 0 when the certificate has no such
 * extension, -1 when it has one that is not a single UTF8String of at most
 * len - 1 bytes without a NUL (out = ""). */
int gw_tls_peer_ext_utf8(SSL *s, const char *oid, char *out, size_t len);

/* Another name (protocol, cipher) of the connection for the log: "TLSv1.3". */
const char *gw_tls_version(const SSL *s);

/* The server has written something in this connection's handshake (it
 * took a whole ClientHello and answered it). */
bool gw_tls_answered(SSL *s);

/* The peer's certificate (with the chain it sent) still chains to the CAs of
 * ctx (a context read again at a reload): false, with the reason in why,
 * when its CA was removed, or it has no certificate. */
bool gw_tls_peer_trusted(SSL *s, SSL_CTX *ctx, char *why, size_t wl);

#endif
