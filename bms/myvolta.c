/* SPDX-License-Identifier: MIT */
/* bms/myvolta.c - Volta Power Systems batteries ("myVolta", the VPS-...
 * CAN-to-Bluetooth-LE gateway) over Bluetooth LE: the gateway's stream of
 * DLE-framed messages, listened to.
 *
 * See bms/PROTOCOLS.md §68.  Bluetooth LE only: Microchip's MLDP service
 * 00035b03-...-000300, the stream notified on ...-000301 by itself;
 * nothing is ever written (listen only).  On the wire a message is
 *	55 55  body (stuffed)  04 04
 * where inside the body a DLE (05) escapes the next byte (05, 55 or 04: that
 * byte), an ETX (04) the next 05 or 55, ETX ETX ends the message, and any
 * other byte after an escape is a stuffing error (the message is damaged).
 * Unstuffed, a data message is 16 bytes:
 *	0 command 0x01, 1 message type, 2 pack id 0x02, 3..5 not described,
 *	6 data length 8, 7..14 the data, 15 checksum = 0xFF ^ (sum of 1..14)
 * and the types a sample takes (data little-endian):
 *	0x00 pack voltage u16 mV, current s16 x0.01 A (- = discharging),
 *	     SOC u16 x0.1 % (data 0, 2, 6)
 *	0x01 problem code: data 1, 2 and 4 (3 holds the heater's bit 7)
 *	0x11..0x14 cells 1..16, u16 mV each, four a message
 *	0x24..0x26 sensors 1..12, s16 x0.1 degC, four a message (0x8000
 *	     and FDDC: no sensor)
 * Any other message (other types, commands, lengths) is skipped.
 *
 * Progress: step (enum below), seen (bit per message type taken, MYV_SEEN_*);
 * the cells wait in snap.cell_mv, the sensors in the private state, until
 * every type is there.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define MYV_STX 0x55
#define MYV_DLE 0x05
#define MYV_ETX 0x04
#define MYV_BODY 16 /* a data message unstuffed: the longest taken */
#define MYV_CMD 0x01
#define MYV_PACK 0x02
#define MYV_DLEN 8
#define MYV_SLOTS 16   /* cell slots, 0x11..0x14 */
#define MYV_SENSORS 12 /* sensors, 0x24..0x26 */
#define MYV_SEEN_ALL 0x1FFu

enum { MYV_WAIT, MYV_DONE };

/* What the walk of a stuffed message found. */
enum myv_walk {
	MYV_W_NEED,  /* not ended yet */
	MYV_W_END,   /* ended (escape + ETX): *u bytes unstuffed, *raw bytes in all */
	MYV_W_LONG,  /* a byte beyond MYV_BODY: no message of ours (cut, or another) */
	MYV_W_STUFF, /* an escape before a byte it does not escape: damaged */
};

struct myv_state {
	int16_t sensor[MYV_SENSORS]; /* 0.1 degC as sent, until the sample is whole */
};

/* The frame assembly: buf[0..len) from its start (55 55) on, unstuffed into
 * out[0..MYV_BODY) -- each byte checked against the room before it is
 * written.  A state machine fed whatever the reads brought: in the body, or
 * after an escape (esc: the DLE or the ETX that escaped).  DLE escapes 05,
 * 55 and 04; ETX escapes 05 and 55, and ETX ETX ends the message (§68.2). */
static enum myv_walk myv_walk(const uint8_t *buf, size_t len, uint8_t *out, size_t *u, size_t *raw)
{
	uint8_t esc = 0;
	*u = 0;
	for (size_t i = 2; i < len; i++) {
		uint8_t b = buf[i];
		if (!esc && (b == MYV_DLE || b == MYV_ETX)) {
			esc = b;
			continue;
		}
		if (esc) {
			if (esc == MYV_ETX && b == MYV_ETX) {
				*raw = i + 1;
				return MYV_W_END;
			}
			if (b != MYV_DLE && b != MYV_STX && !(esc == MYV_DLE && b == MYV_ETX))
				return MYV_W_STUFF;
			esc = 0;
		}
		if (*u == MYV_BODY)
			return MYV_W_LONG;
		out[(*u)++] = b;
	}
	return MYV_W_NEED;
}

/* A data message of ours: 16 bytes, command 0x01, pack id 0x02, 8 data
 * bytes (its checksum apart). */
