/* SPDX-License-Identifier: MIT */
/* bms/ks48.c - KS48x00 / Braun Power / Daren BMSs over Bluetooth LE (the
 * "HSKS-..." and "BL-..." modules).
 *
 * See bms/PROTOCOLS.md §54.  Bluetooth LE only: service FF00, writes to
 * FF02, notifications on FF01.  A request is 7B <cmd> 00 7D, an answer
 *	7B <cmd> <len> <len data bytes> 7D
 * (len + 4 bytes), big-endian, with no checksum at all: the start, the
 * length and the end byte are all a frame has, so every count and every
 * value is checked against what it can be, and a frame that fails is
 * refused whole.  A poll is:
 *	VERSION	0xF4 -> the BMS program version (three numbers), and
 *	SERIAL	0x0B -> the pack's serial (ASCII): on the first poll of a
 *		connection while the identity is not known, skipped when not
 *		answered;
 *	STATUS	0x01 -> SOC, voltage, current, capacities, cycles, the
 *		MOSFET temperature, balancing, MOSFETs, protections, SOH;
 *	CELLS	0x02 -> the cells, mV;
 *	TEMPS	0x03 -> the cell sensors, 0.1 K;
 *	SET_*	0x04 .. 0x07 -> the BMS's own settings (balancing; cell and pack
 *		voltage protection; temperature protection; current
 *		protection, §54.4), only in a poll the gateway marks
 *		settings_due; the first of them left unanswered (or answered
 *		badly) ends them for this poll, the status read stands.
 * Never sent: the history 0x08 and every write (a register with a length
 * of 2).
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <stdio.h>
#include <string.h>

#include "drivers.h"

#define KS_HEAD 0x7B
#define KS_TAIL 0x7D
#define KS_OVER 4 /* 7B, cmd, len, 7D */
#define KS_CMD_STATUS 0x01
#define KS_CMD_CELLS 0x02
#define KS_CMD_TEMPS 0x03
#define KS_CMD_SET_BASIC 0x04 /* balancing, cell full / cut-off, SOC voltages */
#define KS_CMD_SET_VOLT 0x05  /* cell and pack over- / under-voltage protection */
#define KS_CMD_SET_TEMP 0x06  /* charge / discharge over- / under-temperature */
#define KS_CMD_SET_CUR 0x07   /* charge / discharge over-current */
#define KS_SET_BASIC_LEN 20
#define KS_SET_LEN 24         /* 0x05, 0x06: twelve words */
#define KS_SET_CUR_LEN 12
#define KS_CMD_SERIAL 0x0B
#define KS_CMD_VERSION 0xF4
#define KS_STATUS_LEN 32   /* SOC .. SOH */
#define KS_STATUS_NOSOH 30 /* firmware without the SOH word (syssi's decoder allows it) */
#define KS_VERSION_LEN 3
#define KS_MAX_CELLS 32
#define KS_MAX_TEMPS 8 /* 0x03: 1..8 sensors (PROTOCOLS.md §54.3) */
#define KS_MAX_DATA (1 + 2 * KS_MAX_CELLS) /* the longest answer bmsgw reads: 32 cells */
#define KS_MIN_CELL_MV 1
#define KS_MAX_CELL_MV 6500
#define KS_K_OFFSET 2731 /* 0.1 K -> 0.1 °C */
#define KS_FET_CHG 0x0004u
#define KS_FET_DSG 0x0008u
#define KS_FET_BAL 0x0003u /* the balancer charging / discharging a cell */

enum {
	KS_BEGIN = 0, KS_VERSION, KS_SERIAL, KS_STATUS, KS_CELLS, KS_TEMPS,
	KS_SET_BASIC, KS_SET_VOLT, KS_SET_TEMP, KS_SET_CUR, KS_DONE
};

static const uint8_t ks_cmd[] = { [KS_VERSION] = KS_CMD_VERSION, [KS_SERIAL] = KS_CMD_SERIAL,
				  [KS_STATUS] = KS_CMD_STATUS, [KS_CELLS] = KS_CMD_CELLS, [KS_TEMPS] = KS_CMD_TEMPS,
				  [KS_SET_BASIC] = KS_CMD_SET_BASIC, [KS_SET_VOLT] = KS_CMD_SET_VOLT,
				  [KS_SET_TEMP] = KS_CMD_SET_TEMP, [KS_SET_CUR] = KS_CMD_SET_CUR };

