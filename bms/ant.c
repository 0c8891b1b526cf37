/* SPDX-License-Identifier: MIT */
/* bms/ant.c - ANT BMS ("ANT-BLE…" boards), both dialects, over its UART
 * (TTL levels on the display / Bluetooth header: the pins marked "A/B" are
 * not RS485) and over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §28.  Two dialects, one driver:
 *
 *   2021+ ("7E A1"), little-endian:
 *	request  7E A1 <func> <addr lo> <addr hi> <len> <crc lo> <crc hi> AA 55
 *	answer   7E A1 <func|0x10> <addr 2> <len> <len bytes> <crc 2> AA 55
 *	CRC-16/MODBUS of bytes 1 .. len+5.  Status 0x01 (answer 0x11), device
 *	information 0x02 at 0x026C (answer 0x12, whose CRC sits at 6+len as
 *	usual but whose AA 55 comes 6 bytes later: 48 bytes for len 0x20).
 *   legacy ("AA 55 AA FF"), big-endian:
 *	request  5A 5A 00 00 01 01 (syssi) or DB DB 00 00 00 00
 *		 (dbus-serialbattery) over the UART, DB DB 00 00 00 00 over BLE
 *	answer   AA 55 AA FF <134 bytes> <sum16 of bytes 4..137, big-endian>
 *	140 bytes in all.
 *
 * A 2021 board answers both dialects, a 2019 board only the legacy one.
 * The dialect is learned from the first status answer and kept in
 * poll->persist (ANT_P_*); until then the tries of the status step go
 * round 7E A1, 5A 5A 00 00 01 01, DB DB 00 00 00 00 on the UART (a board
 * may know only one of the legacy read-alls; three tries, the first poll's
 * with the default retries, ask each) and 7E A1, DB DB over BLE, across
 * polls (the timeout hook moves on, so a pack that gets one try a poll
 * meets every request too).  Once the legacy dialect is learned, the
 * read-all answered is kept; on the UART a try that got no answer moves to
 * the other one.  A poll is the status request, then on the 7E A1 dialect
 * the device information while the identity is due, then, in a poll the
 * gateway marks settings_due, the settings ant_set_reqs[] (func 0x02 at
 * a register's address for a number of bytes: the block 0x0000..0x0037
 * the vendor's app reads, then single registers; answer 0x12 with the
 * address and length asked, the 6 bytes of the device information's
 * answer or none before AA 55: §28.7); the first left unanswered ends them
 * for the poll, a later one is skipped.  The legacy dialect has no
 * settings read.
 *
 * Sign of the current: raw > 0 = discharging in both dialects, so both
 * currents and powers are negated (+ = charging, as everywhere in bmsgw).
 * 7E A1: two boards' btsnoop logs (syssi's ANT-BLE16ZMUB and 24BHUB) read
 * +0.3 .. +2.3 A while the BMS's remaining capacity falls by that current,
 * its discharged Ah and discharging time rise and its charged Ah stays
 * (tests/fixtures ANT-11, ANT-12); syssi and aiobmsble serve it raw.
 * Legacy: as aiobmsble and dbus-serialbattery read it; syssi serves it
 * raw.  §28.5.
 * MOSFET states: the status codes of byte 46 (discharge) and 47 (charge)
 * after the cells and temperatures, as the app's switch commands and the
 * frames after each show (syssi's btsnoop log of an ANT-BLE24BHUB: "charge
 * on" turns byte 47 on and no current flows, "discharge on" byte 46 and
 * the load's discharge current with it; §28.5) and as batmon-ha reads
 * them, against syssi and aiobmsble; legacy 103 (charge) / 104
 * (discharge), the vendor document's; code 1 = on.
 * A MOSFET switched off by hand (code 0x0F) is a state, not an alarm: its
 * code raises nothing, nor do the protection-mask bits that mirror it.
 * raw_alarms[]: [0] charge | discharge MOSFET code << 8, [1] balancer
 * status | battery status << 8 (0 on legacy), [2] / [3] the first four bytes
 * of the 7E A1 protection bitmask (0 on legacy).
 * A board with a password (the pack's `pin`, over Bluetooth LE, §28.8)
 * gets it once a connection before the status read, in aiobmsble's frame
 * 7E A1 23 01 6A <n> <PIN ASCII> <CRC-16/Modbus of bytes 1.. LE> AA 55;
 * the board answers nothing to it, and nothing to a read while it lacks
 * the right one (a refusal is its silence: ble->pin's silent).  Without a
 * pin nothing of it is written.
 * Nothing else is ever written: no MOSFET switch (0x51 / A5 A5 F9..FA), no
 * password change (A5 A5 F1..F4), no settings write.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define ANT_NEW0 0x7E
#define ANT_NEW1 0xA1
#define ANT_END0 0xAA
#define ANT_END1 0x55
#define ANT_REQ_LEN 10
#define ANT_NEW_MIN 10          /* header 6, CRC 2, AA 55 */
#define ANT_F_STATUS 0x01
#define ANT_F_INFO 0x02
#define ANT_F_ANSWER 0x10
#define ANT_INFO_EXTRA 6        /* the device information's bytes between CRC and AA 55 */
#define ANT_INFO_TEXT 16        /* model at 6, firmware at 22 */
#define ANT_INFO_ADDR 0x026C    /* the device information's address (func 0x02) */

