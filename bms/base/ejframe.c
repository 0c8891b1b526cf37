/* SPDX-License-Identifier: MIT */
/* bms/base/ejframe.c - E&J Technology's ASCII frames (bms/ejframe.h): the
 * framer and the cell slots the family's drivers share (chins, chins-nus,
 * pwrboozt, doerr).  bms/PROTOCOLS.md §37.2 (the frame), §78.2 (the check
 * over the decoded bytes, the NUL padding).
 */
#include "../ejframe.h"

#include <string.h>

#define EJ_HDR_HEX 10           /* addr, cmd, version, length */
#define EJ_CELLS 16
#define EJ_NODATA 6             /* the bytes of a frame without data: header and check */
#define EJ_BT_TEMPS 4
#define EJ_BT_MAX_MA 2000000    /* 2000 A */

/* The RT working state (§37.5): 0 charging, 1 discharging, 2 overcharge, 3
 * over-discharge, 4 charge over-current, 5 short circuit, 6 / 7 discharge
 * over-current 1 / 2, 8 / 9 charge over / under temperature, 10 / 11
 * discharge over / under temperature (protections), 12 discharge MOSFET
 * on, 13 charge MOSFET on, 14 / 15 the discharge / charge switches. */
#define L2 BMS_AL_PROTECTION
static const struct bms_alarm_rule ej_rules[] = {
	{ 0, 2, BMS_AL_CELL_OV | L2 }, { 0, 3, BMS_AL_CELL_UV | L2 }, { 0, 4, BMS_AL_CHG_OC | L2 },
	{ 0, 5, BMS_AL_SHORT | L2 }, { 0, 6, BMS_AL_DSG_OC | L2 }, { 0, 7, BMS_AL_DSG_OC | L2 },
	{ 0, 8, BMS_AL_CHG_OT | L2 }, { 0, 9, BMS_AL_CHG_UT | L2 }, { 0, 10, BMS_AL_DSG_OT | L2 },
	{ 0, 11, BMS_AL_DSG_UT | L2 },
};
#undef L2
#define EJ_ST_CHARGING 0x0001u
#define EJ_ST_DISCHARGING 0x0002u
#define EJ_ST_DSG_MOS 0x1000u
#define EJ_ST_CHG_MOS 0x2000u

/* buf[i..len) starts with the BLE module's "AT\r\n": 4, more bytes needed:
 * 0, anything else: -1. */
static int ej_at(const uint8_t *buf, size_t i, size_t len)
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

/* The check of a frame whose digits decoded into m[0..nb) (the check
 * last) and whose characters before the check summed to sum. */
static bool ej_check_ok(const uint8_t *m, size_t nb, unsigned sum, unsigned flags)
{
	if ((flags & BMS_EJ_SUM_BYTES) && nb > EJ_NODATA)
		sum = bms_sum(m + 1, nb - 2);
	return (uint8_t)((sum & 0xFF) ^ 0xFF) == m[nb - 1];
}

enum bms_scan bms_ej_walk(const uint8_t *buf, size_t len, unsigned flags, size_t *n, uint8_t *msg, size_t *nmsg)
{
	uint8_t local[BMS_EJ_MAX_MSG];
	uint8_t *m = msg ? msg : local;
	size_t i = 1, h = 0, hexlen = 0;
	unsigned sum = 0, field = 0;
	uint8_t byte = 0;
	int v;

	for (;; i++) {
		if (i >= len)
			return BMS_SCAN_NEED;
		if ((flags & BMS_EJ_NUL) && buf[i] == 0x00)
			continue; /* the module's padding */
		if (buf[i] == 'A') {
			int at = ej_at(buf, i, len);
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
		if (h >= 6 && h < EJ_HDR_HEX)
			field = field << 4 | (unsigned)v;
		byte = (uint8_t)(byte << 4 | v);
		if (h & 1)
			m[h / 2] = byte;
		if (++h == EJ_HDR_HEX) {
			/* the length field: the characters of the whole frame */
			if (field < BMS_EJ_MIN_LEN || field > BMS_EJ_MAX_LEN || (field & 1)) {
				*n = 1;
				return BMS_SCAN_SKIP;
			}
			hexlen = field - 2;
		}
	}
	if (buf[i] != BMS_EJ_EOF) {
		*n = i; /* a ':' starts the next frame, anything else is junk */
		return BMS_SCAN_SKIP;
	}
	*n = i + 1;
	if (!hexlen || h != hexlen || !ej_check_ok(m, h / 2, sum, flags))
		return BMS_SCAN_BADSUM;
	if (nmsg)
		*nmsg = h / 2;
	return BMS_SCAN_FRAME;
}

enum bms_scan bms_ej_scan(const uint8_t *buf, size_t len, unsigned flags, size_t *n)
{
	uint8_t m[BMS_EJ_MAX_MSG];
	size_t nm = 0;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, BMS_EJ_SOF, &r, n))
		return r;
	r = bms_ej_walk(buf, len, flags, n, m, &nm);
	if (r == BMS_SCAN_FRAME && ((flags & BMS_EJ_CMD_PLAIN) ? nm <= EJ_NODATA : !(m[1] & BMS_EJ_ANSWER)))
		return BMS_SCAN_SKIP; /* a request: ours, echoed */
	return r;
}

