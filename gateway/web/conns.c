/* SPDX-License-Identifier: MIT */
/* gateway/web/conns.c - the HTTP server's connections and the one that
 * gives way when it is full (see conns.h). */
#include <netinet/in.h>
#include <string.h>

#include "../core/acceptor.h"
#include "conns.h"

/* The others of c's address, not going, gain (d = 1) or lose (-1) c;
 * c's count is theirs and itself. */
static void recount(struct gw_conns *t, struct gw_conn *c, int d)
{
	c->same = 1;
	for (struct gw_conn *o = t->head; o; o = o->next)
		if (o != c && !o->going && gw_same_host(&o->addr, &c->addr)) {
			o->same += d;
			c->same++;
		}
}

void gw_conns_add(struct gw_conns *t, struct gw_conn *c, const struct sockaddr *sa, double now)
{
	memset(&c->addr, 0, sizeof(c->addr));
	if (sa && sa->sa_family == AF_INET)
		memcpy(&c->addr, sa, sizeof(struct sockaddr_in));
	else if (sa && sa->sa_family == AF_INET6)
		memcpy(&c->addr, sa, sizeof(struct sockaddr_in6));
	c->busy = c->going = false;
	c->idle_since = now;
	c->prev = NULL;
	c->next = t->head;
	if (t->head)
		t->head->prev = c;
	t->head = c;
	t->n++;
	recount(t, c, 1);
}

void gw_conns_remove(struct gw_conns *t, struct gw_conn *c)
{
	if (!c->going)
		recount(t, c, -1);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	t->n--;
	if (c->going)
		t->going--;
}

void gw_conns_busy(struct gw_conn *c, bool busy, double now)
{
	c->busy = busy;
	if (!busy)
		c->idle_since = now;
}

int gw_conns_open(const struct gw_conns *t)
{
	return t->n - t->going;
}

/* The connection idle GW_CONN_GRACE s or more, other than `not`, of the
 * address holding the most connections, the one idle longest among them;
 * *most: its address's connections; *again: when the first of the others
 * idle has its grace over (0: none). */
static struct gw_conn *idlest(const struct gw_conns *t, const struct gw_conn *not, double now, int *most,
			      double *again)
{
	struct gw_conn *v = NULL;
	*most = 0;
	*again = 0;
	for (struct gw_conn *o = t->head; o; o = o->next) {
		if (o == not || o->busy || o->going)
			continue;
		if (now - o->idle_since < GW_CONN_GRACE) {
			double at = o->idle_since + GW_CONN_GRACE;
			*again = *again == 0 || at < *again ? at : *again;
			continue;
		}
		if (!v || o->same > *most || (o->same == *most && o->idle_since < v->idle_since)) {
			v = o;
			*most = o->same;
		}
	}
	return v;
}

struct gw_conn *gw_conns_over(struct gw_conns *t, struct gw_conn *newcomer, double now, double *again)
{
	int most;
	struct gw_conn *v = idlest(t, newcomer, now, &most, again);
	if (newcomer && !newcomer->busy && *again == 0 && !v)
		*again = now + GW_CONN_GRACE; /* the newcomer itself, if it stays idle */
	if (newcomer && v && newcomer->same > 1 && newcomer->same >= most)
		v = newcomer; /* its address has its share already: the newcomer goes */
	if (v) {
		recount(t, v, -1);
		v->going = true;
		t->going++;
	}
	return v;
}
