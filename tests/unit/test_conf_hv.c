/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_hv.c - what a high-voltage inverter output asks of
 * the configuration (conf/check_hv.c, check_out.c): its source's range
 * from the members' series cells and chemistry (a pack, a bank of packs in
 * parallel, a bank of strings) inside the protocol's, every member's cells
 * given, the refusals naming the output and both ranges; pylon-hv-can's
 * address 0 / 1 and no interval. */
#include "../../conf/conf.h"
#include "../../conf/conf_int.h"
#include "../../bms/bms.h"
#include "check.h"

static struct conf c;
static char err[1024];

/* Eight daly packs a..h with cells (0: no key) and chemistry, then tail. */
static int load(const int cells[8], const char *tail)
{
	static char text[8192];
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[pack.%c]\nprotocol = daly\nport = /dev/ttyUSB%d\n"
				      "address = 1\n", 'a' + i, i);
		if (cells[i])
			n += (size_t)snprintf(text + n, sizeof(text) - n, "cells = %d\n", cells[i]);
	}
	snprintf(text + n, sizeof(text) - n, "[limits]\n%s", tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const int cells[8], const char *tail, const char *needle)
{
	int rc = load(cells, tail);
	CHECK_EQ_INT(rc, -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

#define INV "[inverter.hv]\nprotocol = pylon-hv-can\nport = can1\n"

static const int c16[8] = { 16, 16, 16, 16, 16, 16, 16, 16 };
static const int c32[8] = { 32, 16, 16, 16, 16, 16, 16, 16 };

static void test_range(void)
{
	double lo, hi;
	char why[256];

	/* a single pack of 32 LFP cells: 80.0-116.8 V, inside */
	CHECK_EQ_INT(load(c32, INV "source = a\n"), 0);
	CHECK(conf__hv_source_range(&c, 0, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 80.0, 1e-9);
	CHECK_NEAR(hi, 116.8, 1e-9);
	CHECK_EQ_INT(c.inverters[0].address, 0);
	/* a 16S pack: 40.0-58.4 V, refused, naming the output and both ranges */
	expect_error(c16, INV "source = b\n", "[inverter.hv] source: b runs 40.0-58.4 V");
	expect_error(c16, INV "source = b\n", "not inside protocol pylon-hv-can's 80-1000 V");
	/* no cells key: refused, naming the pack */
	static const int none[8] = { 0, 16, 16, 16, 16, 16, 16, 16 };
	expect_error(none, INV "source = a\n", "[inverter.hv] source: a: [pack.a] has no cells key");
	/* a bank of 16S packs in parallel: each pack's range, refused */
	expect_error(c16, "[bank]\n" INV, "bank runs 40.0-58.4 V");
	/* a bank of two strings of four 16S packs: 160.0-233.6 V, inside */
	CHECK_EQ_INT(load(c16, "[bank]\nstrings = a+b+c+d, e+f+g+h\n" INV), 0);
	CHECK(conf__hv_source_range(&c, CONF_BANK_SOURCE, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 160.0, 1e-9);
	CHECK_NEAR(hi, 233.6, 1e-9);
	/* strings of unequal length: the envelope of both */
	CHECK_EQ_INT(load(c16, "[bank]\nstrings = a+b+c, e+f+g+h\n" INV), 0);
	CHECK(conf__hv_source_range(&c, CONF_BANK_SOURCE, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 120.0, 1e-9);
	CHECK_NEAR(hi, 233.6, 1e-9);
	/* a member without cells in a string: refused, naming it */
	static const int nog[8] = { 16, 16, 16, 16, 16, 16, 0, 16 };
	expect_error(nog, "[bank]\nstrings = a+b+c+d, e+f+g+h\n" INV, "[pack.g] has no cells key");
	/* one string of all eight: 320.0-467.2 V, inside */
	CHECK_EQ_INT(load(c16, "[bank]\nstrings = a+b+c+d+e+f+g+h\n" INV), 0);
	/* the chemistry: 32 NMC cells 96.0-134.4 V; 32 LTO cells 48.0-89.6 V, refused */
	CHECK_EQ_INT(load(c32, "chemistry = nmc\n" INV "source = a\n"), 0);
	CHECK(conf__hv_source_range(&c, 0, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 96.0, 1e-9);
	CHECK_NEAR(hi, 134.4, 1e-9);
	expect_error(c32, "chemistry = lto\n" INV "source = a\n", "a runs 48.0-89.6 V");
	/* the LV protocols ask nothing of the cells */
	CHECK_EQ_INT(load(none, "[inverter.lv]\nprotocol = pylon-can\nport = can1\nsource = a\n"), 0);
}

static void test_keys(void)
{
	CHECK_EQ_INT(load(c32, INV "source = a\naddress = 1\n"), 0);
	CHECK_EQ_INT(c.inverters[0].address, 1);
	CHECK_EQ_INT(load(c32, INV "source = a\naddress = 0\n"), 0);
	CHECK_EQ_INT(c.inverters[0].address, 0);
	expect_error(c32, INV "source = a\naddress = 2\n", "address: 2 is no pylon-hv-can battery address (expected 0 or 1");
	expect_error(c32, INV "source = a\ninterval = 1\n", "pylon-hv-can answers each request (0x4200)");
	expect_error(c32, INV "source = a\nbaud = 9600\n", "baud: is for the RS485 protocols");
	expect_error(c32, INV "source = a\nextras = capacity\n", "pylon-hv-can sends only the frames of its document");
	/* address 0 stays refused where it is no address */
	expect_error(c32, "[inverter.r]\nprotocol = pylon-rs485\nport = /dev/ttyS0\nsource = a\naddress = 0\n",
		     "0 is no ADR of pylon-rs485");
	expect_error(c32, "[inverter.r]\nprotocol = growatt-rs485\nport = /dev/ttyS0\nsource = a\naddress = 0\n",
		     "0 is no Modbus slave address");
}

int main(void)
{
	test_range();
	test_keys();
	return check_report();
}
