/* SPDX-License-Identifier: MIT */
/* bms/litime.c - LiTime, Redodo and Power Queen LiFePO4 batteries over
 * Bluetooth LE (their own BMS, the LiTime / Redodo / Power Queen apps;
 * also Starry Sea), and the older LiTime serials excepted, which speak the
 * E&J protocol (bms/chins.c).
 *
 * See bms/PROTOCOLS.md §30.  Bluetooth LE only: service FFE0, the BMS
 * notifies on FFE1 and takes writes on FFE2 (FFE3 is the BLE module's AT
 * channel: never used).  A request is 8 bytes
 *	00 00 04 01 <cmd> 55 AA <sum8 of bytes 0..6>
 * and an answer
 *	00 00 <n> 01 <cmd | 0x80> 55 AA <status> <data> <sum8>
 * of n + 4 bytes, the last the sum of all the others.  A poll is one
 * request, the status 0x13 (00 00 04 01 13 55 AA 17), answered by 0x93
 * with n = 0x65 (105 bytes), little-endian:
 *	8 u32 mV	the voltage at the terminals (not served: below)
 *	12 u32 mV	the battery's voltage, the sum of its cells
 *	16 u16[16] mV	the cells (0 = no cell)
 *	48 s32 mA	current, + = charging
 *	52 s16 degC	cell temperature;  54 s16 degC  MOSFET temperature
 *	62 / 64 u16	remaining / full capacity, 0.01 Ah
 *	76 u32		protection state;  80 u32  failure state
 *	90 u16 %	SOC;  92 u32 %  SOH;  96 u32  cycles
 * The voltage served is the one at 12: it is the sum of the cells in every
 * capture, where the one at 8 differs from it by up to 0.35 V at 0 A (a
 * charger behind an open charge MOSFET; §30.3).  Not decoded (meaning
 * unknown or uncertain, §30.3): 56..61 (a third temperature of -2 degC
 * beside 23 degC in one capture: a phantom cold sensor would cut the
 * charge limit), 68 heat / switch flags, 84 balancing, 88 battery state,
 * 100 total discharged Ah.  No MOSFET state is transmitted.
 * raw_alarms[]: [0] / [1] the protection word (low, high 16 bits),
 * [2] / [3] the failure word.
 * Nothing else is ever written: the other commands (0x0A..0x0D switches,
 * 0x60 shutdown, 0x64 sleep, 0x40 set SOC) are never sent.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define LT_REQ_LEN 8
#define LT_HDR 8                /* 00 00 n 01 cmd 55 AA status */
#define LT_MIN_N 4              /* the shortest n: a frame of 8 bytes */
#define LT_CMD_STATUS 0x13
#define LT_ANSWER 0x80
#define LT_STATUS_N 0x65        /* n of the status answer: 105 bytes */
#define LT_STATUS_LEN (LT_STATUS_N + 4)
#define LT_CELLS 16
#define LT_MAX_MV 100000u       /* a pack of more than 100 V is no LiTime battery */
#define LT_MAX_MA 3000000       /* 3000 A */

enum {
	LT_O_VOLT = 12,
	LT_O_CELLS = 16,
	LT_O_CURRENT = 48,
	LT_O_TEMP = 52,
	LT_O_MOS_TEMP = 54,
	LT_O_REMAIN = 62,
	LT_O_FULL = 64,
	LT_O_PROTECT = 76,
	LT_O_FAILURE = 80,
	LT_O_SOC = 90,
	LT_O_SOH = 92,
	LT_O_CYCLES = 96,
};

enum { LT_STATUS = 0, LT_DONE };

#define L2 BMS_AL_PROTECTION
/* The protection word (bits as two independent readers name them, §30.4): 2 overcharge, 5 over-discharge, 6
 * charge / 7 discharge over-current, 8-9 high / 10-11 low temperature (which
 * of charge and discharge is not known: both), 14 short circuit.  Any
 * other bit of it or of the failure word: OTHER. */
static const struct bms_alarm_rule lt_rules[] = {
	{ 0, 2, BMS_AL_CELL_OV | L2 }, { 0, 5, BMS_AL_CELL_UV | L2 }, { 0, 6, BMS_AL_CHG_OC | L2 },
	{ 0, 7, BMS_AL_DSG_OC | L2 }, { 0, 8, BMS_AL_CHG_OT | BMS_AL_DSG_OT | L2 },
	{ 0, 9, BMS_AL_CHG_OT | BMS_AL_DSG_OT | L2 }, { 0, 10, BMS_AL_CHG_UT | BMS_AL_DSG_UT | L2 },
	{ 0, 11, BMS_AL_CHG_UT | BMS_AL_DSG_UT | L2 }, { 0, 14, BMS_AL_SHORT | L2 },
};
#undef L2
#define LT_KNOWN_BITS 0x4FE4u   /* the bits of the rules above */

