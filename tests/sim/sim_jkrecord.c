/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jkrecord.c - JK's 300-byte records, the BMS side (see
 * sim_jkrecord.h). */
#include "sim_jkrecord.h"

#include <math.h>
#include <string.h>

/* Everything a cell record carries, in wire units. */
struct jk_raw {
	bool l24;
	int ncells;
	unsigned cell_mv[SIM_JK_CELLS];
	unsigned long volt_mv;
	long current_ma;       /* + = charging */
	unsigned soc;          /* % */
	long remain_mah;
	unsigned long full_mah;
	unsigned soh;
	int mos_dc;            /* 0.1 degC */
	int ntemps;
	int temp_dc[SIM_JK_TEMPS]; /* 0.1 degC */
	uint32_t alarms;
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void jk_quantise(const struct sim_pack *p, bool layout24, struct jk_raw *r)
{
	memset(r, 0, sizeof *r);
	r->l24 = layout24;
	int maxc = layout24 ? 24 : SIM_JK_CELLS;
	r->ncells = p->ncells < maxc ? p->ncells : maxc;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 0, 65535);
		r->volt_mv += r->cell_mv[i];
	}
	r->current_ma = clampl(lround(p->current * 1000.0), -2000000000L, 2000000000L);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->full_mah = (unsigned long)lround(p->capacity_ah * 1000.0);
	r->remain_mah = lround(p->capacity_ah * 1000.0 * p->soc / 100.0);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->mos_dc = (int)clampl(p->mos_temp_c, -3276, 3276) * 10;
	int maxt = layout24 ? 2 : SIM_JK_TEMPS;
	r->ntemps = p->ntemps < maxt ? p->ntemps : maxt;
	for (int i = 0; i < SIM_JK_TEMPS; i++)
		r->temp_dc[i] = p->temp_c[i] * 10;
	r->alarms = (uint32_t)p->alarm[0] | (uint32_t)p->alarm[1] << 8;
	if (!layout24)
		r->alarms |= (uint32_t)p->alarm[2] << 16 | (uint32_t)p->alarm[3] << 24;
	/* a protection holding a MOSFET off: alarm b8 charge OTP / b15
	 * discharge OTP (JK_BMS.RS485.Modbus.v1_0.pdf, status 0x12A0) */
	unsigned held = sim_pack_held(p);
	if (held & SIM_FET_CHG)
		r->alarms |= 1ul << 8;
	if (held & SIM_FET_DSG)
		r->alarms |= 1ul << 15;
}

void sim_jk_le16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

void sim_jk_le32(uint8_t *b, unsigned long v)
{
	sim_jk_le16(b, (unsigned)(v & 0xFFFF));
	sim_jk_le16(b + 2, (unsigned)((v >> 16) & 0xFFFF));
}

void sim_jk_text(uint8_t *b, const char *s)
{
	memcpy(b, s, strlen(s));
}

void sim_jk_begin(uint8_t *f, unsigned type, uint8_t counter)
{
	memset(f, 0, SIM_JK_REC);
	f[0] = 0x55;
	f[1] = 0xAA;
	f[2] = 0xEB;
	f[3] = 0x90;
	f[4] = (uint8_t)type;
	f[5] = counter;
}

/* The settings block as it starts, JK02 register n -> its UINT32: smart
 * sleep, cell UVP / release, OVP / release, balancing trigger, SOC 100 % /
 * 0 %, request charge / float and power-off voltages (mV); OCP delays and
 * releases, SCP release (s); balancing current (mA); charge / discharge
 * OTP with releases, charge UTP with release, MOS OTP with release (0.1
 * degC); the balancer; SCP delay (us); balancing start (mV). */
static const struct {
	uint8_t n;
	long v;
} jk_set_default[] = {
	{ 0x01, 3500 }, { 0x02, 2700 }, { 0x03, 2900 }, { 0x04, 3650 }, { 0x05, 3440 }, { 0x06, 5 },
	{ 0x07, 3445 }, { 0x08, 2900 }, { 0x09, 3450 }, { 0x0A, 3350 }, { 0x0B, 2500 },
	{ 0x0D, 30 }, { 0x0E, 60 }, { 0x10, 30 }, { 0x11, 60 }, { 0x12, 5 }, { 0x13, 2000 },
	{ 0x14, 600 }, { 0x15, 550 }, { 0x16, 600 }, { 0x17, 550 }, { 0x18, -100 }, { 0x19, -50 },
	{ 0x1A, 1000 }, { 0x1B, 800 }, { 0x1F, 1 }, { 0x21, 1500 }, { 0x22, 3350 },
};

