/* SPDX-License-Identifier: MIT */
/* tests/unit/test_plainreq.c - a plain HTTP request sent to the HTTPS port
 * (gateway/web/plainreq.c): its head read as RFC 9112 says (whole, cut at
 * any byte, empty lines before it, LF or CRLF, the Host in any case and
 * with blanks around it) and what is wrong said at once (a byte that is no
 * text, two spaces, HTTP/2.0, a field folded or with a blank before its
 * colon, a CR alone); its answer: 301 for GET and HEAD (HEAD without the
 * body), 308 for any other method, to https:// and the Host with its port
 * or :80, the target kept whole; the gate's refusals: two Hosts, an empty
 * one, none (even in HTTP/1.0: no name to go to), one that is no name of
 * this gateway 421 with its words (and never in a Location: no open
 * redirect, "*" in allowed_hosts aside), a target that is no path (an
 * absolute URI naming another site), a head that does not fit (414, 431);
 * every answer closes, is not stored, and a path under /api/ gets JSON. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/web/plainreq.h"
#include "check.h"

static struct gw_hosts names;
static char out[GW_PLAIN_ANSWER_MAX];

/* The answer to req (whole when it parses as such); its status. */
static int ask(const char *req, size_t n)
{
	struct gw_plain_head h;
	size_t len = 0;
	char shown[80];
	int whole = gw_plain_parse(req, n, &h);
	int st = gw_plain_answer(&h, whole == 1, &names, "Tue, 03 Jun 2025 10:00:00 GMT", out, sizeof(out), &len,
				 shown);
	CHECK_EQ_INT(len, strlen(out));
	return st;
}

static int ask_s(const char *req)
{
	return ask(req, strlen(req));
}

/* The value of header name in out ("" when absent). */
static const char *field_of(const char *name)
{
	static char v[GW_PLAIN_ANSWER_MAX];
	char key[64];
	snprintf(key, sizeof(key), "\r\n%s: ", name);
	const char *p = strstr(out, key), *end = strstr(out, "\r\n\r\n");
	if (!p || (end && p > end))
		return "";
	p += strlen(key);
	size_t n = strcspn(p, "\r\n");
	memcpy(v, p, n);
	v[n] = '\0';
	return v;
}

static bool starts(const char *prefix)
{
	return strncmp(out, prefix, strlen(prefix)) == 0;
}

static const char *body(void)
{
	const char *p = strstr(out, "\r\n\r\n");
	return p ? p + 4 : "";
}

static void test_redirects(void)
{
	CHECK_EQ_INT(ask_s("GET /some/path?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nUser-Agent: curl/7.88\r\n\r\n"),
		     301);
	CHECK(starts("HTTP/1.1 301 Moved Permanently\r\n"));
	CHECK_STR(field_of("Location"), "https://127.0.0.1:8443/some/path?x=1");
	CHECK_STR(field_of("Connection"), "close");
	CHECK_STR(field_of("Cache-Control"), "no-store");
	CHECK_STR(field_of("Date"), "Tue, 03 Jun 2025 10:00:00 GMT");
	CHECK(strstr(body(), "https://127.0.0.1:8443/some/path?x=1") != NULL);
	char cl[24];
	snprintf(cl, sizeof(cl), "%zu", strlen(body()));
	CHECK_STR(field_of("Content-Length"), cl);
	/* HEAD: the same, without the body */
	CHECK_EQ_INT(ask_s("HEAD /a HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"), 301);
	CHECK_STR(field_of("Location"), "https://localhost:8080/a");
	CHECK_STR(body(), "");
	CHECK(strcmp(field_of("Content-Length"), "0") != 0);
	/* any other method keeps it: 308 */
	CHECK_EQ_INT(ask_s("POST /api/setup/apply HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nContent-Length: 5\r\n\r\nhello"),
		     308);
	CHECK(starts("HTTP/1.1 308 Permanent Redirect\r\n"));
	CHECK_STR(field_of("Location"), "https://10.0.0.5:8080/api/setup/apply");
	CHECK_EQ_INT(ask_s("DELETE /x HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n"), 308);
	CHECK_EQ_INT(ask_s("get /x HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n"), 308); /* methods are case-sensitive */
	/* no port: the client reached :80, which speaks TLS now */
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: bmsgw.lan\r\n\r\n"), 301);
	CHECK_STR(field_of("Location"), "https://bmsgw.lan:80/");
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: 127.0.0.1:\r\n\r\n"), 301);
	CHECK_STR(field_of("Location"), "https://127.0.0.1:80/");
	CHECK_EQ_INT(ask_s("GET /p HTTP/1.1\r\nHost: [::1]:9000\r\n\r\n"), 301);
	CHECK_STR(field_of("Location"), "https://[::1]:9000/p");
	CHECK_EQ_INT(ask_s("GET /p HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n"), 301);
	CHECK_STR(field_of("Location"), "https://[fe80::1%25eth0]:80/p");
	/* the Host in any case, blanks around it; bare LFs; empty lines first */
	CHECK_EQ_INT(ask_s("GET /q HTTP/1.1\nhOsT:  \tPI.Home.Arpa:8080 \t\n\n"), 301);
	CHECK_STR(field_of("Location"), "https://PI.Home.Arpa:8080/q");
	CHECK_EQ_INT(ask_s("\r\n\r\nGET / HTTP/1.0\r\nHost: 127.0.0.1:1\r\n\r\n"), 301);
	/* the target kept as sent, escapes and all */
	CHECK_EQ_INT(ask_s("GET /a%0d%0aSet-Cookie:x?y=%22&z=//evil.example HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"),
		     301);
	CHECK_STR(field_of("Location"), "https://127.0.0.1:8080/a%0d%0aSet-Cookie:x?y=%22&z=//evil.example");
	CHECK_STR(field_of("Set-Cookie"), "");
	CHECK_EQ_INT(ask_s("GET //evil.example/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"), 301);
	CHECK_STR(field_of("Location"), "https://127.0.0.1:8080//evil.example/"); /* a path on this host */
}

