/* SPDX-License-Identifier: MIT */
/* bms/daly.c - Daly legacy protocol (0xA5, fixed 13-byte frames).
 *
 * See bms/PROTOCOLS.md §2 for the protocol facts and their sources.
 * Request and response are both
 *	A5 <addr> <cmd> 08 D0..D7 <sum>,  sum = (bytes 0..11) & 0xFF.
 * The host address of a request is 0x40 + board - 1 (0x80 also works for
 * board 1 on many units); the BMS answers with the board number in byte 1.
 *
 * A poll reads 0x90 (voltage, current, SOC), 0x93 (MOSFETs, remaining
 * capacity), 0x95 (cells), 0x96 (temperatures), 0x97 (balancing) and 0x98
 * (alarms); 0x94 (cell and sensor count, cycles) only when bms_slow_due()
 * says so (the gateway asks every few polls), the other polls use the counts
 * it kept.  0x91 / 0x92 (highest and lowest cell and temperature) are never
 * asked for: they are the extremes of the 0x95 / 0x96 values of the same
 * poll, which the gateway computes.  0x95 (cells, 3 per frame) and 0x96
 * (temperatures, 7 per frame) answer with several frames, numbered from 1;
 * some firmware always sends 16 cell frames, others exactly the ones needed,
 * so frames are accepted by number and the step ends as soon as every frame
 * that carries a wanted value has arrived.  Frames beyond those (or late
 * frames of an earlier request) are then reported as BMS_E_UNEXPECTED.
 *
 * Bluetooth LE (Daly's BT dongle, §14.1): the same 13-byte frames through
 * service FFF0 (written to FFF2, notified on FFF1), with host address 0x80
 * ("Bluetooth app" in Daly's protocol document) in every request and MOSFET
 * write, whatever the board; the BMS answers from its board number as on
 * the wire.  A notification may hold two answers (26 bytes) or part of one:
 * scan() works on the byte stream either way.  Over BLE the host is not
 * learned (persist is left alone).
 *
 * The BMS's own settings (§2.11): 0x50 (rated capacity), 0x59 / 0x5A (cell
 * and pack voltage levels), 0x5B (current levels), 0x5E (cell difference),
 * 0x5F (balancing), 0x60 (short circuit), read at the end of a poll only
 * when the gateway says they are due (poll->settings_due: the first poll,
 * after a reconnect, every 10 minutes); one the BMS leaves
 * unanswered costs the poll nothing but its timeout.
 *
 * Progress in struct bms_poll:
 *	step	index into daly_steps[] of the outstanding request; handle()
 *		advances it on BMS_OK, timeout() when it returns true
 *	seen	bit n-1 = frame n of the current multi-frame reply received
 *	priv	struct daly_state (below)
 *	persist	bit 0: board 1 last answered on host 0x80 (learned)
 */
#include "bms.h"

#include <string.h>

#include "dalyalarm.h"
#include "drivers.h"

#define DALY_LEN 13
#define DALY_START 0xA5
#define DALY_DLEN 0x08
#define DALY_HOST 0x40          /* host address of board 1 */
#define DALY_HOST_ALT 0x80      /* alternative host address of board 1; the BT host */
#define DALY_MAX_BOARD 16
#define DALY_CURRENT_ZERO 30000 /* raw current offset, 0.1 A */
#define DALY_TEMP_OFFSET 40

#define DALY_PERSIST_ALT 0x1u   /* persist: board 1 answers on 0x80 */

/* The driver's state of a poll (struct bms_poll.priv, BMS_PRIV()). */
struct daly_state {
	uint8_t host;           /* host address the last request went to */
	bool set_got;           /* a settings request of this poll was answered */
};

enum {
	DALY_VOLT = 0x90,
	DALY_STATE = 0x93,
	DALY_INFO = 0x94,
	DALY_CELLS = 0x95,
	DALY_TEMPS = 0x96,
	DALY_BALANCE = 0x97,
	DALY_ALARMS = 0x98,
	/* the settings reads (§2.11), one frame each */
	DALY_RATED = 0x50,      /* rated capacity, nominal cell voltage */
	DALY_SET_CELL = 0x59,   /* cell voltage alarm levels */
	DALY_SET_PACK = 0x5A,   /* pack voltage alarm levels */
	DALY_SET_CUR = 0x5B,    /* charge / discharge current alarm levels */
	DALY_SET_DIFF = 0x5E,   /* cell voltage / temperature difference levels */
	DALY_SET_BAL = 0x5F,    /* balancing start voltage and difference */
	DALY_SET_SHORT = 0x60,  /* short-circuit current, shunt resistance */
};

