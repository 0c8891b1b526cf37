/* SPDX-License-Identifier: MIT */
/* gateway/web/users.c - the users file of [http]: parse a line, load a file,
 * hash a password for `bmsgw --hash-password`, check a password.
 *
 * The hash is PBKDF2-HMAC-SHA256 (RFC 8018) of the password with a
 * random 16-byte salt, 32 bytes long, written as
 * $pbkdf2-sha256$ITERATIONS$SALT$HASH with SALT and HASH in base64
 * (RFC 4648 section 4, with padding), the iteration count read from each
 * line so that stronger lines keep working. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../../conf/conf.h"
#include "users.h"

#define PREFIX "$pbkdf2-sha256$"

const char *gw_role_name(enum gw_role r)
{
	return r == GW_ROLE_ADMIN ? "admin" : "read";
}

static int role_parse(const char *s, size_t n, enum gw_role *r)
{
	if (n == 4 && memcmp(s, "read", 4) == 0)
		*r = GW_ROLE_READ;
	else if (n == 5 && memcmp(s, "admin", 5) == 0)
		*r = GW_ROLE_ADMIN;
	else
		return -1;
	return 0;
}

static const char *name_bad(const char *s, size_t n)
{
	if (n < 1 || n > GW_USER_NAME_MAX)
		return "a name is 1..32 characters";
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ':')
			return "a name is printable ASCII without ':' or spaces";
	return NULL;
}

const char *gw_user_name_bad(const char *name)
{
	return name_bad(name, strlen(name));
}

/* PBKDF2-HMAC-SHA256 (RFC 8018) of the password into dk[GW_DK_LEN] */
static void pbkdf2(const char *pw, size_t pwlen, unsigned iter, const uint8_t *salt, size_t sl, uint8_t *dk)
{
	if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)sl, (int)iter, EVP_sha256(), GW_DK_LEN, dk) != 1)
		memset(dk, 0, GW_DK_LEN); /* cannot fail but for memory: a hash no password has */
}

/* $pbkdf2-sha256$ITER$SALT$HASH */
static const char *hash_parse(const char *h, struct gw_user *u)
{
	if (strncmp(h, PREFIX, strlen(PREFIX)) != 0)
		return "the hash is not $pbkdf2-sha256$... (expected a line of bmsgw --hash-password)";
	h += strlen(PREFIX);
	char *end;
	errno = 0;
	unsigned long it = strtoul(h, &end, 10);
	if (end == h || *end != '$' || errno || it < GW_PBKDF2_ITER_MIN || it > GW_PBKDF2_ITER_MAX ||
	    h[0] < '0' || h[0] > '9')
		return "the iteration count is not 1000..10000000";
	u->iter = (unsigned)it;
	const char *salt = end + 1, *dollar = strchr(salt, '$');
	if (!dollar)
		return "the hash has no $SALT$HASH";
	long sl = conf_b64_decode(salt, (size_t)(dollar - salt), u->salt, sizeof(u->salt));
	if (sl < 8)
		return "the salt is not base64 of 8..64 bytes";
	u->salt_len = (size_t)sl;
	const char *dk = dollar + 1;
	uint8_t tmp[GW_SALT_MAX];
	if (conf_b64_decode(dk, strlen(dk), tmp, sizeof(tmp)) != GW_DK_LEN)
		return "the hash is not base64 of 32 bytes";
	memcpy(u->dk, tmp, GW_DK_LEN);
	return NULL;
}

int gw_user_parse(const char *line, struct gw_user *u, char *why, size_t wl)
{
	const char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return 1;
	memset(u, 0, sizeof(*u));
	const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2) {
		snprintf(why, wl, "expected NAME:ROLE:HASH (a line of bmsgw --hash-password)");
		return -1;
	}
	const char *bad = name_bad(line, (size_t)(c1 - line));
	if (bad) {
		snprintf(why, wl, "%s", bad);
		return -1;
	}
	memcpy(u->name, line, (size_t)(c1 - line));
	if (role_parse(c1 + 1, (size_t)(c2 - c1 - 1), &u->role) < 0) {
		snprintf(why, wl, "user %s: the role is not read or admin", u->name);
		return -1;
	}
	if ((bad = hash_parse(c2 + 1, u))) {
		snprintf(why, wl, "user %s: %s", u->name, bad);
		return -1;
	}
	return 0;
}

