/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/ini.c - the configuration file as its lines, changed in
 * place (see ini.h). */
#include "ini.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reading */

/* Where a comment starts in s (reader.c's strip_comment): a line starting
 * with ';' or '#', or a ';' after a blank; the end of s when none. */
static size_t comment_at(const char *s)
{
	if (!*s || *s == ';' || *s == '#')
		return 0;
	for (size_t i = 1; s[i]; i++)
		if (s[i] == ';' && isspace((unsigned char)s[i - 1]))
			return i;
	return strlen(s);
}

static size_t rtrim_at(const char *s, size_t from, size_t end)
{
	while (end > from && isspace((unsigned char)s[end - 1]))
		end--;
	return end;
}

static void copy_name(char *out, const char *p, size_t n)
{
	if (n >= SETUP_INI_NAME_MAX)
		n = SETUP_INI_NAME_MAX - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The kind of one line, its name and its value's bytes. */
static void classify(struct setup_ini_line *l, bool first)
{
	const char *t = l->text;
	size_t i = 0;
	if (first && strncmp(t, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (isspace((unsigned char)t[i]))
		i++;
	size_t end = i + comment_at(t + i);
	end = rtrim_at(t, i, end);
	l->name[0] = '\0';
	l->vstart = l->vend = 0;
	if (t[i] == ';' || t[i] == '#') {
		l->kind = SETUP_INI_COMMENT;
	} else if (end == i) {
		l->kind = t[i] ? SETUP_INI_COMMENT : SETUP_INI_BLANK; /* a ';' after blanks */
	} else if (t[i] == '[') {
		const char *close = memchr(t + i, ']', end - i);
		l->kind = close && (size_t)(close - t) == end - 1 ? SETUP_INI_SECTION : SETUP_INI_OTHER;
		if (l->kind == SETUP_INI_SECTION)
			copy_name(l->name, t + i + 1, end - i - 2);
	} else {
		size_t d = i;
		while (d < end && t[d] != '=' && t[d] != ':')
			d++;
		if (d == end) {
			l->kind = SETUP_INI_OTHER;
			return;
		}
		l->kind = SETUP_INI_KEY;
		copy_name(l->name, t + i, rtrim_at(t, i, d) - i);
		size_t v = d + 1;
		while (v < end && isspace((unsigned char)t[v]))
			v++;
		l->vstart = v;
		l->vend = end > v ? end : v;
	}
}

static int grow(struct setup_ini *ini)
{
	if (ini->n < ini->cap)
		return 0;
	size_t cap = ini->cap ? ini->cap * 2 : 64;
	struct setup_ini_line *l = realloc(ini->lines, cap * sizeof(*l));
	if (!l)
		return -1;
	ini->lines = l;
	ini->cap = cap;
	return 0;
}

/* The section index of every line, from the headers. */
static void number(struct setup_ini *ini)
{
	int s = -1;
	for (size_t i = 0; i < ini->n; i++) {
		if (ini->lines[i].kind == SETUP_INI_SECTION)
			s = (int)i;
		ini->lines[i].sect = s;
	}
}

/* Insert a line of text (copied) before line at. */
static int insert(struct setup_ini *ini, size_t at, const char *text)
{
	char *t = strdup(text);
	if (!t || grow(ini) < 0) {
		free(t);
		return -1;
	}
	memmove(&ini->lines[at + 1], &ini->lines[at], (ini->n - at) * sizeof(ini->lines[0]));
	ini->n++;
	ini->lines[at] = (struct setup_ini_line){ .text = t };
	classify(&ini->lines[at], at == 0);
	number(ini);
	return 0;
}

static void drop(struct setup_ini *ini, size_t at, size_t count)
{
	for (size_t i = at; i < at + count; i++)
		free(ini->lines[i].text);
	if (at + count == ini->n)
		ini->final_newline = true; /* the new last line ends as the others did */
	memmove(&ini->lines[at], &ini->lines[at + count], (ini->n - at - count) * sizeof(ini->lines[0]));
	ini->n -= count;
	number(ini);
}

int setup_ini_parse(struct setup_ini *ini, const char *text, size_t len)
{
	memset(ini, 0, sizeof(*ini));
	if (memchr(text, '\0', len))
		return -1;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *t = malloc(n + 1);
		if (!t || grow(ini) < 0) {
			free(t);
			setup_ini_free(ini);
			return -1;
		}
		memcpy(t, text + pos, n);
		t[n] = '\0';
		ini->lines[ini->n] = (struct setup_ini_line){ .text = t };
		classify(&ini->lines[ini->n], ini->n == 0);
		ini->n++;
		pos += n + (nl ? 1 : 0);
	}
	ini->final_newline = len > 0 && text[len - 1] == '\n';
	number(ini);
	return 0;
}

void setup_ini_free(struct setup_ini *ini)
{
	for (size_t i = 0; i < ini->n; i++)
		free(ini->lines[i].text);
	free(ini->lines);
	memset(ini, 0, sizeof(*ini));
}

char *setup_ini_text(const struct setup_ini *ini, size_t *len)
{
	size_t total = 1;
	for (size_t i = 0; i < ini->n; i++)
		total += strlen(ini->lines[i].text) + 1;
	char *out = malloc(total), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < ini->n; i++) {
		size_t l = strlen(ini->lines[i].text);
		memcpy(p, ini->lines[i].text, l);
		p += l;
		if (i + 1 < ini->n || ini->final_newline)
			*p++ = '\n';
	}
	*p = '\0';
	if (len)
		*len = (size_t)(p - out);
	return out;
}

/* ------------------------------------------------------------ looking up */

int setup_ini_find_section(const struct setup_ini *ini, const char *sect)
{
	for (size_t i = 0; i < ini->n; i++)
		if (ini->lines[i].kind == SETUP_INI_SECTION && strcmp(ini->lines[i].name, sect) == 0)
			return (int)i;
	return -1;
}

/* The last line of key in the section of header h, or -1. */
static int find_key(const struct setup_ini *ini, int h, const char *key)
{
	int found = -1;
	for (size_t i = (size_t)h + 1; i < ini->n && ini->lines[i].sect == h; i++)
		if (ini->lines[i].kind == SETUP_INI_KEY && strcmp(ini->lines[i].name, key) == 0)
			found = (int)i;
	return found;
}

bool setup_ini_get(const struct setup_ini *ini, const char *sect, const char *key, char *out, size_t cap)
{
	int h = setup_ini_find_section(ini, sect);
	if (h < 0 || find_key(ini, h, key) < 0)
		return false;
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = (size_t)h + 1; i < ini->n && ini->lines[i].sect == h; i++) {
		const struct setup_ini_line *l = &ini->lines[i];
		if (l->kind != SETUP_INI_KEY || strcmp(l->name, key) != 0)
			continue;
		int r = snprintf(out + n, cap - n, "%s%.*s", n ? ", " : "", (int)(l->vend - l->vstart), l->text + l->vstart);
		if (r < 0 || (size_t)r >= cap - n)
			break;
		n += (size_t)r;
	}
	return true;
}

