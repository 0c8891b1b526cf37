/* SPDX-License-Identifier: MIT */
/* bms/chins.c - the E&J Technology BMS over Bluetooth LE: Chins, Lithtech,
 * Supervolt, Volthium and the older LiTime serials, and the single-frame
 * variant of Chins / Metrisun.
 *
 * See bms/PROTOCOLS.md §37.  Bluetooth LE only, through the module's Nordic
 * UART service (6e400001-..., write 6e400002-..., notify 6e400003-...), or
 * AG Automotive's ("AG Power Lithium": 00008000-...-57616c6b697a, write
 * 00008001-..., notify 00008002-...).
 * Frames are ASCII: ':', then hex digits, then '~':
 *	addr (2) cmd (2; | 0x80 in an answer) version (2) length (4: the
 *	characters of the whole frame) data ... checksum (2)
 * the checksum being the sum of the characters between ':' and it, low
 * byte, XOR 0xFF.  The BLE module puts "AT\r\n" between and inside the
 * frames' notifications: skipped wherever it comes (a 'T' is never a hex
 * digit, so an 'A' followed by "T\r\n" is the module's).  A poll asks:
 *	RT	:000250000E03~  -> 128 characters (63 bytes hex-decoded), or 140
 *		(69 bytes) from the single-frame variant (Chins, Metrisun)
 *	CAP	:001031000E05~  -> 30 characters; not asked after a 140-one
 * Byte offsets of the hex-decoded answer (the header included), big-endian:
 *	RT  12 u16[16] cells mV (0 = none), 44 u16 charge / 46 u16 discharge
 *	    current (0.01 A: current = charge - discharge), 48 temperature
 *	    + 40 degC (49..51: not served, §37.3), 52 u16 working state
 *	    (bits below), 55 u16 balancing (cells 1-16), 57 u16 cycles, 61 SOC %;
 *	    the 140 one: 62 remaining and 64 full capacity (u16 0.1 Ah)
 *	CAP 7 remaining, 9 full capacity (u16 0.1 Ah)
 * The pack voltage is not transmitted: it is the sum of the cells.
 * Working state: 0 charging, 1 discharging, 2 overcharge, 3 over-discharge,
 * 4 charge over-current, 5 short circuit, 6 / 7 discharge over-current 1 /
 * 2, 8 / 9 charge over / under temperature, 10 / 11 discharge over / under
 * temperature (protections), 12 discharge MOSFET on, 13 charge MOSFET on,
 * 14 / 15 the discharge / charge switches.  raw_alarms[0]: the word.
 * The firmware that sends no checksum ("00": the libatt* modules) is not
 * read: its frames fail the check.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define CH_SOF ':'
#define CH_EOF '~'
#define CH_HDR_HEX 10           /* addr, cmd, version, length */
#define CH_MIN_LEN 14           /* ':' + header + checksum + '~' */
#define CH_MAX_LEN 256          /* the longest frame framed (140 is the longest known) */
#define CH_MAX_MSG ((CH_MAX_LEN - 2) / 2)
#define CH_ANSWER 0x80
#define CH_CMD_RT 0x02
#define CH_CMD_CAP 0x10
#define CH_RT_LEN 128
#define CH_RT_SF_LEN 140        /* the single-frame variant */
#define CH_CAP_LEN 30
#define CH_CELLS 16

enum { CH_RT, CH_CAP, CH_DONE };

enum {
	CH_O_CELLS = 12,
	CH_O_CHG = 44,
	CH_O_DSG = 46,
	CH_O_TEMP = 48,
	CH_O_STATE = 52,
	CH_O_BALANCE = 55,
	CH_O_CYCLES = 57,
	CH_O_SOC = 61,
	CH_O_SF_REMAIN = 62,
	CH_O_SF_FULL = 64,
	CH_O_CAP_REMAIN = 7,
	CH_O_CAP_FULL = 9,
};

