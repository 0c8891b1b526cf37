/* SPDX-License-Identifier: MIT */
/* bms/seplos.c - Seplos V2 (EMU10xx / 11xx) RS485 "MODBUS-ASCII" V2.0.
 *
 * bms/PROTOCOLS.md §8 (framing, shared: bms/base/pylonframe.c) and §11.  A poll
 * sends to ADR = `address` = the pack's DIP address (0..15), VER 0x20, INFO
 * = one byte COMMAND_GROUP = the same address (the BMS checks that it
 * matches its DIP switches; 0xFF "all groups" is RS232 only):
 *	0x42 telemetry, e.g. ~20004642E00200FD37\r
 *	0x44 telecommand (alarms, switches, balancing)
 *
 * 0x42 answer INFO: DATA FLAG, COMMAND GROUP, M, M x cell mV (u16), N, N x
 * temperature (u16 0.1 K; N = 6: cells 1-4, environment, power), current
 * (s16 10 mA, + = charge), total voltage (u16 10 mV), residual capacity (u16
 * 10 mAh), P = number of custom items (10), each u16: battery capacity (10
 * mAh), SOC (0.1 %), rated capacity (10 mAh), cycles, SOH (0.1 %), port
 * voltage (10 mV), 4 reserved.  Items are read as far as P says they are
 * there.  With the documented six sensors the sixth (power board) is the
 * MOSFET temperature and the first five are the sensors; with any other
 * count all of them are sensors.  full_ah is the battery (full-charge)
 * capacity, which SOC refers to (SEP-01: 133.9 / 170 Ah = 78.7 %).
 *
 * The answer's COMMAND GROUP is not an echo of the request's (SEP-01 answers
 * group 00 with 01) and an RS485 answer only ever carries the addressed pack,
 * so the byte is not checked.
 *
 * 0x44 answer INFO: DATA FLAG, COMMAND GROUP, M, M cell alarm bytes, N, N
 * temperature alarm bytes, current alarm, voltage alarm, P (20), then P bytes:
 * alarm events 1-6, on/off state, equilibrium 1, 2, system state,
 * disconnection 1, 2, alarm events 7, 8, 6 reserved.  Alarm bytes: 00 normal,
 * 01 below the lower limit, 02 above the upper limit, F0 other.  The current
 * is signed, so its lower limit is the discharge and its upper limit the
 * charge over-current.
 *	on/off: b0 discharge switch, b1 charge switch (-> MOSFETs)
 *	equilibrium 1/2: cells 1-8 / 9-16 balancing
 *	system state: b0 discharge, b1 charge, b2 float, b4 standby, b5 off
 *	disconnection 1/2: cell 1-16 sense wire broken
 * raw_alarms[]: [0] event1 << 8 | event2, [1] event3 << 8 | event4,
 *	[2] event5 << 8 | event6, [3] event7 << 8 | event8.
 *
 * Over Bluetooth LE (a ble:// port, §46) the BMS's module speaks the same
 * protocol in binary: one read a poll, 0x61 "single-machine data"
 * (7E 10 adr 46 61 0001 adr CRC 0D; the answer 7E 14 adr 61 RTN len16
 * data CRC 0D, CRC-XMODEM of bytes 1..n-4, high byte first): the 0x42
 * values with six custom items, then the 0x44 states in an order of their
 * own (sep_ble_status()).  The system frame 0x62 (the bank's totals) is
 * not read.  In a poll marked settings_due, 0x47 (the BMS's settings,
 * 7E 10 adr 46 47 0001 adr CRC 0D) follows: its 60 parameter words
 * (sep_ble_settings(), §46.5); refused, unanswered or broken, the poll is
 * complete without it.  The wired 0x47 is not asked (§11: no layout).
 *
 * Progress in struct bms_poll: step = index into sep_steps[] (over BLE:
 * 0, then 1 when 0x61 was taken, 2 after 0x47).
 */
#include "bms.h"
#include "bus.h"

