/* SPDX-License-Identifier: MIT */
/* bms/jbd_up.c - JBD UP16S packs and the Eco-Worthy 48 V racks built on
 * them, over RS485 / RS232 (FC 0x78 reads).
 *
 * See bms/PROTOCOLS.md §44.  9600 8N1.  A request and an answer have one
 * shape:
 *	addr fc start(u16) end(u16) len(u16) data[len] crc(u16 LE)
 * (big-endian numbers, CRC-16/MODBUS over everything before it, low byte
 * first); a read request has len 0 (10 bytes), its answer echoes addr, fc,
 * start and end and carries the data.  A poll is:
 *	STATUS	0x78 0x1000..0x10A0 -> the pack's status (voltage, current,
 *		SOC, capacities, temperatures, alarms, MOSFETs, cells,
 *		sensors, balancing);
 *	IDENT	0x78 0x1C00..0x1CA0 -> serial, model code, pack name and the
 *		balancing settings: while the identity is not known (first poll
 *		of a link) or when the settings are due; not answered for a
 *		pack behind the master (UP16S-10): skipped, the poll completes;
 *	PROT	0x78 0x1800..0x1900 -> the protection parameters (the BMS's
 *		own settings, §44.6): only in a poll marked settings_due, after
 *		IDENT; unanswered, refused or broken: the poll completes without
 *		them (and IDENT left unanswered ends the poll before it).
 * The master of a rack answers the requests to its slaves' addresses for
 * them (at least 0x1000), so a rack is one port and one pack section per
 * address.  Nothing else is ever sent: FC 0x79 (writes: MOSFETs, SOC,
 * dry contacts, sleep) and FC 0x45 are not used.
 *
 * Raw alarm words: raw_alarms[0..1] = the level-2 protection bits (data
 * 24, u32: low, high half), raw_alarms[2..3] = the level-1 alarm bits
 * (data 28).
 *
 * Progress: step (enum below); priv: the firmware word of the status.
 */
#include "bms.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers.h"

#define UP_FC_READ 0x78
#define UP_FC_SLAVE 0x45        /* "read slave data" (answers are framed, never asked) */
#define UP_HEAD 8               /* addr fc start end len */
#define UP_OVER 10              /* ... and the CRC */
#define UP_MAX_DATA 512         /* the longest block is 208 bytes (0x1800) */
#define UP_MIN_ADR 1
#define UP_MAX_ADR 15
#define UP_STATUS_START 0x1000
#define UP_STATUS_END 0x10A0
#define UP_IDENT_START 0x1C00
#define UP_IDENT_END 0x1CA0
#define UP_PROT_START 0x1800
#define UP_PROT_END 0x1900

/* 0x1000 data offsets (§44.3) */
#define UP_ST_FIXED 68          /* up to the cell count and its first cell */
#define UP_ST_NCELLS 66
#define UP_CURRENT_ZERO 300000u /* current = (raw - 300000) x 0.01 A, + = charging */
#define UP_TEMP_ZERO 500        /* temperature = (raw - 500) x 0.1 degC */
#define UP_MAX_SENSORS 32
#define UP_MODEL_LEN 30
/* 0x1C00 data offsets (§44.4) */
#define UP_ID_SERIAL 16
#define UP_ID_CODE 52
#define UP_ID_NAME 88
#define UP_ID_TEXT 30
#define UP_ID_MIN (UP_ID_NAME + UP_ID_TEXT)
#define UP_ID_BAL_START 4       /* balancing start, mV */
#define UP_ID_BAL_DELTA 6       /* balancing cell difference, mV */
/* 0x1800 data (§44.6): the protections' entries, each trigger, release,
 * delay (ms); the last that is read ends at 136 */
#define UP_PR_MIN 136

enum { UP_STATUS = 0, UP_IDENT, UP_PROT, UP_DONE };

struct up_state {
	uint16_t firmware;      /* the status's firmware word (hi.lo) */
	bool have_fw;
};

/* Level-2 protections (words 0, 1 = data 24, u32) and level-1 alarms
 * (words 2, 3 = data 28), §44.5. */
