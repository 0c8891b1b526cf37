/* gateway/model/service.h - what every output is to the daemon: one row of
 * the service table (gateway/daemon/services.c), in the manner of nginx's
 * modules (https://github.com/nginx/nginx/blob/master/src/core/ngx_module.h):
 * the same lifecycle hooks for every output, walked in the table's order,
 * each with its own state.
 *
 * An output (the Modbus server and its upstreams, the tunnels, MQTT, the
 * history, the HTTP server, the inverter outputs) is one folder and one
 * line of the table (README.md "Adding an output" lists what else it
 * needs).  The daemon starts them in the table's order and
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

struct gw;
struct gw_pack;
struct conf;

struct gw_service {
	const char *name;               /* "modbus", "mqtt" ...; also its key in /api/state */
	/* Descriptors the output holds under configuration c (the daemon's
	 * budget for RLIMIT_NOFILE); NULL = none. */
	long (*fds)(const struct conf *c);
	/* The output's state for configuration nc, built before anything
	 * changes: cur is the running state (NULL when the output is off or at
	 * start), *next the state to commit (NULL: the output is off under
	 * nc).  May reuse or take over cur's parts at commit, never before.
	 * may_block: at start, a listen name may go to the system resolver.
	 * 0, or -1 with err filled in (the start or the reload fails whole). */
	int (*prepare)(struct gw *gw, const struct conf *nc, void *cur, bool may_block, void **next, char *err,
		       size_t errlen);
	/* Switch from cur to next (gw->conf is nc now, packs and links are in
	 * place; oc is the previous configuration, NULL at start).  Nothing
	 * fails; what cur had and next does not take is released without
	 * waiting on the loop.  Returns the state now running (next, or what
	 * it became; NULL = off). */
	void *(*commit)(struct gw *gw, void *cur, void *next, const struct conf *oc);
	/* Forget a prepared state that will not be committed (cur stays as it
	 * was; next may be cur itself); NULL = nothing to undo. */
	void (*discard)(struct gw *gw, void *cur, void *next);
	/* Stop and free (the daemon stops: `clean` may flush what it owes a
	 * peer, off the loop, since the loop has ended). */
	void (*stop)(void *st, bool clean);
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

/* An output as the running daemon holds it: its row and its state. */
#define GW_MAX_OUTPUTS 16
struct gw_output {
	const struct gw_service *svc;
	void *state;                    /* NULL while the output is off */
};

/* The state of the running output called name, or NULL when it is off (for
 * the outputs that may use another: the status page reads the history). */
void *gw_output_state(const struct gw *gw, const char *name);

#endif