#define ANT_LEG_LEN 140
#define ANT_LEG_REQ 6
#define ANT_LEG_CELLS 32
#define ANT_L_MAX_DA 30000      /* 3000 A in 0.1 A: beyond it no BMS's current */

#define ANT_TEMP_ABSENT (-40)   /* 0xFFD8: no probe there */
#define ANT_MAX_PROBES 16       /* more would be no ANT's (syssi: 4, aiobmsble: 6) */
#define ANT_LEG_PROBES 4        /* of the legacy frame's six slots (aiobmsble) */
#define ANT_MOS_ON 1
/* A MOSFET switched off by hand (the app's 0x51 buttons): status code 0x0F,
 * and in the 7E A1 protection mask byte 12 (mask byte 2) bit 1 beside the
 * discharge MOSFET's (byte 46) 0x0F, bit 5 beside the charge MOSFET's
 * (byte 47) (syssi's btsnoop_hci_ANT-BLE24BHUB-commands.log:
 * tests/fixtures ANT-06, ANT-14; each bit comes and goes with its code).
 * A state, not an alarm. */
#define ANT_MOS_MANUAL 0x0F
#define ANT_PROT_MANUAL_AT 2
#define ANT_PROT_MANUAL_DSG 0x02u
#define ANT_PROT_MANUAL_CHG 0x20u

/* poll->persist: the dialect learned; until then whether the next try asks
 * the legacy one; the legacy read-all on the UART (DB DB, else 5A 5A) */
#define ANT_P_NEW 0x1u
#define ANT_P_LEGACY 0x2u
#define ANT_P_MASK (ANT_P_NEW | ANT_P_LEGACY)
#define ANT_P_TRY_LEG 0x4u
#define ANT_P_DBDB 0x8u
#define ANT_P_AUTHED 0x10u      /* the PIN was sent on this connection and a read answered */
#define ANT_F_AUTH 0x23         /* the password (§28.8), at 0x6A01 */
#define ANT_AUTH_ADDR 0x6A01

/* the steps: the status, the device information, then the settings
 * requests ANT_SET + i (ant_set_reqs[i]), then ANT_DONE */
enum { ANT_PIN = -1, ANT_STATUS = 0, ANT_INFO, ANT_SET };

/* 7E A1 status answer, offsets before o = 2 * cells + 2 * probes */
enum {
	ANT_O_STATE = 7,
	ANT_O_PROBES = 8,
	ANT_O_CELLS = 9,
	ANT_O_PROTECT = 10,
	ANT_O_CELL = 34,
	ANT_O_MOS_TEMP = 34,  /* + o */
	ANT_O_VOLT = 38,
	ANT_O_CURRENT = 40,
	ANT_O_SOC = 42,
	ANT_O_SOH = 44,
	ANT_O_DSG = 46,
	ANT_O_CHG = 47,
	ANT_O_BAL = 48,
	ANT_O_FULL = 50,
	ANT_O_REMAIN = 54,
	ANT_O_POWER = 62,
	ANT_O_BALANCED = 70,
	ANT_O_END = 112,      /* + o: the last field's end (charging time, 108 u32) */
};

/* legacy status answer */
enum {
	ANT_L_VOLT = 4,
	ANT_L_CELL = 6,
	ANT_L_CURRENT = 70,
	ANT_L_SOC = 74,
	ANT_L_FULL = 75,
	ANT_L_REMAIN = 79,
	ANT_L_TEMP = 91,
	ANT_L_CHG = 103,
	ANT_L_DSG = 104,
	ANT_L_BAL = 105,
	ANT_L_POWER = 111,
	ANT_L_CELLS = 123,
	ANT_L_BALANCED = 132,
};

