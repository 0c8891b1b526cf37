/* SPDX-License-Identifier: MIT */
/* bms/basen.c - the Basen BMS over Bluetooth LE (Basen BG-24100 and its
 * relatives, Roamer SMART packs).
 *
 * See bms/PROTOCOLS.md §55.  Bluetooth LE only: service FA00, writes to
 * FA02, notifications on FA01.  A request and an answer are both
 *	<3A|3B> 16 <type> <len> <len data bytes> <sum lo> <sum hi> 0D 0A
 * (len + 8 bytes; sum = the 16-bit sum of the address, type, length and
 * data, little-endian); a request has len 1 and the data byte 00.  A poll
 * is:
 *	STATUS	0x2A -> current, voltage, four temperatures, remaining Ah,
 *		the charge / discharge states and warnings, SOC;
 *	GENERAL	0x2B -> nominal and real capacity, cycles;
 *	CELLS	0x24, then 0x25 and 0x26 while the cells fill every slot of
 *		the one before -> up to 34 cells, mV.
 * Never sent: the balancing frame 0xFE (its layout is not known, §55.3),
 * the settings 0xE8 / 0xEA and every write (0xEB).  Answers start with 3A
 * or 3B alike (the pack answers some requests with 3B): an answer is
 * taken by its type.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define BA_SOF_A 0x3A
#define BA_SOF_B 0x3B
#define BA_ADDR 0x16
#define BA_OVER 8 /* SOF, address, type, len, sum lo, sum hi, CR, LF */
#define BA_MAX_LEN 36 /* the longest frame a reader takes (syssi's buffer: 44 bytes) */
#define BA_T_CELLS1 0x24
#define BA_T_STATUS 0x2A
#define BA_T_GENERAL 0x2B
#define BA_STATUS_LEN 24
#define BA_GENERAL_LEN 24
#define BA_SLOTS 12 /* cell slots of a cells frame (the third: 10) */
#define BA_MAX_CELLS 34
#define BA_MAX_CELL_MV 6500
#define BA_NTEMPS 4
#define BA_MOS 0x80 /* a state byte's MOSFET bit */

enum { BA_STATUS = 1, BA_GENERAL, BA_CELLS1, BA_CELLS2, BA_CELLS3, BA_DONE };

static const uint8_t ba_type[] = { [BA_STATUS] = BA_T_STATUS, [BA_GENERAL] = BA_T_GENERAL,
				   [BA_CELLS1] = BA_T_CELLS1, [BA_CELLS2] = BA_T_CELLS1 + 1,
				   [BA_CELLS3] = BA_T_CELLS1 + 2 };

/* The protection bits of the charge (word 0, bits 0..7) and discharge
 * (bits 8..15) states, as syssi's esphome-basen-bms names them (§55.3):
 * FC (fully charged) and FD (empty) are states, no alarm; bit 7 of each
 * is its MOSFET. */
static const struct bms_alarm_rule ba_alarm_map[] = {
	{ 0, 0, BMS_AL_CHG_OC }, { 0, 1, BMS_AL_CHG_OT },  { 0, 2, BMS_AL_CHG_UT }, { 0, 3, BMS_AL_CELL_OV },
	{ 0, 5, BMS_AL_OTHER },	 { 0, 6, BMS_AL_OTHER },   { 0, 8, BMS_AL_DSG_OC }, { 0, 9, BMS_AL_DSG_OT },
	{ 0, 10, BMS_AL_DSG_UT }, { 0, 11, BMS_AL_CELL_UV }, { 0, 13, BMS_AL_SHORT }, { 0, 14, BMS_AL_PROTECTION },
};

/* ---- requests ------------------------------------------------------------ */

static int ba_step(const struct bms_poll *poll)
{
	return poll->step == 0 ? BA_STATUS : poll->step;
}

static int ba_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = ba_step(poll);
	if (step == BA_DONE)
		return 0;
	if (step < BA_STATUS || step > BA_CELLS3)
		return BMS_E_RANGE;
	uint8_t t = ba_type[step];
	unsigned sum = BA_ADDR + t + 1u;
	const uint8_t req[9] = { BA_SOF_A, BA_ADDR, t, 1, 0, (uint8_t)sum, (uint8_t)(sum >> 8), 0x0D, 0x0A };
	return bms_request_copy(out, cap, req, sizeof(req));
}

