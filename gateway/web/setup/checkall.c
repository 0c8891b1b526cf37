/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/checkall.c - the check of --check with every error it
 * can find, for
 * the setup API (bmsgw(8) "SETUP"): the load stops at its first error, so
 * the field it names is left out of a copy of the text (ini.c) and the
 * copy checked again, each error on its own field.  The same check runs
 * each time, nothing else; only the order of the errors is the load's.
 */
#include <stdlib.h>
#include <string.h>

#include "setup_int.h"

/* The section of line `line` of ini (1-based), "" before the first. */
static void section_of(const struct setup_ini *ini, int line, char *out, size_t cap)
{
	out[0] = '\0';
	if (line < 1 || (size_t)line > ini->n)
		return;
	int h = ini->lines[line - 1].kind == SETUP_INI_SECTION ? line - 1 : ini->lines[line - 1].sect;
	if (h >= 0)
		snprintf(out, cap, "%s", ini->lines[h].name);
}

/* Blank line i (the line numbers of the text stay those of the file). */
static bool blank(struct setup_ini *ini, size_t i)
{
	char *t = strdup("");
	if (!t)
		return false;
	free(ini->lines[i].text);
	ini->lines[i].text = t;
	ini->lines[i].kind = SETUP_INI_BLANK;
	return true;
}

/* Leave e's field out of ini: true when something went.  A key's lines,
 * a section's header and lines, or the one line of an error outside any
 * section are blanked. */
static bool leave_out(struct setup_ini *ini, const struct conf_error *e)
{
	int h = e->section[0] ? setup_ini_find_section(ini, e->section) : -1;
	bool any = false;
	for (size_t i = 0; i < ini->n; i++) {
		struct setup_ini_line *l = &ini->lines[i];
		bool mine = h >= 0 && (l->sect == h || (int)i == h) && l->kind != SETUP_INI_BLANK;
		if (mine && e->key[0])
			mine = l->kind == SETUP_INI_KEY && strcmp(l->name, e->key) == 0;
		if (!mine && h < 0 && !e->section[0] && e->line == (int)i + 1 && l->kind != SETUP_INI_BLANK)
			mine = true;
		if (mine && !blank(ini, i))
			return false;
		any = any || mine;
	}
	return any;
}

static bool named_before(const struct conf_error *errs, int n, const struct conf_error *e)
{
	for (int i = 0; i < n; i++)
		if (strcmp(errs[i].section, e->section) == 0 && strcmp(errs[i].key, e->key) == 0 &&
		    (e->section[0] || e->key[0] || errs[i].line == e->line))
			return true;
	return false;
}

int setup_check_all(const char *text, const char *name, struct conf *c, struct conf_error *errs, int max)
{
	struct setup_ini ini;
	if (setup_ini_parse(&ini, text, strlen(text)) < 0)
		return -1;
	struct conf_error *e = malloc(sizeof(*e));
	char *t = strdup(text);
	int n = 0;
	while (e && t && n < max) {
		if (conf_load_string_at(t, name, c, e) == 0)
			break;
		if (named_before(errs, n, e))
			break;
		errs[n] = *e;
		if (!e->section[0]) /* a line of a section, named for the page */
			section_of(&ini, e->line, errs[n].section, sizeof(errs[n].section));
		n++;
		if (!leave_out(&ini, e))
			break;
		free(t);
		t = setup_ini_text(&ini, NULL);
	}
	int r = e && t ? n : -1;
	free(e);
	free(t);
	setup_ini_free(&ini);
	return r;
}
