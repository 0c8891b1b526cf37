/* SPDX-License-Identifier: MIT */
/* bms/sinowealth.c - Sinowealth protocol of small Daly 3S-4S packs ("BMStool").
 *
 * See bms/PROTOCOLS.md §4.  One BMS per port, no address.  The request
 * reads one register:
 *	0A <register> <length>		length 2, or 4 for 0x10..0x12
 * and the answer is the register alone, with no header:
 *	<length data bytes, big-endian> <check>
 *	check = CRC-8/SMBUS (poly 0x07, init 0) over the 3 request bytes
 *		followed by the data bytes (SINO-01/02).
 *
 * Framing.  Without a header a frame is defined only by the outstanding
 * request: length + 1 bytes whose check byte matches it.  Our own request
 * echoed back is never a valid answer (for no register does
 * CRC-8(request || request[0..1]) equal the length byte); it is skipped
 * whole all the same.  A stray byte before the answer gives a 1 in 256
 * chance per window that wrong bytes pass the check, so:
 *  - scan() prefers a valid frame that ends at the end of the buffer (the
 *    answer is the last thing on the wire), and
 *  - registers with a tight plausible range (cells, current, capacities)
 *    are checked against it in scan(), and
 *  - every other register is read until the same value has come twice
 *    (at most 3 reads; the BMStool, too, sends every command twice);
 *    temperatures agree within 1 K.
 *
 * A poll reads: 0x17 pack config (cell count = (low byte & 7) + 3, as
 * dbus-serialbattery does; skipped when `cells` is forced), cells 0x01.. ,
 * 0x0B total voltage, 0x10 current, 0x13 RSOC, 0x11 full and 0x12 remaining
 * capacity, 0x14 cycles, 0x15 pack status, 0x16 battery status, 0x0C / 0x0D
 * external temperatures and 0x0E IC temperature (reported as the MOS / board
 * temperature).  No SOH and no balancing state exist in this protocol.
 * The slow-changing 0x17 (cell count), 0x11 (full capacity) and 0x14
 * (cycles) are read only when bms_slow_due() says so (the gateway asks
 * every few polls); the other polls use the values kept (struct bms_kept).
 *
 * Progress in struct bms_poll:
 *	step	index into sino_steps[] of the outstanding read (SINO_NSTEPS
 *		when the poll is complete)
 *	sub	reads of the current step held for confirmation (0..2)
 *	priv	struct sino_state (below): those reads
 */
#include "bms.h"

#include <stdio.h>
#include <string.h>

#include "drivers.h"

#define SINO_START 0x0A
#define SINO_REQ_LEN 3
#define SINO_MAX_CELLS 10       /* registers 0x01..0x0A */
#define SINO_KELVIN_DK 2731     /* 0.1 K -> 0.1 degC: 273.1 K */
/* An external sensor outside -50..+150 degC is taken as not fitted (an open
 * NTC input reads at a rail); the protocol has no sensor count. */
#define SINO_TEMP_AGREE_DK 10   /* two temperature reads agree within 1 K */
/* Plausible ranges of the registers that are not read twice. */
#define SINO_CELL_MAX_MV 5000
#define SINO_CURRENT_MAX_MA 2000000L /* 2000 A */
#define SINO_CAPACITY_MAX_MAH 2000000L /* 2000 Ah */
#define SINO_MAX_READS 3        /* reads of one step until a value came twice */

/* The driver's state of a poll (struct bms_poll.priv, BMS_PRIV()). */
struct sino_state {
	uint32_t held[SINO_MAX_READS - 1]; /* the reads of the current step held
	                                    * for confirmation (poll->sub of them) */
};

enum {
	SINO_R_CELL1 = 0x01,
	SINO_R_VOLT = 0x0B,
	SINO_R_TEXT1 = 0x0C,
	SINO_R_TEXT2 = 0x0D,
	SINO_R_TIC1 = 0x0E,
	SINO_R_CURRENT = 0x10,
	SINO_R_FULL = 0x11,
	SINO_R_REMAIN = 0x12,
	SINO_R_RSOC = 0x13,
	SINO_R_CYCLES = 0x14,
	SINO_R_PACK_STATUS = 0x15,
	SINO_R_BATT_STATUS = 0x16,
	SINO_R_PACK_CONFIG = 0x17,
};

