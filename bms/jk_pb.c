/* SPDX-License-Identifier: MIT */
/* bms/jk_pb.c - JK-PB inverter BMS on RS485 ("BMS RS485 Modbus V1.0/V1.1").
 *
 * See bms/PROTOCOLS.md §6.  115200 8N1, slave address = DIP switches 1..15
 * (address 0 makes a pack the bus master: never poll a bus that has one).
 * Sub-protocol B (§6.3) is used: the gateway writes one register with
 * Modbus FC 0x10,
 *	AA 10 16 20 00 01 02 00 00 CRC		(AA = DIP address, CRC-16/MODBUS)
 * and the addressed pack answers with a 300-byte status frame
 *	55 AA EB 90 TYPE COUNTER ... SUM	(TYPE 2 = status, SUM = sum8 of 0..298)
 * and the ordinary FC 0x10 acknowledgement
 *	AA 10 16 20 00 01 CRC
 * in either order, sometimes with a 0x00 byte before or after the ack.
 * The status frame carries no address: it is attributed by the ack.
 *
 * A poll is one or two steps, each a trigger answered by a payload and an
 * ack:
 *	STATUS	 0x1620 -> status frame (type 2): every poll;
 *	SETTINGS 0x161E -> settings frame (type 1): the current limits (max
 *		 charge / discharge current, 0 A where the charge / discharge
 *		 switch is off) and the switch settings.  The limits are
 *		 settings, changed by hand: read with the slow-changing values
 *		 (struct bms_kept: the first poll, every refresh poll, and while
 *		 none are kept), and every poll for a pack with control (the
 *		 switches are the read-back of a MOSFET command, and they gate
 *		 the limits).  Between, the kept limits are reported.
 * Both frames of a step must arrive: a payload followed by our ack, or our
 * ack followed by a payload, completes it.  A payload followed by the ack
 * of another address was that pack's (a late answer on a shared bus): it
 * is dropped.  Stray 0x00 bytes, echoes of our request and acks of other
 * requests are skipped by scan()/handle().  A pack that has never answered
 * the settings trigger (or whose limits are impossible) is not failed for
 * it: the step ends without limits, and it is asked again on refresh polls.
 *
 * The status payload is JK's 300-byte cell-info record in its JK02_32S
 * layout (offsets = status block offset + 6): bms/base/jkrecord.c decodes it,
 * the same code the JK02 Bluetooth LE driver (bms/jk_ble.c) uses.  Cells,
 * voltage, current, SOC, SOH, remaining and full Ah, cycles, MOS temperature
 * and T1..T4 (as the sensor-present bits say), MOSFETs, 32 alarm bits;
 * raw_alarms[0] = alarm bits 0..15, raw_alarms[1] = alarm bits 16..31
 * (payload 166..169).
 *
 * Settings writes (bms_settings, §6.8): FC 0x10 of a UINT32 of the
 * settings block (0x1004 ... 0x1084), acknowledged by the standard FC 0x10
 * response, read back from the settings frame the 0x161E trigger brings;
 * the heater's switch (0x1114 bit 0, §6.9) read, modified and written
 * whole.  The heater's state and current (status 215, 236) every poll,
 * its settings (enabled, start and stop temperature: settings 282..285)
 * with the other settings, kept between their reads; which firmware has
 * temperatures of its own there the device-info record (0x161C trigger,
 * type 3) says, read once before the first settings read.
 *
 * Progress in struct bms_poll:
 *	step	0 = status, 1 = device info (once, before the first settings),
 *		2 = settings (when due), 3 = done
 *	seen	JKPB_SEEN_PAYLOAD: the step's payload is decoded (into snap,
 *		or the settings into priv, struct jkpb_state; it becomes ours
 *		with our ack);
 *		JKPB_SEEN_ACK: our ack arrived
 *	persist	JKPB_P_SET_OK: the settings trigger was answered once;
 *		JKPB_P_NOLIM: no usable limits (no answer, impossible values):
 *		settings read on refresh polls (and with control) only;
 *		JKPB_P_HEAT_OWN / _UTP: the device info said where the heating
 *		temperatures are (jk_record_heat_temps()), JKPB_P_INFO_NONE: it
 *		did not (unanswered, no hardware text): none read
 */
#include "bms.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "drivers.h"
#include "jkrecord.h"
#include "mbmaster.h"

#define JKPB_MAX_ADDR 15
#define JKPB_FC_WRITE 0x10
#define JKPB_FC_WRITE_EXC 0x90
#define JKPB_REG_STATUS 0x1620
#define JKPB_REG_SETTINGS 0x161E
#define JKPB_REG_INFO_TRIG 0x161C
#define JKPB_REQ_LEN 11
#define JKPB_ACK_LEN 8
#define JKPB_EXC_LEN 5
#define JKPB_PAYLOAD JK_RECORD_LEN
#define JKPB_TYPE_STATUS JK_REC_CELLS
#define JKPB_O_TYPE JK_RECORD_TYPE
#define JKPB_O_SUM JK_RECORD_SUM

#define JKPB_SEEN_PAYLOAD 0x1u
#define JKPB_SEEN_ACK 0x2u