static const uint8_t ant_req_status[ANT_REQ_LEN] = { 0x7E, 0xA1, 0x01, 0x00, 0x00, 0xBE, 0x18, 0x55, 0xAA, 0x55 };
static const uint8_t ant_req_info[ANT_REQ_LEN] = { 0x7E, 0xA1, 0x02, 0x6C, 0x02, 0x20, 0x58, 0xC4, 0xAA, 0x55 };
static const uint8_t ant_req_leg_wire[ANT_LEG_REQ] = { 0x5A, 0x5A, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t ant_req_leg_ble[ANT_LEG_REQ] = { 0xDB, 0xDB, 0x00, 0x00, 0x00, 0x00 };

#define P BMS_AL_PROTECTION
/* The charge MOSFET's status codes (syssi's ant_bms / ant_bms_old): 0 off,
 * 1 on, 4 battery full, 0x0B reserved, 0x0E waiting, 0x0F manually off
 * raise nothing; an unknown code OTHER. */
static const uint32_t ant_chg_codes[0x15] = {
	[0x02] = BMS_AL_CELL_OV | P, [0x03] = BMS_AL_CHG_OC | P, [0x05] = BMS_AL_PACK_OV | P,
	[0x06] = BMS_AL_CHG_OT | P, [0x07] = BMS_AL_MOS_OT | P, [0x08] = BMS_AL_OTHER,
	[0x09] = BMS_AL_HW_FAULT, [0x0A] = BMS_AL_OTHER, [0x0C] = BMS_AL_MOS_FAULT,
	[0x0D] = BMS_AL_MOS_FAULT, [0x10] = BMS_AL_CELL_OV | P, [0x11] = BMS_AL_CHG_UT | P,
	[0x12] = BMS_AL_CELL_DIFF | P, [0x14] = BMS_AL_HW_FAULT,
};
/* The discharge MOSFET's: 0 off, 1 on, 0x0B "charge MOSFET on", 0x0F
 * manually off raise nothing. */
static const uint32_t ant_dsg_codes[0x14] = {
	[0x02] = BMS_AL_CELL_UV | P, [0x03] = BMS_AL_DSG_OC | P, [0x04] = BMS_AL_DSG_OC | P,
	[0x05] = BMS_AL_PACK_UV | P, [0x06] = BMS_AL_DSG_OT | P, [0x07] = BMS_AL_MOS_OT | P,
	[0x08] = BMS_AL_OTHER, [0x09] = BMS_AL_HW_FAULT, [0x0A] = BMS_AL_OTHER,
	[0x0C] = BMS_AL_SHORT | P, [0x0D] = BMS_AL_MOS_FAULT, [0x0E] = BMS_AL_MOS_FAULT,
	[0x10] = BMS_AL_CELL_UV | P, [0x11] = BMS_AL_DSG_UT | P, [0x12] = BMS_AL_CELL_DIFF | P,
	[0x13] = BMS_AL_HW_FAULT,
};
#undef P

/* The settings (7E A1 dialect, func 0x02 at a register's address for a
 * number of bytes; §28.7): the requests, in order (the first the block the
 * vendor's app reads, the others one register each), and the fields whose
 * meaning and scale are certain: raw u16 in [lo, hi] / div into the key. */
static const struct ant_set_req {
	uint16_t addr;
	uint8_t len;
} ant_set_reqs[] = {
	{0x0000, 0x38}, {0x0068, 2}, {0x006A, 2}, {0x006C, 2}, {0x006E, 2}, {0x0074, 2},
	{0x0076, 2}, {0x008E, 2}, {0x0090, 2}, {0x0094, 2}, {0x009A, 2}, {0x009E, 2},
};
#define ANT_NSET ((int)(sizeof(ant_set_reqs) / sizeof(ant_set_reqs[0])))
#define ANT_DONE (ANT_SET + ANT_NSET)

static const struct ant_set_reg {
	uint16_t addr;
	uint8_t key;
	uint32_t lo, hi;
	double div;
} ant_set_regs[] = {
	{0x0000, BMS_SET_CELL_OVP_V, 1, 10000, 1000.0},         /* mV */
	{0x0002, BMS_SET_CELL_OVP_RELEASE_V, 1, 10000, 1000.0},
	{0x0008, BMS_SET_PACK_OVP_V, 1, 20000, 10.0},           /* 0.1 V */
	{0x000C, BMS_SET_CELL_UVP_V, 1, 10000, 1000.0},
	{0x000E, BMS_SET_CELL_UVP_RELEASE_V, 1, 10000, 1000.0},
	{0x0014, BMS_SET_PACK_UVP_V, 1, 20000, 10.0},
	{0x0018, BMS_SET_CELL_DIFF_V, 1, 10000, 1000.0},
	{0x0068, BMS_SET_CHARGE_OCP_A, 1, 65534, 10.0},         /* 0.1 A */
	{0x006A, BMS_SET_CHARGE_OCP_DELAY_S, 0, 65534, 1.0},    /* s */
	{0x006C, BMS_SET_DISCHARGE_OCP_A, 1, 65534, 10.0},
	{0x006E, BMS_SET_DISCHARGE_OCP_DELAY_S, 0, 65534, 1.0},
	{0x0074, BMS_SET_SHORT_CIRCUIT_A, 1, 65534, 1.0},       /* A */
	{0x0076, BMS_SET_SHORT_CIRCUIT_DELAY_S, 0, 65534, 1e6}, /* us */
	{0x008E, BMS_SET_BALANCE_START_V, 1, 10000, 1000.0},
	{0x0090, BMS_SET_BALANCE_DELTA_V, 1, 10000, 1000.0},
	{0x0094, BMS_SET_BALANCE_CURRENT_A, 0, 65534, 1000.0},  /* mA */
	{0x009A, BMS_SET_CELL_COUNT, 1, BMS_LV_MAX_CELLS, 1.0},
	{0x009E, BMS_SET_POWER_OFF_V, 1, 10000, 1000.0},
};
/* poll->seen: a settings request of this poll was answered */
#define ANT_SET_GOT 0x1u

/* The dialect this step asks in: the learned one, else the turn's. */
static uint32_t ant_dialect(const struct bms_poll *poll)
{
	uint32_t d = poll->persist & ANT_P_MASK;
	if (d == ANT_P_NEW || d == ANT_P_LEGACY)
		return d;
	return (poll->persist & ANT_P_TRY_LEG) ? ANT_P_LEGACY : ANT_P_NEW;
}

/* Is the PIN to be sent before the status read?  Over Bluetooth LE, with a
 * pin, to a board not known to be a legacy one, once a connection (again
 * while no read was answered after it). */
static bool ant_pin_due(const struct bms_poll *poll)
{
	if (poll->link != BMS_LINK_BLE || !poll->pin[0] || poll->auth != BMS_AUTH_NONE ||
	    (poll->persist & ANT_P_MASK) == ANT_P_LEGACY)
		return false;
	return poll->link_fresh || !(poll->persist & ANT_P_AUTHED);
}

/* 7E A1 23 01 6A <n> <PIN> <CRC LE> AA 55 (§28.8). */
static int ant_pin_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	size_t n = strlen(poll->pin);
	if (cap < n + ANT_NEW_MIN)
		return BMS_E_NOSPACE;
	out[0] = ANT_NEW0;
	out[1] = ANT_NEW1;
	out[2] = ANT_F_AUTH;
	out[3] = (uint8_t)ANT_AUTH_ADDR;
	out[4] = (uint8_t)(ANT_AUTH_ADDR >> 8);
	out[5] = (uint8_t)n;
	memcpy(out + 6, poll->pin, n);
	uint16_t crc = bms_crc16_modbus(out + 1, n + 5);
	out[6 + n] = (uint8_t)crc;
	out[7 + n] = (uint8_t)(crc >> 8);
	out[8 + n] = ANT_END0;
	out[9 + n] = ANT_END1;
	poll->step = ANT_PIN;
	poll->auth = BMS_AUTH_SENT;
	poll->persist &= ~ANT_P_AUTHED;
	poll->secret_req = true;
	return (int)(n + ANT_NEW_MIN);
}

