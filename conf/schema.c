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
	[KT_URL] = "url",        [KT_LINE] = "text",      [KT_FIELDS] = "fields",   [KT_HOSTS] = "text",
	[KT_PIN] = "secret",
};

const struct conf_section *conf_section_nth(int i)
{
	const struct conf__rt *r = i >= 0 ? conf__rt_nth((size_t)i) : NULL;
	return r ? r->s : NULL;
}

const struct conf_section *conf_section_kind(const char *name, bool *named)
{
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf_section *k = conf__rt_nth(i)->s;
		size_t wl = strlen(k->word);
		if (strncmp(name, k->word, wl) != 0)
			continue;
		if ((!k->named && name[wl] == '\0') || (k->named && name[wl] == '.' && name[wl + 1])) {
			if (named)
				*named = k->named;
			return k;
		}
	}
	return NULL;
}

const struct conf_key *conf_key_find(const struct conf_section *s, const char *name)
{
	for (int k = 0; s && k < s->nkeys; k++)
		if (strcmp(s->keys[k].name, name) == 0)
			return &s->keys[k];
	return NULL;
}

void conf_key_about(const struct conf_key *c, struct conf_key_about *a)
{
	memset(a, 0, sizeof(*a));
	a->name = c->name;
	a->type = c->type == KT_CUSTOM && c->custom ? c->custom->form
		  : type_words[c->type] ? type_words[c->type] : "text";
	a->numeric = c->type == KT_INT || c->type == KT_DOUBLE;
	a->min = c->min;
	a->max = c->max;
	a->above = c->above;
	a->words = c->words;
	a->def = c->def;
	a->secret = conf_key_secret(c);
	a->path_secret = (c->flags & CONF_KF_PATH_SECRET) != 0;
}

bool conf_key_secret(const struct conf_key *k)
{
	return k->type == KT_KEY || k->type == KT_KEY32 || k->type == KT_PIN;
}

/* The keys of [pack.NAME] that only some protocols take, and which. */
bool conf_pack_key_applies(const struct bms_driver *d, const struct conf_key *key)
{
	bool ble = d->ble != NULL, can = d->can != NULL, wire = !ble || !bms_ble_only(d);
	int k = -1;
	for (int j = 0; j < conf_sect_pack.nkeys && k < 0; j++)
		if (&conf_sect_pack.keys[j] == key)
			k = K_PROTOCOL + j; /* the pack's keys are conf__keys[K_PROTOCOL ...] */
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
		return k >= 0;
	}
}
