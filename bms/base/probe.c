/* SPDX-License-Identifier: MIT */
/* bms/base/probe.c - what every driver's probe shares (bms.h, "identification"):
 * the fresh poll of a try, the request, the judge that runs the driver's
 * own framer and decoder on what came back, and the plausibility of a
 * decoded answer.  bms/PROTOCOLS.md §27.
 *
 * An answer counts only when the driver's framer found a whole frame with a
 * valid checksum, its decoder took it as the answer to the request (the
 * address, the command), and what it decoded is a battery's: a device
 * that happens to answer (an energy meter on the same Modbus address) fills
 * cells and voltages with values no battery has, or ones that do not agree
 * with each other.  Pure: no I/O, no globals.
 */
#include "../bms.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CELL_MIN_MV 1000        /* an LTO cell deeply discharged */
#define CELL_MAX_MV 4700        /* above any NMC / LiHV cell's charge voltage */
#define CELL_SPREAD_MV 1500     /* cells of one pack further apart are no pack */
#define PACK_MIN_V 2.0f
#define PACK_MAX_V 160.0f       /* 32 NMC cells fully charged: 134 V */
#define HV_PACK_MIN_V 50.0f     /* a high-voltage pack: a FoxESS stack of one 16-cell module */
#define HV_PACK_MAX_V 1000.0f   /* the plausibility table's highest pack */
#define SUM_TOLERANCE 0.08f     /* pack voltage against the sum of its cells */
#define SUM_SLACK_V 0.5f
#define CURRENT_MAX_A 3000.0f

uint8_t bms_probe_address(const struct bms_driver *d)
{
	if (d->probe && d->probe->naddrs)
		return d->probe->addrs[0];
	return d->default_address ? d->default_address : d->min_address;
}

void bms_probe_begin(const struct bms_driver *d, struct bms_poll *poll, uint8_t address, int attempt)
{
	memset(poll, 0, sizeof(*poll));
	bms_poll_begin(poll, address, 0, false);
	poll->attempt = attempt;
	poll->link = BMS_LINK_WIRE;
	poll->link_fresh = true;
	if (d->probe && d->probe->prepare)
		d->probe->prepare(poll);
}

int bms_probe_request(const struct bms_driver *d, struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (!d->probe)
		return BMS_E_INVALID;
	if (d->probe->request)
		return d->probe->request(poll, out, cap);
	if (!d->next_request)
		return BMS_E_INVALID; /* listen only: nothing to send */
	int n = d->next_request(poll, out, cap);
	return n > 0 ? n : n == 0 ? BMS_E_INVALID : n;
}

/* What a battery of a kind may be: the most cells, its voltage. */
struct probe_kind {
	unsigned max_cells;
	float min_v, max_v;
};
static const struct probe_kind lv_kind = { BMS_LV_MAX_CELLS, PACK_MIN_V, PACK_MAX_V };
static const struct probe_kind hv_kind = { BMS_MAX_CELLS, HV_PACK_MIN_V, HV_PACK_MAX_V };

/* The cells of s: plausible each and together; their sum in *sum_v. */
static bool cells_ok(const struct bms_snapshot *s, const struct probe_kind *k, float *sum_v, char *what, size_t cap)
{
	unsigned lo = 65535, hi = 0;
	double sum = 0;
	if (s->ncells < 1 || s->ncells > k->max_cells) {
		snprintf(what, cap, "%u cells", s->ncells);
		return false;
	}
	for (unsigned i = 0; i < s->ncells; i++) {
		unsigned mv = s->cell_mv[i];
		if (mv < CELL_MIN_MV || mv > CELL_MAX_MV) {
			snprintf(what, cap, "cell %u at %u mV", i + 1, mv);
			return false;
		}
		lo = mv < lo ? mv : lo;
		hi = mv > hi ? mv : hi;
		sum += mv;
	}
	if (hi - lo > CELL_SPREAD_MV) {
		snprintf(what, cap, "cells %u..%u mV apart", lo, hi);
		return false;
	}
	*sum_v = (float)(sum / 1000.0);
	return true;
}

