/* SPDX-License-Identifier: MIT */
/* bms/lifepower.c - the binary "LifePower" RS485 family (0x7E ... 0x0D):
 * EG4 LifePower v1, Revov (SOI 0x7C), Tian Power RS485, Basen RS485.
 *
 * See bms/PROTOCOLS.md §29.  Request and answer have one shape:
 *	SOI addr cmd len data[len] chk EOI
 * SOI 0x7E (0x7C on Revov / some Tian Power boards), EOI 0x0D, len = the
 * number of data bytes (0 in a request), so a frame is len + 6 bytes.
 * chk = (XOR of SOI .. the last data byte) XOR (their sum & 0xFF).
 *
 * A poll reads 0x01 (general information: groups <type> <count> <values>,
 * §29.3) and, while the identity is not known, 0x33 (the board's model and
 * version string, §29.4).  Nothing else is ever sent: the family's 0xE3
 * heating switch and its parameter writes are not used.
 *
 * SOI: requests start with 0x7E unless the pack last answered with 0x7C
 * (persist bit 0); a retry of a step uses the other one, so a Revov is
 * found on the second try and then kept.
 *
 * Raw alarm words: raw_alarms[0..3] = status words 0..3 of group 0x06
 * (its fifth word goes into the alarms only).
 *
 * Progress in struct bms_poll:
 *	step	LP_STEP_GENERAL, LP_STEP_IDENT, then LP_NSTEPS (complete)
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define LP_SOI 0x7E
#define LP_SOI_ALT 0x7C
#define LP_EOI 0x0D
#define LP_OVERHEAD 6           /* SOI addr cmd len ... chk EOI */
#define LP_MIN_ADR 1
#define LP_MAX_ADR 15
#define LP_PERSIST_ALT 0x1u     /* persist: the pack answers with SOI 0x7C */

#define LP_CMD_GENERAL 0x01
#define LP_CMD_MODEL 0x33

enum { LP_STEP_GENERAL = 0, LP_STEP_IDENT, LP_NSTEPS };

/* group types of the 0x01 answer (§29.3) */
enum {
	LP_G_CELLS = 0x01,
	LP_G_CURRENT = 0x02,
	LP_G_SOC = 0x03,
	LP_G_FULL = 0x04,
	LP_G_TEMPS = 0x05,
	LP_G_STATUS = 0x06,
	LP_G_CYCLES = 0x07,
	LP_G_VOLTAGE = 0x08,
	LP_G_SOH = 0x09,
	LP_G_LAST2 = 0x0A,      /* types above it carry 4-byte values */
};

#define LP_CELL_MASK 0x3FFF     /* the two top bits are flags (§29.3) */
#define LP_CURRENT_ZERO 30000   /* current = 30000 - raw, 0.01 A */
#define LP_TEMP_OFFSET 50
#define LP_TEMP_MOS 0x40        /* high byte of a temperature: MOSFET (Basen) */
#define LP_TEMP_MOS_EG4 0x80    /* ... MOSFET (EG4's order, §29.3) */
#define LP_STATUS_WORDS 5

/* Status bytes (group 0x06, byte b = word b/2, high byte first) -> alarms,
 * §29.5.  As words for bms_alarm_map(): byte b bit k is word b/2, bit k + 8
 * for an even b, bit k for an odd one. */
