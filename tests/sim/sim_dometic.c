/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_dometic.c - Dometic Büttner batteries over Bluetooth LE,
 * the BMS side of their link of channels as a fake BlueZ (or the fake
 * ESPHome proxy) bridges it to a TCP port: every battery of the
 * simulator's bus is one battery on the one link (its address the battery
 * byte).
 *
 * bms/PROTOCOLS.md §72.  The fake hands over what the gateway does as
 * records: AD 53 s 00 (the gateway switched the notifications of notifier
 * s on), AD 57 w n data (it wrote data to writer w); what the batteries
 * say goes back as AD 4E k n data (notified on notifier k).  In the
 * layout's order the notifiers are 0002 (0), 000a (1), 0004 (2) and the
 * writers 0001 (0), 0009 (1), 0003 (2).  Notifications of 000a switched on
 * greet with 9B 00, of 0004 with 12; 0009 takes 9B 00 (the greeting
 * echoed), 0003 takes FF or DF (the keep-alive's answer); on 0001
 * `APP+AEN` (with the first pack's `pin`: `APP+AEN=<pin>`, else nothing:
 * pin_refused) is answered `MST+AEN`, `APP+NET` `MST+NET=...` and
 * `APP+RDN=1` (after a taken APP+AEN) `MST+DCO=...`, which starts the
 * stream: from then on, every 50 ms, each battery sends its next frame
 * 23 85 <address> <index> <4 bytes>, the indices 02 (voltage 0.01 V, the
 * cells' sum; current 0.01 A, a discharge as 32767 + |I|), 07 (the
 * capacity, Ah), 0B (SOC), 0C (the first sensor, 0.1 degC + 500), 0E
 * (SOH), 36 (the energy left, Wh), 56 / 57 (cells 1-2, 3-4, mV) in turn.
 * Another request is a bad one.  Four cells.  Encoded here; bms/ is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DM_CELLS 4

static const uint8_t dm_index[] = { 0x02, 0x07, 0x0B, 0x0C, 0x0E, 0x36, 0x56, 0x57 };

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct dm_raw {
	long cv, craw, soc, soh, design, dc, wh, cells[DM_CELLS];
};

static void dm_quantise(const struct sim_pack *p, struct dm_raw *r)
{
	long mv = 0;
	for (int i = 0; i < DM_CELLS; i++) {
		r->cells[i] = sim_pack_cell_mv(p, i);
		mv += r->cells[i];
	}
	r->cv = clampl(lround(mv / 10.0), 1, 65535);
	long ca = lround(p->current * 100.0);
	r->craw = ca >= 0 ? clampl(ca, 0, 32767) : clampl(32767 - ca, 32768, 65535);
	r->soc = clampl(lround(p->soc), 0, 100);
	r->soh = clampl(lround(p->soh), 0, 100);
	r->design = clampl(lround(p->capacity_ah), 1, 100000);
	r->dc = clampl(p->temp_c[0] * 10L + 500, 0, 65535);
	r->wh = clampl(lround(r->cv / 100.0 * p->capacity_ah * p->soc / 100.0), 0, 65535);
}

static void dm_view(const struct sim_pack *p, struct sim_view *v)
{
	struct dm_raw r;
	dm_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CELLS | SIM_HAS_TEMPS;
	v->address = p->address;
	v->voltage = r.cv / 100.0;
	v->current = (r.craw <= 32767 ? r.craw : 32767 - r.craw) / 100.0;
	v->soc = (double)r.soc;
	v->soh = (double)r.soh;
	v->capacity_ah = (double)r.design;
	v->remaining_ah = r.wh / (r.cv / 100.0);
	v->ncells = DM_CELLS;
	for (int i = 0; i < DM_CELLS; i++)
		v->cell_mv[i] = (int)r.cells[i];
	v->ntemps = 1;
	v->temp_c[0] = (int)lround((r.dc - 500) / 10.0);
}

/* A notification of data[0..n) on notifier k, as the fake's record. */
static void dm_notify(struct sim_reply *reply, int k, const void *data, size_t n)
{
	uint8_t rec[4 + 64] = { 0xAD, 0x4E, (uint8_t)k, (uint8_t)n };
	memcpy(rec + 4, data, n);
	sim_reply_add(reply, rec, 4 + n);
}

static enum sim_resp dm_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_pack *link = sim_bus_pack(0);
	struct dm_raw r;
	if (!link || !link->stream)
		return SIM_RESP_NONE;
	dm_quantise(p, &r);
	uint8_t idx = dm_index[p->counter++ % sizeof dm_index];
	uint8_t f[8] = { 0x23, 0x85, (uint8_t)p->address, idx };
	unsigned long a = 0, b = 0;
	switch (idx) {
	case 0x02: a = (unsigned long)r.cv; b = (unsigned long)r.craw; break;
	case 0x07: a = (unsigned long)r.design >> 16; b = (unsigned long)r.design & 0xFFFF; break;
	case 0x0B: a = (unsigned long)r.soc << 8 | 0xFF; b = 0xFFFF; break;
	case 0x0C: a = (unsigned long)r.dc; b = 0xFFFF; break;
	case 0x0E: a = (unsigned long)r.soh << 8; break;
	case 0x36: a = (unsigned long)r.wh; b = 0xFFFF; break;
	case 0x56: a = (unsigned long)r.cells[0]; b = (unsigned long)r.cells[1]; break;
	default: a = (unsigned long)r.cells[2]; b = (unsigned long)r.cells[3]; break;
	}
	f[4] = (uint8_t)(a >> 8);
	f[5] = (uint8_t)a;
	f[6] = (uint8_t)(b >> 8);
	f[7] = (uint8_t)b;
	dm_notify(reply, 0, f, sizeof f);
	return SIM_RESP_OK;
}