#define JKPB_P_SET_OK 0x1u
#define JKPB_P_NOLIM 0x2u
#define JKPB_P_HEAT_OWN 0x4u
#define JKPB_P_HEAT_UTP 0x8u
#define JKPB_P_INFO_NONE 0x10u
#define JKPB_P_INFO (JKPB_P_HEAT_OWN | JKPB_P_HEAT_UTP | JKPB_P_INFO_NONE)

enum { JKPB_ST_STATUS = 0, JKPB_ST_INFO = 1, JKPB_ST_SETTINGS = 2, JKPB_ST_DONE = 3 };

/* The driver's state of a poll (struct bms_poll.priv, BMS_PRIV()): the
 * settings a payload of the settings step gave, until our ack makes them
 * ours. */
struct jkpb_state {
	bool chg_set, dsg_set;  /* the MOSFET switches as set */
	bool limits_ok;         /* ccl_a, dcl_a are usable limits */
	float ccl_a, dcl_a;     /* the current limits the settings give, A */
	uint32_t info;          /* the device info's JKPB_P_HEAT_* / _INFO_NONE */
};

static bool jkpb_is_addr(uint8_t a)
{
	return a >= 1 && a <= JKPB_MAX_ADDR;
}

/* Is the settings step due in this poll? */
static bool jkpb_settings_due(const struct bms_poll *poll)
{
	return poll->setpoints || poll->refresh ||
	       (!(poll->kept.have & BMS_HAS_CUR_LIMITS) && !(poll->persist & JKPB_P_NOLIM));
}

/* The step the poll is at (JKPB_ST_DONE when it is complete): the
 * device info only before a settings read, while it is not known. */
static int jkpb_cur(const struct bms_poll *poll)
{
	if (poll->step == JKPB_ST_STATUS)
		return JKPB_ST_STATUS;
	if (poll->step > JKPB_ST_SETTINGS || !jkpb_settings_due(poll))
		return JKPB_ST_DONE;
	if (poll->step == JKPB_ST_INFO && !(poll->persist & (JKPB_P_HEAT_OWN | JKPB_P_HEAT_UTP)) &&
	    (!(poll->persist & JKPB_P_INFO_NONE) || poll->refresh))
		return JKPB_ST_INFO;
	return JKPB_ST_SETTINGS;
}

static uint16_t jkpb_step_reg(int step)
{
	return step == JKPB_ST_SETTINGS ? JKPB_REG_SETTINGS
	     : step == JKPB_ST_INFO	? JKPB_REG_INFO_TRIG
					: JKPB_REG_STATUS;
}

/* Where the settings record has the heating temperatures (JK_HEAT_*). */
static int jkpb_heat_temps(const struct bms_poll *poll)
{
	return (poll->persist & JKPB_P_HEAT_OWN) ? JK_HEAT_OWN
	     : (poll->persist & JKPB_P_HEAT_UTP) ? JK_HEAT_UTP
						 : JK_HEAT_UNKNOWN;
}

/* The device-info record p: where the heating temperatures are (the
 * persist bit that says it). */
static uint32_t jkpb_info(const uint8_t *p)
{
	int t = jk_record_heat_temps(p);
	return t == JK_HEAT_OWN ? JKPB_P_HEAT_OWN : t == JK_HEAT_UTP ? JKPB_P_HEAT_UTP : JKPB_P_INFO_NONE;
}

/* The trigger <addr> 10 <reg:2> 00 01 02 00 00 <crc> into out. */
static int jkpb_trigger(uint8_t *out, size_t cap, uint8_t addr, uint16_t reg)
{
	if (cap < JKPB_REQ_LEN)
		return BMS_E_NOSPACE;
	out[0] = addr;
	out[1] = JKPB_FC_WRITE;
	out[2] = (uint8_t)(reg >> 8);
	out[3] = (uint8_t)reg;
	out[4] = 0x00; /* one register */
	out[5] = 0x01;
	out[6] = 0x02; /* two bytes: value 0x0000 */
	out[7] = 0x00;
	out[8] = 0x00;
	uint16_t crc = bms_crc16_modbus(out, 9);
	out[9] = (uint8_t)crc;
	out[10] = (uint8_t)(crc >> 8);
	return JKPB_REQ_LEN;
}

static int jkpb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (!jkpb_is_addr(poll->address))
		return BMS_E_RANGE;
	int step = jkpb_cur(poll);
	if (step == JKPB_ST_DONE)
		return 0;
	return jkpb_trigger(out, cap, poll->address, jkpb_step_reg(step));
}

#define JKPB_REG_SET_BASE 0x1000 /* the settings block (§6.2) */
#define JKPB_REG_SET_CHG 0x1070 /* charge switch, UINT32: 1 on, 0 off */
#define JKPB_REG_SET_DSG 0x1074 /* discharge switch */
#define JKPB_CTL_LEN 13          /* FC16 of 2 registers */

/* A UINT32 setting written with FC16 of two registers, the value
 * big-endian: <addr> 10 <reg:2> 00 02 04 <value:4> <crc> into out. */
