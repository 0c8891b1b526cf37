/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_files.c - the files bmsgw reads and whose they are
 * (conf/rfile.c, conf/check_files.c, issue 97 item 4):
 *
 * - conf_file_open() opens a regular file; a FIFO (at once, never waiting
 *   for a writer), a directory or a device is refused "not a regular
 *   file"; a missing one says ENOENT; bmsgw's own symbolic link is
 *   followed, another user's is not (when run as root, which can make
 *   one); a loop of links ends; conf_private_open() refuses a secret
 *   others may read; conf_file_read() reads whole and refuses a file over
 *   CONF_FILE_MAX;
 * - the check of the configuration: a key naming the file of another role
 *   (the state file = the users file, a password file = a key, the history
 *   = the configuration, a password file = a backup of the configuration
 *   or the history's write-ahead log, the state's temporary file) is
 *   refused on the key to blame, naming the other; a certificate and its
 *   key in one file, two password files that are one, two names of one
 *   directory are fine; the automatic state place counts (the loader). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../conf/conf.h"
#include "check.h"
#include "sections.h"

static char dir[] = "/tmp/test_conf_files_XXXXXX";
static char why[1024];

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_open(void)
{
	char reg[300], fifo[300], link[300], loop[300];
	path_of(reg, sizeof(reg), "reg");
	path_of(fifo, sizeof(fifo), "fifo");
	path_of(link, sizeof(link), "link");
	path_of(loop, sizeof(loop), "loop");
	write_file(reg, "hello\n", 0600);
	int fd = conf_file_open(reg, why, sizeof(why));
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ_INT(mkfifo(fifo, 0666), 0);
	double t0 = now();
	CHECK_EQ_INT(conf_file_open(fifo, why, sizeof(why)), -1);
	CHECK(now() - t0 < 5); /* never waits for a writer (a bound on a hang, not a latency) */
	CHECK(strstr(why, fifo) && strstr(why, "not a regular file (a FIFO)"));
	CHECK_EQ_INT(conf_file_open(dir, why, sizeof(why)), -1);
	CHECK(strstr(why, "not a regular file (a directory)") != NULL);
	CHECK_EQ_INT(conf_file_open("/dev/null", why, sizeof(why)), -1);
	CHECK(strstr(why, "not a regular file (a character device)") != NULL);
	CHECK_EQ_INT(conf_file_open("/nonexistent/x", why, sizeof(why)), -1);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK_EQ_INT(symlink("reg", link), 0); /* relative, bmsgw's own (this process's) */
	fd = conf_file_open(link, why, sizeof(why));
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	if (geteuid() == 0) { /* another user's link: made by root, given away */
		CHECK_EQ_INT(lchown(link, 65534, 65534), 0);
		CHECK_EQ_INT(conf_file_open(link, why, sizeof(why)), -1);
		CHECK(strstr(why, "symbolic link of another user's (uid 65534)") != NULL);
	}
	CHECK_EQ_INT(symlink("loop", loop), 0);
	CHECK_EQ_INT(conf_file_open(loop, why, sizeof(why)), -1);
	CHECK(strstr(why, "Too many levels") != NULL);
	unlink(fifo);
	unlink(link);
	unlink(loop);
	unlink(reg);
}

static void test_read(void)
{
	char p[300];
	size_t n = 0;
	path_of(p, sizeof(p), "secret");
	write_file(p, "s3cret\n", 0644);
	CHECK_EQ_INT(conf_private_open(p, why, sizeof(why)), -1);
	CHECK(strstr(why, "readable by others") != NULL);
	char *t = conf_file_read(p, false, &n, why, sizeof(why));
	CHECK(t && n == 7 && strcmp(t, "s3cret\n") == 0);
	free(t);
	chmod(p, 0600);
	t = conf_file_read(p, true, &n, why, sizeof(why));
	CHECK(t && n == 7);
	free(t);
	int fd = open(p, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && ftruncate(fd, CONF_FILE_MAX + 1) == 0);
	if (fd >= 0)
		close(fd);
	CHECK(conf_file_read(p, true, &n, why, sizeof(why)) == NULL);
	CHECK(strstr(why, "is over 1024 KiB") != NULL);
	unlink(p);
}

/* The configuration with its [gateway] state_file and more sections:
 * its error, "" when it loads. */
static char hist[300]; /* [history] file, "" for DIR/h.db */

static const char *load(const char *state, const char *more)
{
	static struct conf c;
	char text[4096], ini[300];
	path_of(ini, sizeof(ini), "bmsgw.ini");
	char line[400] = "", h[300];
	path_of(h, sizeof(h), "h.db");
	if (state[0]) /* else the automatic place */
		snprintf(line, sizeof(line), "state_file = %s\n", state);
	snprintf(text, sizeof(text), "[gateway]\nlisten = 127.0.0.1:1502\n%s[pack.a]\nprotocol = daly\nport = "
		 "/dev/ttyUSB0\n[history]\nfile = %s\n%s", line, hist[0] ? hist : h, more);
	write_file(ini, text, 0600);
	if (conf_load_file(ini, &c, why, sizeof(why)) == 0)
		why[0] = '\0';
	return why;
}