#define L2 BMS_AL_PROTECTION
static const struct bms_alarm_rule ch_rules[] = {
	{ 0, 2, BMS_AL_CELL_OV | L2 }, { 0, 3, BMS_AL_CELL_UV | L2 }, { 0, 4, BMS_AL_CHG_OC | L2 },
	{ 0, 5, BMS_AL_SHORT | L2 }, { 0, 6, BMS_AL_DSG_OC | L2 }, { 0, 7, BMS_AL_DSG_OC | L2 },
	{ 0, 8, BMS_AL_CHG_OT | L2 }, { 0, 9, BMS_AL_CHG_UT | L2 }, { 0, 10, BMS_AL_DSG_OT | L2 },
	{ 0, 11, BMS_AL_DSG_UT | L2 },
};
#undef L2
#define CH_ST_CHARGING 0x0001u
#define CH_ST_DISCHARGING 0x0002u
#define CH_ST_DSG_MOS 0x1000u
#define CH_ST_CHG_MOS 0x2000u

/* buf[i..len) starts with the BLE module's "AT\r\n": 4, more bytes needed:
 * 0, anything else: -1. */
static int ch_at(const uint8_t *buf, size_t i, size_t len)
{
	static const char at[4] = { 'A', 'T', '\r', '\n' };
	for (size_t k = 0; k < 4; k++) {
		if (i + k >= len)
			return 0;
		if (buf[i + k] != (uint8_t)at[k])
			return -1;
	}
	return 4;
}

/* The frame at buf[0] (':'): its extent, and (msg not NULL, room for
 * CH_MAX_MSG bytes) its hex digits decoded into msg[0..*nmsg), the
 * checksum byte last.  FRAME (*n: up to '~', "AT\r\n" included), NEED,
 * SKIP (*n: the bytes up to what cannot be in a frame, e.g. the next ':'),
 * BADSUM (complete, but longer or shorter than its length field, or the
 * checksum is wrong). */
static enum bms_scan ch_walk(const uint8_t *buf, size_t len, size_t *n, uint8_t *msg, size_t *nmsg)
{
	size_t i = 1, h = 0, hexlen = 0;
	unsigned sum = 0, field = 0;
	uint8_t byte = 0;
	int v;

	for (;; i++) {
		if (i >= len)
			return BMS_SCAN_NEED;
		if (buf[i] == 'A') {
			int at = ch_at(buf, i, len);
			if (at == 0)
				return BMS_SCAN_NEED;
			if (at > 0) {
				i += 3; /* the module's AT, not a digit */
				continue;
			}
		}
		if ((v = bms_hexval(buf[i])) < 0)
			break;
		if (hexlen && h >= hexlen) {
			*n = i + 1; /* longer than its length field */
			return BMS_SCAN_BADSUM;
		}
		if (!hexlen || h < hexlen - 2)
			sum += buf[i];
		if (h >= 6 && h < CH_HDR_HEX)
			field = field << 4 | (unsigned)v;
		byte = (uint8_t)(byte << 4 | v);
		if ((h & 1) && msg)
			msg[h / 2] = byte;
		if (++h == CH_HDR_HEX) {
			/* the length field: the characters of the whole frame */
			if (field < CH_MIN_LEN || field > CH_MAX_LEN || (field & 1)) {
				*n = 1;
				return BMS_SCAN_SKIP;
			}
			hexlen = field - 2;
		}
	}
	if (buf[i] != CH_EOF) {
		*n = i; /* a ':' starts the next frame, anything else is junk */
		return BMS_SCAN_SKIP;
	}
	*n = i + 1;
	if (!hexlen || h != hexlen || (uint8_t)((sum & 0xFF) ^ 0xFF) != byte)
		return BMS_SCAN_BADSUM;
	if (nmsg)
		*nmsg = h / 2;
	return BMS_SCAN_FRAME;
}

static int ch_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const char rt[] = ":000250000E03~", capq[] = ":001031000E05~";
	const char *q = poll->step == CH_RT ? rt : poll->step == CH_CAP ? capq : NULL;
	return q ? bms_request_copy(out, cap, q, strlen(q)) : 0;
}

/* A frame whose command has bit 7 (an answer) is a frame; a request (ours,
 * echoed) is skipped whole; anything before a ':' (the module's "AT\r\n"
 * too) is skipped. */
static enum bms_scan ch_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	uint8_t msg[CH_MAX_MSG];
	size_t nmsg = 0;
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, CH_SOF, &r, n))
		return r;
	r = ch_walk(buf, len, n, msg, &nmsg);
	if (r == BMS_SCAN_FRAME && !(msg[1] & CH_ANSWER))
		return BMS_SCAN_SKIP;
	return r;
}

