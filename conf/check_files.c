/* SPDX-License-Identifier: MIT */
/* conf/check_files.c - one file, one role: no key may name a file that
 * bmsgw (or another key) uses for something else.  Before this check the
 * setup could set [gateway] state_file to the users file (the state then
 * overwrote the logins, 0644), [mqtt] password_file to the users file (an
 * admin's hash went to a broker the page named) and [history] file to the
 * configuration (moved aside as a broken database, an empty one in its
 * place).
 *
 * bmsgw's files: the configuration (with its five backups, .1 to .5, and
 * the setup's temporary files), the state file, the history database (its
 * journal, its write-ahead log, a broken one moved aside), the setup code,
 * and every file a key names: the users file, keys, certificates and CAs,
 * password and token files.  Two of them may be one file only where the
 * roles agree: a certificate and its key in one PEM, two certificates or
 * two keys, two password files (the same password for two servers, as the
 * user wrote).  Paths are compared by device and inode where both files
 * are there, else with every symlink and ".." resolved; a file that is
 * there must be a regular file reached without another user's link
 * (rfile.c).  It runs first of the checks after the parse, before any file
 * is read: --check, every start and reload, and the setup API (the error
 * on the key whose file would be misused: the state or history written
 * over the other, a secret sent away). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"

static char state_dir[CONF_PORT_MAX]; /* conf_use_state_dir() */

void conf_use_state_dir(const char *dir)
{
	conf_bfmt(state_dir, sizeof(state_dir), "%s", dir ? dir : "");
}

/* Lowest first: where two clash, the higher one's key takes the blame
 * (from R_CERT on in the order of enum conf_file_role, section.h). */
enum role { R_CONF, R_CODE, R_CERT, R_KEY, R_USERS, R_SECRET, R_HISTORY, R_STATE };
_Static_assert(R_STATE - R_CERT == CONF_FILE_STATE - CONF_FILE_CERT, "the keys' file roles in order");


struct own {
	enum role role;
	char sect[CONF_NAME_MAX + 16];  /* "" without a key (the configuration, an automatic file) */
	const char *key;
	int line;
	char what[CONF_NAME_MAX + 64];  /* "[http] users_file's file", "the configuration file" */
	const char *path;
	char norm[PATH_MAX];            /* "" when it cannot be said */
	bool there;
	dev_t dev;
	ino_t ino;
};

struct owns {
	int n, max;
	char auto_state[PATH_MAX], auto_history[PATH_MAX], code[PATH_MAX];
	struct own o[]; /* max of them */
};

bool conf_path_resolve(const char *path, char *out, size_t cap)
{
	char head[PATH_MAX], tail[PATH_MAX] = "", real[PATH_MAX], t2[PATH_MAX], cwd[PATH_MAX];
	struct stat st;
	int r = path[0] == '/' ? snprintf(head, sizeof(head), "%s", path)
			       : getcwd(cwd, sizeof(cwd)) ? snprintf(head, sizeof(head), "%s/%s", cwd, path) : -1;
	if (r < 0 || r >= (int)sizeof(head))
		return false;
	while (!realpath(head, real)) {
		if (errno != ENOENT || lstat(head, &st) == 0)
			return false; /* there, but not to be followed: a symlink to nowhere */
		char *slash = strrchr(head, '/');
		const char *last = slash + 1;
		if (strcmp(last, "..") == 0 || strcmp(last, ".") == 0)
			return false;
		if (last[0]) {
			if (snprintf(t2, sizeof(t2), "/%s%s", last, tail) >= (int)sizeof(t2))
				return false;
			memcpy(tail, t2, sizeof(tail));
		}
		if (slash == head)
			slash[1] = '\0'; /* "/" is always there */
		else
			*slash = '\0';
	}
	return snprintf(out, cap, "%s%s", strcmp(real, "/") == 0 ? "" : real, tail) < (int)cap;
}

static void add(struct owns *w, enum role role, const char *sect, const char *key, int line, const char *path)
{
	if (!path || !path[0] || strcmp(path, "none") == 0 || w->n >= w->max)
		return;
	struct own *o = &w->o[w->n++];
	struct stat st;
	*o = (struct own){ .role = role, .key = key, .line = line, .path = path };
	snprintf(o->sect, sizeof(o->sect), "%s", sect ? sect : "");
	if (key)
		conf_bfmt(o->what, sizeof(o->what), "[%s] %s's file", sect, key);
	else
		conf_bfmt(o->what, sizeof(o->what), "%s", sect);
	if (!conf_path_resolve(path, o->norm, sizeof(o->norm)))
		o->norm[0] = '\0';
	if (stat(path, &st) == 0) {
		o->there = true;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
	}
}

