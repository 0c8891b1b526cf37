/* SPDX-License-Identifier: MIT */
/* gateway/modbus/sunspec.c - the SunSpec register block of one unit (models
 * 1, 802, 803 and the end model).  See sunspec.h for the layout, the
 * sources and the sign convention.
 *
 * Every model is first filled with the "not implemented" value of each
 * point's type (from the point tables), then the points with data are
 * written over it.  The scale factors are constants of the unit, so that a
 * client may read them once: a pack's are below; the bank's capacities,
 * currents and powers are ceil(log10(packs)) decades coarser, so that the
 * bank's sums fit whenever each pack's values fit. */
#include "sunspec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SS_TABLE_(m, name, size, type, sf) { #name, SS##m##_##name, size, SS_T_##type, sf },
static const struct ss_point ss_model1[] = { SS_1_POINTS(SS_TABLE_) };
static const struct ss_point ss_model802[] = { SS_802_POINTS(SS_TABLE_) };
static const struct ss_point ss_model803[] = { SS_803_POINTS(SS_TABLE_) };
static const struct ss_point ss_model803s[] = { SS_803S_POINTS(SS_TABLE_) };
#undef SS_TABLE_

#define SS_NI16 0xFFFFu            /* uint16, enum16 */
#define SS_NI_S16 0x8000u          /* int16, sunssf */
#define SS_NI32 0xFFFFFFFFu        /* uint32, bitfield32 */

/* Scale factors of a pack (the bank: + ss_bank_shift() where marked). */
enum {
	SF_AHRTG = -1,     /* 0.1 Ah (bank) */
	SF_WHRTG = 0,      /* Wh (bank) */
	SF_WMAX = 0,       /* W (bank) */
	SF_SOC = -1,       /* 0.1 % */
	SF_SOH = 0,        /* % */
	SF_V = -2,         /* 0.01 V */
	SF_CELLV = -3,     /* mV */
	SF_A = -1,         /* 0.1 A (bank, 802 only) */
	SF_AMAX = -1,      /* 0.1 A (bank) */
	SF_W = 0,          /* W (bank) */
	SF_MODTMP = -1,    /* 0.1 degC */
};

/* Below this current (A) a unit is neither charging nor discharging: the
 * resolution of a pack's A. */
#define SS_IDLE_A 0.1

/* 802 enumerations (model_802.json, symbols of ChaSt, LocRemCtl, Typ,
 * State, ReqInvState). */
enum { CHAST_OFF = 1, CHAST_EMPTY = 2, CHAST_DISCHARGING = 3, CHAST_CHARGING = 4, CHAST_FULL = 5,
       CHAST_HOLDING = 6 };
enum { LOCREMCTL_LOCAL = 1, TYP_LITHIUM_ION = 4, REQINV_NO_REQUEST = 0 };
enum { STATE_DISCONNECTED = 1, STATE_CONNECTED = 3, STATE_FAULT = 99 };
/* Evt1 / StrEvt1 bits (model_802.json and model_803.json: the same
 * positions for every bit used here). */
enum {
	EVT_COMMUNICATION_ERROR = 0,
	EVT_OVER_TEMP_ALARM = 1,
	EVT_OVER_TEMP_WARNING = 2,
	EVT_UNDER_TEMP_ALARM = 3,
	EVT_UNDER_TEMP_WARNING = 4,
	EVT_OVER_CHARGE_CURRENT_ALARM = 5,
	EVT_OVER_CHARGE_CURRENT_WARNING = 6,
	EVT_OVER_DISCHARGE_CURRENT_ALARM = 7,
	EVT_OVER_DISCHARGE_CURRENT_WARNING = 8,
	EVT_OVER_VOLT_ALARM = 9,
	EVT_OVER_VOLT_WARNING = 10,
	EVT_UNDER_VOLT_ALARM = 11,
	EVT_UNDER_VOLT_WARNING = 12,
	EVT_UNDER_SOC_MIN_ALARM = 13,
	EVT_UNDER_SOC_MIN_WARNING = 14,
	EVT_OVER_SOC_MAX_ALARM = 15,
	EVT_OVER_SOC_MAX_WARNING = 16,
	EVT_VOLTAGE_IMBALANCE_WARNING = 17,
	EVT_TEMPERATURE_IMBALANCE_ALARM = 18,
	EVT_TEMPERATURE_IMBALANCE_WARNING = 19,
	EVT_CONTACTOR_ERROR = 20,
	EVT_OTHER_ALARM = 25,
	EVT_OTHER_WARNING = 26,
};
/* 802's SetOp CONNECT and SetInvState INVERTER_STARTED: what a battery
 * that nobody can switch (writes are refused) reports. */
