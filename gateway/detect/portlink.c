/* SPDX-License-Identifier: MIT */
/* gateway/detect/portlink.c - the link of a tool's port (portlink.h). */
#include "portlink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/resolve.h"

struct gw_link *gw_det_port_link(struct gw_link_env *env, const char *name, const struct conf_pack *port, int baud,
				 const struct gw_link_owner *owner, void *arg, struct gw_resolver **made, char *why,
				 size_t cap)
{
	*made = NULL;
	if (port->is_tcp && !env->resolver && !(env->resolver = *made = gw_resolver_new(env->loop))) {
		snprintf(why, cap, "cannot start the name resolver: %s", strerror(errno));
		return NULL;
	}
	struct gw_line line = { baud, 'N', 1 };
	struct gw_link *l = gw_link_new_port(env, name, port->is_tcp ? port->tcp_host : NULL, port->tcp_port, &line);
	if (!l) {
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	gw_link_set_owner(l, owner, arg);
	return l;
}