#include <string.h>

#include "drivers.h"
#include "pylonframe.h"

#define SEP_VER 0x20
#define SEP_MIN_ADR 0
#define SEP_MAX_ADR 15
#define SEP_KELVIN_DK 2731
#define SEP_DOC_TEMPS 6         /* cells 1-4, environment, power */
#define SEP_SLACK 4             /* bytes an answer may carry beyond its items */

enum {
	SEP_TELEMETRY = 0x42,
	SEP_TELECOMMAND = 0x44,
};

static const uint8_t sep_steps[] = { SEP_TELEMETRY, SEP_TELECOMMAND };
#define SEP_NSTEPS ((int)(sizeof(sep_steps) / sizeof(sep_steps[0])))

/* 0x42 custom items (u16 each) */
enum {
	SEP_I_CAPACITY = 0,
	SEP_I_SOC = 1,
	SEP_I_RATED = 2,
	SEP_I_CYCLES = 3,
	SEP_I_SOH = 4,
	SEP_I_PORT_V = 5,
	SEP_I_MAX = 10,
};

/* 0x44 custom items (bytes) */
enum {
	SEP_A_EVENT1 = 0,       /* events 1..6 at 0..5 */
	SEP_A_ONOFF = 6,
	SEP_A_EQ1 = 7,
	SEP_A_EQ2 = 8,
	SEP_A_SYSTEM = 9,
	SEP_A_DISC1 = 10,
	SEP_A_DISC2 = 11,
	SEP_A_EVENT7 = 12,
	SEP_A_EVENT8 = 13,
	SEP_A_MAX = 20,
};

#define L2 BMS_AL_PROTECTION
/* alarm events 1..6 and 8, bit n -> alarms */
static const uint32_t sep_event[6][8] = {
	/* 1: voltage / temperature / current sensor, key switch, cell voltage
	 * dropout, charge / discharge / current-limit switch faults */
	{ BMS_AL_HW_FAULT, BMS_AL_SENSOR, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT,
	  BMS_AL_HW_FAULT, BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT },
	/* 2: cell high / over, low / under, pack high / over, low / under */
	{ BMS_AL_CELL_OV, BMS_AL_CELL_OV | L2, BMS_AL_CELL_UV, BMS_AL_CELL_UV | L2,
	  BMS_AL_PACK_OV, BMS_AL_PACK_OV | L2, BMS_AL_PACK_UV, BMS_AL_PACK_UV | L2 },
	/* 3: cell temperature, charge high/over, low/under, discharge same */
	{ BMS_AL_CHG_OT, BMS_AL_CHG_OT | L2, BMS_AL_CHG_UT, BMS_AL_CHG_UT | L2,
	  BMS_AL_DSG_OT, BMS_AL_DSG_OT | L2, BMS_AL_DSG_UT, BMS_AL_DSG_UT | L2 },
	/* 4: environment high / over, low / under, power over-temperature
	 * protection, power high-temperature alarm, cell heating (a state), - */
	{ BMS_AL_OTHER, BMS_AL_OTHER | L2, BMS_AL_OTHER, BMS_AL_OTHER | L2,
	  BMS_AL_MOS_OT | L2, BMS_AL_MOS_OT, 0, 0 },
	/* 5: charge OC alarm / prot, discharge OC alarm / prot, transient OC
	 * prot, short circuit, transient OC lockout, short-circuit lockout */
	{ BMS_AL_CHG_OC, BMS_AL_CHG_OC | L2, BMS_AL_DSG_OC, BMS_AL_DSG_OC | L2,
	  BMS_AL_DSG_OC | L2, BMS_AL_SHORT | L2, BMS_AL_DSG_OC | L2, BMS_AL_SHORT | L2 },
	/* 6: charge high-voltage prot, recharge waiting (a state), residual
	 * capacity alarm / prot, cell low-voltage charge forbidden, output
	 * reverse polarity, output connection fault, - */
	{ BMS_AL_PACK_OV | L2, 0, BMS_AL_SOC_LOW, BMS_AL_SOC_LOW | L2,
	  BMS_AL_CELL_UV | L2, BMS_AL_OTHER | L2, BMS_AL_OTHER, 0 },
};
/* event 8: EEPROM, RTC, voltage / current / zero calibration missing */
static const uint32_t sep_event8[8] = {
	BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER, 0, 0, 0,
};
#undef L2

