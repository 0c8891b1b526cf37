/* SPDX-License-Identifier: MIT */
/* bms/cbt_power.c - CBT Power / Creabest "R" packs over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §62.  Bluetooth LE only: notifications on FFE4 of
 * service FFE0, writes to FFE9 of service FFE5.  A request is
 *	AA 55 cmd 00 sum 0A 0D		(sum = the low byte of cmd + 00)
 * an answer
 *	AA 55 cmd len data[len] sum 0D 0A
 * sum the low byte of the sum of cmd, len and the data.  One read a step,
 * its answer little-endian:
 *	0x0B  u32 voltage mV, s32 current mA (+ = charging)
 *	0x09  s16 temperature degC (the first sensor: the only one described)
 *	0x0A  SOC %
 *	0x15  u16 design capacity Ah, u16 cycles
 *	0x21  u32 warnings (raw; not 0 raises OTHER: its bits are not described)
 *	0x05 .. 0x08  five cells mV each; the list ends at the first cell
 *	      that is 0, or after 0x08 (20 cells), or at a forced cell count;
 *	      without a forced count the pack has the cells its voltage
 *	      tells (bms_cells_for_voltage(): a 4S pack fills the fifth slot
 *	      with 2317 mV beside its 13.4 V, aiobmsble's recorded answers)
 * Not read: 0x0C (the runtime: bmsgw has no field), the remaining
 * capacity (not sent).
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define CB_HEAD0 0xAA
#define CB_HEAD1 0x55
#define CB_REQ_LEN 7
#define CB_OVER 7 /* an answer: its data + 7 bytes */
#define CB_CELLS_PER 5
#define CB_MAX_CELLS 20

enum { CB_VI = 0, CB_TEMP, CB_SOC, CB_CAP, CB_WARN, CB_CELLS1, CB_CELLS4 = CB_CELLS1 + 3, CB_DONE };

/* The command of each step, the data bytes its answer has at least. */
static const struct {
	uint8_t cmd, len;
} cb_steps[] = {
	[CB_VI] = { 0x0B, 8 },	  [CB_TEMP] = { 0x09, 2 },     [CB_SOC] = { 0x0A, 1 },
	[CB_CAP] = { 0x15, 4 },	  [CB_WARN] = { 0x21, 4 },     [CB_CELLS1] = { 0x05, 10 },
	[CB_CELLS1 + 1] = { 0x06, 10 }, [CB_CELLS1 + 2] = { 0x07, 10 }, [CB_CELLS4] = { 0x08, 10 },
};

static int cb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == CB_DONE)
		return 0;
	if (poll->step < CB_VI || poll->step > CB_CELLS4)
		return BMS_E_RANGE;
	uint8_t cmd = cb_steps[poll->step].cmd;
	const uint8_t req[CB_REQ_LEN] = { CB_HEAD0, CB_HEAD1, cmd, 0x00, cmd, 0x0A, 0x0D };
	return bms_request_copy(out, cap, req, sizeof(req));
}

/* ---- the framer ---------------------------------------------------------- */

static const uint8_t cb_starts[] = { CB_HEAD0 };
static const uint8_t cb_end[] = { 0x0D, 0x0A };
static const struct bms_sle cb_sle = {
	.starts = cb_starts, .nstarts = 1, .at = 3, .over = CB_OVER, .end = cb_end, .nend = 2,
};

/* AA 55 cmd len ... sum 0D 0A; a request echoed (len 0, 0A 0D last) is
 * skipped whole. */
