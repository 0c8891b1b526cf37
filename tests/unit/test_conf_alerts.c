/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_alerts.c - [alerts.NAME]: defaults, the URL (its
 * scheme, host and port; a user and password in it taken out, shown
 * masked), the conditions of on =, what an e-mail needs, the password file
 * (private, needing a user), and every error naming its line and key. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../gateway/alerts/alerts_conf.h"
#include "sections.h"
#include "check.h"

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

static char *tmpfile_with(const char *content, mode_t mode)
{
	static char paths[4][64];
	static int n;
	char *p = paths[n++ % 4];
	snprintf(p, 64, "/tmp/bmsgw-test-XXXXXX");
	int fd = mkstemp(p);
	if (fd < 0)
		abort();
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		abort();
	close(fd);
	chmod(p, mode);
	return p;
}

/* the key's text as /api/config shows it */
static const char *shown(const struct conf_alerts *a, const char *key)
{
	static char buf[512];
	const struct conf_key *k = conf_key_find(conf_section_kind("alerts.x", NULL), key);
	if (!k)
		return "?";
	conf_key_text(k, a, buf, sizeof(buf));
	return buf;
}

static void test_defaults(void)
{
	CHECK_EQ_INT(load(PACK), 0);
	CHECK_EQ_INT(gw_nalerts(&c), 0);
	CHECK_EQ_INT(load(PACK "[alerts.phone]\nurl = https://ntfy.sh/my-battery\n"), 0);
	CHECK_EQ_INT(gw_nalerts(&c), 1);
	const struct conf_alerts *a = gw_alerts_cfg(&c, 0);
	CHECK_STR(a->name, "phone");
	CHECK_EQ_INT(a->url.scheme, CONF_URL_HTTPS);
	CHECK_STR(a->url.bare, "https://ntfy.sh/my-battery");
	CHECK_STR(a->url.text, "https://ntfy.sh/..."); /* a topic is its secret */
	CHECK_EQ_INT(a->on.bits, 1u << CONF_AL_ALARM | 1u << CONF_AL_STALE);
	CHECK_STR(a->on.text, "alarm, stale");
	CHECK_NEAR(a->repeat, 3600, 0);
	CHECK_EQ_INT(a->imbalance_mv, 100);
	CHECK_NEAR(a->imbalance_hold, 60, 0);
	CHECK_STR(a->password, "");
	CHECK_STR(a->username, "");
}

static void test_on(void)
{
	CHECK_EQ_INT(load(PACK "[alerts.x]\nurl = http://h/\non = alarm, stale, imbalance, weak_cell, soc_below:20, "
			  "ir_rise:30\nrepeat = 0\nimbalance_mv = 80\nimbalance_hold = 5\n"), 0);
	const struct conf_alerts *a = gw_alerts_cfg(&c, 0);
	CHECK_EQ_INT(a->on.bits, (1u << CONF_AL_NCOND) - 1);
	CHECK_NEAR(a->on.soc_below, 20, 0);
	CHECK_NEAR(a->on.ir_rise, 30, 0);
	CHECK_NEAR(a->repeat, 0, 0);
	CHECK_EQ_INT(a->imbalance_mv, 80);
	CHECK_NEAR(a->imbalance_hold, 5, 0);
	CHECK_EQ_INT(load(PACK "[alerts.x]\nurl = http://h/\non = SOC_BELOW:12.5\n"), 0);
	CHECK_NEAR(gw_alerts_cfg(&c, 0)->on.soc_below, 12.5, 0);
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = alarm, fire\n", "t.ini:6: [alerts.x] on: \"fire\" is not a condition");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = soc_below\n", "soc_below needs a number");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = soc_below:\n", "soc_below needs a number");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = soc_below:x\n", "soc_below needs a number");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = soc_below:0\n", "soc_below needs a number");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = soc_below:101\n", "soc_below needs a number");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = ir_rise\n", "ir_rise needs a number");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = stale:5\n", "stale takes no number");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = alarm, alarm\n", "alarm is given twice");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = alarm,, stale\n", "an empty condition");
	expect_error(PACK "[alerts.x]\nurl = http://h/\non = alarm\nimbalance_mv = 50\n", "imbalance_mv: on = has no imbalance");
	expect_error(PACK "[alerts.x]\nurl = http://h/\nrepeat = -1\n", "[alerts.x] repeat");
	expect_error(PACK "[alerts.x]\nurl = http://h/\nimbalance_mv = 0\n", "[alerts.x] imbalance_mv");
	expect_error(PACK "[alerts.x]\nurl = http://h/\nsound = loud\n", "sound");
}