static float sep_temp(uint16_t raw)
{
	return (float)((int)raw - SEP_KELVIN_DK) / 10.0f;
}

/* The values of a 0x42 answer's INFO, or of 0x61's data over BLE (the same
 * layout up to the custom items): from the reader r at DATA FLAG, which is
 * left after the items; *ncells and *ntemps the counts the frame gives. */
static int sep_values(struct bms_poll *poll, struct bms_pylonframe_rd *r, unsigned *ncells, unsigned *ntemps)
{
	struct bms_snapshot s = poll->snap;
	uint16_t item[SEP_I_MAX] = { 0 };
	unsigned m, nt, p;
	int16_t cur;
	uint16_t cv, rem;

	(void)bms_pylonframe_u8(r); /* DATA FLAG (BLE: the address) */
	(void)bms_pylonframe_u8(r); /* COMMAND GROUP (see above; BLE: reserved) */
	int rc = bms_pylonframe_cells(r, s.cell_mv);
	if (rc < 0)
		return rc;
	m = (unsigned)rc;
	nt = bms_pylonframe_u8(r);
	s.ntemps = 0;
	for (unsigned i = 0; i < nt; i++) {
		float t = sep_temp(bms_pylonframe_u16(r));
		if (nt == SEP_DOC_TEMPS && i == SEP_DOC_TEMPS - 1)
			s.mos_temp_c = t;
		else if (s.ntemps < BMS_MAX_TEMPS)
			s.temp_c[s.ntemps++] = t;
	}
	cur = bms_pylonframe_s16(r);
	cv = bms_pylonframe_u16(r);
	rem = bms_pylonframe_u16(r);
	p = bms_pylonframe_words(r, item, SEP_I_MAX);
	if (r->bad)
		return BMS_E_SHORT;
	*ncells = m;
	*ntemps = nt;

	s.ncells = (uint8_t)m;
	if (poll->cells_forced && poll->cells_forced < m)
		s.ncells = poll->cells_forced;
	s.current = (float)cur / 100.0f;
	if (poll->invert_current)
		s.current = -s.current;
	s.voltage = (float)cv / 100.0f;
	s.remain_ah = (float)rem / 100.0f;
	s.present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_CELLS |
		     (s.ntemps ? BMS_HAS_TEMPS : 0) | (nt == SEP_DOC_TEMPS ? BMS_HAS_MOS_TEMP : 0);
	if (p > SEP_I_CAPACITY) {
		s.full_ah = (float)item[SEP_I_CAPACITY] / 100.0f;
		s.present |= BMS_HAS_FULL;
	}
	if (p > SEP_I_SOC) {
		s.soc = item[SEP_I_SOC] > 1000 ? 100.0f : (float)item[SEP_I_SOC] / 10.0f;
		s.present |= BMS_HAS_SOC;
	}
	if (p > SEP_I_CYCLES) {
		s.cycles = item[SEP_I_CYCLES];
		s.present |= BMS_HAS_CYCLES;
	}
	if (p > SEP_I_SOH) {
		s.soh = item[SEP_I_SOH] > 1000 ? 100.0f : (float)item[SEP_I_SOH] / 10.0f;
		s.present |= BMS_HAS_SOH;
	}
	poll->snap = s;
	return BMS_OK;
}

static int sep_telemetry(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_pylonframe_rd r;
	unsigned m, nt;
	bms_pylonframe_rd_init(&r, info, ninfo);
	return sep_values(poll, &r, &m, &nt);
}

