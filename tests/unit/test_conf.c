/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf.c - conf/: defaults, a full configuration, the example
 * files, and one test per error class with the line number it must name.
 * Runs from the repository root (the example files are opened as conf/...). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../bms/bms.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[CONF_ERR_MAX];

static int load(const char *text)
{
	err[0] = '\0';
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

/* The load must fail with a message that contains every string given. */
static void expect_error(int line, const char *text, const char *want1, const char *want2)
{
	int r = load(text);
	if (r != -1) {
		check_failed++;
		fprintf(stderr, "FAIL %s:%d: load succeeded, expected \"%s\"\n", __FILE__, line, want1);
		return;
	}
	if (!strstr(err, want1) || (want2 && !strstr(err, want2))) {
		check_failed++;
		fprintf(stderr, "FAIL %s:%d: message \"%s\" lacks \"%s\"%s%s%s\n", __FILE__, line, err, want1,
		        want2 ? " / \"" : "", want2 ? want2 : "", want2 ? "\"" : "");
		return;
	}
	check_passed++;
}
#define EXPECT_ERROR(text, want1, want2) expect_error(__LINE__, text, want1, want2)

#define ONE_PACK "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n"

static void test_defaults(void)
{
	struct conf d;
	memset(&d, 0x5a, sizeof(d));
	conf_defaults(&d);
	CHECK_STR(d.gw.listen_host, "0.0.0.0");
	CHECK_EQ_INT(d.gw.listen_port, 502);
	CHECK_EQ_INT(d.gw.base, 290);
	CHECK_EQ_INT(d.gw.float_order, REG_FLOAT_CDAB);
	CHECK_EQ_INT(d.gw.max_clients, 64);
	CHECK_NEAR(d.gw.idle_timeout, 300, 1e-9);
	CHECK_NEAR(d.gw.stale_after, 30, 1e-9);
	CHECK_EQ_INT(d.gw.stale_policy, CONF_STALE_EXCEPTION);
	CHECK_EQ_INT(d.gw.log_level, CONF_LOG_INFO);
	CHECK_EQ_INT(d.npacks, 0);

	/* the smallest valid file: one pack, everything else defaulted */
	const struct bms_driver *daly = bms_find("daly");
	CHECK(daly != NULL);
	CHECK_EQ_INT(load("# minimal\n" ONE_PACK), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.file, "t.ini");
	CHECK_STR(c.gw.listen_host, "0.0.0.0");
	CHECK_EQ_INT(c.gw.listen_port, 502);
	CHECK_EQ_INT(c.gw.base, 290);
	CHECK_EQ_INT(c.npacks, 1);
	const struct conf_pack *p = &c.packs[0];
	CHECK_STR(p->name, "a");
	CHECK(p->driver == daly);
	CHECK_STR(p->port, "/dev/ttyUSB0");
	CHECK(!p->is_tcp);
	CHECK_EQ_INT(p->baud, daly ? daly->default_baud : -1);
	CHECK_EQ_INT(p->address, 1);
	CHECK_EQ_INT(p->unit_id, 1);
	CHECK_NEAR(p->poll_interval, 5, 1e-9);
	CHECK_NEAR(p->timeout, 1.0, 1e-9);
	CHECK_EQ_INT(p->retries, 2);
	CHECK_EQ_INT(p->cells, 0);
	CHECK(!p->invert_current);
	CHECK_EQ_INT(p->line, 2);
}

static void test_full(void)
{
	const char *text =
		"; every key set\n"                                  /* 1 */
		"[gateway]\n"                                        /* 2 */
		"  listen = [::1]:1502   ; indented is fine\n"       /* 3 */
		"base = 100\n"                                       /* 4 */
		"float_order = ABCD\n"                               /* 5 */
		"max_clients = 8\n"                                  /* 6 */
		"idle_timeout = 12.5\n"                              /* 7 */
		"stale_after = 7.5\n"                                /* 8 */
		"stale_policy = flag\n"                              /* 9 */
		"log_level = debug\n"                                /* 10 */
		"\n"                                                 /* 11 */
		"[pack.bank-1_a]\n"                                  /* 12 */
		"protocol = daly\n"                                  /* 13 */
		"port = /dev/ttyUSB0\n"                              /* 14 */
		"baud = 19200\n"                                     /* 15 */
		"address = 3\n"                                      /* 16 */
		"unit_id = 10\n"                                     /* 17 */
		"poll_interval = 0.2\n"                              /* 18 */
		"timeout = 60\n"                                     /* 19 */
		"retries = 0\n"                                      /* 20 */
		"cells = 16\n"                                       /* 21 */
		"invert_current = yes\n"                             /* 22 */
		"[pack.b]\r\n"                                       /* 23 */
		"protocol = daly\r\n"                                /* 24 */
		"port = /dev/ttyUSB0\n"                              /* 25 */
		"baud = 19200\n"                                     /* 26 */
		"address = 4\n"                                      /* 27 */
		"invert_current = On\n"                              /* 28 */
		"[pack.c]\n"                                         /* 29 */
		"protocol = daly\n"                                  /* 30 */
		"port = tcp://[fe80::1%eth0]:8899\n"                 /* 31 */
		"baud = 115200\n"                                    /* 32 */
		"[pack.d]\n"                                         /* 33 */
		"protocol = daly\n"                                  /* 34 */
		"port = tcp://bms-server.lan:4001\n";                /* 35 */
	CHECK_EQ_INT(load(text), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.gw.listen_host, "::1");
	CHECK_EQ_INT(c.gw.listen_port, 1502);
	CHECK_EQ_INT(c.gw.base, 100);
	CHECK_EQ_INT(c.gw.float_order, REG_FLOAT_ABCD);
	CHECK_EQ_INT(c.gw.max_clients, 8);
	CHECK_NEAR(c.gw.idle_timeout, 12.5, 1e-9);
	CHECK_NEAR(c.gw.stale_after, 7.5, 1e-9);
	CHECK_EQ_INT(c.gw.stale_policy, CONF_STALE_FLAG);
	CHECK_EQ_INT(c.gw.log_level, CONF_LOG_DEBUG);
	CHECK_EQ_INT(c.npacks, 4);

	const struct conf_pack *p = &c.packs[0];
	CHECK_STR(p->name, "bank-1_a");
	CHECK_EQ_INT(p->line, 12);
	CHECK_EQ_INT(p->baud, 19200);
	CHECK_EQ_INT(p->address, 3);
	CHECK_EQ_INT(p->unit_id, 10);
	CHECK_NEAR(p->poll_interval, 0.2, 1e-9);
	CHECK_NEAR(p->timeout, 60, 1e-9);
	CHECK_EQ_INT(p->retries, 0);
	CHECK_EQ_INT(p->cells, 16);
	CHECK(p->invert_current);

	p = &c.packs[1];
	CHECK_STR(p->name, "b");
	CHECK_EQ_INT(p->line, 23);
	CHECK_EQ_INT(p->address, 4);
	CHECK_EQ_INT(p->unit_id, 2); /* default: the pack's position */
	CHECK(p->invert_current);

	p = &c.packs[2];
	CHECK(p->is_tcp);
	CHECK_STR(p->port, "tcp://[fe80::1%eth0]:8899");
	CHECK_STR(p->tcp_host, "fe80::1%eth0");
	CHECK_EQ_INT(p->tcp_port, 8899);
	CHECK_EQ_INT(p->baud, 115200); /* accepted, ignored on TCP */
	CHECK_EQ_INT(p->unit_id, 3);

	p = &c.packs[3];
	CHECK(p->is_tcp);
	CHECK_STR(p->tcp_host, "bms-server.lan");
	CHECK_EQ_INT(p->tcp_port, 4001);
	CHECK_EQ_INT(p->unit_id, 4);

	/* the summary names every pack and the shared wire */
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	CHECK(m != NULL);
	if (m) {
		conf_print_summary(&c, m);
		fclose(m);
		CHECK(strstr(buf, "[::1]:1502") != NULL);
		CHECK(strstr(buf, "bank-1_a") != NULL);
		CHECK(strstr(buf, "/dev/ttyUSB0 @ 19200 8N1: bank-1_a, b (shared by 2 packs") != NULL);
		CHECK(strstr(buf, "tcp [fe80::1%eth0]:8899") != NULL);
		CHECK(strstr(buf, "tcp bms-server.lan:4001") != NULL);
		CHECK(strstr(buf, "baud 115200: the serial server's line rate") != NULL);
		/* 3.5 characters at 19200 baud = 1.8 ms */
		CHECK(strstr(buf, "(shared by 2 packs, polled in turn); gap 1.8 ms (3.5 characters)") != NULL);
		CHECK(strstr(buf, "4 packs on 3 wires") != NULL);
		/* base 100: the whole map, its charge settings (offset 160) too */
		CHECK(strstr(buf, "base 100 (holding registers 100..260)") != NULL);
		free(buf);
	}
}

static void test_values(void)
{
	/* listen forms */
	CHECK_EQ_INT(load("[gateway]\nlisten = 1502\n" ONE_PACK), 0);
	CHECK_STR(c.gw.listen_host, "0.0.0.0");
	CHECK_EQ_INT(c.gw.listen_port, 1502);
	CHECK_EQ_INT(load("[gateway]\nlisten = :1503\n" ONE_PACK), 0);
	CHECK_STR(c.gw.listen_host, "0.0.0.0");
	CHECK_EQ_INT(c.gw.listen_port, 1503);
	CHECK_EQ_INT(load("[gateway]\nlisten = [::]:502\n" ONE_PACK), 0);
	CHECK_STR(c.gw.listen_host, "::");
	CHECK_EQ_INT(load("[gateway]\nlisten = localhost:502\n" ONE_PACK), 0);
	CHECK_STR(c.gw.listen_host, "localhost");

	/* range edges */
	CHECK_EQ_INT(load("[gateway]\nbase = 65375\nmax_clients = 10000\n" ONE_PACK), 0);
	CHECK_EQ_INT(c.gw.base, 65375);
	CHECK_EQ_INT(load("[gateway]\nbase = 0\nmax_clients = 1\nstale_after = 0.001\n" ONE_PACK), 0);
	CHECK_EQ_INT(load(ONE_PACK "unit_id = 247\nretries = 10\ncells = 32\n"), 0);
	const struct bms_driver *daly = bms_find("daly");
	if (daly && daly->max_address > 0) {
		char text[256];
		snprintf(text, sizeof(text), ONE_PACK "address = %d\n", daly->max_address);
		CHECK_EQ_INT(load(text), 0);
		CHECK_EQ_INT(c.packs[0].address, daly->max_address);
		snprintf(text, sizeof(text), ONE_PACK "address = %d\n", daly->max_address + 1);
		EXPECT_ERROR(text, "t.ini:4: [pack.a] address: ", "out of range for protocol daly");
	}

	/* booleans */
	static const char *const yes[] = {"true", "yes", "on", "1", "TRUE"};
	static const char *const no[] = {"false", "no", "off", "0", "Off"};
	for (size_t i = 0; i < 5; i++) {
		char text[128];
		snprintf(text, sizeof(text), ONE_PACK "invert_current = %s\n", yes[i]);
		CHECK_EQ_INT(load(text), 0);
		CHECK(c.packs[0].invert_current);
		snprintf(text, sizeof(text), ONE_PACK "invert_current = %s\n", no[i]);
		CHECK_EQ_INT(load(text), 0);
		CHECK(!c.packs[0].invert_current);
	}

	/* two packs on one bus with distinct addresses, and on different wires */
	CHECK_EQ_INT(load(ONE_PACK "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n"
	                  "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB1\nbaud = 19200\n"), 0);
	CHECK_EQ_INT(c.npacks, 3);
	CHECK_EQ_INT(c.packs[2].unit_id, 3);
	/* a missing newline at the end, BOM and a name:value line */
	CHECK_EQ_INT(load("\xEF\xBB\xBF[pack.x]\nprotocol: daly\nport = /dev/ttyS0"), 0);
	CHECK_STR(c.packs[0].port, "/dev/ttyS0");
}

/* The silence before a request: 3.5 characters at the baud rate, the
 * protocol's floor where longer, or the wire's `gap`. */
static void test_gap(void)
{
	CHECK_EQ_INT(load(ONE_PACK), 0);
	CHECK_NEAR(c.packs[0].gap, -1, 1e-9);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 3.5 * 10 / 9600, 1e-9); /* 3.6 ms */
	CHECK_NEAR(conf_pack_gap(&c.packs[0], true), 0.02, 1e-9);             /* Daly's write floor */
	CHECK_EQ_INT(load("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\nbaud = 115200\n"), 0);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 3.5 * 10 / 115200, 1e-9); /* 0.3 ms */
	/* JK-PB: its 100 ms floor beats 0.3 ms */
	CHECK_EQ_INT(load("[pack.a]\nprotocol = jk-pb\nport = /dev/ttyUSB0\naddress = 1\n"), 0);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 0.1, 1e-9);
	/* gap replaces both; a write keeps its floor */
	CHECK_EQ_INT(load(ONE_PACK "gap = 0.05\n"), 0);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 0.05, 1e-9);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], true), 0.05, 1e-9);
	CHECK_EQ_INT(load(ONE_PACK "gap = 0.001\n"), 0);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 0.001, 1e-9);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], true), 0.02, 1e-9);
	CHECK_EQ_INT(load(ONE_PACK "gap = 0\n"), 0);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 0, 1e-9);
	/* one wire, one gap: given once, it holds for every pack of the port */
	CHECK_EQ_INT(load("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"
	                  "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\ngap = 0.04\n"
	                  "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB1\n"), 0);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 0.04, 1e-9);
	CHECK_NEAR(conf_pack_gap(&c.packs[1], false), 0.04, 1e-9);
	CHECK_NEAR(conf_pack_gap(&c.packs[2], false), 3.5 * 10 / 9600, 1e-9);
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\ngap = 0.01\n"
	             "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\ngap = 0.04\n",
	             "t.ini:10: [pack.b] gap: 0.04 differs from 0.01 of [pack.a] (line 5)", "one gap per wire");
	EXPECT_ERROR(ONE_PACK "gap = -1\n", "t.ini:4: [pack.a] gap", "0");
	EXPECT_ERROR(ONE_PACK "gap = 11\n", "t.ini:4: [pack.a] gap", "10");
	EXPECT_ERROR(ONE_PACK "gap = 30ms\n", "t.ini:4: [pack.a] gap", NULL);
}

