/* SPDX-License-Identifier: MIT */
/* conf/address.c - addresses as the configuration writes them: host names
 * and IP addresses, HOST:PORT, networks for allowlists, Bluetooth
 * addresses, and the port of a pack (/dev/..., tcp://HOST:PORT, ble://MAC,
 * a CAN interface or slcan:///dev/...).
 */
#include "conf_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <sys/socket.h>

#include "../bms/bms.h"

bool conf__is_ipv4_like(const char *h)
{
	for (; *h; h++)
		if (!isdigit((unsigned char)*h) && *h != '.')
			return false;
	return true;
}

int conf__check_host(const char *h, bool v6, char *why, size_t wl)
{
	if (*h == '\0') {
		conf_bfmt(why, wl, "missing host");
		return -1;
	}
	if (strlen(h) >= CONF_HOST_MAX) {
		conf_bfmt(why, wl, "host is longer than %d characters", CONF_HOST_MAX - 1);
		return -1;
	}
	unsigned char buf[sizeof(struct in6_addr)];
	if (v6) {
		char a[CONF_HOST_MAX];
		conf_bfmt(a, sizeof(a), "%s", h);
		char *pct = strchr(a, '%'); /* fe80::1%eth0 */
		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET6, a, buf) != 1 || (pct && pct[1] == '\0')) {
			conf_bfmt(why, wl, "\"%s\" is not an IPv6 address", h);
			return -1;
		}
		return 0;
	}
	if (strchr(h, ':')) {
		conf_bfmt(why, wl, "an IPv6 address needs brackets, as in [%s]:PORT", h);
		return -1;
	}
	if (conf__is_ipv4_like(h)) {
		if (inet_pton(AF_INET, h, buf) != 1) {
			conf_bfmt(why, wl, "\"%s\" is not an IPv4 address", h);
			return -1;
		}
		return 0;
	}
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_') {
			conf_bfmt(why, wl, "\"%s\" is not a host name or address", h);
			return -1;
		}
	return 0;
}

static int parse_portnum(const char *s, int *port, char *why, size_t wl)
{
	long n;
	if (*s == '\0') {
		conf_bfmt(why, wl, "missing port number");
		return -1;
	}
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p)) {
			conf_bfmt(why, wl, "port \"%s\" is not a number", s);
			return -1;
		}
	if (conf__parse_long(s, &n) < 0 || n < 1 || n > 65535) {
		conf_bfmt(why, wl, "port %s is out of range 1..65535", s);
		return -1;
	}
	*port = (int)n;
	return 0;
}

int conf_parse_hostport(const char *v, bool any, char *host, int *port, char *why, size_t wl)
{
	char h[CONF_LINE_BUF];
	const char *ps;
	bool v6 = false;

	if (any && *v && strspn(v, "0123456789") == strlen(v)) {
		conf_bfmt(host, CONF_HOST_MAX, "0.0.0.0");
		return parse_portnum(v, port, why, wl);
	}
	if (*v == '[') {
		const char *rb = strchr(v, ']');
		if (!rb) {
			conf_bfmt(why, wl, "missing ']' after the IPv6 address");
			return -1;
		}
		if (rb[1] != ':') {
			conf_bfmt(why, wl, "missing ':PORT' after ']'");
			return -1;
		}
		conf_bfmt(h, sizeof(h), "%.*s", (int)(rb - v - 1), v + 1);
		ps = rb + 2;
		v6 = true;
	} else {
		const char *colon = strrchr(v, ':');
		if (!colon) {
			conf_bfmt(why, wl, "missing ':PORT'");
			return -1;
		}
		conf_bfmt(h, sizeof(h), "%.*s", (int)(colon - v), v);
		ps = colon + 1;
		if (any && h[0] == '\0')
			conf_bfmt(h, sizeof(h), "0.0.0.0");
	}
	if (conf__check_host(h, v6, why, wl) < 0 || parse_portnum(ps, port, why, wl) < 0)
		return -1;
	memcpy(host, h, strlen(h) + 1); /* conf__check_host(): shorter than CONF_HOST_MAX */
	return 0;
}

