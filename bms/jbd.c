/* SPDX-License-Identifier: MIT */
/* bms/jbd.c - JBD / Xiaoxiang / LLT "General protocol V4" (0xDD ... 0x77).
 *
 * See bms/PROTOCOLS.md §7.  Request and response:
 *	request   DD A5 <reg> 00 <chk_hi> <chk_lo> 77                (read)
 *	response  DD <reg> <status> <len> <data...> <chk_hi> <chk_lo> 77
 * status 0x00 = ok, 0x80 = error.  Checksum = 0x10000 - sum of the bytes
 * from index 2 through the last data byte (reg + len + data in a request,
 * status + len + data in a response), 16 bit big-endian.  Total length of
 * either is len + 7.  No bus address: one BMS per port.
 *
 * A poll reads 0x03 (basic info) then 0x04 (cell voltages), §7.7.  0x03
 * has a fixed documented part of 23 bytes plus 2 bytes per NTC; newer
 * firmware appends further fields (len 0x22 and more) whose labels are
 * uncertain (§7.3): they are accepted and not decoded.  Only what the
 * announced length covers is read.  The cell count comes from 0x03 byte 21
 * (some firmware answers 0x04 with 16 slots for 15 cells, JBD-06); if 0x03
 * says 0 cells, len / 2 of 0x04 is used.
 *
 * Besides the two reads the driver sends only the MOSFET lock write 0xE1
 * (below, §7.6), on a command; never a factory-mode command.
 *
 * Bluetooth LE (§13.3): the same frames, unchanged, through service FF00
 * (requests written to FF02, answers notified on FF01).  Notifications are
 * as long as the ATT MTU allows (20 bytes without an MTU exchange: the
 * 36-byte 0x03 answer comes as 20 + 16), so they are just more bytes for
 * scan(), as from a serial port.
 *
 * A Bluetooth module with a PIN (the pack's `pin`, §7.9) takes it once a
 * connection, before any read: FF AA 15 <n> <PIN ASCII> <sum>, the sum the
 * low byte of 0x15 + n + the PIN's bytes, answered FF AA 15 01 00 16
 * (taken) or FF AA 15 01 01 17 (refused: BMS_E_AUTH).  Without a pin
 * nothing of it is written.
 *
 * Raw alarm words: raw_alarms[0] = 0x03 protection status (offset 16, §7.5).
 *
 * Progress in struct bms_poll:
 *	step	index into jbd_steps[] of the outstanding request
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define JBD_START 0xDD
#define JBD_END 0x77
#define JBD_READ 0xA5
#define JBD_WRITE 0x5A
#define JBD_STATUS_OK 0x00
#define JBD_STATUS_ERR 0x80
#define JBD_OVERHEAD 7          /* DD reg status len ... chk chk 77 */
#define JBD_REQ_LEN 7

#define JBD_BASIC 0x03
#define JBD_CELLS 0x04

#define JBD_BASIC_FIXED 23      /* documented part of 0x03 before the NTCs */
#define JBD_KELVIN_OFFSET 2731  /* 0.1 K */

static const uint8_t jbd_steps[] = { JBD_BASIC, JBD_CELLS };
#define JBD_NSTEPS ((int)(sizeof(jbd_steps) / sizeof(jbd_steps[0])))

/* The settings read of a pack with bms_settings (below): after the two
 * reads, factory mode entered, each register read, factory mode left
 * without saving. */
#define JBD_ST_ENTER JBD_NSTEPS
#define JBD_ST_READ (JBD_ST_ENTER + 1)
#define JBD_ST_EXIT (JBD_ST_READ + JBD_NSETREGS)
#define JBD_ST_DONE (JBD_ST_EXIT + 1)
#define JBD_P_FACTORY 0x1u      /* persist: factory mode was entered and not left */
/* The PIN exchange (§7.9): its step before the reads, the connection that took it. */
#define JBD_ST_PIN (-1)
#define JBD_P_AUTHED 0x2u       /* persist: the PIN was taken on this connection */
#define JBD_PIN0 0xFF
#define JBD_PIN1 0xAA
#define JBD_PIN_CMD 0x15
#define JBD_PIN_OVER 5          /* FF AA 15 n ... sum */

