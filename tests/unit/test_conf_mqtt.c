/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_mqtt.c - the [mqtt] section and [gateway] state_file:
 * defaults, TLS files, the password file, and every error naming its line
 * and key. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conf/conf.h"
#include "../../gateway/history/history_conf.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[CONF_ERR_MAX];

#define PACK "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n"

static int load(const char *text)
{
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const char *text, const char *needle)
{
	CHECK_EQ_INT(load(text), -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

static char *tmpfile_with(const char *content)
{
	static char paths[8][64]; /* each file its own path, for its unlink() at the end */
	static int n;
	if (n == 8)
		abort();
	char *p = paths[n++];
	snprintf(p, 64, "/tmp/bmsgw-test-XXXXXX");
	int fd = mkstemp(p);
	if (fd < 0)
		abort();
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		abort();
	close(fd);
	return p;
}

int main(void)
{
	install_sections(); /* the outputs' sections, [history] among them */
	/* no [mqtt]: off */
	CHECK_EQ_INT(load(PACK), 0);
	CHECK(!c.mqtt.enabled);
	CHECK_STR(c.gw.state_file, "");

	/* defaults */
	CHECK_EQ_INT(load(PACK "[mqtt]\nhost = 192.168.1.5\n"), 0);
	CHECK(c.mqtt.enabled);
	CHECK_STR(c.mqtt.host, "192.168.1.5");
	CHECK_EQ_INT(c.mqtt.port, 1883);
	CHECK(strncmp(c.mqtt.client_id, "bmsgw-", 6) == 0 && strlen(c.mqtt.client_id) > 6);
	for (const char *p = c.mqtt.client_id; *p; p++)
		CHECK((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_');
	CHECK_STR(c.mqtt.topic_prefix, "bmsgw");
	CHECK(c.mqtt.discovery);
	CHECK_STR(c.mqtt.discovery_prefix, "homeassistant");
	CHECK_NEAR(c.mqtt.publish_interval, 0, 0);
	CHECK_EQ_INT(c.mqtt.cells, CONF_CELLS_DISABLED);
	CHECK_EQ_INT(c.mqtt.keepalive, 30);
	CHECK(!c.mqtt.control);
	CHECK(!c.mqtt.backfill);
	CHECK_EQ_INT(c.mqtt.backfill_rate, 50);
	CHECK(!c.mqtt.tls);
	CHECK_STR(c.mqtt.username, "");
	CHECK_STR(c.mqtt.password, "");

	/* everything set; TLS moves the default port to 8883 */
	char *ca = tmpfile_with("ca"), *crt = tmpfile_with("crt"), *key = tmpfile_with("key"),
	     *pw = tmpfile_with("s3cret pass\nsecond line\n");
	char text[2048];
	snprintf(text, sizeof(text),
		 PACK "[mqtt]\nhost = broker.lan\nclient_id = cabin_1\nusername = bms\npassword_file = %s\n"
		      "tls = true\nca_file = %s\ncert_file = %s\nkey_file = %s\ntopic_prefix = sites/cabin/bmsgw\n"
		      "discovery = false\ndiscovery_prefix = ha\npublish_interval = 2.5\ncells = enabled\n"
		      "keepalive = 60\n[gateway]\nstate_file = /var/lib/x/state\n",
		 pw, ca, crt, key);
	CHECK_EQ_INT(load(text), 0);
	CHECK_EQ_INT(c.mqtt.port, 8883);
	CHECK_STR(c.mqtt.client_id, "cabin_1");
	CHECK_STR(c.mqtt.username, "bms");
	CHECK_STR(c.mqtt.password, "s3cret pass");   /* the first line, without its end */
	CHECK(c.mqtt.tls);
	CHECK_STR(c.mqtt.ca_file, ca);
	CHECK_STR(c.mqtt.topic_prefix, "sites/cabin/bmsgw");
	CHECK(!c.mqtt.discovery);
	CHECK_STR(c.mqtt.discovery_prefix, "ha");
	CHECK_NEAR(c.mqtt.publish_interval, 2.5, 1e-9);
	CHECK_EQ_INT(c.mqtt.cells, CONF_CELLS_ENABLED);
	CHECK_EQ_INT(c.mqtt.keepalive, 60);
	CHECK(!c.mqtt.control);
	CHECK_STR(c.gw.state_file, "/var/lib/x/state");
	CHECK_EQ_INT(load(PACK "[mqtt]\nhost = b\ntls = true\nport = 1884\n"), 0);
	CHECK_EQ_INT(c.mqtt.port, 1884);
	CHECK_EQ_INT(load(PACK "[mqtt]\nhost = b\ncontrol = true\n"), 0);
	CHECK(c.mqtt.control);
	CHECK_EQ_INT(load(PACK "[gateway]\nstate_file = none\n"), 0);
	CHECK_STR(c.gw.state_file, "none");

	/* errors: file, line, section, key */
	expect_error(PACK "[mqtt]\nport = 1883\n", "t.ini:4: [mqtt]: missing key \"host\"");
	expect_error(PACK "[mqtt]\nhost = b\nca_file = /etc/hostname\n", "t.ini:6: [mqtt] ca_file: is for TLS");
	snprintf(text, sizeof(text), PACK "[mqtt]\nhost = b\ntls = on\ncert_file = %s\n", crt);
	expect_error(text, "t.ini:7: [mqtt] cert_file: needs key_file too");
	expect_error(PACK "[mqtt]\nhost = b\ntls = on\nca_file = /nonexistent/ca.pem\n",
		     "t.ini:7: [mqtt] ca_file: cannot read /nonexistent/ca.pem");
	expect_error(PACK "[mqtt]\nhost = b\nusername = u\npassword_file = /nonexistent/pw\n",
		     "t.ini:7: [mqtt] password_file: cannot read /nonexistent/pw");
	snprintf(text, sizeof(text), PACK "[mqtt]\nhost = b\npassword_file = %s\n", pw);
	expect_error(text, "a password needs a user name");
	/* secrets others may read or write are refused, with the path (as ssh does) */
	chmod(pw, 0644);
	snprintf(text, sizeof(text), PACK "[mqtt]\nhost = b\nusername = u\npassword_file = %s\n", pw);
	expect_error(text, "[mqtt] password_file: ");
	expect_error(text, "holds a secret and is readable by others (mode 0644; expected chmod o-rwx");
	CHECK(strstr(err, pw) != NULL);
	chmod(pw, 0602);
	expect_error(text, "is writable by others (mode 0602");
	chmod(pw, 0640); /* the group may read it (a daemon in the key's group) */
	CHECK_EQ_INT(load(text), 0);
	chmod(key, 0604);
	snprintf(text, sizeof(text), PACK "[mqtt]\nhost = b\ntls = on\ncert_file = %s\nkey_file = %s\n", crt, key);
	expect_error(text, "t.ini:8: [mqtt] key_file: ");
	chmod(key, 0600);
	CHECK_EQ_INT(load(text), 0);
	char *empty = tmpfile_with("\n");
	snprintf(text, sizeof(text), PACK "[mqtt]\nhost = b\nusername = u\npassword_file = %s\n", empty);
	expect_error(text, "the first line must hold the password");
	expect_error(PACK "[mqtt]\nhost = b\ntopic_prefix = a/+/b\n", "t.ini:6: [mqtt] topic_prefix: \"a/+/b\" is not a topic prefix");
	expect_error(PACK "[mqtt]\nhost = b\ntopic_prefix = a//b\n", "is not a topic prefix");
	expect_error(PACK "[mqtt]\nhost = b\ntopic_prefix = /a\n", "is not a topic prefix");
	expect_error(PACK "[mqtt]\nhost = b\ndiscovery_prefix = home#\n", "[mqtt] discovery_prefix:");
	expect_error(PACK "[mqtt]\nhost = b\nclient_id = my.gw\n", "[mqtt] client_id: \"my.gw\" is not valid");
	expect_error(PACK "[mqtt]\nhost = b\ncells = some\n", "[mqtt] cells: \"some\" is not valid (expected one of disabled, enabled, off)");
	expect_error(PACK "[mqtt]\nhost = b\nkeepalive = 2\n", "[mqtt] keepalive: 2 is out of range");
	expect_error(PACK "[mqtt]\nhost = b\nusername = a b\n", "[mqtt] username:");
	expect_error(PACK "[mqtt]\nhost = b\nwill = x\n", "[mqtt] will: unknown key");
	expect_error(PACK "[mqtt]\nhost = b\n[mqtt]\n", "t.ini:6: [mqtt]: duplicate section (first on line 4)");
	expect_error(PACK "[gateway]\nstate_file = var/state\n", "[gateway] state_file: \"var/state\" is not an absolute path");
	expect_error("[pack.bank]\nprotocol = daly\nport = /dev/ttyUSB0\n", "t.ini:1: [pack.bank]: \"bank\" is reserved");
	expect_error("[pack.gateway]\nprotocol = daly\nport = /dev/ttyUSB0\n", "\"gateway\" is reserved");
	unlink(ca);
	unlink(crt);
	unlink(key);
	unlink(pw);
	unlink(empty);
	/* backfill: it reads the history, so it needs one */
	CHECK_EQ_INT(load(PACK "[mqtt]\nhost = b\nbackfill = true\nbackfill_rate = 1000\n[history]\n"), 0);
	CHECK(c.mqtt.backfill);
	CHECK_EQ_INT(c.mqtt.backfill_rate, 1000);
	CHECK_EQ_INT(load(PACK "[mqtt]\nhost = b\nbackfill = true\n[http]\nlisten = 127.0.0.1:8080\n"), 0);
	CHECK(gw_history_cfg(&c)->enabled && c.mqtt.backfill);
	expect_error(PACK "[mqtt]\nhost = b\nbackfill = true\n", "t.ini:6: [mqtt] backfill: needs the history");
	expect_error(PACK "[mqtt]\nhost = b\nbackfill = true\n[history]\nfile = none\n", "needs the history");
	CHECK_EQ_INT(load(PACK "[mqtt]\nhost = b\nbackfill = false\n"), 0); /* off: no history needed */
	expect_error(PACK "[mqtt]\nhost = b\nbackfill_rate = 0\n", "backfill_rate");
	expect_error(PACK "[mqtt]\nhost = b\nbackfill_rate = 1001\n", "backfill_rate");
	return check_report();
}
