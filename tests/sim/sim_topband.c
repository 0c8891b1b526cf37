/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_topband.c - the Topband BMS over Bluetooth LE (KiloVault
 * HLX+, Ective, Startcraft), the BMS side of the FFE0 link as a fake BlueZ
 * bridges it to a TCP port (notifications of FFE4 out; nothing is written).
 *
 * bms/PROTOCOLS.md §34.  Once a second, unasked, one v1 frame: the start
 * byte 0x5E (dialect=kv: 0xB0, KiloVault's) and 112 upper-case hex digits
 * of a 56-byte block, little-endian: voltage mV (u32), current mA (s32, +
 * = charging), remaining mAh (u32), cycles (u16), SOC % (u16), temperature
 * 0.1 K (u16: sensor 1), the status byte (alarm byte 0), 3 bytes 0, 16
 * cells mV (u16), then the big-endian 16-bit sum of bytes 0..53.  With
 * junk=1 a few bytes of noise come before and after the frame (the
 * notification noise of aiobmsble's samples).  Any request is a bad one.
 * One BMS per connection.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TB_CELLS 16
#define TB_BLOCK 56
#define TB_LEN (1 + 2 * TB_BLOCK)

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void le(uint8_t *b, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

struct tb_raw {
	int ncells;
	unsigned cell_mv[TB_CELLS];
	unsigned long volt_mv, remain_mah;
	long ma;
	unsigned soc, dk;
};

static void tb_quantise(const struct sim_pack *p, struct tb_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < TB_CELLS ? p->ncells : TB_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->volt_mv += r->cell_mv[i];
	}
	r->ma = clampl(lround(p->current * 1000.0), -2000000, 2000000);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->remain_mah = (unsigned long)clampl(lround(p->capacity_ah * p->soc * 10.0), 0, 100000000);
	/* whole degC as 0.1 K: 25 degC = 2981.5, sent as 2982 (25.05 degC) */
	r->dk = (unsigned)clampl(lround(p->temp_c[0] * 10.0 + 2731.5), 0, 65535);
}

static size_t tb_frame(const struct sim_pack *p, uint8_t *out)
{
	struct tb_raw r;
	uint8_t b[TB_BLOCK];
	unsigned sum = 0;
	tb_quantise(p, &r);
	memset(b, 0, sizeof b);
	le(b + 0, r.volt_mv, 4);
	le(b + 4, (unsigned long)r.ma, 4);
	le(b + 8, r.remain_mah, 4);
	le(b + 12, p->cycles & 0xFFFF, 2);
	le(b + 14, r.soc, 2);
	le(b + 16, r.dk, 2);
	b[18] = p->alarm[0];
	for (int i = 0; i < r.ncells; i++)
		le(b + 22 + 2 * i, r.cell_mv[i], 2);
	for (int i = 0; i < 54; i++)
		sum += b[i];
	b[54] = (uint8_t)(sum >> 8);
	b[55] = (uint8_t)sum;
	out[0] = p->dialect == 'K' ? 0xB0 : 0x5E;
	for (int i = 0; i < TB_BLOCK; i++) {
		char h[3];
		snprintf(h, sizeof h, "%02X", b[i]);
		out[1 + 2 * i] = (uint8_t)h[0];
		out[2 + 2 * i] = (uint8_t)h[1];
	}
	return TB_LEN;
}

static enum sim_resp tb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	static const uint8_t noise[] = { 0x00, 0x52, 0x52, 0x0D }; /* "RR\r" and a 0 */
	uint8_t f[TB_LEN];
	size_t n = tb_frame(p, f);
	if (p->junk)
		sim_reply_add(reply, noise, sizeof noise);
	sim_reply_add(reply, f, n);
	if (p->junk)
		sim_reply_add(reply, noise + 1, 2);
	return SIM_RESP_OK;
}

static void tb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct tb_raw r;
	tb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.ma / 1000.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = 1;
	v->temp_c[0] = p->temp_c[0]; /* the wire's is 0.05 degC above (0.1 K) */
	v->nalarm = 1;
	v->alarm[0] = p->alarm[0];
}

/* Nothing is ever written to this BMS: whatever comes is a bad request. */
static enum sim_scan tb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_BAD;
}

static int tb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp tb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_BAD;
}

/* badsum: the sum's last digit changed (the noise stays). */
static void tb_corrupt(uint8_t *frame, size_t n)
{
	if (n == TB_LEN)
		frame[n - 1] = frame[n - 1] == '0' ? '1' : '0';
}

const struct sim_proto sim_proto_topband = {
	.name = "topband",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = TB_CELLS,
	.max_temps = 1,
	.scan = tb_scan,
	.address = tb_address,
	.respond = tb_respond,
	.view = tb_view,
	.corrupt = tb_corrupt,
	.emit = tb_emit,
	.emit_ms = 1000,
};