#define P BMS_AL_PROTECTION
#define L2(bit, al) { (uint8_t)((bit) / 16), (uint8_t)((bit) % 16), (al) | P }
#define L1(bit, al) { (uint8_t)(2 + (bit) / 16), (uint8_t)((bit) % 16), (al) }
static const struct bms_alarm_rule up_rules[] = {
	L2(0, BMS_AL_CELL_OV), L2(1, BMS_AL_CELL_UV), L2(2, BMS_AL_PACK_OV), L2(3, BMS_AL_PACK_UV),
	L2(4, BMS_AL_CHG_OC), L2(5, BMS_AL_CHG_OC), L2(6, BMS_AL_DSG_OC), L2(7, BMS_AL_DSG_OC),
	L2(8, BMS_AL_CHG_OT), L2(9, BMS_AL_CHG_UT), L2(10, BMS_AL_DSG_OT), L2(11, BMS_AL_DSG_UT),
	L2(12, BMS_AL_MOS_OT), L2(13, BMS_AL_OTHER), L2(14, BMS_AL_OTHER), L2(15, BMS_AL_CELL_DIFF),
	L2(16, BMS_AL_TEMP_DIFF), L2(17, BMS_AL_SOC_LOW), L2(18, BMS_AL_SHORT), L2(19, BMS_AL_HW_FAULT),
	L2(20, BMS_AL_SENSOR), L2(21, BMS_AL_MOS_FAULT), L2(22, BMS_AL_MOS_FAULT), L2(23, BMS_AL_OTHER),
	L2(24, BMS_AL_OTHER), L2(25, BMS_AL_SOC_HIGH), L2(26, BMS_AL_COMM), L2(27, BMS_AL_OTHER),
	L1(0, BMS_AL_CELL_OV), L1(1, BMS_AL_CELL_UV), L1(2, BMS_AL_PACK_OV), L1(3, BMS_AL_PACK_UV),
	L1(4, BMS_AL_CHG_OC), L1(5, BMS_AL_DSG_OC), L1(6, BMS_AL_CHG_OT), L1(7, BMS_AL_CHG_UT),
	L1(8, BMS_AL_DSG_OT), L1(9, BMS_AL_DSG_UT), L1(10, BMS_AL_MOS_OT), L1(11, BMS_AL_OTHER),
	L1(12, BMS_AL_OTHER), L1(13, BMS_AL_CELL_DIFF), L1(14, BMS_AL_TEMP_DIFF), L1(15, BMS_AL_SOC_LOW),
	L1(16, BMS_AL_HW_FAULT), L1(17, BMS_AL_HW_FAULT), L1(18, BMS_AL_SOC_HIGH),
};
#undef L1
#undef L2
#undef P

/* ---- requests ------------------------------------------------------------ */

/* The step this poll asks now: IDENT while the identity is due or the
 * settings are, PROT only when they are. */
static int up_step(const struct bms_poll *poll)
{
	int step = poll->step;
	if (step == UP_IDENT && !bms_ident_due(poll) && !poll->settings_due)
		step = UP_PROT;
	if (step == UP_PROT && !poll->settings_due)
		step = UP_DONE;
	return step;
}

static const uint16_t up_block[UP_DONE][2] = {
	[UP_STATUS] = { UP_STATUS_START, UP_STATUS_END },
	[UP_IDENT] = { UP_IDENT_START, UP_IDENT_END },
	[UP_PROT] = { UP_PROT_START, UP_PROT_END },
};

static int up_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->address < UP_MIN_ADR || poll->address > UP_MAX_ADR || poll->step < 0)
		return BMS_E_RANGE;
	int step = up_step(poll);
	if (step >= UP_DONE)
		return 0;
	if (cap < UP_OVER)
		return BMS_E_NOSPACE;
	out[0] = poll->address;
	out[1] = UP_FC_READ;
	out[2] = (uint8_t)(up_block[step][0] >> 8);
	out[3] = (uint8_t)up_block[step][0];
	out[4] = (uint8_t)(up_block[step][1] >> 8);
	out[5] = (uint8_t)up_block[step][1];
	out[6] = 0;
	out[7] = 0;
	uint16_t crc = bms_crc16_modbus(out, UP_HEAD);
	out[8] = (uint8_t)crc;
	out[9] = (uint8_t)(crc >> 8);
	return UP_OVER;
}

/* ---- the framer ---------------------------------------------------------- */

static bool up_start(const uint8_t *buf, size_t len)
{
	if (buf[0] < UP_MIN_ADR || buf[0] > UP_MAX_ADR)
		return false;
	return len < 2 || buf[1] == UP_FC_READ || buf[1] == UP_FC_SLAVE;
}

/* a header whose start register comes after its end cannot be one */
static bool up_range_ok(const uint8_t *head)
{
	return bms_be16(head + 2) <= bms_be16(head + 4);
}

