/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_outputs.c - [inverter.NAME], [sunspec] and [rtu]:
 * defaults, ports against the protocol and against the other sections,
 * sources, keys of the other kind of protocol, where the SunSpec block may
 * lie, and what --check prints of them. */
#include <stdlib.h>

#include "../../conf/conf.h"
#include "../../gateway/modbus/modbus_conf.h"
#include "../../gateway/inverter/inverter_conf.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[1024];

static const char *two_packs =
	"[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"      /* lines 1-4 */
	"[pack.b]\nprotocol = daly\nport = tcp://127.0.0.1:8899\n"           /* 5-7 */
	"[limits]\n";                                                        /* 8; the tail starts on line 9 */

static int load_with(const char *head, const char *tail)
{
	static char text[8192];
	snprintf(text, sizeof(text), "%s%s", head, tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static int load(const char *tail)
{
	return load_with(two_packs, tail);
}

static void expect_error_with(const char *head, const char *tail, const char *needle)
{
	int rc = load_with(head, tail);
	CHECK_EQ_INT(rc, -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

static void expect_error(const char *tail, const char *needle)
{
	expect_error_with(two_packs, tail, needle);
}

static void test_inverter_defaults(void)
{
	const struct conf_inverter *v = gw_inverter_cfg(&c, 0);
	CHECK_EQ_INT(load("[bank]\n[inverter.hy]\nprotocol = pylon-can\nport = can0\n"), 0);
	CHECK_EQ_INT(gw_ninverters(&c), 1);
	CHECK_STR(v->name, "hy");
	CHECK_EQ_INT(v->line, 10);
	CHECK_EQ_INT(v->protocol, CONF_INV_PYLON_CAN);
	CHECK_STR(v->port, "can0");
	CHECK(!v->is_slcan);
	CHECK(!v->is_tcp);
	CHECK_STR(v->device, "can0");
	CHECK_STR(v->source, "bank");
	CHECK_EQ_INT(v->source_pack, CONF_BANK_SOURCE);
	CHECK_NEAR(v->interval, 1, 1e-9);
	CHECK_EQ_INT(v->baud, 9600);
	CHECK_EQ_INT(v->address, 2);
	CHECK_EQ_INT(v->reply_address, -1);
	CHECK_STR(v->manufacturer, "PYLON");
	CHECK_NEAR(v->failsafe_silence, 30, 1e-9);
	CHECK_EQ_INT(v->extras, CONF_EXTRA_CAPACITY); /* pylon-can's default */
	CHECK_EQ_INT(v->soc_override, CONF_SOC_OVERRIDE_NONE);
	CHECK_NEAR(v->soc_hold_full, 98, 1e-9);
	CHECK_EQ_INT(v->ver, 0x20);
	CHECK_EQ_INT(v->current_unit, CONF_CURRENT_100MA);
	/* lux-can: no extras by default; extras, the SOC rules */
	CHECK_EQ_INT(load("[bank]\n[inverter.lx]\nprotocol = lux-can\nport = can0\n"), 0);
	CHECK_EQ_INT(v->protocol, CONF_INV_LUX_CAN);
	CHECK_EQ_INT(v->extras, 0);
	CHECK_EQ_INT(load("[bank]\n[inverter.lx]\nprotocol = lux-can\nport = can0\nextras = Cells,capacity , name\n"
	                  "soc_override = deye\nsoc_hold_full = 0\ninterval = 5\n"), 0);
	CHECK_EQ_INT(v->extras, CONF_EXTRA_CELLS | CONF_EXTRA_CAPACITY | CONF_EXTRA_NAME);
	CHECK_EQ_INT(v->soc_override, CONF_SOC_OVERRIDE_DEYE);
	CHECK_NEAR(v->soc_hold_full, 0, 1e-9);
	CHECK_EQ_INT(load("[bank]\n[inverter.hy]\nprotocol = pylon-can\nport = can0\nextras = none\n"), 0);
	CHECK_EQ_INT(v->extras, 0);
	CHECK_EQ_INT(load("[bank]\n[inverter.hy]\nprotocol = pylon-can\nport = can0\nextras = modules\n"), 0);
	CHECK_EQ_INT(v->extras, CONF_EXTRA_MODULES);
	/* solark-can, deye-can: no extras, the SOC rules */
	CHECK_EQ_INT(load("[bank]\n[inverter.sa]\nprotocol = solark-can\nport = can0\n"), 0);
	CHECK_EQ_INT(v->protocol, CONF_INV_SOLARK_CAN);
	CHECK_EQ_INT(v->extras, 0);
	CHECK_EQ_INT(load("[bank]\n[inverter.dy]\nprotocol = deye-can\nport = slcan:///dev/ttyACM0\nsoc_override = deye\n"),
		     0);
	CHECK_EQ_INT(v->protocol, CONF_INV_DEYE_CAN);
	CHECK_EQ_INT(v->extras, 0);
	CHECK_EQ_INT(v->soc_override, CONF_SOC_OVERRIDE_DEYE);
	/* RS485: VER, echo, 10 mA */
	CHECK_EQ_INT(load("[bank]\n[inverter.rs]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\nver = 0x28\n"
	                  "current_unit = 10MA\n"), 0);
	CHECK_EQ_INT(v->ver, 0x28);
	CHECK_EQ_INT(v->current_unit, CONF_CURRENT_10MA);
	CHECK_EQ_INT(load("[bank]\n[inverter.rs]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\nver = echo\n"), 0);
	CHECK_EQ_INT(v->ver, CONF_VER_ECHO);

	CHECK_EQ_INT(load("[inverter.si]\nprotocol = sma-can\nport = slcan:///dev/serial/by-id/usb-CANable-if00\n"
	                  "source = b\ninterval = 0.2\nmanufacturer = BYD HV\nfailsafe_silence = 0\n"), 0);
	CHECK_EQ_INT(v->protocol, CONF_INV_SMA_CAN);
	CHECK(v->is_slcan);
	CHECK_STR(v->device, "/dev/serial/by-id/usb-CANable-if00");
	CHECK_STR(v->source, "b");
	CHECK_EQ_INT(v->source_pack, 1);
	CHECK_NEAR(v->interval, 0.2, 1e-9);
	CHECK_STR(v->manufacturer, "BYD HV");
	CHECK_NEAR(v->failsafe_silence, 0, 1e-9);

	CHECK_EQ_INT(load("[inverter.rs]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\nsource = a\nbaud = 115200\n"
	                  "address = 254\nreply_address = 3\nfailsafe_silence = 3600\n"), 0);
	CHECK_EQ_INT(v->protocol, CONF_INV_PYLON_RS485);
	CHECK(!v->is_slcan);
	CHECK(!v->is_tcp);
	CHECK_STR(v->device, "/dev/ttyUSB3");
	CHECK_EQ_INT(v->source_pack, 0);
	CHECK_EQ_INT(v->baud, 115200);
	CHECK_EQ_INT(v->address, 254);
	CHECK_EQ_INT(v->reply_address, 3);
	CHECK_NEAR(v->failsafe_silence, 3600, 1e-9);

	CHECK_EQ_INT(load("[inverter.rs]\nprotocol = pylon-rs485\nport = tcp://[2001:db8::7]:4196\nsource = a\n"
	                  "reply_address =      ; the address polled\n"), 0);
	CHECK(v->is_tcp);
	CHECK_STR(v->tcp_host, "2001:db8::7");
	CHECK_EQ_INT(v->tcp_port, 4196);
	CHECK_STR(v->device, "");
	CHECK_EQ_INT(v->reply_address, -1);

	/* the only pack is the default source without a bank */
	CHECK_EQ_INT(load_with("[pack.solo]\nprotocol = jbd\nport = /dev/ttyUSB0\n[limits]\n",
	                       "[inverter.x]\nprotocol = pylon-can\nport = vcan0\n"), 0);
	CHECK_STR(v->source, "solo");
	CHECK_EQ_INT(v->source_pack, 0);

	/* four, in the order of the file */
	CHECK_EQ_INT(load("[bank]\n[inverter.a1]\nprotocol = pylon-can\nport = can0\n[inverter.a2]\nprotocol = pylon-can\n"
	                  "port = can1\n[inverter.a3]\nprotocol = sma-can\nport = slcan:///dev/ttyACM0\n"
	                  "[inverter.a4]\nprotocol = pylon-rs485\nport = /dev/ttyUSB4\n"), 0);
	CHECK_EQ_INT(gw_ninverters(&c), 4);
	CHECK_STR(gw_inverter_cfg(&c, 3)->name, "a4");
	CHECK_STR(gw_inverter_cfg(&c, 2)->device, "/dev/ttyACM0");
}

static void test_inverter_errors(void)
{
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\nextras = capacity, voltage\n",
	             "t.ini:13: [inverter.x] extras: \"voltage\" is not valid (expected none, or some of capacity, cells, "
	             "modules, name separated by commas)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\nextras = name\n",
	             "t.ini:13: [inverter.x] extras: is for the CAN protocols");
	expect_error("[bank]\n[inverter.x]\nprotocol = sma-can\nport = can0\nextras = capacity\n",
	             "t.ini:13: [inverter.x] extras: sma-can sends only the frames of its document (expected extras = "
	             "none)");
	expect_error("[bank]\n[inverter.x]\nprotocol = deye-can\nport = can0\nextras = cells\n",
	             "t.ini:13: [inverter.x] extras: deye-can sends only the frames of its document (expected extras = "
	             "none)");
	expect_error("[bank]\n[inverter.x]\nprotocol = solark-can\nport = can0\nextras = capacity\n",
	             "t.ini:13: [inverter.x] extras: solark-can sends only the frames of its document (expected extras "
	             "= none)");
	CHECK_EQ_INT(load("[bank]\n[inverter.x]\nprotocol = sma-can\nport = can0\nextras = none\n"), 0);
	/* growatt-can: its document's frames only; no period (it answers each 0x301) */
	expect_error("[bank]\n[inverter.x]\nprotocol = growatt-can\nport = can0\nextras = name\n",
	             "t.ini:13: [inverter.x] extras: growatt-can sends only the frames of its document (expected extras "
	             "= none)");
	expect_error("[bank]\n[inverter.x]\nprotocol = growatt-can\nport = can0\ninterval = 1\n",
	             "t.ini:13: [inverter.x] interval: growatt-can answers each request (0x301) of the inverter and has "
	             "no period of its own (expected no interval key)");
	CHECK_EQ_INT(load("[bank]\n[inverter.x]\nprotocol = growatt-can\nport = can0\n"), 0);
	expect_error("[bank]\n[inverter.x]\nprotocol = lux-can\nport = can0\nver = 0x28\n",
	             "t.ini:13: [inverter.x] ver: is for the RS485 protocols");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\nver = 28\n",
	             "t.ini:13: [inverter.x] ver: \"28\" is not a hex byte (expected a hex byte 0x20..0x2F, or echo)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\nver = 0x30\n",
	             "t.ini:13: [inverter.x] ver: 0x30 is out of range (expected a hex byte 0x20..0x2F, or echo)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\nver = 0x2G\n",
	             "\"0x2G\" is not a hex byte");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\ninterval = 6\n",
	             "t.ini:13: [inverter.x] interval: 6 is out of range (expected seconds >= 0.2 and <= 5)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\nsoc_override = victron\n",
	             "(expected one of none, deye)");
	/* a source that can never give a CVL: a shunt, alone or as the only
	 * kind of pack in a bank; a bank with one pack that can is fine */
	static const char shunt[] = "[pack.s]\nprotocol = vedirect\nport = /dev/ttyUSB2\n[limits]\n"; /* 1-4 */
	expect_error_with(shunt, "[inverter.x]\nprotocol = pylon-can\nport = can0\nsource = s\n",
	                  "t.ini:8: [inverter.x] source: pack s (protocol vedirect) can never give a charge voltage "
	                  "limit (it reads no cell voltages and reports none)");
	expect_error_with(shunt, "[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\n",
	                  "t.ini:6: [inverter.x] source: no pack of the bank can give what an inverter reads: pack s "
	                  "(protocol vedirect)");
	CHECK_EQ_INT(load_with("[pack.s]\nprotocol = vedirect\nport = /dev/ttyUSB2\n[pack.d]\nprotocol = daly\n"
	                       "port = /dev/ttyUSB0\n[limits]\n[bank]\n", "[inverter.x]\nprotocol = pylon-can\n"
	                       "port = can0\n"), 0);
	expect_error_with("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n", "[inverter.x]\nprotocol = pylon-can\n"
	                  "port = can0\n", "t.ini:4: [inverter.x]: needs a [limits] section");
	expect_error("[bank]\n[inverter.x]\nport = can0\n", "t.ini:10: [inverter.x]: missing key \"protocol\" (expected "
	             "protocol = one of pylon-can, lux-can, sma-can, pylon-rs485, solark-can, "
	             "deye-can, growatt-can, growatt-rs485, pylon-hv-can, byd-hvs-can, solax-can, foxess-can, "); /* and the next ones */
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\n", "t.ini:10: [inverter.x]: missing key \"port\" "
	             "(expected port = a CAN interface such as can0, or slcan:///dev/ttyACM0)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\n", "missing key \"port\" (expected port = /dev/... or "
	             "tcp://HOST:PORT)");
	expect_error("[inverter.x]\nprotocol = victron-can\n", "t.ini:10: [inverter.x] protocol: \"victron-can\" is not "
	             "valid (expected one of pylon-can, lux-can, sma-can, pylon-rs485, solark-can, "
	             "deye-can, growatt-can, growatt-rs485, pylon-hv-can, byd-hvs-can, solax-can, foxess-can, "); /* and the next ones */
	/* ports read for the protocol */
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = /dev/ttyACM0\n", "t.ini:12: [inverter.x] port: "
	             "\"/dev/ttyACM0\" is not a network interface name (expected a CAN interface such as can0, 1..15 "
	             "characters of A-Z a-z 0-9 _ . -, or slcan:///dev/ttyACM0 for a serial CAN adapter)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can-interface-16c\n",
	             "t.ini:12: [inverter.x] port: \"can-interface-16c\" is not a network interface name");
	CHECK_EQ_INT(load("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can-interface15\n"), 0);
	expect_error("[bank]\n[inverter.x]\nprotocol = sma-can\nport = slcan://ttyACM0\n", "t.ini:12: [inverter.x] port: "
	             "\"slcan://ttyACM0\": \"ttyACM0\" is not an absolute device path (expected slcan:///dev/ttyACM0");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = tcp://192.0.2.1:5000\n",
	             "\"tcp://192.0.2.1:5000\" is not a network interface name");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = can0\n", "t.ini:12: [inverter.x] port: \"can0\" "
	             "is not a serial device or TCP serial server (expected /dev/... or tcp://HOST:PORT for protocol "
	             "pylon-rs485)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = ble://AA:BB:CC:DD:EE:FF\n",
	             "\"ble://AA:BB:CC:DD:EE:FF\" is not a serial device or TCP serial server");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = tcp://192.0.2.1\n",
	             "t.ini:12: [inverter.x] port: \"tcp://192.0.2.1\": missing ':PORT' (expected tcp://HOST:PORT)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/tty USB1\n",
	             "t.ini:12: [inverter.x] port: \"/dev/tty USB1\" contains a space");
	/* keys of the other kind of protocol, with their own line */
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\ninterval = 2\n",
	             "t.ini:13: [inverter.x] interval: is for the CAN protocols (protocol pylon-rs485 answers when the "
	             "inverter asks: expected no interval key)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\nbaud = 9600\n",
	             "t.ini:13: [inverter.x] baud: is for the RS485 protocols (protocol pylon-can speaks on a CAN bus: "
	             "expected no baud key)");
	expect_error("[bank]\n[inverter.x]\naddress = 3\nprotocol = sma-can\nport = can0\n",
	             "t.ini:11: [inverter.x] address: is for the RS485 protocols (protocol sma-can");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\nreply_address =\n",
	             "t.ini:13: [inverter.x] reply_address: is for the RS485 protocols");
	/* ranges */
	expect_error("[inverter.x]\ninterval = 0.1\n", "t.ini:10: [inverter.x] interval: 0.1 is out of range (expected "
	             "seconds >= 0.2 and <= 5)");
	expect_error("[inverter.x]\ninterval = 61\n", "interval: 61 is out of range");
	expect_error("[inverter.x]\nbaud = 14400\n", "t.ini:10: [inverter.x] baud: 14400 is not a standard rate");
	expect_error("[inverter.x]\naddress = -1\n", "t.ini:10: [inverter.x] address: -1 is out of range (expected a whole "
	             "number 0..254)");
	expect_error("[inverter.x]\nreply_address = 255\n", "reply_address: 255 is out of range");
	expect_error("[inverter.x]\nmanufacturer = PYLONTECH\n", "t.ini:10: [inverter.x] manufacturer: \"PYLONTECH\" has 9 "
	             "characters (expected 1..8 printable ASCII characters)");
	expect_error("[inverter.x]\nmanufacturer = P\xC3\x96LON\n", "holds a character that is not printable ASCII");
	expect_error("[inverter.x]\nmanufacturer =\n", "t.ini:10: [inverter.x] manufacturer: empty value");
	expect_error("[inverter.x]\nfailsafe_silence = 3601\n", "failsafe_silence: 3601 is out of range (expected seconds "
	             ">= 0 and <= 3600)");
	expect_error("[inverter.x]\nspeed = 500k\n", "t.ini:10: [inverter.x] speed: unknown key (expected one of protocol, "
	             "port, source, interval, extras, soc_override, soc_hold_full, baud, address, reply_address, ver, "
	             "current_unit, manufacturer, failsafe_silence, battery_type, report_modules, report_capacity_ah, "
	             "report_cells");
	expect_error("[inverter.X]\n", "invalid inverter name");
	expect_error("[inverter.x]\nprotocol = pylon-can\nport = can0\n[inverter.x]\n",
	             "t.ini:12: [inverter.x]: duplicate section (first on line 9)");
	expect_error("[inverter.i1]\n[inverter.i2]\n[inverter.i3]\n[inverter.i4]\n[inverter.i5]\n",
	             "t.ini:13: [inverter.i5]: too many inverters (expected at most 4)");
}