bool conf__is_ifname(const char *v)
{
	size_t n = strlen(v);
	bool ok = n >= 1 && n <= 15; /* IFNAMSIZ - 1 */
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)v[i]) || v[i] == '_' || v[i] == '.' || v[i] == '-';
	return ok;
}

int conf_can_port(const char *v, bool *slcan, char *dev, size_t cap, char *why, size_t wl)
{
	const char *d = v + 8;
	if (strncmp(v, "slcan://", 8) == 0) {
		if (d[0] != '/' || d[1] == '\0') {
			conf_bfmt(why, wl, "\"%s\": \"%s\" is not an absolute device path (expected slcan:///dev/ttyACM0, the "
			     "serial device of the CAN adapter)", v, d);
			return -1;
		}
		*slcan = true;
		conf_bfmt(dev, cap, "%s", d);
		return 0;
	}
	if (!conf__is_ifname(v)) {
		conf_bfmt(why, wl, "\"%s\" is not a network interface name (expected a CAN interface such as can0, 1..15 "
		     "characters of A-Z a-z 0-9 _ . -, or slcan://%s for a serial CAN adapter)", v,
		     v[0] == '/' ? v : "/dev/ttyACM0");
		return -1;
	}
	*slcan = false;
	conf_bfmt(dev, cap, "%s", v);
	return 0;
}

/* A pack's port that is no CAN bus: none of the CAN fields. */
static void not_can(struct conf_pack *p)
{
	p->is_can = p->is_slcan = false;
	p->can_device[0] = '\0';
}

static int set_tcp_port(struct conf_pack *p, const char *v, char *why, size_t wl)
{
	char host[CONF_HOST_MAX], w[CONF_EXP_MAX];
	int port;
	if (conf_parse_hostport(v + 6, false, host, &port, w, sizeof(w)) < 0) {
		conf_bfmt(why, wl, "\"%s\": %s (expected tcp://HOST:PORT)", v, w);
		return -1;
	}
	p->is_tcp = true;
	conf_bfmt(p->tcp_host, sizeof(p->tcp_host), "%s", host);
	p->tcp_port = port;
	return 0;
}

int conf__set_port(struct conf_pack *p, const char *v, char *why, size_t wl)
{
	if (strlen(v) >= CONF_PORT_MAX) {
		conf_bfmt(why, wl, "too long (expected at most %d characters)", CONF_PORT_MAX - 1);
		return -1;
	}
	for (const char *q = v; *q; q++)
		if (isspace((unsigned char)*q) || iscntrl((unsigned char)*q)) {
			conf_bfmt(why, wl, "\"%s\" contains a space (expected /dev/..., tcp://HOST:PORT, ble://MAC or a CAN "
			     "port%s)", v, conf__comment_hint(v));
			return -1;
		}
	not_can(p);
	p->is_ble = false;
	if (strncmp(v, "tcp://", 6) == 0) {
		if (set_tcp_port(p, v, why, wl) < 0)
			return -1;
	} else if (strncmp(v, "ble://", 6) == 0) {
		char mac[18];
		if (!conf_parse_mac(v + 6, mac)) {
			conf_bfmt(why, wl, "\"%s\": \"%s\" is not a Bluetooth address (expected ble://AA:BB:CC:DD:EE:FF, "
			     "six hex bytes)", v, v + 6);
			return -1;
		}
		p->is_tcp = false;
		p->is_ble = true;
		memcpy(p->ble_addr, mac, sizeof(mac));
		p->tcp_host[0] = '\0';
		p->tcp_port = 0;
		conf_bfmt(p->port, sizeof(p->port), "ble://%s", mac);
		return 0;
	} else if (strncmp(v, "slcan://", 8) == 0 || conf__is_ifname(v)) {
		/* a CAN bus: SocketCAN's interface, or a serial CAN adapter */
		if (conf_can_port(v, &p->is_slcan, p->can_device, sizeof(p->can_device), why, wl) < 0)
			return -1;
		p->is_can = true;
		p->is_tcp = false;
		p->tcp_host[0] = '\0';
		p->tcp_port = 0;
	} else if (v[0] == '/' && v[1] != '\0') {
		p->is_tcp = false;
		p->tcp_host[0] = '\0';
		p->tcp_port = 0;
	} else {
		conf_bfmt(why, wl, "\"%s\" is %s (expected a device path /dev/..., tcp://HOST:PORT, "
		     "ble://AA:BB:CC:DD:EE:FF, a CAN interface such as can0 or slcan:///dev/ttyACM0)", v,
		     strstr(v, "://") ? "not a supported address" : "not an absolute device path");
		return -1;
	}
	conf_bfmt(p->port, sizeof(p->port), "%s", v);
	return 0;
}

