/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_saihang.c - a Saihang BMS over Bluetooth LE, the BMS side
 * (bms/PROTOCOLS.md §53): A5 A5 and a Modbus RTU FC03 frame, asked at slave
 * 0 (any slave asked is answered, sim_mbslave.c), the CRC over the Modbus
 * frame.  Encoded here; bms/ is deliberately not used.
 *
 * 0x0000 x 0x48: 0-1 current s32 0.01 A (+ charging), 2-3 voltage u32
 *   0.01 V (the cells' sum), 4 SOC %, 5 SOH %, 6-7 remaining 0.01 Ah, 8-9
 *   and 10-11 the capacity 0.01 Ah, 12 cycles, 13 the problem word =
 *   alarm bytes 0-1 inverted, 14 1, 16 0x0200 charge / 0x0400 discharge
 *   MOSFET, 18 balancing (the balance bits of cells 1-16), 19 cell count
 *   (<= 20), 20.. cells mV, unused 0xFFFF, 40 sensor count, 41.. sensors
 *   0.1 K, 51 the MOSFET's, 52 the ambient: the pack's last sensor (a pack
 *   of one or more sensors has the others at 41.., at most 7).
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define SH_CELLS 20
#define SH_SENSORS 7 /* beside the ambient one: the gateway keeps 8 in all */
#define SH_K(c) ((uint16_t)((c) * 10 + 2730))

static const uint8_t sh_prefix[] = { 0xA5, 0xA5 };

static const struct sim_mb_range sh_ranges[] = {
	{ 0x03, 0x0000, 0x48 },
};

struct sh_raw {
	int ncells, nsensors;
	unsigned cell_mv[SH_CELLS];
	unsigned volt_cv, soc, soh, remain_cah, full_cah;
	long current_ca;
};

static void sh_quantise(const struct sim_pack *p, struct sh_raw *r)
{
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, SH_CELLS, 0, r->cell_mv, &r->ncells);
	r->current_ca = lround(p->current * 100.0);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->full_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * 100.0), 0, 0xFFFFFF);
	r->remain_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * r->soc), 0, 0xFFFFFF);
	r->nsensors = p->ntemps > 0 ? (p->ntemps - 1 > SH_SENSORS ? SH_SENSORS : p->ntemps - 1) : 0;
}

static void sh_put32(uint16_t *v, uint32_t x)
{
	v[0] = (uint16_t)(x >> 16);
	v[1] = (uint16_t)x;
}

static void sh_image(const struct sim_pack *p, int range, uint16_t *v)
{
	struct sh_raw r;
	(void)range;
	sh_quantise(p, &r);
	sh_put32(v + 0, (uint32_t)r.current_ca);
	sh_put32(v + 2, r.volt_cv);
	v[4] = (uint16_t)r.soc;
	v[5] = (uint16_t)r.soh;
	sh_put32(v + 6, r.remain_cah);
	sh_put32(v + 8, r.full_cah);
	sh_put32(v + 10, r.full_cah);
	v[12] = (uint16_t)(p->cycles & 0xFFFF);
	v[13] = (uint16_t)~(p->alarm[0] << 8 | p->alarm[1]);
	v[14] = 1;
	v[16] = (uint16_t)((p->chg_mos ? 0x0200 : 0) | (p->dsg_mos ? 0x0400 : 0));
	v[18] = (uint16_t)(p->balance & 0xFFFF);
	v[19] = (uint16_t)r.ncells;
	for (int i = 0; i < SH_CELLS; i++)
		v[20 + i] = i < r.ncells ? (uint16_t)r.cell_mv[i] : 0xFFFF;
	v[40] = (uint16_t)r.nsensors;
	for (int i = 0; i < 10; i++)
		v[41 + i] = i < r.nsensors ? SH_K(p->temp_c[i]) : 0xFFFF;
	v[51] = SH_K(p->mos_temp_c);
	v[52] = p->ntemps > 0 ? SH_K(p->temp_c[r.nsensors]) : 0xFFFF;
	for (int i = 53; i < 0x48; i++)
		v[i] = 0xFFFF;
}

static void sh_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sh_raw r;
	sh_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
	         SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_ALARMS | SIM_HAS_BALANCING;
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
	if (p->ntemps > 0) {
		v->has |= SIM_HAS_TEMPS;
		v->ntemps = r.nsensors + 1;
		for (int i = 0; i <= r.nsensors; i++)
			v->temp_c[i] = p->temp_c[i];
	}
	v->mos_temp_c = p->mos_temp_c;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->balancing = (p->balance & 0xFFFF) != 0;
	v->nalarm = 2;
	memcpy(v->alarm, p->alarm, 2);
}

static const struct sim_mb_slave sh_slave = { sh_ranges, 1, sh_image, 0 };

SIM_MB_BLE_PREFIX_FUNCS(sh, sh_slave, sh_prefix)

const struct sim_proto sim_proto_saihang = {
	.name = "saihang",
	.ble_name = "SH-BMS-0C2A",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = SH_CELLS,
	.max_temps = SH_SENSORS + 1,
	.scan = sh_scan,
	.address = sh_address,
	.respond = sh_respond,
	.view = sh_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