static void test_inverter_sources(void)
{
	expect_error("[inverter.x]\nprotocol = pylon-can\nport = can0\n", "t.ini:9: [inverter.x]: missing key \"source\": "
	             "2 packs and no [bank] section (expected source = the pack whose limits it sends, or a [bank] "
	             "section)");
	expect_error("[inverter.x]\nprotocol = pylon-can\nport = can0\nsource = bank\n",
	             "t.ini:12: [inverter.x] source: bank, but there is no [bank] section");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\nsource = zz\n",
	             "t.ini:13: [inverter.x] source: no [pack.zz] section (expected a pack name or bank)");
	expect_error("[inverter.x]\nsource = Big\n", "t.ini:10: [inverter.x] source: \"Big\" is not a name");
	/* ports of packs (and so of tunnels), of other inverters, of [rtu] */
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB0\n", "t.ini:12: [inverter.x] port: "
	             "/dev/ttyUSB0 is the port of [pack.a] (line 1) (expected a port of its own: on a BMS's bus bmsgw is "
	             "the master, on an inverter's a battery)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = slcan:///dev/ttyUSB0\n",
	             "t.ini:12: [inverter.x] port: /dev/ttyUSB0 is the port of [pack.a] (line 1)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = tcp://127.0.0.1:8899\n",
	             "t.ini:12: [inverter.x] port: tcp://127.0.0.1:8899 is the port of [pack.b] (line 5)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\n[inverter.y]\nprotocol = sma-can\n"
	             "port = can0\n", "t.ini:15: [inverter.y] port: can0 is already used by [inverter.x] (line 10) "
	             "(expected one inverter per port)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyACM0\n[inverter.y]\n"
	             "protocol = pylon-can\nport = slcan:///dev/ttyACM0\n",
	             "t.ini:15: [inverter.y] port: /dev/ttyACM0 is already used by [inverter.x] (line 10)");
	CHECK_EQ_INT(load("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = can0\n[inverter.y]\nprotocol = pylon-can\n"
	                  "port = can1\n"), 0);
}

