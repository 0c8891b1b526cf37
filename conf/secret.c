/* SPDX-License-Identifier: MIT */
/* conf/secret.c - a file that holds a secret (a key, a password, password
 * hashes) must be bmsgw's alone: the check of [mqtt]'s and [modbus_tls]'s
 * key files at load, and the one the loaders of [http]'s certificate key
 * and users file (gateway/web/) make; the password files of [mqtt] and
 * [ble_proxy.NAME]. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

int conf_private_file(const char *path, char *why, size_t wl)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(why, wl, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, wl, "%s is not a file", path);
		return -1;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(why, wl, "%s holds a secret and is %s by others (mode %04o; expected chmod o-rwx %s)", path,
			 (st.st_mode & S_IROTH) ? "readable" : "writable", (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (access(path, R_OK) != 0) {
		snprintf(why, wl, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int conf_read_password(const char *path, char *out, size_t cap, char *why, size_t wl)
{
	if (conf_private_file(path, why, wl) < 0)
		return -1;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, wl, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	char line[1024] = "";
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	size_t n = strlen(line);
	if (!got || !n || n >= cap) {
		snprintf(why, wl, "%s: the first line must hold the password (1..%zu characters)", path, cap - 1);
		explicit_bzero(line, sizeof(line));
		return -1;
	}
	memcpy(out, line, n + 1);
	explicit_bzero(line, sizeof(line));
	return 0;
}
