/* SPDX-License-Identifier: MIT */
/* gateway/core/tlsfiles.c - a TLS server's files into an OpenSSL context:
 * the one loader that --check (through struct conf_loaders), a start and a
 * reload share, so that a file --check accepts is a file the server takes.
 *
 * The certificate chain (SSL_CTX_use_certificate_chain_file), the private
 * key, which must belong to the certificate (SSL_CTX_check_private_key),
 * and the CAs that clients' certificates must chain to: trusted for the
 * verification and named to the client in the CertificateRequest.
 */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsfiles.h"

static int why_file(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	snprintf(err, errlen, "%s %s: %s", what, path, r ? r : "unreadable");
	ERR_clear_error();
	return -1;
}

int gw_ssl_load(SSL_CTX *ctx, const char *cert, const char *key, const char *ca, char *err,
		  size_t errlen)
{
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return why_file(err, errlen, "certificate", cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
		return why_file(err, errlen, "key", key);
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "key %s does not belong to the certificate %s", key, cert);
		return -1;
	}
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
	if (!names)
		return why_file(err, errlen, "CA file (expected PEM certificates)", ca);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		return why_file(err, errlen, "CA file", ca);
	}
	SSL_CTX_set_client_CA_list(ctx, names); /* the context owns them now */
	return 0;
}

int gw_ssl_check(const char *cert, const char *key, const char *ca, char *why, size_t wl)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(why, wl, "out of memory");
		return -1;
	}
	int rc = gw_ssl_load(ctx, cert, key, ca, why, wl);
	SSL_CTX_free(ctx);
	return rc;
}
