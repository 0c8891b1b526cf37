/* SPDX-License-Identifier: MIT */
/* bms/jk_can.c - a JK BMS on its CAN port (JK-B CAN, JK-PB CAN V2), read
 * listen only: the BMS broadcasts, bmsgw never sends a frame (jk-can).
 *
 * See bms/PROTOCOLS.md §40.  250 kbit/s (JK's default; some firmware 500 k:
 * the pack's `bitrate`), little-endian fields, no checksum (the CAN CRC
 * is the controller's).  The BMS at DIP address 0 sends:
 *	0x2F4 (11 bit, 20 ms) BATT_ST1: voltage u16 0.1 V, current u16 0.1 A
 *	      with -400 A offset (+ = charging), SOC u8 %
 *	0x4F4 CELL_VOLT: highest cell u16 mV, its number, lowest u16 mV, its
 *	      number (1-based)
 *	0x5F4 CELL_TEMP: max (degC + 50), its sensor, min, its sensor, avg
 *	0x7F4 ALM_INFO: u32 of 2-bit alarm fields
 *	0x18F128F4 BATT_ST2: remaining u16 0.1 Ah, full u16 0.1 Ah, (u16),
 *	      cycles u16
 *	0x18F228F4 temperatures: count, probe 1, probe 2, MOSFET, probe 3,
 *	      probe 4 (degC + 50; 0 = no probe)
 *	0x18F528F4 switches: b0 charge, b1 discharge, b2 balancing
 *	0x18E028F4 .. 0x18E528F4 (V2 / JK-PB) cells 1-4 ... 21-24, u16 mV
 *	      each (0 = no cell)
 * 0x4F4's highest and lowest cell are the snapshot's extremes where the
 * poll has no cell list (JK-B CAN V1 sends no cell frames, or one missed):
 * no cells are made of them.  0x5F4's two temperatures are the snapshot's
 * temperature extremes, and its sensors only where 0x18F228F4 is not sent.
 * Any other identifier (an inverter's, JK's charge request 0x1806E5F4) is
 * passed over.  The one public capture writes 0x2F4 as candump writes an
 * extended id (000002f4): 0x2F4, 0x5F4 and 0x7F4 are read in either form.
 *
 * The CAN transport hands every frame to scan() as a record; handle()
 * checks a frame (its DLC, its values) and decodes it into the snapshot,
 * poll->seen says which slots arrived.  A poll completes once 0x2F4 and
 * every slot the BMS was heard sending (poll->persist, which only grows)
 * arrived; the first poll, which knows none, takes what arrives until the
 * wait ends (timeout(): a poll with 0x2F4 is used).  A refused frame
 * fails the poll.  Cells count only when every
 * cell frame up to the last one seen arrived in the poll and they add up
 * to the pack's voltage (the last frame missed: no cells that poll).
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

/* The slots, in the order of the bits of poll->seen. */
enum { JC_ST1, JC_TEMP1, JC_ALM, JC_ST2, JC_TEMPS, JC_SW, JC_CELLX, JC_CELL0, JC_NSLOTS = JC_CELL0 + 6 };

#define JC_BIT(k) (1u << (k))
#define JC_NEED JC_BIT(JC_ST1)
#define JC_ALL ((1u << JC_NSLOTS) - 1u)
#define JC_CELLS (JC_ALL & ~(JC_BIT(JC_CELL0) - 1u))

/* The driver's state of a poll: 0x5F4's two temperatures (degC + 50), the
 * sensors only where 0x18F228F4 is not sent; 0x4F4's highest and lowest
 * cell (mV) and their numbers, used only where the poll has no cell list. */
struct jc_state {
	uint8_t t_max, t_min;
	uint16_t max_mv, min_mv;
	uint8_t max_no, min_no;
};

/* The identifiers of the slots (cells: JC_CELL0 + k is 0x18E028F4 + k << 16). */
static const uint32_t jc_ids[JC_CELL0] = { 0x2F4, 0x5F4, 0x7F4, 0x18F128F4, 0x18F228F4, 0x18F528F4, 0x4F4 };
/* The least DLC whose bytes hold the fields read (the real frames are 8). */
static const uint8_t jc_min_dlc[JC_CELL0] = { 5, 5, 4, 8, 4, 1, 6 };

static enum bms_scan jc_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_can_scan(buf, len, n);
}

static int jc_slot(const struct bms_can_msg *m)
{
	if (m->rtr)
		return -1;
	for (int k = 0; k < JC_CELL0; k++)
		if (jc_ids[k] == m->id)
			return k; /* 0x2F4 ... in either form (bms/PROTOCOLS.md §40) */
	if (m->ext && (m->id & 0xFF00FFFFu) == 0x180028F4u && ((m->id >> 16) & 0xFF) >= 0xE0 &&
	    ((m->id >> 16) & 0xFF) <= 0xE5)
		return JC_CELL0 + (int)(((m->id >> 16) & 0xFF) - 0xE0);
	return -1;
}

