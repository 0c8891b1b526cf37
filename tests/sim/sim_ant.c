/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_ant.c - ANT BMS, on its UART (TTL) or as the BMS side of a
 * Bluetooth LE link the fake BlueZ bridges (writes and notifications of
 * FFE1).
 *
 * bms/PROTOCOLS.md §28.  Two dialects; a pack with `dialect=2021` (the
 * default) is a 2021 board and answers both, one with `dialect=legacy` a
 * 2019 board that answers only the legacy requests, one with `dialect=dbdb`
 * a board that answers only DB DB 00 00 00 00 (dbus-serialbattery's
 * request), neither 7E A1 nor 5A 5A:
 *
 *   7E A1 <func> <addr 2> <len> <crc 2> AA 55 (CRC-16/MODBUS of bytes 1..5):
 *	func 0x01 status -> 0x11, little-endian: 6 permissions, 7 battery
 *	status (1 idle, 2 charging, 3 discharging by the current), 8 probes t,
 *	9 cells n, 10..17 protection bitmask = alarm bytes 2..7 (then 0, 0),
 *	18..33 warning / balancing masks 0, 34 u16[n] mV, s16[t] degC, then
 *	(o = 2n + 2t) 34+o MOSFET degC, 36+o balancer degC (the MOSFET's + 1),
 *	38+o u16 0.01 V, 40+o s16 0.1 A (raw > 0 = discharging: the pack's
 *	current negated), 42+o / 44+o u16 SOC /
 *	SOH %, 46+o / 47+o discharge / charge MOSFET status (alarm byte 1 / 0
 *	if not 0, else 1 on / 0 off; bms/PROTOCOLS.md §28.5: 46 is the
 *	discharge MOSFET's), 48+o balancer status 0, 50+o / 54+o u32
 *	design / remaining capacity 1e-6 Ah, 58+o cycle Ah, 62+o s32 W (negated
 *	too), 70+o
 *	u32 balancing cells, 74+o.. max / min cell, 96+o.. totals, 112+o end;
 *	func 0x02 at 0x026C -> 0x12, the 48-byte device information (model
 *	"16ZM", firmware "16ZMUB00-211026A", CRC at 38, 6 bytes, AA 55);
 *	func 0x02 at a settings register (0x0000..0x009F, 2..0x38 bytes) ->
 *	0x12, the address, length and bytes (ant_settings_image(): a 16S LFP
 *	pack's levels), CRC, FF 0B 00 00 41 F2, AA 55;
 *	a pack with `nosettings=1` (a 2021 board whose firmware does not know
 *	them) leaves those unanswered.
 *   5A 5A 00 <hi> <lo> <sum> (UART) or DB DB 00 00 00 00 (UART, BLE) -> the
 *	legacy 140-byte AA 55 AA FF frame, big-endian: 4 u16 0.1 V, 6 u16[32]
 *	mV, 70 s32 0.1 A with raw > 0 = discharging (the pack's current
 *	negated), 74 u8 SOC, 75 / 79 u32 capacity / remaining 1e-6 Ah, 83 u32
 *	cycle mAh, 91 s16[6] degC (the sensors, -40 = none, up to 4), 103 /
 *	104 / 105 the MOSFET and balancer codes as above, 111 s32 W (negated
 *	too), 123 u8 cells, 132 u32 balancing cells, 138 sum16 of 4..137.
 *
 * With `pin=` (the board's password, §28.8) it answers no read until
 * 7E A1 23 01 6A <n> <PIN> <CRC> AA 55 brought the right one on this
 * connection; the password itself is never answered (a wrong one counted
 * in pin_refused), the reads before it counted in locked_reads.
 * A write (7E A1 51 ..., A5 A5 ...) is a bad request: bmsgw never sends
 * one; nor is a password without `pin=` (pin_tries counts it).  One BMS per port.  Encoded here; bms/ is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define ANT_REQ 10
#define ANT_LREQ 6
#define ANT_CELLS 32
#define ANT_PROBES 4
#define ANT_LEG_LEN 140
#define ANT_INFO_LEN 48
#define ANT_ABSENT (-40)

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

static void le16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *b, uint32_t v)
{
	le16(b, v & 0xFFFF);
	le16(b + 2, v >> 16);
}

static void be16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void be32(uint8_t *b, uint32_t v)
{
	be16(b, v >> 16);
	be16(b + 2, v & 0xFFFF);
}

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* What goes on the wire, in its units. */
struct ant_raw {
	int ncells, nprobes;
	unsigned cell_mv[ANT_CELLS];
	unsigned long sum_mv;
	long deci_a;            /* 0.1 A, + = charging */
	unsigned soc, soh;
	uint32_t full_uah, remain_uah; /* 1e-6 Ah */
	long watts;
	uint8_t chg, dsg;       /* MOSFET status codes */
};

static void ant_quantise(const struct sim_pack *p, struct ant_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < ANT_CELLS ? p->ncells : ANT_CELLS;
	r->nprobes = p->ntemps < ANT_PROBES ? p->ntemps : ANT_PROBES;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->sum_mv += r->cell_mv[i];
	}
	r->deci_a = clampl(lround(p->current * 10.0), -32767, 32767); /* negated on the wire */
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->soh = (unsigned)clampl(lround(p->soh), 0, 100);
	r->full_uah = (uint32_t)clampl(lround(p->capacity_ah * 1000.0), 0, 4000000) * 1000u;
	r->remain_uah = (uint32_t)clampl(lround(p->capacity_ah * p->soc * 10.0), 0, 4000000) * 1000u;
	r->watts = lround(r->sum_mv / 1000.0 * r->deci_a / 10.0);
	r->chg = p->alarm[0] ? p->alarm[0] : (uint8_t)(p->chg_mos ? 1 : 0);
	r->dsg = p->alarm[1] ? p->alarm[1] : (uint8_t)(p->dsg_mos ? 1 : 0);
}

/* The 2021 board's status answer: its length. */
static size_t ant_status(const struct sim_pack *p, uint8_t *f)
{
	struct ant_raw r;
	ant_quantise(p, &r);
	size_t o = 2 * (size_t)r.ncells + 2 * (size_t)r.nprobes, data = 106 + o;
	memset(f, 0, data + 10);
	f[0] = 0x7E;
	f[1] = 0xA1;
	f[2] = 0x11;
	f[5] = (uint8_t)data;
	f[6] = 0x05;
	f[7] = r.deci_a > 0 ? 2 : r.deci_a < 0 ? 3 : 1;
	f[8] = (uint8_t)r.nprobes;
	f[9] = (uint8_t)r.ncells;
	memcpy(f + 10, p->alarm + 2, 6);
	for (int i = 0; i < r.ncells; i++)
		le16(f + 34 + 2 * i, r.cell_mv[i]);
	for (int i = 0; i < r.nprobes; i++)
		le16(f + 34 + 2 * r.ncells + 2 * i, (unsigned)(p->temp_c[i] & 0xFFFF));
	le16(f + 34 + o, (unsigned)(p->mos_temp_c & 0xFFFF));
	le16(f + 36 + o, (unsigned)((p->mos_temp_c + 1) & 0xFFFF));
	le16(f + 38 + o, (unsigned)((r.sum_mv + 5) / 10));
	le16(f + 40 + o, (unsigned)(-r.deci_a & 0xFFFF));
	le16(f + 42 + o, r.soc);
	le16(f + 44 + o, r.soh);
	f[46 + o] = r.dsg;
	f[47 + o] = r.chg;
	le32(f + 50 + o, r.full_uah);
	le32(f + 54 + o, r.remain_uah);
	le32(f + 58 + o, p->cycles * (r.full_uah / 1000u));
	le32(f + 62 + o, (uint32_t)-r.watts);
	le32(f + 70 + o, (uint32_t)p->balance);
	le16(f + 84 + o, r.ncells ? (unsigned)(r.sum_mv / (unsigned)r.ncells) : 0);
	le16(f + 6 + data, crc16(f + 1, data + 5));
	f[8 + data] = 0xAA;
	f[9 + data] = 0x55;
	return data + 10;
}

/* The device information (0x12): 48 bytes, CRC at 38, AA 55 6 bytes on. */
static void ant_info(uint8_t *f)
{
	static const uint8_t tail[6] = { 0xFF, 0x0B, 0x00, 0x00, 0x41, 0xF2 };
	memset(f, 0, ANT_INFO_LEN);
	f[0] = 0x7E;
	f[1] = 0xA1;
	f[2] = 0x12;
	f[3] = 0x6C;
	f[4] = 0x02;
	f[5] = 0x20;
	memcpy(f + 6, "16ZM", 4);
	memcpy(f + 22, "16ZMUB00-211026A", 16);
	le16(f + 38, crc16(f + 1, 37));
	memcpy(f + 40, tail, sizeof tail);
	f[46] = 0xAA;
	f[47] = 0x55;
}

/* The settings registers 0x0000..0x009F (func 0x02 at a register's
 * address for 2..0x38 bytes; answer 0x12, the address and length, the
 * bytes, CRC, the 6 bytes FF 0B 00 00 41 F2 the real answers carry, AA 55;
 * bms/PROTOCOLS.md §28.7): a 16S LFP pack's levels, unnamed registers
 * 0xFFFF, the cell count the pack's. */
static void ant_settings_image(const struct sim_pack *p, uint8_t *img, size_t n)
{
	static const struct { uint16_t addr, raw; } regs[] = {
		{0x0000, 3650}, {0x0002, 3400}, {0x0004, 3800}, {0x0006, 3700}, {0x0008, 584}, {0x000A, 552},
		{0x000C, 2600}, {0x000E, 2900}, {0x0010, 2500}, {0x0012, 2900}, {0x0014, 416}, {0x0016, 464},
		{0x0018, 500}, {0x001A, 300}, {0x0068, 1000}, {0x006A, 3}, {0x006C, 2000}, {0x006E, 5},
		{0x0074, 600}, {0x0076, 300}, {0x008E, 3400}, {0x0090, 10}, {0x0094, 1000}, {0x009E, 2500},
	};
	memset(img, 0xFF, n);
	for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
		le16(img + regs[i].addr, regs[i].raw);
	le16(img + 0x009A, (unsigned)(p->ncells < ANT_CELLS ? p->ncells : ANT_CELLS));
}

#define ANT_SET_END 0x00A0

static size_t ant_set_frame(const struct sim_pack *p, uint8_t *f, unsigned addr, unsigned len)
{
	static const uint8_t tail[6] = { 0xFF, 0x0B, 0x00, 0x00, 0x41, 0xF2 };
	uint8_t img[ANT_SET_END];
	ant_settings_image(p, img, sizeof img);
	f[0] = 0x7E;
	f[1] = 0xA1;
	f[2] = 0x12;
	le16(f + 3, addr);
	f[5] = (uint8_t)len;
	memcpy(f + 6, img + addr, len);
	le16(f + 6 + len, crc16(f + 1, len + 5));
	memcpy(f + 8 + len, tail, sizeof tail);
	f[14 + len] = 0xAA;
	f[15 + len] = 0x55;
	return len + 16;
}

/* The legacy 140-byte status. */
static void ant_legacy(const struct sim_pack *p, uint8_t *f)
{
	struct ant_raw r;
	ant_quantise(p, &r);
	memset(f, 0, ANT_LEG_LEN);
	f[0] = 0xAA;
	f[1] = 0x55;
	f[2] = 0xAA;
	f[3] = 0xFF;
	be16(f + 4, (unsigned)((r.sum_mv + 50) / 100));
	for (int i = 0; i < r.ncells; i++)
		be16(f + 6 + 2 * i, r.cell_mv[i]);
	be32(f + 70, (uint32_t)-r.deci_a);
	f[74] = (uint8_t)r.soc;
	be32(f + 75, r.full_uah);
	be32(f + 79, r.remain_uah);
	be32(f + 83, p->cycles * (r.full_uah / 1000u));
	for (int i = 0; i < 6; i++)
		be16(f + 91 + 2 * i, (unsigned)((i < r.nprobes ? p->temp_c[i] : ANT_ABSENT) & 0xFFFF));
	f[103] = r.chg;
	f[104] = r.dsg;
	be32(f + 111, (uint32_t)-r.watts);
	f[123] = (uint8_t)r.ncells;
	be32(f + 132, (uint32_t)p->balance);
	unsigned s = 0;
	for (int i = 4; i < ANT_LEG_LEN - 2; i++)
		s += f[i];
	be16(f + ANT_LEG_LEN - 2, s & 0xFFFF);
}

static void ant_view(const struct sim_pack *p, struct sim_view *v)
{
	struct ant_raw r;
	bool legacy = p->dialect == 'L' || p->dialect == 'D';
	ant_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS |
	         SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	if (!legacy)
		v->has |= SIM_HAS_SOH | SIM_HAS_MOS_TEMP;
	v->address = p->address;
	v->voltage = legacy ? (double)((r.sum_mv + 50) / 100) / 10.0 : (double)((r.sum_mv + 5) / 10) / 100.0;
	v->current = r.deci_a / 10.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_uah / 1e6;
	v->capacity_ah = r.full_uah / 1e6;
	v->mos_temp_c = p->mos_temp_c;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.nprobes;
	for (int i = 0; i < r.nprobes; i++)
		v->temp_c[i] = p->temp_c[i];
	v->chg_mos = r.chg == 1;
	v->dsg_mos = r.dsg == 1;
	v->nalarm = 8;
	memcpy(v->alarm, p->alarm, 8);
	v->balance = p->balance & 0xFFFFFFFFu;
}

/* 7E A1 ... AA 55 (10 bytes, CRC of 1..5) or 5A 5A / DB DB / A5 A5 <reg>
 * <hi> <lo> <sum of reg, hi, lo> (6 bytes); anything else up to the next
 * 7E, 5A, DB or A5. */
static enum sim_scan ant_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	uint8_t b = buf[0];
	if (b != 0x7E && b != 0x5A && b != 0xDB && b != 0xA5) {
		size_t i = 1;
		while (i < len && buf[i] != 0x7E && buf[i] != 0x5A && buf[i] != 0xDB && buf[i] != 0xA5)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 2)
		return SIM_SCAN_NEED;
	if ((b == 0x7E && buf[1] != 0xA1) || (b != 0x7E && buf[1] != b)) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (b == 0x7E && len < 6)
		return SIM_SCAN_NEED;
	/* the password 0x23 carries its bytes: <len> of them after the header */
	size_t body = b == 0x7E && buf[2] == 0x23 ? (size_t)buf[5] : 0;
	size_t want = b == 0x7E ? ANT_REQ + body : ANT_LREQ;
	if (len < want)
		return SIM_SCAN_NEED;
	bool ok = b == 0x7E ? crc16(buf + 1, 5 + body) == (uint16_t)(buf[6 + body] | buf[7 + body] << 8) &&
	                      buf[8 + body] == 0xAA && buf[9 + body] == 0x55
	                    : (uint8_t)(buf[2] + buf[3] + buf[4]) == buf[5];
	*n = ok ? want : 1;
	return ok ? SIM_SCAN_FRAME : SIM_SCAN_BAD;
}

static int ant_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per port */
}