/* addr fc start end len data crc: len + 10 bytes.  A byte that starts no
 * frame (an address out of the range, then a function code bmsgw reads) is
 * skipped up to the next that may; a length beyond any block, or a start
 * after the end, skips the first byte; a bad CRC skips the first byte
 * (BADSUM); a request (len 0: our own echoed) is skipped whole. */
static enum bms_scan up_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (!up_start(buf, len)) {
		size_t i = 1;
		while (i < len && !up_start(buf + i, len - i))
			i++;
		*n = i;
		return BMS_SCAN_SKIP;
	}
	static const struct bms_lenword lw = { UP_HEAD, 6, UP_MAX_DATA, UP_OVER, up_range_ok };
	enum bms_scan r;
	size_t want;
	if (!bms_scan_lenword(&lw, buf, len, &want, &r, n))
		return r;
	return bms_scan_tail(bms_crc16_modbus_ok(buf, want), want > UP_OVER, want, n);
}

/* ---- the decoder --------------------------------------------------------- */

static float up_temp(uint16_t raw)
{
	return (float)((int)raw - UP_TEMP_ZERO) / 10.0f;
}

/* data 0..65: the fixed part */
static void up_fixed(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	s->voltage = (float)bms_be16(d) / 100.0f;
	s->current = (float)((double)bms_be32(d + 4) - UP_CURRENT_ZERO) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->soc = (float)bms_be16(d + 8) / 100.0f;
	s->remain_ah = (float)bms_be16(d + 10) / 100.0f;
	s->full_ah = (float)bms_be16(d + 12) / 100.0f;
	s->mos_temp_c = up_temp(bms_be16(d + 16));
	uint16_t op = bms_be16(d + 20);
	s->state = op <= 2 ? (uint8_t)op : 0;
	s->soh = bms_be16(d + 22);
	uint16_t w[4] = { bms_be16(d + 26), bms_be16(d + 24), bms_be16(d + 30), bms_be16(d + 28) };
	memcpy(s->raw_alarms, w, sizeof(w));
	s->nraw = 4;
	s->alarms = bms_alarm_map(w, 4, up_rules, sizeof(up_rules) / sizeof(up_rules[0]));
	uint16_t mos = bms_be16(d + 32);
	s->dsg_mos = (mos & 0x01) != 0;
	s->chg_mos = (mos & 0x02) != 0;
	s->cycles = bms_be16(d + 36);
	float cvl = (float)bms_be16(d + 58) / 10.0f, dvl = (float)bms_be16(d + 62) / 10.0f;
	if (cvl > 0) { /* 0: none sent; a discharge limit not under it: none usable */
		s->bms_cvl_v = cvl;
		s->bms_dvl_v = dvl > 0 && dvl < cvl ? dvl : NAN;
		s->present |= BMS_HAS_VOLT_LIMITS;
	}
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_FULL |
		      BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_CYCLES;
}

/* 0x1000: the fixed part, n cells at 68, the sensor count m and m sensors,
 * then (where the answer goes on) a word, the balancing bits, the firmware
 * word and the model text.  Every count is checked against the length. */
