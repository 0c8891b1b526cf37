/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_eg4_ll.c - EG4-LL / LifePower4 V2 (Modbus RTU), the BMS side
 * (bms/PROTOCOLS.md §18, §23).  Framing: sim_mbslave.c.  Encoded here; bms/
 * is deliberately not used.
 *
 * Slave = the pack's address (the DIP address, or 0x40 = 64 for auto-ID
 * packs), 9600 8N1.  FC03 reads inside 0x0000 x 0x27 and 0x0069 x 0x17:
 *   0 voltage 10 mV (sum of the cells), 1 current s16 10 mA, 2-17 cells mV
 *   (0 past the pack's cells), 18 PCB (= MOS) temperature degC, 19 / 20 the
 *   average / highest cell temperature, 21 remaining Ah (not read: its unit
 *   is uncertain), 22 the charging current limit A (0 while the charge
 *   MOSFET is off), 23 SOH %, 24 SOC %, 25 status (b0 charging, b1
 *   discharging), 26 warning = alarm bytes 0 << 8 | 1, 27 protection = 2 << 8
 *   | 3, 28 error = 4 << 8 | 5, 29-30 cycles u32, 31-32 full capacity u32
 *   mAs, 33-35 six s8 temperatures (the pack's first four, 0, 0), 36 the
 *   cell count, 37 design capacity 0.1 Ah, 38 balancing cells 1-16;
 *   0x69 model (12 registers of text), 0x75 firmware (3), 0x78 serial (8).
 * Anything else: exception 02.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define LL_CELLS 16
#define LL_TEMPS 4
#define LL_MAS_PER_AH 3600000.0

enum { LL_LIVE, LL_IDENT };

static const struct sim_mb_range ll_ranges[] = {
	[LL_LIVE] = { 0x03, 0x0000, 0x27 },
	[LL_IDENT] = { 0x03, 0x0069, 0x17 },
};

struct ll_raw {
	int ncells;
	unsigned cell_mv[LL_CELLS];
	unsigned volt_cv, soc, soh, ccl;
	long current_ca;
	uint32_t full_mas;
	uint16_t balance;
};

static void ll_quantise(const struct sim_pack *p, struct ll_raw *r)
{
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, LL_CELLS, 0, r->cell_mv, &r->ncells);
	r->current_ca = sim_mb_current_ca(p);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->ccl = p->chg_mos ? (unsigned)sim_mb_clamp(lround(p->ccl_a), 0, 65535) : 0;
	r->full_mas = (uint32_t)sim_mb_clamp(lround(p->capacity_ah * LL_MAS_PER_AH), 0, 0x7FFFFFFF);
	r->balance = (uint16_t)(p->balance & ((1u << r->ncells) - 1));
}

static void ll_live(const struct sim_pack *p, uint16_t *v)
{
	struct ll_raw r;
	ll_quantise(p, &r);
	v[0] = (uint16_t)r.volt_cv;
	v[1] = (uint16_t)(r.current_ca & 0xFFFF);
	for (int i = 0; i < r.ncells; i++)
		v[2 + i] = (uint16_t)r.cell_mv[i];
	int tmax = p->temp_c[0], tsum = p->temp_c[0];
	for (int i = 1; i < LL_TEMPS; i++) {
		tmax = p->temp_c[i] > tmax ? p->temp_c[i] : tmax;
		tsum += p->temp_c[i];
	}
	v[18] = (uint16_t)(p->mos_temp_c & 0xFFFF);
	v[19] = (uint16_t)((tsum / LL_TEMPS) & 0xFFFF);
	v[20] = (uint16_t)(tmax & 0xFFFF);
	v[21] = (uint16_t)sim_mb_clamp(lround(p->capacity_ah * r.soc / 100.0), 0, 65535);
	v[22] = (uint16_t)r.ccl;
	v[23] = (uint16_t)r.soh;
	v[24] = (uint16_t)r.soc;
	v[25] = (uint16_t)(r.current_ca > 0 ? 0x01 : r.current_ca < 0 ? 0x02 : 0);
	for (int i = 0; i < 3; i++)
		v[26 + i] = (uint16_t)(p->alarm[2 * i] << 8 | p->alarm[2 * i + 1]);
	v[29] = (uint16_t)(p->cycles >> 16);
	v[30] = (uint16_t)p->cycles;
	v[31] = (uint16_t)(r.full_mas >> 16);
	v[32] = (uint16_t)r.full_mas;
	for (int i = 0; i < LL_TEMPS; i += 2)
		v[33 + i / 2] = (uint16_t)((p->temp_c[i] & 0xFF) << 8 | (p->temp_c[i + 1] & 0xFF));
	v[36] = (uint16_t)r.ncells;
	v[37] = (uint16_t)sim_mb_clamp(lround(p->capacity_ah * 10.0), 0, 65535);
	v[38] = (uint16_t)r.balance;
}

static void ll_image(const struct sim_pack *p, int range, uint16_t *v)
{
	if (range == LL_LIVE) {
		ll_live(p, v);
		return;
	}
	sim_mb_text(v, 12, "LFP-51.2V100Ah-SIM");
	sim_mb_text(v + 12, 3, "Z02T04");
	sim_mb_text(v + 15, 8, "SIM-EG4LL-0001");
}

static void ll_view(const struct sim_pack *p, struct sim_view *v)
{
	struct ll_raw r;
	ll_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP | SIM_HAS_CELLS |
	         SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->capacity_ah = r.full_mas / LL_MAS_PER_AH;
	v->cycles = p->cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = LL_TEMPS;
	for (int i = 0; i < LL_TEMPS; i++)
		v->temp_c[i] = (int8_t)(p->temp_c[i] & 0xFF);
	v->mos_temp_c = (int16_t)(p->mos_temp_c & 0xFFFF);
	v->nalarm = 6;
	memcpy(v->alarm, p->alarm, 6);
	v->balance = r.balance;
}

static const struct sim_mb_slave ll_slave = { ll_ranges, 2, ll_image, 0 };

SIM_MB_FUNCS(ll, ll_slave, 1, 247)

const struct sim_proto sim_proto_eg4_ll = {
	.name = "eg4-ll",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 247,
	.max_cells = LL_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = ll_scan,
	.address = sim_mb_address,
	.respond = ll_respond,
	.view = ll_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
