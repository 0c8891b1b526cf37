/* SPDX-License-Identifier: MIT */
/* tests/unit/test_afile.c - a small file rewritten atomically
 * (gateway/core/afile.c): the thread's write replaces the content whole;
 * gw_afile_write_all() writes all or says it could not; gw_afile_commit()
 * renames the temporary file over the old one, and on a failure (a write
 * that failed, a rename that cannot be done) leaves the old file as it was,
 * removes the temporary file and says why. */
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
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(access(tmp, F_OK) != 0);
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
