/* SPDX-License-Identifier: MIT */
/* tests/unit/test_auth.c - the HTTP server's logins (gateway/web/auth.c)
 * on a real event loop and its checking thread: a good login answered
 * later, then remembered; a wrong one counted and its address made to
 * wait, also when its client went away before the answer (else closing
 * the connection would be a way round the delay): while it waits, a login
 * from it is answered at once (GW_AUTH_WAIT, with the seconds left), not
 * checked, not even a remembered one; other addresses not delayed; asks
 * queued from an address whose check failed are answered at once; the
 * same login's requests from one address share one check; a full queue
 * turns away the guesses, not a new name, also while no guessed name has
 * failed yet (the guesses come from many addresses), and the new name's
 * check goes first; a password too long never good. */
#include <ev.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/web/users.h"
#include "../../gateway/core/clock.h"
#include "../../gateway/web/auth.h"
#include "check.h"

#define NONE (-100)

static void answer(void *arg, int result)
{
	*(int *)arg = result;
}

static void tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
}

/* Run the loop until *v is no longer `unlike` (or 600 s pass: a check is
 * PBKDF2 of 600,000 rounds, over 60 s under qemu-arm on a loaded machine). */
static void run_until_set(struct ev_loop *loop, const int *v, int unlike)
{
	double end = gw_mono() + 600;
	while (*v == unlike && gw_mono() < end)
		ev_run(loop, EVRUN_ONCE);
}

static void run_until_failures(struct ev_loop *loop, const struct gw_auth *a, unsigned long n)
{
	double end = gw_mono() + 600;
	while (gw_auth_failures(a) < n && gw_mono() < end)
		ev_run(loop, EVRUN_ONCE);
}

static char longest[GW_PASSWORD_MAX + 2]; /* a password of the longest length, and one byte more */

/* A users line at the format's fewest iterations, made here with OpenSSL:
 * what this test checks is the queue and the waits, not PBKDF2 (a line of
 * --hash-password's 600,000 cost 1.4 s of CPU a check in the sanitized
 * build; test_b64 and test_conf_http check those lines). */
static void user_line(struct gw_user *u, const char *name, const char *role, const char *pw, size_t pwlen)
{
	uint8_t salt[GW_SALT_LEN] = { (uint8_t)name[0] }, dk[GW_DK_LEN];
	char s64[64], d64[64], line[256], err[200];
	CHECK_EQ_INT(PKCS5_PBKDF2_HMAC(pw, (int)pwlen, salt, (int)sizeof(salt), (int)GW_PBKDF2_ITER_MIN, EVP_sha256(),
				       GW_DK_LEN, dk), 1);
	CHECK(conf_b64_encode(salt, sizeof(salt), s64, sizeof(s64)) > 0);
	CHECK(conf_b64_encode(dk, sizeof(dk), d64, sizeof(d64)) > 0);
	snprintf(line, sizeof(line), "%s:%s:$pbkdf2-sha256$%u$%s$%s", name, role, GW_PBKDF2_ITER_MIN, s64, d64);
	CHECK_EQ_INT(gw_user_parse(line, u, err, sizeof(err)), 0);
}

/* ada (admin, "right") and len (read, a password of GW_PASSWORD_MAX bytes) */
static struct gw_users *users_with_ada(void)
{
	struct gw_users *u = calloc(1, sizeof(*u));
	CHECK(u != NULL);
	memset(longest, 'p', GW_PASSWORD_MAX + 1);
	user_line(&u->u[0], "ada", "admin", "right", 5);
	user_line(&u->u[1], "len", "read", longest, GW_PASSWORD_MAX);
	u->n = 2;
	return u;
}

/* A good login: checked off the loop, then remembered (answered at once). */
static void good_login(struct ev_loop *loop, struct gw_auth *a)
{
	int res = NONE;
	struct gw_auth_ask *q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.1", "ada", "right", 5, answer, &res, &q), GW_AUTH_PENDING);
	CHECK(q != NULL);
	CHECK_EQ_INT(res, NONE); /* never from inside the call */
	run_until_set(loop, &res, NONE);
	CHECK_EQ_INT(res, GW_ROLE_ADMIN);
	q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.1", "ada", "right", 5, answer, &res, &q), GW_ROLE_ADMIN);
	CHECK(q == NULL);
	CHECK_EQ_INT(gw_auth_failures(a), 0);
}

/* A guess whose client left while it was queued is never checked (it
 * tells nothing, costs nothing); one whose check had started still counts:
 * the address then waits, even with the good password already
 * remembered. */
