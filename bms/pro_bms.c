/* SPDX-License-Identifier: MIT */
/* bms/pro_bms.c - the "Pro BMS" smart shunt over Bluetooth LE: Foxwell
 * BT630, Leagend CM100 (a battery monitor with a shunt, no cells).
 *
 * See bms/PROTOCOLS.md §60.  Bluetooth LE only: service FFF0, writes to
 * FFF3, notifications on FFF4.  Frames both ways start 55 AA, then a
 * length byte n; a request is n + 4 bytes, an answer n + 5:
 *	55 AA n <n bytes: type or 01, ...> xor [answers: one byte more]
 * the check byte the XOR of the bytes from offset 3 to it (§60.1: it holds
 * on every recorded frame both ways); an answer's last byte is not
 * described and not looked at.  An answer's type is byte 3 (0x03 the
 * answer to a command, 0x04 the stream), its function byte 7.
 *
 * The shunt streams only after a handshake, once a connection: INIT (the
 * function 0x04 with the bytes aiobmsble sends) answered by a 0x03 frame
 * of function 0x04, then 0x40, 0x42 and 0x43 (the last starts the stream),
 * whose answers are not waited for (any frame, or the step's timeout, moves
 * on).  Then the stream (type 0x04, function 0x70, n 0x2D), about twice a
 * second, is listened to: a poll takes the next frame.  Decoded (§60.2):
 *	8 u16 voltage 0.01 V;  12 u16 current mA, byte 15 bit 7 set =
 *	discharging, bits 0..6 the protection flags;  16 u16 temperature
 *	0.1 degC, byte 18 not 0 = below 0;  20 u32 remaining 0.01 Ah;
 *	24 SOC %;  32 u32 power 0.01 W (its sign the current's)
 * Not decoded: the runtime (28, wrong at high currents: aiobmsble), the
 * total discharged Ah, the timestamp, the bytes no source describes.
 *
 * Progress: step (enum below: PB_BEGIN resolves to the first one the poll
 * needs); persist PB_P_STREAMING (the stream was heard on this
 * connection).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define PB_HEAD0 0x55
#define PB_HEAD1 0xAA
#define PB_REQ_OVER 4   /* a request: head, length, check byte */
#define PB_ANS_OVER 5   /* an answer: one byte more */
#define PB_T_ANSWER 0x03
#define PB_T_STREAM 0x04
#define PB_F_INIT 0x04
#define PB_F_DATA 0x70
#define PB_DATA_N 0x2D  /* the stream frame's length byte */
#define PB_DATA_LEN (PB_DATA_N + PB_ANS_OVER)
#define PB_P_STREAMING 0x1u

enum { PB_BEGIN = 0, PB_INIT, PB_HWID, PB_STREAM, PB_TRIGGER, PB_DATA, PB_DONE };

/* The handshake, as aiobmsble's pro_bms sends it (its Pro BMS page). */
static const uint8_t pb_init[] = { 0x55, 0xAA, 0x0A, 0x01, 0x01, 0x55, 0x80, 0x04, 0x07, 0x7F, 0x64, 0x8E, 0x68, 0x2B };
static const uint8_t pb_hwid[] = { 0x55, 0xAA, 0x07, 0x01, 0x01, 0x55, 0x80, 0x40, 0x00, 0x00, 0x95 };
static const uint8_t pb_stream[] = { 0x55, 0xAA, 0x07, 0x01, 0x01, 0x55, 0x80, 0x42, 0x00, 0x00, 0x97 };
static const uint8_t pb_trigger[] = { 0x55, 0xAA, 0x09, 0x01, 0x01, 0x55, 0x80, 0x43, 0x00, 0x00, 0x12, 0x00, 0x84 };

/* The protection flags of byte 15, bits 0..6 (aiobmsble's Pro BMS page, from the
 * vendor's protocol document): over- and under-voltage, over-current,
 * over- and under-temperature (the direction not said: OTHER), short
 * circuit, imbalance. */
