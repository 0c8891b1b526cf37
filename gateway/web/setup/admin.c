/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/admin.c - POST /api/setup/admin {code, user, password}:
 * the first admin of a new installation.
 *
 * Taken only while there is no users file, with the live setup code (a
 * wrong one counts toward its 5 tries), over plain HTTP only from this
 * machine or an [http] clients network.  The worker writes the users
 * file (0600, --hash-password's line, PBKDF2 on the thread), a
 * self-signed certificate and its key (cert.c) unless [http] names one,
 * and [http] users_file, tls_cert and tls_key into the configuration
 * (checked whole first, with its backups as apply writes it).  The answer
 * {user, https_url, fingerprint} goes out over the old server; the code
 * is void; a moment later the reload restarts the page as HTTPS with
 * logins.  A file in the way (a users file or key the configuration does
 * not name yet) is never overwritten. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/log.h"
#include "../../model/gw.h"
#include "../users.h"
#include "setup_int.h"

struct admin_task {
	struct setup_task t;
	struct gw_setup_wait *w;
	char path[PATH_MAX], dir[PATH_MAX - 64];
	char user[GW_USER_NAME_MAX + 1];
	char *pw;
	size_t pwlen;
	char host[256], addr[64], url[300];
	char users[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	bool own_cert;                  /* a certificate to make (none was set) */
	bool wrote_users, wrote_cert, wrote_key; /* the files this request made (removed on a failure) */
	struct setup_backups bk;
	/* results */
	int status;
	char why[CONF_ERR_MAX];
	struct conf_error errs[SETUP_ERRORS_MAX];
	int nerrs;
	char fpr[100];
	struct conf *nc;
	char *old;
	size_t oldlen;
};

static void admin_free(struct admin_task *a)
{
	if (a->pw) {
		explicit_bzero(a->pw, a->pwlen);
		free(a->pw);
	}
	free(a->nc);
	free(a->old);
	setup_backups_forget(&a->bk);
	free(a);
}

/* A file that must not be there yet (nothing at its name, not even a
 * symlink to nowhere): 0, or -1 with a->status. */
static int not_there(struct admin_task *a, const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0 && errno == ENOENT)
		return 0;
	a->status = 409;
	snprintf(a->why, sizeof(a->why), "%s is there already, and the configuration does not name it: move it away "
		 "(bmsgw never overwrites it)", path);
	return -1;
}

/* The key and the certificate (made first, in memory: a certificate that
 * cannot be made writes nothing), then the users file. */
static int write_files(struct admin_task *a)
{
	char line[512], why[400];
	char *cert = NULL, *key = NULL;
	if (not_there(a, a->users) < 0 || (a->own_cert && (not_there(a, a->cert) < 0 || not_there(a, a->key) < 0)))
		return -1;
	a->status = 500;
	int rc = gw_user_hash_line(a->user, "admin", a->pw, a->pwlen, line, sizeof(line) - 1, why, sizeof(why));
	if (rc == 0 && a->own_cert)
		rc = setup_cert_make(a->host, &cert, &key, a->fpr, sizeof(a->fpr), why, sizeof(why));
	if (rc == 0 && a->own_cert) {
		rc = setup_file_write(a->key, key, strlen(key), 0600, why, sizeof(why));
		a->wrote_key = rc == 0;
		if (rc == 0)
			rc = setup_file_write(a->cert, cert, strlen(cert), 0644, why, sizeof(why));
		a->wrote_cert = rc == 0;
	} else if (rc == 0) {
		size_t n;
		char *pem = setup_file_read(a->cert, &n, why, sizeof(why));
		if (pem)
			setup_cert_fingerprint(pem, n, a->fpr, sizeof(a->fpr));
		free(pem);
	}
	if (key)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	if (rc == 0) {
		strcat(line, "\n");
		rc = setup_file_write(a->users, line, strlen(line), 0600, why, sizeof(why));
		a->wrote_users = rc == 0;
	}
	explicit_bzero(line, sizeof(line));
	if (rc < 0)
		snprintf(a->why, sizeof(a->why), "%s", why);
	return rc;
}

/* A failed first admin leaves nothing behind: the files it made go. */
static void remove_files(struct admin_task *a)
{
	if (a->wrote_users)
		unlink(a->users);
	if (a->wrote_cert)
		unlink(a->cert);
	if (a->wrote_key)
		unlink(a->key);
	a->wrote_users = a->wrote_cert = a->wrote_key = false;
}

/* [http] users_file (and tls_cert, tls_key) into the file, checked, written. */
static void admin_work(struct setup_task *t)
{
	struct admin_task *a = (struct admin_task *)t;
	char why[600];
	struct setup_ini ini;
	if (!(a->old = setup_file_read(a->path, &a->oldlen, why, sizeof(why))) || setup_ini_parse(&ini, a->old, a->oldlen) < 0) {
		a->status = 409;
		snprintf(a->why, sizeof(a->why), "%s", a->old ? "the file holds a NUL byte" : why);
		return;
	}
	if (write_files(a) < 0) {
		remove_files(a);
		setup_ini_free(&ini);
		return;
	}
	char *text = NULL;
	a->status = 500;
	snprintf(a->why, sizeof(a->why), "out of memory");
	if (setup_ini_set(&ini, "http", "users_file", a->users) == 0 &&
	    (!a->own_cert || (setup_ini_set(&ini, "http", "tls_cert", a->cert) == 0 &&
			      setup_ini_set(&ini, "http", "tls_key", a->key) == 0)))
		text = setup_ini_text(&ini, NULL);
	setup_ini_free(&ini);
	struct stat st;
	unsigned mode = stat(a->path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0640;
	if (text && (a->nc = malloc(sizeof(*a->nc)))) {
		a->nerrs = setup_check_all(text, a->path, a->nc, a->errs, SETUP_ERRORS_MAX);
		if (a->nerrs != 0) {
			a->status = 422;
			snprintf(a->why, sizeof(a->why), "the configuration with the first admin is refused");
		} else if (setup_backups_push(a->path, a->old, a->oldlen, mode, &a->bk, why, sizeof(why)) < 0 ||
			   setup_file_write(a->path, text, strlen(text), mode, why, sizeof(why)) < 0) {
			setup_backups_pop(a->path, &a->bk);
			a->status = 409;
			snprintf(a->why, sizeof(a->why), "%s", why);
		} else {
			a->status = 0;
		}
	}
	free(text);
	if (a->status != 0)
		remove_files(a);
}

static void after(struct gw_setup *s, void *arg, int rc, const char *err)
{
	(void)arg;
	s->busy = false;
	if (rc < 0)
		gw_err("setup: the page could not switch to HTTPS with logins: %s (the file names them: fix the "
		       "cause and reload)", err);
}

static void admin_done(struct gw_setup *s, struct setup_task *t)
{
	struct admin_task *a = (struct admin_task *)t;
	if (s->stopping || a->status != 0) {
		if (a->status == 422)
			setup_send(a->w, 422, json_pack("{s:s, s:o}", "error", a->why, "errors",
							setup_errors_json(a->errs, a->nerrs)));
		else
			setup_send_error(a->w, s->stopping ? 503 : a->status, s->stopping ? "bmsgw is stopping" : a->why);
		s->busy = false;
		admin_free(a);
		return;
	}
	gw_info("setup: first admin %s made from %s; the page is HTTPS with logins from now on (%s, certificate "
		"SHA-256 %s)", a->user, a->addr, a->url, a->fpr);
	setup_send(a->w, 200, json_pack("{s:s, s:s, s:s}", "user", a->user, "https_url", a->url, "fingerprint", a->fpr));
	setup_code_void(s, "it made the first admin");
	json_t *changed = json_pack("[{s:s, s:s}]", "section", "http", "key", "users_file");
	if (a->own_cert) {
		json_array_append_new(changed, json_pack("{s:s, s:s}", "section", "http", "key", "tls_cert"));
		json_array_append_new(changed, json_pack("{s:s, s:s}", "section", "http", "key", "tls_key"));
	}
	setup_log_change(s, "setup code", a->addr, changed, NULL);
	struct conf *nc = a->nc;
	a->nc = NULL;
	char who[120];
	snprintf(who, sizeof(who), "setup: the first admin %s", a->user);
	setup_reload_later(s, nc, who, after, NULL);
	admin_free(a);
}

/* A Host header's ":PORT" (or nothing) after its name or address. */
static bool port_ok(const char *p)
{
	if (!*p)
		return true;
	size_t n = strspn(p + 1, "0123456789");
	return p[0] == ':' && n >= 1 && n <= 5 && !p[1 + n];
}

/* A host name the certificate can name: letters, digits, '-', '_', dots
 * between labels of 1 to 63. */
static bool name_ok(const char *h, size_t n)
{
	if (n == 0 || n > 253 || h[0] == '.' || h[0] == '-' || h[n - 1] == '.')
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i];
		if (ch == '.' ? label == 0 : !(isalnum((unsigned char)ch) || ch == '-' || ch == '_'))
			return false;
		label = ch == '.' ? 0 : label + 1;
		if (label > 63)
			return false;
	}
	return true;
}

