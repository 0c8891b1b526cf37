/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_lifepower.c - the LifePower binary RS485 family (EG4
 * LifePower v1, Revov, Tian Power, Basen), the BMS side.
 *
 * bms/PROTOCOLS.md §29.  A request is SOI addr cmd 00 chk 0D with SOI 0x7E
 * or 0x7C; the answer carries the request's SOI, the pack's address and
 * the command: SOI addr cmd len data chk 0D, chk = XOR of SOI .. the last
 * data byte XOR their sum.  Addresses 1..15 (DIP switches).
 *	0x01  groups <type> <count> <u16 values>: 01 cells mV, 02 current as
 *	      30000 - 0.01 A (+ = charging), 03 SOC 0.01 %, 04 full capacity
 *	      0.01 Ah, 05 temperatures (the sensors with high byte 0x00, the
 *	      MOSFET with 0x80 as EG4 sends it, low byte = degC + 50),
 *	      06 five status words = alarm bytes 0-7 and two zero bytes, with
 *	      byte 3 bit 0 charging / bit 1 discharging from the current,
 *	      07 cycles, 08 voltage 0.01 V (the cells' sum), 09 SOH 0.01 %,
 *	      0A 0
 *	0x33  "SIM-LP16S-V1.00" (the model string)
 * A pack option `dialect=7c` makes the pack a Revov: it answers only
 * requests with SOI 0x7C.  Any other command is a bad request (no answer).
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define LP_SOI 0x7E
#define LP_SOI_ALT 0x7C
#define LP_EOI 0x0D
#define LP_REQ_LEN 6
#define LP_CELLS 32
#define LP_TEMPS 6
#define LP_MODEL "SIM-LP16S-V1.00"

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint8_t lp_sum(const uint8_t *p, size_t n)
{
	uint8_t x = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		x ^= p[i];
		s = (uint8_t)(s + p[i]);
	}
	return (uint8_t)(x ^ s);
}

struct lp_raw {
	int ncells, ntemps;
	unsigned cell_mv[LP_CELLS];
	int temp_c[LP_TEMPS];
	int mos_c;
	unsigned volt_cv, current_raw, soc_c, soh_c, full_cah, cycles;
	uint8_t status[10];
};

static void lp_quantise(const struct sim_pack *p, struct lp_raw *r)
{
	unsigned long sum = 0;
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < LP_CELLS ? p->ncells : LP_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 0x3FFF);
		sum += r->cell_mv[i];
	}
	r->volt_cv = (unsigned)clampl((long)((sum + 5) / 10), 0, 65535);
	r->ntemps = p->ntemps < LP_TEMPS - 1 ? p->ntemps : LP_TEMPS - 1;
	for (int i = 0; i < r->ntemps; i++)
		r->temp_c[i] = (int)clampl(p->temp_c[i], -50, 205);
	r->mos_c = (int)clampl(p->mos_temp_c, -50, 205);
	long ca = clampl(lround(p->current * 100.0), -35535, 30000);
	r->current_raw = (unsigned)(30000 - ca);
	r->soc_c = (unsigned)clampl(lround(p->soc * 100.0), 0, 10000);
	r->soh_c = (unsigned)clampl(lround(p->soh * 100.0), 0, 10000);
	r->full_cah = (unsigned)clampl(lround(p->capacity_ah * 100.0), 0, 65535);
	r->cycles = p->cycles & 0xFFFF;
	memcpy(r->status, p->alarm, 8);
	r->status[3] = (uint8_t)((r->status[3] & ~0x03u) | (ca > 0 ? 0x01 : ca < 0 ? 0x02 : 0));
}

static void lp_view(const struct sim_pack *p, struct sim_view *v)
{
	struct lp_raw r;
	lp_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS |
	         SIM_HAS_MOS_TEMP | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = (30000.0 - r.current_raw) / 100.0;
	v->soc = r.soc_c / 100.0;
	v->soh = r.soh_c / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	v->mos_temp_c = r.mos_c;
	v->nalarm = 8;
	memcpy(v->alarm, r.status, 8);
}