int gw_users_load(const char *path, struct gw_users *out, char *err, size_t errlen)
{
	out->n = 0;
	int fd = conf_private_open(path, err, errlen); /* never a FIFO's wait, nor another user's link */
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			close(fd);
		}
		return -1;
	}
	char line[1024], why[160];
	int ln = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		ln++;
		size_t n = strcspn(line, "\r\n");
		if (!line[n] && !feof(f)) {
			snprintf(err, errlen, "%s:%d: the line is too long", path, ln);
			rc = -1;
			break;
		}
		line[n] = '\0';
		struct gw_user u;
		int r = gw_user_parse(line, &u, why, sizeof(why));
		if (r > 0)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, ln, why);
			rc = -1;
		} else if (out->n == GW_USERS_MAX) {
			snprintf(err, errlen, "%s:%d: more than %d users", path, ln, GW_USERS_MAX);
			rc = -1;
		} else {
			for (int i = 0; i < out->n && rc == 0; i++)
				if (strcmp(out->u[i].name, u.name) == 0) {
					snprintf(err, errlen, "%s:%d: user %s is on an earlier line too", path, ln, u.name);
					rc = -1;
				}
			if (rc == 0)
				out->u[out->n++] = u;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	explicit_bzero(line, sizeof(line));
	return rc;
}

bool gw_users_same(const struct gw_users *a, const struct gw_users *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++) {
		const struct gw_user *x = &a->u[i], *y = &b->u[i];
		if (strcmp(x->name, y->name) != 0 || x->role != y->role || x->iter != y->iter ||
		    x->salt_len != y->salt_len || memcmp(x->salt, y->salt, x->salt_len) != 0 ||
		    memcmp(x->dk, y->dk, sizeof(x->dk)) != 0)
			return false;
	}
	return true;
}

int gw_user_hash_line(const char *name, const char *role, const char *pw, size_t pwlen, char *out, size_t outlen,
			char *err, size_t errlen)
{
	enum gw_role r;
	const char *bad = gw_user_name_bad(name);
	if (bad) {
		snprintf(err, errlen, "\"%s\": %s", name, bad);
		return -1;
	}
	if (role_parse(role, strlen(role), &r) < 0) {
		snprintf(err, errlen, "\"%s\" is not a role (expected read or admin)", role);
		return -1;
	}
	if (pwlen == 0 || pwlen > GW_PASSWORD_MAX) {
		snprintf(err, errlen, "the password is empty or longer than %d bytes", GW_PASSWORD_MAX);
		return -1;
	}
	uint8_t salt[GW_SALT_LEN], dk[GW_DK_LEN];
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	pbkdf2(pw, pwlen, GW_PBKDF2_ITER, salt, sizeof(salt), dk);
	char s64[(GW_SALT_LEN + 2) / 3 * 4 + 1], d64[(GW_DK_LEN + 2) / 3 * 4 + 1];
	conf_b64_encode(salt, sizeof(salt), s64, sizeof(s64));
	conf_b64_encode(dk, sizeof(dk), d64, sizeof(d64));
	explicit_bzero(dk, sizeof(dk));
	int n = snprintf(out, outlen, "%s:%s:" PREFIX "%u$%s$%s", name, gw_role_name(r), GW_PBKDF2_ITER, s64, d64);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "the line is too long");
		return -1;
	}
	return 0;
}

bool gw_user_verify(const struct gw_user *u, const char *pw, size_t pwlen)
{
	uint8_t dk[GW_DK_LEN];
	if (pwlen > GW_PASSWORD_MAX)
		return false;
	pbkdf2(pw, pwlen, u->iter, u->salt, u->salt_len, dk);
	bool ok = CRYPTO_memcmp(dk, u->dk, sizeof(dk)) == 0;
	explicit_bzero(dk, sizeof(dk));
	return ok;
}

int gw_users_count(const char *path, char *why, size_t wl)
{
	struct gw_users *u = malloc(sizeof(*u));
	if (!u) {
		snprintf(why, wl, "out of memory");
		return -1;
	}
	int n = gw_users_load(path, u, why, wl) < 0 ? -1 : u->n;
	free(u);
	return n;
}