/* 0x03 protection status bit n (§7.5) -> normalised alarms.  The word
 * reports protections that are active, so every protection bit also raises
 * BMS_AL_PROTECTION.  b12 (MOSFET software lock, set by the 0xE1 write) and
 * b13 (charge timeout) are not faults: BMS_AL_OTHER.  b14-15 are reserved
 * (kept in raw_alarms[0] only). */
#define P BMS_AL_PROTECTION
static const uint32_t jbd_alarm_map[16] = {
	BMS_AL_CELL_OV | P, BMS_AL_CELL_UV | P, BMS_AL_PACK_OV | P, BMS_AL_PACK_UV | P,
	BMS_AL_CHG_OT | P, BMS_AL_CHG_UT | P, BMS_AL_DSG_OT | P, BMS_AL_DSG_UT | P,
	BMS_AL_CHG_OC | P, BMS_AL_DSG_OC | P, BMS_AL_SHORT | P, BMS_AL_HW_FAULT,
	BMS_AL_OTHER, BMS_AL_OTHER, 0, 0,
};
#undef P

/* 0x10000 - sum of p[0..n), as 16 bits. */
static uint16_t jbd_checksum(const uint8_t *p, size_t n)
{
	return (uint16_t)(0x10000u - (bms_sum(p, n) & 0xFFFFu));
}

/* A complete frame of total length n (= buf[3] + 7) is well formed: end
 * byte and checksum. */
static bool jbd_frame_ok(const uint8_t *buf, size_t n)
{
	if (n < JBD_OVERHEAD || buf[0] != JBD_START || buf[n - 1] != JBD_END)
		return false;
	return jbd_checksum(buf + 2, n - 5) == bms_be16(buf + n - 3);
}

/* A request DD <A5|5A> reg <n> data <chk:2> 77 into out: its length, or
 * BMS_E_NOSPACE. */
static int jbd_request(uint8_t *out, size_t cap, uint8_t rw, uint8_t reg, const uint8_t *data, uint8_t n)
{
	if (cap < (size_t)JBD_REQ_LEN + n)
		return BMS_E_NOSPACE;
	out[0] = JBD_START;
	out[1] = rw;
	out[2] = reg;
	out[3] = n;
	if (n)
		memcpy(out + 4, data, n);
	uint16_t chk = jbd_checksum(out + 2, (size_t)n + 2);
	out[4 + n] = (uint8_t)(chk >> 8);
	out[5 + n] = (uint8_t)chk;
	out[6 + n] = JBD_END;
	return JBD_REQ_LEN + n;
}

/* Factory mode (§7.8): entered by writing 0x00 <- 56 78, left by writing
 * 0x01 <- 28 28 (saved to EEPROM) or 00 00 (not saved). */
static const uint8_t jbd_enter[2] = { 0x56, 0x78 };
static const uint8_t jbd_exit_save[2] = { 0x28, 0x28 };
static const uint8_t jbd_exit_nosave[2] = { 0x00, 0x00 };
#define JBD_REG_ENTER 0x00
#define JBD_REG_EXIT 0x01

/* The EEPROM registers read and written (§7.8), in the order the settings
 * read asks them. */
static const uint8_t jbd_setregs[] = { 0x10, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2D };
#define JBD_NSETREGS ((int)sizeof(jbd_setregs))

static bool jbd_settings_wanted(const struct bms_poll *poll)
{
	return poll->wsettings && poll->settings_due;
}

/* Is the PIN to be sent before this poll's reads?  Over Bluetooth LE, with
 * a pin, once a connection (again after a refusal). */
static bool jbd_pin_due(const struct bms_poll *poll)
{
	if (poll->link != BMS_LINK_BLE || !poll->pin[0] || poll->auth != BMS_AUTH_NONE)
		return false;
	return poll->link_fresh || !(poll->persist & JBD_P_AUTHED);
}

/* FF AA 15 n <PIN> <sum> (§7.9). */
static int jbd_pin_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	size_t n = strlen(poll->pin);
	if (cap < n + JBD_PIN_OVER)
		return BMS_E_NOSPACE;
	out[0] = JBD_PIN0;
	out[1] = JBD_PIN1;
	out[2] = JBD_PIN_CMD;
	out[3] = (uint8_t)n;
	memcpy(out + 4, poll->pin, n);
	out[4 + n] = (uint8_t)bms_sum(out + 2, n + 2);
	poll->step = JBD_ST_PIN;
	poll->auth = BMS_AUTH_SENT;
	poll->secret_req = true;
	return (int)(n + JBD_PIN_OVER);
}

