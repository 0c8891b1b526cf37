/* SPDX-License-Identifier: MIT */
/* tests/unit/test_detect_plan.c - the plan of `bmsgw --detect` as it
 * scales (gateway/detect/probe_order.h, hints.h): the worst case of a port where
 * nothing answers, computed from the drivers' probe tables, stays within
 * the 15 s budget with the wired protocols to come; the families'
 * signatures in what listening heard, and the plan they reorder.
 * bms/PROTOCOLS.md §27. */
#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../gateway/detect/detect.h"
#include "../../gateway/detect/hints.h"
#include "../../gateway/detect/probe_order.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct bms_driver *drv_of(const char *name)
{
	const struct bms_driver *d = bms_find(name);
	if (!d)
		fprintf(stderr, "no driver %s\n", name);
	return d;
}

/* ---- the wired protocols to come, as probe tables ----
 * What is known of them from public sources, the rest the plan's
 * defaults (50 ms gap, 250 ms wait):
 * - Felicity Lux-Y over RS485: Modbus RTU FC 03, 9600 8N1, address 1
 *   (mr-manuel's dbus-serialbattery, its Felicity driver);
 * - Heltec / YanYang Modbus: Modbus RTU FC 03, 9600 8N1 (mr-manuel's
 *   dbus-serialbattery, its Heltec Modbus driver).
 * JBD UP16S racks (jbd-up) are in the plan now, with their own probe.
 * The others of that round are Bluetooth LE or CAN: not on a serial
 * port's plan. */
static int fc03_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t req[6] = { poll->address, 0x03, 0x13, 0x02, 0x00, 0x3C };
	if (cap < 8)
		return BMS_E_NOSPACE;
	memcpy(out, req, sizeof(req));
	uint16_t crc = bms_crc16_modbus(out, sizeof(req));
	out[6] = (uint8_t)(crc & 0xFF);
	out[7] = (uint8_t)(crc >> 8);
	return 8;
}

/* A 10-byte request (a protocol of which nothing is known). */
static int ten_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (cap < 10)
		return BMS_E_NOSPACE;
	memset(out, 0, 10);
	out[0] = poll->address;
	return 10;
}

static const struct bms_probe ten_probe = { .bauds = { 9600 }, .gap = 0.05, .request = ten_request };
static const struct bms_probe fc03_probe = { .bauds = { 9600 }, .gap = 0.05, .request = fc03_request };
static const struct bms_driver next_wired[] = {
	{ .name = "felicity-rs485", .default_baud = 9600, .default_address = 1, .min_address = 1,
	  .max_address = 247, .probe = &fc03_probe },
	{ .name = "heltec-modbus", .default_baud = 9600, .default_address = 1, .min_address = 1,
	  .max_address = 247, .probe = &fc03_probe },
};
#define NEXT_WIRED (sizeof(next_wired) / sizeof(next_wired[0]))

/* A protocol of which nothing is known: a 10-byte request at 9600 at one
 * address, the defaults' gap and wait. */
static const struct bms_driver placeholder = { .name = "next", .default_baud = 9600, .default_address = 1,
					      .min_address = 1, .max_address = 247, .probe = &ten_probe };

/* p[0..n) with k tries of drivers d[] at 9600 after the last 9600 try
 * (where the plan would put them: the end of their rate's group). */
static size_t with_next(struct gw_detect_try *p, size_t n, const struct bms_driver *const *d, size_t k)
{
	size_t at = n;
	for (size_t i = 0; i < n; i++)
		if (p[i].baud == 9600)
			at = i + 1;
	memmove(p + at + k, p + at, (n - at) * sizeof(*p));
	for (size_t i = 0; i < k; i++)
		p[at + i] = (struct gw_detect_try){ d[i], 9600, bms_probe_address(d[i]), 1 };
	return n + k;
}