/* What the settings record shows of register n. */
static uint32_t jk_set_value(const struct sim_pack *p, unsigned n)
{
	switch (n) {
	case 0x0C:
		return (uint32_t)sim_jk_limit_ma(p->ccl_a); /* max charge current mA */
	case 0x0F:
		return (uint32_t)sim_jk_limit_ma(p->dcl_a); /* max discharge current mA */
	case 0x1C:
		return (uint32_t)p->ncells;
	case 0x1D:
		return p->chg_set ? 1 : 0; /* the switch settings */
	case 0x1E:
		return p->dsg_set ? 1 : 0;
	default:
		break;
	}
	if (n < 64 && (p->jk_written >> n) & 1)
		return p->jk_set[n];
	if (n == 0x20)
		return (uint32_t)lround(p->capacity_ah * 1000.0);
	for (size_t i = 0; i < sizeof jk_set_default / sizeof jk_set_default[0]; i++)
		if (jk_set_default[i].n == n)
			return (uint32_t)(int32_t)jk_set_default[i].v;
	return 0;
}

/* The UINT32 of the settings block's 0x1114 (JK02 register 0x46, record
 * 282..285): the control bits (bit 0 heating enabled) and the heating's
 * start and stop temperatures (s8 degC, bytes 2 and 3). */
static uint32_t jk_heat_word(const struct sim_pack *p)
{
	return (p->heat_en ? 1u : 0u) | (uint32_t)(uint8_t)(int8_t)p->heat_start_c << 16 |
	       (uint32_t)(uint8_t)(int8_t)p->heat_stop_c << 24;
}

void sim_jk_settings(const struct sim_pack *p, uint8_t counter, uint8_t *f)
{
	sim_jk_begin(f, 1, counter);
	for (unsigned n = 1; n <= SIM_JK_SET_LAST; n++)
		sim_jk_le32(f + 6 + 4 * (n - 1), jk_set_value(p, n));
	sim_jk_le32(f + 6 + 0x108, (unsigned long)p->address);
	sim_jk_le32(f + 6 + 4 * (SIM_JK_SET_HEAT - 1), jk_heat_word(p));
	sim_jk_end(f);
}

int sim_jk_set_writable(unsigned n)
{
	return (n >= 0x01 && n <= SIM_JK_SET_LAST && n != 0x1C && n != 0x1D && n != 0x1E) || n == SIM_JK_SET_HEAT;
}

void sim_jk_set_write(struct sim_pack *p, unsigned n, uint32_t v)
{
	if (!sim_jk_set_writable(n))
		return;
	if (n == SIM_JK_SET_HEAT) {
		p->heat_en = (int)(v & 1u);
		p->heat_start_c = (int8_t)(uint8_t)(v >> 16);
		p->heat_stop_c = (int8_t)(uint8_t)(v >> 24);
		p->set_writes_heat++;
		return;
	}
	if (n == 0x0C)
		p->ccl_a = v / 1000.0;
	else if (n == 0x0F)
		p->dcl_a = v / 1000.0;
	p->jk_set[n] = v;
	p->jk_written |= (uint64_t)1 << n;
}

void sim_jk_end(uint8_t *f)
{
	unsigned s = 0;
	for (int i = 0; i < SIM_JK_REC - 1; i++)
		s += f[i];
	f[SIM_JK_REC - 1] = (uint8_t)s;
}

static unsigned s16(int v)
{
	return (unsigned)(uint16_t)(int16_t)v;
}