static int jbd_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == JBD_ST_PIN || (poll->step == 0 && jbd_pin_due(poll)))
		return jbd_pin_request(poll, out, cap);
	if (poll->step < 0)
		return BMS_E_RANGE;
	if (poll->step < JBD_NSTEPS)
		return jbd_request(out, cap, JBD_READ, jbd_steps[poll->step], NULL, 0);
	/* a factory visit an earlier poll did not end is left first */
	if (poll->step == JBD_ST_ENTER && !jbd_settings_wanted(poll))
		poll->step = (poll->persist & JBD_P_FACTORY) ? JBD_ST_EXIT : JBD_ST_DONE;
	if (poll->step == JBD_ST_ENTER)
		return jbd_request(out, cap, JBD_WRITE, JBD_REG_ENTER, jbd_enter, 2);
	if (poll->step < JBD_ST_EXIT)
		return jbd_request(out, cap, JBD_READ, jbd_setregs[poll->step - JBD_ST_READ], NULL, 0);
	if (poll->step == JBD_ST_EXIT)
		return jbd_request(out, cap, JBD_WRITE, JBD_REG_EXIT, jbd_exit_nosave, 2);
	return 0;
}

/* FF AA 15 n <n bytes> <sum>: the PIN's answer (n = 1), or a PIN request
 * (echoed: skipped). */
static enum bms_scan jbd_scan_pin(const uint8_t *buf, size_t len, size_t *n)
{
	if (len < 4)
		return BMS_SCAN_NEED;
	if (buf[1] != JBD_PIN1 || buf[2] != JBD_PIN_CMD || buf[3] > BMS_PIN_MAX) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	size_t total = (size_t)buf[3] + JBD_PIN_OVER;
	if (len < total)
		return BMS_SCAN_NEED;
	bool sum_ok = (uint8_t)bms_sum(buf + 2, total - 3) == buf[total - 1];
	return bms_scan_tail(sum_ok, buf[3] == 1, total, n);
}

static enum bms_scan jbd_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	static const uint8_t starts[] = { JBD_START, JBD_PIN0 };
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] != JBD_START && buf[0] != JBD_PIN0) {
		*n = bms_scan_skip(buf, len, starts, sizeof(starts));
		return BMS_SCAN_SKIP;
	}
	if (buf[0] == JBD_PIN0)
		return jbd_scan_pin(buf, len, n);
	if (len < 4)
		return BMS_SCAN_NEED;
	bool request = buf[1] == JBD_READ || buf[1] == JBD_WRITE;
	/* a response carries status 0x00 or 0x80: anything else is no frame */
	if (!request && buf[2] != JBD_STATUS_OK && buf[2] != JBD_STATUS_ERR) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	size_t total = (size_t)buf[3] + JBD_OVERHEAD;
	if (len < total)
		return BMS_SCAN_NEED;
	/* our own request echoed (half-duplex adapter), or another master's: skipped */
	return bms_scan_tail(jbd_frame_ok(buf, total), !request, total, n);
}

static void jbd_decode_alarms(struct bms_snapshot *s, uint16_t prot)
{
	s->nraw = 1;
	s->raw_alarms[0] = prot;
	s->alarms = 0;
	for (unsigned bit = 0; bit < 16; bit++)
		if (prot & (1u << bit))
			s->alarms |= jbd_alarm_map[bit];
	s->present |= BMS_HAS_ALARMS;
}

