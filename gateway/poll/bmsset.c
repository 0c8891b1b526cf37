/* SPDX-License-Identifier: MIT */
/* gateway/poll/bmsset.c - changing a BMS's own settings (see bmsset.h).
 *
 *   submit   allowed? in bounds and in order? fresh, not busy?
 *   fence    control.c's queue on the pack's wire, through struct
 *            gw_ctl_ops: the frames are the family's (struct bms_writer's
 *            request() and answer()), each refusal or bad answer followed
 *            only by the frames that leave an unlock
 *   verdict  the BMS refused -> failed; no answer after the retries ->
 *            failed; the read-back missing or not equal -> failed; else
 *            done, and the value read back is the pack's at once
 *   end      one log line, a count, the requester's callback
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
#include "../model/gw.h"
#include "bmsset.h"
#include "bus_engine.h"
#include "control.h"

/* A pack's counts (bmsgw_pack_bms_settings_total). */
struct gw_pack_bset {
	uint32_t done, failed, refused;
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
	char quit_why[200];             /* why the gateway gave up on an answer ("" = it did not) */
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
	if (k == BMS_W_BALANCER)
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
	r->confirmed = exception == 0;
	r->status = exception == 0 ? 200 : sent ? 502 : 503;
	r->result = exception == 0 ? "done" : sent ? "failed" : "refused";
	snprintf(r->message, sizeof(r->message), "%s", exception ? why : "");
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
		if (sent)
			p->bset->failed++;
		else
			p->bset->refused++;
		gw_log(sent ? GW_LOG_WARN : GW_LOG_INFO, "bms-settings: %s: pack %s: %s %s -> %s: %s: %s", b->who,
		       p->cfg->name, r->key, was, want, r->result, why);
	}
	if (b->done)
		b->done(b->ctx, r);
	free(b);
}

static const struct gw_ctl_ops bset_ops = { op_request, op_answer, op_unanswered, op_verdict, op_ended };

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
	char what[64];
	snprintf(what, sizeof(what), "%s %g", r->key, r->requested);
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
	if (exc)
		return refuse(p, who, r, exc == GW_MB_DEVICE_BUSY ? 409 : 503, why);
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
	b->res = *r;
	snprintf(b->who, sizeof(b->who), "%s", who);
	prepare(b, k, raw);
	st = first_frame(b, why, sizeof(why));
	if (st) {
		free(b);
		return refuse(p, who, r, st, why);
	}
	char what[64];
	snprintf(what, sizeof(what), "bms setting %s", key);
	if (gw_control_queue(gw, p, &bset_ops, b, who, what, NULL, NULL, handle)) {
		free(b);
		return refuse(p, who, r, 503, "out of memory");
	}
	gw_debug("bms-settings: %s: pack %s: %s %g: queued", who, p->cfg->name, key, value);
	return 0;
}
