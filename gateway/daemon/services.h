/* SPDX-License-Identifier: MIT */
/* gateway/daemon/services.h - the walks over the service table (services.c). */
#ifndef GATEWAY_DAEMON_SERVICES_H
#define GATEWAY_DAEMON_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/gw.h"

/* Descriptors the outputs of configuration c hold (the Modbus clients apart). */
long gw_services_fds(const struct conf *c);
/* Prepare every output for nc (at start: may_block, nothing running yet);
 * next[GW_MAX_OUTPUTS] gets their states.  0, or -1 with err: what was
 * prepared is discarded and nothing changed. */
int gw_services_prepare(struct gw *gw, const struct conf *nc, bool may_block, void *next[], char *err,
			size_t errlen);
/* Commit what gw_services_prepare() built (gw->conf is the new
 * configuration; oc the previous one, NULL at start). */
void gw_services_commit(struct gw *gw, void *next[], const struct conf *oc);
/* Stop every output, in reverse order (clean: the daemon stops and the
 * loop has ended), then let each release what outlived its state (the
 * at_exit hooks). */
void gw_services_stop(struct gw *gw, bool clean);

#endif
