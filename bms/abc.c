/* SPDX-License-Identifier: MIT */
/* bms/abc.c - SOK batteries and other ABC-BMS over Bluetooth LE (the
 * "ABC BMS" app, com.sjty.sbs_bms).
 *
 * See bms/PROTOCOLS.md §33.  Bluetooth LE only: service FFE0, writes to
 * FFE2, notifications on FFE1.  Requests are 6 bytes
 *	EE <cmd> 00 00 00 <CRC-8/MAXIM of the 5 before>
 * and every answer is 20 bytes
 *	CC <type> <17 bytes, little-endian values> <CRC-8/MAXIM of 0..18>
 * C0 -> F1 (the name), C1 -> F0 (voltage, current, capacities, cycles, SOC)
 * and F2 (MOSFETs, temperatures), C2 -> F0, F3 (balancer, heater) and the
 * cells, four to an F4, C4 -> F9 (protection flags; not every BMS answers).
 * A poll is:
 *	NAME	C0 -> F1, the identity; on the first poll of a connection and
 *		while it is not known, skipped when it is not answered;
 *	INFO	C1 -> F0 and F2;
 *	DETAIL	C2 -> F0, F3 and the F4s: the count of cells is not sent, so
 *		the list is complete with `cells =`, with the count a poll
 *		learned, or (learning it, on the first poll and with the slow
 *		values) once the cells received one after the other add up
 *		to the pack voltage within half a cell;
 *	PROT	C4 -> F9; a BMS that does not answer is not asked again on
 *		this connection (its alarms stay absent).
 * No write is sent: none is documented (§33.5).
 *
 * Progress: step (enum below), struct abc_state in poll->priv; persist
 * ABC_P_NOPROT (C4 went unanswered on this connection).
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define ABC_REQ_LEN 6
#define ABC_LEN 20
#define ABC_HEAD_REQ 0xEE
#define ABC_HEAD 0xCC
#define ABC_CMD_NAME 0xC0
#define ABC_CMD_INFO 0xC1
#define ABC_CMD_DETAIL 0xC2
#define ABC_CMD_PROT 0xC4
#define ABC_F0 0xF0
#define ABC_F1 0xF1
#define ABC_F2 0xF2
#define ABC_F3 0xF3
#define ABC_F4 0xF4
#define ABC_F9 0xF9
#define ABC_FA 0xFA              /* the last answer type (C3's settings) */
#define ABC_MAX_TEMPS 7          /* s16 from byte 5 to 18 */
#define ABC_MAX_CELL_MV 6500

enum { ABC_BEGIN = 0, ABC_NAME, ABC_INFO, ABC_DETAIL, ABC_PROT, ABC_DONE };

#define ABC_P_NOPROT 0x1u

/* The state of a poll. */
struct abc_state {
	uint16_t got;   /* answer types of the current step: bit (type - 0xF0) */
	uint32_t cells; /* the cells an F4 gave: bit n - 1 */
};

#define ABC_GOT(t) ((uint16_t)(1u << ((t) - ABC_F0)))

/* CRC-8/MAXIM (poly 0x31 reflected = 0x8C, init 0) of p[0..n). */
static uint8_t abc_crc8(const uint8_t *p, size_t n)
{
	uint8_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8C) : (uint8_t)(crc >> 1);
	}
	return crc;
}

static uint32_t abc_u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static int32_t abc_s24(const uint8_t *p)
{
	uint32_t u = abc_u24(p);
	return (u & 0x800000u) ? (int32_t)u - 0x1000000 : (int32_t)u;
}

/* ---- requests ------------------------------------------------------------ */

static bool abc_prot_wanted(const struct bms_poll *poll)
{
	return poll->link_fresh || !(poll->persist & ABC_P_NOPROT);
}

static int abc_step(const struct bms_poll *poll)
{
	if (poll->step != ABC_BEGIN)
		return poll->step;
	return bms_ident_due(poll) ? ABC_NAME : ABC_INFO;
}

