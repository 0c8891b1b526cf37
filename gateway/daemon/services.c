/* SPDX-License-Identifier: MIT */
/* gateway/daemon/services.c - the service table: every output of the
 * daemon, one line each, in the order they start (they stop in reverse),
 * and the walks over it (model/service.h says what each hook does).
 *
 * The order is also the order in which the outputs hear of a finished
 * poll (model/events.h): MQTT publishes the state before the HTTP server's
 * live pages are told, and both before the poller ends a MOSFET command
 * the poll confirmed.  The history starts before the HTTP server, whose
 * charts read it, and stops after it.
 */
#include <stdio.h>
#include <string.h>

#include "../alerts/alerts.h"
#include "../history/history.h"
#include "../influx/influx.h"
#include "../inverter/inverter.h"
#include "../modbus/modbus.h"
#include "../mqtt/mqtt.h"
#include "../tunnel/tunnel.h"
#include "../venus/venus.h"
#include "../web/http.h"
#include "daemon.h"
#include "services.h"

static const struct gw_service *const services[] = {
	&gw_svc_modbus,   /* Modbus TCP server, upstream pushers */
	&gw_svc_tunnel,   /* maintenance tunnels */
	&gw_svc_mqtt,     /* MQTT and Home Assistant discovery */
	&gw_svc_history,  /* SQLite history */
	&gw_svc_inverter, /* virtual battery towards inverters (CAN, RS485) */
	&gw_svc_http,     /* status page, API, metrics */
	&gw_svc_alerts,   /* alerts to people: HTTP(S) POSTs and e-mail */
	&gw_svc_influx,   /* InfluxDB line protocol push */
	&gw_svc_venus,    /* each pack and the bank as a Victron battery service on D-Bus */
};
#define NSERVICES (int)(sizeof(services) / sizeof(services[0]))
_Static_assert(sizeof(services) / sizeof(services[0]) <= GW_MAX_OUTPUTS, "GW_MAX_OUTPUTS");

int gw_conf_sections(char *why, size_t wl)
{
	const struct conf_section *all[CONF_MAX_SECTIONS];
	size_t n = 0;
	for (int i = 0; i < NSERVICES; i++)
		for (const struct conf_section *const *s = services[i]->sections; s && *s; s++) {
			if (n >= CONF_MAX_SECTIONS) {
				snprintf(why, wl, "more than %d sections", CONF_MAX_SECTIONS);
				return -1;
			}
			all[n++] = *s;
		}
	return conf_use_sections(all, n, why, wl);
}

long gw_services_fds(const struct conf *c)
{
	long n = 0;
	for (int i = 0; i < NSERVICES; i++)
		if (services[i]->fds)
			n += services[i]->fds(c);
	return n;
}

static void discard_from(struct gw_svc_ctx *x, void *next[], int upto)
{
	for (int i = upto - 1; i >= 0; i--) {
		x->cur = x->gw->out[i].state;
		x->next = next[i];
		if (services[i]->discard)
			services[i]->discard(x);
	}
}

int gw_services_prepare(struct gw *gw, const struct conf *nc, bool may_block, void *next[], char *err,
			size_t errlen)
{
	struct gw_svc_ctx x = { .gw = gw, .nc = nc, .may_block = may_block, .err = err, .errlen = errlen };
	if (!gw->nout) {
		for (int i = 0; i < NSERVICES; i++)
			gw->out[i] = (struct gw_output){ services[i], NULL };
		gw->nout = NSERVICES;
	}
	for (int i = 0; i < NSERVICES; i++) {
		x.cur = gw->out[i].state;
		x.next = NULL;
		int rc = services[i]->prepare(&x);
		next[i] = x.next;
		if (rc < 0) {
			discard_from(&x, next, i);
			return -1;
		}
	}
	return 0;
}

void gw_services_commit(struct gw *gw, void *next[], const struct conf *oc)
{
	struct gw_svc_ctx x = { .gw = gw, .nc = gw->conf, .oc = oc };
	for (int i = 0; i < NSERVICES; i++) {
		x.cur = gw->out[i].state;
		x.next = next[i];
		gw->out[i].state = services[i]->commit(&x);
	}
}

void gw_services_stop(struct gw *gw, bool clean)
{
	struct gw_svc_ctx x = { .gw = gw, .nc = gw->conf, .clean = clean };
	for (int i = gw->nout - 1; i >= 0; i--) {
		x.cur = gw->out[i].state;
		if (x.cur)
			gw->out[i].svc->stop(&x);
		gw->out[i].state = NULL;
	}
	x.cur = NULL;
	for (int i = NSERVICES - 1; i >= 0; i--)
		if (services[i]->at_exit)
			services[i]->at_exit(&x);
}
