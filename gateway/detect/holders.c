/* SPDX-License-Identifier: MIT */
/* gateway/detect/holders.c - who holds a serial port (see holders.h).
 *
 * A descriptor is the device when stat() through /proc/PID/fd/N (which
 * follows the link to the open file) gives a character device with the
 * same device number: a symlink such as /dev/serial/by-id/... or a pty
 * link names the same device.  A pty master (/dev/ptmx) is another device
 * than its slave, so the program on the other end of a pty pair does not
 * count for its master; and a process that holds the master of this very
 * pty (its fdinfo's tty-index, Linux 4.14 and later, is the slave's
 * number) does not count for the slave either: it is the port's own far
 * end, e.g. `socat pty,link=/dev/ttyBMS tcp:host:port`, which keeps the
 * slave open beside the master (issue 36), not a competitor.  A pty slave
 * is that device only in its own devpts instance: a container mounts one
 * of its own (podman, `mount -t devpts -o newinstance`) whose /dev/pts/0 has
 * the same device number as the host's, so a pty slave counts only where
 * its file system (st_dev) is the port's too (a `podman build` running
 * apt-get beside a detection was once named as the holder of the
 * detection's pty).  A real device keeps its number across file systems
 * (a container's /dev node of the same ttyUSB0 is a holder).
 *
 * UUCP lock files (Filesystem Hierarchy Standard 3.0, /var/lock: "LCK.."
 * followed by the device's base name, holding the owner's PID as ten ASCII
 * digits, or as a binary int in old ones) count while that process lives
 * and has the port open; its descriptors are all looked at above, so the
 * lock names a holder only where they cannot be read (another user's
 * process).  A live process whose descriptors show no port is a reused
 * pid (its owner died without removing the lock): not a holder (issue 36).
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
#include <sys/sysmacros.h>
#include <unistd.h>

#define PTMX_MAJOR 5    /* /dev/ptmx, /dev/pts/ptmx: 5, 2 */
#define PTMX_MINOR 2
#define PTS_MAJOR 136   /* UNIX98 pty slaves: 136..143, index = (major - 136) * 256 + minor */
#define PTS_MAJORS 8

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

/* The pty index of a UNIX98 pty slave (/dev/pts/N: N), or -1. */
static long pts_index(dev_t rdev)
{
	unsigned ma = major(rdev);
	/* minor() is unsigned: a long as wide as it (32 bits) made the sum unsigned */
	return ma >= PTS_MAJOR && ma < PTS_MAJOR + PTS_MAJORS ? (long)(ma - PTS_MAJOR) * 256 + (long)minor(rdev) : -1;
}

/* Is descriptor fd of pid a pty master of index idx (fdinfo "tty-index:")? */
static bool master_of(pid_t pid, const char *fd, long idx)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%.12s", (long)pid, fd);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return false;
	ssize_t n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *t = strstr(buf, "tty-index:");
	return t && strtol(t + strlen("tty-index:"), NULL, 10) == idx;
}

/* Does process pid have the device `port` open (1), without its pty's
 * master (a process with both is the pty's far end: 0 then), or not (0)?
 * -1: its descriptors cannot be read (gone, or another user's). */
static int holds(pid_t pid, const struct stat *port)
{
	dev_t rdev = port->st_rdev;
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	long idx = pts_index(rdev);
	bool slave = false, master = false;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && !master && (!slave || idx >= 0)) {
		char p[sizeof(dir) + 16];
		struct stat st;
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(p, sizeof(p), "%s/%.12s", dir, e->d_name);
		if (stat(p, &st) != 0 || !S_ISCHR(st.st_mode))
			continue;
		if (st.st_rdev == rdev && (idx < 0 || st.st_dev == port->st_dev))
			slave = true;
		else if (idx >= 0 && st.st_rdev == makedev(PTMX_MAJOR, PTMX_MINOR))
			master = master_of(pid, e->d_name, idx);
	}
	closedir(d);
	return slave && !master;
}

static int by_descriptor(const struct stat *port, struct gw_holder *out, int n, int max)
{
	DIR *d = opendir("/proc");
	if (!d)
		return n;
	struct dirent *e;
	pid_t self = getpid();
	while (n < max && (e = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == self || holds((pid_t)pid, port) != 1)
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

static int by_lock(const char *devpath, const struct stat *port, struct gw_holder *out, int n, int max)
{
	static const char *const dirs[] = { "/run/lock", "/var/lock" };
	char name[64];
	if (!gw_holders_lock_name(devpath, name, sizeof(name)))
		return n;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && n < max; i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		pid_t pid = lock_pid(path);
		/* by_descriptor() saw every holder whose descriptors it can read */
		if (pid <= 0 || pid == getpid() || seen(out, n, pid) || (kill(pid, 0) < 0 && errno == ESRCH) ||
		    holds(pid, port) != -1)
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
	int n = by_descriptor(&st, out, 0, max);
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	n = by_lock(real, &st, out, n, max);
	if (strcmp(real, path) != 0)
		n = by_lock(path, &st, out, n, max);
	return n;
}
