/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_bank.c - [bank] and [upstream.NAME] parsing. */
#include <string.h>

#include "../../conf/conf.h"
#include "../../bms/bms.h"
#include "../../gateway/modbus/modbus_conf.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[1024];

static const char *packs =
	"[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"      /* lines 1-4 */
	"[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n"      /* 5-8 */
	"[pack.c]\nprotocol = daly\nport = tcp://127.0.0.1:8899\n";          /* 9-11 */

static char warned[2048];
static void keep(void *arg, const char *text)
{
	(void)arg;
	snprintf(warned + strlen(warned), sizeof(warned) - strlen(warned), "%s\n", text);
}

static int load(const char *tail)
{
	static char text[4096];
	snprintf(text, sizeof(text), "%s%s", packs, tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const char *tail, const char *needle)
{
	int rc = load(tail);
	CHECK_EQ_INT(rc, -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

int main(void)
{
	install_sections();
	/* no bank, no upstream */
	CHECK_EQ_INT(load(""), 0);
	CHECK(!c.bank.enabled);
	CHECK_EQ_INT(gw_nupstreams(&c), 0);

	/* bank defaults: every pack, unit 100, 1 V */
	CHECK_EQ_INT(load("[bank]\n"), 0);
	CHECK(c.bank.enabled);
	CHECK_EQ_INT(c.bank.unit_id, 100);
	CHECK_EQ_INT(c.bank.npacks, 3);
	CHECK_NEAR(c.bank.max_deviation, 1.0, 1e-9);

	/* an explicit list, in its order */
	CHECK_EQ_INT(load("[bank]\nunit_id = 9\npacks = c, a\nmax_deviation = 0.4\n"), 0);
	CHECK_EQ_INT(c.bank.unit_id, 9);
	CHECK_EQ_INT(c.bank.npacks, 2);
	CHECK_EQ_INT(c.bank.pack_idx[0], 2);
	CHECK_EQ_INT(c.bank.pack_idx[1], 0);
	CHECK_NEAR(c.bank.max_deviation, 0.4, 1e-9);

	expect_error("[bank]\npacks = a, zz\n", "t.ini:13: [bank] packs: no [pack.zz] section");
	expect_error("[bank]\npacks = a, a\n", "t.ini:13: [bank] packs: a is listed twice");
	expect_error("[bank]\npacks = ,\n", "[bank] packs: empty list");
	expect_error("[bank]\nunit_id = 2\n", "t.ini:13: [bank] unit_id: 2 is already the unit id of [pack.b]");
	expect_error("[bank]\nunit_id = 0\n", "t.ini:13: [bank] unit_id: 0 is out of range");
	expect_error("[bank]\nmax_deviation = -1\n", "[bank] max_deviation: -1 is out of range");
	expect_error("[bank]\n[bank]\n", "t.ini:13: [bank]: duplicate section (first on line 12)");

	/* strings: packs in series, strings in parallel */
	CHECK_EQ_INT(load("[bank]\nstrings = a+b , c\nmax_current_deviation = 3\n"), 0);
	CHECK_EQ_INT(c.bank.nstrings, 2);
	CHECK_EQ_INT(c.bank.npacks, 3);
	CHECK_EQ_INT(c.bank.string_first[0], 0);
	CHECK_EQ_INT(c.bank.string_len[0], 2);
	CHECK_EQ_INT(c.bank.string_first[1], 2);
	CHECK_EQ_INT(c.bank.string_len[1], 1);
	CHECK_EQ_INT(c.bank.pack_idx[0], 0);
	CHECK_EQ_INT(c.bank.pack_idx[1], 1);
	CHECK_EQ_INT(c.bank.pack_idx[2], 2);
	CHECK_NEAR(c.bank.max_current_deviation, 3, 1e-9);
	CHECK_EQ_INT(load("[bank]\nstrings = c+a\n"), 0);
	CHECK_EQ_INT(c.bank.nstrings, 1);
	CHECK_EQ_INT(c.bank.npacks, 2);
	CHECK_EQ_INT(c.bank.pack_idx[0], 2);
	CHECK(c.bank.max_current_deviation < 0); /* the rule: 5 % of the rating, at least 2 A */
	CHECK_EQ_INT(load("[bank]\n"), 0);
	CHECK_EQ_INT(c.bank.nstrings, 0);       /* no strings: every pack in parallel */
	expect_error("[bank]\nstrings = a+b,\n", "t.ini:13: [bank] strings: a pack name is missing at the end");
	expect_error("[bank]\nstrings = a++b\n", "[bank] strings: a pack name is missing before a + or a comma");
	expect_error("[bank]\nstrings = a b\n", "[bank] strings: b follows a name without + or a comma");
	expect_error("[bank]\nstrings = a+b, a\n", "[bank] strings: a is listed twice");
	expect_error("[bank]\nstrings = a+zz\n", "[bank] strings: no [pack.zz] section");
	expect_error("[bank]\npacks = a\nstrings = a+b\n", "t.ini:14: [bank] strings: packs (line 13) lists the bank's packs too");
	expect_error("[bank]\nmax_current_deviation = -2\n", "[bank] max_current_deviation: -2 is out of range");
	/* a balancer (no current) is no member of a string */
	CHECK_EQ_INT(conf_load_string("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[pack.n]\nprotocol = neey\n"
				      "port = ble://AA:BB:CC:DD:EE:FF\n[bank]\nstrings = a+n\n", "t.ini", &c, err,
				      sizeof(err)), -1);
	CHECK(strstr(err, "t.ini:8: [bank] strings: n: protocol neey measures no current") != NULL);
	/* two members of a string on one wired bus are said (their ports sit at
	 * different potentials); members on their own ports are not */
	CHECK_EQ_INT(load("[bank]\nstrings = a+b, c\n"), 0);
	warned[0] = '\0';
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 1);
	CHECK(strstr(warned, "t.ini:12: [bank] strings: a and b are in series and share port /dev/ttyUSB0") != NULL);
	CHECK_EQ_INT(load("[bank]\nstrings = a+c, b\n"), 0);
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 0);
	CHECK_EQ_INT(load("[bank]\npacks = a, b\n"), 0); /* in parallel: one bus is fine */
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 0);
	expect_error("[bank]\ncolour = red\n", "t.ini:13: [bank] colour: unknown key");

	/* upstream defaults */
	CHECK_EQ_INT(load("[upstream.plc]\nhost = 192.0.2.7\nsource = a\n"), 0);
	CHECK_EQ_INT(gw_nupstreams(&c), 1);
	CHECK_STR(gw_upstream_cfg(&c, 0)->name, "plc");
	CHECK_STR(gw_upstream_cfg(&c, 0)->host, "192.0.2.7");
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->port, 502);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->unit_id, 1);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->source_pack, 0);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->reg_first, 0);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->reg_last, 124);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->base, 290);
	CHECK_NEAR(gw_upstream_cfg(&c, 0)->interval, 5, 1e-9);
	CHECK_NEAR(gw_upstream_cfg(&c, 0)->timeout, 2, 1e-9);

	/* a window of the map, the bank as source, an IPv6 host */
	CHECK_EQ_INT(load("[bank]\n[upstream.inv]\nhost = [::1]\nport = 1502\nunit_id = 0\nsource = bank\n"
			  "registers = 40-59\ninterval = 0.5\n"), 0);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->source_pack, CONF_BANK_SOURCE);
	CHECK_STR(gw_upstream_cfg(&c, 0)->host, "::1");
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->reg_first, 40);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->reg_last, 59);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->base, 330);
	CHECK_EQ_INT(load("[upstream.one]\nhost = plc.local\nsource = b\nregisters = 45\nbase = 0\n"), 0);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->reg_first, 45);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->reg_last, 45);
	CHECK_EQ_INT(gw_upstream_cfg(&c, 0)->base, 0);

	expect_error("[upstream.x]\nsource = a\n", "t.ini:12: [upstream.x]: missing key \"host\"");
	expect_error("[upstream.x]\nhost = 192.0.2.1\n", "t.ini:12: [upstream.x]: missing key \"source\"");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = zz\n", "t.ini:14: [upstream.x] source: no [pack.zz]");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = bank\n", "source: bank, but there is no [bank]");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = a\nregisters = 5-2\n", "t.ini:15: [upstream.x] registers: 5-2 is out of range");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = a\nregisters = 0-161\n", "registers: 0-161 is out of range");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = a\nregisters = all\n", "registers: \"all\" is not a range");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = a\nbase = 65500\n", "base: 65500 + 125 registers runs past 65535");
	expect_error("[upstream.x]\nhost = 192.0.2.1:502\nsource = a\n", "host: an IPv6 address needs brackets");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = a\nport = 0\n", "port: 0 is out of range");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = a\ninterval = 0.1\n", "interval: 0.1 is out of range");
	expect_error("[upstream.x]\nhost = 192.0.2.1\nsource = a\n[upstream.x]\n", "duplicate section (first on line 12)");
	expect_error("[upstream.X]\n", "invalid upstream name");
	expect_error("[downstream]\n", "unknown section (expected [gateway], [pack.NAME], [bank], [upstream.NAME], [mqtt], [tunnel.NAME], [http], [history], [ble], [ble_proxy.NAME], [limits], [inverter.NAME], [sunspec], [rtu], [soc], [modbus_tls], [alerts.NAME], [health], [influx] or [venus])");
	/* a driver's own address rule: Pylontech module numbers have gaps */
	CHECK_EQ_INT(conf_load_string("[pack.p]\nprotocol = pylontech\nport = /dev/ttyUSB0\naddress = 18\n", "t.ini",
				      &c, err, sizeof(err)), 0);
	CHECK_EQ_INT(conf_load_string("[pack.p]\nprotocol = pylontech\nport = /dev/ttyUSB0\naddress = 14\n", "t.ini",
				      &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "t.ini:4: [pack.p] address: 14 (0x0E) is not an address protocol pylontech can use") != NULL);
	return check_report();
}
