/* SPDX-License-Identifier: MIT */
/* conf/rfile.c - a file bmsgw reads (its configuration, a secret, a key, a
 * certificate, the users file, the state file) opened so that nothing put
 * in its place makes bmsgw wait or read what it should not:
 *
 * - never blocking: a FIFO's open() waits for a writer that never comes
 *   (on the event loop, or on the setup's thread, which SIGTERM then waits
 *   for), a device's read may never end; the name is looked at first
 *   (O_PATH: nothing opened for reading), and only a regular file is
 *   opened, O_NONBLOCK, then checked to be the one looked at;
 * - never through another user's symbolic link: another local user who
 *   may write the configuration's directory could point a secret's name at
 *   a file only root reads, which bmsgw (root as like as not) would send a
 *   broker as its password.  A link is followed when it is root's or
 *   bmsgw's own user's (certbot's live/ links, a packager's), as the
 *   kernel's protected_symlinks follows in a shared directory only a link
 *   of the follower's or the directory's owner; its target is read from
 *   the link that was judged, never looked up again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

#define LINKS_MAX 8     /* symbolic links followed in a row */

static const char *kind(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

/* The link at lfd (an O_PATH | O_NOFOLLOW descriptor of cur, owned as st
 * says) into cur: its target, relative to cur's directory.  0, or -1 with why. */
static int follow(int lfd, const struct stat *st, const char *path, char *cur, size_t cap, char *why, size_t wl)
{
	char t[PATH_MAX];
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(why, wl, "%s is a symbolic link of another user's (uid %u), never followed: a file bmsgw "
			 "reads is reached only through root's links or its own", path, (unsigned)st->st_uid);
		return -1;
	}
	ssize_t n = readlinkat(lfd, "", t, sizeof(t) - 1);
	if (n <= 0) {
		snprintf(why, wl, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "an empty symbolic link");
		return -1;
	}
	t[n] = '\0';
	char *slash = strrchr(cur, '/');
	if (t[0] == '/' || !slash) {
		if (snprintf(cur, cap, "%s", t) >= (int)cap)
			goto long_name;
	} else {
		size_t d = (size_t)(slash - cur) + 1;
		if (d + (size_t)n + 1 > cap)
			goto long_name;
		memcpy(cur + d, t, (size_t)n + 1);
	}
	return 0;
long_name:
	snprintf(why, wl, "cannot read %s: %s", path, strerror(ENAMETOOLONG));
	return -1;
}

int conf_file_open(const char *path, char *why, size_t wl)
{
	char cur[PATH_MAX];
	struct stat st, now;
	if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur)) {
		snprintf(why, wl, "cannot read %.200s...: %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	for (int links = 0;; links++) {
		int lfd = open(cur, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (lfd < 0 || fstat(lfd, &st) != 0) {
			int e = errno;
			snprintf(why, wl, "cannot read %s: %s", path, strerror(e));
			if (lfd >= 0)
				close(lfd);
			errno = e;
			return -1;
		}
		if (!S_ISLNK(st.st_mode)) {
			close(lfd);
			break;
		}
		int r = links < LINKS_MAX ? follow(lfd, &st, path, cur, sizeof(cur), why, wl) : -1;
		if (links >= LINKS_MAX)
			snprintf(why, wl, "cannot read %s: %s", path, strerror(ELOOP));
		close(lfd);
		if (r < 0) {
			errno = ELOOP;
			return -1;
		}
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, wl, "%s is not a regular file (%s): refused", path, kind(st.st_mode));
		errno = EINVAL;
		return -1;
	}
	int fd = open(cur, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
		int e = fd < 0 ? errno : EAGAIN;
		snprintf(why, wl, "cannot read %s: %s", path, fd < 0 ? strerror(e) : "it was replaced while opened");
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int conf_private_open(const char *path, char *why, size_t wl)
{
	int fd = conf_file_open(path, why, wl);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
		snprintf(why, wl, "%s holds a secret and is %s by others (mode %04o; expected chmod o-rwx %s)", path,
			 (st.st_mode & S_IROTH) ? "readable" : "writable", (unsigned)(st.st_mode & 07777), path);
		close(fd);
		errno = EACCES;
		return -1;
	}
	return fd;
}

char *conf_file_read(const char *path, bool secret, size_t *len, char *why, size_t wl)
{
	int fd = secret ? conf_private_open(path, why, wl) : conf_file_open(path, why, wl);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size > CONF_FILE_MAX) {
		snprintf(why, wl, "%s is over %d KiB: not a file of bmsgw's", path, CONF_FILE_MAX / 1024);
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size, n = 0;
	char *buf = malloc(cap + 1);
	while (buf && n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, wl, "cannot read %s: %s", path, strerror(errno));
			explicit_bzero(buf, cap);
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break; /* shorter than it was: what is there */
		n += (size_t)r;
	}
	close(fd);
	if (!buf) {
		snprintf(why, wl, "out of memory");
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}
