/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_mbtls.c - [modbus_tls] (Modbus/TCP Security) and an
 * empty [gateway] listen: defaults, the three files required, a key others
 * may read, a key of another certificate, a CA file that is no PEM, a port
 * another server takes, and what --check prints.  The certificates are made
 * with the openssl command in a directory of the test's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conf/conf.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/modbus/modbus_conf.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[1024];
static char dir[] = "/tmp/test_conf_mbtls.XXXXXX";

static const char *packs = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n"; /* lines 1-3 */

static int load(const char *tail)
{
	static char text[8192];
	snprintf(text, sizeof(text), "%s%s", packs, tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const char *tail, const char *needle)
{
	CHECK_EQ_INT(load(tail), -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

static void make_certs(void)
{
	char cmd[2048];
	if (!mkdtemp(dir))
		abort();
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ca "
		 "-keyout ca.key -out ca.pem && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-days 2 -subj /CN=s -keyout s.key -out s.pem && openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=o -keyout o.key -out o.pem && chmod 600 s.key o.key "
		 "&& echo nothing > notpem.pem", dir);
	if (system(cmd) != 0)
		abort();
}

/* [modbus_tls] with files of dir: cert, key, ca, then extra lines. */
static const char *tls(const char *cert, const char *key, const char *ca, const char *extra)
{
	static char t[2048];
	snprintf(t, sizeof(t), "[modbus_tls]\ncert = %s/%s\nkey = %s/%s\nca = %s/%s\n%s", dir, cert, dir, key, dir, ca,
		 extra);
	return t;
}

static void test_good(void)
{
	CHECK_EQ_INT(load(""), 0);
	CHECK(!gw_mbtls_cfg(&c)->enabled);
	CHECK_EQ_INT(c.gw.listen_port, 502);
	CHECK_EQ_INT(load(tls("s.pem", "s.key", "ca.pem", "")), 0);
	CHECK(gw_mbtls_cfg(&c)->enabled);
	CHECK_EQ_INT(gw_mbtls_cfg(&c)->line, 4);
	CHECK_STR(gw_mbtls_cfg(&c)->listen_host, "0.0.0.0");
	CHECK_EQ_INT(gw_mbtls_cfg(&c)->listen_port, 802);
	CHECK_STR(gw_mbtls_cfg(&c)->write_role, "Operator");
	char tail[2200];
	snprintf(tail, sizeof(tail), "[gateway]\nlisten =\n%s", tls("s.pem", "s.key", "ca.pem",
		 "listen = 127.0.0.1:8802\nwrite_role = Maintainer\n"));
	CHECK_EQ_INT(load(tail), 0);
	CHECK_EQ_INT(c.gw.listen_port, 0);
	CHECK_STR(c.gw.listen_host, "");
	CHECK_EQ_INT(gw_mbtls_cfg(&c)->listen_port, 8802);
	CHECK_STR(gw_mbtls_cfg(&c)->write_role, "Maintainer");
	/* no Modbus server at all is a configuration too (MQTT, the page) */
	CHECK_EQ_INT(load("[gateway]\nlisten =\n"), 0);
	CHECK_EQ_INT(c.gw.listen_port, 0);
}

static void test_errors(void)
{
	char tail[2200];
	snprintf(tail, sizeof(tail), "[modbus_tls]\nkey = %s/s.key\nca = %s/ca.pem\n", dir, dir);
	expect_error(tail, "t.ini:4: [modbus_tls]: missing key \"cert\" (expected cert = the server's certificate");
	snprintf(tail, sizeof(tail), "[modbus_tls]\ncert = %s/s.pem\nkey = %s/s.key\n", dir, dir);
	expect_error(tail, "[modbus_tls]: missing key \"ca\"");
	expect_error("[modbus_tls]\ncert = s.pem\n", "t.ini:5: [modbus_tls] cert: \"s.pem\" is not an absolute path");
	expect_error(tls("s.pem", "o.key", "ca.pem", ""), "t.ini:6: [modbus_tls] key: key ");
	expect_error(tls("s.pem", "o.key", "ca.pem", ""), "o.key does not belong to the certificate");
	expect_error(tls("s.pem", "s.key", "notpem.pem", ""), "t.ini:7: [modbus_tls] ca: CA file");
	expect_error(tls("notpem.pem", "s.key", "ca.pem", ""), "t.ini:5: [modbus_tls] cert: certificate ");
	expect_error(tls("s.pem", "missing.key", "ca.pem", ""), "[modbus_tls] key: cannot read ");
	char key[600];
	snprintf(key, sizeof(key), "%s/s.key", dir);
	chmod(key, 0644);
	expect_error(tls("s.pem", "s.key", "ca.pem", ""), "s.key holds a secret and is readable by others (mode 0644");
	chmod(key, 0602);
	expect_error(tls("s.pem", "s.key", "ca.pem", ""), "is writable by others");
	chmod(key, 0640); /* its group may read it */
	CHECK_EQ_INT(load(tls("s.pem", "s.key", "ca.pem", "")), 0);
	snprintf(tail, sizeof(tail), "[gateway]\nlisten = 127.0.0.1:1502\n%s", tls("s.pem", "s.key", "ca.pem",
		 "listen = 0.0.0.0:1502\n"));
	expect_error(tail, "[modbus_tls] listen: port 1502 is the Modbus TCP server's ([gateway] listen)");
	snprintf(tail, sizeof(tail), "[http]\nlisten = 127.0.0.1:8080\n%s", tls("s.pem", "s.key", "ca.pem",
		 "listen = 127.0.0.1:8080\n"));
	expect_error(tail, "port 8080 is the status page's");
	expect_error(tls("s.pem", "s.key", "ca.pem", "write_role = Oper ator\n"), "[modbus_tls] write_role:");
	expect_error(tls("s.pem", "s.key", "ca.pem", "write_role =\n"), "[modbus_tls] write_role: empty value");
}

static void test_summary(void)
{
	char *buf = NULL;
	size_t len = 0;
	char tail[2200];
	snprintf(tail, sizeof(tail), "[gateway]\nlisten =\n%s", tls("s.pem", "s.key", "ca.pem", ""));
	CHECK_EQ_INT(load(tail), 0);
	FILE *o = open_memstream(&buf, &len);
	conf_print_summary(&c, o);
	fclose(o);
	CHECK(strstr(buf, "listen        off (no Modbus TCP server on 502; [modbus_tls] serves the map)") != NULL);
	CHECK(strstr(buf, "modbus_tls (Modbus/TCP Security") != NULL);
	CHECK(strstr(buf, "0.0.0.0:802") != NULL);
	CHECK(strstr(buf, "writes        by role Operator") != NULL);
	free(buf);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	make_certs();
	test_good();
	test_errors();
	test_summary();
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_report();
}