/* The pack voltage against the cells (their sum, or their count). */
static bool voltage_ok(const struct bms_snapshot *s, const struct probe_kind *k, bool have_sum, float sum_v,
		       char *what, size_t cap)
{
	float v = s->voltage;
	if (!(v >= k->min_v && v <= k->max_v)) {
		snprintf(what, cap, "pack voltage %.2f V", (double)v);
		return false;
	}
	if (have_sum && fabsf(v - sum_v) > SUM_TOLERANCE * v + SUM_SLACK_V) {
		snprintf(what, cap, "pack voltage %.2f V but its cells add up to %.2f V", (double)v, (double)sum_v);
		return false;
	}
	if (!have_sum && s->ncells) {
		float per = v / (float)s->ncells;
		if (s->ncells > k->max_cells || per * 1000.0f < CELL_MIN_MV || per * 1000.0f > CELL_MAX_MV) {
			snprintf(what, cap, "%.2f V for %u cells", (double)v, s->ncells);
			return false;
		}
	}
	return true;
}

static bool plausible(const struct bms_snapshot *s, const struct probe_kind *k, char *what, size_t cap)
{
	bool cells = (s->present & BMS_HAS_CELLS) != 0, volts = (s->present & BMS_HAS_VOLTAGE) != 0;
	float sum_v = 0;
	if (!cells && !volts) {
		snprintf(what, cap, "neither cells nor a voltage");
		return false;
	}
	if (cells && !cells_ok(s, k, &sum_v, what, cap))
		return false;
	if (volts && !voltage_ok(s, k, cells, sum_v, what, cap))
		return false;
	if ((s->present & BMS_HAS_CURRENT) && !(fabsf(s->current) <= CURRENT_MAX_A)) {
		snprintf(what, cap, "current %.1f A", (double)s->current);
		return false;
	}
	char c[16] = "", i[16] = "", soc[16] = "";
	if (cells || s->ncells)
		snprintf(c, sizeof(c), "%u cells, ", s->ncells);
	if (s->present & BMS_HAS_CURRENT)
		snprintf(i, sizeof(i), ", %.1f A", (double)s->current);
	if (s->present & BMS_HAS_SOC)
		snprintf(soc, sizeof(soc), ", SOC %.0f %%", (double)s->soc);
	snprintf(what, cap, "%s%.2f V%s%s", c, (double)(volts ? s->voltage : sum_v), i, soc);
	return true;
}

bool bms_probe_plausible(const struct bms_snapshot *s, char *what, size_t cap)
{
	return plausible(s, &lv_kind, what, cap);
}

bool bms_probe_plausible_hv(const struct bms_snapshot *s, char *what, size_t cap)
{
	return plausible(s, &hv_kind, what, cap);
}

bool bms_probe_text_ok(const char *text)
{
	size_t n = 0, alnum = 0;
	for (const char *p = text; *p; p++, n++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c > 0x7E)
			return false;
		if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
			alnum++;
	}
	return n >= 3 && alnum >= 2;
}

/* The default check: the snapshot's measurements, else the identity. */
static bool default_check(const struct bms_poll *p, char *what, size_t cap)
{
	if (p->snap.present & (BMS_HAS_VOLTAGE | BMS_HAS_CELLS))
		return bms_probe_plausible(&p->snap, what, cap);
	const struct bms_ident *id = &p->kept.ident;
	const char *t = id->model[0] ? id->model : id->vendor[0] ? id->vendor : id->serial;
	if (p->kept.ident_state == BMS_IDENT_HAVE && bms_probe_text_ok(t)) {
		snprintf(what, cap, "identity \"%s\"", t);
		return true;
	}
	snprintf(what, cap, "no measurement or identity in the answer");
	return false;
}