static int up_status(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	if (n < UP_ST_FIXED)
		return BMS_E_SHORT;
	unsigned nc = bms_be16(d + UP_ST_NCELLS);
	if (nc == 0 || nc > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;
	size_t o = UP_ST_FIXED + 2u * nc;
	if (n < o + 2)
		return BMS_E_SHORT;
	unsigned nt = bms_be16(d + o);
	if (nt > UP_MAX_SENSORS)
		return BMS_E_RANGE;
	if (n < o + 2 + 2u * nt)
		return BMS_E_SHORT;
	up_fixed(poll, d);
	unsigned keep = poll->cells_forced && poll->cells_forced < nc ? poll->cells_forced : nc;
	for (unsigned i = 0; i < keep; i++)
		s->cell_mv[i] = bms_be16(d + UP_ST_FIXED + 2 * i);
	s->ncells = (uint8_t)keep;
	unsigned k = 0;
	for (unsigned i = 0; i < nt && k < BMS_MAX_TEMPS - 1; i++)
		s->temp_c[k++] = up_temp(bms_be16(d + o + 2 + 2 * i));
	s->temp_c[k++] = up_temp(bms_be16(d + 18)); /* the ambient sensor, last */
	s->ntemps = (uint8_t)k;
	s->present |= BMS_HAS_CELLS | BMS_HAS_TEMPS;
	o += 2 + 2u * nt;
	if (n >= o + 4) {
		s->balance = bms_be16(d + o + 2);
		s->present |= BMS_HAS_BALANCE;
	}
	if (n >= o + 6) {
		struct up_state *st = BMS_PRIV(poll, struct up_state);
		st->firmware = bms_be16(d + o + 4);
		st->have_fw = true;
	}
	return BMS_OK;
}

/* 0x1C00: BMS serial at 16, model code at 52, pack name at 88 (30 bytes
 * each, NUL-padded), §44.4. */
static int up_ident(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	if (n < UP_ID_MIN)
		return BMS_E_SHORT;
	struct bms_ident *id = &poll->kept.ident;
	const struct up_state *st = BMS_PRIV(poll, struct up_state);
	memset(id, 0, sizeof(*id));
	bms_ident_text(id->vendor, sizeof(id->vendor), (const uint8_t *)"JBD", 3);
	bms_ident_text(id->model, sizeof(id->model), d + UP_ID_CODE, UP_ID_TEXT);
	bms_ident_text(id->serial, sizeof(id->serial), d + UP_ID_SERIAL, UP_ID_TEXT);
	bms_ident_text(id->pack_serial, sizeof(id->pack_serial), d + UP_ID_NAME, UP_ID_TEXT);
	if (st->have_fw)
		snprintf(id->firmware, sizeof(id->firmware), "%u.%u", (unsigned)(st->firmware >> 8),
			 (unsigned)(st->firmware & 0xFF));
	poll->kept.ident_state = BMS_IDENT_HAVE;
	/* the balancing settings at 4 and 6 (mV), §44.6 */
	bms_settings_put_raw(&poll->kept.settings, BMS_SET_BALANCE_START_V, bms_be16(d + UP_ID_BAL_START), 1000,
			     5000, 1000.0);
	bms_settings_put_raw(&poll->kept.settings, BMS_SET_BALANCE_DELTA_V, bms_be16(d + UP_ID_BAL_DELTA), 1, 1000,
			     1000.0);
	return BMS_OK;
}

/* ---- the protection parameters 0x1800 (§44.6) ---------------------------- */

/* The words read of 0x1800: data offset, key, kind (scale and range).  Each
 * protection is a run of trigger, release, delay (ms); a current
 * protection's is trigger (0.1 A), delay (ms).  A raw value outside its
 * field's range leaves its key absent. */
enum { UP_PK_CELL, UP_PK_PACK, UP_PK_AMP, UP_PK_MS, UP_PK_TEMP };

static const struct {
	uint8_t off, key, kind;
} up_prots[] = {
	{ 6, BMS_SET_CELL_OVP_V, UP_PK_CELL },
	{ 8, BMS_SET_CELL_OVP_RELEASE_V, UP_PK_CELL },
	{ 10, BMS_SET_CELL_OVP_DELAY_S, UP_PK_MS },
	{ 18, BMS_SET_CELL_UVP_V, UP_PK_CELL },
	{ 20, BMS_SET_CELL_UVP_RELEASE_V, UP_PK_CELL },
	{ 22, BMS_SET_CELL_UVP_DELAY_S, UP_PK_MS },
	{ 30, BMS_SET_PACK_OVP_V, UP_PK_PACK },
	{ 42, BMS_SET_PACK_UVP_V, UP_PK_PACK },
	{ 54, BMS_SET_CHARGE_OCP_A, UP_PK_AMP },
	{ 56, BMS_SET_CHARGE_OCP_DELAY_S, UP_PK_MS },
	{ 74, BMS_SET_DISCHARGE_OCP_A, UP_PK_AMP },
	{ 76, BMS_SET_DISCHARGE_OCP_DELAY_S, UP_PK_MS },
	{ 94, BMS_SET_CHARGE_OTP_C, UP_PK_TEMP },
	{ 96, BMS_SET_CHARGE_OTP_RELEASE_C, UP_PK_TEMP },
	{ 106, BMS_SET_CHARGE_UTP_C, UP_PK_TEMP },
	{ 108, BMS_SET_CHARGE_UTP_RELEASE_C, UP_PK_TEMP },
	{ 118, BMS_SET_DISCHARGE_OTP_C, UP_PK_TEMP },
	{ 120, BMS_SET_DISCHARGE_OTP_RELEASE_C, UP_PK_TEMP },
	{ 130, BMS_SET_DISCHARGE_UTP_C, UP_PK_TEMP },
	{ 132, BMS_SET_DISCHARGE_UTP_RELEASE_C, UP_PK_TEMP },
};

/* kind -> the raw range and the divisor (a temperature: of raw - 500) */
static const struct {
	int32_t lo, hi;
	double div;
} up_pk[] = {
	[UP_PK_CELL] = { 1000, 5000, 1000.0 },   /* mV */
	[UP_PK_PACK] = { 100, 65535, 100.0 },    /* 0.01 V */
	[UP_PK_AMP] = { 1, 65535, 10.0 },        /* 0.1 A */
	[UP_PK_MS] = { 0, 60000, 1000.0 },       /* ms */
	[UP_PK_TEMP] = { -400, 1200, 10.0 },     /* -40 .. 120 degC */
};

/* 0x1800: at least the 136 bytes up to the last protection read (208 in
 * UP16S-03). */
static int up_prot(struct bms_poll *poll, const uint8_t *d, size_t n)
{
	if (n < UP_PR_MIN)
		return BMS_E_SHORT;
	for (size_t i = 0; i < sizeof(up_prots) / sizeof(up_prots[0]); i++) {
		unsigned kind = up_prots[i].kind;
		int64_t raw = (int64_t)bms_be16(d + up_prots[i].off) - (kind == UP_PK_TEMP ? UP_TEMP_ZERO : 0);
		bms_settings_put_raw(&poll->kept.settings, (enum bms_set_key)up_prots[i].key, raw, up_pk[kind].lo,
				     up_pk[kind].hi, up_pk[kind].div);
	}
	return BMS_OK;
}

static int up_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < UP_OVER || len != (size_t)bms_be16(frame + 6) + UP_OVER)
		return BMS_E_SHORT;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	int step = up_step(poll);
	if (step < UP_STATUS || step >= UP_DONE || len == UP_OVER || frame[0] != poll->address ||
	    frame[1] != UP_FC_READ || bms_be16(frame + 2) != up_block[step][0] ||
	    bms_be16(frame + 4) != up_block[step][1])
		return BMS_E_UNEXPECTED; /* another pack's, another block's, a request, a late answer */
	const uint8_t *d = frame + UP_HEAD;
	size_t n = len - UP_OVER;
	int rc = step == UP_STATUS ? up_status(poll, d, n) : step == UP_IDENT ? up_ident(poll, d, n) : up_prot(poll, d, n);
	if (rc == BMS_OK)
		poll->step = step + 1;
	return rc;
}