/* Move on to step `next` (its answers not seen yet). */
static void abc_goto(struct bms_poll *poll, int next)
{
	BMS_PRIV(poll, struct abc_state)->got = 0;
	poll->step = next;
}

static int abc_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const uint8_t cmd[] = { [ABC_NAME] = ABC_CMD_NAME, [ABC_INFO] = ABC_CMD_INFO,
				       [ABC_DETAIL] = ABC_CMD_DETAIL, [ABC_PROT] = ABC_CMD_PROT };
	int step = abc_step(poll);
	if (step == ABC_DONE)
		return 0;
	if (step < ABC_NAME || step > ABC_PROT)
		return BMS_E_RANGE;
	if (cap < ABC_REQ_LEN)
		return BMS_E_NOSPACE;
	if (step == ABC_PROT && poll->link_fresh)
		poll->persist &= ~ABC_P_NOPROT;
	memset(out, 0, ABC_REQ_LEN);
	out[0] = ABC_HEAD_REQ;
	out[1] = cmd[step];
	out[5] = abc_crc8(out, 5);
	return ABC_REQ_LEN;
}

/* ---- the framer ---------------------------------------------------------- */

/* Answers (CC, type F0..FA, 20 bytes, CRC-8) are frames; anything else is
 * skipped up to the next 0xCC. */
