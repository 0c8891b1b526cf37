/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_humsienk.c - a HumsiENK BMS over Bluetooth LE, the BMS
 * side of the GATT link, as a fake BlueZ bridges it to a TCP port (writes
 * to 0002 in, notifications of 0003 out).
 *
 * bms/PROTOCOLS.md §38.  Requests are AA <cmd> 00 <sum lo> <sum hi>;
 * every answer is AA <cmd> <len> <data> <sum lo> <sum hi> (the 16-bit sum
 * of cmd..data), little-endian:
 *	0x11	the model "BMC-04S001";
 *	0xF5	the hardware version "V02" in 12 bytes;
 *	0x20	15 bytes: uptime (u16 days, h, min), the status word (bit 7
 *		charge MOSFET on, bit 15 balancing, bit 23 discharge MOSFET
 *		on, alarm bytes 0..3 in the others, masked), the balancing
 *		cells (u24), the disconnected cells (u24, 0), one byte 0;
 *	0x21	26 bytes: mV (u32, the cells' sum), mA (s32, + = charging),
 *		SOC, SOH, remaining and full mAh (u32), cycles (u16), six s8
 *		°C: the pack's temperatures 1..4, the MOSFET's, the fifth (25
 *		where the pack has fewer);
 *	0x22	48 bytes: 24 cell slots, mV, 0 = none;
 *	0x58	48 bytes: the settings (hs_settings(); not with nosettings=1);
 * anything else (0x00, the writes 0x50..0x53, 0x23) is counted as a bad
 * request.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define HS_REQ 5
#define HS_MAX_CELLS 24
#define HS_MAX_TEMPS 5
#define HS_ST_FLAGS 0x00808080ul /* the MOSFET and balancing bits */

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int hs_ncells(const struct sim_pack *p)
{
	return p->ncells < HS_MAX_CELLS ? p->ncells : HS_MAX_CELLS;
}

static int hs_ntemps(const struct sim_pack *p)
{
	return p->ntemps < HS_MAX_TEMPS ? p->ntemps : HS_MAX_TEMPS;
}

static unsigned long hs_mv(const struct sim_pack *p)
{
	unsigned long mv = 0;
	for (int i = 0; i < hs_ncells(p); i++)
		mv += (unsigned long)sim_pack_cell_mv(p, i);
	return mv;
}

static unsigned long hs_status(const struct sim_pack *p)
{
	unsigned long w = (unsigned long)p->alarm[0] | (unsigned long)p->alarm[1] << 8 |
			  (unsigned long)p->alarm[2] << 16 | (unsigned long)p->alarm[3] << 24;
	w &= ~HS_ST_FLAGS;
	if (p->chg_mos)
		w |= 0x80ul;
	if (p->balance & ((1ull << hs_ncells(p)) - 1))
		w |= 0x8000ul;
	if (p->dsg_mos)
		w |= 0x800000ul;
	return w;
}

/* A temperature as one signed byte. */
static int hs_t8(int t)
{
	return (int)clampl(t, -128, 127);
}

/* The six sensors of 0x21: the pack's first four, the MOSFET's, the
 * pack's fifth (25 °C where the pack has fewer). */
static void hs_temps(const struct sim_pack *p, int t[6])
{
	for (int i = 0; i < 6; i++)
		t[i] = 25;
	for (int i = 0; i < hs_ntemps(p); i++)
		t[i < 4 ? i : 5] = hs_t8(p->temp_c[i]);
	t[4] = hs_t8(p->mos_temp_c);
}

static void hs_view(const struct sim_pack *p, struct sim_view *v)
{
	unsigned long w = hs_status(p);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH | SIM_HAS_MOS_TEMP |
		 SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = hs_mv(p) / 1000.0;
	v->current = clampl(lround(p->current * 1000.0), -0x7FFFFFFF, 0x7FFFFFFF) / 1000.0;
	v->capacity_ah = clampl(lround(p->capacity_ah * 1000.0), 0, 0x7FFFFFFF) / 1000.0;
	v->remaining_ah = clampl(lround(p->capacity_ah * 10.0 * p->soc), 0, 0x7FFFFFFF) / 1000.0;
	v->cycles = p->cycles & 0xFFFFu;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->soh = (double)clampl(lround(p->soh), 0, 100);
	v->mos_temp_c = hs_t8(p->mos_temp_c);
	v->ncells = hs_ncells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	int t[6];
	hs_temps(p, t);
	v->ntemps = HS_MAX_TEMPS; /* all five always sent */
	for (int i = 0; i < HS_MAX_TEMPS; i++)
		v->temp_c[i] = t[i < 4 ? i : 5];
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->balance = p->balance & ((1ull << v->ncells) - 1);
	v->nalarm = 4;
	v->alarm[0] = (uint8_t)w;
	v->alarm[1] = (uint8_t)(w >> 8);
	v->alarm[2] = (uint8_t)(w >> 16);
	v->alarm[3] = (uint8_t)(w >> 24);
}

static void put32(uint8_t *f, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		f[i] = (uint8_t)(v >> (8 * i));
}

/* Frame data d[0..n) as the answer to cmd. */
static void hs_add(struct sim_reply *reply, uint8_t cmd, const uint8_t *d, size_t n)
{
	uint8_t f[256 + 5];
	unsigned sum = 0;
	f[0] = 0xAA;
	f[1] = cmd;
	f[2] = (uint8_t)n;
	memcpy(f + 3, d, n);
	for (size_t i = 1; i < n + 3; i++)
		sum += f[i];
	f[n + 3] = (uint8_t)sum;
	f[n + 4] = (uint8_t)(sum >> 8);
	sim_reply_add(reply, f, n + 5);
}

static void hs_info(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[26] = { 0 };
	int t[6];
	put32(d, hs_mv(p));
	put32(d + 4, (unsigned long)clampl(lround(p->current * 1000.0), -0x7FFFFFFF, 0x7FFFFFFF) & 0xFFFFFFFFul);
	d[8] = (uint8_t)clampl(lround(p->soc), 0, 100);
	d[9] = (uint8_t)clampl(lround(p->soh), 0, 100);
	put32(d + 10, (unsigned long)clampl(lround(p->capacity_ah * 10.0 * p->soc), 0, 0x7FFFFFFF));
	put32(d + 14, (unsigned long)clampl(lround(p->capacity_ah * 1000.0), 0, 0x7FFFFFFF));
	d[18] = (uint8_t)p->cycles;
	d[19] = (uint8_t)(p->cycles >> 8);
	hs_temps(p, t);
	for (int i = 0; i < 6; i++)
		d[20 + i] = (uint8_t)(int8_t)t[i];
	hs_add(reply, 0x21, d, sizeof d);
}

static void hs_status_frame(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[15] = { 0 };
	unsigned long bal = (unsigned long)(p->balance & ((1ull << hs_ncells(p)) - 1));
	put32(d + 4, hs_status(p));
	d[8] = (uint8_t)bal;
	d[9] = (uint8_t)(bal >> 8);
	d[10] = (uint8_t)(bal >> 16);
	hs_add(reply, 0x20, d, sizeof d);
}

static void hs_cells(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[2 * HS_MAX_CELLS] = { 0 };
	for (int i = 0; i < hs_ncells(p); i++) {
		int mv = sim_pack_cell_mv(p, i);
		d[2 * i] = (uint8_t)mv;
		d[2 * i + 1] = (uint8_t)(mv >> 8);
	}
	hs_add(reply, 0x22, d, sizeof d);
}

/* 0x58, the settings (bms/PROTOCOLS.md §38.4): 48 bytes of u16, the
 * levels of the BMC-04S001 answer in aiobmsble's test (cell 3.65 / 3.33 V
 * 4 s, 2.5 / 2.8 V 4 s, the currents' raw words, charge 60 / 55 and 0 / 5
 * degC, discharge 65 / 60 and -20 / -15 degC in 0.1 K, two words more),
 * the pack's cell count and capacity (0.01 Ah). */
static void hs_settings(const struct sim_pack *p, struct sim_reply *reply)
{
	static const uint16_t w[24] = { 0, 0, 3650, 3330, 4, 2500, 2800, 4, 11000, 16, 30000, 20,
					614, 80, 3331, 3281, 2731, 2781, 3381, 3331, 2531, 2581, 3525, 30 };
	uint8_t d[48];
	for (int i = 0; i < 24; i++) {
		d[2 * i] = (uint8_t)w[i];
		d[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	long cap = clampl(lround(p->capacity_ah * 100.0), 0, 65534);
	d[0] = (uint8_t)hs_ncells(p);
	d[2] = (uint8_t)cap;
	d[3] = (uint8_t)(cap >> 8);
	hs_add(reply, 0x58, d, sizeof d);
}

static enum sim_scan hs_scan(const uint8_t *buf, size_t len, size_t *n)
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
	if (len < 3)
		return SIM_SCAN_NEED;
	size_t want = (size_t)buf[2] + 5;
	if (len < want)
		return SIM_SCAN_NEED;
	unsigned sum = 0;
	for (size_t i = 1; i < want - 2; i++)
		sum += buf[i];
	if ((sum & 0xFFFFu) != (unsigned)(buf[want - 2] | buf[want - 1] << 8)) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = want;
	return SIM_SCAN_FRAME;
}

static int hs_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp hs_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t model[] = "BMC-04S001";
	static const uint8_t version[12] = "V02";
	if (n != HS_REQ || req[2] != 0)
		return SIM_RESP_BAD;
	switch (req[1]) {
	case 0x11:
		hs_add(reply, 0x11, model, sizeof model - 1);
		return SIM_RESP_OK;
	case 0xF5:
		hs_add(reply, 0xF5, version, sizeof version);
		return SIM_RESP_OK;
	case 0x20:
		hs_status_frame(p, reply);
		return SIM_RESP_OK;
	case 0x21:
		hs_info(p, reply);
		return SIM_RESP_OK;
	case 0x22:
		hs_cells(p, reply);
		return SIM_RESP_OK;
	case 0x58:
		if (p->dialect == 'N')
			return SIM_RESP_NONE; /* `nosettings`: firmware that does not know it */
		hs_settings(p, reply);
		return SIM_RESP_OK;
	default:
		return SIM_RESP_BAD;
	}
}

const struct sim_proto sim_proto_humsienk = {
	.name = "humsienk",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = HS_MAX_CELLS,
	.max_temps = HS_MAX_TEMPS,
	.scan = hs_scan,
	.address = hs_address,
	.respond = hs_respond,
	.view = hs_view,
};
