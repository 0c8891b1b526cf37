/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_lipower.c - an Ective LiPower battery over Bluetooth LE, the
 * BMS side (bms/PROTOCOLS.md §64): Modbus RTU FC03 0x0400 x 8 at the device
 * ids 0x22, 0x0B and 0x08 (each answered, with the id asked).  Encoded
 * here; bms/ is deliberately not used.
 *
 * 0x0400 remaining Ah, 0x0401 SOC %, 0x0402 / 0x0403 the run time left
 * (hours, minutes), 0x0404 direction (1 discharging), 0x0405 current
 * 0.01 A, 0x0406 voltage 0.1 V, 0x0407 power W; asked at 0x0B it answers
 * a ninth register, the protocol version 2, as aiobmsble's sample of that
 * id does.  No cells on the wire: the view has the voltage, not the cells.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

static int lp_id_ok(uint8_t id)
{
	return id == 0x22 || id == 0x0B || id == 0x08;
}

static enum sim_scan lp_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (!lp_id_ok(buf[0])) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < SIM_MB_REQ_LEN)
		return SIM_SCAN_NEED;
	*n = SIM_MB_REQ_LEN;
	if (sim_mb_crc(buf, 6) != (uint16_t)(buf[6] | buf[7] << 8))
		return SIM_SCAN_BAD;
	return SIM_SCAN_FRAME;
}

static int lp_address(const uint8_t *req, size_t n)
{
	(void)req;
	return n == SIM_MB_REQ_LEN ? 1 : -1;
}

struct lp_raw {
	unsigned volt_dv, soc, remain_ah, dir, cur_ca, hours, minutes, watts;
};

static void lp_quantise(const struct sim_pack *p, struct lp_raw *r)
{
	unsigned mv[SIM_MAX_CELLS];
	int n;
	unsigned cv = sim_mb_cells(p, SIM_MAX_CELLS, 0, mv, &n);
	memset(r, 0, sizeof *r);
	r->volt_dv = (cv + 5) / 10;
	r->soc = (unsigned)sim_mb_clamp(lround(p->soc), 0, 100);
	r->remain_ah = (unsigned)sim_mb_clamp(lround(p->soc / 100.0 * p->capacity_ah), 0, 65535);
	r->dir = p->current < 0;
	r->cur_ca = (unsigned)sim_mb_clamp(lround(fabs(p->current) * 100.0), 0, 65535);
	r->watts = (unsigned)sim_mb_clamp(lround(r->volt_dv / 10.0 * r->cur_ca / 100.0), 0, 65535);
	if (r->dir && r->cur_ca > 0) {
		double h = r->remain_ah / (r->cur_ca / 100.0);
		r->hours = (unsigned)sim_mb_clamp((long)h, 0, 65535);
		r->minutes = (unsigned)((h - r->hours) * 60.0);
	}
}

static enum sim_resp lp_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	struct lp_raw r;
	uint8_t f[5 + 18];
	if (n != SIM_MB_REQ_LEN || req[1] != 0x03 || req[2] != 0x04 || req[3] != 0x00 || req[4] != 0x00 ||
	    req[5] != 0x08)
		return SIM_RESP_BAD;
	lp_quantise(p, &r);
	const unsigned v[9] = { r.remain_ah, r.soc, r.hours, r.minutes, r.dir, r.cur_ca, r.volt_dv, r.watts, 2 };
	unsigned regs = req[0] == 0x0B ? 9 : 8;
	f[0] = req[0];
	f[1] = 0x03;
	f[2] = (uint8_t)(2 * regs);
	for (unsigned i = 0; i < regs; i++) {
		f[3 + 2 * i] = (uint8_t)(v[i] >> 8);
		f[4 + 2 * i] = (uint8_t)v[i];
	}
	sim_reply_add(reply, f, sim_mb_put_crc(f, 3 + 2 * regs));
	return SIM_RESP_OK;
}

static void lp_view(const struct sim_pack *p, struct sim_view *v)
{
	struct lp_raw r;
	lp_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN;
	v->address = p->address;
	v->voltage = r.volt_dv / 10.0;
	v->current = (r.dir ? -1.0 : 1.0) * r.cur_ca / 100.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_ah;
}

const struct sim_proto sim_proto_lipower = {
	.name = "lipower",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 4,
	.max_temps = 0,
	.scan = lp_scan,
	.address = lp_address,
	.respond = lp_respond,
	.view = lp_view,
	.ble_name = "23-01-05-034",
};