enum { SETOP_CONNECT = 1, SETINVSTATE_STARTED = 3 };
/* StrSt bits (model_803.json): */
enum { STRST_ENABLED = 1u << 0, STRST_CONTACTOR = 1u << 1 };

/* Which Evt1 bits each normalised alarm sets, as a protection (alarm) and
 * as a warning.  The cell voltage difference has a warning only in 802;
 * MOSFETs are the pack's contactor; the BMS's own "protection" flag is an
 * alarm. */
static const struct { uint32_t alarm; uint8_t alarm_bit, warn_bit; } ss_evt_map[] = {
	{ BMS_AL_CELL_OV, EVT_OVER_VOLT_ALARM, EVT_OVER_VOLT_WARNING },
	{ BMS_AL_PACK_OV, EVT_OVER_VOLT_ALARM, EVT_OVER_VOLT_WARNING },
	{ BMS_AL_CELL_UV, EVT_UNDER_VOLT_ALARM, EVT_UNDER_VOLT_WARNING },
	{ BMS_AL_PACK_UV, EVT_UNDER_VOLT_ALARM, EVT_UNDER_VOLT_WARNING },
	{ BMS_AL_CHG_OT, EVT_OVER_TEMP_ALARM, EVT_OVER_TEMP_WARNING },
	{ BMS_AL_DSG_OT, EVT_OVER_TEMP_ALARM, EVT_OVER_TEMP_WARNING },
	{ BMS_AL_MOS_OT, EVT_OVER_TEMP_ALARM, EVT_OVER_TEMP_WARNING },
	{ BMS_AL_CHG_UT, EVT_UNDER_TEMP_ALARM, EVT_UNDER_TEMP_WARNING },
	{ BMS_AL_DSG_UT, EVT_UNDER_TEMP_ALARM, EVT_UNDER_TEMP_WARNING },
	{ BMS_AL_CHG_OC, EVT_OVER_CHARGE_CURRENT_ALARM, EVT_OVER_CHARGE_CURRENT_WARNING },
	{ BMS_AL_DSG_OC, EVT_OVER_DISCHARGE_CURRENT_ALARM, EVT_OVER_DISCHARGE_CURRENT_WARNING },
	{ BMS_AL_SHORT, EVT_OVER_DISCHARGE_CURRENT_ALARM, EVT_OVER_DISCHARGE_CURRENT_WARNING },
	{ BMS_AL_CELL_DIFF, EVT_VOLTAGE_IMBALANCE_WARNING, EVT_VOLTAGE_IMBALANCE_WARNING },
	{ BMS_AL_TEMP_DIFF, EVT_TEMPERATURE_IMBALANCE_ALARM, EVT_TEMPERATURE_IMBALANCE_WARNING },
	{ BMS_AL_SOC_LOW, EVT_UNDER_SOC_MIN_ALARM, EVT_UNDER_SOC_MIN_WARNING },
	{ BMS_AL_SOC_HIGH, EVT_OVER_SOC_MAX_ALARM, EVT_OVER_SOC_MAX_WARNING },
	{ BMS_AL_COMM, EVT_COMMUNICATION_ERROR, EVT_COMMUNICATION_ERROR },
	{ BMS_AL_MOS_FAULT, EVT_CONTACTOR_ERROR, EVT_CONTACTOR_ERROR },
	{ BMS_AL_SENSOR, EVT_OTHER_ALARM, EVT_OTHER_WARNING },
	{ BMS_AL_HW_FAULT, EVT_OTHER_ALARM, EVT_OTHER_WARNING },
	{ BMS_AL_PROTECTION, EVT_OTHER_ALARM, EVT_OTHER_ALARM },
	{ BMS_AL_OTHER, EVT_OTHER_ALARM, EVT_OTHER_WARNING },
};

/* Alarms that make State FAULT. */
#define SS_FAULTS (BMS_AL_SHORT | BMS_AL_MOS_FAULT | BMS_AL_HW_FAULT)

const struct ss_point *ss_points(enum ss_table t, size_t *n)
{
	switch (t) {
	case SS_TABLE_1: *n = sizeof(ss_model1) / sizeof(ss_model1[0]); return ss_model1;
	case SS_TABLE_802: *n = sizeof(ss_model802) / sizeof(ss_model802[0]); return ss_model802;
	case SS_TABLE_803: *n = sizeof(ss_model803) / sizeof(ss_model803[0]); return ss_model803;
	case SS_TABLE_803_STRING: *n = sizeof(ss_model803s) / sizeof(ss_model803s[0]); return ss_model803s;
	default: *n = 0; return NULL;
	}
}

