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

/* sa as a struct sockaddr_storage (zero: none, or neither IPv4 nor IPv6) */
static void store(struct sockaddr_storage *ss, const struct sockaddr *sa)
{
	memset(ss, 0, sizeof(*ss));
	if (sa && sa->sa_family == AF_INET)
		memcpy(ss, sa, sizeof(struct sockaddr_in));
	else if (sa && sa->sa_family == AF_INET6)
		memcpy(ss, sa, sizeof(struct sockaddr_in6));
}

void gw_conns_add(struct gw_conns *t, struct gw_conn *c, const struct sockaddr *sa, double now)
{
	store(&c->addr, sa);
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

int gw_conns_of(const struct gw_conns *t, const struct sockaddr *sa)
{
	struct sockaddr_storage ss;
	store(&ss, sa);
	int n = 0;
	for (const struct gw_conn *o = t->head; o; o = o->next)
		n += !o->going && gw_same_host(&o->addr, &ss);
	return n;
}

/* The connection idle GW_CONN_GRACE s or more, other than `not` (and of
 * its address when `own`), of the address holding the most connections,
 * the one idle longest among them; *most: its address's connections;
 * *again: when the first of the others idle has its grace over (0: none). */
static struct gw_conn *idlest(const struct gw_conns *t, const struct gw_conn *not, bool own, double now, int *most,
			      double *again)
{
	struct gw_conn *v = NULL;
	*most = 0;
	*again = 0;
	for (struct gw_conn *o = t->head; o; o = o->next) {
		if (o == not || o->busy || o->going || (own && !gw_same_host(&o->addr, &not->addr)))
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

/* The most connections one address holds (not going). */
static int most_held(const struct gw_conns *t)
{
	int most = 0;
	for (const struct gw_conn *o = t->head; o; o = o->next)
		most = !o->going && o->same > most ? o->same : most;
	return most;
}

struct gw_conn *gw_conns_over(struct gw_conns *t, struct gw_conn *newcomer, double now, double *again)
{
	int most;
	struct gw_conn *v = idlest(t, newcomer, false, now, &most, again);
	if (newcomer && !newcomer->busy && *again == 0 && !v)
		*again = now + GW_CONN_GRACE; /* the newcomer itself, if it stays idle */
	if (newcomer && v && newcomer->same > 1 && newcomer->same >= most) {
		/* its address has its share already: an idle one of its own gives
		 * way to it (a proxy's users all come from its address), else the
		 * newcomer goes */
		int own_most;
		double own_again;
		struct gw_conn *own = idlest(t, newcomer, true, now, &own_most, &own_again);
		v = own ? own : newcomer;
	}
	if (!v && newcomer && newcomer->same > 1 && 2 * newcomer->same > most_held(t) && !newcomer->proxy) {
		/* none may go yet: the one place beyond the limit is not for an
		 * address that holds over half as many as the one holding the most */
		v = newcomer;
		*again = 0;
	}
	if (v) {
		recount(t, v, -1);
		v->going = true;
		t->going++;
	}
	return v;
}
