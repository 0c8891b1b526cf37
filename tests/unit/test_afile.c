/* SPDX-License-Identifier: MIT */
/* tests/unit/test_afile.c - a small file rewritten atomically
 * (gateway/core/afile.c): the thread's write replaces the content whole;
 * gw_afile_write_all() writes all or says it could not; gw_afile_commit()
 * renames the temporary file over the old one, and on a failure (a write
 * that failed, a rename that cannot be done) leaves the old file as it was,
 * removes the temporary file (never another put in its place) and says
 * why; gw_afile_open_tmp() makes a new file of a random name each time,
 * and a symlink or a file planted at the name the writer once used
 * (FILE.tmp) is neither followed nor touched. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../gateway/core/afile.h"
#include "check.h"

static char dir[64];

static void at(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Entries of dir whose name starts with prefix. */
static int entries(const char *prefix)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

static int make(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	return gw_afile_write_all(fd, text, strlen(text)) == 0 ? fd : (close(fd), -1);
}

/* The thread: the newest content, whole. */
static void threaded(void)
{
	char path[128], why[256] = "";
	at(path, sizeof(path), "state");
	struct gw_afile *a = gw_afile_new();
	CHECK(a != NULL);
	CHECK_EQ_INT(gw_afile_post(a, path, "first\n", 6, why, sizeof(why)), 0);
	CHECK_EQ_INT(gw_afile_post(a, path, "second\n", 7, why, sizeof(why)), 0);
	CHECK_EQ_INT(gw_afile_free(a, why, sizeof(why)), 1);
	const char *got = slurp(path);
	CHECK(got && strcmp(got, "second\n") == 0);
	CHECK_EQ_INT(entries("state.tmp"), 0);
}

/* What another user planted at the old temporary name, and the new names. */
static void planted(void)
{
	char path[128], victim[128], lnk[160], why[256] = "";
	at(path, sizeof(path), "planted");
	at(victim, sizeof(victim), "victim");
	int fd = make(victim, "victim\n");
	CHECK(fd >= 0);
	close(fd);
	snprintf(lnk, sizeof(lnk), "%s.tmp", path);
	CHECK_EQ_INT(symlink(victim, lnk), 0);
	struct gw_afile *a = gw_afile_new();
	CHECK_EQ_INT(gw_afile_post(a, path, "state\n", 6, why, sizeof(why)), 0);
	CHECK_EQ_INT(gw_afile_free(a, why, sizeof(why)), 1);
	CHECK(strcmp(slurp(path), "state\n") == 0);
	CHECK(strcmp(slurp(victim), "victim\n") == 0); /* not written through the symlink */
	struct stat st;
	CHECK(lstat(lnk, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK_EQ_INT(entries("planted.tmp-"), 0);

	/* two temporary files: new ones, of different names, 0600 */
	char t1[200], t2[200];
	int f1 = gw_afile_open_tmp(path, "setup", 0600, t1, sizeof(t1), why, sizeof(why));
	int f2 = gw_afile_open_tmp(path, "setup", 0600, t2, sizeof(t2), why, sizeof(why));
	CHECK(f1 >= 0 && f2 >= 0 && strcmp(t1, t2) != 0);
	CHECK(strncmp(t1, path, strlen(path)) == 0 && strncmp(t1 + strlen(path), ".setup-", 7) == 0);
	CHECK(stat(t1, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* f1's name taken by another file meanwhile: a failed commit leaves that one */
	CHECK_EQ_INT(rename(victim, t1), 0);
	errno = EIO;
	CHECK_EQ_INT(gw_afile_commit(f1, 1, t1, path, why, sizeof(why)), -1);
	CHECK(strcmp(slurp(t1), "victim\n") == 0);
	unlink(t1);
	/* f2 committed: the file is its content */
	CHECK_EQ_INT(gw_afile_write_all(f2, "two\n", 4), 0);
	CHECK_EQ_INT(gw_afile_commit(f2, 0, t2, path, why, sizeof(why)), 0);
	CHECK(strcmp(slurp(path), "two\n") == 0 && access(t2, F_OK) != 0);
	/* a name too long for its buffer: refused, said */
	char small[8];
	CHECK_EQ_INT(gw_afile_open_tmp(path, "setup", 0600, small, sizeof(small), why, sizeof(why)), -1);
	CHECK(strstr(why, "too long") != NULL);
	unlink(lnk);
	unlink(path);
}

/* A commit that works, and the two failures. */
static void commit(void)
{
	char path[128], tmp[128], why[512];
	at(path, sizeof(path), "conf");
	at(tmp, sizeof(tmp), "conf.new");
	int fd = make(path, "old\n");
	CHECK(fd >= 0);
	close(fd);

	fd = make(tmp, "new\n");
	CHECK_EQ_INT(gw_afile_commit(fd, 0, tmp, path, why, sizeof(why)), 0);
	CHECK(strcmp(slurp(path), "new\n") == 0);
	CHECK(access(tmp, F_OK) != 0);

	/* a write that failed: the old content stays, the temporary file goes */
	fd = make(tmp, "torn");
	errno = ENOSPC;
	why[0] = '\0';
	CHECK_EQ_INT(gw_afile_commit(fd, 1, tmp, path, why, sizeof(why)), -1);
	CHECK(strstr(why, "cannot write") && strstr(why, strerror(ENOSPC)));
	CHECK(strcmp(slurp(path), "new\n") == 0);
	CHECK(access(tmp, F_OK) != 0);

	/* a rename that cannot be done (a directory in the way) */
	char sub[128];
	at(sub, sizeof(sub), "adir");
	CHECK_EQ_INT(mkdir(sub, 0755), 0);
	char inside[192];
	snprintf(inside, sizeof(inside), "%s/x", sub);
	fd = make(inside, "x");
	close(fd);
	fd = make(tmp, "new2\n");
	why[0] = '\0';
	CHECK_EQ_INT(gw_afile_commit(fd, 0, tmp, sub, why, sizeof(why)), -1);
	CHECK(strstr(why, "cannot rename") != NULL);
	CHECK(access(tmp, F_OK) != 0);
	unlink(inside);
	rmdir(sub);
}

/* write_all: everything, or -1 on a descriptor that cannot be written. */
static void write_all(void)
{
	char path[128];
	at(path, sizeof(path), "big");
	static char big[300000];
	memset(big, 'b', sizeof(big));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK_EQ_INT(gw_afile_write_all(fd, big, sizeof(big)), 0);
	close(fd);
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == (off_t)sizeof(big));
	fd = open(path, O_RDONLY);
	CHECK_EQ_INT(gw_afile_write_all(fd, "x", 1), -1);
	CHECK_EQ_INT(errno, EBADF);
	close(fd);
	unlink(path);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bmsgw-afile-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	threaded();
	planted();
	commit();
	write_all();
	char p[128];
	at(p, sizeof(p), "state");
	unlink(p);
	at(p, sizeof(p), "conf");
	unlink(p);
	rmdir(dir);
	return check_report();
}