/* ---- the framer ---------------------------------------------------------- */

static const uint8_t ba_sof[] = { BA_SOF_A, BA_SOF_B }, ba_eol[] = { 0x0D, 0x0A };
static const struct bms_sle ba_frame = { ba_sof, 2, 3, BA_OVER, ba_eol, 2 };

/* SOF 16 type len ... sum16 CR LF: len + 8 bytes; anything before a 3A /
 * 3B is skipped, a start whose frame has no CR LF where its length puts
 * them, another address, a bad sum or a length over 36 is skipped alone, a
 * request (len 1, data 00) whole. */
static enum bms_scan ba_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len >= 4 && (buf[0] == BA_SOF_A || buf[0] == BA_SOF_B) && buf[3] > BA_MAX_LEN) {
		*n = 1; /* no frame of this protocol is that long */
		return BMS_SCAN_SKIP;
	}
	enum bms_scan r = bms_scan_sle(&ba_frame, buf, len, n);
	if (r != BMS_SCAN_FRAME)
		return r;
	size_t want = *n;
	/* a request (ours echoed), never an answer bmsgw reads */
	return bms_scan_tail(buf[1] == BA_ADDR && (uint16_t)bms_sum(buf + 1, want - 5) == bms_le16(buf + want - 4),
			     !(buf[3] == 1 && buf[4] == 0), want, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* 0x2A (little-endian): 0 s32 mA (+ = charging), 4 u32 mV, 8..11 s8 °C,
 * 12 u32 remaining mAh, 16 charge states, 17 discharge states, 18 charge
 * warnings, 19 discharge warnings, 20 SOC %, 21..23 not used. */
static int ba_status(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n != BA_STATUS_LEN)
		return BMS_E_SHORT;
	if (d[20] > 100)
		return BMS_E_RANGE;
	s->current = (float)(int32_t)bms_le32(d) / 1000.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_le32(d + 4) / 1000.0f;
	for (unsigned i = 0; i < BA_NTEMPS; i++)
		s->temp_c[i] = (float)(int8_t)d[8 + i];
	s->ntemps = BA_NTEMPS;
	s->remain_ah = (float)bms_le32(d + 12) / 1000.0f;
	s->chg_mos = (d[16] & BA_MOS) != 0;
	s->dsg_mos = (d[17] & BA_MOS) != 0;
	s->soc = d[20];
	s->raw_alarms[0] = (uint16_t)(d[16] | d[17] << 8);
	s->raw_alarms[1] = (uint16_t)(d[18] | d[19] << 8);
	s->nraw = 2;
	s->alarms = bms_alarm_map(s->raw_alarms, 1, ba_alarm_map, sizeof(ba_alarm_map) / sizeof(ba_alarm_map[0]));
	s->present |= BMS_HAS_CURRENT | BMS_HAS_VOLTAGE | BMS_HAS_TEMPS | BMS_HAS_REMAIN | BMS_HAS_MOSFETS |
		      BMS_HAS_SOC | BMS_HAS_ALARMS;
	return BMS_OK;
}

/* 0x2B: 0 u32 nominal mAh, 4 u32 nominal mV, 8 u32 real (full) mAh,
 * 18 u16 serial, 20 u16 date, 22 u16 cycles. */
static int ba_general(struct bms_snapshot *s, const uint8_t *d, size_t n)
{
	if (n != BA_GENERAL_LEN)
		return BMS_E_SHORT;
	s->full_ah = (float)bms_le32(d + 8) / 1000.0f;
	s->cycles = bms_le16(d + 22);
	s->present |= BMS_HAS_FULL | BMS_HAS_CYCLES;
	return BMS_OK;
}

/* 0x24 / 0x25 / 0x26: u16 mV per slot, cells 1..12, 13..24, 25..34; the
 * cells are the slots before the first 0, none may follow an empty slot.
 * BMS_MORE when this frame's slots are all cells and another frame
 * follows (the next step), BMS_OK when the cells end here. */
