/* SPDX-License-Identifier: MIT */
/* bms/roypow.c - the RoyPow BMS over Bluetooth LE (RoyPow, Epoch and
 * PowerUrus 12 / 24 V LiFePO4 batteries).
 *
 * See bms/PROTOCOLS.md §48.  Bluetooth LE only: service FFE0, one
 * characteristic FFE1 for the writes and the notifications.  A request and
 * an answer are both
 *	EA D1 01 <len> FF <cmd> <data> <xor> F5
 * (len + 4 bytes; xor = the XOR of the bytes from len to the last data
 * byte); a request has len 4 and no data.  A poll is:
 *	STATUS	0x03 -> current, problem code, temperatures, MOSFETs;
 *	PACK	0x04 -> SOC, cycles, capacity, remaining Ah, voltage;
 *	CELLS	0x02 -> the cells, mV.
 * The module's own text "AT+STAT\r\n" arrives between the frames: it holds
 * no EA and is skipped with the rest of what comes before a start.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define RP_SOF 0xEA
#define RP_OVER 4 /* EA D1 01 len */
#define RP_REQ_LEN 4 /* FF cmd xor F5 */
#define RP_C_CELLS 0x02
#define RP_C_STATUS 0x03
#define RP_C_PACK 0x04
#define RP_STATUS_MIN 27 /* the MOSFET byte (24), xor, F5 */
#define RP_PACK_MIN 51   /* the voltage (47..48), xor, F5 */
#define RP_CELL0 9       /* the first cell's byte in a 0x02 answer */
#define RP_TEMP0 14      /* the first temperature in a 0x03 answer */
#define RP_MOS 24        /* the MOSFET byte of a 0x03 answer */
#define RP_MAX_CELL_MV 6500

enum { RP_STATUS = 1, RP_PACK, RP_CELLS, RP_DONE };

static const uint8_t rp_cmd[] = { [RP_STATUS] = RP_C_STATUS, [RP_PACK] = RP_C_PACK, [RP_CELLS] = RP_C_CELLS };

/* ---- requests ------------------------------------------------------------ */

static int rp_step(const struct bms_poll *poll)
{
	return poll->step == 0 ? RP_STATUS : poll->step;
}

static int rp_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = rp_step(poll);
	if (step == RP_DONE)
		return 0;
	if (step < RP_STATUS || step > RP_CELLS)
		return BMS_E_RANGE;
	uint8_t c = rp_cmd[step];
	const uint8_t req[8] = { RP_SOF, 0xD1, 0x01, RP_REQ_LEN, 0xFF, c, (uint8_t)(RP_REQ_LEN ^ 0xFF ^ c), 0xF5 };
	return bms_request_copy(out, cap, req, sizeof(req));
}

/* ---- the framer ---------------------------------------------------------- */

static const uint8_t rp_sof[] = { RP_SOF }, rp_eof[] = { 0xF5 };
static const struct bms_sle rp_frame = { rp_sof, 1, 3, RP_OVER, rp_eof, 1 };

static uint8_t rp_xor(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	return x;
}

/* EA D1 01 len ... xor F5: len + 4 bytes; anything before an EA (the
 * module's AT+STAT text) is skipped, a start not followed by D1 01, a
 * length under 4, a frame without its F5 where the length puts it or with
 * a bad XOR is skipped alone, a request (len 4) whole. */
static enum bms_scan rp_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len >= 2 && buf[0] == RP_SOF &&
	    (buf[1] != 0xD1 || (len >= 3 && buf[2] != 0x01) || (len >= 4 && buf[3] < RP_REQ_LEN))) {
		*n = 1; /* not a start (the length byte could be the F5 itself) */
		return BMS_SCAN_SKIP;
	}
	enum bms_scan r = bms_scan_sle(&rp_frame, buf, len, n);
	if (r != BMS_SCAN_FRAME)
		return r;
	size_t want = *n;
	/* a request (ours echoed), never an answer bmsgw reads */
	return bms_scan_tail(rp_xor(buf + 3, want - 5) == buf[want - 2], buf[3] != RP_REQ_LEN, want, n);
}

/* ---- the decoder (offsets in the whole frame, big-endian) ---------------- */

/* 0x03: 6..8 current (bit 0 of byte 6 set = discharging, bytes 7..8 the
 * amount, 0.01 A), 9..11 problem code, 13 temperature count, 14.. °C + 40
 * (one byte each), 24 MOSFETs (bit 2 charge, bit 1 discharge). */
static int rp_status(struct bms_poll *poll, const uint8_t *f, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n < RP_STATUS_MIN)
		return BMS_E_SHORT;
	unsigned nt = f[13];
	/* the temperatures end before the MOSFET byte in the one layout known */
	if (nt == 0 || nt > BMS_MAX_TEMPS || RP_TEMP0 + nt > RP_MOS)
		return BMS_E_RANGE;
	float a = (float)bms_be16(f + 7) / 100.0f;
	s->current = (f[6] & 1) ? -a : a;
	if (poll->invert_current)
		s->current = -s->current;
	for (unsigned i = 0; i < nt; i++)
		s->temp_c[i] = (float)f[RP_TEMP0 + i] - 40.0f;
	s->ntemps = (uint8_t)nt;
	s->chg_mos = (f[RP_MOS] & 0x04) != 0;
	s->dsg_mos = (f[RP_MOS] & 0x02) != 0;
	s->raw_alarms[0] = bms_be16(f + 10);
	s->raw_alarms[1] = f[9];
	s->nraw = 2;
	/* the bits' meanings are not published: any of them is an alarm */
	s->alarms = (s->raw_alarms[0] | s->raw_alarms[1]) ? BMS_AL_OTHER : 0;
	s->present |= BMS_HAS_CURRENT | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	return BMS_OK;
}

