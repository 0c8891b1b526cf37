/* SPDX-License-Identifier: MIT */
/* tests/unit/test_tlsroom.c - which unfinished Modbus/TCP Security
 * connection gives way to a new one (gateway/modbus/tlsroom.c), on a server
 * made of structs, no socket: the list keeps an address's connections
 * together whatever order they come and go in; the address that holds the
 * most (the new connection counted in its own) gives way, never one with
 * fewer: 32 flooding addresses and a good client whose ClientHello is late;
 * among as many, the one not answered before the answered, and the one
 * that moved least recently (one that has sent nothing has not moved since
 * it connected); an address at the per-address cap gives way among its
 * own; nothing when neither full nor at the cap. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/modbus/server_int.h"
#include "check.h"

static struct gw_server srv;
static struct gw_client pool[512];
static int used;

static void addr_of(const char *ip, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	in->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &in->sin_addr) != 1)
		CHECK(!"an address");
}

/* A connection from ip whose last move was at `step`, answered or not. */
static struct gw_client *conn(const char *ip, double step, bool answered)
{
	struct gw_client *c = &pool[used++];
	memset(c, 0, sizeof(*c));
	c->srv = &srv;
	addr_of(ip, &c->addr);
	c->hs_step = step;
	c->hs_answered = answered;
	gw_room_add(&srv, c);
	return c;
}

static void reset(void)
{
	memset(&srv, 0, sizeof(srv));
	used = 0;
}

static struct gw_client *victim(const char *ip, int per_host, bool full)
{
	struct sockaddr_storage ss;
	addr_of(ip, &ss);
	return gw_room_victim(&srv, &ss, per_host, full);
}

static bool same(const struct gw_client *a, const struct gw_client *b)
{
	return !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

/* The list: linked both ways, n in all, each address's connections next
 * to each other (once an address's run ends, it never comes back). */
static bool grouped(int n)
{
	int k = 0;
	for (struct gw_client *c = srv.unfinished; c; c = c->hs_next, k++) {
		if (c->hs_next && c->hs_next->hs_prev != c)
			return false;
		if (c->hs_next && !same(c->hs_next, c))
			for (struct gw_client *o = c->hs_next; o; o = o->hs_next)
				if (same(o, c))
					return false;
	}
	return k == n && (!srv.unfinished || !srv.unfinished->hs_prev);
}

static void test_list(void)
{
	reset();
	static const char *const ips[] = { "10.0.0.1", "10.0.0.2", "10.0.0.1", "10.0.0.3", "10.0.0.2", "10.0.0.1" };
	struct gw_client *c[6];
	for (int i = 0; i < 6; i++)
		c[i] = conn(ips[i], i, false);
	CHECK(grouped(6));
	/* an address's keep their order (the oldest first) */
	CHECK(c[0]->hs_next == c[2] && c[2]->hs_next == c[5]);
	gw_room_del(&srv, c[2]);
	gw_room_del(&srv, c[3]); /* an address's last */
	CHECK(grouped(4));
	CHECK(!c[2]->hs_next && !c[2]->hs_prev);
	gw_room_del(&srv, srv.unfinished); /* the head */
	CHECK(grouped(3));
	conn("10.0.0.3", 7, false);
	conn("10.0.0.2", 8, false);
	CHECK(grouped(5));
	while (srv.unfinished)
		gw_room_del(&srv, srv.unfinished);
	CHECK(grouped(0));
}

/* The flood of issue 89: 32 addresses holding 2 each of the 64 slots, a
 * good client's connection from its own address, silent for longer than
 * the flood takes to fill the slots anew. */
static void test_fair(void)
{
	reset();
	struct gw_client *good = conn("127.0.0.2", 0.0, false); /* the oldest, never moved */
	char ip[32];
	for (int i = 0; i < 64; i++) {
		snprintf(ip, sizeof(ip), "127.0.1.%d", 1 + i % 32);
		conn(ip, 1.0 + i, false);
	}
	CHECK(grouped(65));
	/* a new connection of a flooding address: one of its own goes (3 with it) */
	struct gw_client *v = victim("127.0.1.5", 16, true);
	CHECK(v == &pool[5]); /* its own that moved least recently */
	/* a new address: of those holding 2, the one that moved least recently */
	v = victim("127.0.0.9", 16, true);
	CHECK(v == &pool[1]);
	/* a thousand rounds of the flood, each connection replacing the one
	 * that gave way: never the good client */
	int round = 0;
	for (; round < 1000; round++) {
		snprintf(ip, sizeof(ip), "127.0.1.%d", 1 + (round * 7) % 32);
		v = victim(ip, 16, true);
		if (!v || v == good)
			break;
		gw_room_del(&srv, v);
		struct sockaddr_storage ss;
		addr_of(ip, &ss);
		memset(v, 0, sizeof(*v));
		v->srv = &srv;
		v->addr = ss;
		v->hs_step = 100.0 + round;
		gw_room_add(&srv, v);
	}
	CHECK_EQ_INT(round, 1000);
	CHECK(grouped(65));
}

/* Every address holding one (a flood from as many addresses as slots):
 * the one not answered before the answered, then the least recently moved. */
static void test_order(void)
{
	reset();
	struct gw_client *answered = conn("10.0.0.1", 1.0, true);
	struct gw_client *silent = conn("10.0.0.2", 3.0, false);
	struct gw_client *half = conn("10.0.0.3", 2.0, false); /* part of a ClientHello at 2.0 */
	CHECK(victim("10.0.0.9", 16, true) == half);
	half->hs_step = 4.0; /* it moved on */
	CHECK(victim("10.0.0.9", 16, true) == silent);
	gw_room_del(&srv, silent);
	gw_room_del(&srv, half);
	CHECK(victim("10.0.0.9", 16, true) == answered);
	/* the new connection's own address counts it: 10.0.0.1 holds 2 with it */
	conn("10.0.0.4", 0.5, false);
	CHECK(victim("10.0.0.1", 16, true) == answered);
	/* not full, under the cap: nobody */
	CHECK(victim("10.0.0.1", 16, false) == NULL);
	reset();
	CHECK(victim("10.0.0.1", 16, true) == NULL); /* nobody to give way */
}

/* An address at the per-address cap gives way among its own, full or not. */
static void test_cap(void)
{
	reset();
	conn("10.0.0.7", 0.1, false); /* another address's, older */
	struct gw_client *first = NULL;
	for (int i = 0; i < 4; i++) {
		struct gw_client *c = conn("10.0.0.1", 1.0 + i, i == 0);
		if (i == 1)
			first = c;
	}
	CHECK(victim("10.0.0.1", 4, false) == first); /* not the answered one */
	CHECK(victim("10.0.0.1", 5, false) == NULL);
	CHECK(victim("10.0.0.2", 4, false) == NULL);
}

int main(void)
{
	test_list();
	test_fair();
	test_order();
	test_cap();
	return check_report();
}