static int ba_cells(struct bms_poll *poll, int step, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned first = (unsigned)(step - BA_CELLS1) * BA_SLOTS;
	unsigned slots = first + BA_SLOTS > BA_MAX_CELLS ? BA_MAX_CELLS - first : BA_SLOTS;
	if (n != 2 * (size_t)slots)
		return BMS_E_SHORT;
	unsigned k = 0;
	while (k < slots && bms_le16(d + 2 * k) != 0)
		k++;
	for (unsigned i = k; i < slots; i++)
		if (bms_le16(d + 2 * i) != 0)
			return BMS_E_RANGE;
	if (first + k == 0)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < k; i++) {
		if (bms_le16(d + 2 * i) > BA_MAX_CELL_MV)
			return BMS_E_RANGE;
		s->cell_mv[first + i] = bms_le16(d + 2 * i);
	}
	s->ncells = (uint8_t)(first + k);
	return k == slots && step < BA_CELLS3 ? BMS_MORE : BMS_OK;
}

/* The cells read; `cells = N` takes the first N (more than the BMS has:
 * refused). */
static int ba_cells_done(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned want = poll->cells_forced ? poll->cells_forced : s->ncells;
	if (want > s->ncells)
		return BMS_E_RANGE;
	for (unsigned i = want; i < BMS_LV_MAX_CELLS; i++)
		s->cell_mv[i] = 0;
	s->ncells = (uint8_t)want;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

static int ba_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < BA_OVER || len != (size_t)frame[3] + BA_OVER)
		return BMS_E_SHORT;
	if ((frame[0] != BA_SOF_A && frame[0] != BA_SOF_B) || frame[1] != BA_ADDR || frame[len - 2] != 0x0D ||
	    frame[len - 1] != 0x0A)
		return BMS_E_HEADER;
	if ((uint16_t)bms_sum(frame + 1, len - 5) != bms_le16(frame + len - 4))
		return BMS_E_CHECKSUM;
	int step = ba_step(poll);
	/* another type's answer (a status pushed while the cells are due) */
	if (step < BA_STATUS || step > BA_CELLS3 || frame[2] != ba_type[step])
		return BMS_E_UNEXPECTED;
	const uint8_t *d = frame + 4;
	size_t n = frame[3];
	int rc;
	if (step == BA_STATUS)
		rc = ba_status(poll, d, n);
	else if (step == BA_GENERAL)
		rc = ba_general(&poll->snap, d, n);
	else
		rc = ba_cells(poll, step, d, n);
	if (rc < 0)
		return rc;
	if (rc == BMS_MORE) { /* the next cells frame is a request of its own */
		poll->step = step + 1;
		return BMS_OK;
	}
	if (step >= BA_CELLS1) {
		rc = ba_cells_done(poll);
		if (rc < 0)
			return rc;
		poll->step = BA_DONE;
		return BMS_OK;
	}
	poll->step = step + 1;
	return BMS_OK;
}

static int ba_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, BA_DONE);
}

/* Service FA00, write FA02, notify FA01 (syssi's esphome-basen-bms, §55.1). */
static const struct bms_gatt ba_gatt[] = {
	BMS_GATT16("fa00", "fa01", "fa02"),
	BMS_GATT_END,
};

/* No name is published: the service, where the pack advertises it. */
static const struct bms_ble_hint ba_ble_hints[] = {
	{3, BMS_BLE_SERVICE, NULL, NULL, 0xFA00, false, "service FA00 (Basen)"},
	{0},
};

static const struct bms_ble ba_ble = {
	.only = true,
	.gatt = ba_gatt,
	.hints = ba_ble_hints,
};

const struct bms_driver bms_basen_driver = {
	.name = "basen",
	.description = "Basen BMS over Bluetooth LE (3A/3B ... 0D 0A frames, 16-bit sum)",
	.vendor = "Basen",
	.protocol_id = 46,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = ba_next_request,
	.scan = ba_scan,
	.handle = ba_handle,
	.finish = ba_finish,
	.ble = &ba_ble,
};
