/* SPDX-License-Identifier: MIT */
/* tests/unit/test_hosts.c - the names the page answers to (the Host
 * header, gateway/web/hosts.c): any address literal (a.b.c.d, [IPv6] with
 * or without a zone), localhost and NAME.localhost, a request without Host;
 * the names of the machine (its host name, its first label, under .local
 * and under each domain of resolv.conf's domain and search lines), of the
 * configuration (a name, *.DOMAIN for the names under it, * for every
 * name), in any case, with a trailing dot, with any port or none; nothing
 * else: another name, one that only starts or ends like a good one, a
 * malformed header.  And [http] allowed_hosts in the configuration: what
 * it takes, what it refuses (an address, a port, a malformed name). */
#include <stdio.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/web/hosts.h"
#include "../../gateway/web/http_conf.h"
#include "check.h"
#include "sections.h"

static struct gw_hosts h;

static void expect(const char *header, bool ok)
{
	bool got = gw_hosts_ok(&h, header);
	if (got != ok)
		fprintf(stderr, "  Host \"%s\": %s, expected %s\n", header, got ? "answered" : "refused",
			ok ? "answered" : "refused");
	CHECK(got == ok);
}

static void test_addresses(void)
{
	gw_hosts_clear(&h);
	const char *yes[] = {
		NULL, "", "127.0.0.1", "127.0.0.1:8080", "192.168.1.20:80", "10.9.9.9", "192.168.1.20:", "[::1]",
		"[::1]:8080", "[fe80::1%25eth0]:8080", "[2001:db8::7]", "localhost", "LOCALHOST:8080", "localhost.",
		"bmsgw.localhost", "a.b.localhost:1", NULL,
	};
	for (int i = 1; yes[i]; i++)
		expect(yes[i], true);
	expect(NULL, true);
	const char *no[] = {
		"rebind.example", "rebind.example:8080", "127.0.0.1.rebind.example", "localhost.rebind.example",
		"localhostx", "xlocalhost", ".localhost", "::1", "[::1", "[::1]x", "[::1]:80x", "[not-v6]",
		"127.0.0.1:80:80", "127.0.0.1:123456", "127.1", "0x7f.0.0.1", "256.1.1.1", "a..b", ".", "..", "a b",
		"a\r\nX: y", "ex%41mple", "ümlaut.example", "[::1]:8080 ", "[fe80::1%]", "[fe80::1%25e\n[x]",
		"[fe80::1%25 x]", NULL,
	};
	for (int i = 0; no[i]; i++)
		expect(no[i], false);
	char longest[300];
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	expect(longest, false);
}

static void test_machine(void)
{
	gw_hosts_clear(&h);
	gw_hosts_add_machine(&h, "Pi.fritz.box",
			     "# a comment\nnameserver 192.168.178.1\nsearch lan home.arpa ; comment\n"
			     "  domain\tfritz.box\noptions ndots:1\nsearchx nope\nsearch\n");
	const char *yes[] = {
		"pi", "PI:8080", "pi.fritz.box", "pi.fritz.box.:80", "pi.local", "pi.lan", "pi.home.arpa", "127.0.0.1",
		NULL,
	};
	for (int i = 0; yes[i]; i++)
		expect(yes[i], true);
	const char *no[] = {
		"fritz.box", "lan", "pi.nope", "x.pi.lan", "pi.lan.rebind.example", "pi.comment", "pi.local.example",
		"pix", NULL,
	};
	for (int i = 0; no[i]; i++)
		expect(no[i], false);
	/* no host name, one that is no name: nothing added */
	gw_hosts_clear(&h);
	gw_hosts_add_machine(&h, "", "search lan\n");
	gw_hosts_add_machine(&h, NULL, NULL);
	gw_hosts_add_machine(&h, "(none)", "search lan\n");
	CHECK_EQ_INT(h.n, 0);
}

static void test_lists(void)
{
	gw_hosts_clear(&h);
	gw_hosts_add_list(&h, " bmsgw.example.net,*.Home.Arpa ,,\tbattery.");
	CHECK_EQ_INT(h.n, 3);
	expect("bmsgw.example.net:8443", true);
	expect("BMSGW.EXAMPLE.NET", true);
	expect("pi.home.arpa", true);
	expect("a.b.home.arpa:1", true);
	expect("battery", true);
	expect("home.arpa", false);
	expect("evilhome.arpa", false);
	expect("example.net", false);
	expect("x.bmsgw.example.net", false);
	expect("bmsgw.example.net.rebind.example", false);
	/* what is no name is left out, a duplicate once, * answers every name */
	CHECK(!gw_hosts_add(&h, "192.168.1.2"));
	CHECK(!gw_hosts_add(&h, "a..b"));
	CHECK(!gw_hosts_add(&h, "*."));
	CHECK(!gw_hosts_add(&h, "**.x"));
	CHECK(gw_hosts_add(&h, "battery"));
	CHECK_EQ_INT(h.n, 3);
	expect("anything.example", false);
	gw_hosts_add(&h, "*");
	expect("anything.example", true);
	expect("a b", false); /* still not a name */
	/* full: the rest left out, nothing overwritten */
	gw_hosts_clear(&h);
	char name[32];
	for (int i = 0; i < GW_HOSTS_MAX + 5; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		CHECK(gw_hosts_add(&h, name) == (i < GW_HOSTS_MAX));
	}
	expect("n0.example", true);
	expect("n63.example", true);
	expect("n64.example", false);
}

static void test_conf(void)
{
	static struct conf c;
	char err[512], text[512];
	const char *base = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[http]\nlisten = 127.0.0.1:8080\n";
	CHECK_EQ_INT(conf_load_string(base, "t.ini", &c, err, sizeof(err)), 0);
	CHECK_STR(gw_http_cfg(&c)->allowed_hosts, "");
	snprintf(text, sizeof(text), "%sallowed_hosts = bmsgw.example.net, *.home.arpa, pi., *\n", base);
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), 0);
	CHECK_STR(gw_http_cfg(&c)->allowed_hosts, "bmsgw.example.net, *.home.arpa, pi., *");
	const struct {
		const char *value, *words;
	} bad[] = {
		{ "192.168.1.20", "is an address" }, { "pi, [::1]", "is an address" }, { "fe80::1", "is an address" },
		{ "pi:8080", "has a port" }, { "a..b", "not a host name" }, { "bad_host!", "not a host name" },
		{ "*.", "not a host name" }, { "x.*", "not a host name" }, { ".lan", "not a host name" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%sallowed_hosts = %s\n", base, bad[i].value);
		CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), -1);
		bool found = strstr(err, "t.ini:6: [http] allowed_hosts") && strstr(err, bad[i].words);
		if (!found)
			fprintf(stderr, "  allowed_hosts = %s: \"%s\"\n", bad[i].value, err);
		CHECK(found);
	}
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_addresses();
	test_machine();
	test_lists();
	test_conf();
	return check_report();
}
