/* SPDX-License-Identifier: MIT */
/* gateway/web/auth.h - the logins of the HTTP server: a name and password
 * checked against the users file off the loop, a short-lived memory of
 * good ones, and a growing wait for an address that failed. */
#ifndef GATEWAY_WEB_AUTH_H
#define GATEWAY_WEB_AUTH_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

struct gw_users;
struct gw_user;
struct gw_auth;
struct gw_auth_ask;

#define GW_AUTH_PENDING (-1)  /* the answer comes through the callback */
#define GW_AUTH_FAIL (-2)     /* wrong name or password */
#define GW_AUTH_BUSY (-3)     /* too many checks at once: try again later */
#define GW_AUTH_WAIT (-4)     /* the address waits after a failure: gw_auth_retry_after() */

/* result: the user's role (enum gw_role), GW_AUTH_FAIL, GW_AUTH_BUSY or
 * GW_AUTH_WAIT. */
typedef void gw_auth_cb(void *arg, int result);

/* Check logins against users (taken over); at most queue_max asks wait
 * for their check (the share of the server's connections that waiting
 * logins may hold). */
struct gw_auth *gw_auth_new(struct ev_loop *loop, struct gw_users *users, int queue_max);
/* A users file read again (taken over): when its users changed, the
 * memory of good logins is forgotten (true); else it is freed (false). */
bool gw_auth_users(struct gw_auth *a, struct gw_users *users);
/* Is USER / PW good for a client at address ADDR (text)?  The role at once
 * (a login checked a moment ago, the address not waiting), GW_AUTH_WAIT
 * (the address waits after a failure: nothing is checked), GW_AUTH_BUSY,
 * or GW_AUTH_PENDING with *ask set and cb called later, never from inside
 * this call. */
int gw_auth_check(struct gw_auth *a, const char *addr, const char *user, const char *pw, size_t pwlen, gw_auth_cb *cb,
		  void *arg, struct gw_auth_ask **ask);
/* The client is gone: the ask in *ask (if any) is freed, its cb is not
 * called, and *ask is NULL. */
void gw_auth_cancel(struct gw_auth_ask **ask);
/* Whole seconds until ADDR may try again (at least 1): Retry-After. */
int gw_auth_retry_after(const struct gw_auth *a, const char *addr);
/* Logins refused so far. */
unsigned long gw_auth_failures(const struct gw_auth *a);
/* The users file's line of NAME as in force (its hash binds the setup's
 * CSRF tokens: a new password voids them), or NULL.  Good until the next
 * gw_auth_users(). */
const struct gw_user *gw_auth_user(const struct gw_auth *a, const char *name);
/* Every ask cancelled first.  A check running finishes on its thread. */
void gw_auth_free(struct gw_auth *a);

#endif
