/* SPDX-License-Identifier: MIT */
/* gateway/wire/lineport.c - the serial line of an output that is a slave
 * on a bus of its own (an inverter's RS485, the Modbus RTU server, a CAN
 * adapter's serial line): a local serial device with its line settings,
 * or a TCP serial server.
 *
 * A file of its own, not transports.c: can.c makes these links, and the
 * registry names the CAN transport, which calls can.c.
 */
#include <stdlib.h>

#include "wire_int.h"

struct gw_link *gw_link_new_port(struct gw_link_env *env, const char *port, const char *tcp_host, int tcp_port,
				 const struct gw_line *line)
{
	bool tcp = tcp_host && tcp_host[0];
	struct gw_link *l = gw_link_alloc(env, tcp ? &gw_transport_tcp : &gw_transport_serial, NULL);
	if (!l)
		return NULL;
	gw_link_copy_port(l, port);
	if ((tcp ? gw_tcp_setup(l, tcp_host, tcp_port) : gw_serial_setup(l, line)) < 0) {
		free(l);
		return NULL;
	}
	return l;
}
