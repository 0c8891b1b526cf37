/* SPDX-License-Identifier: MIT */
/* gateway/web/ingress.h - Home Assistant's ingress: which requests come
 * from its proxy ([http] ingress = true), pure. */
#ifndef GATEWAY_WEB_INGRESS_H
#define GATEWAY_WEB_INGRESS_H

#include <stdbool.h>
#include <sys/socket.h>

/* The address Home Assistant's Supervisor gives its ingress proxy on its
 * network (hassio, 172.30.32.0/23): the one peer whose X-Ingress-Path is
 * believed. */
#define GW_INGRESS_PROXY_ADDR "172.30.32.2"
/* The prefix the proxy serves an add-on's panel under:
 * /api/hassio_ingress/TOKEN, TOKEN of [A-Za-z0-9_-] */
#define GW_INGRESS_BASE "/api/hassio_ingress/"

enum gw_ingress {
	GW_INGRESS_NONE,   /* no X-Ingress-Path (or ingress is off): as any request */
	GW_INGRESS_PROXY,  /* from the proxy, with a well-formed prefix: a logged-in user of Home Assistant */
	GW_INGRESS_FORGED, /* X-Ingress-Path from another address, or not a prefix: refused */
};

/* Judge a request of peer (addrlen bytes; NULL when unknown) that carried
 * header (X-Ingress-Path's value, NULL without one), with ingress on or
 * off (off: the header means nothing, NONE). */
enum gw_ingress gw_ingress_judge(bool on, const struct sockaddr *peer, socklen_t addrlen, const char *header);

/* peer (addrlen bytes; NULL when unknown) is the proxy: 172.30.32.2, as
 * IPv4 or IPv4-mapped IPv6. */
bool gw_ingress_proxy_peer(const struct sockaddr *peer, socklen_t addrlen);

/* header is a prefix the proxy sends: GW_INGRESS_BASE, then a token of 1
 * to 128 characters of [A-Za-z0-9_-], nothing else (no slash, no dot, no
 * space or control character). */
bool gw_ingress_prefix_ok(const char *header);

#endif
