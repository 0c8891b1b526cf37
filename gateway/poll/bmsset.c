/* SPDX-License-Identifier: MIT */
/* gateway/poll/bmsset.c - changing a BMS's own settings (see bmsset.h).
 *
 *   submit   allowed? in bounds and in order? fresh?  the value the BMS
 *            holds already: done, nothing sent; not busy? within the
 *            pack's write budget (engine/wbudget.h, else 429)?
 *   fence    control.c's queue on the pack's wire, through struct
 *            gw_ctl_ops: the frames are the family's (struct bms_writer's
 *            request() and answer()), each refusal or bad answer followed
 *            only by the frames that leave an unlock
 *   verdict  the BMS refused -> failed; no answer after the retries ->
 *            failed; the read-back missing or not equal -> failed; else
 *            done, and the value read back is the pack's at once
 *   end      one log line, a count, the write budget spent if the
 *            write went out, the requester's callback
 *
 * A reload that no longer allows the key (or stops MQTT's control, for a
 * change asked over MQTT), or the gateway stopping, gives a change on the
 * wire up: only the frames that leave its unlock follow, never a write or
 * a save; answered refused when nothing was written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/clock.h"
#include "../core/log.h"
#include "../core/mbexc.h"
#include "../engine/setbounds.h"
#include "../engine/wbudget.h"
#include "../model/gw.h"
#include "../model/statefile.h"
#include "bmsset.h"
#include "bus_engine.h"
#include "control.h"

/* A pack's counts (bmsgw_pack_bms_settings_total) and its write budget. */
struct gw_pack_bset {
	uint32_t done, failed, refused;
	struct gw_wbudget budget;
};

/* One change in progress. */
struct bset {
	struct gw *gw;
	struct gw_pack *pack;
	const struct bms_writer *w;
	struct bms_wchange wc;
	uint32_t persist0;               /* wc.persist when it began */
	double requested;
	bool has_old;
	double old;
	char quit_why[320];             /* why the gateway gave up ("" = it did not) */
	int quit_status;                /* it gave the change up (a reload, a stop): the refusal's
	                                 * status should nothing have been written; 0: a failure */
	char who[96];
	gw_bset_done done;
	void *ctx;
	struct gw_bset_result res;
};

struct gw_pack_bset *gw_bset_new(void)
{
	return calloc(1, sizeof(struct gw_pack_bset));
}

void gw_bset_free(struct gw_pack_bset *b)
{
	free(b);
}

void gw_bset_counts(const struct gw_pack *p, uint32_t *done, uint32_t *failed, uint32_t *refused)
{
	*done = p->bset->done;
	*failed = p->bset->failed;
	*refused = p->bset->refused;
}

bool gw_bset_busy(const struct gw_pack *p)
{
	return gw_control_busy(p);
}

void gw_bset_refused(struct gw_pack *p, const char *who, const char *what, int status, const char *why)
{
	if (p)
		p->bset->refused++;
	gw_log_refused(GW_LOG_INFO, who, "bms-settings: %s: pack %s: %s: refused (%d): %s", who, p ? p->cfg->name : "?",
		       what, status, why);
}

/* v (a float's value) on key k's step of p's protocol: 3.6, not 3.6000001. */
static double on_step(const struct gw_pack *p, enum bms_wkey k, double v)
{
	const struct bms_writer *w = p->drv->writer;
	double m = w ? fabs((double)w->field[k].mul) : 0;
	return m > 0 ? round(v * m) / m : v;
}

/* What the BMS last reported for k (soc: the pack's SOC). */
static bool last_reported(const struct gw_pack *p, enum bms_wkey k, double *v)
{
	if (k == BMS_W_SOC) {
		/* the BMS's own SOC: the pack carries the counted one once it is synced */
		if (!p->have_data || !isfinite(p->soc.bms_soc))
			return false;
		*v = on_step(p, k, p->soc.bms_soc);
		return true;
	}
	enum bms_set_key r = bms_wkey_read(k);
	if (!bms_settings_has(&p->settings, r))
		return false;
	*v = on_step(p, k, p->settings.v[r]);
	return true;
}

