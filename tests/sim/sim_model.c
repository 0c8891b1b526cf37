/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_model.c - the battery model of sim_model.h.
 *
 * Cells.  The open-circuit voltage is a monotone cubic (Fritsch-Carlson)
 * through the published points of an LFP cell (Lithium Werks APR18650M1B)
 * or an NMC cell (Molicel INR21700-P42A), pseudo-OCV at C/32 from Sunil,
 * Pattipati and Balasingam
 * (https://github.com/soorajsunil/Piecewise-Battery-OCV/blob/0002eb53c428707e721ee7a2e8f97cad350a1fc9/README.md);
 * the estimator under test interpolates the same points straight, so the
 * model's curve is not the one it knows.  On top: a hysteresis of 10 mV
 * (LFP; NMC 5 mV) that follows the direction of the current over 2 % of the
 * capacity, a polarisation (R1 = R0, 10 minutes), and R0 = r_ahohm / Ah
 * (0.08 ohm Ah: 0.3 mOhm for a 270 Ah cell) spread +-10 % (`r_mohm` one
 * for every cell, `high_r` one cell's; `r_rise` one cell's rising linearly
 * by PCT % of its start every 30 days).  The pack is top-balanced: every
 * cell is full at once, their capacities spread up to 2 % over the weakest
 * (cell 1; `low_cap=N:PCT` makes cell N the weakest, PCT % under the least
 * of the others), which is the pack's true capacity and its SOC the true
 * SOC; the lowest cell is the weakest one near empty.
 *
 * The day.  Weather drawn each day (clear, partly cloudy, overcast), a
 * cloud factor each quarter hour; solar current pv C x sin from 6:00 to
 * 18:00; loads: the base (inverter and fridge), 6:30-8:00 and 17:00-22:00
 * more, appliances now and then (about half the capacity a day); on a deep day the evening load is
 * deep_load (0.15 C), past midnight, until the lowest cell reaches cutoff_v under load, after which the
 * inverter stays off (the battery rests) until 7:00 and the lowest cell RESTART_V over cutoff_v (an
 * inverter's restart voltage: one that restarted at once went off again at the next second's load, a
 * load switched every second, which no poll every 10 s follows: the count of the polls' currents then
 * parts from the truth by what no bound of the sensor's errors holds).  The charger follows
 * bmsgw's charge machine ([limits] defaults): bulk at up to 0.5 C to 3.45 V
 * a cell, absorption there for 15 minutes, float at 3.375 V, bulk again at
 * dawn.
 */
#include "sim_model.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400.0
#define CVL_CELL 3.45            /* V: [limits] max_cell_voltage (lfp) */
#define FLOAT_CELL 3.375         /* V: float_cell_voltage */
#define NMC_CVL_CELL 4.10
#define NMC_FLOAT_CELL 4.00
#define ABSORPTION_S 900.0       /* absorption_time */
#define CCL_C 0.5                /* the charge current limit, C */
#define TAU_S 600.0              /* polarisation time constant */
#define HYST_SPAN 0.02           /* the share of the capacity over which the hysteresis turns */
#define RESTART_V 0.10           /* V: a cut-off inverter restarts (from 7:00) with the lowest cell this over
                                  * cutoff_v */

struct pt {
	double x, y;
};
static const struct pt lfp[] = {
	{ 0.0000, 2.0102 }, { 0.0033, 2.4177 }, { 0.0117, 2.7405 }, { 0.0267, 2.9299 }, { 0.0534, 3.0872 },
	{ 0.0885, 3.1942 }, { 0.2972, 3.2772 }, { 0.9833, 3.3511 }, { 0.9950, 3.4180 }, { 1.0000, 3.5981 },
};
static const struct pt nmc[] = {
	{ 0.0000, 2.5061 }, { 0.0151, 2.8981 }, { 0.0452, 3.1461 }, { 0.0955, 3.3231 }, { 0.1508, 3.4218 },
	{ 0.2915, 3.5737 }, { 0.4573, 3.7017 }, { 0.8342, 4.0637 }, { 0.9497, 4.1009 }, { 1.0000, 4.1932 },
};
#define NPT 10

/* The slopes of the monotone cubic through p (Fritsch-Carlson). */
static void slopes(const struct pt *p, double *d)
{
	double dl[NPT - 1];
	for (int k = 0; k < NPT - 1; k++)
		dl[k] = (p[k + 1].y - p[k].y) / (p[k + 1].x - p[k].x);
	d[0] = dl[0];
	d[NPT - 1] = dl[NPT - 2];
	for (int k = 1; k < NPT - 1; k++) {
		double h0 = p[k].x - p[k - 1].x, h1 = p[k + 1].x - p[k].x;
		double w1 = 2 * h1 + h0, w2 = h1 + 2 * h0;
		d[k] = dl[k - 1] * dl[k] <= 0 ? 0 : (w1 + w2) / (w1 / dl[k - 1] + w2 / dl[k]);
	}
}

static double ocv(int nmc_chem, double soc)
{
	static double dlfp[NPT], dnmc[NPT];
	static int ready;
	if (!ready) {
		slopes(lfp, dlfp);
		slopes(nmc, dnmc);
		ready = 1;
	}
	const struct pt *p = nmc_chem ? nmc : lfp;
	const double *d = nmc_chem ? dnmc : dlfp;
	if (soc <= 0)
		return p[0].y + d[0] * soc; /* beyond the ends: straight on */
	if (soc >= 1)
		return p[NPT - 1].y + d[NPT - 1] * (soc - 1);
	int k = 0;
	while (k < NPT - 2 && soc > p[k + 1].x)
		k++;
	double h = p[k + 1].x - p[k].x, s = (soc - p[k].x) / h;
	double h00 = (1 + 2 * s) * (1 - s) * (1 - s), h10 = s * (1 - s) * (1 - s);
	double h01 = s * s * (3 - 2 * s), h11 = s * s * (s - 1);
	return h00 * p[k].y + h10 * h * d[k] + h01 * p[k + 1].y + h11 * h * d[k + 1];
}

/* ---- random numbers: the model's own (a trace repeats whatever else runs) */

static double uniform(struct sim_model *m)
{
	uint64_t x = m->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	m->rng = x;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static double gauss(struct sim_model *m)
{
	double u = uniform(m), v = uniform(m);
	return sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(2 * M_PI * v);
}

/* ---- settings */

void sim_model_defaults(struct sim_model_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->cells = 16;
	c->rated_ah = 280;
	c->efficiency = 0.99;
	c->gain = 0.015;
	c->offset = 0.2;
	c->noise = 0.05;
	c->r_ahohm = 0.08;
	c->bms_band = 2.5;
	c->bms_full_v = 3.65;
	c->soc0 = 60;
	c->bms_soc0 = -1;
	c->pv = 0.35;
	c->load = 0.006;
	c->deep_every = 7;
	c->deep_load = 0.15;
	c->cutoff_v = 2.80;
	c->speed = 1;
	c->start_hour = 0;
	c->seed = 1;
}

/* The keys N:VALUE of one cell (high_r, low_cap, r_rise): 0 taken, -1 a
 * bad value, 1 not one of them. */
static int cell_pair(struct sim_model_cfg *c, const char *key, const char *val)
{
	static const struct { const char *key; double lo, hi; } keys[] = {
		{ "high_r", 0, 1000 }, { "low_cap", 0.1, 50 }, { "r_rise", 0, 100000 },
	};
	size_t k = 0;
	while (k < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[k].key) != 0)
		k++;
	if (k == sizeof(keys) / sizeof(keys[0]))
		return 1;
	char *end;
	long n = strtol(val, &end, 10);
	if (end == val || *end != ':' || n < 1 || n > SIM_MODEL_CELLS)
		return -1;
	const char *num = end + 1;
	double v = strtod(num, &end);
	if (!*num || *end || !isfinite(v) || v < keys[k].lo || v > keys[k].hi)
		return -1;
	if (k == 0) {
		c->cell_r_mohm[n - 1] = v;
	} else if (k == 1) {
		c->low_cell = (int)n;
		c->low_pct = v;
	} else {
		c->rise_cell = (int)n;
		c->rise_pct = v;
	}
	return 0;
}

int sim_model_set(struct sim_model_cfg *c, const char *key, const char *val)
{
	static const struct { const char *key; size_t off; double lo, hi; } nums[] = {
		{ "true_capacity", offsetof(struct sim_model_cfg, true_ah), 0.1, 100000 },
		{ "efficiency", offsetof(struct sim_model_cfg, efficiency), 0.5, 1 },
		{ "gain", offsetof(struct sim_model_cfg, gain), -0.5, 0.5 },
		{ "offset", offsetof(struct sim_model_cfg, offset), -100, 100 },
		{ "noise", offsetof(struct sim_model_cfg, noise), 0, 100 },
		{ "resistance", offsetof(struct sim_model_cfg, r_ahohm), 0, 10 },
		{ "band", offsetof(struct sim_model_cfg, bms_band), 0, 100 },
		{ "bms_full", offsetof(struct sim_model_cfg, bms_full_v), 1, 10 },
		{ "start_soc", offsetof(struct sim_model_cfg, soc0), 0, 100 },
		{ "bms_soc", offsetof(struct sim_model_cfg, bms_soc0), 0, 100 },
		{ "pv", offsetof(struct sim_model_cfg, pv), 0, 5 },
		{ "load", offsetof(struct sim_model_cfg, load), 0, 1 },
		{ "deep_every", offsetof(struct sim_model_cfg, deep_every), 0, 365 },
		{ "deep_load", offsetof(struct sim_model_cfg, deep_load), 0, 2 },
		{ "cutoff", offsetof(struct sim_model_cfg, cutoff_v), 1, 5 },
		{ "speed", offsetof(struct sim_model_cfg, speed), 0, 100000 },
		{ "start_hour", offsetof(struct sim_model_cfg, start_hour), 0, 24 },
	};
	char *end;
	int cell_key = cell_pair(c, key, val);
	if (cell_key <= 0)
		return cell_key;
	if (strcmp(key, "r_mohm") == 0) {
		double v = strtod(val, &end);
		if (!*val || *end || !(v >= 0 && v <= 1000))
			return -1;
		c->r_all_mohm = v;
		return 0;
	}
	if (strcmp(key, "model") == 0) {
		if (strcmp(val, "lfp") != 0 && strcmp(val, "nmc") != 0)
			return -1;
		c->on = 1;
		c->nmc = val[0] == 'n';
		return 0;
	}
	if (strcmp(key, "bms") == 0) {
		if (strcmp(val, "daly") != 0 && strcmp(val, "counter") != 0)
			return -1;
		c->bms_daly = val[0] == 'd';
		return 0;
	}
	if (strcmp(key, "model_seed") == 0) {
		unsigned long long v = strtoull(val, &end, 0);
		if (!*val || *end || *val == '-')
			return -1;
		c->seed = v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		double v = strtod(val, &end);
		if (!*val || *end || !isfinite(v) || v < nums[i].lo || v > nums[i].hi)
			return -1;
		*(double *)(void *)((char *)c + nums[i].off) = v;
		return 0;
	}
	return 1;
}

/* ---- the battery */

static double hyst_v(const struct sim_model *m)
{
	return m->h * (m->cfg.nmc ? 0.005 : 0.010);
}

/* Cell i's SOC (fraction): top-balanced, cell m->weak the weakest. */
static double cell_soc(const struct sim_model *m, int i)
{
	double c = m->cfg.true_ah * (1 + m->cell_off[i]);
	return 1 - (m->cfg.true_ah - m->q) / c;
}

/* The pack's voltage at current i, without the resistances' part (sum of
 * the cells' open-circuit, hysteresis and polarisation voltages) and the
 * sum of the resistances. */
static void pack_parts(const struct sim_model *m, double *e, double *r)
{
	*e = *r = 0;
	for (int i = 0; i < m->cfg.cells; i++) {
		*e += ocv(m->cfg.nmc, cell_soc(m, i)) + hyst_v(m) + m->vp;
		*r += m->cell_r[i];
	}
}

/* The cells' keys over the drawn spread: r_mohm, high_r; low_cap makes
 * its cell the weakest (the pack's true capacity), the others' capacities
 * over it by 1 / (1 - PCT / 100) and their spread. */
static void cells_given(struct sim_model *m)
{
	const struct sim_model_cfg *c = &m->cfg;
	int low = c->low_cell >= 1 && c->low_cell <= c->cells ? c->low_cell - 1 : -1;
	for (int i = 0; i < c->cells; i++) {
		if (c->r_all_mohm > 0)
			m->cell_r[i] = c->r_all_mohm / 1000;
		if (c->cell_r_mohm[i] > 0)
			m->cell_r[i] = c->cell_r_mohm[i] / 1000;
		if (low >= 0)
			m->cell_off[i] = i == low ? 0 : (1 + m->cell_off[i]) / (1 - c->low_pct / 100) - 1;
		m->cell_r0[i] = m->cell_r[i];
	}
	m->weak = low >= 0 ? low : 0;
}

void sim_model_init(struct sim_model *m, const struct sim_model_cfg *cfg)
{
	struct sim_model_cfg copy = *cfg; /* cfg may be m's own */
	const struct sim_model_cfg *c = &copy;
	memset(m, 0, sizeof(*m));
	m->cfg = copy;
	if (m->cfg.cells < 1 || m->cfg.cells > SIM_MODEL_CELLS)
		m->cfg.cells = 16;
	if (!(m->cfg.true_ah > 0))
		m->cfg.true_ah = 0.97 * m->cfg.rated_ah;
	m->rng = c->seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (!m->rng)
		m->rng = 1;
	for (int i = 0; i < m->cfg.cells; i++) {
		m->cell_off[i] = i ? 0.02 * uniform(m) : 0;
		m->cell_r[i] = m->cfg.r_ahohm / m->cfg.true_ah * (0.9 + 0.2 * uniform(m));
	}
	cells_given(m);
	m->q = m->cfg.true_ah * m->cfg.soc0 / 100;
	m->bms_ah = m->cfg.rated_ah * (m->cfg.bms_soc0 >= 0 ? m->cfg.bms_soc0 : m->cfg.soc0) / 100;
	m->t = m->cfg.start_hour * 3600;
	m->day = -1;
	m->mode = 2;
	m->temp_c = 25;
	sim_model_run(m, 0);
}

/* A new day: its weather, whether it is deep. */
static void new_day(struct sim_model *m, int day)
{
	double u = uniform(m);
	m->day = day;
	m->weather = u < 0.55 ? 0.85 + 0.15 * uniform(m) : u < 0.85 ? 0.35 + 0.3 * uniform(m) : 0.08 + 0.12 * uniform(m);
	int every = (int)m->cfg.deep_every;
	m->deep = every > 0 && day % every == (every - 2 + (int)(m->cfg.seed % 3)) % every;
}

/* The weakest cell's voltage at the current of the last second, V. */
static double weak_v(const struct sim_model *m)
{
	int w = m->weak;
	return ocv(m->cfg.nmc, cell_soc(m, w)) + hyst_v(m) + m->vp + m->i_true * m->cell_r[w];
}

/* What the house draws and the sun gives now (A, at the pack). */
static void day_currents(struct sim_model *m, double tod, double *pv, double *load)
{
	double cap = m->cfg.true_ah;
	if (fmod(m->t, 900) < 1)
		m->cloud = m->weather > 0.8 ? 0.95 + 0.05 * uniform(m) : 0.5 + 0.5 * uniform(m);
	*pv = tod > 6 && tod < 18 ? m->cfg.pv * cap * m->weather * m->cloud * sin(M_PI * (tod - 6) / 12) : 0;
	if (m->t >= m->appliance_until)
		m->appliance = 0;
	if (fmod(m->t, 900) < 1 && tod > 7 && tod < 23 && uniform(m) < 0.08) {
		m->appliance = (0.05 + 0.1 * uniform(m)) * cap;
		m->appliance_until = m->t + 180 + 1020 * uniform(m);
	}
	*load = m->cfg.load * cap + m->appliance;
	if (tod > 6.5 && tod < 8)
		*load += 0.03 * cap;
	if (tod > 17 && tod < 22)
		*load += 0.05 * cap;
	if (m->deep && tod > 17)
		m->deep_night = 1; /* on past midnight, until the cut-off or 7:00 */
	if (tod >= 7 && tod < 17) {
		m->deep_night = 0;
		if (m->cut && weak_v(m) >= m->cfg.cutoff_v + RESTART_V)
			m->cut = 0; /* the inverter restarts */
	}
	if (m->deep_night)
		*load = m->cfg.deep_load * cap;
	if (m->cut)
		*load = 0;
}

/* The battery's current: the surplus, held to the charger's voltage. */
static double battery_current(struct sim_model *m, double pv, double load)
{
	int n = m->cfg.cells;
	double target = n * (m->mode == 2 ? (m->cfg.nmc ? NMC_FLOAT_CELL : FLOAT_CELL)
					    : (m->cfg.nmc ? NMC_CVL_CELL : CVL_CELL));
	double surplus = pv - load, i = surplus;
	if (surplus > 0) {
		double e, r;
		pack_parts(m, &e, &r);
		double i_cv = (target - e) / r;
		i = fmin(fmin(surplus, CCL_C * m->cfg.true_ah), fmax(i_cv, 0));
		if (m->mode == 0 && i_cv <= fmin(surplus, CCL_C * m->cfg.true_ah))
			m->mode = 1; /* the charger holds the target: absorption */
	}
	/* the inverter's cut-off: the lowest cell under load */
	int w = m->weak;
	if (i < 0 && ocv(m->cfg.nmc, cell_soc(m, w)) + hyst_v(m) + m->vp + i * m->cell_r[w] <= m->cfg.cutoff_v) {
		m->cut = 1;
		i = fmax(pv, 0);
	}
	return i;
}

static void step1(struct sim_model *m)
{
	long sec = (long)fmod(m->t, DAY);
	double tod = sec / 3600.0;
	int day = (int)(m->t / DAY);
	if (day != m->day)
		new_day(m, day);
	if (sec == 5 * 3600)
		m->mode = 0; /* dawn: bulk */
	double pv, load, i = m->i_driven;
	if (!m->driven) {
		day_currents(m, tod, &pv, &load);
		i = battery_current(m, pv, load);
	}
	if (m->mode == 1 && (m->abs_s += 1) >= ABSORPTION_S) {
		m->mode = 2;
		m->abs_s = 0;
	}
	double cap = m->cfg.true_ah;
	m->q += (i > 0 ? m->cfg.efficiency : 1) * i / 3600;
	m->q = fmax(0, fmin(m->q, cap));
	m->vp += (i * m->cfg.r_ahohm / cap - m->vp) * (1 - exp(-1 / TAU_S));
	double turn = fabs(i) / 3600 / (HYST_SPAN * cap);
	m->h += ((i > 0) - (i < 0)) * turn;
	m->h = fmax(-1, fmin(1, m->h));
	m->i_true = i;
	if (m->cfg.rise_cell >= 1 && m->cfg.rise_cell <= m->cfg.cells) {
		int k = m->cfg.rise_cell - 1;
		m->cell_r[k] = m->cell_r0[k] * (1 + m->cfg.rise_pct / 100 * m->t / (30 * DAY));
	}
	m->temp_c = 25 + 5 * sin(2 * M_PI * (tod - 9) / 24);
	/* what the BMS measures and counts */
	m->i_meas = i * (1 + m->cfg.gain) + m->cfg.offset + m->cfg.noise * gauss(m);
	if (!m->cfg.bms_daly || fabs(m->i_meas) >= m->cfg.bms_band)
		m->bms_ah += m->i_meas / 3600;
	m->bms_ah = fmax(0, fmin(m->bms_ah, m->cfg.rated_ah));
	m->t += 1;
}

void sim_model_drive(struct sim_model *m, double amps)
{
	m->driven = 1;
	m->i_driven = m->i_true = amps;
	m->i_meas = amps * (1 + m->cfg.gain) + m->cfg.offset;
	sim_model_run(m, 0); /* the cells' voltages at the new current at once */
}

void sim_model_run(struct sim_model *m, double dt)
{
	for (double done = 0; done + 0.5 < dt; done += 1)
		step1(m);
	for (int i = 0; i < m->cfg.cells; i++) {
		m->cell_v[i] = ocv(m->cfg.nmc, cell_soc(m, i)) + hyst_v(m) + m->vp + m->i_true * m->cell_r[i];
		if (m->cell_v[i] >= m->cfg.bms_full_v)
			m->bms_ah = m->cfg.rated_ah; /* the BMS's own full rule */
	}
}

double sim_model_true_soc(const struct sim_model *m)
{
	return 100 * m->q / m->cfg.true_ah;
}

double sim_model_true_ah(const struct sim_model *m)
{
	return m->cfg.true_ah;
}

double sim_model_cell_ah(const struct sim_model *m, int i)
{
	return m->cfg.true_ah * (1 + m->cell_off[i]);
}

double sim_model_bms_soc(const struct sim_model *m)
{
	return 100 * m->bms_ah / m->cfg.rated_ah;
}

double sim_model_voltage(const struct sim_model *m)
{
	double v = 0;
	for (int i = 0; i < m->cfg.cells; i++)
		v += m->cell_v[i];
	return v;
}