/* The file of the key of role `role` (the state file, the history
 * database) where the configuration names none: the daemon's own place
 * (the loader lent), when its section is on (section.h, conf_section_on).
 * Returns the key's value ("" for none). */
static const char *automatic_one(struct conf_load *x, struct owns *w, enum conf_file_role role, char *out,
				 size_t cap)
{
	static const struct { enum conf_file_role role; const char *name, *what; } auto_files[] = {
		{ CONF_FILE_STATE, "state", "the automatic state file" },
		{ CONF_FILE_HISTORY, "history.db", "the automatic history database" },
	};
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf__rt *r = conf__rt_nth(i);
		for (int k = 0; !r->s->named && k < r->s->nkeys; k++) {
			if (r->s->keys[k].file != role)
				continue;
			const char *value = (const char *)conf__obj(&x->c, r, 0) + r->s->keys[k].off;
			if (value[0] || !state_dir[0] || !conf_section_on(&x->c, r->s))
				return value;
			for (size_t j = 0; j < sizeof(auto_files) / sizeof(auto_files[0]); j++)
				if (auto_files[j].role == role) {
					conf_bfmt(out, cap, "%s/%s", state_dir, auto_files[j].name);
					add(w, role == CONF_FILE_STATE ? R_STATE : R_HISTORY, auto_files[j].what, NULL, 0, out);
				}
			return value;
		}
	}
	return "";
}

/* The state file, the history database and the setup code where the
 * configuration names none. */
static void automatic(struct conf_load *x, struct owns *w)
{
	w->auto_state[0] = w->auto_history[0] = w->code[0] = '\0';
	const char *state = automatic_one(x, w, CONF_FILE_STATE, w->auto_state, sizeof(w->auto_state));
	(void)automatic_one(x, w, CONF_FILE_HISTORY, w->auto_history, sizeof(w->auto_history));
	const char *s = state[0] ? state : w->auto_state;
	if (s[0] && strcmp(s, "none") != 0) { /* gateway/web/setup/code.c: beside the state file */
		char copy[PATH_MAX];
		conf_bfmt(copy, sizeof(copy), "%s", s);
		conf_bfmt(w->code, sizeof(w->code), "%s/setup-code", dirname(copy));
	} else if (state_dir[0]) {
		conf_bfmt(w->code, sizeof(w->code), "%s/setup-code", state_dir);
	}
	add(w, R_CODE, "the setup code's file", NULL, 0, w->code);
}

/* Every file a key of an instance of section r names (conf's sections and
 * the rooms' alike, by the rows' roles). */
static void collect_keys(struct conf_load *x, struct owns *w, const struct conf__rt *r)
{
	const struct conf_section *s = r->s;
	int n = s->named ? *FIELD(&x->c, r->count, int *) : 1;
	for (int i = 0; i < n; i++) {
		char sect[CONF_NAME_MAX + 16];
		const char *obj = conf__obj(&x->c, r, i);
		const int *seen = conf__seen(x, r, i);
		if (s->named)
			conf_bfmt(sect, sizeof(sect), "%s.%s", s->word, obj + s->name);
		else
			conf_bfmt(sect, sizeof(sect), "%s", s->word);
		for (int k = 0; k < s->nkeys; k++)
			if (s->keys[k].file != CONF_FILE_NONE)
				add(w, (enum role)(R_CERT + (s->keys[k].file - CONF_FILE_CERT)), sect, s->keys[k].name,
				    seen[k], obj + s->keys[k].off);
	}
}

static void collect(struct conf_load *x, struct owns *w)
{
	w->n = 0;
	if (x->fp || x->file[0] == '/')
		add(w, R_CONF, "the configuration file", NULL, 0, x->file);
	automatic(x, w);
	for (size_t i = 0; i < conf__nsections(); i++)
		collect_keys(x, w, conf__rt_nth(i));
}

/* May one file have both roles? */
static bool share(enum role a, enum role b)
{
	if (a > b)
		return share(b, a);
	return (a == b && a >= R_CERT && a <= R_SECRET) || (a == R_CERT && b == R_KEY);
}

/* Is p's file one that bmsgw keeps beside f's (f written by bmsgw)?  The
 * name of its kind, or NULL. */
