/* SPDX-License-Identifier: MIT */
/* bms/ubms_can.c - a Valence U-BMS with U27-12XP modules (four LiFePO4
 * cells each) on its CAN port, read listen only: bmsgw never sends a frame,
 * not even the VMU's mode command 0x440 (ubms-can).
 *
 * See bms/PROTOCOLS.md §71.  250 kbit/s, 11-bit identifiers; the layouts
 * are gimx/dbus_ubms's (its decoder and service), its candumps of a
 * real U-BMS the unit test's frames.  The U-BMS sends, in bursts about
 * every 0.55 s (the cells of three modules a burst):
 *	0x0C0 SOC %, mode (bits 0-1: 0 standby, 1 charge, 2 drive; bit 4
 *	      balancing; bits 5-6 low temperature), alarms (voltage and cell
 *	      temperature), internal errors, alarms (current and PCB
 *	      temperature), modules communicating, modules balancing,
 *	      shutdown reason
 *	0x0C1 pack voltage (whole volts: Valence's "Rev 2 UBMS CAN spec"
 *	      v0.6, 1 V a count unless the U-BMS is configured coarser for a
 *	      higher voltage), current u16 (bytes 1-2) 1 A with a 32768
 *	      offset, in drive mode the discharge limit u16 0.1 A (bytes 3-4)
 *	      and the charge limit 0.1 A (bytes 5 and 7)
 *	0x0C4 highest and lowest cell temperature, the highest PCB
 *	      temperature (degC + 40; bytes 0, 1, 3), highest and lowest cell
 *	      u16 mV
 *	0x350 + 2 (m - 1), 0x351 + 2 (m - 1): module m's cells 1-3 and 4,
 *	      big-endian u16 mV from byte 2
 * The pack's cells are the modules' in series, modules 1 to S one string
 * (as dbus_ubms asks of a bank of parallel strings); the voltage is their
 * sum.  S is `cells = N` / 4 where set, else what the BMS's own pack
 * voltage tells: 0x0C1's whole volts over module 1's voltage, rounded (a
 * 12 V battery of eight modules in parallel says 13 V: one module in
 * series, four cells; never the module count alone, which cannot tell
 * parallel from series).  A voltage that tells no whole count (more than
 * 1.5 V or 5 % from S modules), none, more modules than communicate or
 * more than eight (the 32 cells of a snapshot) refuses the poll, as does a
 * string whose sum is not the voltage within as much.  A U-BMS configured
 * for more than 1 V a count (gimx's bank: 13 for 26.6 V) needs `cells`.
 * The pack's highest and lowest cell are 0x0C4's, or a module's cell heard
 * beyond them (in the string or in parallel), as the BMS's own extremes
 * beside the list (ub_extremes()).  A poll is whole once 0x0C0, 0x0C1, 0x0C4 and both cell frames of each
 * module of the string arrived (0x0C1 is read with the mode of the poll's
 * 0x0C0, which comes after it).  A refused frame fails the poll.  Any
 * other identifier (the module frames 0x06A, 0x46A, 0x76A ..., 0x180,
 * 0x184, 0x188, a VMU's 0x440) is passed over.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define UB_MODULES 16  /* 0x350 ... 0x36F */
#define UB_SERIES (BMS_LV_MAX_CELLS / 4) /* the most modules in series bmsgw lists */
#define UB_CELLS 4     /* a U27-12XP */
#define UB_T_OFF 40
#define UB_I_ZERO 32768u
#define UB_FIT_MV 1500u /* 0x0C1's whole volts against S modules: 1.5 V, or 5 % */

/* poll->seen: the three status frames; the cell frames in the state. */
enum { UB_C0, UB_C1, UB_C4 };
#define UB_NEED ((1u << UB_C0) | (1u << UB_C1) | (1u << UB_C4))
#define UB_TOLD ((1u << UB_C0) | (1u << UB_C1)) /* the modules and the pack voltage */

/* The driver's state of a poll: which of each module's two cell frames
 * arrived (bit 2m the first, 2m + 1 the second; the cells go into the
 * snapshot's list), 0x0C1 kept for the mode of the 0x0C0 after it, the
 * modules communicating. */
