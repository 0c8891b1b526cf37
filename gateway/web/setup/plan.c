/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/plan.c - the configuration as the page sees it and the
 * new file made from what the page sends (on the worker thread).
 *
 * A secret's value never leaves: an advertisement or encryption key, or a
 * URL's user:password@, is left out of the sections shown and listed as
 * {section, key, set}; a password or token is in its *_file, whose path is
 * shown (the file is not read).  What the page sends is the whole
 * configuration, so a hidden value it could not send is kept from the file
 * (its section still there, its key not sent); a new secret goes to
 * DIR/SECTION.KEY (0600) and its *_file key names it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setup_int.h"

/* A URL with a user:password@ in it. */
static bool url_with_login(const char *v)
{
	const char *s = strstr(v, "://");
	if (!s)
		return false;
	s += 3;
	const char *at = strchr(s, '@'), *slash = strchr(s, '/');
	return at && (!slash || at < slash);
}

/* A URL with a path or a query after its host. */
static bool url_with_path(const char *v)
{
	const char *s = strstr(v, "://");
	if (!s)
		return false;
	s += 3 + strcspn(s + 3, "/?#");
	return *s && strcmp(s, "/") != 0;
}

bool setup_value_hidden(const char *sect, const char *key, const char *value)
{
	const struct conf_key *k = conf_key_find(conf_section_kind(sect, NULL), key);
	if (!k)
		return false;
	struct conf_key_about a;
	conf_key_about(k, &a);
	/* a URL: its login, and where its row says so its path and query (a
	 * webhook's token) */
	return a.secret || (strcmp(a.type, "url") == 0 && (url_with_login(value) || (a.path_secret && url_with_path(value))));
}

/* The secret a *_file key of sect holds ("password" for password_file),
 * or NULL when key is none such. */
const char *setup_secret_of_file(const char *sect, const char *key, char *out, size_t cap)
{
	size_t n = strlen(key);
	if (n < 6 || strcmp(key + n - 5, "_file") != 0)
		return NULL;
	snprintf(out, cap, "%.*s", (int)(n - 5), key);
	return strcmp(out, "password") == 0 || strcmp(out, "token") == 0 ? (conf_key_find(conf_section_kind(sect, NULL),
											   key) ? out : NULL)
									   : NULL;
}

/* {hash, sections: [{name, keys}], secrets: [{section, key, set}]} of text. */
json_t *setup_config_json(const char *text, size_t len, const char *hash)
{
	struct setup_ini ini;
	if (setup_ini_parse(&ini, text, len) < 0)
		return NULL;
	json_t *secs = json_array(), *secrets = json_array(), *cur = NULL;
	char v[4096], base[64];
	for (size_t i = 0; i < ini.n; i++) {
		const struct setup_ini_line *l = &ini.lines[i];
		if (l->kind == SETUP_INI_SECTION) {
			cur = json_object();
			json_array_append_new(secs, json_pack("{s:s, s:o}", "name", l->name, "keys", cur));
			continue;
		}
		if (l->kind != SETUP_INI_KEY || l->sect < 0 || !cur)
			continue;
		const char *sect = ini.lines[l->sect].name;
		if (json_object_get(cur, l->name))
			continue; /* a key on several lines: joined the first time */
		setup_ini_get(&ini, sect, l->name, v, sizeof(v));
		if (setup_value_hidden(sect, l->name, v)) {
			json_array_append_new(secrets, json_pack("{s:s, s:s, s:b}", "section", sect, "key", l->name, "set", 1));
			continue;
		}
		json_object_set_new(cur, l->name, json_string(v));
		if (setup_secret_of_file(sect, l->name, base, sizeof(base)))
			json_array_append_new(secrets, json_pack("{s:s, s:s, s:b}", "section", sect, "key", base, "set", 1));
	}
	setup_ini_free(&ini);
	return json_pack("{s:s, s:o, s:o}", "hash", hash, "sections", secs, "secrets", secrets);
}

bool setup_ini_holds_secret(const struct setup_ini *ini)
{
	char v[4096];
	for (size_t i = 0; i < ini->n; i++) {
		const struct setup_ini_line *l = &ini->lines[i];
		if (l->kind == SETUP_INI_KEY && l->sect >= 0 &&
		    setup_ini_get(ini, ini->lines[l->sect].name, l->name, v, sizeof(v)) &&
		    setup_value_hidden(ini->lines[l->sect].name, l->name, v))
			return true;
	}
	return false;
}

