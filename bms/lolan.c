/* SPDX-License-Identifier: MIT */
/* bms/lolan.c - the Lolan BMS over Bluetooth LE: two reads a poll, the
 * password inside each.
 *
 * bms/PROTOCOLS.md §76.  Service FFE0 (notify FFE1, write FFE2), or FFF0
 * (FFF1, FFF2).  A request is 6 bytes, the function u16 and the password
 * u32, big-endian: C5 65 <pw> the status, 5B 65 <pw> the cells.  The
 * answers carry their type in byte 0 and no checksum; their values are
 * IEEE-754 floats, big-endian:
 *	01 00 <switches> <errors> V I- I+ T1 T2 ... cycles(u16 @36) SOC(u16 @38)	40 bytes
 *	02 00 <count> ... <balancing u32 @8> ... <cell floats from 24>		88 bytes
 *	21 1D 1A E3									the password refused
 * The current is the larger of the discharge (@8, then negative) and the
 * charge (@12) current; switches bit 0 the discharge, bit 1 the charge
 * MOSFET; errors bit n the protections of §76.3 (raw_alarms[0]).  The
 * password is the pack's `pin`, the maker's 12345678 without one: every
 * request holds it (each is a secret for the log).
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define LL_REQ_LEN 6
#define LL_T_STATUS 0x01
#define LL_T_CELLS 0x02
#define LL_T_SETTINGS 0x03
#define LL_STATUS_LEN 40
#define LL_CELLS_LEN 88
#define LL_SETTINGS_LEN 108
#define LL_CONFIRM_LEN 4
#define LL_MAX_CELLS 16
#define LL_BAD_PASSWORD 0x211D1AE3u

enum { LL_STATUS = 0, LL_CELLS, LL_DONE };

static const struct bms_ble_pin ll_pin;

/* The password as its u32 (the configuration took a number up to 2^32 - 1). */
static uint32_t ll_password(const struct bms_poll *poll)
{
	const char *pw = bms_pin_of(poll, &ll_pin);
	uint32_t v = 0;
	for (; pw && *pw >= '0' && *pw <= '9'; pw++)
		v = v * 10u + (uint32_t)(*pw - '0');
	return v;
}

static int ll_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == LL_DONE)
		return 0;
	if (poll->step != LL_STATUS && poll->step != LL_CELLS)
		return BMS_E_RANGE;
	uint32_t pw = ll_password(poll);
	const uint8_t req[LL_REQ_LEN] = { poll->step == LL_STATUS ? 0xC5 : 0x5B, 0x65, (uint8_t)(pw >> 24),
					  (uint8_t)(pw >> 16), (uint8_t)(pw >> 8), (uint8_t)pw };
	poll->secret_req = true; /* the password is in every request */
	if (poll->auth == BMS_AUTH_NONE)
		poll->auth = BMS_AUTH_SENT;
	return bms_request_copy(out, cap, req, sizeof(req));
}

/* ---- the framer ---------------------------------------------------------- */

/* A frame by its type byte: the status and the cells (byte 1 zero), the
 * settings (never asked), a 4-byte confirmation; another byte skipped. */
static enum bms_scan ll_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	size_t want;
	switch (buf[0]) {
	case LL_T_STATUS: want = LL_STATUS_LEN; break;
	case LL_T_CELLS: want = LL_CELLS_LEN; break;
	case LL_T_SETTINGS: want = LL_SETTINGS_LEN; break;
	case 0x21: case 0x2F: case 0x35: want = LL_CONFIRM_LEN; break;
	default:
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < 2)
		return BMS_SCAN_NEED;
	if ((buf[0] == LL_T_STATUS || buf[0] == LL_T_CELLS) && buf[1] != 0x00) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < want)
		return BMS_SCAN_NEED;
	return bms_scan_tail(true, true, want, n);
}

/* ---- the decoder --------------------------------------------------------- */

