/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/apply.c - /api/setup/config, /check and /apply.
 *
 * Each is a task of the worker (the file read, the new file made and
 * checked with the checker of --check, written) and a second half on the
 * loop.  Apply goes: the file on disk must still be the one whose hash the
 * page had (else 409); the new file made from it (ini.c: comments, blank
 * lines and untouched sections kept) and checked whole, every error on its
 * field (422, nothing written; a file it names only inside the
 * configuration's or the state directory, paths.c); new secrets to their
 * 0600 files, or, a key that is its own secret, into the file, which is
 * then 0600; the file pushed to FILE.1 (the older ones one number up, five
 * kept, none wider than the file) and the new one written atomically; then
 * the daemon's reload, as SIGHUP's.  A reload the daemon refuses (a listen
 * address taken) puts the file, the five backups and the secrets back and
 * answers 422 with its error.  A change that restarts the page's own
 * server ([http] listen, clients, HTTPS) is answered first, 202 and
 * pending, and reloaded a moment later, so that the answer gets out; the
 * change log (/api/setup/changes) then says whether the reload took it or
 * refused it (and put everything back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../model/gw.h"
#include "setup_int.h"

enum apply_op { OP_GET, OP_CHECK, OP_APPLY, OP_UNDO };

struct apply_task {
	struct setup_task t;
	struct gw_setup_wait *w;
	enum apply_op op;
	char path[PATH_MAX], dir[PATH_MAX - 64];
	char base[80], user[40], addr[64];
	json_t *body;
	struct setup_want want;
	struct setup_secret secrets[SETUP_SECRETS_MAX];
	int nsecrets;
	/* what the worker made of it */
	int status;                     /* 0: on to the reload */
	char why[CONF_ERR_MAX];
	json_t *result, *changed;
	struct conf_error errs[SETUP_ERRORS_MAX];
	int nerrs;
	struct conf *nc;
	char *old;                      /* the file before, for the undo */
	size_t oldlen;
	unsigned mode, oldmode;         /* the new file's (0600 with a secret in it), the old one's */
	struct setup_backups bk;        /* what the push did, for the undo */
	struct setup_dirs dirs;         /* where a file it names may be (paths.c) */
	char hash[65];
	struct setup_secret_file sf[SETUP_SECRETS_MAX];
	int nsf;
};

static void task_free(struct apply_task *a)
{
	setup_want_free(&a->want);
	json_decref(a->body);
	json_decref(a->result);
	json_decref(a->changed);
	free(a->nc);
	free(a->old);
	setup_backups_forget(&a->bk);
	for (int i = 0; i < a->nsf; i++)
		setup_secret_forget(&a->sf[i]);
	free(a);
}

/* ---------------------------------------------------------- the worker */

static void on_changed(void *arg, const char *sect, const char *key, const char *value)
{
	(void)value; /* never: it may be a secret */
	json_array_append_new(arg, json_pack("{s:s, s:s}", "section", sect, "key", key));
}

/* The names and values of want the file can hold, each refusal on its field. */
static int want_errors(const struct setup_want *w, struct conf_error *e, int max)
{
	int n = 0;
	for (size_t i = 0; i < w->n && n < max; i++) {
		const char *bad = setup_ini_name_bad(w->sects[i].sect, false);
		if (!bad && !conf_section_kind(w->sects[i].sect, NULL))
			bad = "unknown section";
		for (size_t j = 0; !bad && j < i; j++)
			if (strcmp(w->sects[j].sect, w->sects[i].sect) == 0)
				bad = "a section given twice (one entry of sections per section)";
		if (bad) {
			e[n] = (struct conf_error){ 0 };
			snprintf(e[n].section, sizeof(e[n].section), "%s", w->sects[i].sect);
			snprintf(e[n++].message, sizeof(e->message), "%s", bad);
			continue;
		}
		for (size_t k = 0; k < w->sects[i].nkeys && n < max; k++) {
			const struct setup_ini_want_key *wk = &w->sects[i].keys[k];
			if (!(bad = setup_ini_name_bad(wk->key, true)) && !(bad = setup_ini_value_bad(wk->value)))
				continue;
			e[n] = (struct conf_error){ 0 };
			snprintf(e[n].section, sizeof(e[n].section), "%s", w->sects[i].sect);
			snprintf(e[n].key, sizeof(e[n].key), "%s", wk->key);
			snprintf(e[n++].message, sizeof(e->message), "%s", bad);
		}
	}
	return n;
}

/* The file read and the new text made from it: NULL with a->status. */
static char *make_text(struct apply_task *a, struct setup_ini *ini)
{
	char why[300];
	a->old = setup_file_read(a->path, &a->oldlen, why, sizeof(why));
	if (!a->old || setup_ini_parse(ini, a->old, a->oldlen) < 0) {
		a->status = 409;
		snprintf(a->why, sizeof(a->why), "%s", a->old ? "the file holds a NUL byte" : why);
		return NULL;
	}
	setup_hash_hex(a->old, a->oldlen, a->hash);
	if (a->op == OP_APPLY && strcmp(a->base, a->hash) != 0) {
		a->status = 409;
		snprintf(a->why, sizeof(a->why), "%.1000s changed on disk since the page read it (load it again)", a->path);
		return NULL;
	}
	a->status = 500;
	snprintf(a->why, sizeof(a->why), "out of memory");
	if (setup_keep_hidden(ini, &a->want, (size_t)a->nsecrets) < 0)
		return NULL;
	for (int i = 0; i < a->nsecrets; i++) {
		char path[PATH_MAX];
		if (setup_want_secret(&a->want, &a->secrets[i], a->dir, path, sizeof(path), why, sizeof(why)) < 0) {
			a->status = 422;
			snprintf(a->why, sizeof(a->why), "the configuration is refused");
			a->errs[0] = (struct conf_error){ 0 };
			snprintf(a->errs[0].section, sizeof(a->errs[0].section), "%s", a->secrets[i].section);
			snprintf(a->errs[0].key, sizeof(a->errs[0].key), "%s", a->secrets[i].key);
			snprintf(a->errs[0].message, sizeof(a->errs[0].message), "%s", why);
			a->nerrs = 1;
			return NULL;
		}
		snprintf(a->sf[i].path, sizeof(a->sf[i].path), "%s", path);
	}
	if ((a->nerrs = want_errors(&a->want, a->errs, SETUP_ERRORS_MAX)) > 0) {
		a->status = 422;
		snprintf(a->why, sizeof(a->why), "the configuration is refused");
		return NULL;
	}
	a->changed = json_array();
	if (!a->changed || setup_ini_make(ini, a->want.sects, a->want.n, on_changed, a->changed, why, sizeof(why)) < 0) {
		bool oom = !a->changed || strcmp(why, "out of memory") == 0;
		if (!oom) /* what want_errors() did not see: said as it is */
			snprintf(a->why, sizeof(a->why), "the configuration is refused: %s", why);
		a->status = oom ? 500 : 422;
		return NULL;
	}
	a->status = 0;
	a->why[0] = '\0';
	return setup_ini_text(ini, NULL);
}

static void say_warning(void *arg, const char *text)
{
	json_array_append_new(arg, json_string(text));
}

/* A pack's serial port the page set must be on this machine (a daemon
 * started with an adapter unplugged waits for it; a port typed now is
 * there, or a mistake). */
static int port_errors(struct apply_task *a, struct conf_error *e, int max)
{
	int n = 0;
	size_t i;
	json_t *c;
	json_array_foreach(a->changed, i, c) {
		const char *sect = json_string_value(json_object_get(c, "section"));
		const char *key = json_string_value(json_object_get(c, "key"));
		char v[CONF_PORT_MAX];
		struct stat st;
		if (n >= max || strcmp(key, "port") != 0 || conf_section_kind(sect, NULL) != &conf_sect_pack)
			continue;
		bool found = false;
		for (size_t k = 0; k < a->want.n && !found; k++)
			for (size_t j = 0; strcmp(a->want.sects[k].sect, sect) == 0 && j < a->want.sects[k].nkeys; j++)
				if (strcmp(a->want.sects[k].keys[j].key, "port") == 0) {
					snprintf(v, sizeof(v), "%s", a->want.sects[k].keys[j].value);
					found = true;
				}
		if (!found || v[0] != '/' || stat(v, &st) == 0)
			continue;
		e[n] = (struct conf_error){ 0 };
		snprintf(e[n].section, sizeof(e[n].section), "%s", sect);
		snprintf(e[n].key, sizeof(e[n].key), "port");
		snprintf(e[n++].message, sizeof(e->message), "%.200s: no such device on this machine (plug the adapter in, "
			 "or pick a port the Setup tab lists)", v);
	}
	return n;
}

/* The checker of --check over text: a->nc and 0, or the errors (422). */
static int check_text(struct apply_task *a, const char *text)
{
	if (!(a->nc = malloc(sizeof(*a->nc)))) {
		a->status = 500;
		return -1;
	}
	a->nerrs = setup_check_all(text, a->path, a->nc, a->errs, SETUP_ERRORS_MAX);
	if (a->nerrs >= 0)
		a->nerrs += port_errors(a, a->errs + a->nerrs, SETUP_ERRORS_MAX - a->nerrs);
	if (a->nerrs >= 0)
		a->nerrs += setup_path_errors(a->changed, &a->want, &a->dirs, a->errs + a->nerrs,
					      SETUP_ERRORS_MAX - a->nerrs);
	if (a->nerrs != 0) {
		a->status = a->nerrs < 0 ? 500 : 422;
		snprintf(a->why, sizeof(a->why), "%s", a->nerrs < 0 ? "out of memory" : "the configuration is refused");
		free(a->nc);
		a->nc = NULL;
		return -1;
	}
	return 0;
}

static void work_get(struct apply_task *a)
{
	char why[300];
	a->old = setup_file_read(a->path, &a->oldlen, why, sizeof(why));
	if (!a->old) {
		a->status = 500;
		snprintf(a->why, sizeof(a->why), "%s", why);
		return;
	}
	setup_hash_hex(a->old, a->oldlen, a->hash);
	a->result = setup_config_json(a->old, a->oldlen, a->hash);
	bool w = access(a->path, W_OK) == 0 && access(a->dir, W_OK) == 0;
	json_object_set_new(a->result, "file", json_string(a->path));
	json_object_set_new(a->result, "writable", json_boolean(w));
	if (!w)
		json_object_set_new(a->result, "why", json_sprintf("bmsgw may not write %s or its directory %s (its "
								   "service unit: ReadWritePaths=)", a->path, a->dir));
	a->status = a->result ? 200 : 500;
}

static void work_check(struct apply_task *a)
{
	struct setup_ini ini;
	char *text = make_text(a, &ini);
	if (text && check_text(a, text) == 0) {
		json_t *warn = json_array();
		conf_warnings(a->nc, say_warning, warn);
		a->result = json_pack("{s:b, s:[], s:o, s:O}", "ok", 1, "errors", "warnings", warn, "changed", a->changed);
		a->status = 200;
	} else if (a->status == 422) {
		a->result = json_pack("{s:b, s:o, s:[], s:O}", "ok", 0, "errors", setup_errors_json(a->errs, a->nerrs),
				      "warnings", "changed", a->changed ? a->changed : json_array());
		a->status = 200;
	}
	free(text);
	if (a->old)
		setup_ini_free(&ini);
}

/* Secrets to their files, then the file itself with its backups. */
static void work_apply(struct apply_task *a)
{
	struct setup_ini ini;
	char *text = make_text(a, &ini), why[600];
	struct stat st;
	a->mode = a->oldmode = stat(a->path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0640;
	if (!text)
		goto out;
	if (json_array_size(a->changed) == 0) {
		a->status = 200; /* nothing to change: nothing written, nothing reloaded */
		goto out;
	}
	if (setup_ini_holds_secret(&ini))
		a->mode &= 0600; /* a key kept in the file itself: the file is its owner's alone, and its backups */
	for (a->nsf = 0; a->nsf < a->nsecrets; a->nsf++)
		if (setup_secret_write(&a->sf[a->nsf], a->secrets[a->nsf].value, why, sizeof(why)) < 0) {
			a->status = 409;
			snprintf(a->why, sizeof(a->why), "%s", why);
			goto undo;
		}
	if (check_text(a, text) < 0)
		goto undo;
	size_t len = strlen(text);
	if (setup_backups_push(a->path, a->old, a->oldlen, a->mode, &a->bk, why, sizeof(why)) < 0 ||
	    setup_file_write(a->path, text, len, a->mode, why, sizeof(why)) < 0) {
		setup_backups_pop(a->path, &a->bk); /* nothing when the push failed: it put back what it moved */
		a->status = 409;
		snprintf(a->why, sizeof(a->why), "%s", why);
		goto undo;
	}
	setup_hash_hex(text, len, a->hash);
	goto out;
undo:
	for (int i = 0; i < a->nsf; i++)
		setup_secret_undo(&a->sf[i]);
	a->nsf = 0;
out:
	free(text);
	if (a->old)
		setup_ini_free(&ini);
}

/* A refused reload: the file, its backups and the secrets as they were. */
static void work_undo(struct apply_task *a)
{
	char why[600];
	size_t n = strlen(a->why);
	if (setup_file_write(a->path, a->old, a->oldlen, a->oldmode & a->mode, why, sizeof(why)) == 0) {
		setup_backups_pop(a->path, &a->bk);
		snprintf(a->why + n, sizeof(a->why) - n, " (the file, its backups and secrets are put back)");
	} else {
		snprintf(a->why + n, sizeof(a->why) - n, "; and the file could not be put back: %s", why);
	}
	for (int i = 0; i < a->nsf; i++)
		setup_secret_undo(&a->sf[i]);
	a->nsf = 0;
}

static void work(struct setup_task *t)
{
	struct apply_task *a = (struct apply_task *)t;
	switch (a->op) {
	case OP_GET:
		work_get(a);
		break;
	case OP_CHECK:
		work_check(a);
		break;
	case OP_APPLY:
		work_apply(a);
		break;
	case OP_UNDO:
		work_undo(a);
		break;
	}
}

/* ---------------------------------------------------------- the loop */

static void answer_status(struct apply_task *a)
{
	if (!a->w)
		return; /* answered already (a change that restarted the page's server) */
	if (a->status == 422)
		setup_send(a->w, 422, json_pack("{s:b, s:s, s:o}", "applied", 0, "error", a->why[0] ? a->why :
						"the configuration is refused", "errors", setup_errors_json(a->errs, a->nerrs)));
	else if (a->status == 409)
		setup_send(a->w, 409, json_pack("{s:b, s:s, s:s}", "applied", 0, "error", a->why, "hash", a->hash));
	else
		setup_send_error(a->w, a->status, a->why);
	a->w = NULL;
}

static json_t *applied_json(struct apply_task *a)
{
	return json_pack("{s:b, s:s, s:O, s:b}", "applied", json_array_size(a->changed) > 0, "hash", a->hash, "changed",
			 a->changed, "restart", 0);
}

/* The answer to a change that restarts the page's server: written, not in
 * force yet (the reload comes after the answer, and may refuse it). */
static json_t *pending_json(struct apply_task *a)
{
	return json_pack("{s:b, s:b, s:s, s:O, s:b, s:s}", "applied", 0, "pending", 1, "hash", a->hash, "changed",
			 a->changed, "restart", 1, "note", "the page's server restarts with it in a moment; "
			 "GET /api/setup/changes says whether the reload took it");
}

static void after_reload(struct gw_setup *s, struct apply_task *a, int rc, const char *err)
{
	if (rc == 0) {
		setup_log_change(s, a->user, a->addr, json_incref(a->changed), NULL);
		if (a->w)
			setup_send(a->w, 200, applied_json(a));
		a->w = NULL;
		s->busy = false;
		task_free(a);
		return;
	}
	a->op = OP_UNDO;
	a->status = 422;
	a->nerrs = 1;
	a->errs[0] = (struct conf_error){ 0 };
	snprintf(a->errs[0].message, sizeof(a->errs[0].message), "the reload refused it: %s", err);
	snprintf(a->why, sizeof(a->why), "the reload refused it: %.2000s", err);
	setup_worker_post(s, &a->t);
}

static void later_done(struct gw_setup *s, void *arg, int rc, const char *err)
{
	struct apply_task *a = arg;
	s->later_after = NULL;
	if (rc == 1) { /* the daemon stops */
		task_free(a);
		return;
	}
	if (rc == 0) {
		setup_log_change(s, a->user, a->addr, json_incref(a->changed), NULL);
		s->busy = false;
		task_free(a);
	} else {
		after_reload(s, a, rc, err);
	}
}

/* The worker made and wrote the file: reload (or answer first). */
static void reload(struct gw_setup *s, struct apply_task *a)
{
	struct gw *gw = s->gw;
	char who[160], err[CONF_ERR_MAX];
	snprintf(who, sizeof(who), "setup: apply by %s from %s", a->user, a->addr);
	struct conf *nc = a->nc;
	a->nc = NULL;
	const struct conf_http *oh = gw_http_cfg(gw->conf), *nh = gw_http_cfg(nc);
	bool restart = oh->enabled != nh->enabled || !conf_section_same(&gw_http_section, CONF_RESTART, oh, nh);
	if (restart) {
		setup_send(a->w, 202, pending_json(a));
		a->w = NULL;
		setup_reload_later(s, nc, who, later_done, a);
		return;
	}
	int rc = gw->reload ? gw->reload(gw, nc, who, err, sizeof(err)) : -1;
	if (!gw->reload) {
		free(nc);
		snprintf(err, sizeof(err), "no reload here");
	}
	after_reload(s, a, rc, err);
}

static void done(struct gw_setup *s, struct setup_task *t)
{
	struct apply_task *a = (struct apply_task *)t;
	if (s->stopping) {
		if (a->w)
			setup_send_error(a->w, 503, "bmsgw is stopping");
		if (a->op == OP_APPLY || a->op == OP_UNDO)
			s->busy = false;
		task_free(a);
		return;
	}
	if (a->op == OP_APPLY && a->status == 0 && a->nc) {
		reload(s, a);
		return;
	}
	if (a->op == OP_APPLY && a->status == 200) /* nothing changed */
		setup_send(a->w, 200, applied_json(a));
	else if (a->status == 200)
		setup_send(a->w, 200, json_incref(a->result));
	else
		answer_status(a);
	if (a->op == OP_UNDO) /* listed, and logged, as refused */
		setup_log_change(s, a->user, a->addr, json_incref(a->changed), a->why);
	if (a->op == OP_APPLY || a->op == OP_UNDO)
		s->busy = false;
	task_free(a);
}

/* A task for x (its body read into want for check and apply). */
static struct apply_task *task_new(struct setup_ctx *x, enum apply_op op)
{
	struct apply_task *a = calloc(1, sizeof(*a));
	if (!a) {
		setup_error(x, 500, "out of memory");
		return NULL;
	}
	a->t.work = work;
	a->t.done = done;
	a->op = op;
	snprintf(a->path, sizeof(a->path), "%s", x->s->gw->conf->file);
	setup_conf_dir(x->s, a->dir, sizeof(a->dir));
	setup_dirs_of(x->s, &a->dirs);
	snprintf(a->user, sizeof(a->user), "%s", x->q->user ? x->q->user : "-");
	snprintf(a->addr, sizeof(a->addr), "%s", x->q->addr ? x->q->addr : "-");
	if (op == OP_GET)
		return a;
	char why[300];
	if (!(a->body = setup_parse_body(x->q->body, x->q->len, why, sizeof(why))) ||
	    setup_parse_sections(a->body, &a->want, why, sizeof(why)) < 0) {
		setup_error(x, 400, "%s", why);
		task_free(a);
		return NULL;
	}
	return a;
}

static int start(struct setup_ctx *x, struct apply_task *a)
{
	if (!(a->w = setup_later(x))) {
		task_free(a);
		return 0;
	}
	setup_worker_post(x->s, &a->t);
	return 1;
}

int setup_config_get(struct setup_ctx *x)
{
	struct apply_task *a = task_new(x, OP_GET);
	return a ? start(x, a) : 0;
}

int setup_check(struct setup_ctx *x)
{
	const char *no = setup_may_change(x->s, x->q);
	if (no)
		return setup_error(x, 403, "%s", no);
	struct apply_task *a = task_new(x, OP_CHECK);
	return a ? start(x, a) : 0;
}

int setup_apply(struct setup_ctx *x)
{
	const char *no = setup_may_change(x->s, x->q);
	if (no)
		return setup_error(x, 403, "%s", no);
	if (x->s->busy)
		return setup_error(x, 409, "another change is being applied (try again in a moment)");
	struct apply_task *a = task_new(x, OP_APPLY);
	if (!a)
		return 0;
	json_t *b = json_object_get(a->body, "base_hash");
	char why[300];
	const char *sect, *key;
	if (!json_is_string(b) || json_string_length(b) != 64) {
		task_free(a);
		return setup_error(x, 400, "base_hash: the hash of the file as GET /api/setup/config gave it");
	}
	snprintf(a->base, sizeof(a->base), "%s", json_string_value(b));
	a->nsecrets = setup_parse_secrets(json_object_get(a->body, "secrets"), a->secrets, SETUP_SECRETS_MAX, why,
					  sizeof(why), &sect, &key);
	if (a->nsecrets < 0) {
		setup_field_error(x, 422, sect, key, "%s", why); /* its names are the body's */
		task_free(a);
		return 0;
	}
	x->s->busy = true;
	return start(x, a);
}
