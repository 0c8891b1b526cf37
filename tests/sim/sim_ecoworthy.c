/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_ecoworthy.c - the Eco-Worthy BW02 BMS over Bluetooth LE,
 * the BMS side of the FFF0 link as a fake BlueZ bridges it to a TCP port
 * (notifications of FFF1 out; nothing is written to it by bmsgw).
 *
 * bms/PROTOCOLS.md §35.  Once a second, unasked, the status frame 0xA1 and
 * the cell frame 0xA2, each closed by its CRC-16/MODBUS (low byte first).
 * layout=v1 (default): the frame starts with its type byte (84 and 102
 * bytes); layout=v2: six MAC bytes come first and every field sits two
 * bytes earlier (82 and 100 bytes: the MAC, the type byte, then the v1
 * frame from offset 9 on, as the captured v2 pair), the current in 0.1 A
 * instead of 0.01 A.  Big-endian, v1 offsets: A1 16 SOC, 18 SOH, 20 voltage 0.01 V,
 * 22 current s16 (+ = charging), 26 design capacity 0.01 Ah, 51 problem
 * code (alarm byte 0); A2 14 cell count, 16.. 32 cell slots mV (0xFFFF
 * unused), 80 sensor count, 82.. 9 slots s16 0.1 degC (0xFC18 unused).
 * The header bytes are the captures' (ECO-01, ECO-02).  Any request is a
 * bad one.  One BMS per connection.  Encoded here; bms/ is deliberately
 * not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define EW_CELLS 32
#define EW_TEMPS 8 /* of 9 slots: bmsgw's limit */
#define EW_V1_A1 84
#define EW_V1_A2 102

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t c = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
	}
	return c;
}

struct ew_raw {
	int ncells, ntemps;
	unsigned cell_mv[EW_CELLS], cv, soc, soh, cap;
	long cur; /* in the layout's unit */
	int dc[EW_TEMPS];
};

static void ew_quantise(const struct sim_pack *p, struct ew_raw *r)
{
	unsigned long mv = 0;
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < EW_CELLS ? p->ncells : EW_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 65534);
		mv += r->cell_mv[i];
	}
	r->cv = (unsigned)clampl((long)((mv + 5) / 10), 0, 65535);
	r->cur = clampl(lround(p->current * (p->dialect == 2 ? 10.0 : 100.0)), -32768, 32767);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->cap = (unsigned)clampl(lround(p->capacity_ah * 100.0), 0, 65535);
	r->ntemps = p->ntemps < EW_TEMPS ? p->ntemps : EW_TEMPS;
	for (int i = 0; i < r->ntemps; i++)
		r->dc[i] = (int)clampl(p->temp_c[i] * 10L, -500, 1500);
}

/* The frame of type t (0xA1, 0xA2) laid out at v1 offsets in b (v1len
 * bytes, the CRC's two left out), then out as v1 or v2; its length. */
static size_t ew_out(const struct sim_pack *p, uint8_t *b, size_t v1len, uint8_t *out)
{
	size_t n;
	if (p->dialect == 2) {
		static const uint8_t mac[6] = { 0xE2, 0xE7, 0x79, 0x00, 0x00, 0x01 };
		memcpy(out, mac, 6);
		/* type at v1 offset 8: "A1 00 00 08" as the v2 test frames */
		b[8] = b[0];
		b[9] = b[10] = 0;
		b[11] = 0x08;
		n = v1len - 2; /* A1 82, A2 100 (ECO-03, ECO-04) */
		memcpy(out + 6, b + 8, n - 8);
	} else {
		n = v1len;
		memcpy(out, b, n - 2);
	}
	uint16_t c = crc16(out, n - 2);
	out[n - 2] = (uint8_t)c;
	out[n - 1] = (uint8_t)(c >> 8);
	return n;
}

static size_t ew_a1(const struct sim_pack *p, const struct ew_raw *r, uint8_t *out)
{
	static const uint8_t head[16] = { 0xA1, 0, 0, 0, 0x65, 0, 0, 0, 0, 0, 0x18, 0x01, 0x03, 0x44, 0x00, 0x18 };
	uint8_t b[EW_V1_A2 + 8];
	memset(b, 0, sizeof b);
	memcpy(b, head, sizeof head);
	be(b + 16, r->soc);
	be(b + 18, r->soh);
	be(b + 20, r->cv);
	be(b + 22, (unsigned)(r->cur & 0xFFFF));
	be(b + 26, r->cap);
	be(b + 51, p->alarm[0]);
	return ew_out(p, b, EW_V1_A1, out);
}

static size_t ew_a2(const struct sim_pack *p, const struct ew_raw *r, uint8_t *out)
{
	static const uint8_t head[14] = { 0xA2, 0, 0, 0, 0x65, 0, 0, 0, 0, 0, 0x18, 0x01, 0x03, 0x56 };
	uint8_t b[EW_V1_A2 + 8];
	memset(b, 0, sizeof b);
	memcpy(b, head, sizeof head);
	be(b + 14, (unsigned)r->ncells);
	for (int i = 0; i < EW_CELLS; i++)
		be(b + 16 + 2 * i, i < r->ncells ? r->cell_mv[i] : 0xFFFF);
	be(b + 80, (unsigned)r->ntemps);
	for (int i = 0; i < 9; i++)
		be(b + 82 + 2 * i, i < r->ntemps ? (unsigned)(r->dc[i] & 0xFFFF) : 0xFC18);
	return ew_out(p, b, EW_V1_A2, out);
}

static enum sim_resp ew_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct ew_raw r;
	uint8_t f[EW_V1_A2 + 8];
	ew_quantise(p, &r);
	sim_reply_add(reply, f, ew_a1(p, &r, f));
	sim_reply_add(reply, f, ew_a2(p, &r, f));
	return SIM_RESP_OK;
}

static void ew_view(const struct sim_pack *p, struct sim_view *v)
{
	struct ew_raw r;
	ew_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CAPACITY | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.cv / 100.0;
	v->current = r.cur / (p->dialect == 2 ? 10.0 : 100.0);
	v->soc = r.soc;
	v->soh = r.soh;
	v->capacity_ah = r.cap / 100.0;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.dc[i] / 10;
	v->nalarm = 1;
	v->alarm[0] = p->alarm[0];
}

/* bmsgw writes nothing to this BMS: whatever comes is a bad request. */
static enum sim_scan ew_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_BAD;
}

static int ew_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp ew_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_BAD;
}

/* badsum: the CRC's high byte changed. */
static void ew_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 2)
		frame[n - 1] ^= 0x5A;
}

const struct sim_proto sim_proto_ecoworthy = {
	.name = "ecoworthy",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = EW_CELLS,
	.max_temps = EW_TEMPS,
	.scan = ew_scan,
	.address = ew_address,
	.respond = ew_respond,
	.view = ew_view,
	.corrupt = ew_corrupt,
	.emit = ew_emit,
	.emit_ms = 1000,
};