static void test_url(void)
{
	expect_error(PACK "[alerts.x]\non = alarm\n", "t.ini:4: [alerts.x] url: missing");
	expect_error(PACK "[alerts.x]\nurl = ftp://h/\n", "t.ini:5: [alerts.x] url: the URL's scheme is not http, https, smtp or smtps");
	expect_error(PACK "[alerts.x]\nurl = ntfy.sh/topic\n", "scheme is not");
	expect_error(PACK "[alerts.x]\nurl = https:///path\n", "the URL has no host");
	expect_error(PACK "[alerts.x]\nurl = https://h:0/\n", "a bad port");
	expect_error(PACK "[alerts.x]\nurl = https://h:70000/\n", "a bad port");
	expect_error(PACK "[alerts.x]\nurl = https://h:8x/\n", "a bad port");
	expect_error(PACK "[alerts.x]\nurl = https://[::1/\n", "the URL has no host");
	expect_error(PACK "[alerts.x]\nurl = https://u:p%zz@h/\n", "badly %-encoded");
	CHECK_EQ_INT(load(PACK "[alerts.x]\nurl = HTTPS://[::1]:8443/t?x=1\n"), 0);
	CHECK_EQ_INT(gw_alerts_cfg(&c, 0)->url.scheme, CONF_URL_HTTPS);
	/* credentials in the URL: taken out, the password never shown */
	CHECK_EQ_INT(load(PACK "[alerts.x]\nurl = https://al%40ice:p%3Ass@w@ntfy.example:8443/topic\n"), 0);
	const struct conf_alerts *a = gw_alerts_cfg(&c, 0);
	CHECK_STR(a->url.bare, "https://ntfy.example:8443/topic");
	CHECK_STR(a->url.text, "https://al%40ice:***@ntfy.example:8443/...");
	CHECK_STR(shown(a, "url"), "https://al%40ice:***@ntfy.example:8443/...");
	CHECK_STR(a->username, "al@ice");
	CHECK_STR(a->password, "p:ss@w");
	CHECK(strstr(shown(a, "url"), "p%3Ass") == NULL);
	/* a user alone */
	CHECK_EQ_INT(load(PACK "[alerts.x]\nurl = http://bob@h/\n"), 0);
	CHECK_STR(gw_alerts_cfg(&c, 0)->url.text, "http://bob@h/");
	CHECK_STR(gw_alerts_cfg(&c, 0)->username, "bob");
	CHECK_STR(gw_alerts_cfg(&c, 0)->password, "");
	/* the --check summary shows no password */
	CHECK_EQ_INT(load(PACK "[alerts.x]\nurl = https://u:hunter2@h/t\n"), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	conf_print_summary(&c, f);
	fclose(f);
	CHECK(strstr(out, "https://u:***@h/...") != NULL);
	CHECK(strstr(out, "hunter2") == NULL);
	free(out);
	/* a webhook's token in its path or query: never shown (the log, the
	 * summary, /api/config, /api/state all show url.text) */
	CHECK_EQ_INT(load(PACK "[alerts.x]\nurl = https://h:8443/hooks/SEKRET1?token=SEKRET2&a=b\n"), 0);
	CHECK_STR(gw_alerts_cfg(&c, 0)->url.bare, "https://h:8443/hooks/SEKRET1?token=SEKRET2&a=b");
	CHECK_STR(gw_alerts_cfg(&c, 0)->url.text, "https://h:8443/...");
	CHECK(strstr(shown(gw_alerts_cfg(&c, 0), "url"), "SEKRET") == NULL);
	out = NULL;
	f = open_memstream(&out, &len);
	conf_print_summary(&c, f);
	fclose(f);
	CHECK(strstr(out, "https://h:8443/...") != NULL && strstr(out, "SEKRET") == NULL);
	free(out);
	/* the longest URL the parser takes (255 characters; a line of the file
	 * holds at most 199, a caller of its own more), an empty password and a
	 * path of one "?": shown whole, 6 longer (fuzz_alerts_conf found it cut
	 * to "/..") */
	char url[257], why[CONF_WHY_MAX];
	struct conf_url u;
	snprintf(url, sizeof(url), "smtps://u:@%0*d?", 255 - 12, 0);
	CHECK_EQ_INT((int)strlen(url), 255);
	CHECK_EQ_INT(conf_url_parse(&u, url, why, sizeof(why)), 0);
	CHECK_EQ_INT((int)strlen(u.text), 261);
	CHECK(strncmp(u.text, "smtps://u:***@000", 17) == 0);
	CHECK_STR(u.text + 257, "/...");
	strcat(url, "x");
	CHECK_EQ_INT(conf_url_parse(&u, url, why, sizeof(why)), -1);
	CHECK(strstr(why, "too long") != NULL);
}

static void test_mail(void)
{
	CHECK_EQ_INT(load(PACK "[alerts.m]\nurl = smtp://mail.example:587\nto = a@example.org, b@example.org\n"
			  "from = bmsgw@example.org\n"), 0);
	CHECK_EQ_INT(gw_alerts_cfg(&c, 0)->url.scheme, CONF_URL_SMTP);
	CHECK_STR(gw_alerts_cfg(&c, 0)->to, "a@example.org, b@example.org");
	CHECK_EQ_INT(load(PACK "[alerts.m]\nurl = smtps://mail.example\nto = a@example.org\nfrom = b@example.org\n"), 0);
	CHECK_EQ_INT(gw_alerts_cfg(&c, 0)->url.scheme, CONF_URL_SMTPS);
	expect_error(PACK "[alerts.m]\nurl = smtp://mail.example\nfrom = b@example.org\n", "[alerts.m] to: an e-mail needs to =");
	expect_error(PACK "[alerts.m]\nurl = smtp://mail.example\nto = b@example.org\n", "[alerts.m] from: an e-mail needs from =");
	expect_error(PACK "[alerts.m]\nurl = smtp://mail.example\nto = nobody\nfrom = b@example.org\n", "t.ini:6: [alerts.m] to: \"nobody\" is not an address");
	expect_error(PACK "[alerts.m]\nurl = smtp://mail.example\nto = a@x, \nfrom = b@example.org\n", "is not an address");
	expect_error(PACK "[alerts.m]\nurl = smtp://mail.example\nto = a@x\nfrom = B <b@example.org>\n", "[alerts.m] from: \"B <b@example.org>\" is not an address");
	expect_error(PACK "[alerts.h]\nurl = https://h/\nto = a@example.org\n", "[alerts.h] to: is for an e-mail");
	expect_error(PACK "[alerts.h]\nurl = https://h/\nfrom = a@example.org\n", "[alerts.h] from: is for an e-mail");
}

static void test_password(void)
{
	char text[1024];
	char *pw = tmpfile_with("s3cret\n", 0600), *open_pw = tmpfile_with("s3cret\n", 0644);
	snprintf(text, sizeof(text), PACK "[alerts.m]\nurl = smtp://h:2525\nto = a@b.example\nfrom = d@e.example\nusername = u\n"
		 "password_file = %s\n", pw);
	CHECK_EQ_INT(load(text), 0);
	CHECK_STR(gw_alerts_cfg(&c, 0)->password, "s3cret");
	CHECK_STR(gw_alerts_cfg(&c, 0)->username, "u");
	CHECK_STR(shown(gw_alerts_cfg(&c, 0), "password_file"), pw);
	/* readable by others: refused */
	snprintf(text, sizeof(text), PACK "[alerts.m]\nurl = smtp://h:2525\nto = a@b.example\nfrom = d@e.example\nusername = u\n"
		 "password_file = %s\n", open_pw);
	expect_error(text, "holds a secret and is readable by others");
	expect_error(text, "t.ini:9: [alerts.m] password_file");
	/* a password over plain http: refused, from the URL or a file */
	expect_error(PACK "[alerts.m]\nurl = http://u:p@h/\n", "t.ini:5: [alerts.m] url: a password over http:// would cross the network readable");
	snprintf(text, sizeof(text), PACK "[alerts.m]\nurl = http://h/\nusername = u\npassword_file = %s\n", pw);
	expect_error(text, "t.ini:7: [alerts.m] password_file: a password over http://");
	/* no user */
	snprintf(text, sizeof(text), PACK "[alerts.m]\nurl = https://h/\npassword_file = %s\n", pw);
	expect_error(text, "a password needs a user name");
	/* both in the URL and in the keys */
	snprintf(text, sizeof(text), PACK "[alerts.m]\nurl = https://u:p@h/\nusername = u\npassword_file = %s\n", pw);
	expect_error(text, "[alerts.m] username: the URL names a user already");
	snprintf(text, sizeof(text), PACK "[alerts.m]\nurl = https://:p@h/\nusername = u\npassword_file = %s\n", pw);
	expect_error(text, "[alerts.m] password_file: the URL holds a password already");
	expect_error(PACK "[alerts.m]\nurl = https://h/\nusername = u\npassword_file = /nonexistent/pw\n", "cannot read /nonexistent/pw");
	/* a new password in the same file is a change that restarts the destination */
	struct conf a;
	snprintf(text, sizeof(text), PACK "[alerts.m]\nurl = https://h/\nusername = u\npassword_file = %s\n", pw);
	CHECK_EQ_INT(load(text), 0);
	a = c;
	CHECK(conf_section_same(&gw_alerts_section, CONF_RESTART, gw_alerts_cfg(&a, 0), gw_alerts_cfg(&c, 0)));
	FILE *f = fopen(pw, "w");
	fputs("other\n", f);
	fclose(f);
	CHECK_EQ_INT(load(text), 0);
	CHECK(!conf_section_same(&gw_alerts_section, CONF_RESTART, gw_alerts_cfg(&a, 0), gw_alerts_cfg(&c, 0)));
	/* so is a new password in the URL, which the shown URL does not tell */
	CHECK_EQ_INT(load(PACK "[alerts.m]\nurl = https://u:one@h/\n"), 0);
	a = c;
	CHECK_EQ_INT(load(PACK "[alerts.m]\nurl = https://u:two@h/\n"), 0);
	CHECK_STR(gw_alerts_cfg(&a, 0)->url.text, gw_alerts_cfg(&c, 0)->url.text);
	CHECK(!conf_section_same(&gw_alerts_section, CONF_RESTART, gw_alerts_cfg(&a, 0), gw_alerts_cfg(&c, 0)));
	unlink(pw);
	unlink(open_pw);
}

static void test_many(void)
{
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof(text), "%s", PACK);
	for (int i = 0; i < CONF_MAX_ALERTS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[alerts.d%d]\nurl = http://h%d/\n", i, i);
	CHECK_EQ_INT(load(text), 0);
	CHECK_EQ_INT(gw_nalerts(&c), CONF_MAX_ALERTS);
	snprintf(text + n, sizeof(text) - n, "[alerts.more]\nurl = http://h/\n");
	expect_error(text, "alerts");
	expect_error(PACK "[alerts.a]\nurl = http://h/\n[alerts.a]\nurl = http://g/\n", "alerts.a");
}

int main(void)
{
	install_sections(); /* the outputs' sections, [alerts.NAME] among them */
	test_defaults();
	test_on();
	test_url();
	test_mail();
	test_password();
	test_many();
	return check_report();
}
