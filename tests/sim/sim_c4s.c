/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_c4s.c - a C4S100 E-BMS over Bluetooth LE, the BMS side
 * (bms/PROTOCOLS.md §81): Vatrer's register map, Modbus RTU FC03 at slave
 * 2 (any slave asked is answered, sim_mbslave.c), but only the one read of
 * registers 0x00..0x45: another read (the partial ones vatrer makes) is a
 * bad request, unanswered, as the real BMS leaves them.  Encoded here;
 * bms/ is deliberately not used.
 *
 * 0x00 voltage 0.01 V (the cells' sum), 0x01-0x02 current s32 0.01 A (+
 * charging), 0x03 SOC %, 0x04 remaining 0.01 Ah, 0x05 capacity 0.01 Ah,
 * 0x06 cycles, 0x07 SOH %, 0x10 the MOSFET's temperature, 0x11 the
 * ambient one (the pack's first sensor; degC), 0x15 the cell count (<=
 * 30), 0x16.. cells mV; the rest 0.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define C4_CELLS 30
#define C4_REGS 0x46

static const struct sim_mb_range c4_ranges[] = {
	{ 0x03, 0x0000, C4_REGS },
};

struct c4_raw {
	int ncells;
	unsigned cell_mv[C4_CELLS];
	unsigned volt_cv, soc, soh, remain_cah, cap_cah;
	long current_ca;
};

static void c4_quantise(const struct sim_pack *p, struct c4_raw *r)
{
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, C4_CELLS, 0, r->cell_mv, &r->ncells);
	r->current_ca = sim_mb_current_ca(p);
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_mb_clamp(lround(p->soh), 0, 100);
	r->cap_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * 100), 0, 65535);
	r->remain_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * r->soc), 0, 65535);
}

static void c4_image(const struct sim_pack *p, int range, uint16_t *v)
{
	struct c4_raw r;
	(void)range;
	c4_quantise(p, &r);
	memset(v, 0, C4_REGS * sizeof(*v));
	v[0x00] = (uint16_t)r.volt_cv;
	v[0x01] = (uint16_t)((uint32_t)r.current_ca >> 16);
	v[0x02] = (uint16_t)r.current_ca;
	v[0x03] = (uint16_t)r.soc;
	v[0x04] = (uint16_t)r.remain_cah;
	v[0x05] = (uint16_t)r.cap_cah;
	v[0x06] = (uint16_t)(p->cycles & 0xFFFF);
	v[0x07] = (uint16_t)r.soh;
	v[0x10] = (uint16_t)(p->mos_temp_c & 0xFFFF);
	v[0x11] = (uint16_t)(p->temp_c[0] & 0xFFFF);
	v[0x15] = (uint16_t)r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v[0x16 + i] = (uint16_t)r.cell_mv[i];
}

static void c4_view(const struct sim_pack *p, struct sim_view *v)
{
	struct c4_raw r;
	c4_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
	         SIM_HAS_CELLS | SIM_HAS_TEMPS;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.cap_cah / 100.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = 1;
	v->temp_c[0] = (int16_t)(p->temp_c[0] & 0xFFFF);
	v->mos_temp_c = (int16_t)(p->mos_temp_c & 0xFFFF);
}

static const struct sim_mb_slave c4_slave = { c4_ranges, 1, c4_image, 0 };

/* Only the whole table is answered: a read of registers 0x00..0x45. */
static enum sim_resp c4_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n == SIM_MB_REQ_LEN && (req[2] != 0 || req[3] != 0 || req[4] != 0 || req[5] != C4_REGS))
		return SIM_RESP_BAD;
	return sim_mb_ble_respond(&c4_slave, p, req, n, reply);
}

const struct sim_proto sim_proto_c4s = {
	.name = "c4s",
	.ble_name = "C4S100IE06007",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = C4_CELLS,
	.max_temps = 1,
	.scan = sim_mb_ble_scan,
	.address = sim_mb_ble_address,
	.respond = c4_respond,
	.view = c4_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