static int jkpb_write32(uint8_t *out, size_t cap, uint8_t addr, uint16_t reg, uint32_t value)
{
	if (cap < JKPB_CTL_LEN)
		return BMS_E_NOSPACE;
	out[0] = addr;
	out[1] = JKPB_FC_WRITE;
	out[2] = (uint8_t)(reg >> 8);
	out[3] = (uint8_t)reg;
	out[4] = 0x00; /* two registers */
	out[5] = 0x02;
	out[6] = 0x04; /* four bytes: a UINT32 */
	out[7] = (uint8_t)(value >> 24);
	out[8] = (uint8_t)(value >> 16);
	out[9] = (uint8_t)(value >> 8);
	out[10] = (uint8_t)value;
	uint16_t crc = bms_crc16_modbus(out, 11);
	out[11] = (uint8_t)crc;
	out[12] = (uint8_t)(crc >> 8);
	return JKPB_CTL_LEN;
}

/* The FC16 acks we may get: quantity 1 in the 0x16xx trigger area, or
 * quantity 2 at a UINT32 of the settings block (a MOSFET switch, a
 * setting written; the heater's 0x1114), as far as buf[0..len) shows. */
static bool jkpb_ack_head(const uint8_t *buf, size_t len)
{
	if (len > 2 && buf[2] == 0x16)
		return !((len > 4 && buf[4] != 0x00) || (len > 5 && buf[5] != 0x01));
	if (len > 2 && (buf[2] == 0x10 || buf[2] == 0x11))
		return !((len > 3 && (buf[3] & 0x03) != 0) || (len > 4 && buf[4] != 0x00) || (len > 5 && buf[5] != 0x02));
	return len <= 2;
}

/* A Modbus frame from a slave at buf[0] (1..15): FC16 ack of one register
 * in the 0x16xx trigger area or of a MOSFET switch, an FC16 exception, or
 * the echo of an FC16 request of ours. */
static enum bms_scan jkpb_scan_modbus(const uint8_t *buf, size_t len, size_t *n)
{
	if (len < 2)
		return BMS_SCAN_NEED;
	if (buf[1] == JKPB_FC_WRITE_EXC) {
		if (len < JKPB_EXC_LEN)
			return BMS_SCAN_NEED;
		return bms_scan_tail(bms_crc16_modbus_ok(buf, JKPB_EXC_LEN), true, JKPB_EXC_LEN, n);
	}
	if (buf[1] != JKPB_FC_WRITE || !jkpb_ack_head(buf, len))
		goto bad;
	if (len < JKPB_ACK_LEN)
		return BMS_SCAN_NEED;
	if (bms_crc16_modbus_ok(buf, JKPB_ACK_LEN)) {
		*n = JKPB_ACK_LEN;
		return BMS_SCAN_FRAME;
	}
	/* not an ack: perhaps our request (byte count 2 x quantity), echoed */
	size_t rlen = buf[2] == 0x16 ? JKPB_REQ_LEN : JKPB_CTL_LEN;
	if (buf[6] != 2 * buf[5])
		return bms_scan_tail(false, true, JKPB_ACK_LEN, n); /* an ack whose CRC failed */
	if (len < rlen)
		return BMS_SCAN_NEED;
	return bms_scan_tail(bms_crc16_modbus_ok(buf, rlen), false, rlen, n);
bad:
	*n = 1;
	return BMS_SCAN_SKIP;
}

static enum bms_scan jkpb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] == jk_record_magic[0] && (len < 2 || buf[1] == jk_record_magic[1])) {
		size_t k = len < sizeof(jk_record_magic) ? len : sizeof(jk_record_magic);
		if (memcmp(buf, jk_record_magic, k) != 0 ||
		    (len > JKPB_O_TYPE && (buf[JKPB_O_TYPE] < 1 || buf[JKPB_O_TYPE] > 3))) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
		if (len < JKPB_PAYLOAD)
			return BMS_SCAN_NEED;
		return bms_scan_tail(jk_record_sum(buf, JKPB_PAYLOAD - 1) == buf[JKPB_O_SUM], true, JKPB_PAYLOAD, n);
	}
	if (jkpb_is_addr(buf[0]))
		return jkpb_scan_modbus(buf, len, n);
	/* bytes that start nothing (0x00 separators, noise) */
	size_t i = 1;
	while (i < len && buf[i] != jk_record_magic[0] && !jkpb_is_addr(buf[i]))
		i++;
	*n = i;
	return BMS_SCAN_SKIP;
}

/* The settings of a completed settings step into the snapshot (and the
 * limits into poll->kept). */
static void jkpb_apply_settings(struct bms_poll *poll)
{
	const struct jkpb_state *st = BMS_PRIV(poll, struct jkpb_state);
	if (poll->setpoints) {
		poll->snap.chg_set = st->chg_set;
		poll->snap.dsg_set = st->dsg_set;
		poll->snap.present |= BMS_HAS_SETPOINT;
	}
	poll->persist |= JKPB_P_SET_OK;
	poll->kept.settings = poll->set_read; /* shown read only (§1.8) */
	if (st->limits_ok) {
		bms_set_cur_limits(poll, st->ccl_a, st->dcl_a, true);
		poll->persist &= ~JKPB_P_NOLIM;
	} else {
		poll->kept.have &= ~(uint32_t)BMS_HAS_CUR_LIMITS;
		poll->persist |= JKPB_P_NOLIM;
	}
}