#define P BMS_AL_PROTECTION
#define R(byte, bit, al) { (byte) / 2, (uint8_t)((byte) % 2 ? (bit) : (bit) + 8), al }
static const struct bms_alarm_rule lp_rules[] = {
	R(0, 3, BMS_AL_CELL_UV), R(0, 4, BMS_AL_HW_FAULT), R(0, 5, BMS_AL_MOS_FAULT), R(0, 6, BMS_AL_MOS_FAULT),
	R(0, 7, BMS_AL_HW_FAULT),
	R(1, 0, BMS_AL_SENSOR), R(1, 1, BMS_AL_HW_FAULT), R(1, 2, BMS_AL_HW_FAULT), R(1, 3, BMS_AL_OTHER),
	R(1, 4, BMS_AL_OTHER), R(1, 5, BMS_AL_COMM), R(1, 6, BMS_AL_OTHER), R(1, 7, P),
	R(2, 0, BMS_AL_DSG_OT | P), R(2, 1, BMS_AL_DSG_UT | P), R(2, 6, BMS_AL_COMM),
	R(3, 2, BMS_AL_SHORT | P), R(3, 3, BMS_AL_OTHER | P), R(3, 4, BMS_AL_CELL_OV | P), R(3, 5, BMS_AL_CELL_UV | P),
	R(3, 6, BMS_AL_CHG_OT | P), R(3, 7, BMS_AL_CHG_UT | P),
	R(4, 0, BMS_AL_OTHER | P), R(4, 1, BMS_AL_OTHER | P), R(4, 4, BMS_AL_SOC_LOW | P),
	R(5, 5, BMS_AL_MOS_OT | P), R(5, 6, BMS_AL_OTHER | P), R(5, 7, BMS_AL_CHG_UT),
	R(7, 0, BMS_AL_SOC_LOW), R(7, 1, BMS_AL_OTHER), R(7, 3, BMS_AL_HW_FAULT), R(7, 4, BMS_AL_OTHER),
	R(7, 5, BMS_AL_SENSOR), R(7, 6, BMS_AL_TEMP_DIFF), R(7, 7, BMS_AL_OTHER),
	R(8, 0, BMS_AL_OTHER), R(8, 1, BMS_AL_OTHER), R(8, 2, BMS_AL_MOS_OT), R(8, 3, BMS_AL_SOC_LOW),
	R(8, 4, BMS_AL_CELL_DIFF), R(8, 5, BMS_AL_DSG_OT), R(8, 6, BMS_AL_DSG_UT),
	R(9, 0, BMS_AL_CELL_OV), R(9, 1, BMS_AL_CELL_UV), R(9, 2, BMS_AL_PACK_OV), R(9, 3, BMS_AL_PACK_UV),
	R(9, 4, BMS_AL_CHG_OC), R(9, 5, BMS_AL_DSG_OC), R(9, 6, BMS_AL_CHG_OT), R(9, 7, BMS_AL_CHG_UT),
};
#undef R
#undef P
#define LP_STATE_BYTE 3         /* byte 3: bit 0 charging, bit 1 discharging */

/* (XOR of p[0..n)) XOR (sum of p[0..n) & 0xFF). */
static uint8_t lp_checksum(const uint8_t *p, size_t n)
{
	uint8_t x = 0, s = 0;
	for (size_t i = 0; i < n; i++) {
		x ^= p[i];
		s = (uint8_t)(s + p[i]);
	}
	return (uint8_t)(x ^ s);
}

static bool lp_soi(uint8_t b)
{
	return b == LP_SOI || b == LP_SOI_ALT;
}

/* A whole frame of n bytes: SOI, its length, EOI and checksum. */
static bool lp_frame_ok(const uint8_t *f, size_t n)
{
	return n >= LP_OVERHEAD && lp_soi(f[0]) && n == (size_t)f[3] + LP_OVERHEAD && f[n - 1] == LP_EOI &&
	       lp_checksum(f, n - 2) == f[n - 2];
}

/* The step the poll is at (LP_NSTEPS: complete). */
static int lp_current(const struct bms_poll *poll)
{
	if (poll->step == LP_STEP_IDENT && !bms_ident_due(poll))
		return LP_NSTEPS;
	return poll->step;
}

static int lp_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->address < LP_MIN_ADR || poll->address > LP_MAX_ADR || poll->step < 0)
		return BMS_E_RANGE;
	int step = lp_current(poll);
	if (step >= LP_NSTEPS)
		return 0;
	if (cap < LP_OVERHEAD)
		return BMS_E_NOSPACE;
	bool alt = (poll->persist & LP_PERSIST_ALT) != 0;
	if (poll->attempt & 1)
		alt = !alt;
	out[0] = alt ? LP_SOI_ALT : LP_SOI;
	out[1] = poll->address;
	out[2] = step == LP_STEP_GENERAL ? LP_CMD_GENERAL : LP_CMD_MODEL;
	out[3] = 0;
	out[4] = lp_checksum(out, 4);
	out[5] = LP_EOI;
	return LP_OVERHEAD;
}

