/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jk.c - JK-Bx 0x4E57 protocol (GPS / UART-TTL port), the BMS side.
 *
 * bms/PROTOCOLS.md §5.  Frames:
 *   4E 57, LEN (bytes after the STX), terminal 00000000, command, source,
 *   type (0 request, 1 reply), data, record 00000000, 68, 00 00, sum16
 * where sum16 = sum of every byte from the STX through the 0x68.
 * The read-all request (command 0x06, or 0x03 with ID 0x00) is answered
 * with the whole list of data IDs in the order of a JK-B2A24S (vector JK-01),
 * protocol version 0xC0 = 1: current = bit 15 charging + magnitude in 10 mA.
 * Writes (command 0x02) of 0xAB / 0xAC set the charge / discharge switch,
 * which read-all reports as 0xAB / 0xAC, the MOSFETs as 0x8C bits 0 / 1.
 * The over-current settings 0x99 (charge) / 0x97 (discharge) carry the
 * pack's `ccl` / `dcl` in whole A (a reader takes 0 A where the switch is
 * off).
 * There is no bus address: the single pack is address 1.
 * With the pack quirk junk=1 the reply carries an ID the protocol document
 * does not list (0xC8, 3 value bytes) in the middle of the list, as a newer
 * firmware might.
 * Encoded here from the pack state; bms/jk.c is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define JK_STX0 0x4E
#define JK_STX1 0x57
#define JK_END 0x68
#define JK_MIN_FRAME 20
#define JK_MAX_REQ 64
#define JK_MAX_CELLS 32 /* the protocol has room for 85; JK-B hardware goes to 24 */
#define JK_TEMPS 2      /* T1 (battery box) and T2 (battery) */

/* Everything that goes on the wire, in wire units. */
struct jk_raw {
	int ncells;
	unsigned cell_mv[JK_MAX_CELLS];
	unsigned volt_cv;      /* 0.01 V */
	long current_ca;       /* 0.01 A, + = charging, |.| <= 32767 */
	unsigned current_raw;  /* bit 15 = charging */
	unsigned soc;          /* % */
	int ntemps;
	int temp_c[JK_TEMPS];  /* -100..100 */
	int mos_temp_c;
	unsigned capacity_ah;  /* 0xAA */
	unsigned warnings;     /* 0x8B */
	unsigned status;       /* 0x8C */
	unsigned chg_ocp, dsg_ocp; /* 0x99 / 0x97, A */
};

static int clampi(long v, long lo, long hi)
{
	return (int)(v < lo ? lo : v > hi ? hi : v);
}

static unsigned jk_temp_raw(int t)
{
	return t >= 0 ? (unsigned)t : (unsigned)(100 - t);
}

static void jk_quantise(const struct sim_pack *p, struct jk_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < JK_MAX_CELLS ? p->ncells : JK_MAX_CELLS;
	unsigned long sum = 0;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampi(sim_pack_cell_mv(p, i), 0, 65535);
		sum += r->cell_mv[i];
	}
	r->volt_cv = (unsigned)clampi((long)((sum + 5) / 10), 0, 65535);
	r->current_ca = clampi(lround(p->current * 100.0), -32767, 32767);
	r->current_raw = r->current_ca > 0 ? 0x8000u | (unsigned)r->current_ca : (unsigned)(-r->current_ca);
	r->soc = (unsigned)clampi(lround(p->soc), 0, 100);
	r->ntemps = p->ntemps < JK_TEMPS ? p->ntemps : JK_TEMPS;
	for (int i = 0; i < JK_TEMPS; i++)
		r->temp_c[i] = clampi(p->temp_c[i], -100, 100);
	r->mos_temp_c = clampi(p->mos_temp_c, -100, 100);
	r->capacity_ah = (unsigned)lround(p->capacity_ah);
	r->chg_ocp = (unsigned)clampi(lround(p->ccl_a), 0, 65535);
	r->dsg_ocp = (unsigned)clampi(lround(p->dcl_a), 0, 65535);
	r->warnings = (unsigned)p->alarm[0] | (unsigned)p->alarm[1] << 8;
	/* a protection holding a MOSFET off: 0x8B b2 charge over-voltage / b3
	 * discharge under-voltage (the per-direction protections of the JK
	 * "4G-GPS Remote Module Common Protocol" warning word) */
	unsigned held = sim_pack_held(p);
	if (held & SIM_FET_CHG)
		r->warnings |= 0x0004;
	if (held & SIM_FET_DSG)
		r->warnings |= 0x0008;
	r->status = (p->chg_mos ? 1u : 0u) | (p->dsg_mos ? 2u : 0u) | (p->balance ? 4u : 0u) | 8u;
}

