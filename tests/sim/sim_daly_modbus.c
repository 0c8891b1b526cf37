/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_daly_modbus.c - Daly H/K/M/S "new" protocol, the BMS side.
 *
 * bms/PROTOCOLS.md §3.  Modbus RTU framing with Daly's addresses: requests go
 * to 0x80 + board (1..16), answers come from 0x50 + board; CRC-16/MODBUS, low
 * byte first.  FC 03 reads any registers of 0x000..0x1FF (p81 map, §3.2),
 * FC 06 writes 0x121 / 0x122 (charge / discharge MOSFET switch settings,
 * 1 on / 0 off; other values get exception 03); other registers get
 * exception 02.  The settings read back at 0x121 / 0x122, the MOSFETs
 * themselves at 0x52 / 0x53, and 0x73 b8 / b9 say "charge / discharge MOS
 * off by bus" while a setting is 0.  Encoded here from the pack state; bms/
 * is deliberately not used.
 *
 * Wire view: cells mV, pack voltage 0.1 V (sum of the cells), current
 * 30000 + 0.1 A (+ = charging), SOC 0.1 %, remaining 0.1 Ah, temperatures
 * +40 (1..8 sensors; 0xFF = none, so 214 degC is the top), MOS temperature
 * at 0x5A, alarm bytes 0..7 = registers 0x6D..0x70 (high byte first).
 * 0x3B carries the SOH, which the gateway does not read as such (§3.2 says
 * UNCERTAIN), so the view has none.
 *
 * A pack with `dialect=d2` is the BLE side of a Daly that speaks the D2
 * dialect (§14.2): it answers only requests to 0xD2 (which reach the pack
 * at address 1: over BLE there is one BMS per connection), from 0xD2, with
 * the D2 map: cells 0x00..0x1F, temperatures 0x20..0x27, V 0x28, I 0x29,
 * SOC 0x2A, state 0x2F, remaining 0x30, counts 0x31 / 0x32, cycles 0x33,
 * MOSFETs 0x35 / 0x36, alarm words 0x3A..0x3D (alarm bytes 0..7 = the
 * legacy 0x98 bytes D0..D7, two per register, low byte first: 0x3A = D1 <<
 * 8 | D0), balancing 0x3E / 0x3F, MOS temperature 0x42; settings 0x80
 * (rated capacity, 0.1 Ah), the protections 0x8B..0xA4 (DALYN-08's,
 * d2_settings), the MOSFET switches 0xA5 / 0xA6, written
 * with `D2 06 00 A5|A6 00 00|01 CRC` and acknowledged by the echo (a
 * refusal: D2 86 04), the SOC set 0xA7 and the balancer switch 0xCF; the
 * settings are written with FC 06 too (d2_set_write()), and a write
 * changes what the next read shows.  A protection holding a MOSFET off sets D4 b0 / b1
 * (MOS temperature high).  The default (`dialect=81`) answers only the
 * 0x81.. requests, on a wire and over BLE alike (the ESS DL units).  The
 * view of a D2 pack is what a gateway reading 0x00..0x3D gets: no MOS
 * temperature, no balancing.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define DM_NREGS 0x200
#define DM_MAX_BOARD 16
#define DM_REQ_LEN 8
#define DM_CELLS 48
#define DM_TEMPS 8

