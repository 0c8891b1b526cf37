/* SPDX-License-Identifier: MIT */
/* gateway/web/secrets.c - the HTTP server's files and names: the
 * certificate and key (tls_cert: tls.c hands each handshake the
 * certificate; TLS 1.2 and 1.3 only), the users file (its logins checked
 * by auth.c), read at start and at every reload and taken over by the
 * running server at a reload (new handshakes get the new certificate,
 * connections open keep theirs; a login thread started or stopped); and
 * the names the page answers to (hosts.c), learnt at both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/log.h"
#include "../model/gw.h"
#include "auth.h"
#include "creds.h"
#include "http_int.h"
#include "tls.h"

#define RESOLV_CONF "/etc/resolv.conf"   /* this machine's domains (http_learn_hosts()) */

static void log_cert(struct gw_http *h, const struct gw_creds *c)
{
	gw_info("http: certificate %s (%s)", h->cfg.tls_cert, c->about);
}

int gw_http_secrets_load(const struct conf_http *c, struct gw_http_secrets *s, char *err, size_t errlen)
{
	char why[CONF_PORT_MAX * 2 + 200];
	memset(s, 0, sizeof(*s));
	if (c->tls_cert[0] && !(s->creds = gw_creds_load(c->tls_cert, c->tls_key, why, sizeof(why)))) {
		snprintf(err, errlen, "http: tls_cert: %s", why);
		return -1;
	}
	if (c->users_file[0]) {
		if (!(s->users = malloc(sizeof(*s->users))) || gw_users_load(c->users_file, s->users, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "http: users_file: %s", s->users ? why : "out of memory");
			gw_http_secrets_free(s);
			return -1;
		}
	}
	return 0;
}

void gw_http_secrets_free(struct gw_http_secrets *s)
{
	gw_creds_free(s->creds);
	free(s->users);
	memset(s, 0, sizeof(*s));
}

/* The names the page answers to (hosts.c): this machine's (gethostname(),
 * under .local and the domains of /etc/resolv.conf), [http] listen's when
 * it is a name, allowed_hosts, and the certificate's DNS names (creds:
 * a new certificate's, else those of the one in force).  Read at start and
 * at every reload: a host renamed, a DHCP lease's new search domain. */
void http_learn_hosts(struct gw_http *h, const struct gw_creds *creds)
{
	char name[GW_HOSTS_NAME] = "", resolv[4096] = "";
	if (creds) {
		gw_hosts_clear(&h->cert_hosts);
		for (int i = 0; i < creds->nnames; i++)
			gw_hosts_add(&h->cert_hosts, creds->names[i]);
	}
	gw_hosts_clear(&h->hosts);
	if (gethostname(name, sizeof(name) - 1) != 0)
		name[0] = '\0';
	FILE *f = fopen(RESOLV_CONF, "re");
	if (f) {
		resolv[fread(resolv, 1, sizeof(resolv) - 1, f)] = '\0';
		fclose(f);
	}
	gw_hosts_add_machine(&h->hosts, name, resolv);
	gw_hosts_add(&h->hosts, h->cfg.listen_host); /* an address or none is left out */
	gw_hosts_add_list(&h->hosts, h->cfg.allowed_hosts);
	for (int i = 0; i < h->cert_hosts.n; i++)
		gw_hosts_add(&h->hosts, h->cert_hosts.name[i]);
}

int http_take_secrets(struct gw_http *h, struct gw_http_secrets *s, char *err, size_t errlen)
{
	if (s->creds)
		log_cert(h, s->creds);
	if (s->creds && !(h->tls = gw_tls_new(s->creds))) {
		s->creds = NULL;
		snprintf(err, errlen, "http: out of memory");
		return -1;
	}
	s->creds = NULL;
	if (s->users && !(h->auth = gw_auth_new(h->gw->loop, s->users, http_addr_share(&h->cfg)))) {
		s->users = NULL;
		snprintf(err, errlen, "http: cannot start the login thread");
		return -1;
	}
	s->users = NULL;
	return 0;
}

void gw_http_take_live(struct gw_http *h, const struct conf_http *c, struct gw_http_secrets *s)
{
	/* first: a request resumed below passes the gate on the new keys */
	memcpy(h->cfg.tls_cert, c->tls_cert, sizeof(h->cfg.tls_cert));
	memcpy(h->cfg.tls_key, c->tls_key, sizeof(h->cfg.tls_key));
	memcpy(h->cfg.users_file, c->users_file, sizeof(h->cfg.users_file));
	h->cfg.metrics_public = c->metrics_public;
	h->cfg.setup = c->setup;
	h->cfg.csrf_lifetime = c->csrf_lifetime;
	memcpy(h->cfg.allowed_hosts, c->allowed_hosts, sizeof(h->cfg.allowed_hosts));
	http_learn_hosts(h, s->creds);
	if (s->creds && h->tls) {
		if (strcmp(s->creds->about, gw_tls_about(h->tls)) != 0)
			log_cert(h, s->creds);
		gw_tls_set(h->tls, s->creds);
		s->creds = NULL;
	}
	if (s->users && h->auth) {
		int n = s->users->n;
		if (gw_auth_users(h->auth, s->users))
			gw_info("http: %d user%s from %s", n, n == 1 ? "" : "s", c->users_file);
		s->users = NULL;
	} else if (s->users && !h->auth) {
		if ((h->auth = gw_auth_new(h->gw->loop, s->users, http_addr_share(&h->cfg))))
			gw_info("http: logins from %s from now on", c->users_file);
		else
			gw_err("http: cannot start the login thread: no logins, every request refused");
		s->users = NULL;
	} else if (!s->users && h->auth) {
		/* a request waiting for its login goes on without one */
		bool any = false;
		for (struct req *r = h->reqs; r; r = r->next)
			if (r->ask) {
				gw_auth_cancel(&r->ask);
				r->auth = AU_NONE;
				http_resume(r);
				any = true;
			}
		gw_auth_free(h->auth);
		h->auth = NULL;
		gw_info("http: no logins from now on (no users_file)");
		if (any)
			http_run(h);
	}
	gw_http_secrets_free(s);
}