/* 0x04: a tag byte before each value, the tags 01..09 three bytes apart
 * (§48.3): 7 SOC, 9..10 cycles, 12..13 and 15..16 capacity mAh (tags 03,
 * 04: high and low word), 24..25 and 27..28 remaining mAh (tags 07, 08),
 * 30..31 minutes left (not read); 47..48 voltage 0.01 V, untagged.  A
 * frame whose tags are elsewhere has another layout: refused. */
static int rp_pack(struct bms_snapshot *s, const uint8_t *f, size_t n)
{
	if (n < RP_PACK_MIN)
		return BMS_E_SHORT;
	for (unsigned t = 1; t <= 9; t++)
		if (f[t == 1 ? 6 : 5 + 3 * (t - 1)] != t)
			return BMS_E_HEADER;
	if (f[7] > 100)
		return BMS_E_RANGE;
	uint32_t full = (uint32_t)bms_be16(f + 12) << 16 | bms_be16(f + 15);
	uint32_t rem = (uint32_t)bms_be16(f + 24) << 16 | bms_be16(f + 27);
	s->soc = f[7];
	s->cycles = bms_be16(f + 9);
	s->full_ah = (float)full / 1000.0f;
	s->remain_ah = (float)rem / 1000.0f;
	s->voltage = (float)bms_be16(f + 47) / 100.0f;
	s->present |= BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_FULL | BMS_HAS_REMAIN | BMS_HAS_VOLTAGE;
	return BMS_OK;
}

/* 0x02: the cells from byte 9 to the XOR, u16 mV each; `cells = N` takes
 * the first N (more than the BMS has: refused). */
static int rp_cells(struct bms_poll *poll, const uint8_t *f, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n < RP_CELL0 + 2 + 2 || (n - RP_CELL0 - 2) % 2 != 0)
		return BMS_E_SHORT;
	unsigned nc = (unsigned)(n - RP_CELL0 - 2) / 2;
	if (nc > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;
	unsigned want = poll->cells_forced ? poll->cells_forced : nc;
	if (want > nc)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < nc; i++) {
		uint16_t mv = bms_be16(f + RP_CELL0 + 2 * i);
		if (mv == 0 || mv > RP_MAX_CELL_MV)
			return BMS_E_RANGE;
	}
	memset(s->cell_mv, 0, sizeof(s->cell_mv));
	for (unsigned i = 0; i < want; i++)
		s->cell_mv[i] = bms_be16(f + RP_CELL0 + 2 * i);
	s->ncells = (uint8_t)want;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

static int rp_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < RP_OVER + RP_REQ_LEN || len != (size_t)frame[3] + RP_OVER)
		return BMS_E_SHORT;
	if (frame[0] != RP_SOF || frame[1] != 0xD1 || frame[2] != 0x01 || frame[4] != 0xFF ||
	    frame[len - 1] != 0xF5)
		return BMS_E_HEADER;
	if (rp_xor(frame + 3, len - 5) != frame[len - 2])
		return BMS_E_CHECKSUM;
	int step = rp_step(poll);
	if (step < RP_STATUS || step > RP_CELLS || frame[5] != rp_cmd[step])
		return BMS_E_UNEXPECTED;
	int rc;
	if (step == RP_STATUS)
		rc = rp_status(poll, frame, len);
	else if (step == RP_PACK)
		rc = rp_pack(&poll->snap, frame, len);
	else
		rc = rp_cells(poll, frame, len);
	if (rc < 0)
		return rc;
	poll->step = step + 1;
	return BMS_OK;
}

static int rp_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, RP_DONE);
}

/* Service FFE0, FFE1 both ways (aiobmsble, §48.1). */
static const struct bms_gatt rp_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe1"),
	BMS_GATT_END,
};

/* " B12*", " S12*", " B24*", " S24*", " UT*": aiobmsble's matchers, the
 * leading space included. */
static bool rp_name_ok(const char *name)
{
	static const char *const pfx[] = { " B12", " S12", " B24", " S24", " UT" };
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (strncmp(name, pfx[i], strlen(pfx[i])) == 0)
			return true;
	return false;
}

static const struct bms_ble_hint rp_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, rp_name_ok, 0, false, "name \" B12*\" / \" S12*\" / \" B24*\" / \" UT*\" (RoyPow, Epoch)"},
	{0},
};

static const struct bms_ble rp_ble = {
	.only = true,
	.gatt = rp_gatt,
	.hints = rp_ble_hints,
};

const struct bms_driver bms_roypow_driver = {
	.name = "roypow",
	.description = "RoyPow / Epoch BMS over Bluetooth LE (EA D1 01 ... F5 frames, XOR)",
	.vendor = "RoyPow",
	.protocol_id = 39,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = rp_next_request,
	.scan = rp_scan,
	.handle = rp_handle,
	.finish = rp_finish,
	.ble = &rp_ble,
};