struct dm_raw {
	int ncells;
	unsigned cell_mv[DM_CELLS];
	unsigned volt_dv;
	long current_da;        /* 0.1 A, + = charging, as on the wire */
	unsigned soc_pm;
	unsigned remain_dah;    /* 0.1 Ah */
	int ntemps;
	unsigned temp_raw[DM_TEMPS]; /* degC + 40 */
	unsigned mos_raw;
	uint64_t balance;
	uint8_t alarm[8];       /* registers 0x6D..0x70, high byte first */
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void dm_quantise(const struct sim_pack *p, struct dm_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < DM_CELLS ? p->ncells : DM_CELLS;
	unsigned long sum = 0;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 0, 65535);
		sum += r->cell_mv[i];
	}
	r->volt_dv = (unsigned)clampl((long)((sum + 50) / 100), 0, 65535);
	r->current_da = clampl(lround(p->current * 10.0), -30000, 65535 - 30000);
	r->soc_pm = (unsigned)clampl(lround(p->soc * 10.0), 0, 1000);
	r->remain_dah = (unsigned)clampl(lround(p->capacity_ah * 10.0 * r->soc_pm / 1000.0), 0, 65535);
	r->ntemps = p->ntemps < DM_TEMPS ? p->ntemps : DM_TEMPS;
	for (int i = 0; i < r->ntemps; i++)
		r->temp_raw[i] = (unsigned)clampl(p->temp_c[i] + 40, 0, 254);
	r->mos_raw = (unsigned)clampl(p->mos_temp_c + 40, 0, 254);
	r->balance = r->ncells >= 64 ? p->balance : p->balance & ((1ull << r->ncells) - 1);
	/* a protection holding a MOSFET off: 0x6E b6 "charge MOS temperature
	 * high" / b14 "discharge MOS temperature high" (patagonaa/esphome-daly-
	 * hkms-bms DalyHkmsStatus; bit placement not confirmed by a capture) */
	memcpy(r->alarm, p->alarm, 8);
	unsigned held = sim_pack_held(p);
	if (held & SIM_FET_CHG)
		r->alarm[3] |= 0x40;
	if (held & SIM_FET_DSG)
		r->alarm[2] |= 0x40;
}

#define D2_ADDR 0xD2
#define D2_CELLS 32

/* The D2 alarm bytes: D0..D7 of the legacy 0x98 answer; a protection
 * holding a MOSFET off: D4 b0 (charge MOS temperature high) / b1. */
static void d2_alarm(const struct sim_pack *p, uint8_t *a)
{
	memcpy(a, p->alarm, 8);
	unsigned held = sim_pack_held(p);
	if (held & SIM_FET_CHG)
		a[4] |= 0x01;
	if (held & SIM_FET_DSG)
		a[4] |= 0x02;
}

static void dm_view(const struct sim_pack *p, struct sim_view *v)
{
	struct dm_raw r;
	dm_quantise(p, &r);
	memset(v, 0, sizeof *v);
	if (p->dialect == D2_ADDR) {
		v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
			 SIM_HAS_TEMPS | SIM_HAS_ALARMS;
		v->address = p->address;
		v->voltage = r.volt_dv / 10.0;
		v->current = r.current_da / 10.0;
		v->soc = r.soc_pm / 10.0;
		v->remaining_ah = r.remain_dah / 10.0;
		v->capacity_ah = p->capacity_ah;
		v->cycles = p->cycles & 0xFFFF;
		v->ncells = r.ncells < D2_CELLS ? r.ncells : D2_CELLS;
		for (int i = 0; i < v->ncells; i++)
			v->cell_mv[i] = (int)r.cell_mv[i];
		v->ntemps = r.ntemps;
		for (int i = 0; i < r.ntemps; i++)
			v->temp_c[i] = (int)r.temp_raw[i] - 40;
		v->chg_mos = p->chg_mos ? 1 : 0;
		v->dsg_mos = p->dsg_mos ? 1 : 0;
		v->nalarm = 8;
		d2_alarm(p, v->alarm);
		return;
	}
	/* what a gateway reading 0x00..0x3F and 0x41..0x7E gets: no SOH, no
	 * full capacity */
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP | SIM_HAS_MOSFETS |
		 SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_dv / 10.0;
	v->current = r.current_da / 10.0;
	v->soc = r.soc_pm / 10.0;
	v->remaining_ah = r.remain_dah / 10.0;
	v->capacity_ah = p->capacity_ah;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = (int)r.temp_raw[i] - 40;
	v->mos_temp_c = (int)r.mos_raw - 40;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 8;
	memcpy(v->alarm, r.alarm, 8);
	v->balance = r.balance;
}

