/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/cert.c - the page's own certificate when the first
 * admin is made and none is set: an ECDSA P-256 key and a self-signed
 * X.509 v3 certificate (SHA-256, ten years) whose subjectAltName names this
 * host (its name and every address it has) and localhost, 127.0.0.1 and
 * ::1, so that a browser that was told to trust it once finds it good at
 * any of them.  Its SHA-256 fingerprint is shown to compare with what the
 * browser says.  OpenSSL, on the worker thread (no global state). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setup_int.h"

#define CERT_DAYS 3650

/* One name of the host as a SAN entry: an address as IP:, a name as DNS:. */
static size_t san_add(char *out, size_t n, size_t cap, const char *host)
{
	unsigned char buf[16];
	char entry[300];
	if (!host[0] || n >= cap)
		return n;
	bool ip = inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
	snprintf(entry, sizeof(entry), "%s:%s", ip ? "IP" : "DNS", host);
	size_t el = strlen(entry);
	for (const char *p = out; (p = strstr(p, entry)); p++)
		if ((p == out || p[-1] == ',') && (p[el] == ',' || p[el] == '\0'))
			return n; /* there already */
	int r = snprintf(out + n, cap - n, ",%s", entry);
	return r > 0 && (size_t)r < cap - n ? n + (size_t)r : n;
}

/* "DNS:localhost,IP:127.0.0.1,IP:::1", the name the browser asked for, the
 * host's name and every address it has (where the sandbox lets
 * getifaddrs() ask the kernel). */
static void san_text(const char *host, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "DNS:localhost,IP:127.0.0.1,IP:::1");
	char name[256] = "";
	n = san_add(out, n, cap, host);
	if (gethostname(name, sizeof(name) - 1) == 0)
		n = san_add(out, n, cap, name);
	struct ifaddrs *ifs;
	if (getifaddrs(&ifs) != 0)
		return;
	for (struct ifaddrs *i = ifs; i && n < cap; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN] = "";
		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a, sizeof(a));
		else if (i->ifa_addr->sa_family == AF_INET6 &&
			 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr))
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a, sizeof(a));
		n = san_add(out, n, cap, a);
	}
	freeifaddrs(ifs);
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -1;
	int r = X509_add_ext(x, e, -1) ? 0 : -1;
	X509_EXTENSION_free(e);
	return r;
}

static char *pem_of(int (*write)(BIO *b, void *obj), void *obj)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *p;
	if (b && write(b, obj)) {
		long n = BIO_get_mem_data(b, &p);
		if (n > 0 && (out = malloc((size_t)n + 1))) {
			memcpy(out, p, (size_t)n);
			out[n] = '\0';
		}
	}
	BIO_free(b);
	return out;
}

static int write_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

static int write_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

static void fingerprint(X509 *x, char *fpr, size_t fcap)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	fpr[0] = '\0';
	if (!X509_digest(x, EVP_sha256(), md, &n))
		return;
	for (unsigned i = 0; i < n && 3 * (size_t)i + 3 <= fcap; i++) {
		size_t at = i ? 3 * (size_t)i - 1 : 0;
		snprintf(fpr + at, fcap - at, "%s%02X", i ? ":" : "", md[i]);
	}
}

/* The certificate's fields, extensions and signature. */
static int fill(X509 *x, EVP_PKEY *pk, const char *host)
{
	unsigned char serial[16];
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return -1;
	serial[0] &= 0x7f; /* positive */
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	X509_NAME *name = X509_get_subject_name(x);
	char san[2048];
	san_text(host, san, sizeof(san));
	ok = ok && X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL) && X509_set_pubkey(x, pk) &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"bmsgw", -1, -1, 0) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)(host[0] ? host : "localhost"),
					-1, -1, 0) &&
	     X509_set_issuer_name(x, name) && add_ext(x, NID_subject_alt_name, san) == 0 &&
	     add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
	     add_ext(x, NID_key_usage, "critical,digitalSignature") == 0 &&
	     add_ext(x, NID_ext_key_usage, "serverAuth") == 0 && X509_sign(x, pk, EVP_sha256()) > 0;
	return ok ? 0 : -1;
}

int setup_cert_make(const char *host, char **cert_pem, char **key_pem, char *fpr, size_t fcap, char *why, size_t cap)
{
	*cert_pem = *key_pem = NULL;
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int rc = -1;
	if (pk && x && fill(x, pk, host) == 0) {
		*cert_pem = pem_of(write_cert, x);
		*key_pem = pem_of(write_key, pk);
		fingerprint(x, fpr, fcap);
		rc = *cert_pem && *key_pem ? 0 : -1;
	}
	if (rc < 0) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
		snprintf(why, cap, "cannot make a certificate (OpenSSL)");
	}
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}

int setup_cert_fingerprint(const char *pem, size_t len, char *fpr, size_t fcap)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	fpr[0] = '\0';
	if (x)
		fingerprint(x, fpr, fcap);
	X509_free(x);
	BIO_free(b);
	return fpr[0] ? 0 : -1;
}