/* The PIN is written: nothing answers it, the status read follows. */
static bool ant_sent(struct bms_poll *poll)
{
	if (poll->step != ANT_PIN)
		return false;
	poll->step = ANT_STATUS;
	return true;
}

static int ant_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	const uint8_t *req;
	size_t n = ANT_REQ_LEN;
	if (poll->step == ANT_PIN || (poll->step == ANT_STATUS && ant_pin_due(poll)))
		return ant_pin_request(poll, out, cap);
	if (poll->step >= ANT_DONE)
		return 0;
	if (poll->step >= ANT_SET) {
		const struct ant_set_req *q = &ant_set_reqs[poll->step - ANT_SET];
		uint8_t r[ANT_REQ_LEN] = { ANT_NEW0, ANT_NEW1, ANT_F_INFO, (uint8_t)q->addr, (uint8_t)(q->addr >> 8),
					   q->len, 0, 0, ANT_END0, ANT_END1 };
		uint16_t crc = bms_crc16_modbus(r + 1, 5);
		r[6] = (uint8_t)crc;
		r[7] = (uint8_t)(crc >> 8);
		return bms_request_copy(out, cap, r, ANT_REQ_LEN);
	}
	if (poll->step == ANT_INFO) {
		req = ant_req_info;
	} else if (ant_dialect(poll) == ANT_P_NEW) {
		req = ant_req_status;
	} else {
		bool dbdb = poll->link == BMS_LINK_BLE || (poll->persist & ANT_P_DBDB);
		req = dbdb ? ant_req_leg_ble : ant_req_leg_wire;
		n = ANT_LEG_REQ;
	}
	return bms_request_copy(out, cap, req, n);
}

/* 7E A1 at buf[0]: a request (func without bit 4, 10 bytes, our own echoed)
 * is skipped whole; an answer is <len> + 10 bytes (the device information
 * + 6: a 0x12 answer without AA 55 right after its CRC), its CRC at 6 + len
 * and AA 55 at its end. */
static enum bms_scan ant_scan_new(const uint8_t *buf, size_t len, size_t *n)
{
	if (len < 2)
		return BMS_SCAN_NEED;
	if (buf[1] != ANT_NEW1) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < 6)
		return BMS_SCAN_NEED;
	if (!(buf[2] & ANT_F_ANSWER)) {
		/* a request: 10 bytes, the password's its PIN's more */
		size_t d = buf[2] == ANT_F_AUTH ? buf[5] : 0;
		if (len < ANT_REQ_LEN + d)
			return BMS_SCAN_NEED;
		bool req = bms_crc16_modbus(buf + 1, 5 + d) == bms_le16(buf + 6 + d) && buf[8 + d] == ANT_END0 &&
			   buf[9 + d] == ANT_END1;
		*n = req ? ANT_REQ_LEN + d : 1;
		return BMS_SCAN_SKIP;
	}
	size_t body = (size_t)buf[5] + 6, total = body + 4;
	if (len < body + 2)
		return BMS_SCAN_NEED;
	if (bms_crc16_modbus(buf + 1, body - 1) != bms_le16(buf + body))
		return bms_scan_tail(false, true, body, n);
	/* a 0x12 answer: 6 bytes before AA 55 (the device information, the
	 * settings block of the app's capture), or none (a settings register
	 * as #18 describes it) */
	if (buf[2] == (ANT_F_INFO | ANT_F_ANSWER)) {
		if (len < total)
			return BMS_SCAN_NEED;
		if (buf[total - 2] != ANT_END0 || buf[total - 1] != ANT_END1)
			total += ANT_INFO_EXTRA;
	}
	if (len < total)
		return BMS_SCAN_NEED;
	return bms_scan_tail(buf[total - 2] == ANT_END0 && buf[total - 1] == ANT_END1, true, total, n);
}

