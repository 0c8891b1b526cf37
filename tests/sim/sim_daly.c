/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_daly.c - Daly classic (0xA5) protocol, the BMS side.
 *
 * bms/PROTOCOLS.md §2.  Request and answer are 13 bytes:
 *   A5, address, command, 08, D0..D7, sum8 of bytes 0..11.
 * Request address = 0x40 + board - 1 (0x80 also reaches board 1); the answer
 * carries the board number.  Current raw = 30000 - I*10 (I + = charging).
 * Encoded here from the pack state; bms/daly.c is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define DALY_LEN 13
#define DALY_START 0xA5

/* Everything that goes on the wire, in wire units. */
struct daly_raw {
	unsigned volt_dv;    /* 0.1 V */
	long current_da;     /* 0.1 A, + = charging */
	unsigned current_raw;/* 30000 - current_da */
	unsigned soc_pm;     /* 0.1 % */
	unsigned long remain_mah;
	unsigned long capacity_mah;
	int ncells;
	unsigned cell_mv[SIM_MAX_CELLS];
	int ntemps;
	int temp_c[SIM_MAX_TEMPS]; /* clamped to -40..215 */
	uint8_t alarm[8];    /* 0x98 D0..D7 */
};

static unsigned clampu(long v, long lo, long hi)
{
	return (unsigned)(v < lo ? lo : v > hi ? hi : v);
}

static void daly_quantise(const struct sim_pack *p, struct daly_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells;
	unsigned long sum = 0;
	for (int i = 0; i < p->ncells; i++) {
		r->cell_mv[i] = clampu(sim_pack_cell_mv(p, i), 0, 65535);
		sum += r->cell_mv[i];
	}
	r->volt_dv = clampu((long)((sum + 50) / 100), 0, 65535);
	long cda = lround(p->current * 10.0);
	if (cda > 30000)
		cda = 30000;
	if (cda < 30000 - 65535)
		cda = 30000 - 65535;
	r->current_da = cda;
	r->current_raw = (unsigned)(30000 - cda);
	r->soc_pm = clampu(lround(p->soc * 10.0), 0, 1000);
	r->capacity_mah = (unsigned long)lround(p->capacity_ah * 1000.0);
	r->remain_mah = (unsigned long)lround(p->capacity_ah * 1000.0 * r->soc_pm / 1000.0);
	r->ntemps = p->ntemps;
	for (int i = 0; i < p->ntemps; i++)
		r->temp_c[i] = p->temp_c[i] < -40 ? -40 : p->temp_c[i] > 215 ? 215 : p->temp_c[i];
	/* a protection holding a MOSFET off shows as "charge / discharge MOS
	 * temperature high", 0x98 D4 b0 / b1 (Daly UART/485 protocol V1.2) */
	memcpy(r->alarm, p->alarm, 8);
	unsigned held = sim_pack_held(p);
	if (held & SIM_FET_CHG)
		r->alarm[4] |= 0x01;
	if (held & SIM_FET_DSG)
		r->alarm[4] |= 0x02;
}

static void daly_view(const struct sim_pack *p, struct sim_view *v)
{
	struct daly_raw r;
	daly_quantise(p, &r);
	memset(v, 0, sizeof *v);
	/* what a gateway polling 0x90-0x98 gets: no SOH, MOS temperature or rated capacity */
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
		 SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_dv / 10.0;
	v->current = r.current_da / 10.0;
	v->soc = r.soc_pm / 10.0;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->capacity_ah = r.capacity_mah / 1000.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 8;
	memcpy(v->alarm, r.alarm, 8);
	v->balance = p->balance & 0xFFFFFFFFFFFFull; /* 48 cells */
}

static uint8_t daly_sum(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (uint8_t)s;
}

static enum sim_scan daly_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != DALY_START) {
		size_t i = 1;
		while (i < len && buf[i] != DALY_START)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < DALY_LEN)
		return SIM_SCAN_NEED;
	if (buf[3] != 0x08 || daly_sum(buf, DALY_LEN - 1) != buf[DALY_LEN - 1]) {
		*n = 1; /* drop the start byte, re-hunt */
		return SIM_SCAN_BAD;
	}
	*n = DALY_LEN;
	return SIM_SCAN_FRAME;
}