uint32_t ss_evt1(uint32_t protect, uint32_t warn)
{
	uint32_t e = 0;
	for (size_t i = 0; i < sizeof(ss_evt_map) / sizeof(ss_evt_map[0]); i++) {
		if (protect & ss_evt_map[i].alarm)
			e |= 1u << ss_evt_map[i].alarm_bit;
		else if (warn & ss_evt_map[i].alarm)
			e |= 1u << ss_evt_map[i].warn_bit;
	}
	return e;
}

int ss_block_len(bool bank, int npacks)
{
	if (!bank)
		return SS_AT_803 + 2;
	if (npacks < 0 || npacks > SS_MAX_PACKS)
		return -1;
	return SS_AT_803 + SS803_SIZE + SS803S_SIZE * npacks + 2;
}

/* Does [off, off + count) meet [a, b]? */
static bool ss_meets(unsigned off, unsigned count, unsigned a, unsigned b)
{
	return count > 0 && off <= b && (unsigned long)off + count > a;
}

bool ss_range_has_data(bool bank, int npacks, unsigned off, unsigned count)
{
	if (ss_meets(off, count, SS_AT_802 + SS802_AHRtg, SS_AT_802 + SS802_SetInvState))
		return true;
	if (!bank || npacks < 0 || npacks > SS_MAX_PACKS)
		return false;
	if (ss_meets(off, count, SS_AT_803 + SS803_NStrCon, SS_AT_803 + SS803_NCellBal))
		return true;
	return npacks > 0 && ss_meets(off, count, SS_AT_803 + SS803_SIZE,
				      SS_AT_803 + SS803_SIZE + SS803S_SIZE * (unsigned)npacks - 1);
}

/* ---- encoding of one value */

static void ss_put32(uint16_t *r, uint32_t v)
{
	r[0] = (uint16_t)(v >> 16);
	r[1] = (uint16_t)v;
}

/* v in units of 10^sf, rounded, clamped below the not-implemented value. */
static uint16_t ss_u16(double v, int sf)
{
	if (!isfinite(v))
		return SS_NI16;
	double x = round(v * pow(10.0, -sf));
	if (x < 0)
		return 0;
	return x > 65534.0 ? 65534 : (uint16_t)x;
}

static uint16_t ss_s16(double v, int sf)
{
	if (!isfinite(v))
		return SS_NI_S16;
	double x = round(v * pow(10.0, -sf));
	if (x < -32767.0)
		x = -32767.0;
	if (x > 32767.0)
		x = 32767.0;
	return (uint16_t)(int16_t)x;
}

static uint16_t ss_sf(int sf)
{
	return (uint16_t)(int16_t)sf;
}

/* A string point of nregs registers: ASCII, high byte first, NUL padded;
 * other bytes become '?'. */
static void ss_put_str(uint16_t *r, int nregs, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	for (int i = 0; i < 2 * nregs; i++) {
		uint8_t c = (size_t)i < n ? (uint8_t)s[i] : 0;
		if ((size_t)i < n && (c < 0x20 || c > 0x7E))
			c = '?';
		if (i % 2 == 0)
			r[i / 2] = (uint16_t)(c << 8);
		else
			r[i / 2] |= c;
	}
}

/* Fill a model (or a string group) with the not-implemented values of its
 * points' types. */
static void ss_fill_ni(uint16_t *m, const struct ss_point *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint16_t *r = m + t[i].off;
		switch (t[i].type) {
		case SS_T_INT16:
		case SS_T_SUNSSF: r[0] = SS_NI_S16; break;
		case SS_T_UINT32:
		case SS_T_BITFIELD32: ss_put32(r, SS_NI32); break;
		case SS_T_STRING:
		case SS_T_PAD: memset(r, 0, sizeof(*r) * t[i].size); break;
		default: r[0] = SS_NI16; break;
		}
	}
}

/* ---- what the unit's data say */

static bool ss_has(const struct bms_snapshot *s, uint32_t what)
{
	return s && (s->present & what) == what;
}

static bool ss_has_cells(const struct bms_snapshot *s)
{
	return ss_has(s, BMS_HAS_CELLS) && s->ncells > 0;
}

/* Temperatures of one pack's sensors that read (the module's; a NaN slot
 * is absent): false if none. */
