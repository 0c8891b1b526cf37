/* SPDX-License-Identifier: MIT */
/* gateway/core/statedir.c - the place of bmsgw's own files when the
 * configuration names none, and its creation.
 *
 * Under systemd, StateDirectory=bmsgw makes the directory and passes it in
 * $STATE_DIRECTORY.  Started by hand (as root, say, to try it out), nobody
 * has made /var/lib/bmsgw: the history database and the state file could
 * not be opened, and /api/history.csv answered 503.  So bmsgw makes it
 * itself, 0750 like a state directory of a service, and never touches the
 * mode of one that is there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "statedir.h"

/* a failure to make the directory is logged once until it works */
static bool failure_logged;

/* The directory systemd made for StateDirectory= (the first, if several:
 * n characters of the result), or NULL when not run that way. */
static const char *systemd_dir(size_t *n)
{
	const char *sd = getenv("STATE_DIRECTORY");
	if (!sd || sd[0] != '/')
		return NULL;
	*n = strcspn(sd, ":");
	return sd;
}

bool gw_state_path(const char *name, char *out, size_t cap)
{
	size_t n;
	const char *sd = systemd_dir(&n);
	if (sd) {
		snprintf(out, cap, "%.*s/%s", (int)n, sd, name);
		return false;
	}
	snprintf(out, cap, "%s/%s", GW_STATE_DIR, name);
	return true;
}

void gw_state_dir_name(char *out, size_t cap)
{
	size_t n;
	const char *sd = systemd_dir(&n);
	if (sd)
		snprintf(out, cap, "%.*s", (int)n, sd);
	else
		snprintf(out, cap, "%s", GW_STATE_DIR);
}

/* The parents of path (a copy, without trailing slashes), as mkdir -p. */
static int make_parents(char *p)
{
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		int rc = mkdir(p, 0777);
		*s = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

int gw_mkdir_p(const char *dir, mode_t mode)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	char p[PATH_MAX];
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(p)) {
		errno = n ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(p, dir, n);
	p[n] = '\0';
	if (make_parents(p) < 0)
		return -1;
	if (mkdir(p, mode) != 0) {
		/* made by someone else meanwhile: theirs, as it is */
		if (errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		return -1;
	}
	/* the umask may have taken bits off: the mode asked for, on the one made here */
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		(void)fchmod(fd, mode);
		close(fd);
	}
	return 1;
}

int gw_state_dir_make(const char *dir)
{
	int rc = gw_mkdir_p(dir, GW_STATE_DIR_MODE);
	if (rc < 0) {
		if (!failure_logged)
			gw_err("cannot create the state directory %s (%s): the history and the energy counters "
			       "have nowhere to go; set [history] file = ... or [gateway] state_file = ..., or run "
			       "under systemd with StateDirectory= (the gateway goes on serving)", dir, strerror(errno));
		failure_logged = true;
		return -1;
	}
	if (rc > 0)
		gw_info("created the state directory %s (mode %04o) for the history and the energy counters", dir,
			(unsigned)GW_STATE_DIR_MODE);
	failure_logged = false;
	return 0;
}

void gw_state_dir_prepare(void)
{
	size_t n;
	if (!systemd_dir(&n))
		(void)gw_state_dir_make(GW_STATE_DIR);
}
