/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_checkall.c - the check of --check with every error
 * it finds, each on its field (gateway/web/setup/checkall.c, the setup API's
 * /api/setup/check): the errors of several sections each named with its
 * section, key, line and message (the message of --check without its
 * FILE:LINE: [section] key: prefix); a good text has none and fills the
 * configuration; a missing key, an unknown section, a line outside any
 * section; the count bound; the first error is exactly --check's. */
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/web/setup/setup_int.h"
#include "check.h"
#include "sections.h"

static struct conf c;

static void three_sections(void)
{
	const char *t = "[gateway]\nlisten = 127.0.0.1:1502\n\n"
			"[pack.a]\nprotocol = nosuch\nport = /dev/ttyUSB0\n\n"
			"[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\nbaud = 12345\n\n"
			"[mqtt]\nhost = broker\ncolour = red\n";
	struct conf_error e[8];
	int n = setup_check_all(t, "t.ini", &c, e, 8);
	CHECK_EQ_INT(n, 3);
	CHECK_STR(e[0].section, "pack.a");
	CHECK_STR(e[0].key, "protocol");
	CHECK_EQ_INT(e[0].line, 5);
	CHECK(strstr(e[0].message, "nosuch") != NULL);
	CHECK(strncmp(e[0].message, "t.ini", 5) != 0);
	CHECK_STR(e[1].section, "pack.b");
	CHECK_STR(e[1].key, "baud");
	CHECK_EQ_INT(e[1].line, 11);
	CHECK_STR(e[2].section, "mqtt");
	CHECK_STR(e[2].key, "colour");
	CHECK_EQ_INT(e[2].line, 15);
	CHECK(strstr(e[2].message, "unknown key") != NULL);
	/* the first is --check's own message, its prefix aside */
	char err[CONF_ERR_MAX];
	CHECK_EQ_INT(conf_load_string(t, "t.ini", &c, err, sizeof(err)), -1);
	char want[CONF_ERR_MAX + 64];
	snprintf(want, sizeof(want), "t.ini:5: [pack.a] protocol: %s", e[0].message);
	CHECK_STR(err, want);
	/* at most max */
	CHECK_EQ_INT(setup_check_all(t, "t.ini", &c, e, 2), 2);
}

static void good(void)
{
	struct conf_error e[4];
	const char *t = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n";
	CHECK_EQ_INT(setup_check_all(t, "t.ini", &c, e, 4), 0);
	CHECK_EQ_INT(c.npacks, 1);
	CHECK_STR(c.packs[0].name, "a");
	struct conf_error one;
	CHECK_EQ_INT(conf_load_string_at(t, "t.ini", &c, &one), 0);
}

static void fields(void)
{
	struct conf_error e[8];
	/* a required key missing: its error, then nothing more to leave out */
	const char *t = "[pack.a]\nprotocol = daly\n\n[pack.b]\nprotocol = daly\nport = /dev/ttyUSB1\nbaud = 7\n";
	int n = setup_check_all(t, "t.ini", &c, e, 8);
	CHECK_EQ_INT(n, 2);
	CHECK_STR(e[0].section, "pack.b"); /* a value's error comes first, as the file is read */
	CHECK_STR(e[0].key, "baud");
	CHECK_STR(e[1].section, "pack.a");
	CHECK_STR(e[1].key, "port");
	CHECK_EQ_INT(e[1].line, 1);
	/* an unknown section: named as a whole, then the next error */
	t = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[colours]\nred = 1\n[mqtt]\nhots = x\n";
	n = setup_check_all(t, "t.ini", &c, e, 8);
	CHECK_EQ_INT(n, 3);
	CHECK_STR(e[0].section, "colours");
	CHECK_STR(e[0].key, "");
	CHECK_EQ_INT(e[0].line, 4);
	CHECK_STR(e[1].section, "mqtt");
	CHECK_STR(e[1].key, "hots");
	CHECK_EQ_INT(e[1].line, 7);
	CHECK_STR(e[2].section, "mqtt"); /* and its host is missing */
	CHECK_STR(e[2].key, "host");
	/* a key outside any section, then a bad value */
	t = "stray = 1\n[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\npoll_interval = 0.01\n";
	n = setup_check_all(t, "t.ini", &c, e, 8);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(e[0].line, 1);
	CHECK_STR(e[0].section, "");
	CHECK_STR(e[1].section, "pack.a");
	CHECK_STR(e[1].key, "poll_interval");
	CHECK_EQ_INT(e[1].line, 5);
	/* a line that is no key = value, in a section */
	t = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\nnonsense\n";
	n = setup_check_all(t, "t.ini", &c, e, 8);
	CHECK(n >= 1);
	CHECK_STR(e[0].section, "pack.a");
	CHECK_EQ_INT(e[0].line, 4);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	three_sections();
	good();
	fields();
	return check_report();
}
