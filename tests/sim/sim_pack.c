/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pack.c - bmsgw-sim pack model: state, movement, `set`, JSON. */
#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

void sim_seed(uint64_t seed)
{
	/* splitmix64 of the seed, never 0 */
	uint64_t z = seed + 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	rng_state = z ? z : 1;
}

uint32_t sim_rand(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

int sim_rand_range(int lo, int hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int)(sim_rand() % (uint32_t)(hi - lo + 1));
}

/* ---- text buffer --------------------------------------------------------- */

void sim_buf_printf(struct sim_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			va_end(ap2);
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
}

void sim_buf_num(struct sim_buf *b, double v, int decimals)
{
	char tmp[64];
	if (v == 0)
		v = 0; /* no "-0.0" */
	if (decimals < 1)
		decimals = 1;
	snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
	/* trim trailing zeros, keep one decimal */
	char *dot = strchr(tmp, '.');
	if (dot) {
		char *e = tmp + strlen(tmp) - 1;
		while (e > dot + 1 && *e == '0')
			*e-- = '\0';
	}
	sim_buf_printf(b, "%s", tmp);
}

void sim_buf_free(struct sim_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- faults -------------------------------------------------------------- */

static const char *const fault_names[SIM_F_COUNT] = {
	[SIM_F_NONE] = "none",         [SIM_F_SILENT] = "silent", [SIM_F_BADSUM] = "badsum",
	[SIM_F_TRUNCATE] = "truncate", [SIM_F_GARBAGE] = "garbage", [SIM_F_DROP] = "drop",
	[SIM_F_SLOW] = "slow",         [SIM_F_ECHO] = "echo",     [SIM_F_SPLIT] = "split",
	[SIM_F_MERGE] = "merge",
};

const char *sim_fault_name(enum sim_fault f)
{
	return (unsigned)f < SIM_F_COUNT ? fault_names[f] : "?";
}

int sim_fault_parse(const char *s)
{
	for (int i = 0; i < SIM_F_COUNT; i++)
		if (strcmp(s, fault_names[i]) == 0)
			return i;
	return -1;
}

/* ---- pack model ---------------------------------------------------------- */

#define CELL_BASE_MV 3200.0
#define CELL_MV_PER_SOC 1.5

int sim_pack_heater_on(const struct sim_pack *p)
{
	int lo = p->ntemps > 0 ? p->temp_c[0] : 25;
	for (int i = 1; i < p->ntemps && i < SIM_MAX_TEMPS; i++)
		lo = p->temp_c[i] < lo ? p->temp_c[i] : lo;
	return p->heat_en && lo <= p->heat_start_c;
}

/* The heater's keys (`heat` 0 | 1, `heat_start`, `heat_stop` degC,
 * `heat_ma` mA): 1 taken, 0 not one of them, -1 a bad value. */
static int set_heat_key(struct sim_pack *p, const char *k, const char *v)
{
	int *f = strcmp(k, "heat") == 0 ? &p->heat_en : strcmp(k, "heat_start") == 0 ? &p->heat_start_c
	       : strcmp(k, "heat_stop") == 0 ? &p->heat_stop_c : strcmp(k, "heat_ma") == 0 ? &p->heat_ma : NULL;
	if (!f)
		return 0;
	char *end;
	errno = 0;
	long l = strtol(v, &end, 10);
	long lo = f == &p->heat_en ? 0 : f == &p->heat_ma ? 0 : -40;
	long hi = f == &p->heat_en ? 1 : f == &p->heat_ma ? 65535 : 100;
	if (errno || end == v || *end || l < lo || l > hi)
		return -1;
	*f = (int)l;
	return 1;
}

int sim_pack_reply_adr(const struct sim_pack *p)
{
	return p->reply_adr >= 0 ? p->reply_adr : p->address;
}

void sim_pack_init(struct sim_pack *p, int address)
{
	memset(p, 0, sizeof *p);
	p->address = address;
	p->ncells = 16;
	p->ntemps = 2;
	p->soc = 60.0;
	p->current = 5.0;
	p->capacity_ah = 100.0;
	p->cycles = 0;
	p->soh = 98.0;
	p->mos_temp_c = 30;
	p->ccl_a = 50.0;
	p->dcl_a = 100.0;
	p->cvl_v = 56.8; /* 16 x 3.55 V */
	p->dvl_v = 48.0; /* 16 x 3.0 V */
	for (int i = 0; i < SIM_MAX_CELLS; i++) {
		p->cell_offset_mv[i] = sim_rand_range(-4, 4);
		p->cell_pin_mv[i] = -1;
	}
	for (int i = 0; i < SIM_MAX_TEMPS; i++)
		p->temp_c[i] = 25 + i % 2;
	p->chg_mos = p->dsg_mos = 1;
	p->chg_set = p->dsg_set = 1;
	p->heat_start_c = 5;
	p->heat_stop_c = 10;
	p->heat_ma = 2500;
	p->reply_adr = -1;
	p->refuse = -1;
	p->ctl = SIM_CTL_NORMAL;
	p->fault = SIM_F_NONE;
	/* victron-ble: the key of the SmartShunt whose advertisements
	 * keshavdv/victron-ble publishes with it */
	static const uint8_t test_key[16] = {
		0xaf, 0xf4, 0xd0, 0x99, 0x5b, 0x7d, 0x1e, 0x17, 0x6c, 0x0c, 0x33, 0xec, 0xb9, 0xe7, 0x0d, 0xcd,
	};
	memcpy(p->key, test_key, sizeof(p->key));
	sim_model_defaults(&p->model.cfg);
	p->model.cfg.seed = (uint64_t)address;
}

/* 32 hex digits into 16 bytes; 0 or -1. */
static int parse_key(const char *s, uint8_t *key)
{
	if (strlen(s) != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
				     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
				     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
			if (d > 15)
				return -1;
			v = v << 4 | d;
		}
		key[i] = (uint8_t)v;
	}
	return 0;
}

