/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_conf_ini.c - the configuration file rewritten in place
 * (gateway/web/setup/ini.c): the input is a file, its first bytes the changes to make
 * (a key set or removed, a section added or removed, names and values
 * from a small list and from the input).  Invariants: no crash, no read
 * past the text; the file read and written back without a change is the
 * same bytes; after every change the text read again gives the same lines
 * and kinds; a value refused is not written; a section added is found, a
 * section removed is gone, a key set reads back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/web/setup/ini.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const sects[] = { "gateway", "pack.a", "pack.b", "mqtt", "http", "bank" };
static const char *const keys[] = { "port", "protocol", "listen", "fields", "host", "x" };
static const char *const vals[] = { "", "1", "a ;b", "x\ny", " lead", "tcp://h:1", "v;w#z", "[pack.c]" };

/* The text of ini read again: the same lines, of the same kinds. */
static void reread(const struct setup_ini *ini)
{
	size_t len;
	char *t = setup_ini_text(ini, &len);
	if (!t)
		return;
	struct setup_ini again;
	if (setup_ini_parse(&again, t, len) == 0) {
		size_t n = ini->n;
		if (again.n != n)
			abort();
		for (size_t i = 0; i < n; i++)
			if (strcmp(again.lines[i].text, ini->lines[i].text) != 0 ||
			    again.lines[i].kind != ini->lines[i].kind || again.lines[i].sect != ini->lines[i].sect)
				abort();
		setup_ini_free(&again);
	}
	free(t);
}

static void change(struct setup_ini *ini, struct fz_in *in)
{
	uint8_t op = fz_u8(in);
	const char *s = sects[fz_u8(in) % 6], *k = keys[fz_u8(in) % 6], *v = vals[fz_u8(in) % 8];
	char out[4096];
	switch (op % 4) {
	case 0: {
		int r = setup_ini_set(ini, s, k, v);
		if ((r == 0) != (setup_ini_value_bad(v) == NULL))
			abort();
		if (r == 0 && (!setup_ini_get(ini, s, k, out, sizeof(out)) || strcmp(out, v) != 0))
			abort();
		break;
	}
	case 1:
		setup_ini_unset(ini, s, k);
		if (setup_ini_get(ini, s, k, out, sizeof(out)))
			abort();
		break;
	case 2:
		if (setup_ini_add_section(ini, s) < 0 || setup_ini_find_section(ini, s) < 0)
			abort();
		break;
	default:
		while (setup_ini_remove_section(ini, s) == 0)
			;
		if (setup_ini_find_section(ini, s) >= 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t nops = fz_u8(&in) % 8;
	size_t ops = (size_t)nops * 4 < in.n ? (size_t)nops * 4 : in.n;
	struct fz_in opin = { in.p, ops };
	const char *text = (const char *)in.p + ops;
	size_t len = in.n - ops;
	struct setup_ini ini;
	if (setup_ini_parse(&ini, text, len) < 0) {
		if (!memchr(text, '\0', len))
			abort(); /* only a NUL is refused (or memory) */
		return 0;
	}
	size_t ol;
	char *out = setup_ini_text(&ini, &ol);
	if (out && (ol != len || memcmp(out, text, len) != 0))
		abort();
	free(out);
	for (uint8_t i = 0; i < nops; i++) {
		change(&ini, &opin);
		reread(&ini);
	}
	setup_ini_free(&ini);
	return 0;
}