/* m cell alarm bytes, then nt sensor alarm bytes, from r. */
static uint32_t sep_state_alarms(struct bms_pylonframe_rd *r, unsigned m, unsigned nt)
{
	uint32_t al = 0;
	for (unsigned i = 0; i < m && !r->bad; i++)
		al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(r), BMS_AL_CELL_UV, BMS_AL_CELL_OV, BMS_AL_OTHER);
	for (unsigned i = 0; i < nt && !r->bad; i++) {
		uint8_t st = bms_pylonframe_u8(r);
		if (nt == SEP_DOC_TEMPS && i == 4) /* environment */
			al |= bms_pylonframe_state_alarm(st, BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_SENSOR);
		else if (nt == SEP_DOC_TEMPS && i == 5) /* power board */
			al |= bms_pylonframe_state_alarm(st, BMS_AL_OTHER, BMS_AL_MOS_OT, BMS_AL_SENSOR);
		else
			al |= bms_pylonframe_state_alarm(st, BMS_AL_CHG_UT | BMS_AL_DSG_UT,
							 BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_SENSOR);
	}
	return al;
}

/* The state alarms al, the current and voltage alarms, and the p bytes
 * a[] (the 0x44 layout, SEP_A_*) into s. */
static void sep_status(struct bms_snapshot *s, uint32_t al, uint8_t cur, uint8_t volt, const uint8_t *a, unsigned p)
{
	al |= bms_pylonframe_state_alarm(cur, BMS_AL_DSG_OC, BMS_AL_CHG_OC, BMS_AL_OTHER);
	al |= bms_pylonframe_state_alarm(volt, BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_OTHER);
	for (int e = 0; e < 6; e++)
		for (int bit = 0; bit < 8; bit++)
			if (a[SEP_A_EVENT1 + e] & (1u << bit))
				al |= sep_event[e][bit];
	for (int bit = 0; bit < 8; bit++)
		if (a[SEP_A_EVENT8] & (1u << bit))
			al |= sep_event8[bit];
	if (a[SEP_A_DISC1] || a[SEP_A_DISC2])
		al |= BMS_AL_HW_FAULT;

	s->alarms = al;
	s->nraw = 4;
	s->raw_alarms[0] = (uint16_t)(a[0] << 8 | a[1]);
	s->raw_alarms[1] = (uint16_t)(a[2] << 8 | a[3]);
	s->raw_alarms[2] = (uint16_t)(a[4] << 8 | a[5]);
	s->raw_alarms[3] = (uint16_t)(a[SEP_A_EVENT7] << 8 | a[SEP_A_EVENT8]);
	s->present |= BMS_HAS_ALARMS;
	if (p > SEP_A_ONOFF) {
		s->dsg_mos = (a[SEP_A_ONOFF] & 0x01) != 0;
		s->chg_mos = (a[SEP_A_ONOFF] & 0x02) != 0;
		s->present |= BMS_HAS_MOSFETS;
	}
	if (p > SEP_A_EQ2) {
		s->balance = (uint32_t)a[SEP_A_EQ1] | (uint32_t)a[SEP_A_EQ2] << 8;
		s->present |= BMS_HAS_BALANCE;
	}
	if (p > SEP_A_SYSTEM) {
		uint8_t sys = a[SEP_A_SYSTEM];
		s->state = (sys & 0x02) ? 1 : (sys & 0x01) ? 2 : 0;
	}
}

