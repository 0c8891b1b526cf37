/* SPDX-License-Identifier: MIT */
/* gateway/web/hosts.c - the names the page answers to.
 *
 * A page of another site can reach a server of the local network through
 * its visitor's browser: the site's name is made to resolve to the
 * server's address (DNS rebinding), and the browser, believing it still
 * talks to that site, lets the site's script read the answers.  What gives
 * it away is the Host header, the name the script used: the other site's.
 * So a request is answered only when its Host is a name of this gateway
 * (its machine's, its configuration's, its certificate's) or an address
 * literal: a browser sends an address as Host only to a page loaded from
 * that address, which is then the server's own origin, never another
 * site's (Transmission's rpc-host-whitelist and go-ethereum's --http.vhosts
 * judge the same way).  The port is not judged: a rebinding page comes with
 * its own name whatever the port, and a port forwarded by a router or
 * published by a container differs from the one bmsgw listens on.
 * Pure: the header and the names in, the verdict out.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "hosts.h"

#define V6_TEXT 64  /* an IPv6 literal's text, its zone left out */

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The n bytes of name lower-cased into out, one trailing dot dropped: its
 * length, or 0 when it is no DNS name (labels of letters, digits, - and _
 * joined by dots, none empty, at most 253 characters). */
static size_t norm_name(const char *name, size_t n, char out[GW_HOSTS_NAME])
{
	if (n && name[n - 1] == '.')
		n--;
	if (!n || n >= GW_HOSTS_NAME)
		return 0;
	bool in_label = false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c == '.' && !in_label)
			return 0;
		if (c != '.' && !alnum(c) && c != '-' && c != '_')
			return 0;
		in_label = c != '.';
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return in_label ? n : 0;
}

/* The n bytes of s are a dotted-quad IPv4 address. */
static bool ipv4_literal(const char *s, size_t n)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, &a) == 1;
}

/* The n bytes of s (within brackets) are an IPv6 address, with a zone
 * (%25eth0, RFC 6874: unreserved characters and escapes) or not. */
