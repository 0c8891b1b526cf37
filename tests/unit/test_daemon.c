/* SPDX-License-Identifier: MIT */
/* tests/unit/test_daemon.c - the daemon's helpers that need no loop:
 * folding of repeated log lines (gateway/core/log.c), numeric addresses that
 * never go to DNS (gateway/core/resolve.c) and the machine's tag
 * (gateway/core/machine.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../gateway/core/log.h"
#include "../../gateway/core/machine.h"
#include "../../gateway/core/resolve.h"
#include "check.h"

static FILE *out;

/* Lines written since the last call, into buf; returns how many. */
static int take(char *buf, size_t cap)
{
	fflush(out);
	rewind(out);
	size_t r = fread(buf, 1, cap - 1, out);
	buf[r] = '\0';
	int lines = 0;
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	if (!freopen(NULL, "w+", out))
		abort();
	gw_log_set_output(out);
	return lines;
}

static void test_fold(void)
{
	char buf[8192];
	gw_log_threshold = GW_LOG_DEBUG;
	/* a burst of one text: printed once, then counted */
	for (int i = 0; i < 1000; i++)
		gw_log_text(GW_LOG_WARN, "accept: Too many open files", 100.0 + i * 0.001);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "warn: accept: Too many open files\n") != NULL);
	/* before the interval is over, nothing more */
	gw_log_flush(100.0 + GW_LOG_REPEAT_S - 0.5);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 0);
	/* after it, the count comes out */
	gw_log_flush(101.0 + GW_LOG_REPEAT_S);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "accept: Too many open files (repeated 999 times)") != NULL);
	/* flushed: nothing pending */
	gw_log_flush(200.0);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 0);

	/* a flood lasting a minute writes one line per interval, not thousands */
	int lines = 0;
	for (int i = 0; i < 60000; i++) {
		double t = 300.0 + i * 0.001;
		gw_log_text(GW_LOG_ERROR, "link /dev/ttyUSB0: read: Input/output error", t);
		if (i % 1000 == 0)
			gw_log_flush(t);
		lines += take(buf, sizeof(buf));
	}
	CHECK(lines >= 5 && lines <= 8);

	/* a line is one line: control characters from outside are escaped
	 * (a certificate's role "Viewer\n...: role Operator" forged a line) */
	gw_log_text(GW_LOG_INFO, "802: role \"Viewer\n2026-01-01 00:00:00.000 bmsgw info: role Operator\r\x1b[2J\"", 400.0);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "role \"Viewer\\x0A2026-01-01 00:00:00.000 bmsgw info: role Operator\\x0D\\x1B[2J\"\n") != NULL);

	/* an outsider's refusals, each with its own port: folded by source,
	 * 10,000 of them in 5 s are one line, and the count comes out later */
	gw_log_flush(449.0); /* what the flood above left */
	take(buf, sizeof(buf));
	for (int i = 0; i < 10000; i++) {
		char who[64], key[96], text[160];
		snprintf(who, sizeof(who), "Modbus client 10.0.0.7:%d", 1024 + i);
		gw_log_source("refused", who, key, sizeof(key));
		snprintf(text, sizeof(text), "control: %s: pack p1: FC06 at 307 count 1: refused (exception 0x01)", who);
		gw_log_keyed_text(GW_LOG_INFO, key, text, 450.0 + i * 0.0005);
	}
	CHECK_EQ_INT(take(buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "Modbus client 10.0.0.7:1024: pack p1") != NULL);
	gw_log_flush(450.0 + GW_LOG_REPEAT_S + 0.1);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "(and 9999 more like it)") != NULL);
	/* from 200 sources at once: 20 of them, then one line of the count */
	for (int i = 0; i < 200; i++) {
		char who[64], key[96];
		snprintf(who, sizeof(who), "Modbus client 10.1.%d.%d:4000", i / 100, i % 100 + 1);
		gw_log_source("refused", who, key, sizeof(key));
		gw_log_keyed_text(GW_LOG_INFO, key, who, 480.0);
	}
	CHECK_EQ_INT(take(buf, sizeof(buf)), 20);
	gw_log_flush(480.0 + GW_LOG_REPEAT_S);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 1);
	CHECK(strstr(buf, "180 line(s) of more than 20 sources") != NULL);
	/* the source is the address without its port */
	char k[96];
	gw_log_source("refused", "Modbus client 127.0.0.1:5502", k, sizeof(k));
	CHECK_STR(k, "refused Modbus client 127.0.0.1");
	gw_log_source("refused", "Modbus/TCP Security client [::1]:40000 (role \"Viewer\")", k, sizeof(k));
	CHECK_STR(k, "refused Modbus/TCP Security client [::1] (role \"Viewer\")");
	gw_log_source("x", "mqtt", k, sizeof(k));
	CHECK_STR(k, "x mqtt");
	gw_log_source("x", "a at 12:30 and port:99", k, sizeof(k));
	CHECK_STR(k, "x a at 12:30 and port:99");

	/* different texts are not folded together */
	gw_log_text(GW_LOG_INFO, "link /dev/ttyUSB0: open", 500.0);
	gw_log_text(GW_LOG_INFO, "link /dev/ttyUSB1: open", 500.0);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 2);

	/* the same text after the interval prints again, with the count of the meantime */
	gw_log_text(GW_LOG_WARN, "pack a: poll failed", 600.0);
	gw_log_text(GW_LOG_WARN, "pack a: poll failed", 601.0);
	gw_log_text(GW_LOG_WARN, "pack a: poll failed", 602.0);
	gw_log_text(GW_LOG_WARN, "pack a: poll failed", 600.0 + GW_LOG_REPEAT_S + 1);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 2);
	CHECK(strstr(buf, "pack a: poll failed (repeated 2 times)") != NULL);

	/* a key's next line after the interval: the count of the last one on
	 * a line of its own first, so that every other line is one refusal */
	for (int i = 0; i < 6; i++) {
		char who[64], key[96];
		snprintf(who, sizeof(who), "Modbus client 10.2.0.1:%d", 5000 + i);
		gw_log_source("refused", who, key, sizeof(key));
		gw_log_keyed_text(GW_LOG_INFO, key, who, 650.0 + i * 0.1);
	}
	CHECK_EQ_INT(take(buf, sizeof(buf)), 1);
	gw_log_source("refused", "Modbus client 10.2.0.1:6000", k, sizeof(k));
	gw_log_keyed_text(GW_LOG_INFO, k, "Modbus client 10.2.0.1:6000", 650.0 + GW_LOG_REPEAT_S + 1);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 2);
	CHECK(strstr(buf, "Modbus client 10.2.0.1:5000 (and 5 more like it)\n") != NULL);
	CHECK(strstr(buf, "Modbus client 10.2.0.1:6000\n") != NULL);

	/* debug lines (hex dumps) are never folded */
	for (int i = 0; i < 5; i++)
		gw_log_text(GW_LOG_DEBUG, "tcp://x (13 bytes): a5 40 90", 700.0);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 5);

	/* below the threshold: nothing, and nothing counted */
	gw_log_threshold = GW_LOG_WARN;
	gw_log_text(GW_LOG_INFO, "quiet", 800.0);
	CHECK_EQ_INT(take(buf, sizeof(buf)), 0);

	/* more distinct texts than slots: an evicted text's count is printed, not lost */
	gw_log_threshold = GW_LOG_INFO;
	gw_log_text(GW_LOG_WARN, "first", 900.0);
	gw_log_text(GW_LOG_WARN, "first", 900.1);
	take(buf, sizeof(buf));
	for (int i = 0; i < 100; i++) {
		char t[32];
		snprintf(t, sizeof(t), "text %d", i);
		gw_log_text(GW_LOG_WARN, t, 901.0 + i * 0.01);
	}
	take(buf, sizeof(buf));
	CHECK(strstr(buf, "first (repeated 1 time)") != NULL);
}