static int sep_telecommand(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_pylonframe_rd r;
	uint8_t a[SEP_A_MAX] = { 0 };

	bms_pylonframe_rd_init(&r, info, ninfo);
	(void)bms_pylonframe_u8(&r); /* DATA FLAG */
	(void)bms_pylonframe_u8(&r); /* COMMAND GROUP */
	unsigned m = bms_pylonframe_u8(&r);
	uint32_t al = sep_state_alarms(&r, m, 0);
	unsigned nt = bms_pylonframe_u8(&r);
	al |= sep_state_alarms(&r, 0, nt);
	uint8_t cur = bms_pylonframe_u8(&r);
	uint8_t volt = bms_pylonframe_u8(&r);
	unsigned p = bms_pylonframe_u8(&r);
	for (unsigned i = 0; i < p; i++) {
		uint8_t v = bms_pylonframe_u8(&r);
		if (i < SEP_A_MAX)
			a[i] = v;
	}
	if (r.bad)
		return BMS_E_SHORT;
	/* far longer than a telecommand answer: a late telemetry answer */
	if (bms_pylonframe_left(&r) > SEP_SLACK)
		return BMS_E_UNEXPECTED;
	sep_status(&poll->snap, al, cur, volt, a, p);
	return BMS_OK;
}

/* ---- over Bluetooth LE (§46): the binary frames, one 0x61 a poll ---- */

#define SEP_BLE_SOI 0x7E
#define SEP_BLE_EOI 0x0D
#define SEP_BLE_REQ_VER 0x10 /* requests */
#define SEP_BLE_VER 0x14     /* answers */
#define SEP_BLE_CMD 0x61     /* single-machine data */
#define SEP_BLE_SET 0x47     /* the settings ("teleregulation" parameters) */
#define SEP_BLE_SET_N 60     /* 0x47: parameter words (the count byte says so) */
#define SEP_BLE_SET_LEN (2 + 2 * SEP_BLE_SET_N)
#define SEP_BLE_HDR 7        /* 7E ver adr cid2 rtn len16 (a request: 7E ver adr 46 cid2 len16) */
#define SEP_BLE_OVER 10      /* header, CRC, 0D */
#define SEP_BLE_REQ 11
#define SEP_BLE_MAX_DATA 512
#define SEP_BLE_BITMAPS 4    /* balancing bytes read (cells 1..32) */

/* CRC-16/XMODEM (poly 0x1021, init 0, not reflected) of p[0..n). */
static uint16_t sep_crc_xmodem(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

static bool sep_ble(const struct bms_poll *poll)
{
	return poll->link == BMS_LINK_BLE;
}

/* 7E 10 adr 46 61 00 01 adr <CRC-XMODEM of bytes 1..7, high byte first> 0D;
 * then, when the settings are due, the same with 0x47. */
static int sep_ble_request(const struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step >= 2 || (poll->step == 1 && !poll->settings_due))
		return 0;
	if (cap < SEP_BLE_REQ)
		return BMS_E_NOSPACE;
	const uint8_t req[8] = { SEP_BLE_SOI, SEP_BLE_REQ_VER, poll->address, BMS_PYLONFRAME_CID1_BATTERY,
				 poll->step == 0 ? SEP_BLE_CMD : SEP_BLE_SET, 0x00, 0x01, poll->address };
	memcpy(out, req, sizeof(req));
	uint16_t crc = sep_crc_xmodem(out + 1, sizeof(req) - 1);
	out[8] = (uint8_t)(crc >> 8);
	out[9] = (uint8_t)crc;
	out[10] = SEP_BLE_EOI;
	return SEP_BLE_REQ;
}

static bool sep_ble_head_ok(const uint8_t *f)
{
	return f[1] == SEP_BLE_VER || f[1] == SEP_BLE_REQ_VER;
}

static bool sep_ble_sum_ok(const uint8_t *f, size_t n)
{
	return f[n - 1] == SEP_BLE_EOI && sep_crc_xmodem(f + 1, n - 4) == bms_be16(f + n - 3);
}

/* 7E on the length field; another version, or a length over 512, skips
 * the 7E, a bad CRC or end byte too; a request (ver 0x10, ours echoed) is
 * skipped whole. */
static enum bms_scan sep_ble_scan(const uint8_t *buf, size_t len, size_t *n)
{
	static const struct bms_lenword lw = { SEP_BLE_HDR, 5, SEP_BLE_MAX_DATA, SEP_BLE_OVER, sep_ble_head_ok };
	enum bms_scan r;
	size_t want;
	if (!bms_scan_start(buf, len, SEP_BLE_SOI, &r, n) || !bms_scan_lenword(&lw, buf, len, &want, &r, n))
		return r;
	return bms_scan_tail(sep_ble_sum_ok(buf, want), buf[1] != SEP_BLE_REQ_VER, want, n);
}

