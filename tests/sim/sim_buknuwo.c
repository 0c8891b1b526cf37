/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_buknuwo.c - a Buknuwo battery over Bluetooth LE, the BMS
 * side (bms/PROTOCOLS.md §65): Modbus RTU FC03 at slave 1 (any slave asked
 * is answered, sim_mbslave.c).  Encoded here; bms/ is deliberately not
 * used.
 *
 * 0x0000 x 0x0D: 0 current s16 0.01 A (+ charging), 1 voltage 0.01 V (the
 *   cells' sum), 2 SOC %, 3 SOH %, 4 remaining 0.01 Ah, 5 the same as 6,
 *   6 the design capacity 0.01 Ah, 7 cycles, 8 0, 9-11 alarm bytes 0-5 in
 *   pairs (11's b10 charge / b11 discharge MOSFET set over them), 12 0;
 * 0x0039: the MOSFET temperature s16 0.1 degC;
 * 0x002E x 0x0B: the sensor count (<= 10), the sensors s16 0.1 degC.
 * No cells on the wire: the view has the voltage, not the cells.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define BK_SENSORS 8 /* the block holds 10; the gateway keeps 8 */

enum { BK_MAIN, BK_MOS, BK_TEMPS };

static const struct sim_mb_range bk_ranges[] = {
	[BK_MAIN] = { 0x03, 0x0000, 0x0D },
	[BK_MOS] = { 0x03, 0x0039, 0x01 },
	[BK_TEMPS] = { 0x03, 0x002E, 0x0B },
};

struct bk_raw {
	unsigned volt_cv, soc, soh, remain_cah, design_cah;
	long current_ca;
	int nsensors;
};

static void bk_quantise(const struct sim_pack *p, struct bk_raw *r)
{
	unsigned mv[SIM_MAX_CELLS];
	int n;
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, SIM_MAX_CELLS, 0, mv, &n);
	r->current_ca = sim_mb_current_ca(p);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->design_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * r->soc), 0, 65535);
	r->nsensors = p->ntemps > BK_SENSORS ? BK_SENSORS : p->ntemps;
}

static void bk_image(const struct sim_pack *p, int range, uint16_t *v)
{
	struct bk_raw r;
	bk_quantise(p, &r);
	if (range == BK_MOS) {
		v[0] = (uint16_t)(p->mos_temp_c * 10 & 0xFFFF);
		return;
	}
	if (range == BK_TEMPS) {
		v[0] = (uint16_t)r.nsensors;
		for (int i = 0; i < r.nsensors; i++)
			v[1 + i] = (uint16_t)(p->temp_c[i] * 10 & 0xFFFF);
		return;
	}
	v[0] = (uint16_t)(r.current_ca & 0xFFFF);
	v[1] = (uint16_t)r.volt_cv;
	v[2] = (uint16_t)r.soc;
	v[3] = (uint16_t)r.soh;
	v[4] = (uint16_t)r.remain_cah;
	v[5] = (uint16_t)r.design_cah;
	v[6] = (uint16_t)r.design_cah;
	v[7] = (uint16_t)(p->cycles & 0xFFFF);
	for (int i = 0; i < 3; i++)
		v[9 + i] = (uint16_t)(p->alarm[2 * i] << 8 | p->alarm[2 * i + 1]);
	v[11] = (uint16_t)((v[11] & ~0x0C00u) | (p->chg_mos ? 0x0400u : 0) | (p->dsg_mos ? 0x0800u : 0));
}

static void bk_view(const struct sim_pack *p, struct sim_view *v)
{
	struct bk_raw r;
	bk_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP | SIM_HAS_MOSFETS |
	         SIM_HAS_ALARMS;
	if (r.design_cah)
		v->has |= SIM_HAS_CAPACITY;
	if (r.nsensors)
		v->has |= SIM_HAS_TEMPS;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.design_cah / 100.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ntemps = r.nsensors;
	for (int i = 0; i < r.nsensors; i++)
		v->temp_c[i] = (int16_t)(p->temp_c[i] & 0xFFFF);
	v->mos_temp_c = (int16_t)(p->mos_temp_c & 0xFFFF);
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 6;
	memcpy(v->alarm, p->alarm, 6);
}

static const struct sim_mb_slave bk_slave = { bk_ranges, 3, bk_image, 0 };

SIM_MB_BLE_FUNCS(bk, bk_slave)

const struct sim_proto sim_proto_buknuwo = {
	.name = "buknuwo",
	.ble_name = "CDZG202512050020000242",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = BK_SENSORS,
	.scan = sim_mb_ble_scan,
	.address = sim_mb_ble_address,
	.respond = bk_respond,
	.view = bk_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