static void test_sunspec(void)
{
	CHECK_EQ_INT(load(""), 0);
	CHECK(!gw_sunspec_cfg(&c)->enabled);
	CHECK_EQ_INT(load("[sunspec]\n"), 0);
	CHECK(gw_sunspec_cfg(&c)->enabled);
	CHECK_EQ_INT(gw_sunspec_cfg(&c)->line, 9);
	CHECK_EQ_INT(gw_sunspec_cfg(&c)->base, 40000);
	/* "SunS" 2 + model 1 (2 + 66) + model 802 (2 + 62) + end 2; the bank adds 803 (2 + 26 + 32 per pack) */
	CHECK_EQ_INT(gw_sunspec_regs(&c, false), 136);
	CHECK_EQ_INT(load("[bank]\n[sunspec]\nbase = 0\n"), 0);
	CHECK_EQ_INT(gw_sunspec_cfg(&c)->base, 0);
	CHECK_EQ_INT(gw_sunspec_regs(&c, false), 136);
	CHECK_EQ_INT(gw_sunspec_regs(&c, true), 136 + 28 + 2 * 32);
	CHECK_EQ_INT(load("[bank]\npacks = b\n[sunspec]\n"), 0);
	CHECK_EQ_INT(gw_sunspec_regs(&c, true), 136 + 28 + 32);

	/* the largest block must end at 65535 */
	CHECK_EQ_INT(load("[sunspec]\nbase = 65400\n"), 0);
	expect_error("[sunspec]\nbase = 65401\n", "t.ini:10: [sunspec] base: 65401 + 136 registers (a pack's block) runs "
	             "past 65535 (expected a base of at most 65400)");
	CHECK_EQ_INT(load("[bank]\n[sunspec]\nbase = 65308\n"), 0);
	expect_error("[bank]\n[sunspec]\nbase = 65309\n", "t.ini:11: [sunspec] base: 65309 + 228 registers (the bank's "
	             "block) runs past 65535 (expected a base of at most 65308)");
	expect_error("[sunspec]\nbase = 65536\n", "t.ini:10: [sunspec] base: 65536 is out of range");
	/* and stay clear of the register map (290..450 by default) */
	CHECK_EQ_INT(load("[sunspec]\nbase = 154\n"), 0);
	expect_error("[sunspec]\nbase = 155\n", "t.ini:10: [sunspec] base: registers 155..290 (a pack's block) overlap the "
	             "register map 290..450 of [gateway] base = 290 (expected a base of 154 or less, or 451 or more)");
	expect_error("[sunspec]\nbase = 450\n", "registers 450..585 (a pack's block) overlap the register map 290..450");
	CHECK_EQ_INT(load("[sunspec]\nbase = 451\n"), 0);
	expect_error_with("[gateway]\nbase = 100\n", "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[bank]\n[sunspec]\n"
	                  "base = 40\n", "t.ini:8: [sunspec] base: registers 40..235 (the bank's block) overlap the "
	                  "register map 100..260 of [gateway] base = 100 (expected a base of 261 or more)");
	/* no key: the header's line */
	expect_error_with("[gateway]\nbase = 39950\n", "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[sunspec]\n",
	                  "t.ini:6: [sunspec] base: registers 40000..40135");
	expect_error("[sunspec]\nbase = 40000\nbase = 41000\n", "t.ini:11: [sunspec] base: duplicate key");
	expect_error("[sunspec]\nmodels = 802\n", "t.ini:10: [sunspec] models: unknown key (expected one of base, "
	             "serial)");
	/* serial: model 1's SN stem, room left for "-247" */
	CHECK_STR(gw_sunspec_cfg(&c)->serial, "");
	CHECK_EQ_INT(load("[sunspec]\nserial = A1234 rack\n"), 0);
	CHECK_STR(gw_sunspec_cfg(&c)->serial, "A1234 rack");
	CHECK_EQ_INT(load("[sunspec]\nserial = 0123456789012345678901234567\n"), 0);
	expect_error("[sunspec]\nserial = 01234567890123456789012345678\n", "t.ini:10: [sunspec] serial: "
	             "\"01234567890123456789012345678\" has 29 characters (expected 1..28 printable ASCII characters)");
	expect_error("[sunspec]\nserial = caf\xc3\xa9\n", "not printable ASCII");
}

