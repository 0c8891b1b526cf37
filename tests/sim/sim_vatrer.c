/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_vatrer.c - a Vatrer wall / rack battery (non-JBD) over
 * Bluetooth LE, the BMS side (bms/PROTOCOLS.md §50): Modbus RTU FC03 at
 * slave 2 (any slave asked is answered, sim_mbslave.c).  Encoded here;
 * bms/ is deliberately not used.
 *
 * 0x0000 x 0x14: 0 voltage 0.01 V (the cells' sum), 1-2 current s32
 *   0.01 A (+ charging), 3 SOC %, 4 remaining 0.01 Ah, 5 capacity 0.01 Ah,
 *   6 cycles, 7 SOH %, 13 the cells' spread mV;
 * 0x0015 x 0x1F: cell count (<= 30), cells mV;
 * 0x0034 x 0x12: the count n of cell sensors (the pack's sensors but one),
 *   n temperatures, the last of the pack's sensors (the "generic" one), the
 *   MOSFET's (degC), 0x3B-0x3E the alarm bytes 0-7 (problems), 0x42 low
 *   byte b4 charge / b5 discharge MOSFET, 0x44-0x45 the balancing cells.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define VT_CELLS 30
#define VT_SENSORS 7 /* n + 1 of the pack's sensors, as the gateway keeps them */

enum { VT_STATUS, VT_CELL, VT_TEMP };

static const struct sim_mb_range vt_ranges[] = {
	[VT_STATUS] = { 0x03, 0x0000, 0x14 },
	[VT_CELL] = { 0x03, 0x0015, 0x1F },
	[VT_TEMP] = { 0x03, 0x0034, 0x12 },
};

struct vt_raw {
	int ncells, nsensors;
	unsigned cell_mv[VT_CELLS];
	unsigned volt_cv, soc, soh, remain_cah;
	long current_ca;
	uint32_t balance;
};

static void vt_quantise(const struct sim_pack *p, struct vt_raw *r)
{
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, VT_CELLS, 0, r->cell_mv, &r->ncells);
	r->current_ca = sim_mb_current_ca(p);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->remain_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * r->soc), 0, 65535);
	r->nsensors = p->ntemps > VT_SENSORS ? VT_SENSORS : p->ntemps;
	r->balance = (uint32_t)(p->balance & ((1ull << r->ncells) - 1));
}

static void vt_temps(const struct sim_pack *p, const struct vt_raw *r, uint16_t *v)
{
	int n = r->nsensors - 1;
	v[0] = (uint16_t)n;
	for (int i = 0; i <= n; i++)
		v[1 + i] = (uint16_t)(p->temp_c[i] & 0xFFFF);
	v[2 + n] = (uint16_t)(p->mos_temp_c & 0xFFFF);
	for (int i = 0; i < 4; i++)
		v[7 + i] = (uint16_t)(p->alarm[2 * i] << 8 | p->alarm[2 * i + 1]);
	v[14] = (uint16_t)((p->chg_mos ? 0x10 : 0) | (p->dsg_mos ? 0x20 : 0));
	v[16] = (uint16_t)(r->balance >> 16);
	v[17] = (uint16_t)r->balance;
}

static void vt_image(const struct sim_pack *p, int range, uint16_t *v)
{
	struct vt_raw r;
	vt_quantise(p, &r);
	switch (range) {
	case VT_STATUS:
		v[0] = (uint16_t)r.volt_cv;
		v[1] = (uint16_t)((uint32_t)r.current_ca >> 16);
		v[2] = (uint16_t)r.current_ca;
		v[3] = (uint16_t)r.soc;
		v[4] = (uint16_t)r.remain_cah;
		v[5] = (uint16_t)sim_mb_clamp(lround(p->capacity_ah * 100), 0, 65535);
		v[6] = (uint16_t)(p->cycles & 0xFFFF);
		v[7] = (uint16_t)r.soh;
		break;
	case VT_CELL:
		v[0] = (uint16_t)r.ncells;
		for (int i = 0; i < r.ncells; i++)
			v[1 + i] = (uint16_t)r.cell_mv[i];
		break;
	default:
		vt_temps(p, &r, v);
		break;
	}
}

static void vt_view(const struct sim_pack *p, struct sim_view *v)
{
	struct vt_raw r;
	vt_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP | SIM_HAS_MOSFETS |
	         SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
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
	v->nalarm = 8;
	memcpy(v->alarm, p->alarm, 8);
	v->balance = r.balance;
}

static const struct sim_mb_slave vt_slave = { vt_ranges, 3, vt_image, 0 };

SIM_MB_BLE_FUNCS(vt, vt_slave)

const struct sim_proto sim_proto_vatrer = {
	.name = "vatrer",
	.ble_name = "240612512100001",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = VT_CELLS,
	.max_temps = VT_SENSORS,
	.scan = sim_mb_ble_scan,
	.address = sim_mb_ble_address,
	.respond = vt_respond,
	.view = vt_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