/* Both halves of the answer are in: the step is complete (the device
 * info's record, kept in priv until its ack, now ours). */
static int jkpb_complete(struct bms_poll *poll)
{
	if ((poll->seen & (JKPB_SEEN_PAYLOAD | JKPB_SEEN_ACK)) != (JKPB_SEEN_PAYLOAD | JKPB_SEEN_ACK))
		return BMS_MORE;
	int step = jkpb_cur(poll);
	if (step == JKPB_ST_SETTINGS)
		jkpb_apply_settings(poll);
	if (step == JKPB_ST_INFO) {
		const struct jkpb_state *st = BMS_PRIV(poll, struct jkpb_state);
		poll->persist &= ~JKPB_P_INFO;
		poll->persist |= st->info;
	}
	poll->seen = 0;
	poll->step = step + 1;
	return BMS_OK;
}

/* A 300-byte payload (sum checked by scan()). */
static int jkpb_payload(struct bms_poll *poll, const uint8_t *frame)
{
	int step = jkpb_cur(poll);
	if (jk_record_sum(frame, JKPB_PAYLOAD - 1) != frame[JKPB_O_SUM])
		return BMS_E_CHECKSUM;
	if (step == JKPB_ST_STATUS && frame[JKPB_O_TYPE] == JKPB_TYPE_STATUS) {
		jk_record_decode_cells(frame, JK_LAYOUT_32S, poll->cells_forced, poll->invert_current,
				       &poll->snap);
		jk_record_heater(frame, &poll->snap);
	} else if (step == JKPB_ST_INFO && frame[JKPB_O_TYPE] == JK_REC_INFO) {
		BMS_PRIV(poll, struct jkpb_state)->info = jkpb_info(frame); /* ours once the ack comes */
	} else if (step == JKPB_ST_SETTINGS && frame[JKPB_O_TYPE] == JK_REC_SETTINGS) {
		struct jkpb_state *st = BMS_PRIV(poll, struct jkpb_state);
		memset(st, 0, sizeof(*st));
		jk_record_switches(frame, &st->chg_set, &st->dsg_set);
		st->limits_ok = jk_record_limits(frame, &st->ccl_a, &st->dcl_a) == BMS_OK;
		jk_record_settings(frame, &poll->set_read); /* ours once the ack comes */
		jk_record_heat_settings(frame, jkpb_heat_temps(poll), &poll->set_read);
	} else {
		return BMS_E_UNEXPECTED; /* another frame type, or after the poll */
	}
	poll->seen |= JKPB_SEEN_PAYLOAD;
	return jkpb_complete(poll);
}

/* The device info unanswered or refused: the settings without heating
 * temperatures, the info asked again on refresh polls. */
static int jkpb_no_info(struct bms_poll *poll)
{
	poll->persist |= JKPB_P_INFO_NONE;
	poll->seen = 0;
	poll->step = JKPB_ST_SETTINGS;
	return BMS_OK;
}

static int jkpb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	int step = jkpb_cur(poll);

	if (len == JKPB_PAYLOAD && memcmp(frame, jk_record_magic, sizeof(jk_record_magic)) == 0)
		return jkpb_payload(poll, frame);
	if (len == JKPB_ACK_LEN && jkpb_is_addr(frame[0]) && frame[1] == JKPB_FC_WRITE) {
		if (!bms_crc16_modbus_ok(frame, len))
			return BMS_E_CHECKSUM;
		if (step == JKPB_ST_DONE || bms_be16(frame + 2) != jkpb_step_reg(step) || bms_be16(frame + 4) != 1)
			return BMS_E_UNEXPECTED;
		if (frame[0] != poll->address) {
			/* another pack's answer: a payload before its ack was its own */
			if (poll->seen & JKPB_SEEN_PAYLOAD) {
				poll->seen &= ~JKPB_SEEN_PAYLOAD;
				if (step == JKPB_ST_STATUS)
					memset(&poll->snap, 0, sizeof(poll->snap));
				else {
					memset(BMS_PRIV(poll, struct jkpb_state), 0, sizeof(struct jkpb_state));
					memset(&poll->set_read, 0, sizeof(poll->set_read));
				}
			}
			return BMS_E_UNEXPECTED;
		}
		poll->seen |= JKPB_SEEN_ACK;
		return jkpb_complete(poll);
	}
	if (len == JKPB_EXC_LEN && jkpb_is_addr(frame[0]) && frame[1] == JKPB_FC_WRITE_EXC) {
		if (!bms_crc16_modbus_ok(frame, len))
			return BMS_E_CHECKSUM;
		/* our pack refuses the trigger: fail this try; the device info's
		 * refused: the poll goes on without it */
		if (step == JKPB_ST_DONE || frame[0] != poll->address)
			return BMS_E_UNEXPECTED;
		if (step == JKPB_ST_INFO)
			return jkpb_no_info(poll);
		return BMS_E_REFUSED;
	}
	return len < JKPB_EXC_LEN ? BMS_E_SHORT : BMS_E_HEADER;
}