static uint16_t ch_u16(const uint8_t *m, size_t off)
{
	return bms_be16(m + off);
}

/* RT: cells, current, temperature, working state, balancing, cycles, SOC;
 * the single-frame variant's capacities. */
static int ch_rt(struct bms_poll *poll, const uint8_t *m, bool single)
{
	struct bms_snapshot s;
	unsigned n = 0, sum = 0;
	uint16_t st = ch_u16(m, CH_O_STATE);

	if (m[CH_O_SOC] > 100)
		return BMS_E_RANGE;
	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < CH_CELLS; i++) {
		s.cell_mv[i] = ch_u16(m, CH_O_CELLS + 2 * i);
		if (s.cell_mv[i])
			n = i + 1;
	}
	if (poll->cells_forced)
		n = poll->cells_forced < CH_CELLS ? poll->cells_forced : CH_CELLS;
	for (unsigned i = 0; i < CH_CELLS; i++)
		if (i < n)
			sum += s.cell_mv[i];
		else
			s.cell_mv[i] = 0;
	s.ncells = (uint8_t)n;
	s.voltage = (float)sum / 1000.0f; /* not transmitted: the sum of the cells */
	s.current = ((float)ch_u16(m, CH_O_CHG) - (float)ch_u16(m, CH_O_DSG)) / 100.0f;
	if (poll->invert_current)
		s.current = -s.current;
	s.temp_c[0] = (float)m[CH_O_TEMP] - 40.0f;
	s.ntemps = 1;
	s.dsg_mos = (st & CH_ST_DSG_MOS) != 0;
	s.chg_mos = (st & CH_ST_CHG_MOS) != 0;
	s.state = (st & CH_ST_CHARGING) ? 1 : (st & CH_ST_DISCHARGING) ? 2 : 0;
	s.alarms = bms_alarm_map(&st, 1, ch_rules, sizeof(ch_rules) / sizeof(ch_rules[0]));
	s.raw_alarms[0] = st;
	s.nraw = 1;
	s.balance = ch_u16(m, CH_O_BALANCE);
	s.cycles = ch_u16(m, CH_O_CYCLES);
	s.soc = m[CH_O_SOC];
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_CELLS |
		    BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS;
	if (single) {
		s.remain_ah = (float)ch_u16(m, CH_O_SF_REMAIN) / 10.0f;
		s.full_ah = (float)ch_u16(m, CH_O_SF_FULL) / 10.0f;
		s.present |= BMS_HAS_REMAIN | BMS_HAS_FULL;
	}
	poll->snap = s;
	return BMS_OK;
}

static int ch_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t m[CH_MAX_MSG];
	size_t n = 0, nm = 0;

	if (len < CH_MIN_LEN || frame[0] != CH_SOF)
		return BMS_E_HEADER;
	if (ch_walk(frame, len, &n, m, &nm) != BMS_SCAN_FRAME || n != len)
		return BMS_E_CHECKSUM;
	if (!(m[1] & CH_ANSWER))
		return BMS_E_UNEXPECTED; /* a request */
	unsigned cmd = m[1] & 0x7F, total = 2 * (unsigned)nm + 2;
	if (poll->step == CH_RT && cmd == CH_CMD_RT) {
		if (total != CH_RT_LEN && total != CH_RT_SF_LEN)
			return BMS_E_SHORT;
		int rc = ch_rt(poll, m, total == CH_RT_SF_LEN);
		if (rc == BMS_OK)
			poll->step = total == CH_RT_SF_LEN ? CH_DONE : CH_CAP;
		return rc;
	}
	if (poll->step == CH_CAP && cmd == CH_CMD_CAP) {
		if (total != CH_CAP_LEN)
			return BMS_E_SHORT;
		poll->snap.remain_ah = (float)ch_u16(m, CH_O_CAP_REMAIN) / 10.0f;
		poll->snap.full_ah = (float)ch_u16(m, CH_O_CAP_FULL) / 10.0f;
		poll->snap.present |= BMS_HAS_REMAIN | BMS_HAS_FULL;
		poll->step = CH_DONE;
		return BMS_OK;
	}
	return BMS_E_UNEXPECTED; /* not the answer outstanding */
}

