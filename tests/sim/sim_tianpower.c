/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_tianpower.c - Tian Power over Bluetooth LE, the BMS side of
 * the GATT link as a fake BlueZ bridges it to a TCP port (writes to FF02
 * in, notifications of FF01 out).
 *
 * bms/PROTOCOLS.md §31.  A request is 55 04 <type> AA, its answer 55 14
 * <type> <16 bytes> AA (no checksum), big-endian:
 *	0x81 "0.1.10"; 0x82 "TP-LT55" NUL "SIM"
 *	0x83 SOC %, voltage 0.01 V (the cells' sum), average, ambient and
 *	     MOSFET temperature 0.1 degC, current s16 0.01 A (+ = charging),
 *	     0x3030, SOH %
 *	0x84 cells, sensors, full and remaining 0.01 Ah, cycles, the voltage /
 *	     current / temperature / error words = alarm bytes 0-1 / 2-3 / 4-5
 *	     / 6-7
 *	0x85 the MOSFET word 0x0820 | bit 0 charge on | bit 1 discharge on (as
 *	     syssi/esphome-tianpower-bms reads it), 0, 0, 0, 0, balancing
 *	     (cells 1-16)
 *	0x87 the sensors' temperatures, 0.1 degC (8 slots)
 *	0x88 / 0x89 / 0x8A cells 1-8 / 9-16 / 17-24 mV (0 beyond the pack's)
 *	0x86, 0x90-0x95 zeros
 * Any other type is a bad request.  The view shows the MOSFETs only when
 * both are on or both off (a reader cannot tell which bit is which).
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define TP_REQ 4
#define TP_LEN 20
#define TP_CELLS 24
#define TP_TEMPS 8

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

struct tp_raw {
	int ncells, ntemps;
	unsigned cell_mv[TP_CELLS];
	unsigned volt_cv;      /* 0.01 V */
	long current_ca;       /* 0.01 A */
	unsigned soc, soh, full_cah, remain_cah;
};

static void tp_quantise(const struct sim_pack *p, struct tp_raw *r)
{
	unsigned long sum = 0;
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < TP_CELLS ? p->ncells : TP_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 5000);
		sum += r->cell_mv[i];
	}
	r->ntemps = p->ntemps < TP_TEMPS ? p->ntemps : TP_TEMPS;
	r->volt_cv = (unsigned)clampl((long)((sum + 5) / 10), 0, 65535);
	r->current_ca = clampl(lround(p->current * 100.0), -32768, 32767);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->full_cah = (unsigned)clampl(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)clampl(lround(r->full_cah * p->soc / 100.0), 0, 65535);
}

static void tp_data(const struct sim_pack *p, uint8_t type, uint8_t *d)
{
	struct tp_raw r;
	tp_quantise(p, &r);
	memset(d, 0, 16);
	switch (type) {
	case 0x81:
		memcpy(d, "0.1.10", 6);
		break;
	case 0x82:
		memcpy(d, "TP-LT55\0SIM", 11);
		break;
	case 0x83:
		be16(d, r.soc);
		be16(d + 2, r.volt_cv);
		be16(d + 4, (unsigned)(p->temp_c[0] * 10) & 0xFFFF);
		be16(d + 6, (unsigned)(p->temp_c[0] * 10) & 0xFFFF);
		be16(d + 8, (unsigned)(p->mos_temp_c * 10) & 0xFFFF);
		be16(d + 10, (unsigned)r.current_ca & 0xFFFF);
		be16(d + 12, 0x3030);
		be16(d + 14, r.soh);
		break;
	case 0x84:
		d[0] = (uint8_t)r.ncells;
		d[1] = (uint8_t)r.ntemps;
		be16(d + 2, r.full_cah);
		be16(d + 4, r.remain_cah);
		be16(d + 6, p->cycles & 0xFFFF);
		memcpy(d + 8, p->alarm, 8); /* four big-endian words */
		break;
	case 0x85:
		be16(d, 0x0820u | (p->chg_mos ? 1u : 0) | (p->dsg_mos ? 2u : 0));
		be16(d + 10, (unsigned)(p->balance & 0xFFFF));
		break;
	case 0x87:
		for (int i = 0; i < r.ntemps; i++)
			be16(d + 2 * i, (unsigned)(p->temp_c[i] * 10) & 0xFFFF);
		break;
	case 0x88:
	case 0x89:
	case 0x8A:
		for (int i = 0; i < 8; i++) {
			int c = 8 * (type - 0x88) + i;
			if (c < r.ncells)
				be16(d + 2 * i, r.cell_mv[c]);
		}
		break;
	default: /* 0x86, 0x90-0x95: nothing set */
		break;
	}
}

static void tp_view(const struct sim_pack *p, struct sim_view *v)
{
	struct tp_raw r;
	tp_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH | SIM_HAS_MOS_TEMP |
	         SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	if (!p->chg_mos == !p->dsg_mos)
		v->has |= SIM_HAS_MOSFETS;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = p->cycles & 0xFFFF;
	v->mos_temp_c = p->mos_temp_c;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->balance = p->balance & 0xFFFF;
	v->nalarm = 8;
	memcpy(v->alarm, p->alarm, 8);
}

/* 55 04 <type> AA: a request; anything else up to the next 55. */
static enum sim_scan tp_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x55) {
		size_t i = 1;
		while (i < len && buf[i] != 0x55)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < TP_REQ)
		return SIM_SCAN_NEED;
	if (buf[1] != 0x04 || buf[3] != 0xAA) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = TP_REQ;
	return SIM_SCAN_FRAME;
}

static int tp_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp tp_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t f[TP_LEN];
	uint8_t t = n == TP_REQ ? req[2] : 0;
	if (!((t >= 0x81 && t <= 0x8A) || (t >= 0x90 && t <= 0x95)))
		return SIM_RESP_BAD;
	f[0] = 0x55;
	f[1] = 0x14;
	f[2] = t;
	tp_data(p, t, f + 3);
	f[TP_LEN - 1] = 0xAA;
	sim_reply_add(reply, f, TP_LEN);
	return SIM_RESP_OK;
}

/* badsum: no checksum exists: the end byte is spoilt. */
static void tp_corrupt(uint8_t *frame, size_t n)
{
	if (n == TP_LEN)
		frame[TP_LEN - 1] = 0xAB;
}

const struct sim_proto sim_proto_tianpower = {
	.name = "tianpower",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = TP_CELLS,
	.max_temps = TP_TEMPS,
	.scan = tp_scan,
	.address = tp_address,
	.respond = tp_respond,
	.view = tp_view,
	.corrupt = tp_corrupt,
};
