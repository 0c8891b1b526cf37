/* SPDX-License-Identifier: MIT */
/* gateway/engine/soc_record.c - the estimator's state as one line of text
 * for the state file, and back (soc.h: gw_soc_save, gw_soc_load).
 *
 * The line: the version (1), then key=value fields, the time saved first:
 *   1 saved=1767225600 started=1 synced=1 ah=201.5 cap=272.4 rated=280 ...
 * A reader takes the keys it knows and skips the others (a later bmsgw
 * of the same version may add some); a line of another version, a value
 * that is not a finite number in its range, or a missing key is refused
 * whole, but for the keys added since (optional: 0 when missing, so that
 * an older bmsgw's record is still taken).  What was learned (the capacity samples, the current offset, the
 * points, the time of the last full point, a cell's resistance, "ir", 0
 * none) is kept whatever the age; the
 * count itself only when saved within GW_SOC_RESUME_MAX.
 */
#include "soc_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_VERSION "1"

enum ftype { F_DOUBLE, F_BOOL, F_UINT };
/* what a load keeps of a field: what was learned whatever the record's
 * age; the count over a short restart (GW_SOC_RESUME_MAX); a run since a
 * point only when the record is fresh (stale_after); OWN: gw_soc_load's
 * own rule (the full point's age, the resistance's seed) */
