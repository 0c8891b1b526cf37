/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_chins.c - the E&J BMS over Bluetooth LE (Chins, Lithtech,
 * Supervolt), the BMS side of the Nordic UART link as a fake BlueZ bridges
 * it to a TCP port (writes to 6e400002 in, notifications of 6e400003 out).
 *
 * bms/PROTOCOLS.md §37.  Frames are ASCII ':' hex '~': addr, cmd (| 0x80
 * in an answer), version, length (the frame's characters), data, checksum
 * (the sum of the characters between ':' and it, XOR 0xFF).  Answered:
 *	RT  :000250000E03~ -> 128 characters: header, 7 bytes (0), 16 cells
 *	    (mV), charge / discharge current (u16 0.01 A each), 4 temperatures
 *	    + 40 (sensor 1, then 0 degC: slots no reader takes), the working
 *	    state (b0 charging, b1 discharging, b2-b11 = alarm bytes 0-1 &
 *	    0x0FFC, b12 discharge / b13 charge MOSFET, b14 / b15 their
 *	    switches), 0, balancing (cells 1-16), cycles, 0, SOC %; with the
 *	    pack option dialect=sf the single-frame variant: 140 characters,
 *	    then remaining, full and design capacity (u16 0.1 Ah)
 *	CAP :001031000E05~ -> 30 characters: 0, remaining, full, design
 *	    capacity (u16 0.1 Ah)
 * With junk=1 the module's "AT\r\n" comes before the answer and inside it
 * (after its 40th character).  Anything else is a bad request.  One BMS
 * per connection.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CH_CELLS 16
#define CH_MAX 160

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static unsigned ch_sum(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return s;
}

struct ch_raw {
	int ncells;
	unsigned cell_mv[CH_CELLS];
	unsigned long volt_mv;
	unsigned chg_ca, dsg_ca; /* 0.01 A */
	unsigned soc, full_dah, remain_dah; /* 0.1 Ah */
	unsigned state;
};

static void ch_quantise(const struct sim_pack *p, struct ch_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < CH_CELLS ? p->ncells : CH_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->volt_mv += r->cell_mv[i];
	}
	long ca = clampl(lround(p->current * 100.0), -65535, 65535);
	r->chg_ca = ca > 0 ? (unsigned)ca : 0;
	r->dsg_ca = ca < 0 ? (unsigned)-ca : 0;
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->full_dah = (unsigned)clampl(lround(p->capacity_ah * 10.0), 0, 65535);
	r->remain_dah = (unsigned)clampl(lround(r->full_dah * p->soc / 100.0), 0, 65535);
	r->state = ((unsigned)p->alarm[0] << 8 | p->alarm[1]) & 0x0FFCu;
	r->state |= (ca > 0 ? 0x0001u : 0) | (ca < 0 ? 0x0002u : 0) | (p->dsg_mos ? 0x1000u : 0) |
		    (p->chg_mos ? 0x2000u : 0) | (p->dsg_set ? 0x4000u : 0) | (p->chg_set ? 0x8000u : 0);
}

/* ':' + the data bytes as hex (the length field filled in) + checksum + '~'
 * into out; its length. */
static size_t ch_frame(const uint8_t *d, size_t n, uint8_t *out)
{
	char *s = (char *)out;
	size_t total = 1 + 2 * n + 2 + 1;
	s[0] = ':';
	for (size_t i = 0; i < n; i++) {
		uint8_t b = d[i];
		if (i == 3)
			b = (uint8_t)(total >> 8);
		if (i == 4)
			b = (uint8_t)total;
		snprintf(s + 1 + 2 * i, 3, "%02X", b);
	}
	unsigned sum = ch_sum(out + 1, 2 * n);
	snprintf(s + 1 + 2 * n, 4, "%02X~", (sum & 0xFF) ^ 0xFF);
	return total;
}

