/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conns.c - the HTTP server's connections and the one that
 * gives way when all are taken (gateway/web/conns.c) on a fake clock:
 * five addresses holding eight idle connections each and a sixth
 * address's first connection: an idle one of the address holding the
 * most goes, the one idle longest of them; a newcomer whose address holds
 * as many as any takes the place of an idle one of its own, else goes
 * itself (a proxy holding every connection keeps its new ones); a request in progress and a connection in
 * its first GW_CONN_GRACE s are never chosen (then: when to ask again);
 * when none may go, a newcomer whose address holds over half as many as
 * the address holding the most goes at once (but the ingress proxy's), the
 * others stay beyond the limit;
 * connections going or gone are counted no more; IPv6 addresses whole. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../../gateway/web/conns.h"
#include "check.h"

#define MAXC 64

static struct gw_conn pool[MAXC];
static int used;

static struct gw_conn *open4(struct gw_conns *t, const char *ip, double now)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)(40000 + used));
	inet_pton(AF_INET, ip, &sa.sin_addr);
	struct gw_conn *c = &pool[used++];
	memset(c, 0, sizeof(*c));
	gw_conns_add(t, c, (const struct sockaddr *)&sa, now);
	return c;
}

static struct gw_conn *open6(struct gw_conns *t, const char *ip, double now)
{
	struct sockaddr_in6 sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &sa.sin6_addr);
	struct gw_conn *c = &pool[used++];
	memset(c, 0, sizeof(*c));
	gw_conns_add(t, c, (const struct sockaddr *)&sa, now);
	return c;
}

static void reset(struct gw_conns *t)
{
	memset(t, 0, sizeof(*t));
	used = 0;
}

/* 5 x 8 idle holders (32 taken: the first four addresses' 8 and none of
 * the fifth's, all idle for 10 s or more), then a sixth address. */
static void holders(void)
{
	struct gw_conns t;
	reset(&t);
	struct gw_conn *oldest_of_3 = NULL;
	for (int a = 2; a <= 5; a++)
		for (int k = 0; k < 8; k++) {
			char ip[24];
			snprintf(ip, sizeof(ip), "127.0.0.%d", a);
			/* 127.0.0.3's fourth is the one idle longest of all */
			struct gw_conn *c = open4(&t, ip, a == 3 && k == 3 ? 900 : 990 - k);
			if (a == 3 && k == 3)
				oldest_of_3 = c;
		}
	CHECK_EQ_INT(gw_conns_open(&t), 32);
	CHECK_EQ_INT(pool[0].same, 8);
	/* 127.0.0.3 gets a ninth (as if libmicrohttpd let it): it holds the most */
	struct gw_conn *extra = open4(&t, "127.0.0.3", 995);
	CHECK_EQ_INT(extra->same, 9);
	CHECK_EQ_INT(oldest_of_3->same, 9);
	struct gw_conn *me = open4(&t, "127.0.0.9", 1000);
	double again = -1;
	struct gw_conn *v = gw_conns_over(&t, me, 1000, &again);
	CHECK(v == oldest_of_3); /* of the address holding the most, idle longest */
	CHECK(v && v->going);
	CHECK_EQ_INT(gw_conns_open(&t), 33);
	CHECK_EQ_INT(extra->same, 8); /* its address lost one */
	CHECK_EQ_INT(me->same, 1);
	/* the one going is gone: counted no more */
	gw_conns_remove(&t, v);
	CHECK_EQ_INT(t.n, 33);
	CHECK_EQ_INT(t.going, 0);
	CHECK_EQ_INT(gw_conns_open(&t), 33);
}

/* A newcomer of an address holding as many as the address holding the
 * most takes the place of an idle one of its own (the one idle longest),
 * else goes itself; one holding fewer takes an idle one's place. */