struct ub_state {
	uint32_t halves;
	uint16_t all_lo, all_hi; /* every module's cells heard, in the string or not (0: none) */
	uint8_t modules;
	uint8_t mode;
	uint8_t c1[8];
};

static enum bms_scan ub_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_can_scan(buf, len, n);
}

/* 0x0C1's whole volts (mV) within UB_FIT_MV or 5 % of string_mv. */
static bool ub_fits(unsigned volts_mv, unsigned string_mv)
{
	unsigned d = volts_mv > string_mv ? volts_mv - string_mv : string_mv - volts_mv;
	return d <= UB_FIT_MV || d * 20u <= string_mv;
}

/* The modules in series the pack voltage tells: 0x0C1's volts over module
 * 1's, rounded; 0 until 0x0C0, 0x0C1 and module 1's cells arrived; -1 for
 * a voltage that tells no count the U-BMS can have. */
static int ub_told(const struct bms_poll *poll)
{
	const struct ub_state *st = BMS_PRIV(poll, struct ub_state);
	if ((poll->seen & UB_TOLD) != UB_TOLD || (st->halves & 3u) != 3u)
		return 0;
	unsigned m1 = 0, v = st->c1[0] * 1000u;
	for (unsigned i = 0; i < UB_CELLS; i++)
		m1 += poll->snap.cell_mv[i]; /* each 500..5000 mV */
	unsigned n = (v + m1 / 2u) / m1;
	if (n == 0 || n > st->modules || n > UB_SERIES || !ub_fits(v, n * m1))
		return -1;
	return (int)n;
}

/* The modules in series this poll reads: `cells` / 4, else what the pack
 * voltage tells (0 until it does, or when it tells none). */
static unsigned ub_series(const struct bms_poll *poll)
{
	if (poll->cells_forced) {
		unsigned n = (poll->cells_forced + UB_CELLS - 1u) / UB_CELLS;
		return n > UB_SERIES ? UB_SERIES : n;
	}
	int n = ub_told(poll);
	return n > 0 ? (unsigned)n : 0;
}

static bool ub_whole(const struct bms_poll *poll)
{
	unsigned n = ub_series(poll);
	uint32_t want = (1u << (2u * n)) - 1u; /* n <= 8 */
	return (poll->seen & UB_NEED) == UB_NEED && n && (BMS_PRIV(poll, struct ub_state)->halves & want) == want;
}

/* 0x0C0: SOC, mode, alarms, modules. */
static int ub_c0(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	struct ub_state *st = BMS_PRIV(poll, struct ub_state);
	if (d[0] > 100 || d[5] == 0 || d[5] > UB_MODULES)
		return BMS_E_RANGE;
	s->soc = d[0];
	st->mode = d[1];
	st->modules = d[5];
	uint32_t al = 0;
	al |= (d[2] & 0x08u) ? BMS_AL_SOC_LOW : 0;
	al |= (d[2] & 0x10u) ? BMS_AL_PACK_UV : 0;
	al |= (d[2] & 0x20u) ? BMS_AL_PACK_OV : 0;
	al |= (d[2] & 0x06u) ? BMS_AL_CHG_OT | BMS_AL_DSG_OT : 0;
	al |= (d[1] & 0x60u) ? BMS_AL_CHG_UT | BMS_AL_DSG_UT : 0;
	al |= (d[4] & 0x03u) ? BMS_AL_DSG_OC : 0;
	al |= (d[4] & 0x18u) ? BMS_AL_MOS_OT : 0;
	al |= ((d[2] & 0x01u) || (d[3] & 0x02u)) ? BMS_AL_COMM : 0; /* modules missing or too many */
	al |= (d[3] & ~0x02u) || d[7] ? BMS_AL_OTHER : 0; /* another internal error, a shutdown reason */
	s->alarms = al;
	s->raw_alarms[0] = (uint16_t)(d[2] | d[3] << 8);
	s->raw_alarms[1] = (uint16_t)(d[4] | d[1] << 8);
	s->raw_alarms[2] = d[7];
	s->nraw = 3;
	s->balancing = (d[1] & 0x10u) != 0;
	s->present |= BMS_HAS_SOC | BMS_HAS_ALARMS | BMS_HAS_BALANCING;
	return BMS_OK;
}