/* The registers of one poll, in order; the cell registers are skipped
 * beyond the cell count. */
static const uint8_t sino_steps[] = {
	SINO_R_PACK_CONFIG,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
	SINO_R_VOLT, SINO_R_CURRENT, SINO_R_RSOC, SINO_R_FULL, SINO_R_REMAIN,
	SINO_R_CYCLES, SINO_R_PACK_STATUS, SINO_R_BATT_STATUS,
	SINO_R_TEXT1, SINO_R_TEXT2, SINO_R_TIC1,
};
#define SINO_NSTEPS ((int)(sizeof(sino_steps) / sizeof(sino_steps[0])))

/* 0x16 battery status bit n -> normalised alarms.  These are the AFE's
 * protection flags (the MOSFET is switched off), hence BMS_AL_PROTECTION.
 * Bits 4..7 and 15 are not documented; they stay in raw_alarms[0]. */
#define P BMS_AL_PROTECTION
static const uint32_t sino_alarm_map[16] = {
	BMS_AL_CELL_OV | P,  /* b0 OV */
	BMS_AL_CELL_UV | P,  /* b1 UV */
	BMS_AL_CHG_OC | P,   /* b2 OCC */
	BMS_AL_DSG_OC | P,   /* b3 OCD */
	0, 0, 0, 0,
	BMS_AL_CHG_OT | P,   /* b8 OTC */
	BMS_AL_DSG_OT | P,   /* b9 OTD */
	BMS_AL_CHG_UT | P,   /* b10 UTC */
	BMS_AL_DSG_UT | P,   /* b11 UTD */
	BMS_AL_CELL_OV | P,  /* b12 AFE_OV (hardware over-voltage) */
	BMS_AL_SHORT | P,    /* b13 AFE_SC */
	BMS_AL_HW_FAULT,     /* b14 CTO (disconnection) */
	0,
};
#undef P

/* 0x15 pack status bits. */
#define SINO_PS_CHGMOS 0x0001u
#define SINO_PS_DSGMOS 0x0002u
#define SINO_PS_CHARGING 0x0004u
#define SINO_PS_DISCHARGING 0x0008u

/* CRC-8/SMBUS: poly 0x07, init 0, no reflection, no final xor. */
static uint8_t sino_crc8(uint8_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x07) : (uint8_t)(crc << 1);
	}
	return crc;
}

static bool sino_wide(uint8_t reg)
{
	return reg >= SINO_R_CURRENT && reg <= SINO_R_REMAIN;
}

static bool sino_is_cell(uint8_t reg)
{
	return reg >= SINO_R_CELL1 && reg < SINO_R_CELL1 + SINO_MAX_CELLS;
}

static bool sino_is_temp(uint8_t reg)
{
	return reg >= SINO_R_TEXT1 && reg <= SINO_R_TIC1;
}

/* Registers taken from one read, because scan() checks them against a
 * tight range; all others are read until a value comes twice. */
static bool sino_single(uint8_t reg)
{
	return sino_is_cell(reg) || sino_wide(reg);
}

/* The register value of a frame: 16 or 32 bit, big-endian. */
static uint32_t sino_value(uint8_t reg, const uint8_t *d)
{
	return sino_wide(reg) ? bms_be32(d) : bms_be16(d);
}

/* Could this value of a single-read register be real? */
static bool sino_plausible(uint8_t reg, uint32_t v)
{
	if (sino_is_cell(reg))
		return v <= SINO_CELL_MAX_MV;
	if (reg == SINO_R_CURRENT)
		return (int32_t)v >= -SINO_CURRENT_MAX_MA && (int32_t)v <= SINO_CURRENT_MAX_MA;
	if (reg == SINO_R_FULL || reg == SINO_R_REMAIN)
		return (int32_t)v >= 0 && (int32_t)v <= SINO_CAPACITY_MAX_MAH;
	return true;
}