static void fair_share(void)
{
	struct gw_conns t;
	reset(&t);
	struct gw_conn *c1[3], *first2 = NULL;
	for (int k = 0; k < 3; k++) {
		c1[k] = open4(&t, "10.0.0.1", 100 + k);
		first2 = open4(&t, "10.0.0.2", 100 - k); /* its third: idle longest (98) */
	}
	double again;
	struct gw_conn *n3 = open4(&t, "10.0.0.1", 200); /* its fourth: 4 >= 3 */
	struct gw_conn *v = gw_conns_over(&t, n3, 200, &again);
	CHECK(v == c1[0]); /* its own idle longest, not 10.0.0.2's (idle longer) */
	CHECK_EQ_INT(gw_conns_open(&t), 6);
	CHECK_EQ_INT(n3->same, 3);
	gw_conns_remove(&t, v);
	c1[0] = n3;
	/* 10.0.0.2's fourth while 10.0.0.1 holds 3: its own third goes */
	struct gw_conn *n2 = open4(&t, "10.0.0.2", 201);
	v = gw_conns_over(&t, n2, 201, &again);
	CHECK(v == first2);
	gw_conns_remove(&t, v);
	/* 10.0.0.1's own all busy: its newcomer goes, not another address's */
	for (int k = 0; k < 3; k++)
		gw_conns_busy(c1[k], true, 202);
	struct gw_conn *n5 = open4(&t, "10.0.0.1", 203);
	v = gw_conns_over(&t, n5, 203, &again);
	CHECK(v == n5);
	gw_conns_remove(&t, n5);
	/* a second of 10.0.0.3 while 10.0.0.2 holds 3: 2 < 3, one of 10.0.0.2 goes */
	open4(&t, "10.0.0.3", 150);
	struct gw_conn *n4 = open4(&t, "10.0.0.3", 204);
	v = gw_conns_over(&t, n4, 204, &again);
	CHECK(v != NULL && v != n4 && v->idle_since == 99); /* 10.0.0.2's idle longest (10.0.0.1's are busy) */
}

/* One address holding every connection (a proxy: Home Assistant's ingress
 * brings all its users from one address): its newcomer takes the place of
 * its connection idle longest, never itself refused while one is idle. */
static void one_proxy(void)
{
	struct gw_conns t;
	reset(&t);
	struct gw_conn *oldest = NULL;
	for (int k = 0; k < 32; k++) {
		struct gw_conn *c = open4(&t, "172.30.32.2", 100 + k);
		oldest = oldest ? oldest : c;
		if (k % 2)
			gw_conns_busy(c, true, 100 + k); /* half of them live pages */
	}
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, "172.30.32.2", &sa.sin_addr);
	CHECK_EQ_INT(gw_conns_of(&t, (const struct sockaddr *)&sa), 32);
	inet_pton(AF_INET, "172.30.32.3", &sa.sin_addr);
	CHECK_EQ_INT(gw_conns_of(&t, (const struct sockaddr *)&sa), 0);
	CHECK_EQ_INT(gw_conns_of(&t, NULL), 0);
	double again;
	struct gw_conn *n = open4(&t, "172.30.32.2", 300);
	struct gw_conn *v = gw_conns_over(&t, n, 300, &again);
	CHECK(v == oldest);
	CHECK_EQ_INT(gw_conns_open(&t), 32);
	CHECK_EQ_INT(n->same, 32);
}

/* Requests in progress and connections in their grace are never chosen;
 * when none may go, when to ask again. */
static void busy_and_grace(void)
{
	struct gw_conns t;
	reset(&t);
	struct gw_conn *a = open4(&t, "10.0.0.1", 100);
	struct gw_conn *b = open4(&t, "10.0.0.1", 100);
	gw_conns_busy(a, true, 101);
	gw_conns_busy(b, true, 101);
	struct gw_conn *n = open4(&t, "10.0.0.2", 102);
	double again = -1;
	CHECK(gw_conns_over(&t, n, 102, &again) == NULL); /* all busy: it stays */
	CHECK_NEAR(again, 102 + GW_CONN_GRACE, 1e-9);  /* the newcomer itself, if it asks nothing */
	gw_conns_busy(n, true, 102.1);
	CHECK(gw_conns_over(&t, NULL, 102.5, &again) == NULL);
	CHECK_NEAR(again, 0, 1e-9); /* not before a request ends */
	/* b's request ends at 103: in its grace until 104 */
	gw_conns_busy(b, false, 103);
	CHECK(gw_conns_over(&t, NULL, 103.5, &again) == NULL);
	CHECK_NEAR(again, 103 + GW_CONN_GRACE, 1e-9);
	CHECK(gw_conns_over(&t, NULL, 104, &again) == b);
	CHECK_EQ_INT(gw_conns_open(&t), 2);
	/* a connection gone while chosen is counted once */
	gw_conns_remove(&t, b);
	CHECK_EQ_INT(t.n, 2);
	CHECK_EQ_INT(t.going, 0);
	CHECK_EQ_INT(a->same, 1);
}

/* Four addresses whose idle connections all opened again less than
 * GW_CONN_GRACE s ago (each closed one reopens at once): none may go, so a
 * newcomer of theirs (its address holding over half as many as the most)
 * goes at once and keeps no place beyond the limit from a sixth address's
 * first connection, which stays, as does the second of an address holding
 * fewer; the ingress proxy's newcomer stays too (its users share its
 * address). */