/* AA 55 AA FF at buf[0]: 140 bytes, the sum of 4..137 at 138. */
static enum bms_scan ant_scan_legacy(const uint8_t *buf, size_t len, size_t *n)
{
	static const uint8_t head[4] = { 0xAA, 0x55, 0xAA, 0xFF };
	for (size_t i = 1; i < sizeof(head); i++) {
		if (i >= len)
			return BMS_SCAN_NEED;
		if (buf[i] != head[i]) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
	}
	if (len < ANT_LEG_LEN)
		return BMS_SCAN_NEED;
	return bms_scan_tail((uint16_t)bms_sum(buf + 4, ANT_LEG_LEN - 6) == bms_be16(buf + ANT_LEG_LEN - 2), true,
			     ANT_LEG_LEN, n);
}

static enum bms_scan ant_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] == ANT_NEW0)
		return ant_scan_new(buf, len, n);
	if (buf[0] == 0xAA)
		return ant_scan_legacy(buf, len, n);
	*n = bms_scan_skip(buf, len, (const uint8_t[]){ ANT_NEW0, 0xAA }, 2);
	return BMS_SCAN_SKIP;
}

/* The alarms of the MOSFET status codes (and a protection bit set, but
 * for the bits of a MOSFET switched off by hand). */
static void ant_alarms(struct bms_snapshot *s, uint8_t chg, uint8_t dsg, uint16_t w1, const uint8_t *protect)
{
	uint32_t al = 0;
	al |= chg < sizeof(ant_chg_codes) / sizeof(ant_chg_codes[0]) ? ant_chg_codes[chg] : BMS_AL_OTHER;
	al |= dsg < sizeof(ant_dsg_codes) / sizeof(ant_dsg_codes[0]) ? ant_dsg_codes[dsg] : BMS_AL_OTHER;
	s->raw_alarms[0] = (uint16_t)(chg | dsg << 8);
	s->raw_alarms[1] = w1;
	s->nraw = 2;
	if (protect) {
		unsigned manual = (chg == ANT_MOS_MANUAL ? ANT_PROT_MANUAL_CHG : 0) |
				  (dsg == ANT_MOS_MANUAL ? ANT_PROT_MANUAL_DSG : 0);
		for (int i = 0; i < 8; i++)
			if (protect[i] & ~(i == ANT_PROT_MANUAL_AT ? manual : 0u))
				al |= BMS_AL_OTHER;
		s->raw_alarms[2] = bms_le16(protect);
		s->raw_alarms[3] = bms_le16(protect + 2);
		s->nraw = 4;
	}
	s->alarms = al;
	s->chg_mos = chg == ANT_MOS_ON;
	s->dsg_mos = dsg == ANT_MOS_ON;
}

/* A probe's temperature, unless it is the absent marker (-40).  One
 * beyond any sensor's range is kept as read: the gateway serves it absent
 * and flags a sensor fault (bms_sensor_faults). */
static void ant_temp(struct bms_snapshot *s, int16_t v)
{
	if (v == ANT_TEMP_ABSENT || s->ntemps >= BMS_MAX_TEMPS)
		return;
	s->temp_c[s->ntemps++] = (float)v;
	s->present |= BMS_HAS_TEMPS;
}

/* The cells: n of them (or the configured count, if fewer). */
static void ant_cells(const struct bms_poll *poll, struct bms_snapshot *s, const uint8_t *p, unsigned n, bool be)
{
	if (poll->cells_forced && poll->cells_forced < n)
		n = poll->cells_forced;
	for (unsigned i = 0; i < n; i++)
		s->cell_mv[i] = be ? bms_be16(p + 2 * i) : bms_le16(p + 2 * i);
	s->ncells = (uint8_t)n;
}

static uint8_t ant_state(uint8_t status)
{
	return status == 2 ? 1 : status == 3 ? 2 : 0;
}

/* The 7E A1 status (0x11): f[0..len), its length checked against the
 * counts. */