/* ---- MOSFET writes -------------------------------------------------------- */

static const char *const ctl_names[SIM_CTL_COUNT] = {
	[SIM_CTL_NORMAL] = "normal", [SIM_CTL_REFUSE] = "refuse", [SIM_CTL_NOSWITCH] = "noswitch",
	[SIM_CTL_SILENT] = "silent", [SIM_CTL_PROTECT] = "protect", [SIM_CTL_NOACK] = "noack",
};

const char *sim_ctl_name(enum sim_ctl m)
{
	return (unsigned)m < SIM_CTL_COUNT ? ctl_names[m] : "?";
}

int sim_ctl_parse(const char *s)
{
	for (int i = 0; i < SIM_CTL_COUNT; i++)
		if (strcmp(s, ctl_names[i]) == 0)
			return i;
	return -1;
}

static const char *const fet_names[4] = { "none", "chg", "dsg", "both" };

const char *sim_fet_name(unsigned fets)
{
	return fet_names[fets & 3u];
}

unsigned sim_pack_held(const struct sim_pack *p)
{
	return p->ctl == SIM_CTL_PROTECT ? p->protect & (SIM_FET_CHG | SIM_FET_DSG) : 0;
}

int sim_pack_control(struct sim_pack *p, const char *mode, const char *fets, char *err, size_t errlen)
{
	int m = sim_ctl_parse(mode);
	if (m < 0) {
		snprintf(err, errlen, "unknown control mode '%s' (normal refuse noswitch silent protect noack)", mode);
		return -1;
	}
	unsigned held = SIM_FET_CHG | SIM_FET_DSG;
	if (fets && m != SIM_CTL_PROTECT) {
		snprintf(err, errlen, "only protect takes chg|dsg|both");
		return -1;
	}
	if (fets) {
		if (strcmp(fets, "chg") == 0)
			held = SIM_FET_CHG;
		else if (strcmp(fets, "dsg") == 0)
			held = SIM_FET_DSG;
		else if (strcmp(fets, "both") != 0) {
			snprintf(err, errlen, "protect takes chg, dsg or both, not '%s'", fets);
			return -1;
		}
	}
	unsigned before = sim_pack_held(p);
	p->ctl = (enum sim_ctl)m;
	p->protect = m == SIM_CTL_PROTECT ? held : 0;
	unsigned now = sim_pack_held(p);
	/* a protection that trips holds its MOSFET off; one that clears gives
	 * the MOSFET back to the switch setting */
	if (now & SIM_FET_CHG)
		p->chg_mos = 0;
	else if (before & SIM_FET_CHG)
		p->chg_mos = p->chg_set;
	if (now & SIM_FET_DSG)
		p->dsg_mos = 0;
	else if (before & SIM_FET_DSG)
		p->dsg_mos = p->dsg_set;
	return 0;
}

enum sim_wr sim_pack_write(struct sim_pack *p, int chg, int dsg)
{
	if (p->ctl == SIM_CTL_REFUSE)
		return SIM_WR_REFUSED;
	if (p->ctl == SIM_CTL_SILENT)
		return SIM_WR_SILENT;
	if (chg >= 0)
		p->chg_set = chg ? 1 : 0;
	if (dsg >= 0)
		p->dsg_set = dsg ? 1 : 0;
	p->writes_applied++;
	if (p->ctl != SIM_CTL_NOSWITCH) {
		/* "on" is taken but a protection keeps its MOSFET off; "off" always works */
		unsigned held = sim_pack_held(p);
		if (chg >= 0)
			p->chg_mos = p->chg_set && !(held & SIM_FET_CHG);
		if (dsg >= 0)
			p->dsg_mos = p->dsg_set && !(held & SIM_FET_DSG);
	}
	return p->ctl == SIM_CTL_NOACK ? SIM_WR_SILENT : SIM_WR_DONE;
}

enum sim_wr sim_pack_set_write(struct sim_pack *p, int *apply)
{
	p->set_writes++;
	*apply = p->ctl != SIM_CTL_REFUSE && p->ctl != SIM_CTL_SILENT && p->ctl != SIM_CTL_NOSWITCH;
	if (p->ctl == SIM_CTL_REFUSE)
		return SIM_WR_REFUSED;
	if (p->ctl == SIM_CTL_SILENT || p->ctl == SIM_CTL_NOACK)
		return SIM_WR_SILENT;
	return SIM_WR_DONE;
}