/* The protection word (status data 28), bit by bit, as syssi's
 * esphome-ks-bms names them (§54.3): 0 over-current, 1 under-current and
 * 12 "soft lock MOS" and 15 (reserved) are of no other kind. */
static const struct bms_alarm_rule ks_alarm_map[] = {
	{ 0, 0, BMS_AL_OTHER },	    { 0, 1, BMS_AL_OTHER },	{ 0, 2, BMS_AL_PACK_OV },
	{ 0, 3, BMS_AL_PACK_UV },   { 0, 4, BMS_AL_CHG_OT },	{ 0, 5, BMS_AL_CHG_UT },
	{ 0, 6, BMS_AL_DSG_OT },    { 0, 7, BMS_AL_DSG_UT },	{ 0, 8, BMS_AL_CHG_OC },
	{ 0, 9, BMS_AL_DSG_OC },    { 0, 10, BMS_AL_SHORT },	{ 0, 11, BMS_AL_HW_FAULT },
	{ 0, 12, BMS_AL_OTHER },    { 0, 13, BMS_AL_MOS_FAULT }, { 0, 14, BMS_AL_MOS_FAULT },
	{ 0, 15, BMS_AL_OTHER },
};

/* ---- requests ------------------------------------------------------------ */

static int ks_step(const struct bms_poll *poll)
{
	if (poll->step != KS_BEGIN)
		return poll->step;
	return bms_ident_due(poll) ? KS_VERSION : KS_STATUS;
}

static int ks_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = ks_step(poll);
	if (step == KS_DONE)
		return 0;
	if (step < KS_VERSION || step > KS_SET_CUR)
		return BMS_E_RANGE;
	const uint8_t req[KS_OVER] = { KS_HEAD, ks_cmd[step], 0, KS_TAIL };
	return bms_request_copy(out, cap, req, sizeof(req));
}

/* ---- the framer ---------------------------------------------------------- */

static const uint8_t ks_start = KS_HEAD, ks_end = KS_TAIL;
static const struct bms_sle ks_frame = { &ks_start, 1, 2, KS_OVER, &ks_end, 1 };

/* 7B <cmd> <len> ... 7D: len + 4 bytes; anything before a 7B is skipped,
 * a 7B whose length does not end on a 7D is skipped alone, and so is one
 * with a length no answer bmsgw reads has (with no checksum, a stray 7B
 * must not hold back the frames behind it), a request (len 0) is skipped
 * whole. */
static enum bms_scan ks_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len >= 3 && buf[0] == KS_HEAD && buf[2] > KS_MAX_DATA) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	enum bms_scan r = bms_scan_sle(&ks_frame, buf, len, n);
	/* no data: a request (ours echoed), never an answer bmsgw reads */
	return r == BMS_SCAN_FRAME && buf[2] == 0 ? BMS_SCAN_SKIP : r;
}

/* ---- the decoder --------------------------------------------------------- */

/* 0x01 (big-endian): 0 SOC %, 2 V 0.01, 4 average and 6 ambient 0.1 °C,
 * 8 MOSFET 0.1 °C (s16), 10 current 0.01 A (s16, - = discharging), 12
 * remaining, 14 full, 16 nominal 0.01 Ah, 18 cycle capacity, 20 cycles,
 * 22 the balancing word (u32; the sources disagree on its width: any bit
 * is "balancing", §54.3), 26 the FET word, 28 protections, 30 SOH %. */