static bool myv_ours(const uint8_t *m, size_t u)
{
	return u == MYV_BODY && m[0] == MYV_CMD && m[2] == MYV_PACK && m[6] == MYV_DLEN;
}

static bool myv_sum_ok(const uint8_t *m)
{
	return (uint8_t)(0xFF ^ bms_sum(m + 1, MYV_BODY - 2)) == m[MYV_BODY - 1];
}

/* ---- the framer ---------------------------------------------------------- */

/* Garbage up to the next 55; a 55 not followed by 55 is no start.  A
 * message that ends is a frame when it is a data message of ours with its
 * checksum right (else BADSUM, one byte: §68.3), skipped whole when it is
 * another; one that runs past 16 bytes unstuffed is no message of ours
 * (one byte skipped: a message cut short may be followed by a whole one);
 * a stuffing error is damage (BADSUM, one byte). */
static enum bms_scan myv_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	enum bms_scan r;
	uint8_t m[MYV_BODY];
	size_t u, raw = 0;
	(void)poll;
	if (!bms_scan_start(buf, len, MYV_STX, &r, n))
		return r;
	if (len < 2)
		return BMS_SCAN_NEED;
	if (buf[1] != MYV_STX) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	switch (myv_walk(buf, len, m, &u, &raw)) {
	case MYV_W_NEED:
		return BMS_SCAN_NEED;
	case MYV_W_LONG:
		*n = 1;
		return BMS_SCAN_SKIP;
	case MYV_W_STUFF:
		*n = 1;
		return BMS_SCAN_BADSUM;
	case MYV_W_END:
		break;
	}
	if (!myv_ours(m, u)) {
		*n = raw;
		return BMS_SCAN_SKIP;
	}
	return bms_scan_tail(myv_sum_ok(m), true, raw, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* The cell list (slots 1..16 in snap.cell_mv): the forced count, else the
 * slots up to the first empty one (a 14S pack sends 0 and 1 in slots 15
 * and 16, §68.4). */
static int myv_cells(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned nc = 0;
	if (poll->cells_forced)
		nc = poll->cells_forced < MYV_SLOTS ? poll->cells_forced : MYV_SLOTS;
	else
		while (nc < MYV_SLOTS && s->cell_mv[nc] != 0)
			nc++;
	if (nc == 0)
		return BMS_E_INVALID;
	for (unsigned i = nc; i < MYV_SLOTS; i++)
		s->cell_mv[i] = 0;
	s->ncells = (uint8_t)nc;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

/* A slot with no sensor: 0x8000, or FDDC (-54.8 degC), as the capture
 * sends in the slots of types no reader takes (§68.4). */
static bool myv_no_sensor(int16_t v)
{
	return v == INT16_MIN || v == -548;
}

/* Sensors 1..12, every one (up to the last there, a slot with no sensor
 * absent); the highest and lowest reading of all twelve (-50..150 degC)
 * as the BMS's extremes (§68.4). */
static void myv_temps(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct myv_state *st = BMS_PRIV(poll, struct myv_state);
	float hi = NAN, lo = NAN;
	unsigned nt = 0;
	_Static_assert(MYV_SENSORS <= BMS_MAX_TEMPS, "a snapshot holds every sensor of the stream");
	for (unsigned i = 0; i < MYV_SENSORS; i++) {
		bool none = myv_no_sensor(st->sensor[i]);
		float t = none ? NAN : (float)st->sensor[i] / 10.0f;
		s->temp_c[i] = t;
		nt = none ? nt : i + 1;
		if (none || t < -50.0f || t > 150.0f)
			continue;
		hi = isnan(hi) || t > hi ? t : hi;
		lo = isnan(lo) || t < lo ? t : lo;
	}
	s->ntemps = (uint8_t)nt;
	if (nt)
		s->present |= BMS_HAS_TEMPS;
	bms_set_temp_ext(s, hi, lo);
}

/* The data of message type t into the poll; its bit of seen, or 0 for a
 * type no sample takes. */
static int myv_take(struct bms_poll *poll, uint8_t t, const uint8_t *d, uint32_t *bit)
{
	struct bms_snapshot *s = &poll->snap;
	*bit = 0;
	if (t == 0x00) {
		unsigned soc = bms_le16(d + 6);
		if (soc > 1000 || bms_le16(d) == 0)
			return BMS_E_RANGE;
		s->voltage = (float)bms_le16(d) / 1000.0f;
		s->current = (float)bms_les16(d + 2) / 100.0f;
		if (poll->invert_current)
			s->current = -s->current;
		s->soc = (float)soc / 10.0f;
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
		*bit = 1u << 0;
	} else if (t == 0x01) {
		s->raw_alarms[0] = bms_le16(d + 1);
		s->raw_alarms[1] = d[4];
		s->nraw = 2;
		s->alarms = 0; /* the code's meaning is not published (§68.4) */
		s->present |= BMS_HAS_ALARMS;
		*bit = 1u << 1;
	} else if (t >= 0x11 && t <= 0x14) {
		for (unsigned i = 0; i < 4; i++)
			s->cell_mv[(t - 0x11) * 4 + i] = bms_le16(d + 2 * i);
		*bit = 1u << (2 + t - 0x11);
	} else if (t >= 0x24 && t <= 0x26) {
		struct myv_state *st = BMS_PRIV(poll, struct myv_state);
		for (unsigned i = 0; i < 4; i++)
			st->sensor[(t - 0x24) * 4 + i] = bms_les16(d + 2 * i);
		*bit = 1u << (6 + t - 0x24);
	}
	return BMS_OK;
}

static int myv_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t m[MYV_BODY];
	size_t u, raw = 0;
	uint32_t bit;
	if (len < 4 || frame[0] != MYV_STX || frame[1] != MYV_STX)
		return BMS_E_SHORT;
	enum myv_walk w = myv_walk(frame, len, m, &u, &raw);
	if (w != MYV_W_END || raw != len)
		return w == MYV_W_STUFF ? BMS_E_CHECKSUM : BMS_E_SHORT;
	if (!myv_ours(m, u))
		return BMS_E_HEADER;
	if (!myv_sum_ok(m))
		return BMS_E_CHECKSUM;
	if (poll->step != MYV_WAIT)
		return BMS_E_UNEXPECTED; /* the poll has its sample */
	int rc = myv_take(poll, m[1], m + 7, &bit);
	if (rc < 0)
		return rc;
	poll->seen |= bit;
	if (poll->seen != MYV_SEEN_ALL)
		return BMS_MORE;
	rc = myv_cells(poll);
	if (rc < 0)
		return rc;
	myv_temps(poll);
	poll->step = MYV_DONE;
	return BMS_OK;
}

static int myv_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, MYV_DONE);
}

