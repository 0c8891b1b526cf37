/* SPDX-License-Identifier: MIT */
/* bms/humsienk.c - the HumsiENK BMS (BMC-04S001 and others; some
 * Eco-Worthy packs) over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §38.  Bluetooth LE only: service 0001, writes to
 * 0002, notifications on 0003.  A request and an answer are both
 *	AA <cmd> <len> <len data bytes> <sum lo> <sum hi>
 * (len + 5 bytes; sum = the 16-bit sum of cmd..data, little-endian); a
 * request has len 0.  A poll is:
 *	MODEL	0x11 -> the model (ASCII), and
 *	VERSION	0xF5 -> the hardware version (ASCII): on the first poll of a
 *		connection while the identity is not known, skipped when not
 *		answered;
 *	STATUS	0x20 -> the MOSFETs, balancing, the balance bitmap, status bits;
 *	INFO	0x21 -> voltage, current, SOC, SOH, capacities, cycles, six
 *		temperatures (data byte 24 the MOSFET's, §38.3);
 *	CELLS	0x22 -> up to 24 cells, mV;
 *	SETTINGS 0x58 -> the BMS's own settings (cell count, capacity, cell
 *		over- / under-voltage protection with release and delay, the
 *		charge / discharge temperature protections with releases;
 *		§38.4): only in a poll the gateway marks settings_due; one
 *		unanswered costs the poll nothing.
 * Not sent: the 0x00 "handshake/init" (no source says what it does or
 * what it answers, §38.1) and 0x50..0x53 (MOSFET and balance control).
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define HS_HEAD 0xAA
#define HS_OVER 5 /* AA, cmd, len, sum lo, sum hi */
#define HS_CMD_MODEL 0x11
#define HS_CMD_STATUS 0x20
#define HS_CMD_INFO 0x21
#define HS_CMD_CELLS 0x22
#define HS_CMD_VERSION 0xF5
#define HS_CMD_SETTINGS 0x58
#define HS_SETTINGS_LEN 44 /* cell count .. the discharge under-temperature release */
#define HS_DK_ZERO 2731    /* deci-kelvin of 0 degC */
#define HS_STATUS_LEN 14 /* days .. the disconnected-cell bitmap */
#define HS_INFO_LEN 26   /* voltage .. the sixth temperature */
#define HS_MAX_CELLS 24
#define HS_MAX_CELL_MV 6500
#define HS_NTEMPS 6
#define HS_MOS_TEMP 4 /* of the six: data byte 24 (§38.3) */
#define HS_ST_CHG 0x00000080u
#define HS_ST_BAL 0x00008000u
#define HS_ST_DSG 0x00800000u

enum { HS_BEGIN = 0, HS_MODEL, HS_VERSION, HS_STATUS, HS_INFO, HS_CELLS, HS_SETTINGS, HS_DONE };

static const uint8_t hs_cmd[] = { [HS_MODEL] = HS_CMD_MODEL, [HS_VERSION] = HS_CMD_VERSION,
				  [HS_STATUS] = HS_CMD_STATUS, [HS_INFO] = HS_CMD_INFO, [HS_CELLS] = HS_CMD_CELLS,
				  [HS_SETTINGS] = HS_CMD_SETTINGS };

static uint32_t hs_u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* ---- requests ------------------------------------------------------------ */

static int hs_step(const struct bms_poll *poll)
{
	if (poll->step != HS_BEGIN)
		return poll->step;
	return bms_ident_due(poll) ? HS_MODEL : HS_STATUS;
}

static int hs_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = hs_step(poll);
	if (step == HS_DONE)
		return 0;
	if (step < HS_MODEL || step > HS_SETTINGS)
		return BMS_E_RANGE;
	if (cap < HS_OVER)
		return BMS_E_NOSPACE;
	out[0] = HS_HEAD;
	out[1] = hs_cmd[step];
	out[2] = 0;
	out[3] = hs_cmd[step]; /* the sum of cmd and len 0 */
	out[4] = 0;
	return HS_OVER;
}