static int ant_status_new(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	unsigned n = f[ANT_O_CELLS], t = f[ANT_O_PROBES];
	if (n > BMS_LV_MAX_CELLS || t > ANT_MAX_PROBES)
		return BMS_E_RANGE;
	size_t o = 2 * (size_t)n + 2 * t;
	if ((size_t)f[5] + 6 < ANT_O_END + o || len < ANT_O_END + o)
		return BMS_E_SHORT;
	uint16_t soc = bms_le16(f + ANT_O_SOC + o), soh = bms_le16(f + ANT_O_SOH + o);
	if (soc > 100)
		return BMS_E_RANGE;
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	ant_cells(poll, &s, f + ANT_O_CELL, n, false);
	for (unsigned i = 0; i < t; i++)
		ant_temp(&s, bms_les16(f + ANT_O_CELL + 2 * n + 2 * i));
	int16_t mos = bms_les16(f + ANT_O_MOS_TEMP + o);
	if (mos != ANT_TEMP_ABSENT) {
		s.mos_temp_c = mos;
		s.present |= BMS_HAS_MOS_TEMP;
	}
	s.voltage = (float)bms_le16(f + ANT_O_VOLT + o) / 100.0f;
	/* raw > 0 = discharging (the captures, §28.5): negated */
	s.current = -(float)bms_les16(f + ANT_O_CURRENT + o) / 10.0f;
	s.power = -(float)(int32_t)bms_le32(f + ANT_O_POWER + o);
	if (poll->invert_current) {
		s.current = -s.current;
		s.power = -s.power;
	}
	s.soc = soc;
	if (soh <= 100) {
		s.soh = soh;
		s.present |= BMS_HAS_SOH;
	}
	s.full_ah = (float)((double)bms_le32(f + ANT_O_FULL + o) / 1e6);
	s.remain_ah = (float)((double)bms_le32(f + ANT_O_REMAIN + o) / 1e6);
	s.balance = bms_le32(f + ANT_O_BALANCED + o);
	s.state = ant_state(f[ANT_O_STATE]);
	s.present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		     BMS_HAS_FULL | BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS;
	ant_alarms(&s, f[ANT_O_CHG + o], f[ANT_O_DSG + o], (uint16_t)(f[ANT_O_BAL + o] | f[ANT_O_STATE] << 8),
		   f + ANT_O_PROTECT);
	poll->snap = s;
	return BMS_OK;
}

/* Whether the legacy power agrees with V x I: within what the fields'
 * resolution allows (0.1 V, 0.1 A, whole W) and 5 % besides (the values
 * are not taken at one instant).  Its placeholder 9999 (syssi's
 * esphome-ant-bms#37: 9999 W on a board the app showed -144 W for) and a
 * power 10 times off (esphome-ant-bms#28, a 2020 board) do not. */
static bool ant_power_agrees(float v, float a, float w)
{
	float vi = v * a;
	float tol = 0.05f * v + 0.05f * fabsf(a) + 1.0f + 0.05f * fabsf(vi);
	return fabsf(w - vi) <= tol;
}

/* The legacy status (140 bytes, big-endian). */
static int ant_status_legacy(struct bms_poll *poll, const uint8_t *f)
{
	unsigned n = f[ANT_L_CELLS];
	int32_t deci_a = (int32_t)bms_be32(f + ANT_L_CURRENT);
	if (n > ANT_LEG_CELLS || f[ANT_L_SOC] > 100 || deci_a > ANT_L_MAX_DA || deci_a < -ANT_L_MAX_DA)
		return BMS_E_RANGE;
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	ant_cells(poll, &s, f + ANT_L_CELL, n, true);
	for (unsigned i = 0; i < ANT_LEG_PROBES; i++)
		ant_temp(&s, bms_bes16(f + ANT_L_TEMP + 2 * i));
	s.voltage = (float)bms_be16(f + ANT_L_VOLT) / 10.0f;
	/* raw > 0 = discharging (aiobmsble, dbus-serialbattery): negated */
	s.current = -(float)deci_a / 10.0f;
	s.power = -(float)(int32_t)bms_be32(f + ANT_L_POWER);
	if (poll->invert_current) {
		s.current = -s.current;
		s.power = -s.power;
	}
	s.soc = f[ANT_L_SOC];
	s.full_ah = (float)((double)bms_be32(f + ANT_L_FULL) / 1e6);
	s.remain_ah = (float)((double)bms_be32(f + ANT_L_REMAIN) / 1e6);
	s.balance = bms_be32(f + ANT_L_BALANCED);
	s.present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CELLS |
		     BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS;
	/* a power that contradicts V x I is absent (the gateway derives V x I) */
	if (ant_power_agrees(s.voltage, s.current, s.power))
		s.present |= BMS_HAS_POWER;
	else
		s.power = 0;
	if (s.full_ah > 0) /* some boards send 0 (ANT-09): not a capacity */
		s.present |= BMS_HAS_FULL;
	ant_alarms(&s, f[ANT_L_CHG], f[ANT_L_DSG], f[ANT_L_BAL], NULL);
	poll->snap = s;
	return BMS_OK;
}

/* The step after the device information (or in its place): the settings
 * registers when the gateway says they are due (7E A1 only), from the
 * first. */
static void ant_to_settings(struct bms_poll *poll)
{
	poll->step = poll->settings_due ? ANT_SET : ANT_DONE;
	poll->seen = 0;
}

