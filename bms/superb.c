/* SPDX-License-Identifier: MIT */
/* bms/superb.c - the Super-B Epsilon battery over Bluetooth LE, its first
 * generation ("v1", advertised as Epsilon-<serial>).
 *
 * See bms/PROTOCOLS.md §57.  Bluetooth LE only: service 74b9c2d1-...,
 * the BMS notifies on 6edadbe4-... by itself once a client subscribes and
 * is never written to (no request at all).  A frame is 20 bytes, no start
 * byte, no checksum:
 *	1 status (bit 0 = no problem, bit 7 = balancing);  2 SOC %;  3 SOH %;
 *	4..7 runtime s (u32 BE, not served);  8..11 current A, float32 BE
 *	(- = discharging);  12..15 voltage V, float32 BE
 * Bytes 0 and 16..19 are not described by any source (0 in the capture).
 * Without a checksum the framer takes 20 bytes whose SOC and SOH are
 * percentages and whose current and voltage are finite numbers in the
 * plausibility table's range; anything else is skipped a byte at a time
 * (a lost piece of a notification: the next frame is found again).
 * Not transmitted: cells, temperatures, capacities, cycles, MOSFETs.
 * The Epsilon v2 (company 0x50BE, "Epsilon V2") is another protocol on two
 * notify characteristics: not read here (§57.3).
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define SB_LEN 20
#define SB_MAX_V 100.0f /* a 48 V Epsilon pack is under 60 V: beyond 100 V no frame */

enum { SB_WAIT, SB_DONE };

enum {
	SB_O_STATUS = 1,
	SB_O_SOC = 2,
	SB_O_SOH = 3,
	SB_O_CURRENT = 8,
	SB_O_VOLT = 12,
};

#define SB_ST_OK 0x01u       /* status bit 0: no problem */
#define SB_ST_BALANCE 0x80u  /* status bit 7: balancing */

_Static_assert(sizeof(float) == 4, "float32 on the wire is a C float");

static float sb_float(const uint8_t *p)
{
	uint32_t u = bms_be32(p);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* Is frame[0..SB_LEN) one the BMS can have sent?  No checksum: the values'
 * ranges are what is checked: SOC and SOH percentages, a current that is 0
 * or a normal float within the plausibility table's +-3000 A, a voltage
 * that is a normal float above 0 and at most SB_MAX_V (a denormal, an
 * infinity or a NaN is no measurement: bytes out of step). */
static bool sb_sane(const uint8_t *f)
{
	float a = sb_float(f + SB_O_CURRENT), v = sb_float(f + SB_O_VOLT);
	return f[SB_O_SOC] <= 100 && f[SB_O_SOH] <= 100 && (a == 0.0f || isnormal(a)) &&
	       fabsf(a) <= (float)BMS_PLAUSIBLE_MAX_A && isnormal(v) && v > 0.0f && v <= SB_MAX_V;
}

static enum bms_scan sb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len < SB_LEN)
		return BMS_SCAN_NEED;
	if (!sb_sane(buf)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	*n = SB_LEN;
	return BMS_SCAN_FRAME;
}

static int sb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	if (len != SB_LEN)
		return len < SB_LEN ? BMS_E_SHORT : BMS_E_HEADER;
	if (!sb_sane(frame))
		return BMS_E_RANGE;
	if (poll->step != SB_WAIT)
		return BMS_E_UNEXPECTED; /* the poll has its frame */
	uint8_t st = frame[SB_O_STATUS];
	memset(s, 0, sizeof(*s));
	s->voltage = sb_float(frame + SB_O_VOLT);
	s->current = sb_float(frame + SB_O_CURRENT);
	if (poll->invert_current)
		s->current = -s->current;
	s->soc = frame[SB_O_SOC];
	s->soh = frame[SB_O_SOH];
	s->balancing = (st & SB_ST_BALANCE) != 0;
	s->raw_alarms[0] = st;
	s->nraw = 1;
	/* bit 0 clear: a problem the BMS does not name further */
	s->alarms = (st & SB_ST_OK) ? 0 : BMS_AL_OTHER;
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_BALANCING |
		     BMS_HAS_ALARMS;
	poll->step = SB_DONE;
	return BMS_OK;
}

/* No cells: a sample is whole with its voltage and current. */
static int sb_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (poll->step != SB_DONE || !(s->present & BMS_HAS_VOLTAGE) || !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	return BMS_OK;
}

/* aiobmsble superb_bms: the service and its notify characteristic; no
 * characteristic is written. */
static const struct bms_gatt sb_gatt[] = {
	{ .service = "74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70", .notify = "6edadbe4-4f53-4a5a-96ed-02f93db93790" },
	{ NULL, NULL, NULL, NULL },
};

/* aiobmsble's matchers: v1 the name Epsilon-*, v2 (not read) the company
 * 0x50BE with "Epsilon V2" data: that one first, its names may be alike. */
static const struct bms_ble_hint sb_ble_hints[] = {
	{0, BMS_BLE_COMPANY, NULL, NULL, 0x50BE, false, "company 0x50BE (Super-B Epsilon V2: not read by bmsgw)"},
	{1, BMS_BLE_NAME, "Epsilon-", NULL, 0, false, "name Epsilon-<serial> (Super-B Epsilon v1)"},
	{0},
};

const struct bms_driver bms_superb_driver = {
	.name = "superb",
	.description = "Super-B Epsilon (v1) over Bluetooth LE (20-byte frames, pushed)",
	.vendor = "Super-B",
	.protocol_id = 48,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_BALANCING | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	.default_timeout = 5.0,
	.listen_only = true,
	.scan = sb_scan,
	.handle = sb_handle,
	.finish = sb_finish,
	.ble_gatt = sb_gatt,
	.ble_hints = sb_ble_hints,
};
