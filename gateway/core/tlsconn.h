/* SPDX-License-Identifier: MIT */
/* gateway/core/tlsconn.h - TLS on a non-blocking socket for bmsgw's servers
 * (GnuTLS): the server context with mutual authentication, and one
 * connection's handshake, reads and writes as steps that never wait.
 *
 * Every step returns what the connection needs next: done, or the socket
 * readable (GW_TLS_WANT_READ) or writable (GW_TLS_WANT_WRITE) before the
 * same step is tried again; the owner maps that to its ev_io.  Bytes
 * already read from the socket (decrypted, or records read ahead but not
 * yet decrypted) are not signalled by the socket: the owner asks
 * gw_tls_pending() after each read. */
#ifndef GATEWAY_CORE_TLSCONN_H
#define GATEWAY_CORE_TLSCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum gw_tls_st {
	GW_TLS_OK = 0,       /* done (a read: bytes given) */
	GW_TLS_WANT_READ,    /* try again when the socket is readable */
	GW_TLS_WANT_WRITE,   /* try again when the socket is writable */
	GW_TLS_CLOSED,       /* the peer closed the connection */
	GW_TLS_FAILED,       /* a protocol error, a refused certificate, a socket error: why says */
};

/* A server context (counted references: a connection keeps the one it
 * started with) and a connection. */
struct gw_tls_ctx;
struct gw_tls;

/* A server context: the certificate chain and key, TLS 1.2 or later, and a
 * client certificate that must chain to the CAs of ca_file (refused in the
 * handshake without one).  NULL with the reason (the file and what is wrong
 * with it: unreadable, not PEM, key not matching the certificate) in err. */
struct gw_tls_ctx *gw_tls_server_ctx(const char *cert_file, const char *key_file, const char *ca_file, char *err,
				     size_t errlen);
/* Let go of a context (the last reference frees it); NULL is nothing. */
void gw_tls_ctx_free(struct gw_tls_ctx *ctx);

/* A server connection on the non-blocking socket fd (the caller keeps the
 * fd: gw_tls_close() does not close it); NULL when out of memory. */
struct gw_tls *gw_tls_accept_new(struct gw_tls_ctx *ctx, int fd);

/* Send close_notify once (never waiting, never after a fatal error) and free
 * the connection; the fd stays the caller's.  NULL is nothing. */
void gw_tls_close(struct gw_tls *t);

/* One step of the handshake. */
enum gw_tls_st gw_tls_handshake(struct gw_tls *t, char *why, size_t wl);
/* Read up to len decrypted bytes: GW_TLS_OK with *got > 0, or what to wait for. */
enum gw_tls_st gw_tls_read(struct gw_tls *t, void *buf, size_t len, size_t *got, char *why, size_t wl);
/* Write all of buf (len > 0): GW_TLS_OK, or GW_TLS_WANT_* when the socket is
 * full (then call again with the same bytes), or failed. */
enum gw_tls_st gw_tls_write(struct gw_tls *t, const void *buf, size_t len, char *why, size_t wl);
/* Bytes read from the socket and not yet taken (decrypted, or records read
 * ahead but not yet decrypted, perhaps a part of one), which the socket will
 * not signal. */
bool gw_tls_pending(struct gw_tls *t);

/* The verified peer certificate's subject ("CN=op1,O=site", RFC 4514) into
 * out ("" without one). */
void gw_tls_peer_subject(struct gw_tls *t, char *out, size_t len);
/* The peer certificate's extension oid ("1.3.6.1.4.1.50316.802.1") read as
 * one ASN.1 UTF8String into out: 1, 0 when the certificate has no such
 * extension, -1 when it has one that is not a single UTF8String of at most
 * len - 1 bytes without a NUL (out = ""). */
int gw_tls_peer_ext_utf8(struct gw_tls *t, const char *oid, char *out, size_t len);
/* The same for an extension's value (DER, n bytes at der): pure, as the
 * certificate gives it. */
int gw_der_utf8(const uint8_t *der, size_t n, char *out, size_t len);

/* The protocol of the connection for the log: "TLSv1.3". */
const char *gw_tls_version(const struct gw_tls *t);

/* The server has written something in this connection's handshake (it
 * took a whole ClientHello and answered it). */
bool gw_tls_answered(const struct gw_tls *t);

/* The peer's certificate (with the chain it sent) still chains to the CAs of
 * ctx (a context read again at a reload): false, with the reason in why,
 * when its CA was removed, or it has no certificate. */
bool gw_tls_peer_trusted(struct gw_tls *t, struct gw_tls_ctx *ctx, char *why, size_t wl);

#endif
