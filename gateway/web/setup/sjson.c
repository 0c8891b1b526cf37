/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/sjson.c - the bodies of the setup API's POSTs read
 * (jansson): the whole configuration as sections of keys, the secrets of
 * an apply, a detection's options.  Pure: JSON in, structs and reasons
 * out; fuzzed by tests/fuzz/fuzz_setup_json.c.  Every string is checked
 * for what the file can hold (ini.h) before anything is written, each
 * refusal naming its field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setup_int.h"

json_t *setup_parse_body(const char *body, size_t len, char *why, size_t cap)
{
	json_error_t e;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (!root) {
		snprintf(why, cap, "the body is not JSON (%s, at character %d)", e.text, e.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(why, cap, "the body is not a JSON object");
		return NULL;
	}
	return root;
}

/* One {name, keys: {K: V}}: V a string, number or boolean. */
static int one_section(json_t *o, struct setup_ini_want *w, struct setup_ini_want_key *keys, char *why, size_t cap)
{
	json_t *name = json_object_get(o, "name"), *kv = json_object_get(o, "keys");
	if (!json_is_string(name) || (kv && !json_is_object(kv))) {
		snprintf(why, cap, "a section is {\"name\": \"pack.NAME\", \"keys\": {\"KEY\": \"VALUE\"}}");
		return -1;
	}
	w->sect = json_string_value(name);
	w->keys = keys;
	w->nkeys = 0;
	const char *k;
	json_t *v;
	json_object_foreach(kv, k, v) {
		if (json_is_boolean(v))
			keys[w->nkeys].value = json_is_true(v) ? "true" : "false";
		else if (json_is_string(v))
			keys[w->nkeys].value = json_string_value(v);
		else {
			snprintf(why, cap, "[%s] %s: a value is a string, a number or true/false", w->sect, k);
			return -1;
		}
		keys[w->nkeys++].key = k;
	}
	return 0;
}

/* Numbers as the file writes them: each replaced by its text (kept in root). */
static int numbers_to_text(json_t *secs)
{
	size_t i;
	json_t *o;
	json_array_foreach(secs, i, o) {
		json_t *kv = json_object_get(o, "keys");
		const char *k;
		json_t *v;
		json_object_foreach(kv, k, v) {
			if (!json_is_number(v))
				continue;
			char t[64];
			if (json_is_integer(v))
				snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(v));
			else
				snprintf(t, sizeof(t), "%.10g", json_real_value(v));
			if (json_object_set_new(kv, k, json_string(t)) < 0)
				return -1;
		}
	}
	return 0;
}

int setup_parse_sections(json_t *root, struct setup_want *w, char *why, size_t cap)
{
	memset(w, 0, sizeof(*w));
	json_t *secs = json_object_get(root, "sections");
	if (!json_is_array(secs)) {
		snprintf(why, cap, "sections: the whole configuration, [{\"name\": ..., \"keys\": {...}}]");
		return -1;
	}
	size_t n = json_array_size(secs), nkeys = 0, i;
	json_t *o;
	if (n > 512) {
		snprintf(why, cap, "sections: at most 512");
		return -1;
	}
	json_array_foreach(secs, i, o) {
		json_t *kv = json_object_get(o, "keys");
		nkeys += json_is_object(kv) ? json_object_size(kv) : 0;
	}
	if (numbers_to_text(secs) < 0) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	w->sects = calloc(n ? n : 1, sizeof(*w->sects));
	struct setup_ini_want_key *keys = calloc(nkeys ? nkeys : 1, sizeof(*keys));
	if (!w->sects || !keys) {
		free(w->sects);
		free(keys);
		w->sects = NULL;
		snprintf(why, cap, "out of memory");
		return -1;
	}
	size_t used = 0;
	json_array_foreach(secs, i, o) {
		if (!json_is_object(o) || one_section(o, &w->sects[i], keys + used, why, cap) < 0) {
			if (!json_is_object(o))
				snprintf(why, cap, "sections[%zu]: an object {\"name\", \"keys\"}", i);
			free(keys);
			free(w->sects);
			w->sects = NULL;
			return -1;
		}
		used += w->sects[i].nkeys;
		w->n++;
	}
	json_incref(root);
	w->root = root;
	w->keys = keys;
	return 0;
}