enum keep { K_LEARNED, K_COUNT, K_RUN, K_OWN };
struct field {
	const char *key;
	size_t off;
	enum ftype type;
	double lo, hi;   /* F_DOUBLE: the range a value must lie in */
	bool optional;   /* added after the first records: 0 when missing */
	enum keep keep;
};
#define F(k, f, t, lo, hi, opt, keep) { k, offsetof(struct gw_soc, f), t, lo, hi, opt, keep }
#define D(k, f, lo, hi, keep) F(k, f, F_DOUBLE, lo, hi, false, keep)
#define B(k, f, keep) F(k, f, F_BOOL, 0, 1, false, keep)
#define U(k, f) F(k, f, F_UINT, 0, 4294967295.0, false, K_LEARNED)
#define U_OPT(k, f) F(k, f, F_UINT, 0, 4294967295.0, true, K_LEARNED)
#define D_OPT(k, f, lo, hi, keep) F(k, f, F_DOUBLE, lo, hi, true, keep)
#define B_OPT(k, f, keep) F(k, f, F_BOOL, 0, 1, true, keep)
#define AH_MAX 1e6   /* Ah: more than any battery */
#define BAND_MAX 1e3 /* %: the band's sides as the record keeps them (the truth lies within 0..100 %) */
#define L K_LEARNED
static const struct field fields[] = {
	B("started", started, K_COUNT), B("synced", synced, K_COUNT), D("ah", ah, 0, AH_MAX, K_COUNT),
	D("cap", cap_ah, 0, AH_MAX, K_COUNT), D("rated", rated_ah, 0, AH_MAX, L),
	D("offset", offset_a, -AH_MAX, AH_MAX, L), D("offset_w", offset_w, 0, 1e12, L),
	D("full_run_ah", run_full.ah, -AH_MAX, AH_MAX, K_RUN), D("full_run_s", run_full.s, 0, 1e12, K_RUN),
	B("full_run_ok", run_full.ok, K_RUN), B("full_run_sampled", run_full.sampled, K_RUN),
	D("empty_run_ah", run_empty.ah, -AH_MAX, AH_MAX, K_RUN), D("empty_run_s", run_empty.s, 0, 1e12, K_RUN),
	B("empty_run_ok", run_empty.ok, K_RUN), B("empty_run_sampled", run_empty.sampled, K_RUN),
	B("have_full", have_full, L), D("full_age", full_age, 0, 1e12, K_OWN), U("full_points", full_points),
	U("empty_points", empty_points), U("rest_points", rest_points), U("samples", nsamples),
	D("s0", sample[0], 0, AH_MAX, L), D("s1", sample[1], 0, AH_MAX, L), D("s2", sample[2], 0, AH_MAX, L),
	D("s3", sample[3], 0, AH_MAX, L), D("s4", sample[4], 0, AH_MAX, L),
	D("t0", sample_s[0], -1e12, 1e12, L), D("t1", sample_s[1], -1e12, 1e12, L),
	D("t2", sample_s[2], -1e12, 1e12, L), D("t3", sample_s[3], -1e12, 1e12, L),
	D("t4", sample_s[4], -1e12, 1e12, L),
	B("have_remain", have_saved_remain, K_COUNT), D("remain", saved_remain, -AH_MAX, AH_MAX, K_COUNT),
	U_OPT("knee_points", knee_points), U_OPT("light_points", light_points), D_OPT("ir", ir.value, 0, 1000, K_OWN),
	B_OPT("full_run_light", run_full.light, K_RUN),
	/* the count's uncertainty (soc_band.c): the band, each sample's share, the runs' points and drift */
	B_OPT("band", band.ok, K_COUNT), D_OPT("band_lo", band.lo, -BAND_MAX, BAND_MAX, K_COUNT),
	D_OPT("band_hi", band.hi, -BAND_MAX, BAND_MAX, K_COUNT), D_OPT("band_klo", band.klo, 0, 100, K_COUNT),
	D_OPT("band_khi", band.khi, 0, 100, K_COUNT), D_OPT("band_net", band.net_ah, -AH_MAX, AH_MAX, K_COUNT),
	D_OPT("band_drift", band.drift_ah, 0, AH_MAX, K_COUNT),
	D_OPT("f0", sample_flo[0], 0, 10, L), D_OPT("f1", sample_flo[1], 0, 10, L), D_OPT("f2", sample_flo[2], 0, 10, L),
	D_OPT("f3", sample_flo[3], 0, 10, L), D_OPT("f4", sample_flo[4], 0, 10, L),
	D_OPT("g0", sample_fhi[0], 0, 10, L), D_OPT("g1", sample_fhi[1], 0, 10, L), D_OPT("g2", sample_fhi[2], 0, 10, L),
	D_OPT("g3", sample_fhi[3], 0, 10, L), D_OPT("g4", sample_fhi[4], 0, 10, L),
	D_OPT("full_run_plo", run_full.p_lo, -200, 200, K_RUN), D_OPT("full_run_phi", run_full.p_hi, -200, 200, K_RUN),
	D_OPT("full_run_drift", run_full.drift_ah, 0, AH_MAX, K_RUN),
	D_OPT("empty_run_plo", run_empty.p_lo, -200, 200, K_RUN), D_OPT("empty_run_phi", run_empty.p_hi, -200, 200, K_RUN),
	D_OPT("empty_run_drift", run_empty.drift_ah, 0, AH_MAX, K_RUN),
};
#undef L
_Static_assert(GW_SOC_SAMPLES == 5, "a field s0..s4 per sample");
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int gw_soc_save(const struct gw_soc *s, double t, int64_t wall, char *buf, size_t cap)
{
	struct gw_soc r = *s;
	if (r.have_full && r.full_pinned)
		r.full_age = fmax(0, r.full_age + t - r.full_age_t); /* its age now */
	const struct gw_soc_band *b = &r.band; /* a field that cannot be read back would cost the whole record:
	                                        * a band out of the record's ranges is not kept */
	if (!(fabs(b->lo) <= BAND_MAX && fabs(b->hi) <= BAND_MAX && b->klo >= 0 && b->klo <= 100 && b->khi >= 0 &&
	      b->khi <= 100 && fabs(b->net_ah) <= AH_MAX && b->drift_ah >= 0 && b->drift_ah <= AH_MAX))
		r.band = (struct gw_soc_band){ .ok = false };
	r.have_saved_remain = s->have_last && isfinite(s->last_remain);
	r.saved_remain = r.have_saved_remain ? s->last_remain : 0;
	int n = snprintf(buf, cap, RECORD_VERSION " saved=%lld", (long long)wall);
	for (size_t i = 0; i < NFIELDS && n >= 0 && (size_t)n < cap; i++) {
		const void *f = (const char *)&r + fields[i].off;
		if (fields[i].type == F_DOUBLE)
			n += snprintf(buf + n, cap - (size_t)n, " %s=%.10g", fields[i].key, *(const double *)f);
		else if (fields[i].type == F_BOOL)
			n += snprintf(buf + n, cap - (size_t)n, " %s=%d", fields[i].key, *(const bool *)f ? 1 : 0);
		else
			n += snprintf(buf + n, cap - (size_t)n, " %s=%u", fields[i].key, *(const unsigned *)f);
	}
	return n >= 0 && (size_t)n < cap ? n : -1;
}

