/* SPDX-License-Identifier: MIT */
/* gateway/web/auth.c - the logins of the HTTP server.
 *
 * A password is checked with PBKDF2 at the users file's iteration count
 * (600,000: a large part of a second of CPU), so never on the loop: a
 * queue of its own (core/workq.h) does the checks on its thread, one at a
 * time, and brings the answers back to the loop.  The thread is given the
 * next check only when it is free, so that the choice of which ask goes
 * next is made with every failure
 * known so far (on a slow machine a backlog handed to the thread at once
 * would have been checked whatever came meanwhile).  A good
 * login is remembered for CACHE_TTL seconds by an HMAC-SHA256 of name and
 * password under a key drawn at start (never the password itself), so that
 * the page's requests do not each cost a PBKDF2; a new users file forgets
 * them.  An unknown name costs the same PBKDF2 as a known one: the
 * dummy it is checked against has the most iterations of the file's lines.
 *
 * After a failure, that address waits: 1 s after the first failure, then
 * 2, 4 ... up to DELAY_MAX s; a good login or FORGET_AFTER s without a
 * failure ends it.  A wrong login is answered as soon as its check is
 * done, and a login from an address while it waits is answered at once
 * (GW_AUTH_WAIT, with the seconds left: gw_auth_retry_after()), never
 * checked, not even against the remembered ones: an ask is held only
 * while its check is queued or running, so that waiting addresses never
 * hold the server's connections (a request held for a delay keeps its
 * connection, and many addresses' delays would take them all).  Each
 * failure is logged once, with the address and the name asked (never the
 * password).  The table of addresses is bounded (PEERS) but never full:
 * it holds the addresses with an ask (at most queue_max, held under
 * QUEUE_MAX, and the check's) and those waiting (the budget lets at most
 * BUDGET_BURST + DELAY_MAX * BUDGET_RATE checks fail in DELAY_MAX s); a
 * new address would be told to come back later.
 *
 * On top of the address's wait, the checks of all addresses together and
 * of each user name have a budget (budget.h): an ask whose check may not
 * start yet waits in a queue (at most queue_max asks, the caller's share
 * of its connections), and the name with the least load goes first (its
 * recent failures and its asks from one address after another, those told
 * to come back included: a name guessed from many addresses is loaded
 * before any of its checks ends), then the address with the fewest
 * failures, then the oldest ask.  When the queue is full, the newest ask
 * of the name with the most load gives way to a new one that goes before
 * it and is told to come back later; a new one that goes after every ask
 * is told so itself. */
#include <math.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "users.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/util.h"
#include "../core/workq.h"
#include "auth.h"
#include "budget.h"

#define PEERS 256
#define QUEUE_MAX (PEERS - 48) /* asks queued at most: PEERS is never full */
#define CACHE 32
#define CACHE_TTL 300.0
#define DELAY_MAX 30
#define FORGET_AFTER 900.0

struct peer {
	char addr[48];
	int failures;
	double until, last;            /* answers wait until `until` (mono) */
	int asks;                      /* asks of it open */
};

struct job {
	struct gw_task t;              /* on the queue: the check on its thread, finished() on the loop */
	struct gw_auth *a;
	uint8_t mac[SHA256_DIGEST_LENGTH];
	struct gw_user u;            /* a copy: the thread reads no shared table */
	bool known;
	char pw[GW_PASSWORD_MAX + 1];
	size_t pwlen;
	bool ok;
	unsigned gen;                  /* of the users it was checked against */
	char user[GW_USER_NAME_MAX + 1]; /* as asked, printable: for the log */
	struct peer *peer;
	struct gw_auth_ask *waiters;
};

enum ask_state { WAIT_BUDGET, IN_JOB };

