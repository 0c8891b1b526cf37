/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jbd.c - JBD / Xiaoxiang / LLT general protocol V4, the BMS side.
 *
 * bms/PROTOCOLS.md §7.  Request  DD A5|5A <reg> <len> <data> <chk16> 77,
 * answer DD <reg> <status> <len> <data> <chk16> 77; chk16 = 0x10000 - sum
 * of the bytes from index 2 through the last data byte.  No address: the
 * one pack on the wire answers everything.
 *
 * Answered: reads 0x03 (basic info), 0x04 (cells), 0x05 (model), 0xAA
 * (error counters); writes 0xE1 (MOSFET "software lock", below), 0x06
 * (password, taken but never required), and factory mode with its settings
 * registers (jbd_factory(), below).  With `pin=` (its Bluetooth module's
 * PIN, §7.9) the pack answers no read until FF AA 15 n <PIN> <sum> brought
 * the right one on this connection: answered FF AA 15 01 00 16 (taken) or
 * FF AA 15 01 01 17 (refused); reads before it are counted in
 * locked_reads and not answered (an assumption: no source says what a
 * locked module does with them).
 *
 * Pack model use: alarm[0..1] = 0x03 protection status (big-endian, as on
 * the wire), plus b12 "MOSFET software lock" while a lock bit is set and,
 * while a protection holds a MOSFET off (control mode protect), b4 charge
 * over-temperature / b6 discharge over-temperature; full16 = 0x04 always has at least 16 slots, the unused ones 0
 * (like JBD-06); junk = newer firmware's long 0x03 with 9 extension bytes
 * after the NTCs.  Encoded here from the pack state; bms/jbd.c is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define JBD_START 0xDD
#define JBD_END 0x77
#define JBD_MAX_CELLS 32
#define JBD_MAX_TEMPS 8
#define JBD_KELVIN 2731 /* 0.1 K */

struct jbd_raw {
	unsigned volt_10mv;
	int cur_10ma;           /* + = charging */
	unsigned remain_10mah, nominal_10mah;
	unsigned cycles;
	unsigned soc;           /* % */
	int ncells;
	unsigned cell_mv[JBD_MAX_CELLS];
	int ntemps;
	int temp_c[JBD_MAX_TEMPS];
	unsigned prot;
	uint32_t balance;
	unsigned fet;
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void jbd_quantise(const struct sim_pack *p, struct jbd_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < JBD_MAX_CELLS ? p->ncells : JBD_MAX_CELLS;
	unsigned long sum = 0;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 0, 65535);
		sum += r->cell_mv[i];
	}
	r->volt_10mv = (unsigned)clampl((long)((sum + 5) / 10), 0, 65535);
	r->cur_10ma = (int)clampl(lround(p->current * 100.0), -32768, 32767);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->nominal_10mah = (unsigned)clampl(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_10mah = (unsigned)clampl(lround(p->capacity_ah * p->soc), 0, 65535);
	r->cycles = p->cycles & 0xFFFF;
	r->ntemps = p->ntemps < JBD_MAX_TEMPS ? p->ntemps : JBD_MAX_TEMPS;
	for (int i = 0; i < r->ntemps; i++)
		r->temp_c[i] = (int)clampl(p->temp_c[i], -40, 215);
	r->prot = (unsigned)p->alarm[0] << 8 | p->alarm[1];
	/* the lock appears as protection bit 12 (syssi/esphome-jbd-bms btsnoop
	 * docs/pdus/btsnoop_hci-mosfets-onoff.log: 0x1000 after E1 01, 0 after
	 * E1 00; smagicld/xiaoxiangBMS#134) */
	if (!p->chg_set || !p->dsg_set)
		r->prot |= 0x1000;
	unsigned held = sim_pack_held(p);
	if (held & SIM_FET_CHG)
		r->prot |= 0x0010;
	if (held & SIM_FET_DSG)
		r->prot |= 0x0040;
	r->balance = (uint32_t)p->balance;
	r->fet = (p->chg_mos ? 1u : 0u) | (p->dsg_mos ? 2u : 0u);
}

