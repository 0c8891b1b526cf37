/* SPDX-License-Identifier: MIT */
/* bms/tdt.c - the TDT smart BMS (WattCycle, XDZN) over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §45.  Bluetooth LE only: service FFF0, requests
 * written (with response) to FFF2, answers notified on FFF1; once a
 * connection the transport first writes the unlock "HiLink" to FFFA and
 * reads 0x01 back (struct bms_ble_auth): without it the BMS ignores every
 * request and drops the link (§45.1).  A request is
 *	<head> 00 01 03 00 <cmd> 00 00 <crc hi> <crc lo> 0D
 * with head 0x7E, or 0x1E for the units that answer nothing else; an answer
 *	7E <ver 00|04> <addr> 03 <err> <cmd> <len u16> <len bytes> <crc hi> <crc lo> 0D
 * (len + 11 bytes, CRC-16/MODBUS of everything before it, high byte first).
 * A poll is:
 *	ANALOG	0x8C -> cells, temperatures, current, voltage, capacities,
 *		cycles, SOH, SOC;
 *	WARN	0x8D -> the cell and sensor states, the problem code, MOSFETs;
 *	INFO	0x92 -> firmware and serial (20-byte ASCII fields): on the
 *		first poll of a connection while the identity is not known,
 *		skipped when refused or not answered.
 * Never sent: 0x06 (writes: switches, settings).
 *
 * Progress: step (enum below); poll->persist: TDT_P_1E = requests start
 * with 0x1E, TDT_P_KNOWN = the BMS answered that head (a try that times out
 * before one did swaps the head for the next).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define TDT_HEAD 0x7E
#define TDT_HEAD_ALT 0x1E
#define TDT_END 0x0D
#define TDT_HDR 8      /* head .. len */
#define TDT_OVER 11    /* header, CRC, 0x0D */
#define TDT_MAX_DATA 1024
#define TDT_CMD_ANALOG 0x8C
#define TDT_CMD_WARN 0x8D
#define TDT_CMD_INFO 0x92
#define TDT_ANALOG_TAIL 14 /* current .. SOC */
#define TDT_WARN_TAIL 7    /* states (4), problem code (2), MOSFETs */
#define TDT_FIELD 20       /* 0x92: one ASCII field */
#define TDT_K_OFFSET 2731  /* 0.1 K -> 0.1 °C */
#define TDT_CUR_NEG 0x8000u
#define TDT_CUR_DECI 0x4000u
#define TDT_CUR_MAG 0x3FFFu
#define TDT_MOS_CHG 0x04u
#define TDT_MOS_DSG 0x02u
#define TDT_P_1E 1u
#define TDT_P_KNOWN 2u

enum { TDT_BEGIN = 0, TDT_ANALOG, TDT_WARN, TDT_INFO, TDT_DONE };

static const uint8_t tdt_cmd[] = { [TDT_ANALOG] = TDT_CMD_ANALOG, [TDT_WARN] = TDT_CMD_WARN,
				   [TDT_INFO] = TDT_CMD_INFO };

/* ---- requests ------------------------------------------------------------ */

static int tdt_step(const struct bms_poll *poll)
{
	return poll->step == TDT_BEGIN ? TDT_ANALOG : poll->step;
}

static int tdt_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = tdt_step(poll);
	if (step == TDT_DONE)
		return 0;
	if (step < TDT_ANALOG || step > TDT_INFO)
		return BMS_E_RANGE;
	if (cap < TDT_OVER)
		return BMS_E_NOSPACE;
	const uint8_t req[TDT_HDR] = { (poll->persist & TDT_P_1E) ? TDT_HEAD_ALT : TDT_HEAD, 0x00, 0x01, 0x03, 0x00,
				       tdt_cmd[step], 0x00, 0x00 };
	memcpy(out, req, TDT_HDR);
	uint16_t crc = bms_crc16_modbus(out, TDT_HDR);
	out[8] = (uint8_t)(crc >> 8);
	out[9] = (uint8_t)crc;
	out[10] = TDT_END;
	return TDT_OVER;
}

/* ---- the framer ---------------------------------------------------------- */

static bool tdt_header_ok(const uint8_t *f)
{
	return f[0] == TDT_HEAD && (f[1] == 0x00 || f[1] == 0x04) && f[3] == 0x03;
}

