/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_hv.c - what a high-voltage inverter output asks of
 * the configuration (gateway/inverter/inverter_conf.c, invrange.c): its source's range
 * from the members' series cells and chemistry (a pack, a bank of packs in
 * parallel, a bank of strings) inside the protocol's, every member's cells
 * given, the refusals naming the output and both ranges; pylon-hv-can's
 * address 0 / 1 and no interval; the keys by protocol (gateway/inverter/dialects.c):
 * solax-can's and foxess-can's windows, defaults and ranges, the identity
 * overrides where the protocol carries them, a key it does not take
 * refused naming the protocols that do; sungrow-can's, sofar-can's and
 * growatt-hv-can's alike (sofar's battery id 0-15); the bit rate of each
 * row (sungrow-can 250 kbit/s); ferroamp-can's address 1, afore-can's and
 * solxpow-can's keys. */
#include "../../conf/conf.h"
#include "../../conf/conf_int.h"
#include "../../bms/bms.h"
#include "../../gateway/inverter/inverter_conf.h"
#include "check.h"
#include "sections.h"

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
	CHECK(inv_source_range(&c, 0, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 80.0, 1e-9);
	CHECK_NEAR(hi, 116.8, 1e-9);
	CHECK_EQ_INT(gw_inverter_cfg(&c, 0)->address, 0);
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
	CHECK(inv_source_range(&c, CONF_BANK_SOURCE, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 160.0, 1e-9);
	CHECK_NEAR(hi, 233.6, 1e-9);
	/* strings of unequal length: the envelope of both */
	CHECK_EQ_INT(load(c16, "[bank]\nstrings = a+b+c, e+f+g+h\n" INV), 0);
	CHECK(inv_source_range(&c, CONF_BANK_SOURCE, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 120.0, 1e-9);
	CHECK_NEAR(hi, 233.6, 1e-9);
	/* a member without cells in a string: refused, naming it */
	static const int nog[8] = { 16, 16, 16, 16, 16, 16, 0, 16 };
	expect_error(nog, "[bank]\nstrings = a+b+c+d, e+f+g+h\n" INV, "[pack.g] has no cells key");
	/* one string of all eight: 320.0-467.2 V, inside */
	CHECK_EQ_INT(load(c16, "[bank]\nstrings = a+b+c+d+e+f+g+h\n" INV), 0);
	/* the chemistry: 32 NMC cells 96.0-134.4 V; 32 LTO cells 48.0-89.6 V, refused */
	CHECK_EQ_INT(load(c32, "chemistry = nmc\n" INV "source = a\n"), 0);
	CHECK(inv_source_range(&c, 0, &lo, &hi, why, sizeof(why)));
	CHECK_NEAR(lo, 96.0, 1e-9);
	CHECK_NEAR(hi, 134.4, 1e-9);
	expect_error(c32, "chemistry = lto\n" INV "source = a\n", "a runs 48.0-89.6 V");
	/* the LV protocols ask nothing of the cells */
	CHECK_EQ_INT(load(none, "[inverter.lv]\nprotocol = pylon-can\nport = can1\nsource = a\n"), 0);
}

static void test_keys(void)
{
	CHECK_EQ_INT(load(c32, INV "source = a\naddress = 1\n"), 0);
	CHECK_EQ_INT(gw_inverter_cfg(&c, 0)->address, 1);
	CHECK_EQ_INT(load(c32, INV "source = a\naddress = 0\n"), 0);
	CHECK_EQ_INT(gw_inverter_cfg(&c, 0)->address, 0);
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

#define SX "[inverter.hv]\nprotocol = solax-can\nport = slcan:///dev/ttyACM0\n"
#define FX "[inverter.hv]\nprotocol = foxess-can\nport = can1\n"

/* A string of a..d (4 x 16 LFP cells: 160.0-233.6 V), of a..h (c16: 128
 * cells, 320.0-467.2 V). */
#define S4 "[bank]\nstrings = a+b+c+d\n"
#define S8 "[bank]\nstrings = a+b+c+d+e+f+g+h\n"

static void test_round3(void)
{
	const struct conf_inverter *v = gw_inverter_cfg(&c, 0);
	double lo, hi;

	/* the windows: solax-can 80-760 V, foxess-can 80-480 V */
	CHECK(inv_dialect_volt_range(CONF_INV_SOLAX_CAN, &lo, &hi) && lo == 80 && hi == 760);
	CHECK(inv_dialect_volt_range(CONF_INV_FOXESS_CAN, &lo, &hi) && lo == 80 && hi == 480);
	CHECK_EQ_INT(load(c16, S8 SX "source = bank\n"), 0);
	CHECK_EQ_INT(load(c16, S8 FX "source = bank\n"), 0); /* 320.0-467.2 V */
	CHECK_EQ_INT(load(c32, S8 SX "source = bank\n"), 0);
	expect_error(c32, S8 FX "source = bank\n", "bank runs 360.0-525.6 V"); /* 144 cells */
	expect_error(c32, S8 FX "source = bank\n", "not inside protocol foxess-can's 80-480 V");
	expect_error(c16, SX "source = b\n", "not inside protocol solax-can's 80-760 V");
	/* defaults: the battery type by protocol, the overrides none */
	CHECK_EQ_INT(load(c16, S4 SX "source = bank\n"), 0);
	CHECK_EQ_INT(v->battery_type, 131);
	CHECK_EQ_INT(v->report_modules, -1);
	CHECK(v->report_capacity_ah < 0);
	CHECK_EQ_INT(v->report_cells, -1);
	CHECK_EQ_INT(load(c16, S4 FX "source = bank\n"), 0);
	CHECK_EQ_INT(v->battery_type, 82);
	CHECK_EQ_INT(load(c16, S4 "[inverter.hv]\nprotocol = pylon-hv-can\nport = can1\nsource = bank\n"), 0);
	CHECK_EQ_INT(v->battery_type, -1); /* pylon-hv-can has none */
	/* the overrides where the protocol carries them, within its range */
	CHECK_EQ_INT(load(c16, S4 SX "source = bank\nreport_modules = 13\nreport_capacity_ah = 50.5\nbattery_type = 80\n"),
		     0);
	CHECK_EQ_INT(v->report_modules, 13);
	CHECK_NEAR(v->report_capacity_ah, 50.5, 1e-9);
	CHECK_EQ_INT(v->battery_type, 80);
	expect_error(c16, S4 SX "source = bank\nreport_modules = 14\n",
		     "report_modules: 14 is outside protocol solax-can's 1 to 13");
	expect_error(c16, S4 FX "source = bank\nreport_modules = 9\n",
		     "report_modules: 9 is outside protocol foxess-can's 1 to 8");
	CHECK_EQ_INT(load(c16, S4 "[inverter.hv]\nprotocol = pylon-hv-can\nport = can1\nsource = bank\n"
			  "report_cells = 120\nreport_modules = 30\n"), 0);
	CHECK_EQ_INT(v->report_cells, 120);
	expect_error(c16, S4 SX "source = bank\nreport_cells = 64\n", "report_cells: protocol solax-can takes no "
		     "report_cells key: no field of it carries a cell count (expected no report_cells key; the "
		     "protocols that take it: pylon-hv-can");
	expect_error(c16, "[inverter.p]\nprotocol = pylon-can\nport = can1\nsource = a\nreport_modules = 2\n",
		     "protocol pylon-can takes no report_modules key");
	expect_error(c16, "[inverter.p]\nprotocol = deye-can\nport = can1\nsource = a\nbattery_type = 2\n",
		     "protocol deye-can takes no battery_type key");
	/* interval, extras, manufacturer: none of theirs */
	expect_error(c16, S4 SX "source = bank\ninterval = 1\n", "interval: protocol solax-can takes no interval key: "
		     "its frames keep the protocol's own timing, it answers each 0x1871 of the inverter");
	expect_error(c16, S4 FX "source = bank\nextras = none\n", "extras: protocol foxess-can takes no extras key");
	expect_error(c16, S4 FX "source = bank\nmanufacturer = FOX\n", "protocol foxess-can takes no manufacturer key");
	expect_error(c16, S4 SX "source = bank\nbaud = 9600\n", "baud: is for the RS485 protocols");
	expect_error(c16, S4 SX "source = bank\naddress = 1\n", "address: is for the RS485 protocols");
	/* every CAN row's bit rate (sungrow-can's and RV-C's 250 kbit/s); RS485 none */
	for (int p = 0; p < CONF_INV_NPROTOCOLS; p++)
		CHECK_EQ_INT(inv_dialect_bitrate((enum conf_inv_protocol)p),
			     inv_dialect_kind((enum conf_inv_protocol)p) != CONF_INV_CAN ? 0 :
			     p == CONF_INV_SUNGROW_CAN || p == CONF_INV_RVC ? 250000 : 500000);
}

#define SG "[inverter.hv]\nprotocol = sungrow-can\nport = slcan:///dev/ttyACM0\n"
#define SF "[inverter.hv]\nprotocol = sofar-can\nport = can1\n"
#define GH "[inverter.hv]\nprotocol = growatt-hv-can\nport = can1\n"

/* sungrow-can (108-584 V, 2-8 modules), sofar-can (80-1000 V, battery id
 * 0-15, its u8 counts), growatt-hv-can (80-1000 V, 1-32 modules, 1-512
 * cells): windows, defaults, ranges, the keys they do not take. */
static void test_round3_sungrow_sofar_growatt_hv(void)
{
	const struct conf_inverter *v = gw_inverter_cfg(&c, 0);
	double lo, hi;

	CHECK(inv_dialect_volt_range(CONF_INV_SUNGROW_CAN, &lo, &hi) && lo == 108 && hi == 584);
	CHECK(inv_dialect_volt_range(CONF_INV_SOFAR_CAN, &lo, &hi) && lo == 80 && hi == 1000);
	CHECK(inv_dialect_volt_range(CONF_INV_GROWATT_HV_CAN, &lo, &hi) && lo == 80 && hi == 1000);
	/* sungrow-can: a string of 64 cells (160.0-233.6 V) in, a 32-cell pack (80.0-116.8 V) out */
	CHECK_EQ_INT(load(c16, S4 SG "source = bank\n"), 0);
	expect_error(c32, SG "source = a\n", "a runs 80.0-116.8 V");
	expect_error(c32, SG "source = a\n", "not inside protocol sungrow-can's 108-584 V");
	CHECK_EQ_INT(load(c16, S4 SG "source = bank\nreport_modules = 8\nreport_capacity_ah = 100\n"), 0);
	CHECK_EQ_INT(v->report_modules, 8);
	expect_error(c16, S4 SG "source = bank\nreport_modules = 1\n",
		     "report_modules: 1 is outside protocol sungrow-can's 2 to 8");
	expect_error(c16, S4 SG "source = bank\nreport_cells = 64\n", "protocol sungrow-can takes no report_cells key");
	expect_error(c16, S4 SG "source = bank\nmanufacturer = SUN\n", "protocol sungrow-can takes no manufacturer key");
	expect_error(c16, S4 SG "source = bank\ninterval = 1\n", "interval: protocol sungrow-can takes no interval key: "
		     "its frames keep the protocol's own timing, it keeps a Sungrow SBR's own periods");
	expect_error(c16, S4 SG "source = bank\naddress = 1\n", "address: is for the RS485 protocols");
	/* sofar-can: the battery id 0 unless set, 0-15; its counts a byte */
	CHECK_EQ_INT(load(c32, SF "source = a\n"), 0);
	CHECK_EQ_INT(v->address, 0);
	CHECK_EQ_INT(load(c32, SF "source = a\naddress = 15\nmanufacturer = BMSGW\nreport_cells = 255\n"
			  "report_modules = 4\nreport_capacity_ah = 50\n"), 0);
	CHECK_EQ_INT(v->address, 15);
	CHECK_EQ_INT(v->report_cells, 255);
	expect_error(c32, SF "source = a\naddress = 16\n", "address: 16 is outside protocol sofar-can's 0 to 15");
	expect_error(c32, SF "source = a\nreport_cells = 256\n", "report_cells: 256 is outside protocol sofar-can's");
	expect_error(c32, SF "source = a\nbattery_type = 1\n", "protocol sofar-can takes no battery_type key");
	expect_error(c32, SF "source = a\nextras = none\n", "extras: protocol sofar-can takes no extras key");
	expect_error(c16, SF "source = a\n", "not inside protocol sofar-can's 80-1000 V");
	/* growatt-hv-can: 1-32 modules, 1-512 cells; no address, no manufacturer */
	CHECK_EQ_INT(load(c32, GH "source = a\nreport_cells = 512\nreport_modules = 32\n"), 0);
	expect_error(c32, GH "source = a\nreport_modules = 33\n",
		     "report_modules: 33 is outside protocol growatt-hv-can's 1 to 32");
	expect_error(c32, GH "source = a\nreport_cells = 513\n",
		     "report_cells: 513 is outside protocol growatt-hv-can's 1 to 512");
	expect_error(c32, GH "source = a\nmanufacturer = GT\n", "protocol growatt-hv-can takes no manufacturer key");
	expect_error(c32, GH "source = a\naddress = 1\n", "address: is for the RS485 protocols");
}

#define FA "[inverter.hv]\nprotocol = ferroamp-can\nport = can1\n"
#define AF "[inverter.hv]\nprotocol = afore-can\nport = can1\n"
#define SP "[inverter.hv]\nprotocol = solxpow-can\nport = can1\n"

/* ferroamp-can (pylon-hv-can's frames, address 1 unless set), afore-can,
 * solxpow-can: their windows (80-1000 V), defaults, the keys each takes. */
static void test_round3_d(void)
{
	const struct conf_inverter *v = gw_inverter_cfg(&c, 0);
	double lo, hi;

	CHECK(inv_dialect_volt_range(CONF_INV_FERROAMP_CAN, &lo, &hi) && lo == 80 && hi == 1000);
	CHECK(inv_dialect_volt_range(CONF_INV_AFORE_CAN, &lo, &hi) && lo == 80 && hi == 1000);
	CHECK(inv_dialect_volt_range(CONF_INV_SOLXPOW_CAN, &lo, &hi) && lo == 80 && hi == 1000);
	expect_error(c16, FA "source = b\n", "not inside protocol ferroamp-can's 80-1000 V");
	expect_error(c16, AF "source = b\n", "not inside protocol afore-can's 80-1000 V");
	expect_error(c16, SP "source = b\n", "not inside protocol solxpow-can's 80-1000 V");
	/* ferroamp-can: address 1 unless set, 0 or 1 */
	CHECK_EQ_INT(load(c16, S4 FA "source = bank\n"), 0);
	CHECK_EQ_INT(v->address, 1);
	CHECK_EQ_INT(load(c16, S4 FA "source = bank\naddress = 0\nreport_cells = 120\nreport_modules = 4\n"
			  "report_capacity_ah = 37\nmanufacturer = FERROAMP\n"), 0);
	CHECK_EQ_INT(v->address, 0);
	CHECK_EQ_INT(v->report_cells, 120);
	CHECK_EQ_INT(v->report_modules, 4);
	CHECK_STR(v->manufacturer, "FERROAMP");
	expect_error(c16, S4 FA "source = bank\naddress = 2\n", "address: 2 is outside protocol ferroamp-can's 0 to 1");
	expect_error(c16, S4 FA "source = bank\ninterval = 1\n", "it answers each 0x4200 of the inverter");
	expect_error(c16, S4 FA "source = bank\nbattery_type = 1\n", "protocol ferroamp-can takes no battery_type key");
	/* afore-can: no identity override (its real cell count also gives 0x356's
	 * cell limits), no manufacturer, address */
	CHECK_EQ_INT(load(c16, S4 AF "source = bank\n"), 0);
	CHECK_EQ_INT(v->report_cells, -1);
	expect_error(c16, S4 AF "source = bank\nreport_cells = 64\n", "protocol afore-can takes no report_cells key");
	expect_error(c16, S4 AF "source = bank\nmanufacturer = AFORE\n", "protocol afore-can takes no manufacturer key");
	expect_error(c16, S4 AF "source = bank\nreport_modules = 4\n", "protocol afore-can takes no report_modules");
	expect_error(c16, S4 AF "source = bank\nreport_capacity_ah = 50\n",
		     "protocol afore-can takes no report_capacity_ah");
	expect_error(c16, S4 AF "source = bank\naddress = 1\n", "address: is for the RS485 protocols");
	expect_error(c16, S4 AF "source = bank\nextras = none\n", "extras: protocol afore-can takes no extras key");
	expect_error(c16, S4 AF "source = bank\ninterval = 1\n", "it answers each 0x305 of the inverter");
	/* solxpow-can: 0x7320 and 0x7330's identity; no address (0 only) */
	CHECK_EQ_INT(load(c16, S4 SP "source = bank\nreport_cells = 96\nreport_modules = 6\n"
			  "report_capacity_ah = 100\nmanufacturer = SOLXPOW\n"), 0);
	CHECK_EQ_INT(v->report_modules, 6);
	CHECK_STR(v->manufacturer, "SOLXPOW");
	expect_error(c16, S4 SP "source = bank\naddress = 0\n", "address: is for the RS485 protocols");
	expect_error(c16, S4 SP "source = bank\nbattery_type = 1\n", "protocol solxpow-can takes no battery_type key");
	expect_error(c16, S4 SP "source = bank\ninterval = 1\n", "it answers each 0x4200 of the inverter");
}

#define WIT "[inverter.w]\nprotocol = growatt-wit-can\nport = can1\n"
#define SHV "[inverter.s]\nprotocol = sma-hv-can\nport = can1\n"
#define SE "[inverter.x]\nprotocol = schneider-can\nport = can1\n"

/* growatt-wit-can and sma-hv-can: 80-1000 V; schneider-can a 48 V protocol
 * without a window; the variants of sma-hv-can; the overrides each takes. */
static void test_wit_sma_schneider(void)
{
	const struct conf_inverter *v = gw_inverter_cfg(&c, 0);

	CHECK_EQ_INT(load(c16, S4 WIT "source = bank\n"), 0);
	expect_error(c16, WIT "source = b\n", "b runs 40.0-58.4 V");
	expect_error(c16, WIT "source = b\n", "not inside protocol growatt-wit-can's 80-1000 V");
	expect_error(c16, SHV "source = b\n", "not inside protocol sma-hv-can's 80-1000 V");
	CHECK_EQ_INT(load(c16, SE "source = b\n"), 0);          /* 48 V: its class */
	CHECK_EQ_INT(load(c16, S4 SE "source = bank\n"), 0);    /* no window: as sma-can */
	/* sma-hv-can's variant: byd-hvs by default */
	CHECK_EQ_INT(load(c16, S4 SHV "source = bank\n"), 0);
	CHECK_EQ_INT(v->variant, CONF_VARIANT_BYD_HVS);
	CHECK_EQ_INT(load(c16, S4 SHV "source = bank\nvariant = sbs\n"), 0);
	CHECK_EQ_INT(v->variant, CONF_VARIANT_SBS);
	CHECK_EQ_INT(load(c16, S4 SHV "source = bank\nvariant = byd-h\nreport_modules = 200\nreport_capacity_ah = 25\n"),
		     0);
	CHECK_EQ_INT(v->variant, CONF_VARIANT_BYD_H);
	CHECK_EQ_INT(v->report_modules, 200);
	expect_error(c16, S4 SHV "source = bank\nvariant = hvm\n", "variant: \"hvm\" is not valid (expected one of "
		     "byd-hvs, byd-h, sbs)");
	expect_error(c16, S4 WIT "source = bank\nvariant = sbs\n", "protocol growatt-wit-can takes no variant key: it "
		     "has no variants (expected no variant key; the protocols that take it: sma-hv-can)");
	expect_error(c16, S4 SHV "source = bank\nbattery_type = 1\n", "protocol sma-hv-can takes no battery_type key");
	expect_error(c16, S4 SHV "source = bank\ninterval = 1\n", "it keeps its variant's periods once the inverter "
		     "has spoken (byd-hvs: once it asked to pair)");
	/* growatt-wit-can: up to 32 modules of 32 cells */
	CHECK_EQ_INT(load(c16, S4 WIT "source = bank\nreport_modules = 32\nreport_cells = 1024\n"
			  "report_capacity_ah = 280\n"), 0);
	CHECK_EQ_INT(v->report_cells, 1024);
	expect_error(c16, S4 WIT "source = bank\nreport_modules = 33\n",
		     "report_modules: 33 is outside protocol growatt-wit-can's 1 to 32");
	expect_error(c16, S4 WIT "source = bank\nextras = none\n", "protocol growatt-wit-can takes no extras key");
	/* schneider-can: the capacity only */
	CHECK_EQ_INT(load(c16, SE "source = b\nreport_capacity_ah = 100\n"), 0);
	CHECK_NEAR(v->report_capacity_ah, 100, 1e-9);
	expect_error(c16, SE "source = b\nreport_modules = 2\n", "protocol schneider-can takes no report_modules key");
	expect_error(c16, SE "source = b\nmanufacturer = SE\n", "protocol schneider-can takes no manufacturer key");
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_range();
	test_keys();
	test_round3();
	test_round3_sungrow_sofar_growatt_hv();
	test_round3_d();
	test_wit_sma_schneider();
	return check_report();
}
