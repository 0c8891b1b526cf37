/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_ini.c - the configuration file rewritten in place
 * (gateway/web/setup/ini.c, the setup API's apply): every example in conf/ read and
 * written back byte for byte; each single change (a value set, a key
 * added or removed, a section added or removed) touches only its own
 * lines, keeps the comment after a value, and leaves every other section
 * byte for byte; the whole configuration made from itself changes
 * nothing; the result still loads as the daemon reads it; the values and
 * names that cannot be written are refused. */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/web/setup/ini.h"
#include "check.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* The text of a, the line `skip` left out (-1: none), equals b's, the
 * line `bskip` left out. */
static bool same_but(const struct setup_ini *a, long skip, const struct setup_ini *b, long bskip)
{
	size_t i = 0, j = 0;
	for (;;) {
		if ((long)i == skip)
			i++;
		if ((long)j == bskip)
			j++;
		if (i >= a->n || j >= b->n)
			return i >= a->n && j >= b->n;
		if (strcmp(a->lines[i].text, b->lines[j].text) != 0)
			return false;
		i++;
		j++;
	}
}

static int changes;
static void count(void *arg, const char *sect, const char *key, const char *value)
{
	(void)arg;
	(void)sect;
	(void)key;
	(void)value;
	changes++;
}

/* The file's own sections as the whole configuration wanted. */
struct want_buf {
	struct setup_ini_want w[256];
	struct setup_ini_want_key k[4096];
	char vals[4096][512];
	size_t n;
};

static void want_of(const struct setup_ini *ini, struct want_buf *b)
{
	size_t nk = 0;
	b->n = 0;
	for (size_t i = 0; i < ini->n; i++) {
		const struct setup_ini_line *l = &ini->lines[i];
		if (l->kind == SETUP_INI_SECTION && setup_ini_find_section(ini, l->name) == (int)i) {
			b->w[b->n++] = (struct setup_ini_want){ l->name, &b->k[nk], 0 };
		} else if (l->kind == SETUP_INI_KEY && b->n && l->sect >= 0) {
			struct setup_ini_want *w = &b->w[b->n - 1];
			bool dup = false;
			for (size_t k = 0; k < w->nkeys; k++)
				dup = dup || strcmp(w->keys[k].key, l->name) == 0;
			if (dup)
				continue;
			setup_ini_get(ini, w->sect, l->name, b->vals[nk], sizeof(b->vals[nk]));
			b->k[nk] = (struct setup_ini_want_key){ l->name, b->vals[nk] };
			nk++;
			w->nkeys++;
		}
	}
}

/* Round trip, each value set again, the whole made from itself. */
static void identity(const char *path, const char *text, size_t len)
{
	struct setup_ini ini;
	CHECK_EQ_INT(setup_ini_parse(&ini, text, len), 0);
	size_t ol;
	char *out = setup_ini_text(&ini, &ol);
	bool same = out && ol == len && memcmp(out, text, len) == 0;
	if (!same)
		fprintf(stderr, "%s: not the same after a round trip\n", path);
	CHECK(same);
	free(out);
	static struct want_buf b;
	want_of(&ini, &b);
	changes = 0;
	char why[256];
	CHECK_EQ_INT(setup_ini_make(&ini, b.w, b.n, count, NULL, why, sizeof(why)), 0);
	CHECK_EQ_INT(changes, 0);
	out = setup_ini_text(&ini, &ol);
	CHECK(out && ol == len && memcmp(out, text, len) == 0);
	free(out);
	setup_ini_free(&ini);
}

/* Each key line set to a new value: that line alone changes, its text
 * around the value (the comment after it) kept. */
static void each_value(const char *path, const char *text, size_t len)
{
	struct setup_ini ini;
	CHECK_EQ_INT(setup_ini_parse(&ini, text, len), 0);
	int bad = 0;
	for (size_t i = 0; i < ini.n; i++) {
		const struct setup_ini_line *l = &ini.lines[i];
		if (l->kind != SETUP_INI_KEY || l->sect < 0 || setup_ini_find_section(&ini, ini.lines[l->sect].name) != l->sect)
			continue;
		struct setup_ini c;
		setup_ini_parse(&c, text, len);
		char sect[SETUP_INI_NAME_MAX];
		memcpy(sect, ini.lines[l->sect].name, sizeof(sect));
		int times = 0;
		for (size_t j = (size_t)l->sect + 1; j < ini.n && ini.lines[j].sect == l->sect; j++)
			times += ini.lines[j].kind == SETUP_INI_KEY && strcmp(ini.lines[j].name, l->name) == 0;
		if (times > 1) { /* a key on several lines: edges() sets it */
			setup_ini_free(&c);
			continue;
		}
		CHECK_EQ_INT(setup_ini_set(&c, sect, l->name, "NEW-value"), 0);
		bool ok = c.n == ini.n && same_but(&c, (long)i, &ini, (long)i);
		const char *t = c.lines[i].text;
		ok = ok && strncmp(t, l->text, l->vstart) == 0 && strncmp(t + l->vstart, "NEW-value", 9) == 0 &&
		     strcmp(t + l->vstart + 9, l->text + l->vend) == 0;
		if (!ok && bad++ < 3)
			fprintf(stderr, "%s:%zu: setting %s changed more than its value\n", path, i + 1, l->name);
		CHECK(ok);
		setup_ini_free(&c);
	}
	setup_ini_free(&ini);
}

/* Each section removed: every other section's lines byte for byte, in
 * their order; a key added to it: one line more, after its last key. */
static void each_section(const char *path, const char *text, size_t len)
{
	struct setup_ini ini;
	CHECK_EQ_INT(setup_ini_parse(&ini, text, len), 0);
	for (size_t i = 0; i < ini.n; i++) {
		if (ini.lines[i].kind != SETUP_INI_SECTION || setup_ini_find_section(&ini, ini.lines[i].name) != (int)i)
			continue;
		const char *name = ini.lines[i].name;
		struct setup_ini c;
		setup_ini_parse(&c, text, len);
		CHECK_EQ_INT(setup_ini_remove_section(&c, name), 0);
		CHECK_EQ_INT(setup_ini_find_section(&c, name), -1);
		/* every key line of the other sections is still there, in order */
		size_t j = 0;
		bool ok = true;
		for (size_t k = 0; k < ini.n; k++) {
			if (ini.lines[k].sect == (int)i || ini.lines[k].kind != SETUP_INI_KEY)
				continue;
			while (j < c.n && strcmp(c.lines[j].text, ini.lines[k].text) != 0)
				j++;
			ok = ok && j < c.n;
		}
		if (!ok)
			fprintf(stderr, "%s: removing [%s] lost a line of another section\n", path, name);
		CHECK(ok);
		setup_ini_free(&c);

		setup_ini_parse(&c, text, len);
		CHECK_EQ_INT(setup_ini_set(&c, name, "zz_new_key", "1"), 0);
		int at = -1;
		for (size_t k = 0; k < c.n; k++)
			if (c.lines[k].kind == SETUP_INI_KEY && strcmp(c.lines[k].name, "zz_new_key") == 0)
				at = (int)k;
		CHECK(at > (int)i && c.n == ini.n + 1 && same_but(&c, at, &ini, -1));
		CHECK(at >= 0 && c.lines[at].sect == (int)i);
		CHECK_EQ_INT(setup_ini_unset(&c, name, "zz_new_key"), 1);
		size_t ol;
		char *out = setup_ini_text(&c, &ol);
		CHECK(out && ol == len && memcmp(out, text, len) == 0);
		free(out);
		setup_ini_free(&c);
	}
	setup_ini_free(&ini);
}

/* A new value of a pack's poll_interval still loads, and only it changed. */
static void still_loads(const char *path, const char *text, size_t len)
{
	struct conf a, b;
	char err[CONF_ERR_MAX];
	if (conf_load_string(text, path, &a, err, sizeof(err)) != 0 || a.npacks == 0)
		return;
	struct setup_ini ini;
	setup_ini_parse(&ini, text, len);
	char sect[SETUP_INI_NAME_MAX + 8];
	snprintf(sect, sizeof(sect), "pack.%s", a.packs[0].name);
	CHECK_EQ_INT(setup_ini_set(&ini, sect, "poll_interval", "7.5"), 0);
	char *out = setup_ini_text(&ini, NULL);
	int r = conf_load_string(out, path, &b, err, sizeof(err));
	if (r)
		fprintf(stderr, "%s: %s\n", path, err);
	CHECK_EQ_INT(r, 0);
	CHECK_NEAR(b.packs[0].poll_interval, 7.5, 1e-9);
	CHECK_EQ_INT(b.npacks, a.npacks);
	free(out);
	setup_ini_free(&ini);
}

static void examples(void)
{
	glob_t g;
	CHECK_EQ_INT(glob("conf/*.ini", 0, NULL, &g), 0);
	CHECK(g.gl_pathc > 50);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t len;
		char *text = slurp(g.gl_pathv[i], &len);
		CHECK(text != NULL);
		if (!text)
			continue;
		identity(g.gl_pathv[i], text, len);
		each_value(g.gl_pathv[i], text, len);
		each_section(g.gl_pathv[i], text, len);
		still_loads(g.gl_pathv[i], text, len);
		free(text);
	}
	globfree(&g);
}

