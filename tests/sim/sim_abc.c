/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_abc.c - a SOK battery's ABC-BMS over Bluetooth LE, the
 * BMS side of the GATT link, as a fake BlueZ bridges it to a TCP port
 * (writes to FFE2 in, notifications of FFE1 out).
 *
 * bms/PROTOCOLS.md §33.  Requests are 6 bytes EE <cmd> 00 00 00 <CRC-8/MAXIM
 * of 0..4>; every answer is 20 bytes CC <type> <17 bytes> <CRC-8/MAXIM of
 * 0..18>, little-endian:
 *	C0	F1: the name "SOK-BMS\r";
 *	C1	F0: voltage mV (u24, the cells' sum), current mA (s24, + =
 *		charging), design and remaining capacity mAh (u24), cycles
 *		(u16), SOC % (u8); F2: charge / discharge MOSFET, the sensor
 *		count (at most 7), the temperatures (s16 °C);
 *	C2	F0, F3 (a date, heater 0 at 8, balancing at 10: 1 while any
 *		balance bit is set), then the cells four to an F4: (number,
 *		mV u24) x 4, a last one padded with number 0;
 *	C4	F9: 16 protection bytes, bit 0 of byte 2 + i = bit i of alarm
 *		bytes 0 and 1; with the pack option noprot=1 no answer (a BMS
 *		that does not know C4);
 * anything else (C3's settings, which bmsgw does not read) is counted as a
 * bad request.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define AB_REQ 6
#define AB_LEN 20
#define AB_MAX_CELLS 32
#define AB_MAX_TEMPS 7

static uint8_t ab_crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8C) : (uint8_t)(crc >> 1);
	}
	return crc;
}

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int ab_ncells(const struct sim_pack *p)
{
	return p->ncells < AB_MAX_CELLS ? p->ncells : AB_MAX_CELLS;
}

static int ab_ntemps(const struct sim_pack *p)
{
	return p->ntemps < AB_MAX_TEMPS ? p->ntemps : AB_MAX_TEMPS;
}

/* What F0 carries, in wire units. */
struct ab_raw {
	unsigned long mv, cap_mah, rem_mah;
	long ma;
	unsigned cycles, soc;
};

static void ab_quantise(const struct sim_pack *p, struct ab_raw *r)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < ab_ncells(p); i++)
		r->mv += (unsigned long)sim_pack_cell_mv(p, i);
	r->ma = clampl(lround(p->current * 1000.0), -0x7FFFFF, 0x7FFFFF);
	r->cap_mah = (unsigned long)clampl(lround(p->capacity_ah * 1000.0), 0, 0xFFFFFF);
	r->rem_mah = (unsigned long)clampl(lround(p->capacity_ah * 10.0 * p->soc), 0, 0xFFFFFF);
	r->cycles = p->cycles & 0xFFFFu;
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
}

static void ab_view(const struct sim_pack *p, struct sim_view *v)
{
	struct ab_raw r;
	ab_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
		 SIM_HAS_TEMPS | SIM_HAS_BALANCING | (p->dialect ? 0 : SIM_HAS_ALARMS);
	v->address = p->address;
	v->voltage = r.mv / 1000.0;
	v->current = r.ma / 1000.0;
	v->capacity_ah = r.cap_mah / 1000.0;
	v->remaining_ah = r.rem_mah / 1000.0;
	v->cycles = r.cycles;
	v->soc = r.soc;
	v->ncells = ab_ncells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	v->ntemps = ab_ntemps(p);
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->balancing = p->balance != 0;
	v->nalarm = 2;
	memcpy(v->alarm, p->alarm, 2);
}

static void ab_put24(uint8_t *f, unsigned long v)
{
	f[0] = (uint8_t)v;
	f[1] = (uint8_t)(v >> 8);
	f[2] = (uint8_t)(v >> 16);
}

static int ab_add(struct sim_reply *reply, uint8_t *f)
{
	f[0] = 0xCC;
	f[AB_LEN - 1] = ab_crc8(f, AB_LEN - 1);
	return sim_reply_add(reply, f, AB_LEN);
}

static void ab_f0(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t f[AB_LEN] = { 0, 0xF0 };
	struct ab_raw r;
	ab_quantise(p, &r);
	ab_put24(f + 2, r.mv);
	ab_put24(f + 5, (unsigned long)r.ma & 0xFFFFFFul);
	ab_put24(f + 8, r.cap_mah);
	ab_put24(f + 11, r.rem_mah);
	f[14] = (uint8_t)r.cycles;
	f[15] = (uint8_t)(r.cycles >> 8);
	f[16] = (uint8_t)r.soc;
	ab_add(reply, f);
}

static void ab_f2(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t f[AB_LEN] = { 0, 0xF2, (uint8_t)!!p->chg_mos, (uint8_t)!!p->dsg_mos, (uint8_t)ab_ntemps(p) };
	for (int i = 0; i < ab_ntemps(p); i++) {
		unsigned t = (unsigned)(int16_t)p->temp_c[i];
		f[5 + 2 * i] = (uint8_t)t;
		f[6 + 2 * i] = (uint8_t)(t >> 8);
	}
	ab_add(reply, f);
}

static void ab_detail(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t f3[AB_LEN] = { 0, 0xF3, 0x18, 0x01, 0x01, 0, 100, 0, 0, 1 };
	f3[10] = p->balance != 0;
	ab_f0(p, reply);
	ab_add(reply, f3);
	for (int c = 0; c < ab_ncells(p); c += 4) {
		uint8_t f[AB_LEN] = { 0, 0xF4 };
		for (int k = 0; k < 4 && c + k < ab_ncells(p); k++) {
			f[2 + 4 * k] = (uint8_t)(c + k + 1);
			ab_put24(f + 3 + 4 * k, (unsigned long)sim_pack_cell_mv(p, c + k));
		}
		ab_add(reply, f);
	}
}

static enum sim_scan ab_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0xEE) {
		size_t i = 1;
		while (i < len && buf[i] != 0xEE)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < AB_REQ)
		return SIM_SCAN_NEED;
	if (ab_crc8(buf, AB_REQ - 1) != buf[AB_REQ - 1]) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = AB_REQ;
	return SIM_SCAN_FRAME;
}

static int ab_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp ab_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n != AB_REQ || req[2] || req[3] || req[4])
		return SIM_RESP_BAD;
	switch (req[1]) {
	case 0xC0: {
		uint8_t f[AB_LEN] = { 0, 0xF1, 'S', 'O', 'K', '-', 'B', 'M', 'S', '\r' };
		ab_add(reply, f);
		return SIM_RESP_OK;
	}
	case 0xC1:
		ab_f0(p, reply);
		ab_f2(p, reply);
		return SIM_RESP_OK;
	case 0xC2:
		ab_detail(p, reply);
		return SIM_RESP_OK;
	case 0xC4: {
		if (p->dialect)
			return SIM_RESP_NONE;
		uint8_t f[AB_LEN] = { 0, 0xF9 };
		unsigned w = (unsigned)p->alarm[0] | (unsigned)p->alarm[1] << 8;
		for (int i = 0; i < 16; i++)
			f[2 + i] = (uint8_t)((w >> i) & 1u);
		ab_add(reply, f);
		return SIM_RESP_OK;
	}
	default:
		return SIM_RESP_BAD;
	}
}

const struct sim_proto sim_proto_abc = {
	.name = "abc",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = AB_MAX_CELLS,
	.max_temps = AB_MAX_TEMPS,
	.scan = ab_scan,
	.address = ab_address,
	.respond = ab_respond,
	.view = ab_view,
};
