/* SPDX-License-Identifier: MIT */
/* gateway/engine/settings.c - one unit's runtime charge settings (see
 * settings.h): their ranges, the rule that a runtime value only tightens
 * the configuration, leases and ends, their registers and their text in
 * the state file.
 *
 * Ranges (design section 18): max_soc 1..100 (100 off), min_soc 0..99 (0
 * off), each hysteresis 1..50 %, force_charge 0/1, force_charge_until any
 * u32, the caps 0..the unit's maximum current (0.1 A) or 0xFFFF, cap_lease
 * 10..3600 s, full_charge_days 0..3650 ([limits]' range).  Loosening:
 * a cap above the configured maximum current.  A deadlock: a ceiling and
 * a floor that could forbid charging and discharging at once, the unit's
 * own or against a peer's (a pack's against its bank's, the bank's
 * against each of its packs').  The ceiling latches at max_soc and lets go
 * max_soc_hysteresis under it, the floor latches at min_soc and lets go
 * min_soc_hysteresis over it (pack_limits.c, gw_limits_settings_apply): when
 * max_soc - min_soc is under either hysteresis, a SOC that falls from the
 * ceiling reaches the floor before the ceiling lets go (max_soc 60, min_soc
 * 57, 5 % each: held at 57..60 with CCL = DCL = 0), or one that rises from
 * the floor reaches the ceiling first.  A pack's and its bank's SOCs move
 * together in a parallel bank, so the same rule holds between them.
 * force_charge and full_charge_days are requests, not limits: only their
 * range is checked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

static const char *const names[GW_SET_COUNT] = {
	"max_soc", "max_soc_hysteresis", "min_soc", "min_soc_hysteresis", "force_charge",
	"force_charge_until", "ccl_cap", "dcl_cap", "cap_lease", "full_charge_days",
};

const char *gw_settings_name(enum gw_set_id id)
{
	return (unsigned)id < GW_SET_COUNT ? names[id] : "?";
}

const char *gw_settings_origin_name(enum gw_set_origin o)
{
	return o == GW_ORIGIN_MODBUS ? "modbus" : o == GW_ORIGIN_MQTT ? "mqtt" : "config";
}

static uint32_t config_days(const struct gw_set_bounds *b)
{
	return b->full_charge_days > 0 ? (uint32_t)lround(b->full_charge_days) : 0;
}

/* The configured value of id. */
static uint32_t config_value(const struct gw_set_bounds *b, enum gw_set_id id)
{
	switch (id) {
	case GW_SET_MAX_SOC: return 100;
	case GW_SET_MAX_SOC_HYST:
	case GW_SET_MIN_SOC_HYST: return 5;
	case GW_SET_CCL_CAP:
	case GW_SET_DCL_CAP: return GW_SET_CAP_NONE;
	case GW_SET_CAP_LEASE: return 60;
	case GW_SET_FULL_DAYS: return config_days(b);
	default: return 0;
	}
}

void gw_settings_init(struct gw_settings *s, const struct gw_set_bounds *b)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < GW_SET_COUNT; i++)
		s->v[i] = config_value(b, (enum gw_set_id)i);
}

/* A cap in 0.1 A against a maximum in A (0 or less: unknown, no bound). */
static bool cap_ok(uint32_t v, double max_a)
{
	return v == GW_SET_CAP_NONE || !(max_a > 0) || v <= (uint32_t)floor(max_a * 10 + 1e-6);
}

/* One value's range. */
static bool in_range(enum gw_set_id id, uint32_t v)
{
	switch (id) {
	case GW_SET_MAX_SOC: return v >= 1 && v <= 100;
	case GW_SET_MIN_SOC: return v <= 99;
	case GW_SET_MAX_SOC_HYST:
	case GW_SET_MIN_SOC_HYST: return v >= 1 && v <= GW_SET_HYST_MAX;
	case GW_SET_FORCE: return v <= 1;
	case GW_SET_FORCE_UNTIL: return true;
	case GW_SET_CCL_CAP:
	case GW_SET_DCL_CAP: return v == GW_SET_CAP_NONE || v < GW_SET_CAP_NONE;
	case GW_SET_CAP_LEASE: return v >= GW_SET_LEASE_MIN && v <= GW_SET_LEASE_MAX;
	case GW_SET_FULL_DAYS: return v <= GW_SET_DAYS_MAX;
	}
	return false;
}

const char *gw_settings_refusal(enum gw_set_result r, bool pack)
{
	switch (r) {
	case GW_SET_OK: return "taken";
	case GW_SET_RANGE: return "out of range";
	case GW_SET_LOOSENS: return "beyond what the configuration allows";
	case GW_SET_DEADLOCK:
		return "max_soc must stay above an active min_soc by at least the larger hysteresis: charging "
		       "and discharging would both stop";
	case GW_SET_PEER:
		return pack ? "contradicts the bank's max_soc or min_soc (with the hysteresis): charging and "
			      "discharging would both stop"
			    : "contradicts a pack's max_soc or min_soc (with the hysteresis): charging and "
			      "discharging would both stop";
	}
	return "refused";
}

