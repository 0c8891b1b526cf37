/* SPDX-License-Identifier: MIT */
/* gateway/detect/portlink.h - the link of the port a tool reads (--detect,
 * --capture): a serial device, or a TCP serial server whose name a
 * resolver of the tool's own loop looks up. */
#ifndef GATEWAY_DETECT_PORTLINK_H
#define GATEWAY_DETECT_PORTLINK_H

#include <stddef.h>

#include "../../conf/conf.h"
#include "../wire/wire.h"

struct gw_resolver;

/* The closed link of port `name` (port: it parsed as the `port` key) at
 * baud 8N1, its owner set; a TCP port's resolver made into env when env
 * has none (*made: that one, NULL else; the caller frees it, also on a
 * failure).  NULL with why. */
struct gw_link *gw_det_port_link(struct gw_link_env *env, const char *name, const struct conf_pack *port, int baud,
				 const struct gw_link_owner *owner, void *arg, struct gw_resolver **made, char *why,
				 size_t cap);

#endif