static float ll_float(const uint8_t *p)
{
	uint32_t u = bms_be32(p);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* A float a field may hold: finite, within lo..hi. */
static bool ll_in(float v, float lo, float hi)
{
	return isfinite(v) && v >= lo && v <= hi;
}

/* The protections of the status's byte 3 (syssi's esphome-lolan-bms, §76.3). */
#define P BMS_AL_PROTECTION
static const uint32_t ll_alarm_map[8] = {
	BMS_AL_PACK_OV | P, BMS_AL_CELL_OV | P, BMS_AL_CHG_OC | P, BMS_AL_DSG_OC | P,
	BMS_AL_PACK_UV | P, BMS_AL_CELL_UV | P, BMS_AL_OTHER | P,  BMS_AL_SHORT | P,
};
#undef P

static int ll_status(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_snapshot *s = &poll->snap;
	float v = ll_float(f + 4), dsg = ll_float(f + 8), chg = ll_float(f + 12);
	float t1 = ll_float(f + 16), t2 = ll_float(f + 20);
	uint16_t soc = bms_be16(f + 38);
	if (!ll_in(v, 0.001f, 1000.0f) || !ll_in(dsg, 0.0f, 3000.0f) || !ll_in(chg, 0.0f, 3000.0f) ||
	    !ll_in(t1, -100.0f, 200.0f) || !ll_in(t2, -100.0f, 200.0f) || soc > 100)
		return BMS_E_RANGE;
	s->voltage = v;
	s->current = dsg > chg ? -dsg : chg;
	s->temp_c[0] = t1;
	s->temp_c[1] = t2;
	s->ntemps = 2;
	s->cycles = bms_be16(f + 36);
	s->soc = (float)soc;
	s->dsg_mos = (f[2] & 0x01) != 0;
	s->chg_mos = (f[2] & 0x02) != 0;
	s->nraw = 1;
	s->raw_alarms[0] = f[3];
	for (unsigned b = 0; b < 8; b++)
		if (f[3] & (1u << b))
			s->alarms |= ll_alarm_map[b];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_TEMPS | BMS_HAS_CYCLES | BMS_HAS_SOC |
		      BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	return BMS_OK;
}

static int ll_cells(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = f[2];
	if (n == 0 || n > LL_MAX_CELLS)
		return BMS_E_RANGE;
	if (poll->cells_forced) {
		if (poll->cells_forced > n)
			return BMS_E_RANGE;
		n = poll->cells_forced;
	}
	for (unsigned i = 0; i < n; i++) {
		float c = ll_float(f + 24 + 4 * i);
		if (!ll_in(c, 0.001f, 65.0f))
			return BMS_E_RANGE;
		s->cell_mv[i] = (uint16_t)lroundf(c * 1000.0f);
	}
	s->ncells = (uint8_t)n;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

static int ll_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < LL_CONFIRM_LEN)
		return BMS_E_SHORT;
	if (len == LL_CONFIRM_LEN) {
		/* the password refused; another confirmation is no answer to a read */
		if (bms_be32(frame) == LL_BAD_PASSWORD && poll->step < LL_DONE)
			return BMS_E_AUTH;
		return BMS_E_UNEXPECTED;
	}
	size_t want = frame[0] == LL_T_STATUS ? LL_STATUS_LEN : frame[0] == LL_T_CELLS ? LL_CELLS_LEN : 0;
	if (frame[0] == LL_T_SETTINGS)
		return BMS_E_UNEXPECTED; /* never asked */
	if (!want)
		return BMS_E_HEADER;
	if (len != want)
		return BMS_E_SHORT;
	if (poll->step != (frame[0] == LL_T_STATUS ? LL_STATUS : LL_CELLS))
		return BMS_E_UNEXPECTED;
	int rc = frame[0] == LL_T_STATUS ? ll_status(poll, frame) : ll_cells(poll, frame);
	if (rc != BMS_OK)
		return rc;
	poll->auth = BMS_AUTH_OK; /* an answer: the password was taken */
	poll->step++;
	return BMS_OK;
}

static int ll_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, LL_DONE);
}

/* FFE0 (notify FFE1, write FFE2), or FFF0 (FFF1, FFF2): syssi's
 * esphome-lolan-bms. */
static const struct bms_gatt ll_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe2"),
	BMS_GATT16("fff0", "fff1", "fff2"),
	BMS_GATT_END,
};

/* --ble-scan: the names LOLAN... (syssi's README: LOLAN8S45A). */
static const struct bms_ble_hint ll_ble_hints[] = {
	{1, BMS_BLE_NAME, "LOLAN", NULL, 0, false, "name LOLAN* (Lolan BMS)"},
	{0},
};

/* The password inside every request: a number up to 2^32 - 1 (u32 on the
 * wire), the maker's 12345678 unless the pack's pin says another. */
static const struct bms_ble_pin ll_pin = {
	.name = "password",
	.min_len = 1,
	.max_len = 10,
	.digits = true,
	.max_value = 4294967295u,
	.dflt = "12345678",
};

static const struct bms_ble ll_ble = {
	.only = true,
	.gatt = ll_gatt,
	.hints = ll_ble_hints,
	.pin = &ll_pin,
};

const struct bms_driver bms_lolan_driver = {
	.name = "lolan",
	.description = "Lolan BMS over Bluetooth LE (status C5 65, cells 5B 65, the password in each; float answers)",
	.vendor = "Lolan",
	.protocol_id = 66,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CYCLES |
		BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = ll_next_request,
	.scan = ll_scan,
	.handle = ll_handle,
	.finish = ll_finish,
	.ble = &ll_ble,
};