/* A try failed.  The settings step of a pack that has never answered it
 * is complete without limits (asked again on refresh polls), so is the
 * device info's without it; the status step, and the settings of a pack
 * that answered them before, are tried again as usual. */
static bool jkpb_timeout(struct bms_poll *poll)
{
	if (jkpb_cur(poll) == JKPB_ST_INFO)
		return jkpb_no_info(poll) == BMS_OK;
	if (jkpb_cur(poll) != JKPB_ST_SETTINGS || (poll->persist & JKPB_P_SET_OK))
		return false;
	poll->persist |= JKPB_P_NOLIM;
	poll->kept.have &= ~(uint32_t)BMS_HAS_CUR_LIMITS;
	poll->seen = 0;
	poll->step = JKPB_ST_DONE;
	return true;
}

/* ---- MOSFET control (bms/PROTOCOLS.md §6.6) -----------------------------
 * JK's "BMS RS485 Modbus V1.0" settings: BatChargeEN at 0x1070 and
 * BatDisChargeEN at 0x1074, UINT32 (1 on, 0 off), written with FC16 of two
 * registers as syssi's and txubelaxu's ESPHome components do:
 *	<addr> 10 10 70 00 02 04 00 00 00 <0|1> <crc>   charge switch
 *	<addr> 10 10 74 00 02 04 00 00 00 <0|1> <crc>   discharge switch
 * Answer: the standard FC16 response <addr> 10 10 70 00 02 <crc>; an
 * exception (0x90) is a refusal.  The actual MOSFETs are read back from
 * the status frame (payload bytes 198/199). */
static int jkpb_ctl_fet(const struct bms_control *c)
{
	int k = 0;
	for (int f = BMS_FET_CHARGE; f <= BMS_FET_DISCHARGE; f++)
		if (c->set[f] && k++ == c->step)
			return f;
	return -1;
}

static int jkpb_control_request(struct bms_control *c, uint8_t *out, size_t cap)
{
	if (!jkpb_is_addr(c->address))
		return BMS_E_RANGE;
	int f = jkpb_ctl_fet(c);
	if (f < 0)
		return 0;
	return jkpb_write32(out, cap, c->address, f == BMS_FET_CHARGE ? JKPB_REG_SET_CHG : JKPB_REG_SET_DSG,
			    c->on[f] ? 1 : 0);
}

static int jkpb_control_ack(struct bms_control *c, const uint8_t *frame, size_t len)
{
	int f = jkpb_ctl_fet(c);
	if (f < 0 || len < JKPB_EXC_LEN || frame[0] != c->address)
		return BMS_E_UNEXPECTED;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	if (len == JKPB_EXC_LEN && frame[1] == JKPB_FC_WRITE_EXC)
		return BMS_E_REFUSED;
	uint16_t reg = f == BMS_FET_CHARGE ? JKPB_REG_SET_CHG : JKPB_REG_SET_DSG;
	if (len != JKPB_ACK_LEN || frame[1] != JKPB_FC_WRITE || bms_be16(frame + 2) != reg || bms_be16(frame + 4) != 2)
		return BMS_E_UNEXPECTED; /* e.g. the ack of a trigger, late */
	c->step++;
	return BMS_OK;
}

/* ---- settings writes (bms/setwrite.h; bms/PROTOCOLS.md §6.8) ------------
 * A setting of the settings block is a UINT32 written as the MOSFET
 * switches are, the value big-endian, and read back from the settings
 * record the trigger 0x161E brings (little-endian there):
 *	<addr> 10 <reg:2> 00 02 04 <value:4> <crc>  ->  <addr> 10 <reg:2> 00 02 <crc>
 *	<addr> 10 16 1E 00 01 02 00 00 <crc>        ->  settings record + <addr> 10 16 1E 00 01 <crc>
 * The registers are JK's "BMS RS485 Modbus V1.0" settings block, as
 * mr-manuel's JK-PB notes (dbus-serialbattery at 358d3c7) lists it and
 * txubelaxu's component writes them (a captured 02 10 10 84 00 02 04 00 00
 * 0D 70 3D CC, balancing start 3.440 V; 02 10 10 78 ..., the balancer).
 * The answer of the write is the standard FC16 response of our address,
 * register and quantity 2 (our echo has the value and is no answer); an
 * exception 0x90 is a refusal.  The read-back's two halves come in either
 * order (§6.7); a record followed by another address's acknowledgement
 * was that pack's.  Nothing unlocks (no driver sends a password).
 * The heater (§6.9) is bit 0 of 0x1114, whose UINT32 holds the other
 * control bits and the heating temperatures too: the settings record is
 * read first (in PW_WRITE while have_old is not set: jkpb_reading(); the
 * trigger as for the read-back), the UINT32 at 282 written back with bit 0
 * set or clear, and bit 0 read back. */
enum { PW_WRITE, PW_BACK, PW_DONE };
#define JKPB_WB_REC 0x1u        /* struct bms_wchange.word: the read-back's record came */
#define JKPB_WB_ACK 0x2u        /* ... and its acknowledgement */

static const struct bms_wfield *jkpb_wfield(const struct bms_wchange *c);