/* Cells the poll reads: the forced count, else from 0x17. */
static unsigned sino_ncells(const struct bms_poll *poll)
{
	if (poll->cells_forced)
		return poll->cells_forced < SINO_MAX_CELLS ? poll->cells_forced : SINO_MAX_CELLS;
	return poll->snap.ncells;
}

/* The slow-changing values (struct bms_kept) of this protocol: the cell
 * count (unless forced), the full capacity and the cycles. */
static uint32_t sino_kept_want(const struct bms_poll *poll)
{
	return (poll->cells_forced ? 0 : BMS_HAS_CELLS) | BMS_HAS_FULL | BMS_HAS_CYCLES;
}

static bool sino_is_slow(uint8_t reg)
{
	return reg == SINO_R_PACK_CONFIG || reg == SINO_R_FULL || reg == SINO_R_CYCLES;
}

/* Is step `i` part of this poll? */
static bool sino_step_needed(const struct bms_poll *poll, int i)
{
	uint8_t reg = sino_steps[i];
	if (reg == SINO_R_PACK_CONFIG && poll->cells_forced)
		return false;
	if (sino_is_slow(reg))
		return bms_slow_due(poll, sino_kept_want(poll));
	if (sino_is_cell(reg))
		return reg - SINO_R_CELL1 < (int)sino_ncells(poll);
	return true;
}

/* A slow register this poll does not read: the value the last read kept. */
static void sino_use_kept(struct bms_poll *poll, uint8_t reg)
{
	struct bms_snapshot *s = &poll->snap;
	if (reg == SINO_R_PACK_CONFIG && !poll->cells_forced) {
		s->ncells = poll->kept.ncells;
	} else if (reg == SINO_R_FULL) {
		s->full_ah = poll->kept.full_ah;
		s->present |= BMS_HAS_FULL;
	} else if (reg == SINO_R_CYCLES) {
		s->cycles = poll->kept.cycles;
		s->present |= BMS_HAS_CYCLES;
	}
}

/* Move poll->step to the first needed step at or after `from`. */
static void sino_seek(struct bms_poll *poll, int from)
{
	poll->step = from;
	poll->sub = 0;
	while (poll->step < SINO_NSTEPS && !sino_step_needed(poll, poll->step)) {
		if (sino_is_slow(sino_steps[poll->step]))
			sino_use_kept(poll, sino_steps[poll->step]);
		poll->step++;
	}
}

/* The request of the outstanding step; false when there is none. */
static bool sino_request(const struct bms_poll *poll, uint8_t req[SINO_REQ_LEN])
{
	if (poll->step < 0 || poll->step >= SINO_NSTEPS)
		return false;
	req[0] = SINO_START;
	req[1] = sino_steps[poll->step];
	req[2] = sino_wide(req[1]) ? 4 : 2;
	return true;
}

static int sino_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t req[SINO_REQ_LEN];

	/* bms_poll_begin() leaves step 0, which is skipped when cells are forced */
	if (poll->step == 0 && !sino_step_needed(poll, 0))
		sino_seek(poll, 0);
	if (!sino_request(poll, req))
		return 0;
	return bms_request_copy(out, cap, req, SINO_REQ_LEN);
}

/* Is buf[0..need) a valid, plausible answer to req? */
static bool sino_valid(const uint8_t *req, const uint8_t *buf, size_t need)
{
	if (sino_crc8(sino_crc8(0, req, SINO_REQ_LEN), buf, need - 1) != buf[need - 1])
		return false;
	return !sino_single(req[1]) || sino_plausible(req[1], sino_value(req[1], buf));
}

static enum bms_scan sino_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	uint8_t req[SINO_REQ_LEN];

	if (len == 0)
		return BMS_SCAN_NEED;
	if (!sino_request(poll, req)) {
		*n = len; /* nothing outstanding: no byte can start an answer */
		return BMS_SCAN_SKIP;
	}
	size_t need = (size_t)req[2] + 1;
	if (len >= SINO_REQ_LEN && memcmp(buf, req, SINO_REQ_LEN) == 0) {
		*n = SINO_REQ_LEN; /* our echo */
		return BMS_SCAN_SKIP;
	}
	if (len < need)
		return BMS_SCAN_NEED;
	/* the answer is the last thing on the wire: a valid frame that ends
	 * the buffer beats one that starts it */
	if (len > need && sino_valid(req, buf + len - need, need) &&
	    (len - need < SINO_REQ_LEN || memcmp(buf + len - need, req, SINO_REQ_LEN) != 0)) {
		*n = len - need;
		return BMS_SCAN_SKIP;
	}
	if (!sino_valid(req, buf, need)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	*n = need;
	return BMS_SCAN_FRAME;
}