const char *conf_pack_wire(const struct conf_pack *p)
{
	return p->is_slcan ? p->can_device : p->port;
}

int conf_parse_port(struct conf_pack *p, const char *v, char *why, size_t wl)
{
	return conf__set_port(p, v, why, wl);
}

int conf__parse_net(const char *item, struct conf_net *n)
{
	char a[CONF_HOST_MAX];
	conf_bfmt(a, sizeof(a), "%s", item);
	char *slash = strchr(a, '/');
	long plen = -1;
	if (slash) {
		*slash = '\0';
		if (conf__parse_long(slash + 1, &plen) < 0)
			return -1;
	}
	char *h = a;
	size_t hl = strlen(h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		h++;
	}
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, h, n->addr) == 1 && conf__is_ipv4_like(h)) {
		n->family = AF_INET;
		if (plen < 0)
			plen = 32;
		if (plen > 32)
			return -1;
	} else if (inet_pton(AF_INET6, h, n->addr) == 1) {
		n->family = AF_INET6;
		if (plen < 0)
			plen = 128;
		if (plen > 128)
			return -1;
	} else {
		return -1;
	}
	n->prefix = (int)plen;
	/* clear the host bits, so that 192.168.1.7/24 means the network */
	int bytes = n->family == AF_INET ? 4 : 16;
	for (int i = 0; i < bytes; i++) {
		int keep = n->prefix - 8 * i;
		n->addr[i] &= (unsigned char)(keep >= 8 ? 0xFF : keep <= 0 ? 0 : (0xFF << (8 - keep)) & 0xFF);
	}
	return 0;
}

bool conf_nets_match(const struct conf_nets *nets, const void *sa_)
{
	const struct sockaddr *sa = sa_;
	unsigned char a[16];
	int fam;
	if (sa->sa_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)sa_)->sin_addr, 4);
		fam = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa_)->sin6_addr.s6_addr;
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
		if (memcmp(b, mapped, 12) == 0) { /* an IPv4 client of a [::] listener */
			memcpy(a, b + 12, 4);
			fam = AF_INET;
		} else {
			memcpy(a, b, 16);
			fam = AF_INET6;
		}
	} else {
		return false;
	}
	for (int i = 0; i < nets->n; i++) {
		const struct conf_net *n = &nets->net[i];
		if (n->family != fam)
			continue;
		int bits = n->prefix, j = 0;
		bool ok = true;
		for (; bits >= 8 && ok; bits -= 8, j++)
			ok = a[j] == n->addr[j];
		if (ok && bits > 0)
			ok = (a[j] & (unsigned char)(0xFF << (8 - bits))) == n->addr[j];
		if (ok)
			return true;
	}
	return false;
}

bool conf_parse_mac(const char *s, char canon[18])
{
	char out[18];
	if (!s || strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i % 3 == 2) {
			if (ch != ':' && ch != '-')
				return false;
			out[i] = ':';
			continue;
		}
		if (bms_hexval(ch) < 0)
			return false;
		out[i] = (char)toupper(ch);
	}
	out[17] = '\0';
	memcpy(canon, out, sizeof(out));
	return true;
}

static bool any_address(const char *h)
{
	return strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}

bool conf_listen_clash(const char *h1, int p1, const char *h2, int p2)
{
	if (p1 != p2 || p1 == 0)
		return false;
	return any_address(h1) || any_address(h2) || strcmp(h1, h2) == 0;
}