/* 0x03 basic info, d = data, dlen = announced length (§7.3). */
static int jbd_basic(struct bms_poll *poll, const uint8_t *d, size_t dlen)
{
	struct bms_snapshot *s = &poll->snap;

	if (dlen < JBD_BASIC_FIXED)
		return BMS_E_SHORT;
	unsigned nntc = d[22];
	if (dlen < JBD_BASIC_FIXED + 2 * (size_t)nntc)
		return BMS_E_SHORT;
	unsigned ncells = d[21];
	if (!poll->cells_forced && ncells > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;

	float cur = (float)bms_bes16(d + 2) / 100.0f;
	s->voltage = (float)bms_be16(d) / 100.0f;
	s->current = poll->invert_current ? -cur : cur;
	s->remain_ah = (float)bms_be16(d + 4) / 100.0f;
	s->full_ah = (float)bms_be16(d + 6) / 100.0f;
	s->cycles = bms_be16(d + 8);
	/* d[10..11] production date, d[18] software version: not used */
	s->balance = (uint32_t)bms_be16(d + 12) | (uint32_t)bms_be16(d + 14) << 16;
	jbd_decode_alarms(s, bms_be16(d + 16));
	s->soc = d[19] > 100 ? 100.0f : (float)d[19];
	s->chg_mos = (d[20] & 0x01) != 0;
	s->dsg_mos = (d[20] & 0x02) != 0;
	if (poll->cells_forced)
		s->ncells = poll->cells_forced < BMS_LV_MAX_CELLS ? poll->cells_forced : BMS_LV_MAX_CELLS;
	else
		s->ncells = (uint8_t)ncells;
	s->ntemps = (uint8_t)(nntc < BMS_MAX_TEMPS ? nntc : BMS_MAX_TEMPS);
	for (unsigned i = 0; i < s->ntemps; i++)
		s->temp_c[i] = (float)((int)bms_be16(d + JBD_BASIC_FIXED + 2 * i) - JBD_KELVIN_OFFSET) / 10.0f;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL |
		      BMS_HAS_CYCLES | BMS_HAS_BALANCE | BMS_HAS_MOSFETS;
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	/* d[23 + 2N ..] newer firmware extension: labels uncertain, not decoded */
	return BMS_OK;
}

/* 0x04 cell voltages, uint16 mV each. */
static int jbd_cells(struct bms_poll *poll, const uint8_t *d, size_t dlen)
{
	struct bms_snapshot *s = &poll->snap;

	if (dlen % 2)
		return BMS_E_SHORT;
	size_t have = dlen / 2;
	size_t want = s->ncells;
	if (want == 0) /* 0x03 gave no count: the slots of 0x04 */
		want = have;
	if (want == 0)
		return BMS_E_INVALID;
	if (want > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;
	if (have < want)
		return BMS_E_SHORT;
	for (size_t i = 0; i < want; i++)
		s->cell_mv[i] = bms_be16(d + 2 * i);
	s->ncells = (uint8_t)want;
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}

/* One register of the settings read (its raw 16 bits) into the settings. */
static void jbd_setting(struct bms_settings *st, uint8_t reg, uint16_t v)
{
	switch (reg) {
	case 0x10:
		bms_settings_put_raw(st, BMS_SET_CAPACITY_AH, v, 1, 65535, 100.0);
		return;
	case 0x24: case 0x25: case 0x26: case 0x27: {
		static const enum bms_set_key k[4] = { BMS_SET_CELL_OVP_V, BMS_SET_CELL_OVP_RELEASE_V,
						       BMS_SET_CELL_UVP_V, BMS_SET_CELL_UVP_RELEASE_V };
		bms_settings_put_raw(st, k[reg - 0x24], v, 1, 65535, 1000.0);
		return;
	}
	case 0x28:
		bms_settings_put_raw(st, BMS_SET_CHARGE_OCP_A, bms_s16(v), 1, 32767, 100.0);
		return;
	case 0x29: /* negative: 100 A is D8 F0 */
		bms_settings_put_raw(st, BMS_SET_DISCHARGE_OCP_A, -(int64_t)bms_s16(v), 1, 32768, 100.0);
		return;
	case 0x2A:
		bms_settings_put_raw(st, BMS_SET_BALANCE_START_V, v, 1, 65535, 1000.0);
		return;
	case 0x2B:
		bms_settings_put_raw(st, BMS_SET_BALANCE_DELTA_V, v, 1, 65535, 1000.0);
		return;
	case 0x2D: /* func_config bit 2: balance_en */
		bms_settings_put(st, BMS_SET_BALANCER, (v & 0x0004) ? 1.0f : 0.0f);
		return;
	default:
		return;
	}
}

/* An answer of the settings read.  A refusal ends the visit (left if
 * entered); the poll's measurements stand either way. */
static int jbd_settings_answer(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	int st = poll->step;
	uint8_t want = st == JBD_ST_ENTER ? JBD_REG_ENTER : st == JBD_ST_EXIT ? JBD_REG_EXIT :
		       st < JBD_ST_EXIT ? jbd_setregs[st - JBD_ST_READ] : 0xFF;
	if (st >= JBD_ST_DONE || frame[1] != want)
		return BMS_E_UNEXPECTED;
	bool ok = frame[2] == JBD_STATUS_OK;
	if (st == JBD_ST_ENTER) {
		if (ok)
			poll->persist |= JBD_P_FACTORY;
		poll->step = ok ? JBD_ST_READ : JBD_ST_DONE;
	} else if (st == JBD_ST_EXIT) {
		poll->persist &= ~JBD_P_FACTORY;
		poll->step = JBD_ST_DONE;
	} else if (!ok || len != 2 + JBD_OVERHEAD) {
		poll->refusals += !ok;
		poll->step = JBD_ST_EXIT; /* the rest is not asked */
	} else {
		jbd_setting(&poll->kept.settings, want, bms_be16(frame + 4));
		poll->step++;
	}
	return BMS_OK;
}

/* A step of the settings read unanswered: the measurements stand; a
 * factory visit is left (now, or at the next poll). */
static bool jbd_timeout(struct bms_poll *poll)
{
	if (poll->step < JBD_NSTEPS)
		return false;
	poll->step = poll->step > JBD_ST_ENTER && poll->step < JBD_ST_EXIT ? JBD_ST_EXIT : JBD_ST_DONE;
	return true;
}

/* The PIN's answer FF AA 15 01 <status> <sum>: 00 taken, else refused. */
static int jbd_pin_answer(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len != JBD_PIN_OVER + 1 || frame[1] != JBD_PIN1 || frame[2] != JBD_PIN_CMD || frame[3] != 1)
		return BMS_E_SHORT;
	if ((uint8_t)bms_sum(frame + 2, 3) != frame[5])
		return BMS_E_CHECKSUM;
	if (poll->step != JBD_ST_PIN)
		return BMS_E_UNEXPECTED;
	if (frame[4] != 0x00) {
		poll->persist &= ~JBD_P_AUTHED;
		return BMS_E_AUTH;
	}
	poll->auth = BMS_AUTH_OK;
	poll->persist |= JBD_P_AUTHED;
	poll->step = 0;
	return BMS_OK;
}

static int jbd_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len >= 1 && frame[0] == JBD_PIN0)
		return jbd_pin_answer(poll, frame, len);
	if (len < JBD_OVERHEAD || len != (size_t)frame[3] + JBD_OVERHEAD)
		return BMS_E_SHORT;
	if (frame[0] != JBD_START || frame[len - 1] != JBD_END)
		return BMS_E_HEADER;
	if (!jbd_frame_ok(frame, len))
		return BMS_E_CHECKSUM;
	if (frame[1] == JBD_READ || frame[1] == JBD_WRITE)
		return BMS_E_UNEXPECTED; /* a request, not an answer */
	if (poll->step >= JBD_NSTEPS)
		return jbd_settings_answer(poll, frame, len);
	if (poll->step < 0 || frame[1] != jbd_steps[poll->step])
		return BMS_E_UNEXPECTED; /* a late answer to another request */
	if (frame[2] != JBD_STATUS_OK)
		return BMS_E_HEADER;     /* the BMS refused the request */

	const uint8_t *d = frame + 4;
	size_t dlen = frame[3];
	int rc = frame[1] == JBD_BASIC ? jbd_basic(poll, d, dlen) : jbd_cells(poll, d, dlen);
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

