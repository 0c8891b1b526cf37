/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/sfiles.c - the setup API's file work, on its thread
 * (worker.c): a file read whole with its SHA-256, a file written
 * atomically (a temporary file in the same directory, fsync, rename, the
 * directory fsync'ed: a power cut leaves the old file or the new one; the
 * temporary file is a new one of a random name, never one another user put
 * there), the backups FILE.1 up to the fifth (never wider than their file,
 * the fifth kept until the change is in force), and a secret's file (0600)
 * whose old content is kept until the change is in force. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../conf/conf.h"
#include "../../core/afile.h"
#include "setup_int.h"

char *setup_file_read(const char *path, size_t *len, char *why, size_t cap)
{
	/* conf/rfile.c: a FIFO planted in its place never holds this thread
	 * (and with it every later request and SIGTERM), another user's link
	 * is never followed; a file over 1 MiB is no configuration */
	return conf_file_read(path, false, len, why, cap);
}

void setup_hash_hex(const char *data, size_t len, char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	out[0] = '\0';
	if (EVP_Digest(data, len, d, &n, EVP_sha256(), NULL) != 1)
		return; /* "" matches no hash: the page reads the file again */
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sync_dir(const char *path)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int setup_file_write(const char *path, const char *data, size_t len, unsigned mode, char *why, size_t cap)
{
	char tmp[PATH_MAX];
	struct stat old;
	/* the group of the file it replaces, when that is ours (never a planted file's) */
	bool had = lstat(path, &old) == 0 && S_ISREG(old.st_mode) && old.st_uid == geteuid();
	int fd = gw_afile_open_tmp(path, "setup", 0600, tmp, sizeof(tmp), why, cap);
	if (fd < 0)
		return -1;
	if (had && old.st_gid != getegid() && fchown(fd, (uid_t)-1, old.st_gid) < 0) {
		/* not in its group: the file keeps ours */
	}
	int bad = fchmod(fd, (mode_t)mode) != 0 || gw_afile_write_all(fd, data, len) != 0 || fsync(fd) != 0;
	if (gw_afile_commit(fd, bad, tmp, path, why, cap) != 0)
		return -1;
	sync_dir(path);
	return 0;
}

/* A kept backup made no wider than its file's mode: 0, or -1 with why
 * when it is wider and not bmsgw's own (never changed nor removed: said). */
static int backup_narrow(const char *b, unsigned mode, char *why, size_t cap)
{
	int fd = open(b, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return 0; /* none (a symlink: its rename moves the link, nothing is read through it) */
	int rc = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777 & ~mode) != 0) {
		unsigned now = (unsigned)(st.st_mode & 07777);
		if (st.st_uid != geteuid())
			errno = EPERM; /* another user's file at a backup's name: never changed */
		if (st.st_uid != geteuid() || fchmod(fd, (mode_t)(now & mode)) != 0) {
			snprintf(why, cap, "%s is %o, wider than its configuration file (%o), and not bmsgw's to "
				 "narrow (%s): chmod or remove it", b, now, mode, strerror(errno));
			rc = -1;
		}
	}
	close(fd);
	return rc;
}

int setup_backups_push(const char *path, const char *old, size_t len, unsigned mode, struct setup_backups *bk,
		       char *why, size_t cap)
{
	char a[PATH_MAX], b[PATH_MAX];
	*bk = (struct setup_backups){ 0 };
	for (int i = 1; i < SETUP_BACKUPS; i++) {
		snprintf(a, sizeof(a), "%s.%d", path, i);
		if (backup_narrow(a, mode, why, cap) < 0)
			return -1;
	}
	/* the last one, which the push drops, kept for a put-back */
	snprintf(a, sizeof(a), "%s.%d", path, SETUP_BACKUPS);
	struct stat st;
	if (lstat(a, &st) == 0 && S_ISREG(st.st_mode)) {
		size_t n;
		if (!(bk->last = setup_file_read(a, &n, why, cap)))
			return -1;
		bk->lastlen = n;
		bk->lastmode = (unsigned)(st.st_mode & 07777) & mode;
	}
	for (int i = SETUP_BACKUPS - 1; i >= 1; i--) {
		snprintf(a, sizeof(a), "%s.%d", path, i);
		snprintf(b, sizeof(b), "%s.%d", path, i + 1);
		if (rename(a, b) == 0) {
			bk->moved |= 1u << i;
		} else if (errno != ENOENT) {
			snprintf(why, cap, "cannot rename %s to %s: %s", a, b, strerror(errno));
			setup_backups_pop(path, bk);
			return -1;
		}
	}
	snprintf(a, sizeof(a), "%s.1", path);
	if (setup_file_write(a, old, len, mode, why, cap) < 0) {
		setup_backups_pop(path, bk);
		return -1;
	}
	bk->pushed = true;
	return 0;
}

void setup_backups_pop(const char *path, struct setup_backups *bk)
{
	char a[PATH_MAX], b[PATH_MAX], why[300];
	snprintf(a, sizeof(a), "%s.1", path);
	if (bk->pushed && !(bk->moved & 2u))
		unlink(a); /* there was no FILE.1: the pushed one goes */
	for (int i = 1; i < SETUP_BACKUPS; i++) {
		if (!(bk->moved & (1u << i)))
			continue;
		snprintf(a, sizeof(a), "%s.%d", path, i);
		snprintf(b, sizeof(b), "%s.%d", path, i + 1);
		rename(b, a);
	}
	if (bk->last && (bk->moved & (1u << (SETUP_BACKUPS - 1)))) {
		snprintf(a, sizeof(a), "%s.%d", path, SETUP_BACKUPS);
		setup_file_write(a, bk->last, bk->lastlen, bk->lastmode, why, sizeof(why));
	}
	setup_backups_forget(bk);
	sync_dir(path);
}

void setup_backups_forget(struct setup_backups *bk)
{
	if (bk->last) {
		explicit_bzero(bk->last, bk->lastlen);
		free(bk->last);
	}
	*bk = (struct setup_backups){ 0 };
}

int setup_secret_write(struct setup_secret_file *f, const char *value, char *why, size_t cap)
{
	size_t n;
	struct stat st;
	if (!f->path[0])
		return 0; /* kept in the configuration itself */
	/* what was there, to put back: none, or a regular file read whole; a
	 * FIFO, a directory, another user's link is refused, never replaced */
	bool there = lstat(f->path, &st) == 0 || errno != ENOENT;
	f->old = there ? setup_file_read(f->path, &n, why, cap) : NULL;
	if (there && !f->old)
		return -1;
	f->oldlen = f->old ? n : 0;
	size_t vl = strlen(value);
	char *line = malloc(vl + 2);
	if (!line) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	memcpy(line, value, vl);
	line[vl] = '\n';
	int r = setup_file_write(f->path, line, vl + 1, 0600, why, cap);
	explicit_bzero(line, vl + 1);
	free(line);
	return r;
}

void setup_secret_undo(struct setup_secret_file *f)
{
	char why[200];
	if (f->old)
		setup_file_write(f->path, f->old, f->oldlen, 0600, why, sizeof(why));
	else if (f->path[0])
		unlink(f->path);
	setup_secret_forget(f);
}

void setup_secret_forget(struct setup_secret_file *f)
{
	if (f->old) {
		explicit_bzero(f->old, f->oldlen);
		free(f->old);
	}
	f->old = NULL;
}