static int ch_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, CH_DONE);
}

/* The Nordic UART service (aiobmsble's ej_bms; batmon-ha's supervolt), and
 * AG Automotive's own service (aiobmsble's ag_bms, §37.7). */
#define CH_AG_UUID(n) "0000800" n "-0000-1000-8000-57616c6b697a"
static const struct bms_gatt ch_gatt[] = {
	BMS_GATT_NUS,
	{ .service = CH_AG_UUID("0"), .notify = CH_AG_UUID("2"), .write = CH_AG_UUID("1") },
	BMS_GATT_END,
};

static bool ch_at_is(const char *n, size_t at, const char *want)
{
	size_t k = strlen(want);
	return strlen(n) >= at + k && strncmp(n + at, want, k) == 0;
}

static bool ch_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Chins "G-<volts>V<Ah>A[hH]-<serial digits>" (G-12V300Ah-0345). */
static bool ch_chins_name(const char *n)
{
	size_t i = 2, k;
	if (strncmp(n, "G-", 2) != 0)
		return false;
	for (k = i; ch_digit(n[k]); k++)
		;
	if (k == i || n[k] != 'V')
		return false;
	for (i = ++k; ch_digit(n[k]); k++)
		;
	if (k == i || n[k] != 'A' || (n[k + 1] != 'h' && n[k + 1] != 'H') || n[k + 2] != '-')
		return false;
	return ch_digit(n[k + 3]);
}

/* The names of aiobmsble's ej_bms matcher: Lithtech L-12V???AH-*,
 * Volthium V-12V???Ah-*, the older LiTime serials LT-12???BG-A0[0-6]* and
 * LT-24???B-A00[0-2]* (the later ones are bms/litime.c's), Chins. */
static bool ch_ble_name(const char *n)
{
	if (strncmp(n, "L-12V", 5) == 0)
		return ch_at_is(n, 8, "AH-");
	if (strncmp(n, "V-12V", 5) == 0)
		return ch_at_is(n, 8, "Ah-");
	if (strncmp(n, "LT-12", 5) == 0 && ch_at_is(n, 8, "BG-A0"))
		return n[13] >= '0' && n[13] <= '6';
	if (strncmp(n, "LT-24", 5) == 0 && ch_at_is(n, 8, "B-A00"))
		return n[13] >= '0' && n[13] <= '2';
	return ch_chins_name(n);
}

/* AG Automotive "AG???L*" (AG100L21021805; aiobmsble's ag_bms). */
static bool ch_ag_name(const char *n)
{
	return strncmp(n, "AG", 2) == 0 && strlen(n) >= 6 && n[5] == 'L';
}

/* --ble-scan: names only.  The module's service is Nordic's UART service,
 * which many other devices have; its manufacturer ids (21320, 33384) are
 * shared with other brands' modules (aiobmsble pairs them with a name). */
static const struct bms_ble_hint ch_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, ch_ble_name, 0, false, "name (E&J: Chins / Lithtech / Volthium / older LiTime)"},
	{1, BMS_BLE_NAME, "LT-12V-", NULL, 0, false, "name LT-12V-* (E&J: Lithtech)"},
	{1, BMS_BLE_NAME, "SV12V", NULL, 0, false, "name SV12V* (E&J: Supervolt)"},
	{1, BMS_BLE_NAME, NULL, ch_ag_name, 0, false, "name AG???L* (E&J: AG Automotive AG Power Lithium)"},
	{0},
};

static const struct bms_ble ch_ble = {
	.only = true,
	.gatt = ch_gatt,
	.hints = ch_ble_hints,
};

const struct bms_driver bms_chins_driver = {
	.name = "chins",
	.description = "E&J BMS over Bluetooth LE (Chins, Lithtech, Supervolt, AG Power; ASCII :...~, RT 0x02 + CAP 0x10)",
	.vendor = "E&J Technology",
	.protocol_id = 30,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = ch_next_request,
	.scan = ch_scan,
	.handle = ch_handle,
	.finish = ch_finish,
	.ble = &ch_ble,
};