/* After the values: m cell and nt sensor alarm bytes, the current and
 * voltage alarms, system status, switch status (b0 discharge, b1 charge),
 * P, P alarm events (1..8), then the balancing and the disconnection
 * bitmaps, (m + 7) / 8 bytes each (byte i: cells 8i + 1 ..). */
static int sep_ble_status(struct bms_snapshot *s, struct bms_pylonframe_rd *r, unsigned m, unsigned nt)
{
	uint8_t a[SEP_A_MAX] = { 0 };
	uint32_t al = sep_state_alarms(r, m, nt);
	uint8_t cur = bms_pylonframe_u8(r);
	uint8_t volt = bms_pylonframe_u8(r);
	a[SEP_A_SYSTEM] = bms_pylonframe_u8(r);
	a[SEP_A_ONOFF] = bms_pylonframe_u8(r);
	unsigned p = bms_pylonframe_u8(r);
	for (unsigned i = 0; i < p; i++) {
		uint8_t v = bms_pylonframe_u8(r);
		if (i < 6)
			a[SEP_A_EVENT1 + i] = v;
		else if (i < 8)
			a[SEP_A_EVENT7 + i - 6] = v;
	}
	unsigned nb = (m + 7) / 8;
	uint32_t bal = 0;
	for (unsigned i = 0; i < nb; i++) {
		uint8_t v = bms_pylonframe_u8(r);
		if (i < SEP_BLE_BITMAPS)
			bal |= (uint32_t)v << (8 * i);
	}
	for (unsigned i = 0; i < nb; i++)
		a[SEP_A_DISC1] |= bms_pylonframe_u8(r);
	if (r->bad)
		return BMS_E_SHORT;
	sep_status(s, al, cur, volt, a, SEP_A_MAX);
	s->balance = bal;
	return BMS_OK;
}

/* 0x47 (§46.5): group, parameter count (60), then 60 u16 parameters
 * (syssi's seplos_bms_ble names them; SEPLOS2B-10): read here the cell
 * and pack protections (mV, 10 mV), balancing start, the temperature
 * protections (0.1 K), the charge over-current protection (10 mA) and the
 * rated capacity (10 mAh).  Data offsets (the frame's minus 7). */
static void sep_ble_set_t(struct bms_settings *st, enum bms_set_key k, const uint8_t *d, size_t o)
{
	int dk = (int)bms_be16(d + o) - SEP_KELVIN_DK;
	bms_settings_put_raw(st, k, dk, -400, 1200, 10.0);
}

