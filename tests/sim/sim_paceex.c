/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_paceex.c - a PACEEX (PeiCheng) BMS over Bluetooth LE, the
 * BMS side of the GATT link, as a fake BlueZ bridges it to a TCP port
 * (writes to FFF2 in, notifications of FFF1 out).
 *
 * bms/PROTOCOLS.md §47.  Requests and answers are 9A <command, 6 bytes>
 * <len> <data> <CRC-16/MODBUS, high byte first> 9D (len + 11 bytes),
 * big-endian:
 *	00 00 0A 00 00 00	51 bytes: pack count 1, current (s32 0.01 A,
 *		+ = charging), voltage, remaining and design capacity (u32,
 *		0.01 V / 0.01 Ah, the design twice), SOC, SOH, cycles (u32);
 *	00 00 0A 02 00 00 + 01 01	pack 1: 02, the voltage (u16 0.01 V),
 *		the cell count, then per cell its mV and a temperature in
 *		0.1 K (the sensors in the first slots, 0 in the others);
 * anything else is a bad request.  junk=1: the identity answer (0x0001,
 * as the capture) before every answer.  Encoded here; bms/ is deliberately
 * not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define PX_MAX_CELLS 32
#define PX_MAX_TEMPS 8

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int px_ncells(const struct sim_pack *p)
{
	return p->ncells < PX_MAX_CELLS ? p->ncells : PX_MAX_CELLS;
}

static int px_ntemps(const struct sim_pack *p)
{
	int n = p->ntemps < PX_MAX_TEMPS ? p->ntemps : PX_MAX_TEMPS;
	return n < px_ncells(p) ? n : px_ncells(p);
}

static long px_cv(const struct sim_pack *p)
{
	long mv = 0;
	for (int i = 0; i < px_ncells(p); i++)
		mv += sim_pack_cell_mv(p, i);
	return clampl(lround(mv / 10.0), 0, 0xFFFF);
}

static long px_ca(const struct sim_pack *p)
{
	return clampl(lround(p->current * 100.0), -0x7FFFFFFF, 0x7FFFFFFF);
}

static long px_cah(double ah)
{
	return clampl(lround(ah * 100.0), 0, 0x7FFFFFFF);
}

static int px_temp(const struct sim_pack *p, int i)
{
	return (int)clampl(p->temp_c[i], -100, 200);
}

static void px_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS |
		 SIM_HAS_TEMPS;
	v->address = p->address;
	v->voltage = px_cv(p) / 100.0;
	v->current = px_ca(p) / 100.0;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->soh = (double)clampl(lround(p->soh), 0, 100);
	v->capacity_ah = px_cah(p->capacity_ah) / 100.0;
	v->remaining_ah = px_cah(p->capacity_ah * p->soc / 100.0) / 100.0;
	v->cycles = p->cycles;
	v->ncells = px_ncells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	v->ntemps = px_ntemps(p);
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = px_temp(p, i);
}

static uint16_t crc16(const uint8_t *b, size_t n)
{
	uint16_t c = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
	}
	return c;
}

static void put32(uint8_t *f, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		f[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* Frame data d[0..n) as the answer to command cmd[0..6). */
static void px_add(struct sim_reply *reply, const uint8_t *cmd, const uint8_t *d, size_t n)
{
	uint8_t f[160 + 11];
	f[0] = 0x9A;
	memcpy(f + 1, cmd, 6);
	f[7] = (uint8_t)n;
	memcpy(f + 8, d, n);
	uint16_t c = crc16(f, n + 8);
	f[n + 8] = (uint8_t)(c >> 8);
	f[n + 9] = (uint8_t)c;
	f[n + 10] = 0x9D;
	sim_reply_add(reply, f, n + 11);
}

static void px_system(const struct sim_pack *p, struct sim_reply *reply, const uint8_t *cmd)
{
	uint8_t d[51] = { 0 };
	d[0] = 1;
	put32(d + 1, (unsigned long)px_ca(p) & 0xFFFFFFFFul);
	put32(d + 5, (unsigned long)px_cv(p));
	put32(d + 9, (unsigned long)px_cah(p->capacity_ah * p->soc / 100.0));
	put32(d + 13, (unsigned long)px_cah(p->capacity_ah));
	put32(d + 17, (unsigned long)px_cah(p->capacity_ah));
	d[21] = (uint8_t)clampl(lround(p->soc), 0, 100);
	d[22] = (uint8_t)clampl(lround(p->soh), 0, 100);
	put32(d + 23, p->cycles);
	px_add(reply, cmd, d, sizeof d);
}

static void px_cells(const struct sim_pack *p, struct sim_reply *reply, const uint8_t *cmd)
{
	uint8_t d[4 + 4 * PX_MAX_CELLS] = { 0 };
	int n = px_ncells(p);
	long cv = px_cv(p);
	d[0] = 2;
	d[1] = (uint8_t)(cv >> 8);
	d[2] = (uint8_t)cv;
	d[3] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		int mv = sim_pack_cell_mv(p, i);
		d[4 + 4 * i] = (uint8_t)(mv >> 8);
		d[5 + 4 * i] = (uint8_t)mv;
		if (i < px_ntemps(p)) {
			int k = px_temp(p, i) * 10 + 2731;
			d[6 + 4 * i] = (uint8_t)(k >> 8);
			d[7 + 4 * i] = (uint8_t)k;
		}
	}
	px_add(reply, cmd, d, 4 + 4 * (size_t)n);
}

/* the capture's identity answer (PACEEX-03), as noise */
static void px_identity(struct sim_reply *reply)
{
	static const uint8_t cmd[6] = { 0, 0, 0, 1, 0, 0 };
	static const char hw[] = "P16S100A-31916-1.06";
	uint8_t d[24] = { 0 };
	d[1] = (uint8_t)(sizeof(hw) - 1);
	memcpy(d + 2, hw, sizeof(hw) - 1);
	px_add(reply, cmd, d, sizeof d);
}

static enum sim_scan px_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x9A) {
		size_t i = 1;
		while (i < len && buf[i] != 0x9A)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 8)
		return SIM_SCAN_NEED;
	size_t want = (size_t)buf[7] + 11;
	if (len < want)
		return SIM_SCAN_NEED;
	if (crc16(buf, want - 3) != (uint16_t)(buf[want - 3] << 8 | buf[want - 2]) || buf[want - 1] != 0x9D) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = want;
	return SIM_SCAN_FRAME;
}

static int px_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp px_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t sys[6] = { 0, 0, 0x0A, 0, 0, 0 }, cel[6] = { 0, 0, 0x0A, 2, 0, 0 };
	bool is_sys = n == 11 && memcmp(req + 1, sys, 6) == 0 && req[7] == 0;
	bool is_cel = n == 13 && memcmp(req + 1, cel, 6) == 0 && req[7] == 2 && req[8] == 1 && req[9] == 1;
	if (!is_sys && !is_cel)
		return SIM_RESP_BAD;
	if (p->junk)
		px_identity(reply);
	if (is_sys)
		px_system(p, reply, sys);
	else
		px_cells(p, reply, cel);
	return SIM_RESP_OK;
}

/* fault badsum: the CRC's low byte */
static void px_corrupt(uint8_t *frame, size_t n)
{
	frame[n - 2] ^= 0x01;
}

const struct sim_proto sim_proto_paceex = {
	.name = "paceex",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = PX_MAX_CELLS,
	.max_temps = PX_MAX_TEMPS,
	.scan = px_scan,
	.address = px_address,
	.respond = px_respond,
	.view = px_view,
	.corrupt = px_corrupt,
};
