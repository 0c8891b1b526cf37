/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_renogy.c - Renogy smart LiFePO4 (Modbus RTU V1.7), the BMS
 * side (bms/PROTOCOLS.md §18, §24).  Framing: sim_mbslave.c.  Encoded here;
 * bms/ is deliberately not used.
 *
 * Slave = the pack's address (48 = 0x30 alone or first on a hub, 0x30-0x37
 * on a hub, 247 on some), 9600 8N1.  FC03 reads inside 5000 x 34, 5042 x 7
 * and 5100 x 32 (registers in decimal):
 *   5000 cell count, 5001-5016 cells 0.1 V, 5017 temperature count (the
 *   pack's sensors), 5018-5033 temperatures s16 0.1 degC;
 *   5042 current s16 0.01 A, 5043 voltage 0.1 V (sum of the cells), 5044-45
 *   remaining mAh, 5046-47 full mAh (u32), 5048 cycles;
 *   5100-5103 cell voltage / temperature alarm fields (0), 5104-5105 other
 *   alarms = alarm bytes 4-7, 5106 status 1 = alarm bytes 0 << 8 | 1 with b1
 *   charge / b2 discharge MOSFET on, 5107 status 2 = bytes 2 << 8 | 3 with
 *   b14 discharging / b15 charging, 5110 serial (8 registers of text), 5118
 *   (4, spaces), 5122 model (8), 5130 software (2).
 * FC03 5200 x 22, the battery's own levels (§24.4), those a RBT100LFP12SH-G1
 * read out (Grmume/renogy-smart-battery's README), the module's scaled to
 * the pack's cells: cell OV / high / low / UV 3.7 / 3.5 / 3.0 / 2.5 V,
 * charge OT / high / low / UT 55 / 50 / 5 / 0 degC, charge over 2 / over 1
 * / high 120 / 100 / 60 A, module OV / high / low / UV 3.7 / 3.55 / 3.0 /
 * 2.5 V a cell, discharge OT / high / low / UT 60 / 50 / -10 / -25 degC,
 * discharge over 2 / over 1 / high -150 / -130 / -110 A (s16 0.01 A);
 * a pack with nosettings=1 does not answer it.
 * The cells go on the wire in 0.1 V: what the view shows.  Anything else:
 * exception 02.
 */
#include "sim_renogy.h"

#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define RNG_CELLS 16
#define RNG_TEMPS 16

enum { RNG_CELL, RNG_PACK, RNG_STATUS, RNG_SETTINGS };

static const struct sim_mb_range rng_ranges[] = {
	[RNG_CELL] = { 0x03, 5000, 34 },
	[RNG_PACK] = { 0x03, 5042, 7 },
	[RNG_STATUS] = { 0x03, 5100, 32 },
	[RNG_SETTINGS] = { 0x03, 5200, 22 },
};

struct rng_raw {
	int ncells, ntemps;
	unsigned cell_dv[RNG_CELLS];
	unsigned volt_dv;
	long current_raw; /* in 1 / per_amp A */
	uint32_t remain_mah, full_mah;
};

static void rng_quantise(const struct sim_pack *p, struct rng_raw *r, int per_amp)
{
	unsigned long sum = 0;
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells > RNG_CELLS ? RNG_CELLS : p->ncells;
	for (int i = 0; i < r->ncells; i++) {
		long mv = sim_pack_cell_mv(p, i);
		r->cell_dv[i] = (unsigned)sim_mb_clamp((mv + 50) / 100, 0, 65535);
		sum += (unsigned long)sim_mb_clamp(mv, 0, 65535);
	}
	r->ntemps = p->ntemps > RNG_TEMPS ? RNG_TEMPS : p->ntemps;
	r->volt_dv = (unsigned)sim_mb_clamp((long)((sum + 50) / 100), 0, 65535);
	r->current_raw = sim_mb_clamp(lround(p->current * per_amp), -32768, 32767);
	r->full_mah = (uint32_t)sim_mb_clamp(lround(p->capacity_ah * 1000.0), 0, 0x7FFFFFFF);
	r->remain_mah = (uint32_t)lround(r->full_mah * sim_mb_clamp(lround(p->soc * 10.0), 0, 1000) / 1000.0);
}

static void rng_status(const struct sim_pack *p, const struct rng_raw *r, uint16_t *v, int pro)
{
	if (pro) {
		v[1] = pro == SIM_RNG_RNGPRO ? 0x00AA : 0; /* not V1.7's alarm fields */
	} else {
		v[4] = (uint16_t)(p->alarm[4] << 8 | p->alarm[5]);
		v[5] = (uint16_t)(p->alarm[6] << 8 | p->alarm[7]);
	}
	v[6] = (uint16_t)(p->alarm[0] << 8 | p->alarm[1]);
	v[6] = (uint16_t)((v[6] & ~0x0006u) | (p->chg_mos ? 0x0002u : 0) | (p->dsg_mos ? 0x0004u : 0));
	v[7] = (uint16_t)(p->alarm[2] << 8 | p->alarm[3]);
	v[7] = (uint16_t)((v[7] & 0x3FFFu) | (r->current_raw > 0 ? 0x8000u : r->current_raw < 0 ? 0x4000u : 0));
	sim_mb_text(v + 10, 8, "SIMRNG00000001");
	sim_mb_text(v + 18, 4, "        ");
	sim_mb_text(v + 22, 8, "RBT100LFP12-SIM");
	sim_mb_text(v + 30, 2, "0100");
}

/* 5200 x 22: the levels, the module's for the pack's cells */
static void rng_settings(const struct sim_pack *p, uint16_t *v)
{
	static const int16_t lv[22] = { 37, 35, 30, 25, 550, 500, 50, 0, 12000, 10000, 6000,
					0, 0, 0, 0, 600, 500, -100, -250, -15000, -13000, -11000 };
	static const int cell_dv[4] = { 370, 355, 300, 250 }; /* a cell's share, 0.01 V */
	int n = p->ncells > RNG_CELLS ? RNG_CELLS : p->ncells;
	for (int i = 0; i < 22; i++)
		v[i] = (uint16_t)lv[i];
	for (int i = 0; i < 4; i++)
		v[11 + i] = (uint16_t)((cell_dv[i] * n + 5) / 10);
}

void sim_rng_image(const struct sim_pack *p, int range, uint16_t *v, int per_amp, int pro)
{
	if (range == RNG_SETTINGS) {
		rng_settings(p, v);
		return;
	}
	struct rng_raw r;
	rng_quantise(p, &r, per_amp);
	switch (range) {
	case RNG_CELL:
		v[0] = (uint16_t)r.ncells;
		for (int i = 0; i < r.ncells; i++)
			v[1 + i] = (uint16_t)r.cell_dv[i];
		v[17] = (uint16_t)r.ntemps;
		for (int i = 0; i < r.ntemps; i++)
			v[18 + i] = (uint16_t)((p->temp_c[i] * 10) & 0xFFFF);
		break;
	case RNG_PACK:
		v[0] = (uint16_t)(r.current_raw & 0xFFFF);
		v[1] = (uint16_t)r.volt_dv;
		v[2] = (uint16_t)(r.remain_mah >> 16);
		v[3] = (uint16_t)r.remain_mah;
		v[4] = (uint16_t)(r.full_mah >> 16);
		v[5] = (uint16_t)r.full_mah;
		v[6] = (uint16_t)(p->cycles & 0xFFFF);
		break;
	default:
		rng_status(p, &r, v, pro);
		break;
	}
}

static void rng_image(const struct sim_pack *p, int range, uint16_t *v)
{
	sim_rng_image(p, range, v, 100, 0);
}

void sim_rng_view(const struct sim_pack *p, struct sim_view *v, int per_amp, int pro)
{
	struct rng_raw r;
	uint16_t st[32] = { 0 };
	rng_quantise(p, &r, per_amp);
	rng_status(p, &r, st, pro);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
	         SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_dv / 10.0;
	v->current = (double)r.current_raw / per_amp;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->capacity_ah = r.full_mah / 1000.0;
	v->soc = r.full_mah ? (r.remain_mah >= r.full_mah ? 100.0 : r.remain_mah * 100.0 / r.full_mah) : 0;
	if (!r.full_mah)
		v->has &= ~(unsigned)SIM_HAS_SOC;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_dv[i] * 100;
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	/* as on the wire: status 1, status 2, the other-alarm words */
	uint16_t w[4] = { st[6], st[7], st[4], st[5] };
	v->nalarm = pro ? 4 : 8;
	for (int i = 0; i < v->nalarm / 2; i++) {
		v->alarm[2 * i] = (uint8_t)(w[i] >> 8);
		v->alarm[2 * i + 1] = (uint8_t)w[i];
	}
}

static void rng_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_rng_view(p, v, 100, 0);
}

static const struct sim_mb_slave rng_slave = { rng_ranges, 4, rng_image, 1 + RNG_SETTINGS };

SIM_MB_FUNCS(rng, rng_slave, 1, 247)

const struct sim_proto sim_proto_renogy = {
	.name = "renogy",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 247,
	.max_cells = RNG_CELLS,
	.max_temps = RNG_TEMPS,
	.scan = rng_scan,
	.address = sim_mb_address,
	.respond = rng_respond,
	.view = rng_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
