/* SPDX-License-Identifier: MIT */
/* gateway/web/http_conf.h - [http], the status page's own section of the
 * configuration (conf/section.h): its struct, the section conf/ is handed
 * (the service table's line names it) and the copy the server reads. */
#ifndef GATEWAY_WEB_HTTP_CONF_H
#define GATEWAY_WEB_HTTP_CONF_H

#include "../../conf/section.h"

/* [http]: the read-only status page, its JSON API and /metrics (bmsgw(8) "STATUS PAGE, HISTORY AND METRICS"). */
struct conf_http {
	bool enabled;                    /* a [http] section exists */
	int line;
	char listen_host[CONF_HOST_MAX]; /* default 0.0.0.0 */
	int listen_port;                 /* default 8080 */
	struct conf_nets clients;        /* allowlist; none given = every client */
	int max_clients;                 /* HTTP connections at once (default 32) */
	char tls_cert[CONF_PORT_MAX];    /* "" = plain HTTP; else HTTPS with this PEM chain */
	char tls_key[CONF_PORT_MAX];     /* its private key (PEM), a private file */
	char users_file[CONF_PORT_MAX];  /* "" = no logins; else NAME:ROLE:HASH lines (web/users.h) */
	bool metrics_public;             /* /metrics without a login */
	bool setup;                      /* the Setup tab may change the configuration (default true) */
	bool ingress;                    /* Home Assistant's ingress proxy (web/ingress.c) */
	char allowed_hosts[CONF_PORT_MAX]; /* more names the page answers to (web/hosts.c), "" = none */
	double csrf_lifetime;            /* s an X-CSRF-Token of the setup API is good for (default 3600) */
	char scheme[8];                  /* derived: "https" with tls_cert, else "http" */
};

extern const struct conf_section gw_http_section;

/* c's [http] (its defaults when the file has none). */
static inline const struct conf_http *gw_http_cfg(const struct conf *c)
{
	return conf_obj(c, &gw_http_section, 0);
}

#endif