bool bms_probe_raw_text_ok(const uint8_t *p, size_t n)
{
	char t[BMS_PROBE_TEXT];
	size_t k = 0;
	while (k < n && p[k] != 0x00 && p[k] != 0xFF) {
		if (p[k] < 0x20 || p[k] > 0x7E || k + 1 >= sizeof(t))
			return false;
		t[k] = (char)p[k];
		k++;
	}
	t[k] = '\0';
	for (size_t i = k; i < n; i++)
		if (p[i] != 0x00 && p[i] != 0xFF && p[i] != ' ')
			return false;
	return bms_probe_text_ok(t);
}

void bms_probe_judge(const struct bms_driver *d, const struct bms_poll *poll, const uint8_t *buf, size_t len,
		     struct bms_probe_result *r)
{
	memset(r, 0, sizeof(*r));
	if (!d->probe)
		return;
	if (d->probe->judge)
		d->probe->judge(poll, buf, len, r);
	else
		bms_probe_judge_frames(d, poll, buf, len, r);
}

/* bms_probe_judge_frames(): the frames of the answer, on a copy of the poll. */
struct judging {
	const struct bms_driver *d;
	struct bms_poll p;
	const uint8_t *buf;
	struct bms_probe_result *r;
};

void bms_probe_cells_read(const struct bms_snapshot *s, struct bms_probe_result *r)
{
	struct bms_cell_stats cs;
	bms_cell_stats(s, &cs); /* the cells, else the BMS's own highest and lowest */
	if ((cs.from == BMS_CELLS_LIST && (s->present & BMS_HAS_CELLS)) || cs.from == BMS_CELLS_EXT) {
		if (cs.min_mv > 0) {
			r->has_cells = true;
			r->cell_min_v = (float)(cs.min_mv / 1000.0);
			r->cell_max_v = (float)(cs.max_mv / 1000.0);
		}
	}
	if ((s->present & BMS_HAS_SOC) && isfinite(s->soc)) {
		r->has_soc = true;
		r->soc = s->soc;
	}
}

/* One frame: on to the next while the step goes on, else the verdict. */
static enum bms_frame_next judge_frame(void *ctx, const uint8_t *f, size_t n)
{
	struct judging *j = ctx;
	struct bms_probe_result *r = j->r;
	int rc = j->d->handle(&j->p, f, n);
	const struct bms_probe *pr = j->d->probe;
	r->start = (size_t)(f - j->buf);
	if (pr && pr->patient) {
		if (rc < 0 || !(j->p.snap.present & BMS_HAS_VOLTAGE))
			return BMS_FRAME_MORE;
	} else if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED) {
		return BMS_FRAME_MORE;
	}
	r->used = r->start + n;
	if (rc == BMS_E_REFUSED || (rc == BMS_OK && j->p.refusals)) {
		r->verdict = BMS_PROBE_REFUSED;
		snprintf(r->what, sizeof(r->what), "an error answer (a device of the family, another map or version)");
	} else if (rc < 0) {
		r->verdict = BMS_PROBE_IMPLAUSIBLE;
		snprintf(r->what, sizeof(r->what), "its decoder says: %s", bms_strerror(rc));
	} else {
		bool ok = pr && pr->check ? pr->check(&j->p, r->what, sizeof(r->what))
					  : default_check(&j->p, r->what, sizeof(r->what));
		r->verdict = ok ? BMS_PROBE_MATCH : BMS_PROBE_IMPLAUSIBLE;
		if (ok)
			bms_probe_cells_read(&j->p.snap, r);
	}
	return BMS_FRAME_STOP;
}

void bms_probe_judge_frames(const struct bms_driver *d, const struct bms_poll *poll, const uint8_t *buf,
			    size_t len, struct bms_probe_result *r)
{
	memset(r, 0, sizeof(*r));
	struct judging j = { .d = d, .p = *poll, .buf = buf, .r = r };
	struct bms_frame_counts c = { 0 };
	bms_frames_buf(d, &j.p, buf, len, judge_frame, &j, &c);
	r->frames = c.frames;
	r->bad = c.badsum;
}