/* The heater's change before its write: the whole UINT32 is read first. */
static bool jkpb_reading(const struct bms_wchange *c)
{
	return c->step == PW_WRITE && c->key == BMS_W_HEATER && !c->have_old;
}

static int jkpb_wrequest(struct bms_wchange *c, uint8_t *out, size_t cap)
{
	const struct bms_wfield *f = jkpb_wfield(c);
	if (!f || !jkpb_is_addr(c->address) || c->raw < f->lo || c->raw > f->hi)
		return BMS_E_RANGE;
	if (c->quit || c->refused || c->step == PW_DONE)
		return 0;
	if (c->step == PW_WRITE && !jkpb_reading(c)) {
		uint32_t v = (uint32_t)c->raw;
		if (c->key == BMS_W_HEATER)
			v = (c->rmw & ~JK_RECORD_HEAT_ENABLE) | (c->raw ? JK_RECORD_HEAT_ENABLE : 0);
		c->wrote = true;
		return jkpb_write32(out, cap, c->address, f->reg, v);
	}
	c->word = 0; /* a trigger (again): both halves of its answer anew */
	c->have_back = false;
	return jkpb_trigger(out, cap, c->address, JKPB_REG_SETTINGS);
}

/* One half of the answer to the trigger came (bit): the heater's read
 * or the read-back done when both are in. */
static int jkpb_wback(struct bms_wchange *c, uint32_t bit)
{
	c->word |= bit;
	if ((c->word & (JKPB_WB_REC | JKPB_WB_ACK)) != (JKPB_WB_REC | JKPB_WB_ACK))
		return BMS_E_UNEXPECTED; /* waited on: the other half comes */
	if (jkpb_reading(c)) {
		c->have_old = true; /* the write is next */
		return BMS_OK;
	}
	c->have_back = true;
	c->step = PW_DONE;
	return BMS_OK;
}

static int jkpb_wrecord(struct bms_wchange *c, const struct bms_wfield *f, const uint8_t *frame)
{
	if (jk_record_sum(frame, JKPB_PAYLOAD - 1) != frame[JKPB_O_SUM])
		return BMS_E_CHECKSUM;
	if ((c->step != PW_BACK && !jkpb_reading(c)) || frame[JKPB_O_TYPE] != JK_REC_SETTINGS)
		return BMS_E_UNEXPECTED;
	uint32_t v = bms_le32(frame + JK_RECORD_SET_OFF((f->reg - JKPB_REG_SET_BASE) / 4 + 1));
	if (c->key == BMS_W_HEATER) {
		/* the UINT32 of 0x1114; the key's value is its bit 0 */
		if (jkpb_reading(c)) {
			c->rmw = v;
			c->old_raw = v & JK_RECORD_HEAT_ENABLE;
		}
		v &= JK_RECORD_HEAT_ENABLE;
	}
	if (c->step == PW_BACK)
		c->back_raw = v;
	return jkpb_wback(c, JKPB_WB_REC);
}

/* An acknowledgement or exception (CRC good) while a frame of c waits. */
static int jkpb_wmodbus(struct bms_wchange *c, const struct bms_wfield *f, const uint8_t *frame, size_t len)
{
	if (len == JKPB_EXC_LEN) {
		if (frame[1] != JKPB_FC_WRITE_EXC || frame[0] != c->address)
			return BMS_E_UNEXPECTED;
		if (c->step == PW_WRITE)
			c->refused = true; /* the BMS said no (to the write, or the heater's read) */
		else
			c->step = PW_DONE; /* the read-back refused: none */
		return BMS_E_REFUSED;
	}
	uint16_t reg = bms_be16(frame + 2), qty = bms_be16(frame + 4);
	if (frame[1] != JKPB_FC_WRITE)
		return BMS_E_UNEXPECTED;
	if (c->step == PW_WRITE && !jkpb_reading(c)) {
		if (frame[0] != c->address || reg != f->reg || qty != 2)
			return BMS_E_UNEXPECTED; /* e.g. a trigger's, late */
		c->step = PW_BACK;
		return BMS_OK;
	}
	if (reg != JKPB_REG_SETTINGS || qty != 1)
		return BMS_E_UNEXPECTED;
	if (frame[0] != c->address) {
		c->word &= ~JKPB_WB_REC; /* the record before it was that pack's */
		return BMS_E_UNEXPECTED;
	}
	return jkpb_wback(c, JKPB_WB_ACK);
}

static int jkpb_wanswer(struct bms_wchange *c, const uint8_t *frame, size_t len)
{
	const struct bms_wfield *f = jkpb_wfield(c);
	if (!f || c->step == PW_DONE)
		return BMS_E_UNEXPECTED;
	if (len == JKPB_PAYLOAD && memcmp(frame, jk_record_magic, sizeof(jk_record_magic)) == 0)
		return jkpb_wrecord(c, f, frame);
	if ((len != JKPB_ACK_LEN && len != JKPB_EXC_LEN) || !jkpb_is_addr(frame[0]))
		return BMS_E_UNEXPECTED;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	return jkpb_wmodbus(c, f, frame, len);
}

