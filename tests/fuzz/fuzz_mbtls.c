/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_mbtls.c - libFuzzer target for Modbus/TCP Security's
 * TLS layer (gateway/core/tlsconn.c) and the request path behind it
 * (gateway/modbus/server.c, request.c), as fuzz_mbap.c fuzzes the plain one.
 *
 * At the first input it makes a CA, a server certificate and a client
 * certificate with the role Operator (RoleOID 1.3.6.1.4.1.50316.802.1),
 * writes the server's files and loads them with gw_tls_server_ctx() (the
 * daemon's loader, gateway/core/tlsfiles.c).  Each input's server is a
 * connection of gw_tls_accept_new() on one end of a non-blocking socket
 * pair, as the daemon's is on its socket; the client (OpenSSL) on the
 * other.  The first byte of an input picks:
 *   0  the rest is what a would-be client sends: the server's handshake
 *      steps on it never succeed (no certificate was presented) and never
 *      read out of bounds;
 *   1  a real handshake, the role read back as Operator, then the rest as
 *      application data in records of the sizes the data says, decrypted
 *      by gw_tls_read() and framed and screened as the server does: every
 *      complete ADU gets a decision, and a write reaches the BMS only for
 *      the Operator;
 *   2  the same handshake, then the rest as raw record bytes after it;
 *   3  the rest as the value of a certificate's RoleOID extension: read by
 *      gw_der_utf8() as one UTF8String or refused, never out of bounds.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../../gateway/modbus/modbus_conf.h"
#include "../../conf/conf.h"
#include "../../gateway/core/tlsconn.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/modbus/mbap.h"
#include "../../gateway/modbus/server.h"
#include "../unit/sections.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw gw;
static struct gw_tls_ctx *server_ctx;
static SSL_CTX *client_ctx;

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial,
		       const char *role)
{
	X509 *x = X509_new();
	if (!x)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	X509V3_CTX v;
	X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, issuer ? "CA:FALSE" : "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (role) {
		ASN1_UTF8STRING *u = ASN1_UTF8STRING_new();
		ASN1_STRING_set(u, role, -1);
		unsigned char *der = NULL;
		int len = i2d_ASN1_UTF8STRING(u, &der);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(os, der, len);
		ASN1_OBJECT *o = OBJ_txt2obj("1.3.6.1.4.1.50316.802.1", 1);
		e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OBJECT_free(o);
		ASN1_OCTET_STRING_free(os);
		OPENSSL_free(der);
		ASN1_UTF8STRING_free(u);
	}
	if (!X509_sign(x, issuer_key, EVP_sha256()))
		abort();
	return x;
}

/* A PEM file of the fuzzer's own, 0600: a key others may read is refused
 * (core/tlsfiles.c, conf/rfile.c). */
static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || (x && !PEM_write_X509(f, x)) || (k && !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)))
		abort();
	fclose(f);
}

static void setup(void)
{
	char err[CONF_ERR_MAX];
	install_sections(); /* the outputs' sections, [modbus_tls] among them */
	struct conf *conf = malloc(sizeof(*conf));
	if (!conf || conf_load_string("[gateway]\n[pack.a]\nprotocol = daly\nport = /dev/null\ncontrol = true\n"
				      "[pack.b]\nprotocol = daly\nport = /dev/null\naddress = 2\n[bank]\n[limits]\n",
				      "fuzz", conf, err, sizeof(err)) < 0)
		abort();
	struct conf_modbus_tls *t = (struct conf_modbus_tls *)gw_mbtls_cfg(conf);
	t->enabled = true;
	snprintf(t->write_role, sizeof(t->write_role), "Operator");
	if (gw_init(&gw, NULL, conf) < 0)
		abort();
	gw.packs[0]->have_data = true;
	gw.packs[0]->last_good = gw_mono();
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (!key)
		abort();
	X509 *ca = make_cert("fuzz-ca", key, NULL, key, 1, NULL);
	X509 *srv = make_cert("fuzz-server", key, ca, key, 2, NULL);
	X509 *cli = make_cert("fuzz-client", key, ca, key, 3, "Operator");
	char dir[] = "/tmp/fuzz_mbtls.XXXXXX", cert[64], kf[64], caf[64];
	if (!mkdtemp(dir))
		abort();
	snprintf(cert, sizeof(cert), "%s/s.pem", dir);
	snprintf(kf, sizeof(kf), "%s/s.key", dir);
	snprintf(caf, sizeof(caf), "%s/ca.pem", dir);
	write_pem(cert, srv, NULL);
	write_pem(kf, NULL, key);
	write_pem(caf, ca, NULL);
	server_ctx = gw_tls_server_ctx(cert, kf, caf, err, sizeof(err));
	unlink(cert), unlink(kf), unlink(caf), rmdir(dir);
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (!server_ctx || !client_ctx || SSL_CTX_use_certificate(client_ctx, cli) != 1 ||
	    SSL_CTX_use_PrivateKey(client_ctx, key) != 1)
		abort();
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	X509_free(ca); /* the contexts hold their own references */
	X509_free(srv);
	X509_free(cli);
	EVP_PKEY_free(key);
}