static enum bms_scan cb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	(void)poll;
	if (!bms_scan_start(buf, len, CB_HEAD0, &r, n))
		return r;
	if (len < 2)
		return BMS_SCAN_NEED;
	if (buf[1] != CB_HEAD1) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len >= CB_REQ_LEN && buf[3] == 0 && buf[5] == 0x0A && buf[6] == 0x0D)
		return bms_scan_tail(buf[4] == buf[2], false, CB_REQ_LEN, n);
	r = bms_scan_sle(&cb_sle, buf, len, n);
	if (r != BMS_SCAN_FRAME)
		return r;
	size_t dl = buf[3];
	return bms_scan_tail((bms_sum(buf + 2, dl + 2) & 0xFF) == buf[4 + dl], true, dl + CB_OVER, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* The cells of one cell answer d[0..10): the list ends at a 0, or, with
 * a forced cell count, at that count (a 0 there is kept: an absent cell). */
static int cb_cells(struct bms_poll *poll, int k, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	int want = poll->cells_forced ? (poll->cells_forced < CB_MAX_CELLS ? poll->cells_forced : CB_MAX_CELLS) : 0;
	for (int i = 0; i < CB_CELLS_PER; i++) {
		int c = k * CB_CELLS_PER + i;
		uint16_t mv = bms_le16(d + 2 * i);
		if ((want && c >= want) || (!want && mv == 0)) {
			poll->step = CB_DONE;
			return BMS_OK;
		}
		s->cell_mv[c] = mv;
		s->ncells = (uint8_t)(c + 1);
		s->present |= BMS_HAS_CELLS;
	}
	poll->step = poll->step == CB_CELLS4 || (want && (k + 1) * CB_CELLS_PER >= want) ? CB_DONE : poll->step + 1;
	return BMS_OK;
}

/* The data d of the current step's answer into the snapshot. */
static int cb_values(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	switch (poll->step) {
	case CB_VI: {
		uint32_t mv = bms_le32(d);
		int32_t ma = (int32_t)bms_le32(d + 4);
		if (mv > 1000000u || ma > 3000000 || ma < -3000000)
			return BMS_E_RANGE;
		s->voltage = (float)mv / 1000.0f;
		s->current = (float)ma / 1000.0f * (poll->invert_current ? -1.0f : 1.0f);
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
		break;
	}
	case CB_TEMP:
		s->temp_c[0] = (float)bms_les16(d);
		s->ntemps = 1;
		s->present |= BMS_HAS_TEMPS;
		break;
	case CB_SOC:
		if (d[0] > 100)
			return BMS_E_RANGE;
		s->soc = d[0];
		s->present |= BMS_HAS_SOC;
		break;
	case CB_CAP:
		s->full_ah = bms_le16(d);
		s->cycles = bms_le16(d + 2);
		s->present |= BMS_HAS_FULL | BMS_HAS_CYCLES;
		break;
	case CB_WARN: {
		uint32_t w = bms_le32(d);
		s->raw_alarms[0] = (uint16_t)w;
		s->raw_alarms[1] = (uint16_t)(w >> 16);
		s->nraw = 2;
		s->alarms = w ? BMS_AL_OTHER : 0;
		s->present |= BMS_HAS_ALARMS;
		break;
	}
	default:
		return cb_cells(poll, poll->step - CB_CELLS1, d);
	}
	poll->step++;
	return BMS_OK;
}

static int cb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < CB_OVER || frame[0] != CB_HEAD0 || frame[1] != CB_HEAD1)
		return BMS_E_HEADER;
	if (len != (size_t)frame[3] + CB_OVER || frame[len - 2] != 0x0D || frame[len - 1] != 0x0A)
		return BMS_E_SHORT;
	if ((bms_sum(frame + 2, frame[3] + 2u) & 0xFF) != frame[len - 3])
		return BMS_E_CHECKSUM;
	if (poll->step < CB_VI || poll->step > CB_CELLS4 || frame[2] != cb_steps[poll->step].cmd)
		return BMS_E_UNEXPECTED; /* another command's answer (a late one) */
	if (frame[3] < cb_steps[poll->step].len)
		return BMS_E_SHORT;
	return cb_values(poll, frame + 4);
}

/* The poll whole: the cells the pack voltage tells (the slots after them
 * emptied), unless the count is forced. */
static int cb_finish(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	if (poll->step != CB_DONE)
		return BMS_E_INVALID;
	if (!poll->cells_forced && (s->present & BMS_HAS_VOLTAGE)) {
		unsigned n = bms_cells_for_voltage(s->cell_mv, s->ncells, s->voltage);
		for (unsigned i = n; i < s->ncells; i++)
			s->cell_mv[i] = 0;
		s->ncells = (uint8_t)n;
	}
	return bms_finish_pack(poll);
}

/* Notify FFE4 of FFE0, write FFE9 of FFE5 (aiobmsble cbtpwr_bms; the GATT
 * dump of fl4p/batmon-ha issue 80). */
static const struct bms_gatt cb_gatt[] = {
	{ .service = BMS_UUID16("ffe0"), .notify = BMS_UUID16("ffe4"), .write = BMS_UUID16("ffe9"),
	  .write_service = BMS_UUID16("ffe5") },
	BMS_GATT_END,
};

/* aiobmsble's Creabest pattern ???[CR]?????? (ten characters, the fourth
 * C or R; with service FFF0 there): after every other name. */
static bool cb_name_ok(const char *n)
{
	return strlen(n) == 10 && (n[3] == 'C' || n[3] == 'R');
}

static const struct bms_ble_hint cb_ble_hints[] = {
	{3, BMS_BLE_COMPANY_SERVICE, NULL, NULL, 0x03C15352u, false, "company 0x5352 with service 03C1 (CBT Power)"},
	{4, BMS_BLE_SERVICE, NULL, NULL, 0xFFE5, false, "service FFE5 (CBT Power / Creabest)"},
	{5, BMS_BLE_NAME, NULL, cb_name_ok, 0, false, "a name of ten characters, the fourth C or R (Creabest)"},
	{0},
};

static const struct bms_ble cb_ble = {
	.only = true,
	.gatt = cb_gatt,
	.hints = cb_ble_hints,
};

const struct bms_driver bms_cbt_power_driver = {
	.name = "cbt-power",
	.description = "CBT Power / Creabest R packs over Bluetooth LE (AA 55 reads, notify FFE4, write FFE9)",
	.vendor = "CBT Power",
	.protocol_id = 53,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_FULL | BMS_HAS_CYCLES |
		BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = cb_next_request,
	.scan = cb_scan,
	.handle = cb_handle,
	.finish = cb_finish,
	.ble = &cb_ble,
};
