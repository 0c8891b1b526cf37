/* SPDX-License-Identifier: MIT */
/* gateway/core/tlsfiles.c - a TLS server's files into GnuTLS credentials:
 * the one loader that --check ([modbus_tls]'s check, modbus/mbtls_conf.c), a start and a
 * reload share, so that a file --check accepts is a file the server takes.
 *
 * The certificate chain (PEM, the server's first), the private key, which
 * must belong to the certificate, and the CAs that clients' certificates
 * must chain to: trusted for the verification and named to the client in
 * the CertificateRequest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "../../conf/conf.h"
#include "tlsfiles.h"

/* The file at path into *d (unload() it; conf/rfile.c: never a FIFO's
 * wait, nor another user's link); -1 with why in err, which starts with
 * what. */
static int read_file(const char *what, const char *path, bool secret, gnutls_datum_t *d, char *err, size_t errlen)
{
	char why[CONF_PORT_MAX + 200];
	size_t n;
	char *data = conf_file_read(path, secret, &n, why, sizeof(why));
	if (!data) {
		snprintf(err, errlen, "%s: %s", what, why);
		return -1;
	}
	d->data = (unsigned char *)data;
	d->size = (unsigned)n;
	return 0;
}

static void unload(gnutls_datum_t *d)
{
	if (d->data)
		explicit_bzero(d->data, d->size);
	free(d->data);
	d->data = NULL;
}

static int why_gnutls(char *err, size_t errlen, const char *what, const char *path, int r)
{
	snprintf(err, errlen, "%s %s: %s", what, path, gnutls_strerror(r));
	return -1;
}

/* The chain and the key into cred; the key checked against the chain's first. */
static int load_pair(gnutls_certificate_credentials_t cred, const char *cert, const char *key, char *err,
		     size_t errlen)
{
	gnutls_datum_t cd = { NULL, 0 }, kd = { NULL, 0 };
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrts = 0;
	gnutls_x509_privkey_t pk = NULL;
	int rc = -1, r;
	if (read_file("certificate", cert, false, &cd, err, errlen) < 0)
		goto out;
	if ((r = gnutls_x509_crt_list_import2(&crts, &ncrts, &cd, GNUTLS_X509_FMT_PEM, 0)) < 0 || ncrts == 0) {
		why_gnutls(err, errlen, "certificate", cert, r < 0 ? r : GNUTLS_E_NO_CERTIFICATE_FOUND);
		goto out;
	}
	if (read_file("key", key, true, &kd, err, errlen) < 0)
		goto out;
	if (gnutls_x509_privkey_init(&pk) < 0 || (r = gnutls_x509_privkey_import2(pk, &kd, GNUTLS_X509_FMT_PEM,
										  NULL, 0)) < 0) {
		why_gnutls(err, errlen, "key", key, pk ? r : GNUTLS_E_MEMORY_ERROR);
		goto out;
	}
	r = gnutls_certificate_set_x509_key(cred, crts, ncrts, pk);
	if (r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		snprintf(err, errlen, "key %s does not belong to the certificate %s", key, cert);
	else if (r < 0)
		why_gnutls(err, errlen, "certificate", cert, r);
	else
		rc = 0;
out:
	for (unsigned i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (pk)
		gnutls_x509_privkey_deinit(pk);
	unload(&cd);
	unload(&kd);
	return rc;
}

int gw_tls_files_load(gnutls_certificate_credentials_t cred, const char *cert, const char *key, const char *ca,
		      char *err, size_t errlen)
{
	if (load_pair(cred, cert, key, err, errlen) < 0)
		return -1;
	gnutls_datum_t d = { NULL, 0 };
	if (read_file("CA file", ca, false, &d, err, errlen) < 0)
		return -1;
	int n = gnutls_certificate_set_x509_trust_mem(cred, &d, GNUTLS_X509_FMT_PEM);
	unload(&d);
	if (n <= 0)
		return why_gnutls(err, errlen, "CA file (expected PEM certificates)", ca,
				  n < 0 ? n : GNUTLS_E_NO_CERTIFICATE_FOUND);
	return 0;
}

int gw_tls_files_check(const char *cert, const char *key, const char *ca, char *why, size_t wl)
{
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(why, wl, "out of memory");
		return -1;
	}
	int rc = gw_tls_files_load(cred, cert, key, ca, why, wl);
	gnutls_certificate_free_credentials(cred);
	return rc;
}
