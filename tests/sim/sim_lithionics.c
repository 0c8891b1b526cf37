/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_lithionics.c - a Lithionics NeverDie / Li3 battery over
 * Bluetooth LE, the BMS side of the FFE0 link as a fake BlueZ bridges it to
 * a TCP port (notifications of FFE1 out; nothing is written).
 *
 * bms/PROTOCOLS.md §59.  Once a second, unasked, its serial stream's two
 * lines, each ended by CR LF: the primary line
 *	V x0.01 (the cells' sum), cells 1..4 x0.01 V, sensors 1 and 2 in
 *	whole degF, current A (whole, signed), SOC %, status code (6 hex
 *	digits: alarm bytes 2, 1, 0)
 * and the status line "&,1,<remaining Ah>,0,0136,2300,FF05,8700" (its
 * fields beyond the remaining Ah as aiobmsble's sample has them).  With
 * junk=1 an "ERROR" line (a command's answer) comes first.  Any request is
 * a bad one.  One BMS per connection, at most 4 cells.  Encoded here; bms/
 * is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define LT_CELLS 4

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct lt_raw {
	int ncells;
	long cell_cv[LT_CELLS], volt_cv, amps, soc, remain_ah, temp_f[2];
};

static void lt_quantise(const struct sim_pack *p, struct lt_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < LT_CELLS ? p->ncells : LT_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_cv[i] = clampl(lround(sim_pack_cell_mv(p, i) / 10.0), 0, 999);
		r->volt_cv += r->cell_cv[i];
	}
	r->amps = clampl(lround(p->current), -999, 999);
	r->soc = clampl(lround(p->soc), 0, 100);
	r->remain_ah = clampl(lround(p->capacity_ah * p->soc / 100.0), 0, 99999);
	for (int i = 0; i < 2; i++)
		r->temp_f[i] = lround(p->temp_c[i < p->ntemps ? i : 0] * 9.0 / 5.0 + 32.0);
}

static enum sim_resp lt_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct lt_raw r;
	char t[128];
	lt_quantise(p, &r);
	if (p->junk)
		sim_reply_add(reply, (const uint8_t *)"ERROR\r\n", 7);
	int n = snprintf(t, sizeof t, "%ld", r.volt_cv);
	for (int i = 0; i < LT_CELLS; i++)
		n += snprintf(t + n, sizeof t - (size_t)n, ",%ld", r.cell_cv[i]);
	n += snprintf(t + n, sizeof t - (size_t)n, ",%ld,%ld,%ld,%ld,%02X%02X%02X\r\n", r.temp_f[0], r.temp_f[1],
		      r.amps, r.soc, p->alarm[2], p->alarm[1], p->alarm[0]);
	sim_reply_add(reply, (const uint8_t *)t, (size_t)n);
	n = snprintf(t, sizeof t, "&,1,%ld,0,0136,2300,FF05,8700\r\n", r.remain_ah);
	sim_reply_add(reply, (const uint8_t *)t, (size_t)n);
	return SIM_RESP_OK;
}

static void lt_view(const struct sim_pack *p, struct sim_view *v)
{
	struct lt_raw r;
	lt_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = (double)r.amps;
	v->soc = (double)r.soc;
	v->remaining_ah = (double)r.remain_ah;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_cv[i] * 10;
	v->ntemps = 2;
	for (int i = 0; i < 2; i++)
		v->temp_c[i] = p->temp_c[i < p->ntemps ? i : 0]; /* the wire's is whole degF */
	v->nalarm = 3;
	memcpy(v->alarm, p->alarm, 3);
}

/* Nothing is ever written to this BMS: whatever comes is a bad request. */
static enum sim_scan lt_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_BAD;
}

static int lt_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp lt_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_BAD;
}

/* badsum: there is no checksum; a byte that is no printable ASCII in the
 * line (a damaged line the reader drops whole) */
static void lt_corrupt(uint8_t *frame, size_t n)
{
	if (n > 3)
		frame[1] = 0x80;
}

const struct sim_proto sim_proto_lithionics = {
	.name = "lithionics",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = LT_CELLS,
	.max_temps = 2,
	.scan = lt_scan,
	.address = lt_address,
	.respond = lt_respond,
	.view = lt_view,
	.corrupt = lt_corrupt,
	.emit = lt_emit,
	.emit_ms = 1000,
	.ble_name = "Li3-061322094",
};