struct gw_auth_ask {
	struct gw_auth *a;
	struct peer *peer;
	enum ask_state state;
	uint8_t mac[SHA256_DIGEST_LENGTH];
	char user[GW_USER_NAME_MAX + 1]; /* as asked, made printable for the log */
	bool never_good;               /* no user has that name, or the password is too long */
	char pw[GW_PASSWORD_MAX + 1];  /* kept while waiting for its check */
	size_t pwlen;
	struct job *job;
	struct gw_auth_ask *next;      /* among the job's waiters */
	struct gw_auth_ask *qnext;     /* in the budget's queue */
	gw_auth_cb *cb;
	void *arg;
};

struct cached {
	uint8_t mac[SHA256_DIGEST_LENGTH];
	int role;
	double expires;
};

struct gw_auth {
	struct ev_loop *loop;
	struct gw_users *users;
	unsigned gen;
	uint8_t key[32];
	struct peer peers[PEERS];
	struct cached cache[CACHE];
	struct job *job;               /* the check in flight (at most one) */
	unsigned long failures;
	struct gw_budget budget;
	struct gw_auth_ask *queue;     /* waiting for the budget, oldest first */
	int queued, queue_max;
	ev_timer budget_timer;         /* the next dispatch() */
	struct gw_workq *q;            /* the checks' thread */
	struct gw_user dummy;        /* checked for an unknown name */
};

/* ----------------------------------------------------------- the thread */

static void check_run(struct gw_task *t)
{
	struct job *j = container_of(t, struct job, t);
	j->ok = gw_user_verify(&j->u, j->pw, j->pwlen) && j->known;
	explicit_bzero(j->pw, sizeof(j->pw));
	/* OpenSSL's state of this thread (PBKDF2's) freed after each check,
	 * so that none is left while the thread waits (it is given up at the
	 * end, not joined: its end can race the process's exit) */
	OPENSSL_thread_stop();
}

/* A check no one takes any more (gw_auth_free()). */
static void check_drop(struct gw_task *t)
{
	struct job *j = container_of(t, struct job, t);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

static void check_done(struct gw_task *t);

/* ----------------------------------------------------------- the loop */

static void mac_of(const struct gw_auth *a, const char *user, const char *pw, size_t pwlen, uint8_t *out)
{
	/* HMAC-SHA256 of user, its NUL, password */
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
				OSSL_PARAM_construct_end() };
	size_t len = 0;
	if (!ctx || !EVP_MAC_init(ctx, a->key, sizeof(a->key), params) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)user, strlen(user) + 1) ||
	    !EVP_MAC_update(ctx, (const uint8_t *)pw, pwlen) || !EVP_MAC_final(ctx, out, &len, SHA256_DIGEST_LENGTH) ||
	    len != SHA256_DIGEST_LENGTH)
		(void)!getrandom(out, SHA256_DIGEST_LENGTH, 0); /* no memory: a MAC that matches nothing */
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

static int cache_find(struct gw_auth *a, const uint8_t *mac)
{
	double now = gw_mono();
	for (int i = 0; i < CACHE; i++)
		if (a->cache[i].expires > now && memcmp(a->cache[i].mac, mac, SHA256_DIGEST_LENGTH) == 0)
			return a->cache[i].role;
	return -1;
}

static void cache_put(struct gw_auth *a, const uint8_t *mac, int role)
{
	int k = 0;
	for (int i = 1; i < CACHE; i++)
		if (a->cache[i].expires < a->cache[k].expires)
			k = i;
	memcpy(a->cache[k].mac, mac, SHA256_DIGEST_LENGTH);
	a->cache[k].role = role;
	a->cache[k].expires = gw_mono() + CACHE_TTL;
}

/* Is p's the check in flight? */
static bool checking(const struct gw_auth *a, const struct peer *p)
{
	return a->job && a->job->peer == p;
}