/* ---- MOSFET control (bms/PROTOCOLS.md §7.6) -----------------------------
 * Register 0xE1, the "software lock" of both MOSFETs in one write
 * (Overkill Solar's JBD register map: bit 0 disables charging, bit 1
 * discharging; captured from the Xiaoxiang app in
 * syssi/esphome-jbd-bms docs/pdus, with its answer):
 *	DD 5A E1 02 00 <mask> <chk:2> 77   ->   DD E1 00 00 00 00 77
 * The mask is built from what the gateway intends for BOTH MOSFETs, never
 * from the state read back: a MOSFET a protection holds off must not be
 * locked by a command about the other one.  Status 0x80 is a refusal. */
#define JBD_REG_LOCK 0xE1
#define JBD_CTL_LEN 9

static int jbd_control_request(struct bms_control *c, uint8_t *out, size_t cap)
{
	if (c->step > 0)
		return 0;
	if (cap < JBD_CTL_LEN)
		return BMS_E_NOSPACE;
	out[0] = JBD_START;
	out[1] = JBD_WRITE;
	out[2] = JBD_REG_LOCK;
	out[3] = 2;
	out[4] = 0;
	out[5] = (uint8_t)((c->intent[BMS_FET_CHARGE] ? 0 : 1) | (c->intent[BMS_FET_DISCHARGE] ? 0 : 2));
	uint16_t chk = jbd_checksum(out + 2, 4);
	out[6] = (uint8_t)(chk >> 8);
	out[7] = (uint8_t)chk;
	out[8] = JBD_END;
	return JBD_CTL_LEN;
}