/* One key=value into r; unknown keys are skipped.  false: a bad value. */
static bool read_field(struct gw_soc *r, const char *key, size_t klen, const char *val, uint64_t *seen)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		if (strlen(f->key) != klen || memcmp(f->key, key, klen) != 0)
			continue;
		char *end;
		double v = strtod(val, &end);
		if (end == val || *end || !isfinite(v))
			return false;
		double lo = f->type == F_DOUBLE ? f->lo : 0, hi = f->type == F_DOUBLE ? f->hi : f->type == F_BOOL ? 1 : f->hi;
		if (v < lo || v > hi || (f->type != F_DOUBLE && v != floor(v)))
			return false;
		void *p = (char *)r + f->off;
		if (f->type == F_DOUBLE)
			*(double *)p = v;
		else if (f->type == F_BOOL)
			*(bool *)p = v != 0;
		else
			*(unsigned *)p = (unsigned)v;
		seen[i / 64] |= (uint64_t)1 << (i % 64);
		return true;
	}
	return true;
}

/* The record into r and its time; false if it is not one. */
static bool parse(const char *text, struct gw_soc *r, double *saved)
{
	char buf[GW_SOC_RECORD_MAX], *save = NULL;
	uint64_t seen[2] = { 0, 0 };
	bool have_saved = false;
	if (strlen(text) >= sizeof(buf))
		return false;
	memcpy(buf, text, strlen(text) + 1);
	char *tok = strtok_r(buf, " \t\r\n", &save);
	if (!tok || strcmp(tok, RECORD_VERSION) != 0)
		return false;
	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return false;
		if (strncmp(tok, "saved=", 6) == 0) {
			char *end;
			*saved = strtod(eq + 1, &end);
			have_saved = end != eq + 1 && !*end && isfinite(*saved);
			if (!have_saved)
				return false;
		} else if (!read_field(r, tok, (size_t)(eq - tok), eq + 1, seen)) {
			return false;
		}
	}
	_Static_assert(NFIELDS <= 128, "seen is two 64-bit masks");
	for (size_t i = 0; i < NFIELDS; i++)
		if (!fields[i].optional && !(seen[i / 64] & (uint64_t)1 << (i % 64)))
			return false;
	return have_saved && r->ah <= r->cap_ah;
}

/* The fields of one kind from the record r into s. */
static void keep_fields(struct gw_soc *s, const struct gw_soc *r, enum keep keep)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].keep != keep)
			continue;
		enum ftype t = fields[i].type;
		size_t n = t == F_DOUBLE ? sizeof(double) : t == F_BOOL ? sizeof(bool) : sizeof(unsigned);
		memcpy((char *)s + fields[i].off, (const char *)r + fields[i].off, n);
	}
}

enum gw_soc_load gw_soc_load(struct gw_soc *s, const char *text, int64_t wall, double stale_after)
{
	struct gw_soc r;
	double saved = 0;
	memset(&r, 0, sizeof(r));
	if (!parse(text, &r, &saved))
		return GW_SOC_LOAD_BAD;
	double age = (double)wall - saved;
	memset(s, 0, sizeof(*s));
	keep_fields(s, &r, K_LEARNED);
	bool dropped = gw_soc_keep_samples(s) > 0; /* a sample its own rated capacity refuses: an edited file */
	gw_soc_ir_seed(s, r.ir.value);
	s->full_age = r.full_age + (age > 0 ? age : 0);
	if (age < 0 || age > GW_SOC_RESUME_MAX)
		return GW_SOC_LOAD_OLD;
	keep_fields(s, &r, K_COUNT);
	s->resumed = r.started;
	s->load_gap_s = age > 0 ? age : 0;
	if (age <= stale_after)
		keep_fields(s, &r, K_RUN);
	if (dropped) /* as gw_soc_keep_samples says: no light-load sample of a run to replace */
		s->run_full.light = s->run_empty.light = false;
	return GW_SOC_LOAD_RESUMED;
}