/* ------------------------------------------------------------ checks */

const char *setup_ini_value_bad(const char *v)
{
	size_t n = strlen(v);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '\n' || c == '\r')
			return "a value is one line (no line break)";
		if (c < 0x20 && c != '\t')
			return "a value holds no control characters";
		if (c == ';' && i > 0 && isspace((unsigned char)v[i - 1]))
			return "\" ;\" in a value would start a comment";
	}
	if (n && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1])))
		return "a value does not start or end with a blank";
	if (v[0] == ';' || v[0] == '#')
		return "a value does not start with ';' or '#'";
	return NULL;
}

const char *setup_ini_name_bad(const char *name, bool key)
{
	size_t n = strlen(name);
	if (n == 0)
		return key ? "a key has a name" : "a section has a name";
	if (n >= SETUP_INI_NAME_MAX)
		return "a name is at most 63 characters";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7f)
			return "a name is printable ASCII without blanks";
		if (c == ']' || c == '[' || c == ';' || c == '#' || (key && (c == '=' || c == ':')))
			return key ? "a key's name holds none of [ ] ; # = :" : "a section's name holds none of [ ] ; #";
	}
	return NULL;
}

/* ------------------------------------------------------------ changes */

/* "key = value" in a line that keeps what l had around its value. */
static char *set_line(const struct setup_ini_line *l, const char *value)
{
	size_t vl = strlen(value), head = l->vstart, tail = strlen(l->text) - l->vend;
	char *t = malloc(head + vl + tail + 1);
	if (!t)
		return NULL;
	memcpy(t, l->text, head);
	memcpy(t + head, value, vl);
	memcpy(t + head + vl, l->text + l->vend, tail + 1);
	return t;
}

