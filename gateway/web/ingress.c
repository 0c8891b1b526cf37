/* SPDX-License-Identifier: MIT */
/* gateway/web/ingress.c - Home Assistant's ingress proxy, told apart.
 *
 * Under Home Assistant OS the add-on's page opens in Home Assistant's own
 * panel: the Supervisor's ingress proxy, at 172.30.32.2 on the hassio
 * network, forwards the requests of users Home Assistant has logged in,
 * the prefix stripped, with X-Ingress-Path: /api/hassio_ingress/TOKEN.
 * The page needs nothing of the prefix (its links, scripts and API calls
 * are relative), so the header is only a mark, and a mark anyone can
 * write: it is believed from the proxy's address alone, and a request that
 * carries it from any other address is refused, never served as a login.
 * Pure: the address and the header in, the verdict out.
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

#include "ingress.h"

#define TOKEN_MAX 128

bool gw_ingress_prefix_ok(const char *header)
{
	size_t base = strlen(GW_INGRESS_BASE);
	if (!header || strncmp(header, GW_INGRESS_BASE, base) != 0)
		return false;
	const char *t = header + base;
	size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
	return n >= 1 && n <= TOKEN_MAX && t[n] == '\0';
}

bool gw_ingress_proxy_peer(const struct sockaddr *peer, socklen_t addrlen)
{
	struct in_addr proxy;
	if (!peer || inet_pton(AF_INET, GW_INGRESS_PROXY_ADDR, &proxy) != 1)
		return false;
	if (peer->sa_family == AF_INET && addrlen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)peer;
		return a->sin_addr.s_addr == proxy.s_addr;
	}
	if (peer->sa_family == AF_INET6 && addrlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)peer;
		return IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && memcmp(&a->sin6_addr.s6_addr[12], &proxy, 4) == 0;
	}
	return false;
}

enum gw_ingress gw_ingress_judge(bool on, const struct sockaddr *peer, socklen_t addrlen, const char *header)
{
	if (!on || !header)
		return GW_INGRESS_NONE;
	if (!gw_ingress_proxy_peer(peer, addrlen) || !gw_ingress_prefix_ok(header))
		return GW_INGRESS_FORGED;
	return GW_INGRESS_PROXY;
}