/* A connected non-blocking socket pair: fd[0] the server's, fd[1] the client's. */
static void pair(int fd[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) < 0)
		abort();
	for (int i = 0; i < 2; i++)
		fcntl(fd[i], F_SETFL, fcntl(fd[i], F_GETFL) | O_NONBLOCK);
}

/* Frame and screen what the server decrypted, as server.c does. */
static void serve(uint8_t *buf, size_t *len, const char *role)
{
	for (;;) {
		int al = gw_mbap_frame(buf, *len);
		if (al == 0)
			return;
		if (al < 0) {
			*len = 0;
			return;
		}
		if (al < 8 || (size_t)al > *len || al > 260)
			abort();
		struct gw_screen s;
		gw_screen_request_role(&gw, buf, (size_t)al, role, &s);
		if (s.exception < 0 || s.exception > 0x0B)
			abort();
		if (s.write && (s.exception || strcmp(role, "Operator") != 0 || !s.target.pack))
			abort();
		memmove(buf, buf + al, *len - (size_t)al);
		*len -= (size_t)al;
	}
}

/* A real handshake over the socket pair; the role the server read. */
static void handshake(struct gw_tls *srv, SSL *cli, char *role, size_t rl)
{
	char why[256];
	enum gw_tls_st st = GW_TLS_WANT_READ;
	int cr = 0;
	for (int i = 0; i < 16 && (st != GW_TLS_OK || cr != 1); i++) {
		if (cr != 1)
			cr = SSL_do_handshake(cli);
		if (st != GW_TLS_OK)
			st = gw_tls_handshake(srv, why, sizeof(why));
	}
	if (st != GW_TLS_OK || gw_tls_peer_ext_utf8(srv, "1.3.6.1.4.1.50316.802.1", role, rl) != 1 ||
	    strcmp(role, "Operator") != 0)
		abort();
}

static void app_data(struct gw_tls *srv, SSL *cli, int cfd, const uint8_t *d, size_t n, bool raw, const char *role)
{
	uint8_t buf[520];
	size_t len = 0, i = 0;
	char why[256];
	while (i < n) {
		size_t chunk = (size_t)(d[i++] % 64) + 1;
		if (chunk > n - i)
			chunk = n - i;
		if (raw) {
			if (write(cfd, d + i, chunk) < 0)
				return; /* the server closed after a bad record */
		} else if (chunk) {
			SSL_write(cli, d + i, (int)chunk);
		}
		i += chunk;
		for (;;) {
			size_t got = 0;
			enum gw_tls_st st = gw_tls_read(srv, buf + len, sizeof(buf) - len, &got, why, sizeof(why));
			if (st != GW_TLS_OK)
				break;
			if (got == 0 || got > sizeof(buf) - len)
				abort();
			len += got;
			serve(buf, &len, role);
			if (len == sizeof(buf))
				abort(); /* a complete frame always fits */
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!server_ctx)
		setup();
	if (size < 1)
		return 0;
	int mode = data[0] % 4, fd[2];
	if (mode == 3) {
		char role[CONF_ROLE_MAX];
		int r = gw_der_utf8(data + 1, size - 1, role, sizeof(role));
		size_t rl = strlen(role);
		if ((r != 1 && r != -1) || (r < 0 && rl) || rl >= sizeof(role) ||
		    (r > 0 && (rl + 2 > size - 1 || memcmp(role, data + size - rl, rl) != 0)))
			abort();
		return 0;
	}
	pair(fd);
	struct gw_tls *srv = gw_tls_accept_new(server_ctx, fd[0]);
	if (!srv)
		abort();
	if (mode == 0) {
		char why[256];
		if (size > 1 && write(fd[1], data + 1, size - 1) < 0)
			abort();
		for (int i = 0; i < 4; i++)
			if (gw_tls_handshake(srv, why, sizeof(why)) == GW_TLS_OK)
				abort(); /* no client certificate: never done */
	} else {
		SSL *cli = SSL_new(client_ctx);
		if (!cli || SSL_set_fd(cli, fd[1]) != 1)
			abort();
		SSL_set_connect_state(cli);
		char role[CONF_ROLE_MAX];
		handshake(srv, cli, role, sizeof(role));
		app_data(srv, cli, fd[1], data + 1, size - 1, mode == 2, role);
		SSL_free(cli);
	}
	gw_tls_close(srv);
	close(fd[0]);
	close(fd[1]);
	ERR_clear_error();
	return 0;
}