/* The identity read timed out (a pack behind the master does not answer
 * it, UP16S-10): the poll is complete without it, and without the
 * protection parameters (a pack that does not answer 0x1C00 does not
 * answer 0x1800 either).  The protection read timed out or was answered
 * badly: the poll is complete without it. */
static bool up_timeout(struct bms_poll *poll)
{
	int step = up_step(poll);
	if (step == UP_IDENT) {
		if (bms_ident_due(poll))
			bms_ident_missing(poll, false);
	} else if (step != UP_PROT) {
		return false;
	}
	poll->step = UP_DONE;
	return true;
}

static int up_finish(struct bms_poll *poll)
{
	if (poll->step < UP_IDENT)
		return BMS_E_INVALID;
	return bms_check_pack(&poll->snap, false);
}

/* Identification (§27): the poll's first read, 0x78 0x1000..0x10A0 of
 * address 1 (the master of a rack, or a pack alone). */
static const struct bms_probe up_probe = {
	.bauds = { 9600 },
	.addrs = { 1 },
	.naddrs = 1,
	.rank = 15,
	.gap = 0.05,
	.timeout = 0.25,
};

const struct bms_driver bms_jbd_up_driver = {
	.name = "jbd-up",
	.description = "JBD UP16S / Eco-Worthy 48 V racks over RS485 (FC 0x78 reads, CRC-16)",
	.vendor = "JBD",
	.protocol_id = 36,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_VOLT_LIMITS,
	/* 0x1C00's balancing and 0x1800's protections, when due (§44.6) */
	.settings = BMS_SET_CELL_PROTECT | BMS_SET_TEMP_PROTECT | BMS_SET_OCP_PROTECT |
		BMS_SET_BIT(BMS_SET_BALANCE_START_V) | BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) |
		BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V),
	.default_baud = 9600,
	/* no floor is documented (3.5 character times) */
	.gap_floor = 0,
	.interbyte = 0.15,
	.min_address = UP_MIN_ADR,
	.max_address = UP_MAX_ADR,
	.default_timeout = 1.0,
	.next_request = up_next_request,
	.scan = up_scan,
	.handle = up_handle,
	.timeout = up_timeout,
	.finish = up_finish,
	.probe = &up_probe,
};