static void test_budget(void)
{
	static struct gw_detect_try p[GW_PLAN_MAX];
	struct gw_plan_opts o = { false, 0, -1, false };
	size_t n = gw_plan_build(&o, p, GW_PLAN_MAX);
	double alone = 0;
	for (size_t i = 0; i < n; i++)
		alone += gw_plan_cost(&p[i]);
	double probes = gw_plan_probes(p, n), listen = gw_plan_listening(&o, GW_DETECT_LISTEN);
	double worst = gw_plan_worst(&o, GW_DETECT_LISTEN, p, n);
	fprintf(stderr, "the default plan: %zu probes, %.2f s (%.2f s with every gap whole) after %.1f s of "
			"listening: %.2f s when nothing answers\n",
		n, probes, alone, listen, worst);
	/* a gap overlaps the silent wait before it only at the same rate */
	CHECK(probes <= alone && probes > 0.7 * alone);
	CHECK_NEAR(listen, GW_DETECT_LISTEN + 2 * GW_PLAN_QUIET, 1e-9);
	CHECK_NEAR(worst, listen + probes, 1e-9);
	CHECK(worst <= GW_DETECT_BUDGET);

	/* the first try at a rate waits its whole gap, a try after an
	 * unanswered one at the same rate only what its gap is longer */
	struct gw_detect_try jk = { drv_of("jk"), 115200, 0, 1 }, lp4 = { drv_of("eg4-lp4"), 9600, 1, 1 };
	struct gw_detect_try ant = { drv_of("ant"), 9600, 0, 1 }, daly = { drv_of("daly"), 9600, 1, 2 };
	CHECK_NEAR(gw_plan_cost_after(NULL, &jk), gw_plan_cost(&jk), 1e-9);
	CHECK_NEAR(gw_plan_cost_after(&jk, &lp4), gw_plan_cost(&lp4), 1e-9);        /* another rate */
	CHECK_NEAR(gw_plan_cost_after(&ant, &lp4), gw_plan_cost(&lp4) - 0.15, 1e-9); /* 200 ms gap, 150 ms wait */
	CHECK_NEAR(gw_plan_cost_after(&ant, &daly), gw_plan_cost(&daly) - 2 * 0.05, 1e-9); /* both tries */

	/* with the wired protocols of the next round, from their tables */
	const struct bms_driver *next[NEXT_WIRED];
	for (size_t i = 0; i < NEXT_WIRED; i++)
		next[i] = &next_wired[i];
	size_t m = with_next(p, n, next, NEXT_WIRED);
	double with = gw_plan_worst(&o, GW_DETECT_LISTEN, p, m);
	fprintf(stderr, "with felicity-rs485, heltec-modbus: %zu probes, %.2f s\n", m, with);
	CHECK(with <= GW_DETECT_BUDGET);

	/* and room beyond them: probes of the defaults at 9600 (a protocol
	 * of which nothing is known yet) as many as fit */
	const struct bms_driver *more[NEXT_WIRED + 64];
	size_t k = NEXT_WIRED;
	memcpy(more, next, sizeof(next));
	double room = with;
	for (; k < sizeof(more) / sizeof(more[0]); k++) {
		more[k] = &placeholder;
		n = gw_plan_build(&o, p, GW_PLAN_MAX);
		m = with_next(p, n, more, k + 1);
		if (gw_plan_worst(&o, GW_DETECT_LISTEN, p, m) > GW_DETECT_BUDGET)
			break;
		room = gw_plan_worst(&o, GW_DETECT_LISTEN, p, m);
	}
	fprintf(stderr, "room for %zu more probes of the defaults at 9600 (%.2f s)\n", k - NEXT_WIRED, room);
	CHECK(k - NEXT_WIRED >= 10);
}

/* ---- the families' signatures ---- */

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2)
		out[n++] = (uint8_t)strtoul((char[]){ s[0], s[1], 0 }, NULL, 16);
	return n;
}