bool gw_settings_deadlock(uint32_t hi, uint32_t hi_hyst, uint32_t lo, uint32_t lo_hyst)
{
	uint32_t gap = hi_hyst > lo_hyst ? hi_hyst : lo_hyst;
	return hi < 100 && lo > 0 && (hi <= lo || hi - lo < gap);
}

/* a's ceiling against b's floor */
static bool window_deadlock(const uint32_t *a, const uint32_t *b)
{
	return gw_settings_deadlock(a[GW_SET_MAX_SOC], a[GW_SET_MAX_SOC_HYST], b[GW_SET_MIN_SOC],
				    b[GW_SET_MIN_SOC_HYST]);
}

/* The whole set v against the configuration and the peers. */
static enum gw_set_result check_all(const uint32_t *v, const struct gw_set_bounds *b)
{
	for (int i = 0; i < GW_SET_COUNT; i++)
		if (!in_range((enum gw_set_id)i, v[i]))
			return GW_SET_RANGE;
	if (!cap_ok(v[GW_SET_CCL_CAP], b->max_charge_a) || !cap_ok(v[GW_SET_DCL_CAP], b->max_discharge_a))
		return GW_SET_LOOSENS;
	if (window_deadlock(v, v))
		return GW_SET_DEADLOCK;
	for (int k = 0; k < b->npeers; k++)
		if (b->peers[k] && (window_deadlock(v, b->peers[k]->v) || window_deadlock(b->peers[k]->v, v)))
			return GW_SET_PEER;
	return GW_SET_OK;
}

enum gw_set_result gw_settings_write(struct gw_settings *s, const struct gw_set_bounds *b, int first, int n,
				     const uint32_t *v, enum gw_set_origin origin, double now, unsigned *changed)
{
	uint32_t nv[GW_SET_COUNT];
	if (changed)
		*changed = 0;
	if (first < 0 || n < 1 || first + n > GW_SET_COUNT)
		return GW_SET_RANGE;
	memcpy(nv, s->v, sizeof(nv));
	for (int i = 0; i < n; i++)
		nv[first + i] = v[i];
	enum gw_set_result r = check_all(nv, b);
	if (r != GW_SET_OK)
		return r;
	for (int i = first; i < first + n; i++) {
		if (changed && nv[i] != s->v[i])
			*changed |= 1u << i;
		s->v[i] = nv[i];
		s->origin[i] = origin;
	}
	/* a cap written (again) starts its lease, with the lease in force now */
	for (int k = 0; k < 2; k++) {
		int id = k ? GW_SET_DCL_CAP : GW_SET_CCL_CAP;
		if (id >= first && id < first + n)
			s->cap_until[k] = now + s->v[GW_SET_CAP_LEASE];
	}
	return GW_SET_OK;
}

/* id back to its configured value (origin config). */
static void fall_back(struct gw_settings *s, const struct gw_set_bounds *b, enum gw_set_id id)
{
	s->v[id] = config_value(b, id);
	s->origin[id] = GW_ORIGIN_CONFIG;
}

unsigned gw_settings_reconfigure(struct gw_settings *s, const struct gw_set_bounds *b)
{
	unsigned fell = 0;
	if (s->origin[GW_SET_FULL_DAYS] == GW_ORIGIN_CONFIG)
		s->v[GW_SET_FULL_DAYS] = config_days(b);
	if (!cap_ok(s->v[GW_SET_CCL_CAP], b->max_charge_a)) {
		fall_back(s, b, GW_SET_CCL_CAP);
		fell |= 1u << GW_SET_CCL_CAP;
	}
	if (!cap_ok(s->v[GW_SET_DCL_CAP], b->max_discharge_a)) {
		fall_back(s, b, GW_SET_DCL_CAP);
		fell |= 1u << GW_SET_DCL_CAP;
	}
	/* a bank that gained a pack (or a state file of an older bmsgw) may
	 * hold a window that deadlocks: the ceiling and the floor are let go */
	if (check_all(s->v, b) == GW_SET_DEADLOCK || check_all(s->v, b) == GW_SET_PEER) {
		for (int id = GW_SET_MAX_SOC; id <= GW_SET_MIN_SOC_HYST; id++)
			if (s->origin[id] != GW_ORIGIN_CONFIG) {
				fall_back(s, b, (enum gw_set_id)id);
				fell |= 1u << id;
			}
	}
	return fell;
}