static void jbd_view(const struct sim_pack *p, struct sim_view *v)
{
	struct jbd_raw r;
	jbd_quantise(p, &r);
	memset(v, 0, sizeof *v);
	/* what a gateway polling 0x03 and 0x04 gets: no SOH, no MOS temperature */
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS |
		 SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_10mv / 100.0;
	v->current = r.cur_10ma / 100.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_10mah / 100.0;
	v->capacity_ah = r.nominal_10mah / 100.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 2;
	v->alarm[0] = (uint8_t)(r.prot >> 8);
	v->alarm[1] = (uint8_t)r.prot;
	v->balance = r.balance;
}

static unsigned jbd_chk(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (0x10000u - (s & 0xFFFFu)) & 0xFFFFu;
}

/* FF AA 15 n <n> <sum>: the PIN. */
static enum sim_scan jbd_scan_pin(const uint8_t *buf, size_t len, size_t *n)
{
	if (len < 4)
		return SIM_SCAN_NEED;
	if (buf[1] != 0xAA || buf[2] != 0x15) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	size_t total = (size_t)buf[3] + 5;
	if (len < total)
		return SIM_SCAN_NEED;
	unsigned sum = 0;
	for (size_t i = 2; i < total - 1; i++)
		sum += buf[i];
	*n = (sum & 0xFF) == buf[total - 1] ? total : 1;
	return (sum & 0xFF) == buf[total - 1] ? SIM_SCAN_FRAME : SIM_SCAN_BAD;
}

static enum sim_scan jbd_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] == 0xFF)
		return jbd_scan_pin(buf, len, n);
	if (buf[0] != JBD_START) {
		size_t i = 1;
		while (i < len && buf[i] != JBD_START && buf[i] != 0xFF)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 4)
		return SIM_SCAN_NEED;
	if (buf[1] != 0xA5 && buf[1] != 0x5A) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	size_t total = (size_t)buf[3] + 7;
	if (len < total)
		return SIM_SCAN_NEED;
	unsigned chk = (unsigned)buf[total - 3] << 8 | buf[total - 2];
	if (buf[total - 1] != JBD_END || jbd_chk(buf + 2, total - 5) != chk) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = total;
	return SIM_SCAN_FRAME;
}

static int jbd_address(const uint8_t *req, size_t n)
{
	(void)req;
	return n >= 7 ? 1 : -1; /* no address: the pack on the wire */
}

static void jbd_frame_status(struct sim_reply *r, uint8_t reg, uint8_t status, const uint8_t *d, size_t len)
{
	uint8_t f[256 + 7];
	f[0] = JBD_START;
	f[1] = reg;
	f[2] = status;
	f[3] = (uint8_t)len;
	if (len)
		memcpy(f + 4, d, len);
	unsigned chk = jbd_chk(f + 2, len + 2);
	f[4 + len] = (uint8_t)(chk >> 8);
	f[5 + len] = (uint8_t)chk;
	f[6 + len] = JBD_END;
	sim_reply_add(r, f, len + 7);
}

static void jbd_frame(struct sim_reply *r, uint8_t reg, const uint8_t *d, size_t len)
{
	jbd_frame_status(r, reg, 0x00, d, len);
}

static void put16(uint8_t *d, unsigned v)
{
	d[0] = (uint8_t)(v >> 8);
	d[1] = (uint8_t)v;
}

/* 0xE1, the MOSFET "software lock": `DD 5A E1 02 00 <mask> <chk> 77`, mask
 * bit 0 = charge off, bit 1 = discharge off (Overkill Solar's JBD register
 * map, FurTrader/OverkillSolarBMS).  One write sets both
 * MOSFETs.  Acknowledged `DD E1 00 00 00 00 77` (captured by the Xiaoxiang
 * app, syssi/esphome-jbd-bms docs/pdus/JBD-SP04S034-L4S-200A-B-U_MOS.txt);
 * refused with status 0x80, the document's error status: `DD E1 80 00 FF 80
 * 77` (as `DD 06 80 00 FF 80 77` in smagicld/xiaoxiangBMS#195).  Any other
 * length, high byte or mask is not a known write: no answer, counted as bad. */
