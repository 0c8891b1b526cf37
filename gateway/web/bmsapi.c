/* SPDX-License-Identifier: MIT */
/* gateway/web/bmsapi.c - /api/bms-settings (see bmsapi.h). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../conf/chem.h"
#include "../model/gw.h"
#include "../poll/bmsset.h"
#include "bmsapi.h"
#include "users.h"

/* A POST waiting for its change. */
struct waiter {
	gw_setup_cb *cb;
	void *arg;
	char unit[CONF_NAME_MAX];
};

static void answer_json(struct gw_setup_answer *a, int status, json_t *o)
{
	a->status = status;
	a->allow = NULL;
	a->retry_after = 0;
	a->json = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	a->len = a->json ? strlen(a->json) : 0;
	json_decref(o);
}

static json_t *num_or_null(bool has, double v)
{
	return has && isfinite(v) ? json_real(v) : json_null();
}

static json_t *result_json(const char *unit, const struct gw_bset_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "unit", json_string(unit));
	json_object_set_new(o, "key", json_string(r->key));
	json_object_set_new(o, "result", json_string(r->result ? r->result : "refused"));
	json_object_set_new(o, "requested", num_or_null(true, r->requested));
	json_object_set_new(o, "old", num_or_null(r->has_old, r->old));
	json_object_set_new(o, "value", num_or_null(r->has_value, r->value));
	json_object_set_new(o, "confirmed", json_boolean(r->confirmed));
	json_object_set_new(o, "message", r->message[0] ? json_string(r->message) : json_null());
	return o;
}

/* A refusal before a pack or a key is known (400, 403, 404). */
static int refuse(struct gw_setup_answer *a, struct gw_pack *p, const char *unit, const char *key, const char *who,
		  int status, const char *why)
{
	struct gw_bset_result r = { .status = status, .result = "refused", .requested = NAN };
	snprintf(r.key, sizeof(r.key), "%s", key ? key : "");
	snprintf(r.message, sizeof(r.message), "%s", why);
	gw_bset_refused(p, who, key ? key : "a change", status, why);
	answer_json(a, status, result_json(unit ? unit : "", &r));
	return 0;
}

void gw_bmsapi_get(struct gw *gw, const char *unit, struct gw_setup_answer *a)
{
	struct gw_pack *p = unit ? gw_find_pack(gw, unit) : NULL;
	if (!p) {
		json_t *e = json_pack("{s:s}", "error", unit ? "no such pack (the bank has no BMS settings)" :
				      "unit=NAME is missing");
		answer_json(a, unit ? 404 : 400, e);
		return;
	}
	json_t *keys = json_object();
	for (int k = 0; k < BMS_W_COUNT; k++) {
		struct gw_bset_info in;
		if (!gw_bset_info(p, (enum bms_wkey)k, &in))
			continue;
		json_object_set_new(keys, bms_wkey_name((enum bms_wkey)k),
				    json_pack("{s:o, s:s, s:f, s:f, s:f}", "value", num_or_null(in.has_value, in.value),
					      "unit", in.unit, "min", in.min, "max", in.max, "step", in.step));
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:o}", "unit", p->cfg->name, "protocol", p->drv->name,
			      "chemistry", conf_chem_name(p->cfg->soc.chemistry), "stale", !gw_pack_online(gw, p),
			      "busy", gw_bset_busy(p), "keys", keys);
	answer_json(a, 200, o);
}

/* value, by the one parser of every way a change comes (bms/setwrite.h
 * bms_wvalue_*): a JSON number, true / false (a switch only) or a string
 * as an MQTT payload is read.  0, or -1 with why. */
static int take_value(enum bms_wkey k, json_t *v, double *out, char *why, size_t wl)
{
	if (json_is_integer(v))
		return bms_wvalue_number(k, (double)json_integer_value(v), out, why, wl);
	if (json_is_real(v))
		return bms_wvalue_number(k, json_real_value(v), out, why, wl);
	if (json_is_boolean(v))
		return bms_wvalue_bool(k, json_is_true(v), out, why, wl);
	if (json_is_string(v))
		return bms_wvalue_text(k, json_string_value(v), json_string_length(v), out, why, wl);
	snprintf(why, wl, "%s: the value is a number in its unit%s", bms_wkey_name(k),
		 bms_wkey_switch(k) ? ", true / false or \"ON\" / \"OFF\"" : "");
	return -1;
}