/* External sensor reading (0.1 K) -> temp_c[].  One outside -50..150
 * degC (an open or shorted NTC input: 0, 0xFFFF) is kept as read: the
 * gateway serves it absent and flags a sensor fault (bms_sensor_faults). */
static void sino_temp(struct bms_snapshot *s, uint32_t raw)
{
	if (s->ntemps < BMS_MAX_TEMPS)
		s->temp_c[s->ntemps++] = (float)((int)raw - SINO_KELVIN_DK) / 10.0f;
}

/* Do two reads of `reg` agree? */
static bool sino_agree(uint8_t reg, uint32_t a, uint32_t b)
{
	if (sino_is_temp(reg))
		return (a > b ? a - b : b - a) <= SINO_TEMP_AGREE_DK;
	return a == b;
}

/* Store a confirmed value of `reg` in the snapshot. */
static int sino_decode(struct bms_poll *poll, uint8_t reg, uint32_t v)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned v16 = v & 0xFFFF;

	switch (reg) {
	case SINO_R_PACK_CONFIG:
		s->ncells = (uint8_t)((v16 & 0x07) + 3);
		poll->kept.ncells = s->ncells;
		poll->kept.have |= BMS_HAS_CELLS;
		break;
	case SINO_R_VOLT:
		s->voltage = (float)v16 / 1000.0f;
		s->present |= BMS_HAS_VOLTAGE;
		break;
	case SINO_R_CURRENT: {
		/* mA, + = charging (UNCERTAIN: presumably; `invert_current` flips) */
		float cur = (float)(int32_t)v / 1000.0f;
		s->current = poll->invert_current ? -cur : cur;
		s->present |= BMS_HAS_CURRENT;
		break;
	}
	case SINO_R_RSOC:
		/* % in the low byte */
		if ((v16 & 0xFF) > 100)
			return BMS_E_RANGE;
		s->soc = (float)(v16 & 0xFF);
		s->present |= BMS_HAS_SOC;
		break;
	case SINO_R_FULL:
	case SINO_R_REMAIN:
		/* scan() let only 0..2000 Ah through */
		if (reg == SINO_R_FULL) {
			s->full_ah = (float)(int32_t)v / 1000.0f;
			s->present |= BMS_HAS_FULL;
			poll->kept.full_ah = s->full_ah;
			poll->kept.have |= BMS_HAS_FULL;
		} else {
			s->remain_ah = (float)(int32_t)v / 1000.0f;
			s->present |= BMS_HAS_REMAIN;
		}
		break;
	case SINO_R_CYCLES:
		s->cycles = v16;
		s->present |= BMS_HAS_CYCLES;
		poll->kept.cycles = s->cycles;
		poll->kept.have |= BMS_HAS_CYCLES;
		break;
	case SINO_R_PACK_STATUS:
		s->chg_mos = (v16 & SINO_PS_CHGMOS) != 0;
		s->dsg_mos = (v16 & SINO_PS_DSGMOS) != 0;
		s->state = (v16 & SINO_PS_CHARGING) ? 1 : (v16 & SINO_PS_DISCHARGING) ? 2 : 0;
		s->present |= BMS_HAS_MOSFETS;
		break;
	case SINO_R_BATT_STATUS:
		/* raw_alarms[0] = 0x16 battery status */
		s->nraw = 1;
		s->raw_alarms[0] = (uint16_t)v16;
		s->alarms = 0;
		for (int b = 0; b < 16; b++)
			if (v16 & (1u << b))
				s->alarms |= sino_alarm_map[b];
		s->present |= BMS_HAS_ALARMS;
		break;
	case SINO_R_TEXT1:
		s->ntemps = 0;
		sino_temp(s, v16);
		break;
	case SINO_R_TEXT2:
		sino_temp(s, v16);
		if (s->ntemps)
			s->present |= BMS_HAS_TEMPS;
		break;
	case SINO_R_TIC1:
		s->mos_temp_c = (float)((int)v16 - SINO_KELVIN_DK) / 10.0f; /* as sino_temp() */
		s->present |= BMS_HAS_MOS_TEMP;
		break;
	default: /* cell 1..10; scan() let only 0..5000 mV through */
		s->cell_mv[reg - SINO_R_CELL1] = (uint16_t)v16;
		if (reg - SINO_R_CELL1 + 1 == (int)sino_ncells(poll)) {
			s->ncells = (uint8_t)sino_ncells(poll);
			s->present |= BMS_HAS_CELLS;
		}
		break;
	}
	return BMS_OK;
}

