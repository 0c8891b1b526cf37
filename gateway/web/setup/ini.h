/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/ini.h - the configuration file as its lines, changed
 * in place (the setup API, bmsgw(8) "SETUP").
 *
 * Every line is kept as it was written: comments, blank lines, the order
 * of the sections and of their keys, a key's own comment after its value.
 * A change touches only its lines: a new value replaces the value's text
 * of its line (the comment after it stays), a new key goes after the last
 * key of its section, a new section at the end of the file, a removed
 * section takes its header and its keys (and the comments between them,
 * but not the comment block just above the next header, which is the next
 * section's).  Untouched sections stay byte for byte the same.  The lines
 * are read as conf/reader.c reads them: a line starting with ';' or '#'
 * is a comment, a ';' after a blank starts one, the key ends at the first
 * '=' or ':'.  Pure: text in, text out.
 */
#ifndef GATEWAY_WEB_SETUP_INI_H
#define GATEWAY_WEB_SETUP_INI_H

#include <stdbool.h>
#include <stddef.h>

enum setup_ini_kind { SETUP_INI_BLANK, SETUP_INI_COMMENT, SETUP_INI_SECTION, SETUP_INI_KEY, SETUP_INI_OTHER };

#define SETUP_INI_NAME_MAX 64            /* a section's name or a key's, with its NUL */

struct setup_ini_line {
	char *text;                     /* the line as written, without its '\n' */
	enum setup_ini_kind kind;
	char name[SETUP_INI_NAME_MAX];   /* SECTION: its name (inside the brackets); KEY: the key */
	size_t vstart, vend;            /* KEY: the value's bytes in text (comment and blanks left out) */
	int sect;                       /* the index of the header line above it, -1 before the first */
};

struct setup_ini {
	struct setup_ini_line *lines;
	size_t n, cap;
	bool final_newline;             /* the text ended with '\n' */
};

/* A change the file should get, as setup_ini_make() reports it: a key set,
 * changed or removed (value NULL), a section added or removed whole
 * (key "" when it has no keys). */
typedef void setup_ini_changed_cb(void *arg, const char *sect, const char *key, const char *value);

/* Split text (len bytes, NULs refused) into lines.  0, or -1 when out of
 * memory or the text holds a NUL byte. */
int setup_ini_parse(struct setup_ini *ini, const char *text, size_t len);
void setup_ini_free(struct setup_ini *ini);
/* The file again (malloc'd, NUL-terminated, *len its length). */
char *setup_ini_text(const struct setup_ini *ini, size_t *len);

/* The line of section sect's header, or -1. */
int setup_ini_find_section(const struct setup_ini *ini, const char *sect);
/* The value of key in sect copied into out (a key written on several
 * lines, as an mqtt-json pack's fields: their values joined by ", ");
 * false when it is not there. */
bool setup_ini_get(const struct setup_ini *ini, const char *sect, const char *key, char *out, size_t cap);

/* NULL when value can be written as a key's value and read back the same,
 * else why not (a newline, a NUL, " ;" that would start a comment, blanks
 * at either end). */
const char *setup_ini_value_bad(const char *value);
/* NULL when name can be a section's (printable, no ']', no blank, no ';'
 * or '#' first) or, key, a key's name (no '=', ':', blanks, ';'). */
const char *setup_ini_name_bad(const char *name, bool key);

/* Set key in sect to value (the section is added when it is missing);
 * every other line of that key in the section goes.  0, or -1 when out of
 * memory or a name or value is bad (setup_ini_value_bad). */
int setup_ini_set(struct setup_ini *ini, const char *sect, const char *key, const char *value);
/* Remove every line of key in sect: how many went. */
int setup_ini_unset(struct setup_ini *ini, const char *sect, const char *key);
/* Add "[sect]" at the end (after a blank line): 0, 1 when it is there
 * already, -1 when out of memory or the name is bad. */
int setup_ini_add_section(struct setup_ini *ini, const char *sect);
/* Remove the section: 0, or -1 when it is not there. */
int setup_ini_remove_section(struct setup_ini *ini, const char *sect);

/* The whole configuration as it should be: its sections in order, each
 * with its keys and values. */
struct setup_ini_want_key {
	const char *key, *value;
};
struct setup_ini_want {
	const char *sect;
	const struct setup_ini_want_key *keys;
	size_t nkeys;
};
/* Change ini into want with the fewest line changes: sections missing from
 * want removed, new ones added at the end in want's order, keys set,
 * changed or removed; each change told to cb (may be NULL).  0, or -1 with
 * nothing changed when a name or value of want is bad (why says which)
 * or memory ran out. */
int setup_ini_make(struct setup_ini *ini, const struct setup_ini_want *want, size_t n, setup_ini_changed_cb *cb, void *arg,
		  char *why, size_t cap);

#endif