static void test_numeric(void)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	CHECK(gw_numeric_addr("192.168.1.20", 8234, &ss, &len));
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8234);
	CHECK_EQ_INT(len, sizeof(struct sockaddr_in));
	CHECK(gw_numeric_addr("::1", 502, &ss, &len));
	CHECK_EQ_INT(ss.ss_family, AF_INET6);
	CHECK_EQ_INT(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 502);
	CHECK(gw_numeric_addr("fe80::1%lo", 502, &ss, &len));
	CHECK(((struct sockaddr_in6 *)&ss)->sin6_scope_id != 0);
	/* names are left to the resolver */
	CHECK(!gw_numeric_addr("usr-n540.lan", 8234, &ss, &len));
	CHECK(!gw_numeric_addr("localhost", 502, &ss, &len));
	CHECK(!gw_numeric_addr("", 502, &ss, &len));
}

/* The machine's tag: the first 8 hex digits of machine-id(5), lower case;
 * the first file that holds one. */
static void test_machine_tag(void)
{
	char tag[GW_MACHINE_TAG_LEN + 1];
	CHECK_EQ_INT(gw_machine_tag_parse("3d1219c7c4c5404aaa1f6d2a48adfda4\n", tag), 0);
	CHECK_STR(tag, "3d1219c7");
	CHECK_EQ_INT(gw_machine_tag_parse("  3D1219C7C4C5404AAA1F6D2A48ADFDA4", tag), 0);
	CHECK_STR(tag, "3d1219c7");
	CHECK_EQ_INT(gw_machine_tag_parse("3d1219c", tag), -1); /* too short */
	CHECK_STR(tag, "");
	CHECK_EQ_INT(gw_machine_tag_parse("uninitialized\n", tag), -1); /* systemd's first-boot marker */
	CHECK_EQ_INT(gw_machine_tag_parse("", tag), -1);
	char empty[] = "/tmp/bmsgw-test-machine-XXXXXX", good[] = "/tmp/bmsgw-test-machine-XXXXXX";
	int fe = mkstemp(empty), fg = mkstemp(good);
	CHECK(fe >= 0 && fg >= 0);
	CHECK_EQ_INT(write(fg, "0123ABCDef0123456789abcdef012345\n", 33), 33);
	close(fe);
	close(fg);
	const char *const paths[] = { "/nonexistent/machine-id", empty, good };
	CHECK_EQ_INT(gw_machine_tag(paths, 3, tag), 0);
	CHECK_STR(tag, "0123abcd");
	CHECK_EQ_INT(gw_machine_tag(paths, 2, tag), -1);
	CHECK_STR(tag, "");
	unlink(empty);
	unlink(good);
}

int main(void)
{
	out = tmpfile();
	if (!out)
		return 2;
	gw_log_set_output(out);
	test_fold();
	test_numeric();
	test_machine_tag();
	gw_log_set_output(NULL);
	return check_report();
}