#define JKPB_SETREG(n) (JKPB_REG_SET_BASE + 4 * ((n) - 1))
static const struct bms_writer jkpb_writer = {
	.field = { JK_SET_WFIELDS(JKPB_SETREG), [BMS_W_HEATER] = { JKPB_SETREG(0x46), 1, 0, 0, 1 } },
	.wire = JK_SET_WKEYS,
	.ble = 0,
	.none_wire = NULL,
	.none_ble = "jk-pb is a wired protocol (its Bluetooth LE form is jk-ble)",
	.request = jkpb_wrequest,
	.answer = jkpb_wanswer,
};

static const struct bms_wfield *jkpb_wfield(const struct bms_wchange *c)
{
	if (c->key >= BMS_W_COUNT || !jkpb_writer.field[c->key].mul)
		return NULL;
	return &jkpb_writer.field[c->key];
}

/* The heater's settings the last settings read gave (kept between the
 * reads) into the snapshot; the temperatures NaN where the device info
 * did not say where they are. */
static void jkpb_heat_kept(struct bms_poll *poll)
{
	const struct bms_settings *k = &poll->kept.settings;
	struct bms_snapshot *s = &poll->snap;
	if (!bms_settings_has(k, BMS_SET_HEATER))
		return;
	bool t = bms_settings_has(k, BMS_SET_HEAT_START_C) && bms_settings_has(k, BMS_SET_HEAT_STOP_C);
	s->heater_enabled = k->v[BMS_SET_HEATER] != 0.0f;
	s->heat_start_c = t ? k->v[BMS_SET_HEAT_START_C] : NAN;
	s->heat_stop_c = t ? k->v[BMS_SET_HEAT_STOP_C] : NAN;
	s->present |= BMS_HAS_HEATER_SET;
}

static int jkpb_finish(struct bms_poll *poll)
{
	if (poll->step == JKPB_ST_STATUS || jkpb_cur(poll) != JKPB_ST_DONE)
		return BMS_E_INVALID;
	bms_use_kept_limits(poll);
	jkpb_heat_kept(poll);
	return bms_check_pack(&poll->snap, false);
}

/* ---- identification (§27) ------------------------------------------------
 * Never the trigger a poll sends (an FC 0x10 write of 0x1620): the probe is
 * a plain FC 0x03 read of the device-info block, 16 registers = 32 bytes
 * from 0x1400 (JK addresses bytes, §6.2): the device ID (16 ASCII), the
 * hardware (8) and software version (8).  FC 0x03 is flaky on JK-PB
 * (§6.2): one retry. */
#define JKPB_REG_INFO 0x1400
#define JKPB_INFO_REGS 16
#define JKPB_INFO_ANSWER (5 + 2 * JKPB_INFO_REGS)

static int jkpb_probe_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->address < 1 || poll->address > JKPB_MAX_ADDR)
		return BMS_E_RANGE;
	return bms_mb_request(out, cap, poll->address, BMS_MB_FC_HOLDING, JKPB_REG_INFO, JKPB_INFO_REGS);
}

/* p[0..n): printable text, then only padding (or nothing at all). */
static bool jkpb_field_ok(const uint8_t *p, size_t n)
{
	size_t k = 0;
	while (k < n && p[k] >= 0x20 && p[k] <= 0x7E)
		k++;
	for (; k < n; k++)
		if (p[k] != 0x00 && p[k] != 0xFF)
			return false;
	return true;
}

/* The device ID, p[0..n): printable text (bms_probe_text_ok()) up to the
 * first byte that is not, copied into id[0..cap).  What follows that byte
 * is not judged: padding on most firmware (NUL, 0xFF), but a JK-PB2A16S20P
 * on firmware 19.27 puts 0x10 right after its text (issue 36), and the
 * frame is already proven by its address, size and CRC. */
static bool jkpb_id_ok(const uint8_t *p, size_t n, char *id, size_t cap)
{
	size_t k = 0;
	while (k < n && k + 1 < cap && p[k] >= 0x20 && p[k] <= 0x7E) {
		id[k] = (char)p[k];
		k++;
	}
	id[k] = '\0';
	return bms_probe_text_ok(id);
}

/* A frame of our address at buf[0..left): its length when it is a whole
 * FC 0x03 answer of our size or an exception with a good CRC, 0 when it is
 * none, -1 when more bytes are needed. */
static long jkpb_probe_frame(const uint8_t *f, size_t left, uint8_t addr)
{
	if (f[0] != addr)
		return 0;
	if (left < 3)
		return -1;
	size_t need = f[1] == (BMS_MB_FC_HOLDING | BMS_MB_EXCEPTION) ? BMS_MB_EXC_LEN
		    : f[1] == BMS_MB_FC_HOLDING && f[2] == 2 * JKPB_INFO_REGS ? JKPB_INFO_ANSWER : 0;
	if (!need)
		return 0;
	if (left < need)
		return -1;
	return bms_crc16_modbus_ok(f, need) ? (long)need : 0;
}

