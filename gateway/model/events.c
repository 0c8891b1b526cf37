/* SPDX-License-Identifier: MIT */
/* gateway/model/events.c - events of the model told to the outputs (see
 * events.h). */
#include "events.h"

#include <string.h>

#include "bankstate.h"
#include "gw.h"
#include "health_gw.h"
#include "service.h"

void gw_emit_polled(struct gw *gw, struct gw_pack *p, bool ok)
{
	if (ok) {
		gw_energy_polled(gw, p);
		gw_health_polled(gw, p);
	}
	gw_charge_polled(gw, p); /* before anyone publishes them */
	for (int i = 0; i < gw->nout; i++) {
		const struct gw_output *o = &gw->out[i];
		if (o->state && o->svc->polled)
			o->svc->polled(o->state, p, ok);
	}
	if (gw->on_poll)
		gw->on_poll(gw, p, ok);
}

void gw_emit_tick(struct gw *gw, double now)
{
	gw_bank_tick(gw, now);
	gw_soc_tick(gw, now);
	gw_charge_tick(gw, now);
	for (int i = 0; i < gw->nout; i++) {
		const struct gw_output *o = &gw->out[i];
		if (o->state && o->svc->tick)
			o->svc->tick(o->state, now);
	}
}

void *gw_output_state(const struct gw *gw, const char *name)
{
	for (int i = 0; i < gw->nout; i++)
		if (strcmp(gw->out[i].svc->name, name) == 0)
			return gw->out[i].state;
	return NULL;
}