static void test_rtu(void)
{
	CHECK_EQ_INT(load(""), 0);
	CHECK(!gw_rtu_cfg(&c)->enabled);
	CHECK_EQ_INT(load("[rtu]\nport = /dev/ttyUSB5\n"), 0);
	CHECK(gw_rtu_cfg(&c)->enabled);
	CHECK_EQ_INT(gw_rtu_cfg(&c)->line, 9);
	CHECK_STR(gw_rtu_cfg(&c)->port, "/dev/ttyUSB5");
	CHECK_EQ_INT(gw_rtu_cfg(&c)->baud, 9600);
	CHECK_EQ_INT(gw_rtu_cfg(&c)->mode, CONF_RTU_8N1);
	CHECK(!gw_rtu_cfg(&c)->control);
	static const char *const modes[] = {"8N1", "8e1", "8O1", "8n2"};
	char tail[128];
	for (int i = 0; i < 4; i++) {
		snprintf(tail, sizeof(tail), "[rtu]\nport = /dev/ttyS1\nmode = %s\nbaud = 19200\ncontrol = yes\n", modes[i]);
		CHECK_EQ_INT(load(tail), 0);
		CHECK_EQ_INT(gw_rtu_cfg(&c)->mode, i);
		CHECK_EQ_INT(gw_rtu_cfg(&c)->baud, 19200);
		CHECK(gw_rtu_cfg(&c)->control);
	}
	expect_error("[rtu]\nbaud = 19200\n", "t.ini:9: [rtu]: missing key \"port\" (expected port = the serial device of "
	             "the RS485 bus, /dev/...)");
	expect_error("[rtu]\nport = ttyUSB5\n", "t.ini:10: [rtu] port: \"ttyUSB5\" is not an absolute device path "
	             "(expected a serial device path /dev/...)");
	expect_error("[rtu]\nport = tcp://192.0.2.1:502\n", "[rtu] port: \"tcp://192.0.2.1:502\" is not an absolute device");
	expect_error("[rtu]\nport = /dev/ttyUSB5\nmode = 7E1\n", "t.ini:11: [rtu] mode: \"7E1\" is not valid (expected "
	             "one of 8N1, 8E1, 8O1, 8N2)");
	expect_error("[rtu]\nport = /dev/ttyUSB5\nbaud = 250000\n", "t.ini:11: [rtu] baud: 250000 is not a standard rate");
	expect_error("[rtu]\nport = /dev/ttyUSB0\n", "t.ini:10: [rtu] port: /dev/ttyUSB0 is the port of [pack.a] (line 1) "
	             "(expected a port of its own: on a BMS's bus bmsgw is the master, on this one a slave)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-rs485\nport = /dev/ttyUSB3\n[rtu]\nport = /dev/ttyUSB3\n",
	             "t.ini:14: [rtu] port: /dev/ttyUSB3 is the port of [inverter.x] (line 10) (expected a port of its "
	             "own)");
	expect_error("[bank]\n[inverter.x]\nprotocol = pylon-can\nport = slcan:///dev/ttyACM0\n[rtu]\n"
	             "port = /dev/ttyACM0\n", "t.ini:14: [rtu] port: /dev/ttyACM0 is the port of [inverter.x] (line 10)");
	/* a tunnel's port is a pack's */
	expect_error("[tunnel.t]\nport = /dev/ttyUSB0\nlisten = 127.0.0.1:8234\nclients = 127.0.0.1\n[rtu]\n"
	             "port = /dev/ttyUSB0\n", "t.ini:14: [rtu] port: /dev/ttyUSB0 is the port of [pack.a]");
	expect_error("[rtu]\n[rtu]\n", "t.ini:10: [rtu]: duplicate section (first on line 9)");
}