int sim_pack_cell_mv(const struct sim_pack *p, int i)
{
	if (i < 0 || i >= SIM_MAX_CELLS)
		return 0;
	if (p->cell_pin_mv[i] >= 0)
		return p->cell_pin_mv[i];
	if (p->model.cfg.on)
		return i < p->model.cfg.cells ? (int)lround(p->model.cell_v[i] * 1000) : 0;
	long v = lround(CELL_BASE_MV + CELL_MV_PER_SOC * p->soc + p->current * p->cell_r_mohm[i]) +
		 p->cell_offset_mv[i];
	return v < 0 ? 0 : (int)v;
}

/* The battery model's second (or `speed` of its seconds). */
static void model_tick(struct sim_pack *p)
{
	sim_model_run(&p->model, p->model.cfg.speed);
	p->soc = sim_model_bms_soc(&p->model);
	p->current = p->model.i_meas;
	for (int i = 0; i < p->ntemps && i < SIM_MAX_TEMPS; i++)
		p->temp_c[i] = (int)lround(p->model.temp_c) + i % 2;
	p->life = (p->life + 1) & 0xFF;
}

void sim_pack_tick(struct sim_pack *p)
{
	if (p->model.cfg.on) {
		model_tick(p);
		return;
	}
	if (p->capacity_ah > 0)
		p->soc += p->current / p->capacity_ah / 36.0;
	if (p->soc > 100)
		p->soc = 100;
	if (p->soc < 0)
		p->soc = 0;
	if (p->current > 0 && p->soc >= 95.0) {
		p->current = -p->current;
		p->cycles++;
	} else if (p->current < 0 && p->soc <= 10.0) {
		p->current = -p->current;
	}
	p->life = (p->life + 1) & 0xFF;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

#define CURRENT_MAX 3000.0
#define CAPACITY_MAX 100000.0
#define LIMIT_V_MAX 1000.0

/* The limit keys (`ccl`, `dcl` A; `cvl`, `dvl` V): their field, or NULL. */
static double *limit_field(struct sim_pack *p, const char *k, double *max)
{
	*max = k[1] == 'c' ? CURRENT_MAX : LIMIT_V_MAX;
	if (strcmp(k, "ccl") == 0)
		return &p->ccl_a;
	if (strcmp(k, "dcl") == 0)
		return &p->dcl_a;
	if (strcmp(k, "cvl") == 0)
		return &p->cvl_v;
	if (strcmp(k, "dvl") == 0)
		return &p->dvl_v;
	return NULL;
}

/* pylon-can: dialect v12 | v13, jk-can: v1 (JK-B CAN V1) | v12 (any other:
 * the default); nolisten 0 | 1.  0 or -1. */
static int set_can_key(struct sim_pack *p, const char *k, const char *v)
{
	if (strcmp(k, "dialect") == 0) {
		if (strcmp(v, "v12") != 0 && strcmp(v, "v13") != 0 && strcmp(v, "v1") != 0)
			return -1;
		p->dialect = v[1] == '1' && v[2] == '\0' ? 1 : v[2] == '3' ? 13 : 0;
		return 0;
	}
	if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
		return -1;
	p->no_listen = v[0] == '1';
	return 0;
}

/* high_r=N:MOHM: cell N (1-based) has this resistance. */
static int parse_cell_r(struct sim_pack *p, const char *v)
{
	char *end;
	long n = strtol(v, &end, 10);
	if (end == v || *end != ':' || n < 1 || n > SIM_MAX_CELLS)
		return -1;
	double d;
	if (parse_double(end + 1, 0, 1000, &d))
		return -1;
	p->cell_r_mohm[n - 1] = d;
	return 0;
}

/* The protocols whose Bluetooth module asks for a PIN (`pin=`). */
static int pin_protocol(const char *name)
{
	static const char *const names[] = { "jbd", "ant", "dometic", "smartbms123", "saftkiste", "lolan" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

int sim_pin_try(struct sim_pack *p, const char *pin, size_t n, const char *dflt)
{
	const char *want = p->pin[0] ? p->pin : dflt;
	p->pin_tries++;
	if (!want || (strlen(want) == n && memcmp(want, pin, n) == 0)) {
		p->authed = 1;
		return 1;
	}
	p->pin_refused++;
	return 0;
}

int sim_pin_open(struct sim_pack *p, const char *dflt)
{
	if (p->authed || (!p->pin[0] && !dflt))
		return 1;
	p->locked_reads++;
	return 0;
}

int sim_pack_parse(struct sim_pack *p, const char *spec, const struct sim_proto *proto,
                   char *err, size_t errlen)
{
	char *copy = strdup(spec);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0, junk_set = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, errlen, "pack spec: '%s' is not key=value", tok);
			rc = -1;
			break;
		}
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		long l;
		double d;
		int ok = 0;
		if (strcmp(k, "address") == 0) {
			int own = sim_master_own_address(proto); /* --master: jk-pb's DIP 0 */
			ok = parse_long(v, proto->addr_min, proto->addr_max, &l) == 0 ||
			     (own >= 0 && parse_long(v, own, own, &l) == 0);
			if (ok)
				p->address = (int)l;
		} else if (strcmp(k, "cells") == 0) {
			ok = parse_long(v, 1, proto->max_cells, &l) == 0;
			if (ok)
				p->ncells = (int)l;
		} else if (strcmp(k, "sensors") == 0) {
			ok = parse_long(v, 1, proto->max_temps, &l) == 0;
			if (ok)
				p->ntemps = (int)l;
		} else if (strcmp(k, "soc") == 0) {
			ok = parse_double(v, 0, 100, &d) == 0;
			if (ok)
				p->soc = d;
		} else if (strcmp(k, "current") == 0) {
			ok = parse_double(v, -CURRENT_MAX, CURRENT_MAX, &d) == 0;
			if (ok)
				p->current = d;
		} else if (strcmp(k, "capacity") == 0) {
			ok = parse_double(v, 0.1, CAPACITY_MAX, &d) == 0;
			if (ok)
				p->capacity_ah = d;
		} else if (strcmp(k, "cycles") == 0) {
			ok = parse_long(v, 0, 65535, &l) == 0;
			if (ok)
				p->cycles = (unsigned)l;
		} else if (strcmp(k, "soh") == 0) {
			ok = parse_double(v, 0, 100, &d) == 0;
			if (ok)
				p->soh = d;
		} else if (strcmp(k, "r_mohm") == 0) {
			ok = parse_double(v, 0, 1000, &d) == 0;
			for (int i = 0; ok && i < SIM_MAX_CELLS; i++)
				p->cell_r_mohm[i] = d;
			ok = ok && sim_model_set(&p->model.cfg, k, v) == 0; /* the model's too */
		} else if (strcmp(k, "high_r") == 0) {
			ok = parse_cell_r(p, v) == 0 && sim_model_set(&p->model.cfg, k, v) == 0;
		} else if (strcmp(k, "string") == 0) {
			ok = parse_long(v, 1, SIM_MAX_PACKS, &l) == 0;
			if (ok)
				p->string = (int)l;
		} else if (strcmp(k, "mos_temp") == 0) {
			ok = parse_long(v, -40, 150, &l) == 0;
			if (ok)
				p->mos_temp_c = (int)l;
		} else if (limit_field(p, k, &d)) {
			double *f = limit_field(p, k, &d);
			ok = parse_double(v, 0, d, f) == 0;
		} else if (strcmp(k, "full16") == 0) {
			ok = parse_long(v, 0, 1, &l) == 0;
			if (ok) {
				p->full16 = (int)l;
				if (!junk_set)
					p->junk = (int)l;
			}
		} else if (strcmp(k, "junk") == 0) {
			ok = parse_long(v, 0, 1, &l) == 0;
			if (ok) {
				p->junk = (int)l;
				junk_set = 1;
			}
		} else if (strcmp(k, "reply_adr") == 0 && proto->reply_adr) {
			ok = parse_long(v, 0, 255, &l) == 0;
			if (ok)
				p->reply_adr = (int)l;
		} else if (strcmp(k, "refuse") == 0 && proto->mb_slave) {
			ok = parse_long(v, 0, 65535, &l) == 0;
			if (ok)
				p->refuse = (int)l;
		} else if (strcmp(k, "nosettings") == 0 && proto->mb_slave) {
			ok = parse_long(v, 0, 1, &l) == 0;
			if (ok)
				p->nosettings = (int)l;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "daly-modbus") == 0) {
			ok = strcmp(v, "d2") == 0 || strcmp(v, "81") == 0;
			if (ok)
				p->dialect = v[0] == 'd' ? 0xD2 : 0;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "renogy-pro") == 0) {
			ok = strcmp(v, "rngpro") == 0 || strcmp(v, "rngrbp") == 0;
			if (ok)
				p->dialect = v[3] == 'p' ? 'P' : 0;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "daren") == 0) {
			ok = strcmp(v, "ks") == 0 || strcmp(v, "dr") == 0;
			if (ok)
				p->dialect = v[0] == 'k' ? 'K' : 0;
		} else if (strcmp(k, "layout") == 0 && strcmp(proto->name, "jk-ble") == 0) {
			ok = strcmp(v, "24s") == 0 || strcmp(v, "32s") == 0;
			if (ok)
				p->layout24 = v[0] == '2';
		} else if (strcmp(k, "layout") == 0 && strcmp(proto->name, "neey") == 0) {
			ok = strcmp(v, "v1") == 0 || strcmp(v, "v2") == 0;
			if (ok)
				p->dialect = v[1] == '2' ? 2 : 0;
		} else if (strcmp(k, "nosettings") == 0 &&
			   (strcmp(proto->name, "daly") == 0 || strcmp(proto->name, "pylontech") == 0 ||
			    strcmp(proto->name, "ks48") == 0 || strcmp(proto->name, "ant") == 0 ||
			    strcmp(proto->name, "humsienk") == 0 || strcmp(proto->name, "ogt") == 0 ||
			    strcmp(proto->name, "jbd-up") == 0 || strcmp(proto->name, "daren") == 0 ||
			    strcmp(proto->name, "seplos") == 0 || strcmp(proto->name, "pace") == 0)) {
			ok = parse_long(v, 0, 1, &l) == 0;
			if (ok && strcmp(proto->name, "ogt") == 0)
				p->nosettings = (int)l; /* its dialect is the id */
			else if (ok)
				p->dialect = l ? 'N' : 0;
		} else if ((strcmp(k, "hvbad") == 0 || strcmp(k, "notester") == 0) && proto->hv) {
			ok = parse_long(v, 0, 1, &l) == 0;
			if (ok && k[0] == 'h')
				p->hv_bad = (int)l;
			else if (ok)
				p->no_tester = (int)l;
		} else if (strcmp(k, "parallel") == 0 && strcmp(proto->name, "ubms-can") == 0) {
			ok = parse_long(v, 1, 16, &l) == 0; /* strings of modules in parallel */
			if (ok)
				p->parallel = (int)l;
		} else if (strcmp(k, "parallel_dip") == 0 && strcmp(proto->name, "ubms-can") == 0) {
			ok = parse_long(v, 0, 1000, &l) == 0; /* mV under cell 1 of the last string in parallel */
			if (ok)
				p->parallel_dip = (int)l;
		} else if (strcmp(k, "noprot") == 0 && strcmp(proto->name, "abc") == 0) {
			ok = parse_long(v, 0, 1, &l) == 0;
			if (ok)
				p->dialect = (int)l;
		} else if (strcmp(k, "id") == 0 && strcmp(proto->name, "ogt") == 0) {
			ok = parse_long(v, 0, 65535, &l) == 0; /* the name's SmartBat-A<id>: the key */
			if (ok)
				p->dialect = (int)l;
		} else if ((strcmp(k, "unlock") == 0 || strcmp(k, "pages") == 0) &&
			   strcmp(proto->name, "d-powercore") == 0) {
			ok = sim_dp_option(p, k, v) == 0;
		} else if (strcmp(k, "pin") == 0 && pin_protocol(proto->name)) {
			ok = strlen(v) >= 1 && strlen(v) < sizeof(p->pin);
			if (ok)
				snprintf(p->pin, sizeof(p->pin), "%s", v);
		} else if (strcmp(k, "key") == 0 && strcmp(proto->name, "victron-ble") == 0) {
			ok = parse_key(v, p->key) == 0;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "ant") == 0) {
			ok = strcmp(v, "2021") == 0 || strcmp(v, "legacy") == 0 || strcmp(v, "dbdb") == 0;
			if (ok)
				p->dialect = v[0] == 'l' ? 'L' : v[0] == 'd' ? 'D' : 0;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "chins") == 0) {
			ok = strcmp(v, "sf") == 0 || strcmp(v, "rt") == 0;
			if (ok)
				p->dialect = v[0] == 's' ? 'S' : 0;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "topband") == 0) {
			ok = strcmp(v, "kv") == 0 || strcmp(v, "ective") == 0;
			if (ok)
				p->dialect = v[0] == 'k' ? 'K' : 0;
		} else if (strcmp(k, "layout") == 0 &&
			   (strcmp(proto->name, "ecoworthy") == 0 || strcmp(proto->name, "superb") == 0)) {
			ok = strcmp(v, "v1") == 0 || strcmp(v, "v2") == 0;
			if (ok)
				p->dialect = v[1] == '2' ? 2 : 0;
		} else if (strcmp(k, "bank") == 0 && strcmp(proto->name, "felicity") == 0) {
			ok = parse_long(v, 1, 8, &l) == 0;
			if (ok)
				p->dialect = (int)l;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "lifepower") == 0) {
			ok = strcmp(v, "7c") == 0 || strcmp(v, "7e") == 0;
			if (ok)
				p->dialect = v[1] == 'c' ? 0x7C : 0;
		} else if (strcmp(k, "dialect") == 0 && strcmp(proto->name, "tdt") == 0) {
			ok = strcmp(v, "1e") == 0 || strcmp(v, "7e") == 0;
			if (ok)
				p->dialect = v[0] == '1' ? 0x1E : 0;
		} else if ((strcmp(k, "dialect") == 0 || strcmp(k, "nolisten") == 0) && proto->slcan) {
			ok = set_can_key(p, k, v) == 0;
		} else if ((ok = set_heat_key(p, k, v)) != 0) {
			ok = ok > 0;
		} else if ((ok = sim_model_set(&p->model.cfg, k, v)) <= 0) {
			ok = ok == 0;
		} else {
			snprintf(err, errlen, "pack spec: unknown key '%s'", k);
			rc = -1;
			break;
		}
		if (!ok) {
			snprintf(err, errlen, "pack spec: bad value '%s' for %s", v, k);
			rc = -1;
			break;
		}
	}
	free(copy);
	if (rc == 0 && p->model.cfg.on) {
		/* the model runs the pack: its rated capacity and cells are the pack's */
		p->model.cfg.rated_ah = p->capacity_ah;
		p->model.cfg.cells = p->ncells;
		sim_model_init(&p->model, &p->model.cfg);
		model_tick(p);
	}
	return rc;
}