/* ---- the framer ---------------------------------------------------------- */

/* AA <cmd> <len> ... <sum16le>: len + 5 bytes; anything else is skipped
 * up to the next 0xAA, a bad sum skips the 0xAA alone, a request (len 0)
 * is skipped whole. */
static enum bms_scan hs_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, HS_HEAD, &r, n))
		return r;
	if (len < 3)
		return BMS_SCAN_NEED;
	size_t want = (size_t)buf[2] + HS_OVER;
	if (len < want)
		return BMS_SCAN_NEED;
	/* no data: a request (ours echoed), never an answer bmsgw reads */
	return bms_scan_tail((uint16_t)bms_sum(buf + 1, want - 3) == bms_le16(buf + want - 2), buf[2] != 0, want, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* 0x20: 0 u16 days, 2 hours, 3 minutes, 4 u32 status (bit 7 charge
 * MOSFET on, 15 balancing, 23 discharge MOSFET on, the others protections
 * and warnings whose meanings are not published), 8 u24 balancing cells,
 * 11 u24 disconnected cells. */
static int hs_status(struct bms_snapshot *s, const uint8_t *d, size_t n)
{
	if (n < HS_STATUS_LEN)
		return BMS_E_SHORT;
	uint32_t st = bms_le32(d + 4);
	uint32_t other = st & ~(HS_ST_CHG | HS_ST_BAL | HS_ST_DSG);
	uint32_t gone = hs_u24(d + 11);
	s->chg_mos = (st & HS_ST_CHG) != 0;
	s->dsg_mos = (st & HS_ST_DSG) != 0;
	s->balance = hs_u24(d + 8);
	s->raw_alarms[0] = (uint16_t)st;
	s->raw_alarms[1] = (uint16_t)(st >> 16);
	s->raw_alarms[2] = (uint16_t)gone;
	s->raw_alarms[3] = (uint16_t)(gone >> 16);
	s->nraw = 4;
	s->alarms = (other || gone) ? BMS_AL_OTHER : 0;
	s->present |= BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS;
	return BMS_OK;
}

/* 0x21: 0 u32 mV, 4 s32 mA (+ = charging), 8 SOC %, 9 SOH %, 10 u32
 * remaining mAh, 14 u32 full mAh, 18 u16 cycles, 20..25 s8 °C. */
static int hs_info(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n < HS_INFO_LEN)
		return BMS_E_SHORT;
	if (d[8] > 100 || d[9] > 100)
		return BMS_E_RANGE;
	s->voltage = (float)bms_le32(d) / 1000.0f;
	s->current = (float)(int32_t)bms_le32(d + 4) / 1000.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->soc = d[8];
	s->soh = d[9];
	s->remain_ah = (float)bms_le32(d + 10) / 1000.0f;
	s->full_ah = (float)bms_le32(d + 14) / 1000.0f;
	s->cycles = bms_le16(d + 18);
	unsigned k = 0;
	for (unsigned i = 0; i < HS_NTEMPS; i++) {
		float t = (float)(int8_t)d[20 + i];
		if (i == HS_MOS_TEMP)
			s->mos_temp_c = t;
		else
			s->temp_c[k++] = t;
	}
	s->ntemps = (uint8_t)k;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		      BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP;
	return BMS_OK;
}

/* 0x22: u16 mV per cell slot, 0 = no cell; the cells are the slots before
 * the first 0 (`cells =`: that many), and no cell may follow an empty slot. */