static void jk_view(const struct sim_pack *p, struct sim_view *v)
{
	struct jk_raw r;
	jk_quantise(p, &r);
	memset(v, 0, sizeof *v);
	/* read-all carries no remaining capacity, SOH or per-cell balancing */
	v->has = SIM_HAS_SOC | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
		 SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	if (r.capacity_ah)
		v->has |= SIM_HAS_CAPACITY; /* 0 = not set: the gateway reports none */
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->capacity_ah = r.capacity_ah;
	v->cycles = p->cycles & 0xFFFF;
	v->mos_temp_c = r.mos_temp_c;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 2;
	v->alarm[0] = (uint8_t)r.warnings;
	v->alarm[1] = (uint8_t)(r.warnings >> 8);
	v->balance = 0;
	/* 0x99 / 0x97 (1..1000 A is a limit); 0 A where 0xAB / 0xAC is off */
	if (r.chg_ocp >= 1 && r.chg_ocp <= 1000 && r.dsg_ocp >= 1 && r.dsg_ocp <= 1000) {
		v->has |= SIM_HAS_CUR_LIMITS;
		v->ccl_a = p->chg_set ? r.chg_ocp : 0;
		v->dcl_a = p->dsg_set ? r.dsg_ocp : 0;
	}
}

static unsigned jk_sum(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return s & 0xFFFF;
}

static enum sim_scan jk_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != JK_STX0) {
		size_t i = 1;
		while (i < len && buf[i] != JK_STX0)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 4)
		return SIM_SCAN_NEED;
	size_t total = ((size_t)buf[2] << 8 | buf[3]) + 2;
	if (buf[1] != JK_STX1 || total < JK_MIN_FRAME || total > JK_MAX_REQ) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	if (len < total)
		return SIM_SCAN_NEED;
	if (buf[total - 5] != JK_END || jk_sum(buf, total - 4) != ((unsigned)buf[total - 2] << 8 | buf[total - 1])) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = total;
	return SIM_SCAN_FRAME;
}

static int jk_address(const uint8_t *req, size_t n)
{
	(void)req;
	return n >= JK_MIN_FRAME ? 1 : -1; /* point to point: the one pack */
}

/* Frame under construction. */
struct jk_out {
	size_t len;
	uint8_t b[512];
};

static void put8(struct jk_out *o, unsigned v)
{
	if (o->len < sizeof o->b)
		o->b[o->len++] = (uint8_t)v;
}

static void put16(struct jk_out *o, unsigned v)
{
	put8(o, v >> 8);
	put8(o, v);
}

static void put32(struct jk_out *o, unsigned long v)
{
	put16(o, (unsigned)(v >> 16) & 0xFFFF);
	put16(o, (unsigned)v & 0xFFFF);
}

static void id16(struct jk_out *o, unsigned id, unsigned v)
{
	put8(o, id);
	put16(o, v & 0xFFFF);
}

static void id8(struct jk_out *o, unsigned id, unsigned v)
{
	put8(o, id);
	put8(o, v);
}

static void idtext(struct jk_out *o, unsigned id, const char *s, size_t n)
{
	put8(o, id);
	size_t l = strlen(s);
	for (size_t i = 0; i < n; i++)
		put8(o, i < l ? (unsigned char)s[i] : 0);
}

static void jk_begin(struct jk_out *o, unsigned cmd)
{
	o->len = 0;
	put8(o, JK_STX0);
	put8(o, JK_STX1);
	put16(o, 0); /* length, set by jk_end() */
	put32(o, 0); /* terminal number */
	put8(o, cmd);
	put8(o, 0);  /* source: BMS */
	put8(o, 1);  /* reply */
}