static bool ss_temps(const struct bms_snapshot *s, double *max, double *min, double *avg)
{
	if (!ss_has(s, BMS_HAS_TEMPS) || s->ntemps == 0)
		return false;
	unsigned n = s->ntemps <= BMS_MAX_TEMPS ? s->ntemps : BMS_MAX_TEMPS, used = 0;
	double sum = 0;
	*max = -INFINITY;
	*min = INFINITY;
	for (unsigned i = 0; i < n; i++) {
		double t = s->temp_c[i];
		if (isnan(t))
			continue;
		*max = t > *max ? t : *max;
		*min = t < *min ? t : *min;
		sum += t;
		used++;
	}
	if (!used)
		return false;
	*avg = sum / used;
	return true;
}

/* One string of 803 as its points need it: its cells and temperatures
 * with the module they are in (a pack: its own, module 1; a string of
 * packs in series: its members', each member a module). */
struct ss_view {
	bool cells;
	uint16_t max_mv, min_mv, avg_mv, max_mod, min_mod;
	unsigned ncells;                 /* cells in series, 0 = unknown */
	bool temps;
	double tmax, tmin, tavg;
	uint16_t tmax_mod, tmin_mod;
};

static void ss_view(const struct ss_pack *p, struct ss_view *v)
{
	const struct bms_snapshot *s = p->snap;
	const struct ss_series *r = p->series;
	memset(v, 0, sizeof(*v));
	if (r) {
		v->cells = r->have_cells;
		v->max_mv = r->cell_max_mv, v->max_mod = r->cell_max_mod;
		v->min_mv = r->cell_min_mv, v->min_mod = r->cell_min_mod;
		v->avg_mv = r->cell_avg_mv;
		v->ncells = r->ncells;
		double hi, lo; /* the mean: of the members' means, as the bank's of its modules' */
		v->temps = r->have_temps && ss_temps(s, &hi, &lo, &v->tavg);
		v->tmax = r->tmax_c, v->tmax_mod = r->tmax_mod;
		v->tmin = r->tmin_c, v->tmin_mod = r->tmin_mod;
		return;
	}
	if (ss_has_cells(s)) {
		struct bms_cell_stats st;
		bms_cell_stats(s, &st);
		v->cells = true;
		v->max_mv = st.max_mv, v->min_mv = st.min_mv, v->avg_mv = st.avg_mv;
		v->max_mod = v->min_mod = 1;
		v->ncells = s->ncells;
	}
	v->temps = ss_temps(s, &v->tmax, &v->tmin, &v->tavg);
	v->tmax_mod = v->tmin_mod = 1;
}


/* Extremes of one quantity across the fresh strings (or of one string):
 * the mean is weighted, by each string's cells for the cell voltages. */
struct ss_ext {
	int n;
	double max, min, sum, w;
	uint16_t max_str, min_str, max_mod, min_mod;
};

/* Add string k's highest, lowest and mean value (the highest in module
 * hi_mod, the lowest in lo_mod), its mean weighing w. */
static void ss_ext_add(struct ss_ext *e, double hi, double lo, double mean, double w, int k, uint16_t hi_mod,
		       uint16_t lo_mod)
{
	if (!e->n || hi > e->max) {
		e->max = hi;
		e->max_str = (uint16_t)(k + 1);
		e->max_mod = hi_mod;
	}
	if (!e->n || lo < e->min) {
		e->min = lo;
		e->min_str = (uint16_t)(k + 1);
		e->min_mod = lo_mod;
	}
	e->sum += mean * w;
	e->w += w;
	e->n++;
}

/* Where a model keeps one set of extremes: the highest, its string and
 * its module (1 for a pack, the member of a string of packs in series;
 * -1 where the model has none), the lowest likewise, the mean; their
 * scale factor and signedness. */
struct ss_ext_at {
	int max, max_str, max_mod, min, min_str, min_mod, avg;
	int sf;
	bool is_signed;
};

static uint16_t ss_ext_val(double v, const struct ss_ext_at *at)
{
	return at->is_signed ? ss_s16(v, at->sf) : ss_u16(v, at->sf);
}

/* A set of extremes into its model, if any string gave one. */
static void ss_ext_put(uint16_t *m, const struct ss_ext *e, const struct ss_ext_at *at)
{
	if (!e->n)
		return;
	m[at->max] = ss_ext_val(e->max, at);
	m[at->min] = ss_ext_val(e->min, at);
	m[at->avg] = ss_ext_val(e->sum / e->w, at);
	if (at->max_str >= 0)
		m[at->max_str] = e->max_str;
	if (at->min_str >= 0)
		m[at->min_str] = e->min_str;
	if (at->max_mod >= 0)
		m[at->max_mod] = e->max_mod;
	if (at->min_mod >= 0)
		m[at->min_mod] = e->min_mod;
}