/* Where a new key of the section of header h goes: after its last key
 * (or its header). */
static size_t key_slot(const struct setup_ini *ini, int h)
{
	size_t at = (size_t)h + 1;
	for (size_t i = (size_t)h + 1; i < ini->n && ini->lines[i].sect == h; i++)
		if (ini->lines[i].kind == SETUP_INI_KEY || ini->lines[i].kind == SETUP_INI_OTHER)
			at = i + 1;
	return at;
}

int setup_ini_set(struct setup_ini *ini, const char *sect, const char *key, const char *value)
{
	if (setup_ini_name_bad(sect, false) || setup_ini_name_bad(key, true) || setup_ini_value_bad(value))
		return -1;
	int h = setup_ini_find_section(ini, sect);
	if (h < 0) {
		if (setup_ini_add_section(ini, sect) < 0)
			return -1;
		h = setup_ini_find_section(ini, sect);
	}
	int k = find_key(ini, h, key);
	if (k < 0) {
		size_t len = strlen(key) + strlen(value) + 4;
		char *t = malloc(len);
		if (!t)
			return -1;
		snprintf(t, len, "%s = %s", key, value);
		int r = insert(ini, key_slot(ini, h), t);
		free(t);
		return r;
	}
	/* the first line of it takes the value, the others go */
	for (size_t i = (size_t)h + 1; i < (size_t)k; i++)
		if (ini->lines[i].kind == SETUP_INI_KEY && strcmp(ini->lines[i].name, key) == 0) {
			k = (int)i;
			break;
		}
	char *t = set_line(&ini->lines[k], value);
	if (!t)
		return -1;
	free(ini->lines[k].text);
	ini->lines[k].text = t;
	classify(&ini->lines[k], k == 0);
	for (size_t i = (size_t)k + 1; i < ini->n && ini->lines[i].sect == h;) {
		if (ini->lines[i].kind == SETUP_INI_KEY && strcmp(ini->lines[i].name, key) == 0)
			drop(ini, i, 1);
		else
			i++;
	}
	return 0;
}