/* BATT_ST1: voltage, current, SOC. */
static int jc_st1(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned v = bms_le16(d), soc = d[4];
	if (v == 0 || soc > 100)
		return BMS_E_RANGE; /* the battery feeds its BMS: no voltage, no data */
	float cur = (float)bms_le16(d + 2) / 10.0f - 400.0f;
	s->voltage = (float)v / 10.0f;
	s->current = poll->invert_current ? -cur : cur;
	s->soc = (float)soc;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC;
	return BMS_OK;
}

/* BATT_ST2: capacities and cycles. */
static int jc_st2(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned rem = bms_le16(d), full = bms_le16(d + 2);
	if (full == 0 || rem > full)
		return BMS_E_RANGE;
	s->remain_ah = (float)rem / 10.0f;
	s->full_ah = (float)full / 10.0f;
	s->cycles = bms_le16(d + 6);
	s->present |= BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES;
	return BMS_OK;
}

/* The probes of 0x18F228F4 (bytes 1, 2, 4, 5; 0 = none) and its MOSFET
 * sensor (byte 3). */
static void jc_temps(struct bms_poll *poll, const uint8_t *d, uint8_t dlc)
{
	static const uint8_t at[4] = { 1, 2, 4, 5 };
	struct bms_snapshot *s = &poll->snap;
	s->ntemps = 0;
	for (unsigned i = 0; i < 4; i++)
		if (at[i] < dlc && d[at[i]])
			s->temp_c[s->ntemps++] = (float)d[at[i]] - 50.0f;
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	if (d[3]) {
		s->mos_temp_c = (float)d[3] - 50.0f;
		s->present |= BMS_HAS_MOS_TEMP;
	}
}

/* The 2-bit fields of ALM_INFO, lowest first, as mr-manuel's reader of
 * JK's CAN document names them (bms/PROTOCOLS.md §40; a field not 0 raises
 * its alarm; the levels' meaning is not confirmed: no protection is
 * derived from them). */
static const uint32_t jc_alarm_fields[15] = {
	BMS_AL_CELL_OV, BMS_AL_CELL_UV, BMS_AL_PACK_OV, BMS_AL_PACK_UV, BMS_AL_CELL_DIFF,
	BMS_AL_DSG_OC, BMS_AL_CHG_OC, BMS_AL_CHG_OT | BMS_AL_DSG_OT, BMS_AL_CHG_UT | BMS_AL_DSG_UT,
	BMS_AL_OTHER, BMS_AL_SOC_LOW, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_HW_FAULT,
};

static void jc_alarms(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t w = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
	s->alarms = 0;
	for (unsigned k = 0; k < 16; k++)
		if ((w >> (2 * k)) & 3u)
			s->alarms |= k < 15 ? jc_alarm_fields[k] : BMS_AL_OTHER;
	s->raw_alarms[0] = (uint16_t)w;
	s->raw_alarms[1] = (uint16_t)(w >> 16);
	s->nraw = 2;
	s->present |= BMS_HAS_ALARMS;
}

/* CELL_VOLT: the highest and lowest cell, kept for finish(): each 0 (not
 * given) or a cell's voltage, the lowest not above the highest. */
static int jc_cellx(struct bms_poll *poll, const uint8_t *d)
{
	struct jc_state *st = BMS_PRIV(poll, struct jc_state);
	unsigned hi = bms_le16(d), lo = bms_le16(d + 3);
	bool bad_hi = hi && (hi < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV);
	bool bad_lo = lo && (lo < BMS_PLAUSIBLE_MIN_CELL_MV || lo > BMS_PLAUSIBLE_MAX_CELL_MV);
	if (bad_hi || bad_lo || (hi && lo && lo > hi))
		return BMS_E_RANGE;
	st->max_mv = (uint16_t)hi;
	st->max_no = d[2];
	st->min_mv = (uint16_t)lo;
	st->min_no = d[5];
	return BMS_OK;
}

/* One frame of a slot: checked, then decoded into the snapshot. */
static int jc_decode(struct bms_poll *poll, int k, const struct bms_can_msg *m)
{
	struct bms_snapshot *s = &poll->snap;
	const uint8_t *d = m->data;
	if (m->dlc < (k >= JC_CELL0 ? 8 : jc_min_dlc[k]))
		return BMS_E_SHORT;
	if (k >= JC_CELL0) {
		for (int i = 0; i < 4; i++) {
			unsigned mv = bms_le16(d + 2 * i);
			if (mv > 0 && (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV))
				return BMS_E_RANGE; /* checked whole before any is taken */
		}
		for (int i = 0; i < 4; i++)
			s->cell_mv[(k - JC_CELL0) * 4 + i] = bms_le16(d + 2 * i);
		return BMS_OK;
	}
	switch (k) {
	case JC_ST1:
		return jc_st1(poll, d);
	case JC_ST2:
		return jc_st2(poll, d);
	case JC_TEMP1:
		BMS_PRIV(poll, struct jc_state)->t_max = d[0];
		BMS_PRIV(poll, struct jc_state)->t_min = d[2];
		return BMS_OK;
	case JC_TEMPS:
		jc_temps(poll, d, m->dlc);
		return BMS_OK;
	case JC_ALM:
		jc_alarms(poll, d);
		return BMS_OK;
	case JC_CELLX:
		return jc_cellx(poll, d);
	default: /* JC_SW */
		s->chg_mos = d[0] & 1u;
		s->dsg_mos = (d[0] >> 1) & 1u;
		s->balancing = (d[0] >> 2) & 1u;
		s->present |= BMS_HAS_MOSFETS | BMS_HAS_BALANCING;
		return BMS_OK;
	}
}