/* The register image 0x000..0x1FF. */
static void dm_image(const struct sim_pack *p, uint16_t *reg)
{
	struct dm_raw r;
	dm_quantise(p, &r);
	memset(reg, 0, DM_NREGS * sizeof reg[0]);
	for (int i = 0; i < DM_CELLS; i++)
		reg[i] = (uint16_t)(i < r.ncells ? r.cell_mv[i] : p->junk ? 3270 + sim_rand() % 20u : 0);
	for (int i = 0; i < DM_TEMPS; i++)
		reg[0x30 + i] = (uint16_t)(i < r.ntemps ? r.temp_raw[i] : 0xFF);
	reg[0x38] = (uint16_t)r.volt_dv;
	reg[0x39] = (uint16_t)(30000 + r.current_da);
	reg[0x3A] = (uint16_t)r.soc_pm;
	reg[0x3B] = (uint16_t)clampl(lround(p->soh), 0, 100);
	reg[0x3C] = (uint16_t)r.ncells;
	reg[0x3D] = (uint16_t)r.ntemps;
	int imax = 0, imin = 0;
	for (int i = 1; i < r.ncells; i++) {
		if (r.cell_mv[i] > r.cell_mv[imax])
			imax = i;
		if (r.cell_mv[i] < r.cell_mv[imin])
			imin = i;
	}
	if (r.ncells) {
		reg[0x3E] = (uint16_t)r.cell_mv[imax];
		reg[0x3F] = (uint16_t)(imax + 1);
		reg[0x40] = (uint16_t)r.cell_mv[imin];
		reg[0x41] = (uint16_t)(imin + 1);
		reg[0x42] = (uint16_t)(r.cell_mv[imax] - r.cell_mv[imin]);
	}
	int tmax = 0, tmin = 0;
	for (int i = 1; i < r.ntemps; i++) {
		if (r.temp_raw[i] > r.temp_raw[tmax])
			tmax = i;
		if (r.temp_raw[i] < r.temp_raw[tmin])
			tmin = i;
	}
	reg[0x43] = (uint16_t)(r.ntemps ? r.temp_raw[tmax] : 0xFF);
	reg[0x44] = (uint16_t)(r.ntemps ? tmax + 1 : 0);
	reg[0x45] = (uint16_t)(r.ntemps ? r.temp_raw[tmin] : 0xFF);
	reg[0x46] = (uint16_t)(r.ntemps ? tmin + 1 : 0);
	reg[0x47] = (uint16_t)(r.ntemps ? r.temp_raw[tmax] - r.temp_raw[tmin] : 0);
	reg[0x48] = (uint16_t)(r.current_da > 0 ? 1 : r.current_da < 0 ? 2 : 0);
	reg[0x4B] = (uint16_t)r.remain_dah;
	reg[0x4C] = (uint16_t)(p->cycles & 0xFFFF);
	reg[0x4D] = r.balance ? 1 : 0;
	reg[0x4E] = 30000;
	reg[0x4F] = (uint16_t)r.balance;
	reg[0x50] = (uint16_t)(r.balance >> 16);
	reg[0x51] = (uint16_t)(r.balance >> 32);
	reg[0x52] = p->chg_mos ? 1 : 0;
	reg[0x53] = p->dsg_mos ? 1 : 0;
	reg[0x58] = (uint16_t)clampl(lround(fabs(r.volt_dv / 10.0 * r.current_da / 10.0)), 0, 65535);
	reg[0x5A] = (uint16_t)r.mos_raw;
	reg[0x5B] = 0xFF;
	reg[0x5C] = 0xFF;
	for (int i = 0; i < 4; i++)
		reg[0x6D + i] = (uint16_t)(r.alarm[2 * i] << 8 | r.alarm[2 * i + 1]);
	reg[0x71] = p->junk ? (uint16_t)sim_rand() : 0;
	reg[0x73] = (uint16_t)((p->chg_set ? 0 : 1u << 8) | (p->dsg_set ? 0 : 1u << 9)); /* off by bus */
	reg[0x100] = (uint16_t)p->address;
	reg[0x115] = 360;
	reg[0x121] = p->chg_set ? 1 : 0; /* the switch settings; 0x52/0x53 the MOSFETs */
	reg[0x122] = p->dsg_set ? 1 : 0;
}

/* The D2 register image 0x00..0xFF (§14.2). */

/* The D2 settings an LFP pack holds at first (DALYN-08's, the pack
 * voltages for its cells): the rated capacity 0x80 (0.1 Ah), warning /
 * critical pairs 0x8B..0xA2, balancing 0xA3 / 0xA4, the cells of
 * acquisition board 1 (bms/PROTOCOLS.md §14.2), the balancer switch 0xCF
 * on.  They are the pack's state from then on: a write changes them
 * (d2_set_write()), the next read shows it. */
