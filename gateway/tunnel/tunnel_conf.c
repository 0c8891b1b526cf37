/* SPDX-License-Identifier: MIT */
/* gateway/tunnel/tunnel_conf.c - [tunnel.NAME], the output's own section of
 * the configuration (conf/section.h): its keys, the checks after the parse
 * (the wire of a configured pack that bmsgw polls, an address of its own,
 * an allowlist) and its lines of --check. */
#include "tunnel_conf.h"

#include <stddef.h>
#include <string.h>

/* its keys, in the order messages and lists give them */
enum { TU_PORT, TU_LISTEN, TU_CLIENTS, TU_IDLE_TIMEOUT, TU_NKEYS };

#define TU(f) offsetof(struct conf_tunnel, f)
_Static_assert(TU(listen_port) == TU(listen_host) + CONF_HOST_MAX, "KT_LISTEN: the port follows the host");

/* any change restarts the tunnel (a tool connected is let go) */
static const struct conf_key keys[TU_NKEYS] = {
	[TU_PORT] = {"port", CONF_RESTART, KT_PATHTEXT, 0, 0, false, NULL, TU(port), NULL},
	[TU_LISTEN] = {"listen", CONF_RESTART, KT_LISTEN, 0, 0, false, NULL, TU(listen_host), NULL},
	[TU_CLIENTS] = {"clients", CONF_RESTART, KT_NETS, 0, 0, false, NULL, TU(clients), NULL},
	[TU_IDLE_TIMEOUT] = {"idle_timeout", CONF_RESTART, KT_DOUBLE, 0, 86400, true, NULL, TU(idle_timeout), "300"},
};

/* The pack of port `port` and that a tool may have its wire: false after an error. */
static bool lends(struct conf_load *x, const struct conf_tunnel *t, const int *seen, const char *sect)
{
	const struct conf *c = conf_loading(x);
	int j = 0;
	while (j < c->npacks && strcmp(c->packs[j].port, t->port) != 0)
		j++;
	if (j == c->npacks) {
		conf_fail(x, seen[TU_PORT], sect, "port", "%s is not the port of any [pack.*] section", t->port);
		return false;
	}
	if (c->packs[j].is_ble || c->packs[j].is_can) {
		conf_fail(x, seen[TU_PORT], sect, "port", "%s is a %s (expected a serial or tcp:// wire: a vendor's PC "
			  "tool talks to a wire)", t->port, c->packs[j].is_ble ? "Bluetooth device" : "CAN bus bmsgw only "
			  "listens to");
		return false;
	}
	if (c->packs[j].listen) {
		conf_fail(x, seen[TU_PORT], sect, "port", "%s is a bus another master polls: [pack.%s] only listens "
			  "there, and a PC tool would write over its master (expected the port of a bus bmsgw polls)",
			  t->port, c->packs[j].name);
		return false;
	}
	return true;
}

/* [tunnel.NAME]: a configured wire, an address of its own, an allowlist. */
static void finish_one(struct conf_load *x, int i)
{
	const struct conf *c = conf_loading(x);
	const struct conf_tunnel *t = gw_tunnel_cfg(c, i);
	const int *seen = conf_seen(x, &gw_tunnel_section, i);
	char sect[CONF_NAME_MAX + 8];
	conf_bfmt(sect, sizeof(sect), "tunnel.%s", t->name);
	static const struct { int key; const char *what; } req[] = {
		{ TU_PORT, "port = the port of the wire to lend, as a [pack.*] section gives it" },
		{ TU_LISTEN, "listen = HOST:PORT for the PC tool" },
		{ TU_CLIENTS, "clients = the addresses allowed to connect" },
	};
	for (size_t k = 0; k < sizeof(req) / sizeof(req[0]); k++)
		if (!seen[req[k].key]) {
			conf_fail(x, t->line, sect, NULL, "missing key \"%s\" (expected %s)", keys[req[k].key].name,
				  req[k].what);
			return;
		}
	if (!lends(x, t, seen, sect))
		return;
	if (conf_listen_clash(t->listen_host, t->listen_port, c->gw.listen_host, c->gw.listen_port)) {
		conf_fail(x, seen[TU_LISTEN], sect, "listen", "port %d is the Modbus server's (expected another port)",
			  t->listen_port);
		return;
	}
	for (int k = 0; k < i; k++) {
		const struct conf_tunnel *o = gw_tunnel_cfg(c, k);
		if (strcmp(o->port, t->port) == 0) {
			conf_fail(x, seen[TU_PORT], sect, "port", "%s is already lent by [tunnel.%s] (line %d)", t->port,
				  o->name, o->line);
			return;
		}
		if (o->listen_port == t->listen_port) {
			conf_fail(x, seen[TU_LISTEN], sect, "listen", "port %d is already used by [tunnel.%s] (line %d)",
				  t->listen_port, o->name, o->line);
			return;
		}
	}
}

static void finish(struct conf_load *x)
{
	for (int i = 0; i < gw_ntunnels(conf_loading(x)) && !conf_failed(x); i++)
		finish_one(x, i);
}

static void print(const struct conf *c, FILE *out)
{
	char hp[CONF_HOST_MAX + 16];
	if (gw_ntunnels(c))
		fprintf(out, "maintenance tunnels (raw TCP to a wire; its polling pauses while a tool is connected)\n");
	for (int i = 0; i < gw_ntunnels(c); i++) {
		const struct conf_tunnel *t = gw_tunnel_cfg(c, i);
		conf_fmt_hostport(hp, sizeof(hp), t->listen_host, t->listen_port);
		fprintf(out, "  %s: %s -> %s, clients %s, idle timeout %g s\n", t->name, hp, t->port, t->clients.text,
			t->idle_timeout);
	}
}

const struct conf_section gw_tunnel_section = {
	.word = "tunnel", .named = true, .max = CONF_MAX_TUNNELS, .size = sizeof(struct conf_tunnel),
	.name = TU(name), .line = TU(line), .enabled = CONF_NO_FIELD, .about = "a maintenance tunnel", .keys = keys,
	.nkeys = TU_NKEYS, .list_order = 60, .finish_order = 50, .print_order = 70, .finish = finish, .print = print,
};
