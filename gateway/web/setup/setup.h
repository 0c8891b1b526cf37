/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/setup.h - the page's Setup tab on the server side:
 * /api/setup/ (bmsgw(8) "SETUP", [http] setup).
 *
 * Who may: an admin login over HTTPS changes the configuration; a read
 * login sees it; without a users file, a setup code drawn at start
 * creates the first admin (its certificate, HTTPS, the logins).  Every
 * change is a POST of JSON with the X-CSRF-Token of GET /api/setup/session
 * (bound to the login or the code) and, where sent, the page's own Origin;
 * a GET changes nothing.  What touches a file (reading the configuration,
 * writing it with its backups, the secrets, the users file, a certificate
 * and its key, a check that reads the files a configuration names) runs
 * on a thread of its own (a core/workq.h queue), and a reload is the daemon's, as SIGHUP's; the
 * detections of ports run on the loop (gateway/detect/), a port a running
 * pack holds lent to them.  The state lives as long as the daemon: an
 * HTTP server a reload replaces hands its requests to the next one's.
 *
 * setup.c     the state, the routes, the session
 * answer.c    the answers: JSON, errors on their fields, answers owed
 * changes.c   who may change, the change log, a reload after the answer
 * plan.c      the configuration shown (secrets left out), the new file
 *             made from what the page sends
 * csrf.c      the tokens (HMAC-SHA256 of a nonce, its time and the login
 *             with its password's hash, or the code)
 * code.c      the setup code: drawn, logged, its file, its tries
 * worker.c    the file work as tasks of its queue (core/workq.h)
 * sfiles.c    the file work: read with its hash, write atomically (through
 *             a temporary file none but bmsgw made) with backups, secrets,
 *             undo
 * apply.c     /api/setup/config, check and apply, the change log
 * paths.c     a file named from the setup: inside the configuration's
 *             or the state directory only
 * admin.c     the first admin: users file, certificate, HTTPS
 * cert.c      a self-signed ECDSA P-256 certificate (OpenSSL)
 * sjson.c     the bodies of the POSTs read (jansson; pure, fuzzed)
 * ports.c     the ports of this machine and the packs on each
 * jobs.c      detections (and Bluetooth scans) as jobs with progress
 * schema.c    the keys of each section for the page's forms
 */
#ifndef GATEWAY_WEB_SETUP_SETUP_H
#define GATEWAY_WEB_SETUP_SETUP_H

#include <stdbool.h>
#include <stddef.h>

struct gw;
struct gw_setup;
struct conf_http;

#define GW_SETUP_BODY_MAX (256 * 1024)  /* bytes of a POST's body; more: 413 */

/* One request under /api/setup/, as the HTTP server read it. */
struct gw_setup_req {
	const char *method;             /* "GET", "POST" ... */
	const char *path;               /* what follows /api/setup/ */
	const char *body;               /* a POST's, NUL-terminated */
	size_t len;
	const char *content_type, *csrf, *origin, *host; /* headers, NULL when absent */
	const char *user;               /* its login's name, NULL without one */
	const unsigned char *cred;      /* its password's hash (the users file's derived key), NULL without */
	size_t cred_len;
	int role;                       /* enum gw_role of the login, -1 without one */
	bool tls;                       /* over HTTPS */
	bool trusted;                   /* from loopback or an [http] clients network */
	bool ingress;                   /* from Home Assistant's ingress proxy ([http] ingress): its
	                                 * logged-in user, an admin (user "Home Assistant") */
	const char *addr;               /* the client's address */
};

/* An answer: its status and its JSON (malloc'd, the receiver frees it). */
struct gw_setup_answer {
	int status;
	char *json;
	size_t len;
	const char *allow;              /* a 405's Allow header, else NULL */
	long retry_after;               /* a 429's Retry-After header (s), 0 = none */
};
typedef void gw_setup_cb(void *arg, struct gw_setup_answer *a);
struct gw_setup_wait;

/* The state of gw (gw->setup), made by the HTTP server's first start:
 * NULL when out of memory or its thread cannot start. */
struct gw_setup *gw_setup_new(struct gw *gw);
/* The [http] in force (at start and after each reload): the setup code is
 * drawn at the first start without a users file, and logged with the
 * page's address. */
void gw_setup_conf(struct gw_setup *s, const struct conf_http *c);
/* Answer q: 0 when answered now (*a), 1 when cb(arg, answer) comes later
 * from the loop, never from inside this call (*wait for a cancel). */
int gw_setup_handle(struct gw_setup *s, const struct gw_setup_req *q, struct gw_setup_answer *a, gw_setup_cb *cb,
		    void *arg, struct gw_setup_wait **wait);
/* A change outside the setup that takes the setup's rule (POST
 * /api/bms-settings): Content-Type JSON, the page's own Origin, the
 * login's X-CSRF-Token of GET /api/setup/session.  NULL when q passes,
 * else why not. */
const char *gw_setup_post_check(const struct gw_setup *s, const struct gw_setup_req *q);
/* The client is gone: the cb of *w (if any) is not called (the work it
 * asked goes on), and *w is NULL. */
void gw_setup_cancel(struct gw_setup_wait **w);
/* The daemon exits: jobs stopped, the thread joined, freed (NULL is fine). */
void gw_setup_free(struct gw_setup *s);

#endif
