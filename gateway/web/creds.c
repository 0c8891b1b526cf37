/* SPDX-License-Identifier: MIT */
/* gateway/web/creds.c - load the HTTPS server's certificate chain and its
 * private key (PEM) with GnuTLS, and check that the key is the
 * certificate's (their public keys compared). */
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../conf/conf.h"
#include "creds.h"

/* The DNS names of the certificate's subjectAltName: names the page is
 * reached by (the Host check, hosts.h). */
static void dns_names(struct gw_creds *c, gnutls_x509_crt_t crt)
{
	c->nnames = 0;
	for (unsigned seq = 0; c->nnames < GW_CREDS_NAMES; seq++) {
		char name[GW_HOSTS_NAME];
		size_t len = sizeof(name) - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name, &len, NULL);
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* longer than a DNS name */
		if (type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME && len < sizeof(name) && !memchr(name, '\0', len)) {
			name[len] = '\0';
			memcpy(c->names[c->nnames++], name, len + 1);
		}
	}
}

static void about(struct gw_creds *c)
{
	gnutls_x509_crt_t crt;
	if (gnutls_pcert_export_x509(&c->pcert[0], &crt) < 0)
		return;
	dns_names(c, crt);
	char dn[120] = "", serial[40] = "", hex[84] = "";
	size_t dl = sizeof(dn), sl = sizeof(serial);
	if (gnutls_x509_crt_get_dn(crt, dn, &dl) < 0)
		dn[0] = '\0';
	if (gnutls_x509_crt_get_serial(crt, serial, &sl) < 0)
		sl = 0;
	for (size_t i = 0; i < sl && i < 40; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)serial[i]);
	time_t t = gnutls_x509_crt_get_expiration_time(crt);
	struct tm tm;
	char until[32] = "?";
	if (t != (time_t)-1 && gmtime_r(&t, &tm))
		strftime(until, sizeof(until), "%Y-%m-%d %H:%M UTC", &tm);
	snprintf(c->about, sizeof(c->about), "%.100s, serial %.40s, valid until %s", dn, hex, until);
	gnutls_x509_crt_deinit(crt);
}

/* Is key the private key of the chain's first certificate? */
static int key_matches(struct gw_creds *c)
{
	gnutls_pubkey_t pk;
	gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
	int ok = 0;
	if (gnutls_pubkey_init(&pk) < 0)
		return 0;
	if (gnutls_pubkey_import_privkey(pk, c->key, 0, 0) >= 0 &&
	    gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &a) >= 0 &&
	    gnutls_pubkey_export2(c->pcert[0].pubkey, GNUTLS_X509_FMT_DER, &b) >= 0)
		ok = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(pk);
	return ok;
}

/* A file read whole into a datum (rfile.c: never a FIFO's wait, nor
 * another user's link; a key private): 0, or -1 with err. */
static int load(const char *path, bool secret, gnutls_datum_t *d, char *err, size_t errlen)
{
	size_t n;
	char *data = conf_file_read(path, secret, &n, err, errlen);
	if (!data)
		return -1;
	d->data = (unsigned char *)data;
	d->size = (unsigned)n;
	return 0;
}

static void unload(gnutls_datum_t *d)
{
	if (d->data)
		explicit_bzero(d->data, d->size);
	free(d->data);
}

struct gw_creds *gw_creds_load(const char *cert, const char *key, char *err, size_t errlen)
{
	struct gw_creds *c = calloc(1, sizeof(*c));
	gnutls_datum_t cd = {NULL, 0}, kd = {NULL, 0};
	int rc;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->npcert = GW_CREDS_CHAIN_MAX;
	if ((rc = load(key, true, &kd, err, errlen)) < 0 || (rc = load(cert, false, &cd, err, errlen)) < 0) {
		c->npcert = 0;
	} else if ((rc = gnutls_pcert_list_import_x509_raw(c->pcert, &c->npcert, &cd, GNUTLS_X509_FMT_PEM, 0)) < 0) {
		c->npcert = 0;
		snprintf(err, errlen, "%s: not a PEM certificate chain (of at most %d): %s", cert, GW_CREDS_CHAIN_MAX,
			 gnutls_strerror(rc));
	} else if ((rc = gnutls_privkey_init(&c->key)) < 0 ||
		   (rc = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		snprintf(err, errlen, "%s: not a PEM private key without a passphrase: %s", key, gnutls_strerror(rc));
	} else if (!key_matches(c)) {
		snprintf(err, errlen, "%s is not the key of the certificate in %s", key, cert);
		rc = -1;
	}
	unload(&cd);
	unload(&kd);
	if (rc < 0) {
		gw_creds_free(c);
		return NULL;
	}
	about(c);
	return c;
}

void gw_creds_free(struct gw_creds *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if (c->key)
		gnutls_privkey_deinit(c->key);
	free(c);
}

int gw_creds_check(const char *cert, const char *key, char *why, size_t wl)
{
	struct gw_creds *c = gw_creds_load(cert, key, why, wl);
	if (!c)
		return -1;
	gw_creds_free(c);
	return 0;
}