static char *make_text(struct setup_ini *ini)
{
	return setup_ini_text(ini, NULL);
}

static void edges(void)
{
	struct setup_ini ini;
	/* a BOM, CRLF lines, no final newline, ':' as the delimiter, a ';'
	 * without a blank and '#' inside values, a key before any section */
	const char *t = "\xEF\xBB\xBForphan = 1\r\n[gateway]\r\nlisten: 0.0.0.0:502 ; the port\r\n"
			"[alerts.a]\nurl = https://h/x;y#z\n  ; indented comment\n[pack.a]\nprotocol=daly";
	CHECK_EQ_INT(setup_ini_parse(&ini, t, strlen(t)), 0);
	CHECK_EQ_INT(ini.lines[0].kind, SETUP_INI_KEY);
	CHECK_EQ_INT(ini.lines[0].sect, -1);
	CHECK_STR(ini.lines[0].name, "orphan");
	char v[128];
	CHECK(setup_ini_get(&ini, "gateway", "listen", v, sizeof(v)));
	CHECK_STR(v, "0.0.0.0:502");
	CHECK(setup_ini_get(&ini, "alerts.a", "url", v, sizeof(v)));
	CHECK_STR(v, "https://h/x;y#z");
	CHECK(setup_ini_get(&ini, "pack.a", "protocol", v, sizeof(v)));
	CHECK_STR(v, "daly");
	CHECK(!setup_ini_get(&ini, "pack.a", "port", v, sizeof(v)));
	CHECK(!setup_ini_get(&ini, "pack.b", "protocol", v, sizeof(v)));
	CHECK_EQ_INT(ini.lines[5].kind, SETUP_INI_COMMENT);
	CHECK_EQ_INT(setup_ini_set(&ini, "gateway", "listen", "127.0.0.1:1502"), 0);
	CHECK_STR(ini.lines[2].text, "listen: 127.0.0.1:1502 ; the port\r");
	CHECK_EQ_INT(setup_ini_set(&ini, "pack.a", "port", "/dev/ttyUSB0"), 0);
	char *out = make_text(&ini);
	CHECK_STR(out, "\xEF\xBB\xBForphan = 1\r\n[gateway]\r\nlisten: 127.0.0.1:1502 ; the port\r\n"
		       "[alerts.a]\nurl = https://h/x;y#z\n  ; indented comment\n[pack.a]\nprotocol=daly\n"
		       "port = /dev/ttyUSB0");
	free(out);
	/* a new section at the end, after a blank line; the file then ends with a newline */
	CHECK_EQ_INT(setup_ini_set(&ini, "mqtt", "host", "broker"), 0);
	CHECK_EQ_INT(setup_ini_add_section(&ini, "mqtt"), 1);
	out = make_text(&ini);
	CHECK(strstr(out, "port = /dev/ttyUSB0\n\n[mqtt]\nhost = broker\n") != NULL);
	free(out);
	CHECK_EQ_INT(setup_ini_remove_section(&ini, "mqtt"), 0);
	CHECK_EQ_INT(setup_ini_remove_section(&ini, "mqtt"), -1);
	out = make_text(&ini);
	CHECK(strstr(out, "port = /dev/ttyUSB0\n") && !strstr(out, "mqtt"));
	free(out);
	setup_ini_free(&ini);

	/* a key on several lines: read joined, set on its first line */
	t = "[pack.m]\nfields = voltage:v\nfields = soc:s ; the rest\nport = x\n";
	setup_ini_parse(&ini, t, strlen(t));
	CHECK(setup_ini_get(&ini, "pack.m", "fields", v, sizeof(v)));
	CHECK_STR(v, "voltage:v, soc:s");
	CHECK_EQ_INT(setup_ini_set(&ini, "pack.m", "fields", "voltage:u"), 0);
	out = make_text(&ini);
	CHECK_STR(out, "[pack.m]\nfields = voltage:u\nport = x\n");
	free(out);
	CHECK_EQ_INT(setup_ini_unset(&ini, "pack.m", "fields"), 1);
	CHECK_EQ_INT(setup_ini_unset(&ini, "pack.m", "fields"), 0);
	setup_ini_free(&ini);

	/* removing a section keeps the comment block above the next header */
	t = "[pack.a]\nprotocol = daly\n; its own comment\nport = x\n\n; about the bank\n; more\n[bank]\npacks = a\n";
	setup_ini_parse(&ini, t, strlen(t));
	CHECK_EQ_INT(setup_ini_remove_section(&ini, "pack.a"), 0);
	out = make_text(&ini);
	CHECK_STR(out, "; about the bank\n; more\n[bank]\npacks = a\n");
	free(out);
	setup_ini_free(&ini);

	CHECK_EQ_INT(setup_ini_parse(&ini, "a\0b", 3), -1);
	CHECK_EQ_INT(setup_ini_parse(&ini, "", 0), 0);
	CHECK_EQ_INT(setup_ini_set(&ini, "gateway", "listen", "x"), 0);
	out = make_text(&ini);
	CHECK_STR(out, "[gateway]\nlisten = x\n");
	free(out);
	setup_ini_free(&ini);
}

