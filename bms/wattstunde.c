/* SPDX-License-Identifier: MIT */
/* bms/wattstunde.c - Wattstunde Nova Core batteries over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §61.  Bluetooth LE only: service FFF0, one
 * characteristic FFF1 written and notified.  A poll writes the read
 *	:015150000EFE~
 * (ASCII) and takes the answer
 *	':' <hex digits of n bytes> '~'
 * whose byte 3 is a key every byte but the last is XOR-ed with (the last
 * is a check no source has found a rule for: not checked); decoded, it
 * starts 01 54.  Decoded, big-endian (aiobmsble's ws_nova_bms):
 *	12 u16[16] cells mV (0 = none)	44 u16 status (bits 2..11 problems)
 *	48 u8[4] temperatures, degC + 40	54 u32 current mA: bit 31 set =
 *	discharging, bits 0..14 the value (bits 15..30 not 0: refused, §61.2)
 *	62 u16 voltage mV	67 u16 cycles	69 SOC %
 *	70 u32 design capacity mAh	74 u32 remaining mAh
 * There is no address.  An answer the BMS pushes by itself is taken alike.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define WS_SOF ':'
#define WS_EOF '~'
#define WS_MIN 238 /* the frame's characters at least (aiobmsble: 117 bytes decoded) */
#define WS_MAX 512
#define WS_DEC 117 /* the decoded bytes read */
#define WS_CELLS 16
#define WS_TEMPS 4
#define WS_PROBLEMS 0x0FFCu

enum { WS_ASK, WS_DONE };

static const uint8_t ws_req[] = ":015150000EFE~";

static int ws_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == WS_DONE)
		return 0;
	if (poll->step != WS_ASK)
		return BMS_E_RANGE;
	return bms_request_copy(out, cap, ws_req, sizeof(ws_req) - 1);
}

/* ---- the framer ---------------------------------------------------------- */

/* ':' hex digits '~'.  A byte that is neither ends a start: skipped up to
 * it (a new ':' may be there); the read echoed is skipped whole; a frame
 * of an odd count of digits or shorter than an answer is a bad one,
 * dropped whole. */
static enum bms_scan ws_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	(void)poll;
	if (!bms_scan_start(buf, len, WS_SOF, &r, n))
		return r;
	size_t i = 1;
	for (; i < len && i < WS_MAX && bms_hexval(buf[i]) >= 0; i++)
		;
	if (i == len)
		return i < WS_MAX ? BMS_SCAN_NEED : (*n = i, BMS_SCAN_SKIP);
	if (buf[i] != WS_EOF || i >= WS_MAX) {
		*n = i;
		return BMS_SCAN_SKIP;
	}
	*n = i + 1;
	if (*n == sizeof(ws_req) - 1 && memcmp(buf, ws_req, *n) == 0)
		return BMS_SCAN_SKIP; /* the read echoed */
	return (*n % 2 == 0 && *n >= WS_MIN) ? BMS_SCAN_FRAME : BMS_SCAN_BADSUM;
}

/* ---- the decoder --------------------------------------------------------- */

/* The decoded bytes d[0..WS_DEC) into the snapshot. */
static int ws_values(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t ma = bms_be32(d + 54);
	if ((ma & 0x7FFF8000u) != 0 || d[69] > 100 || bms_be16(d + 62) == 0)
		return BMS_E_RANGE;
	unsigned nc = 0;
	for (unsigned i = 0; i < WS_CELLS; i++) {
		s->cell_mv[i] = bms_be16(d + 12 + 2 * i);
		if (s->cell_mv[i])
			nc = i + 1;
	}
	if (poll->cells_forced)
		nc = poll->cells_forced < WS_CELLS ? poll->cells_forced : WS_CELLS;
	for (unsigned i = nc; i < WS_CELLS; i++)
		s->cell_mv[i] = 0;
	s->ncells = (uint8_t)nc;
	for (unsigned i = 0; i < WS_TEMPS; i++)
		s->temp_c[i] = (float)d[48 + i] - 40.0f;
	s->ntemps = WS_TEMPS;
	s->current = (float)(ma & 0x7FFF) / 1000.0f * ((ma & 0x80000000u) ? -1.0f : 1.0f);
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_be16(d + 62) / 1000.0f;
	s->cycles = bms_be16(d + 67);
	s->soc = d[69];
	s->full_ah = (float)bms_be32(d + 70) / 1000.0f;
	s->remain_ah = (float)bms_be32(d + 74) / 1000.0f;
	uint16_t st = bms_be16(d + 44);
	s->raw_alarms[0] = st;
	s->nraw = 1;
	s->alarms = (st & WS_PROBLEMS) ? BMS_AL_OTHER : 0;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES | BMS_HAS_FULL |
		      BMS_HAS_REMAIN | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS;
	return BMS_OK;
}

static int ws_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t d[WS_DEC];
	if (len < WS_MIN || len > WS_MAX || len % 2 != 0 || frame[0] != WS_SOF || frame[len - 1] != WS_EOF)
		return len < WS_MIN ? BMS_E_SHORT : BMS_E_HEADER;
	uint32_t key;
	if (!bms_hexn(frame + 7, 2, &key))
		return BMS_E_HEADER;
	for (size_t i = 0; i < WS_DEC; i++) {
		uint32_t b;
		if (!bms_hexn(frame + 1 + 2 * i, 2, &b))
			return BMS_E_HEADER;
		d[i] = (uint8_t)(b ^ key);
	}
	if (d[0] != 0x01 || d[1] != 0x54)
		return BMS_E_HEADER; /* not the status answer */
	if (poll->step == WS_DONE)
		return BMS_E_UNEXPECTED;
	int rc = ws_values(poll, d);
	if (rc < 0)
		return rc;
	poll->step = WS_DONE;
	return BMS_OK;
}

static int ws_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, WS_DONE);
}

/* Service FFF0, FFF1 written and notified (aiobmsble ws_nova_bms). */
static const struct bms_gatt ws_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff1"),
	BMS_GATT_END,
};

/* aiobmsble matches the MAC's first three bytes (60:6E:41, 10:23:81) with
 * service FFF0; the names vary ("Power-1", the MAC).  Its advertisements'
 * manufacturer data is those bytes: the company id is the first two (LE),
 * so the company with FFF0 names it, before Daly's FFF0 alone (rank 6). */
static const struct bms_ble_hint ws_ble_hints[] = {
	{3, BMS_BLE_COMPANY_SERVICE, NULL, NULL, 0xFFF06E60u, false, "company 0x6E60 with service FFF0 (Wattstunde)"},
	{3, BMS_BLE_COMPANY_SERVICE, NULL, NULL, 0xFFF02310u, false, "company 0x2310 with service FFF0 (Wattstunde)"},
	{0},
};

static const struct bms_ble ws_ble = {
	.only = true,
	.gatt = ws_gatt,
	.hints = ws_ble_hints,
};

const struct bms_driver bms_wattstunde_driver = {
	.name = "wattstunde",
	.description = "Wattstunde Nova Core over Bluetooth LE (':' hex frames XOR a key)",
	.vendor = "Wattstunde",
	.protocol_id = 52,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CYCLES |
		BMS_HAS_FULL | BMS_HAS_REMAIN | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = ws_next_request,
	.scan = ws_scan,
	.handle = ws_handle,
	.finish = ws_finish,
	.ble = &ws_ble,
};