static bool tdt_sum_ok(const uint8_t *f, size_t n)
{
	return f[n - 1] == TDT_END && bms_crc16_modbus(f, n - 3) == bms_be16(f + n - 3);
}

/* 7E ... on the length field (the data holds 0x7E and 0x0D bytes); a
 * header that cannot be one skips the 0x7E, a bad CRC or end byte too; a
 * frame without data (our 0x7E request echoed) is skipped whole. */
static enum bms_scan tdt_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	static const struct bms_lenword lw = { TDT_HDR, 6, TDT_MAX_DATA, TDT_OVER, tdt_header_ok };
	enum bms_scan r;
	size_t want;
	if (!bms_scan_start(buf, len, TDT_HEAD, &r, n) || !bms_scan_lenword(&lw, buf, len, &want, &r, n))
		return r;
	return bms_scan_tail(tdt_sum_ok(buf, want), want > TDT_OVER, want, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* The current word: bit 15 discharging (negative), bit 14 the value in
 * 0.1 A (else whole amperes), bits 0..13 the magnitude (§45.3). */
static float tdt_current(uint16_t w)
{
	float a = (float)(w & TDT_CUR_MAG);
	if (w & TDT_CUR_DECI)
		a /= 10.0f;
	return (w & TDT_CUR_NEG) ? -a : a;
}

/* 0x8C: n, n x u16 mV, m, m x u16 0.1 K, then current, 0.01 V, remaining
 * and full 0.1 Ah, cycles, SOH 0.1 %, SOC % (u16 each); a version 0x04 frame has more
 * after them (not read). */
static int tdt_analog(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned nc = d[0];
	if (nc == 0 || nc > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;
	size_t o = 1 + 2 * (size_t)nc;
	if (n < o + 1)
		return BMS_E_SHORT;
	unsigned nt = d[o];
	const uint8_t *t = d + o + 1, *v = t + 2 * (size_t)nt;
	if (n < o + 1 + 2 * (size_t)nt + TDT_ANALOG_TAIL)
		return BMS_E_SHORT;
	unsigned want = poll->cells_forced ? poll->cells_forced : nc;
	if (want > nc || bms_be16(v + 12) > 100)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < want; i++)
		s->cell_mv[i] = bms_be16(d + 1 + 2 * i);
	s->ncells = (uint8_t)want;
	s->ntemps = (uint8_t)(nt < BMS_MAX_TEMPS ? nt : BMS_MAX_TEMPS);
	for (unsigned i = 0; i < s->ntemps; i++)
		s->temp_c[i] = (float)((int)bms_be16(t + 2 * i) - TDT_K_OFFSET) / 10.0f;
	s->current = tdt_current(bms_be16(v));
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_be16(v + 2) / 100.0f;
	s->remain_ah = (float)bms_be16(v + 4) / 10.0f;
	s->full_ah = (float)bms_be16(v + 6) / 10.0f;
	s->cycles = bms_be16(v + 8);
	s->soc = bms_be16(v + 12);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
		      BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS;
	if (bms_be16(v + 10) <= 1000) { /* over 100 %: no SOH (a field aiobmsble does not read) */
		s->soh = (float)bms_be16(v + 10) / 10.0f;
		s->present |= BMS_HAS_SOH;
	}
	return BMS_OK;
}

/* 0x8D: n, n cell state bytes, m, m sensor state bytes, then four state
 * bytes (current, voltage: not alarms), u16 problem code, the MOSFET byte
 * (bit 2 charge, bit 1 discharge), more status (not read). */
static int tdt_warn(struct bms_snapshot *s, const uint8_t *d, size_t n)
{
	size_t o = 1 + (size_t)d[0];
	if (n < o + 1)
		return BMS_E_SHORT;
	size_t p = o + 1 + d[o];
	if (n < p + TDT_WARN_TAIL)
		return BMS_E_SHORT;
	uint8_t states = 0;
	for (size_t i = 1; i < p; i++)
		if (i != o)
			states |= d[i];
	uint16_t problem = bms_be16(d + p + 4);
	s->chg_mos = (d[p + 6] & TDT_MOS_CHG) != 0;
	s->dsg_mos = (d[p + 6] & TDT_MOS_DSG) != 0;
	s->raw_alarms[0] = problem;
	s->raw_alarms[1] = bms_be16(d + p);
	s->raw_alarms[2] = bms_be16(d + p + 2);
	s->nraw = 3;
	s->alarms = (problem || states) ? BMS_AL_OTHER : 0;
	s->present |= BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	return BMS_OK;
}

/* 0x92: three 20-byte ASCII fields: firmware, maker (placeholders on the
 * units seen: not used), serial. */
static int tdt_info(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	if (n < 3 * TDT_FIELD)
		return BMS_E_SHORT;
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_ident_text(id->vendor, sizeof(id->vendor), (const uint8_t *)"TDT", 3);
	bms_ident_text(id->firmware, sizeof(id->firmware), d, TDT_FIELD);
	bms_ident_text(id->serial, sizeof(id->serial), d + 2 * TDT_FIELD, TDT_FIELD);
	poll->kept.ident_state = BMS_IDENT_HAVE;
	return BMS_OK;
}

static int tdt_after(const struct bms_poll *poll, int step)
{
	if (step == TDT_WARN)
		return bms_ident_due(poll) ? TDT_INFO : TDT_DONE;
	return step == TDT_INFO ? TDT_DONE : step + 1;
}

static int tdt_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < TDT_OVER || len != (size_t)bms_be16(frame + 6) + TDT_OVER)
		return BMS_E_SHORT;
	if (!tdt_header_ok(frame))
		return BMS_E_HEADER;
	if (!tdt_sum_ok(frame, len))
		return BMS_E_CHECKSUM;
	int step = tdt_step(poll);
	size_t n = len - TDT_OVER;
	if (step < TDT_ANALOG || step > TDT_INFO || frame[5] != tdt_cmd[step] || n == 0)
		return BMS_E_UNEXPECTED;
	poll->persist |= TDT_P_KNOWN;
	int rc;
	if (frame[4] != 0) { /* an error code: the BMS refused the command */
		if (step != TDT_INFO)
			return BMS_E_REFUSED;
		bms_ident_missing(poll, true);
		rc = BMS_OK;
	} else if (step == TDT_ANALOG) {
		rc = tdt_analog(poll, frame + TDT_HDR, n);
	} else if (step == TDT_WARN) {
		rc = tdt_warn(&poll->snap, frame + TDT_HDR, n);
	} else {
		rc = tdt_info(poll, frame + TDT_HDR, n);
	}
	if (rc < 0)
		return rc;
	poll->step = tdt_after(poll, step);
	return BMS_OK;
}