/* what --check prints of them */
static void test_summary(void)
{
	char *buf = NULL;
	size_t len = 0;
	CHECK_EQ_INT(load("[bank]\n[inverter.hy]\nprotocol = pylon-can\nport = slcan:///dev/ttyACM0\n[inverter.bk]\n"
	                  "protocol = pylon-rs485\nport = tcp://192.0.2.7:4196\nsource = a\nreply_address = 3\n"
	                  "manufacturer = BMSGW\nver = echo\ncurrent_unit = 10mA\n[inverter.si]\nprotocol = sma-can\n"
	                  "port = can1\ninterval = 0.5\nsoc_hold_full = 0\n[inverter.lx]\nprotocol = lux-can\nport = can2\n"
	                  "extras = cells, name\nsoc_override = deye\n"
	                  "[sunspec]\n[rtu]\nport = /dev/ttyUSB5\nmode = 8E1\ncontrol = true\n"), 0);
	FILE *m = open_memstream(&buf, &len);
	conf_print_summary(&c, m);
	fclose(m);
	static const char *const want[] = {
		"inverters (a virtual battery; nothing is sent to an inverter without this section)\n"
		"  hy: pylon-can on slcan /dev/ttyACM0 (serial CAN adapter, 500 kbit/s), source the bank, manufacturer "
		"\"PYLON\", every 1 s, extras capacity; SOC at most 98 % until absorbed; a stale source: zero limits, then "
		"silence after 30 s\n"
		"  bk: pylon-rs485 on tcp 192.0.2.7:4196, source pack a, manufacturer \"BMSGW\", answers address 2 as 3, VER "
		"as asked, currents in 10mA; SOC at most 98 % until absorbed; a stale source: zero limits, then no answer "
		"after 30 s\n"
		"  si: sma-can on can1 (SocketCAN), source the bank, manufacturer \"PYLON\", every 0.5 s, extras none; a "
		"stale source: zero limits, then silence after 30 s\n"
		"  lx: lux-can on can2 (SocketCAN), source the bank, manufacturer \"PYLON\", every 1 s, extras cells, name; "
		"SOC at most 98 % until absorbed; SOC 0 % while DCL = 0, 100 % while CCL = 0 (soc_override deye); a stale "
		"source: zero limits, then silence after 30 s\n",
		"sunspec\n  registers     40000..40135 on a pack's unit (SunS, models 1 and 802, end); 40000..40227 on the "
		"bank's unit (model 803 too, 2 strings); read-only\n",
		"rtu (Modbus RTU server: the units, map and function codes of Modbus TCP)\n  port          /dev/ttyUSB5 @ "
		"9600 8E1; writes by the rules of MOSFET control, by unit\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = buf && strstr(buf, want[i]) != NULL;
		if (!found)
			fprintf(stderr, "  summary lacks \"%s\"\n", want[i]);
		CHECK(found);
	}
	free(buf);
}