static void test_refused(void)
{
	/* the gate's rules and words */
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: rebind.example:8080\r\n\r\n"), 421);
	CHECK(strstr(body(), "\"rebind.example:8080\" is not a name of this gateway") != NULL);
	CHECK_STR(field_of("Location"), "");
	CHECK_EQ_INT(ask_s("GET /api/state HTTP/1.1\r\nHost: rebind.example\r\n\r\n"), 421);
	CHECK_STR(field_of("Content-Type"), "application/json");
	CHECK(strncmp(body(), "{\"error\":\"\\\"rebind.example\\\" is not a name", 42) == 0);
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n"), 400);
	CHECK(strstr(body(), "two Host header fields") != NULL);
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: \r\n\r\n"), 400);
	CHECK(strstr(body(), "empty Host") != NULL);
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), 400);
	CHECK(strstr(body(), "without a Host") != NULL);
	CHECK_EQ_INT(ask_s("GET / HTTP/1.0\r\n\r\n"), 400); /* HTTP/1.0 too: nowhere to go */
	CHECK_STR(field_of("Location"), "");
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: 127.0.0.1 evil\r\n\r\n"), 421);
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: evil.example@127.0.0.1\r\n\r\n"), 421);
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: 127.0.0.1/evil\r\n\r\n"), 421);
	/* a target that is no path, an absolute URI to another site among them */
	CHECK_EQ_INT(ask_s("GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400);
	CHECK_STR(field_of("Location"), "");
	CHECK_EQ_INT(ask_s("OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400);
	CHECK_EQ_INT(ask_s("CONNECT evil.example:443 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400);
	/* "*" in allowed_hosts answers every name, as the gate does */
	struct gw_hosts keep = names;
	gw_hosts_add(&names, "*");
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: other.example:8080\r\n\r\n"), 301);
	CHECK_STR(field_of("Location"), "https://other.example:8080/");
	CHECK_EQ_INT(ask_s("GET / HTTP/1.1\r\nHost: oth\"er\r\n\r\n"), 421);
	names = keep;
}

static void expect_bad(const char *req, size_t n, const char *why)
{
	struct gw_plain_head h;
	CHECK_EQ_INT(gw_plain_parse(req, n, &h), 1);
	CHECK(h.bad != NULL && strstr(h.bad, why) != NULL);
	if (!h.bad || !strstr(h.bad, why))
		fprintf(stderr, "  \"%.*s\": %s\n", (int)n, req, h.bad ? h.bad : "(well formed)");
	CHECK_EQ_INT(ask(req, n), 400);
}

static void test_malformed(void)
{
	expect_bad("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 29, "METHOD TARGET");
	expect_bad("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 27, "HTTP/1.0 or HTTP/1.1");
	expect_bad("GET / HTTP/1.1 \r\n\r\n", 19, "HTTP/1.0 or HTTP/1.1");
	expect_bad("GET /\r\n\r\n", 9, "METHOD TARGET");
	expect_bad("G(T / HTTP/1.1\r\n\r\n", 18, "METHOD TARGET");
	expect_bad("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 36, "folded");
	expect_bad("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 28, "NAME: VALUE");
	expect_bad("GET / HTTP/1.1\r\nno colon\r\n\r\n", 28, "NAME: VALUE");
	expect_bad("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 29, "CR alone");
	expect_bad("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29, "a NUL");
	/* noise: said at once, before any line ends */
	expect_bad("\x80\x81\x82", 3, "no text");
	expect_bad("GET /\x01", 6, "no text");
	expect_bad("\x16\x03\x01", 3, "no text"); /* a handshake that reached the parser */
	expect_bad("GET /\rX", 7, "no text"); /* a CR alone */
}

static void test_cut(void)
{
	const char *req = "\r\nPOST /api/setup/check?a=b HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
			  "Content-Type: application/json\r\nX-CSRF-Token: 00ff\r\n\r\n{\"x\":1}";
	size_t head = strstr(req, "\r\n\r\n{") - req + 4;
	struct gw_plain_head h;
	int early = 0;
	for (size_t n = 0; n < head; n++)
		early += gw_plain_parse(req, n, &h) != 0;
	CHECK_EQ_INT(early, 0); /* no prefix is whole, none is judged bad */
	CHECK_EQ_INT(gw_plain_parse(req, head, &h), 1);
	CHECK(h.bad == NULL);
	CHECK_EQ_INT(h.end, head);
	CHECK_EQ_INT(gw_plain_parse(req, strlen(req), &h), 1);
	CHECK_EQ_INT(h.end, head); /* the body is not the head's */
	CHECK_EQ_INT(h.hosts, 1);
	CHECK_EQ_INT(h.minor, 1);
	CHECK(h.method_len == 4 && memcmp(h.method, "POST", 4) == 0);
	CHECK(h.target_len == 20 && memcmp(h.target, "/api/setup/check?a=b", 20) == 0);
	CHECK(h.host_len == 14 && memcmp(h.host, "127.0.0.1:8080", 14) == 0);
}

static void test_too_big(void)
{
	static char big[GW_PLAIN_HEAD_MAX];
	struct gw_plain_head h;
	size_t len = 0;
	char shown[80];
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', sizeof(big) - 5);
	CHECK_EQ_INT(gw_plain_parse(big, sizeof(big), &h), 0);
	CHECK_EQ_INT(gw_plain_answer(&h, false, &names, NULL, out, sizeof(out), &len, shown), 414);
	CHECK_STR(field_of("Location"), "");
	CHECK_STR(field_of("Date"), "");
	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ");
	memset(big + n, 'c', sizeof(big) - (size_t)n);
	CHECK_EQ_INT(gw_plain_parse(big, sizeof(big), &h), 0);
	CHECK_EQ_INT(gw_plain_answer(&h, false, &names, NULL, out, sizeof(out), &len, shown), 431);
	CHECK(starts("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
	/* the longest target there can be fits in the answer, twice */
	n = snprintf(big, sizeof(big), "GET /");
	size_t tail = strlen(" HTTP/1.1\r\nHost: 127.0.0.1:65535\r\n\r\n");
	memset(big + n, 'p', sizeof(big) - (size_t)n - tail);
	memcpy(big + sizeof(big) - tail, " HTTP/1.1\r\nHost: 127.0.0.1:65535\r\n\r\n", tail);
	CHECK_EQ_INT(ask(big, sizeof(big)), 301);
	CHECK_EQ_INT(strlen(field_of("Location")), strlen("https://127.0.0.1:65535") + sizeof(big) - tail - 4);
	CHECK(strlen(body()) == (size_t)atoi(field_of("Content-Length")));
}

int main(void)
{
	gw_hosts_clear(&names);
	gw_hosts_add_list(&names, "bmsgw.lan, *.home.arpa");
	test_redirects();
	test_refused();
	test_malformed();
	test_cut();
	test_too_big();
	return check_report();
}
