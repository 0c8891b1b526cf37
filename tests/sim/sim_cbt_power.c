/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_cbt_power.c - a CBT Power / Creabest "R" pack over
 * Bluetooth LE, the BMS side of the link as a fake BlueZ bridges it to a
 * TCP port (writes to FFE9 of FFE5 in, notifications of FFE4 of FFE0 out).
 *
 * bms/PROTOCOLS.md §62.  It takes AA 55 cmd 00 sum 0A 0D and answers
 * AA 55 cmd len data sum 0D 0A (sum: the low byte of cmd + len + data),
 * little-endian:
 *	0x0B voltage mV (the cells' sum), current mA;  0x09 the sensors degC
 *	(six s16 slots, as the captured frame has 12 bytes);  0x0A SOC and five
 *	bytes 0;  0x15 capacity Ah, cycles;  0x21 alarm bytes 0..3 as the
 *	warnings word;  0x0C 12 bytes 0 (the runtime, not described);
 *	0x05 .. 0x08 cells 1-5, 6-10, 11-15, 16-20 mV (0 beyond the pack's;
 *	with junk=1 the slot after its last cell 2317 mV, as aiobmsble's
 *	recorded 4S pack fills a fifth slot beside its 13.4 V)
 * Another command, or a request with a wrong sum, is a bad one.  No
 * address.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CB_MAX_CELLS 20
#define CB_SPARE_MV 2317 /* junk=1: the slot after the last cell (CBTPOWER-06) */

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void le(uint8_t *b, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

struct cb_raw {
	int ncells;
	long mv[CB_MAX_CELLS], volt_mv, ma, soc, cap;
};

static void cb_quantise(const struct sim_pack *p, struct cb_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < CB_MAX_CELLS ? p->ncells : CB_MAX_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->mv[i] = clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->volt_mv += r->mv[i];
	}
	r->ma = clampl(lround(p->current * 1000.0), -2000000000L, 2000000000L);
	r->soc = clampl(lround(p->soc), 0, 100);
	r->cap = clampl(lround(p->capacity_ah), 0, 65535);
}

static void cb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct cb_raw r;
	cb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.ma / 1000.0;
	v->soc = (double)r.soc;
	v->capacity_ah = (double)r.cap;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.mv[i];
	v->ntemps = 1;
	v->temp_c[0] = p->temp_c[0];
	v->nalarm = 4;
	memcpy(v->alarm, p->alarm, 4);
}

static enum sim_scan cb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0xAA) {
		size_t i = 1;
		while (i < len && buf[i] != 0xAA)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 7)
		return SIM_SCAN_NEED;
	*n = 7;
	return buf[1] == 0x55 && buf[3] == 0 && buf[4] == buf[2] && buf[5] == 0x0A && buf[6] == 0x0D ? SIM_SCAN_FRAME
												     : SIM_SCAN_BAD;
}

static int cb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static void cb_add(struct sim_reply *reply, uint8_t cmd, const uint8_t *d, uint8_t n)
{
	uint8_t f[64] = { 0xAA, 0x55, cmd, n };
	unsigned sum = cmd + n;
	memcpy(f + 4, d, n);
	for (int i = 0; i < n; i++)
		sum += d[i];
	f[4 + n] = (uint8_t)sum;
	f[5 + n] = 0x0D;
	f[6 + n] = 0x0A;
	sim_reply_add(reply, f, (size_t)n + 7);
}

static enum sim_resp cb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	struct cb_raw r;
	uint8_t d[16];
	memset(d, 0, sizeof d);
	if (n != 7)
		return SIM_RESP_BAD;
	cb_quantise(p, &r);
	uint8_t cmd = req[2];
	switch (cmd) {
	case 0x0B:
		le(d, (unsigned long)r.volt_mv, 4);
		le(d + 4, (unsigned long)r.ma, 4);
		cb_add(reply, cmd, d, 8);
		break;
	case 0x09:
		for (int i = 0; i < 6 && i < p->ntemps; i++)
			le(d + 2 * i, (unsigned long)(long)p->temp_c[i], 2);
		cb_add(reply, cmd, d, 12);
		break;
	case 0x0A:
		d[0] = (uint8_t)r.soc;
		cb_add(reply, cmd, d, 6);
		break;
	case 0x15:
		le(d, (unsigned long)r.cap, 2);
		le(d + 2, p->cycles & 0xFFFF, 2);
		cb_add(reply, cmd, d, 4);
		break;
	case 0x21:
		memcpy(d, p->alarm, 4);
		cb_add(reply, cmd, d, 4);
		break;
	case 0x0C:
		cb_add(reply, cmd, d, 12);
		break;
	case 0x05: case 0x06: case 0x07: case 0x08:
		for (int i = 0; i < 5; i++) {
			int c = (cmd - 0x05) * 5 + i;
			unsigned long mv = c < r.ncells ? (unsigned long)r.mv[c] : c == r.ncells && p->junk ? CB_SPARE_MV : 0;
			le(d + 2 * i, mv, 2);
		}
		cb_add(reply, cmd, d, 10);
		break;
	default:
		return SIM_RESP_BAD;
	}
	return SIM_RESP_OK;
}

/* badsum: the sum byte (third from the end) changed */
static void cb_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 7)
		frame[n - 3] ^= 0x01;
}

const struct sim_proto sim_proto_cbt_power = {
	.name = "cbt-power",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = CB_MAX_CELLS,
	.max_temps = 6,
	.scan = cb_scan,
	.address = cb_address,
	.respond = cb_respond,
	.view = cb_view,
	.corrupt = cb_corrupt,
	.ble_name = "CBTR012345",
};