static void jk_end(struct jk_out *o, struct sim_reply *reply)
{
	put32(o, 0); /* record number */
	put8(o, JK_END);
	put16(o, 0); /* reserved CRC */
	size_t total = o->len + 2;
	o->b[2] = (uint8_t)((total - 2) >> 8);
	o->b[3] = (uint8_t)(total - 2);
	put16(o, jk_sum(o->b, o->len - 2));
	sim_reply_add(reply, o->b, o->len);
}

static void jk_read_all(const struct sim_pack *p, unsigned cmd, struct sim_reply *reply)
{
	struct jk_raw r;
	struct jk_out o;
	jk_quantise(p, &r);
	jk_begin(&o, cmd);
	put8(&o, 0x79);
	put8(&o, (unsigned)(3 * r.ncells));
	for (int i = 0; i < r.ncells; i++) {
		put8(&o, (unsigned)(i + 1));
		put16(&o, r.cell_mv[i]);
	}
	id16(&o, 0x80, jk_temp_raw(r.mos_temp_c));
	id16(&o, 0x81, jk_temp_raw(r.temp_c[0]));
	id16(&o, 0x82, jk_temp_raw(r.temp_c[1]));
	id16(&o, 0x83, r.volt_cv);
	id16(&o, 0x84, r.current_raw);
	id8(&o, 0x85, r.soc);
	id8(&o, 0x86, (unsigned)r.ntemps);
	id16(&o, 0x87, p->cycles & 0xFFFF);
	put8(&o, 0x89);
	put32(&o, (unsigned long)p->cycles * r.capacity_ah); /* total cycle capacity, Ah */
	id16(&o, 0x8A, (unsigned)r.ncells);
	id16(&o, 0x8B, r.warnings);
	id16(&o, 0x8C, r.status);
	if (p->junk) {
		put8(&o, 0xC8); /* not in the protocol document */
		put8(&o, 0x01);
		put8(&o, 0x8B); /* bytes that look like known IDs */
		put8(&o, 0x84);
	}
	/* protection settings: the values of vector JK-01 */
	static const struct {
		uint8_t id;
		uint16_t v;
	} set16[] = {
		{ 0x8E, 0x1626 }, { 0x8F, 0x10AE }, { 0x90, 0x0FD2 }, { 0x91, 0x0FA0 }, { 0x92, 5 },
		{ 0x93, 0x0BEA }, { 0x94, 0x0C1C }, { 0x95, 5 }, { 0x96, 300 }, { 0x97, 0 },
		{ 0x98, 3 }, { 0x99, 0 }, { 0x9A, 5 }, { 0x9B, 0x0CE4 }, { 0x9C, 8 },
	};
	for (size_t i = 0; i < sizeof set16 / sizeof set16[0]; i++) {
		/* the over-current settings (A) are the pack's `dcl` / `ccl` */
		unsigned v = set16[i].id == 0x97 ? r.dsg_ocp : set16[i].id == 0x99 ? r.chg_ocp : set16[i].v;
		id16(&o, set16[i].id, v);
	}
	id8(&o, 0x9D, 1);
	static const uint16_t temps[] = { 90, 70, 100, 100, 20, 70, 70, 0xFFEC, 0xFFF6, 0xFFEC, 0xFFF6 };
	for (unsigned i = 0; i < sizeof temps / sizeof temps[0]; i++)
		id16(&o, 0x9E + i, temps[i]);
	id8(&o, 0xA9, (unsigned)r.ncells);
	put8(&o, 0xAA);
	put32(&o, r.capacity_ah);
	id8(&o, 0xAB, p->chg_set ? 1 : 0); /* the switch settings; 0x8C bits the MOSFETs */
	id8(&o, 0xAC, p->dsg_set ? 1 : 0);
	id16(&o, 0xAD, 0x0411);
	id8(&o, 0xAE, 1);
	id8(&o, 0xAF, 0); /* LFP */
	id16(&o, 0xB0, 10);
	id8(&o, 0xB1, 20);
	idtext(&o, 0xB2, "123456", 10);
	id8(&o, 0xB3, 0);
	idtext(&o, 0xB4, "bmsgwsim", 8);
	idtext(&o, 0xB5, "2401", 4);
	put8(&o, 0xB6);
	put32(&o, p->life); /* working time, minutes */
	idtext(&o, 0xB7, "11.XW_S11.26___", 15);
	id8(&o, 0xB8, 0);
	put8(&o, 0xB9);
	put32(&o, 0);
	idtext(&o, 0xBA, "bmsgw-sim JK-B2A24S", 24);
	id8(&o, 0xC0, 1); /* new current encoding */
	jk_end(&o, reply);
}