static void test_examples(void)
{
	CHECK_EQ_INT(conf_load_file("conf/demo.ini", &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.gw.listen_host, "127.0.0.1");
	CHECK_EQ_INT(c.gw.listen_port, 1502);
	CHECK_NEAR(c.gw.stale_after, 10, 1e-9);
	CHECK_EQ_INT(c.npacks, 2);
	CHECK_STR(c.packs[0].name, "demo");
	CHECK(c.packs[0].driver == bms_find("daly"));
	CHECK(c.packs[0].is_tcp);
	CHECK_STR(c.packs[0].tcp_host, "127.0.0.1");
	CHECK_EQ_INT(c.packs[0].tcp_port, 15020);
	CHECK_NEAR(c.packs[0].poll_interval, 1, 1e-9);
	CHECK_EQ_INT(c.packs[0].bms_settings, 0);
	/* the JBD pack whose settings `make demo` changes over MQTT */
	CHECK_STR(c.packs[1].name, "van");
	CHECK(c.packs[1].driver == bms_find("jbd"));
	CHECK_EQ_INT(c.packs[1].tcp_port, 15022);
	CHECK_EQ_INT(c.packs[1].bms_settings, (int)(BMS_W_BIT(BMS_W_BALANCE_START_V) | BMS_W_BIT(BMS_W_BALANCER)));
	CHECK_STR(c.file, "conf/demo.ini");

	CHECK_EQ_INT(conf_load_file("conf/serial-daly.ini", &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ_INT(c.npacks, 1);
	CHECK_STR(c.packs[0].port, "/dev/ttyUSB0");
	CHECK(!c.packs[0].is_tcp);
	CHECK_EQ_INT(c.packs[0].baud, 9600);

	CHECK_EQ_INT(conf_load_file("conf/tcp-daly.ini", &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ_INT(c.npacks, 1);
	CHECK(c.packs[0].is_tcp);
	CHECK_STR(c.packs[0].tcp_host, "192.168.1.50");
	CHECK_EQ_INT(c.packs[0].tcp_port, 8899);
	CHECK_EQ_INT(c.gw.stale_policy, CONF_STALE_FLAG);
}

static void test_errors(void)
{
	/* unknown section (also when it has no keys) */
	EXPECT_ERROR(ONE_PACK "[modbus]\n", "t.ini:4: [modbus]: unknown section", "[pack.NAME]");
	EXPECT_ERROR(ONE_PACK "\n[pack]\nx = 1\n", "t.ini:5: [pack]: unknown section", NULL);
	EXPECT_ERROR("[gateway\n" ONE_PACK, "t.ini:1: missing ']'", NULL);
	EXPECT_ERROR(ONE_PACK "[gateway] x\n", "t.ini:4: [gateway]: unexpected text after ']'", NULL);
	EXPECT_ERROR("[gateway]\n[gateway]\n" ONE_PACK, "t.ini:2: [gateway]: duplicate section (first on line 1)",
	             NULL);
	/* bad pack NAME */
	EXPECT_ERROR("[pack.Big]\nprotocol = daly\n", "t.ini:1: [pack.Big]: invalid pack name \"Big\"", NULL);
	EXPECT_ERROR("[pack.]\n", "t.ini:1: [pack.]: invalid pack name \"\"", NULL);
	EXPECT_ERROR("[pack.a b]\n", "t.ini:1: [pack.a b]: invalid pack name", NULL);
	EXPECT_ERROR("[pack.abcdefghijklmnopqrstuvwxyz012345]\n", "t.ini:1:", "invalid pack name");
	CHECK_EQ_INT(load("[pack.abcdefghijklmnopqrstuvwxyz01234]\nprotocol = daly\nport = /dev/x\n"), 0);
	EXPECT_ERROR(ONE_PACK "[pack.a]\n", "t.ini:4: [pack.a]: duplicate section (first on line 1)", NULL);

	/* unknown key: names the valid ones */
	EXPECT_ERROR(ONE_PACK "speed = 9600\n", "t.ini:4: [pack.a] speed: unknown key", "baud");
	EXPECT_ERROR("[gateway]\nport = 502\n" ONE_PACK, "t.ini:2: [gateway] port: unknown key", "listen");
	EXPECT_ERROR("base = 1\n" ONE_PACK, "t.ini:1: base: key outside of any section", NULL);
	EXPECT_ERROR(ONE_PACK "just words\n", "t.ini:4: [pack.a]: \"just words\" is not a [section]", NULL);

	/* bad number */
	EXPECT_ERROR("; c\n\n[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n\nbaud = 96OO\n",
	             "t.ini:7: [pack.a] baud: \"96OO\" is not a number", "9600");
	EXPECT_ERROR("[gateway]\nbase = 0x10\n" ONE_PACK, "t.ini:2: [gateway] base: \"0x10\" is not a number", NULL);
	EXPECT_ERROR(ONE_PACK "timeout = 1,5\n", "t.ini:4: [pack.a] timeout: \"1,5\" is not a number", NULL);
	EXPECT_ERROR(ONE_PACK "timeout = nan\n", "t.ini:4: [pack.a] timeout: \"nan\" is not a number", NULL);
	EXPECT_ERROR(ONE_PACK "retries = 2 # two\n", "t.ini:4: [pack.a] retries: \"2 # two\" is not a number",
	             "\" ;\"");
	EXPECT_ERROR(ONE_PACK "retries =\n", "t.ini:4: [pack.a] retries: empty value", NULL);
	EXPECT_ERROR(ONE_PACK "retries = ; nothing\n", "t.ini:4: [pack.a] retries: empty value", NULL);

	/* out of range */
	EXPECT_ERROR("[gateway]\nbase = 65376\n" ONE_PACK, "t.ini:2: [gateway] base: 65376 is out of range",
	             "0..65375");
	EXPECT_ERROR("[gateway]\nmax_clients = 0\n" ONE_PACK, "t.ini:2: [gateway] max_clients: 0 is out of range",
	             NULL);
	EXPECT_ERROR("[gateway]\nmax_clients = 10001\n" ONE_PACK,
	             "t.ini:2: [gateway] max_clients: 10001 is out of range", "1..10000");
	EXPECT_ERROR("[gateway]\nidle_timeout = 0\n" ONE_PACK, "t.ini:2: [gateway] idle_timeout: 0 is out of range",
	             "> 0");
	EXPECT_ERROR("[gateway]\nstale_after = -1\n" ONE_PACK, "t.ini:2: [gateway] stale_after: -1 is out", NULL);
	EXPECT_ERROR(ONE_PACK "poll_interval = 0.1\n", "t.ini:4: [pack.a] poll_interval: 0.1 is out of range",
	             ">= 0.2");
	EXPECT_ERROR(ONE_PACK "timeout = 0\n", "t.ini:4: [pack.a] timeout: 0 is out of range", NULL);
	EXPECT_ERROR(ONE_PACK "timeout = 61\n", "t.ini:4: [pack.a] timeout: 61 is out of range", "<= 60");
	EXPECT_ERROR(ONE_PACK "retries = 11\n", "t.ini:4: [pack.a] retries: 11 is out of range", "0..10");
	EXPECT_ERROR(ONE_PACK "cells = 193\n", "t.ini:4: [pack.a] cells: 193 is out of range", "0..192");
	EXPECT_ERROR(ONE_PACK "cells = 33\n", "t.ini:4: [pack.a] cells: protocol daly lists at most 32 cells", NULL);
	EXPECT_ERROR(ONE_PACK "unit_id = 0\n", "t.ini:4: [pack.a] unit_id: 0 is out of range", "1..247");
	EXPECT_ERROR(ONE_PACK "unit_id = 248\n", "t.ini:4: [pack.a] unit_id: 248 is out of range", NULL);
	EXPECT_ERROR(ONE_PACK "unit_id = 99999999999999999999\n", "t.ini:4: [pack.a] unit_id:", "out of range");
	EXPECT_ERROR(ONE_PACK "address = 0\n", "t.ini:4: [pack.a] address: 0 is out of range", NULL);
	EXPECT_ERROR(ONE_PACK "baud = 9601\n", "t.ini:4: [pack.a] baud: 9601 is not a standard rate", "115200");
	EXPECT_ERROR(ONE_PACK "invert_current = maybe\n", "t.ini:4: [pack.a] invert_current: \"maybe\"", NULL);
	EXPECT_ERROR("[gateway]\nfloat_order = badc\n" ONE_PACK, "t.ini:2: [gateway] float_order: \"badc\"",
	             "cdab, abcd");
	EXPECT_ERROR("[gateway]\nstale_policy = ignore\n" ONE_PACK, "t.ini:2: [gateway] stale_policy:", "flag");
	EXPECT_ERROR("[gateway]\nlog_level = trace\n" ONE_PACK, "t.ini:2: [gateway] log_level:", "debug");

	/* bad listen */
	EXPECT_ERROR("[gateway]\nlisten = 0.0.0.0\n" ONE_PACK, "t.ini:2: [gateway] listen: \"0.0.0.0\"", "PORT");
	EXPECT_ERROR("[gateway]\nlisten = 0.0.0.0:70000\n" ONE_PACK, "t.ini:2: [gateway] listen:", "1..65535");
	EXPECT_ERROR("[gateway]\nlisten = 0.0.0.0:0\n" ONE_PACK, "t.ini:2: [gateway] listen:", "out of range");
	EXPECT_ERROR("[gateway]\nlisten = :::502\n" ONE_PACK, "t.ini:2: [gateway] listen:", "brackets");
	EXPECT_ERROR("[gateway]\nlisten = [::1:502\n" ONE_PACK, "t.ini:2: [gateway] listen:", "']'");
	EXPECT_ERROR("[gateway]\nlisten = [::1]\n" ONE_PACK, "t.ini:2: [gateway] listen:", NULL);
	EXPECT_ERROR("[gateway]\nlisten = [1.2.3.4]:502\n" ONE_PACK, "t.ini:2: [gateway] listen:", "IPv6");
	EXPECT_ERROR("[gateway]\nlisten = 300.1.1.1:502\n" ONE_PACK, "t.ini:2: [gateway] listen:", "IPv4");
	EXPECT_ERROR("[gateway]\nlisten = host:50x\n" ONE_PACK, "t.ini:2: [gateway] listen:", "not a number");

	/* bad port */
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = ttyUSB0\n", "t.ini:3: [pack.a] port: \"ttyUSB0\"", "/dev/");
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = udp://h:1\n", "t.ini:3: [pack.a] port:", "tcp://HOST:PORT");
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = tcp://h\n", "t.ini:3: [pack.a] port:", "PORT");
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = tcp://:8899\n", "t.ini:3: [pack.a] port:", "missing host");
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = tcp://h:0\n", "t.ini:3: [pack.a] port:", NULL);
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = /dev/tty USB0\n", "t.ini:3: [pack.a] port:", "space");

	/* bad protocol lists the valid names */
	EXPECT_ERROR("[pack.a]\nprotocol = dally\nport = /dev/x\n",
	             "t.ini:2: [pack.a] protocol: unknown protocol \"dally\" (expected one of ", NULL);
	for (size_t i = 0; bms_drivers[i]; i++)
		CHECK(strstr(err, bms_drivers[i]->name) != NULL);

	/* duplicate key */
	EXPECT_ERROR(ONE_PACK "retries = 1\n\nretries = 3\n",
	             "t.ini:6: [pack.a] retries: duplicate key (first set on line 4)", NULL);
	EXPECT_ERROR("[gateway]\nbase = 1\n" ONE_PACK "[gateway]\n", "t.ini:6: [gateway]: duplicate section", NULL);

	/* missing keys name the section line */
	EXPECT_ERROR("[gateway]\n\n[pack.a]\nprotocol = daly\n",
	             "t.ini:3: [pack.a]: missing key \"port\"", "tcp://HOST:PORT");
	EXPECT_ERROR("[pack.a]\nport = /dev/x\n", "t.ini:1: [pack.a]: missing key \"protocol\"", "daly");
	EXPECT_ERROR("[pack.a]\n", "t.ini:1: [pack.a]: missing key \"protocol\"", NULL);
	EXPECT_ERROR("[gateway]\nbase = 100\n", "t.ini: no [pack.*] section", NULL);
	EXPECT_ERROR("", "t.ini: no [pack.*] section", NULL);

	/* duplicate unit id: both packs' lines */
	EXPECT_ERROR(ONE_PACK "unit_id = 5\n[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\nunit_id = 5\n",
	             "t.ini:8: [pack.b] unit_id: 5 is already used by [pack.a] (line 4)", NULL);
	/* ... also against a default (position) */
	EXPECT_ERROR(ONE_PACK "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\nunit_id = 1\n",
	             "t.ini:7: [pack.b] unit_id: 1 is already used by [pack.a] (line 1)", NULL);
	EXPECT_ERROR(ONE_PACK "unit_id = 2\n[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\n",
	             "t.ini:5: [pack.b] unit_id: 2 (default: the pack's position) is already used by [pack.a] (line 4)",
	             NULL);

	/* mixed serial settings on one wire */
	EXPECT_ERROR(ONE_PACK "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\nbaud = 19200\n",
	             "t.ini:8: [pack.b] baud: 19200 differs from 9600 of [pack.a] (line 1) on the same port /dev/ttyUSB0",
	             NULL);
	/* ... but not on TCP, where baud is ignored */
	CHECK_EQ_INT(load("[pack.a]\nprotocol = daly\nport = tcp://h:1\n"
	                  "[pack.b]\nprotocol = daly\nport = tcp://h:1\naddress = 2\nbaud = 19200\n"), 0);
	/* two packs at one address on one wire */
	EXPECT_ERROR(ONE_PACK "address = 2\n[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n",
	             "t.ini:8: [pack.b] address: 2 is already used by [pack.a] (line 4) on the same port", NULL);
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = tcp://h:1\n[pack.b]\nprotocol = daly\nport = tcp://h:1\n",
	             "t.ini:4: [pack.b] address: 1 is already used by [pack.a] (line 1)", NULL);

	/* too many packs */
	size_t cap = (CONF_MAX_PACKS + 1) * 64;
	char *big = malloc(cap);
	CHECK(big != NULL);
	if (big) {
		size_t n = 0, last = 0;
		for (int i = 0; i <= CONF_MAX_PACKS; i++) {
			last = n;
			n += (size_t)snprintf(big + n, cap - n, "[pack.p%d]\nprotocol = daly\nport = /dev/ttyS%d\n", i, i);
		}
		EXPECT_ERROR(big, "t.ini:193: [pack.p64]: too many packs", NULL);
		big[last] = '\0'; /* without the last pack: exactly CONF_MAX_PACKS */
		CHECK_EQ_INT(load(big), 0);
		CHECK_EQ_INT(c.npacks, CONF_MAX_PACKS);
		free(big);
	}

	/* a long line */
	char longline[600];
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, ONE_PACK "cells = ", strlen(ONE_PACK "cells = "));
	longline[sizeof(longline) - 1] = '\0';
	EXPECT_ERROR(longline, "t.ini:4: line too long", NULL);
	/* ... but a long comment is fine */
	char comment[900];
	snprintf(comment, sizeof(comment), ONE_PACK "cells = 4 ; %0700d\n", 0);
	CHECK_EQ_INT(load(comment), 0);
	CHECK_EQ_INT(c.packs[0].cells, 4);
}

/* position (the packs of one answer for all) and address_any */
static void test_groups(void)
{
#define PACE_A "[pack.a]\nprotocol = pace\nport = /dev/x\naddress = 1\n"
#define PACE_B "[pack.b]\nprotocol = pace\nport = /dev/x\naddress = 1\n"
	CHECK_EQ_INT(load(PACE_A "position = 1\n" PACE_B "position = 3\ncells = 8\n"), 0);
	CHECK_EQ_INT(c.packs[0].position, 1);
	CHECK_EQ_INT(c.packs[1].position, 3);
	CHECK(!c.packs[0].address_any);
	EXPECT_ERROR(PACE_A "position = 2\n" PACE_B "position = 2\n", "t.ini:10: [pack.b] position: 2 is already used",
		     "distinct position");
	EXPECT_ERROR(PACE_A "position = 2\n" PACE_B, "t.ini:9: [pack.b] address: 1 is already used",
		     "position in its answer for all");
	EXPECT_ERROR(PACE_A "position = 16\n", "t.ini:5: [pack.a] position:", NULL);
	EXPECT_ERROR(PACE_A "position = 0\n", "t.ini:5: [pack.a] position:", NULL);
	EXPECT_ERROR(ONE_PACK "position = 1\n", "t.ini:4: [pack.a] position: protocol daly has no answer for several",
		     "exist for pace");
	/* address_any: alone on its port, or a group's */
	CHECK_EQ_INT(load(PACE_A "address_any = true\n"), 0);
	CHECK(c.packs[0].address_any);
	CHECK_EQ_INT(load(PACE_A "address_any = yes\nposition = 1\n" PACE_B "position = 2\n"), 0);
	EXPECT_ERROR(PACE_A "address_any = true\n[pack.b]\nprotocol = pace\nport = /dev/x\naddress = 2\n",
		     "t.ini:5: [pack.a] address_any: [pack.a] takes answers from any address, but [pack.b]",
		     "alone on its port");
	EXPECT_ERROR("[pack.b]\nprotocol = pace\nport = /dev/x\naddress = 2\n" PACE_A "address_any = true\n",
		     "t.ini:9: [pack.a] address_any: [pack.a] takes answers", NULL);
	CHECK_EQ_INT(load(PACE_A "address_any = true\n[pack.b]\nprotocol = pace\nport = /dev/y\naddress = 2\n"), 0);
	EXPECT_ERROR(ONE_PACK "address_any = true\n", "t.ini:4: [pack.a] address_any: protocol daly takes only",
		     "exists for pace");
#undef PACE_A
#undef PACE_B
}

/* listen = true: a bus another master polls (bms/bus.h) */
static void test_listen(void)
{
#define SV3(n, a) "[pack." n "]\nprotocol = seplos3\nport = /dev/x\naddress = " a "\nlisten = true\n"
	CHECK_EQ_INT(load(SV3("m", "1") SV3("s", "2")), 0);
	CHECK(c.packs[0].listen && c.packs[1].listen);
	CHECK(c.packs[0].takeover_after == 0);
	/* a JK-PB master at DIP 0 is heard, never polled */
	CHECK_EQ_INT(load("[pack.m]\nprotocol = jk-pb\nport = /dev/x\naddress = 0\nlisten = true\n"), 0);
	EXPECT_ERROR("[pack.m]\nprotocol = jk-pb\nport = /dev/x\naddress = 0\n",
		     "t.ini:4: [pack.m] address: 0 is out of range for protocol jk-pb (expected 1..15)", NULL);
	EXPECT_ERROR("[pack.m]\nprotocol = jk-pb\nport = /dev/x\naddress = 2\nlisten = true\ncontrol = true\n",
		     "t.ini:6: [pack.m] control: a listening pack is never written to", NULL);
	EXPECT_ERROR(ONE_PACK "listen = true\n", "t.ini:4: [pack.a] listen: protocol daly cannot be read by listening",
		     "seplos3");
	EXPECT_ERROR(SV3("m", "1") "[pack.s]\nprotocol = seplos3\nport = /dev/x\naddress = 2\n",
		     "t.ini:6: [pack.s] listen: polls on /dev/x, but [pack.m] (line 1) listens there", "or on none");
	EXPECT_ERROR(SV3("m", "1") "[pack.s]\nprotocol = renogy\nport = /dev/x\naddress = 2\nlisten = true\n"
		     "baud = 19200\n", "t.ini:7: [pack.s] protocol: renogy differs from seplos3", NULL);
	EXPECT_ERROR(SV3("m", "1") "takeover_after = 10\n" SV3("s", "2"),
		     "[pack.s] takeover_after: 0 differs from 10", NULL);
	EXPECT_ERROR(SV3("m", "1") "[tunnel.t]\nport = /dev/x\nlisten = 127.0.0.1:8899\nclients = 127.0.0.1\n",
		     "t.ini:7: [tunnel.t] port: /dev/x is a bus another master polls", NULL);
	CHECK_EQ_INT(load(SV3("m", "1") "takeover_after = 10\n"), 0);
	CHECK(c.packs[0].takeover_after == 10);
	EXPECT_ERROR(ONE_PACK "takeover_after = 10\n", "t.ini:4: [pack.a] takeover_after: only a listening pack",
		     NULL);
	EXPECT_ERROR("[pack.m]\nprotocol = seplos3\nport = ble://AA:BB:CC:DD:EE:FF\nlisten = true\n",
		     "t.ini:4: [pack.m] listen: protocol seplos3 cannot be read by listening to its bus on this port", NULL);
#undef SV3
}

static void test_all_or_nothing(void)
{
	CHECK_EQ_INT(load("[gateway]\nbase = 100\n" ONE_PACK), 0);
	CHECK_EQ_INT(c.gw.base, 100);
	/* a failed load leaves the previous configuration alone */
	CHECK_EQ_INT(load("[gateway]\nbase = 200\n" ONE_PACK "cells = 99\n"), -1);
	CHECK_EQ_INT(c.gw.base, 100);
	CHECK_EQ_INT(c.npacks, 1);
	/* a small err buffer is filled and terminated */
	char small[12];
	CHECK_EQ_INT(conf_load_string("[x]\n", "t.ini", &c, small, sizeof(small)), -1);
	CHECK_STR(small, "t.ini:1: [x");
	CHECK_EQ_INT(conf_load_string("[x]\n", "t.ini", &c, NULL, 0), -1);
}

static void test_files(void)
{
	CHECK_EQ_INT(conf_load_file("conf/does-not-exist.ini", &c, err, sizeof(err)), -1);
	CHECK_STR(err, "cannot read conf/does-not-exist.ini: No such file or directory");
	CHECK_EQ_INT(conf_load_file("conf", &c, err, sizeof(err)), -1);
	CHECK_STR(err, "conf is not a regular file (a directory): refused");

	/* line numbers from a real file */
	char path[] = "/tmp/test_conf_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "w");
	fputs("[gateway]\n; comment\n\n  base = 100\n\n[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n"
	      "baud = 96OO\n", f);
	fclose(f);
	CHECK_EQ_INT(conf_load_file(path, &c, err, sizeof(err)), -1);
	char want[128];
	snprintf(want, sizeof(want), "%s:9: [pack.a] baud: \"96OO\" is not a number", path);
	CHECK(strstr(err, want) == err);
	remove(path);
}

/* A CAN port and a CAN protocol (pylon-can) go together; no baud, no
 * address; one bus is never a pack's and an inverter's. */
static void test_can(void)
{
	CHECK_EQ_INT(conf_load_file("conf/pylon-can.ini", &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK(c.packs[0].driver == bms_find("pylon-can"));
	CHECK(c.packs[0].is_can && !c.packs[0].is_slcan && !c.packs[0].is_tcp && !c.packs[0].is_ble);
	CHECK_STR(c.packs[0].can_device, "can0");
	CHECK_STR(conf_pack_wire(&c.packs[0]), "can0");
	CHECK_NEAR(c.packs[0].timeout, 3.0, 1e-9);
	CHECK_NEAR(conf_pack_gap(&c.packs[0], false), 0.0, 1e-12);

	CHECK_EQ_INT(load("[pack.a]\nprotocol = pylon-can\nport = slcan:///dev/ttyACM0\n"), 0);
	CHECK(c.packs[0].is_can && c.packs[0].is_slcan);
	CHECK_STR(c.packs[0].can_device, "/dev/ttyACM0");
	CHECK_STR(c.packs[0].port, "slcan:///dev/ttyACM0");
	CHECK_STR(conf_pack_wire(&c.packs[0]), "/dev/ttyACM0");
	CHECK_EQ_INT(c.packs[0].address, 0);

	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = /dev/ttyUSB0\n",
	             "t.ini:3: [pack.a] port: protocol pylon-can reads a CAN bus", "slcan:///dev/ttyACM0");
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = tcp://10.0.0.2:8899\n",
	             "t.ini:3: [pack.a] port: protocol pylon-can reads a CAN bus", NULL);
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = can0\n",
	             "t.ini:3: [pack.a] port: \"can0\" is a CAN port, and protocol daly is not spoken on a CAN bus",
	             "a CAN port is for pylon-can");
	EXPECT_ERROR("[pack.a]\nprotocol = daly\nport = ttyUSB0\n", "is a CAN port", "e.g. /dev/ttyUSB0");
	EXPECT_ERROR("[pack.a]\nprotocol = jbd\nport = slcan:///dev/ttyACM0\n", "is a CAN port", NULL);
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = slcan://ttyACM0\n",
	             "t.ini:3: [pack.a] port: \"slcan://ttyACM0\": \"ttyACM0\" is not an absolute device path", NULL);
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = can0\nbaud = 9600\n",
	             "t.ini:4: [pack.a] baud: a CAN bus (can0) runs at the protocol's bit rate, 500 kbit/s",
	             "expected no baud key");
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = can0\naddress = 2\n",
	             "t.ini:4: [pack.a] address: protocol pylon-can has no bus address", NULL);
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = can0\ncontrol = true\n", "[pack.a] control:", NULL);
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = can0\n[pack.b]\nprotocol = pylon-can\nport = can0\n",
	             "[pack.b] port: can0 is already used by [pack.a]", "has no bus address");
	/* one adapter, two spellings */
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = slcan:///dev/ttyACM0\n[pack.b]\nprotocol = daly\n"
	             "port = /dev/ttyACM0\n", "[pack.b] port: /dev/ttyACM0 opens /dev/ttyACM0, as [pack.a]", NULL);
	/* a tunnel lends a wire, not a CAN bus */
	EXPECT_ERROR("[pack.a]\nprotocol = pylon-can\nport = can0\n[tunnel.t]\nport = can0\nlisten = 127.0.0.1:9000\n"
	             "clients = 127.0.0.1\n", "[tunnel.t] port: can0 is a CAN bus bmsgw only listens to", NULL);
	/* a tunnel's listen is not the Modbus server's port (any address, :: too) */
	EXPECT_ERROR(ONE_PACK "[tunnel.t]\nport = /dev/ttyUSB0\nlisten = 0.0.0.0:502\nclients = 127.0.0.1\n",
		     "[tunnel.t] listen: port 502 is the Modbus server's", NULL);
	EXPECT_ERROR("[gateway]\nlisten = 127.0.0.1:1502\n" ONE_PACK
		     "[tunnel.t]\nport = /dev/ttyUSB0\nlisten = [::]:1502\nclients = 127.0.0.1\n",
		     "[tunnel.t] listen: port 1502 is the Modbus server's", NULL);
	CHECK_EQ_INT(load("[gateway]\nlisten = 127.0.0.1:1502\n" ONE_PACK
			  "[tunnel.t]\nport = /dev/ttyUSB0\nlisten = 127.0.0.2:1502\nclients = 127.0.0.1\n"), 0);
	/* the battery's bus is no inverter's: bmsgw would be a second battery */
	static const char inv[] = "[limits]\n[inverter.i]\nprotocol = pylon-can\nsource = a\nport = ";
	char text[512];
	snprintf(text, sizeof(text), "[pack.a]\nprotocol = pylon-can\nport = can0\n%scan0\n", inv);
	EXPECT_ERROR(text, "[inverter.i] port: can0 is the CAN bus [pack.a] (line 1) reads: bmsgw would be a second "
	             "battery on that bus", NULL);
	snprintf(text, sizeof(text), "[pack.a]\nprotocol = pylon-can\nport = slcan:///dev/ttyACM0\n%s"
	         "slcan:///dev/ttyACM0\n", inv);
	EXPECT_ERROR(text, "[inverter.i] port: /dev/ttyACM0 is the CAN bus [pack.a] (line 1) reads", NULL);
	/* on a bus of its own, the battery's limits feed an inverter */
	snprintf(text, sizeof(text), "[pack.a]\nprotocol = pylon-can\nport = slcan:///dev/ttyACM0\n%s"
	         "slcan:///dev/ttyACM1\n", inv);
	CHECK_EQ_INT(load(text), 0);
	CHECK_STR(err, "");
}