/* The requests of a poll, in order; 0x94 comes before 0x95 / 0x96, which
 * need its counts.  The settings reads come last, only when the gateway
 * says they are due (poll->settings_due); the first of them that the BMS
 * leaves unanswered ends them for this poll (§2.11). */
static const uint8_t daly_steps[] = {
	DALY_VOLT, DALY_STATE, DALY_INFO, DALY_CELLS, DALY_TEMPS, DALY_BALANCE, DALY_ALARMS,
	DALY_RATED, DALY_SET_CELL, DALY_SET_PACK, DALY_SET_CUR, DALY_SET_DIFF, DALY_SET_BAL, DALY_SET_SHORT,
};
#define DALY_FIRST_SET 7        /* daly_steps[] index of the first settings read */
/* what 0x94 gives and a poll keeps (struct bms_kept) */
#define DALY_KEPT (BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_CYCLES)
#define DALY_NSTEPS ((int)(sizeof(daly_steps) / sizeof(daly_steps[0])))

#define DALY_CELLS_PER_FRAME 3
#define DALY_TEMPS_PER_FRAME 7

static uint8_t daly_sum(const uint8_t *p)
{
	return (uint8_t)bms_sum(p, DALY_LEN - 1);
}

static bool daly_is_host(uint8_t a)
{
	return (a >= DALY_HOST && a < DALY_HOST + DALY_MAX_BOARD) || a == DALY_HOST_ALT;
}

/* Cells the poll wants: the forced count, else 0x94 D0. */
static unsigned daly_ncells(const struct bms_poll *poll)
{
	if (poll->cells_forced)
		return poll->cells_forced < BMS_LV_MAX_CELLS ? poll->cells_forced : BMS_LV_MAX_CELLS;
	return poll->snap.ncells;
}

/* Frames a multi-frame step needs (0 = skip the step). */
static int daly_frames_needed(const struct bms_poll *poll, uint8_t cmd)
{
	if (cmd == DALY_CELLS)
		return (int)((daly_ncells(poll) + DALY_CELLS_PER_FRAME - 1) / DALY_CELLS_PER_FRAME);
	if (cmd == DALY_TEMPS)
		return (poll->snap.ntemps + DALY_TEMPS_PER_FRAME - 1) / DALY_TEMPS_PER_FRAME;
	return 1;
}

/* 0x94 is not asked for this poll: the counts and cycles the last one gave. */
static void daly_use_kept(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	s->ncells = (uint8_t)(poll->cells_forced ? daly_ncells(poll) : poll->kept.ncells);
	s->ntemps = poll->kept.ntemps;
	s->cycles = poll->kept.cycles;
	s->present |= BMS_HAS_CYCLES;
}

/* The current step is complete: move to the next one that is needed. */
static void daly_step_done(struct bms_poll *poll)
{
	poll->seen = 0;
	for (;;) {
		poll->step++;
		if (poll->step >= DALY_NSTEPS)
			return;
		if (poll->step >= DALY_FIRST_SET && !poll->settings_due) {
			poll->step = DALY_NSTEPS;
			return;
		}
		uint8_t cmd = daly_steps[poll->step];
		if (cmd == DALY_INFO && !bms_slow_due(poll, DALY_KEPT)) {
			daly_use_kept(poll);
			continue;
		}
		if (daly_frames_needed(poll, cmd) > 0)
			return;
	}
}

/* All frames of the current multi-frame step have arrived. */
static bool daly_multi_complete(const struct bms_poll *poll, int need)
{
	uint32_t want = need >= 32 ? UINT32_MAX : (1u << need) - 1;
	return need > 0 && (poll->seen & want) == want;
}