static int ks_status(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n != KS_STATUS_LEN && n != KS_STATUS_NOSOH)
		return BMS_E_SHORT;
	uint16_t soc = bms_be16(d), fet = bms_be16(d + 26), prot = bms_be16(d + 28);
	uint16_t remain = bms_be16(d + 12), full = bms_be16(d + 14);
	bool soh = n == KS_STATUS_LEN;
	if (soc > 100 || (soh && bms_be16(d + 30) > 100))
		return BMS_E_RANGE;
	s->soc = soc;
	s->voltage = (float)bms_be16(d + 2) / 100.0f;
	s->mos_temp_c = (float)bms_bes16(d + 8) / 10.0f;
	s->current = (float)bms_bes16(d + 10) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->remain_ah = (float)remain / 100.0f;
	s->full_ah = (float)full / 100.0f;
	s->cycles = bms_be16(d + 20);
	s->balancing = bms_be32(d + 22) != 0 || (fet & KS_FET_BAL) != 0;
	s->chg_mos = (fet & KS_FET_CHG) != 0;
	s->dsg_mos = (fet & KS_FET_DSG) != 0;
	s->raw_alarms[0] = prot;
	s->nraw = 1;
	s->alarms = bms_alarm_map(s->raw_alarms, 1, ks_alarm_map, sizeof(ks_alarm_map) / sizeof(ks_alarm_map[0]));
	s->present |= BMS_HAS_SOC | BMS_HAS_VOLTAGE | BMS_HAS_MOS_TEMP | BMS_HAS_CURRENT | BMS_HAS_REMAIN |
		      BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_BALANCING | BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	if (soh) {
		s->soh = bms_be16(d + 30);
		s->present |= BMS_HAS_SOH;
	}
	return BMS_OK;
}

/* 0x02: the count n, then n cells, mV (`cells =`: the first that many). */
static int ks_cells(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned k = d[0];
	if (n != 1 + 2 * (size_t)k)
		return BMS_E_SHORT;
	if (k == 0 || k > KS_MAX_CELLS)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < k; i++) {
		uint16_t mv = bms_be16(d + 1 + 2 * i);
		if (mv < KS_MIN_CELL_MV || mv > KS_MAX_CELL_MV)
			return BMS_E_RANGE;
	}
	unsigned want = poll->cells_forced ? poll->cells_forced : k;
	if (want > k)
		return BMS_E_RANGE;
	memset(s->cell_mv, 0, sizeof(s->cell_mv));
	for (unsigned i = 0; i < want; i++)
		s->cell_mv[i] = bms_be16(d + 1 + 2 * i);
	s->ncells = (uint8_t)want;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

/* 0x03: the count n, then n sensors, 0.1 K. */
static int ks_temps(struct bms_snapshot *s, const uint8_t *d, size_t n)
{
	unsigned k = d[0];
	if (n != 1 + 2 * (size_t)k)
		return BMS_E_SHORT;
	if (k == 0 || k > KS_MAX_TEMPS)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < k; i++)
		s->temp_c[i] = (float)((int)bms_be16(d + 1 + 2 * i) - KS_K_OFFSET) / 10.0f;
	s->ntemps = (uint8_t)k;
	s->present |= BMS_HAS_TEMPS;
	return BMS_OK;
}

/* 0xF4: three numbers, "2.3.1". */
static int ks_version(struct bms_ident *id, const uint8_t *d, size_t n)
{
	char v[16];
	if (n != KS_VERSION_LEN)
		return BMS_E_SHORT;
	memset(id, 0, sizeof(*id));
	snprintf(v, sizeof(v), "%u.%u.%u", d[0], d[1], d[2]);
	bms_ident_text(id->firmware, sizeof(id->firmware), (const uint8_t *)v, strlen(v));
	return BMS_OK;
}

/* ---- the settings reads (§54.4) -------------------------------------------
 * Big-endian words; a word outside the field's possible range leaves its
 * key absent; an answer of another length gives nothing (BMS_E_SHORT). */

/* The settings' words: the read, the key, the word's index, its range
 * and divisor (0: a temperature, 0.1 K, -50 .. 150 degC). */
