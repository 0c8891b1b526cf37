/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/schema.c - GET /api/setup/schema: what the page's forms
 * are made of, from the key table (conf/schema.c) and the driver table:
 * every kind of section with its keys (type, range, words, default,
 * secret), and every BMS protocol with the keys of [pack.NAME] it takes,
 * its default baud rate and its addresses.  The same for every client;
 * computed once. */
#include "../../../bms/bms.h"
#include "setup_int.h"

static json_t *key_json(const struct conf_key *k)
{
	struct conf_key_about a;
	conf_key_about(k, &a);
	json_t *o = json_pack("{s:s, s:s, s:b}", "name", a.name, "type", a.type, "secret", a.secret);
	if (a.numeric) {
		json_object_set_new(o, "min", json_real(a.min));
		json_object_set_new(o, "max", json_real(a.max));
		json_object_set_new(o, "above", json_boolean(a.above));
	}
	if (a.words) {
		json_t *w = json_array();
		for (int i = 0; a.words[i]; i++)
			json_array_append_new(w, json_string(a.words[i]));
		json_object_set_new(o, "words", w);
	}
	json_object_set_new(o, "default", a.def ? json_string(a.def) : json_null());
	return o;
}

static json_t *sections_json(void)
{
	json_t *arr = json_array();
	const struct conf_section *s;
	for (int si = 0; (s = conf_section_nth(si)); si++) {
		json_t *keys = json_array();
		for (int k = 0; k < s->nkeys; k++)
			json_array_append_new(keys, key_json(&s->keys[k]));
		json_array_append_new(arr, json_pack("{s:s, s:b, s:o}", "kind", s->word, "named", s->named, "keys", keys));
	}
	return arr;
}

static json_t *protocols_json(void)
{
	json_t *arr = json_array();
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *d = bms_drivers[i];
		json_t *keys = json_array();
		for (int k = 0; k < conf_sect_pack.nkeys; k++)
			if (conf_pack_key_applies(d, &conf_sect_pack.keys[k]))
				json_array_append_new(keys, json_string(conf_sect_pack.keys[k].name));
		const char *link = d->messages ? "mqtt" : d->can ? "can" : bms_ble_only(d) ? "ble" : "serial";
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "name", d->name, "description",
				      d->description ? d->description : "", "vendor", d->vendor ? d->vendor : "", "link", link,
				      "keys", keys, "ble", d->ble != NULL);
		if (d->default_baud && !d->can)
			json_object_set_new(o, "baud", json_integer(d->default_baud));
		if (d->max_address)
			json_object_set_new(o, "address", json_pack("{s:i, s:i, s:i}", "min", d->min_address, "max",
								      d->max_address, "default",
								      d->default_address ? d->default_address
											 : d->min_address));
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *setup_schema_json(void)
{
	return json_pack("{s:o, s:o}", "sections", sections_json(), "protocols", protocols_json());
}

int setup_schema(struct setup_ctx *x)
{
	static json_t *cached;
	if (!cached)
		cached = setup_schema_json();
	return setup_answer(x, cached ? 200 : 500, json_incref(cached));
}
