/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_greenway.c - a Greenway BMS (Talaria bikes) over Bluetooth
 * LE, the BMS side (bms/PROTOCOLS.md §66): each request 46 16 01 <type>
 * <len> <sum> answered 47 16 01 <type> <len> <data> <sum> (sum: the low
 * byte of the sum of the bytes before it), values little-endian.  Encoded
 * here; bms/ is deliberately not used.
 *
 * 0x09 voltage u32 mV (the cells' sum), 0x0A current s32 mA (+ charging),
 * 0x0D SOC %, 0x0E SOH %, 0x0F remaining mAh, 0x17 cycles, 0x18 the
 * capacity mAh, 0x16 status (16 bytes: alarm bytes 0-7 at 2..9), 0x08 the
 * temperatures (32 bytes: 7 s8 degC, the pack's sensors then 0), 0x24 /
 * 0x25 cells 1-16 / 17-32 u16 mV.  Another type, or a length that is not
 * its own, is a bad request.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define GW_CELLS 32
#define GW_SENSORS 7

static const struct {
	uint8_t type, len;
} gw_types[] = {
	{ 0x09, 4 }, { 0x0A, 4 }, { 0x0D, 4 }, { 0x0E, 4 }, { 0x0F, 4 }, { 0x17, 4 },
	{ 0x18, 4 }, { 0x16, 16 }, { 0x08, 32 }, { 0x24, 32 }, { 0x25, 32 },
};

static uint8_t gw_sum(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (uint8_t)s;
}

static enum sim_scan gw_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x46) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < 6)
		return SIM_SCAN_NEED;
	*n = 6;
	return buf[1] == 0x16 && buf[2] == 0x01 && gw_sum(buf, 5) == buf[5] ? SIM_SCAN_FRAME : SIM_SCAN_BAD;
}

static int gw_address(const uint8_t *req, size_t n)
{
	(void)req;
	return n == 6 ? 1 : -1;
}

struct gw_raw {
	int ncells;
	unsigned cell_mv[GW_CELLS];
	unsigned long volt_mv;
	long current_ma;
	unsigned soc, soh;
	unsigned long remain_mah, cap_mah;
};

static void gw_quantise(const struct sim_pack *p, struct gw_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells > GW_CELLS ? GW_CELLS : p->ncells;
	for (int i = 0; i < r->ncells; i++) {
		int mv = sim_pack_cell_mv(p, i);
		r->cell_mv[i] = mv < 1 ? 1 : mv > 65535 ? 65535 : (unsigned)mv;
		r->volt_mv += r->cell_mv[i];
	}
	r->current_ma = lround(p->current * 1000.0);
	r->soc = (unsigned)lround(p->soc < 0 ? 0 : p->soc > 100 ? 100 : p->soc);
	r->soh = (unsigned)lround(p->soh < 0 ? 0 : p->soh > 100 ? 100 : p->soh);
	r->cap_mah = (unsigned long)lround(p->capacity_ah * 1000.0);
	r->remain_mah = (unsigned long)lround(p->capacity_ah * 10.0 * r->soc);
}

static void gw_put32(uint8_t *d, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

static void gw_data(const struct sim_pack *p, const struct gw_raw *r, uint8_t type, uint8_t *d)
{
	switch (type) {
	case 0x09: gw_put32(d, r->volt_mv); break;
	case 0x0A: gw_put32(d, (unsigned long)r->current_ma); break;
	case 0x0D: gw_put32(d, r->soc); break;
	case 0x0E: gw_put32(d, r->soh); break;
	case 0x0F: gw_put32(d, r->remain_mah); break;
	case 0x17: gw_put32(d, p->cycles); break;
	case 0x18: gw_put32(d, r->cap_mah); break;
	case 0x16: memcpy(d + 2, p->alarm, 8); break;
	case 0x08:
		for (int i = 0; i < GW_SENSORS && i < p->ntemps; i++)
			d[i] = (uint8_t)(int8_t)p->temp_c[i];
		break;
	default: /* 0x24, 0x25 */
		for (int i = 0; i < 16; i++) {
			int c = (type == 0x25 ? 16 : 0) + i;
			unsigned mv = c < r->ncells ? r->cell_mv[c] : 0;
			d[2 * i] = (uint8_t)mv;
			d[2 * i + 1] = (uint8_t)(mv >> 8);
		}
		break;
	}
}

static enum sim_resp gw_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	struct gw_raw r;
	uint8_t f[6 + 32] = { 0x47, 0x16, 0x01 };
	size_t k = 0;
	if (n != 6)
		return SIM_RESP_BAD;
	while (k < sizeof(gw_types) / sizeof(gw_types[0]) && gw_types[k].type != req[3])
		k++;
	if (k == sizeof(gw_types) / sizeof(gw_types[0]) || gw_types[k].len != req[4])
		return SIM_RESP_BAD;
	gw_quantise(p, &r);
	f[3] = req[3];
	f[4] = req[4];
	gw_data(p, &r, req[3], f + 5);
	f[5 + f[4]] = gw_sum(f, 5u + f[4]);
	sim_reply_add(reply, f, 6u + f[4]);
	return SIM_RESP_OK;
}

static void gw_view(const struct sim_pack *p, struct sim_view *v)
{
	struct gw_raw r;
	gw_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS |
	         SIM_HAS_ALARMS;
	if (r.cap_mah)
		v->has |= SIM_HAS_CAPACITY;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.current_ma / 1000.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->capacity_ah = r.cap_mah / 1000.0;
	v->cycles = p->cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = GW_SENSORS;
	for (int i = 0; i < GW_SENSORS; i++)
		v->temp_c[i] = i < p->ntemps ? (int8_t)p->temp_c[i] : 0;
	v->nalarm = 8;
	memcpy(v->alarm, p->alarm, 8);
}

const struct sim_proto sim_proto_greenway = {
	.name = "greenway",
	.ble_name = "56C00253A00037",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = GW_CELLS,
	.max_temps = GW_SENSORS,
	.scan = gw_scan,
	.address = gw_address,
	.respond = gw_respond,
	.view = gw_view,
};