static enum sim_resp jbd_lock(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n != 9 || req[3] != 2 || req[4] != 0 || req[5] > 3)
		return SIM_RESP_BAD;
	enum sim_wr w = sim_pack_write(p, (req[5] & 1) ? 0 : 1, (req[5] & 2) ? 0 : 1);
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	jbd_frame_status(reply, 0xE1, w == SIM_WR_REFUSED ? 0x80 : 0x00, NULL, 0);
	return SIM_RESP_OK;
}

/* The EEPROM registers of its settings (FurTrader/OverkillSolarBMS
 * JBD register map), first read: design capacity 0x10 (10 mAh), cell
 * OVP / release / UVP / release 0x24-0x27 (mV), charge / discharge
 * over-current 0x28 / 0x29 (10 mA, discharge negative), balance start and
 * window 0x2A / 0x2B (mV), func_config 0x2D (bit 0 switch, bit 2 balance
 * enable). */
static void jbd_eeprom(struct sim_pack *p)
{
	if (p->eeprom_set)
		return;
	p->eeprom_set = 1;
	p->eeprom[0x10] = (uint16_t)clampl(lround(p->capacity_ah * 100.0), 0, 65535);
	p->eeprom[0x24] = 3650;
	p->eeprom[0x25] = 3400;
	p->eeprom[0x26] = 2500;
	p->eeprom[0x27] = 2900;
	p->eeprom[0x28] = 10000;                 /* 100 A */
	p->eeprom[0x29] = (uint16_t)(0x10000 - 15000); /* -150 A */
	p->eeprom[0x2A] = 3400;
	p->eeprom[0x2B] = 30;
	p->eeprom[0x2D] = 0x0005;
}

/* Factory mode and its registers (§7.8 of bms/PROTOCOLS.md):
 * `DD 5A 00 02 56 78` enters, `DD 5A 01 02 28 28` (saved) or `00 00`
 * leaves; inside it `DD A5 <reg> 00` reads a register 0x10..0x3F and
 * `DD 5A <reg> 02 <v:2>` writes one, acknowledged `DD <reg> 00 00 ...`;
 * outside it both are refused (status 0x80).  The writes follow the
 * pack's control mode (sim_pack_set_write()). */
static enum sim_resp jbd_factory(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t reg = req[2], d[2];
	jbd_eeprom(p);
	if (req[1] == 0xA5) {
		if (n != 7 || req[3] != 0 || reg < 0x10 || reg >= 0x40)
			return SIM_RESP_BAD;
		if (!p->factory) {
			jbd_frame_status(reply, reg, 0x80, NULL, 0);
			return SIM_RESP_OK;
		}
		put16(d, p->eeprom[reg]);
		jbd_frame(reply, reg, d, 2);
		return SIM_RESP_OK;
	}
	if (n != 9 || req[3] != 2)
		return SIM_RESP_BAD;
	unsigned v = (unsigned)req[4] << 8 | req[5];
	bool enter = reg == 0x00 && v == 0x5678, leave = reg == 0x01 && (v == 0x2828 || v == 0);
	if (!enter && !leave && (reg < 0x10 || reg >= 0x40))
		return SIM_RESP_BAD;
	int apply;
	enum sim_wr w = sim_pack_set_write(p, &apply);
	if (w == SIM_WR_REFUSED || (!enter && !leave && !p->factory)) {
		jbd_frame_status(reply, reg, 0x80, NULL, 0);
		return SIM_RESP_OK;
	}
	if (apply && (enter || leave))
		p->factory = enter;
	else if (apply)
		p->eeprom[reg] = (uint16_t)v;
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	jbd_frame(reply, reg, NULL, 0);
	return SIM_RESP_OK;
}

/* The PIN FF AA 15 n <PIN> <sum>: FF AA 15 01 <00 taken | 01 refused> <sum>. */
static enum sim_resp jbd_pin(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	int ok = sim_pin_try(p, (const char *)req + 4, n - 5, NULL);
	uint8_t a[6] = { 0xFF, 0xAA, 0x15, 0x01, ok ? 0x00 : 0x01, 0 };
	a[5] = (uint8_t)(0x15 + 0x01 + a[4]);
	sim_reply_add(reply, a, sizeof a);
	return SIM_RESP_OK;
}