/* Cell voltages over the unit: a pack's own, or across the bank's fresh
 * strings with their positions (string = bank position; module 1 for a
 * pack, the member of a string of packs in series), the mean over all
 * their cells. */
static void ss_unit_cells(const struct ss_unit *u, struct ss_ext *c)
{
	memset(c, 0, sizeof(*c));
	int n = u->bank ? u->npacks : 1;
	for (int k = 0; k < n; k++) {
		struct ss_view v;
		ss_view(u->bank ? &u->packs[k] : &(struct ss_pack){ .snap = u->snap }, &v);
		if ((u->bank && !u->packs[k].fresh) || !v.cells)
			continue;
		ss_ext_add(c, v.max_mv, v.min_mv, v.avg_mv, v.ncells ? v.ncells : 1, k, v.max_mod, v.min_mod);
	}
}

/* Nominal voltage of the unit (V), 0 if unknown: cells x cell_nominal_v;
 * the bank's, the mean of its fresh strings' (all in parallel; a pack is
 * a string of one). */
static double ss_nominal_v(const struct ss_unit *u)
{
	if (!(u->cell_nominal_v > 0))
		return 0;
	if (!u->bank)
		return ss_has_cells(u->snap) ? u->snap->ncells * (double)u->cell_nominal_v : 0;
	double sum = 0;
	int n = 0;
	for (int k = 0; k < u->npacks; k++) {
		struct ss_view v;
		ss_view(&u->packs[k], &v);
		if (u->packs[k].fresh && v.ncells) {
			sum += v.ncells * (double)u->cell_nominal_v;
			n++;
		}
	}
	return n ? sum / n : 0;
}

/* Connected: the MOSFETs let current through one way at least (unknown
 * MOSFETs count as connected). */
static bool ss_connected(const struct bms_snapshot *s)
{
	return !ss_has(s, BMS_HAS_MOSFETS) || s->chg_mos || s->dsg_mos;
}

static uint16_t ss_chast(const struct bms_snapshot *s)
{
	if (!s || !s->present)
		return SS_NI16;
	if (!ss_connected(s))
		return CHAST_OFF;
	if (ss_has(s, BMS_HAS_CURRENT) && s->current > SS_IDLE_A)
		return CHAST_CHARGING;
	if (ss_has(s, BMS_HAS_CURRENT) && s->current < -SS_IDLE_A)
		return CHAST_DISCHARGING;
	if (ss_has(s, BMS_HAS_SOC) && s->soc >= 100.0f)
		return CHAST_FULL;
	if (ss_has(s, BMS_HAS_SOC) && s->soc <= 0.0f)
		return CHAST_EMPTY;
	return ss_has(s, BMS_HAS_CURRENT) ? CHAST_HOLDING : SS_NI16;
}

static uint16_t ss_state(const struct bms_snapshot *s)
{
	if (!s || !s->present)
		return SS_NI16;
	if (ss_has(s, BMS_HAS_ALARMS) && (s->alarms & SS_FAULTS))
		return STATE_FAULT;
	return ss_connected(s) ? STATE_CONNECTED : STATE_DISCONNECTED;
}

/* NaN (not implemented) unless the snapshot has `what`. */
static double ss_val(const struct bms_snapshot *s, uint32_t what, double v)
{
	return ss_has(s, what) ? v : NAN;
}

/* ceil(log10(npacks)): how many decades coarser the bank's sums are. */
static int ss_bank_shift(const struct ss_unit *u)
{
	int k = 0;
	for (long p = 1; u->bank && p < u->npacks; p *= 10)
		k++;
	return k;
}

/* ---- the models */

static void ss_model_1(const struct ss_unit *u, uint16_t *m)
{
	ss_fill_ni(m, ss_model1, sizeof(ss_model1) / sizeof(ss_model1[0]));
	m[SS1_ID] = 1;
	m[SS1_L] = SS_L_1;
	ss_put_str(m + SS1_Mn, 16, "bmsgw");
	ss_put_str(m + SS1_Md, 16, u->bank ? "bank" : u->protocol);
	ss_put_str(m + SS1_Opt, 8, u->name);
	ss_put_str(m + SS1_Vr, 8, u->version);
	/* SN: [sunspec] serial and the unit id ("A1234-100"), else the
	 * unit's name, its id and the machine's tag ("rack1-1-3d1219c7"):
	 * stable across restarts and host names, unique on a gateway and
	 * between gateways; the stem is cut so that the rest stays. */
	bool own = u->serial && u->serial[0];
	bool mach = !own && u->machine && u->machine[0];
	char tail[32], sn[2 * 16 + 1];
	int tn = snprintf(tail, sizeof(tail), "-%u%s%.8s", (unsigned)u->unit_id, mach ? "-" : "",
			  mach ? u->machine : "");
	const char *stem = own ? u->serial : u->name ? u->name : "";
	snprintf(sn, sizeof(sn), "%.*s%s", (int)sizeof(sn) - 1 - tn, stem, tail);
	ss_put_str(m + SS1_SN, 16, sn);
	m[SS1_DA] = u->unit_id;
	m[SS1_Pad] = 0;
}

