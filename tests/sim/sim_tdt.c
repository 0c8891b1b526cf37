/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_tdt.c - a TDT smart BMS (WattCycle, XDZN) over Bluetooth
 * LE, the BMS side of the GATT link, as a fake BlueZ bridges it to a TCP
 * port (writes to FFF2 in, notifications of FFF1 out; the fake itself
 * plays the "HiLink" unlock on FFFA).
 *
 * bms/PROTOCOLS.md §45.  Requests are <head> 00 01 03 00 <cmd> 00 00
 * <crc hi> <crc lo> 0D, head 0x7E or 0x1E (pack option `dialect=1e`: a
 * unit that ignores 0x7E requests, as the one of the GateLink capture);
 * every answer is 7E 00 01 03 00 <cmd> <len u16> <data> <crc hi> <crc lo>
 * 0D, big-endian, CRC-16/MODBUS high byte first:
 *	0x8C	n cells (mV), m sensors (0.1 K, 2731 = 0 °C), the current
 *		(bit 15 discharging, bit 14 "0.1 A", the magnitude), 0.01 V
 *		(the cells' sum), remaining and full 0.1 Ah, cycles, SOH 0.1 %,
 *		SOC %;
 *	0x8D	n, n cell states (0), m, m sensor states (0), four state
 *		bytes (0), the problem code (alarm bytes 0 and 1), the MOSFET
 *		byte (bit 2 charge, bit 1 discharge), five bytes 0;
 *	0x92	firmware, maker (empty), serial: 20-byte ASCII fields;
 * anything else (writes, other commands) is counted as a bad request.
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define TDT_REQ 11
#define TDT_MAX_CELLS 32
#define TDT_MAX_TEMPS 8

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int tdt_ncells(const struct sim_pack *p)
{
	return p->ncells < TDT_MAX_CELLS ? p->ncells : TDT_MAX_CELLS;
}

static int tdt_ntemps(const struct sim_pack *p)
{
	return p->ntemps < TDT_MAX_TEMPS ? p->ntemps : TDT_MAX_TEMPS;
}

static long tdt_10mv(const struct sim_pack *p)
{
	long mv = 0;
	for (int i = 0; i < tdt_ncells(p); i++)
		mv += sim_pack_cell_mv(p, i);
	return clampl(lround(mv / 10.0), 0, 0xFFFF);
}

/* The current in 0.1 A, as the BMS sends it: magnitude up to 0x3FFF. */
static long tdt_deci_a(const struct sim_pack *p)
{
	return clampl(lround(p->current * 10.0), -0x3FFF, 0x3FFF);
}

static long tdt_deci_ah(double ah)
{
	return clampl(lround(ah * 10.0), 0, 0xFFFF);
}

static void tdt_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH | SIM_HAS_MOSFETS |
		 SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = tdt_10mv(p) / 100.0;
	v->current = tdt_deci_a(p) / 10.0;
	v->capacity_ah = tdt_deci_ah(p->capacity_ah) / 10.0;
	v->remaining_ah = tdt_deci_ah(p->capacity_ah * p->soc / 100.0) / 10.0;
	v->cycles = p->cycles & 0xFFFFu;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->soh = clampl(lround(p->soh * 10.0), 0, 1000) / 10.0;
	v->ncells = tdt_ncells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	v->ntemps = tdt_ntemps(p);
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->nalarm = 2;
	v->alarm[0] = p->alarm[0];
	v->alarm[1] = p->alarm[1];
}

static uint8_t *put16(uint8_t *f, long v)
{
	f[0] = (uint8_t)(v >> 8);
	f[1] = (uint8_t)v;
	return f + 2;
}

/* Frame data d[0..n) as the answer to cmd. */
static void tdt_add(struct sim_reply *reply, uint8_t cmd, const uint8_t *d, size_t n)
{
	uint8_t f[512 + TDT_REQ];
	const uint8_t hdr[6] = { 0x7E, 0x00, 0x01, 0x03, 0x00, cmd };
	memcpy(f, hdr, sizeof hdr);
	put16(f + 6, (long)n);
	memcpy(f + 8, d, n);
	put16(f + 8 + n, sim_mb_crc(f, n + 8));
	f[n + 10] = 0x0D;
	sim_reply_add(reply, f, n + TDT_REQ);
}