struct ks_word {
	uint8_t step, key, i;
	uint16_t lo, hi, div;
};
#define KS_TEMP(k, i) { KS_SET_TEMP, k, i, KS_K_OFFSET - 500, KS_K_OFFSET + 1500, 0 }
static const struct ks_word ks_words[] = {
	/* 0 cell full, 1 cut-off, 2 balance start, 3 its difference, mV; 6..9 SOC levels */
	{ KS_SET_BASIC, BMS_SET_BALANCE_START_V, 2, 1, 6500, 1000 },
	{ KS_SET_BASIC, BMS_SET_BALANCE_DELTA_V, 3, 1, 1000, 1000 },
	/* cell OVP, release, delay ms; UVP, release, delay; pack (0.01 V) the same */
	{ KS_SET_VOLT, BMS_SET_CELL_OVP_V, 0, 1, 6500, 1000 },
	{ KS_SET_VOLT, BMS_SET_CELL_OVP_RELEASE_V, 1, 1, 6500, 1000 },
	{ KS_SET_VOLT, BMS_SET_CELL_OVP_DELAY_S, 2, 0, 65000, 1000 },
	{ KS_SET_VOLT, BMS_SET_CELL_UVP_V, 3, 1, 6500, 1000 },
	{ KS_SET_VOLT, BMS_SET_CELL_UVP_RELEASE_V, 4, 1, 6500, 1000 },
	{ KS_SET_VOLT, BMS_SET_CELL_UVP_DELAY_S, 5, 0, 65000, 1000 },
	{ KS_SET_VOLT, BMS_SET_PACK_OVP_V, 6, 1, 65500, 100 },
	{ KS_SET_VOLT, BMS_SET_PACK_UVP_V, 9, 1, 65500, 100 },
	/* charge OTP, release, delay; charge UTP, ...; discharge OTP, ...; discharge UTP, ... */
	KS_TEMP(BMS_SET_CHARGE_OTP_C, 0), KS_TEMP(BMS_SET_CHARGE_OTP_RELEASE_C, 1),
	KS_TEMP(BMS_SET_CHARGE_UTP_C, 3), KS_TEMP(BMS_SET_CHARGE_UTP_RELEASE_C, 4),
	KS_TEMP(BMS_SET_DISCHARGE_OTP_C, 6), KS_TEMP(BMS_SET_DISCHARGE_OTP_RELEASE_C, 7),
	KS_TEMP(BMS_SET_DISCHARGE_UTP_C, 9), KS_TEMP(BMS_SET_DISCHARGE_UTP_RELEASE_C, 10),
	/* charge OCP 0.01 A, delay ms, release 10 ms; discharge the same */
	{ KS_SET_CUR, BMS_SET_CHARGE_OCP_A, 0, 1, 65535, 100 },
	{ KS_SET_CUR, BMS_SET_CHARGE_OCP_DELAY_S, 1, 0, 65535, 1000 },
	{ KS_SET_CUR, BMS_SET_CHARGE_OCP_RELEASE_S, 2, 0, 65535, 100 },
	{ KS_SET_CUR, BMS_SET_DISCHARGE_OCP_A, 3, 1, 65535, 100 },
	{ KS_SET_CUR, BMS_SET_DISCHARGE_OCP_DELAY_S, 4, 0, 65535, 1000 },
	{ KS_SET_CUR, BMS_SET_DISCHARGE_OCP_RELEASE_S, 5, 0, 65535, 100 },
};

static int ks_settings(struct bms_settings *out, int step, const uint8_t *d, size_t n)
{
	static const size_t want[] = { [KS_SET_BASIC] = KS_SET_BASIC_LEN, [KS_SET_VOLT] = KS_SET_LEN,
				       [KS_SET_TEMP] = KS_SET_LEN, [KS_SET_CUR] = KS_SET_CUR_LEN };
	if (n != want[step])
		return BMS_E_SHORT;
	for (size_t k = 0; k < sizeof(ks_words) / sizeof(ks_words[0]); k++) {
		const struct ks_word *w = &ks_words[k];
		if (w->step != step)
			continue;
		unsigned raw = bms_be16(d + 2 * w->i); /* within n: the read's length was checked */
		if (w->div)
			bms_settings_put_raw(out, (enum bms_set_key)w->key, raw, w->lo, w->hi, w->div);
		else if (raw >= w->lo && raw <= w->hi)
			bms_settings_put(out, (enum bms_set_key)w->key, (float)((int)raw - KS_K_OFFSET) / 10.0f);
	}
	return BMS_OK;
}