int sim_pack_set(struct sim_pack *p, int argc, char **argv, const struct sim_proto *proto,
                 char *err, size_t errlen)
{
	if (argc < 2) {
		snprintf(err, errlen, "usage: set ADDR KEY VALUE");
		return -1;
	}
	const char *k = argv[0];
	long l, idx;
	double d;
	uint64_t u;
	if (strcmp(k, "cell") == 0 || strcmp(k, "temp") == 0 || strcmp(k, "alarm") == 0) {
		if (argc != 3) {
			snprintf(err, errlen, "usage: set ADDR %s N VALUE", k);
			return -1;
		}
		if (strcmp(k, "cell") == 0) {
			if (parse_long(argv[1], 1, p->ncells, &idx)) {
				snprintf(err, errlen, "cell number must be 1..%d", p->ncells);
				return -1;
			}
			if (strcmp(argv[2], "auto") == 0) {
				p->cell_pin_mv[idx - 1] = -1;
				return 0;
			}
			if (parse_long(argv[2], 0, 65535, &l)) {
				snprintf(err, errlen, "cell voltage must be 0..65535 mV or auto");
				return -1;
			}
			p->cell_pin_mv[idx - 1] = (int)l;
		} else if (strcmp(k, "temp") == 0) {
			if (parse_long(argv[1], 1, p->ntemps, &idx)) {
				snprintf(err, errlen, "sensor number must be 1..%d", p->ntemps);
				return -1;
			}
			/* down to -128: a signed byte's coldest (samsung-sdi-lv's),
			 * below the gateway's -50 degC */
			if (parse_long(argv[2], -128, 215, &l)) {
				snprintf(err, errlen, "temperature must be -128..215");
				return -1;
			}
			p->temp_c[idx - 1] = (int)l;
		} else {
			if (parse_long(argv[1], 0, SIM_MAX_ALARM - 1, &idx)) {
				snprintf(err, errlen, "alarm byte index must be 0..%d", SIM_MAX_ALARM - 1);
				return -1;
			}
			if (parse_long(argv[2], 0, 255, &l)) {
				snprintf(err, errlen, "alarm byte value must be 0..255");
				return -1;
			}
			p->alarm[idx] = (uint8_t)l;
		}
		return 0;
	}
	if (argc != 2) {
		snprintf(err, errlen, "usage: set ADDR %s VALUE", k);
		return -1;
	}
	const char *v = argv[1];
	int heat = set_heat_key(p, k, v);
	if (heat != 0)
		return heat > 0 ? 0 : (snprintf(err, errlen, "bad value '%s' for %s", v, k), -1);
	if (strcmp(k, "soc") == 0) {
		if (parse_double(v, 0, 100, &d))
			goto bad;
		p->soc = d;
	} else if (strcmp(k, "current") == 0) {
		if (parse_double(v, -CURRENT_MAX, CURRENT_MAX, &d))
			goto bad;
		p->current = d;
		if (p->model.cfg.on) {
			sim_model_drive(&p->model, d); /* the model's battery takes it */
			p->current = p->model.i_meas;
		}
	} else if (strcmp(k, "capacity") == 0) {
		if (parse_double(v, 0.1, CAPACITY_MAX, &d))
			goto bad;
		p->capacity_ah = d;
	} else if (strcmp(k, "cycles") == 0) {
		if (parse_long(v, 0, 65535, &l))
			goto bad;
		p->cycles = (unsigned)l;
	} else if (strcmp(k, "soh") == 0) {
		if (parse_double(v, 0, 100, &d))
			goto bad;
		p->soh = d;
	} else if (strcmp(k, "mos_temp") == 0) {
		if (parse_long(v, -40, 150, &l))
			goto bad;
		p->mos_temp_c = (int)l;
	} else if (strcmp(k, "cells") == 0) {
		if (parse_long(v, 1, proto->max_cells, &l))
			goto bad;
		p->ncells = (int)l;
	} else if (strcmp(k, "sensors") == 0) {
		if (parse_long(v, 1, proto->max_temps, &l))
			goto bad;
		p->ntemps = (int)l;
	} else if (strcmp(k, "chg_mos") == 0 || strcmp(k, "dsg_mos") == 0 || strcmp(k, "chg_set") == 0 ||
	           strcmp(k, "dsg_set") == 0 || strcmp(k, "full16") == 0 || strcmp(k, "junk") == 0) {
		if (parse_long(v, 0, 1, &l))
			goto bad;
		if (strcmp(k, "chg_mos") == 0)
			p->chg_mos = (int)l;
		else if (strcmp(k, "dsg_mos") == 0)
			p->dsg_mos = (int)l;
		else if (strcmp(k, "chg_set") == 0)
			p->chg_set = (int)l;
		else if (strcmp(k, "dsg_set") == 0)
			p->dsg_set = (int)l;
		else if (k[0] == 'f')
			p->full16 = (int)l;
		else
			p->junk = (int)l;
	} else if (strcmp(k, "balance") == 0) {
		if (parse_u64(v, &u))
			goto bad;
		p->balance = u;
	} else if (limit_field(p, k, &d)) {
		double *f = limit_field(p, k, &d);
		if (parse_double(v, 0, d, f))
			goto bad;
	} else if ((strcmp(k, "hvbad") == 0 || strcmp(k, "notester") == 0) && proto->hv) {
		if (parse_long(v, 0, 1, &l))
			goto bad;
		if (k[0] == 'h')
			p->hv_bad = (int)l;
		else
			p->no_tester = (int)l;
	} else if ((strcmp(k, "dialect") == 0 || strcmp(k, "nolisten") == 0) && proto->slcan) {
		if (set_can_key(p, k, v))
			goto bad;
	} else {
		snprintf(err, errlen, "unknown key '%s' (soc current capacity cycles soh mos_temp cells sensors cell temp "
		         "alarm chg_mos dsg_mos chg_set dsg_set balance full16 junk ccl dcl cvl dvl apart)", k);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad value '%s' for %s", v, k);
	return -1;
}

static void json_opt(struct sim_buf *b, const char *key, double v, int present, int decimals)
{
	sim_buf_printf(b, ",\"%s\":", key);
	if (present)
		sim_buf_num(b, v, decimals);
	else
		sim_buf_printf(b, "null");
}

void sim_view_json(struct sim_buf *b, const struct sim_view *v, const struct sim_pack *p)
{
	sim_buf_printf(b, "{\"address\":%d", v->address);
	if (p->string)
		sim_buf_printf(b, ",\"string\":%d,\"apart\":%s", p->string, p->apart ? "true" : "false");
	sim_buf_printf(b, ",\"voltage\":");
	sim_buf_num(b, v->voltage, 3);
	json_opt(b, "current", v->current, !(v->has & (SIM_HAS_BALANCER | SIM_HAS_NO_CURRENT)), 3);
	json_opt(b, "soc", v->soc, v->has & SIM_HAS_SOC, 3);
	json_opt(b, "remaining_ah", v->remaining_ah, v->has & SIM_HAS_REMAIN, 3);
	json_opt(b, "capacity_ah", v->capacity_ah, v->has & SIM_HAS_CAPACITY, 3);
	json_opt(b, "soh", v->soh, v->has & SIM_HAS_SOH, 1);
	json_opt(b, "mos_temp_c", v->mos_temp_c, v->has & SIM_HAS_MOS_TEMP, 1);
	json_opt(b, "ccl_a", v->ccl_a, v->has & SIM_HAS_CUR_LIMITS, 3);
	json_opt(b, "dcl_a", v->dcl_a, v->has & SIM_HAS_CUR_LIMITS, 3);
	json_opt(b, "cvl_v", v->cvl_v, v->has & SIM_HAS_VOLT_LIMITS, 3);
	json_opt(b, "dvl_v", v->dvl_v, v->has & SIM_HAS_VOLT_LIMITS, 3);
	if (v->has & SIM_HAS_CYCLES)
		sim_buf_printf(b, ",\"cycles\":%u", v->cycles);
	else
		sim_buf_printf(b, ",\"cycles\":null");
	sim_buf_printf(b, ",\"cells_mv\":[");
	for (int i = 0; i < v->ncells; i++)
		sim_buf_printf(b, "%s%d", i ? "," : "", v->cell_mv[i]);
	sim_buf_printf(b, "],\"temps_c\":[");
	for (int i = 0; i < v->ntemps; i++)
		sim_buf_printf(b, "%s%d", i ? "," : "", v->temp_c[i]);
	sim_buf_printf(b, "]");
	if (v->has & SIM_HAS_CELL_EXT)
		sim_buf_printf(b, ",\"cell_max_mv\":%d,\"cell_max_at\":%d,\"cell_min_mv\":%d,\"cell_min_at\":%d",
			       v->cell_max_mv, v->cell_max_at, v->cell_min_mv, v->cell_min_at);
	json_opt(b, "temp_max_c", v->tmax_c, v->has & SIM_HAS_TEMP_EXT, 2);
	json_opt(b, "temp_min_c", v->tmin_c, v->has & SIM_HAS_TEMP_EXT, 2);
	if (v->has & SIM_HAS_MOSFETS)
		sim_buf_printf(b, ",\"chg_mos\":%d,\"dsg_mos\":%d", v->chg_mos, v->dsg_mos);
	else
		sim_buf_printf(b, ",\"chg_mos\":null,\"dsg_mos\":null");
	sim_buf_printf(b, ",\"alarm_bytes\":[");
	for (int i = 0; i < v->nalarm; i++)
		sim_buf_printf(b, "%s%u", i ? "," : "", (unsigned)v->alarm[i]);
	sim_buf_printf(b, "]");
	if (v->has & SIM_HAS_BALANCING)
		sim_buf_printf(b, ",\"balancing\":%s", v->balancing ? "true" : "false");
	if (v->has & SIM_HAS_HEATER) {
		sim_buf_printf(b, ",\"heater_on\":%s", v->heater_on ? "true" : "false");
		json_opt(b, "heater_a", v->heater_a, isfinite(v->heater_a), 3);
		sim_buf_printf(b, ",\"heat\":%d,\"heat_start\":%d,\"heat_stop\":%d,\"heat_writes\":%lu", p->heat_en,
			       p->heat_start_c, p->heat_stop_c, p->set_writes_heat);
	}
	if (v->has & SIM_HAS_BALANCER) {
		json_opt(b, "balance_current", v->bal_current, 1, 4);
		sim_buf_printf(b, ",\"balancer_status\":%d,\"cell_res_mohm\":[", v->bal_status);
		for (int i = 0; i < v->ncells; i++) {
			sim_buf_printf(b, "%s", i ? "," : "");
			sim_buf_num(b, v->cell_res_mohm[i], 3);
		}
		sim_buf_printf(b, "]");
	}
	sim_buf_printf(b, ",\"balance\":%llu,\"full16\":%d,\"junk\":%d,\"fault\":\"%s\",\"fault_count\":%ld",
	               (unsigned long long)v->balance, p->full16, p->junk, sim_fault_name(p->fault),
	               p->fault_count);
	sim_buf_printf(b, ",\"chg_set\":%d,\"dsg_set\":%d,\"control\":\"%s\",\"protect\":\"%s\",\"writes\":%lu,"
	               "\"writes_applied\":%lu", p->chg_set, p->dsg_set, sim_ctl_name(p->ctl),
	               sim_fet_name(sim_pack_held(p)), p->writes, p->writes_applied);
	sim_buf_printf(b, ",\"set_writes\":%lu,\"factory\":%d", p->set_writes, p->factory);
	/* the PIN's exchanges, never the PIN */
	sim_buf_printf(b, ",\"pin_set\":%s,\"authed\":%d,\"pin_tries\":%lu,\"pin_refused\":%lu,\"locked_reads\":%lu",
		       p->pin[0] ? "true" : "false", p->authed, p->pin_tries, p->pin_refused, p->locked_reads);
	for (int n = 0, k = 0; n < 64; n++)
		if ((p->jk_written >> n) & 1)
			sim_buf_printf(b, "%s\"%d\":%lu", k++ ? "," : ",\"jk_written\":{", n, (unsigned long)p->jk_set[n]);
	if (p->jk_written)
		sim_buf_printf(b, "}");
	for (int i = 0; p->eeprom_set && i < 64; i++)
		sim_buf_printf(b, "%s%u", i ? "," : ",\"eeprom\":[", p->eeprom[i]);
	if (p->eeprom_set)
		sim_buf_printf(b, "]");
	for (int i = 0; p->d2set_ready && i < 0x50; i++)
		sim_buf_printf(b, "%s%u", i ? "," : ",\"d2set\":[", p->d2set[i]);
	if (p->d2set_ready)
		sim_buf_printf(b, "]");
	sim_truth_json(b, p);
	sim_buf_printf(b, "}");
}

void sim_truth_json(struct sim_buf *b, const struct sim_pack *p)
{
	const struct sim_model *m = &p->model;
	int rs = 0;
	for (int i = 0; i < p->ncells && i < SIM_MAX_CELLS; i++)
		rs |= p->cell_r_mohm[i] > 0;
	for (int i = 0; rs && !m->cfg.on && i < p->ncells && i < SIM_MAX_CELLS; i++)
		sim_buf_printf(b, "%s%.3f", i ? "," : ",\"cells_r_mohm\":[", p->cell_r_mohm[i]);
	if (rs && !m->cfg.on)
		sim_buf_printf(b, "]");
	if (!m->cfg.on)
		return;
	for (int i = 0; i < m->cfg.cells; i++)
		sim_buf_printf(b, "%s%.4f", i ? "," : ",\"cells_r_mohm\":[", 1000 * m->cell_r[i]);
	for (int i = 0; i < m->cfg.cells; i++)
		sim_buf_printf(b, "%s%.6f", i ? "," : "],\"cells_ah\":[", sim_model_cell_ah(m, i));
	sim_buf_printf(b, "]");
	sim_buf_printf(b, ",\"truth\":{\"soc\":%.3f,\"ah\":%.3f,\"capacity_ah\":%.3f,\"current\":%.3f,"
	               "\"bms_soc\":%.3f,\"model_time\":%.0f}", sim_model_true_soc(m), m->q, sim_model_true_ah(m),
	               m->i_true, sim_model_bms_soc(m), m->t);
}

void sim_can_json(struct sim_buf *b, const struct sim_pack *p)
{
	sim_buf_printf(b, ",\"dialect\":\"%s\",\"can_open\":\"%s\",\"nolisten\":%d,\"can_frames_heard\":%lu,"
	               "\"can_rate\":\"S%c\"}",
	               p->dialect == 13 ? "v13" : p->dialect == 1 ? "v1" : "v12",
	               p->can_open == 'L' ? "listen" : p->can_open == 'O' ? "normal" : "closed", p->no_listen,
	               p->can_heard, p->can_rate ? p->can_rate : '-');
}