static void refusals(void)
{
	CHECK(setup_ini_value_bad("plain") == NULL);
	CHECK(setup_ini_value_bad("") == NULL);
	CHECK(setup_ini_value_bad("a;b#c") == NULL);
	CHECK(setup_ini_value_bad("secret\nport = x") != NULL);
	CHECK(setup_ini_value_bad("a\rb") != NULL);
	CHECK(setup_ini_value_bad("a ;b") != NULL);
	CHECK(setup_ini_value_bad(" a") != NULL);
	CHECK(setup_ini_value_bad("a\t") != NULL);
	CHECK(setup_ini_value_bad(";a") != NULL);
	CHECK(setup_ini_value_bad("a\x01") != NULL);
	CHECK(setup_ini_name_bad("pack.a", false) == NULL);
	CHECK(setup_ini_name_bad("pack]x", false) != NULL);
	CHECK(setup_ini_name_bad("a b", true) != NULL);
	CHECK(setup_ini_name_bad("a=b", true) != NULL);
	CHECK(setup_ini_name_bad("a:b", false) == NULL);
	CHECK(setup_ini_name_bad("", true) != NULL);

	struct setup_ini ini;
	const char *t = "[gateway]\nlisten = 1\n";
	setup_ini_parse(&ini, t, strlen(t));
	CHECK_EQ_INT(setup_ini_set(&ini, "gateway", "listen", "x\ny"), -1);
	struct setup_ini_want_key k[2] = { { "listen", "2" }, { "listen", "3" } };
	struct setup_ini_want w[2] = { { "gateway", k, 2 }, { "pack.a", NULL, 0 } };
	char why[256];
	CHECK_EQ_INT(setup_ini_make(&ini, w, 1, NULL, NULL, why, sizeof(why)), -1);
	CHECK(strstr(why, "twice") != NULL);
	k[1] = (struct setup_ini_want_key){ "base", "a ;b" };
	CHECK_EQ_INT(setup_ini_make(&ini, w, 1, NULL, NULL, why, sizeof(why)), -1);
	CHECK_STR(why, "[gateway] base: \" ;\" in a value would start a comment");
	char *out = make_text(&ini);
	CHECK_STR(out, t); /* nothing changed */
	free(out);
	k[1] = (struct setup_ini_want_key){ "base", "100" };
	changes = 0;
	CHECK_EQ_INT(setup_ini_make(&ini, w, 2, count, NULL, why, sizeof(why)), 0);
	CHECK_EQ_INT(changes, 3); /* listen, base, [pack.a] */
	out = make_text(&ini);
	CHECK_STR(out, "[gateway]\nlisten = 2\nbase = 100\n\n[pack.a]\n");
	free(out);
	changes = 0;
	CHECK_EQ_INT(setup_ini_make(&ini, w + 1, 1, count, NULL, why, sizeof(why)), 0);
	CHECK_EQ_INT(changes, 2); /* [gateway]'s two keys */
	out = make_text(&ini);
	CHECK_STR(out, "[pack.a]\n");
	free(out);
	setup_ini_free(&ini);
}

int main(void)
{
	examples();
	edges();
	refusals();
	return check_report();
}