int bms_ej_decode(const uint8_t *frame, size_t len, unsigned flags, uint8_t *msg, size_t *nmsg)
{
	size_t n = 0;
	if (len < BMS_EJ_MIN_LEN || frame[0] != BMS_EJ_SOF)
		return BMS_E_HEADER;
	if (bms_ej_walk(frame, len, flags, &n, msg, nmsg) != BMS_SCAN_FRAME || n != len)
		return BMS_E_CHECKSUM;
	if ((flags & BMS_EJ_CMD_PLAIN) ? *nmsg <= EJ_NODATA : !(msg[1] & BMS_EJ_ANSWER))
		return BMS_E_UNEXPECTED; /* a request */
	return BMS_OK;
}

unsigned bms_ej_cells(struct bms_snapshot *s, const uint8_t *m, size_t off, uint8_t cells_forced)
{
	unsigned n = 0, sum = 0;
	for (unsigned i = 0; i < EJ_CELLS; i++) {
		s->cell_mv[i] = bms_be16(m + off + 2 * i);
		if (s->cell_mv[i])
			n = i + 1;
	}
	if (cells_forced)
		n = cells_forced < EJ_CELLS ? cells_forced : EJ_CELLS;
	for (unsigned i = 0; i < EJ_CELLS; i++)
		if (i < n)
			sum += s->cell_mv[i];
		else
			s->cell_mv[i] = 0;
	s->ncells = (uint8_t)n;
	s->present |= BMS_HAS_CELLS;
	return sum;
}

int bms_ej_rt(struct bms_poll *poll, const uint8_t *m, bool single)
{
	struct bms_snapshot s;
	uint16_t st = bms_be16(m + BMS_EJ_O_STATE);

	if (m[BMS_EJ_O_SOC] > 100)
		return BMS_E_RANGE;
	memset(&s, 0, sizeof(s));
	unsigned sum = bms_ej_cells(&s, m, BMS_EJ_O_CELLS, poll->cells_forced);
	s.voltage = (float)sum / 1000.0f; /* not transmitted: the sum of the cells */
	s.current = ((float)bms_be16(m + BMS_EJ_O_CHG) - (float)bms_be16(m + BMS_EJ_O_DSG)) / 100.0f;
	if (poll->invert_current)
		s.current = -s.current;
	s.temp_c[0] = (float)m[BMS_EJ_O_TEMP] - 40.0f;
	s.ntemps = 1;
	s.dsg_mos = (st & EJ_ST_DSG_MOS) != 0;
	s.chg_mos = (st & EJ_ST_CHG_MOS) != 0;
	s.state = (st & EJ_ST_CHARGING) ? 1 : (st & EJ_ST_DISCHARGING) ? 2 : 0;
	s.alarms = bms_alarm_map(&st, 1, ej_rules, sizeof(ej_rules) / sizeof(ej_rules[0]));
	s.raw_alarms[0] = st;
	s.nraw = 1;
	s.balance = bms_be16(m + BMS_EJ_O_BALANCE);
	s.cycles = bms_be16(m + BMS_EJ_O_CYCLES);
	s.soc = m[BMS_EJ_O_SOC];
	s.present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_TEMPS |
		     BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS;
	if (single) {
		s.remain_ah = (float)bms_be16(m + BMS_EJ_O_REMAIN) / 10.0f;
		s.full_ah = (float)bms_be16(m + BMS_EJ_O_FULL) / 10.0f;
		s.present |= BMS_HAS_REMAIN | BMS_HAS_FULL;
	}
	poll->snap = s;
	return BMS_OK;
}

static bool ej_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool bms_ej_chins_name(const char *n)
{
	size_t i = 2, k;
	if (strncmp(n, "G-", 2) != 0)
		return false;
	for (k = i; ej_digit(n[k]); k++)
		;
	if (k == i || n[k] != 'V')
		return false;
	for (i = ++k; ej_digit(n[k]); k++)
		;
	if (k == i || n[k] != 'A' || (n[k + 1] != 'h' && n[k + 1] != 'H') || n[k + 2] != '-')
		return false;
	return ej_digit(n[k + 3]);
}

int bms_ej_bt_status(struct bms_poll *poll, const uint8_t *m, size_t nm, int32_t ma)
{
	struct bms_snapshot s;
	if (nm < BMS_EJ_BT_MIN)
		return BMS_E_SHORT;
	uint16_t mv = bms_be16(m + 62);
	if (m[69] > 100 || mv == 0 || ma > EJ_BT_MAX_MA || ma < -EJ_BT_MAX_MA)
		return BMS_E_RANGE;
	memset(&s, 0, sizeof(s));
	(void)bms_ej_cells(&s, m, BMS_EJ_O_CELLS, poll->cells_forced);
	for (unsigned i = 0; i < EJ_BT_TEMPS; i++)
		s.temp_c[i] = (float)m[48 + i] - 40.0f;
	s.ntemps = EJ_BT_TEMPS;
	s.current = (float)ma / 1000.0f;
	if (poll->invert_current)
		s.current = -s.current;
	s.voltage = (float)mv / 1000.0f;
	s.cycles = bms_be16(m + 67);
	s.soc = m[69];
	s.full_ah = (float)bms_be32(m + 70) / 1000.0f;
	s.present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_FULL |
		     BMS_HAS_TEMPS;
	poll->snap = s;
	return BMS_OK;
}