bool gw_bset_info(const struct gw_pack *p, enum bms_wkey k, struct gw_bset_info *out)
{
	const struct bms_writer *w = p->drv->writer;
	if ((unsigned)k >= BMS_W_COUNT || !w || !(p->cfg->bms_settings & (int)BMS_W_BIT(k)))
		return false;
	gw_wset_range(w, k, p->cfg->soc.chemistry, &out->min, &out->max, &out->step);
	out->unit = bms_wkey_unit(k);
	out->has_value = last_reported(p, k, &out->value);
	return true;
}

/* "cell_ovp_v 3.650 V" of a value of key k. */
static void say(char *buf, size_t cap, enum bms_wkey k, double v)
{
	const char *u = bms_wkey_unit(k);
	if (bms_wkey_switch(k))
		snprintf(buf, cap, "%s", v != 0 ? "on" : "off");
	else
		snprintf(buf, cap, "%.*f%s%s", BMS_W_CELL_KEYS & BMS_W_BIT(k) || k == BMS_W_BALANCE_DELTA_V ? 3 : 1,
			 v, u[0] && strcmp(u, "%") ? " " : "", u);
}

/* ---- the kind of command (struct gw_ctl_ops, control.h) ---- */

static int op_request(void *arg, uint8_t *out, size_t cap)
{
	struct bset *b = arg;
	return b->w->request(&b->wc, out, cap);
}

static int op_answer(void *arg, const uint8_t *f, size_t n)
{
	struct bset *b = arg;
	int rc = b->w->answer(&b->wc, f, n);
	if (rc != BMS_OK && rc != BMS_E_UNEXPECTED && rc != BMS_E_REFUSED && !b->wc.quit) {
		/* a wrong answer is an answer: never sent again */
		snprintf(b->quit_why, sizeof(b->quit_why), "a bad answer from the BMS (%s)", bms_strerror(rc));
		b->wc.quit = true;
	}
	return rc;
}

static bool op_unanswered(void *arg, const char *why)
{
	struct bset *b = arg;
	if (b->wc.quit || b->wc.refused)
		return false; /* what leaves the unlock went unanswered too */
	snprintf(b->quit_why, sizeof(b->quit_why), "%s", why);
	b->wc.quit = true;
	return true;
}

static bool back_equal(const struct bset *b)
{
	int64_t d = b->wc.back_raw - b->wc.raw;
	/* soc: equal within 0.1 %, one step of its raw value */
	return d == 0 || (b->wc.key == BMS_W_SOC && (d == 1 || d == -1));
}

static int op_verdict(void *arg, char *why, size_t wl)
{
	struct bset *b = arg;
	const struct bms_wfield *f = &b->w->field[b->wc.key];
	char shown[48];
	if (b->wc.refused)
		snprintf(why, wl, "the BMS refused the change%s", b->wc.have_old || b->wc.key == BMS_W_SOC ? "" :
			 " (or its unlock: a password?)");
	else if (b->quit_why[0])
		snprintf(why, wl, "%s", b->quit_why);
	else if (!b->wc.have_back)
		snprintf(why, wl, "the BMS acknowledged, but gave no read-back");
	else if (!back_equal(b)) {
		say(shown, sizeof(shown), (enum bms_wkey)b->wc.key, bms_wfield_value(f, b->wc.back_raw));
		snprintf(why, wl, "the BMS acknowledged, but the read-back shows %s", shown);
	} else {
		snprintf(why, wl, "done");
		return 0;
	}
	return GW_MB_DEVICE_FAILURE;
}

/* The result of a change that ended (exception 0: done). */
static void fill_result(struct bset *b, int exception, const char *why, bool sent)
{
	struct gw_bset_result *r = &b->res;
	const struct bms_wfield *f = &b->w->field[b->wc.key];
	bool given_up = exception && b->quit_status && !b->wc.wrote; /* nothing written */
	r->confirmed = exception == 0;
	r->status = exception == 0 ? 200 : given_up ? b->quit_status : sent ? 502 : 503;
	r->result = exception == 0 ? "done" : sent && !given_up ? "failed" : "refused";
	snprintf(r->message, sizeof(r->message), "%s", !exception ? "" : b->quit_status ? b->quit_why : why);
	r->has_old = b->has_old;
	r->old = b->old;
	if (b->wc.have_old) {
		r->has_old = true;
		r->old = bms_wfield_value(f, b->wc.old_raw);
	}
	if (b->wc.have_back) {
		r->has_value = true;
		r->value = bms_wfield_value(f, b->wc.back_raw);
	} else {
		r->has_value = last_reported(b->pack, (enum bms_wkey)b->wc.key, &r->value);
	}
}

