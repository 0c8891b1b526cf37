/* SPDX-License-Identifier: MIT */
/* gateway/model/service.h - what every output is to the daemon: one row of
 * the service table (gateway/daemon/services.c), in the manner of nginx's
 * modules (https://github.com/nginx/nginx/blob/master/src/core/ngx_module.h):
 * the same lifecycle hooks for every output, walked in the table's order,
 * each with its own state.
 *
 * An output (the Modbus server and its upstreams, the tunnels, MQTT, the
 * history, the inverter outputs, the HTTP server) is a folder of its own,
 * a line of the table and its configuration in conf/ (gateway/README.md
 * "Adding an output").  The daemon starts them in the table's order and
 * stops them in reverse; a reload prepares every one for the new
 * configuration first (anything that can fail, such as a new listening
 * socket, fails here and nothing changes), then commits them all (nothing
 * fails any more).  The events of the model (model/events.h) reach the
 * outputs through the same rows, in the same order; /api/state and
 * /metrics ask each output for its own part, so the status page never
 * reads another output's internals.
 */
#ifndef GATEWAY_MODEL_SERVICE_H
#define GATEWAY_MODEL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../../conf/section.h"

struct gw;
struct gw_pack;
struct conf;

/* What a hook of the lifecycle is given: one context, as nginx hands its
 * modules one cycle; each step sets what its hooks read. */
struct gw_svc_ctx {
	struct gw *gw;
	const struct conf *nc;          /* prepare: the configuration to run (commit: gw->conf) */
	const struct conf *oc;          /* commit: the previous configuration, NULL at start */
	void *cur;                      /* the output's running state (NULL: off, or at start) */
	void *next;                     /* prepare sets it, commit and discard read it */
	bool may_block;                 /* prepare at start: a listen name may go to the system resolver */
	bool clean;                     /* stop: the daemon stops and the loop has ended, so what
	                                 * the output owes a peer may be flushed, off the loop */
	char *err;                      /* prepare: why it failed */
	size_t errlen;
};

struct gw_service {
	const char *name;               /* "modbus", "mqtt" ...; also its key in /api/state */
	/* The sections of the configuration the output owns (conf/section.h:
	 * its struct, keys, checks and --check lines), NULL-terminated; the
	 * daemon hands them down to conf/ before any load.  NULL = none. */
	const struct conf_section *const *sections;
	/* Descriptors the output holds under configuration c (the daemon's
	 * budget for RLIMIT_NOFILE); NULL = none. */
	long (*fds)(const struct conf *c);
	/* The output's state for configuration x->nc in x->next, built before
	 * anything changes (NULL: the output is off under nc).  May reuse or
	 * take over x->cur's parts at commit, never before.  0, or -1 with
	 * x->err filled in (the start or the reload fails whole). */
	int (*prepare)(struct gw_svc_ctx *x);
	/* Switch from x->cur to x->next (gw->conf is nc now, packs and links
	 * are in place).  Nothing fails; what cur had and next does not take
	 * is released without waiting on the loop.  Returns the state now
	 * running (next, or what it became; NULL = off). */
	void *(*commit)(const struct gw_svc_ctx *x);
	/* Forget x->next, a prepared state that will not be committed (x->cur
	 * stays as it was; next may be cur itself); NULL = nothing to undo. */
	void (*discard)(const struct gw_svc_ctx *x);
	/* Stop and free the running state x->cur. */
	void (*stop)(const struct gw_svc_ctx *x);
	/* The daemon exits and every output has stopped: release what outlived
	 * its state (a history a reload replaced that still writes); NULL =
	 * nothing.  Called whether the output ran or not. */
	void (*at_exit)(const struct gw_svc_ctx *x);
	/* The copy of section s (its instance `name` when the section is
	 * named, else NULL) the running output works from: what /api/config
	 * shows, so a key whose new value a reload did not bring in shows its
	 * old one.  NULL: not a section it copies (or the hook is NULL). */
	const void *(*held)(void *st, const struct conf_section *s, const char *name);
	/* Its member of /api/state: a JSON value ("null" is written for an
	 * output that is off, without calling this). */
	void (*status_json)(void *st, const struct gw *gw, FILE *o);
	/* Its families of /metrics (NULL = none). */
	void (*metrics)(void *st, const struct gw *gw, FILE *o);
	/* Events (model/events.h), NULL = not interested: a poll of p finished
	 * (ok: a new snapshot was committed), a second passed. */
	void (*polled)(void *st, struct gw_pack *p, bool ok);
	void (*tick)(void *st, double now);
};

/* The state of the running output called name, or NULL when it is off (for
 * the outputs that may use another: the status page reads the history). */
void *gw_output_state(const struct gw *gw, const char *name);

#endif
