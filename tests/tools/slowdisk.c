/* SPDX-License-Identifier: MIT */
/* tests/tools/slowdisk.c - a slow disk for `make bench`, as an LD_PRELOAD
 * library: every fsync()/fdatasync() of a file whose path contains
 * SLOWDISK_MATCH (default "history") sleeps SLOWDISK_SYNC_MS (default 300)
 * and every write to it SLOWDISK_WRITE_MS (default 2) first, the way an
 * SD card or a busy NAS disk stalls.  Whichever thread syncs sleeps: the
 * bench shows whether that is ever the event loop's. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int env_ms(const char *name, int def)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : def;
}

static int slow_fd(int fd)
{
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	const char *m = getenv("SLOWDISK_MATCH");
	return strstr(path, m && *m ? m : "history") != NULL;
}

static void nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (slow_fd(fd))
		nap(env_ms("SLOWDISK_SYNC_MS", 300));
	return real(fd);
}

int fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	if (slow_fd(fd))
		nap(env_ms("SLOWDISK_SYNC_MS", 300));
	return real(fd);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	ssize_t (*real)(int, const void *, size_t, off64_t) =
		(ssize_t (*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
	if (slow_fd(fd))
		nap(env_ms("SLOWDISK_WRITE_MS", 2));
	return real(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite64(fd, buf, n, (off64_t)off);
}
