/* SPDX-License-Identifier: MIT */
/* gateway/web/http_conf.c - [http], the status page's own section of the
 * configuration (conf/section.h): its keys, the checks after the parse (a
 * port of its own; tls_cert and tls_key together, loaded as the server
 * loads them, creds.c; users_file only with TLS: a login over plain HTTP
 * would show its password to the network; private, every line good,
 * users.c) and its lines of --check. */
#include "http_conf.h"

#include <stddef.h>
#include <string.h>

#include "creds.h"
#include "users.h"

enum {
	HT_LISTEN, HT_CLIENTS, HT_MAX_CLIENTS, HT_TLS_CERT, HT_TLS_KEY, HT_USERS_FILE, HT_METRICS_PUBLIC, HT_INGRESS,
	HT_SETUP, HT_ALLOWED_HOSTS, HT_CSRF_LIFETIME, HT_NKEYS
};

#define HT(f) offsetof(struct conf_http, f)
_Static_assert(HT(listen_port) == HT(listen_host) + CONF_HOST_MAX, "KT_LISTEN: the port follows the host");

/* The files are read again at every reload (tls_cert, tls_key, users_file:
 * live); the socket and who may connect restart the server. */
static const struct conf_key keys[HT_NKEYS] = {
	[HT_LISTEN] = {"listen", CONF_RESTART, KT_LISTEN, 0, 0, false, NULL, HT(listen_host), "0.0.0.0:8080"},
	[HT_CLIENTS] = {"clients", CONF_RESTART, KT_NETS, 0, 0, false, NULL, HT(clients), NULL},
	[HT_MAX_CLIENTS] = {"max_clients", CONF_RESTART, KT_INT, 1, 1000, false, NULL, HT(max_clients), "32"},
	[HT_TLS_CERT] = {"tls_cert", CONF_LIVE, KT_PATH, 0, 0, false, NULL, HT(tls_cert), NULL, .file = CONF_FILE_CERT},
	[HT_TLS_KEY] = {"tls_key", CONF_LIVE, KT_PATH, 0, 0, false, NULL, HT(tls_key), NULL, .file = CONF_FILE_KEY},
	[HT_USERS_FILE] = {"users_file", CONF_LIVE, KT_PATH, 0, 0, false, NULL, HT(users_file), NULL,
			   .file = CONF_FILE_USERS},
	[HT_METRICS_PUBLIC] = {"metrics_public", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, HT(metrics_public), "false"},
	[HT_SETUP] = {"setup", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, HT(setup), "true", .flags = CONF_KF_PACKS_LATER},
	[HT_INGRESS] = {"ingress", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, HT(ingress), "false"},
	[HT_ALLOWED_HOSTS] = {"allowed_hosts", CONF_LIVE, KT_HOSTS, 0, 0, false, NULL, HT(allowed_hosts), NULL},
	[HT_CSRF_LIFETIME] = {"csrf_lifetime", CONF_LIVE, KT_DOUBLE, 10, 604800, false, NULL, HT(csrf_lifetime), "3600"},
};

/* HTTP and HTTPS are two servers: adding or removing tls_cert restarts it;
 * new files under the same scheme are taken live (web.c) */
static const struct conf_derived derived[] = {
	{ HT(scheme), CONF_RESTART },
};

