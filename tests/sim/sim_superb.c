/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_superb.c - the Super-B Epsilon (v1) over Bluetooth LE, the
 * BMS side of the 74b9c2d1-... link as a fake BlueZ bridges it to a TCP
 * port (notifications of 6edadbe4-... out; nothing is written).
 *
 * bms/PROTOCOLS.md §57.  Once a second, unasked, one 20-byte frame (no
 * start byte, no checksum): 0 a zero byte (as captured); 1 status: 0x74
 * (the capture's other bits), bit 0 set when alarm byte 0 is 0 (no
 * problem), bit 7 while a cell balances; 2 SOC %; 3 SOH %; 4..7 runtime s
 * (u32 BE: remaining Ah over the discharge current, 0 otherwise); 8..11
 * current A and 12..15 voltage V (the cells' sum), float32 big-endian;
 * 16..19 zero.  Any request is a bad one.  One BMS per connection.
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define SB_LEN 20

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void befloat(uint8_t *b, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	be32(b, u);
}

struct sb_raw {
	float volt, amps;
	unsigned soc, soh;
	uint8_t status;
};

static void sb_quantise(const struct sim_pack *p, struct sb_raw *r)
{
	long mv = 0;
	for (int i = 0; i < p->ncells; i++)
		mv += sim_pack_cell_mv(p, i);
	r->volt = (float)mv / 1000.0f;
	r->amps = (float)p->current;
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->status = (uint8_t)(0x74 | (p->alarm[0] ? 0 : 0x01) | (p->balance ? 0x80 : 0));
}

static enum sim_resp sb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sb_raw r;
	uint8_t f[SB_LEN];
	double run = p->current < 0 ? p->capacity_ah * p->soc / 100.0 / -p->current * 3600.0 : 0;
	sb_quantise(p, &r);
	memset(f, 0, sizeof f);
	f[1] = r.status;
	f[2] = (uint8_t)r.soc;
	f[3] = (uint8_t)r.soh;
	be32(f + 4, (uint32_t)clampl(lround(run), 0, 0x7FFFFFFFL));
	befloat(f + 8, r.amps);
	befloat(f + 12, r.volt);
	sim_reply_add(reply, f, sizeof f);
	return SIM_RESP_OK;
}

static void sb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sb_raw r;
	sb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_ALARMS | SIM_HAS_BALANCING;
	v->address = p->address;
	v->voltage = r.volt;
	v->current = r.amps;
	v->soc = r.soc;
	v->soh = r.soh;
	v->nalarm = 1;
	v->alarm[0] = r.status;
	v->balancing = (r.status & 0x80) != 0;
}

/* Nothing is ever written to this BMS: whatever comes is a bad request. */
static enum sim_scan sb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_BAD;
}

static int sb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp sb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_BAD;
}

/* badsum: there is no checksum; the SOC byte becomes 0xFF, which no frame
 * carries (the reader skips the frame). */
static void sb_corrupt(uint8_t *frame, size_t n)
{
	if (n == SB_LEN)
		frame[2] = 0xFF;
}

const struct sim_proto sim_proto_superb = {
	.name = "superb",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 1,
	.scan = sb_scan,
	.address = sb_address,
	.respond = sb_respond,
	.view = sb_view,
	.corrupt = sb_corrupt,
	.emit = sb_emit,
	.emit_ms = 1000,
};