static int jbd_control_ack(struct bms_control *c, const uint8_t *frame, size_t len)
{
	if (len < JBD_OVERHEAD || len != (size_t)frame[3] + JBD_OVERHEAD || !jbd_frame_ok(frame, len))
		return BMS_E_CHECKSUM;
	if (c->step > 0 || frame[1] != JBD_REG_LOCK)
		return BMS_E_UNEXPECTED; /* a request echo, or a late answer to a read */
	if (frame[2] != JBD_STATUS_OK)
		return BMS_E_REFUSED;
	c->step++;
	return BMS_OK;
}

/* ---- settings writes (bms/setwrite.h; bms/PROTOCOLS.md §7.8) --------------
 * One change, in factory mode:
 *	DD 5A 00 02 56 78 <chk> 77   enter             -> DD 00 00 00 00 00 77
 *	DD A5 <reg> 00 <chk> 77      read (old)        -> DD <reg> 00 02 <v:2> <chk> 77
 *	DD 5A <reg> 02 <v:2> <chk> 77 write            -> DD <reg> 00 00 00 00 77
 *	DD A5 <reg> 00 <chk> 77      read back
 *	DD 5A 01 02 28 28 <chk> 77   leave, saved      -> DD 01 00 00 00 00 77
 * Status 0x80 is a refusal; after one, a wrong read-back or a step left
 * unanswered inside factory mode, it is left without saving (01 <- 00 00).
 * Factory mode counts as entered once its entry is sent: an entry whose
 * acknowledgement was lost may have taken, so the exit goes all the same
 * (and the polls send it again while it is unanswered); only a refused
 * entry needs none.
 * 0x2D is read, modified (bit 2, balance_en) and written whole. */
enum { JW_ENTER, JW_READ, JW_WRITE, JW_BACK, JW_EXIT_SAVE, JW_EXIT_NOSAVE, JW_DONE };

static const struct bms_wfield *jbd_wfield(const struct bms_wchange *c);

/* The register's 16 bits as the key's raw value (bms_wfield). */
static int64_t jbd_wraw(uint8_t reg, uint16_t v)
{
	if (reg == 0x28 || reg == 0x29)
		return bms_s16(v);
	if (reg == 0x2D)
		return (v & 0x0004) ? 1 : 0;
	return v;
}

static int jbd_wrequest(struct bms_wchange *c, uint8_t *out, size_t cap)
{
	const struct bms_wfield *f = jbd_wfield(c);
	if (!f)
		return BMS_E_RANGE;
	if ((c->quit || c->refused) && c->step < JW_EXIT_NOSAVE)
		c->step = c->unlocked ? JW_EXIT_NOSAVE : JW_DONE;
	uint8_t reg = (uint8_t)f->reg, v[2];
	uint16_t w = (uint16_t)c->raw;
	switch (c->step) {
	case JW_ENTER:
		/* from here on the BMS may be in factory mode, its acknowledgement
		 * lost or not: whatever follows leaves it */
		c->unlocked = true;
		c->persist |= JBD_P_FACTORY;
		return jbd_request(out, cap, JBD_WRITE, JBD_REG_ENTER, jbd_enter, 2);
	case JW_READ: case JW_BACK:
		return jbd_request(out, cap, JBD_READ, reg, NULL, 0);
	case JW_WRITE:
		if (reg == 0x2D)
			w = (uint16_t)((c->word & ~0x0004u) | (c->raw ? 0x0004u : 0));
		v[0] = (uint8_t)(w >> 8);
		v[1] = (uint8_t)w;
		c->wrote = true;
		return jbd_request(out, cap, JBD_WRITE, reg, v, 2);
	case JW_EXIT_SAVE:
		return jbd_request(out, cap, JBD_WRITE, JBD_REG_EXIT, jbd_exit_save, 2);
	case JW_EXIT_NOSAVE:
		return jbd_request(out, cap, JBD_WRITE, JBD_REG_EXIT, jbd_exit_nosave, 2);
	default:
		return 0;
	}
}

