/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_superb.c - the Super-B Epsilon over Bluetooth LE, the BMS
 * side of its GATT link as a fake BlueZ bridges it to a TCP port: v1
 * (74b9c2d1-..., notifications of 6edadbe4-... out, nothing written), or
 * with the pack option layout=v2 the Epsilon v2 (cf9ccdf7-...).
 *
 * bms/PROTOCOLS.md §57.  Once a second, unasked, one 20-byte frame (no
 * start byte, no checksum): 0 a zero byte (as captured); 1 status: 0x74
 * (the capture's other bits), bit 0 set when alarm byte 0 is 0 (no
 * problem), bit 7 while a cell balances; 2 SOC %; 3 SOH %; 4..7 runtime s
 * (u32 BE: remaining Ah over the discharge current, 0 otherwise); 8..11
 * current A and 12..15 voltage V (the cells' sum), float32 big-endian;
 * 16..19 zero.  Any request is a bad one.  One BMS per connection.
 *
 * v2 (§57.3) has two notifiers, so what it sends is records the fake
 * BlueZ's bridge reads (its device spec "notify_records": true):
 *	AD 4E k n data[n]	data notified on the k-th notifier of the layout
 *				(0: cf9ccdfa-..., 1: e0fef452-...)
 * The read 21 54 00 is answered on notifier 0 by a 24-byte frame of type
 * 0x00: 1 SOC %, 18 cycles (at most 255), 19 SOH %, 20..23 runtime s (as
 * v1; 0xFFFFFFFF while not discharging); once a second, unasked, a frame
 * of type 0x02 goes out on notifier 1: 6..9 current mA (s32 BE), 10..11
 * voltage mV (u16 BE, the cells' sum).  The bytes no source describes are
 * 0.  Any other request is a bad one.
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define SB_LEN 20
#define SB2_LEN 24
#define SB2_REC0 0xAD /* a record for the bridge: AD 4E k n data */
#define SB2_REC1 0x4E

static const uint8_t sb2_read[] = { 0x21, 0x54, 0x00 };

static int is_v2(const struct sim_pack *p)
{
	return p->dialect == 2;
}

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

/* Remaining charge over the discharge current, s; -1 while not discharging. */
static double sb_runtime(const struct sim_pack *p)
{
	return p->current < 0 ? p->capacity_ah * p->soc / 100.0 / -p->current * 3600.0 : -1;
}

/* A v2 frame as the bridge's record for notifier k. */
static enum sim_resp sb2_add(struct sim_reply *reply, int k, const uint8_t *f)
{
	uint8_t rec[4 + SB2_LEN] = { SB2_REC0, SB2_REC1, (uint8_t)k, SB2_LEN };
	memcpy(rec + 4, f, SB2_LEN);
	sim_reply_add(reply, rec, sizeof rec);
	return SIM_RESP_OK;
}

/* v2's pushed frame, type 0x02: current mA, voltage mV. */
static enum sim_resp sb2_live(const struct sim_pack *p, struct sim_reply *reply)
{
	struct sb_raw r;
	uint8_t f[SB2_LEN];
	sb_quantise(p, &r);
	memset(f, 0, sizeof f);
	f[0] = 0x02;
	be32(f + 6, (uint32_t)(int32_t)clampl(lround(p->current * 1000.0), -3000000L, 3000000L));
	long mv = clampl(lround(r.volt * 1000.0), 1, 65535);
	f[10] = (uint8_t)(mv >> 8);
	f[11] = (uint8_t)mv;
	return sb2_add(reply, 1, f);
}

/* v2's answer to 21 54 00, type 0x00: SOC, cycles, SOH, runtime. */
static enum sim_resp sb2_state(const struct sim_pack *p, struct sim_reply *reply)
{
	struct sb_raw r;
	uint8_t f[SB2_LEN];
	double run = sb_runtime(p);
	sb_quantise(p, &r);
	memset(f, 0, sizeof f);
	f[0] = 0x00;
	f[1] = (uint8_t)r.soc;
	f[18] = (uint8_t)clampl((long)p->cycles, 0, 255);
	f[19] = (uint8_t)r.soh;
	be32(f + 20, run < 0 ? 0xFFFFFFFFu : (uint32_t)clampl(lround(run), 0, 0x7FFFFFFFL));
	return sb2_add(reply, 0, f);
}

static enum sim_resp sb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sb_raw r;
	uint8_t f[SB_LEN];
	double run = sb_runtime(p);
	if (is_v2(p))
		return sb2_live(p, reply);
	sb_quantise(p, &r);
	memset(f, 0, sizeof f);
	f[1] = r.status;
	f[2] = (uint8_t)r.soc;
	f[3] = (uint8_t)r.soh;
	be32(f + 4, (uint32_t)clampl(run < 0 ? 0 : lround(run), 0, 0x7FFFFFFFL));
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
	v->address = p->address;
	if (is_v2(p)) {
		/* as its frames carry them: mA, mV, no status byte */
		v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CYCLES;
		v->voltage = (double)clampl(lround(r.volt * 1000.0), 1, 65535) / 1000.0;
		v->current = (double)clampl(lround(p->current * 1000.0), -3000000L, 3000000L) / 1000.0;
		v->soc = r.soc;
		v->soh = r.soh;
		v->cycles = (unsigned)clampl((long)p->cycles, 0, 255);
		return;
	}
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_ALARMS | SIM_HAS_BALANCING;
	v->voltage = r.volt;
	v->current = r.amps;
	v->soc = r.soc;
	v->soh = r.soh;
	v->nalarm = 1;
	v->alarm[0] = r.status;
	v->balancing = (r.status & 0x80) != 0;
}

/* Nothing is ever written to v1: whatever comes is a bad request; v2
 * takes its read 21 54 00 (the responder knows the pack's generation). */
static enum sim_scan sb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	size_t m = len < sizeof sb2_read ? len : sizeof sb2_read;
	if (len == 0 || (m < sizeof sb2_read && memcmp(buf, sb2_read, m) == 0))
		return SIM_SCAN_NEED;
	if (memcmp(buf, sb2_read, m) == 0) {
		*n = sizeof sb2_read;
		return SIM_SCAN_FRAME;
	}
	*n = len;
	return SIM_SCAN_BAD;
}

static int sb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

/* v2's read (scan took only that): its type-0x00 answer; v1 takes none. */
static enum sim_resp sb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)req;
	(void)n;
	if (!is_v2(p))
		return SIM_RESP_BAD;
	return sb2_state(p, reply);
}

/* badsum: there is no checksum; v1's SOC byte becomes 0xFF, which no frame
 * carries (the reader skips the frame).  v2 (a record): type 0x01, no
 * type the reader takes, and every other byte 0xFF, so that no byte of it
 * starts a frame (the reader skips it whole). */
static void sb_corrupt(uint8_t *frame, size_t n)
{
	if (n == SB_LEN)
		frame[2] = 0xFF;
	if (n == 4 + SB2_LEN && frame[0] == SB2_REC0 && frame[1] == SB2_REC1) {
		memset(frame + 5, 0xFF, SB2_LEN - 1);
		frame[4] = 0x01;
	}
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
