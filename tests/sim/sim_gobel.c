/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_gobel.c - a Gobel Power battery over Bluetooth LE, the BMS
 * side (bms/PROTOCOLS.md §52): Modbus RTU FC03 at slave 1 (any slave asked
 * is answered, sim_mbslave.c).  Encoded here; bms/ is deliberately not
 * used.
 *
 * 0x0000 x 0x3B: 0 current s16 0.01 A (+ charging), 1 voltage 0.01 V (the
 *   cells' sum), 2 SOC %, 3 SOH %, 4 remaining 0.01 Ah, 5 full 0.01 Ah,
 *   6 the nominal capacity 0.01 Ah, 7 cycles, 8-10 the problem words =
 *   alarm bytes 0-5 in pairs, 14 b14 charge / b15 discharge MOSFET, 15 cell
 *   count (<= 30), 16.. cells mV, 46 sensor count (<= 10), 47.. sensors s16
 *   0.1 degC, 57 the MOSFET's, 58 0xFFFF;
 * 0x00AA x 0x23: software version, serial, model (18 + 2, 20, 20 bytes).
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define GB_CELLS 30
#define GB_SENSORS 8 /* the block holds 10; the gateway keeps 8 */

enum { GB_STATUS, GB_INFO };

static const struct sim_mb_range gb_ranges[] = {
	[GB_STATUS] = { 0x03, 0x0000, 0x3B },
	[GB_INFO] = { 0x03, 0x00AA, 0x23 },
};

struct gb_raw {
	int ncells, nsensors;
	unsigned cell_mv[GB_CELLS];
	unsigned volt_cv, soc, soh, remain_cah, full_cah;
	long current_ca;
};

static void gb_quantise(const struct sim_pack *p, struct gb_raw *r)
{
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, GB_CELLS, 0, r->cell_mv, &r->ncells);
	r->current_ca = sim_mb_current_ca(p);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->full_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * r->soc), 0, 65535);
	r->nsensors = p->ntemps > GB_SENSORS ? GB_SENSORS : p->ntemps;
}

static void gb_status(const struct sim_pack *p, uint16_t *v)
{
	struct gb_raw r;
	gb_quantise(p, &r);
	v[0] = (uint16_t)(r.current_ca & 0xFFFF);
	v[1] = (uint16_t)r.volt_cv;
	v[2] = (uint16_t)r.soc;
	v[3] = (uint16_t)r.soh;
	v[4] = (uint16_t)r.remain_cah;
	v[5] = (uint16_t)r.full_cah;
	v[6] = (uint16_t)r.full_cah;
	v[7] = (uint16_t)(p->cycles & 0xFFFF);
	for (int i = 0; i < 3; i++)
		v[8 + i] = (uint16_t)(p->alarm[2 * i] << 8 | p->alarm[2 * i + 1]);
	v[14] = (uint16_t)((p->chg_mos ? 0x4000 : 0) | (p->dsg_mos ? 0x8000 : 0));
	v[15] = (uint16_t)r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v[16 + i] = (uint16_t)r.cell_mv[i];
	v[46] = (uint16_t)r.nsensors;
	for (int i = 0; i < r.nsensors; i++)
		v[47 + i] = (uint16_t)(p->temp_c[i] * 10 & 0xFFFF);
	v[57] = (uint16_t)(p->mos_temp_c * 10 & 0xFFFF);
	v[58] = 0xFFFF;
}

static void gb_image(const struct sim_pack *p, int range, uint16_t *v)
{
	uint8_t b[70] = { 0 };
	if (range == GB_STATUS) {
		gb_status(p, v);
		return;
	}
	memcpy(b, "SIM200A-00001-1.00", 18);
	memcpy(b + 20, "SIMGOBEL0000001P    ", 20);
	memcpy(b + 40, "GP-LA12-SIM", 11);
	for (int i = 0; i < 35; i++)
		v[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
}

static void gb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct gb_raw r;
	gb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
	         SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_ALARMS;
	if (r.nsensors)
		v->has |= SIM_HAS_TEMPS;
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
	v->ntemps = r.nsensors;
	for (int i = 0; i < r.nsensors; i++)
		v->temp_c[i] = (int16_t)(p->temp_c[i] & 0xFFFF);
	v->mos_temp_c = (int16_t)(p->mos_temp_c & 0xFFFF);
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 6;
	memcpy(v->alarm, p->alarm, 6);
}

static const struct sim_mb_slave gb_slave = { gb_ranges, 2, gb_image, 0 };

SIM_MB_BLE_FUNCS(gb, gb_slave)

const struct sim_proto sim_proto_gobel = {
	.name = "gobel",
	.ble_name = "BMS-1A2B3C4D5E6F7A8B",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = GB_CELLS,
	.max_temps = GB_SENSORS,
	.scan = sim_mb_ble_scan,
	.address = sim_mb_ble_address,
	.respond = gb_respond,
	.view = gb_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