/* The bits of the pack's persist the change's steps flipped go to its
 * polls: an unlock a change could not leave (jbd's factory mode, its exit
 * unanswered) is left by the next poll. */
static void give_persist(const struct bset *b)
{
	uint32_t flipped = b->wc.persist ^ b->persist0;
	struct bms_poll *s = flipped && b->pack->bus ? gw_bus_session(b->pack->bus, b->pack) : NULL;
	if (s)
		s->persist = (s->persist & ~flipped) | (b->wc.persist & flipped);
}

static void op_ended(void *arg, int exception, const char *why, double took, bool sent)
{
	struct bset *b = arg;
	struct gw_pack *p = b->pack;
	give_persist(b);
	if (b->wc.wrote) { /* the write went out: it counts, whatever came of it */
		gw_wbudget_spend(&p->bset->budget, (int64_t)gw_wall());
		gw_statefile_changed(b->gw);
		gw_statefile_save(b->gw, false);
	}
	fill_result(b, exception, why, sent);
	const struct gw_bset_result *r = &b->res;
	char was[48] = "?", want[48];
	if (r->has_old)
		say(was, sizeof(was), (enum bms_wkey)b->wc.key, r->old);
	say(want, sizeof(want), (enum bms_wkey)b->wc.key, b->requested);
	if (exception == 0) {
		p->bset->done++;
		enum bms_set_key k = bms_wkey_read((enum bms_wkey)b->wc.key);
		if (k != BMS_SET_COUNT)
			gw_poll_setting_read(p, k, (float)r->value); /* the pack's at once */
		gw_info("bms-settings: %s: pack %s: %s %s -> %s: done, confirmed by read-back in %.1f s", b->who,
			p->cfg->name, r->key, was, want, took);
	} else {
		if (r->status == 502)
			p->bset->failed++;
		else
			p->bset->refused++;
		gw_log(r->status == 502 ? GW_LOG_WARN : GW_LOG_INFO, "bms-settings: %s: pack %s: %s %s -> %s: %s: %s",
		       b->who, p->cfg->name, r->key, was, want, r->result, r->message);
	}
	if (b->done)
		b->done(b->ctx, r);
	free(b);
}

/* Under the configuration in force (a reload): the key still in the
 * pack's bms_settings and written by its family on its link; asked over
 * MQTT, MQTT's control still on. */
static bool op_allowed(void *arg, char *why, size_t wl)
{
	struct bset *b = arg;
	const struct gw_pack *p = b->pack;
	enum bms_wkey k = (enum bms_wkey)b->wc.key;
	const struct bms_writer *w = p->drv->writer;
	if (!(p->cfg->bms_settings & (int)BMS_W_BIT(k)) || w != b->w ||
	    !(bms_writer_keys(w, gw_link_bms_link(p->link)) & BMS_W_BIT(k))) {
		snprintf(why, wl, "a reload took %s out of the pack's bms_settings", bms_wkey_name(k));
		return false;
	}
	if (strcmp(b->who, "mqtt") == 0 && !b->gw->conf->mqtt.control) {
		snprintf(why, wl, "a reload turned [mqtt] control off");
		return false;
	}
	return true;
}

static void op_quit(void *arg, int status, const char *why)
{
	struct bset *b = arg;
	if (!b->quit_status) {
		b->quit_status = status;
		snprintf(b->quit_why, sizeof(b->quit_why), "%s: given up%s", why,
			 b->wc.wrote ? " after its write had gone out; nothing more sent but what leaves its unlock" :
			 b->wc.unlocked ? " before its write: its unlock left without saving, nothing written" :
			 " before its write: nothing written");
	}
	b->wc.quit = true;
}