static const char *beside(const struct own *f, const struct own *p)
{
	static const struct { enum role role; const char *sfx; bool prefix; const char *what; } kin[] = {
		{ R_CONF, ".1", false, "a backup of" }, { R_CONF, ".2", false, "a backup of" },
		{ R_CONF, ".3", false, "a backup of" }, { R_CONF, ".4", false, "a backup of" },
		{ R_CONF, ".5", false, "a backup of" }, { R_HISTORY, "-journal", false, "the journal of" },
		{ R_HISTORY, "-wal", false, "the write-ahead log of" },
		{ R_HISTORY, "-shm", false, "the shared memory of" },
		{ R_HISTORY, ".corrupt-", true, "a broken copy of" }, { R_STATE, ".tmp-", true, "a temporary file of" },
	};
	size_t n = strlen(f->norm);
	if (!f->norm[0] || !p->norm[0] || strncmp(p->norm, f->norm, n) != 0)
		return NULL;
	if (strncmp(p->norm + n, ".setup-", 7) == 0) /* the setup's temporary files (core/afile.c) */
		return "a temporary file of";
	for (size_t i = 0; i < sizeof(kin) / sizeof(kin[0]); i++)
		if (kin[i].role == f->role && (kin[i].prefix ? strncmp(p->norm + n, kin[i].sfx, strlen(kin[i].sfx)) == 0
							     : strcmp(p->norm + n, kin[i].sfx) == 0))
			return kin[i].what;
	return NULL;
}

/* The clash of a and b, said on the key to blame; true when one was found. */
static bool clash(struct conf_load *x, const struct own *a, const struct own *b)
{
	const char *kin = NULL;
	bool same = a->there && b->there ? a->dev == b->dev && a->ino == b->ino
					 : a->norm[0] && strcmp(a->norm, b->norm) == 0;
	if (!same && !(kin = beside(a, b)) && !(kin = beside(b, a)))
		return false;
	if (same && share(a->role, b->role))
		return false;
	const struct own *k = a->key && (!b->key || a->role >= b->role) ? a : b, *o = k == a ? b : a;
	char how[2 * CONF_NAME_MAX + CONF_PORT_MAX + 160];
	if (same)
		conf_bfmt(how, sizeof(how), " is also %s", o->what);
	else if (beside(o, k)) /* k's file is one bmsgw keeps beside o's */
		conf_bfmt(how, sizeof(how), " is also %s %s", kin, o->what);
	else
		conf_bfmt(how, sizeof(how), ", and %s (%s) is %s it", o->what, o->path, kin);
	conf__fail(x, k->line, k->sect, k->key, "%s%s: no key may name another of bmsgw's own files (the configuration "
		   "and its backups, the state, the history, the setup code, the logins, a key, a password: each has "
		   "its own file; a certificate and its key may share one)", k->path, how);
	return true;
}

/* A file a key names that is there must be a regular one, reached without
 * another user's link (the loaders say what else is wrong with it). */
static bool reachable(struct conf_load *x, const struct own *o)
{
	char why[CONF_PORT_MAX + 200];
	if (!o->key)
		return true;
	int fd = conf_file_open(o->path, why, sizeof(why));
	if (fd >= 0)
		close(fd);
	if (fd >= 0 || (errno != EINVAL && errno != ELOOP))
		return true;
	conf__fail(x, o->line, o->sect, o->key, "%s", why);
	return false;
}

/* How many files the configuration names at most: every key with a role
 * of every instance, the configuration and the automatic ones. */
static int most(struct conf_load *x)
{
	int n = 4;
	for (size_t i = 0; i < conf__nsections(); i++) {
		const struct conf__rt *r = conf__rt_nth(i);
		int keys = 0;
		for (int k = 0; k < r->s->nkeys; k++)
			keys += r->s->keys[k].file != CONF_FILE_NONE;
		n += keys * (r->s->named ? *FIELD(&x->c, r->count, int *) : 1);
	}
	return n;
}

void conf__finish_files(struct conf_load *x)
{
	int max = most(x);
	struct owns *w = malloc(sizeof(*w) + (size_t)max * sizeof(w->o[0]));
	if (w)
		w->max = max;
	if (!w) {
		conf__fail(x, 0, NULL, NULL, "out of memory");
		return;
	}
	collect(x, w);
	for (int i = 0; i < w->n && !x->failed; i++)
		for (int j = i + 1; j < w->n && !x->failed; j++)
			if (w->o[i].key || w->o[j].key)
				clash(x, &w->o[i], &w->o[j]);
	for (int i = 0; i < w->n && !x->failed; i++)
		reachable(x, &w->o[i]);
	free(w);
}
