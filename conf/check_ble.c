/* SPDX-License-Identifier: MIT */
/* conf/check_ble.c - the checks of the Bluetooth LE side after the parse:
 * each [ble_proxy.NAME] (an ESPHome Bluetooth proxy: its host, its key or
 * password, secrets kept from other users) and the adapter each ble://
 * pack goes through (its own `adapter =`, else [ble] adapter: a local
 * adapter, or the name of a [ble_proxy.NAME]).
 */
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

static const char *const sect_word = "ble_proxy";

/* One [ble_proxy.NAME]: a host; a key or a password, not both; a key only
 * in a file other users cannot read (the key is in it). */
static void finish_proxy(struct conf_load *x, int i)
{
	struct conf_ble_proxy *p = &x->c.ble_proxies[i];
	const int *seen = x->ble_proxy_seen[i];
	char sect[CONF_NAME_MAX + 16];
	conf_bfmt(sect, sizeof(sect), "%s.%s", sect_word, p->name);
	if (!seen[K_BP_HOST]) {
		conf__fail(x, p->line, sect, NULL, "missing key \"host\" (expected host = the ESPHome device's name or "
			   "address)");
		return;
	}
	if (p->have_key && seen[K_BP_PASSWORD_FILE]) {
		conf__fail(x, seen[K_BP_PASSWORD_FILE], sect, "password_file", "is for the plaintext API (expected "
			   "either encryption_key or password_file: an encrypted API has no password)");
		return;
	}
	char why[CONF_PORT_MAX + 160];
	if (p->have_key && x->fp && conf_private_file(x->file, why, sizeof(why)) < 0) {
		/* the key is in the configuration file itself */
		conf__fail(x, seen[K_BP_KEY], sect, "encryption_key", "%s", why);
		return;
	}
	if (seen[K_BP_PASSWORD_FILE] &&
	    conf_read_password(p->password_file, p->password, sizeof(p->password), why, sizeof(why)) < 0)
		conf__fail(x, seen[K_BP_PASSWORD_FILE], sect, "password_file", "%s", why);
}

static const struct conf_ble_proxy *proxy_named(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->nble_proxies; i++)
		if (strcmp(c->ble_proxies[i].name, name) == 0)
			return &c->ble_proxies[i];
	return NULL;
}

const struct conf_ble_proxy *conf__pack_proxy(const struct conf_load *x, const struct conf_pack *p)
{
	return proxy_named(&x->c, p->adapter[0] ? p->adapter : x->c.ble.adapter);
}

/* A local adapter's name as the kernel gives it: hci0, hci1 ... */
static bool local_adapter(const char *s)
{
	if (strncmp(s, "hci", 3) != 0 || !s[3])
		return false;
	for (s += 3; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Each ble:// pack's adapter: its own, else [ble]'s; a proxy by its name. */
static void resolve_adapters(struct conf_load *x)
{
	for (int i = 0; i < x->c.npacks && !x->failed; i++) {
		struct conf_pack *pk = &x->c.packs[i];
		const int *seen = x->pack_seen[i];
		if (!pk->is_ble) {
			if (seen[K_PK_ADAPTER]) {
				char sect[CONF_NAME_MAX + 8];
				conf_bfmt(sect, sizeof(sect), "pack.%s", pk->name);
				conf__fail(x, seen[K_PK_ADAPTER], sect, "adapter",
					   "is for a Bluetooth LE pack (expected port = ble://... with it)");
			}
			continue;
		}
		conf_bfmt(pk->ble_adapter, CONF_ID_MAX, "%s", pk->adapter[0] ? pk->adapter : x->c.ble.adapter);
		const struct conf_ble_proxy *px = conf__pack_proxy(x, pk);
		pk->via_proxy = px != NULL;
		if (px)
			pk->proxy = *px;
		if (!px && pk->ble_adapter[0] && !local_adapter(pk->ble_adapter)) {
			bool own = pk->adapter[0] != '\0';
			char sect[CONF_NAME_MAX + 8];
			conf_bfmt(sect, sizeof(sect), "pack.%s", pk->name);
			conf__fail(x, own ? seen[K_PK_ADAPTER] : x->ble_seen[K_BLE_ADAPTER], own ? sect : "ble", "adapter",
				   "no [ble_proxy.%s] and no local adapter of that name (expected hci0, hci1 ... or the "
				   "NAME of a [ble_proxy.NAME])", pk->ble_adapter);
		}
	}
}

void conf__finish_ble(struct conf_load *x)
{
	for (int i = 0; i < x->c.nble_proxies && !x->failed; i++)
		finish_proxy(x, i);
	if (!x->failed)
		resolve_adapters(x);
}

bool conf_ble_proxy_same(const struct conf_ble_proxy *a, const struct conf_ble_proxy *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->host, b->host) == 0 && a->port == b->port &&
	       a->have_key == b->have_key && memcmp(a->key, b->key, sizeof(a->key)) == 0 &&
	       strcmp(a->password, b->password) == 0;
}