/* The fake's records: AD 53 s 00 or AD 57 w n data. */
static enum sim_scan dm_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0xAD) {
		size_t i = 1;
		while (i < len && buf[i] != 0xAD)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 4)
		return SIM_SCAN_NEED;
	if (buf[1] != 0x53 && buf[1] != 0x57) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	if (len < 4u + buf[3])
		return SIM_SCAN_NEED;
	*n = 4u + buf[3];
	return SIM_SCAN_FRAME;
}

static int dm_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	struct sim_pack *p = sim_bus_pack(0);
	return p ? p->address : -1; /* the link's: one greeting for every battery */
}

/* A write of `text` (n bytes) on 0001. */
static enum sim_resp dm_command(struct sim_pack *p, const uint8_t *text, size_t n, struct sim_reply *reply)
{
	static const uint8_t net[] = "MST+NET=\x85\x8f\x01\x05\x00\x08\x04\x03\x02\x05\x01";
	static const uint8_t dco[] = "MST+DCO=\x11\x22\x33\x40";
	if (n >= 7 && memcmp(text, "APP+AEN", 7) == 0 && (n == 7 || text[7] == '=')) {
		if (!sim_pin_try(p, n > 8 ? (const char *)text + 8 : "", n > 8 ? n - 8 : 0, NULL))
			return SIM_RESP_NONE; /* a wrong secret: no answer is known */
		dm_notify(reply, 0, "MST+AEN", 7);
		return SIM_RESP_OK;
	}
	if (n == 7 && memcmp(text, "APP+NET", 7) == 0) {
		dm_notify(reply, 0, net, sizeof net - 1);
		return SIM_RESP_OK;
	}
	if (n == 9 && memcmp(text, "APP+RDN=1", 9) == 0) {
		if (!sim_pin_open(p, p->pin[0] ? "" : NULL))
			return SIM_RESP_NONE;
		p->stream = 1; /* until the connection ends (the core clears it) */
		dm_notify(reply, 0, dco, sizeof dco - 1);
		return SIM_RESP_OK;
	}
	return SIM_RESP_BAD;
}

static enum sim_resp dm_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t hello[2] = { 0x9B, 0x00 }, ka = 0x12;
	const uint8_t *d = req + 4;
	size_t dn = req[3];
	if (n < 4)
		return SIM_RESP_BAD;
	if (req[1] == 0x53) { /* notifications on: the greetings */
		if (req[2] == 1)
			dm_notify(reply, 1, hello, sizeof hello);
		else if (req[2] == 2)
			dm_notify(reply, 2, &ka, 1);
		return req[2] <= 2 ? (reply->len ? SIM_RESP_OK : SIM_RESP_NONE) : SIM_RESP_BAD;
	}
	switch (req[2]) {
	case 0:
		return dm_command(p, d, dn, reply);
	case 1: /* the greeting echoed */
		return dn == 2 && memcmp(d, hello, 2) == 0 ? SIM_RESP_NONE : SIM_RESP_BAD;
	case 2: /* the keep-alive's answer */
		return dn == 1 && (d[0] == 0xFF || d[0] == 0xDF) ? SIM_RESP_NONE : SIM_RESP_BAD;
	default:
		return SIM_RESP_BAD;
	}
}

/* badsum: no checksum exists: a frame's head spoilt (the reader skips it) */
static void dm_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 6)
		frame[5] ^= 0x01;
}

const struct sim_proto sim_proto_dometic = {
	.name = "dometic",
	.default_baud = 115200,
	.addr_min = 0,
	.addr_max = 255,
	.max_cells = DM_CELLS,
	.max_temps = 1,
	.scan = dm_scan,
	.address = dm_address,
	.respond = dm_respond,
	.view = dm_view,
	.corrupt = dm_corrupt,
	.emit = dm_emit,
	.emit_ms = 50,
	.ble_name = "KAA_500219_TLB150",
};