static struct peer *peer_of(struct gw_auth *a, const char *addr)
{
	struct peer *free_p = NULL;
	double now = gw_mono();
	for (int i = 0; i < PEERS; i++) {
		struct peer *p = &a->peers[i];
		if (p->addr[0] && strcmp(p->addr, addr) == 0) {
			if (now - p->last > FORGET_AFTER && !checking(a, p))
				p->failures = 0;
			return p;
		}
		/* a free slot, else the one quiet longest that nobody waits on */
		if (!p->addr[0]) {
			if (!free_p || free_p->addr[0])
				free_p = p;
		} else if (!p->asks && !checking(a, p) && p->until <= now &&
			   (!free_p || (free_p->addr[0] && p->last < free_p->last))) {
			free_p = p;
		}
	}
	if (free_p) {
		memset(free_p, 0, sizeof(*free_p));
		snprintf(free_p->addr, sizeof(free_p->addr), "%s", addr);
		free_p->last = now;
	}
	return free_p;
}

static void ask_done(struct gw_auth_ask *q, int result)
{
	gw_auth_cb *cb = q->cb;
	void *arg = q->arg;
	q->peer->asks--;
	explicit_bzero(q->pw, sizeof(q->pw));
	free(q);
	cb(arg, result);
}

static void unlink_waiter(struct gw_auth_ask *q)
{
	struct gw_auth_ask **pp = &q->job->waiters;
	while (*pp && *pp != q)
		pp = &(*pp)->next;
	if (*pp)
		*pp = q->next;
	q->job = NULL;
}

static const struct gw_user *user_named(const struct gw_auth *a, const char *name)
{
	for (int i = 0; i < a->users->n; i++)
		if (strcmp(a->users->u[i].name, name) == 0)
			return &a->users->u[i];
	return NULL;
}

/* May q join the check in flight (the same login from the same address:
 * a browser's requests at once)? */
static bool joins(const struct gw_auth_ask *q)
{
	const struct job *j = q->a->job;
	return j && j->peer == q->peer && memcmp(j->mac, q->mac, SHA256_DIGEST_LENGTH) == 0 && j->gen == q->a->gen;
}

/* The check of q: joined to the same check in flight, or a new one when
 * the thread is free.  false: busy. */
static bool start_check(struct gw_auth_ask *q)
{
	struct gw_auth *a = q->a;
	struct peer *p = q->peer;
	if (joins(q)) {
		q->job = a->job;
	} else {
		if (a->job || !a->q)
			return false;
		struct job *j = calloc(1, sizeof(*j));
		if (!j)
			return false;
		const struct gw_user *u = q->never_good ? NULL : user_named(a, q->user);
		j->known = u != NULL;
		j->u = u ? *u : a->dummy;
		memcpy(j->mac, q->mac, SHA256_DIGEST_LENGTH);
		memcpy(j->pw, q->pw, q->pwlen);
		j->pwlen = q->pwlen;
		j->gen = a->gen;
		memcpy(j->user, q->user, sizeof(j->user));
		j->peer = p;
		a->job = j;
		j->a = a;
		j->t.run = check_run;
		j->t.done = check_done;
		j->t.drop = check_drop;
		gw_workq_post(a->q, &j->t);
		q->job = j;
	}
	explicit_bzero(q->pw, sizeof(q->pw));
	q->state = IN_JOB;
	q->next = q->job->waiters;
	q->job->waiters = q;
	return true;
}

/* ------------------------------------------------- the budget's queue */

static void unqueue(struct gw_auth_ask *q)
{
	struct gw_auth_ask **pp = &q->a->queue;
	while (*pp && *pp != q)
		pp = &(*pp)->qnext;
	if (*pp) {
		*pp = q->qnext;
		q->a->queued--;
	}
	q->qnext = NULL;
}

/* Does q go before o?  The name with less load (budget.h: its recent
 * failures and asks), then the address with fewer failures (a real
 * user's among guesses at the same name). */
static bool before(const struct gw_auth_ask *q, double ql, const struct gw_auth_ask *o, double ol)
{
	return ql != ol ? ql < ol : q->peer->failures < o->peer->failures;
}

/* A remembered login of q's (-1: none): its address's and its name's runs
 * of failures end. */
static int remembered(struct gw_auth_ask *q, double now)
{
	int role = cache_find(q->a, q->mac);
	if (role >= 0) {
		q->peer->failures = 0;
		gw_budget_result(&q->a->budget, q->user, true, now);
	}
	return role;
}