static enum bms_scan lp_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (!lp_soi(buf[0])) {
		size_t i = 1;
		while (i < len && !lp_soi(buf[i]))
			i++;
		*n = i;
		return BMS_SCAN_SKIP;
	}
	if (len >= 2 && buf[1] > LP_MAX_ADR) {
		*n = 1; /* no address of the family: a stray SOI byte */
		return BMS_SCAN_SKIP;
	}
	if (len < 4)
		return BMS_SCAN_NEED;
	size_t total = (size_t)buf[3] + LP_OVERHEAD;
	if (len < total)
		return BMS_SCAN_NEED;
	/* len 0: a request (our own echoed by a 2-wire adapter, or another master's) */
	return bms_scan_tail(lp_frame_ok(buf, total), buf[3] != 0, total, n);
}

static void lp_temps(struct bms_snapshot *s, const uint8_t *v, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		float t = (float)((int)v[2 * i + 1] - LP_TEMP_OFFSET);
		if (v[2 * i] == LP_TEMP_MOS || v[2 * i] == LP_TEMP_MOS_EG4) {
			s->mos_temp_c = t;
			s->present |= BMS_HAS_MOS_TEMP;
		} else if (s->ntemps < BMS_MAX_TEMPS) {
			s->temp_c[s->ntemps++] = t;
			s->present |= BMS_HAS_TEMPS;
		}
	}
}

static void lp_status(struct bms_snapshot *s, const uint8_t *v, unsigned count)
{
	uint16_t w[LP_STATUS_WORDS] = { 0 };
	unsigned n = count < LP_STATUS_WORDS ? count : LP_STATUS_WORDS;
	for (unsigned i = 0; i < n; i++)
		w[i] = bms_be16(v + 2 * i);
	s->alarms = bms_alarm_map(w, LP_STATUS_WORDS, lp_rules, sizeof(lp_rules) / sizeof(lp_rules[0]));
	s->nraw = BMS_MAX_RAW_ALARMS;
	memcpy(s->raw_alarms, w, sizeof(s->raw_alarms));
	uint8_t st = (uint8_t)(w[LP_STATE_BYTE / 2] & 0xFF);
	s->state = (st & 0x01) ? 1 : (st & 0x02) ? 2 : 0;
	s->present |= BMS_HAS_ALARMS;
}

/* One group of 2-byte values (type <= 0x0A) into the snapshot. */
static int lp_group(struct bms_poll *poll, uint8_t type, const uint8_t *v, unsigned count)
{
	struct bms_snapshot *s = &poll->snap;
	float first = count ? (float)bms_be16(v) : 0.0f;

	switch (type) {
	case LP_G_CELLS:
		if (count == 0 || count > BMS_LV_MAX_CELLS)
			return BMS_E_RANGE;
		for (unsigned i = 0; i < count; i++)
			s->cell_mv[i] = bms_be16(v + 2 * i) & LP_CELL_MASK;
		s->ncells = (uint8_t)count;
		if (poll->cells_forced && poll->cells_forced < count)
			s->ncells = poll->cells_forced;
		s->present |= BMS_HAS_CELLS;
		return BMS_OK;
	case LP_G_TEMPS:
		lp_temps(s, v, count);
		return BMS_OK;
	case LP_G_STATUS:
		lp_status(s, v, count);
		return BMS_OK;
	default:
		break;
	}
	if (count == 0)
		return BMS_OK;
	switch (type) {
	case LP_G_CURRENT:
		s->current = ((float)LP_CURRENT_ZERO - first) / 100.0f;
		if (poll->invert_current)
			s->current = -s->current;
		s->present |= BMS_HAS_CURRENT;
		break;
	case LP_G_SOC:
		s->soc = first > 10000.0f ? 100.0f : first / 100.0f;
		s->present |= BMS_HAS_SOC;
		break;
	case LP_G_FULL:
		s->full_ah = first / 100.0f;
		s->present |= BMS_HAS_FULL;
		break;
	case LP_G_CYCLES:
		s->cycles = (uint32_t)first;
		s->present |= BMS_HAS_CYCLES;
		break;
	case LP_G_VOLTAGE:
		s->voltage = first / 100.0f;
		s->present |= BMS_HAS_VOLTAGE;
		break;
	case LP_G_SOH:
		s->soh = first > 10000.0f ? 100.0f : first / 100.0f;
		s->present |= BMS_HAS_SOH;
		break;
	default:
		break; /* 0x0A: not known */
	}
	return BMS_OK;
}