unsigned gw_settings_expire(struct gw_settings *s, double now, int64_t wall, double soc, double force_end_soc)
{
	unsigned fell = 0;
	for (int k = 0; k < 2; k++) {
		enum gw_set_id id = k ? GW_SET_DCL_CAP : GW_SET_CCL_CAP;
		if (s->v[id] != GW_SET_CAP_NONE && now >= s->cap_until[k]) {
			s->v[id] = GW_SET_CAP_NONE;
			s->origin[id] = GW_ORIGIN_CONFIG;
			fell |= 1u << id;
		}
	}
	if (s->v[GW_SET_FORCE]) {
		uint32_t until = s->v[GW_SET_FORCE_UNTIL];
		bool end = until ? wall >= (int64_t)until : (!isnan(soc) && soc >= force_end_soc);
		if (end) {
			s->v[GW_SET_FORCE] = s->v[GW_SET_FORCE_UNTIL] = 0;
			s->origin[GW_SET_FORCE] = s->origin[GW_SET_FORCE_UNTIL] = GW_ORIGIN_CONFIG;
			fell |= 1u << GW_SET_FORCE;
		}
	}
	return fell;
}

double gw_settings_cap_a(const struct gw_settings *s, enum gw_set_id id)
{
	if ((id != GW_SET_CCL_CAP && id != GW_SET_DCL_CAP) || s->v[id] == GW_SET_CAP_NONE)
		return -1;
	return s->v[id] / 10.0;
}

double gw_settings_cap_left(const struct gw_settings *s, enum gw_set_id id, double now)
{
	if (gw_settings_cap_a(s, id) < 0)
		return 0;
	double left = s->cap_until[id == GW_SET_DCL_CAP] - now;
	return left > 0 ? left : 0;
}

void gw_settings_words(const struct gw_settings *s, uint16_t w[GW_SET_REGS])
{
	for (unsigned k = 0; k < GW_SET_REGS; k++) {
		bool first;
		enum gw_set_id id = gw_settings_reg_id(k, &first);
		uint32_t v = s->v[id];
		w[k] = id == GW_SET_FORCE_UNTIL ? (uint16_t)(first ? v >> 16 : v & 0xffff) : (uint16_t)(v > 0xffff ? 0xffff : v);
	}
}

enum gw_set_id gw_settings_reg_id(unsigned k, bool *first_word)
{
	*first_word = k != 6;
	if (k <= 4)
		return (enum gw_set_id)k;
	if (k <= 6)
		return GW_SET_FORCE_UNTIL;
	return (enum gw_set_id)(k - 1);
}

bool gw_settings_save(const struct gw_settings *s, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < GW_SET_COUNT; i++) {
		if (s->origin[i] == GW_ORIGIN_CONFIG || gw_settings_is_cap((enum gw_set_id)i))
			continue;
		int w = snprintf(out + len, cap - len, "%s%s=%lu/%s", len ? " " : "", names[i], (unsigned long)s->v[i],
				 gw_settings_origin_name(s->origin[i]));
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	return len > 0;
}

/* "name=value/origin": its id, value and origin; false for nonsense. */
static bool parse_item(const char *tok, int *id, uint32_t *v, enum gw_set_origin *o)
{
	char name[32], org[16];
	unsigned long val;
	if (sscanf(tok, "%31[a-z_]=%lu/%15[a-z]", name, &val, org) != 3 || val > UINT32_MAX)
		return false;
	*id = -1;
	for (int i = 0; i < GW_SET_COUNT; i++)
		if (strcmp(name, names[i]) == 0)
			*id = i;
	if (*id < 0 || gw_settings_is_cap((enum gw_set_id)*id))
		return false;
	if (strcmp(org, "modbus") == 0)
		*o = GW_ORIGIN_MODBUS;
	else if (strcmp(org, "mqtt") == 0)
		*o = GW_ORIGIN_MQTT;
	else
		return false;
	*v = (uint32_t)val;
	return true;
}

/* The saved items are taken together when the whole set passes (a saved
 * max_soc 60 with min_soc 57 and hysteresis 2 each passes only with its
 * hysteresis), else one by one in their order, as far as each passes. */
void gw_settings_load(struct gw_settings *s, const struct gw_set_bounds *b, const char *text)
{
	char buf[512], *save = NULL;
	struct gw_settings all = *s;
	int ids[64], n = 0;
	uint32_t vs[64];
	enum gw_set_origin os[64];
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *tok = strtok_r(buf, " \t\r\n", &save); tok && n < 64; tok = strtok_r(NULL, " \t\r\n", &save))
		if (parse_item(tok, &ids[n], &vs[n], &os[n])) {
			all.v[ids[n]] = vs[n];
			all.origin[ids[n]] = os[n];
			n++;
		}
	if (check_all(all.v, b) == GW_SET_OK) {
		memcpy(s->v, all.v, sizeof(s->v));
		memcpy(s->origin, all.origin, sizeof(s->origin));
		return;
	}
	for (int i = 0; i < n; i++)
		(void)gw_settings_write(s, b, ids[i], 1, &vs[i], os[i], 0, NULL);
}
