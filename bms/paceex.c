/* SPDX-License-Identifier: MIT */
/* bms/paceex.c - the PACEEX smart BMS of PeiCheng Technology over
 * Bluetooth LE ("PC-xxxx" modules).
 *
 * See bms/PROTOCOLS.md §47.  Bluetooth LE only: service FFF0, writes to
 * FFF2, notifications on FFF1.  A request and an answer are both
 *	9A <command, 6 bytes> <len> <len data bytes> <crc hi> <crc lo> 9D
 * (len + 11 bytes; the CRC-16/MODBUS of everything before it, high byte
 * first).  A poll is:
 *	SYSTEM	00 00 0A 00 00 00 -> current, voltage, remaining and design
 *		capacity, SOC, SOH, cycles;
 *	CELLS	00 00 0A 02 00 00 + 01 01 (pack 1) -> the cells, mV, and
 *		the temperatures beside them, 0.1 K.
 * Never sent: the identity (0x0001, 0x0002), the status bitmaps (0x0A03)
 * and the clock (0x0007), whose layouts no source decodes, and every write.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define PX_SOF 0x9A
#define PX_EOF 0x9D
#define PX_OVER 11 /* SOF, command (6), len, crc (2), EOF */
#define PX_D 8     /* the first data byte */
#define PX_SYS_LEN 51
#define PX_MAX_CELL_MV 6500
#define PX_K0 2731 /* 0 °C in 0.1 K, as the sources convert */

enum { PX_SYSTEM = 1, PX_CELLS, PX_DONE };

static const uint8_t px_sys_req[] = { PX_SOF, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x19, 0x51, PX_EOF };
static const uint8_t px_cell_req[] = { PX_SOF, 0x00, 0x00, 0x0A, 0x02, 0x00, 0x00, 0x02,
				       0x01, 0x01, 0x28, 0x9C, PX_EOF };

/* ---- requests ------------------------------------------------------------ */

static int px_step(const struct bms_poll *poll)
{
	return poll->step == 0 ? PX_SYSTEM : poll->step;
}

static int px_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = px_step(poll);
	if (step == PX_DONE)
		return 0;
	if (step == PX_SYSTEM)
		return bms_request_copy(out, cap, px_sys_req, sizeof(px_sys_req));
	if (step == PX_CELLS)
		return bms_request_copy(out, cap, px_cell_req, sizeof(px_cell_req));
	return BMS_E_RANGE;
}

/* ---- the framer ---------------------------------------------------------- */

static const uint8_t px_sof[] = { PX_SOF }, px_eof[] = { PX_EOF };
static const struct bms_sle px_frame = { px_sof, 1, 7, PX_OVER, px_eof, 1 };

/* 9A cmd len ... crc 9D: len + 11 bytes; anything before a 9A is skipped,
 * a start whose frame has no 9D where its length puts it or a bad CRC is
 * skipped alone, a request (ours echoed) whole. */
static enum bms_scan px_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r = bms_scan_sle(&px_frame, buf, len, n);
	if (r != BMS_SCAN_FRAME)
		return r;
	size_t want = *n;
	bool request = (want == sizeof(px_sys_req) && memcmp(buf, px_sys_req, want) == 0) ||
		       (want == sizeof(px_cell_req) && memcmp(buf, px_cell_req, want) == 0);
	return bms_scan_tail(bms_crc16_modbus(buf, want - 3) == bms_be16(buf + want - 3), !request, want, n);
}

/* ---- the decoder (big-endian, offsets in the data) ----------------------- */

/* 0x0A00 (51 bytes): 0 pack count, 1 s32 current 0.01 A (+ = charging),
 * 5 u32 voltage 0.01 V, 9 u32 remaining 0.01 Ah, 13 u32 design capacity
 * 0.01 Ah, 21 SOC %, 22 SOH %, 23 u32 cycles. */
static int px_system(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n != PX_SYS_LEN)
		return BMS_E_SHORT;
	if (d[21] > 100 || d[22] > 100)
		return BMS_E_RANGE;
	s->current = (float)(int32_t)bms_be32(d + 1) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_be32(d + 5) / 100.0f;
	s->remain_ah = (float)bms_be32(d + 9) / 100.0f;
	s->full_ah = (float)bms_be32(d + 13) / 100.0f;
	s->soc = d[21];
	s->soh = d[22];
	s->cycles = bms_be32(d + 23);
	s->present |= BMS_HAS_CURRENT | BMS_HAS_VOLTAGE | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_SOC | BMS_HAS_SOH |
		      BMS_HAS_CYCLES;
	return BMS_OK;
}