static int hs_cells(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n % 2 || n / 2 > HS_MAX_CELLS)
		return BMS_E_SHORT;
	unsigned slots = (unsigned)(n / 2), k = 0;
	while (k < slots && bms_le16(d + 2 * k) != 0)
		k++;
	for (unsigned i = k; i < slots; i++)
		if (d[2 * i] | d[2 * i + 1])
			return BMS_E_RANGE;
	unsigned want = poll->cells_forced ? poll->cells_forced : k;
	if (want == 0 || want > k)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < want; i++)
		if (bms_le16(d + 2 * i) > HS_MAX_CELL_MV)
			return BMS_E_RANGE;
	memset(s->cell_mv, 0, sizeof(s->cell_mv));
	for (unsigned i = 0; i < want; i++)
		s->cell_mv[i] = bms_le16(d + 2 * i);
	s->ncells = (uint8_t)want;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

/* 0x58 (§38.4), u16 little-endian: 0 cell count, 2 capacity 0.01 Ah, 4 / 6
 * / 8 cell over-voltage protection, release (mV), delay (s), 10 / 12 / 14
 * the under-voltage's, 16 .. 26 the currents (not read: their scale is
 * not certain), 28 .. 42 charge over- / under-, discharge over- / under-
 * temperature protection and release, 0.1 K.  Into the settings, shown
 * read only; a value outside its field's range leaves the key absent. */
static const struct hs_set {
	uint8_t at, key;
	uint16_t lo, hi;
	float div;
} hs_sets[] = {
	{0, BMS_SET_CELL_COUNT, 1, HS_MAX_CELLS, 1.0f},
	{2, BMS_SET_CAPACITY_AH, 1, 65534, 100.0f},
	{4, BMS_SET_CELL_OVP_V, 1, HS_MAX_CELL_MV, 1000.0f},
	{6, BMS_SET_CELL_OVP_RELEASE_V, 1, HS_MAX_CELL_MV, 1000.0f},
	{8, BMS_SET_CELL_OVP_DELAY_S, 0, 3600, 1.0f},
	{10, BMS_SET_CELL_UVP_V, 1, HS_MAX_CELL_MV, 1000.0f},
	{12, BMS_SET_CELL_UVP_RELEASE_V, 1, HS_MAX_CELL_MV, 1000.0f},
	{14, BMS_SET_CELL_UVP_DELAY_S, 0, 3600, 1.0f},
};
static const uint8_t hs_set_temps[][2] = {
	{28, BMS_SET_CHARGE_OTP_C}, {30, BMS_SET_CHARGE_OTP_RELEASE_C},
	{32, BMS_SET_CHARGE_UTP_C}, {34, BMS_SET_CHARGE_UTP_RELEASE_C},
	{36, BMS_SET_DISCHARGE_OTP_C}, {38, BMS_SET_DISCHARGE_OTP_RELEASE_C},
	{40, BMS_SET_DISCHARGE_UTP_C}, {42, BMS_SET_DISCHARGE_UTP_RELEASE_C},
};
#define HS_DK_LO (HS_DK_ZERO - 500) /* -50 degC */
#define HS_DK_HI (HS_DK_ZERO + 1500) /* 150 degC */

static int hs_settings(struct bms_settings *out, const uint8_t *d, size_t n)
{
	if (n < HS_SETTINGS_LEN)
		return BMS_E_SHORT;
	for (size_t i = 0; i < sizeof(hs_sets) / sizeof(hs_sets[0]); i++) {
		const struct hs_set *e = &hs_sets[i];
		bms_settings_put_raw(out, (enum bms_set_key)e->key, bms_le16(d + e->at), e->lo, e->hi, e->div);
	}
	for (size_t i = 0; i < sizeof(hs_set_temps) / sizeof(hs_set_temps[0]); i++) {
		int raw = bms_le16(d + hs_set_temps[i][0]);
		if (raw >= HS_DK_LO && raw <= HS_DK_HI)
			bms_settings_put(out, (enum bms_set_key)hs_set_temps[i][1],
					 (float)(raw - HS_DK_ZERO) / 10.0f);
	}
	return BMS_OK;
}