static int lt_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const uint8_t status[LT_REQ_LEN] = { 0x00, 0x00, 0x04, 0x01, LT_CMD_STATUS, 0x55, 0xAA, 0x17 };
	if (poll->step >= LT_DONE)
		return 0;
	return bms_request_copy(out, cap, status, LT_REQ_LEN);
}

/* 00 00 n 01 cmd 55 AA ... sum8: an answer (cmd bit 7) is a frame, a
 * request (our own, echoed) is skipped whole; anything else byte by byte up
 * to the next 00. */
static enum bms_scan lt_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	static const uint8_t head[LT_HDR - 1] = { 0x00, 0x00, 0, 0x01, 0, 0x55, 0xAA };
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, 0x00, &r, n))
		return r;
	for (size_t i = 1; i < LT_HDR - 1; i++) {
		if (i >= len)
			return BMS_SCAN_NEED;
		if ((i == 2 && buf[i] < LT_MIN_N) || (i != 2 && i != 4 && buf[i] != head[i])) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
	}
	size_t total = (size_t)buf[2] + 4;
	if (len < total)
		return BMS_SCAN_NEED;
	return bms_scan_tail((uint8_t)bms_sum(buf, total - 1) == buf[total - 1], (buf[4] & LT_ANSWER) != 0, total, n);
}

/* The cells: up to the last one that is not 0 (or the configured count). */
static void lt_cells(const struct bms_poll *poll, const uint8_t *f, struct bms_snapshot *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < LT_CELLS; i++) {
		s->cell_mv[i] = bms_le16(f + LT_O_CELLS + 2 * i);
		if (s->cell_mv[i])
			n = i + 1;
	}
	if (poll->cells_forced)
		n = poll->cells_forced < LT_CELLS ? poll->cells_forced : LT_CELLS;
	for (unsigned i = n; i < LT_CELLS; i++)
		s->cell_mv[i] = 0;
	s->ncells = (uint8_t)n;
}

/* A temperature, s16 degC.  One outside -50..150 degC (0x7FFF: a sensor
 * that gives nothing) is kept as read: the gateway serves it absent and
 * flags a sensor fault (bms_sensor_faults). */
static float lt_temp(const uint8_t *p)
{
	return (float)bms_les16(p);
}

static void lt_alarms(const uint8_t *f, struct bms_snapshot *s)
{
	uint32_t protect = bms_le32(f + LT_O_PROTECT), failure = bms_le32(f + LT_O_FAILURE);
	uint16_t w[4] = { (uint16_t)protect, (uint16_t)(protect >> 16), (uint16_t)failure, (uint16_t)(failure >> 16) };
	s->alarms = bms_alarm_map(w, 1, lt_rules, sizeof(lt_rules) / sizeof(lt_rules[0]));
	if ((protect & ~(uint32_t)LT_KNOWN_BITS) || failure)
		s->alarms |= BMS_AL_OTHER;
	s->nraw = 4;
	memcpy(s->raw_alarms, w, sizeof(w));
}

static int lt_status(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_snapshot s;
	uint32_t mv = bms_le32(f + LT_O_VOLT);
	int32_t ma = (int32_t)bms_le32(f + LT_O_CURRENT);
	uint16_t soc = bms_le16(f + LT_O_SOC);
	uint32_t soh = bms_le32(f + LT_O_SOH);

	if (mv > LT_MAX_MV || ma > LT_MAX_MA || ma < -LT_MAX_MA || soc > 100)
		return BMS_E_RANGE;
	memset(&s, 0, sizeof(s));
	lt_cells(poll, f, &s);
	s.voltage = (float)mv / 1000.0f;
	s.current = (float)ma / 1000.0f;
	if (poll->invert_current)
		s.current = -s.current;
	s.soc = soc;
	s.remain_ah = (float)bms_le16(f + LT_O_REMAIN) / 100.0f;
	s.full_ah = (float)bms_le16(f + LT_O_FULL) / 100.0f;
	s.cycles = bms_le32(f + LT_O_CYCLES);
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
		    BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_ALARMS;
	if (soh <= 100) {
		s.soh = (float)soh;
		s.present |= BMS_HAS_SOH;
	}
	s.temp_c[0] = lt_temp(f + LT_O_TEMP);
	s.ntemps = 1;
	s.mos_temp_c = lt_temp(f + LT_O_MOS_TEMP);
	s.present |= BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP;
	lt_alarms(f, &s);
	poll->snap = s;
	return BMS_OK;
}