static int sino_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t req[SINO_REQ_LEN];

	if (!sino_request(poll, req))
		return BMS_E_UNEXPECTED;
	if (len != (size_t)req[2] + 1)
		return BMS_E_SHORT;
	if (sino_crc8(sino_crc8(0, req, SINO_REQ_LEN), frame, len - 1) != frame[len - 1])
		return BMS_E_CHECKSUM;

	uint8_t reg = req[1];
	uint32_t v = sino_value(reg, frame);

	if (sino_single(reg)) {
		if (!sino_plausible(reg, v))
			return BMS_E_RANGE;
	} else {
		/* Keep reading until a value has come twice.  BMS_OK without
		 * advancing makes the gateway send the same request again. */
		struct sino_state *st = BMS_PRIV(poll, struct sino_state);
		bool agreed = false;
		for (int i = 0; i < poll->sub && i < SINO_MAX_READS - 1; i++)
			if (sino_agree(reg, v, st->held[i]))
				agreed = true;
		if (!agreed) {
			if (poll->sub >= SINO_MAX_READS - 1) {
				poll->sub = 0; /* three different values: this try fails */
				return BMS_E_RANGE;
			}
			if (poll->sub < 0)
				poll->sub = 0;
			st->held[poll->sub] = v;
			poll->sub++;
			return BMS_OK;
		}
	}
	int rc = sino_decode(poll, reg, v);
	if (rc != BMS_OK) {
		poll->sub = 0;
		return rc;
	}
	sino_seek(poll, poll->step + 1);
	return BMS_OK;
}

/* Identification (§27): cell 1, 0A 01 02, a read the framer checks
 * against a cell's range; the value must be a cell's voltage.  Tried last
 * of all: dbus-serialbattery took other BMSs for Sinowealth and turned its
 * probe off by default (Louisvdw/dbus-serialbattery PR #314, PR #704). */
#define SINO_PROBE_STEP 1 /* sino_steps[1]: cell 1 */

static void sino_probe_prepare(struct bms_poll *poll)
{
	poll->step = SINO_PROBE_STEP;
}

static bool sino_probe_check(const struct bms_poll *poll, char *what, size_t cap)
{
	unsigned mv = poll->snap.cell_mv[0];
	snprintf(what, cap, "cell 1 at %u mV", mv);
	return mv >= 1000 && mv <= 4700;
}

static const struct bms_probe sino_probe = {
	.bauds = { 9600 },
	.rank = 99,
	.gap = 0.05,
	.timeout = 0.2,
	.prepare = sino_probe_prepare,
	.check = sino_probe_check,
};

const struct bms_driver bms_sinowealth_driver = {
	.name = "sinowealth",
	.description = "Sinowealth protocol of small Daly 3S-4S packs (BMStool, CRC-8 register reads)",
	.vendor = "Sinowealth",
	.protocol_id = 3,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	.default_baud = 9600,
	/* no floor is documented (3.5 character times) */
	.gap_floor = 0,
	.interbyte = 0.1,
	.min_address = 0,
	.max_address = 0,
	.default_timeout = 0.5,
	.next_request = sino_next_request,
	.scan = sino_scan,
	.handle = sino_handle,
	.timeout = NULL,
	.finish = bms_finish_pack,
	.probe = &sino_probe,
};