enum turn {
	T_WAIT,  /* its address now waits: answered at once */
	T_NOW,   /* remembered, or joins the check in flight: no budget spent */
	T_CHECK, /* its check starts */
};

/* The ask dispatch() acts on next, and how: one whose address now waits
 * (a failure of its address came while it was queued), one remembered or
 * joining the check in flight, else, when the thread is free, the one
 * that goes first (before()) among those the budget lets start; NULL:
 * none.  *next: when the budget lets the next one start (0: when the
 * check in flight ends). */
static struct gw_auth_ask *next_ask(struct gw_auth *a, double now, double *next, enum turn *how)
{
	struct gw_auth_ask *best = NULL;
	double best_l = 0;
	for (struct gw_auth_ask *q = a->queue; q; q = q->qnext) {
		if (q->peer->until > now || joins(q) || cache_find(a, q->mac) >= 0) {
			*how = q->peer->until > now ? T_WAIT : T_NOW;
			return q;
		}
		if (a->job)
			continue; /* the next check is chosen when the thread is free */
		double at = gw_budget_ready(&a->budget, q->user, now);
		if (at > now) {
			*next = *next == 0 || at < *next ? at : *next;
			continue;
		}
		double l = gw_budget_load(&a->budget, q->user, now);
		if (!best || before(q, l, best, best_l)) {
			best = q;
			best_l = l;
		}
	}
	*how = T_CHECK;
	return best;
}

/* Answer or start what may be now, the check of the ask that goes first
 * when the thread is free; then wake when the budget lets the next one
 * start.  An answer given here may come back into gw_auth_check(): each
 * turn looks at the queue afresh. */
static void dispatch(struct gw_auth *a)
{
	double now = gw_mono(), next;
	for (;;) {
		enum turn how;
		next = 0;
		struct gw_auth_ask *q = next_ask(a, now, &next, &how);
		if (!q)
			break;
		unqueue(q);
		int role = how == T_NOW ? remembered(q, now) : -1;
		if (how == T_WAIT) {
			ask_done(q, GW_AUTH_WAIT);
		} else if (role >= 0) {
			ask_done(q, role);
		} else if (how == T_NOW) {
			(void)start_check(q); /* joins the check in flight */
		} else {
			gw_budget_take(&a->budget, now);
			if (!start_check(q))
				ask_done(q, GW_AUTH_BUSY);
		}
	}
	ev_timer_stop(a->loop, &a->budget_timer);
	if (next > 0) {
		ev_timer_set(&a->budget_timer, next - now > 0.01 ? next - now : 0.01, 0);
		ev_timer_start(a->loop, &a->budget_timer);
	}
}

static void budget_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	dispatch(container_of(t, struct gw_auth, budget_timer));
}

/* In a full queue, the ask that gives way to q: the newest of the name
 * with the most load, then of the address with the most failures, if it
 * goes after q; else NULL. */
static struct gw_auth_ask *evictee(const struct gw_auth_ask *q)
{
	struct gw_auth *a = q->a;
	double now = gw_mono();
	const struct gw_auth_ask *worst = q;
	double wf = gw_budget_load(&a->budget, q->user, now);
	for (struct gw_auth_ask *o = a->queue; o; o = o->qnext) {
		double f = gw_budget_load(&a->budget, o->user, now);
		if (before(worst, wf, o, f) || (worst != q && !before(o, f, worst, wf))) {
			worst = o;
			wf = f;
		}
	}
	return worst == q ? NULL : (struct gw_auth_ask *)worst;
}

/* A place in the queue for q: there is one, or an ask that goes after q
 * gives way (answered: come back later); false: none. */
static bool queue_room(const struct gw_auth_ask *q)
{
	if (q->a->queued < q->a->queue_max)
		return true;
	struct gw_auth_ask *v = evictee(q);
	if (!v)
		return false;
	unqueue(v);
	ask_done(v, GW_AUTH_BUSY);
	return true;
}

