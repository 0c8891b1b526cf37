/* SPDX-License-Identifier: MIT */
/* gateway/modbus/modbus.c - the Modbus output as the daemon sees it: its
 * row of the service table (model/service.h): the TCP server (server.c),
 * the RTU server of [rtu] (rtu.c; both answer through request.c) and the
 * upstream pushers (upstream.c).
 *
 * A reload keeps the server and its clients; a new listen address is
 * opened in prepare (a failure refuses the reload whole), and only at
 * commit are the clients of the old address closed.  Pushers whose
 * settings did not change keep their connection.  The RTU port stays open
 * when no key of [rtu] that restarts it changed (its line: port, baud,
 * mode); otherwise the old port is closed at commit and the new one
 * opened.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/jsonw.h"
#include "../core/log.h"
#include "../core/prom.h"
#include "modbus.h"
#include "rtu.h"
#include "server.h"
#include "upstream.h"

struct mb_out {
	struct gw_server *srv;
	struct gw_upstream *upstreams;
	int next_fd;                   /* prepared: the new listening socket, -1 = none */
	struct gw_rtu *rtu;            /* the RTU server, NULL without [rtu] */
	bool rtu_replace;              /* prepared: rtu gives way to next_rtu (NULL = none) */
	struct gw_rtu *next_rtu;
};

static long mb_fds(const struct conf *c)
{
	/* the clients are budgeted apart (max_clients); the pushers' sockets,
	 * the RTU port and its timerfd */
	return c->nupstreams + (c->rtu.enabled ? 2 : 0);
}

/* What prepare made and commit will not take: the new socket and RTU port
 * (and the state itself, prepared at a start that failed). */
static void forget(struct mb_out *m)
{
	if (m->next_fd >= 0)
		close(m->next_fd);
	m->next_fd = -1;
	gw_rtu_free(m->next_rtu);
	m->next_rtu = NULL;
	m->rtu_replace = false;
	if (!m->srv)
		free(m);
}

static int mb_prepare(struct gw_svc_ctx *x)
{
	const struct conf *nc = x->nc;
	struct mb_out *m = x->cur;
	/* a new socket when a key of [gateway] that restarts the server changed
	 * (conf/conf.c: listen); it reads the others as it goes */
	bool moved = !m || !conf_section_same(CONF_SEC_GATEWAY, CONF_RESTART, &x->gw->conf->gw, &nc->gw);
	int fd = -1;
	if (moved && (fd = gw_server_listen(&nc->gw, x->may_block, x->err, x->errlen)) < 0)
		return -1;
	if (!m && !(m = calloc(1, sizeof(*m)))) {
		close(fd);
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	m->next_fd = fd;
	/* the RTU port: kept when no key of [rtu] that restarts it changed */
	const struct conf_rtu *nr = &nc->rtu;
	m->rtu_replace = !(m->rtu && nr->enabled && conf_section_same(CONF_SEC_RTU, CONF_RESTART, gw_rtu_conf(m->rtu),
								       nr));
	m->next_rtu = NULL;
	if (m->rtu_replace && nr->enabled && !(m->next_rtu = gw_rtu_new(x->gw, nr))) {
		forget(m);
		snprintf(x->err, x->errlen, "out of memory");
		return -1;
	}
	x->next = m;
	return 0;
}

static void mb_discard(const struct gw_svc_ctx *x)
{
	forget(x->next);
}

static void *mb_commit(const struct gw_svc_ctx *x)
{
	struct gw *gw = x->gw;
	struct mb_out *m = x->next;
	if (!m->srv) {
		m->srv = gw_server_new(gw, m->next_fd); /* it owns the socket either way */
		if (!m->srv)
			gw_err("the Modbus TCP server could not start: Modbus clients are not served");
	} else {
		gw_server_apply(m->srv, m->next_fd);
	}
	m->next_fd = -1;
	if (m->rtu_replace) {
		gw_rtu_free(m->rtu); /* the old port is closed before the new one opens */
		m->rtu = m->next_rtu;
		m->next_rtu = NULL;
		m->rtu_replace = false;
		if (m->rtu)
			gw_rtu_start(m->rtu);
	} else if (m->rtu) {
		gw_rtu_apply(m->rtu, &gw->conf->rtu);
	}
	m->upstreams = gw_upstreams_apply(gw, m->upstreams);
	return m;
}

static void mb_stop(const struct gw_svc_ctx *x)
{
	struct mb_out *m = x->cur;
	gw_upstreams_free(m->upstreams);
	gw_rtu_free(m->rtu);
	gw_server_free(m->srv);
	free(m);
}

/* The pushers' and the RTU server's copies ([gateway] is read from the
 * running configuration as the server goes). */
static const void *mb_held(void *st, enum conf_sect s, const char *name)
{
	const struct mb_out *m = st;
	if (s == CONF_SEC_UPSTREAM && name)
		return gw_upstream_conf(m->upstreams, name);
	return s == CONF_SEC_RTU && m->rtu ? gw_rtu_conf(m->rtu) : NULL;
}

static void mb_status_json(void *st, const struct gw *gw, FILE *o)
{
	const struct mb_out *m = st;
	const struct conf_gateway *g = &gw->conf->gw;
	struct gw_server_info si;
	gw_server_info(m->srv, &si);
	bool v6 = strchr(g->listen_host, ':') != NULL;
	fprintf(o, "{\"listen\":\"%s%s%s:%d\",\"base\":%d,\"max_clients\":%d,\"connections\":%lu,"
		"\"refused\":%lu,\"requests\":%lu,\"exceptions\":%lu,\"clients\":",
		v6 ? "[" : "", g->listen_host, v6 ? "]" : "", g->listen_port, g->base, g->max_clients, si.accepted,
		si.refused, si.requests, si.exceptions);
	gw_server_clients_json(m->srv, o);
	fprintf(o, ",\"rtu\":");
	if (m->rtu)
		gw_rtu_status_json(m->rtu, o);
	else
		fprintf(o, "null");
	fputc('}', o);
}

static void mb_metrics(void *st, const struct gw *gw, FILE *o)
{
	(void)gw;
	const struct mb_out *m = st;
	struct gw_server_info si;
	gw_server_info(m->srv, &si);
	const struct gw_prom_metric mm[] = {
		{ "bmsgw_modbus_clients", "gauge", "Modbus TCP clients connected.", si.clients },
		{ "bmsgw_modbus_connections_total", "counter", "Modbus TCP connections served.", (double)si.accepted },
		{ "bmsgw_modbus_refused_total", "counter",
		  "Modbus TCP connections closed at once (max_clients, descriptors).", (double)si.refused },
		{ "bmsgw_modbus_requests_total", "counter", "Modbus requests answered.", (double)si.requests },
		{ "bmsgw_modbus_exceptions_total", "counter", "Modbus requests answered with an exception.",
		  (double)si.exceptions },
	};
	gw_prom_singles(o, mm, sizeof(mm) / sizeof(mm[0]));
	if (m->rtu)
		gw_rtu_metrics(m->rtu, o);
}

const struct gw_service gw_svc_modbus = {
	.name = "modbus",
	.fds = mb_fds,
	.prepare = mb_prepare,
	.commit = mb_commit,
	.discard = mb_discard,
	.stop = mb_stop,
	.held = mb_held,
	.status_json = mb_status_json,
	.metrics = mb_metrics,
};
