/* SPDX-License-Identifier: MIT */
/* gateway/tunnel/tunnel_conf.h - [tunnel.NAME], the output's own section of
 * the configuration (conf/section.h): its struct, the section conf/ is
 * handed (the service table's line names it) and the copies the output
 * reads. */
#ifndef GATEWAY_TUNNEL_TUNNEL_CONF_H
#define GATEWAY_TUNNEL_TUNNEL_CONF_H

#include "../../conf/section.h"

/* [tunnel.NAME]: lend one wire to a vendor PC tool through a raw TCP port. */
#define CONF_MAX_TUNNELS 8
struct conf_tunnel {
	char name[CONF_NAME_MAX];
	int line;
	char port[CONF_PORT_MAX];        /* the port string of a configured wire */
	char listen_host[CONF_HOST_MAX];
	int listen_port;
	struct conf_nets clients;        /* required allowlist */
	double idle_timeout;             /* s without bytes before the wire is given back (300) */
};

extern const struct conf_section gw_tunnel_section;

/* How many [tunnel.NAME] c holds, and the i-th. */
static inline int gw_ntunnels(const struct conf *c)
{
	return conf_count(c, &gw_tunnel_section);
}

static inline const struct conf_tunnel *gw_tunnel_cfg(const struct conf *c, int i)
{
	return conf_obj(c, &gw_tunnel_section, i);
}

#endif