void sim_jk_cells(const struct sim_pack *p, bool layout24, uint8_t counter, uint8_t *f)
{
	struct jk_raw r;
	jk_quantise(p, layout24, &r);
	sim_jk_begin(f, 2, counter);
	unsigned sum = 0, imax = 0, imin = 0;
	for (int i = 0; i < r.ncells; i++) {
		sim_jk_le16(f + 6 + 2 * i, r.cell_mv[i]);
		sum += r.cell_mv[i];
		if (r.cell_mv[i] > r.cell_mv[imax])
			imax = (unsigned)i;
		if (r.cell_mv[i] < r.cell_mv[imin])
			imin = (unsigned)i;
	}
	unsigned present = 0x01; /* MOS sensor */
	for (int i = 0; i < r.ntemps; i++)
		present |= 1u << (i + 1);
	int m = layout24 ? 16 : 0; /* the mask and its neighbours: 16 bytes earlier */
	int o = layout24 ? 32 : 0; /* every later field: 32 bytes earlier */
	sim_jk_le32(f + 70 - m, r.ncells >= 32 ? 0xFFFFFFFFul : (1ul << r.ncells) - 1);
	sim_jk_le16(f + 74 - m, r.ncells ? sum / (unsigned)r.ncells : 0);
	sim_jk_le16(f + 76 - m, r.ncells ? r.cell_mv[imax] - r.cell_mv[imin] : 0);
	f[78 - m] = (uint8_t)imax;
	f[79 - m] = (uint8_t)imin;
	for (int i = 0; i < r.ncells; i++)
		sim_jk_le16(f + 80 - m + 2 * i, 50 + (unsigned)i); /* balance-wire resistance, mOhm */
	sim_jk_le32(f + 150 - o, r.volt_mv);
	double pw = (double)r.volt_mv * (double)r.current_ma / 1000.0;
	sim_jk_le32(f + 154 - o, (unsigned long)clampl(lround(fabs(pw)), 0, 0x7FFFFFFFL));
	sim_jk_le32(f + 158 - o, (unsigned long)(uint32_t)(int32_t)r.current_ma);
	sim_jk_le16(f + 162 - o, s16(r.temp_dc[0]));
	sim_jk_le16(f + 164 - o, s16(r.temp_dc[1]));
	if (layout24) {
		sim_jk_le16(f + 134, s16(r.mos_dc));
		sim_jk_le16(f + 136, (unsigned)(r.alarms & 0xFFFF));
	} else {
		sim_jk_le16(f + 144, s16(r.mos_dc));
		sim_jk_le32(f + 166, r.alarms);
		sim_jk_le32(f + 186, (unsigned long)p->cycles * r.full_mah); /* cycle capacity */
	}
	f[172 - o] = p->balance ? 1 : 0; /* balancer state */
	f[173 - o] = (uint8_t)r.soc;
	sim_jk_le32(f + 174 - o, (unsigned long)(uint32_t)(int32_t)r.remain_mah);
	sim_jk_le32(f + 178 - o, r.full_mah);
	sim_jk_le32(f + 182 - o, p->cycles);
	f[190 - o] = (uint8_t)r.soh;
	sim_jk_le32(f + 194 - o, p->life);
	f[198 - o] = p->chg_mos ? 1 : 0;
	f[199 - o] = p->dsg_mos ? 1 : 0;
	f[214 - o] = (uint8_t)present;
	if (!layout24) {
		/* the heater (JK-PB: 215 on, 236 its current mA) */
		int heat = sim_pack_heater_on(p);
		f[215] = heat ? 1 : 0;
		sim_jk_le16(f + 236, heat ? (unsigned)p->heat_ma : 0);
	}
	if (!layout24) {
		sim_jk_le16(f + 254, s16(r.mos_dc)); /* a copy, as in the captures */
		sim_jk_le16(f + 256, s16(r.temp_dc[2]));
		sim_jk_le16(f + 258, s16(r.temp_dc[3]));
	}
	sim_jk_end(f);
}

void sim_jk_view(const struct sim_pack *p, bool layout24, struct sim_view *v)
{
	struct jk_raw r;
	jk_quantise(p, layout24, &r);
	memset(v, 0, sizeof *v);
	/* the record has no per-cell balancing */
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH |
		 SIM_HAS_MOS_TEMP | SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.current_ma / 1000.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->capacity_ah = r.full_mah / 1000.0;
	v->cycles = p->cycles;
	v->soh = r.soh;
	v->mos_temp_c = r.mos_dc / 10.0;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_dc[i] / 10;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = layout24 ? 2 : 4;
	for (int i = 0; i < v->nalarm; i++)
		v->alarm[i] = (uint8_t)(r.alarms >> (8 * i));
}

unsigned long sim_jk_limit_ma(double a)
{
	long ma = lround(a * 1000.0);
	return ma < 0 ? 0ul : (unsigned long)ma;
}

void sim_jk_view_limits(const struct sim_pack *p, struct sim_view *v)
{
	v->has |= SIM_HAS_CUR_LIMITS;
	v->ccl_a = p->chg_set ? (double)sim_jk_limit_ma(p->ccl_a) / 1000.0 : 0.0;
	v->dcl_a = p->dsg_set ? (double)sim_jk_limit_ma(p->dcl_a) / 1000.0 : 0.0;
}