static const struct gw_ctl_ops bset_ops = { op_request, op_answer,  op_unanswered, op_verdict,
					    op_ended,   op_allowed, op_quit };

void *gw_bset_cancel(struct gw_ctl **handle)
{
	if (!*handle)
		return NULL;
	struct bset *b = gw_control_arg(*handle);
	void *ctx = b ? b->ctx : NULL;
	if (b)
		b->done = NULL;
	gw_control_cancel(handle);
	return ctx;
}

/* ---- submit ---- */

static int refuse(struct gw_pack *p, const char *who, struct gw_bset_result *r, int status, const char *why)
{
	char what[96], v[40];
	bms_wvalue_str(r->requested, v, sizeof(v));
	snprintf(what, sizeof(what), "%s %s", r->key, v);
	r->status = status;
	r->result = "refused";
	snprintf(r->message, sizeof(r->message), "%s", why);
	/* value: what the BMS last reported, where the key is the pack's */
	struct gw_bset_info in;
	int k = bms_wkey_find(r->key);
	if (p && k >= 0 && gw_bset_info(p, (enum bms_wkey)k, &in)) {
		r->has_value = in.has_value;
		r->value = in.value;
	}
	gw_bset_refused(p, who, what, status, why);
	return status;
}

/* The change as the family's steps take it. */
static void prepare(struct bset *b, int key, int64_t raw)
{
	struct gw_pack *p = b->pack;
	b->wc.key = (uint8_t)key;
	b->wc.raw = raw;
	b->wc.address = (uint8_t)p->cfg->address;
	b->wc.link = (uint8_t)gw_link_bms_link(p->link);
	const struct bms_poll *session = gw_bus_session(p->bus, p);
	b->wc.persist = session ? session->persist : 0;
	b->persist0 = b->wc.persist;
	b->wc.layout = session ? session->ble_layout : 0;
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm)) {
		const int d[6] = { tm.tm_year - 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec };
		for (int i = 0; i < 6; i++)
			b->wc.date[i] = (uint8_t)(d[i] < 0 ? 0 : d[i] > 255 ? 255 : d[i]);
	}
}

/* The family can make the change's first frame for this pack, as its
 * polls found it (daly-modbus: not over Bluetooth LE in the 0x81 dialect,
 * whose settings are not written): 0, else 422 with the link's reason
 * (struct bms_writer's none_*).  A copy is asked: nothing is sent. */
static int first_frame(const struct bset *b, char *why, size_t wl)
{
	struct bms_wchange probe = b->wc;
	uint8_t f[GW_LINK_TX_MAX];
	int n = b->w->request(&probe, f, sizeof(f));
	if (n > 0)
		return 0;
	const char *none = b->wc.link == BMS_LINK_BLE ? b->w->none_ble : b->w->none_wire;
	snprintf(why, wl, "%s cannot be written to this pack: %s", bms_wkey_name((enum bms_wkey)b->wc.key),
		 none ? none : bms_strerror(n));
	return 422;
}

/* The BMS holds raw for k already, as it last reported (exactly, at the
 * key's step): the change is answered done with nothing sent, logged once
 * (folded by source: an automation that sends it every minute writes a
 * line per interval), and costs nothing of the budget. */
static bool holds(const struct gw_pack *p, enum bms_wkey k, int64_t raw)
{
	double v;
	int64_t have;
	char why[160];
	return last_reported(p, k, &v) && bms_wfield_raw(&p->drv->writer->field[k], v, &have, why, sizeof(why)) == 0 &&
	       have == raw;
}

static int answered_now(struct gw_pack *p, const char *who, enum bms_wkey k, struct gw_bset_result *r)
{
	char was[48];
	r->status = 200;
	r->result = "done";
	r->has_old = r->has_value = last_reported(p, k, &r->value);
	r->old = r->value;
	say(was, sizeof(was), k, r->value);
	snprintf(r->message, sizeof(r->message), "the BMS holds %s already (its last report): nothing was sent", was);
	p->bset->done++;
	gw_log_refused(GW_LOG_INFO, who, "bms-settings: %s: pack %s: %s %s -> %s: done, the BMS holds it already; "
		       "nothing was sent", who, p->cfg->name, r->key, was, was);
	return 200;
}