static int jbd_wanswer(struct bms_wchange *c, const uint8_t *frame, size_t len)
{
	const struct bms_wfield *f = jbd_wfield(c);
	if (len < JBD_OVERHEAD || len != (size_t)frame[3] + JBD_OVERHEAD || !jbd_frame_ok(frame, len))
		return BMS_E_CHECKSUM;
	if (!f || frame[1] == JBD_READ || frame[1] == JBD_WRITE)
		return BMS_E_UNEXPECTED; /* our own request echoed */
	int st = c->step;
	uint8_t want = st == JW_ENTER ? JBD_REG_ENTER : st >= JW_EXIT_SAVE ? JBD_REG_EXIT : (uint8_t)f->reg;
	if (st >= JW_DONE || frame[1] != want)
		return BMS_E_UNEXPECTED; /* a late answer to a poll's read */
	if (frame[2] != JBD_STATUS_OK) {
		c->refused = true; /* leave without saving next (or, refused that too, give up) */
		if (st == JW_ENTER) {
			c->unlocked = false; /* it said no: not in factory mode */
			c->persist &= ~JBD_P_FACTORY;
		}
		if (st == JW_EXIT_NOSAVE) {
			c->unlocked = false; /* refused: left to the polls (persist) */
			c->step = JW_DONE;
		}
		return BMS_E_REFUSED;
	}
	bool read = st == JW_READ || st == JW_BACK;
	if (frame[3] != (read ? 2 : 0))
		return BMS_E_SHORT;
	uint16_t v = read ? bms_be16(frame + 4) : 0;
	if (st == JW_ENTER) {
		c->unlocked = true;
		c->persist |= JBD_P_FACTORY; /* the polls leave it if this change cannot */
	}
	if (st == JW_READ) {
		c->word = v;
		c->old_raw = jbd_wraw(want, v);
		c->have_old = true;
	}
	if (st == JW_BACK) {
		c->back_raw = jbd_wraw(want, v);
		c->have_back = true;
	}
	if (st >= JW_EXIT_SAVE) {
		c->unlocked = false;
		c->persist &= ~JBD_P_FACTORY;
	}
	c->step = st == JW_BACK ? (c->back_raw == c->raw ? JW_EXIT_SAVE : JW_EXIT_NOSAVE) :
		  st >= JW_EXIT_SAVE ? JW_DONE : st + 1;
	return BMS_OK;
}

/* The registers and scales of Overkill Solar's JBD register map
 * (https://github.com/FurTrader/OverkillSolarBMS at adfb7d5, its JBD register
 * map), the same as the REG_* constants of dbus-serialbattery's lltjbd driver: 10 mAh,
 * mV, 10 mA (discharge negative), func_config bit 2. */
#define JBD_MV(reg) { reg, 1000, 0, 1, 65535 }
static const struct bms_writer jbd_writer = {
	.field = {
		[BMS_W_CAPACITY_AH] = { 0x10, 100, 0, 1, 65535 },
		[BMS_W_CELL_OVP_V] = JBD_MV(0x24),
		[BMS_W_CELL_OVP_RELEASE_V] = JBD_MV(0x25),
		[BMS_W_CELL_UVP_V] = JBD_MV(0x26),
		[BMS_W_CELL_UVP_RELEASE_V] = JBD_MV(0x27),
		[BMS_W_CHARGE_OCP_A] = { 0x28, 100, 0, 1, 32767 },
		[BMS_W_DISCHARGE_OCP_A] = { 0x29, -100, 0, -32768, -1 },
		[BMS_W_BALANCE_START_V] = JBD_MV(0x2A),
		[BMS_W_BALANCE_DELTA_V] = JBD_MV(0x2B),
		[BMS_W_BALANCER] = { 0x2D, 1, 0, 0, 1 },
	},
	.wire = BMS_W_ALL & ~BMS_W_BIT(BMS_W_SOC),
	.ble = BMS_W_ALL & ~BMS_W_BIT(BMS_W_SOC),
	.none_wire = NULL,
	.none_ble = NULL,
	.request = jbd_wrequest,
	.answer = jbd_wanswer,
};

static const struct bms_wfield *jbd_wfield(const struct bms_wchange *c)
{
	if (c->key >= BMS_W_COUNT || !jbd_writer.field[c->key].mul)
		return NULL;
	return &jbd_writer.field[c->key];
}