/* A try failed: an unanswered identity is skipped; before the BMS ever
 * answered, the other head is tried. */
static bool tdt_timeout(struct bms_poll *poll)
{
	if (tdt_step(poll) == TDT_INFO) {
		bms_ident_missing(poll, false);
		poll->step = TDT_DONE;
		return true;
	}
	if (!(poll->persist & TDT_P_KNOWN))
		poll->persist ^= TDT_P_1E;
	return false;
}

static int tdt_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, TDT_DONE);
}

/* "HiLink", written with response to FFFA, reads back 0x01 (§45.1). */
static const uint8_t tdt_unlock[] = { 'H', 'i', 'L', 'i', 'n', 'k' };

static const struct bms_ble_auth tdt_auth = {
	.chr = BMS_UUID16("fffa"), .data = tdt_unlock, .len = sizeof(tdt_unlock), .ok = 0x01,
};

/* Service FFF0, notify FFF1, write FFF2 (with response). */
static const struct bms_gatt tdt_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff2"),
	BMS_GATT_END,
};

static const struct bms_ble_hint tdt_ble_hints[] = {
	{1, BMS_BLE_NAME, "XDZN_", NULL, 0, false, "name XDZN_* (TDT / WattCycle)"},
	{2, BMS_BLE_COMPANY, NULL, NULL, 0xD6C0, false, "company 0xD6C0 (TDT / WattCycle)"},
	{0},
};

static const struct bms_ble tdt_ble = {
	.only = true,
	.gatt = tdt_gatt,
	.hints = tdt_ble_hints,
	.auth = &tdt_auth,
	.write_request = true,
};

const struct bms_driver bms_tdt_driver = {
	.name = "tdt",
	.description = "TDT smart BMS (WattCycle, XDZN) over Bluetooth LE (0x7E frames, CRC-16)",
	.vendor = "TDT",
	.protocol_id = 37,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.5,
	.default_timeout = 2.0,
	.next_request = tdt_next_request,
	.scan = tdt_scan,
	.handle = tdt_handle,
	.timeout = tdt_timeout,
	.finish = tdt_finish,
	.ble = &tdt_ble,
};