/* 802's ratings, limits and scale factors. */
static void ss_802_ratings(const struct ss_unit *u, uint16_t *m)
{
	const struct bms_snapshot *s = u->snap;
	int k = ss_bank_shift(u);
	double vnom = ss_nominal_v(u);
	double ah = ss_val(s, BMS_HAS_FULL, s ? s->full_ah : 0);
	m[SS802_AHRtg] = ss_u16(ah, SF_AHRTG + k);
	m[SS802_WHRtg] = vnom > 0 ? ss_u16(ah * vnom, SF_WHRTG + k) : SS_NI16;
	if (vnom > 0 && u->max_charge_a > 0)
		m[SS802_WChaRteMax] = ss_u16(u->max_charge_a * vnom, SF_WMAX + k);
	if (vnom > 0 && u->max_discharge_a > 0)
		m[SS802_WDisChaRteMax] = ss_u16(u->max_discharge_a * vnom, SF_WMAX + k);
	if (u->limits) {
		/* while stale: no voltages of the past, the currents fail-safe 0 */
		m[SS802_VMax] = u->fresh ? ss_u16(u->cvl_v, SF_V) : SS_NI16;
		m[SS802_VMin] = u->fresh ? ss_u16(u->dvl_v, SF_V) : SS_NI16;
		m[SS802_AChaMax] = u->fresh ? ss_u16(u->ccl_a, SF_AMAX + k) : 0;
		m[SS802_ADisChaMax] = u->fresh ? ss_u16(u->dcl_a, SF_AMAX + k) : 0;
	}
	m[SS802_AHRtg_SF] = ss_sf(SF_AHRTG + k);
	m[SS802_WHRtg_SF] = ss_sf(SF_WHRTG + k);
	m[SS802_WChaDisChaMax_SF] = ss_sf(SF_WMAX + k);
	m[SS802_SoC_SF] = ss_sf(SF_SOC);
	m[SS802_SoH_SF] = ss_sf(SF_SOH);
	m[SS802_V_SF] = ss_sf(SF_V);
	m[SS802_CellV_SF] = ss_sf(SF_CELLV);
	m[SS802_A_SF] = ss_sf(SF_A + k);
	m[SS802_AMax_SF] = ss_sf(SF_AMAX + k);
	m[SS802_W_SF] = ss_sf(SF_W + k);
}

/* 802's measurements, state and events. */
static void ss_802_data(const struct ss_unit *u, uint16_t *m)
{
	const struct bms_snapshot *s = u->snap;
	int k = ss_bank_shift(u);
	m[SS802_SoC] = ss_u16(ss_val(s, BMS_HAS_SOC, s ? s->soc : 0), SF_SOC);
	m[SS802_SoH] = ss_u16(ss_val(s, BMS_HAS_SOH, s ? s->soh : 0), SF_SOH);
	if (ss_has(s, BMS_HAS_CYCLES))
		ss_put32(m + SS802_NCyc, s->cycles < SS_NI32 ? s->cycles : SS_NI32 - 1);
	m[SS802_ChaSt] = ss_chast(s);
	m[SS802_LocRemCtl] = LOCREMCTL_LOCAL; /* the BMS decides; writes are refused */
	m[SS802_AlmRst] = 0;
	m[SS802_Typ] = TYP_LITHIUM_ION;
	m[SS802_State] = u->fresh ? ss_state(s) : STATE_DISCONNECTED;
	uint32_t evt = ss_has(s, BMS_HAS_ALARMS) ? ss_evt1(u->protect, u->warn) : 0;
	if (!u->fresh || u->comm_warning)
		evt |= 1u << EVT_COMMUNICATION_ERROR;
	ss_put32(m + SS802_Evt1, evt);
	ss_put32(m + SS802_Evt2, 0);
	/* vendor events: bmsgw's own normalised alarm bits (register-map.md) */
	ss_put32(m + SS802_EvtVnd1, ss_has(s, BMS_HAS_ALARMS) ? s->alarms : SS_NI32);
	ss_put32(m + SS802_EvtVnd2, 0);
	m[SS802_V] = ss_u16(ss_val(s, BMS_HAS_VOLTAGE, s ? s->voltage : 0), SF_V);
	m[SS802_A] = ss_s16(ss_val(s, BMS_HAS_CURRENT, s ? -(double)s->current : 0), SF_A + k);
	m[SS802_W] = ss_s16(ss_val(s, BMS_HAS_POWER, s ? -(double)s->power : 0), SF_W + k);
	m[SS802_ReqInvState] = REQINV_NO_REQUEST;
	m[SS802_SetOp] = SETOP_CONNECT;
	m[SS802_SetInvState] = SETINVSTATE_STARTED;
	/* the cells in mV, the unit of CellV_SF's -3 */
	static const struct ss_ext_at cells_at = { SS802_CellVMax,    SS802_CellVMaxStr, SS802_CellVMaxMod,
						   SS802_CellVMin,    SS802_CellVMinStr, SS802_CellVMinMod,
						   SS802_CellVAvg,    0,		 false };
	struct ss_ext c;
	ss_unit_cells(u, &c);
	ss_ext_put(m, &c, &cells_at);
}

