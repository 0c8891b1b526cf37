/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/setup.c - the setup API's state, its routes and who
 * may use them (setup.h).
 *
 *   GET  session  config  schema  ports  changes  jobs/ID
 *   POST admin  check  apply  detect  ble-scan
 *
 * A GET changes nothing (a POST path asked with GET is 405, and the other
 * way round).  Every POST is JSON with the session's X-CSRF-Token and, where
 * sent, the page's own Origin (csrf.c); then admin takes the setup code,
 * the others an admin login (over HTTPS: a users file needs a certificate).
 * With [http] setup = false the tab is read only: every POST is 403 with the
 * reason. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../../core/clock.h"
#include "../../core/log.h"
#include "../../core/util.h"
#include "../../model/gw.h"
#include "../users.h"
#include "setup_int.h"

/* ---------------------------------------------------------- the session */

static int session(struct setup_ctx *x)
{
	struct gw_setup *s = x->s;
	const struct gw_setup_req *q = x->q;
	char token[80];
	setup_csrf_token(s, q, token, sizeof(token));
	bool code = setup_code_live(s) && !s->http.users_file[0];
	const char *why = setup_may_change(s, q);
	if (code && !q->tls && !q->trusted)
		why = "over plain HTTP the setup code is taken from this machine or an [http] clients network only";
	json_t *o = json_pack("{s:s, s:o, s:o, s:b, s:b, s:b, s:b, s:o}", "csrf", token, "user",
			      q->user ? json_string(q->user) : json_null(), "role",
			      q->role >= 0 ? json_string(gw_role_name((enum gw_role)q->role)) : json_null(), "can_write",
			      !why, "setup_code_needed", code, "setup", s->http.setup, "https", q->tls, "why",
			      why ? json_string(why) : json_null());
	return setup_answer(x, 200, o);
}

/* ---------------------------------------------------------- routes */

struct route {
	const char *path;
	bool post;
	int (*fn)(struct setup_ctx *x);
};

static int changes(struct setup_ctx *x)
{
	return setup_answer(x, 200, json_pack("{s:o}", "changes", setup_changes_json(x->s)));
}

static const struct route routes[] = {
	{ "session", false, session },      { "config", false, setup_config_get }, { "schema", false, setup_schema },
	{ "ports", false, setup_ports },    { "changes", false, changes },         { "admin", true, setup_admin },
	{ "check", true, setup_check },     { "apply", true, setup_apply },        { "detect", true, setup_detect },
	{ "ble-scan", true, setup_ble_scan },
};

int gw_setup_handle(struct gw_setup *s, const struct gw_setup_req *q, struct gw_setup_answer *a, gw_setup_cb *cb,
		    void *arg, struct gw_setup_wait **wait)
{
	struct setup_ctx x = { s, q, a, cb, arg, wait };
	*wait = NULL;
	memset(a, 0, sizeof(*a));
	bool get = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
	bool post = strcmp(q->method, "POST") == 0;
	if (strncmp(q->path, "jobs/", 5) == 0) {
		if (!get) {
			a->allow = "GET, HEAD";
			return setup_error(&x, 405, "a job is read with GET");
		}
		return setup_job_get(&x, q->path + 5);
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		if (strcmp(q->path, r->path) != 0)
			continue;
		if (r->post ? !post : !get) {
			a->allow = r->post ? "POST" : "GET, HEAD";
			return setup_error(&x, 405, "/api/setup/%s takes %s only%s", r->path, r->post ? "POST" : "GET",
					   r->post ? " (a GET never changes anything)" : "");
		}
		/* a void code says so before the token it was bound to is checked */
		if (r->fn == setup_admin && setup_admin_refused(&x))
			return 0;
		const char *bad = r->post ? setup_post_bad(s, q) : NULL;
		if (bad)
			return setup_error(&x, 403, "%s", bad);
		return r->fn(&x);
	}
	return setup_error(&x, 404, "/api/setup/%s: not found", q->path);
}

/* ---------------------------------------------------------- lifecycle */

struct gw_setup *gw_setup_new(struct gw *gw)
{
	struct gw_setup *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->gw = gw;
	char why[160];
	if (getrandom(s->key, sizeof(s->key), 0) != (ssize_t)sizeof(s->key) ||
	    !(s->work = gw_workq_new(gw->loop, why, sizeof(why)))) {
		free(s);
		return NULL;
	}
	setup_later_init(s);
	return s;
}

void gw_setup_conf(struct gw_setup *s, const struct conf_http *c)
{
	if (!s)
		return;
	s->http = *c;
	s->have_http = true;
	setup_code_start(s);
	setup_code_live(s); /* void now when a users file came */
}

void gw_setup_free(struct gw_setup *s)
{
	if (!s)
		return;
	s->stopping = true;
	setup_jobs_free(s);
	bool pending = ev_is_active(&s->later);
	ev_timer_stop(s->gw->loop, &s->later);
	free(s->later_conf);
	if (pending && s->later_after) /* its task goes */
		s->later_after(s, s->later_arg, 1, "bmsgw is stopping");
	/* the tasks queued still run: a write begun is finished; but a disk
	 * that never answers never holds the daemon's stop */
	if (!gw_workq_free_within(s->work, SETUP_STOP_WAIT))
		gw_warn("setup: its file work did not end within %.0f s of the stop: left unfinished", SETUP_STOP_WAIT);
	for (int i = 0; i < SETUP_LOG_MAX; i++) {
		json_decref(s->log[i].changed);
		free(s->log[i].refused);
	}
	explicit_bzero(s->key, sizeof(s->key));
	explicit_bzero(s->code, sizeof(s->code));
	free(s);
}