/* growatt-rs485: address 1 by default, a Modbus slave address, none of
 * pylon-rs485's keys; --check says it is experimental */
static void test_growatt_rs485(void)
{
	const struct conf_inverter *v = gw_inverter_cfg(&c, 0);
	char *buf = NULL;
	size_t len = 0;

	CHECK_EQ_INT(load("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\n"), 0);
	CHECK_EQ_INT(v->protocol, CONF_INV_GROWATT_RS485);
	CHECK_EQ_INT(v->address, 1);
	CHECK_EQ_INT(v->baud, 9600);
	CHECK_EQ_INT(load("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\naddress = 247\n"), 0);
	CHECK_EQ_INT(v->address, 247);
	expect_error("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\naddress = 248\n",
	             "t.ini:13: [inverter.gw] address: 248 is no Modbus slave address (expected 1 to 247)");
	expect_error("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\nver = 0x28\n",
	             "t.ini:13: [inverter.gw] ver: is for pylon-rs485 (growatt-rs485 answers Modbus RTU from its "
	             "address: expected no ver key)");
	expect_error("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\nreply_address = 2\n",
	             "[inverter.gw] reply_address: is for pylon-rs485");
	expect_error("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\ncurrent_unit = 10mA\n",
	             "[inverter.gw] current_unit: is for pylon-rs485");
	expect_error("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = can0\n", "[inverter.gw] port: \"can0\"");
	expect_error("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\ninterval = 2\n",
	             "[inverter.gw] interval: is for the CAN protocols");
	CHECK_EQ_INT(load("[bank]\n[inverter.gw]\nprotocol = growatt-rs485\nport = /dev/ttyUSB3\n"), 0);
	FILE *m = open_memstream(&buf, &len);
	conf_print_summary(&c, m);
	fclose(m);
	CHECK(buf && strstr(buf, "  gw: growatt-rs485 on /dev/ttyUSB3 @ 9600 8N1, source the bank, manufacturer "
	                         "\"PYLON\", answers Modbus address 1 (EXPERIMENTAL: the image is the one reported "
	                         "working on a Growatt SPF, not Growatt's document); SOC at most 98 % until absorbed; "
	                         "a stale source: zero limits, then no answer after 30 s\n"));
	free(buf);
}

