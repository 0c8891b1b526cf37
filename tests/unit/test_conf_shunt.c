/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_shunt.c - [bank] shunt: a pack that measures the
 * whole bank's current resolved, left out of the bank's default members,
 * and refused where it names no pack, a pack without a current, or a pack
 * also listed as a member or a string member; a shunt read by listening is
 * fine; the --check summary names it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "check.h"

static struct conf c;
static char err[1024];

static const char *packs =
	"[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"      /* lines 1-4 */
	"[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n"      /* 5-8 */
	"[pack.s]\nprotocol = vedirect\nport = /dev/ttyUSB1\n"               /* 9-11 */
	"[pack.n]\nprotocol = neey\nport = ble://AA:BB:CC:DD:EE:01\n";      /* 12-14 */

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

/* The --check summary of c. */
static char *summary(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	conf_print_summary(&c, o);
	fclose(o);
	return text;
}

int main(void)
{
	/* no shunt: every pack a member, no shunt index */
	CHECK_EQ_INT(load("[bank]\n"), 0);
	CHECK_EQ_INT(c.bank.shunt_idx, -1);
	CHECK_EQ_INT(c.bank.npacks, 4);
	/* without a [bank] the index is none too */
	CHECK_EQ_INT(load(""), 0);
	CHECK_EQ_INT(c.bank.shunt_idx, -1);

	/* the shunt is left out of the default members (every other pack) */
	CHECK_EQ_INT(load("[bank]\nshunt = s\n"), 0);
	CHECK_EQ_INT(c.bank.shunt_idx, 2);
	CHECK_EQ_INT(c.bank.npacks, 3);
	CHECK_EQ_INT(c.bank.pack_idx[0], 0);
	CHECK_EQ_INT(c.bank.pack_idx[1], 1);
	CHECK_EQ_INT(c.bank.pack_idx[2], 3);
	char *text = summary();
	CHECK(text && strstr(text, "a, b, n; a pack departing") != NULL);
	CHECK(text && strstr(text, "shunt s: the bank's current, power and SOC while it is fresh") != NULL);
	free(text);

	/* with packs = and with strings = */
	CHECK_EQ_INT(load("[bank]\npacks = b, a\nshunt = s\n"), 0);
	CHECK_EQ_INT(c.bank.shunt_idx, 2);
	CHECK_EQ_INT(c.bank.npacks, 2);
	CHECK_EQ_INT(load("[bank]\nstrings = a+b\nshunt = s\n"), 0);
	CHECK_EQ_INT(c.bank.shunt_idx, 2);
	CHECK_EQ_INT(c.bank.nstrings, 1);
	CHECK_EQ_INT(c.bank.npacks, 2);
	/* any pack whose BMS measures the current may be the shunt */
	CHECK_EQ_INT(load("[bank]\npacks = a\nshunt = b\n"), 0);
	CHECK_EQ_INT(c.bank.shunt_idx, 1);

	/* the errors */
	expect_error("[bank]\nshunt = zz\n", "t.ini:16: [bank] shunt: no [pack.zz] section (expected the name of the pack "
		     "that measures the bank's current)");
	expect_error("[bank]\nshunt = n\n", "t.ini:16: [bank] shunt: n: protocol neey measures no current");
	expect_error("[bank]\npacks = a, s\nshunt = s\n",
		     "t.ini:16: [bank] packs: s is the bank's shunt (line 17), which measures the bank and is no member "
		     "of it");
	expect_error("[bank]\nstrings = a+s\nshunt = s\n", "t.ini:16: [bank] strings: s is the bank's shunt (line 17)");
	expect_error("[bank]\nshunt = Bad Name\n", "[bank] shunt:");

	/* a bank of the shunt alone has no member */
	packs = "[pack.s]\nprotocol = vedirect\nport = /dev/ttyUSB1\n";
	expect_error("[bank]\nshunt = s\n", "t.ini:5: [bank] shunt: s is the only pack: the bank has no member");

	/* a shunt read by listening to another master's bus is fine */
	packs = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"
		"[pack.m]\nprotocol = jk-pb\nport = /dev/ttyUSB2\naddress = 0\nlisten = true\n";
	CHECK_EQ_INT(load("[bank]\nshunt = m\n"), 0);
	CHECK_EQ_INT(c.bank.shunt_idx, 1);
	CHECK_EQ_INT(c.bank.npacks, 1);
	CHECK(c.packs[1].listen);
	return check_report();
}
