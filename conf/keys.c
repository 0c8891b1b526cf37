/* SPDX-License-Identifier: MIT */
/* conf/keys.c - the key table read back: whether two configurations of a
 * section differ in the keys of a reload class (a reload keeps a part of
 * the daemon when they do not), a key's value as text (/api/config), and
 * the table itself (bmsgw --keys).
 *
 * Every comparison and every text goes by the key's type (enum conf_type)
 * and its offset in the section's struct, the way values.c stores it: a
 * new key is compared and shown the moment its row is in conf__keys[].
 */
#include "conf_int.h"

#include <string.h>

#include "../bms/bms.h"

static const char *const type_names[KT_COUNT] = {
	[KT_INT] = "int",           [KT_DOUBLE] = "double",   [KT_BOOL] = "bool",       [KT_WORD] = "word",
	[KT_LISTEN] = "listen",     [KT_PROTOCOL] = "protocol", [KT_PORT] = "port",     [KT_BAUD] = "baud",
	[KT_NAMES] = "names",       [KT_STRINGS] = "strings", [KT_NAME] = "name",       [KT_HOST] = "host",       [KT_RANGE] = "range",
	[KT_PATH] = "path",         [KT_TOPIC] = "topic",     [KT_IDENT] = "ident",     [KT_TEXT] = "text",
	[KT_NETS] = "nets",         [KT_PATHTEXT] = "pathtext", [KT_KEY] = "key",       [KT_ADAPTER] = "adapter",
	[KT_TABLE] = "table",       [KT_OUTPORT] = "outport", [KT_DEVICE] = "device",   [KT_LABEL] = "label",
	[KT_FLAGS] = "flags",       [KT_VER] = "ver",          [KT_KEY32] = "key32",
	[KT_URL] = "url",           [KT_LINE] = "line",       [KT_HOSTS] = "hosts",       [KT_PIN] = "pin",
};
static const char *const reload_names[] = {
	[CONF_LIVE] = "live", [CONF_RESTART] = "restart", [CONF_RELINK] = "relink",
};

/* Does key k hold the same value in the section structs a and b? */
static bool key_same(const struct conf_key *k, const void *a, const void *b)
{
	const char *fa = (const char *)a + k->off, *fb = (const char *)b + k->off;
	switch (k->type) {
	case KT_INT: case KT_WORD: case KT_BAUD: case KT_FLAGS: case KT_VER:
		return *(const int *)(const void *)fa == *(const int *)(const void *)fb;
	case KT_RANGE:
		return memcmp(fa, fb, 2 * sizeof(int)) == 0;
	case KT_DOUBLE:
		return *(const double *)(const void *)fa == *(const double *)(const void *)fb;
	case KT_BOOL:
		return *(const bool *)(const void *)fa == *(const bool *)(const void *)fb;
	case KT_LISTEN: /* the host, then its port */
		return strcmp(fa, fb) == 0 && memcmp(fa + CONF_HOST_MAX, fb + CONF_HOST_MAX, sizeof(int)) == 0;
	case KT_PROTOCOL:
		return *(const struct bms_driver *const *)(const void *)fa ==
		       *(const struct bms_driver *const *)(const void *)fb;
	case KT_NETS: /* as written, as the running parts compared it */
		return strcmp(((const struct conf_nets *)(const void *)fa)->text,
			      ((const struct conf_nets *)(const void *)fb)->text) == 0;
	case KT_KEY: /* have_key, then the 16 bytes */
		return memcmp(fa, fb, 1 + 16) == 0;
	case KT_KEY32: /* have_key, then the 32 bytes */
		return memcmp(fa, fb, 1 + 32) == 0;
	case KT_TABLE: {
		const struct conf_table *ta = (const void *)fa, *tb = (const void *)fb;
		if (ta->n != tb->n)
			return false;
		for (int i = 0; i < ta->n; i++)
			if (ta->x[i] != tb->x[i] || ta->y[i] != tb->y[i])
				return false;
		return true;
	}
	default: /* a text: port, names, host, path ... */
		return strcmp(fa, fb) == 0;
	}
}

bool conf_section_same(const struct conf_section *s, enum conf_reload r, const void *a, const void *b)
{
	if (!s)
		return false;
	for (int k = 0; k < s->nkeys; k++)
		if (s->keys[k].reload == r && !key_same(&s->keys[k], a, b))
			return false;
	for (int i = 0; i < s->nderived; i++) {
		const struct conf_derived *d = &s->derived[i];
		if (d->reload == r && strcmp((const char *)a + d->off, (const char *)b + d->off) != 0)
			return false;
	}
	return true;
}

const void *conf_section_at(const struct conf *c, const struct conf_section *s, int i, const char **name)
{
	const char *obj = conf_obj(c, s, i);
	*name = NULL;
	if (!obj)
		return NULL;
	if (s->named)
		*name = obj + s->name;
	else if (s->enabled != CONF_NO_FIELD && !*(const bool *)(const void *)(obj + s->enabled))
		return NULL;
	return obj;
}

/* "x:fraction, ..." of a table, "" for none. */
static void table_text(const struct conf_table *t, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int i = 0; i < t->n && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s%.10g:%.10g", i ? ", " : "", t->x[i], t->y[i]);
		if (r < 0)
			return;
		n += (size_t)r;
	}
}