/* The step after a status answer of dialect d. */
static int ant_after_status(struct bms_poll *poll, uint32_t d)
{
	poll->persist = (poll->persist & ~(ANT_P_MASK | ANT_P_TRY_LEG)) | d;
	if (poll->auth == BMS_AUTH_SENT) { /* a read answered after the PIN: taken */
		poll->auth = BMS_AUTH_OK;
		poll->persist |= ANT_P_AUTHED;
	}
	if (d != ANT_P_NEW)
		poll->step = ANT_DONE;
	else if (bms_ident_due(poll))
		poll->step = ANT_INFO;
	else
		ant_to_settings(poll);
	return BMS_OK;
}

/* The next settings register, or none. */
static void ant_set_next(struct bms_poll *poll)
{
	poll->step++;
}

/* A settings answer (0x12 at the address and of the length asked, its 6
 * bytes before AA 55 or none): the fields it holds into the settings,
 * shown read only; one outside its range leaves the key as it was. */
static int ant_setting(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	const struct ant_set_req *q = &ant_set_reqs[poll->step - ANT_SET];
	size_t n = f[5];
	if (bms_le16(f + 3) != q->addr)
		return BMS_E_UNEXPECTED;
	if (n != q->len || (len != n + ANT_NEW_MIN && len != n + ANT_NEW_MIN + ANT_INFO_EXTRA))
		return BMS_E_SHORT;
	for (size_t i = 0; i < sizeof(ant_set_regs) / sizeof(ant_set_regs[0]); i++) {
		const struct ant_set_reg *r = &ant_set_regs[i];
		if (r->addr < q->addr || (size_t)(r->addr - q->addr) + 2 > n)
			continue;
		bms_settings_put_raw(&poll->kept.settings, (enum bms_set_key)r->key,
				     bms_le16(f + 6 + (r->addr - q->addr)), r->lo, r->hi, r->div);
	}
	poll->seen |= ANT_SET_GOT;
	ant_set_next(poll);
	return BMS_OK;
}

static int ant_info(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	if (len < 6 + 2 * ANT_INFO_TEXT || (size_t)f[5] < 2 * ANT_INFO_TEXT)
		return BMS_E_SHORT;
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_ident_text(id->model, sizeof(id->model), f + 6, ANT_INFO_TEXT);
	bms_ident_text(id->firmware, sizeof(id->firmware), f + 6 + ANT_INFO_TEXT, ANT_INFO_TEXT);
	poll->kept.ident_state = bms_ident_any(id) ? BMS_IDENT_HAVE : BMS_IDENT_NONE;
	ant_to_settings(poll);
	return BMS_OK;
}

static int ant_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len == ANT_LEG_LEN && frame[0] == 0xAA) {
		if (bms_be32(frame) != 0xAA55AAFFu)
			return BMS_E_HEADER;
		if ((uint16_t)bms_sum(frame + 4, ANT_LEG_LEN - 6) != bms_be16(frame + ANT_LEG_LEN - 2))
			return BMS_E_CHECKSUM;
		if (poll->step != ANT_STATUS)
			return BMS_E_UNEXPECTED;
		int rc = ant_status_legacy(poll, frame);
		return rc == BMS_OK ? ant_after_status(poll, ANT_P_LEGACY) : rc;
	}
	if (len < ANT_NEW_MIN)
		return BMS_E_SHORT;
	if (frame[0] != ANT_NEW0 || frame[1] != ANT_NEW1 || frame[len - 2] != ANT_END0 || frame[len - 1] != ANT_END1)
		return BMS_E_HEADER;
	size_t body = (size_t)frame[5] + 6;
	if (body + 4 > len)
		return BMS_E_SHORT;
	if (bms_crc16_modbus(frame + 1, body - 1) != bms_le16(frame + body))
		return BMS_E_CHECKSUM;
	if (poll->step == ANT_STATUS && frame[2] == (ANT_F_STATUS | ANT_F_ANSWER)) {
		if (len != body + 4)
			return BMS_E_SHORT;
		int rc = ant_status_new(poll, frame, len);
		return rc == BMS_OK ? ant_after_status(poll, ANT_P_NEW) : rc;
	}
	if (frame[2] != (ANT_F_INFO | ANT_F_ANSWER))
		return BMS_E_UNEXPECTED;
	if (poll->step == ANT_INFO && bms_le16(frame + 3) == ANT_INFO_ADDR)
		return ant_info(poll, frame, len);
	if (poll->step >= ANT_SET && poll->step < ANT_DONE)
		return ant_setting(poll, frame, len);
	return BMS_E_UNEXPECTED;
}

/* A try failed (no answer, or a bad one).  An unanswered device
 * information: the poll is complete without it.  An unanswered status: the
 * next try (of this poll or the next) asks the next request in turn while
 * no dialect is known (7E A1, 5A 5A, DB DB on the UART; 7E A1, DB DB over
 * BLE), the other legacy read-all on the UART once the legacy one is. */