/* HTTPS and its logins: the files loaded as the server will load them. */
static void secure(struct conf_load *x, const struct conf_http *w, const int *seen)
{
	char why[CONF_PORT_MAX * 2 + 200];
	if (!seen[HT_TLS_CERT] != !seen[HT_TLS_KEY]) {
		int k = seen[HT_TLS_CERT] ? HT_TLS_CERT : HT_TLS_KEY;
		conf_fail(x, seen[k], "http", keys[k].name, "%s", k == HT_TLS_CERT
			  ? "needs tls_key too (the certificate's private key)" : "needs tls_cert too (the certificate of the key)");
		return;
	}
	if (seen[HT_TLS_CERT] && gw_creds_check(w->tls_cert, w->tls_key, why, sizeof(why)) < 0) {
		conf_fail(x, seen[HT_TLS_CERT], "http", "tls_cert", "%s", why);
		return;
	}
	if (!seen[HT_USERS_FILE])
		return;
	if (!seen[HT_TLS_CERT]) {
		conf_fail(x, seen[HT_USERS_FILE], "http", "users_file", "needs tls_cert (logins only over HTTPS: over plain "
			  "HTTP every password would cross the network readable)");
		return;
	}
	int n = gw_users_count(w->users_file, why, sizeof(why));
	if (n < 0)
		conf_fail(x, seen[HT_USERS_FILE], "http", "users_file", "%s", why);
	else if (n == 0)
		conf_fail(x, seen[HT_USERS_FILE], "http", "users_file", "%s has no user (expected lines of bmsgw "
			  "--hash-password)", w->users_file);
}

/* [http]: a port of its own, its HTTPS and logins. */
static void finish(struct conf_load *x)
{
	const struct conf *c = conf_loading(x);
	struct conf_http *w = (struct conf_http *)gw_http_cfg(c);
	const int *seen = conf_seen(x, &gw_http_section, 0);
	conf_bfmt(w->scheme, sizeof(w->scheme), "%s", seen[HT_TLS_CERT] ? "https" : "http");
	if (!w->enabled)
		return;
	if (conf_listen_clash(c->gw.listen_host, c->gw.listen_port, w->listen_host, w->listen_port)) {
		conf_fail(x, conf_key_line(x, &gw_http_section, 0, HT_LISTEN), "http", "listen",
			  "port %d is the Modbus server's (expected another port)", w->listen_port);
		return;
	}
	secure(x, w, seen);
}

static void print(const struct conf *c, FILE *out)
{
	char hp[CONF_HOST_MAX + 16];
	const struct conf_http *w = gw_http_cfg(c);
	if (!w->enabled)
		return;
	conf_fmt_hostport(hp, sizeof(hp), w->listen_host, w->listen_port);
	fprintf(out, "http\n  listen        %s (status page, /api/state, /metrics; read-only), at most %d "
		"connections, clients %s\n", hp, w->max_clients, w->clients.n ? w->clients.text : "any");
	if (w->tls_cert[0])
		fprintf(out, "  https         certificate %s, key %s (reloaded at SIGHUP), TLS 1.2 and 1.3\n",
			w->tls_cert, w->tls_key);
	if (w->users_file[0])
		fprintf(out, "  logins        users from %s (HTTP Basic over TLS; the configuration, /api/config and "
			"/api/setup/, for admin only)%s\n",
			w->users_file, w->metrics_public ? "; /metrics without a login" : "");
	fprintf(out, "  setup         %s\n", !w->setup ? "read only (setup = false)"
		: w->users_file[0] ? "an admin login may change the configuration from the page (/api/setup/)"
		: "a setup code (logged at start) creates the first admin (/api/setup/)");
	fprintf(out, "  hosts         answered as this machine's names, localhost and any address%s%s; another "
		"name 421 (DNS rebinding)\n", w->allowed_hosts[0] ? ", and " : "", w->allowed_hosts);
	if (w->ingress)
		fprintf(out, "  ingress       Home Assistant's proxy (172.30.32.2) with X-Ingress-Path: "
			"its logged-in users, as admin; the header from elsewhere refused\n");
}

/* The page's Setup tab adds the packs of a new installation: with setup =
 * true the file may have none (conf's check of the packs, section.h). */
const struct conf_section gw_http_section = {
	.word = "http", .max = 1, .size = sizeof(struct conf_http), .name = CONF_NO_FIELD, .line = HT(line),
	.enabled = HT(enabled), .about = "the status page", .packs_later = "to add them from the page's Setup tab",
	.keys = keys, .nkeys = HT_NKEYS, .derived = derived, .nderived = (int)(sizeof(derived) / sizeof(derived[0])),
	.list_order = 70, .finish_order = 60, .print_order = 80, .finish = finish, .print = print,
};
