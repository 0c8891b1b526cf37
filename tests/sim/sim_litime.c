/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_litime.c - LiTime / Redodo / Power Queen over Bluetooth LE,
 * the BMS side of the GATT link as a fake BlueZ bridges it to a TCP port
 * (writes to FFE2 in, notifications of FFE1 out).
 *
 * bms/PROTOCOLS.md §30.  A request is 00 00 04 01 <cmd> 55 AA <sum8>; the
 * status 0x13 is answered with the 105-byte 0x93 frame (00 00 65 01 93 55
 * AA 00 ... sum8), little-endian: 8 u32 the terminals' mV (the cells' sum
 * + 0.3 V, as a charger behind an open MOSFET shows: a reader that takes
 * it is wrong), 12 u32 the cells' sum mV, 16 u16[16] cells, 48 s32 mA (+ =
 * charging), 52 s16 cell temperature (sensor 1), 54 s16 MOSFET
 * temperature, 56 s16 -2 degC (a third value of unknown meaning, as in
 * LITIME-01), 62 / 64 u16 remaining / full 0.01 Ah, 76 u32 protection =
 * alarm bytes 0-3, 80 u32 failure = alarm bytes 4-7, 90 u16 SOC, 92 u32
 * SOH, 96 u32 cycles.  Any other command is a bad request (the switches
 * 0x0A-0x0D and 0x60 shutdown are never sent by bmsgw).  One BMS per
 * connection.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define LT_REQ 8
#define LT_STATUS_LEN 105
#define LT_CELLS 16

static uint8_t lt_sum(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (uint8_t)s;
}

static void le16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *b, uint32_t v)
{
	le16(b, v & 0xFFFF);
	le16(b + 2, v >> 16);
}

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* What goes on the wire, in its units. */
struct lt_raw {
	int ncells;
	unsigned cell_mv[LT_CELLS];
	uint32_t volt_mv;
	long current_ma;
	unsigned soc, soh, full_cah, remain_cah; /* centi-Ah */
};

static void lt_quantise(const struct sim_pack *p, struct lt_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < LT_CELLS ? p->ncells : LT_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->volt_mv += r->cell_mv[i];
	}
	r->current_ma = clampl(lround(p->current * 1000.0), -2000000000L, 2000000000L);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->full_cah = (unsigned)clampl(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)clampl(lround(r->full_cah * p->soc / 100.0), 0, 65535);
}

static void lt_status(const struct sim_pack *p, uint8_t *f)
{
	struct lt_raw r;
	lt_quantise(p, &r);
	memset(f, 0, LT_STATUS_LEN);
	static const uint8_t head[8] = { 0x00, 0x00, 0x65, 0x01, 0x93, 0x55, 0xAA, 0x00 };
	memcpy(f, head, sizeof head);
	le32(f + 8, r.volt_mv + 300);
	le32(f + 12, r.volt_mv);
	for (int i = 0; i < r.ncells; i++)
		le16(f + 16 + 2 * i, r.cell_mv[i]);
	le32(f + 48, (uint32_t)r.current_ma);
	le16(f + 52, (unsigned)(p->temp_c[0] & 0xFFFF));
	le16(f + 54, (unsigned)(p->mos_temp_c & 0xFFFF));
	le16(f + 56, 0xFFFE); /* -2 */
	le16(f + 62, r.remain_cah);
	le16(f + 64, r.full_cah);
	memcpy(f + 76, p->alarm, 8); /* protection, failure: little-endian words */
	le16(f + 90, r.soc);
	le32(f + 92, r.soh);
	le32(f + 96, p->cycles);
	f[LT_STATUS_LEN - 1] = lt_sum(f, LT_STATUS_LEN - 1);
}

static void lt_view(const struct sim_pack *p, struct sim_view *v)
{
	struct lt_raw r;
	lt_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH | SIM_HAS_MOS_TEMP |
	         SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.current_ma / 1000.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = p->cycles;
	v->mos_temp_c = p->mos_temp_c;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = 1; /* the one cell temperature a reader takes */
	v->temp_c[0] = p->temp_c[0];
	v->nalarm = 8;
	memcpy(v->alarm, p->alarm, 8);
}

/* 00 00 04 01 cmd 55 AA sum: a request; anything else up to the next 00. */
static enum sim_scan lt_scan(const uint8_t *buf, size_t len, size_t *n)
{
	static const uint8_t head[4] = { 0x00, 0x00, 0x04, 0x01 };
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x00) {
		size_t i = 1;
		while (i < len && buf[i] != 0x00)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	size_t k = len < 4 ? len : 4;
	if (memcmp(buf, head, k) != 0) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < LT_REQ)
		return SIM_SCAN_NEED;
	if (buf[5] != 0x55 || buf[6] != 0xAA || lt_sum(buf, LT_REQ - 1) != buf[LT_REQ - 1]) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = LT_REQ;
	return SIM_SCAN_FRAME;
}

static int lt_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp lt_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t f[LT_STATUS_LEN];
	if (n != LT_REQ || req[4] != 0x13)
		return SIM_RESP_BAD;
	lt_status(p, f);
	sim_reply_add(reply, f, sizeof f);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_litime = {
	.name = "litime",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = LT_CELLS,
	.max_temps = 1,
	.scan = lt_scan,
	.address = lt_address,
	.respond = lt_respond,
	.view = lt_view,
};