static void ss_model_802(const struct ss_unit *u, uint16_t *m)
{
	ss_fill_ni(m, ss_model802, sizeof(ss_model802) / sizeof(ss_model802[0]));
	m[SS802_ID] = 802;
	m[SS802_L] = SS_L_802;
	ss_802_ratings(u, m);
	ss_802_data(u, m);
}

/* One string of 803: pack k of the bank, or its string k of packs in series. */
static void ss_803_string(const struct ss_pack *p, uint16_t *g)
{
	const struct bms_snapshot *s = p->snap;
	ss_fill_ni(g, ss_model803s, sizeof(ss_model803s) / sizeof(ss_model803s[0]));
	g[SS803S_StrNMod] = p->series ? p->series->nmod : 1; /* a pack is one module */
	ss_put32(g + SS803S_StrEvt2, 0);
	ss_put32(g + SS803S_StrEvtVnd2, 0);
	g[SS803S_Pad1] = g[SS803S_Pad2] = 0;
	if (!p->fresh || !s) {
		/* never an old value as current: only the lost link */
		ss_put32(g + SS803S_StrEvt1, 1u << EVT_COMMUNICATION_ERROR);
		return;
	}
	bool con = ss_connected(s);
	ss_put32(g + SS803S_StrSt, STRST_ENABLED | (con ? STRST_CONTACTOR : 0));
	if (con) {
		g[SS803S_StrConFail] = 0; /* NO_FAILURE */
		g[SS803S_StrDisRsn] = 0;  /* NONE */
	}
	g[SS803S_StrSoC] = ss_u16(ss_val(s, BMS_HAS_SOC, s->soc), SF_SOC);
	g[SS803S_StrSoH] = ss_u16(ss_val(s, BMS_HAS_SOH, s->soh), SF_SOH);
	g[SS803S_StrA] = ss_s16(ss_val(s, BMS_HAS_CURRENT, -(double)s->current), SF_A);
	/* one string's extremes: by module, none by string */
	static const struct ss_ext_at cells_at = { SS803S_StrCellVMax, -1, SS803S_StrCellVMaxMod,
						   SS803S_StrCellVMin, -1, SS803S_StrCellVMinMod,
						   SS803S_StrCellVAvg, 0,  false };
	static const struct ss_ext_at temps_at = { SS803S_StrModTmpMax, -1,	    SS803S_StrModTmpMaxMod,
						   SS803S_StrModTmpMin, -1,	    SS803S_StrModTmpMinMod,
						   SS803S_StrModTmpAvg, SF_MODTMP, true };
	struct ss_view v;
	ss_view(p, &v);
	struct ss_ext c = { 0 }, t = { 0 };
	if (v.cells)
		ss_ext_add(&c, v.max_mv, v.min_mv, v.avg_mv, 1, 0, v.max_mod, v.min_mod);
	if (v.temps)
		ss_ext_add(&t, v.tmax, v.tmin, v.tavg, 1, 0, v.tmax_mod, v.tmin_mod);
	ss_ext_put(g, &c, &cells_at);
	ss_ext_put(g, &t, &temps_at);
	/* contactor 0 = the charge MOSFET, 1 = the discharge MOSFET, closed = on
	 * (a string's: on only if on in every member) */
	if (ss_has(s, BMS_HAS_MOSFETS))
		ss_put32(g + SS803S_StrConSt, (s->chg_mos ? 1u : 0) | (s->dsg_mos ? 2u : 0));
	bool al = ss_has(s, BMS_HAS_ALARMS);
	ss_put32(g + SS803S_StrEvt1, al ? ss_evt1(p->protect, p->warn) : 0);
	ss_put32(g + SS803S_StrEvtVnd1, al ? s->alarms : SS_NI32);
}

