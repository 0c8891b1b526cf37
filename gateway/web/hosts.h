/* SPDX-License-Identifier: MIT */
/* gateway/web/hosts.h - the names the page answers to (the Host header),
 * against DNS rebinding; pure. */
#ifndef GATEWAY_WEB_HOSTS_H
#define GATEWAY_WEB_HOSTS_H

#include <stdbool.h>
#include <stddef.h>

#define GW_HOSTS_MAX 64         /* names held; more are left out */
#define GW_HOSTS_NAME 254       /* a DNS name's 253 characters and its NUL */

/* The names a request's Host may give: lower case, without a trailing dot;
 * "*.DOMAIN" stands for every name under DOMAIN. */
struct gw_hosts {
	int n;
	bool any;                   /* "*": every name */
	char name[GW_HOSTS_MAX][GW_HOSTS_NAME];
};

void gw_hosts_clear(struct gw_hosts *h);
/* A name, "*.DOMAIN" or "*"; one that is no name (an address, a space, a
 * character a DNS name has not) is left out: false. */
bool gw_hosts_add(struct gw_hosts *h, const char *name);
/* Names separated by commas (and spaces), as [http] allowed_hosts holds them. */
void gw_hosts_add_list(struct gw_hosts *h, const char *list);
/* This machine's names: hostname (gethostname()'s) as it is, its first
 * label, that label under .local (mDNS) and under each domain of
 * resolv_conf (the text of /etc/resolv.conf, its "domain" and "search"
 * lines; NULL: none). */
void gw_hosts_add_machine(struct gw_hosts *h, const char *hostname, const char *resolv_conf);

/* May a request that gave this Host header (NULL: none) be answered?  Yes
 * without a header (HTTP/1.0: no browser), for an IP address literal
 * (a.b.c.d or [IPv6], which no other site's page can make a browser send
 * here), for localhost and NAME.localhost (a browser resolves them itself,
 * to loopback), and for a name of h; the port, when given, is not judged
 * (a forwarded port, a container's published one, differs from the one
 * bmsgw listens on).  Anything else, malformed headers too: no. */
bool gw_hosts_ok(const struct gw_hosts *h, const char *header);

/* RFC 9112 section 3.2: "A server MUST respond with a 400 (Bad Request)
 * status code to any HTTP/1.1 request message that lacks a Host header
 * field and to any request message that contains more than one Host
 * header field line or a Host header field with an invalid field value."
 * A request gave n Host lines, the first header (NULL: none), in HTTP/1.0
 * (http10) or later: NULL, or why it is one of them (an empty Host is
 * invalid for an http or https URI; HTTP/1.0 may leave it out). */
const char *gw_hosts_malformed(int n, const char *header, bool http10);
/* header as a log line or an answer may show it: at most len - 1 bytes,
 * each outside printable ASCII, a quote or a backslash as '?'. */
void gw_hosts_shown(const char *header, char *out, size_t len);
/* The answer to a Host that gw_hosts_ok() refuses (421), with
 * gw_hosts_shown()'s text for %s. */
#define GW_HOSTS_REFUSED "\"%s\" is not a name of this gateway, which answers only its own names and addresses (a " \
	"page of another site whose name leads here is not answered): add the name to [http] allowed_hosts if it " \
	"is yours"

#endif