static enum bms_scan abc_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, ABC_HEAD, &r, n))
		return r;
	if (len > 1 && (buf[1] < ABC_F0 || buf[1] > ABC_FA)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < ABC_LEN)
		return BMS_SCAN_NEED;
	return bms_scan_tail(abc_crc8(buf, ABC_LEN - 1) == buf[ABC_LEN - 1], true, ABC_LEN, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* F0: voltage mV (2), current mA (5, signed), design and remaining capacity
 * mAh (8, 11), cycles (14), SOC % (16). */
static int abc_f0(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_snapshot *s = &poll->snap;
	if (f[16] > 100)
		return BMS_E_RANGE;
	s->voltage = (float)abc_u24(f + 2) / 1000.0f;
	s->current = (float)abc_s24(f + 5) / 1000.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->full_ah = (float)abc_u24(f + 8) / 1000.0f;
	s->remain_ah = (float)abc_u24(f + 11) / 1000.0f;
	s->cycles = bms_le16(f + 14);
	s->soc = f[16];
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_FULL | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
		      BMS_HAS_SOC;
	return BMS_OK;
}

/* F2: the charge and discharge MOSFETs (2, 3), the sensor count (4) and
 * the temperatures, s16 °C from 5. */
static int abc_f2(struct bms_snapshot *s, const uint8_t *f)
{
	uint8_t n = f[4];
	if (n > ABC_MAX_TEMPS)
		return BMS_E_RANGE;
	s->chg_mos = f[2] != 0;
	s->dsg_mos = f[3] != 0;
	for (unsigned i = 0; i < n; i++)
		s->temp_c[i] = (float)bms_les16(f + 5 + 2 * i);
	s->ntemps = n;
	s->present |= BMS_HAS_MOSFETS | BMS_HAS_TEMPS;
	return BMS_OK;
}

/* F4: four cells, each its number (0 = none) and mV (u24). */
static int abc_f4(struct bms_poll *poll, const uint8_t *f)
{
	struct abc_state *st = BMS_PRIV(poll, struct abc_state);
	for (unsigned k = 0; k < 4; k++) {
		const uint8_t *e = f + 2 + 4 * k;
		uint32_t mv = abc_u24(e + 1);
		if (e[0] == 0)
			continue;
		if (e[0] > BMS_LV_MAX_CELLS || mv > ABC_MAX_CELL_MV)
			return BMS_E_RANGE;
		poll->snap.cell_mv[e[0] - 1] = (uint16_t)mv;
		st->cells |= 1u << (e[0] - 1);
	}
	return BMS_OK;
}

/* F9: 16 protection flags, bit 0 of bytes 2..17; their meanings are not
 * published (§33.4): any is an alarm of another kind. */
static void abc_f9(struct bms_snapshot *s, const uint8_t *f)
{
	uint16_t w = 0;
	for (unsigned i = 0; i < 16; i++)
		w |= (uint16_t)((f[2 + i] & 1u) << i);
	s->raw_alarms[0] = w;
	s->nraw = 1;
	s->alarms = w ? BMS_AL_OTHER : 0;
	s->present |= BMS_HAS_ALARMS;
}

/* Are the cells complete?  `cells =`, else the count learned (unless the
 * slow values are due: learn it again), else cells 1..k one after the
 * other whose sum is within half a cell of the pack voltage.  Then
 * snap.ncells is their count, and the slots beyond it are 0. */
static bool abc_cells_done(struct bms_poll *poll)
{
	const struct abc_state *st = BMS_PRIV(poll, struct abc_state);
	struct bms_snapshot *s = &poll->snap;
	unsigned k = 0;
	uint32_t sum = 0;
	while (k < BMS_LV_MAX_CELLS && (st->cells >> k) & 1u)
		sum += s->cell_mv[k++];
	unsigned want = poll->cells_forced ? poll->cells_forced
		: !bms_slow_due(poll, BMS_HAS_CELLS) ? poll->kept.ncells : 0;
	if (want > BMS_LV_MAX_CELLS)
		want = BMS_LV_MAX_CELLS;
	if (want) {
		if (k < want)
			return false;
	} else {
		if (k == 0 || (k < BMS_LV_MAX_CELLS && (st->cells >> k)) || !(s->present & BMS_HAS_VOLTAGE))
			return false; /* none yet, a gap, or no voltage to add them up to */
		if (fabsf(s->voltage * 1000.0f - (float)sum) > 0.5f * (float)sum / (float)k)
			return false;
		poll->kept.ncells = (uint8_t)k;
		poll->kept.have |= BMS_HAS_CELLS;
		want = k;
	}
	s->ncells = (uint8_t)want;
	memset(s->cell_mv + want, 0, sizeof(s->cell_mv[0]) * (BMS_LV_MAX_CELLS - want));
	return true;
}

/* One answer of the DETAIL step: F0, F3 (balancer 10, heater 8), F4. */
static int abc_detail(struct bms_poll *poll, const uint8_t *f)
{
	struct abc_state *st = BMS_PRIV(poll, struct abc_state);
	int rc = BMS_OK;
	switch (f[1]) {
	case ABC_F0:
		rc = abc_f0(poll, f);
		break;
	case ABC_F3:
		poll->snap.balancing = f[10] != 0;
		poll->snap.present |= BMS_HAS_BALANCING;
		break;
	case ABC_F4:
		rc = abc_f4(poll, f);
		break;
	default:
		return BMS_E_UNEXPECTED;
	}
	if (rc < 0)
		return rc;
	st->got |= ABC_GOT(f[1]);
	if (!(st->got & ABC_GOT(ABC_F3)) || !abc_cells_done(poll))
		return BMS_MORE;
	poll->snap.present |= BMS_HAS_CELLS;
	abc_goto(poll, abc_prot_wanted(poll) ? ABC_PROT : ABC_DONE);
	return BMS_OK;
}

/* One answer of the INFO step: F0 and F2, in any order. */
static int abc_info(struct bms_poll *poll, const uint8_t *f)
{
	struct abc_state *st = BMS_PRIV(poll, struct abc_state);
	int rc;
	if (f[1] == ABC_F0)
		rc = abc_f0(poll, f);
	else if (f[1] == ABC_F2)
		rc = abc_f2(&poll->snap, f);
	else
		return BMS_E_UNEXPECTED;
	if (rc < 0)
		return rc;
	st->got |= ABC_GOT(f[1]);
	if ((st->got & (ABC_GOT(ABC_F0) | ABC_GOT(ABC_F2))) != (ABC_GOT(ABC_F0) | ABC_GOT(ABC_F2)))
		return BMS_MORE;
	abc_goto(poll, ABC_DETAIL);
	return BMS_OK;
}

static int abc_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len != ABC_LEN)
		return BMS_E_SHORT;
	if (frame[0] != ABC_HEAD)
		return BMS_E_HEADER;
	if (abc_crc8(frame, ABC_LEN - 1) != frame[ABC_LEN - 1])
		return BMS_E_CHECKSUM;
	switch (abc_step(poll)) {
	case ABC_NAME: {
		if (frame[1] != ABC_F1)
			return BMS_E_UNEXPECTED;
		struct bms_ident *id = &poll->kept.ident;
		memset(id, 0, sizeof(*id));
		bms_ident_text(id->model, sizeof(id->model), frame + 2, ABC_LEN - 3);
		poll->kept.ident_state = BMS_IDENT_HAVE;
		abc_goto(poll, ABC_INFO);
		return BMS_OK;
	}
	case ABC_INFO:
		return abc_info(poll, frame);
	case ABC_DETAIL:
		return abc_detail(poll, frame);
	case ABC_PROT:
		if (frame[1] != ABC_F9)
			return BMS_E_UNEXPECTED;
		abc_f9(&poll->snap, frame);
		abc_goto(poll, ABC_DONE);
		return BMS_OK;
	default:
		return BMS_E_UNEXPECTED;
	}
}

