/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_epoch_pro.c - an Epoch Pro battery system over Bluetooth
 * LE, the BMS side of the FFE0 link as a fake BlueZ bridges it to a TCP
 * port (writes to FFE1 in, notifications of FFE4 out).
 *
 * bms/PROTOCOLS.md §77.  The simulator's packs are the system's packs in
 * parallel (pack 1 the one the link reaches).  Requests are
 * FA F3 16 <start BE> <dev> <count BE> <CRC-16/Modbus LE>:
 *	7654, dev 1, 0x37 words -> the total: 110 bytes (the template of
 *	    aiobmsble's capture, its values replaced): 8 SOC % (the packs'
 *	    mean), 10 SOH % (their lowest), 14 voltage 0.01 V (pack 1's cells'
 *	    sum), 16 current A (s16: the packs' sum, rounded), 18 pack 1's
 *	    first sensor 0.1 degC, 42 the pack count
 *	75F8, dev p, 0x52 words -> pack p: 164 bytes: 16 cycles, 46 voltage
 *	    0.01 V, 48 current 0.01 A, 66 SOC 0.1 %, frame bytes 55 the cell
 *	    count (<= 16), 56 the sensor count (<= 8), 77.. cells mV, 109..
 *	    sensors degC
 * answered FA F3 16 <dev> <len> <data> <CRC LE>.  Another request, a pack
 * that is not there, a bad CRC is a bad request.  Encoded here; bms/ is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define EP_REQ 10
#define EP_TOTAL_LEN 0x6E
#define EP_PACK_LEN 0xA4
#define EP_CELLS 16
#define EP_TEMPS 8

static const char ep_total_tpl[] =
	"0000000004b00000005b0064238c14c90000010e00000000187a0000000000000000000000000000000000020000000000000cfd0cff"
	"001b001b3230312d003100003230312d003400003130302d003100003130302d0031000000000000000000000038aaa802aaaaa800"
	"82003c";
static const char ep_pack_tpl[] =
	"024001e00258012cc878000000007530000a00000c2c00000000797c00100cfe0cfd00100007001b001b0004000314c9000010040000"
	"000000000000000000000000038e006400000cfe0cfd0cfd0cfd0cfe0cfe0cfd0cfd0cfe0cfe0cfe0cfe0cfe0cff0cfe0cfe001b001b"
	"001b001b0022001d001d0c17001200000000000000000000313636000031000000000000000000000000000032333131333030313032"
	"3833";

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static uint16_t ep_crc(const uint8_t *b, size_t n)
{
	unsigned c = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xA001 : c >> 1;
	}
	return (uint16_t)c;
}

static void ep_hex(const char *tpl, uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(tpl + 2 * i, "%2x", &v);
		d[i] = (uint8_t)v;
	}
}

/* The system as the total carries it. */
struct ep_total {
	unsigned volt_cv, soc, soh, packs;
	long amps;
};

static void ep_system(struct ep_total *t)
{
	int n = sim_bus_npacks();
	const struct sim_pack *p1 = sim_bus_pack(0);
	double cur = 0, soc = 0, soh = 100;
	long mv = 0;
	for (int i = 0; i < n; i++) {
		const struct sim_pack *p = sim_bus_pack(i);
		cur += p->current;
		soc += p->soc;
		soh = p->soh < soh ? p->soh : soh;
	}
	for (int i = 0; i < p1->ncells && i < EP_CELLS; i++)
		mv += clampl(sim_pack_cell_mv(p1, i), 0, 65535);
	t->volt_cv = (unsigned)clampl(lround(mv / 10.0), 0, 65535);
	t->soc = (unsigned)clampl(lround(soc / n), 0, 100);
	t->soh = (unsigned)clampl(lround(soh), 0, 100);
	t->packs = (unsigned)n;
	t->amps = clampl(lround(cur), -32768, 32767);
}

static size_t ep_answer(uint8_t dev, const uint8_t *d, size_t n, uint8_t *f)
{
	f[0] = 0xFA;
	f[1] = 0xF3;
	f[2] = 0x16;
	f[3] = dev;
	f[4] = (uint8_t)n;
	memcpy(f + 5, d, n);
	uint16_t c = ep_crc(f, 5 + n);
	f[5 + n] = (uint8_t)c;
	f[6 + n] = (uint8_t)(c >> 8);
	return n + 7;
}

static void ep_total_data(uint8_t *d)
{
	struct ep_total t;
	ep_system(&t);
	const struct sim_pack *p1 = sim_bus_pack(0);
	ep_hex(ep_total_tpl, d, EP_TOTAL_LEN);
	be16(d + 8, t.soc);
	be16(d + 10, t.soh);
	be16(d + 14, t.volt_cv);
	be16(d + 16, (unsigned)(uint16_t)(int16_t)t.amps);
	be16(d + 18, (unsigned)(uint16_t)(int16_t)(p1->temp_c[0] * 10));
	be16(d + 42, t.packs);
}