static void test_hints(void)
{
	uint8_t buf[4096];
	unsigned sig[GW_FAMILIES];
	/* random bytes hint at nothing */
	uint32_t x = 45;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	memset(sig, 0, sizeof(sig));
	gw_hints_scan(buf, sizeof(buf), sig);
	for (int f = 1; f < GW_FAMILIES; f++)
		CHECK(sig[f] < GW_HINT_MIN);
	/* paceic lines whose checksum failed (SEP-01's start, cut) */
	const char *cut = "~2000460010960001100CD70CE9\r~2000460010960001100CD70CE9\r";
	memset(sig, 0, sizeof(sig));
	gw_hints_scan((const uint8_t *)cut, strlen(cut), sig);
	CHECK_EQ_INT(sig[GW_FAM_PACEIC], 2);
	/* JBD answers with their checksum broken, JK and Daly starts */
	size_t n = unhex("dd03001d0618000001f201f400002c7c00000000000080640304030b8b0b8a0b84fa8e77", buf);
	n += unhex("dd03001d0618000001f201f400002c7c00000000000080640304030b8b0b8a0b84fa8e77", buf + n);
	n += unhex("4e57011b000000000600" "a5019008021400007545037800", buf + n);
	memset(sig, 0, sizeof(sig));
	gw_hints_scan(buf, n, sig);
	CHECK_EQ_INT(sig[GW_FAM_JBD], 2);
	CHECK_EQ_INT(sig[GW_FAM_JK], 1);
	CHECK_EQ_INT(sig[GW_FAM_DALY], 1);
	/* the probes' families, from their requests */
	static const struct {
		const char *name;
		enum gw_family f;
	} fam[] = { { "jbd", GW_FAM_JBD },        { "daly", GW_FAM_DALY },   { "jk", GW_FAM_JK },
		    { "renogy", GW_FAM_MODBUS },  { "jk-pb", GW_FAM_MODBUS }, { "pylontech", GW_FAM_PACEIC },
		    { "daren", GW_FAM_PACEIC },   { "lifepower", GW_FAM_LP }, { "jbd-up", GW_FAM_UP }, { "ant", GW_FAM_OTHER },
		    { "sinowealth", GW_FAM_OTHER } };
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		const struct bms_driver *d = drv_of(fam[i].name);
		struct gw_detect_try t = { d, 9600, bms_probe_address(d), 1 };
		if (gw_plan_family(&t) != fam[i].f)
			fprintf(stderr, "FAIL %s: family %s\n", fam[i].name, gw_family_name(gw_plan_family(&t)));
		CHECK(gw_plan_family(&t) == fam[i].f);
	}
}

/* The rate of each try, as a string of 1 (115200), 9 (9600), 2 (19200):
 * its groups. */
static void rates(const struct gw_detect_try *p, size_t n, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i].baud == 115200 ? '1' : p[i].baud == 9600 ? '9' : '2';
		if (k == 0 || out[k - 1] != c)
			out[k++] = c;
	}
	out[k] = 0;
}

static void test_ranked(void)
{
	static struct gw_detect_try p[GW_PLAN_MAX], q[GW_PLAN_MAX];
	struct gw_plan_opts o = { false, 0, -1, false };
	struct gw_plan_heard h = { 3, { 115200, 19200, 9600 }, { { 0 } } };
	char g[8];
	/* nothing heard: the default order, each rate once */
	size_t n = gw_plan_build_heard(&o, &h, p, GW_PLAN_MAX);
	size_t n0 = gw_plan_build(&o, q, GW_PLAN_MAX);
	CHECK(n == n0 && memcmp(p, q, n * sizeof(*p)) == 0);
	rates(p, n, g);
	CHECK_STR(g, "192");
	/* paceic lines heard at 19200: 19200 first, its paceic probes first */
	h.sig[1][GW_FAM_PACEIC] = 3;
	n = gw_plan_build_heard(&o, &h, p, GW_PLAN_MAX);
	CHECK(n == n0);
	rates(p, n, g);
	CHECK_STR(g, "219");
	CHECK_STR(p[0].drv->name, "seplos");
	CHECK_STR(p[1].drv->name, "daren");
	CHECK(gw_plan_family(&p[2]) != GW_FAM_PACEIC && p[2].baud == 19200);
	/* one signature is no hint */
	h.sig[1][GW_FAM_PACEIC] = 1;
	n = gw_plan_build_heard(&o, &h, p, GW_PLAN_MAX);
	CHECK(memcmp(p, q, n * sizeof(*p)) == 0);
	/* Daly at 9600, more of JK at 115200: 115200 first, then 9600 with daly first */
	h.sig[1][GW_FAM_PACEIC] = 0;
	h.sig[2][GW_FAM_DALY] = 2;
	h.sig[0][GW_FAM_JK] = 5;
	n = gw_plan_build_heard(&o, &h, p, GW_PLAN_MAX);
	rates(p, n, g);
	CHECK_STR(g, "192");
	CHECK_STR(p[0].drv->name, "jk");
	for (size_t i = 0; i < n; i++)
		if (p[i].baud == 9600) {
			CHECK_STR(p[i].drv->name, "daly");
			break;
		}
	/* the same costs: reordering moves no probe in or out */
	CHECK_NEAR(gw_plan_probes(p, n), gw_plan_probes(q, n0), 0.5);
}

int main(void)
{
	test_budget();
	test_hints();
	test_ranked();
	return check_report();
}
