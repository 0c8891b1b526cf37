/* SPDX-License-Identifier: MIT */
/* gateway/web/users.h - the users file of [http] (users_file): one login a line,
 * NAME:ROLE:$pbkdf2-sha256$ITERATIONS$SALT$HASH, written by
 * `bmsgw --hash-password NAME ROLE`; its parser, the hashing and the check
 * of a password (PBKDF2-HMAC-SHA256, OpenSSL). */
#ifndef GATEWAY_WEB_USERS_H
#define GATEWAY_WEB_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_USERS_MAX 64          /* lines of a users file */
#define GW_USER_NAME_MAX 32      /* characters of a name */
/* OWASP's Password Storage Cheat Sheet: 600,000 iterations of
 * PBKDF2-HMAC-SHA256
 * (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html) */
#define GW_PBKDF2_ITER 600000u
#define GW_PBKDF2_ITER_MIN 1000u      /* a line with fewer is refused */
#define GW_PBKDF2_ITER_MAX 10000000u  /* ... or more (a line may cost ~5 s of CPU at most) */
#define GW_SALT_LEN 16               /* bytes of salt --hash-password draws */
#define GW_DK_LEN 32                 /* bytes of the derived key */
#define GW_SALT_MAX 64
#define GW_PASSWORD_MAX 1024         /* bytes of a password */

enum gw_role { GW_ROLE_READ = 0, GW_ROLE_ADMIN };

struct gw_user {
	char name[GW_USER_NAME_MAX + 1];
	enum gw_role role;
	unsigned iter;
	uint8_t salt[GW_SALT_MAX];
	size_t salt_len;
	uint8_t dk[GW_DK_LEN];
};

struct gw_users {
	int n;
	struct gw_user u[GW_USERS_MAX];
};

/* "read" or "admin". */
const char *gw_role_name(enum gw_role r);
/* A name: 1..32 characters, printable ASCII without ':' or spaces.  NULL
 * when good, else why not. */
const char *gw_user_name_bad(const char *name);
/* One line (without its newline) into *u: 0, 1 for a blank or # comment
 * line, -1 with why filled in (never quoting the hash). */
int gw_user_parse(const char *line, struct gw_user *u, char *why, size_t wl);
/* The whole file: 0, or -1 with err "PATH:LINE: why" (also for a
 * duplicate name, too many lines), or a file that cannot be read or that
 * others may read or write (said with its path). */
int gw_users_load(const char *path, struct gw_users *out, char *err, size_t errlen);
/* Do a and b hold the same users (names, roles, hashes), in the same order? */
bool gw_users_same(const struct gw_users *a, const struct gw_users *b);
/* The users file line of NAME, ROLE and a password, with a random salt
 * (getrandom) and GW_PBKDF2_ITER iterations: 0, or -1 with err. */
int gw_user_hash_line(const char *name, const char *role, const char *pw, size_t pwlen, char *out, size_t outlen,
			char *err, size_t errlen);
/* Does pw match u's hash?  (PBKDF2 with u's iterations: up to seconds of
 * CPU, never on the event loop; compared in constant time.) */
bool gw_user_verify(const struct gw_user *u, const char *pw, size_t pwlen);
/* The check of --check ([http]'s, http_conf.c): the file loaded, how
 * many users it holds, or -1 with why. */
int gw_users_count(const char *path, char *why, size_t wl);

#endif