/* The pack's write budget is spent: 429, with when the next may go. */
static int over_budget(struct gw_pack *p, const char *who, struct gw_bset_result *r)
{
	int64_t now = (int64_t)gw_wall();
	long wait = gw_wbudget_wait(&p->bset->budget, p->cfg->bms_settings_per_day, now);
	if (!wait)
		return 0;
	char in[48], at[48] = "", why[320];
	gw_wbudget_say(wait, in, sizeof(in));
	time_t t = (time_t)(now + wait);
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(at, sizeof(at), ", at %Y-%m-%d %H:%M:%S", &tm);
	snprintf(why, sizeof(why), "the pack's write budget is spent: bms_settings_per_day = %d changes reach the BMS "
		 "in any 24 hours (its EEPROM's sake); the next in %s%s", p->cfg->bms_settings_per_day, in, at);
	r->retry_after = wait;
	return refuse(p, who, r, 429, why);
}

int gw_bset_submit(struct gw *gw, struct gw_pack *p, const char *key, double value, const char *who,
		   gw_bset_done done, void *ctx, struct gw_ctl **handle, struct gw_bset_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->key, sizeof(r->key), "%s", key);
	r->requested = value;
	int k = bms_wkey_find(key);
	char why[320];
	if (k < 0 || !(p->cfg->bms_settings & (int)BMS_W_BIT(k))) {
		snprintf(why, sizeof(why), "%s is not in the pack's bms_settings", key);
		return refuse(p, who, r, 403, why);
	}
	const struct bms_writer *w = p->drv->writer;
	struct gw_wset_ask a = { (enum bms_wkey)k, value, w, bms_writer_keys(w, gw_link_bms_link(p->link)),
				 p->cfg->soc.chemistry, &p->settings };
	int64_t raw = 0;
	int st = gw_wset_check(&a, &raw, why, sizeof(why));
	if (st)
		return refuse(p, who, r, st, why);
	int exc = gw_control_may(gw, p, why, sizeof(why));
	if (exc && exc != GW_MB_DEVICE_BUSY)
		return refuse(p, who, r, 503, why);
	struct bset *b = calloc(1, sizeof(*b));
	if (!b)
		return refuse(p, who, r, 503, "out of memory");
	b->gw = gw;
	b->pack = p;
	b->w = w;
	b->requested = value;
	b->has_old = last_reported(p, (enum bms_wkey)k, &b->old);
	b->done = done;
	b->ctx = ctx;
	snprintf(b->who, sizeof(b->who), "%s", who);
	prepare(b, k, raw);
	st = first_frame(b, why, sizeof(why));
	if (!st && holds(p, (enum bms_wkey)k, raw))
		st = answered_now(p, who, (enum bms_wkey)k, r);
	else if (!st && exc)
		st = refuse(p, who, r, 409, why);
	else if (!st)
		st = over_budget(p, who, r);
	else
		st = refuse(p, who, r, st, why);
	if (st) {
		free(b);
		return st;
	}
	b->res = *r;
	char what[64];
	snprintf(what, sizeof(what), "bms setting %s", key);
	if (gw_control_queue(gw, p, &bset_ops, b, who, what, NULL, NULL, handle)) {
		free(b);
		return refuse(p, who, r, 503, "out of memory");
	}
	gw_debug("bms-settings: %s: pack %s: %s %g: queued", who, p->cfg->name, key, value);
	return 0;
}

/* The state file's record "bmswrites NAME T1 T2 ...": the unix times of
 * the pack's writes in the last 24 hours, so that a restart keeps the
 * budget spent. */
static bool save_budget(const struct gw *gw, const struct gw_pack *p, char *out, size_t cap)
{
	(void)gw;
	return gw_wbudget_format(&p->bset->budget, out, cap) > 0;
}

static void load_budget(struct gw *gw, struct gw_pack *p, const char *rest)
{
	(void)gw;
	gw_wbudget_parse(&p->bset->budget, rest, (int64_t)gw_wall());
}

const struct gw_state_record gw_bset_budget_record = { "bmswrites", true, save_budget, load_budget };
