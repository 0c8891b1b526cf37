/* SPDX-License-Identifier: MIT */
/* conf/check_mbtls.c - [modbus_tls], Modbus/TCP Security: its checks after
 * the parse (the three files present, the key private to bmsgw, the files
 * loaded as the server will load them, a port of its own) and its part of
 * the --check summary. */
#include <string.h>

#include "conf_int.h"

static bool port_free(struct conf_load *x)
{
	const struct conf_modbus_tls *t = &x->c.mbtls;
	int line = x->mbtls_seen[K_MT_LISTEN] ? x->mbtls_seen[K_MT_LISTEN] : t->line;
	const char *other = NULL;
	if (conf_listen_clash(t->listen_host, t->listen_port, x->c.gw.listen_host, x->c.gw.listen_port))
		other = "the Modbus TCP server's ([gateway] listen)";
	else if (x->c.http.enabled &&
		 conf_listen_clash(t->listen_host, t->listen_port, x->c.http.listen_host, x->c.http.listen_port))
		other = "the status page's ([http] listen)";
	char who[CONF_NAME_MAX + 128];
	if (!other && conf_listen_user(&x->c, &conf_sect_modbus_tls, t->listen_host, t->listen_port, who, sizeof(who)))
		other = who; /* the others that listen: the tunnels */
	if (other)
		conf__fail(x, line, "modbus_tls", "listen", "port %d is %s (expected a port of its own, 802)",
			   t->listen_port, other);
	return !other;
}

/* The files as the server takes them (the loader lent, gateway/core/tlsfiles.c), the key private. */
static void files_load(struct conf_load *x)
{
	const struct conf_modbus_tls *t = &x->c.mbtls;
	char why[3 * CONF_PORT_MAX];
	if (conf_private_file(t->key, why, sizeof(why)) < 0) {
		conf__fail(x, x->mbtls_seen[K_MT_KEY], "modbus_tls", "key", "%s", why);
		return;
	}
	int (*mbtls)(const char *, const char *, const char *, char *, size_t) = conf__loaders()->mbtls;
	if (!mbtls) {
		conf__fail(x, t->line, "modbus_tls", NULL, "cannot be checked: no loader (conf_use_loaders)");
	} else if (mbtls(t->cert, t->key, t->ca, why, sizeof(why)) < 0) {
		if (strcmp(why, "out of memory") == 0) {
			conf__fail(x, t->line, "modbus_tls", NULL, "out of memory");
			return;
		}
		/* the key of the row the message names first */
		int k = strncmp(why, "certificate", 11) == 0 ? K_MT_CERT : strncmp(why, "CA", 2) == 0 ? K_MT_CA : K_MT_KEY;
		conf__fail(x, x->mbtls_seen[k], "modbus_tls", conf__keys[k].name, "%s", why);
	}
}

void conf__finish_mbtls(struct conf_load *x)
{
	const struct conf_modbus_tls *t = &x->c.mbtls;
	if (!t->enabled)
		return;
	static const struct { int k; const char *what; } need[] = {
		{ K_MT_CERT, "the server's certificate chain, PEM" },
		{ K_MT_KEY, "its private key, PEM, readable by bmsgw alone" },
		{ K_MT_CA, "the CA certificates the clients' certificates must chain to, PEM" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!x->mbtls_seen[need[i].k]) {
			conf__fail(x, t->line, "modbus_tls", NULL, "missing key \"%s\" (expected %s = %s)",
				   conf__keys[need[i].k].name, conf__keys[need[i].k].name, need[i].what);
			return;
		}
	if (port_free(x))
		files_load(x);
}

void conf__print_mbtls(const struct conf *c, FILE *out)
{
	const struct conf_modbus_tls *t = &c->mbtls;
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