void setup_want_free(struct setup_want *w)
{
	free(w->keys);
	free(w->sects);
	json_decref(w->root);
	memset(w, 0, sizeof(*w));
}

int setup_parse_secrets(json_t *arr, struct setup_secret *out, int max, char *why, size_t cap, const char **sect,
			const char **key)
{
	*sect = *key = NULL;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		snprintf(why, cap, "secrets: [{\"section\", \"key\", \"value\"}]");
		return -1;
	}
	size_t i;
	json_t *o;
	int n = 0;
	json_array_foreach(arr, i, o) {
		json_t *s = json_object_get(o, "section"), *k = json_object_get(o, "key"), *v = json_object_get(o, "value");
		if (!json_is_string(s) || !json_is_string(k) || !json_is_string(v)) {
			snprintf(why, cap, "secrets[%zu]: {\"section\", \"key\", \"value\"}, three strings", i);
			return -1;
		}
		if (n >= max) {
			snprintf(why, cap, "secrets: at most %d", max);
			return -1;
		}
		out[n] = (struct setup_secret){ json_string_value(s), json_string_value(k), json_string_value(v) };
		const char *val = out[n].value;
		*sect = out[n].section;
		*key = out[n].key;
		size_t vl = json_string_length(v);
		if (vl == 0 || vl > SETUP_SECRET_MAX || strlen(val) != vl) {
			snprintf(why, cap, "a secret is 1 to %d bytes", SETUP_SECRET_MAX);
			return -1;
		}
		for (size_t c = 0; c < vl; c++)
			if ((unsigned char)val[c] < 0x20 || val[c] == 0x7f) {
				snprintf(why, cap, "a secret is one line of printable characters (%s)",
					 val[c] == '\n' || val[c] == '\r' ? "this one holds a line break" : "a control character");
				return -1;
			}
		n++;
	}
	*sect = *key = NULL;
	return n;
}

static int opt_int(json_t *root, const char *name, int *out, int lo, int hi, char *why, size_t cap)
{
	json_t *v = json_object_get(root, name);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(why, cap, "%s: a whole number %d..%d", name, lo, hi);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static int opt_bool(json_t *root, const char *name, bool *out, char *why, size_t cap)
{
	json_t *v = json_object_get(root, name);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(why, cap, "%s: true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int setup_parse_detect(json_t *root, struct setup_detect_req *d, char *why, size_t cap, const char **field)
{
	memset(d, 0, sizeof(*d));
	d->address = -1;
	json_t *p = json_object_get(root, "port");
	*field = "port";
	if (!json_is_string(p) || !json_string_length(p) || json_string_length(p) >= sizeof(d->port) ||
	    strlen(json_string_value(p)) != json_string_length(p)) {
		snprintf(why, cap, "port: a device (/dev/...) or tcp://HOST:PORT");
		return -1;
	}
	snprintf(d->port, sizeof(d->port), "%s", json_string_value(p));
	*field = "baud";
	if (opt_int(root, "baud", &d->baud, 0, 4000000, why, cap) < 0 || (d->baud && !conf_baud_ok(d->baud))) {
		if (d->baud)
			snprintf(why, cap, "baud: %d is not a standard rate (1200 ... 921600)", d->baud);
		return -1;
	}
	*field = "address";
	if (opt_int(root, "address", &d->address, 0, 255, why, cap) < 0)
		return -1;
	*field = "scan_addresses";
	if (opt_bool(root, "scan_addresses", &d->sweep, why, cap) < 0)
		return -1;
	if (d->sweep && d->address >= 0) {
		snprintf(why, cap, "address and scan_addresses exclude each other");
		return -1;
	}
	*field = "all";
	if (opt_bool(root, "all", &d->all, why, cap) < 0)
		return -1;
	*field = NULL;
	return 0;
}
