/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_hosts.c - the Host header a client sends, judged against
 * names as [http] allowed_hosts gives them (gateway/web/hosts.c): the
 * input's first line is the list, the rest the header.  Invariants: no
 * crash, no read past the strings; no header with a blank, a control
 * character, a quote or a bracket out of place is ever answered; without
 * a list only an address literal, localhost or NAME.localhost is; what a
 * list answers, the list with * answers too. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../gateway/web/hosts.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is the host part of header (its port left out) localhost or an address? */
static bool builtin(const char *header)
{
	if (header[0] == '[')
		return strchr(header, ']') != NULL;
	size_t n = strcspn(header, ":");
	char host[300];
	if (n >= sizeof(host))
		return false;
	memcpy(host, header, n);
	host[n] = '\0';
	if (n && host[n - 1] == '.')
		host[--n] = '\0';
	struct in_addr a;
	return inet_pton(AF_INET, host, &a) == 1 || strcasecmp(host, "localhost") == 0 ||
	       (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	char *nl = strchr(s, '\n');
	const char *header = nl ? nl + 1 : s;
	if (nl)
		*nl = '\0';
	static struct gw_hosts none, list, any;
	gw_hosts_clear(&none);
	gw_hosts_clear(&list);
	gw_hosts_add_list(&list, nl ? s : "");
	any = list;
	gw_hosts_add(&any, "*");
	gw_hosts_add_machine(&any, s, header); /* the machine's names from any text, for the parsing */
	bool by_none = gw_hosts_ok(&none, header), by_list = gw_hosts_ok(&list, header);
	if (by_list && header[strcspn(header, " \t\r\n\"'<>\\/?#@")])
		abort();
	if (by_none && header[0] && !builtin(header))
		abort();
	if ((by_none && !by_list) || (by_list && !gw_hosts_ok(&any, header)))
		abort();
	free(s);
	return 0;
}