int setup_ini_unset(struct setup_ini *ini, const char *sect, const char *key)
{
	int h = setup_ini_find_section(ini, sect), n = 0;
	if (h < 0)
		return 0;
	for (size_t i = (size_t)h + 1; i < ini->n && ini->lines[i].sect == h;) {
		if (ini->lines[i].kind == SETUP_INI_KEY && strcmp(ini->lines[i].name, key) == 0) {
			drop(ini, i, 1);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

int setup_ini_add_section(struct setup_ini *ini, const char *sect)
{
	if (setup_ini_name_bad(sect, false))
		return -1;
	if (setup_ini_find_section(ini, sect) >= 0)
		return 1;
	if (ini->n && ini->lines[ini->n - 1].kind != SETUP_INI_BLANK && insert(ini, ini->n, "") < 0)
		return -1;
	size_t len = strlen(sect) + 3;
	char *t = malloc(len);
	if (!t)
		return -1;
	snprintf(t, len, "[%s]", sect);
	int r = insert(ini, ini->n, t);
	free(t);
	if (r == 0)
		ini->final_newline = true;
	return r;
}

int setup_ini_remove_section(struct setup_ini *ini, const char *sect)
{
	int h = setup_ini_find_section(ini, sect);
	if (h < 0)
		return -1;
	size_t end = (size_t)h + 1;
	while (end < ini->n && ini->lines[end].sect == h)
		end++;
	if (end < ini->n) {
		/* the comment block just above the next header, and the blank
		 * line before it, are the next section's */
		size_t keep = end;
		while (keep > (size_t)h + 1 && ini->lines[keep - 1].kind == SETUP_INI_COMMENT)
			keep--;
		end = keep;
	} else {
		/* at the end of the file: a blank line above the header goes too */
		if (h > 0 && ini->lines[h - 1].kind == SETUP_INI_BLANK)
			h--;
	}
	drop(ini, (size_t)h, end - (size_t)h);
	return 0;
}

/* ------------------------------------------------------------ the whole file */

static const struct setup_ini_want *wanted(const struct setup_ini_want *want, size_t n, const char *sect)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(want[i].sect, sect) == 0)
			return &want[i];
	return NULL;
}

static const char *want_value(const struct setup_ini_want *w, const char *key)
{
	for (size_t i = 0; i < w->nkeys; i++)
		if (strcmp(w->keys[i].key, key) == 0)
			return w->keys[i].value;
	return NULL;
}

/* Every name and value of want can be written, no section or key twice. */
static int want_ok(const struct setup_ini_want *want, size_t n, char *why, size_t cap)
{
	const char *bad;
	for (size_t i = 0; i < n; i++) {
		const struct setup_ini_want *w = &want[i];
		if ((bad = setup_ini_name_bad(w->sect, false)) || (wanted(want, i, w->sect) && (bad = "a section given twice"))) {
			snprintf(why, cap, "[%s]: %s", w->sect, bad);
			return -1;
		}
		for (size_t k = 0; k < w->nkeys; k++) {
			const struct setup_ini_want_key *wk = &w->keys[k];
			struct setup_ini_want head = { w->sect, w->keys, k };
			if ((bad = setup_ini_name_bad(wk->key, true)) || (bad = setup_ini_value_bad(wk->value)) ||
			    (want_value(&head, wk->key) && (bad = "a key given twice"))) {
				snprintf(why, cap, "[%s] %s: %s", w->sect, wk->key, bad);
				return -1;
			}
		}
	}
	return 0;
}

/* Remove the sections want has not, each of their keys told. */
static void remove_unwanted(struct setup_ini *ini, const struct setup_ini_want *want, size_t n, setup_ini_changed_cb *cb,
			    void *arg)
{
	for (size_t i = 0; i < ini->n; i++) {
		const struct setup_ini_line *l = &ini->lines[i];
		if (l->kind != SETUP_INI_SECTION || wanted(want, n, l->name))
			continue;
		char name[SETUP_INI_NAME_MAX];
		memcpy(name, l->name, sizeof(name));
		bool any = false;
		for (size_t j = i + 1; j < ini->n && ini->lines[j].sect == (int)i; j++)
			if (ini->lines[j].kind == SETUP_INI_KEY && cb) {
				cb(arg, name, ini->lines[j].name, NULL);
				any = true;
			}
		if (!any && cb)
			cb(arg, name, "", NULL);
		setup_ini_remove_section(ini, name);
		i = (size_t)-1; /* the lines moved: from the top again */
	}
}

/* One section of want into the file. */
static int make_section(struct setup_ini *ini, const struct setup_ini_want *w, setup_ini_changed_cb *cb, void *arg)
{
	int there = setup_ini_add_section(ini, w->sect);
	if (there < 0)
		return -1;
	if (!there && w->nkeys == 0 && cb)
		cb(arg, w->sect, "", "");
	int h = setup_ini_find_section(ini, w->sect);
	for (size_t i = (size_t)h + 1; i < ini->n && ini->lines[i].sect == h; i++) {
		const struct setup_ini_line *l = &ini->lines[i];
		if (l->kind != SETUP_INI_KEY || want_value(w, l->name))
			continue;
		char key[SETUP_INI_NAME_MAX];
		memcpy(key, l->name, sizeof(key));
		setup_ini_unset(ini, w->sect, key);
		if (cb)
			cb(arg, w->sect, key, NULL);
		i = (size_t)h; /* from the header again */
	}
	char *cur = malloc(65536);
	if (!cur)
		return -1;
	int rc = 0;
	for (size_t k = 0; k < w->nkeys && rc == 0; k++) {
		const struct setup_ini_want_key *wk = &w->keys[k];
		if (setup_ini_get(ini, w->sect, wk->key, cur, 65536) && strcmp(cur, wk->value) == 0)
			continue;
		rc = setup_ini_set(ini, w->sect, wk->key, wk->value);
		if (rc == 0 && cb)
			cb(arg, w->sect, wk->key, wk->value);
	}
	free(cur);
	return rc;
}

int setup_ini_make(struct setup_ini *ini, const struct setup_ini_want *want, size_t n, setup_ini_changed_cb *cb, void *arg,
		  char *why, size_t cap)
{
	if (want_ok(want, n, why, cap) < 0)
		return -1;
	remove_unwanted(ini, want, n, cb, arg);
	for (size_t i = 0; i < n; i++)
		if (make_section(ini, &want[i], cb, arg) < 0) {
			snprintf(why, cap, "out of memory");
			return -1;
		}
	return 0;
}