static int daly_address(const uint8_t *req, size_t n)
{
	if (n < DALY_LEN)
		return -1;
	if (req[1] == 0x80)
		return 1;
	if (req[1] >= 0x40 && req[1] <= 0x7F)
		return req[1] - 0x40 + 1;
	return -1;
}

static void put16(uint8_t *d, unsigned v)
{
	d[0] = (uint8_t)(v >> 8);
	d[1] = (uint8_t)v;
}

static void put32(uint8_t *d, unsigned long v)
{
	d[0] = (uint8_t)(v >> 24);
	d[1] = (uint8_t)(v >> 16);
	d[2] = (uint8_t)(v >> 8);
	d[3] = (uint8_t)v;
}

static void daly_frame(struct sim_reply *r, const struct sim_pack *p, uint8_t cmd, const uint8_t d[8])
{
	uint8_t f[DALY_LEN];
	f[0] = DALY_START;
	f[1] = (uint8_t)p->address;
	f[2] = cmd;
	f[3] = 0x08;
	memcpy(f + 4, d, 8);
	f[12] = daly_sum(f, 12);
	sim_reply_add(r, f, sizeof f);
}

/* Reserved bytes: 0, or stale junk on firmware with the junk quirk. */
static uint8_t reserved(const struct sim_pack *p)
{
	return p->junk ? (uint8_t)sim_rand() : 0;
}

/* 0xD9 (discharge) / 0xDA (charge) MOSFET write: D0 = 1 on, 0 off; D1..D7
 * all 0x00 (python-daly-bms set_charge_mosfet, maland16/daly-bms-uart) or
 * all 0xAA (dbus-serialbattery's Daly driver, write_charge_discharge_mos).  Anything
 * else is not a known write: no answer, counted as bad.
 * The answer is a 13-byte frame from the board number with the same ID and
 * D0 = the requested value, D1..D7 stale buffer bytes on real boards
 * (captured in dreadnought/python-daly-bms#3: `A5 01 D9 08 01 0D 13 0D 21 0D
 * 17 C0 BA`); here 0, or the first cells' mV with the junk quirk, as there.
 * No refusal frame is known (the captures cannot tell whether D0 echoes the
 * request or the resulting state), so a refusing pack answers D0 = the
 * unchanged setting, which dbus-serialbattery's `reply D0 == requested`
 * check reads as a failure. */
static enum sim_resp daly_write(struct sim_pack *p, const uint8_t *req, const struct daly_raw *r,
                                struct sim_reply *reply)
{
	uint8_t cmd = req[2], fill = req[5];
	if (req[4] > 1 || (fill != 0x00 && fill != 0xAA))
		return SIM_RESP_BAD;
	for (int i = 6; i < 12; i++)
		if (req[i] != fill)
			return SIM_RESP_BAD;
	int on = req[4];
	enum sim_wr w = sim_pack_write(p, cmd == 0xDA ? on : -1, cmd == 0xD9 ? on : -1);
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	uint8_t d[8];
	memset(d, 0, sizeof d);
	d[0] = (uint8_t)(w == SIM_WR_DONE ? on : cmd == 0xD9 ? p->dsg_set : p->chg_set);
	if (p->junk) {
		for (int i = 0; i < 3; i++)
			put16(d + 1 + 2 * i, r->cell_mv[i]);
		d[7] = (uint8_t)sim_rand();
	}
	daly_frame(reply, p, cmd, d);
	return SIM_RESP_OK;
}

/* 0x21, the SOC set: D0-D5 a date and time (year - 2000, month, day, hour,
 * minute, second), D6-D7 the SOC in 0.1 % (write_soc_and_datetime of
 * mr-manuel/venus-os_dbus-serialbattery's Daly driver; zeros for the
 * date in dreadnought/python-daly-bms set_soc).  Answered from the board
 * with D0 = 1 (the success dbus-serialbattery reads) or, refused, 0; the
 * SOC is the new one at the next 0x90.  A SOC over 100.0 % or a month over
 * 12 is not a known write: no answer, counted as bad.  The writes follow
 * the pack's control mode (sim_pack_set_write()). */
static enum sim_resp daly_soc_write(struct sim_pack *p, const uint8_t *req, struct sim_reply *reply)
{
	unsigned pm = (unsigned)req[10] << 8 | req[11];
	if (pm > 1000 || req[5] > 12 || req[6] > 31 || req[7] > 23 || req[8] > 59 || req[9] > 59)
		return SIM_RESP_BAD;
	int apply;
	enum sim_wr w = sim_pack_set_write(p, &apply);
	if (apply)
		p->soc = pm / 10.0;
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	uint8_t d[8];
	memset(d, 0, sizeof d);
	d[0] = w == SIM_WR_DONE ? 1 : 0;
	daly_frame(reply, p, 0x21, d);
	return SIM_RESP_OK;
}

