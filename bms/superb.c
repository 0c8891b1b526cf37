/* SPDX-License-Identifier: MIT */
/* bms/superb.c - the Super-B Epsilon battery over Bluetooth LE, both
 * generations: v1 (advertised as Epsilon-<serial>) and v2 (company 0x50BE,
 * "Epsilon V2"), one GATT layout each; the poll knows which one the link
 * found (poll->ble_layout).
 *
 * See bms/PROTOCOLS.md §57.  Bluetooth LE only.  v1: service 74b9c2d1-...,
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
 *
 * v2 (§57.3): service cf9ccdf7-..., written and notified on cf9ccdfa-...,
 * and a second notifier e0fef452-... (struct bms_gatt.notify2): both come
 * into the one byte stream.  24-byte frames, no checksum, byte 0 the type:
 *	0x00, the answer to the read 21 54 00: 1 SOC %, 18 cycles, 19 SOH %,
 *	    20..23 runtime s (not served);
 *	0x02, pushed on e0fef452-...: 6..9 current mA (s32 BE), 10..11
 *	    voltage mV (u16 BE).
 * A poll writes 21 54 00 and is whole with a 0x00 and a 0x02 frame that
 * came after it.  The framer takes 24 bytes of type 0x00 or 0x02 whose
 * values are possible (SOC, SOH percentages; a current within the
 * plausibility table's range; a voltage above 0), else drops a byte.  Not
 * transmitted (or not described): cells, temperatures, capacities, the
 * status (alarms, balancing), MOSFETs.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define SB_LEN 20
#define SB_MAX_V 100.0f /* a 48 V Epsilon pack is under 60 V: beyond 100 V no frame */

enum { SB_WAIT, SB_DONE };

/* the layouts of sb_gatt[], in their order */
enum { SB_LAYOUT_V1 = 0, SB_LAYOUT_V2 = 1 };

#define SB2_LEN 24
enum { SB2_T_STATE = 0x00, SB2_T_LIVE = 0x02 }; /* byte 0: the frame's type */
enum {
	SB2_O_SOC = 1,
	SB2_O_CURRENT = 6,  /* s32 BE, mA */
	SB2_O_VOLT = 10,    /* u16 BE, mV */
	SB2_O_CYCLES = 18,
	SB2_O_SOH = 19,
};
/* poll->seen: the frames of this poll */
#define SB2_SEEN_STATE 0x01u
#define SB2_SEEN_LIVE 0x04u

static const uint8_t sb2_read[] = { 0x21, 0x54, 0x00 }; /* S57-2: the one request */

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

static bool sb_v2(const struct bms_poll *poll)
{
	return poll->ble_layout == SB_LAYOUT_V2;
}

/* Is f[0..SB2_LEN) a v2 frame the BMS can have sent?  Its type, and as in
 * v1 the values' ranges: SOC and SOH percentages (0x00); a current within
 * the plausibility table's +-3000 A and a voltage above 0 (0x02). */
static bool sb2_sane(const uint8_t *f)
{
	if (f[0] == SB2_T_STATE)
		return f[SB2_O_SOC] <= 100 && f[SB2_O_SOH] <= 100;
	if (f[0] != SB2_T_LIVE)
		return false;
	double ma = (double)(int32_t)bms_be32(f + SB2_O_CURRENT);
	return fabs(ma) <= BMS_PLAUSIBLE_MAX_A * 1000.0 && bms_be16(f + SB2_O_VOLT) > 0;
}