/* Command 0x02, 22 bytes: `4E 57 00 14 00 00 00 00 02 SRC TYPE ID VAL
 * 00 00 00 00 68 00 00 <sum16>`, ID 0xAB charge / 0xAC discharge, VAL 1 on /
 * 0 off.  The three variants reported working: SRC 02 TYPE 00 (ESPHome
 * jk_modbus, syssi/esphome-jk-bms PR #343), SRC 03 TYPE 00
 * (syssi/esphome-jk-bms#404), SRC 03 TYPE 02 (diysolarforum thread 66034);
 * anything else is not a known write (no answer, counted as bad).
 * The BMS's answer has never been captured: this one (command 0x02, source
 * 0 = BMS, type 1 = reply, then the ID and the switch's value after the
 * write; the value as it was when refused, as no refusal is known either)
 * is a guess after ESPHome's parser, and a gateway must not rely on it: it
 * decides by reading 0xAB / 0xAC and 0x8C back. */
static enum sim_resp jk_write(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t zero4[4];
	if (n != 22 || memcmp(req + 4, zero4, 4) != 0 || memcmp(req + 13, zero4, 4) != 0 ||
	    req[18] != 0 || req[19] != 0)
		return SIM_RESP_BAD;
	if (!((req[9] == 0x02 && req[10] == 0x00) || (req[9] == 0x03 && (req[10] == 0x00 || req[10] == 0x02))))
		return SIM_RESP_BAD;
	if ((req[11] != 0xAB && req[11] != 0xAC) || req[12] > 1)
		return SIM_RESP_BAD;
	int on = req[12];
	enum sim_wr w = sim_pack_write(p, req[11] == 0xAB ? on : -1, req[11] == 0xAC ? on : -1);
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	struct jk_out o;
	jk_begin(&o, 0x02);
	id8(&o, req[11], (uint8_t)(req[11] == 0xAB ? p->chg_set : p->dsg_set));
	jk_end(&o, reply);
	return SIM_RESP_OK;
}

static enum sim_resp jk_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                struct sim_reply *reply)
{
	if (n < JK_MIN_FRAME)
		return SIM_RESP_BAD;
	unsigned cmd = req[8];
	if (cmd == 0x02)
		return jk_write(p, req, n, reply);
	if (req[10] != 0)
		return SIM_RESP_BAD; /* not a request */
	size_t data_len = n - 9 - 11;
	struct jk_out o;
	switch (cmd) {
	case 0x06: /* read all */
		jk_read_all(p, cmd, reply);
		return SIM_RESP_OK;
	case 0x03: /* read one ID; 0 = all */
		if (data_len < 1 || req[11] != 0)
			return SIM_RESP_BAD;
		jk_read_all(p, cmd, reply);
		return SIM_RESP_OK;
	case 0x01: /* activate */
	case 0x05: /* password: taken, never required (ESPHome jk_modbus sends it
	            * before a write; #404's writes work without it) */
		jk_begin(&o, cmd);
		jk_end(&o, reply);
		return SIM_RESP_OK;
	default:
		return SIM_RESP_BAD;
	}
}

static int jk_is_write(const uint8_t *req, size_t n)
{
	return n >= JK_MIN_FRAME && req[8] == 0x02;
}

static void jk_corrupt(uint8_t *frame, size_t n)
{
	if (n)
		frame[n - 1] ^= 0x01; /* the low byte of sum16 */
}

const struct sim_proto sim_proto_jk = {
	.name = "jk",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1,
	.max_cells = JK_MAX_CELLS,
	.max_temps = JK_TEMPS,
	.scan = jk_scan,
	.address = jk_address,
	.respond = jk_respond,
	.view = jk_view,
	.corrupt = jk_corrupt,
	.is_write = jk_is_write,
};
