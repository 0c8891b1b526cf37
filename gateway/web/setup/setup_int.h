/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/setup_int.h - what the files of the setup API share
 * (setup.h lists them). */
#ifndef GATEWAY_WEB_SETUP_SETUP_INT_H
#define GATEWAY_WEB_SETUP_SETUP_INT_H

#include <ev.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../../../conf/section.h"
#include "ini.h"
#include "../http_conf.h"
#include "../../core/workq.h"
#include "setup.h"

#define SETUP_CODE_LEN 12         /* base32 characters: 60 bits */
#define SETUP_CODE_TRIES 5        /* wrong codes before it is void */
#define SETUP_CODE_LIFE 3600.0    /* s before it is void */
#define SETUP_CSRF_LIFE 3600.0    /* s a CSRF token is good for before [http] is known (csrf_lifetime's default) */
#define SETUP_BACKUPS 5           /* FILE.1 up to the fifth */
#define SETUP_LOG_MAX 100         /* changes kept for /api/setup/changes */
#define SETUP_JOBS_MAX 16         /* jobs kept (done ones go first) */
#define SETUP_DETECT_MAX 2        /* detections at once */
#define SETUP_JOB_KEEP 600.0      /* s a finished job is kept */
#define SETUP_ERRORS_MAX 32       /* errors of one check */
#define SETUP_SECRETS_MAX 16      /* secrets of one apply */
#define SETUP_SECRET_MAX 255      /* bytes of one */
#define SETUP_PASSWORD_MIN 8      /* characters of the first admin's password */
#define SETUP_RELOAD_AFTER 0.3    /* s between an answer and a reload that restarts the page's server */
#define SETUP_STOP_WAIT 20.0      /* s the daemon's stop waits for the file work (an SD card's fsync: seconds) */

/* ---- worker.c: the file work, one task at a time off the loop ----
 * (the configuration read, written with its backups and fsync'ed, secrets,
 * the users file, a certificate made, a configuration checked, which reads
 * the files it names: an SD card's fsync can take seconds), on the setup
 * API's queue (core/workq.h), in order; at gw_setup_free() every task
 * queued is done (the last ones' done called with s->stopping), within
 * SETUP_STOP_WAIT: a disk that never answers never holds the stop. */
struct setup_task {
	struct gw_task q;                                        /* its place in the queue */
	struct gw_setup *s;
	void (*work)(struct setup_task *t);                      /* on the thread */
	void (*done)(struct gw_setup *s, struct setup_task *t); /* then on the loop; frees t */
};
void setup_worker_post(struct gw_setup *s, struct setup_task *t);

/* An answer owed to a client (gw_setup_cancel: cb NULL, the work goes on). */
struct gw_setup_wait {
	gw_setup_cb *cb;
	void *arg;
};

/* One change of the configuration (/api/setup/changes): in force, or
 * written and then refused by the reload (and put back). */
struct setup_change {
	time_t time;
	char user[40];
	char addr[64];
	json_t *changed;                /* [{section, key}] */
	bool applied;
	char *refused;                  /* why not (malloc'd), when not */
};

struct setup_job;

struct gw_setup {
	struct gw *gw;
	bool stopping;
	struct gw_workq *work;          /* the file work's thread (setup_worker_post()) */
	/* csrf.c */
	uint8_t key[32];
	/* the [http] in force */
	struct conf_http http;
	bool have_http;
	/* code.c */
	char code[SETUP_CODE_LEN + 1];
	bool code_live, code_drawn;
	int code_tries;
	double code_until;              /* monotonic */
	unsigned code_gen;              /* the code's number: its CSRF tokens' binding */
	char code_path[PATH_MAX];
	/* apply.c, admin.c: one change at a time, a reload after its answer */
	bool busy;
	ev_timer later;
	struct conf *later_conf;
	char later_who[160];
	void (*later_after)(struct gw_setup *s, void *arg, int rc, const char *err);
	void *later_arg;
	/* the change log */
	struct setup_change log[SETUP_LOG_MAX];
	int nlog, log_head;
	/* jobs.c */
	struct setup_job *jobs[SETUP_JOBS_MAX];
	unsigned job_seq;
	ev_timer job_sweep;
};

/* One request being answered. */
struct setup_ctx {
	struct gw_setup *s;
	const struct gw_setup_req *q;
	struct gw_setup_answer *a;
	gw_setup_cb *cb;
	void *arg;
	struct gw_setup_wait **wait;
};