/* The host the browser asked for, without its port: NULL, or why it is
 * none that the page's certificate could be made for (a ',' or a second
 * ':' would make another name of its subjectAltName, or none). */
static const char *host_of(const struct gw_setup_req *q, const struct conf_http *c, char *out, size_t cap, int *port)
{
	const char *h = q->host ? q->host : c->listen_host;
	unsigned char addr[16];
	*port = c->listen_port;
	out[0] = '\0';
	if (h[0] == '[') {
		const char *e = strchr(h, ']');
		int n = e ? (int)(e - h - 1) : 0;
		snprintf(out, cap, "%.*s", n, h + 1);
		if (!e || (size_t)n >= cap || inet_pton(AF_INET6, out, addr) != 1 || !port_ok(e + 1))
			return "an IPv6 address in [] with an optional :PORT";
		return NULL;
	}
	const char *colon = strchr(h, ':');
	size_t n = colon ? (size_t)(colon - h) : strlen(h);
	snprintf(out, cap, "%.*s", (int)n, h);
	if (!q->host)
		return NULL; /* the address it listens on */
	if (n >= cap || !name_ok(h, n) || !port_ok(h + n))
		return "a host name or an IPv4 address with an optional :PORT";
	return NULL;
}

/* Everything asked of the request before the worker: 0, or answered. */
static int admin_checks(struct setup_ctx *x)
{
	struct gw_setup *s = x->s;
	if (s->http.users_file[0])
		return setup_error(x, 409, "there is an admin already: log in (users_file %s)", s->http.users_file);
	if (!s->http.setup)
		return setup_error(x, 403, "the configuration is read only here ([http] setup = false)");
	if (!setup_code_live(s))
		return setup_error(x, 403, "the setup code is void (used, 60 minutes old or 5 wrong tries): restart bmsgw "
				   "for a new one");
	if (!x->q->tls && !x->q->trusted)
		return setup_error(x, 403, "over plain HTTP the setup code is taken from this machine or an [http] clients "
				   "network only");
	if (s->busy)
		return setup_error(x, 409, "another change is being applied (try again in a moment)");
	return -1;
}

