/* SPDX-License-Identifier: MIT */
/* gateway/core/statedir.h - the place of bmsgw's own files (the history
 * database, the energy state file) when the configuration names none:
 * systemd's StateDirectory=, else /var/lib/bmsgw, which bmsgw makes itself
 * when it is started by hand. */
#ifndef GATEWAY_CORE_STATEDIR_H
#define GATEWAY_CORE_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The directory when neither the configuration nor systemd names one. */
#define GW_STATE_DIR "/var/lib/bmsgw"
#define GW_STATE_DIR_MODE 0750

/* out = the automatic place of file `name`: in $STATE_DIRECTORY (the first
 * of several, as systemd sets it for StateDirectory=), else in
 * GW_STATE_DIR.  True when it is GW_STATE_DIR, the one bmsgw has to make. */
bool gw_state_path(const char *name, char *out, size_t cap);

/* out = the automatic place itself ($STATE_DIRECTORY's first, else
 * GW_STATE_DIR), as gw_state_path() places a file in it. */
void gw_state_dir_name(char *out, size_t cap);

/* mkdir -p dir: missing parents as mkdir -p makes them, dir itself with
 * exactly `mode` (whatever the umask); an existing directory is left as it
 * is.  1 created, 0 there already, -1 with errno (ENOTDIR: a file is in
 * the way). */
int gw_mkdir_p(const char *dir, mode_t mode);

/* Make dir, the directory of the automatic files, with GW_STATE_DIR_MODE.
 * Its creation is logged; a failure is logged once (naming the keys that
 * set another place) until it works again.  0 or -1; the caller goes on
 * either way (its own open or write then fails and says so). */
int gw_state_dir_make(const char *dir);

/* Before the automatic place is used (at the start and on a reload): make
 * GW_STATE_DIR, unless $STATE_DIRECTORY names the place.  One stat(), and
 * a mkdir() only when it is missing: fine on the loop. */
void gw_state_dir_prepare(void);

#endif