static int jbd_finish(struct bms_poll *poll)
{
	/* a JBD at 0.00 V (JBD-05) still reports real cells */
	return bms_check_pack(&poll->snap, true);
}

/* Over Bluetooth LE (bms/PROTOCOLS.md §13.1) the frames are the UART's, byte
 * for byte: written to FF02 (write without response), answered as
 * notifications of FF01 in chunks of the ATT MTU (20 + 16 bytes for a
 * 36-byte 0x03 answer), service FF00: the GATT table of the btsnoop capture of an SP04S034 in
 * https://github.com/syssi/esphome-jbd-bms/tree/main/docs and the defaults
 * of its jbd_bms_ble component.  Eleksol batteries: the same frames on
 * service FF06, notify FF07, write FF08 (aiobmsble's eleksol_bms, §13.1). */
static const struct bms_gatt jbd_gatt[] = {
	BMS_GATT16("ff00", "ff01", "ff02"),
	BMS_GATT16("ff06", "ff07", "ff08"),
	BMS_GATT_END,
};

/* --ble-scan: names and service FF00 (aiobmsble's jbd_bms,
 * github.com/syssi/esphome-jbd-bms), service FF06 (aiobmsble's eleksol_bms:
 * an Eleksol's name is a serial, 12150EG00040); after Seplos V3's SP??B*
 * names, which would read as SP0... / SP1...; the newest firmware asks for
 * a passkey. */
static const struct bms_ble_hint jbd_ble_hints[] = {
	{2, BMS_BLE_NAME, "xiaoxiang", NULL, 0, true, "name (JBD / Xiaoxiang)"},
	{2, BMS_BLE_NAME, "JBD-", NULL, 0, true, "name (JBD / Xiaoxiang)"},
	{2, BMS_BLE_NAME, "SP0", NULL, 0, true, "name (JBD / Xiaoxiang)"},
	{2, BMS_BLE_NAME, "SP1", NULL, 0, true, "name (JBD / Xiaoxiang)"},
	{2, BMS_BLE_NAME, "SP2", NULL, 0, true, "name (JBD / Xiaoxiang)"},
	{2, BMS_BLE_NAME, "DWF", NULL, 0, true, "name (JBD / Xiaoxiang)"},
	{2, BMS_BLE_NAME, "SX1", NULL, 0, true, "name (JBD / Xiaoxiang)"},
	{3, BMS_BLE_SERVICE, NULL, NULL, 0xFF00, true, "service FF00 (JBD / Xiaoxiang)"},
	{3, BMS_BLE_SERVICE, NULL, NULL, 0xFF06, false, "service FF06 (Eleksol: JBD)"},
	{0},
};

/* Identification (§27): 0x03 basic information, DD A5 03 00 FF FD 77, a
 * read (never the 0x5A writes, never the factory mode). */
static const struct bms_probe jbd_probe = {
	.bauds = { 9600 },
	.rank = 3,
	.gap = 0.05,
	.timeout = 0.2,
};

/* The Bluetooth module's PIN (aiobmsble's jbd_bms, §7.9): its app's
 * passcode, ASCII, sent as it is; nothing without one. */
static const struct bms_ble_pin jbd_pin = {
	.name = "PIN",
	.min_len = 1,
	.max_len = 16,
};

static const struct bms_ble jbd_ble = {
	.gatt = jbd_gatt,
	.hints = jbd_ble_hints,
	.pin = &jbd_pin,
};

static const struct bms_control_ops jbd_control = {
	.request = jbd_control_request,
	.ack = jbd_control_ack,
};

const struct bms_driver bms_jbd_driver = {
	.name = "jbd",
	.description = "JBD / Xiaoxiang / LLT general protocol V4 (0xDD ... 0x77)",
	.vendor = "JBD",
	.protocol_id = 6,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	.default_baud = 9600,
	/* no floor is documented (3.5 character times) */
	.gap_floor = 0,
	.interbyte = 0.15,
	.min_address = 0,
	.max_address = 0,
	.default_timeout = 1.0,
	.next_request = jbd_next_request,
	.scan = jbd_scan,
	.handle = jbd_handle,
	.timeout = jbd_timeout,
	.finish = jbd_finish,
	.control = &jbd_control,
	.writer = &jbd_writer,
	.ble = &jbd_ble,
	.probe = &jbd_probe,
};