static int hs_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < HS_OVER || len != (size_t)frame[2] + HS_OVER)
		return BMS_E_SHORT;
	if (frame[0] != HS_HEAD)
		return BMS_E_HEADER;
	if ((uint16_t)bms_sum(frame + 1, len - 3) != bms_le16(frame + len - 2))
		return BMS_E_CHECKSUM;
	int step = hs_step(poll);
	/* another command's answer, or a request (len 0: scan() skips it) */
	if (step < HS_MODEL || step > HS_SETTINGS || frame[1] != hs_cmd[step] || frame[2] == 0)
		return BMS_E_UNEXPECTED;
	const uint8_t *d = frame + 3;
	size_t n = frame[2];
	struct bms_ident *id = &poll->kept.ident;
	int rc = BMS_OK;
	switch (step) {
	case HS_MODEL:
		memset(id, 0, sizeof(*id));
		bms_ident_text(id->vendor, sizeof(id->vendor), (const uint8_t *)"HumsiENK", 8);
		bms_ident_text(id->model, sizeof(id->model), d, n);
		poll->kept.ident_state = BMS_IDENT_HAVE;
		break;
	case HS_VERSION:
		bms_ident_text(id->firmware, sizeof(id->firmware), d, n);
		break;
	case HS_STATUS:
		rc = hs_status(&poll->snap, d, n);
		break;
	case HS_INFO:
		rc = hs_info(poll, d, n);
		break;
	case HS_CELLS:
		rc = hs_cells(poll, d, n);
		break;
	default:
		rc = hs_settings(&poll->kept.settings, d, n);
		break;
	}
	if (rc < 0)
		return rc;
	/* the settings follow the cells only when due (§38.4) */
	poll->step = step == HS_SETTINGS || (step == HS_CELLS && !poll->settings_due) ? HS_DONE : step + 1;
	return BMS_OK;
}

/* A try failed: an unanswered identity or settings read is skipped. */
static bool hs_timeout(struct bms_poll *poll)
{
	switch (hs_step(poll)) {
	case HS_MODEL:
		bms_ident_missing(poll, false);
		poll->step = HS_STATUS;
		return true;
	case HS_VERSION:
		poll->step = HS_STATUS;
		return true;
	case HS_SETTINGS:
		poll->step = HS_DONE;
		return true;
	default:
		return false;
	}
}

/* A balance bit names a cell only up to the count 0x22 gave: those
 * beyond it are cleared (bms_check_pack()). */
static int hs_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, HS_DONE);
}

/* Service 0001, write 0002, notify 0003 (aiobmsble's humsienk_bms, §38.1). */
static const struct bms_gatt hs_gatt[] = {
	BMS_GATT16("0001", "0003", "0002"),
	BMS_GATT_END,
};

/* ECO and four more characters (Eco-Worthy packs with this BMS). */
static bool hs_ble_eco(const char *name)
{
	return strlen(name) == 7 && strncmp(name, "ECO", 3) == 0;
}

static const struct bms_ble_hint hs_ble_hints[] = {
	{2, BMS_BLE_NAME, "HS", NULL, 0, false, "name HS* / ECO???? (HumsiENK)"},
	{2, BMS_BLE_NAME, NULL, hs_ble_eco, 0, false, "name HS* / ECO???? (HumsiENK)"},
	{0},
};

static const struct bms_ble hs_ble = {
	.only = true,
	.gatt = hs_gatt,
	.hints = hs_ble_hints,
};

const struct bms_driver bms_humsienk_driver = {
	.name = "humsienk",
	.description = "HumsiENK BMS over Bluetooth LE (0xAA frames, 16-bit sum)",
	.vendor = "HumsiENK",
	.protocol_id = 31,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = hs_next_request,
	.scan = hs_scan,
	.handle = hs_handle,
	.timeout = hs_timeout,
	.finish = hs_finish,
	.ble = &hs_ble,
	/* 0x58, asked when settings_due (§38.4) */
	.settings = BMS_SET_CELL_PROTECT | BMS_SET_TEMP_PROTECT | BMS_SET_BIT(BMS_SET_CELL_COUNT) |
		BMS_SET_BIT(BMS_SET_CAPACITY_AH),
};