static int admin_args(struct setup_ctx *x, json_t *b, struct admin_task *a)
{
	json_t *code = json_object_get(b, "code"), *user = json_object_get(b, "user"), *pw = json_object_get(b, "password");
	if (!json_is_string(code) || !json_is_string(user) || !json_is_string(pw))
		return setup_error(x, 400, "the body is {\"code\", \"user\", \"password\"}");
	int ok = setup_code_try(x->s, json_string_value(code), x->q->addr ? x->q->addr : "-");
	if (ok < 0)
		return setup_field_error(x, 403, NULL, "code", "the setup code is void (restart bmsgw for a new one)");
	if (ok == 0)
		return setup_field_error(x, 403, NULL, "code", "wrong setup code (%d tries left)",
					 SETUP_CODE_TRIES - x->s->code_tries);
	const char *bad = gw_user_name_bad(json_string_value(user));
	if (bad)
		return setup_field_error(x, 422, NULL, "user", "%s", bad);
	size_t n = json_string_length(pw);
	const char *p = json_string_value(pw);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return setup_field_error(x, 422, NULL, "password", "a password is one line of printable characters");
	if (n < SETUP_PASSWORD_MIN || n > GW_PASSWORD_MAX)
		return setup_field_error(x, 422, NULL, "password", "a password of %d to %d characters", SETUP_PASSWORD_MIN,
					 GW_PASSWORD_MAX);
	snprintf(a->user, sizeof(a->user), "%s", json_string_value(user));
	if (!(a->pw = malloc(n + 1)))
		return setup_error(x, 500, "out of memory");
	memcpy(a->pw, p, n + 1);
	a->pwlen = n;
	return -1;
}

bool setup_admin_refused(struct setup_ctx *x)
{
	return admin_checks(x) >= 0;
}

int setup_admin(struct setup_ctx *x)
{
	if (admin_checks(x) >= 0)
		return 0;
	char why[300], host[256];
	int port;
	const char *bad = host_of(x->q, &x->s->http, host, sizeof(host), &port);
	if (bad) /* before the code is tried and anything written */
		return setup_error(x, 400, "the Host header \"%.100s\" is not %s: the page's certificate is made "
				   "for the name the browser asked for (open the page by a name or address of this "
				   "machine)", x->q->host, bad);
	json_t *b = setup_parse_body(x->q->body, x->q->len, why, sizeof(why));
	if (!b)
		return setup_error(x, 400, "%s", why);
	struct admin_task *a = calloc(1, sizeof(*a));
	int r = a ? admin_args(x, b, a) : setup_error(x, 500, "out of memory");
	json_decref(b);
	if (r >= 0) {
		if (a)
			admin_free(a);
		return 0;
	}
	const struct conf_http *c = &x->s->http;
	snprintf(a->host, sizeof(a->host), "%s", host);
	snprintf(a->url, sizeof(a->url), "https://%s%s%s:%d/", strchr(a->host, ':') ? "[" : "", a->host,
		 strchr(a->host, ':') ? "]" : "", port);
	snprintf(a->path, sizeof(a->path), "%s", x->s->gw->conf->file);
	setup_conf_dir(x->s, a->dir, sizeof(a->dir));
	snprintf(a->addr, sizeof(a->addr), "%s", x->q->addr ? x->q->addr : "-");
	snprintf(a->users, sizeof(a->users), "%s/users", a->dir);
	a->own_cert = !c->tls_cert[0];
	snprintf(a->cert, sizeof(a->cert), "%s", a->own_cert ? "" : c->tls_cert);
	if (a->own_cert) {
		snprintf(a->cert, sizeof(a->cert), "%s/http.pem", a->dir);
		snprintf(a->key, sizeof(a->key), "%s/http.key", a->dir);
	}
	a->t.work = admin_work;
	a->t.done = admin_done;
	if (!(a->w = setup_later(x))) {
		admin_free(a);
		return 0;
	}
	x->s->busy = true;
	setup_worker_post(x->s, &a->t);
	return 1;
}
