/* SPDX-License-Identifier: MIT */
/* gateway/detect/holders.h - who holds a serial port: the processes with the
 * device open (their /proc/PID/fd entries; not the program on the far side
 * of a pty, which holds its master) and the live owner of its UUCP lock
 * file (/run/lock/LCK..ttyUSB0, /var/lock/LCK..ttyUSB0), as minicom,
 * ModemManager and lockdev leave it, where its descriptors cannot be read
 * (one that can and has no port open is a reused pid).  `bmsgw --detect`
 * refuses a port anybody holds, bmsgw's own daemon included, and names the
 * holder.
 *
 * Reading /proc and two lock files is all it does: local files, no wait.
 * A process of another user whose descriptors this one may not read is
 * not seen (run as root to see every holder); the kernel's TIOCEXCL and
 * bmsgw's flock() still refuse the open then.
 */
#ifndef GATEWAY_DETECT_HOLDERS_H
#define GATEWAY_DETECT_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define GW_HOLDERS_MAX 8

struct gw_holder {
	pid_t pid;
	char name[32];          /* its command name (/proc/PID/comm) */
	bool by_lock;           /* found by the lock file (else by an open descriptor) */
	char lock[128];         /* by_lock: the lock file */
};

/* The holders of the character device `path` other than this process,
 * at most max of them: their count, or -1 with errno when path is no
 * character device (ENOTTY) or cannot be looked at. */
int gw_holders_find(const char *path, struct gw_holder *out, int max);
/* The lock-file name of a device, "LCK..ttyUSB0" (the path under /dev/,
 * '/' as '_': "LCK..pts_3"), into out[0..cap).  false when it does not fit. */
bool gw_holders_lock_name(const char *devpath, char *out, size_t cap);

#endif