/* "capacity, cells" of the bits of a KT_FLAGS key, "none" for none. */
static void flags_text(const struct conf_key *k, int bits, char *buf, size_t cap)
{
	size_t n = 0;
	conf_bfmt(buf, cap, "none");
	for (int i = 0; k->words[i] && n < cap; i++) {
		if (!(bits & 1 << i))
			continue;
		int r = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", k->words[i]);
		if (r < 0)
			return;
		n += (size_t)r;
	}
}

/* A number outside its key's range is none: left unset by the file, for the
 * checks to derive (a pack's gap) or because it does not apply (position,
 * reply_address -1, a pack's own current limits -1). */
static bool is_none(const struct conf_key *k, double v)
{
	return (k->above ? v <= k->min : v < k->min) || v > k->max;
}

/* 32-bit FNV-1a of an advertisement key: which key is in force, not the key. */
static unsigned fingerprint(const unsigned char *key, size_t n)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* The text of a key that holds a number (or none). */
static void number_text(const struct conf_key *k, const char *f, char *buf, size_t cap)
{
	int iv = 0;
	double dv = 0;
	if (k->type == KT_DOUBLE)
		memcpy(&dv, f, sizeof(dv));
	else
		memcpy(&iv, f, sizeof(iv));
	if ((k->type == KT_DOUBLE && is_none(k, dv)) || (k->type == KT_INT && is_none(k, iv)) ||
	    (k->type == KT_FLAGS && iv < 0) || (k->type == KT_BAUD && !iv))
		conf_bfmt(buf, cap, "%s", ""); /* none (a Bluetooth pack has no baud rate) */
	else if (k->type == KT_DOUBLE)
		conf_bfmt(buf, cap, "%.10g", dv);
	else if (k->type == KT_WORD)
		conf_bfmt(buf, cap, "%s", conf_key_word(k, iv));
	else if (k->type == KT_FLAGS)
		flags_text(k, iv, buf, cap);
	else if (k->type == KT_VER && iv == CONF_VER_ECHO)
		conf_bfmt(buf, cap, "%s", "echo");
	else if (k->type == KT_VER)
		conf_bfmt(buf, cap, "0x%02X", (unsigned)iv);
	else if (k->type == KT_RANGE)
		conf_bfmt(buf, cap, "%d-%d", iv, ((const int *)(const void *)f)[1]);
	else
		conf_bfmt(buf, cap, "%d", iv);
}

void conf_key_text(const struct conf_key *k, const void *obj, char *buf, size_t cap)
{
	const char *f = (const char *)obj + k->off;
	switch (k->type) {
	case KT_INT: case KT_BAUD: case KT_DOUBLE: case KT_WORD: case KT_FLAGS: case KT_VER: case KT_RANGE:
		number_text(k, f, buf, cap);
		return;
	case KT_BOOL:
		conf_bfmt(buf, cap, "%s", *(const bool *)(const void *)f ? "true" : "false");
		return;
	case KT_LISTEN: {
		int port;
		memcpy(&port, f + CONF_HOST_MAX, sizeof(port));
		if (port == 0) /* [gateway] listen = (empty): off */
			conf_bfmt(buf, cap, "%s", "");
		else
			conf_fmt_hostport(buf, cap, f, port);
		return;
	}
	case KT_PROTOCOL: {
		const struct bms_driver *d = *(const struct bms_driver *const *)(const void *)f;
		conf_bfmt(buf, cap, "%s", d ? d->name : "");
		return;
	}
	case KT_NETS:
		conf_bfmt(buf, cap, "%s", ((const struct conf_nets *)(const void *)f)->text);
		return;
	case KT_KEY: case KT_KEY32:
		if (*(const bool *)(const void *)f)
			conf_bfmt(buf, cap, "fnv1a:%08x",
				   fingerprint((const unsigned char *)f + 1, k->type == KT_KEY ? 16 : 32));
		else
			conf_bfmt(buf, cap, "%s", "");
		return;
	case KT_TABLE:
		table_text((const struct conf_table *)(const void *)f, buf, cap);
		return;
	case KT_PIN: /* a secret, and a short one: not even a fingerprint (a PIN's is guessed) */
		conf_bfmt(buf, cap, "%s", f[0] ? "set" : "");
		return;
	default:
		conf_bfmt(buf, cap, "%s", f);
		return;
	}
}

/* One line of bmsgw --keys. */
static void print_key(const struct conf_section *s, const struct conf_key *k, FILE *out)
{
	char words[CONF_EXP_MAX] = "";
	const char *type = k->type == KT_CUSTOM && k->custom ? k->custom->name : type_names[k->type];
	for (int j = 0; k->words && k->words[j]; j++)
		conf_bfmt(words + strlen(words), sizeof(words) - strlen(words), "%s%s", j ? "," : "", k->words[j]);
	fprintf(out, "%s\t%s\t%s\t%s%.10g\t%.10g\t%s\t%s\t%s\n", s->word, k->name, type, k->above ? ">" : "",
		k->min, k->max, words, k->def ? k->def : "-", reload_names[k->reload]);
}

/* Section by section, in the order messages list them, each section's keys
 * in the table's order. */
void conf_print_keys(FILE *out)
{
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf_section *s = conf__rt_nth(i)->s;
		for (int k = 0; k < s->nkeys; k++)
			print_key(s, &s->keys[k], out);
	}
}