static int daly_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t host;

	if (poll->address < 1 || poll->address > DALY_MAX_BOARD)
		return BMS_E_RANGE;
	if (poll->step >= DALY_NSTEPS)
		return 0;
	if (cap < DALY_LEN)
		return BMS_E_NOSPACE;

	if (poll->link == BMS_LINK_BLE) {
		host = DALY_HOST_ALT; /* the Bluetooth host, every board, every try */
	} else if (poll->address == 1) {
		bool alt = (poll->persist & DALY_PERSIST_ALT) != 0;
		if (poll->attempt & 1)
			alt = !alt;
		host = alt ? DALY_HOST_ALT : DALY_HOST;
	} else {
		host = (uint8_t)(DALY_HOST + poll->address - 1);
	}
	BMS_PRIV(poll, struct daly_state)->host = host;

	memset(out, 0, DALY_LEN);
	out[0] = DALY_START;
	out[1] = host;
	out[2] = daly_steps[poll->step];
	out[3] = DALY_DLEN;
	out[12] = daly_sum(out);
	return DALY_LEN;
}

static enum bms_scan daly_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, DALY_START, &r, n))
		return r;
	if (len > 3 && buf[3] != DALY_DLEN) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < DALY_LEN)
		return BMS_SCAN_NEED;
	/* A request (our own echo, or a sleeping BMS echoing it) is no reply. */
	return bms_scan_tail(daly_sum(buf) == buf[12], !daly_is_host(buf[1]), DALY_LEN, n);
}

static void daly_decode_alarms(struct bms_snapshot *s, const uint8_t *d)
{
	s->nraw = 4;
	for (int i = 0; i < 4; i++)
		s->raw_alarms[i] = bms_be16(d + 2 * i);
	s->alarms = daly_alarm_bits(d);
	s->present |= BMS_HAS_ALARMS;
}

/* ---- the settings reads (§2.11) -------------------------------------------
 * Each answer's data bytes d[0..7] (a whole frame, its checksum checked)
 * into the settings: level 2 (Daly's protection level) of each alarm pair;
 * a raw value outside the field's possible range leaves its key absent. */

/* A big-endian u16 of d in [lo, hi], scaled into key k. */
static void daly_set16(struct bms_settings *out, enum bms_set_key k, const uint8_t *d, unsigned lo, unsigned hi,
		       float div)
{
	bms_settings_put_raw(out, k, bms_be16(d), lo, hi, div);
}

/* A current level: raw = 30000 +- 10 x I (the 0x90 encoding; which side
 * is charging differs by firmware, §2.5), shown as its magnitude. */
static void daly_set_cur(struct bms_settings *out, enum bms_set_key k, const uint8_t *d)
{
	int raw = (int)bms_be16(d) - DALY_CURRENT_ZERO;
	if (raw != 0)
		bms_settings_put(out, k, (float)(raw < 0 ? -raw : raw) / 10.0f);
}

static void daly_settings(struct bms_settings *out, uint8_t cmd, const uint8_t *d)
{
	switch (cmd) {
	case DALY_RATED: {
		uint32_t mah = bms_be32(d); /* D4..7 nominal cell voltage: no key */
		if (mah >= 1 && mah <= 10000000u)
			bms_settings_put(out, BMS_SET_CAPACITY_AH, (float)mah / 1000.0f);
		break;
	}
	case DALY_SET_CELL: /* D0-1 high L1, D2-3 high L2, D4-5 low L1, D6-7 low L2, mV */
		daly_set16(out, BMS_SET_CELL_OVP_V, d + 2, 1, 10000, 1000.0f);
		daly_set16(out, BMS_SET_CELL_UVP_V, d + 6, 1, 10000, 1000.0f);
		break;
	case DALY_SET_PACK: /* the same, 0.1 V */
		daly_set16(out, BMS_SET_PACK_OVP_V, d + 2, 1, 20000, 10.0f);
		daly_set16(out, BMS_SET_PACK_UVP_V, d + 6, 1, 20000, 10.0f);
		break;
	case DALY_SET_CUR: /* D0-1 charge L1, D2-3 charge L2, D4-5 discharge L1, D6-7 discharge L2 */
		daly_set_cur(out, BMS_SET_CHARGE_OCP_A, d + 2);
		daly_set_cur(out, BMS_SET_DISCHARGE_OCP_A, d + 6);
		break;
	case DALY_SET_DIFF: /* D0-1 cell difference L1, D2-3 L2, mV; D4 / D5 temperature difference */
		daly_set16(out, BMS_SET_CELL_DIFF_V, d + 2, 1, 10000, 1000.0f);
		break;
	case DALY_SET_BAL: /* D0-1 start voltage, D2-3 difference, mV */
		daly_set16(out, BMS_SET_BALANCE_START_V, d, 1, 10000, 1000.0f);
		daly_set16(out, BMS_SET_BALANCE_DELTA_V, d + 2, 1, 10000, 1000.0f);
		break;
	case DALY_SET_SHORT: /* D0-1 short-circuit current, A; D2-3 the shunt's resistance */
		daly_set16(out, BMS_SET_SHORT_CIRCUIT_A, d, 1, 60000, 1.0f);
		break;
	default:
		break;
	}
}

