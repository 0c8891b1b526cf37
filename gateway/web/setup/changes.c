/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/changes.c - what every change shares: who may make it,
 * where the configuration's directory is, the change log (the last 100,
 * each logged once: who, from where, which keys, never a value, and
 * whether it is in force or the reload refused it), and the
 * reload a moment after an answer that the reload would cut off (a change
 * that restarts the page's own server). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../core/log.h"
#include "../../core/util.h"
#include "../../model/gw.h"
#include "../users.h"
#include "setup_int.h"

const char *setup_may_change(const struct gw_setup *s, const struct gw_setup_req *q)
{
	if (!s->http.setup)
		return "the configuration is read only here ([http] setup = false)";
	if (q->ingress) /* a user Home Assistant logged in, through its proxy (http.c) */
		return NULL;
	if (!s->http.users_file[0] && s->code_live)
		return "a new installation: create the first admin with the setup code first";
	if (!s->http.users_file[0])
		return "no users yet and the setup code is void (used, 60 minutes old or 5 wrong tries): restart bmsgw "
		       "for a new one";
	if (!q->user || q->role != GW_ROLE_ADMIN)
		return "the configuration is an admin's: this login (role read) sees the status page only";
	if (!q->tls)
		return "changes need HTTPS";
	return NULL;
}


void setup_log_change(struct gw_setup *s, const char *user, const char *addr, json_t *changed, const char *refused)
{
	char list[600] = "";
	size_t i, n = 0;
	json_t *c;
	json_array_foreach(changed, i, c) {
		const char *sect = json_string_value(json_object_get(c, "section"));
		const char *key = json_string_value(json_object_get(c, "key"));
		int r = snprintf(list + n, sizeof(list) - n, "%s[%s]%s%s", i ? ", " : "", sect ? sect : "",
				 key && key[0] ? " " : "", key ? key : "");
		if (r < 0 || (size_t)r >= sizeof(list) - n) {
			snprintf(list + sizeof(list) - 5, 5, "...");
			break;
		}
		n += (size_t)r;
	}
	if (refused)
		gw_warn("setup: %s from %s: the change of %s is not in force: %s", user, addr,
			list[0] ? list : "nothing", refused);
	else
		gw_info("setup: %s from %s changed the configuration: %s", user, addr, list[0] ? list : "nothing");
	struct setup_change *e = &s->log[s->log_head];
	json_decref(e->changed);
	free(e->refused);
	*e = (struct setup_change){ .time = time(NULL), .changed = changed, .refused = refused ? strdup(refused) : NULL,
				    .applied = !refused };
	snprintf(e->user, sizeof(e->user), "%s", user);
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	s->log_head = (s->log_head + 1) % SETUP_LOG_MAX;
	if (s->nlog < SETUP_LOG_MAX)
		s->nlog++;
}

json_t *setup_changes_json(const struct gw_setup *s)
{
	json_t *a = json_array();
	for (int i = 0; a && i < s->nlog; i++) {
		const struct setup_change *e = &s->log[(s->log_head - 1 - i + 2 * SETUP_LOG_MAX) % SETUP_LOG_MAX];
		char t[32];
		struct tm tm;
		gmtime_r(&e->time, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_t *o = json_pack("{s:s, s:s, s:s, s:O, s:b}", "time", t, "user", e->user, "address", e->addr,
				      "changed", e->changed, "applied", e->applied);
		if (o && !e->applied)
			json_object_set_new(o, "error", json_string(e->refused ? e->refused : "the reload refused it"));
		json_array_append_new(a, o);
	}
	return a;
}

/* ---------------------------------------------------------- reload */

static void later_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_setup *s = container_of(w, struct gw_setup, later);
	struct conf *nc = s->later_conf;
	s->later_conf = NULL;
	char err[CONF_ERR_MAX] = "no reload here";
	int rc = -1;
	if (nc && s->gw->reload)
		rc = s->gw->reload(s->gw, nc, s->later_who, err, sizeof(err));
	else
		free(nc);
	setup_after_cb *after = s->later_after;
	s->later_after = NULL;
	if (after)
		after(s, s->later_arg, rc, err);
	else
		s->busy = false;
}

void setup_reload_later(struct gw_setup *s, struct conf *nc, const char *who, setup_after_cb *after, void *arg)
{
	free(s->later_conf);
	s->later_conf = nc;
	s->later_after = after;
	s->later_arg = arg;
	snprintf(s->later_who, sizeof(s->later_who), "%s", who);
	ev_timer_stop(s->gw->loop, &s->later);
	ev_timer_set(&s->later, SETUP_RELOAD_AFTER, 0.);
	ev_timer_start(s->gw->loop, &s->later);
}

void setup_conf_dir(const struct gw_setup *s, char *out, size_t cap)
{
	const char *f = s->gw->conf->file, *slash = strrchr(f, '/');
	char dir[PATH_MAX], real[PATH_MAX];
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == f)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - f), f);
	/* the paths written into the file are absolute (a *_file key is a path from /) */
	snprintf(out, cap, "%s", dir[0] == '/' || !realpath(dir, real) ? dir : real);
}

void setup_later_init(struct gw_setup *s)
{
	ev_init(&s->later, later_cb);
}