static int ks_decode(struct bms_poll *poll, int step, const uint8_t *d, size_t n)
{
	struct bms_ident *id = &poll->kept.ident;
	switch (step) {
	case KS_VERSION: {
		int rc = ks_version(id, d, n);
		if (rc == BMS_OK)
			poll->kept.ident_state = BMS_IDENT_HAVE;
		return rc;
	}
	case KS_SERIAL:
		bms_ident_text(id->pack_serial, sizeof(id->pack_serial), d, n);
		return BMS_OK;
	case KS_STATUS:
		return ks_status(poll, d, n);
	case KS_CELLS:
		return ks_cells(poll, d, n);
	case KS_TEMPS:
		return ks_temps(&poll->snap, d, n);
	default:
		return ks_settings(&poll->kept.settings, step, d, n);
	}
}

static int ks_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < KS_OVER || len != (size_t)frame[2] + KS_OVER)
		return BMS_E_SHORT;
	if (frame[0] != KS_HEAD || frame[len - 1] != KS_TAIL)
		return BMS_E_HEADER;
	int step = ks_step(poll);
	/* another command's answer, or a request (len 0: scan() skips it) */
	if (step < KS_VERSION || step > KS_SET_CUR || frame[1] != ks_cmd[step] || frame[2] == 0)
		return BMS_E_UNEXPECTED;
	int rc = ks_decode(poll, step, frame + 3, frame[2]);
	if (rc < 0)
		return rc;
	/* the settings reads follow the temperatures only when due (§54.4) */
	poll->step = step == KS_SET_CUR || (step == KS_TEMPS && !poll->settings_due) ? KS_DONE : step + 1;
	return BMS_OK;
}

/* A try failed: an unanswered identity read is skipped; an unanswered
 * (or badly answered) settings read ends the settings for this poll, the
 * status read stands (§54.4). */
static bool ks_timeout(struct bms_poll *poll)
{
	switch (ks_step(poll)) {
	case KS_VERSION:
		bms_ident_missing(poll, false);
		poll->step = KS_STATUS;
		return true;
	case KS_SERIAL:
		poll->step = KS_STATUS;
		return true;
	case KS_SET_BASIC:
	case KS_SET_VOLT:
	case KS_SET_TEMP:
	case KS_SET_CUR:
		poll->step = KS_DONE;
		return true;
	default:
		return false;
	}
}

static int ks_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, KS_DONE);
}

/* Service FF00, write FF02, notify FF01 (aiobmsble's braunpwr_bms,
 * syssi's esphome-ks-bms; §54.1). */
static const struct bms_gatt ks_gatt[] = {
	BMS_GATT16("ff00", "ff01", "ff02"),
	BMS_GATT_END,
};

/* HSKS-* and BL-* (aiobmsble's matchers, with the company id 0x7B);
 * HSKS- before HumsiENK's HS*. */
static const struct bms_ble_hint ks_ble_hints[] = {
	{1, BMS_BLE_NAME, "HSKS-", NULL, 0, false, "name HSKS-* / BL-* (KS48x00, Braun Power)"},
	{2, BMS_BLE_NAME, "BL-", NULL, 0, false, "name HSKS-* / BL-* (KS48x00, Braun Power)"},
	{0},
};

static const struct bms_ble ks_ble = {
	.only = true,
	.gatt = ks_gatt,
	.hints = ks_ble_hints,
};

const struct bms_driver bms_ks48_driver = {
	.name = "ks48",
	.description = "KS48x00 / Braun Power / Daren BMS over Bluetooth LE (7B ... 7D frames, no checksum)",
	.vendor = "KS",
	.protocol_id = 45,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCING | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = ks_next_request,
	.scan = ks_scan,
	.handle = ks_handle,
	.timeout = ks_timeout,
	.finish = ks_finish,
	.ble = &ks_ble,
	/* the settings reads 0x04 .. 0x07 (§54.4) */
	.settings = BMS_SET_CELL_PROTECT | BMS_SET_TEMP_PROTECT | BMS_SET_OCP_PROTECT |
		BMS_SET_BIT(BMS_SET_BALANCE_START_V) | BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) |
		BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V) |
		BMS_SET_BIT(BMS_SET_CHARGE_OCP_RELEASE_S) | BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_RELEASE_S),
};