/* One frame of 0x95 / 0x96: store the values of frame d[0] (1-based). */
static int daly_multi(struct bms_poll *poll, uint8_t cmd, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned frame = d[0];
	int need = daly_frames_needed(poll, cmd);

	if (frame >= 1 && frame <= (unsigned)need) {
		if (cmd == DALY_CELLS) {
			unsigned ncells = daly_ncells(poll);
			for (unsigned i = 0; i < DALY_CELLS_PER_FRAME; i++) {
				unsigned idx = (frame - 1) * DALY_CELLS_PER_FRAME + i;
				if (idx < ncells)
					s->cell_mv[idx] = bms_be16(d + 1 + 2 * i);
			}
		} else {
			for (unsigned i = 0; i < DALY_TEMPS_PER_FRAME; i++) {
				unsigned idx = (frame - 1) * DALY_TEMPS_PER_FRAME + i;
				if (idx < s->ntemps)
					s->temp_c[idx] = (float)((int)d[1 + i] - DALY_TEMP_OFFSET);
			}
		}
		poll->seen |= 1u << (frame - 1);
	}
	if (!daly_multi_complete(poll, need))
		return BMS_MORE;
	if (cmd == DALY_CELLS) {
		s->ncells = (uint8_t)daly_ncells(poll);
		s->present |= BMS_HAS_CELLS;
	} else {
		s->present |= BMS_HAS_TEMPS;
	}
	return BMS_OK;
}

static int daly_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = frame + 4;
	uint8_t cmd;
	int rc = BMS_OK;

	if (len != DALY_LEN)
		return BMS_E_SHORT;
	if (frame[0] != DALY_START || frame[3] != DALY_DLEN)
		return BMS_E_HEADER;
	if (daly_sum(frame) != frame[12])
		return BMS_E_CHECKSUM;
	/* Another board, an echo, or a late reply to an earlier request. */
	if (poll->step < 0 || poll->step >= DALY_NSTEPS || frame[1] != poll->address)
		return BMS_E_UNEXPECTED;
	cmd = daly_steps[poll->step];
	if (frame[2] != cmd)
		return BMS_E_UNEXPECTED;

	switch (cmd) {
	case DALY_VOLT: {
		/* raw = 30000 + 10 * I with I > 0 discharging on most firmware */
		int raw_cur = bms_be16(d + 4);
		unsigned raw_v = bms_be16(d), raw_soc = bms_be16(d + 6);
		float cur = (float)(DALY_CURRENT_ZERO - raw_cur) / 10.0f;
		s->voltage = (float)raw_v / 10.0f;
		s->current = poll->invert_current ? -cur : cur;
		s->soc = raw_soc > 1000 ? 100.0f : (float)raw_soc / 10.0f;
		s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
		break;
	}
	case DALY_STATE: {
		uint32_t mah = bms_be32(d + 4);
		s->state = d[0] <= 2 ? d[0] : 0;
		s->chg_mos = d[1] != 0;
		s->dsg_mos = d[2] != 0;
		s->remain_ah = (float)mah / 1000.0f;
		s->present |= BMS_HAS_MOSFETS | BMS_HAS_REMAIN;
		break;
	}
	case DALY_INFO:
		if (!poll->cells_forced && d[0] > BMS_LV_MAX_CELLS)
			return BMS_E_RANGE;
		s->ncells = (uint8_t)(poll->cells_forced ? daly_ncells(poll) : d[0]);
		s->ntemps = d[1] < BMS_MAX_TEMPS ? d[1] : BMS_MAX_TEMPS;
		s->cycles = bms_be16(d + 5);
		s->present |= BMS_HAS_CYCLES;
		/* a count beyond BMS_LV_MAX_CELLS (let through when `cells` is
		 * forced) is not kept: 0x94 is then read every poll */
		poll->kept.ncells = d[0] <= BMS_LV_MAX_CELLS ? d[0] : 0;
		poll->kept.ntemps = s->ntemps;
		poll->kept.cycles = s->cycles;
		poll->kept.have |= DALY_KEPT;
		if (d[0] > BMS_LV_MAX_CELLS)
			poll->kept.have &= ~(uint32_t)BMS_HAS_CELLS;
		break;
	case DALY_CELLS:
	case DALY_TEMPS:
		rc = daly_multi(poll, cmd, d);
		break;
	case DALY_BALANCE:
		s->balance = bms_le32(d);
		s->present |= BMS_HAS_BALANCE;
		break;
	case DALY_ALARMS:
		daly_decode_alarms(s, d);
		break;
	default: /* a settings read (§2.11): shown read only */
		daly_settings(&poll->kept.settings, cmd, d);
		BMS_PRIV(poll, struct daly_state)->set_got = true;
		break;
	}

	if (poll->address == 1 && poll->link != BMS_LINK_BLE) {
		if (BMS_PRIV(poll, struct daly_state)->host == DALY_HOST_ALT)
			poll->persist |= DALY_PERSIST_ALT;
		else
			poll->persist &= ~DALY_PERSIST_ALT;
	}
	if (rc == BMS_OK)
		daly_step_done(poll);
	return rc;
}

