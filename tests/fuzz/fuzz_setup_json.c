/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_setup_json.c - the bodies of the setup API's POSTs
 * (gateway/web/setup/sjson.c): the input is a body as a client sends it.
 * Invariants: no crash, no read past the body; a body taken is a JSON
 * object; sections taken have a name and keys whose values are strings
 * (numbers and booleans written as the file writes them); secrets taken
 * are 1..255 bytes of one printable line each, a refused one names its
 * field; a detection's options taken have a port, a standard baud rate or
 * none, an address 0..255 or none, never both an address and a sweep; the
 * sections made into an empty file give a text that parses back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/web/setup/setup_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sections(json_t *root)
{
	struct setup_want w;
	char why[300];
	if (setup_parse_sections(root, &w, why, sizeof(why)) < 0) {
		if (!why[0])
			abort();
		return;
	}
	for (size_t i = 0; i < w.n; i++) {
		if (!w.sects[i].sect)
			abort();
		for (size_t k = 0; k < w.sects[i].nkeys; k++)
			if (!w.sects[i].keys[k].key || !w.sects[i].keys[k].value)
				abort();
	}
	struct setup_ini ini;
	if (setup_ini_parse(&ini, "", 0) == 0) {
		if (setup_ini_make(&ini, w.sects, w.n, NULL, NULL, why, sizeof(why)) == 0) {
			char *t = setup_ini_text(&ini, NULL);
			struct setup_ini again;
			if (t && setup_ini_parse(&again, t, strlen(t)) == 0)
				setup_ini_free(&again);
			free(t);
		}
		setup_ini_free(&ini);
	}
	setup_want_free(&w);
}

static void secrets(json_t *root)
{
	struct setup_secret s[SETUP_SECRETS_MAX];
	char why[300] = "";
	const char *sect, *key;
	int n = setup_parse_secrets(json_object_get(root, "secrets"), s, SETUP_SECRETS_MAX, why, sizeof(why), &sect, &key);
	if (n < 0 && !why[0])
		abort();
	for (int i = 0; i < n; i++) {
		size_t l = strlen(s[i].value);
		if (l == 0 || l > SETUP_SECRET_MAX || !s[i].section || !s[i].key)
			abort();
		for (size_t j = 0; j < l; j++)
			if ((unsigned char)s[i].value[j] < 0x20 || s[i].value[j] == 0x7f)
				abort();
	}
}

static void detect(json_t *root)
{
	struct setup_detect_req d;
	char why[300] = "";
	const char *field;
	if (setup_parse_detect(root, &d, why, sizeof(why), &field) < 0) {
		if (!why[0] || !field)
			abort();
		return;
	}
	if (!d.port[0] || (d.baud && !conf_baud_ok(d.baud)) || d.address < -1 || d.address > 255 ||
	    (d.sweep && d.address >= 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[300] = "";
	json_t *root = setup_parse_body((const char *)data, size, why, sizeof(why));
	if (!root) {
		if (!why[0])
			abort();
		return 0;
	}
	if (!json_is_object(root))
		abort();
	sections(root);
	secrets(root);
	detect(root);
	json_decref(root);
	return 0;
}