/* The BMS's own settings, a 16S-style LFP pack's factory levels (level 1
 * the warning, level 2 the protection; the pack levels follow the cell
 * count): the data bytes of settings read cmd (§2.11). */
static void daly_settings(const struct sim_pack *p, const struct daly_raw *r, uint8_t cmd, uint8_t *d)
{
	unsigned n = (unsigned)r->ncells;
	switch (cmd) {
	case 0x50: /* D0-3 rated capacity mAh, D4-7 nominal cell mV */
		put32(d, r->capacity_mah);
		put32(d + 4, 3200);
		break;
	case 0x59: /* cell high L1, L2, low L1, L2 (mV) */
		put16(d, 3600);
		put16(d + 2, 3650);
		put16(d + 4, 2800);
		put16(d + 6, 2500);
		break;
	case 0x5A: /* pack high L1, L2, low L1, L2 (0.1 V) */
		put16(d, 36 * n);
		put16(d + 2, (73 * n + 1) / 2);
		put16(d + 4, 28 * n);
		put16(d + 6, 25 * n);
		break;
	case 0x5B: /* charge L1, L2 (30000 - 10 I), discharge L1, L2 (30000 + 10 I) */
		put16(d, 30000 - 1000);
		put16(d + 2, 30000 - 1050);
		put16(d + 4, 30000 + 1500);
		put16(d + 6, 30000 + 1600);
		break;
	case 0x5E: /* cell difference L1, L2 (mV), temperature difference L1, L2 (degC) */
		put16(d, 300);
		put16(d + 2, 500);
		d[4] = 5;
		d[5] = 10;
		break;
	case 0x5F: /* balancing start voltage, difference (mV) */
		put16(d, 3400);
		put16(d + 2, 30);
		break;
	case 0x60: /* short-circuit current (A), the shunt's resistance */
		put16(d, 800);
		put16(d + 2, 100);
		break;
	default:
		break;
	}
	(void)p;
}