static enum bms_scan sb2_scan(const uint8_t *buf, size_t len, size_t *n)
{
	size_t m = len < sizeof(sb2_read) ? len : sizeof(sb2_read);
	if (m > 0 && memcmp(buf, sb2_read, m) == 0) {
		if (m < sizeof(sb2_read))
			return BMS_SCAN_NEED;
		*n = sizeof(sb2_read); /* our own read, echoed: no frame */
		return BMS_SCAN_SKIP;
	}
	if (len >= 1 && buf[0] != SB2_T_STATE && buf[0] != SB2_T_LIVE) {
		*n = 1; /* no frame starts here */
		return BMS_SCAN_SKIP;
	}
	if (len < SB2_LEN)
		return BMS_SCAN_NEED;
	if (!sb2_sane(buf)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	*n = SB2_LEN;
	return BMS_SCAN_FRAME;
}

static enum bms_scan sb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	if (sb_v2(poll))
		return sb2_scan(buf, len, n);
	if (len < SB_LEN)
		return BMS_SCAN_NEED;
	if (!sb_sane(buf)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	*n = SB_LEN;
	return BMS_SCAN_FRAME;
}

/* A v2 frame: 0x00 gives SOC, SOH and cycles, 0x02 voltage and current
 * (the latest of the poll); the step is done with both. */
static int sb2_handle(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	if (len != SB2_LEN)
		return len < SB2_LEN ? BMS_E_SHORT : BMS_E_HEADER;
	if (f[0] != SB2_T_STATE && f[0] != SB2_T_LIVE)
		return BMS_E_HEADER;
	if (!sb2_sane(f))
		return BMS_E_RANGE;
	if (poll->step != SB_WAIT)
		return BMS_E_UNEXPECTED; /* the poll has its frames */
	if (f[0] == SB2_T_STATE) {
		s->soc = f[SB2_O_SOC];
		s->soh = f[SB2_O_SOH];
		s->cycles = f[SB2_O_CYCLES];
		s->present |= BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CYCLES;
		poll->seen |= SB2_SEEN_STATE;
	} else {
		s->current = (float)(int32_t)bms_be32(f + SB2_O_CURRENT) / 1000.0f;
		if (poll->invert_current)
			s->current = -s->current;
		s->voltage = (float)bms_be16(f + SB2_O_VOLT) / 1000.0f;
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
		poll->seen |= SB2_SEEN_LIVE;
	}
	if ((poll->seen & (SB2_SEEN_STATE | SB2_SEEN_LIVE)) != (SB2_SEEN_STATE | SB2_SEEN_LIVE))
		return BMS_MORE;
	poll->step = SB_DONE;
	return BMS_OK;
}

static int sb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	if (sb_v2(poll))
		return sb2_handle(poll, frame, len);
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

/* v1 sends nothing and waits for the pushed frame; v2 is asked. */
static bool sb_listens(const struct bms_poll *poll)
{
	return !sb_v2(poll) && poll->step == SB_WAIT;
}

/* v2's read 21 54 00 (S57-2), nothing else; v1 is never written to. */
static int sb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == SB_DONE)
		return 0;
	if (poll->step != SB_WAIT)
		return BMS_E_RANGE;
	if (!sb_v2(poll))
		return BMS_E_HEADER;
	return bms_request_copy(out, cap, sb2_read, sizeof(sb2_read));
}

/* No cells: a sample is whole with its voltage and current (v2: and its
 * SOC frame). */
static int sb_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (poll->step != SB_DONE || !(s->present & BMS_HAS_VOLTAGE) || !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	return BMS_OK;
}

/* SB_LAYOUT_V1: aiobmsble superb_bms, the service and its notify
 * characteristic, none written; SB_LAYOUT_V2: superb_v2_bms, one
 * characteristic written and notifying, and the second notifier. */
static const struct bms_gatt sb_gatt[] = {
	[SB_LAYOUT_V1] = { .service = "74b9c2d1-dc6d-42cf-a2e9-7398b8fc2e70",
			   .notify = "6edadbe4-4f53-4a5a-96ed-02f93db93790" },
	[SB_LAYOUT_V2] = { .service = "cf9ccdf7-eee9-43ce-87a5-82b54af5324e",
			   .notify = "cf9ccdfa-eee9-43ce-87a5-82b54af5324e",
			   .write = "cf9ccdfa-eee9-43ce-87a5-82b54af5324e",
			   .notify2 = "e0fef452-9d2b-4005-a1e3-69fe1102b436" },
	BMS_GATT_END,
};

/* aiobmsble's matchers: v1 the name Epsilon-*, v2 the company 0x50BE with
 * "Epsilon V2" data: that one first, its names may be alike. */
static const struct bms_ble_hint sb_ble_hints[] = {
	{0, BMS_BLE_COMPANY, NULL, NULL, 0x50BE, false, "company 0x50BE (Super-B Epsilon V2)"},
	{1, BMS_BLE_NAME, "Epsilon-", NULL, 0, false, "name Epsilon-<serial> (Super-B Epsilon v1)"},
	{0},
};

static const struct bms_ble sb_ble = {
	.only = true,
	.gatt = sb_gatt,
	.hints = sb_ble_hints,
};

const struct bms_driver bms_superb_driver = {
	.name = "superb",
	.description = "Super-B Epsilon (v1, v2) over Bluetooth LE (v1 pushed, v2 asked 21 54 00)",
	.vendor = "Super-B",
	.protocol_id = 48,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_BALANCING | BMS_HAS_ALARMS | BMS_HAS_CYCLES, /* v1: status byte; v2: cycles */
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	.default_timeout = 5.0,
	.next_request = sb_next_request,
	.listens = sb_listens,
	.scan = sb_scan,
	.handle = sb_handle,
	.finish = sb_finish,
	.ble = &sb_ble,
};
