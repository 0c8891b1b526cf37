/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ingress.c - X-Ingress-Path as Home Assistant's ingress
 * proxy's requests carry it (gateway/web/ingress.c), from the proxy's
 * address and another.  Invariants: no crash, no read past the string; a
 * header is believed only from the proxy, and only a prefix of the form
 * /api/hassio_ingress/TOKEN with nothing a URL or header could be bent with
 * (no slash after the token, no dot, space, quote or control character). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/web/ingress.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	struct sockaddr_in proxy = {.sin_family = AF_INET}, other = {.sin_family = AF_INET};
	inet_pton(AF_INET, GW_INGRESS_PROXY_ADDR, &proxy.sin_addr);
	inet_pton(AF_INET, "172.30.32.3", &other.sin_addr);
	enum gw_ingress p = gw_ingress_judge(true, (struct sockaddr *)&proxy, sizeof(proxy), s);
	enum gw_ingress o = gw_ingress_judge(true, (struct sockaddr *)&other, sizeof(other), s);
	if (o != GW_INGRESS_FORGED)
		abort();
	if (p == GW_INGRESS_PROXY) {
		size_t base = strlen(GW_INGRESS_BASE);
		if (strncmp(s, GW_INGRESS_BASE, base) != 0 || strpbrk(s + base, "/.%\"' <>\\\r\n\t") != NULL)
			abort();
	}
	if (gw_ingress_judge(false, (struct sockaddr *)&proxy, sizeof(proxy), s) != GW_INGRESS_NONE)
		abort();
	free(s);
	return 0;
}
