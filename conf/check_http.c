/* SPDX-License-Identifier: MIT */
/* conf/check_http.c - the checks of [http]'s HTTPS and logins: tls_cert
 * and tls_key together, readable, the key private and the certificate's;
 * users_file only with TLS (a login over plain HTTP would show its
 * password to the network), private, every line good.  The files are
 * loaded by the loaders the gateway lent (struct conf_loaders, conf.h),
 * [modbus_tls]'s too. */
#include <string.h>

#include "conf_int.h"

static const struct conf_loaders *loaders;

void conf_use_loaders(const struct conf_loaders *l)
{
	loaders = l;
}

const struct conf_loaders *conf__loaders(void)
{
	static const struct conf_loaders none;
	return loaders ? loaders : &none;
}

/* why, for a file no loader was lent for */
#define NO_LOADER "cannot be checked: no loader (conf_use_loaders)"

static void fail_key(struct conf_load *x, int k, const char *why)
{
	conf__fail(x, x->http_seen[k], "http", conf__keys[k].name, "%s", why);
}

void conf__check_http_secure(struct conf_load *x)
{
	struct conf_http *w = &x->c.http;
	const int *seen = x->http_seen;
	char why[CONF_PORT_MAX * 2 + 200];
	conf_bfmt(w->scheme, sizeof(w->scheme), "%s", seen[K_HT_TLS_CERT] ? "https" : "http");
	if (!w->enabled)
		return;
	if (!seen[K_HT_TLS_CERT] != !seen[K_HT_TLS_KEY]) {
		int k = seen[K_HT_TLS_CERT] ? K_HT_TLS_CERT : K_HT_TLS_KEY;
		fail_key(x, k, k == K_HT_TLS_CERT ? "needs tls_key too (the certificate's private key)"
							  : "needs tls_cert too (the certificate of the key)");
		return;
	}
	if (seen[K_HT_TLS_CERT]) {
		int (*https)(const char *, const char *, char *, size_t) = conf__loaders()->https;
		if (!https || https(w->tls_cert, w->tls_key, why, sizeof(why)) < 0) {
			fail_key(x, K_HT_TLS_CERT, https ? why : NO_LOADER);
			return;
		}
	}
	if (seen[K_HT_USERS_FILE]) {
		if (!seen[K_HT_TLS_CERT]) {
			fail_key(x, K_HT_USERS_FILE, "needs tls_cert (logins only over HTTPS: over plain HTTP "
							  "every password would cross the network readable)");
			return;
		}
		int (*users)(const char *, char *, size_t) = conf__loaders()->users;
		int n = users ? users(w->users_file, why, sizeof(why)) : -1;
		if (n < 0)
			fail_key(x, K_HT_USERS_FILE, users ? why : NO_LOADER);
		else if (n == 0) {
			conf_bfmt(why, sizeof(why), "%s has no user (expected lines of bmsgw --hash-password)",
				   w->users_file);
			fail_key(x, K_HT_USERS_FILE, why);
		}
	}
}