static void young_holders(void)
{
	struct gw_conns t;
	reset(&t);
	for (int a = 2; a <= 5; a++)
		for (int k = 0; k < 8; k++) {
			char ip[24];
			snprintf(ip, sizeof(ip), "127.0.0.%d", a);
			open4(&t, ip, 500.5 + 0.05 * k);
		}
	double again = -1;
	struct gw_conn *n = open4(&t, "127.0.0.4", 500.9); /* its ninth, as libmicrohttpd lets one more in */
	struct gw_conn *v = gw_conns_over(&t, n, 501, &again);
	CHECK(v == n);
	CHECK(n->going);
	CHECK_NEAR(again, 0, 1e-9);
	gw_conns_remove(&t, n);
	/* a holder that lost one (7): its newcomer makes 8, as many as the others */
	gw_conns_remove(&t, &pool[31]); /* 127.0.0.5's last */
	n = open4(&t, "127.0.0.5", 501);
	CHECK_EQ_INT(n->same, 8);
	CHECK(gw_conns_over(&t, n, 501, &again) == n);
	gw_conns_remove(&t, n);
	/* 127.0.0.2 down to 4 of its 8: its fifth goes (5 > 8 / 2) */
	for (int k = 0; k < 4; k++)
		gw_conns_remove(&t, &pool[k]);
	n = open4(&t, "127.0.0.2", 501);
	CHECK_EQ_INT(n->same, 5);
	CHECK(gw_conns_over(&t, n, 501, &again) == n);
	gw_conns_remove(&t, n);
	/* down to 3: its fourth, half the most, stays */
	gw_conns_remove(&t, &pool[4]);
	n = open4(&t, "127.0.0.2", 501);
	CHECK_EQ_INT(n->same, 4);
	CHECK(gw_conns_over(&t, n, 501, &again) == NULL);
	CHECK(!n->going);
	gw_conns_remove(&t, n);
	/* a user holding fewer than the most (its first busy): its second stays */
	struct gw_conn *first6 = open4(&t, "127.0.0.6", 501);
	gw_conns_busy(first6, true, 501);
	n = open4(&t, "127.0.0.6", 501);
	CHECK(gw_conns_over(&t, n, 501, &again) == NULL);
	CHECK(!n->going);
	gw_conns_remove(&t, n);
	gw_conns_remove(&t, first6);
	struct gw_conn *me = open4(&t, "127.0.0.9", 501);
	CHECK(gw_conns_over(&t, me, 501, &again) == NULL); /* its address's first: it stays */
	CHECK_NEAR(again, 500.5 + GW_CONN_GRACE, 1e-9); /* when the first of the others may go */
	CHECK(!me->going);
	gw_conns_remove(&t, me);
	/* the ingress proxy holding 8, all live pages: its ninth stays */
	for (int k = 0; k < 8; k++) {
		struct gw_conn *p = open4(&t, "172.30.32.2", 501);
		p->proxy = true;
		gw_conns_busy(p, true, 501);
	}
	n = open4(&t, "172.30.32.2", 501.2);
	n->proxy = true;
	CHECK_EQ_INT(n->same, 9);
	CHECK(gw_conns_over(&t, n, 501.2, &again) == NULL);
	CHECK(!n->going);
}

/* IPv6: the whole address, not a prefix; v4 and v6 never the same. */
static void ipv6(void)
{
	struct gw_conns t;
	reset(&t);
	struct gw_conn *x = open6(&t, "2001:db8::1", 100);
	struct gw_conn *y = open6(&t, "2001:db8::1", 100);
	struct gw_conn *z = open6(&t, "2001:db8::2", 100);
	struct gw_conn *w = open4(&t, "10.0.0.1", 100);
	CHECK_EQ_INT(x->same, 2);
	CHECK_EQ_INT(y->same, 2);
	CHECK_EQ_INT(z->same, 1);
	CHECK_EQ_INT(w->same, 1);
	double again;
	struct gw_conn *n = open6(&t, "2001:db8::3", 200);
	struct gw_conn *v = gw_conns_over(&t, n, 200, &again);
	CHECK(v == x || v == y);
	gw_conns_remove(&t, n);
	CHECK_EQ_INT(t.n, 4);
	CHECK_EQ_INT(z->same, 1);
}

int main(void)
{
	holders();
	fair_share();
	one_proxy();
	busy_and_grace();
	young_holders();
	ipv6();
	return check_report();
}