/* A try failed: an unanswered name or protection read is skipped (the
 * latter for the rest of the connection). */
static bool abc_timeout(struct bms_poll *poll)
{
	switch (abc_step(poll)) {
	case ABC_NAME:
		bms_ident_missing(poll, false);
		abc_goto(poll, ABC_INFO);
		return true;
	case ABC_PROT:
		poll->persist |= ABC_P_NOPROT;
		abc_goto(poll, ABC_DONE);
		return true;
	default:
		return false;
	}
}

static int abc_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, ABC_DONE);
}

/* Service FFE0, notify FFE1, write FFE2 (aiobmsble's abc_bms, zuccaro's
 * script in Louisvdw/dbus-serialbattery#350, §33.1). */
static const struct bms_gatt abc_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe2"),
	BMS_GATT_END,
};

static bool abc_ble_hoover(const char *name)
{
	return strcmp(name, "Hoover") == 0;
}

/* --ble-scan: aiobmsble's abc_bms matches these names with service FFF0;
 * FFF0 alone is Daly's, so the names decide. */
static const struct bms_ble_hint abc_ble_hints[] = {
	{2, BMS_BLE_NAME, "SOK-", NULL, 0, false, "name SOK-* / ABC-* / NB-* (ABC-BMS, SOK)"},
	{2, BMS_BLE_NAME, "ABC-", NULL, 0, false, "name SOK-* / ABC-* / NB-* (ABC-BMS, SOK)"},
	{2, BMS_BLE_NAME, "NB-", NULL, 0, false, "name SOK-* / ABC-* / NB-* (ABC-BMS, SOK)"},
	{2, BMS_BLE_NAME, NULL, abc_ble_hoover, 0, false, "name Hoover (ABC-BMS)"},
	{0},
};

static const struct bms_ble abc_ble = {
	.only = true,
	.gatt = abc_gatt,
	.hints = abc_ble_hints,
};

const struct bms_driver bms_abc_driver = {
	.name = "abc",
	.description = "SOK and other ABC-BMS over Bluetooth LE (0xEE requests, 20-byte 0xCC answers, CRC-8)",
	.vendor = "SOK",
	.protocol_id = 26,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS |
		BMS_HAS_BALANCING,
	BMS_BLE_LINK,
	.next_request = abc_next_request,
	.scan = abc_scan,
	.handle = abc_handle,
	.timeout = abc_timeout,
	.finish = abc_finish,
	.ble = &abc_ble,
};