static void change_done(void *ctx, const struct gw_bset_result *r)
{
	struct waiter *w = ctx;
	struct gw_setup_answer a = { 0 };
	answer_json(&a, r->status, result_json(w->unit, r));
	a.retry_after = r->retry_after;
	w->cb(w->arg, &a);
	free(w);
}

/* Who asked, for the log: "admin ada (https 192.168.1.5)". */
static void who_of(const struct gw_setup_req *q, char *out, size_t cap)
{
	snprintf(out, cap, "%s %s (%s %s)", q->role >= 0 ? gw_role_name((enum gw_role)q->role) : "no login",
		 q->user ? q->user : "-", q->tls ? "https" : "http", q->addr ? q->addr : "?");
}

/* The login, the token and the body: a refusal's status (why), or 0. */
static int gatekeep(const struct gw_setup *setup, const struct gw_setup_req *q, char *why, size_t wl)
{
	const char *ct = q->content_type;
	if (!q->user) {
		snprintf(why, wl, "a BMS setting is changed only by a user of role admin, and this gateway has no logins "
			 "([http] users_file, over HTTPS)");
		return 403;
	}
	if (q->role != GW_ROLE_ADMIN) {
		snprintf(why, wl, "a BMS setting is changed only by a user of role admin");
		return 403;
	}
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		snprintf(why, wl, "a change is a POST of JSON (Content-Type: application/json)");
		return 400;
	}
	const char *bad = gw_setup_post_check(setup, q);
	if (bad) {
		snprintf(why, wl, "%s", bad);
		return 403;
	}
	return 0;
}

int gw_bmsapi_post(struct gw *gw, const struct gw_setup *setup, const struct gw_setup_req *q,
		   struct gw_setup_answer *a, gw_setup_cb *cb, void *arg, struct gw_ctl **handle)
{
	char who[160], why[320];
	who_of(q, who, sizeof(who));
	int st = gatekeep(setup, q, why, sizeof(why));
	if (st)
		return refuse(a, NULL, NULL, NULL, who, st, why);
	json_error_t err;
	/* a name given twice is refused, as the setup API refuses it: which
	 * of the two a reader takes is its own choice */
	json_t *o = json_loadb(q->body ? q->body : "", q->len, JSON_REJECT_DUPLICATES, &err);
	if (!o && json_error_code(&err) == json_error_duplicate_key) {
		snprintf(why, sizeof(why), "the body names a field twice (%s)", err.text);
		return refuse(a, NULL, NULL, NULL, who, 422, why);
	}
	const char *unit = NULL, *key = NULL;
	json_t *val = NULL;
	if (!o || json_unpack(o, "{s:s, s:s, s:o}", "unit", &unit, "key", &key, "value", &val) != 0) {
		json_decref(o);
		return refuse(a, NULL, NULL, NULL, who, 400, "expected a JSON object {\"unit\": NAME, \"key\": KEY, "
			      "\"value\": VALUE}");
	}
	struct gw_pack *p = gw_find_pack(gw, unit);
	int k = bms_wkey_find(key);
	double value = 0;
	int rc = 0;
	struct gw_bset_result r;
	struct waiter *w = calloc(1, sizeof(*w));
	if (!p)
		rc = refuse(a, NULL, unit, key, who, 404, "no such pack (the bank has no BMS settings)");
	else if (k >= 0 && (p->cfg->bms_settings & (int)BMS_W_BIT(k)) &&
		 take_value((enum bms_wkey)k, val, &value, why, sizeof(why)) < 0)
		rc = refuse(a, p, unit, key, who, 422, why); /* (a key not allowed: 403 below) */
	else if (!w)
		rc = refuse(a, p, unit, key, who, 503, "out of memory");
	else if ((st = gw_bset_submit(gw, p, key, value, who, change_done, w, handle, &r)) != 0) {
		answer_json(a, st, result_json(unit, &r));
		a->retry_after = r.retry_after;
	} else {
		w->cb = cb;
		w->arg = arg;
		snprintf(w->unit, sizeof(w->unit), "%s", unit);
		w = NULL;
		rc = 1;
	}
	free(w);
	json_decref(o);
	return rc;
}

void gw_bmsapi_cancel(struct gw_ctl **handle)
{
	free(gw_bset_cancel(handle));
}
