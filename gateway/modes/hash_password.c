/* SPDX-License-Identifier: MIT */
/* gateway/modes/hash_password.c - bmsgw --hash-password NAME ROLE: the
 * [http] users_file line, from a password on standard input, hashed by
 * web/users.c as the logins are checked. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../web/users.h"
#include "cli.h"

/* One line of standard input into pw; typed at a terminal, asked for on
 * standard error and not echoed (as passwd and htpasswd do). */
static void read_password(const char *name, char *pw, size_t cap)
{
	struct termios keep, quiet;
	bool tty = isatty(0) && tcgetattr(0, &keep) == 0;
	if (tty) {
		/* echo off before the prompt, so nothing typed after it is shown */
		quiet = keep;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(0, TCSAFLUSH, &quiet);
		fprintf(stderr, "password for %s (one line, not shown): ", name);
	}
	if (!fgets(pw, (int)cap, stdin))
		pw[0] = '\0';
	if (tty)
		tcsetattr(0, TCSANOW, &keep);
}

int gw_mode_hash_password(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	char pw[GW_PASSWORD_MAX + 2], line[512], err[200];
	const char *bad = gw_user_name_bad(o->hash_name);
	if (bad) {
		fprintf(stderr, "bmsgw: --hash-password: \"%s\": %s\n", o->hash_name, bad);
		return 2;
	}
	if (strcmp(o->hash_role, "read") != 0 && strcmp(o->hash_role, "admin") != 0) {
		fprintf(stderr, "bmsgw: --hash-password: \"%s\" is not a role (expected read or admin)\n", o->hash_role);
		return 2;
	}
	read_password(o->hash_name, pw, sizeof(pw));
	size_t n = strcspn(pw, "\r\n");
	bool whole = pw[n] != '\0' || feof(stdin);
	pw[n] = '\0';
	int rc = 0;
	if (!whole || n > GW_PASSWORD_MAX) {
		fprintf(stderr, "bmsgw: --hash-password: the password is longer than %d bytes\n", GW_PASSWORD_MAX);
		rc = 2;
	} else if (n == 0) {
		fprintf(stderr, "bmsgw: --hash-password: the password is empty (expected one line on standard input)\n");
		rc = 2;
	} else if (gw_user_hash_line(o->hash_name, o->hash_role, pw, n, line, sizeof(line), err, sizeof(err)) < 0) {
		fprintf(stderr, "bmsgw: --hash-password: %s\n", err);
		rc = 1;
	} else {
		printf("%s\n", line);
		rc = fflush(stdout) == 0 ? 0 : 1;
	}
	explicit_bzero(pw, sizeof(pw));
	return rc;
}
