/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/paths.c - where a file named from the setup may be.
 *
 * A key whose value is a file (a *_file, users_file, tls_cert, tls_key,
 * [modbus_tls] cert, key and ca, state_file, [history] file) that the
 * page sets or changes must name a file inside the configuration's
 * directory or the state directory (the directory of the state file in
 * force, and the automatic one: core/statedir.h), each with every symlink
 * followed and every ".." taken: else the daemon, root as like as not,
 * would read any file of the machine as a password and send it to a broker
 * of the page's choosing, or write its state over one.  A file elsewhere
 * is named in the file by hand.  Values the file holds already and the
 * page sends back unchanged are not judged.  The directories are named on
 * the loop, looked at on the worker. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/statedir.h"
#include "../../model/gw.h"
#include "../../model/statefile.h"
#include "setup_int.h"

static void dir_of(const char *file, char *out, size_t cap)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", file);
	snprintf(out, cap, "%s", dirname(copy));
}

void setup_dirs_of(const struct gw_setup *s, struct setup_dirs *d)
{
	char state[PATH_MAX];
	d->n = 0;
	setup_conf_dir(s, d->d[d->n++], sizeof(d->d[0]));
	gw_statefile_path(s->gw, state, sizeof(state));
	if (state[0] == '/')
		dir_of(state, d->d[d->n++], sizeof(d->d[0]));
	gw_state_path("state", state, sizeof(state));
	dir_of(state, d->d[d->n++], sizeof(d->d[0]));
}

/* Is the resolved file inside one of d? */
static bool inside(const char *file, const struct setup_dirs *d)
{
	for (int i = 0; i < d->n; i++) {
		char real[PATH_MAX];
		if (!realpath(d->d[i], real) || strcmp(real, "/") == 0)
			continue; /* a directory not there holds nothing; "/" is no directory of bmsgw's own */
		size_t n = strlen(real);
		if (strncmp(file, real, n) == 0 && file[n] == '/' && file[n + 1])
			return true;
	}
	return false;
}

/* The new value of [sect] key in w, or NULL (removed). */
static const char *value_of(const struct setup_want *w, const char *sect, const char *key)
{
	for (size_t i = 0; i < w->n; i++)
		for (size_t j = 0; strcmp(w->sects[i].sect, sect) == 0 && j < w->sects[i].nkeys; j++)
			if (strcmp(w->sects[i].keys[j].key, key) == 0)
				return w->sects[i].keys[j].value;
	return NULL;
}

/* "A or B or C", each directory once. */
static void dirs_text(const struct setup_dirs *d, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; i < d->n; i++) {
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen = seen || strcmp(d->d[i], d->d[j]) == 0;
		int r = seen ? 0 : snprintf(out + n, cap - n, "%s%s", n ? " or " : "", d->d[i]);
		if (r < 0 || (size_t)r >= cap - n)
			return;
		n += (size_t)r;
	}
}

int setup_path_errors(const json_t *changed, const struct setup_want *w, const struct setup_dirs *d,
		      struct conf_error *e, int max)
{
	int n = 0;
	size_t i;
	json_t *c;
	json_array_foreach(changed, i, c) {
		const char *sect = json_string_value(json_object_get(c, "section"));
		const char *key = json_string_value(json_object_get(c, "key"));
		const struct conf_key *k = sect && key ? conf_key_find(conf_section_kind(sect, NULL), key) : NULL;
		struct conf_key_about a;
		if (n >= max || !k)
			continue;
		conf_key_about(k, &a);
		const char *v = value_of(w, sect, key);
		char real[PATH_MAX], where[1200];
		if (strcmp(a.type, "path") != 0 || !v || v[0] != '/' ||
		    (conf_path_resolve(v, real, sizeof(real)) && inside(real, d)))
			continue; /* not a file; removed; "none" or not absolute (the checker's); inside */
		dirs_text(d, where, sizeof(where));
		e[n] = (struct conf_error){ 0 };
		snprintf(e[n].section, sizeof(e[n].section), "%s", sect);
		snprintf(e[n].key, sizeof(e[n].key), "%s", key);
		snprintf(e[n++].message, sizeof(e->message), "%.300s: from the setup, a file is named only inside "
			 "the configuration's or the state directory (%s), every symlink and \"..\" followed; one "
			 "elsewhere is named in the file by hand", v, where);
	}
	return n;
}