#define D2_SET0 0x80
#define D2REG(p, r) ((p)->d2set[(r) - D2_SET0])
static void d2_settings(struct sim_pack *p)
{
	static const uint16_t pairs[][2] = {
		{ 0x8B, 3500 }, { 0x8D, 2600 }, { 0x97, 85 }, { 0x99, 40 }, { 0x9B, 110 }, { 0x9D, 39 },
		{ 0x9F, 255 }, { 0xA1, 255 },
	};
	if (p->d2set_ready)
		return;
	p->d2set_ready = 1;
	int n = p->ncells < D2_CELLS ? p->ncells : D2_CELLS;
	memset(p->d2set, 0, sizeof(p->d2set));
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		D2REG(p, pairs[i][0]) = D2REG(p, pairs[i][0] + 1) = pairs[i][1];
	D2REG(p, 0x80) = (uint16_t)clampl(lround(p->capacity_ah * 10.0), 0, 65535);
	D2REG(p, 0x82) = 1;
	D2REG(p, 0x83) = (uint16_t)n;
	D2REG(p, 0x8F) = D2REG(p, 0x90) = (uint16_t)(35 * n); /* 3.5 V a cell, 0.1 V */
	D2REG(p, 0x91) = D2REG(p, 0x92) = (uint16_t)(26 * n);
	D2REG(p, 0x93) = D2REG(p, 0x94) = 29900;
	D2REG(p, 0x95) = 29840;
	D2REG(p, 0x96) = 30160;
	D2REG(p, 0xA3) = 3200;
	D2REG(p, 0xA4) = 20;
	D2REG(p, 0xCF) = 1;
}

static void d2_image(const struct sim_pack *p, uint16_t *reg)
{
	struct dm_raw r;
	dm_quantise(p, &r);
	memset(reg, 0, DM_NREGS * sizeof reg[0]);
	int n = r.ncells < D2_CELLS ? r.ncells : D2_CELLS;
	for (int i = 0; i < D2_CELLS; i++)
		reg[i] = (uint16_t)(i < n ? r.cell_mv[i] : 0);
	for (int i = 0; i < DM_TEMPS; i++)
		reg[0x20 + i] = (uint16_t)(i < r.ntemps ? r.temp_raw[i] : 0);
	unsigned long sum = 0;
	int imax = 0, imin = 0;
	for (int i = 0; i < n; i++) {
		sum += r.cell_mv[i];
		if (r.cell_mv[i] > r.cell_mv[imax])
			imax = i;
		if (r.cell_mv[i] < r.cell_mv[imin])
			imin = i;
	}
	reg[0x28] = (uint16_t)r.volt_dv;
	reg[0x29] = (uint16_t)(30000 + r.current_da);
	reg[0x2A] = (uint16_t)r.soc_pm;
	reg[0x2B] = (uint16_t)(n ? r.cell_mv[imax] : 0);
	reg[0x2C] = (uint16_t)(n ? r.cell_mv[imin] : 0);
	reg[0x2F] = (uint16_t)(r.current_da > 0 ? 1 : r.current_da < 0 ? 2 : 0);
	reg[0x30] = (uint16_t)r.remain_dah;
	reg[0x31] = (uint16_t)n;
	reg[0x32] = (uint16_t)r.ntemps;
	reg[0x33] = (uint16_t)(p->cycles & 0xFFFF);
	reg[0x34] = r.balance ? 1 : 0;
	reg[0x35] = p->chg_mos ? 1 : 0;
	reg[0x36] = p->dsg_mos ? 1 : 0;
	reg[0x37] = (uint16_t)(n ? sum / (unsigned long)n : 0);
	reg[0x38] = (uint16_t)(n ? r.cell_mv[imax] - r.cell_mv[imin] : 0);
	reg[0x39] = (uint16_t)clampl(lround(fabs(r.volt_dv / 10.0 * r.current_da / 10.0)), 0, 65535);
	uint8_t a[8];
	d2_alarm(p, a);
	for (int i = 0; i < 4; i++)
		reg[0x3A + i] = (uint16_t)(a[2 * i + 1] << 8 | a[2 * i]);
	reg[0x3E] = (uint16_t)r.balance;
	reg[0x3F] = (uint16_t)(r.balance >> 16);
	reg[0x40] = 30000;
	reg[0x42] = (uint16_t)r.mos_raw;
	if (p->d2set_ready)
		memcpy(reg + D2_SET0, p->d2set, sizeof(p->d2set));
	reg[0xA5] = p->chg_set ? 1 : 0; /* the switch settings; 0x35 / 0x36 the MOSFETs */
	reg[0xA6] = p->dsg_set ? 1 : 0;
	reg[0xA7] = (uint16_t)r.soc_pm; /* the SOC set: reads as the SOC (not captured) */
}