static enum sim_resp ant_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t f[300];
	if (n > ANT_REQ && req[0] == 0x7E && req[2] == 0x23 && req[3] == 0x01 && req[4] == 0x6A) {
		(void)sim_pin_try(p, (const char *)req + 6, req[5], NULL);
		return p->pin[0] ? SIM_RESP_NONE : SIM_RESP_BAD; /* never answered */
	}
	if (!sim_pin_open(p, NULL))
		return SIM_RESP_NONE; /* a board with a password answers nothing without it */
	if (n == ANT_LREQ && (req[0] == 0x5A || req[0] == 0xDB) && req[2] == 0x00) {
		if (p->dialect == 'D' && req[0] != 0xDB)
			return SIM_RESP_NONE; /* it knows only DB DB */
		ant_legacy(p, f);
		sim_reply_add(reply, f, ANT_LEG_LEN);
		return SIM_RESP_OK;
	}
	if (n != ANT_REQ || (req[2] != 0x01 && req[2] != 0x02))
		return SIM_RESP_BAD;
	if (p->dialect == 'L' || p->dialect == 'D')
		return SIM_RESP_NONE; /* a 2019 board does not know 7E A1 */
	if (req[2] == 0x01) {
		sim_reply_add(reply, f, ant_status(p, f));
		return SIM_RESP_OK;
	}
	if (req[3] != 0x6C || req[4] != 0x02) {
		unsigned addr = (unsigned)(req[3] | req[4] << 8), len = req[5];
		if ((addr & 1) || len < 2 || len > 0x38 || addr + len > ANT_SET_END)
			return SIM_RESP_BAD;
		if (p->dialect == 'N')
			return SIM_RESP_NONE; /* `nosettings`: firmware that does not know them */
		sim_reply_add(reply, f, ant_set_frame(p, f, addr, len));
		return SIM_RESP_OK;
	}
	ant_info(f);
	sim_reply_add(reply, f, ANT_INFO_LEN);
	return SIM_RESP_OK;
}

/* badsum: a wrong CRC (7E A1) or sum (legacy), the frame's end kept. */
static void ant_corrupt(uint8_t *f, size_t n)
{
	if (n >= 4 && f[0] == 0x7E)
		f[6 + f[5]] ^= 0x01;
	else if (n >= 2)
		f[n - 1] ^= 0x01;
}

const struct sim_proto sim_proto_ant = {
	.name = "ant",
	.default_baud = 19200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per port */
	.max_cells = ANT_CELLS,
	.max_temps = ANT_PROBES,
	.scan = ant_scan,
	.address = ant_address,
	.respond = ant_respond,
	.view = ant_view,
	.corrupt = ant_corrupt,
};