/* 0x0C4: temperatures (kept as the highest and lowest), the BMS's own
 * highest and lowest cell. */
static int ub_c4(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned hi = bms_le16(d + 4), lo = bms_le16(d + 6);
	if (d[0] < d[1] || hi < lo || lo < BMS_PLAUSIBLE_MIN_CELL_MV || hi > BMS_PLAUSIBLE_MAX_CELL_MV)
		return BMS_E_RANGE;
	s->temp_c[0] = (float)d[0] - UB_T_OFF;
	s->temp_c[1] = (float)d[1] - UB_T_OFF;
	s->ntemps = 2;
	bms_set_temp_ext(s, s->temp_c[0], s->temp_c[1]);
	s->mos_temp_c = (float)d[3] - UB_T_OFF;
	bms_set_cell_ext(s, hi, 0, lo, 0);
	s->present |= BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP;
	return BMS_OK;
}

/* A cell frame: module m's cells 1-3 (first) or 4 (second), each checked
 * before any is kept (a module beyond the 32 cells listed: checked only). */
static int ub_cells(struct bms_poll *poll, unsigned m, bool second, const struct bms_can_msg *msg)
{
	struct ub_state *st = BMS_PRIV(poll, struct ub_state);
	unsigned n = second ? 1u : 3u;
	if (msg->dlc < 2u + 2u * n)
		return BMS_E_SHORT;
	for (unsigned i = 0; i < n; i++) {
		unsigned mv = bms_be16(msg->data + 2 + 2 * i);
		if (mv < BMS_PLAUSIBLE_MIN_CELL_MV || mv > BMS_PLAUSIBLE_MAX_CELL_MV)
			return BMS_E_RANGE;
	}
	for (unsigned i = 0; i < n; i++) {
		uint16_t mv = bms_be16(msg->data + 2 + 2 * i);
		st->all_lo = !st->all_lo || mv < st->all_lo ? mv : st->all_lo;
		st->all_hi = mv > st->all_hi ? mv : st->all_hi;
	}
	if (m >= UB_SERIES)
		return BMS_OK;
	for (unsigned i = 0; i < n; i++)
		poll->snap.cell_mv[m * UB_CELLS + (second ? 3u : 0u) + i] = bms_be16(msg->data + 2 + 2 * i);
	st->halves |= 1u << (2u * m + (second ? 1u : 0u));
	return BMS_OK;
}

static int ub_frame(struct bms_poll *poll, const struct bms_can_msg *m)
{
	static const uint8_t min_dlc[3] = { 8, 5, 8 };
	int k = m->id == 0x0C0 ? UB_C0 : m->id == 0x0C1 ? UB_C1 : UB_C4;
	if (m->dlc < min_dlc[k])
		return BMS_E_SHORT;
	poll->seen |= 1u << k;
	if (k == UB_C1) {
		memcpy(BMS_PRIV(poll, struct ub_state)->c1, m->data, 8);
		return BMS_OK;
	}
	return k == UB_C0 ? ub_c0(poll, m->data) : ub_c4(poll, m->data);
}

static int ub_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_can_msg m;
	int rc = bms_can_parse(frame, len, &m);
	if (rc != BMS_OK)
		return rc;
	if (m.ext || m.rtr)
		return BMS_E_UNEXPECTED;
	if (m.id == 0x0C0 || m.id == 0x0C1 || m.id == 0x0C4)
		rc = ub_frame(poll, &m);
	else if (m.id >= 0x350 && m.id < 0x350 + 2 * UB_MODULES)
		rc = ub_cells(poll, (m.id - 0x350) / 2, (m.id & 1u) != 0, &m);
	else
		return BMS_E_UNEXPECTED; /* another frame of the U-BMS, another node's */
	if (rc == BMS_OK && !poll->cells_forced && ub_told(poll) < 0)
		rc = BMS_E_RANGE; /* a pack voltage that tells no string */
	if (rc != BMS_OK) {
		poll->seen |= BMS_CAN_REFUSED;
		return rc;
	}
	poll->sub++;
	return ub_whole(poll) ? BMS_OK : BMS_MORE;
}