static void jkpb_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	for (size_t off = 0; off < len; off++) {
		long n = jkpb_probe_frame(buf + off, len - off, poll->address);
		if (n < 0)
			return;
		if (n == 0)
			continue;
		const uint8_t *d = buf + off + 3;
		char id[17], hw[9], sw[9];
		r->frames++;
		r->start = off;
		r->used = off + (size_t)n;
		if (n == BMS_MB_EXC_LEN) {
			r->verdict = BMS_PROBE_REFUSED;
			snprintf(r->what, sizeof(r->what), "Modbus exception %02X", buf[off + 2]);
		} else if (jkpb_id_ok(d, 16, id, sizeof(id)) && jkpb_field_ok(d + 16, 8) && jkpb_field_ok(d + 24, 8)) {
			bms_ident_text(hw, sizeof(hw), d + 16, 8);
			bms_ident_text(sw, sizeof(sw), d + 24, 8);
			r->verdict = BMS_PROBE_MATCH;
			snprintf(r->what, sizeof(r->what), "device \"%s\", hardware %s, software %s", id, hw, sw);
		} else {
			r->verdict = BMS_PROBE_IMPLAUSIBLE;
			snprintf(r->what, sizeof(r->what), "no device-info text at 0x1400");
		}
		return;
	}
}

static const struct bms_probe jkpb_probe = {
	.bauds = { 115200, 9600 }, /* a 9600 variant can be chosen per UART (§6.1) */
	.rank = 2,
	.tries = 2,
	.gap = 0.1, /* as between triggers (§6.3) */
	.timeout = 0.25, /* JK's own master waits 220 ms per address (§6.3) */
	.request = jkpb_probe_request,
	.judge = jkpb_probe_judge,
};

/* ---- listen mode (bms/bus.h, bms/PROTOCOLS.md §39) -------------------------
 * On a bus whose master is a JK-PB at DIP 0, a slave's record is
 * attributed by the gateway (the acknowledgement after it); the record says
 * what it is: the status (key 0, every round) and the settings (the
 * limits and switches, kept: the master reads them now and then) and the
 * device information (where the settings have the heating temperatures,
 * kept). */
static int jkpb_hear(struct bms_poll *poll, const uint8_t *req, size_t rn, const uint8_t *ans, size_t an)
{
	(void)req;
	(void)rn;
	if (an != JKPB_PAYLOAD || memcmp(ans, jk_record_magic, sizeof(jk_record_magic)) != 0)
		return BMS_E_UNEXPECTED;
	if (jk_record_sum(ans, JKPB_PAYLOAD - 1) != ans[JKPB_O_SUM])
		return BMS_E_CHECKSUM;
	if (ans[JKPB_O_TYPE] == JKPB_TYPE_STATUS) {
		jk_record_decode_cells(ans, JK_LAYOUT_32S, poll->cells_forced, poll->invert_current, &poll->snap);
		jk_record_heater(ans, &poll->snap);
		poll->step = JKPB_ST_DONE; /* what finish() asks of a poll: its status */
		return 0;
	}
	if (ans[JKPB_O_TYPE] == JK_REC_INFO) {
		poll->persist &= ~JKPB_P_INFO;
		poll->persist |= jkpb_info(ans);
		return BMS_LISTEN_EXTRA + JKPB_ST_INFO;
	}
	if (ans[JKPB_O_TYPE] != JK_REC_SETTINGS)
		return BMS_E_UNEXPECTED;
	struct jkpb_state *st = BMS_PRIV(poll, struct jkpb_state);
	memset(st, 0, sizeof(*st));
	jk_record_switches(ans, &st->chg_set, &st->dsg_set);
	st->limits_ok = jk_record_limits(ans, &st->ccl_a, &st->dcl_a) == BMS_OK;
	jk_record_settings(ans, &poll->set_read);
	jk_record_heat_settings(ans, jkpb_heat_temps(poll), &poll->set_read);
	jkpb_apply_settings(poll);
	return BMS_LISTEN_EXTRA + JKPB_ST_SETTINGS;
}

static const struct bms_listen jkpb_listen = { bms_bus_jkpb_at, jkpb_hear };

static const struct bms_control_ops jkpb_control = {
	.request = jkpb_control_request,
	.ack = jkpb_control_ack,
};

const struct bms_driver bms_jk_pb_driver = {
	.name = "jk-pb",
	.description = "JK-PB inverter BMS, RS485 0x1620 / 0x161E triggers -> 0x55AA status / settings frames (115200 baud, DIP address 1-15)",
	.vendor = "JK",
	.protocol_id = 5,
	.settings = JK_RECORD_SETTINGS | JK_RECORD_HEAT_SETTINGS,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |
		BMS_HAS_HEATER | BMS_HAS_HEATER_SET,
	.default_baud = 115200,
	/* 100 ms: requests of the 0x1620 trigger less than 50 ms apart gave
	 * apparent cross-talk between packs; 100 ms kept them apart
	 * (bms/PROTOCOLS.md §6.3) */
	.gap_floor = 0.1,
	.interbyte = 0.2,
	.min_address = 1,
	.max_address = JKPB_MAX_ADDR,
	.default_timeout = 0.5,
	.next_request = jkpb_next_request,
	.listen = &jkpb_listen,
	.scan = jkpb_scan,
	.handle = jkpb_handle,
	.timeout = jkpb_timeout,
	.finish = jkpb_finish,
	.control = &jkpb_control,
	.writer = &jkpb_writer,
	.probe = &jkpb_probe,
};