/* conf_warnings(): a stale_after not longer than a pack's poll cycle (its
 * interval, one answer with its retries, one answer's wait of each other
 * pack on its wire) is said with file:line; the defaults are quiet, and so
 * are the example files. */
static char warned[4][CONF_ERR_MAX];
static int nwarned;
static void keep_warning(void *arg, const char *text)
{
	(void)arg;
	if (nwarned < 4)
		snprintf(warned[nwarned], sizeof(warned[0]), "%s", text);
	nwarned++;
}

static int warnings_of(const char *text)
{
	nwarned = 0;
	if (load(text) != 0) {
		check_failed++;
		fprintf(stderr, "FAIL %s: %s\n", __func__, err);
		return -1;
	}
	return conf_warnings(&c, keep_warning, NULL);
}

static void test_warnings(void)
{
	CHECK_EQ_INT(warnings_of(ONE_PACK), 0); /* stale_after 30, cycle 5 + 1 x 3 */
	int on_bus = 0;
	CHECK_NEAR(conf_pack_cycle(&c, 0, &on_bus), 8.0, 1e-9);
	CHECK_EQ_INT(on_bus, 1);
	/* the trap of a long run: stale_after = 5 beside poll_interval = 5 */
	CHECK_EQ_INT(warnings_of("[gateway]\nstale_after = 5\n\n" ONE_PACK), 1);
	CHECK(strstr(warned[0], "t.ini:4: [pack.a]: stale_after = 5 s") != NULL);
	CHECK(strstr(warned[0], "about 8.0 s") != NULL && strstr(warned[0], "at least 8 s") != NULL);
	CHECK_EQ_INT(nwarned, 1);
	/* two packs on one wire: each waits for the other's answer too */
	const char *two = "[gateway]\nstale_after = 8.5\n"
			  "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"
			  "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n"
			  "[pack.c]\nprotocol = daly\nport = /dev/ttyUSB1\n";
	CHECK_EQ_INT(warnings_of(two), 2);
	CHECK_NEAR(conf_pack_cycle(&c, 0, &on_bus), 9.0, 1e-9);
	CHECK_EQ_INT(on_bus, 2);
	CHECK_NEAR(conf_pack_cycle(&c, 2, &on_bus), 8.0, 1e-9);
	CHECK(strstr(warned[0], "[pack.a]") != NULL && strstr(warned[1], "[pack.b]") != NULL);
	/* a faster poll is fine with a short stale_after */
	CHECK_EQ_INT(warnings_of("[gateway]\nstale_after = 5\n\n" ONE_PACK "poll_interval = 2\ntimeout = 0.5\n"), 0);
	/* every example file is quiet */
	const char *ex[] = { "conf/bmsgw.ini", "conf/bank.ini", "conf/demo.ini", "conf/limits.ini" };
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		nwarned = 0;
		CHECK_EQ_INT(conf_load_file(ex[i], &c, err, sizeof(err)), 0);
		CHECK_EQ_INT(conf_warnings(&c, keep_warning, NULL), 0);
	}
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_defaults();
	test_full();
	test_values();
	test_gap();
	test_examples();
	test_errors();
	test_groups();
	test_listen();
	test_all_or_nothing();
	test_files();
	test_can();
	test_warnings();
	if (check_failed == 0) {
		CHECK_EQ_INT(conf_load_file("conf/serial-daly.ini", &c, err, sizeof(err)), 0);
		conf_print_summary(&c, stdout);
	}
	return check_report();
}