static int jc_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_can_msg m;
	int rc = bms_can_parse(frame, len, &m);
	if (rc != BMS_OK)
		return rc;
	int k = jc_slot(&m);
	if (k < 0)
		return BMS_E_UNEXPECTED; /* another node of the bus */
	return bms_can_took(poll, k, jc_decode(poll, k, &m), JC_NEED);
}

/* The wait ended (or a frame was refused: the gateway asks the same): a
 * poll whose 0x2F4 arrived and none of whose frames was refused is used. */
static bool jc_timeout(struct bms_poll *poll)
{
	return bms_can_usable(poll, JC_NEED);
}

/* The cells of the cell frames seen: all of them up to the last one seen,
 * else none; the count ends at the first 0 mV (no cell). */
static void jc_cells(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t cells = (poll->seen & JC_CELLS) >> JC_CELL0;
	if (!cells || (cells & (cells + 1u)))
		return; /* none, or one missing below the last */
	int frames = 0;
	while (cells >> frames)
		frames++;
	int n = 0;
	while (n < frames * 4 && s->cell_mv[n])
		n++;
	for (int i = n; i < frames * 4; i++)
		if (s->cell_mv[i])
			return; /* a cell after a missing one: no list */
	if (n == 0)
		return;
	/* the last cell frame missed leaves a list that looks whole: the cells
	 * must add up to the pack (within 3 %, or 0.2 V; one cell of 24 is 4 %) */
	uint32_t sum = 0;
	for (int i = 0; i < n; i++)
		sum += s->cell_mv[i];
	float diff = fabsf((float)sum / 1000.0f - s->voltage), tol = 0.03f * s->voltage;
	if (diff > (tol > 0.2f ? tol : 0.2f))
		return;
	s->ncells = (uint8_t)n;
	s->present |= BMS_HAS_CELLS;
}

static int jc_finish(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	if (bms_can_learn(poll, JC_NEED, JC_ALL) != BMS_OK)
		return BMS_E_INVALID;
	const struct jc_state *st = BMS_PRIV(poll, struct jc_state);
	if (poll->seen & JC_BIT(JC_TEMP1)) {
		bms_set_temp_ext(s, (float)st->t_max - 50.0f, (float)st->t_min - 50.0f);
		if (!(poll->seen & JC_BIT(JC_TEMPS))) {
			s->temp_c[0] = (float)st->t_max - 50.0f;
			s->temp_c[1] = (float)st->t_min - 50.0f;
			s->ntemps = 2;
			s->present |= BMS_HAS_TEMPS;
		}
	}
	jc_cells(poll);
	for (int i = s->ncells; i < BMS_LV_MAX_CELLS; i++)
		s->cell_mv[i] = 0; /* none beyond the list */
	if (!s->ncells && (poll->seen & JC_BIT(JC_CELLX)))
		bms_set_cell_ext(s, st->max_mv, st->max_no, st->min_mv, st->min_no);
	return BMS_OK;
}

static const struct bms_can jc_can = {
	.bitrate = 250000,
	/* 0x2F4, 0x4F4, 0x5F4, 0x7F4 */
	.id = 0x0F4,
	.mask = 0x0FF,
	/* 0x18xx28F4, and 0x2F4 ... as extended ids (the one capture's) */
	.ext_id = 0x000000F4,
	.ext_mask = 0x000000FF,
};

const struct bms_driver bms_jk_can_driver = {
	.name = "jk-can",
	.description = "JK BMS (JK-B CAN, JK-PB CAN V2) on its CAN port, read listen only "
		       "(0x2F4, 0x18F128F4 ...; SocketCAN or an slcan adapter)",
	.vendor = "JK CAN",
	.protocol_id = 32,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCING | BMS_HAS_ALARMS | BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT,
	BMS_CAN_LINK(0, 0),
	/* the cell frames come once a second: a wait that holds one of each */
	.default_timeout = 2.5,
	.listen_only = true,
	.next_request = NULL,
	.scan = jc_scan,
	.handle = jc_handle,
	.timeout = jc_timeout,
	.finish = jc_finish,
	.can = &jc_can,
};