static int sep_ble_settings(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	static const struct {
		uint8_t off, key;
		uint16_t lo, hi;
		uint8_t div; /* 0: a temperature */
	} t[] = {
		{ 10, BMS_SET_CELL_OVP_V, 1000, 5000, 1 }, { 12, BMS_SET_CELL_OVP_RELEASE_V, 1000, 5000, 1 },
		{ 14, BMS_SET_CELL_UVP_V, 1000, 5000, 1 }, { 16, BMS_SET_CELL_UVP_RELEASE_V, 1000, 5000, 1 },
		{ 18, BMS_SET_BALANCE_START_V, 1000, 5000, 1 }, { 30, BMS_SET_PACK_OVP_V, 1, 65535, 2 },
		{ 34, BMS_SET_PACK_UVP_V, 1, 65535, 2 }, { 50, BMS_SET_CHARGE_OTP_C, 0, 0, 0 },
		{ 52, BMS_SET_CHARGE_OTP_RELEASE_C, 0, 0, 0 }, { 54, BMS_SET_CHARGE_UTP_C, 0, 0, 0 },
		{ 56, BMS_SET_CHARGE_UTP_RELEASE_C, 0, 0, 0 }, { 66, BMS_SET_DISCHARGE_OTP_C, 0, 0, 0 },
		{ 68, BMS_SET_DISCHARGE_OTP_RELEASE_C, 0, 0, 0 }, { 70, BMS_SET_DISCHARGE_UTP_C, 0, 0, 0 },
		{ 72, BMS_SET_DISCHARGE_UTP_RELEASE_C, 0, 0, 0 }, { 98, BMS_SET_MOS_OTP_C, 0, 0, 0 },
		{ 100, BMS_SET_MOS_OTP_RELEASE_C, 0, 0, 0 }, { 110, BMS_SET_CHARGE_OCP_A, 1, 32767, 2 },
		{ 118, BMS_SET_CAPACITY_AH, 1, 65535, 2 },
	};
	if (n < SEP_BLE_SET_LEN)
		return BMS_E_SHORT;
	if (d[1] != SEP_BLE_SET_N)
		return BMS_E_RANGE; /* another parameter list: its layout is not known */
	struct bms_settings *st = &poll->kept.settings;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].div == 0)
			sep_ble_set_t(st, (enum bms_set_key)t[i].key, d, t[i].off);
		else
			bms_settings_put_raw(st, (enum bms_set_key)t[i].key, bms_be16(d + t[i].off), t[i].lo, t[i].hi,
					     t[i].div == 1 ? 1000.0 : 100.0);
	}
	return BMS_OK;
}

/* The settings answer (step 1): refused (RTN != 0), the poll is complete
 * without it. */
static int sep_ble_set_answer(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	if (f[3] != SEP_BLE_SET)
		return BMS_E_UNEXPECTED;
	if (f[4] != 0) {
		poll->refusals++;
		poll->step = 2;
		return BMS_OK;
	}
	int rc = sep_ble_settings(poll, f + SEP_BLE_HDR, len - SEP_BLE_OVER);
	if (rc == BMS_OK)
		poll->step = 2;
	return rc;
}

static int sep_ble_handle(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	if (len < SEP_BLE_OVER || len != (size_t)bms_be16(f + 5) + SEP_BLE_OVER)
		return BMS_E_SHORT;
	if (f[0] != SEP_BLE_SOI || f[1] != SEP_BLE_VER)
		return BMS_E_HEADER;
	if (!sep_ble_sum_ok(f, len))
		return BMS_E_CHECKSUM;
	if (poll->step == 1 && poll->settings_due)
		return sep_ble_set_answer(poll, f, len);
	if (poll->step != 0 || f[3] != SEP_BLE_CMD)
		return BMS_E_UNEXPECTED;
	if (f[4] != 0)
		return BMS_E_REFUSED;
	struct bms_pylonframe_rd r;
	unsigned m, nt;
	bms_pylonframe_rd_init(&r, f + SEP_BLE_HDR, len - SEP_BLE_OVER);
	int rc = sep_values(poll, &r, &m, &nt);
	if (rc == BMS_OK)
		rc = sep_ble_status(&poll->snap, &r, m, nt);
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

static int sep_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t adr = poll->address;

	if (adr > SEP_MAX_ADR || poll->step < 0)
		return BMS_E_RANGE;
	if (sep_ble(poll))
		return sep_ble_request(poll, out, cap);
	if (poll->step >= SEP_NSTEPS)
		return 0;
	return bms_pylonframe_build(out, cap, SEP_VER, adr, BMS_PYLONFRAME_CID1_BATTERY,
				    sep_steps[poll->step], &adr, 1);
}

static enum bms_scan sep_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	if (sep_ble(poll))
		return sep_ble_scan(buf, len, n);
	return bms_pylonframe_scan(buf, len, n);
}

