/* SPDX-License-Identifier: MIT */
/* conf/secret.c - a file that holds a secret (a key, a password, password
 * hashes) must be bmsgw's alone: the check of [mqtt]'s and [modbus_tls]'s
 * key files at load, and the one the loaders of [http]'s certificate key
 * and users file (gateway/web/) make; the password files of [mqtt] and
 * [ble_proxy.NAME].  Each opened once (rfile.c: never blocking, never
 * through another user's link), its mode judged on what was opened. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int conf_private_file(const char *path, char *why, size_t wl)
{
	int fd = conf_private_open(path, why, wl);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int conf_read_password(const char *path, char *out, size_t cap, char *why, size_t wl)
{
	int fd = conf_private_open(path, why, wl);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0) {
			snprintf(why, wl, "cannot read %s: %s", path, strerror(errno));
			close(fd);
		}
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
