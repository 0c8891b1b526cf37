/* SPDX-License-Identifier: MIT */
/* gateway/tunnel/tunnel.h - maintenance tunnels: a wire lent to a vendor PC tool.
 *
 * [tunnel.NAME] listens on a TCP port of its own.  One allowlisted tool at
 * a time gets the raw bytes of the wire both ways (a "virtual serial port":
 * Daly BMS Monitor, JK BMS Monitor, JBD's tool behind a TCP-to-COM
 * redirector); while it is connected the wire is not polled, its packs go
 * stale as usual and their commands are refused (0x0B).  When the tool
 * disconnects or stays silent for idle_timeout seconds, the wire is given
 * back and its packs are polled at once.
 */
#ifndef GATEWAY_TUNNEL_TUNNEL_H
#define GATEWAY_TUNNEL_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/service.h"

struct gw;
struct conf;
struct gw_tunnel;

/* The tunnels' row of the service table. */
extern const struct gw_service gw_svc_tunnel;

/* The tunnels of configuration nc, ready to be installed: unchanged ones of
 * the running list cur are carried over (with their tool), the others get their listening
 * socket now (taken over from an old tunnel on the same address, or
 * opened; may_block: a name may be resolved by the system, at start only).
 * Changes nothing in gw.  0 with *out set, or -1 with err filled in. */
int gw_tunnels_prepare(struct gw *gw, struct gw_tunnel *cur, const struct conf *nc, bool may_block,
		       struct gw_tunnel **out, char *err, size_t errlen);
/* Undo a prepare that will not be installed. */
void gw_tunnels_discard(struct gw_tunnel *prepared);
/* Install prepared tunnels in place of the running ones (cur; gw->conf is
 * nc and its links are in place): tunnels not carried over end (their tool
 * is disconnected, their wire given back) and the new ones start
 * listening.  Returns the running list. */
struct gw_tunnel *gw_tunnels_install(struct gw *gw, struct gw_tunnel *cur, struct gw_tunnel *prepared);
/* Close every tunnel of the list (stop). */
void gw_tunnels_free(struct gw_tunnel *list);
/* Tunnels with a tool connected now. */
int gw_tunnels_active(const struct gw_tunnel *list);

#endif