static int sep_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_pylonframe f;
	uint8_t info[BMS_PYLONFRAME_MAX_INFO];
	int rc;

	if (sep_ble(poll))
		return sep_ble_handle(poll, frame, len);
	rc = bms_pylonframe_take(poll, SEP_NSTEPS, frame, len, &f, info, sizeof(info));
	if (rc < 0)
		return rc;
	if (sep_steps[poll->step] == SEP_TELEMETRY)
		rc = sep_telemetry(poll, info, f.ninfo);
	else
		rc = sep_telecommand(poll, info, f.ninfo);
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

/* The settings read over Bluetooth timed out (or was answered badly): the
 * poll is complete without it. */
static bool sep_timeout(struct bms_poll *poll)
{
	if (!sep_ble(poll) || poll->step != 1 || !poll->settings_due)
		return false;
	poll->step = 2;
	return true;
}

/* Identification (§27): the poll's first read, 0x42 of DIP
 * address 0 (VER 0x20, CID1 0x46); 19200 baud, the document's 9600 second. */
static void sep_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	static const uint8_t vers[] = { 0x20, 0 };
	bms_paceic_probe_judge(&bms_seplos_driver, vers, poll, buf, len, r);
}

static const struct bms_probe sep_probe = {
	.bauds = { 19200, 9600 },
	.addrs = { SEP_MIN_ADR },
	.naddrs = 1,
	.rank = 7,
	.gap = 0.05,
	.timeout = 0.3,
	.judge = sep_probe_judge,
};

/* Over Bluetooth LE: service FF00, notify FF01, write FF02 (syssi's
 * seplos_bms_ble, aiobmsble's seplos_v2_bms; §46). */
static const struct bms_gatt sep_gatt[] = {
	BMS_GATT16("ff00", "ff01", "ff02"),
	BMS_GATT_END,
};

/* BP0?, BP1?, BP2?: "BP", 0..2 and one more character (aiobmsble). */
static bool sep_ble_name(const char *name)
{
	return strlen(name) == 4 && name[0] == 'B' && name[1] == 'P' && name[2] >= '0' && name[2] <= '2';
}

static const struct bms_ble_hint sep_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, sep_ble_name, 0, false, "name BP0? / BP1? / BP2? (Seplos V2)"},
	{0},
};

/* Listen mode (bms/bus.h): the answers to the requests of its own poll. */
BMS_LISTEN_REPLAY(sep, bms_seplos_driver, bms_bus_paceic_at, bms_listen_same_paceic)

static const struct bms_ble sep_bluetooth = {
	.gatt = sep_gatt,
	.hints = sep_ble_hints,
};

const struct bms_driver bms_seplos_driver = {
	.name = "seplos",
	.description = "Seplos V2 RS485 (Pylontech-style ~...CR ASCII, 0x42/0x44) or Bluetooth LE (binary 0x61)",
	.vendor = "Seplos",
	.protocol_id = 9,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	/* over Bluetooth LE, 0x47 when the settings are due (§46.5) */
	.settings = BMS_SET_TEMP_PROTECT | BMS_SET_BIT(BMS_SET_CELL_OVP_V) |
		BMS_SET_BIT(BMS_SET_CELL_OVP_RELEASE_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) |
		BMS_SET_BIT(BMS_SET_CELL_UVP_RELEASE_V) | BMS_SET_BIT(BMS_SET_BALANCE_START_V) |
		BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V) |
		BMS_SET_BIT(BMS_SET_MOS_OTP_C) | BMS_SET_BIT(BMS_SET_MOS_OTP_RELEASE_C) |
		BMS_SET_BIT(BMS_SET_CHARGE_OCP_A) | BMS_SET_BIT(BMS_SET_CAPACITY_AH),
	.default_baud = 19200,
	BMS_PYLONFRAME_LINK(SEP_MIN_ADR, SEP_MAX_ADR),
	.default_timeout = 1.5,
	.next_request = sep_next_request,
	.listen = &sep_listen,
	.scan = sep_scan,
	.handle = sep_handle,
	.timeout = sep_timeout,
	.finish = bms_finish_pack,
	.probe = &sep_probe,
	.ble = &sep_bluetooth,
};
