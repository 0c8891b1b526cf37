/* SPDX-License-Identifier: MIT */
/* conf/schema.c - the key table as the setup page reads it (bmsgw(8)
 * "SETUP"): the kind of a section from its name, a key by its name, each
 * key's type, range, words and default, which keys a pack's protocol
 * takes (the checks of check.c, said per key), and which values are
 * secrets that never leave the daemon.
 */
#include "conf_int.h"

#include <string.h>

#include "../bms/bms.h"

static const char *const type_words[KT_COUNT] = {
	[KT_INT] = "int",        [KT_DOUBLE] = "number",  [KT_BOOL] = "bool",       [KT_WORD] = "word",
	[KT_LISTEN] = "listen",  [KT_PROTOCOL] = "protocol", [KT_PORT] = "port",    [KT_BAUD] = "baud",
	[KT_NAMES] = "names",    [KT_STRINGS] = "strings", [KT_NAME] = "name",      [KT_HOST] = "host",
	[KT_RANGE] = "range",    [KT_PATH] = "path",      [KT_TOPIC] = "topic",     [KT_IDENT] = "ident",
	[KT_TEXT] = "text",      [KT_NETS] = "nets",      [KT_PATHTEXT] = "text",   [KT_KEY] = "secret",
	[KT_ADAPTER] = "adapter", [KT_TABLE] = "table",   [KT_OUTPORT] = "port",    [KT_DEVICE] = "path",
	[KT_LABEL] = "text",     [KT_FLAGS] = "flags",    [KT_VER] = "text",        [KT_KEY32] = "secret",
	[KT_URL] = "url",        [KT_LINE] = "text",      [KT_FIELDS] = "fields",   [KT_ALERTON] = "text",
	[KT_HOSTS] = "text",     [KT_PIN] = "secret",
};

enum conf_sect conf_section_kind(const char *name, bool *named)
{
	for (size_t i = 0; i < conf__nsect_kinds; i++) {
		const struct sect_kind *k = &conf__sect_kinds[i];
		size_t wl = strlen(k->word);
		if (strncmp(name, k->word, wl) != 0)
			continue;
		if ((!k->named && name[wl] == '\0') || (k->named && name[wl] == '.' && name[wl + 1])) {
			if (named)
				*named = k->named;
			return k->sect;
		}
	}
	return CONF_SEC_NONE;
}

int conf_key_find(enum conf_sect s, const char *name)
{
	for (int k = 0; k < K_COUNT; k++)
		if (conf__keys[k].sect == s && strcmp(conf__keys[k].name, name) == 0)
			return k;
	return -1;
}

void conf_key_about(int k, struct conf_key_about *a)
{
	const struct conf_key *c = &conf__keys[k];
	memset(a, 0, sizeof(*a));
	a->sect = c->sect;
	a->name = c->name;
	a->type = type_words[c->type] ? type_words[c->type] : "text";
	a->numeric = c->type == KT_INT || c->type == KT_DOUBLE;
	a->min = c->min;
	a->max = c->max;
	a->above = c->above;
	a->words = c->words;
	a->def = c->def;
	a->secret = conf_key_secret(k);
}

bool conf_key_secret(int k)
{
	return conf__keys[k].type == KT_KEY || conf__keys[k].type == KT_KEY32 || conf__keys[k].type == KT_PIN;
}

/* The keys of [pack.NAME] that only some protocols take, and which. */
bool conf_pack_key_applies(const struct bms_driver *d, int k)
{
	bool ble = d->ble != NULL, can = d->can != NULL, wire = !ble || !bms_ble_only(d);
	switch (k) {
	case K_BAUD:
		return wire && !can && !d->messages;
	case K_ADDRESS:
		return d->max_address != 0;
	case K_ADDRESS_ANY:
		return d->any_address;
	case K_POSITION:
		return d->group > 0;
	case K_PK_LISTEN: case K_TAKEOVER_AFTER:
		return d->listen != NULL;
	case K_BITRATE:
		return can;
	case K_KEY:
		return d->ble && d->ble->company != 0;
	case K_PIN:
		return d->ble && d->ble->pin;
	case K_PK_ADAPTER:
		return ble;
	case K_CONTROL: case K_CONTROL_TIMEOUT:
		return d->control != NULL;
	case K_PK_TOPIC: case K_PK_FIELDS:
		return d->messages;
	case K_PORT:
		return !d->messages;
	default:
		return conf__keys[k].sect == CONF_SEC_PACK;
	}
}
