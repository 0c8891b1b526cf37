/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pro_bms.c - the "Pro BMS" smart shunt (Foxwell BT630,
 * Leagend CM100) over Bluetooth LE, the BMS side of the FFF0 link as a fake
 * BlueZ bridges it to a TCP port (writes to FFF3 in, notifications of FFF4
 * out).
 *
 * bms/PROTOCOLS.md §60.  Requests are 55 AA n, n bytes (01 01 55 80 fct
 * ...), the XOR of the n bytes: INIT (fct 0x04) is answered by the recorded
 * init answer, 0x40 by the recorded machine info, 0x42 not at all, 0x43
 * starts the stream: from then on, until the connection ends, a 50-byte
 * frame (55 AA 2D 04 80 AA 01 70 ...) every 0.5 s: voltage 0.01 V (the
 * cells' sum), current mA (magnitude; byte 15 bit 7 set while
 * discharging, bits 0..6 alarm byte 0), the first sensor 0.1 degC (byte 18
 * the sign), remaining 0.01 Ah, SOC, power 0.01 W, the XOR of bytes 3..47
 * at 48, 0 at 49; the bytes no source describes are 0.  Another request
 * is a bad one.  No cells (a shunt: `cells` only makes the voltage).  One
 * device per connection.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PB_DATA_LEN 50

/* aiobmsble's recorded answers (its Pro BMS test) */
static const uint8_t pb_init_answer[] = { 0x55, 0xAA, 0x08, 0x03, 0x80, 0xAA, 0x01,
					  0x04, 0x00, 0x00, 0x00, 0x2C, 0x52 };
static const uint8_t pb_info_answer[] = { 0x55, 0xAA, 0x20, 0x03, 0x80, 0xAA, 0x01, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00,
					  0x02, 0x00, 0x00, 0x00, 0xF7, 0x04, 0x00, 0x00, 0xC8, 0x00, 0x00, 0x00, 0x04,
					  0x01, 0x00, 0x00, 0x06, 0x5E, 0xAF, 0x7A, 0x4E, 0xE0, 0xF7, 0x00 };

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void le(uint8_t *b, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t pb_xor(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	return x;
}

struct pb_raw {
	long cv, ma, dc, soc, cah, cw;
};

static void pb_quantise(const struct sim_pack *p, struct pb_raw *r)
{
	long mv = 0;
	for (int i = 0; i < p->ncells; i++)
		mv += sim_pack_cell_mv(p, i);
	r->cv = clampl(lround(mv / 10.0), 1, 65535);
	r->ma = clampl(lround(p->current * 1000.0), -65535, 65535);
	r->dc = p->temp_c[0] * 10L;
	r->soc = clampl(lround(p->soc), 0, 100);
	r->cah = clampl(lround(p->capacity_ah * p->soc), 0, 100000000);
	r->cw = lround((double)r->cv * (double)labs(r->ma) / 1000.0);
}

static enum sim_resp pb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct pb_raw r;
	uint8_t f[PB_DATA_LEN] = { 0x55, 0xAA, 0x2D, 0x04, 0x80, 0xAA, 0x01, 0x70 };
	if (!p->stream)
		return SIM_RESP_NONE;
	pb_quantise(p, &r);
	le(f + 8, (unsigned long)r.cv, 2);
	le(f + 12, (unsigned long)labs(r.ma), 2);
	f[15] = (uint8_t)((r.ma < 0 ? 0x80 : 0) | (p->alarm[0] & 0x7F));
	le(f + 16, (unsigned long)labs(r.dc), 2);
	f[18] = r.dc < 0 ? 1 : 0;
	le(f + 20, (unsigned long)r.cah, 4);
	f[24] = (uint8_t)r.soc;
	le(f + 32, (unsigned long)r.cw, 4);
	f[48] = pb_xor(f + 3, 45);
	sim_reply_add(reply, f, sizeof f);
	return SIM_RESP_OK;
}

static void pb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct pb_raw r;
	pb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.cv / 100.0;
	v->current = r.ma / 1000.0;
	v->soc = (double)r.soc;
	v->remaining_ah = r.cah / 100.0;
	v->ntemps = 1;
	v->temp_c[0] = p->temp_c[0];
	v->nalarm = 1;
	v->alarm[0] = p->alarm[0] & 0x7F;
}

/* 55 AA n, n + 4 bytes. */
static enum sim_scan pb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x55 || (len >= 2 && buf[1] != 0xAA)) {
		size_t i = 1;
		while (i < len && buf[i] != 0x55)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 3)
		return SIM_SCAN_NEED;
	size_t want = (size_t)buf[2] + 4;
	if (len < want)
		return SIM_SCAN_NEED;
	*n = want;
	return pb_xor(buf + 3, buf[2]) == buf[want - 1] && buf[2] >= 5 ? SIM_SCAN_FRAME : SIM_SCAN_BAD;
}

static int pb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one device per connection */
}

static enum sim_resp pb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t head[] = { 0x01, 0x01, 0x55, 0x80 };
	if (n < 9 || memcmp(req + 3, head, sizeof head) != 0)
		return SIM_RESP_BAD;
	switch (req[7]) {
	case 0x04:
		sim_reply_add(reply, pb_init_answer, sizeof pb_init_answer);
		return SIM_RESP_OK;
	case 0x40:
		sim_reply_add(reply, pb_info_answer, sizeof pb_info_answer);
		return SIM_RESP_OK;
	case 0x42:
		return SIM_RESP_NONE;
	case 0x43:
		p->stream = 1;
		return SIM_RESP_NONE;
	default:
		return SIM_RESP_BAD;
	}
}

/* badsum: the XOR byte flipped */
static void pb_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 5)
		frame[n - 2] ^= 0x01;
}

const struct sim_proto sim_proto_pro_bms = {
	.name = "pro-bms",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per connection */
	.max_cells = 32,
	.max_temps = 1,
	.scan = pb_scan,
	.address = pb_address,
	.respond = pb_respond,
	.view = pb_view,
	.corrupt = pb_corrupt,
	.emit = pb_emit,
	.emit_ms = 500,
	.ble_name = "Pro BMS",
};
