/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_http.c - [http]'s HTTPS and logins in conf/: the
 * errors of tls_cert, tls_key and users_file, the users file's lines
 * (good, and each way a line is refused, with file:line), a line from
 * gw_user_hash_line checked with gw_user_verify (right and wrong
 * password), a users file others may read refused with its path, and
 * the comparison of two loads (a reload keeps the logins it remembers when
 * the users did not change). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conf/conf.h"
#include "../../gateway/web/users.h"
#include "../../gateway/daemon/daemon.h"
#include "../../gateway/web/http_conf.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[1024];
static const char *pack = "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n[http]\nlisten = 127.0.0.1:8443\n";

static void expect_error(const char *tail, const char *needle)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", pack, tail);
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

static void test_keys(void)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s", pack);
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), 0);
	CHECK_STR(gw_http_cfg(&c)->scheme, "http");
	CHECK(!gw_http_cfg(&c)->metrics_public);
	expect_error("tls_cert = /etc/bmsgw/http.pem\n", "t.ini:6: [http] tls_cert: needs tls_key too");
	expect_error("tls_key = /etc/bmsgw/http.key\n", "t.ini:6: [http] tls_key: needs tls_cert too");
	expect_error("users_file = /etc/bmsgw/users\n", "t.ini:6: [http] users_file: needs tls_cert");
	expect_error("tls_cert = /nonexistent/http.pem\ntls_key = /nonexistent/http.key\n", "/nonexistent/http.key");
	expect_error("tls_cert = relative.pem\ntls_key = /x\n", "tls_cert");
}

static const char *good =
	"ada:admin:$pbkdf2-sha256$600000$AAECAwQFBgcICQoLDA0ODw==$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static void expect_line_error(const char *line, const char *needle)
{
	struct gw_user u;
	char why[200] = "";
	CHECK_EQ_INT(gw_user_parse(line, &u, why, sizeof(why)), -1);
	bool found = strstr(why, needle) != NULL;
	if (!found)
		fprintf(stderr, "  \"%s\": \"%s\" lacks \"%s\"\n", line, why, needle);
	CHECK(found);
	CHECK(strstr(why, "AAEC") == NULL && strstr(why, "AAAA") == NULL); /* never the hash */
}

static void test_lines(void)
{
	struct gw_user u;
	char why[200];
	CHECK_EQ_INT(gw_user_parse(good, &u, why, sizeof(why)), 0);
	CHECK_STR(u.name, "ada");
	CHECK_EQ_INT(u.role, GW_ROLE_ADMIN);
	CHECK_EQ_INT(u.iter, 600000);
	CHECK_EQ_INT(u.salt_len, 16);
	CHECK_EQ_INT(u.dk[31], 31);
	CHECK_EQ_INT(gw_user_parse("", &u, why, sizeof(why)), 1);
	CHECK_EQ_INT(gw_user_parse("  # a comment", &u, why, sizeof(why)), 1);
	expect_line_error("ada", "expected NAME:ROLE:HASH");
	expect_line_error(":admin:$pbkdf2-sha256$600000$AAAA$AAAA", "1..32 characters");
	expect_line_error("a b:admin:x", "without ':' or spaces");
	expect_line_error("ada:root:$pbkdf2-sha256$600000$AAAA$AAAA", "the role is not read or admin");
	expect_line_error("ada:read:$pbkdf2-sha1$600000$AAAA$AAAA", "is not $pbkdf2-sha256$");
	expect_line_error("ada:read:$pbkdf2-sha256$999$AAECAwQFBgcICQoLDA0ODw==$AAAA", "iteration count");
	expect_line_error("ada:read:$pbkdf2-sha256$20000000$AAECAwQFBgcICQoLDA0ODw==$AAAA", "iteration count");
	expect_line_error("ada:read:$pbkdf2-sha256$-5$AAECAwQFBgcICQoLDA0ODw==$AAAA", "iteration count");
	expect_line_error("ada:read:$pbkdf2-sha256$600000$AAECAwQFBgcICQoLDA0ODw==", "no $SALT$HASH");
	expect_line_error("ada:read:$pbkdf2-sha256$600000$AAEC$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "salt");
	expect_line_error("ada:read:$pbkdf2-sha256$600000$AAECAwQFBgcICQoLDA0ODw==$AAECAwQF", "32 bytes");
	expect_line_error("ada:read:$pbkdf2-sha256$600000$AAECAwQFBgcICQoLDA0ODw==$!!!!", "32 bytes");
}

static void test_hash_verify(void)
{
	char line[512], why[200];
	CHECK_EQ_INT(gw_user_hash_line("rita", "read", "s3cret", 6, line, sizeof(line), why, sizeof(why)), 0);
	struct gw_user u;
	CHECK_EQ_INT(gw_user_parse(line, &u, why, sizeof(why)), 0);
	CHECK_STR(u.name, "rita");
	CHECK_EQ_INT(u.role, GW_ROLE_READ);
	CHECK(gw_user_verify(&u, "s3cret", 6));
	CHECK(!gw_user_verify(&u, "s3cres", 6));
	CHECK(!gw_user_verify(&u, "s3cret", 5));
	CHECK(strstr(line, "s3cret") == NULL);
	CHECK_EQ_INT(gw_user_hash_line("a:b", "read", "x", 1, line, sizeof(line), why, sizeof(why)), -1);
	CHECK_EQ_INT(gw_user_hash_line("ann", "root", "x", 1, line, sizeof(line), why, sizeof(why)), -1);
	CHECK_EQ_INT(gw_user_hash_line("ann", "read", "", 0, line, sizeof(line), why, sizeof(why)), -1);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_file(void)
{
	char dir[] = "/tmp/bmsgw-users-XXXXXX", path[300], text[1024];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/users", dir);
	struct gw_users *us = malloc(sizeof(*us));
	snprintf(text, sizeof(text), "# users\n%s\n\nrita%s\n", good, good + 3);
	write_file(path, text, 0600);
	CHECK_EQ_INT(gw_users_load(path, us, err, sizeof(err)), 0);
	CHECK_EQ_INT(us->n, 2);
	struct gw_users *again = malloc(sizeof(*again));
	CHECK_EQ_INT(gw_users_load(path, again, err, sizeof(err)), 0);
	CHECK(gw_users_same(us, again));
	again->u[1].role = GW_ROLE_READ;
	CHECK(!gw_users_same(us, again));
	again->u[1].role = us->u[1].role;
	again->u[1].dk[0] ^= 1;
	CHECK(!gw_users_same(us, again));
	again->n = 1;
	CHECK(!gw_users_same(us, again));
	free(again);
	snprintf(text, sizeof(text), "%s\n%s\n", good, good);
	write_file(path, text, 0600);
	CHECK_EQ_INT(gw_users_load(path, us, err, sizeof(err)), -1);
	CHECK(strstr(err, "users:2: user ada is on an earlier line too") != NULL);
	snprintf(text, sizeof(text), "%s\nbob:read\n", good);
	write_file(path, text, 0600);
	CHECK_EQ_INT(gw_users_load(path, us, err, sizeof(err)), -1);
	CHECK(strstr(err, "users:2: expected NAME:ROLE:HASH") != NULL);
	write_file(path, good, 0644);
	CHECK_EQ_INT(gw_users_load(path, us, err, sizeof(err)), -1);
	CHECK(strstr(err, path) != NULL && strstr(err, "readable by others") != NULL);
	free(us);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_keys();
	test_lines();
	test_hash_verify();
	test_file();
	return check_report();
}