/* 803's bank-wide points over the fresh strings (packs). */
static void ss_803_bank(const struct ss_unit *u, uint16_t *m)
{
	struct ss_ext t = { 0 }, v = { 0 }, a = { 0 };
	unsigned con = 0, bal = 0;
	bool have_bal = false;
	for (int k = 0; k < u->npacks; k++) {
		const struct bms_snapshot *s = u->packs[k].snap;
		if (!u->packs[k].fresh || !s)
			continue;
		con += ss_connected(s);
		/* the bank's mean temperature is the mean of the strings' means */
		struct ss_view w;
		ss_view(&u->packs[k], &w);
		if (w.temps)
			ss_ext_add(&t, w.tmax, w.tmin, w.tavg, 1, k, w.tmax_mod, w.tmin_mod);
		if (ss_has(s, BMS_HAS_VOLTAGE))
			ss_ext_add(&v, s->voltage, s->voltage, s->voltage, 1, k, 1, 1);
		if (ss_has(s, BMS_HAS_CURRENT))
			ss_ext_add(&a, -(double)s->current, -(double)s->current, -(double)s->current, 1, k, 1, 1);
		if (ss_has(s, BMS_HAS_BALANCE)) {
			uint32_t b = s->balance;
			if (s->ncells < 32)
				b &= (1u << s->ncells) - 1;
			for (; b; b &= b - 1)
				bal++;
			have_bal = true;
		}
	}
	m[SS803_NStrCon] = (uint16_t)con;
	static const struct ss_ext_at t_at = { SS803_ModTmpMax, SS803_ModTmpMaxStr, SS803_ModTmpMaxMod,
					       SS803_ModTmpMin, SS803_ModTmpMinStr, SS803_ModTmpMinMod,
					       SS803_ModTmpAvg, SF_MODTMP, true };
	static const struct ss_ext_at v_at = { SS803_StrVMax, SS803_StrVMaxStr, -1, SS803_StrVMin,
					       SS803_StrVMinStr, -1, SS803_StrVAvg, SF_V, false };
	static const struct ss_ext_at a_at = { SS803_StrAMax, SS803_StrAMaxStr, -1, SS803_StrAMin,
					       SS803_StrAMinStr, -1, SS803_StrAAvg, SF_A, true };
	ss_ext_put(m, &t, &t_at);
	ss_ext_put(m, &v, &v_at);
	ss_ext_put(m, &a, &a_at);
	if (have_bal)
		m[SS803_NCellBal] = (uint16_t)bal;
}

static void ss_model_803(const struct ss_unit *u, uint16_t *m)
{
	ss_fill_ni(m, ss_model803, sizeof(ss_model803) / sizeof(ss_model803[0]));
	m[SS803_ID] = 803;
	m[SS803_L] = (uint16_t)(SS_L_803 + SS803S_SIZE * u->npacks);
	m[SS803_NStr] = (uint16_t)u->npacks;
	ss_803_bank(u, m);
	m[SS803_CellV_SF] = ss_sf(SF_CELLV);
	m[SS803_ModTmp_SF] = ss_sf(SF_MODTMP);
	m[SS803_A_SF] = ss_sf(SF_A);
	m[SS803_SoH_SF] = ss_sf(SF_SOH);
	m[SS803_SoC_SF] = ss_sf(SF_SOC);
	m[SS803_V_SF] = ss_sf(SF_V);
	for (int k = 0; k < u->npacks; k++)
		ss_803_string(&u->packs[k], m + SS803_SIZE + SS803S_SIZE * k);
}

int ss_build(const struct ss_unit *u, uint16_t *regs, size_t cap)
{
	int len = ss_block_len(u->bank, u->npacks);
	if (len < 0 || (size_t)len > cap || (u->bank && u->npacks > 0 && !u->packs))
		return -1;
	/* never an old value as current: a unit that is not fresh has no data */
	struct ss_unit now = *u;
	if (!now.fresh)
		now.snap = NULL;
	u = &now;
	regs[0] = 0x5375; /* "SunS" */
	regs[1] = 0x6E53;
	ss_model_1(u, regs + SS_AT_1);
	ss_model_802(u, regs + SS_AT_802);
	int end = SS_AT_803;
	if (u->bank) {
		ss_model_803(u, regs + SS_AT_803);
		end += SS803_SIZE + SS803S_SIZE * u->npacks;
	}
	regs[end] = SS_END_ID;
	regs[end + 1] = 0;
	return len;
}