static const struct bms_alarm_rule pb_alarms[] = {
	{ 0, 0, BMS_AL_PACK_OV }, { 0, 1, BMS_AL_PACK_UV }, { 0, 2, BMS_AL_OTHER }, { 0, 3, BMS_AL_OTHER },
	{ 0, 4, BMS_AL_OTHER },	  { 0, 5, BMS_AL_SHORT },   { 0, 6, BMS_AL_CELL_DIFF },
};

static uint8_t pb_xor(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++)
		x ^= p[i];
	return x;
}

/* The step the poll is at: the handshake on a fresh connection, or when
 * the stream was not heard; else the stream. */
static int pb_step(const struct bms_poll *poll)
{
	if (poll->step != PB_BEGIN)
		return poll->step;
	return poll->link_fresh || !(poll->persist & PB_P_STREAMING) ? PB_INIT : PB_DATA;
}

static bool pb_listens(const struct bms_poll *poll)
{
	return pb_step(poll) == PB_DATA && poll->attempt == 0;
}

static int pb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	int step = pb_step(poll);
	if (step == PB_DATA) /* a retry: the stream stopped, the handshake again */
		step = poll->step = PB_INIT;
	switch (step) {
	case PB_INIT:
		poll->step = PB_INIT;
		poll->persist &= ~PB_P_STREAMING;
		return bms_request_copy(out, cap, pb_init, sizeof(pb_init));
	case PB_HWID:
		return bms_request_copy(out, cap, pb_hwid, sizeof(pb_hwid));
	case PB_STREAM:
		return bms_request_copy(out, cap, pb_stream, sizeof(pb_stream));
	case PB_TRIGGER:
		return bms_request_copy(out, cap, pb_trigger, sizeof(pb_trigger));
	case PB_DONE:
		return 0;
	default:
		return BMS_E_RANGE;
	}
}

/* ---- the framer ---------------------------------------------------------- */

/* 55 AA n, n + 5 bytes, the check byte at n + 3.  A request echoed (n + 4
 * bytes, its check byte last, byte 3 0x01) is skipped whole. */
