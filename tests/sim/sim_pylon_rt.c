/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pylon_rt.c - a Pylontech RT battery over Bluetooth LE, the
 * BMS side (bms/PROTOCOLS.md §51): Modbus RTU FC03 at slave 1 (any slave
 * asked is answered, sim_mbslave.c).  Encoded here; bms/ is deliberately
 * not used.
 *
 * 0x1016 x 13: voltage 0.01 V (the cells' sum), current s16 0.1 A
 *   (+ charging), the highest and lowest cell mV, the highest and lowest
 *   of the pack's sensors s16 0.1 degC, SOC %, SOH %, power W (no sign),
 *   0, energy 0.1 kWh, the charge current limit 0.1 A, the capacity
 *   0.1 Ah;
 * 0x2000 x 8: the serial, 16 characters.
 * No cell list: the view has the voltage, not the cells.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define PR_CELLS 16

enum { PR_MAIN, PR_SERIAL };

static const struct sim_mb_range pr_ranges[] = {
	[PR_MAIN] = { 0x03, 0x1016, 13 },
	[PR_SERIAL] = { 0x03, 0x2000, 8 },
};

struct pr_raw {
	unsigned volt_cv, hi_mv, lo_mv, soc, soh;
	long current_da;
	int t_hi, t_lo; /* degC */
};

static void pr_quantise(const struct sim_pack *p, struct pr_raw *r)
{
	unsigned mv[PR_CELLS];
	int n;
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, PR_CELLS, 0, mv, &n);
	r->lo_mv = n ? 65535 : 0;
	for (int i = 0; i < n; i++) {
		r->hi_mv = mv[i] > r->hi_mv ? mv[i] : r->hi_mv;
		r->lo_mv = mv[i] < r->lo_mv ? mv[i] : r->lo_mv;
	}
	r->current_da = sim_mb_clamp(lround(p->current * 10.0), -32768, 32767);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->t_hi = r->t_lo = p->ntemps > 0 ? p->temp_c[0] : p->mos_temp_c;
	for (int i = 1; i < p->ntemps; i++) {
		r->t_hi = p->temp_c[i] > r->t_hi ? p->temp_c[i] : r->t_hi;
		r->t_lo = p->temp_c[i] < r->t_lo ? p->temp_c[i] : r->t_lo;
	}
}

static void pr_image(const struct sim_pack *p, int range, uint16_t *v)
{
	struct pr_raw r;
	if (range == PR_SERIAL) {
		sim_mb_text(v, 8, "A2310150SIM00001");
		return;
	}
	pr_quantise(p, &r);
	v[0] = (uint16_t)r.volt_cv;
	v[1] = (uint16_t)(r.current_da & 0xFFFF);
	v[2] = (uint16_t)r.hi_mv;
	v[3] = (uint16_t)r.lo_mv;
	v[4] = (uint16_t)(r.t_hi * 10 & 0xFFFF);
	v[5] = (uint16_t)(r.t_lo * 10 & 0xFFFF);
	v[6] = (uint16_t)r.soc;
	v[7] = (uint16_t)r.soh;
	v[8] = (uint16_t)sim_mb_clamp(lround(fabs(r.volt_cv / 100.0 * r.current_da / 10.0)), 0, 65535);
	v[9] = 0;
	v[10] = (uint16_t)sim_mb_clamp(lround(p->cycles * p->capacity_ah * r.volt_cv / 100.0 / 100.0), 0, 65535);
	v[11] = (uint16_t)sim_mb_clamp(lround(p->ccl_a * 10.0), 0, 65535);
	v[12] = (uint16_t)sim_mb_clamp(lround(p->capacity_ah * 10.0), 0, 65535);
}

static void pr_view(const struct sim_pack *p, struct sim_view *v)
{
	struct pr_raw r;
	pr_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_TEMPS;
	if (lround(p->capacity_ah * 10.0) > 0)
		v->has |= SIM_HAS_CAPACITY;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_da / 10.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->capacity_ah = sim_mb_clamp(lround(p->capacity_ah * 10.0), 0, 65535) / 10.0;
	v->ntemps = 2;
	v->temp_c[0] = r.t_hi;
	v->temp_c[1] = r.t_lo;
}

static const struct sim_mb_slave pr_slave = { pr_ranges, 2, pr_image, 0 };

SIM_MB_BLE_FUNCS(pr, pr_slave)

const struct sim_proto sim_proto_pylon_rt = {
	.name = "pylon-rt",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = PR_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_mb_ble_scan,
	.address = sim_mb_ble_address,
	.respond = pr_respond,
	.view = pr_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