/* ---- MOSFET control (bms/PROTOCOLS.md §2.8) -----------------------------
 * Not in Daly's published protocol; sniffed from Daly's "PC Master" tool
 * (dreadnought/python-daly-bms#3, jallum/dalymon#2) and sent the same way by
 * python-daly-bms, maland16/daly-bms-uart and Daly2MQTT:
 *	A5 <host> DA 08 <0 off | 1 on> 00 x7 <sum>   charge MOSFET
 *	A5 <host> D9 08 <0 off | 1 on> 00 x7 <sum>   discharge MOSFET
 * The BMS answers from its board number with the same command and D0 =
 * the value written (captured: A5 01 D9 08 01 ...); D1..D7 are left-over
 * bytes.  No refusal frame is known: a D0 that differs is taken as one, and
 * the gateway confirms everything by reading 0x93 (the actual MOSFETs).
 * Over Bluetooth LE the host is 0x80, as for the reads. */
#define DALY_SET_DSG 0xD9
#define DALY_SET_CHG 0xDA

/* The FET of command c that frame number c->step switches, or -1. */
static int daly_ctl_fet(const struct bms_control *c)
{
	int k = 0;
	for (int f = BMS_FET_CHARGE; f <= BMS_FET_DISCHARGE; f++)
		if (c->set[f] && k++ == c->step)
			return f;
	return -1;
}

static int daly_control_request(struct bms_control *c, uint8_t *out, size_t cap)
{
	if (c->address < 1 || c->address > DALY_MAX_BOARD)
		return BMS_E_RANGE;
	int f = daly_ctl_fet(c);
	if (f < 0)
		return 0;
	if (cap < DALY_LEN)
		return BMS_E_NOSPACE;
	uint8_t host = (uint8_t)(DALY_HOST + c->address - 1);
	if (c->link == BMS_LINK_BLE)
		host = DALY_HOST_ALT; /* the Bluetooth host */
	else if (c->address == 1 && (c->persist & DALY_PERSIST_ALT))
		host = DALY_HOST_ALT; /* the board answers there (learned by the polls) */
	memset(out, 0, DALY_LEN);
	out[0] = DALY_START;
	out[1] = host;
	out[2] = f == BMS_FET_CHARGE ? DALY_SET_CHG : DALY_SET_DSG;
	out[3] = DALY_DLEN;
	out[4] = c->on[f] ? 1 : 0;
	out[12] = daly_sum(out);
	return DALY_LEN;
}