/* byd-hvs-can: the source's range (cells x the chemistry's cell range)
 * inside 80-576 V, for a pack, a bank of strings (each string) and a bank
 * without (each pack); cells required; no interval; the summary. */
static void test_byd_hvs(void)
{
	static const char hv[] = "[pack.hv]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 32\n[limits]\n"; /* 1-5 */
	static const char four[] = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\ncells = 16\n" /* 1-5 */
				   "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\ncells = 16\n"  /* 6-10 */
				   "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 3\ncells = 16\n"  /* 11-15 */
				   "[pack.d]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 4\ncells = 16\n"  /* 16-20 */
				   "[limits]\n";                                                               /* 21 */
	char *buf = NULL;
	size_t len = 0;

	CHECK_EQ_INT(load_with(hv, "[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n"), 0);
	CHECK_EQ_INT(gw_inverter_cfg(&c, 0)->protocol, CONF_INV_BYD_HVS_CAN);
	CHECK_EQ_INT(gw_inverter_cfg(&c, 0)->extras, 0);
	expect_error_with("[pack.hv]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 16\n[limits]\n",
	                  "[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n",
	                  "t.ini:6: [inverter.x] source: hv runs 40.0-58.4 V (its series cells times their chemistry's "
	                  "cell range), not inside protocol byd-hvs-can's 80-576 V");
	expect_error_with("[pack.hv]\nprotocol = daly\nport = /dev/ttyUSB0\n[limits]\n",
	                  "[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n",
	                  "t.ini:5: [inverter.x] source: hv: [pack.hv] has no cells key (expected cells = its series "
	                  "cells: a high-voltage output needs every member's count to know its voltage range) (protocol "
	                  "byd-hvs-can, 80-576 V)");
	/* its own periods: no interval */
	expect_error_with("[pack.hv]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 32\n[limits]\n[bank]\n"
	                  "strings = hv\n", "[inverter.x]\nprotocol = byd-hvs-can\nport = can0\ninterval = 2\n",
	                  "t.ini:11: [inverter.x] interval: byd-hvs-can keeps a BYD battery's own periods");
	/* the chemistry's range: NMC 32 x 3.0-4.2 V inside; LTO 32 x 1.5-2.8 V not */
	CHECK_EQ_INT(load_with("[pack.hv]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 32\n[limits]\nchemistry = nmc\n",
	                       "[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n"), 0);
	expect_error_with("[pack.hv]\nprotocol = daly\nport = /dev/ttyUSB0\ncells = 32\n[limits]\nchemistry = lto\n",
	                  "[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n", "hv runs 48.0-89.6 V");
	/* a bank of strings: each string of two 16-cell packs, 80-116.8 V */
	CHECK_EQ_INT(load_with(four, "[bank]\nstrings = a+b, c+d\n[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n"),
	             0);
	/* a string of one: 40-58.4 V */
	expect_error_with(four, "[bank]\nstrings = a+b+c, d\n[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n",
	                  "source: bank runs 40.0-175.2 V (its series cells times their chemistry's cell "
	                  "range), not inside protocol byd-hvs-can's 80-576 V (expected a source of more or fewer cells in "
	                  "series, or another protocol)");
	/* without strings: each pack */
	expect_error_with(four, "[bank]\n[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n", "bank runs 40.0-58.4 V");
	CHECK_EQ_INT(load_with(four, "[bank]\nstrings = a+b, c+d\n[inverter.x]\nprotocol = byd-hvs-can\nport = can0\n"
	                       "soc_override = deye\n"), 0);
	FILE *m = open_memstream(&buf, &len);
	conf_print_summary(&c, m);
	fclose(m);
	CHECK(buf && strstr(buf, "  x: byd-hvs-can on can0 (SocketCAN), source the bank, manufacturer \"PYLON\", after "
	                         "the inverter's first frame: 0x110 every 2 s, 0x150, 0x1D0, 0x210 every 10 s, 0x190 every "
	                         "60 s, the identification on its 0x151, extras none, source range 80.0-116.8 V within 80-576 "
	                         "V; SOC at most 98 % until absorbed; SOC "
	                         "0 % while DCL = 0, 100 % while CCL = 0 (soc_override deye); silent while the source's "
	                         "voltage is outside 80-576 V; a stale source: zero limits, then silence after 30 s\n"));
	if (buf && !strstr(buf, "  x: byd-hvs-can"))
		fprintf(stderr, "%s", buf);
	free(buf);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_byd_hvs();
	test_inverter_defaults();
	test_inverter_errors();
	test_inverter_sources();
	test_sunspec();
	test_rtu();
	test_summary();
	test_growatt_rs485();
	return check_report();
}