static enum sim_resp daly_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                  struct sim_reply *reply)
{
	if (n < DALY_LEN)
		return SIM_RESP_BAD;
	struct daly_raw r;
	daly_quantise(p, &r);
	uint8_t cmd = req[2];
	uint8_t d[8];
	memset(d, 0, sizeof d);
	switch (cmd) {
	case 0x90: /* voltage, current, SOC */
		put16(d, r.volt_dv);
		put16(d + 2, 0); /* "gathered" voltage */
		put16(d + 4, r.current_raw);
		put16(d + 6, r.soc_pm);
		daly_frame(reply, p, cmd, d);
		break;
	case 0x91: { /* max / min cell */
		int imax = 0, imin = 0;
		for (int i = 1; i < r.ncells; i++) {
			if (r.cell_mv[i] > r.cell_mv[imax])
				imax = i;
			if (r.cell_mv[i] < r.cell_mv[imin])
				imin = i;
		}
		put16(d, r.cell_mv[imax]);
		d[2] = (uint8_t)(imax + 1);
		put16(d + 3, r.cell_mv[imin]);
		d[5] = (uint8_t)(imin + 1);
		d[6] = reserved(p);
		d[7] = reserved(p);
		daly_frame(reply, p, cmd, d);
		break;
	}
	case 0x92: { /* max / min temperature */
		int imax = 0, imin = 0;
		for (int i = 1; i < r.ntemps; i++) {
			if (r.temp_c[i] > r.temp_c[imax])
				imax = i;
			if (r.temp_c[i] < r.temp_c[imin])
				imin = i;
		}
		d[0] = (uint8_t)(r.temp_c[imax] + 40);
		d[1] = (uint8_t)(imax + 1);
		d[2] = (uint8_t)(r.temp_c[imin] + 40);
		d[3] = (uint8_t)(imin + 1);
		for (int i = 4; i < 8; i++)
			d[i] = reserved(p);
		daly_frame(reply, p, cmd, d);
		break;
	}
	case 0x93: /* state, MOSFETs, life, remaining capacity */
		d[0] = r.current_da > 0 ? 1 : r.current_da < 0 ? 2 : 0;
		d[1] = p->chg_mos ? 1 : 0;
		d[2] = p->dsg_mos ? 1 : 0;
		d[3] = (uint8_t)p->life;
		put32(d + 4, r.remain_mah);
		daly_frame(reply, p, cmd, d);
		break;
	case 0x94: /* counts, charger/load, DIO, cycles */
		d[0] = (uint8_t)r.ncells;
		d[1] = (uint8_t)r.ntemps;
		d[2] = r.current_da > 0;
		d[3] = r.current_da < 0;
		d[4] = 0;
		put16(d + 5, p->cycles & 0xFFFF);
		d[7] = reserved(p);
		daly_frame(reply, p, cmd, d);
		break;
	case 0x95: { /* cell voltages, 3 per frame, frames numbered from 1 */
		int frames = (r.ncells + 2) / 3;
		if (p->full16)
			frames = 16;
		for (int f = 0; f < frames; f++) {
			d[0] = (uint8_t)(f + 1);
			for (int k = 0; k < 3; k++) {
				int c = f * 3 + k;
				unsigned mv = 0;
				if (c < r.ncells)
					mv = r.cell_mv[c];
				else if (p->junk)
					mv = 3270 + (sim_rand() % 20u); /* a 16S capture: "17, 18" = 3276, 3280 (bms/PROTOCOLS.md §2.10) */
				put16(d + 1 + 2 * k, mv);
			}
			d[7] = reserved(p);
			daly_frame(reply, p, cmd, d);
		}
		break;
	}
	case 0x96: { /* temperatures, 7 per frame, frames numbered from 1 */
		int frames = (r.ntemps + 6) / 7;
		for (int f = 0; f < frames; f++) {
			d[0] = (uint8_t)(f + 1);
			for (int k = 0; k < 7; k++) {
				int t = f * 7 + k;
				d[1 + k] = t < r.ntemps ? (uint8_t)(r.temp_c[t] + 40) : p->junk ? 0xFF : 0x00;
			}
			daly_frame(reply, p, cmd, d);
		}
		break;
	}
	case 0x97: /* balancing: D0 bit0 = cell 1, D1 bit0 = cell 9 (bms/PROTOCOLS.md §2.7) */
		for (int i = 0; i < 6; i++)
			d[i] = (uint8_t)(p->balance >> (8 * i));
		daly_frame(reply, p, cmd, d);
		break;
	case 0x98: /* failure bytes */
		memcpy(d, r.alarm, 8);
		daly_frame(reply, p, cmd, d);
		break;
	case 0x50: /* rated capacity mAh, nominal cell mV */
	case 0x59: /* the settings reads (bms/PROTOCOLS.md §2.11) */
	case 0x5A:
	case 0x5B:
	case 0x5E:
	case 0x5F:
	case 0x60:
		if (p->dialect == 'N')
			return SIM_RESP_NONE; /* `nosettings`: firmware that does not know them */
		daly_settings(p, &r, cmd, d);
		daly_frame(reply, p, cmd, d);
		break;
	case 0xD9: /* discharge MOSFET on/off */
	case 0xDA: /* charge MOSFET on/off */
		return daly_write(p, req, &r, reply);
	case 0x21: /* SOC set */
		return daly_soc_write(p, req, reply);
	default:
		return SIM_RESP_BAD;
	}
	return SIM_RESP_OK;
}

static int daly_is_write(const uint8_t *req, size_t n)
{
	return n >= DALY_LEN && (req[2] == 0xD9 || req[2] == 0xDA);
}

static void daly_corrupt(uint8_t *frame, size_t n)
{
	if (n >= DALY_LEN)
		frame[DALY_LEN - 1] = (uint8_t)(frame[DALY_LEN - 1] + 1);
	else if (n)
		frame[n - 1] ^= 0x01;
}

const struct sim_proto sim_proto_daly = {
	.name = "daly",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 64, /* 0x40 + 63 = 0x7F */
	.max_cells = SIM_LV_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = daly_scan,
	.address = daly_address,
	.respond = daly_respond,
	.view = daly_view,
	.corrupt = daly_corrupt,
	.is_write = daly_is_write,
	/* an awake Daly BMS answers 50-80 ms after a request
	 * (maland16/daly-bms-uart#11, bms/PROTOCOLS.md section 2.9) */
	.latency_min_ms = 50,
	.latency_max_ms = 80,
};