/* Room for more keys in section i of w: a new array of all of them. */
static int grow_keys(struct setup_want *w, size_t extra)
{
	size_t total = 0;
	for (size_t i = 0; i < w->n; i++)
		total += w->sects[i].nkeys;
	struct setup_ini_want_key *keys = calloc(total + w->n * extra + 1, sizeof(*keys)), *p = keys;
	if (!keys)
		return -1;
	for (size_t i = 0; i < w->n; i++) {
		memcpy(p, w->sects[i].keys, w->sects[i].nkeys * sizeof(*p));
		w->sects[i].keys = p;
		p += w->sects[i].nkeys + extra; /* each section may take `extra` more */
	}
	free(w->keys);
	w->keys = keys;
	return 0;
}

/* A string w keeps until it is freed. */
static const char *keep(struct setup_want *w, const char *v)
{
	json_t *arr = json_object_get(w->root, "\x01kept");
	if (!arr) {
		arr = json_array();
		json_object_set_new(w->root, "\x01kept", arr);
	}
	json_t *s = json_string(v);
	if (!s || json_array_append_new(arr, s) < 0)
		return NULL;
	return json_string_value(s);
}

/* key = value in section i of w (replaced, or added in the room grow_keys made). */
static int want_set(struct setup_want *w, size_t i, const char *key, const char *value)
{
	struct setup_ini_want *s = &w->sects[i];
	struct setup_ini_want_key *keys = (struct setup_ini_want_key *)s->keys;
	const char *k = keep(w, key), *v = keep(w, value);
	if (!k || !v)
		return -1;
	for (size_t j = 0; j < s->nkeys; j++)
		if (strcmp(keys[j].key, key) == 0) {
			keys[j].value = v;
			return 0;
		}
	keys[s->nkeys++] = (struct setup_ini_want_key){ k, v };
	return 0;
}

static ssize_t want_find(const struct setup_want *w, const char *sect)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->sects[i].sect, sect) == 0)
			return (ssize_t)i;
	return -1;
}

static bool want_has(const struct setup_ini_want *s, const char *key)
{
	for (size_t j = 0; j < s->nkeys; j++)
		if (strcmp(s->keys[j].key, key) == 0)
			return true;
	return false;
}

/* The hidden values of the file that w could not send, kept; room for
 * `more` keys in each section after them (the secrets' *_file). */
int setup_keep_hidden(const struct setup_ini *ini, struct setup_want *w, size_t more)
{
	size_t most = 0;
	for (size_t i = 0; i < ini->n; i++) {
		size_t n = 0;
		for (size_t j = i + 1; ini->lines[i].kind == SETUP_INI_SECTION && j < ini->n && ini->lines[j].sect == (int)i; j++)
			n += ini->lines[j].kind == SETUP_INI_KEY;
		most = n > most ? n : most;
	}
	if (grow_keys(w, most + more) < 0)
		return -1;
	char v[4096];
	for (size_t i = 0; i < ini->n; i++) {
		const struct setup_ini_line *l = &ini->lines[i];
		if (l->kind != SETUP_INI_KEY || l->sect < 0)
			continue;
		const char *sect = ini->lines[l->sect].name;
		ssize_t at = want_find(w, sect);
		if (at < 0 || want_has(&w->sects[at], l->name) || !setup_ini_get(ini, sect, l->name, v, sizeof(v)) ||
		    !setup_value_hidden(sect, l->name, v))
			continue;
		if (want_set(w, (size_t)at, l->name, v) < 0)
			return -1;
	}
	return 0;
}

int setup_want_secret(struct setup_want *w, const struct setup_secret *sec, const char *dir, char *path, size_t pcap,
		      char *why, size_t cap)
{
	ssize_t at = want_find(w, sec->section);
	if (at < 0) {
		snprintf(why, cap, "no [%s] in sections", sec->section);
		return -1;
	}
	const struct conf_section *kind = conf_section_kind(sec->section, NULL);
	char fk[80];
	snprintf(fk, sizeof(fk), "%s_file", sec->key);
	const struct conf_key *k = conf_key_find(kind, sec->key);
	path[0] = '\0';
	if (conf_key_find(kind, fk) && (strcmp(sec->key, "password") == 0 || strcmp(sec->key, "token") == 0)) {
		snprintf(path, pcap, "%s/%s.%s", dir, sec->section, sec->key);
		return want_set(w, (size_t)at, fk, path);
	}
	if (k && conf_key_secret(k))
		return want_set(w, (size_t)at, sec->key, sec->value); /* a key that is its own secret */
	snprintf(why, cap, "[%s] has no secret %s (a password or token goes to its *_file)", sec->section, sec->key);
	return -1;
}