static bool ant_timeout(struct bms_poll *poll)
{
	if (poll->step == ANT_STATUS) {
		bool wire = poll->link != BMS_LINK_BLE;
		uint32_t d = ant_dialect(poll);
		if (poll->persist & ANT_P_MASK) {
			if (d == ANT_P_LEGACY && wire)
				poll->persist ^= ANT_P_DBDB;
		} else if (d == ANT_P_NEW) {
			poll->persist = (poll->persist | ANT_P_TRY_LEG) & ~ANT_P_DBDB;
		} else if (wire && !(poll->persist & ANT_P_DBDB)) {
			poll->persist |= ANT_P_DBDB;
		} else {
			poll->persist &= ~(ANT_P_TRY_LEG | ANT_P_DBDB);
		}
		return false;
	}
	if (poll->step >= ANT_SET && poll->step < ANT_DONE) {
		/* none answered yet: the BMS does not know them, the rest are
		 * not asked this poll; else the next register (§28.7) */
		if (poll->seen & ANT_SET_GOT)
			ant_set_next(poll);
		else
			poll->step = ANT_DONE;
		return true;
	}
	if (poll->step != ANT_INFO)
		return false;
	bms_ident_missing(poll, false);
	ant_to_settings(poll);
	return true;
}

static int ant_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, ANT_DONE);
}

/* Service FFE0, one characteristic FFE1 that notifies and takes the
 * writes (syssi's ant_bms_ble / ant_bms_old_ble, aiobmsble's ant_bms and
 * ant_leg_bms). */
static const struct bms_gatt ant_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe1"),
	BMS_GATT_END,
};

/* --ble-scan: the boards' names ANT-BLE… (aiobmsble: ANT-BLE* for both
 * dialects, with service FFE0), before JK's service FFE0.  A board with a
 * password set needs it (0x23): the pack's pin. */
static const struct bms_ble_hint ant_ble_hints[] = {
	{1, BMS_BLE_NAME, "ANT-BLE", NULL, 0, false, "name ANT-BLE* (ANT BMS)"},
	{0},
};

/* Identification (§27, §28.6): the legacy read-alls, which the 2019 and
 * the 2021 boards answer (ANT-09, ANT-10, ANT-15), both in one write,
 * 5A 5A 00 00 01 01 then DB DB 00 00 00 00 (a board may know only one of
 * them; a second try at each rate would not fit the detector's 15 s), at
 * 19200 (the 2021+ boards, syssi) and 9600 (the legacy document): one try
 * each, a short wait (the 140 bytes take 73 ms at 19200).  The first
 * answer is judged. */
static void ant_probe_prepare(struct bms_poll *poll)
{
	poll->persist = ANT_P_LEGACY;
}

static int ant_probe_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	(void)poll;
	if (cap < 2 * ANT_LEG_REQ)
		return BMS_E_NOSPACE;
	memcpy(out, ant_req_leg_wire, ANT_LEG_REQ);
	memcpy(out + ANT_LEG_REQ, ant_req_leg_ble, ANT_LEG_REQ);
	return 2 * ANT_LEG_REQ;
}

static const struct bms_probe ant_probe = {
	.bauds = { 19200, 9600 },
	.rank = 16, /* after the others of these rates, before Sinowealth */
	.gap = 0.05,
	.timeout = 0.15,
	.prepare = ant_probe_prepare,
	.request = ant_probe_request,
};

/* The board's password (aiobmsble's ant_bms, PR #172; §28.8): ASCII, its
 * length in the frame's length byte; never acknowledged. */
static const struct bms_ble_pin ant_pin = {
	.name = "password",
	.min_len = 1,
	.max_len = 16,
	.silent = true,
};

static const struct bms_ble ant_ble = {
	.gatt = ant_gatt,
	.hints = ant_ble_hints,
	.pin = &ant_pin,
};

const struct bms_driver bms_ant_driver = {
	.name = "ant",
	.description = "ANT BMS, UART (TTL) or Bluetooth LE (7E A1 ... AA 55 and the legacy AA 55 AA FF frame)",
	.vendor = "ANT",
	.protocol_id = 21,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	.default_baud = 19200,
	/* no floor is documented (3.5 character times) */
	.gap_floor = 0,
	.interbyte = 0.3,
	.min_address = 0,
	.max_address = 0,
	.default_timeout = 1.0,
	.next_request = ant_next_request,
	.scan = ant_scan,
	.handle = ant_handle,
	.timeout = ant_timeout,
	.finish = ant_finish,
	.sent = ant_sent,
	.ble = &ant_ble,
	.probe = &ant_probe,
	/* the settings registers, 7E A1 func 0x02 (§28.7) */
	.settings = BMS_SET_OCP_PROTECT | BMS_SET_BIT(BMS_SET_CELL_OVP_V) |
		BMS_SET_BIT(BMS_SET_CELL_OVP_RELEASE_V) | BMS_SET_BIT(BMS_SET_PACK_OVP_V) |
		BMS_SET_BIT(BMS_SET_CELL_UVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_RELEASE_V) |
		BMS_SET_BIT(BMS_SET_PACK_UVP_V) | BMS_SET_BIT(BMS_SET_CELL_DIFF_V) |
		BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_A) | BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_DELAY_S) |
		BMS_SET_BIT(BMS_SET_BALANCE_START_V) | BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) |
		BMS_SET_BIT(BMS_SET_BALANCE_CURRENT_A) | BMS_SET_BIT(BMS_SET_CELL_COUNT) |
		BMS_SET_BIT(BMS_SET_POWER_OFF_V),
};
