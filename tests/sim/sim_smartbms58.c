/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_smartbms58.c - the 123SmartBMS through its Bluetooth UART
 * bridge, the BMS side of the Nordic UART link as a fake BlueZ bridges it
 * to a TCP port (notifications of 6e400003 out; nothing is ever written).
 *
 * bms/PROTOCOLS.md §74.  Once a second (emit) the pack sends a 58-byte
 * frame, big-endian, the last byte the low byte of the sum of the 57
 * before it: the voltage u24 in 1/200 V (the cells' sum), the current's
 * sign ('+', '-', 'X' at 0 A) at 9 and its magnitude in 0.125 A at 10, the
 * lowest / highest cell 1/200 V at 12 / 15 (their numbers at 14 / 17), the
 * lowest / highest sensor + 0x114 at 18 / 21, one cell in turn (its number
 * at 24, the count at 25, its voltage at 26, the sensor of its number
 * modulo the pack's sensors + 0x114 at 28), status at 30 (bit 0 charge, bit
 * 1 discharge MOSFET, bits 2..7 alarm byte 0's low six bits), the energy
 * left u24 Wh at 34, SOC at 40, one key in turn (key + 25 at 47, its value
 * at 48: 0 the SOH, 4 / 5 the nominal cell voltage 3.2 V in 1/200 V, 8 / 9
 * the cycles, 16 alarm byte 1 & 0x0E, the others 0), the capacity u16
 * 0.1 kWh (the capacity at 3.2 V a cell) at 49.  At most 32 cells.  One
 * device per connection.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define SB_LEN 58
#define SB_CELLS 32
#define SB_TEMP0 0x114
#define SB_NOMINAL 640 /* 3.2 V in 1/200 V */

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be(uint8_t *b, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static int sb_cells(const struct sim_pack *p)
{
	return p->ncells > SB_CELLS ? SB_CELLS : p->ncells;
}

static int sb_temp(const struct sim_pack *p, int i)
{
	return p->temp_c[p->ntemps ? i % p->ntemps : 0];
}

/* The capacity in 0.1 kWh, and the design Ah a reader takes back from it. */
static long sb_kwh10(const struct sim_pack *p)
{
	return clampl(lround(p->capacity_ah * SB_NOMINAL / 200.0 * sb_cells(p) / 100.0), 1, 65535);
}

static void sb_view(const struct sim_pack *p, struct sim_view *v)
{
	int n = sb_cells(p);
	long mv = 0;
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS |
		 SIM_HAS_MOSFETS | SIM_HAS_ALARMS;
	v->address = p->address;
	for (int i = 0; i < n; i++) {
		v->cell_mv[i] = (int)(lround(sim_pack_cell_mv(p, i) / 5.0) * 5);
		mv += sim_pack_cell_mv(p, i);
	}
	v->ncells = n;
	v->voltage = lround(mv / 5.0) * 5 / 1000.0;
	v->current = lround(p->current / 0.125) * 0.125;
	v->soc = lround(p->soc);
	v->soh = lround(p->soh);
	v->cycles = p->cycles & 0xFFFF;
	v->capacity_ah = sb_kwh10(p) * 100.0 * 200.0 / ((double)SB_NOMINAL * n);
	v->ntemps = n < SIM_MAX_TEMPS ? n : SIM_MAX_TEMPS;
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = sb_temp(p, i);
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->nalarm = 2;
	v->alarm[0] = p->alarm[0] & 0x3F;
	v->alarm[1] = p->alarm[1] & 0x0E;
}

/* Its one frame of this second: cell and key in turn. */
static void sb_frame(struct sim_pack *p, uint8_t *f)
{
	int n = sb_cells(p), lo = 0, hi = 0, tlo = 0, thi = 0;
	long mv = 0;
	for (int i = 0; i < n; i++) {
		int c = sim_pack_cell_mv(p, i);
		mv += c;
		lo = c < sim_pack_cell_mv(p, lo) ? i : lo;
		hi = c > sim_pack_cell_mv(p, hi) ? i : hi;
	}
	for (int i = 0; i < p->ntemps; i++) {
		tlo = p->temp_c[i] < p->temp_c[tlo] ? i : tlo;
		thi = p->temp_c[i] > p->temp_c[thi] ? i : thi;
	}
	memset(f, 0, SB_LEN);
	be(f, (unsigned long)clampl(lround(mv / 5.0), 1, 0xFFFFFF), 3);
	long a = lround(fabs(p->current) / 0.125);
	f[9] = a == 0 ? 'X' : p->current < 0 ? '-' : '+';
	be(f + 10, (unsigned long)clampl(a, 0, 65535), 2);
	be(f + 12, (unsigned long)lround(sim_pack_cell_mv(p, lo) / 5.0), 2);
	f[14] = (uint8_t)(lo + 1);
	be(f + 15, (unsigned long)lround(sim_pack_cell_mv(p, hi) / 5.0), 2);
	f[17] = (uint8_t)(hi + 1);
	be(f + 18, (unsigned long)(p->temp_c[tlo] + SB_TEMP0), 2);
	be(f + 21, (unsigned long)(p->temp_c[thi] + SB_TEMP0), 2);
	int cell = (int)(p->counter % (unsigned)n);
	f[24] = (uint8_t)(cell + 1);
	f[25] = (uint8_t)n;
	be(f + 26, (unsigned long)lround(sim_pack_cell_mv(p, cell) / 5.0), 2);
	be(f + 28, (unsigned long)(sb_temp(p, cell) + SB_TEMP0), 2);
	f[30] = (uint8_t)((p->chg_mos ? 1 : 0) | (p->dsg_mos ? 2 : 0) | (p->alarm[0] & 0x3F) << 2);
	be(f + 34, (unsigned long)clampl(lround(mv / 1000.0 * p->capacity_ah * p->soc / 100.0), 0, 0xFFFFFF), 3);
	f[40] = (uint8_t)clampl(lround(p->soc), 0, 100);
	int key = (int)(p->counter % 19u);
	static const int vals[19] = { 0 };
	int val = vals[key];
	if (key == 0)
		val = (int)clampl(lround(p->soh), 0, 100);
	else if (key == 4 || key == 5)
		val = key == 4 ? SB_NOMINAL >> 8 : SB_NOMINAL & 0xFF;
	else if (key == 8 || key == 9)
		val = key == 8 ? (int)((p->cycles >> 8) & 0xFF) : (int)(p->cycles & 0xFF);
	else if (key == 16)
		val = p->alarm[1] & 0x0E;
	f[47] = (uint8_t)(key + 25);
	f[48] = (uint8_t)val;
	be(f + 49, (unsigned long)sb_kwh10(p), 2);
	unsigned sum = 0;
	for (int i = 0; i < SB_LEN - 1; i++)
		sum += f[i];
	f[SB_LEN - 1] = (uint8_t)sum;
	p->counter++;
}

static enum sim_resp sb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t f[SB_LEN];
	sb_frame(p, f);
	sim_reply_add(reply, f, sizeof f);
	return SIM_RESP_OK;
}

/* Nothing is asked of it: every byte written is a stray one. */
static enum sim_scan sb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_BAD;
}

static int sb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1;
}

static enum sim_resp sb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_BAD;
}

/* badsum: the sum byte flipped */
static void sb_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 1)
		frame[n - 1] ^= 0x01;
}

const struct sim_proto sim_proto_smartbms58 = {
	.name = "smartbms58",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per connection */
	.max_cells = SB_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sb_scan,
	.address = sb_address,
	.respond = sb_respond,
	.view = sb_view,
	.corrupt = sb_corrupt,
	.emit = sb_emit,
	.emit_ms = 1000,
	.ble_name = "123BMS-BLE-0A1B",
};