/* 0x01: the groups, each type, count and count values, to the last byte. */
static int lp_general(struct bms_poll *poll, const uint8_t *d, size_t dlen)
{
	size_t off = 0;
	while (off < dlen) {
		if (dlen - off < 2)
			return BMS_E_SHORT;
		uint8_t type = d[off];
		unsigned count = d[off + 1];
		size_t size = type > LP_G_LAST2 ? 4 : 2;
		if (dlen - off - 2 < size * count)
			return BMS_E_SHORT;
		if (type == 0)
			return BMS_E_HEADER;
		if (type <= LP_G_LAST2) {
			int rc = lp_group(poll, type, d + off + 2, count);
			if (rc < 0)
				return rc;
		} /* 0x0B and above (Basen): 4-byte values, not known */
		off += 2 + size * count;
	}
	if (!(poll->snap.present & BMS_HAS_CELLS) || !(poll->snap.present & BMS_HAS_VOLTAGE))
		return BMS_E_SHORT;
	return BMS_OK;
}

static int lp_model(struct bms_poll *poll, const uint8_t *d, size_t dlen)
{
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_ident_text(id->model, sizeof(id->model), d, dlen);
	poll->kept.ident_state = bms_ident_any(id) ? BMS_IDENT_HAVE : BMS_IDENT_NONE;
	return BMS_OK;
}

static int lp_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < LP_OVERHEAD || len != (size_t)frame[3] + LP_OVERHEAD)
		return BMS_E_SHORT;
	if (!lp_soi(frame[0]) || frame[len - 1] != LP_EOI)
		return BMS_E_HEADER;
	if (!lp_frame_ok(frame, len))
		return BMS_E_CHECKSUM;
	int step = lp_current(poll);
	uint8_t cmd = step == LP_STEP_GENERAL ? LP_CMD_GENERAL : LP_CMD_MODEL;
	if (step < 0 || step >= LP_NSTEPS || frame[3] == 0 || frame[1] != poll->address || frame[2] != cmd)
		return BMS_E_UNEXPECTED; /* a request, another pack's, or a late answer */
	if (frame[0] == LP_SOI_ALT)
		poll->persist |= LP_PERSIST_ALT;
	else
		poll->persist &= ~LP_PERSIST_ALT;
	const uint8_t *d = frame + 4;
	size_t dlen = frame[3];
	if (dlen == 1) { /* a status code: 00 done, else an error (§29.2) */
		if (step == LP_STEP_IDENT) {
			bms_ident_missing(poll, d[0] != 0);
			poll->step = LP_NSTEPS;
			return BMS_OK;
		}
		return d[0] ? BMS_E_REFUSED : BMS_E_SHORT;
	}
	int rc = step == LP_STEP_GENERAL ? lp_general(poll, d, dlen) : lp_model(poll, d, dlen);
	if (rc == BMS_OK)
		poll->step = step + 1;
	return rc;
}

/* The identity read timed out: the poll is complete without it. */
static bool lp_timeout(struct bms_poll *poll)
{
	if (lp_current(poll) != LP_STEP_IDENT)
		return false;
	bms_ident_missing(poll, false);
	poll->step = LP_NSTEPS;
	return true;
}

/* Identification (§27): the poll's first read, 0x01 of address 1 with SOI
 * 0x7E (7E 01 01 00 FE 0D); one try (a Revov with SOI 0x7C is not tried:
 * the budget of the default plan, §29.6). */
static const struct bms_probe lp_probe = {
	.bauds = { 9600 },
	.addrs = { 1 },
	.naddrs = 1,
	.rank = 14,
	.gap = 0.05,
	.timeout = 0.25,
};

const struct bms_driver bms_lifepower_driver = {
	.name = "lifepower",
	.description = "EG4 LifePower v1 / Revov / Tian Power / Basen RS485 binary (0x7E ... 0x0D)",
	.vendor = "EG4",
	.protocol_id = 22,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
		BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS,
	.default_baud = 9600,
	/* no floor is documented (3.5 character times) */
	.gap_floor = 0,
	.interbyte = 0.15,
	.min_address = LP_MIN_ADR,
	.max_address = LP_MAX_ADR,
	.default_timeout = 1.0,
	.next_request = lp_next_request,
	.scan = lp_scan,
	.handle = lp_handle,
	.timeout = lp_timeout,
	.finish = bms_finish_pack,
	.probe = &lp_probe,
};
