/* SPDX-License-Identifier: MIT */
/* gateway/core/afile.c - a small file rewritten atomically on a queue of
 * its own (see afile.h, workq.h), through a temporary file that only this
 * call can have made. */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "workq.h"

#define TMP_TRIES 16    /* random names tried before giving up (each taken: planted, or astronomically unlucky) */

struct gw_afile {
	pthread_mutex_t mu;
	struct gw_workq *q;            /* its thread, started by the first write */
	/* the next content, not begun, and its task queued (under mu): the
	 * one task, queued again only once it has taken its content */
	char *path, *data;
	size_t len;
	bool queued;
	struct gw_task task;
	/* the outcome of the last write finished, not yet taken */
	int result;
	char why[1400];
};

int gw_afile_open_tmp(const char *path, const char *tag, unsigned mode, char *tmp, size_t tcap, char *why, size_t cap)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz234567";
	int e = EEXIST;
	for (int t = 0; t < TMP_TRIES && e == EEXIST; t++) {
		uint8_t r[10];
		char sfx[sizeof(r) + 1];
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			e = errno ? errno : EIO;
			break;
		}
		for (size_t i = 0; i < sizeof(r); i++)
			sfx[i] = abc[r[i] & 31];
		sfx[sizeof(r)] = '\0';
		if (snprintf(tmp, tcap, "%s.%s-%s", path, tag, sfx) >= (int)tcap) {
			snprintf(why, cap, "cannot write %s: the name is too long", path);
			return -1;
		}
		/* O_EXCL: a name that is there (a file, a symlink, even a dangling
		 * one, a directory) is never opened, followed or truncated */
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
		if (fd >= 0)
			return fd;
		e = errno;
	}
	snprintf(why, cap, "cannot make a temporary file beside %s: %s", path, strerror(e));
	return -1;
}

/* The write itself: temporary file, fsync, rename.  0 or -1 with why. */
static int write_atomic(const char *path, const char *data, size_t len, char *why, size_t cap)
{
	char tmp[600];
	int fd = gw_afile_open_tmp(path, "tmp", 0644, tmp, sizeof(tmp), why, cap);
	if (fd < 0)
		return -1;
	return gw_afile_commit(fd, gw_afile_write_all(fd, data, len) != 0 || fsync(fd) != 0, tmp, path, why, cap);
}

int gw_afile_write_all(int fd, const char *data, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* tmp removed if it is still the file of st (never one put in its place). */
static void unlink_ours(const char *tmp, const struct stat *st)
{
	struct stat now;
	if (lstat(tmp, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		unlink(tmp);
}

int gw_afile_commit(int fd, int bad, const char *tmp, const char *path, char *why, size_t cap)
{
	int e = errno;
	struct stat st;
	bool known = fstat(fd, &st) == 0;
	if (close(fd) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		snprintf(why, cap, "cannot write %s: %s", tmp, strerror(e ? e : EIO));
		if (known)
			unlink_ours(tmp, &st);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(why, cap, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		if (known)
			unlink_ours(tmp, &st);
		return -1;
	}
	return 0;
}

/* The task, on the queue's thread: the newest content written. */
static void write_next(struct gw_task *t)
{
	struct gw_afile *a = container_of(t, struct gw_afile, task);
	pthread_mutex_lock(&a->mu);
	char *path = a->path, *data = a->data;
	size_t len = a->len;
	a->path = a->data = NULL;
	a->queued = false;
	pthread_mutex_unlock(&a->mu);
	if (!data)
		return;
	char why[sizeof(a->why)];
	int r = write_atomic(path, data, len, why, sizeof(why));
	free(path);
	free(data);
	pthread_mutex_lock(&a->mu);
	a->result = r == 0 ? 1 : -1;
	if (r != 0)
		memcpy(a->why, why, sizeof(why));
	pthread_mutex_unlock(&a->mu);
}

struct gw_afile *gw_afile_new(void)
{
	struct gw_afile *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	a->task.run = write_next; /* nothing goes back: the result is asked for */
	return a;
}

int gw_afile_post(struct gw_afile *a, const char *path, const char *data, size_t len, char *why, size_t cap)
{
	char *p = strdup(path), *d = malloc(len ? len : 1);
	if (!p || !d) {
		free(p);
		free(d);
		snprintf(why, cap, "out of memory");
		return -1;
	}
	memcpy(d, data, len);
	char qwhy[160];
	if (!a->q && !(a->q = gw_workq_new(NULL, qwhy, sizeof(qwhy)))) {
		free(p);
		free(d);
		snprintf(why, cap, "cannot start its writer thread: %s", qwhy);
		return -1;
	}
	pthread_mutex_lock(&a->mu);
	free(a->path); /* a newer content replaces one not begun */
	free(a->data);
	a->path = p;
	a->data = d;
	a->len = len;
	if (!a->queued) {
		a->queued = true;
		gw_workq_post(a->q, &a->task);
	}
	pthread_mutex_unlock(&a->mu);
	return 0;
}

int gw_afile_result(struct gw_afile *a, char *why, size_t cap)
{
	pthread_mutex_lock(&a->mu);
	int r = a->result;
	if (r < 0)
		snprintf(why, cap, "%s", a->why);
	a->result = 0;
	pthread_mutex_unlock(&a->mu);
	return r;
}

int gw_afile_free(struct gw_afile *a, char *why, size_t cap)
{
	if (!a)
		return 0;
	gw_workq_free(a->q); /* what is pending is written first */
	int r = gw_afile_result(a, why, cap);
	free(a->path);
	free(a->data);
	pthread_mutex_destroy(&a->mu);
	free(a);
	return r;
}