static void wrong_then_gone(struct ev_loop *loop, struct gw_auth *a)
{
	int res = NONE;
	struct gw_auth_ask *q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.2", "ada", "wrong", 5, answer, &res, &q), GW_AUTH_PENDING);
	gw_auth_cancel(&q); /* queued: its check starts from the loop */
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.2", "ada", "right", 5, answer, &res, &q), GW_ROLE_ADMIN);
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.2", "ada", "wrong", 5, answer, &res, &q), GW_AUTH_PENDING);
	ev_run(loop, EVRUN_NOWAIT); /* the queue's turn: its check starts */
	gw_auth_cancel(&q);
	run_until_failures(loop, a, 1);
	CHECK_EQ_INT(gw_auth_failures(a), 1);
	CHECK_EQ_INT(res, NONE); /* a cancelled ask is never answered */

	q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.2", "ada", "right", 5, answer, &res, &q), GW_AUTH_WAIT);
	CHECK(q == NULL);
	CHECK_EQ_INT(gw_auth_retry_after(a, "10.0.0.2"), 1); /* its 1 s wait, less the check's time: 1 */
	CHECK_EQ_INT(gw_auth_retry_after(a, "10.0.0.9"), 1); /* an address never seen: 1 */
	double end = gw_mono() + 5;
	while (gw_auth_check(a, "10.0.0.2", "ada", "right", 5, answer, &res, &q) == GW_AUTH_WAIT && gw_mono() < end)
		ev_run(loop, EVRUN_ONCE);
	CHECK(q == NULL); /* after the wait: remembered, answered at once */
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.2", "ada", "right", 5, answer, &res, &q), GW_ROLE_ADMIN);

	q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.3", "ada", "right", 5, answer, &res, &q), GW_ROLE_ADMIN);
}

/* A wrong password waited for: refused after the check, counted. */
static void wrong_answered(struct ev_loop *loop, struct gw_auth *a)
{
	int res = NONE;
	struct gw_auth_ask *q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.4", "nobody", "x", 1, answer, &res, &q), GW_AUTH_PENDING);
	run_until_set(loop, &res, NONE);
	CHECK_EQ_INT(res, GW_AUTH_FAIL);
	CHECK_EQ_INT(gw_auth_failures(a), 2);
}

/* Three guesses from one address at once: one is checked, and when it
 * fails the two queued behind it are answered at once (the address now
 * waits), never checked. */
static void queued_then_waits(struct ev_loop *loop, struct gw_auth *a)
{
	int res[3] = { NONE, NONE, NONE };
	struct gw_auth_ask *q[3];
	unsigned long f0 = gw_auth_failures(a);
	for (int i = 0; i < 3; i++) {
		char pw[3] = { 'g', (char)('0' + i), 0 };
		CHECK_EQ_INT(gw_auth_check(a, "10.0.0.7", "ada", pw, 2, answer, &res[i], &q[i]), GW_AUTH_PENDING);
	}
	for (int i = 0; i < 3; i++)
		run_until_set(loop, &res[i], NONE);
	int fails = 0, waits = 0;
	for (int i = 0; i < 3; i++) {
		fails += res[i] == GW_AUTH_FAIL;
		waits += res[i] == GW_AUTH_WAIT;
	}
	CHECK_EQ_INT(fails, 1);
	CHECK_EQ_INT(waits, 2);
	CHECK_EQ_INT(gw_auth_failures(a), f0 + 1);
}

/* A browser's requests with the same wrong login from one address at
 * once: one check, all answered by it, one failure. */
static void same_login(struct ev_loop *loop, struct gw_auth *a)
{
	int res[3] = { NONE, NONE, NONE };
	struct gw_auth_ask *q[3];
	unsigned long f0 = gw_auth_failures(a);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(gw_auth_check(a, "10.0.0.8", "ada", "typo", 4, answer, &res[i], &q[i]), GW_AUTH_PENDING);
	for (int i = 0; i < 3; i++) {
		run_until_set(loop, &res[i], NONE);
		CHECK_EQ_INT(res[i], GW_AUTH_FAIL);
	}
	CHECK_EQ_INT(gw_auth_failures(a), f0 + 1);
}

/* Guesses at a name never checked (none of its checks has ended: an
 * attack's start, or a slow machine) from many addresses fill the queue:
 * a real user's first login from another address is not alike to them
 * (the name is asked from one address, theirs from many): a guess gives
 * way to it, and its check goes before theirs. */