/* 0x0A02: 0 (2 in the capture; not read), 1 u16 pack voltage 0.01 V (not
 * read: 0x0A00 has it), 3 cell count, then a slot per cell: u16 mV, u16
 * temperature 0.1 K (0 = no sensor in this slot).  The temperatures are
 * the slots' non-zero ones, in order, up to 8; `cells = N` takes the first
 * N cells (more than there are: refused). */
static int px_cells(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n < 4)
		return BMS_E_SHORT;
	unsigned nc = d[3];
	if (nc == 0 || nc > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;
	if (n != 4 + 4 * (size_t)nc)
		return BMS_E_SHORT;
	unsigned want = poll->cells_forced ? poll->cells_forced : nc;
	if (want > nc)
		return BMS_E_RANGE;
	unsigned nt = 0;
	float t[BMS_MAX_TEMPS];
	for (unsigned i = 0; i < nc; i++) {
		uint16_t mv = bms_be16(d + 4 + 4 * i), k = bms_be16(d + 6 + 4 * i);
		if (mv == 0 || mv > PX_MAX_CELL_MV)
			return BMS_E_RANGE;
		if (k != 0 && nt < BMS_MAX_TEMPS)
			t[nt++] = (float)((int)k - PX_K0) / 10.0f;
	}
	memset(s->cell_mv, 0, sizeof(s->cell_mv));
	for (unsigned i = 0; i < want; i++)
		s->cell_mv[i] = bms_be16(d + 4 + 4 * i);
	s->ncells = (uint8_t)want;
	for (unsigned i = 0; i < nt; i++)
		s->temp_c[i] = t[i];
	s->ntemps = (uint8_t)nt;
	s->present |= BMS_HAS_CELLS | (nt ? BMS_HAS_TEMPS : 0);
	return BMS_OK;
}

static int px_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < PX_OVER || len != (size_t)frame[7] + PX_OVER)
		return BMS_E_SHORT;
	if (frame[0] != PX_SOF || frame[len - 1] != PX_EOF)
		return BMS_E_HEADER;
	if (bms_crc16_modbus(frame, len - 3) != bms_be16(frame + len - 3))
		return BMS_E_CHECKSUM;
	int step = px_step(poll);
	const uint8_t *want = step == PX_SYSTEM ? px_sys_req : px_cell_req;
	/* the answer to another command (its six bytes differ) */
	if ((step != PX_SYSTEM && step != PX_CELLS) || memcmp(frame + 1, want + 1, 6) != 0)
		return BMS_E_UNEXPECTED;
	int rc = step == PX_SYSTEM ? px_system(poll, frame + PX_D, frame[7])
				   : px_cells(poll, frame + PX_D, frame[7]);
	if (rc < 0)
		return rc;
	poll->step = step + 1;
	return BMS_OK;
}

static int px_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, PX_DONE);
}

/* Service FFF0, write FFF2, notify FFF1 (aiobmsble, §47.1). */
static const struct bms_gatt px_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff2"),
	BMS_GATT_END,
};

/* "PC-" and four characters: aiobmsble's matcher "PC-????". */
static bool px_name_ok(const char *name)
{
	return strncmp(name, "PC-", 3) == 0 && strlen(name) == 7;
}

static const struct bms_ble_hint px_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, px_name_ok, 0, false, "name PC-???? (PACEEX)"},
	{0},
};

static const struct bms_ble px_ble = {
	.only = true,
	.gatt = px_gatt,
	.hints = px_ble_hints,
};

const struct bms_driver bms_paceex_driver = {
	.name = "paceex",
	.description = "PACEEX (PeiCheng) BMS over Bluetooth LE (9A ... 9D frames, CRC-16/MODBUS)",
	.vendor = "PeiCheng",
	.protocol_id = 38,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS,
	BMS_BLE_LINK,
	.next_request = px_next_request,
	.scan = px_scan,
	.handle = px_handle,
	.finish = px_finish,
	.ble = &px_ble,
};
