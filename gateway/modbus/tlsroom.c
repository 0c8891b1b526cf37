/* SPDX-License-Identifier: MIT */
/* gateway/modbus/tlsroom.c - Modbus/TCP Security's unfinished connections
 * (accepted on 802, their handshake not finished) and which of them gives
 * way to a new connection (mbtls.c decides when, and closes it).
 *
 * Fairness by address first: the connection that gives way belongs to the
 * address that holds the most unfinished connections, the new one counted
 * in its own.  A flood from 32 addresses holding 8 silent connections each
 * (opened again as soon as they close) then only ever replaces its own,
 * and a client from an address holding fewer is never the one that goes,
 * however late its ClientHello comes: a client descheduled between its
 * connect and its ClientHello on a loaded machine, or one far away.
 * Among an address's (or, when every address holds as many, among all),
 * the order that issue 51 set: a handshake whose ClientHello never came
 * whole (nothing answered yet: one that has sent nothing, or part of a
 * ClientHello) before one that was answered, and the one that moved least
 * recently first; a connection that has sent nothing has not moved since
 * it connected.  Not "whatever sent nothing first": a flood that sends half
 * a ClientHello would then keep its stalled handshakes and push each new
 * client out while it is still silent (its first milliseconds).
 *
 * The list keeps an address's connections together (a new one goes after
 * the last of its address), so that one pass counts each address's and
 * finds who goes: no table, O(n) for n unfinished connections.
 */
#include "../core/acceptor.h"
#include "server_int.h"

void gw_room_add(struct gw_server *srv, struct gw_client *c)
{
	struct gw_client *at = NULL;
	for (struct gw_client *o = srv->unfinished; o; o = o->hs_next) {
		if (gw_same_host(&o->addr, &c->addr))
			at = o;
		else if (at)
			break; /* past its address's */
	}
	c->hs_prev = at;
	c->hs_next = at ? at->hs_next : srv->unfinished;
	if (c->hs_next)
		c->hs_next->hs_prev = c;
	if (at)
		at->hs_next = c;
	else
		srv->unfinished = c;
}

void gw_room_del(struct gw_server *srv, struct gw_client *c)
{
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else if (srv->unfinished == c)
		srv->unfinished = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	c->hs_next = c->hs_prev = NULL;
}

/* c gives way before o (NULL: none yet). */
static bool sooner_gone(const struct gw_client *c, const struct gw_client *o)
{
	if (!o)
		return true;
	if (c->hs_answered != o->hs_answered)
		return !c->hs_answered;
	return c->hs_step <= o->hs_step;
}

struct gw_client *gw_room_victim(const struct gw_server *srv, const struct sockaddr_storage *ss, int per_host,
				 bool full)
{
	struct gw_client *best = NULL, *own = NULL;
	int most = 0, here = 0;
	for (struct gw_client *g = srv->unfinished, *o; g; g = o) {
		/* one address's: how many, and which of them goes first */
		struct gw_client *first = g;
		int n = 1;
		for (o = g->hs_next; o && gw_same_host(&o->addr, &g->addr); o = o->hs_next, n++)
			if (sooner_gone(o, first))
				first = o;
		if (gw_same_host(&g->addr, ss)) {
			here = n;
			own = first;
			n++; /* the new connection */
		}
		if (n > most || (n == most && sooner_gone(first, best))) {
			most = n;
			best = first;
		}
	}
	if (here >= per_host)
		return own;
	return full ? best : NULL;
}
