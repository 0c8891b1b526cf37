/* SPDX-License-Identifier: MIT */
/* tests/unit/test_sim_view.c - the simulator's responders (tests/sim/) put
 * on the wire what the pack model holds: for every protocol, a pack of
 * 100 Ah at 60 % gives, in the quantised view `state` prints (and every
 * responder builds its fields from), its capacity, what remains, its SOC
 * and its cells within one step of the protocol.  Integer widths are where
 * this breaks: a field of 32 bits clamped through a 32-bit `long`
 * (0xFFFFFFFF as a long is -1; 4000000000L does not fit) made every
 * roypow and wattstunde pack read 4.29e6 Ah on armhf and nowhere else; the
 * test runs on every architecture `make test-cross` builds for.  The
 * simulator's core (sim.c: the bus, the wire, the clock) is not linked:
 * this file gives the responders a bus of the one pack under test. */
#include "../sim/sim.h"
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "check.h"

#include <stdint.h>

static struct sim_pack *bus_pack;

int sim_bus_npacks(void)
{
	return 1;
}

struct sim_pack *sim_bus_pack(int i)
{
	return i == 0 ? bus_pack : NULL;
}

/* --master's services: the test runs no master */
int64_t sim_clock_ns(void)
{
	return 0;
}

int64_t sim_byte_ns(void)
{
	return 1000000;
}

int64_t sim_wire_put(const uint8_t *b, size_t n, int64_t now)
{
	(void)b;
	return now + (int64_t)n * sim_byte_ns();
}

int64_t sim_bus_answer(struct sim_pack *p, const uint8_t *req, size_t n, int64_t end, int own,
		       void (*mangle)(struct sim_reply *r))
{
	(void)p, (void)req, (void)n, (void)own, (void)mangle;
	return end;
}

struct proto_case {
	const char *sym;
	const struct sim_proto *proto;
};

/* as sim.c: no responder for mqtt-json (its packs come through a broker) */
#define sim_proto_mqtt_json (*(const struct sim_proto *)NULL)
#define PROTO_CASE_(sym) { #sym, &sim_proto_##sym },
static const struct proto_case cases[] = { BMS_DRIVER_LIST(PROTO_CASE_) };
#undef PROTO_CASE_

/* The view of one protocol's pack: capacity 100 Ah, 60 %, what remains
 * 60 Ah, within a step of 1 Ah (the coarsest field of a capacity) or 2 %. */
static void view_of(const struct proto_case *c)
{
	struct sim_pack p;
	struct sim_view v;
	sim_pack_init(&p, c->proto->addr_min);
	bus_pack = &p;
	c->proto->view(&p, &v);
	int bad = check_failed;
	if (v.has & SIM_HAS_CAPACITY)
		CHECK_NEAR(v.capacity_ah, 100.0, 2.0);
	if (v.has & SIM_HAS_REMAIN)
		CHECK_NEAR(v.remaining_ah, 60.0, 2.0);
	if (v.has & SIM_HAS_SOC)
		CHECK_NEAR(v.soc, 60.0, 1.0);
	if (v.has & SIM_HAS_CELLS) {
		CHECK(v.ncells > 0 && v.ncells <= SIM_MAX_CELLS);
		for (int i = 0; i < v.ncells && i < SIM_MAX_CELLS; i++)
			CHECK(v.cell_mv[i] > 2500 && v.cell_mv[i] < 4300);
	}
	if (check_failed != bad)
		fprintf(stderr, "  (protocol %s)\n", c->sym);
}

static void test_views(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].proto)
			view_of(&cases[i]);
}

int main(void)
{
	test_views();
	return check_report();
}
