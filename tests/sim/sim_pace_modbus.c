/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pace_modbus.c - a PACE BMS with its RS485 port set to Modbus
 * (PACE "Modbus Protocol for RS485" V1.3), the BMS side (bms/PROTOCOLS.md
 * §18, §25).  Framing: sim_mbslave.c.  Encoded here; bms/ is deliberately
 * not used.
 *
 * Slave = the pack's address, 9600 8N1.  FC03 reads inside 0 x 60, 60 x 55
 * and 150 x 30 (registers in decimal):
 *   0 current s16 10 mA, 1 voltage 10 mV (sum of the cells), 2 SOC %, 3 SOH
 *   %, 4 / 5 / 6 remaining / full / design capacity 10 mAh, 7 cycles, 9
 *   warning = alarm bytes 0 << 8 | 1, 10 protection = 2 << 8 | 3, 11
 *   status / fault: alarm byte 4 (the faults), b8 charging, b9
 *   discharging, b10 / b11 charge / discharge MOSFET on, 12 balancing cells
 *   1-16, 15-30 cells mV (0 past the pack's cells), 31-34 temperatures 1-4
 *   s16 0.1 degC (always four: the pack's first four), 35 MOSFET, 36
 *   environment (the pack's fifth temperature); 60-114 the settings (a
 *   16S LFP pack's levels: pack OVP 57.6 V, cell OVP 3.65 V release 3.4 V
 *   delay 1 s, pack UVP 44.8 V, cell UVP 2.7 V release 3.0 V, charge /
 *   discharge OCP 110 A after 3 s, charge OTP 55 / release 50, discharge
 *   OTP 60 / 55, charge UTP 0 / 5, discharge UTP -20 / -15, MOSFET OTP
 *   110 / 85 degC, balancing from 3.4 V at 30 mV, sleep 2.5 V, short
 *   circuit after 300 us; a pack with nosettings=1 does not answer them);
 *   150 version, 160 BMS serial, 170 pack serial (10 registers of
 *   text each).  Anything else: exception 02.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define PM_CELLS 16
#define PM_SENSORS 4

enum { PM_LIVE, PM_IDENT, PM_SET };

static const struct sim_mb_range pm_ranges[] = {
	[PM_LIVE] = { 0x03, 0, 60 },
	[PM_IDENT] = { 0x03, 150, 30 },
	[PM_SET] = { 0x03, 60, 55 },
};

/* 60 .. 114 */
static const int16_t pm_set[55] = {
	(int16_t)56800, (int16_t)57600, (int16_t)54000, 10, 3550, 3650, 3400, 10,
	(int16_t)48000, (int16_t)44800, (int16_t)49600, 10, 2900, 2700, 3000, 10,
	105, 110, 30, 105, 110, 30, 150, 40,
	500, 550, 500, 550, 600, 550, 20, 0, 50, -150, -200, -150,
	1000, 1100, 850, 600, 650, 550, -200, -250, -200,
	3400, 30, (int16_t)56000, 2000, 2500, 720, 12, 10, 150, 40,
};

struct pm_raw {
	int ncells;
	unsigned cell_mv[PM_CELLS];
	unsigned volt_cv, soc, soh, remain_cah, full_cah;
	long current_ca;
	uint16_t status;
	uint32_t balance;
};

static void pm_quantise(const struct sim_pack *p, struct pm_raw *r)
{
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, PM_CELLS, 1, r->cell_mv, &r->ncells);
	r->current_ca = sim_mb_current_ca(p);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->full_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)lround(r->full_cah * r->soc / 100.0);
	r->status = (uint16_t)(p->alarm[4] | (r->current_ca > 0 ? 0x0100 : r->current_ca < 0 ? 0x0200 : 0) |
	                       (p->chg_mos ? 0x0400 : 0) | (p->dsg_mos ? 0x0800 : 0));
	r->balance = (uint32_t)(p->balance & ((1u << r->ncells) - 1));
}

static void pm_image(const struct sim_pack *p, int range, uint16_t *v)
{
	struct pm_raw r;
	pm_quantise(p, &r);
	if (range == PM_SET) {
		for (int i = 0; i < 55; i++)
			v[i] = (uint16_t)pm_set[i];
		return;
	}
	if (range == PM_IDENT) {
		sim_mb_text(v, 10, "P16S100A-SIM-1.0");
		sim_mb_text(v + 10, 10, "SIMPACEBMS0001");
		sim_mb_text(v + 20, 10, "SIMPACEPACK0001");
		return;
	}
	v[0] = (uint16_t)(r.current_ca & 0xFFFF);
	v[1] = (uint16_t)r.volt_cv;
	v[2] = (uint16_t)r.soc;
	v[3] = (uint16_t)r.soh;
	v[4] = (uint16_t)r.remain_cah;
	v[5] = (uint16_t)r.full_cah;
	v[6] = (uint16_t)r.full_cah;
	v[7] = (uint16_t)(p->cycles & 0xFFFF);
	v[9] = (uint16_t)(p->alarm[0] << 8 | p->alarm[1]);
	v[10] = (uint16_t)(p->alarm[2] << 8 | p->alarm[3]);
	v[11] = r.status;
	v[12] = (uint16_t)r.balance;
	for (int i = 0; i < r.ncells; i++)
		v[15 + i] = (uint16_t)r.cell_mv[i];
	for (int i = 0; i < PM_SENSORS; i++)
		v[31 + i] = (uint16_t)((p->temp_c[i] * 10) & 0xFFFF);
	v[35] = (uint16_t)((p->mos_temp_c * 10) & 0xFFFF);
	v[36] = (uint16_t)((p->temp_c[PM_SENSORS] * 10) & 0xFFFF);
}

static void pm_view(const struct sim_pack *p, struct sim_view *v)
{
	struct pm_raw r;
	pm_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
	         SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = PM_SENSORS + 1; /* and the environment */
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->mos_temp_c = p->mos_temp_c;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 5;
	memcpy(v->alarm, p->alarm, 5);
	v->balance = r.balance;
}

static const struct sim_mb_slave pm_slave = { pm_ranges, 3, pm_image, 1 + PM_SET };

SIM_MB_FUNCS(pm, pm_slave, 1, 247)

const struct sim_proto sim_proto_pace_modbus = {
	.name = "pace-modbus",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 247,
	.max_cells = PM_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = pm_scan,
	.address = sim_mb_address,
	.respond = pm_respond,
	.view = pm_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