static uint16_t dm_crc(const uint8_t *b, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

static size_t dm_put_crc(uint8_t *f, size_t n)
{
	uint16_t c = dm_crc(f, n);
	f[n] = (uint8_t)c;
	f[n + 1] = (uint8_t)(c >> 8);
	return n + 2;
}

static int dm_is_request_addr(uint8_t a)
{
	return (a > 0x80 && a <= 0x80 + DM_MAX_BOARD) || a == D2_ADDR;
}

static enum sim_scan dm_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (!dm_is_request_addr(buf[0])) {
		size_t i = 1;
		while (i < len && !dm_is_request_addr(buf[i]))
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < DM_REQ_LEN)
		return SIM_SCAN_NEED;
	uint16_t c = dm_crc(buf, 6);
	if ((buf[1] != 0x03 && buf[1] != 0x06) || buf[6] != (uint8_t)c || buf[7] != (uint8_t)(c >> 8)) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = DM_REQ_LEN;
	return SIM_SCAN_FRAME;
}

static int dm_address(const uint8_t *req, size_t n)
{
	if (n < DM_REQ_LEN || !dm_is_request_addr(req[0]))
		return -1;
	if (req[0] == D2_ADDR)
		return 1; /* D2 has no board: the one BMS of the connection */
	return req[0] - 0x80;
}

static void dm_exception(struct sim_reply *reply, const struct sim_pack *p, uint8_t fc, uint8_t code)
{
	uint8_t f[5];
	f[0] = p->dialect == D2_ADDR ? D2_ADDR : (uint8_t)(0x50 + p->address);
	f[1] = (uint8_t)(fc | 0x80);
	f[2] = code;
	sim_reply_add(reply, f, dm_put_crc(f, 3));
}

/* A dialect's registers: its image, how far it reaches, its two MOSFET
 * switches. */
struct dm_dialect {
	void (*image)(const struct sim_pack *p, uint16_t *reg);
	unsigned nregs;
	unsigned set_chg, set_dsg;
};

/* The D2 dialect's: the switches 0xA5 / 0xA6, as the Daly app writes them
 * (fl4p/batmon-ha#356). */
static const struct dm_dialect dm_d2 = { d2_image, 0x100, 0xA5, 0xA6 };
/* The wire's and the 0x81 dialect's: the MOSFET switch settings, `8B 06
 * 01 21|01 22 00 00|00 01 CRC` as sniffed from Daly's BMSTool
 * (syssi/esphome-daly-bms#22) and written by
 * patagonaa/esphome-daly-hkms-bms. */
static const struct dm_dialect dm_81 = { dm_image, DM_NREGS, 0x121, 0x122 };

/* A read of v registers from a, or a write a := v (FC 06), answered from
 * `from` (0xD2, or 0x50 + board).  The answer to a write is the Modbus echo
 * from that address (the D2 app's captures; patagonaa's response address
 * for the others, not captured); a refusal is exception 04, "slave device
 * failure" (none has been seen; 02 / 03 already mean a wrong register /
 * value). */
/* A D2 write of the BMS's own settings (FC 06), as syssi/esphome-daly-bms
 * writes them: the registers of its number table 0x80..0xA4 and 0xA8 (any
 * value), the SOC set 0xA7 (0.1 %, at most 1000: the SOC is the new one at
 * once), the balancer switch 0xCF (0 / 1); a value beyond those gets
 * exception 03, another register 02 (dm_serve()).  Answered by the echo,
 * by the pack's control mode (sim_pack_set_write(): refuse D2 86 04,
 * silent none, noack applied without the echo, noswitch echoed and not
 * applied). */
static int d2_settable(unsigned a)
{
	return (a >= D2_SET0 && a <= 0xA4) || a == 0xA7 || a == 0xA8 || a == 0xCF;
}