static int lt_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < LT_HDR + 1 || len != (size_t)frame[2] + 4)
		return BMS_E_SHORT;
	if (frame[0] || frame[1] || frame[3] != 0x01 || frame[5] != 0x55 || frame[6] != 0xAA)
		return BMS_E_HEADER;
	if ((uint8_t)bms_sum(frame, len - 1) != frame[len - 1])
		return BMS_E_CHECKSUM;
	if (poll->step != LT_STATUS || frame[4] != (LT_CMD_STATUS | LT_ANSWER))
		return BMS_E_UNEXPECTED; /* another command's answer (another app's) */
	if (len != LT_STATUS_LEN)
		return BMS_E_SHORT;
	int rc = lt_status(poll, frame);
	if (rc == BMS_OK)
		poll->step = LT_DONE;
	return rc;
}

static int lt_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, LT_DONE);
}

/* Service FFE0: notify FFE1, write FFE2 (aiobmsble's redodo_bms,
 * calledit/LiTime_BMS_bluetooth, mr-manuel's litime_ble). */
static const struct bms_gatt lt_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe2"),
	BMS_GATT_END,
};

static bool lt_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* LT-12???BG-A0[7-9]..., LT-24???B-A00[3-9]..., LT-24???B-A0[1-9]...,
 * LT-24???B-A[1-9]... (the others of LT-12 / LT-24 are E&J, bms/chins.c);
 * LT-51... */
static bool lt_serial_ok(const char *n)
{
	size_t len = strlen(n);
	if (len < 6 || strncmp(n, "LT-", 3) != 0 || !lt_digits(n + 3, 2))
		return false;
	if (strncmp(n + 3, "51", 2) == 0)
		return true;
	if (strncmp(n + 3, "12", 2) == 0)
		return len >= 14 && strncmp(n + 8, "BG-A0", 5) == 0 && n[13] >= '7' && n[13] <= '9';
	if (strncmp(n + 3, "24", 2) != 0 || len < 13 || strncmp(n + 8, "B-A", 3) != 0)
		return false;
	if (n[11] >= '1' && n[11] <= '9')
		return true;
	if (n[11] != '0' || len < 14)
		return false;
	if (n[12] >= '1' && n[12] <= '9')
		return true;
	return n[12] == '0' && n[13] >= '3' && n[13] <= '9';
}

/* The battery's model as its name: <brand>-<12|24|51><capacity, 3 digits>...
 * (L-12100BNNA70-A09683, R-24100BNN160-..., P-, PQ-, RO-, S-, SS-), or a
 * LiTime serial (lt_serial_ok).  A digit after the voltage keeps E&J's
 * Lithtech names (L-12V100AH-...) out. */
static bool lt_ble_name(const char *n)
{
	static const char *const brands[] = { "L-", "R-", "RO-", "P-", "PQ-", "S-", "SS-" };
	if (lt_serial_ok(n))
		return true;
	for (size_t b = 0; b < sizeof(brands) / sizeof(brands[0]); b++) {
		size_t k = strlen(brands[b]);
		if (strncmp(n, brands[b], k) != 0 || strlen(n) < k + 5 || !lt_digits(n + k, 5))
			continue;
		if (strncmp(n + k, "12", 2) == 0 || strncmp(n + k, "24", 2) == 0 || strncmp(n + k, "51", 2) == 0)
			return true;
	}
	return false;
}

/* --ble-scan: the names aiobmsble's redodo_bms matches (with the
 * serial rule that leaves the older LiTime serials to E&J), before any
 * service (FFE0 is JK's too); then the manufacturer data of company
 * 0x585A, which every LiTime / Redodo / Power Queen advertises (and the
 * older LiTime serials too: their names, rank 1, come first). */
static const struct bms_ble_hint lt_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, lt_ble_name, 0, false, "name (LiTime / Redodo / Power Queen)"},
	{2, BMS_BLE_COMPANY, NULL, NULL, 0x585A, false, "company 0x585A (LiTime / Redodo / Power Queen)"},
	{0},
};

static const struct bms_ble lt_ble = {
	.only = true,
	.gatt = lt_gatt,
	.hints = lt_ble_hints,
};

const struct bms_driver bms_litime_driver = {
	.name = "litime",
	.description = "LiTime / Redodo / Power Queen over Bluetooth LE (00 00 04 01 13 55 AA 17, 105-byte status)",
	.vendor = "LiTime",
	.protocol_id = 23,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS,
	/* the notifications of one answer come within milliseconds */
	BMS_BLE_LINK,
	.next_request = lt_next_request,
	.scan = lt_scan,
	.handle = lt_handle,
	.finish = lt_finish,
	.ble = &lt_ble,
};
