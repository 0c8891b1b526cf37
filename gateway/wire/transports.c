/* SPDX-License-Identifier: MIT */
/* gateway/wire/transports.c - the transport registry: which transport the
 * port of a pack names, and the link made for it.
 *
 * The one file that names every transport (serial.c, tcp.c, canlink.c,
 * mqttlink.c,
 * ble/), as redis registers its connection types by name (its
 * connection layer):
 * link.c calls a transport only through the link's table (l->tr), and the
 * transports call link.c, so the calls run one way.  The ports of the
 * outputs (always serial or TCP) are lineport.c's.
 */
#include <stdlib.h>

#include "wire_int.h"

/* The transport of a pack's port (conf/ read the port string: ble://,
 * can://, host:port, else a serial device). */
static const struct gw_transport *transport_of(const struct conf_pack *cfg)
{
	if (cfg->is_ble && cfg->via_proxy)
		return &gw_transport_esphome;
#ifdef HAVE_SYSTEMD
	if (cfg->is_ble)
		return &gw_transport_ble;
#endif
	if (cfg->is_can)
		return &gw_transport_can;
	if (cfg->is_mqtt)
		return &gw_transport_mqtt;
	return cfg->is_tcp ? &gw_transport_tcp : &gw_transport_serial;
}

struct gw_link *gw_link_new(struct gw_link_env *env, const struct conf_pack *cfg)
{
	struct gw_link *l = gw_link_alloc(env, transport_of(cfg), cfg->port);
	if (!l)
		return NULL;
	l->cfg = cfg;
	if (l->tr->setup && l->tr->setup(l, cfg) < 0) {
		free(l);
		return NULL;
	}
	return l;
}
