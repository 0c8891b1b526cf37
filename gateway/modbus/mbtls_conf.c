/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbtls_conf.c - [modbus_tls], Modbus/TCP Security, the
 * Modbus room's section of the configuration (conf/section.h): its keys,
 * the checks after the parse (the three files present, the key private to
 * bmsgw, the files loaded as the server will load them, core/tlsfiles.c; a
 * port of its own) and its part of the --check summary. */
#include <stddef.h>
#include <string.h>

#include "../core/tlsfiles.h"
#include "modbus_conf.h"

enum { MT_LISTEN, MT_CERT, MT_KEY, MT_CA, MT_WRITE_ROLE, MT_NKEYS };

#define MT(f) offsetof(struct conf_modbus_tls, f)
_Static_assert(MT(listen_port) == MT(listen_host) + CONF_HOST_MAX, "KT_LISTEN: the port follows the host");

/* the files are read again at every reload (new connections take them) */
static const struct conf_key keys[MT_NKEYS] = {
	[MT_LISTEN] = {"listen", CONF_RESTART, KT_LISTEN, 0, 0, false, NULL, MT(listen_host), "0.0.0.0:802"},
	[MT_CERT] = {"cert", CONF_LIVE, KT_PATH, 0, 0, false, NULL, MT(cert), NULL, .file = CONF_FILE_CERT},
	[MT_KEY] = {"key", CONF_LIVE, KT_PATH, 0, 0, false, NULL, MT(key), NULL, .file = CONF_FILE_KEY},
	[MT_CA] = {"ca", CONF_LIVE, KT_PATH, 0, 0, false, NULL, MT(ca), NULL, .file = CONF_FILE_CERT},
	[MT_WRITE_ROLE] = {"write_role", CONF_LIVE, KT_TEXT, 0, 0, false, NULL, MT(write_role), "Operator"},
};

/* A port of its own: not [gateway]'s, nor one another section listens on. */
static bool port_free(struct conf_load *x)
{
	const struct conf *c = conf_loading(x);
	const struct conf_modbus_tls *t = gw_mbtls_cfg(c);
	char who[CONF_NAME_MAX + 128];
	const char *other = NULL;
	if (conf_listen_clash(t->listen_host, t->listen_port, c->gw.listen_host, c->gw.listen_port))
		other = "the Modbus TCP server's ([gateway] listen)";
	else if (conf_listen_user(c, &gw_mbtls_section, t->listen_host, t->listen_port, who, sizeof(who)))
		other = who;
	if (other)
		conf_fail(x, conf_key_line(x, &gw_mbtls_section, 0, MT_LISTEN), "modbus_tls", "listen",
			  "port %d is %s (expected a port of its own, 802)", t->listen_port, other);
	return !other;
}

/* The files as the server takes them (gateway/core/tlsfiles.c), the key private. */
static void files_load(struct conf_load *x)
{
	const struct conf_modbus_tls *t = gw_mbtls_cfg(conf_loading(x));
	const int *seen = conf_seen(x, &gw_mbtls_section, 0);
	char why[3 * CONF_PORT_MAX];
	if (conf_private_file(t->key, why, sizeof(why)) < 0) {
		conf_fail(x, seen[MT_KEY], "modbus_tls", "key", "%s", why);
		return;
	}
	if (gw_tls_files_check(t->cert, t->key, t->ca, why, sizeof(why)) < 0) {
		if (strcmp(why, "out of memory") == 0) {
			conf_fail(x, t->line, "modbus_tls", NULL, "out of memory");
			return;
		}
		/* the key of the row the message names first */
		int k = strncmp(why, "certificate", 11) == 0 ? MT_CERT : strncmp(why, "CA", 2) == 0 ? MT_CA : MT_KEY;
		conf_fail(x, seen[k], "modbus_tls", keys[k].name, "%s", why);
	}
}

static void finish(struct conf_load *x)
{
	const struct conf_modbus_tls *t = gw_mbtls_cfg(conf_loading(x));
	const int *seen = conf_seen(x, &gw_mbtls_section, 0);
	if (!t->enabled)
		return;
	static const struct { int k; const char *what; } need[] = {
		{ MT_CERT, "the server's certificate chain, PEM" },
		{ MT_KEY, "its private key, PEM, readable by bmsgw alone" },
		{ MT_CA, "the CA certificates the clients' certificates must chain to, PEM" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!seen[need[i].k]) {
			conf_fail(x, t->line, "modbus_tls", NULL, "missing key \"%s\" (expected %s = %s)",
				  keys[need[i].k].name, keys[need[i].k].name, need[i].what);
			return;
		}
	if (port_free(x))
		files_load(x);
}

static void print(const struct conf *c, FILE *out)
{
	const struct conf_modbus_tls *t = gw_mbtls_cfg(c);
	if (!t->enabled)
		return;
	char hp[CONF_HOST_MAX + 16];
	conf_fmt_hostport(hp, sizeof(hp), t->listen_host, t->listen_port);
	fprintf(out, "modbus_tls (Modbus/TCP Security: the map of Modbus TCP in TLS 1.2+, mutual authentication)\n"
		"  listen        %s (at most %d clients, idle timeout %g s, as [gateway])\n"
		"  certificate   %s, key %s\n"
		"  clients       certificates that chain to %s\n"
		"  writes        by role %s (RoleOID 1.3.6.1.4.1.50316.802.1), by the rules of MOSFET control; "
		"other roles read (writes: exception 0x01)\n",
		hp, c->gw.max_clients, c->gw.idle_timeout, t->cert, t->key, t->ca, t->write_role);
}

/* a server of the register map besides [gateway] listen (the gateway's
 * summary says so when that is off) */
const struct conf_section gw_mbtls_section = {
	.word = "modbus_tls", .max = 1, .size = sizeof(struct conf_modbus_tls), .name = CONF_NO_FIELD,
	.line = MT(line), .enabled = MT(enabled), .serves_map = true, .keys = keys, .nkeys = MT_NKEYS,
	.list_order = 150, .finish_order = 120, .print_order = 150, .finish = finish, .print = print,
};
