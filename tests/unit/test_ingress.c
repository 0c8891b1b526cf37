/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ingress.c - Home Assistant's ingress proxy told apart
 * (gateway/web/ingress.c): X-Ingress-Path is believed from 172.30.32.2
 * alone (IPv4, and IPv4-mapped IPv6), with a well-formed prefix; the
 * header from any other address, or a prefix that is not one, is forged;
 * without the header, or with ingress off, a request is any request; and
 * [http] ingress in the configuration (default off, a boolean). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/web/ingress.h"
#include "../../gateway/web/http_conf.h"
#include "check.h"
#include "sections.h"

static const char *prefix = "/api/hassio_ingress/Xz0-_a9K2mB4pQ";

static enum gw_ingress judge4(bool on, const char *addr, const char *header)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
	CHECK_EQ_INT(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	return gw_ingress_judge(on, (const struct sockaddr *)&a, sizeof(a), header);
}

static enum gw_ingress judge6(bool on, const char *addr, const char *header)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
	CHECK_EQ_INT(inet_pton(AF_INET6, addr, &a.sin6_addr), 1);
	return gw_ingress_judge(on, (const struct sockaddr *)&a, sizeof(a), header);
}

static void test_addresses(void)
{
	CHECK_EQ_INT(judge4(true, "172.30.32.2", prefix), GW_INGRESS_PROXY);
	CHECK_EQ_INT(judge6(true, "::ffff:172.30.32.2", prefix), GW_INGRESS_PROXY);
	/* its neighbours, the gateway of the network, another add-on, the host */
	CHECK_EQ_INT(judge4(true, "172.30.32.1", prefix), GW_INGRESS_FORGED);
	CHECK_EQ_INT(judge4(true, "172.30.32.3", prefix), GW_INGRESS_FORGED);
	CHECK_EQ_INT(judge4(true, "172.30.33.2", prefix), GW_INGRESS_FORGED);
	CHECK_EQ_INT(judge4(true, "127.0.0.1", prefix), GW_INGRESS_FORGED);
	CHECK_EQ_INT(judge4(true, "2.32.30.172", prefix), GW_INGRESS_FORGED); /* byte order */
	CHECK_EQ_INT(judge6(true, "::1", prefix), GW_INGRESS_FORGED);
	CHECK_EQ_INT(judge6(true, "::ffff:172.30.32.3", prefix), GW_INGRESS_FORGED);
	CHECK_EQ_INT(judge6(true, "64:ff9b::ac1e:2002", prefix), GW_INGRESS_FORGED); /* NAT64, not mapped */
	/* an unknown peer, a short address */
	CHECK_EQ_INT(gw_ingress_judge(true, NULL, 0, prefix), GW_INGRESS_FORGED);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "172.30.32.2", &a.sin_addr);
	CHECK_EQ_INT(gw_ingress_judge(true, (const struct sockaddr *)&a, 4, prefix), GW_INGRESS_FORGED);
	/* no header: any request, from the proxy too */
	CHECK_EQ_INT(judge4(true, "172.30.32.2", NULL), GW_INGRESS_NONE);
	CHECK_EQ_INT(judge4(true, "192.0.2.7", NULL), GW_INGRESS_NONE);
	/* ingress off: the header means nothing, from anywhere */
	CHECK_EQ_INT(judge4(false, "172.30.32.2", prefix), GW_INGRESS_NONE);
	CHECK_EQ_INT(judge4(false, "192.0.2.7", prefix), GW_INGRESS_NONE);
}

static void test_prefixes(void)
{
	char longest[200], over[200];
	snprintf(longest, sizeof(longest), "%s%0128d", GW_INGRESS_BASE, 0);
	snprintf(over, sizeof(over), "%s%0129d", GW_INGRESS_BASE, 0);
	CHECK(gw_ingress_prefix_ok(prefix));
	CHECK(gw_ingress_prefix_ok("/api/hassio_ingress/a"));
	CHECK(gw_ingress_prefix_ok(longest));
	const char *bad[] = {
		over, "", "/", "/api/hassio_ingress/", "/api/hassio_ingress", "/api/hassio_ingress/abc/",
		"/api/hassio_ingress/abc/def", "/api/hassio_ingress/." "./x", "/api/hassio_ingress/a.b",
		"/api/hassio_ingress/a b", "/api/hassio_ingress/a\r\nX: y", "/api/hassio_ingress/a\"", "api/hassio_ingress/a",
		"//evil.example/api/hassio_ingress/a", "/API/HASSIO_INGRESS/a", "/api/hassio_ingress/a%2f",
		"/api/hassio_ingress/a<script>", NULL,
	};
	for (int i = 0; bad[i]; i++) {
		if (gw_ingress_prefix_ok(bad[i]))
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
		CHECK(!gw_ingress_prefix_ok(bad[i]));
		CHECK_EQ_INT(judge4(true, "172.30.32.2", bad[i]), GW_INGRESS_FORGED);
	}
	CHECK(!gw_ingress_prefix_ok(NULL));
}

static void test_conf(void)
{
	static struct conf c;
	char err[512];
	const char *base = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[http]\nlisten = 127.0.0.1:8099\n";
	char text[512];
	CHECK_EQ_INT(conf_load_string(base, "t.ini", &c, err, sizeof(err)), 0);
	CHECK(!gw_http_cfg(&c)->ingress);
	snprintf(text, sizeof(text), "%singress = true\nclients = 172.30.32.2\n", base);
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), 0);
	CHECK(gw_http_cfg(&c)->ingress);
	snprintf(text, sizeof(text), "%singress = proxy\n", base);
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "t.ini:6") && strstr(err, "ingress"));
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_addresses();
	test_prefixes();
	test_conf();
	return check_report();
}