/* answer.c */
int setup_answer(struct setup_ctx *x, int status, json_t *obj);          /* obj taken; 0 */
int setup_error(struct setup_ctx *x, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {error, errors: [{section, key, message}]}, 422 */
int setup_field_error(struct setup_ctx *x, int status, const char *sect, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* An answer for later: the wait (NULL when out of memory: then answered 500). */
struct gw_setup_wait *setup_later(struct setup_ctx *x);
/* Send a later answer and free the wait (obj taken). */
void setup_send(struct gw_setup_wait *w, int status, json_t *obj);
void setup_send_error(struct gw_setup_wait *w, int status, const char *msg);
json_t *setup_errors_json(const struct conf_error *e, int n);
/* changes.c: the login may change the configuration: NULL, or why not (403). */
const char *setup_may_change(const struct gw_setup *s, const struct gw_setup_req *q);
/* The directory of the configuration file (out: "." for a bare name). */
void setup_conf_dir(const struct gw_setup *s, char *out, size_t cap);
/* A change applied (refused NULL), or refused by the reload and put back
 * (refused: why): logged once, kept for /api/setup/changes (changed taken). */
void setup_log_change(struct gw_setup *s, const char *user, const char *addr, json_t *changed, const char *refused);
json_t *setup_changes_json(const struct gw_setup *s);
/* After the answer: apply nc (taken) through the daemon's reload, in a
 * moment; then after(s, arg, rc, err) (rc 1: the daemon stops instead),
 * which clears s->busy (NULL: cleared). */
typedef void setup_after_cb(struct gw_setup *s, void *arg, int rc, const char *err);
void setup_reload_later(struct gw_setup *s, struct conf *nc, const char *who, setup_after_cb *after, void *arg);
void setup_later_init(struct gw_setup *s);

/* csrf.c */
/* A token for q's login (its password's hash) or the setup code, good for
 * [http] csrf_lifetime. */
void setup_csrf_token(const struct gw_setup *s, const struct gw_setup_req *q, char *out, size_t cap);
/* q's X-CSRF-Token: NULL when good, else why not (none, another binding,
 * expired). */
const char *setup_csrf_bad(const struct gw_setup *s, const struct gw_setup_req *q);
/* The checks of every POST: JSON, the token, the Origin.  NULL or why not. */
const char *setup_post_bad(const struct gw_setup *s, const struct gw_setup_req *q);

/* code.c */
void setup_code_start(struct gw_setup *s);
/* Is the code live now (not void: used, expired, too many wrong tries)? */
bool setup_code_live(struct gw_setup *s);
/* 1 right, 0 wrong (counted, logged), -1 void. */
int setup_code_try(struct gw_setup *s, const char *given, const char *addr);
void setup_code_void(struct gw_setup *s, const char *why);

/* sfiles.c (on the worker thread) */
char *setup_file_read(const char *path, size_t *len, char *why, size_t cap);
void setup_hash_hex(const char *data, size_t len, char out[65]);
/* Write data to path atomically with mode: a new temporary file of a
 * random name beside it (core/afile.h: never one that was there), fsync,
 * rename; the group of the file it replaces kept when that file is ours. */
int setup_file_write(const char *path, const char *data, size_t len, unsigned mode, char *why, size_t cap);
/* What a push of the backups did, for its put-back. */
struct setup_backups {
	unsigned moved;                 /* bit i: FILE.i went to FILE.i+1 */
	bool pushed;                    /* FILE.1 is the one the push wrote */
	char *last;                     /* the fifth backup, which the push dropped (NULL: none) */
	size_t lastlen;
	unsigned lastmode;
};
/* FILE.1 ... FILE.4 made no wider than mode (a kept one that is wider and
 * not bmsgw's: refused, said), FILE.4 to the fifth ... FILE.1 -> FILE.2,
 * then old as FILE.1 (mode).  On a failure nothing moved.  0, or -1 with why. */
int setup_backups_push(const char *path, const char *old, size_t len, unsigned mode, struct setup_backups *bk,
		       char *why, size_t cap);
/* The reverse of a push (a refused reload): FILE.2 -> FILE.1 ..., and the
 * fifth as it was; bk forgotten. */
void setup_backups_pop(const char *path, struct setup_backups *bk);
/* A push kept (the change in force): the dropped fifth forgotten. */
void setup_backups_forget(struct setup_backups *bk);
/* A secret file written, what it held kept to put back.  A secret kept in
 * the configuration itself (no *_file) has no path: nothing is written for
 * it (the file is then 0600, apply.c). */
struct setup_secret_file {
	char path[PATH_MAX];
	char *old;                      /* NULL: there was none */
	size_t oldlen;
};
int setup_secret_write(struct setup_secret_file *f, const char *value, char *why, size_t cap);
void setup_secret_undo(struct setup_secret_file *f);
void setup_secret_forget(struct setup_secret_file *f);

/* sjson.c: the bodies (pure) */
struct setup_want {
	struct setup_ini_want *sects;
	size_t n;
	struct setup_ini_want_key *keys; /* all of them, the sections' in turn */
	json_t *root;                   /* holds the strings */
};
/* {sections: [{name, keys: {K: V}}]}: 0, or -1 with why. */
int setup_parse_sections(json_t *root, struct setup_want *w, char *why, size_t cap);
void setup_want_free(struct setup_want *w);
struct setup_secret {
	const char *section, *key, *value;
};
/* secrets: [{section, key, value}] (NULL: none): count, or -1 with why, sect, key. */
int setup_parse_secrets(json_t *arr, struct setup_secret *out, int max, char *why, size_t cap, const char **sect,
			const char **key);
/* A body as a JSON object: NULL with why. */
json_t *setup_parse_body(const char *body, size_t len, char *why, size_t cap);
struct setup_detect_req {
	char port[CONF_PORT_MAX];
	int baud, address;              /* 0 / -1: none */
	bool sweep, all;
};
/* The body of /detect: 0, or -1 with why and the field. */
int setup_parse_detect(json_t *root, struct setup_detect_req *d, char *why, size_t cap, const char **field);

/* plan.c (on the worker) */
bool setup_value_hidden(const char *sect, const char *key, const char *value);
const char *setup_secret_of_file(const char *sect, const char *key, char *out, size_t cap);
json_t *setup_config_json(const char *text, size_t len, const char *hash);
/* Does the file hold a secret's value itself (a key, a URL's password)? */
bool setup_ini_holds_secret(const struct setup_ini *ini);
int setup_keep_hidden(const struct setup_ini *ini, struct setup_want *w, size_t more);
/* secret sec into w: its *_file (path: DIR/SECTION.KEY) or, for a key that
 * is its own secret, the key.  0, or -1 with why. */
int setup_want_secret(struct setup_want *w, const struct setup_secret *sec, const char *dir, char *path, size_t pcap,
		      char *why, size_t cap);

/* paths.c: a file named from the setup is inside one of these (the
 * configuration's directory, the state file's, the automatic state one) */
#define SETUP_DIRS 3
struct setup_dirs {
	char d[SETUP_DIRS][PATH_MAX];
	int n;
};
void setup_dirs_of(const struct gw_setup *s, struct setup_dirs *d); /* on the loop */
/* The file keys of changed ([{section, key}]) whose new value in w names
 * a file outside d, each an error on its field (on the worker): how many. */
int setup_path_errors(const json_t *changed, const struct setup_want *w, const struct setup_dirs *d,
		      struct conf_error *e, int max);

/* apply.c */
int setup_config_get(struct setup_ctx *x);
int setup_check(struct setup_ctx *x);
int setup_apply(struct setup_ctx *x);
/* admin.c; setup_admin_refused(): answered already (true) when the first
 * admin cannot be made now, whatever the request holds */
int setup_admin(struct setup_ctx *x);
bool setup_admin_refused(struct setup_ctx *x);
/* cert.c: key and self-signed certificate as PEM (malloc'd), the
 * certificate's SHA-256 fingerprint "AB:CD:..."; 0 or -1 with why. */
int setup_cert_make(const char *host, char **cert_pem, char **key_pem, char *fpr, size_t fcap, char *why, size_t cap);
int setup_cert_fingerprint(const char *pem, size_t len, char *fpr, size_t fcap);
/* ports.c */
int setup_ports(struct setup_ctx *x);
/* jobs.c */
int setup_detect(struct setup_ctx *x);
int setup_ble_scan(struct setup_ctx *x);
int setup_job_get(struct setup_ctx *x, const char *id);
void setup_jobs_free(struct gw_setup *s);
/* schema.c */
json_t *setup_schema_json(void);
int setup_schema(struct setup_ctx *x);

/* checkall.c: the check of --check over text, with up to max errors:
 * after each one its key (or its section, for an error of a section as a
 * whole) is left out and the text checked again, until it passes, an
 * error comes back on a field already named, or nothing can be left out.
 * Returns how many errors (0: c holds the configuration), -1 when out of
 * memory. */
int setup_check_all(const char *text, const char *name, struct conf *c, struct conf_error *errs, int max);

#endif