static void tdt_analog(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[2 + 2 * TDT_MAX_CELLS + 2 * TDT_MAX_TEMPS + 14], *o = d;
	*o++ = (uint8_t)tdt_ncells(p);
	for (int i = 0; i < tdt_ncells(p); i++)
		o = put16(o, sim_pack_cell_mv(p, i));
	*o++ = (uint8_t)tdt_ntemps(p);
	for (int i = 0; i < tdt_ntemps(p); i++)
		o = put16(o, clampl(2731 + 10L * p->temp_c[i], 0, 0xFFFF));
	long a = tdt_deci_a(p);
	o = put16(o, 0x4000 | (a < 0 ? 0x8000 | -a : a));
	o = put16(o, tdt_10mv(p));
	o = put16(o, tdt_deci_ah(p->capacity_ah * p->soc / 100.0));
	o = put16(o, tdt_deci_ah(p->capacity_ah));
	o = put16(o, (long)(p->cycles & 0xFFFFu));
	o = put16(o, clampl(lround(p->soh * 10.0), 0, 1000));
	o = put16(o, clampl(lround(p->soc), 0, 100));
	tdt_add(reply, 0x8C, d, (size_t)(o - d));
}

static void tdt_warn(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[2 + TDT_MAX_CELLS + TDT_MAX_TEMPS + 12] = { 0 }, *o = d;
	*o = (uint8_t)tdt_ncells(p);
	o += 1 + tdt_ncells(p);
	*o = (uint8_t)tdt_ntemps(p);
	o += 1 + tdt_ntemps(p) + 4;
	*o++ = p->alarm[1];
	*o++ = p->alarm[0];
	*o++ = (uint8_t)((p->chg_mos ? 0x04 : 0) | (p->dsg_mos ? 0x02 : 0));
	tdt_add(reply, 0x8D, d, (size_t)(o - d) + 5);
}

static void tdt_info(struct sim_reply *reply)
{
	uint8_t d[60] = { 0 };
	memcpy(d, "WT30_10004SW14_L_01", 19);
	memcpy(d + 40, "60326016207270001", 17);
	tdt_add(reply, 0x92, d, sizeof d);
}

static enum sim_scan tdt_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x7E && buf[0] != 0x1E) {
		size_t i = 1;
		while (i < len && buf[i] != 0x7E && buf[i] != 0x1E)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < TDT_REQ)
		return SIM_SCAN_NEED;
	*n = TDT_REQ;
	if (buf[10] != 0x0D || sim_mb_crc(buf, 8) != (uint16_t)(buf[8] << 8 | buf[9]))
		return SIM_SCAN_BAD;
	return SIM_SCAN_FRAME;
}

static int tdt_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp tdt_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t read[4] = { 0x00, 0x01, 0x03, 0x00 };
	if (n != TDT_REQ || memcmp(req + 1, read, sizeof read) != 0 || req[6] != 0 || req[7] != 0)
		return SIM_RESP_BAD;
	if (req[5] != 0x8C && req[5] != 0x8D && req[5] != 0x92)
		return SIM_RESP_BAD;
	if (p->dialect == 0x1E && req[0] != 0x1E)
		return SIM_RESP_NONE; /* a read this unit ignores */
	if (req[5] == 0x8C)
		tdt_analog(p, reply);
	else if (req[5] == 0x8D)
		tdt_warn(p, reply);
	else
		tdt_info(reply);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_tdt = {
	.name = "tdt",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = TDT_MAX_CELLS,
	.max_temps = TDT_MAX_TEMPS,
	.scan = tdt_scan,
	.address = tdt_address,
	.respond = tdt_respond,
	.view = tdt_view,
};