static enum sim_resp d2_set_write(struct sim_pack *p, const uint8_t *req, unsigned a, unsigned v,
                                  struct sim_reply *reply)
{
	if ((a == 0xA7 && v > 1000) || (a == 0xCF && v > 1)) {
		dm_exception(reply, p, req[1], 0x03);
		return SIM_RESP_OK;
	}
	d2_settings(p);
	int apply;
	enum sim_wr w = sim_pack_set_write(p, &apply);
	if (apply && a == 0xA7)
		p->soc = v / 10.0;
	else if (apply)
		D2REG(p, a) = (uint16_t)v;
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	if (w == SIM_WR_REFUSED) {
		dm_exception(reply, p, req[1], 0x04);
		return SIM_RESP_OK;
	}
	uint8_t f[DM_REQ_LEN];
	memcpy(f, req, 6);
	sim_reply_add(reply, f, dm_put_crc(f, 6));
	return SIM_RESP_OK;
}

static enum sim_resp dm_serve(struct sim_pack *p, const struct dm_dialect *dl, uint8_t from, const uint8_t *req,
                              unsigned a, unsigned v, struct sim_reply *reply)
{
	if (req[1] == 0x03) {
		if (v < 1 || v > 125 || a + v > dl->nregs) {
			dm_exception(reply, p, req[1], 0x02);
			return SIM_RESP_OK;
		}
		static uint16_t reg[DM_NREGS];
		uint8_t f[5 + 250];
		dl->image(p, reg);
		f[0] = from;
		f[1] = 0x03;
		f[2] = (uint8_t)(2 * v);
		for (unsigned i = 0; i < v; i++) {
			f[3 + 2 * i] = (uint8_t)(reg[a + i] >> 8);
			f[4 + 2 * i] = (uint8_t)reg[a + i];
		}
		sim_reply_add(reply, f, dm_put_crc(f, 3 + 2 * v));
		return SIM_RESP_OK;
	}
	if (dl == &dm_d2 && d2_settable(a))
		return d2_set_write(p, req, a, v, reply);
	if (a != dl->set_chg && a != dl->set_dsg) {
		dm_exception(reply, p, req[1], 0x02);
		return SIM_RESP_OK;
	}
	if (v > 1) {
		dm_exception(reply, p, req[1], 0x03);
		return SIM_RESP_OK;
	}
	enum sim_wr w = sim_pack_write(p, a == dl->set_chg ? (int)v : -1, a == dl->set_dsg ? (int)v : -1);
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	if (w == SIM_WR_REFUSED) {
		dm_exception(reply, p, req[1], 0x04);
		return SIM_RESP_OK;
	}
	uint8_t f[DM_REQ_LEN];
	memcpy(f, req, 6);
	f[0] = from;
	sim_reply_add(reply, f, dm_put_crc(f, 6));
	return SIM_RESP_OK;
}

static enum sim_resp dm_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                struct sim_reply *reply)
{
	if (n < DM_REQ_LEN)
		return SIM_RESP_BAD;
	/* each pack speaks one dialect and ignores the other */
	if ((req[0] == D2_ADDR) != (p->dialect == D2_ADDR))
		return SIM_RESP_NONE;
	unsigned a = (unsigned)(req[2] << 8 | req[3]), v = (unsigned)(req[4] << 8 | req[5]);
	if (req[0] == D2_ADDR) {
		d2_settings(p);
		return dm_serve(p, &dm_d2, D2_ADDR, req, a, v, reply);
	}
	return dm_serve(p, &dm_81, (uint8_t)(0x50 + p->address), req, a, v, reply);
}

static int dm_is_write(const uint8_t *req, size_t n)
{
	if (n < DM_REQ_LEN || req[1] != 0x06)
		return 0;
	unsigned a = (unsigned)(req[2] << 8 | req[3]);
	if (req[0] == D2_ADDR)
		return a == 0xA5 || a == 0xA6;
	return a == 0x121 || a == 0x122;
}

const struct sim_proto sim_proto_daly_modbus = {
	.name = "daly-modbus",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = DM_MAX_BOARD,
	.max_cells = DM_CELLS,
	.max_temps = DM_TEMPS,
	.scan = dm_scan,
	.address = dm_address,
	.respond = dm_respond,
	.view = dm_view,
	.corrupt = NULL, /* the CRC's high byte is last: the default flip breaks it */
	.is_write = dm_is_write,
};