static enum sim_scan lp_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != LP_SOI && buf[0] != LP_SOI_ALT) {
		size_t i = 1;
		while (i < len && buf[i] != LP_SOI && buf[i] != LP_SOI_ALT)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < LP_REQ_LEN)
		return SIM_SCAN_NEED;
	if (buf[3] != 0 || buf[5] != LP_EOI || lp_sum(buf, 4) != buf[4]) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = LP_REQ_LEN;
	return SIM_SCAN_FRAME;
}

static int lp_address(const uint8_t *req, size_t n)
{
	return n == LP_REQ_LEN ? req[1] : -1;
}

static void put16(uint8_t *d, size_t *k, unsigned v)
{
	d[(*k)++] = (uint8_t)(v >> 8);
	d[(*k)++] = (uint8_t)v;
}

/* The 0x01 groups into d; their length. */
static size_t lp_general(const struct lp_raw *r, uint8_t *d)
{
	size_t k = 0;
	d[k++] = 0x01;
	d[k++] = (uint8_t)r->ncells;
	for (int i = 0; i < r->ncells; i++)
		put16(d, &k, r->cell_mv[i]);
	const unsigned one[4][2] = { { 0x02, r->current_raw }, { 0x03, r->soc_c }, { 0x04, r->full_cah }, { 0, 0 } };
	for (int g = 0; one[g][0]; g++) {
		d[k++] = (uint8_t)one[g][0];
		d[k++] = 1;
		put16(d, &k, one[g][1]);
	}
	d[k++] = 0x05;
	d[k++] = (uint8_t)(r->ntemps + 1);
	for (int i = 0; i < r->ntemps; i++)
		put16(d, &k, (unsigned)(r->temp_c[i] + 50));
	put16(d, &k, 0x8000u | (unsigned)(r->mos_c + 50));
	d[k++] = 0x06;
	d[k++] = 5;
	memcpy(d + k, r->status, sizeof(r->status));
	k += sizeof(r->status);
	const unsigned tail[4][2] = { { 0x07, r->cycles }, { 0x08, r->volt_cv }, { 0x09, r->soh_c }, { 0x0A, 0 } };
	for (int g = 0; g < 4; g++) {
		d[k++] = (uint8_t)tail[g][0];
		d[k++] = 1;
		put16(d, &k, tail[g][1]);
	}
	return k;
}

static enum sim_resp lp_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t f[300];
	struct lp_raw r;
	size_t dlen;

	if (n != LP_REQ_LEN)
		return SIM_RESP_BAD;
	if (p->dialect == LP_SOI_ALT && req[0] != LP_SOI_ALT)
		return SIM_RESP_NONE; /* a Revov hears only 0x7C */
	lp_quantise(p, &r);
	switch (req[2]) {
	case 0x01:
		dlen = lp_general(&r, f + 4);
		break;
	case 0x33:
		dlen = strlen(LP_MODEL);
		memcpy(f + 4, LP_MODEL, dlen);
		break;
	default:
		return SIM_RESP_BAD;
	}
	f[0] = req[0];
	f[1] = (uint8_t)p->address;
	f[2] = req[2];
	f[3] = (uint8_t)dlen;
	f[4 + dlen] = lp_sum(f, 4 + dlen);
	f[5 + dlen] = LP_EOI;
	return sim_reply_add(reply, f, dlen + 6) ? SIM_RESP_BAD : SIM_RESP_OK;
}

/* badsum: the checksum byte (before the EOI) is changed. */
static void lp_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 2)
		frame[n - 2] ^= 0x01;
}

const struct sim_proto sim_proto_lifepower = {
	.name = "lifepower",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 15,
	.max_cells = LP_CELLS,
	.max_temps = LP_TEMPS - 1,
	.scan = lp_scan,
	.address = lp_address,
	.respond = lp_respond,
	.view = lp_view,
	.corrupt = lp_corrupt,
};