static enum sim_resp jbd_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                 struct sim_reply *reply)
{
	if (n >= 5 && req[0] == 0xFF)
		return jbd_pin(p, req, n, reply);
	if (n < 7)
		return SIM_RESP_BAD;
	if (!sim_pin_open(p, NULL))
		return SIM_RESP_NONE; /* locked: the PIN first */
	struct jbd_raw r;
	jbd_quantise(p, &r);
	uint8_t d[256];
	size_t len = 0;
	uint8_t reg = req[2];
	memset(d, 0, sizeof d);

	if (req[1] == 0x5A) { /* writes */
		if (reg == 0xE1)
			return jbd_lock(p, req, n, reply);
		/* password `DD 5A 06 07 06 <6 digits> <chk> 77` (Overkill Solar's
		 * JBD register map; sent by the Xiaoxiang app at connect, syssi/
		 * esphome-jbd-bms btsnoops): taken, never needed for 0xE1 here */
		if (reg == 0x06 && (n != 14 || req[3] != 7 || req[4] != 0x06))
			return SIM_RESP_BAD;
		if (reg != 0x06)
			return jbd_factory(p, req, n, reply);
		jbd_frame(reply, reg, d, 0);
		return SIM_RESP_OK;
	}
	if (reg >= 0x10 && reg < 0x40 && reg != 0x03 && reg != 0x04 && reg != 0x05)
		return jbd_factory(p, req, n, reply);
	switch (reg) {
	case 0x03: {
		put16(d, r.volt_10mv);
		put16(d + 2, (unsigned)(r.cur_10ma & 0xFFFF));
		put16(d + 4, r.remain_10mah);
		put16(d + 6, r.nominal_10mah);
		put16(d + 8, r.cycles);
		put16(d + 10, (24u << 9) | (5u << 5) | 17u); /* made 2024-05-17 */
		put16(d + 12, r.balance & 0xFFFF);
		put16(d + 14, r.balance >> 16);
		put16(d + 16, r.prot);
		d[18] = 0x21; /* software version 2.1 */
		d[19] = (uint8_t)r.soc;
		d[20] = (uint8_t)r.fet;
		d[21] = (uint8_t)r.ncells;
		d[22] = (uint8_t)r.ntemps;
		len = 23;
		for (int i = 0; i < r.ntemps; i++, len += 2)
			put16(d + len, (unsigned)(JBD_KELVIN + 10 * r.temp_c[i]));
		if (p->junk) { /* newer firmware: humidity, alarm, full / remaining capacity, balance current */
			d[len] = 0;
			put16(d + len + 1, 0);
			put16(d + len + 3, r.nominal_10mah);
			put16(d + len + 5, r.remain_10mah);
			put16(d + len + 7, 0);
			len += 9;
		}
		break;
	}
	case 0x04: {
		int slots = r.ncells;
		if (p->full16 && slots < 16)
			slots = 16;
		for (int i = 0; i < slots; i++, len += 2)
			put16(d + len, i < r.ncells ? r.cell_mv[i] : 0);
		break;
	}
	case 0x05: {
		static const char model[] = "SIM-SP16S020-L16S-100A";
		len = sizeof model - 1;
		memcpy(d, model, len);
		break;
	}
	case 0xAA:
		len = 24; /* 11 event counters + 2 unknown: all 0 */
		break;
	default:
		return SIM_RESP_BAD;
	}
	jbd_frame(reply, reg, d, len);
	return SIM_RESP_OK;
}

static int jbd_is_write(const uint8_t *req, size_t n)
{
	return n >= 7 && req[1] == 0x5A && req[2] == 0xE1;
}

/* The checksum is not the last byte (0x77 is). */
static void jbd_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 7)
		frame[n - 2] ^= 0x01;
	else if (n)
		frame[n - 1] ^= 0x01;
}

const struct sim_proto sim_proto_jbd = {
	.name = "jbd",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 1, /* no bus address: one pack per wire */
	.max_cells = JBD_MAX_CELLS,
	.max_temps = JBD_MAX_TEMPS,
	.scan = jbd_scan,
	.address = jbd_address,
	.respond = jbd_respond,
	.view = jbd_view,
	.corrupt = jbd_corrupt,
	.is_write = jbd_is_write,
};