static enum bms_scan pb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	(void)poll;
	if (!bms_scan_start(buf, len, PB_HEAD0, &r, n))
		return r;
	if (len < 2)
		return BMS_SCAN_NEED;
	if (buf[1] != PB_HEAD1) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < 5)
		return BMS_SCAN_NEED;
	size_t want = (size_t)buf[2] + PB_ANS_OVER;
	if (buf[3] == 0x01 && len >= want - 1 && pb_xor(buf + 3, buf[2]) == buf[want - 2])
		return bms_scan_tail(true, false, want - 1, n); /* a request echoed */
	if (buf[2] < 5)
		return bms_scan_tail(false, true, 1, n);
	if (len < want)
		return BMS_SCAN_NEED;
	return bms_scan_tail(pb_xor(buf + 3, buf[2]) == buf[want - 2], true, want, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* The stream frame f[0..PB_DATA_LEN) into the snapshot. */
static int pb_data(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_snapshot *s = &poll->snap;
	uint16_t cv = bms_le16(f + 8);
	uint8_t soc = f[24];
	if (cv == 0 || soc > 100)
		return BMS_E_RANGE;
	bool dsg = (f[15] & 0x80) != 0;
	s->voltage = (float)cv / 100.0f;
	s->current = (float)bms_le16(f + 12) / 1000.0f * (dsg ? -1.0f : 1.0f);
	s->power = (float)bms_le32(f + 32) / 100.0f * (dsg ? -1.0f : 1.0f);
	if (poll->invert_current) {
		s->current = -s->current;
		s->power = -s->power;
	}
	s->temp_c[0] = (float)bms_le16(f + 16) / 10.0f * (f[18] ? -1.0f : 1.0f);
	s->ntemps = 1;
	s->remain_ah = (float)bms_le32(f + 20) / 100.0f;
	s->soc = soc;
	uint16_t prot = f[15] & 0x7F;
	s->raw_alarms[0] = prot;
	s->nraw = 1;
	s->alarms = bms_alarm_map(&prot, 1, pb_alarms, sizeof(pb_alarms) / sizeof(pb_alarms[0]));
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_TEMPS | BMS_HAS_REMAIN |
		      BMS_HAS_SOC | BMS_HAS_ALARMS;
	return BMS_OK;
}

static int pb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < 8 || frame[0] != PB_HEAD0 || frame[1] != PB_HEAD1)
		return BMS_E_HEADER;
	if (len != (size_t)frame[2] + PB_ANS_OVER)
		return BMS_E_SHORT;
	if (pb_xor(frame + 3, frame[2]) != frame[len - 2])
		return BMS_E_CHECKSUM;
	int step = pb_step(poll);
	bool data = frame[3] == PB_T_STREAM && frame[7] == PB_F_DATA;
	if (data && len != PB_DATA_LEN)
		return BMS_E_SHORT;
	if (step == PB_INIT) {
		if (frame[3] != PB_T_ANSWER || frame[7] != PB_F_INIT)
			return BMS_E_UNEXPECTED; /* waiting for INIT's answer */
		poll->step = PB_HWID;
		return BMS_OK;
	}
	if (step == PB_DONE)
		return BMS_E_UNEXPECTED; /* the poll has its sample */
	if (step != PB_DATA && !data) {
		poll->step = step + 1; /* an answer to 0x40 / 0x42 / 0x43 (not waited for) */
		return BMS_OK;
	}
	if (!data)
		return BMS_E_UNEXPECTED; /* listening: only the stream */
	int rc = pb_data(poll, frame);
	if (rc < 0)
		return rc;
	poll->persist |= PB_P_STREAMING;
	poll->step = PB_DONE;
	return BMS_OK;
}

/* A step's timeout: 0x40, 0x42 and 0x43 are not answered for sure (the
 * next step follows); INIT unanswered, or the stream silent, is a failed
 * try (its retry starts the handshake again). */
static bool pb_timeout(struct bms_poll *poll)
{
	int step = pb_step(poll);
	if (step >= PB_HWID && step <= PB_TRIGGER) {
		poll->step = step + 1;
		return true;
	}
	if (step == PB_DATA)
		poll->persist &= ~PB_P_STREAMING;
	return false;
}

/* A shunt: no cells; a sample is whole with its voltage. */
static int pb_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (poll->step != PB_DONE || !(s->present & BMS_HAS_VOLTAGE) || !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	return BMS_OK;
}

/* Service FFF0, write FFF3, notify FFF4 (aiobmsble pro_bms). */
static const struct bms_gatt pb_gatt[] = {
	BMS_GATT16("fff0", "fff4", "fff3"),
	BMS_GATT_END,
};

/* aiobmsble's matcher: the local name "Pro BMS" exactly (with FFF0; its
 * advertisements carry many company ids, none of them its own). */
static bool pb_name_ok(const char *n)
{
	return strcmp(n, "Pro BMS") == 0;
}

static const struct bms_ble_hint pb_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, pb_name_ok, 0, false, "name Pro BMS (smart shunt: Foxwell BT630, Leagend CM100)"},
	{0},
};

static const struct bms_ble pb_ble = {
	.only = true,
	.gatt = pb_gatt,
	.hints = pb_ble_hints,
};

const struct bms_driver bms_pro_bms_driver = {
	.name = "pro-bms",
	.description = "Pro BMS smart shunt over Bluetooth LE (Foxwell BT630, Leagend CM100; handshake, then a stream)",
	.vendor = "Leagend",
	.protocol_id = 51,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	.default_timeout = 3.0,
	.next_request = pb_next_request,
	.scan = pb_scan,
	.handle = pb_handle,
	.timeout = pb_timeout,
	.finish = pb_finish,
	.listens = pb_listens,
	.ble = &pb_ble,
};