static int daly_control_ack(struct bms_control *c, const uint8_t *frame, size_t len)
{
	int f = daly_ctl_fet(c);
	if (len != DALY_LEN || frame[0] != DALY_START || frame[3] != DALY_DLEN)
		return BMS_E_HEADER;
	if (daly_sum(frame) != frame[12])
		return BMS_E_CHECKSUM;
	/* a reply of our board to our command; our own echo never gets here
	 * (scan skips frames from a host address) */
	if (f < 0 || frame[1] != c->address || frame[2] != (f == BMS_FET_CHARGE ? DALY_SET_CHG : DALY_SET_DSG))
		return BMS_E_UNEXPECTED;
	if (frame[4] != (c->on[f] ? 1 : 0))
		return BMS_E_REFUSED;
	c->step++;
	return BMS_OK;
}

static bool daly_timeout(struct bms_poll *poll)
{
	if (poll->step < 0 || poll->step >= DALY_NSTEPS)
		return false;
	if (poll->step >= DALY_FIRST_SET) {
		/* a settings read unanswered (or answered badly): the poll goes
		 * on without it; when none of them was answered yet the BMS does
		 * not know them, and the rest are not asked this poll (§2.11) */
		if (!BMS_PRIV(poll, struct daly_state)->set_got)
			poll->step = DALY_NSTEPS;
		else
			daly_step_done(poll);
		return true;
	}
	uint8_t cmd = daly_steps[poll->step];
	if ((cmd != DALY_CELLS && cmd != DALY_TEMPS) ||
	    !daly_multi_complete(poll, daly_frames_needed(poll, cmd)))
		return false;
	daly_step_done(poll);
	return true;
}

/* Bluetooth LE: Daly's BT dongle, service FFF0, notify FFF1, write FFF2
 * (§14.1). */
static const struct bms_gatt daly_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff2"),
	BMS_GATT_END,
};

/* --ble-scan: service FFF0 (github.com/syssi/esphome-daly-bms), shared
 * with the Modbus-like protocol of Daly's newer boards. */
static const struct bms_ble_hint daly_ble_hints[] = {
	{6, BMS_BLE_SERVICE, NULL, NULL, 0xFFF0, false,
	 "service FFF0 (Daly: daly with the classic dongle, daly-modbus since 2023)"},
	{0},
};

/* ---- settings writes (bms/setwrite.h; bms/PROTOCOLS.md §2.12): SOC only --
 *	A5 <host> 21 08 <yy mm dd hh mi ss> <soc x 10:2> <sum>   -> A5 <board> 21 08 <D0 = 1> ... <sum>
 *	A5 <host> 90 08 00 x8 <sum>   read back  -> A5 <board> 90 08 ... <D6-D7 = SOC x 10> <sum>
 * D0-D5 the local date and time (year - 2000 first), D6-D7 the SOC in
 * 0.1 %: write_soc_and_datetime of dbus-serialbattery's Daly driver
 * (https://github.com/mr-manuel/venus-os_dbus-serialbattery at 358d3c7), which takes
 * D0 == 1 of the answer as success (python-daly-bms @307ed22 set_soc
 * sends zeros for the date; the date keeps the BMS's clock).  The answer
 * comes from the board (byte 1 = board number), so our echo (a host
 * address) never is one; D0 != 1 is a refusal.  No other setting has a
 * public write frame. */
#define DALY_SET_SOC 0x21
enum { DW_WRITE, DW_BACK, DW_DONE };

static uint8_t daly_whost(const struct bms_wchange *c)
{
	if (c->link == BMS_LINK_BLE)
		return DALY_HOST_ALT;
	if (c->address == 1 && (c->persist & DALY_PERSIST_ALT))
		return DALY_HOST_ALT;
	return (uint8_t)(DALY_HOST + c->address - 1);
}

static int daly_wrequest(struct bms_wchange *c, uint8_t *out, size_t cap)
{
	if (c->address < 1 || c->address > DALY_MAX_BOARD || c->key != BMS_W_SOC || c->raw < 0 || c->raw > 1000)
		return BMS_E_RANGE;
	if (c->quit || c->refused || c->step >= DW_DONE)
		return 0;
	if (cap < DALY_LEN)
		return BMS_E_NOSPACE;
	memset(out, 0, DALY_LEN);
	out[0] = DALY_START;
	out[1] = daly_whost(c);
	out[2] = c->step == DW_WRITE ? DALY_SET_SOC : DALY_VOLT;
	out[3] = DALY_DLEN;
	if (c->step == DW_WRITE) {
		c->wrote = true;
		memcpy(out + 4, c->date, 6);
		out[10] = (uint8_t)(c->raw >> 8);
		out[11] = (uint8_t)c->raw;
	}
	out[12] = daly_sum(out);
	return DALY_LEN;
}

