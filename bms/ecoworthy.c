/* SPDX-License-Identifier: MIT */
/* bms/ecoworthy.c - the Eco-Worthy "BW02" BMS over Bluetooth LE (names
 * ECO-WORTHY 02_xxxx, ECO-WORTHY 0B_xxxx, DCHOUSE 01_xxxx), its protocol
 * v1 and v2 frames.
 *
 * See bms/PROTOCOLS.md §35.  Bluetooth LE only: service FFF0, the BMS
 * notifies on FFF1; FFF2 takes writes, but bmsgw writes nothing: the two
 * "init" writes a peer sends have no published meaning (§35.3), so the
 * driver only listens to the frames the BMS sends by itself.  Two frames,
 * status 0xA1 and cells 0xA2, each closed by its CRC-16/MODBUS (low byte
 * first) over all bytes before it.  v1: the frame starts with its type
 * byte; v2: six bytes (the BMS's MAC) come first, and every field sits two
 * bytes earlier than in v1 (the MAC, the type byte, then what v1 has from
 * offset 9 on: two bytes shorter).  Frame lengths (no length field is
 * known), those of the captures (§35.2): v1 A1 84, A2 102; v2 A1 82, A2 100.
 * Big-endian, v1 offsets:
 *	A1: 16 SOC %, 18 SOH %, 20 voltage 0.01 V, 22 current s16 (v1 0.01 A,
 *	    v2 0.1 A; + = charging), 26 design capacity 0.01 Ah, 51 problem code
 *	A2: 14 cell count, 16.. cells mV, 80 sensor count, 82.. s16 0.1 degC
 * A poll takes the next A1 and the next A2 (listen_only), in either order.
 * Not decoded: cycles (unknown offset), MOSFETs, balancing, limits.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define EW_A1 0xA1
#define EW_A2 0xA2
#define EW_MAC 6             /* v2: the MAC before the type byte */
#define EW_SHIFT 2           /* v2 fields sit 2 bytes before v1's */
#define EW_V1_A1_LEN 84
#define EW_V1_A2_LEN 102
#define EW_V2_A1_LEN 82
#define EW_V2_A2_LEN 100
#define EW_MAX_LEN EW_V1_A2_LEN
#define EW_CELL_SLOTS 32     /* 16..79 */
#define EW_MAX_MV 100000u
#define EW_GOT_A1 1u
#define EW_GOT_A2 2u

enum {
	EW_O_SOC = 16,
	EW_O_SOH = 18,
	EW_O_VOLT = 20,
	EW_O_CURRENT = 22,
	EW_O_DESIGN = 26,
	EW_O_PROBLEM = 51,
	EW_O_NCELLS = 14,
	EW_O_CELLS = 16,
	EW_O_NTEMPS = 80,
	EW_O_TEMPS = 82,
};

static bool ew_type(uint8_t c)
{
	return c == EW_A1 || c == EW_A2;
}

static size_t ew_len(bool v2, uint8_t type)
{
	if (v2)
		return type == EW_A1 ? EW_V2_A1_LEN : EW_V2_A2_LEN;
	return type == EW_A1 ? EW_V1_A1_LEN : EW_V1_A2_LEN;
}

/* The frame at buf: v1 (its type first) or v2 (the MAC first), by its
 * length and CRC.  The v1 reading is tried first, then the v2 one; a
 * reading that needs more bytes than there are waits for them; when every
 * complete reading fails its CRC, that is BADSUM of one byte (a frame may
 * start inside: a lost notification, or noise before a v2 frame's MAC) --
 * but the six bytes before a good v1 frame are no bad v2 one, only
 * skipped; bytes that start neither are skipped. */
static enum bms_scan ew_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	bool bad = false, need = false;
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	for (int v2 = 0; v2 < 2; v2++) {
		size_t at = v2 ? EW_MAC : 0;
		if (len <= at) {
			need = true;
			continue;
		}
		if (!ew_type(buf[at]))
			continue;
		size_t l = ew_len(v2, buf[at]);
		if (len < l) {
			need = true;
			continue;
		}
		if (bms_crc16_modbus_ok(buf, l)) {
			*n = l;
			return BMS_SCAN_FRAME;
		}
		if (!v2) {
			bad = true;
			continue;
		}
		/* no v2 frame: the bytes before a v1 frame (not counted) or a bad one */
		size_t l1 = ew_len(false, buf[EW_MAC]);
		if (len < EW_MAC + l1)
			need = true;
		else if (!bms_crc16_modbus_ok(buf + EW_MAC, l1))
			bad = true;
	}
	if (need)
		return BMS_SCAN_NEED;
	return bms_scan_tail(!bad, false, 1, n); /* a byte: BADSUM where a frame failed its CRC */
}

/* A1 into s: BMS_E_RANGE for a value no battery has. */
static int ew_a1(const struct bms_poll *poll, const uint8_t *b, bool v2, struct bms_snapshot *s)
{
	uint16_t soc = bms_be16(b + EW_O_SOC), soh = bms_be16(b + EW_O_SOH);
	uint16_t cv = bms_be16(b + EW_O_VOLT), problem = bms_be16(b + EW_O_PROBLEM);
	int16_t raw = bms_bes16(b + EW_O_CURRENT);

	if (soc > 100 || soh > 100 || (uint32_t)cv * 10u > EW_MAX_MV)
		return BMS_E_RANGE;
	s->voltage = (float)cv / 100.0f;
	s->current = (float)raw / (v2 ? 10.0f : 100.0f);
	if (poll->invert_current)
		s->current = -s->current;
	s->soc = soc;
	s->soh = soh;
	s->full_ah = (float)bms_be16(b + EW_O_DESIGN) / 100.0f;
	s->raw_alarms[0] = problem;
	s->nraw = 1;
	s->alarms = problem ? BMS_AL_OTHER : 0;
	s->state = s->current > 0 ? 1 : s->current < 0 ? 2 : 0;
	/* a later A1 replaces an earlier one's values, absent ones too */
	s->present &= ~(uint32_t)BMS_HAS_FULL;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_ALARMS;
	if (s->full_ah > 0)
		s->present |= BMS_HAS_FULL;
	return BMS_OK;
}

