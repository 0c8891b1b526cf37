/* SPDX-License-Identifier: MIT */
/* gateway/detect/holders.c - who holds a serial port (see holders.h).
 *
 * A descriptor is the device when stat() through /proc/PID/fd/N (which
 * follows the link to the open file) gives a character device with the
 * same device number: a symlink such as /dev/serial/by-id/... or a pty
 * link names the same device.  A pty master (/dev/ptmx) is another device
 * than its slave, so the program on the other end of a pty pair does not
 * count unless it holds the slave too.
 *
 * UUCP lock files (Filesystem Hierarchy Standard 3.0, /var/lock: "LCK.."
 * followed by the device's base name, holding the owner's PID as ten ASCII
 * digits, or as a binary int in old ones) count while that process lives.
 */
#include "holders.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void comm_of(pid_t pid, char *out, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	snprintf(out, cap, "?");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0) {
		snprintf(out, cap, "?");
		return;
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static bool seen(const struct gw_holder *h, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (h[i].pid == pid)
			return true;
	return false;
}

/* Does process pid have the device rdev open? */
static bool holds(pid_t pid, dev_t rdev)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(dir);
	if (!d)
		return false; /* gone, or another user's */
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		char p[sizeof(dir) + 16];
		struct stat st;
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(p, sizeof(p), "%s/%.12s", dir, e->d_name);
		found = stat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == rdev;
	}
	closedir(d);
	return found;
}

static int by_descriptor(dev_t rdev, struct gw_holder *out, int n, int max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return n;
	struct dirent *e;
	pid_t self = getpid();
	while (n < max && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == self || !holds((pid_t)pid, rdev))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].pid = (pid_t)pid;
		comm_of(out[n].pid, out[n].name, sizeof(out[n].name));
		n++;
	}
	closedir(d);
	return n;
}

bool gw_holders_lock_name(const char *devpath, char *out, size_t cap)
{
	const char *rel = strncmp(devpath, "/dev/", 5) == 0 ? devpath + 5 : strrchr(devpath, '/');
	if (!rel)
		rel = devpath;
	else if (*rel == '/')
		rel++;
	int k = snprintf(out, cap, "LCK..%s", rel);
	if (k < 0 || (size_t)k >= cap)
		return false;
	for (char *c = out; *c; c++)
		if (*c == '/')
			*c = '_';
	return true;
}

/* The PID in a lock file: ten ASCII digits, or a binary int; 0 if none. */
static pid_t lock_pid(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == (ssize_t)sizeof(int) && !isdigit((unsigned char)buf[0]) && buf[0] != ' ') {
		int v;
		memcpy(&v, buf, sizeof(v));
		return v > 0 ? (pid_t)v : 0;
	}
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long v = strtol(buf, NULL, 10);
	return v > 0 && v <= INT_MAX ? (pid_t)v : 0;
}

static int by_lock(const char *devpath, struct gw_holder *out, int n, int max)
{
	static const char *const dirs[] = { "/run/lock", "/var/lock" };
	char name[64];
	if (!gw_holders_lock_name(devpath, name, sizeof(name)))
		return n;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && n < max; i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		pid_t pid = lock_pid(path);
		if (pid <= 0 || pid == getpid() || seen(out, n, pid) || (kill(pid, 0) < 0 && errno == ESRCH))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].pid = pid;
		out[n].by_lock = true;
		snprintf(out[n].lock, sizeof(out[n].lock), "%s", path);
		comm_of(pid, out[n].name, sizeof(out[n].name));
		n++;
	}
	return n;
}

int gw_holders_find(const char *path, struct gw_holder *out, int max)
{
	struct stat st;
	char real[PATH_MAX];
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISCHR(st.st_mode)) {
		errno = ENOTTY;
		return -1;
	}
	int n = by_descriptor(st.st_rdev, out, 0, max);
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	n = by_lock(real, out, n, max);
	if (strcmp(real, path) != 0)
		n = by_lock(path, out, n, max);
	return n;
}
