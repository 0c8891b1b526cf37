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

/* Lowest first: where two clash, the higher one's key takes the blame. */
enum role { R_CONF, R_CODE, R_CERT, R_KEY, R_USERS, R_SECRET, R_HISTORY, R_STATE };

#define OWN_MAX (12 + CONF_MAX_BLE_PROXIES + 2 * CONF_MAX_ALERTS)

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
	struct own o[OWN_MAX];
	int n;
	char auto_state[PATH_MAX], auto_history[PATH_MAX], code[PATH_MAX];
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
	if (!path || !path[0] || strcmp(path, "none") == 0 || w->n >= OWN_MAX)
		return;
	struct own *o = &w->o[w->n++];
	struct stat st;
	*o = (struct own){ .role = role, .key = key, .line = line, .path = path };
	snprintf(o->sect, sizeof(o->sect), "%s", sect ? sect : "");
	if (key)
		conf__bfmt(o->what, sizeof(o->what), "[%s] %s's file", sect, key);
	else
		conf__bfmt(o->what, sizeof(o->what), "%s", sect);
	if (!conf_path_resolve(path, o->norm, sizeof(o->norm)))
		o->norm[0] = '\0';
	if (stat(path, &st) == 0) {
		o->there = true;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
	}
}

/* The state file, the history database and the setup code where the
 * configuration names none: the daemon's own place (the loader lent). */
static void automatic(struct load *x, struct owns *w)
{
	bool (*place)(const char *, char *, size_t) = conf__loaders()->state_path;
	const char *state = x->c.gw.state_file, *hist = x->c.history.file;
	bool history = (x->c.http.enabled || x->c.history.line) && strcmp(hist, "none") != 0;
	if (!state[0] && place) {
		place("state", w->auto_state, sizeof(w->auto_state));
		add(w, R_STATE, "the automatic state file", NULL, 0, w->auto_state);
	}
	if (history && !hist[0] && place) {
		place("history.db", w->auto_history, sizeof(w->auto_history));
		add(w, R_HISTORY, "the automatic history database", NULL, 0, w->auto_history);
	}
	const char *s = state[0] ? state : w->auto_state;
	if (s[0] && strcmp(s, "none") != 0) { /* gateway/web/setup/code.c: beside the state file */
		char copy[PATH_MAX];
		conf__bfmt(copy, sizeof(copy), "%s", s);
		conf__bfmt(w->code, sizeof(w->code), "%s/setup-code", dirname(copy));
	} else if (place) {
		place("setup-code", w->code, sizeof(w->code));
	}
	add(w, R_CODE, "the setup code's file", NULL, 0, w->code);
}

static void collect(struct load *x, struct owns *w)
{
	const struct conf *c = &x->c;
	char sect[CONF_NAME_MAX + 16];
	w->n = 0;
	if (x->fp || x->file[0] == '/')
		add(w, R_CONF, "the configuration file", NULL, 0, x->file);
	add(w, R_STATE, "gateway", "state_file", x->gw_seen[K_STATE_FILE], c->gw.state_file);
	if ((c->http.enabled || c->history.line))
		add(w, R_HISTORY, "history", "file", x->history_seen[K_HI_FILE], c->history.file);
	automatic(x, w);
	add(w, R_USERS, "http", "users_file", x->http_seen[K_HT_USERS_FILE], c->http.users_file);
	add(w, R_CERT, "http", "tls_cert", x->http_seen[K_HT_TLS_CERT], c->http.tls_cert);
	add(w, R_KEY, "http", "tls_key", x->http_seen[K_HT_TLS_KEY], c->http.tls_key);
	add(w, R_CERT, "modbus_tls", "cert", x->mbtls_seen[K_MT_CERT], c->mbtls.cert);
	add(w, R_KEY, "modbus_tls", "key", x->mbtls_seen[K_MT_KEY], c->mbtls.key);
	add(w, R_CERT, "modbus_tls", "ca", x->mbtls_seen[K_MT_CA], c->mbtls.ca);
	add(w, R_CERT, "mqtt", "ca_file", x->mqtt_seen[K_MQ_CA_FILE], c->mqtt.ca_file);
	add(w, R_CERT, "mqtt", "cert_file", x->mqtt_seen[K_MQ_CERT_FILE], c->mqtt.cert_file);
	add(w, R_KEY, "mqtt", "key_file", x->mqtt_seen[K_MQ_KEY_FILE], c->mqtt.key_file);
	add(w, R_SECRET, "mqtt", "password_file", x->mqtt_seen[K_MQ_PASSWORD_FILE], c->mqtt.password_file);
	for (int i = 0; i < c->nble_proxies; i++) {
		conf__bfmt(sect, sizeof(sect), "ble_proxy.%s", c->ble_proxies[i].name);
		add(w, R_SECRET, sect, "password_file", x->ble_proxy_seen[i][K_BP_PASSWORD_FILE],
		    c->ble_proxies[i].password_file);
	}
	for (int i = 0; i < c->nalerts; i++) {
		conf__bfmt(sect, sizeof(sect), "alerts.%s", c->alerts[i].name);
		add(w, R_SECRET, sect, "password_file", x->alerts_seen[i][K_AL_PASSWORD_FILE],
		    c->alerts[i].password_file);
		add(w, R_CERT, sect, "ca_file", x->alerts_seen[i][K_AL_CA_FILE], c->alerts[i].ca_file);
	}
	add(w, R_SECRET, "influx", "password_file", x->influx_seen[K_IX_PASSWORD_FILE], c->influx.password_file);
	add(w, R_SECRET, "influx", "token_file", x->influx_seen[K_IX_TOKEN_FILE], c->influx.token_file);
	add(w, R_CERT, "influx", "ca_file", x->influx_seen[K_IX_CA_FILE], c->influx.ca_file);
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
static bool clash(struct load *x, const struct own *a, const struct own *b)
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
		conf__bfmt(how, sizeof(how), " is also %s", o->what);
	else if (beside(o, k)) /* k's file is one bmsgw keeps beside o's */
		conf__bfmt(how, sizeof(how), " is also %s %s", kin, o->what);
	else
		conf__bfmt(how, sizeof(how), ", and %s (%s) is %s it", o->what, o->path, kin);
	conf__fail(x, k->line, k->sect, k->key, "%s%s: no key may name another of bmsgw's own files (the configuration "
		   "and its backups, the state, the history, the setup code, the logins, a key, a password: each has "
		   "its own file; a certificate and its key may share one)", k->path, how);
	return true;
}

/* A file a key names that is there must be a regular one, reached without
 * another user's link (the loaders say what else is wrong with it). */
static bool reachable(struct load *x, const struct own *o)
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

void conf__finish_files(struct load *x)
{
	struct owns *w = malloc(sizeof(*w));
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