/* The load's error holds key's "[sect] key" and other (NULL: it loads). */
static void expect(const char *state, const char *more, const char *key, const char *other)
{
	const char *e = load(state, more);
	bool good = other ? strstr(e, key) && strstr(e, other) && strstr(e, "no key may name another") : !e[0];
	if (!good)
		fprintf(stderr, "  state_file = %s, %s: \"%s\" (expected %s)\n", state, more, e, other ? other : "none");
	CHECK(good);
}

static void mqtt(char *out, size_t cap, const char *pw, const char *cert, const char *key)
{
	int n = snprintf(out, cap, "[mqtt]\nhost = 127.0.0.1\nusername = u\npassword_file = %s\n", pw);
	if (cert)
		snprintf(out + n, cap - (size_t)n, "tls = true\ncert_file = %s\nkey_file = %s\n", cert, key);
}

static void test_roles(void)
{
	char users[300], key[300], pem[300], pw[300], st[300], hl[300], ini[300], other[400], more[2000];
	path_of(users, sizeof(users), "users");
	path_of(key, sizeof(key), "k.pem");
	path_of(pem, sizeof(pem), "c.pem");
	path_of(pw, sizeof(pw), "pw");
	path_of(st, sizeof(st), "state");
	path_of(hl, sizeof(hl), "hardlink");
	path_of(ini, sizeof(ini), "bmsgw.ini");
	write_file(users, "ada:admin:x\n", 0600);
	write_file(key, "key\n", 0600);
	write_file(pem, "cert\n", 0644);
	write_file(pw, "pw-1\n", 0600);
	mqtt(more, sizeof(more), pw, pem, key);
	expect(st, more, "", NULL);
	snprintf(more, sizeof(more), "[http]\nlisten = 127.0.0.1:18080\nusers_file = %s\n", users);
	expect(users, more, "[gateway] state_file", "is also [http] users_file's file");
	mqtt(more, sizeof(more), key, pem, key); /* a password file that is the client key */
	expect(st, more, "[mqtt] password_file", "is also [mqtt] key_file's file");
	mqtt(more, sizeof(more), pw, pw, key);
	expect(st, more, "[mqtt] password_file", "is also [mqtt] cert_file's file");
	mqtt(more, sizeof(more), pw, key, key); /* a certificate and its key in one file */
	expect(st, more, "", NULL);
	expect(pw, (mqtt(more, sizeof(more), pw, NULL, NULL), more), "[gateway] state_file",
	       "is also [mqtt] password_file's file");
	CHECK_EQ_INT(link(users, hl), 0); /* another name of the same file */
	snprintf(more, sizeof(more), "[http]\nlisten = 127.0.0.1:18080\nusers_file = %s\n", users);
	expect(hl, more, "[gateway] state_file", "is also [http] users_file's file");
	snprintf(hist, sizeof(hist), "%s", ini);
	expect(st, "", "[history] file", "is also the configuration file");
	hist[0] = '\0';
	snprintf(other, sizeof(other), "%s.3", ini);
	mqtt(more, sizeof(more), other, NULL, NULL);
	expect(st, more, "[mqtt] password_file", "is also a backup of the configuration file");
	snprintf(other, sizeof(other), "%s/h.db-wal", dir);
	mqtt(more, sizeof(more), other, NULL, NULL);
	expect(st, more, "[history] file", "[mqtt] password_file's file (");
	CHECK(strstr(why, "-wal) is the write-ahead log of it") != NULL);
	snprintf(other, sizeof(other), "%s.tmp-abcdefghij", st);
	mqtt(more, sizeof(more), other, NULL, NULL);
	expect(st, more, "[gateway] state_file", "is a temporary file of it");
	snprintf(more, sizeof(more), "[influx]\nurl = https://127.0.0.1:18086/\nusername = u\npassword_file = %s\n"
		 "database = bms\n", pw);
	size_t n = strlen(more);
	mqtt(more + n, sizeof(more) - n, pw, NULL, NULL); /* one password for two servers, as written */
	expect(st, more, "", NULL);
	snprintf(other, sizeof(other), "%s/auto/state", dir);
	mqtt(more, sizeof(more), other, NULL, NULL);
	expect("", more, "[mqtt] password_file", "is also the automatic state file");
	snprintf(other, sizeof(other), "%s/setup-code", dir);
	mqtt(more, sizeof(more), other, NULL, NULL);
	expect(st, more, "[mqtt] password_file", "is also the setup code's file");
}

int main(void)
{
	install_sections();
	char state[sizeof(dir) + 8];
	if (!mkdtemp(dir))
		return 1;
	snprintf(state, sizeof(state), "%s/auto", dir); /* the automatic files' directory, as the daemon hands it down */
	conf_use_state_dir(state);
	test_open();
	test_read();
	test_roles();
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return check_report();
}
