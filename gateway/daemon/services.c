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
#include <string.h>

#include "../history/history.h"
#include "../inverter/inverter.h"
#include "../modbus/modbus.h"
#include "../mqtt/mqtt.h"
#include "../tunnel/tunnel.h"
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
};
#define NSERVICES (int)(sizeof(services) / sizeof(services[0]))
_Static_assert(sizeof(services) / sizeof(services[0]) <= GW_MAX_OUTPUTS, "GW_MAX_OUTPUTS");

long gw_services_fds(const struct conf *c)
{
	long n = 0;
	for (int i = 0; i < NSERVICES; i++)
		if (services[i]->fds)
			n += services[i]->fds(c);
	return n;
}

static void discard_from(struct gw *gw, void *next[], int upto)
{
	for (int i = upto - 1; i >= 0; i--)
		if (services[i]->discard)
			services[i]->discard(gw, gw->out[i].state, next[i]);
}

int gw_services_prepare(struct gw *gw, const struct conf *nc, bool may_block, void *next[], char *err,
			size_t errlen)
{
	if (!gw->nout) {
		for (int i = 0; i < NSERVICES; i++)
			gw->out[i] = (struct gw_output){ services[i], NULL };
		gw->nout = NSERVICES;
	}
	for (int i = 0; i < NSERVICES; i++) {
		next[i] = NULL;
		if (services[i]->prepare(gw, nc, gw->out[i].state, may_block, &next[i], err, errlen) < 0) {
			discard_from(gw, next, i);
			return -1;
		}
	}
	return 0;
}

void gw_services_commit(struct gw *gw, void *next[], const struct conf *oc)
{
	for (int i = 0; i < NSERVICES; i++)
		gw->out[i].state = services[i]->commit(gw, gw->out[i].state, next[i], oc);
}

void gw_services_stop(struct gw *gw, bool clean)
{
	for (int i = gw->nout - 1; i >= 0; i--) {
		if (gw->out[i].state)
			gw->out[i].svc->stop(gw->out[i].state, clean);
		gw->out[i].state = NULL;
	}
}