static bool ipv6_literal(const char *s, size_t n)
{
	char buf[V6_TEXT];
	struct in6_addr a;
	const char *pct = memchr(s, '%', n);
	if (pct) {
		size_t z = n - (size_t)(pct - s) - 1; /* the zone's bytes */
		for (size_t i = 1; i <= z; i++)
			if (!alnum(pct[i]) && !strchr("-._~%", pct[i]))
				return false;
		n = (size_t)(pct - s);
		if (!z)
			return false;
	}
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/* A port after a colon: at most 5 digits (none too: "host:" is valid). */
static bool port_ok(const char *p)
{
	size_t n = strspn(p, "0123456789");
	return n <= 5 && p[n] == '\0';
}

void gw_hosts_clear(struct gw_hosts *h)
{
	h->n = 0;
	h->any = false;
}

bool gw_hosts_add(struct gw_hosts *h, const char *name)
{
	if (strcmp(name, "*") == 0) {
		h->any = true;
		return true;
	}
	bool wild = name[0] == '*' && name[1] == '.';
	const char *rest = wild ? name + 2 : name;
	char norm[GW_HOSTS_NAME], entry[GW_HOSTS_NAME];
	size_t n = norm_name(rest, strlen(rest), norm);
	if (!n || n + (wild ? 2 : 0) >= GW_HOSTS_NAME || (!wild && ipv4_literal(norm, n)))
		return false;
	size_t off = wild ? 2 : 0;
	memcpy(entry, "*.", off);
	memcpy(entry + off, norm, n + 1);
	for (int i = 0; i < h->n; i++)
		if (strcmp(h->name[i], entry) == 0)
			return true;
	if (h->n >= GW_HOSTS_MAX)
		return false;
	memcpy(h->name[h->n++], entry, strlen(entry) + 1);
	return true;
}

void gw_hosts_add_list(struct gw_hosts *h, const char *list)
{
	char one[GW_HOSTS_NAME];
	while (list && *list) {
		size_t skip = strspn(list, ", \t");
		list += skip;
		size_t n = strcspn(list, ", \t");
		if (n && n < sizeof(one)) {
			memcpy(one, list, n);
			one[n] = '\0';
			gw_hosts_add(h, one);
		}
		list += n;
	}
}

/* label.DOMAIN for each domain of a "domain" or "search" line of len
 * bytes: its words after the keyword, up to a comment. */
static void add_domains(struct gw_hosts *h, const char *label, const char *line, size_t len)
{
	char name[GW_HOSTS_NAME * 2];
	size_t i = 6; /* the keyword */
	while (i < len) {
		i += strspn(line + i, " \t\r");
		size_t n = strcspn(line + i, " \t\r\n");
		if (i + n > len)
			n = len - i;
		if (!n || line[i] == '#' || line[i] == ';')
			return;
		if (snprintf(name, sizeof(name), "%s.%.*s", label, (int)n, line + i) < (int)GW_HOSTS_NAME)
			gw_hosts_add(h, name);
		i += n;
	}
}

/* The line l (len bytes) starts with keyword k and a blank. */
static bool keyword(const char *l, size_t len, const char *k)
{
	size_t kl = strlen(k);
	return len > kl && strncmp(l, k, kl) == 0 && (l[kl] == ' ' || l[kl] == '\t');
}

void gw_hosts_add_machine(struct gw_hosts *h, const char *hostname, const char *resolv_conf)
{
	char label[GW_HOSTS_NAME], name[GW_HOSTS_NAME + 8];
	size_t n = hostname ? strcspn(hostname, ".") : 0;
	if (!n || n >= sizeof(label) || !gw_hosts_add(h, hostname))
		return;
	memcpy(label, hostname, n);
	label[n] = '\0';
	gw_hosts_add(h, label);
	snprintf(name, sizeof(name), "%s.local", label);
	gw_hosts_add(h, name);
	for (const char *l = resolv_conf; l && *l;) {
		size_t len = strcspn(l, "\n"), sp = strspn(l, " \t");
		if (sp < len && (keyword(l + sp, len - sp, "domain") || keyword(l + sp, len - sp, "search")))
			add_domains(h, label, l + sp, len - sp);
		l += len + (l[len] == '\n');
	}
}

/* name (normalized) is h's: the same, or under a "*.DOMAIN" of it. */
static bool listed(const struct gw_hosts *h, const char *name, size_t n)
{
	for (int i = 0; i < h->n; i++) {
		const char *e = h->name[i];
		if (e[0] == '*') {
			size_t sl = strlen(e + 1); /* ".DOMAIN" */
			if (n > sl && strcmp(name + n - sl, e + 1) == 0)
				return true;
		} else if (strcmp(name, e) == 0) {
			return true;
		}
	}
	return false;
}

bool gw_hosts_ok(const struct gw_hosts *h, const char *header)
{
	if (!header || !header[0])
		return true;
	if (header[0] == '[') {
		const char *end = strchr(header, ']');
		if (!end || (end[1] && (end[1] != ':' || !port_ok(end + 2))))
			return false;
		return ipv6_literal(header + 1, (size_t)(end - header - 1));
	}
	const char *colon = strchr(header, ':');
	if (colon && !port_ok(colon + 1))
		return false; /* a second colon too: an IPv6 address needs its brackets */
	size_t hl = colon ? (size_t)(colon - header) : strlen(header);
	if (ipv4_literal(header, hl))
		return true;
	char name[GW_HOSTS_NAME];
	size_t n = norm_name(header, hl, name);
	if (!n)
		return false;
	if (strcmp(name, "localhost") == 0 || (n > 10 && strcmp(name + n - 10, ".localhost") == 0))
		return true;
	return h->any || listed(h, name, n);
}

const char *gw_hosts_malformed(int n, const char *header, bool http10)
{
	if (n > 1)
		return "a request with two Host header fields is refused (RFC 9112 section 3.2: one, naming this "
		       "gateway)";
	if (header && !header[0])
		return "an empty Host header field is refused (RFC 9112 section 3.2: the name or address of this "
		       "gateway)";
	if (!header && !http10)
		return "an HTTP/1.1 request without a Host header field is refused (RFC 9112 section 3.2)";
	return NULL;
}

void gw_hosts_shown(const char *header, char *out, size_t len)
{
	size_t i = 0;
	for (; header && header[i] && i + 1 < len; i++)
		out[i] = header[i] > ' ' && header[i] <= '~' && header[i] != '"' && header[i] != '\\' ? header[i] : '?';
	if (len)
		out[i] = '\0';
}
