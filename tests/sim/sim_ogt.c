/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_ogt.c - an Offgridtec Smart Pro type A battery over
 * Bluetooth LE, the BMS side of the GATT link, as a fake BlueZ bridges it
 * to a TCP port (writes to FFF6 in, notifications of FFF4 out).
 *
 * bms/PROTOCOLS.md §56.  Every byte either way is XOR-ed with the key of
 * the name SmartBat-A<id> (pack option id=, 0..65535, default 0; the test
 * advertises the same name): the id's four hex digits looked up in the
 * vendor's sequence, summed, + 5.  Plain requests are +RAA<reg><len> (hex
 * digits); the answer is +RD,<reg><len value bytes, hex, little-endian>
 * CR LF:
 *	0x02 SOC %, 0x04 remaining / 0x06 full capacity (u16 x the third
 *	byte, mAh: here u16 = 10 mAh, third byte 10, as the capture),
 *	0x08 voltage mV (the cells' sum), 0x0C MOSFET temperature 0.1 K,
 *	0x10 current s16 0.01 A (+ charging, third byte 0), 0x2C cycles,
 *	0x3C design capacity (as 0x06; refused with nosettings=1);
 * another register, or a length not its own, is answered +RD,Err.  No
 * cell voltages.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define OG_REQ 8

static const uint8_t og_seq[16] = { 2, 5, 4, 3, 1, 4, 1, 6, 8, 3, 7, 2, 5, 8, 9, 3 };

static uint8_t og_key(const struct sim_pack *p)
{
	char hex[8];
	snprintf(hex, sizeof hex, "%04X", (unsigned)p->dialect & 0xFFFFu);
	unsigned k = 5;
	for (int i = 0; i < 4; i++)
		k += og_seq[hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'A' + 10];
	return (uint8_t)k;
}

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static long og_mv(const struct sim_pack *p)
{
	long mv = 0;
	for (int i = 0; i < p->ncells; i++)
		mv += sim_pack_cell_mv(p, i);
	return clampl(mv, 0, 65535);
}

static long og_ca(const struct sim_pack *p)
{
	return clampl(lround(p->current * 100.0), -32768, 32767);
}

/* 10 mAh units */
static long og_cap10(double ah)
{
	return clampl(lround(ah * 100.0), 0, 65535);
}

static long og_dk(const struct sim_pack *p)
{
	return lround((p->mos_temp_c + 273.15) * 10.0);
}

static long og_soc(const struct sim_pack *p)
{
	return clampl(lround(p->soc), 0, 100);
}

static void og_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP;
	v->address = p->address;
	v->voltage = og_mv(p) / 1000.0;
	v->current = og_ca(p) / 100.0;
	v->soc = (double)og_soc(p);
	v->remaining_ah = og_cap10(p->capacity_ah * og_soc(p) / 100.0) / 100.0;
	v->capacity_ah = og_cap10(p->capacity_ah) / 100.0;
	v->cycles = p->cycles & 0xFFFFu;
	v->mos_temp_c = og_dk(p) / 10.0 - 273.15;
}

/* The plain answer of a register: its value bytes b[0..n). */
static void og_add(const struct sim_pack *p, struct sim_reply *reply, unsigned reg, const uint8_t *b, size_t n)
{
	char t[32];
	int len = snprintf(t, sizeof t, "+RD,%02X", reg);
	for (size_t i = 0; i < n; i++)
		len += snprintf(t + len, sizeof t - (size_t)len, "%02X", b[i]);
	len += snprintf(t + len, sizeof t - (size_t)len, "\r\n");
	uint8_t f[32], k = og_key(p);
	for (int i = 0; i < len; i++)
		f[i] = (uint8_t)t[i] ^ k;
	sim_reply_add(reply, f, (size_t)len);
}

static void og_err(const struct sim_pack *p, struct sim_reply *reply)
{
	static const char t[] = "+RD,Err\r\n";
	uint8_t f[sizeof t - 1], k = og_key(p);
	for (size_t i = 0; i < sizeof f; i++)
		f[i] = (uint8_t)t[i] ^ k;
	sim_reply_add(reply, f, sizeof f);
}

/* The value of register reg, its length in *n; -1 for one not simulated. */
static int og_value(const struct sim_pack *p, unsigned reg, uint8_t *b, size_t *n)
{
	long v;
	*n = 2;
	switch (reg) {
	case 0x02: *n = 1; v = og_soc(p); break;
	case 0x04: *n = 3; v = og_cap10(p->capacity_ah * og_soc(p) / 100.0) | 10L << 16; break;
	case 0x06: *n = 3; v = og_cap10(p->capacity_ah) | 10L << 16; break;
	case 0x08: v = og_mv(p); break;
	case 0x0C: v = og_dk(p); break;
	case 0x10: *n = 3; v = og_ca(p) & 0xFFFF; break;
	case 0x2C: v = (long)(p->cycles & 0xFFFFu); break;
	case 0x3C: /* the design capacity, as 0x06; refused with nosettings=1 */
		if (p->nosettings)
			return -1;
		*n = 3;
		v = og_cap10(p->capacity_ah) | 10L << 16;
		break;
	default: return -1;
	}
	for (size_t i = 0; i < *n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return 0;
}

static unsigned og_hex2(const uint8_t *q)
{
	unsigned v = 0;
	for (int i = 0; i < 2; i++) {
		int c = q[i];
		v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c & ~0x20) - 'A' + 10);
	}
	return v & 0xFF;
}

/* A request is 8 bytes; it is known by its first byte under the key (every
 * pack here has one key: the one connection's). */
static enum sim_scan og_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len < OG_REQ)
		return SIM_SCAN_NEED;
	*n = OG_REQ;
	return SIM_SCAN_FRAME;
}

static int og_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static int og_hexok(const uint8_t *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((q[i] >= '0' && q[i] <= '9') || (q[i] >= 'A' && q[i] <= 'F')))
			return 0;
	return 1;
}

static enum sim_resp og_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t q[OG_REQ], k = og_key(p);
	if (n != OG_REQ)
		return SIM_RESP_BAD;
	for (size_t i = 0; i < n; i++)
		q[i] = req[i] ^ k;
	if (memcmp(q, "+RAA", 4) != 0 || !og_hexok(q + 4, 4))
		return SIM_RESP_BAD; /* another key, a type B request, a write */
	uint8_t b[4];
	size_t len;
	unsigned reg = og_hex2(q + 4);
	if (og_value(p, reg, b, &len) < 0 || og_hex2(q + 6) != len)
		og_err(p, reply);
	else
		og_add(p, reply, reg, b, len);
	return SIM_RESP_OK;
}

/* fault badsum: there is no checksum; the register's first hex digit
 * becomes a byte no answer holds (a frame the reader counts as bad) */
static void og_corrupt(uint8_t *frame, size_t n)
{
	if (n > 4)
		frame[4] ^= 0x80;
}

const struct sim_proto sim_proto_ogt = {
	.name = "ogt",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = 16,
	.max_temps = 1, /* none on the wire */
	.scan = og_scan,
	.address = og_address,
	.respond = og_respond,
	.view = og_view,
	.corrupt = og_corrupt,
};