/* q joins the queue (the caller made room: queue_room()); dispatch()
 * comes from the loop, so that no answer is given inside
 * gw_auth_check(). */
static void enqueue(struct gw_auth_ask *q)
{
	struct gw_auth *a = q->a;
	q->state = WAIT_BUDGET;
	struct gw_auth_ask **pp = &a->queue;
	while (*pp)
		pp = &(*pp)->qnext;
	*pp = q;
	a->queued++;
	ev_timer_stop(a->loop, &a->budget_timer);
	ev_timer_set(&a->budget_timer, 0, 0);
	ev_timer_start(a->loop, &a->budget_timer);
}

/* A failure of peer p, asked for user: logged once; its wait grows. */
static void failed(struct gw_auth *a, struct peer *p, const char *user)
{
	p->failures++;
	a->failures++;
	int delay = p->failures >= 6 ? DELAY_MAX : 1 << (p->failures - 1);
	if (delay > DELAY_MAX)
		delay = DELAY_MAX;
	p->last = gw_mono();
	p->until = p->last + delay;
	gw_warn("http: login refused for user \"%s\" from %s (%d failure%s in a row: it waits %d s)", user,
		p->addr, p->failures, p->failures == 1 ? "" : "s", delay);
}

/* A check came back: its askers answered. */
static void finished(struct gw_auth *a, struct job *j)
{
	struct peer *p = j->peer;
	a->job = NULL;
	int result = GW_AUTH_BUSY; /* the users changed meanwhile: ask again */
	if (j->gen == a->gen && j->ok) {
		result = (int)j->u.role;
		gw_budget_result(&a->budget, j->user, true, gw_mono());
		cache_put(a, j->mac, result);
		p->failures = 0;
		p->until = 0;
	} else if (j->gen == a->gen) {
		result = GW_AUTH_FAIL;
		failed(a, p, j->user); /* also when every asker has gone */
		gw_budget_result(&a->budget, j->user, false, gw_mono());
	}
	/* one at a time from the list: an answer may cancel another waiter */
	for (struct gw_auth_ask *q; (q = j->waiters);) {
		j->waiters = q->next;
		q->job = NULL;
		ask_done(q, result);
	}
	explicit_bzero(j, sizeof(*j));
	free(j);
	dispatch(a);
}

static void check_done(struct gw_task *t)
{
	struct job *j = container_of(t, struct job, t);
	finished(j->a, j);
}

/* The dummy an unknown name is checked against: the most iterations of the
 * users' lines (those of --hash-password without a line), so that its
 * check takes as long as a known name's. */
static void dummy_iter(struct gw_auth *a)
{
	unsigned most = 0;
	for (int i = 0; i < a->users->n; i++)
		if (a->users->u[i].iter > most)
			most = a->users->u[i].iter;
	a->dummy.iter = most ? most : GW_PBKDF2_ITER;
}

struct gw_auth *gw_auth_new(struct ev_loop *loop, struct gw_users *users, int queue_max)
{
	struct gw_auth *a = calloc(1, sizeof(*a));
	char why[160];
	if (!a || getrandom(a->key, sizeof(a->key), 0) != (ssize_t)sizeof(a->key) ||
	    getrandom(a->dummy.dk, sizeof(a->dummy.dk), 0) != (ssize_t)sizeof(a->dummy.dk)) {
		free(a);
		free(users);
		return NULL;
	}
	a->loop = loop;
	a->users = users;
	a->queue_max = queue_max < 1 ? 1 : queue_max > QUEUE_MAX ? QUEUE_MAX : queue_max;
	gw_budget_init(&a->budget, gw_mono());
	ev_init(&a->budget_timer, budget_cb);
	dummy_iter(a);
	a->dummy.salt_len = GW_SALT_LEN;
	if (!(a->q = gw_workq_new(loop, why, sizeof(why)))) {
		free(users);
		free(a);
		return NULL;
	}
	return a;
}