/* Microchip's MLDP service, the data characteristic notified (aiobmsble
 * myvolta_bms); nothing is written. */
#define MYV_UUID(x) "00035b03-58e6-07dd-021a-08123a0003" x
static const struct bms_gatt myv_gatt[] = {
	{ .service = MYV_UUID("00"), .notify = MYV_UUID("01") },
	BMS_GATT_END,
};

/* "VPS-" and the four hex digits of the address's end ("VPS-197B" of
 * E8:EB:1B:F9:19:7B).  Its service is Microchip's MLDP, which any RN4020
 * module advertises: never a hint. */
static bool myv_name_ok(const char *n)
{
	if (strncmp(n, "VPS-", 4) != 0)
		return false;
	for (unsigned i = 4; i < 8; i++) {
		char c = n[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return n[8] == '\0';
}

static const struct bms_ble_hint myv_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, myv_name_ok, 0, false, "name VPS-<4 hex digits> (Volta Power Systems, myVolta)"},
	{0},
};

static const struct bms_ble myv_ble = {
	.only = true,
	.gatt = myv_gatt,
	.hints = myv_ble_hints,
};

const struct bms_driver bms_myvolta_driver = {
	.name = "myvolta",
	.description = "Volta Power Systems (myVolta VPS-...) over Bluetooth LE (its DLE-framed stream, listened to)",
	.vendor = "Volta Power Systems",
	.protocol_id = 59,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELLS |
		BMS_HAS_TEMPS | BMS_HAS_TEMP_EXT | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.5,
	/* the stream's rate is not published: a few seconds for nine messages */
	.default_timeout = 5.0,
	.listen_only = true,
	.scan = myv_scan,
	.handle = myv_handle,
	.finish = myv_finish,
	.ble = &myv_ble,
};
