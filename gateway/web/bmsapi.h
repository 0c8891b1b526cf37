/* SPDX-License-Identifier: MIT */
/* gateway/web/bmsapi.h - /api/bms-settings: a pack's BMS settings that may
 * be written, and a change of one (bmsgw(8) "BMS SETTINGS"; the checks and
 * the change are poll/bmsset.h's).
 *
 *   GET  /api/bms-settings?unit=NAME   any login: {unit, protocol, chemistry,
 *        stale, busy, keys: {KEY: {value, unit, min, max, step}}}
 *   POST /api/bms-settings {unit, key, value}   an admin login only (never
 *        without logins, never the setup code), with the setup's CSRF token
 *        and Origin rule; answered once the change ended: {unit, key,
 *        result, requested, old, value, confirmed, message}, status 200
 *        done, 400 / 403 / 404 / 409 / 422 / 503 refused (nothing sent),
 *        502 failed (sent, not confirmed).
 */
#ifndef GATEWAY_WEB_BMSAPI_H
#define GATEWAY_WEB_BMSAPI_H

#include "setup/setup.h"

struct gw;
struct gw_ctl;

#define BMSAPI_PATH "/api/bms-settings"

/* GET: the answer into *a (always now). */
void gw_bmsapi_get(struct gw *gw, const char *unit, struct gw_setup_answer *a);
/* POST q: 0 when answered now (*a), 1 when cb(arg, answer) comes later
 * from the loop (*handle: the change, for gw_bset_cancel()). */
int gw_bmsapi_post(struct gw *gw, const struct gw_setup *setup, const struct gw_setup_req *q,
		   struct gw_setup_answer *a, gw_setup_cb *cb, void *arg, struct gw_ctl **handle);

/* The client of a POST is gone: its change goes on, logged only. */
void gw_bmsapi_cancel(struct gw_ctl **handle);

#endif
