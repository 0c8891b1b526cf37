/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_ubms_can.c - a Valence U-BMS with U27-12XP modules on its
 * CAN port, as a Lawicel slcan adapter on that bus delivers it to a host
 * (bms/PROTOCOLS.md §71).  The adapter side: sim_slcan.c.
 *
 * The U-BMS side, every 500 ms while the channel is open, 11-bit ids, the
 * pack's cells as modules of four in series (cells / 4 modules; the cells
 * beyond a multiple of four are left out), parallel=N such strings in
 * parallel (copies of the first, modules 1 .. cells / 4; as many as fit in
 * the sixteen modules 0x350 ... 0x36F; parallel_dip=MV: cell 1 of the last
 * string MV under the first's), in drive mode:
 *	0x350 + 2 (m - 1), 0x351 + 2 (m - 1): module m's cells 1-3 and 4,
 *	      "01 00" and big-endian u16 mV
 *	0x0C4 highest and lowest sensor, 0x40, the board's (degC + 40),
 *	      highest and lowest cell u16 mV (of every module)
 *	0x0C1 the string's voltage in whole volts (1 V a unit), the current
 *	      u16 A + 32768 (+ =
 *	      charging), the discharge limit u16 0.1 A, the charge limit
 *	      0.1 A in bytes 5 and 7
 *	0x0C0 SOC %, mode 0x02 (drive; 0x12 balancing), alarm bytes 0-2 as
 *	      bytes 2-4, the modules of every string, 0 balancing, shutdown
 *	      reason 0
 *	0x0C2 five zero bytes (charge mode's frame)
 * junk=1 adds what the decoder must pass over: module 1's 0x188 status
 * pair, 0x06A module SOCs, 0x76A module temperatures, a VMU's 0x440 mode
 * command, an extended frame, a remote 0x0C0.  Faults apply to what the
 * U-BMS sends.  Encoded here; bms/ is deliberately not used.
 */
#include "sim_slcan.h"

#include <math.h>
#include <string.h>

#define UB_MODULES 8 /* at most eight modules in series: 32 cells */
#define UB_IDS 16    /* modules on the bus: 0x350 ... 0x36F */

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int ub_modules(const struct sim_pack *p)
{
	int m = p->ncells / 4;
	return m > UB_MODULES ? UB_MODULES : m;
}

static void ub_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_MOS_TEMP | SIM_HAS_ALARMS | SIM_HAS_CUR_LIMITS |
		 SIM_HAS_BALANCING | SIM_HAS_CELL_EXT | SIM_HAS_TEMP_EXT;
	v->address = p->address;
	v->ncells = ub_modules(p) * 4;
	long sum = 0;
	v->cell_min_mv = 65535;
	for (int i = 0; i < v->ncells; i++) {
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
		sum += v->cell_mv[i];
		v->cell_max_mv = v->cell_mv[i] > v->cell_max_mv ? v->cell_mv[i] : v->cell_max_mv;
		v->cell_min_mv = v->cell_mv[i] < v->cell_min_mv ? v->cell_mv[i] : v->cell_min_mv;
	}
	v->voltage = sum / 1000.0;
	v->current = (double)clampl(lround(p->current), -32768, 32767);
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	int tmax = -40, tmin = 215;
	for (int i = 0; i < p->ntemps; i++) {
		tmax = p->temp_c[i] > tmax ? p->temp_c[i] : tmax;
		tmin = p->temp_c[i] < tmin ? p->temp_c[i] : tmin;
	}
	v->ntemps = 2;
	v->temp_c[0] = tmax;
	v->temp_c[1] = tmin;
	v->tmax_c = tmax;
	v->tmin_c = tmin;
	v->mos_temp_c = p->mos_temp_c;
	v->nalarm = 3;
	memcpy(v->alarm, p->alarm, 3);
	v->ccl_a = clampl(lround(p->ccl_a * 10.0), 0, 65535) / 10.0;
	v->dcl_a = clampl(lround(p->dcl_a * 10.0), 0, 65535) / 10.0;
	v->balancing = p->balance != 0;
}

static void ub_junk(struct sim_reply *reply)
{
	static const uint8_t st[8] = { 0x01, 0x01, 0xFF, 0xFB, 0x7E, 0xFE, 0x08, 0x61 };
	static const uint8_t soc[8] = { 0x01, 0xDA, 0xE1, 0xD5, 0xD1, 0xD6, 0xE4, 0xDF };
	static const uint8_t tm[8] = { 0x01, 0x00, 0x08, 0x71, 0x08, 0x2E, 0x09, 0x73 };
	static const uint8_t vmu[4] = { 0x00, 0x02, 0x00, 0x00 };
	sim_slcan_line(reply, 't', 0x188, st, 8);
	sim_slcan_line(reply, 't', 0x06A, soc, 8);
	sim_slcan_line(reply, 't', 0x76A, tm, 8);
	sim_slcan_line(reply, 't', 0x440, vmu, 4);
	sim_slcan_line(reply, 'T', 0x18FF50E5, soc, 8);
	sim_slcan_line(reply, 'r', 0x0C0, NULL, 8);
}

static void ub_put_be16(uint8_t *d, int v)
{
	d[0] = (uint8_t)((v >> 8) & 0xFF);
	d[1] = (uint8_t)(v & 0xFF);
}

/* The modules on the bus: the string's (cells / 4) times the strings in
 * parallel that fit in UB_IDS. */
static int ub_all(const struct sim_pack *p, const struct sim_view *v)
{
	int s = v->ncells / 4, n = p->parallel > 1 ? p->parallel : 1;
	if (s == 0)
		return 0;
	return (n < UB_IDS / s ? n : UB_IDS / s) * s;
}

/* Cell i of module k on the bus: the first string's, cell 1 of the last
 * string in parallel parallel_dip mV under it. */
static int ub_cell(const struct sim_pack *p, const struct sim_view *v, int k, int i)
{
	int s = v->ncells / 4, all = ub_all(p, v), mv = v->cell_mv[4 * (k % s) + i];
	return all > s && k == all - s && i == 0 ? mv - p->parallel_dip : mv;
}

/* The lowest cell of every module on the bus (0x0C4's: the U-BMS's own). */
static int ub_lowest(const struct sim_pack *p, const struct sim_view *v)
{
	int lo = v->cell_min_mv, all = ub_all(p, v);
	for (int k = 0; k < all; k++)
		for (int i = 0; i < 4; i++)
			lo = ub_cell(p, v, k, i) < lo ? ub_cell(p, v, k, i) : lo;
	return lo;
}

static void ub_cells(const struct sim_pack *p, const struct sim_view *v, struct sim_reply *reply)
{
	for (int k = 0; k < ub_all(p, v); k++) {
		uint8_t d[8] = { 0x01, 0x00 };
		for (int i = 0; i < 3; i++)
			ub_put_be16(d + 2 + 2 * i, ub_cell(p, v, k, i));
		sim_slcan_line(reply, 't', (unsigned)(0x350 + 2 * k), d, 8);
		ub_put_be16(d + 2, ub_cell(p, v, k, 3));
		sim_slcan_line(reply, 't', (unsigned)(0x351 + 2 * k), d, 4);
	}
}

static enum sim_resp ub_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8];
	if (!p->can_open)
		return SIM_RESP_NONE;
	ub_view(p, &v);
	if (p->junk)
		ub_junk(reply);
	ub_cells(p, &v, reply);
	d[0] = (uint8_t)clampl((long)v.temp_c[0] + 40, 0, 255);
	d[1] = (uint8_t)clampl((long)v.temp_c[1] + 40, 0, 255);
	d[2] = 0x40;
	d[3] = (uint8_t)clampl(lround(v.mos_temp_c) + 40, 0, 255);
	sim_slcan_put16(d + 4, v.cell_max_mv);
	sim_slcan_put16(d + 6, ub_lowest(p, &v));
	sim_slcan_line(reply, 't', 0x0C4, d, 8);
	long dcl = lround(v.dcl_a * 10.0), ccl = lround(v.ccl_a * 10.0);
	d[0] = (uint8_t)clampl(lround(v.voltage), 0, 255);
	sim_slcan_put16(d + 1, lround(v.current) + 32768);
	sim_slcan_put16(d + 3, dcl);
	d[5] = (uint8_t)(ccl & 0xFF);
	d[6] = 0x0E;
	d[7] = (uint8_t)((ccl >> 8) & 0xFF);
	sim_slcan_line(reply, 't', 0x0C1, d, 8);
	d[0] = (uint8_t)lround(v.soc);
	d[1] = (uint8_t)(v.balancing ? 0x12 : 0x02);
	memcpy(d + 2, p->alarm, 3);
	d[5] = (uint8_t)ub_all(p, &v);
	d[6] = 0;
	d[7] = 0;
	sim_slcan_line(reply, 't', 0x0C0, d, 8);
	memset(d, 0, 5);
	sim_slcan_line(reply, 't', 0x0C2, d, 5);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_ubms_can = {
	.name = "ubms-can",
	.default_baud = 115200, /* the adapter's serial line */
	.addr_min = 0,
	.addr_max = 0,
	.max_cells = UB_MODULES * 4,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = ub_view,
	.corrupt = sim_slcan_corrupt,
	.emit = ub_emit,
	.emit_ms = 500,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
};