/* The wait ended: a poll is used only whole and with no frame refused. */
static bool ub_timeout(struct bms_poll *poll)
{
	return ub_whole(poll) && !(poll->seen & BMS_CAN_REFUSED);
}

/* 0x0C1 with the poll's mode: the current, the limits in drive mode. */
static int ub_c1(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct ub_state *st = BMS_PRIV(poll, struct ub_state);
	float cur = (float)((int)bms_le16(st->c1 + 1) - (int)UB_I_ZERO);
	if (cur > BMS_PLAUSIBLE_MAX_A || cur < -BMS_PLAUSIBLE_MAX_A)
		return BMS_E_RANGE;
	s->current = poll->invert_current ? -cur : cur;
	s->present |= BMS_HAS_CURRENT;
	if ((st->mode & 0x03u) != 2)
		return BMS_OK;
	float ccl = (float)(st->c1[5] | st->c1[7] << 8) / 10.0f, dcl = (float)bms_le16(st->c1 + 3) / 10.0f;
	if (ccl > BMS_PLAUSIBLE_MAX_A || dcl > BMS_PLAUSIBLE_MAX_A)
		return BMS_E_RANGE;
	bms_set_cur_limits(poll, ccl, dcl, false);
	return BMS_OK;
}

/* The pack's highest and lowest cell: 0x0C4's (the U-BMS's own over every
 * module) or a module's cell heard beyond them, in the string or in a
 * string in parallel, which the list leaves out (bms_cell_stats() widens
 * the list's extremes by them: a low cell of module 5 is never hidden). */
static void ub_extremes(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	const struct ub_state *st = BMS_PRIV(poll, struct ub_state);
	unsigned hi = s->ext_max_mv, lo = s->ext_min_mv; /* 0x0C4's: a whole poll has it */
	if (st->all_hi > hi)
		hi = st->all_hi;
	if (st->all_lo && st->all_lo < lo)
		lo = st->all_lo;
	bms_set_cell_ext(s, hi, 0, lo, 0);
}

static int ub_finish(struct bms_poll *poll)
{
	struct bms_snapshot *s = &poll->snap;
	if (!ub_timeout(poll) || ub_c1(poll) != BMS_OK)
		return BMS_E_INVALID;
	unsigned n = ub_series(poll) * UB_CELLS;
	if (poll->cells_forced && poll->cells_forced < n)
		n = poll->cells_forced;
	uint32_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += s->cell_mv[i];
	if (!poll->cells_forced && !ub_fits(BMS_PRIV(poll, struct ub_state)->c1[0] * 1000u, sum))
		return BMS_E_INVALID; /* the string is not the pack the voltage says */
	for (unsigned i = n; i < BMS_LV_MAX_CELLS; i++)
		s->cell_mv[i] = 0; /* none beyond the string */
	ub_extremes(poll);
	s->ncells = (uint8_t)n;
	s->voltage = (float)sum / 1000.0f;
	s->present |= BMS_HAS_CELLS | BMS_HAS_VOLTAGE;
	return BMS_OK;
}

static const struct bms_can ub_can = {
	.bitrate = 250000,
	/* 0x0C0 ... 0x0CF and 0x350 ... 0x36F share bit 6: the filter passes
	 * them (and the other ids with it, which handle() passes over) */
	.id = 0x040,
	.mask = 0x040,
};

const struct bms_driver bms_ubms_can_driver = {
	.name = "ubms-can",
	.description = "Valence U-BMS with U27-12XP modules on its CAN port, read listen only "
		       "(0x0C0, 0x0C1, 0x0C4, the modules' cells 0x350 ...)",
	.vendor = "Valence",
	.protocol_id = 60,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_BALANCING | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS | BMS_HAS_CELL_EXT |
		BMS_HAS_TEMP_EXT,
	BMS_CAN_LINK(0, 0),
	/* the cells of all modules come in three bursts, about 1.7 s */
	.default_timeout = 3.0,
	.listen_only = true,
	.scan = ub_scan,
	.handle = ub_handle,
	.timeout = ub_timeout,
	.finish = ub_finish,
	.can = &ub_can,
};