static void ep_pack_data(const struct sim_pack *p, uint8_t *d)
{
	int nc = p->ncells < EP_CELLS ? p->ncells : EP_CELLS, nt = p->ntemps < EP_TEMPS ? p->ntemps : EP_TEMPS;
	long mv = 0;
	ep_hex(ep_pack_tpl, d, EP_PACK_LEN);
	memset(d + 72, 0, 2 * EP_CELLS + 2 * EP_TEMPS);
	for (int i = 0; i < nc; i++) {
		unsigned c = (unsigned)clampl(sim_pack_cell_mv(p, i), 0, 65535);
		be16(d + 72 + 2 * i, c);
		mv += c;
	}
	for (int i = 0; i < nt; i++)
		be16(d + 104 + 2 * i, (unsigned)(uint16_t)(int16_t)p->temp_c[i]);
	d[50] = (uint8_t)nc;
	d[51] = (uint8_t)nt;
	be16(d + 16, p->cycles & 0xFFFF);
	be16(d + 46, (unsigned)clampl(lround(mv / 10.0), 0, 65535));
	be16(d + 48, (unsigned)(uint16_t)(int16_t)clampl(lround(p->current * 100), -32768, 32767));
	be16(d + 66, (unsigned)clampl(lround(p->soc * 10), 0, 1000));
}

static enum sim_scan ep_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0xFA) {
		size_t i = 1;
		while (i < len && buf[i] != 0xFA)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < EP_REQ)
		return SIM_SCAN_NEED;
	*n = EP_REQ;
	if (buf[1] != 0xF3 || buf[2] != 0x16 || ep_crc(buf, 8) != (uint16_t)(buf[8] | buf[9] << 8))
		return SIM_SCAN_BAD;
	return SIM_SCAN_FRAME;
}

/* The total is pack 1's to answer; a pack read its pack's. */
static int ep_address(const uint8_t *req, size_t n)
{
	(void)n;
	return req[3] == 0x76 ? 1 : req[5];
}

static enum sim_resp ep_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t d[EP_PACK_LEN], f[EP_PACK_LEN + 7];
	unsigned start = (unsigned)req[3] << 8 | req[4], words = (unsigned)req[6] << 8 | req[7];
	if (n != EP_REQ)
		return SIM_RESP_BAD;
	if (start == 0x7654 && req[5] == 1 && words == 0x37) {
		ep_total_data(d);
		sim_reply_add(reply, f, ep_answer(1, d, EP_TOTAL_LEN, f));
		return SIM_RESP_OK;
	}
	if (start != 0x75F8 || words != 0x52 || req[5] != p->address)
		return SIM_RESP_BAD;
	ep_pack_data(p, d);
	sim_reply_add(reply, f, ep_answer((uint8_t)p->address, d, EP_PACK_LEN, f));
	return SIM_RESP_OK;
}

/* Pack 1: the system's voltage, current, SOC and SOH (the total's), its
 * cells and sensors; another pack its own. */
static void ep_view(const struct sim_pack *p, struct sim_view *v)
{
	uint8_t d[EP_PACK_LEN];
	struct ep_total t;
	ep_system(&t);
	ep_pack_data(p, d);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS;
	v->address = p->address;
	bool first = p->address == sim_bus_pack(0)->address;
	v->voltage = first ? t.volt_cv / 100.0 : (d[46] << 8 | d[47]) / 100.0;
	v->current = first ? (double)t.amps : (int16_t)(d[48] << 8 | d[49]) / 100.0;
	v->soc = first ? t.soc : (d[66] << 8 | d[67]) / 10.0;
	v->soh = first ? t.soh : p->soh;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = d[50];
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = d[72 + 2 * i] << 8 | d[73 + 2 * i];
	v->ntemps = d[51];
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
}

/* badsum: the CRC's high byte flipped */
static void ep_corrupt(uint8_t *frame, size_t n)
{
	if (n > 7)
		frame[n - 1] ^= 0xFF;
}

const struct sim_proto sim_proto_epoch_pro = {
	.name = "epoch-pro",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 15,
	.max_cells = EP_CELLS,
	.max_temps = EP_TEMPS,
	.scan = ep_scan,
	.address = ep_address,
	.respond = ep_respond,
	.view = ep_view,
	.corrupt = ep_corrupt,
	.ble_name = "EpochGC2-0A1B2C",
};