bool gw_auth_users(struct gw_auth *a, struct gw_users *users)
{
	if (gw_users_same(a->users, users)) {
		free(users);
		return false;
	}
	free(a->users);
	a->users = users;
	dummy_iter(a);
	a->gen++;
	memset(a->cache, 0, sizeof(a->cache));
	return true;
}

int gw_auth_check(struct gw_auth *a, const char *addr, const char *user, const char *pw, size_t pwlen, gw_auth_cb *cb,
		  void *arg, struct gw_auth_ask **ask)
{
	*ask = NULL;
	if (pwlen > GW_PASSWORD_MAX)
		pwlen = GW_PASSWORD_MAX + 1; /* never good; checked as any wrong one */
	struct peer *p = peer_of(a, addr);
	if (!p)
		return GW_AUTH_BUSY;
	double now = gw_mono();
	if (p->until > now)
		return GW_AUTH_WAIT; /* not even the remembered logins: no guess is looked at while it waits */
	struct gw_auth_ask *q = calloc(1, sizeof(*q));
	if (!q)
		return GW_AUTH_BUSY;
	q->a = a;
	q->peer = p;
	q->cb = cb;
	q->arg = arg;
	q->never_good = gw_user_name_bad(user) != NULL || pwlen > GW_PASSWORD_MAX;
	size_t i = 0;
	for (; user[i] && i < GW_USER_NAME_MAX; i++)
		q->user[i] = user[i] > ' ' && user[i] <= '~' && user[i] != '"' && user[i] != '\\' ? user[i] : '?';
	q->user[i] = '\0';
	mac_of(a, user, pw, pwlen > GW_PASSWORD_MAX ? GW_PASSWORD_MAX : pwlen, q->mac);
	if (pwlen > GW_PASSWORD_MAX)
		q->mac[0] ^= 1; /* not the one of its first bytes */
	p->asks++;
	int role = remembered(q, now);
	if (role >= 0) {
		p->asks--;
		free(q);
		return role;
	}
	gw_budget_asked(&a->budget, q->user, addr, now); /* told to come back or not: it counts */
	q->pwlen = pwlen > GW_PASSWORD_MAX ? GW_PASSWORD_MAX : pwlen;
	memcpy(q->pw, pw, q->pwlen);
	if (!queue_room(q)) {
		p->asks--; /* a full queue, none going after q: come back later */
		explicit_bzero(q, sizeof(*q));
		free(q);
		return GW_AUTH_BUSY;
	}
	enqueue(q);
	*ask = q;
	return GW_AUTH_PENDING;
}

void gw_auth_cancel(struct gw_auth_ask **handle)
{
	struct gw_auth_ask *q = *handle;
	*handle = NULL;
	if (!q)
		return;
	if (q->job)
		unlink_waiter(q);
	if (q->state == WAIT_BUDGET)
		unqueue(q);
	q->peer->asks--;
	explicit_bzero(q, sizeof(*q));
	free(q);
}

int gw_auth_retry_after(const struct gw_auth *a, const char *addr)
{
	double now = gw_mono();
	for (int i = 0; i < PEERS; i++) {
		const struct peer *p = &a->peers[i];
		if (p->addr[0] && strcmp(p->addr, addr) == 0 && p->until > now)
			return (int)ceil(p->until - now);
	}
	return 1;
}

unsigned long gw_auth_failures(const struct gw_auth *a)
{
	return a ? a->failures : 0;
}

const struct gw_user *gw_auth_user(const struct gw_auth *a, const char *name)
{
	for (int i = 0; a && name && i < a->users->n; i++)
		if (strcmp(a->users->u[i].name, name) == 0)
			return &a->users->u[i];
	return NULL;
}

void gw_auth_free(struct gw_auth *a)
{
	if (!a)
		return;
	ev_timer_stop(a->loop, &a->budget_timer);
	gw_workq_abandon(a->q); /* a check running finishes on its thread, which then ends */
	free(a->users);
	explicit_bzero(a, sizeof(*a));
	free(a);
}