static void be16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* RT's bytes (63, or 69 for the single-frame variant); their number. */
static size_t ch_rt(const struct sim_pack *p, uint8_t *d)
{
	struct ch_raw r;
	ch_quantise(p, &r);
	size_t n = p->dialect == 'S' ? 68 : 62;
	memset(d, 0, n);
	d[1] = 0x82;
	d[2] = 0x31;
	for (int i = 0; i < r.ncells; i++)
		be16(d + 12 + 2 * i, r.cell_mv[i]);
	be16(d + 44, r.chg_ca);
	be16(d + 46, r.dsg_ca);
	d[48] = (uint8_t)clampl(p->temp_c[0] + 40, 0, 255);
	d[49] = d[50] = d[51] = 40;
	be16(d + 52, r.state);
	be16(d + 55, (unsigned)(p->balance & 0xFFFF));
	be16(d + 57, p->cycles & 0xFFFF);
	d[61] = (uint8_t)r.soc;
	if (p->dialect == 'S') {
		be16(d + 62, r.remain_dah);
		be16(d + 64, r.full_dah);
		be16(d + 66, r.full_dah);
	}
	return n;
}

static size_t ch_cap(const struct sim_pack *p, uint8_t *d)
{
	struct ch_raw r;
	ch_quantise(p, &r);
	memset(d, 0, 13);
	d[1] = 0x90;
	d[2] = 0x31;
	be16(d + 7, r.remain_dah);
	be16(d + 9, r.full_dah);
	be16(d + 11, r.full_dah);
	return 13;
}

static void ch_view(const struct sim_pack *p, struct sim_view *v)
{
	struct ch_raw r;
	ch_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
	         SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = ((double)r.chg_ca - (double)r.dsg_ca) / 100.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_dah / 10.0;
	v->capacity_ah = r.full_dah / 10.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = 1;
	v->temp_c[0] = p->temp_c[0];
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->balance = p->balance & 0xFFFF;
	v->nalarm = 2; /* the working state's word, as on the wire */
	v->alarm[0] = (uint8_t)(r.state >> 8);
	v->alarm[1] = (uint8_t)r.state;
}

static int hexv(uint8_t c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10
															 : -1;
}

/* ':' hex... '~' with a right checksum: a request. */
static enum sim_scan ch_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != ':') {
		size_t i = 1;
		while (i < len && buf[i] != ':')
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	size_t i = 1;
	while (i < len && i < CH_MAX && hexv(buf[i]) >= 0)
		i++;
	if (i >= len)
		return SIM_SCAN_NEED;
	if (buf[i] != '~' || i < 13 || (i & 1) == 0) {
		*n = i;
		return SIM_SCAN_BAD;
	}
	unsigned want = (unsigned)(hexv(buf[i - 2]) << 4 | hexv(buf[i - 1]));
	if (((ch_sum(buf + 1, i - 3) & 0xFF) ^ 0xFF) != want) {
		*n = i + 1;
		return SIM_SCAN_BAD;
	}
	*n = i + 1;
	return SIM_SCAN_FRAME;
}

static int ch_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp ch_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t d[80], f[CH_MAX];
	size_t nd;
	if (n == 14 && memcmp(req, ":000250000E03~", 14) == 0)
		nd = ch_rt(p, d);
	else if (n == 14 && memcmp(req, ":001031000E05~", 14) == 0)
		nd = ch_cap(p, d);
	else
		return SIM_RESP_BAD;
	size_t len = ch_frame(d, nd, f);
	if (p->junk && len > 40) {
		sim_reply_add(reply, (const uint8_t *)"AT\r\n", 4);
		sim_reply_add(reply, f, 40);
		sim_reply_add(reply, (const uint8_t *)"AT\r\n", 4);
		sim_reply_add(reply, f + 40, len - 40);
	} else {
		sim_reply_add(reply, f, len);
	}
	return SIM_RESP_OK;
}

/* badsum: the checksum's last digit changed (a frame's end part only;
 * "AT\r\n" stays). */
static void ch_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 3 && frame[n - 1] == '~')
		frame[n - 2] = frame[n - 2] == '0' ? '1' : '0';
}

const struct sim_proto sim_proto_chins = {
	.name = "chins",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = CH_CELLS,
	.max_temps = 1,
	.scan = ch_scan,
	.address = ch_address,
	.respond = ch_respond,
	.view = ch_view,
	.corrupt = ch_corrupt,
};