static int daly_wanswer(struct bms_wchange *c, const uint8_t *frame, size_t len)
{
	if (len != DALY_LEN || frame[0] != DALY_START || frame[3] != DALY_DLEN)
		return BMS_E_HEADER;
	if (daly_sum(frame) != frame[12])
		return BMS_E_CHECKSUM;
	uint8_t want = c->step == DW_WRITE ? DALY_SET_SOC : c->step == DW_BACK ? DALY_VOLT : 0;
	/* our board's answer to this request (scan skips our echo: a host address) */
	if (!want || frame[1] != c->address || frame[2] != want)
		return BMS_E_UNEXPECTED;
	if (c->step == DW_WRITE && frame[4] != 1) {
		c->refused = true;
		return BMS_E_REFUSED;
	}
	if (c->step == DW_BACK) {
		c->back_raw = bms_be16(frame + 10);
		c->have_back = true;
	}
	c->step++;
	return BMS_OK;
}

static const struct bms_writer daly_writer = {
	.field = { [BMS_W_SOC] = { DALY_SET_SOC, 10, 0, 0, 1000 } },
	.wire = BMS_W_BIT(BMS_W_SOC),
	.ble = BMS_W_BIT(BMS_W_SOC),
	.request = daly_wrequest,
	.answer = daly_wanswer,
};

/* Identification (§27): 0x90 (voltage, current, SOC), a read, at board 1
 * through host 0x40 and then 0x80 (the driver's own alternation). */
static const struct bms_probe daly_probe = {
	.bauds = { 9600 },
	.rank = 4,
	.tries = 2,
	.gap = 0.05,
	.timeout = 0.2, /* an awake Daly answers in 50-80 ms (§2.9) */
};

static const struct bms_ble daly_ble = {
	.gatt = daly_gatt,
	.hints = daly_ble_hints,
};

static const struct bms_control_ops daly_control = {
	.gap_floor = 0.02,
	.request = daly_control_request,
	.ack = daly_control_ack,
};

const struct bms_driver bms_daly_driver = {
	.name = "daly",
	.description = "Daly legacy UART/RS485 protocol (0xA5, 13-byte frames)",
	.vendor = "Daly",
	.protocol_id = 1,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	.default_baud = 9600,
	/* no floor before a read is documented: 3.5 character times (bmsgw
	 * asks only while the wire is silent).  dbus-serialbattery waits 20 ms
	 * of silence before a write, which lost SOC writes without it
	 * (mr-manuel/venus-os_dbus-serialbattery PR #15, bms/PROTOCOLS.md §2.8) */
	.gap_floor = 0,
	.control = &daly_control,
	.writer = &daly_writer,
	.interbyte = 0.2,
	.min_address = 1,
	.max_address = DALY_MAX_BOARD,
	.default_timeout = 1.0,
	.next_request = daly_next_request,
	.scan = daly_scan,
	.handle = daly_handle,
	.timeout = daly_timeout,
	.finish = bms_finish_pack, /* all-zero answers (0 V, -3000 A, 0 cells) are not data: §2.10 */
	.ble = &daly_ble,
	.probe = &daly_probe,
	/* the settings reads 0x50, 0x59, 0x5A, 0x5B, 0x5E, 0x5F, 0x60 (§2.11) */
	.settings = BMS_SET_BIT(BMS_SET_CAPACITY_AH) | BMS_SET_BIT(BMS_SET_CELL_OVP_V) |
		BMS_SET_BIT(BMS_SET_CELL_UVP_V) | BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V) |
		BMS_SET_BIT(BMS_SET_CHARGE_OCP_A) | BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_A) |
		BMS_SET_BIT(BMS_SET_CELL_DIFF_V) | BMS_SET_BIT(BMS_SET_BALANCE_START_V) |
		BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) | BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_A),
};
