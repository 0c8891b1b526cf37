/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_votronic.c - a Votronic battery computer (Smart Shunt)
 * over Bluetooth LE, the BMS side of its monitoring service as a fake
 * BlueZ bridges it to a TCP port (notifications of the battery computer's
 * characteristic out; nothing is written).
 *
 * bms/PROTOCOLS.md §84.  Once a second, unasked, one 20-byte frame
 * (syssi's capture as the template, its values replaced), little-endian:
 * 0 voltage 0.01 V (the pack's cells' sum), 2 the starter battery 12.70 V,
 * 4 remaining Ah (capacity x SOC, whole), 8 SOC %, 10 current mA (s24, +
 * charging), 13 nominal capacity 0.1 Ah.  No checksum: badsum makes the
 * SOC 0xFF (a frame a reader skips).  Any request is a bad one.  One BMS
 * per connection; no cells, no sensors.  Encoded here; bms/ is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define VO_LEN 20

static const uint8_t vo_tpl[VO_LEN] = { 0x0a, 0x05, 0xbc, 0x04, 0x14, 0x01, 0x60, 0x00, 0x62, 0x00,
					0x57, 0x36, 0xff, 0xf0, 0x0a, 0x5e, 0x14, 0x54, 0x02, 0x04 };

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct vo_raw {
	unsigned volt_cv, remain_ah, soc, nominal_dah;
	long ma;
};

static void vo_quantise(const struct sim_pack *p, struct vo_raw *r)
{
	long mv = 0;
	for (int i = 0; i < p->ncells; i++)
		mv += sim_pack_cell_mv(p, i);
	r->volt_cv = (unsigned)clampl(lround(mv / 10.0), 100, 10000);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->remain_ah = (unsigned)clampl(lround(p->capacity_ah * r->soc / 100.0), 0, 65535);
	r->nominal_dah = (unsigned)clampl(lround(p->capacity_ah * 10.0), 1, 65535);
	r->ma = clampl(lround(p->current * 1000.0), -3000000, 3000000);
}

static enum sim_resp vo_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct vo_raw r;
	uint8_t f[VO_LEN];
	vo_quantise(p, &r);
	memcpy(f, vo_tpl, VO_LEN);
	f[0] = (uint8_t)r.volt_cv;
	f[1] = (uint8_t)(r.volt_cv >> 8);
	f[2] = (uint8_t)(1270 & 0xFF);
	f[3] = (uint8_t)(1270 >> 8);
	f[4] = (uint8_t)r.remain_ah;
	f[5] = (uint8_t)(r.remain_ah >> 8);
	f[8] = (uint8_t)r.soc;
	uint32_t u = (uint32_t)(int32_t)r.ma;
	f[10] = (uint8_t)u;
	f[11] = (uint8_t)(u >> 8);
	f[12] = (uint8_t)(u >> 16);
	f[13] = (uint8_t)r.nominal_dah;
	f[14] = (uint8_t)(r.nominal_dah >> 8);
	sim_reply_add(reply, f, VO_LEN);
	return SIM_RESP_OK;
}

static void vo_view(const struct sim_pack *p, struct sim_view *v)
{
	struct vo_raw r;
	vo_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.ma / 1000.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_ah;
	v->capacity_ah = r.nominal_dah / 10.0;
}

/* Nothing is ever written to it: whatever comes is a bad request. */
static enum sim_scan vo_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_BAD;
}

static int vo_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp vo_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_BAD;
}

/* badsum: no checksum; the SOC made 0xFF */
static void vo_corrupt(uint8_t *frame, size_t n)
{
	if (n == VO_LEN)
		frame[8] = 0xFF;
}

const struct sim_proto sim_proto_votronic = {
	.name = "votronic",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 1,
	.scan = vo_scan,
	.address = vo_address,
	.respond = vo_respond,
	.view = vo_view,
	.corrupt = vo_corrupt,
	.emit = vo_emit,
	.emit_ms = 1000,
	.ble_name = "BT-Connector",
};