/* A2 into s (l: the frame's length, v1-shifted): cells and temperatures. */
static int ew_a2(const struct bms_poll *poll, const uint8_t *b, size_t l, struct bms_snapshot *s)
{
	unsigned n = bms_be16(b + EW_O_NCELLS), t = bms_be16(b + EW_O_NTEMPS);
	size_t slots = (l - 2 - EW_O_TEMPS) / 2;

	if (n == 0 || n > EW_CELL_SLOTS || t > slots)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < n; i++)
		if (bms_be16(b + EW_O_CELLS + 2 * i) == 0xFFFF)
			return BMS_E_RANGE; /* a counted cell the BMS marks unused */
	if (poll->cells_forced && poll->cells_forced < n)
		n = poll->cells_forced;
	memset(s->cell_mv, 0, sizeof(s->cell_mv));
	for (unsigned i = 0; i < n; i++)
		s->cell_mv[i] = bms_be16(b + EW_O_CELLS + 2 * i);
	s->ncells = (uint8_t)n;
	if (t > BMS_MAX_TEMPS)
		t = BMS_MAX_TEMPS;
	s->ntemps = 0;
	/* a counted sensor beyond -50..150 degC (0xFC18, the unused slots'
	 * -100.0) is kept as read: the gateway serves it absent and flags a
	 * sensor fault (bms_sensor_faults), the frame still counts */
	for (unsigned i = 0; i < t; i++)
		s->temp_c[s->ntemps++] = (float)bms_bes16(b + EW_O_TEMPS + 2 * i) / 10.0f;
	s->present &= ~(uint32_t)BMS_HAS_TEMPS;
	s->present |= BMS_HAS_CELLS;
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	return BMS_OK;
}

static int ew_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	bool v2;
	if (len < EW_V2_A1_LEN)
		return BMS_E_SHORT;
	if (ew_type(frame[0]) && len == ew_len(false, frame[0]))
		v2 = false;
	else if (ew_type(frame[EW_MAC]) && len == ew_len(true, frame[EW_MAC]))
		v2 = true;
	else
		return BMS_E_HEADER;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	/* the v1 offsets over a v2 frame: two bytes before it (never read) */
	uint8_t b[EW_MAX_LEN + EW_SHIFT];
	size_t sh = v2 ? EW_SHIFT : 0;
	memset(b, 0, sizeof(b));
	memcpy(b + sh, frame, len);
	uint8_t type = frame[v2 ? EW_MAC : 0];
	uint32_t bit = type == EW_A1 ? EW_GOT_A1 : EW_GOT_A2;
	/* a later frame of the same type replaces the earlier (its values) */
	struct bms_snapshot s = poll->snap;
	int rc = type == EW_A1 ? ew_a1(poll, b, v2, &s) : ew_a2(poll, b, len + sh, &s);
	if (rc != BMS_OK)
		return rc;
	poll->snap = s;
	poll->step |= (int)bit;
	return poll->step == (int)(EW_GOT_A1 | EW_GOT_A2) ? BMS_OK : BMS_MORE;
}

static int ew_finish(struct bms_poll *poll)
{
	if (poll->step != (int)(EW_GOT_A1 | EW_GOT_A2))
		return BMS_E_INVALID;
	return bms_check_pack(&poll->snap, false);
}

/* FFF0 / FFF1 notify (aiobmsble ecoworthy_bms); FFF2 is its write
 * characteristic, never written by bmsgw (listen only). */
static const struct bms_gatt ew_gatt[] = {
	{ .service = BMS_UUID16("fff0"), .notify = BMS_UUID16("fff1") },
	BMS_GATT_END,
};

/* --ble-scan: by name (aiobmsble's matcher: "ECO-WORTHY 02_*" alone,
 * "ECO-WORTHY*" and "DCHOUSE*" beside service FFF0); FFF0 alone is Daly's
 * too, so the names are what tells. */
static const struct bms_ble_hint ew_ble_hints[] = {
	{1, BMS_BLE_NAME, "ECO-WORTHY 02_", NULL, 0, false, "name ECO-WORTHY 02_... (Eco-Worthy BW02)"},
	{1, BMS_BLE_NAME, "ECO-WORTHY 0B_", NULL, 0, false, "name ECO-WORTHY 0B_... (Eco-Worthy BW02)"},
	{1, BMS_BLE_NAME, "DCHOUSE", NULL, 0, false, "name DCHOUSE... (Eco-Worthy BW02)"},
	{0},
};

static const struct bms_ble ew_ble = {
	.only = true,
	.gatt = ew_gatt,
	.hints = ew_ble_hints,
};

const struct bms_driver bms_ecoworthy_driver = {
	.name = "ecoworthy",
	.description = "Eco-Worthy BW02 BMS over Bluetooth LE (v1 and v2 0xA1/0xA2 frames, pushed; listen only)",
	.vendor = "Eco-Worthy",
	.protocol_id = 28,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
		BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	/* two pushed frames (the BMS's rate is not published): one may be missed */
	.default_timeout = 5.0,
	.listen_only = true,
	.scan = ew_scan,
	.handle = ew_handle,
	.finish = ew_finish,
	.ble = &ew_ble,
};