static void fresh_names(struct ev_loop *loop)
{
	struct gw_auth *a = gw_auth_new(loop, users_with_ada(), 2);
	CHECK(a != NULL);
	if (!a)
		return;
	int res[4] = { NONE, NONE, NONE, NONE };
	struct gw_auth_ask *q[4];
	/* no turn of the loop in between: nothing is checked yet */
	CHECK_EQ_INT(gw_auth_check(a, "10.2.0.1", "root", "x", 1, answer, &res[0], &q[0]), GW_AUTH_PENDING);
	CHECK_EQ_INT(gw_auth_check(a, "10.2.0.2", "root", "y", 1, answer, &res[1], &q[1]), GW_AUTH_PENDING);
	CHECK_EQ_INT(gw_auth_check(a, "10.2.0.3", "root", "z", 1, answer, &res[2], &q[2]), GW_AUTH_BUSY);
	CHECK_EQ_INT(gw_auth_check(a, "10.2.0.9", "ada", "right", 5, answer, &res[3], &q[3]), GW_AUTH_PENDING);
	CHECK_EQ_INT(res[1], GW_AUTH_BUSY); /* the newest guess gave way */
	CHECK_EQ_INT(res[0], NONE);
	run_until_set(loop, &res[3], NONE);
	CHECK_EQ_INT(res[3], GW_ROLE_ADMIN);
	CHECK_EQ_INT(res[0], NONE); /* checked after ada's */
	run_until_set(loop, &res[0], NONE);
	CHECK_EQ_INT(res[0], GW_AUTH_FAIL);
	gw_auth_free(a);
}

/* The queue holds queue_max asks: a new one of a name with fewer
 * failures takes the place of a guess at a failed name, which is told to
 * come back (GW_AUTH_BUSY); a further guess at the failed name is turned
 * away at once. */
static void full_queue(struct ev_loop *loop)
{
	struct gw_auth *a = gw_auth_new(loop, users_with_ada(), 2);
	CHECK(a != NULL);
	if (!a)
		return;
	int res[5] = { NONE, NONE, NONE, NONE, NONE };
	struct gw_auth_ask *q[5];
	/* a failure for "root" first: its name now has one */
	CHECK_EQ_INT(gw_auth_check(a, "10.1.0.1", "root", "x", 1, answer, &res[0], &q[0]), GW_AUTH_PENDING);
	run_until_set(loop, &res[0], NONE);
	CHECK_EQ_INT(res[0], GW_AUTH_FAIL);
	/* two more guesses at root from other addresses: queued (its name waits 1 s) */
	CHECK_EQ_INT(gw_auth_check(a, "10.1.0.2", "root", "y", 1, answer, &res[1], &q[1]), GW_AUTH_PENDING);
	CHECK_EQ_INT(gw_auth_check(a, "10.1.0.3", "root", "z", 1, answer, &res[2], &q[2]), GW_AUTH_PENDING);
	/* a third: the queue is full, no ask goes after it */
	CHECK_EQ_INT(gw_auth_check(a, "10.1.0.4", "root", "w", 1, answer, &res[3], &q[3]), GW_AUTH_BUSY);
	/* ada, never failed: a root guess gives way */
	CHECK_EQ_INT(gw_auth_check(a, "10.1.0.5", "ada", "right", 5, answer, &res[4], &q[4]), GW_AUTH_PENDING);
	CHECK(res[1] == GW_AUTH_BUSY || res[2] == GW_AUTH_BUSY);
	run_until_set(loop, &res[4], NONE);
	CHECK_EQ_INT(res[4], GW_ROLE_ADMIN);
	for (int i = 1; i < 3; i++)
		run_until_set(loop, &res[i], NONE);
	gw_auth_free(a);
}

/* A password longer than GW_PASSWORD_MAX is never good, not even one
 * whose first GW_PASSWORD_MAX bytes are a user's password. */
static void too_long(struct ev_loop *loop, struct gw_auth *a)
{
	int res = NONE;
	struct gw_auth_ask *q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.5", "len", longest, GW_PASSWORD_MAX, answer, &res, &q),
		     GW_AUTH_PENDING);
	run_until_set(loop, &res, NONE);
	CHECK_EQ_INT(res, GW_ROLE_READ);
	res = NONE;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.6", "len", longest, GW_PASSWORD_MAX + 1, answer, &res, &q),
		     GW_AUTH_PENDING);
	run_until_set(loop, &res, NONE);
	CHECK_EQ_INT(res, GW_AUTH_FAIL);
}

int main(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	ev_timer t;
	ev_timer_init(&t, tick, 0.2, 0.2); /* EVRUN_ONCE returns at least this often */
	ev_timer_start(loop, &t);
	struct gw_auth *a = gw_auth_new(loop, users_with_ada(), 8);
	CHECK(a != NULL);
	if (a) {
		good_login(loop, a);
		wrong_then_gone(loop, a);
		wrong_answered(loop, a);
		queued_then_waits(loop, a);
		same_login(loop, a);
		too_long(loop, a);
		gw_auth_free(a);
	}
	full_queue(loop);
	fresh_names(loop);
	ev_timer_stop(loop, &t);
	ev_loop_destroy(loop);
	return check_report();
}
