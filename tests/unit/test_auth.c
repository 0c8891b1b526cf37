/* SPDX-License-Identifier: MIT */
/* tests/unit/test_auth.c - the HTTP server's logins (gateway/web/auth.c)
 * on a real event loop and its checking thread: a good login answered
 * later, then remembered; a wrong one counted and its address made to
 * wait, also when its client went away before the answer (else closing
 * the connection would be a way round the delay); other addresses not
 * delayed; a password too long never good. */
#include <ev.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* Run the loop until *v is no longer `unlike` (or 60 s pass). */
static void run_until_set(struct ev_loop *loop, const int *v, int unlike)
{
	double end = gw_mono() + 60;
	while (*v == unlike && gw_mono() < end)
		ev_run(loop, EVRUN_ONCE);
}

static void run_until_failures(struct ev_loop *loop, const struct gw_auth *a, unsigned long n)
{
	double end = gw_mono() + 60;
	while (gw_auth_failures(a) < n && gw_mono() < end)
		ev_run(loop, EVRUN_ONCE);
}

static char longest[GW_PASSWORD_MAX + 2]; /* a password of the longest length, and one byte more */

/* ada (admin, "right") and len (read, a password of GW_PASSWORD_MAX bytes) */
static struct gw_users *users_with_ada(void)
{
	struct gw_users *u = calloc(1, sizeof(*u));
	char line[512], err[200];
	CHECK(u != NULL);
	memset(longest, 'p', GW_PASSWORD_MAX + 1);
	CHECK_EQ_INT(gw_user_hash_line("ada", "admin", "right", 5, line, sizeof(line), err, sizeof(err)), 0);
	CHECK_EQ_INT(gw_user_parse(line, &u->u[0], err, sizeof(err)), 0);
	CHECK_EQ_INT(gw_user_hash_line("len", "read", longest, GW_PASSWORD_MAX, line, sizeof(line), err,
					 sizeof(err)), 0);
	CHECK_EQ_INT(gw_user_parse(line, &u->u[1], err, sizeof(err)), 0);
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

/* A wrong password whose client left before the answer still counts: the
 * address then waits, even with the good password already remembered. */
static void wrong_then_gone(struct ev_loop *loop, struct gw_auth *a)
{
	int res = NONE;
	struct gw_auth_ask *q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.2", "ada", "wrong", 5, answer, &res, &q), GW_AUTH_PENDING);
	gw_auth_cancel(q);
	run_until_failures(loop, a, 1);
	CHECK_EQ_INT(gw_auth_failures(a), 1);
	CHECK_EQ_INT(res, NONE); /* a cancelled ask is never answered */

	double t0 = gw_mono();
	q = NULL;
	CHECK_EQ_INT(gw_auth_check(a, "10.0.0.2", "ada", "right", 5, answer, &res, &q), GW_AUTH_PENDING);
	run_until_set(loop, &res, NONE);
	CHECK_EQ_INT(res, GW_ROLE_ADMIN);
	CHECK(gw_mono() - t0 >= 0.9); /* its 1 s wait, less the check's time */

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
	struct gw_auth *a = gw_auth_new(loop, users_with_ada());
	CHECK(a != NULL);
	if (a) {
		good_login(loop, a);
		wrong_then_gone(loop, a);
		wrong_answered(loop, a);
		too_long(loop, a);
		gw_auth_free(a);
	}
	ev_timer_stop(loop, &t);
	ev_loop_destroy(loop);
	return check_report();
}
