/* SPDX-License-Identifier: MIT */
/* bms/daly_modbus.c - Daly "new" protocol (H/K/M/S series, 100 Balance, 2023+).
 *
 * See bms/PROTOCOLS.md §3.  Modbus RTU framing with Daly's own addresses: the
 * request goes to 0x80 + board, the BMS answers from 0x50 + board
 * ("wired" / "p81" register map, §3.2).  CRC-16/MODBUS, low byte first.
 *	request	 <0x80+b> 03 <start:2> <count:2> <crc:2>
 *	reply	 <0x50+b> 03 <bytes> <count x 2 bytes, big-endian> <crc:2>
 *	error	 <0x50+b> 83 <code> <crc:2>
 *
 * A poll is two reads, the same two the Daly PC software / p81 dongle make
 * (DALYN-04 and DALYN-05 are their answers): registers 0x00..0x3F (cells,
 * temperatures, V, I, SOC, counts) and 0x41..0x7E (status, capacity,
 * cycles, balancing, MOSFETs, MOS temperature, alarm words 0x6D..0x73).
 * Neither read is larger than 64 registers, the largest the Daly tools are
 * known to ask for.
 *
 * Not decoded: 0x3B (SOH according to one source, a heartbeat counter
 * according to another - UNCERTAIN, so SOH stays absent), 0x58 power
 * (unsigned whole watts with the sign from 0x48; the gateway derives V x I
 * instead), full capacity (a settings register outside both reads).
 *
 * Bluetooth LE (§14.2, §14.3): service FFF0 (notify FFF1, write FFF2), or
 * FF00 / FF01 / FF02 on newer firmware.  Over BLE the BMS speaks one of two
 * dialects:
 *	D2	address 0xD2 both ways, its own register map: one read of 62
 *		registers from 0 (cells 0x00..0x1F, temperatures 0x20..0x27, V,
 *		I, SOC, state, remaining Ah, counts, cycles, MOSFETs, alarm
 *		words 0x3A..0x3D), the switch settings in 0x80..0xA8 (0xA5 /
 *		0xA6) for packs with control, the settings 0x80..0xA8 and the
 *		balancer switch 0xCF for packs with bms_settings when due;
 *		the BMS's own settings written (below, §14.5);
 *	0x81	the wire protocol above, board `address` (0x81 -> 0x51), on some
 *		DL / ESS units.
 * Which one a pack speaks is found out per pack: a try in D2, and after a
 * failed try the other dialect (tries alternate); the dialect that answered
 * is kept in persist (as daly.c keeps its host) and reconnections do not
 * forget it (the firmware does not change).  A learned dialect that fails a
 * try is asked once more, then the tries alternate again.  A poll keeps the
 * dialect its first read was answered in.  On a wire nothing of this
 * applies: 0xD2 frames are not accepted.
 *
 * Progress in struct bms_poll: step = index into the dialect's reads of
 * the outstanding read (their count when the poll is complete).
 *	priv		struct dm_state (below)
 *	persist		BLE: DM_P_KNOWN a dialect answered, DM_P_P81 it is the
 *			0x81 one, DM_P_TRY81 the next try of an unknown one is
 *			0x81
 */
#include "bms.h"
#include "bus.h"

#include <string.h>

#include "dalyalarm.h"
#include "drivers.h"
#include "mbmaster.h"

#define DM_REQ_BASE 0x80   /* request address = 0x80 + board */
#define DM_RESP_BASE 0x50  /* reply address = 0x50 + board */
#define DM_MAX_BOARD 16
#define DM_FC_READ BMS_MB_FC_HOLDING
#define DM_FC_WRITE BMS_MB_FC_WRITE1
#define DM_FC_ERROR BMS_MB_EXCEPTION /* function code | 0x80: exception reply */
#define DM_REQ_LEN BMS_MB_REQ_LEN
#define DM_ERR_LEN BMS_MB_EXC_LEN
#define DM_CURRENT_ZERO 30000 /* 0x39 raw offset, 0.1 A, + = charging */
#define DM_TEMP_OFFSET 40
#define DM_TEMP_ABSENT 0xFF   /* temperature register of a missing sensor (§3.3) */
#define DM_MAX_TEMP_SLOTS 8   /* 0x30..0x37 */
#define DM_MAX_WIRE_CELLS 48  /* 0x00..0x2F */

#define DM_D2_ADDR 0xD2        /* the D2 dialect's address, both ways (BLE) */
#define DM_D2_MAX_CELLS 32     /* 0x00..0x1F */

/* persist bits of the BLE dialects */
#define DM_P_KNOWN 0x1u        /* a dialect answered */
#define DM_P_P81 0x2u          /* ... the 0x81 one (else D2) */
#define DM_P_TRY81 0x4u        /* not known: the next try asks in 0x81 */
#define DM_P81_BITS (DM_P_P81 | DM_P_TRY81)

enum dm_dialect { DM_P81 = 0, DM_D2 = 1 };

/* The driver's state of a poll (struct bms_poll.priv, BMS_PRIV()). */
struct dm_state {
	uint8_t dialect;        /* BLE: the dialect (enum dm_dialect) this poll's first
	                         * read was answered in */
};

/* Register addresses (§3.2, p81 map). */
enum {
	DM_R_TEMP1 = 0x30,
	DM_R_VOLT = 0x38,
	DM_R_CURRENT = 0x39,
	DM_R_SOC = 0x3A,
	DM_R_NCELLS = 0x3C,
	DM_R_NTEMPS = 0x3D,
	DM_R_STATUS = 0x48,
	DM_R_REMAIN = 0x4B,
	DM_R_CYCLES = 0x4C,
	DM_R_BAL_1_16 = 0x4F,
	DM_R_BAL_17_32 = 0x50,
	DM_R_CHG_MOS = 0x52,
	DM_R_DSG_MOS = 0x53,
	DM_R_MOS_TEMP = 0x5A,
	DM_R_ALARM1 = 0x6D, /* 0x6D..0x73 */
};
#define DM_NALARM_WORDS 7

/* The reads of one poll, in order. */
static const struct {
	uint16_t start, count;
} dm_reads[] = {
	{ 0x00, 0x40 },
	{ 0x41, 0x3E },
	{ 0x121, 0x02 }, /* the MOSFET switch settings: read for packs with control */
};
#define DM_NREADS ((int)(sizeof(dm_reads) / sizeof(dm_reads[0])))
#define DM_READ_SETPOINTS 2 /* dm_reads[] index of the settings read */
#define DM_R_SET_CHG 0x121  /* charge MOSFET switch: 1 on, 0 off (written by FC06) */
#define DM_R_SET_DSG 0x122  /* discharge MOSFET switch */

/* The D2 dialect (BLE, §14.2): its register map and reads. */
enum {
	DM2_R_TEMP1 = 0x20,
	DM2_R_VOLT = 0x28,
	DM2_R_CURRENT = 0x29,
	DM2_R_SOC = 0x2A,
	DM2_R_STATUS = 0x2F,
	DM2_R_REMAIN = 0x30,
	DM2_R_NCELLS = 0x31,
	DM2_R_NTEMPS = 0x32,
	DM2_R_CYCLES = 0x33,
	DM2_R_CHG_MOS = 0x35,
	DM2_R_DSG_MOS = 0x36,
	DM2_R_ALARM1 = 0x3A, /* 0x3A..0x3D */
	DM2_R_SET_CHG = 0xA5, /* charge MOS switch, 1 on (settings; FC06) */
	DM2_R_SET_DSG = 0xA6, /* discharge MOS switch */
};
static const struct {
	uint16_t start, count;
} dm2_reads[] = {
	{ 0x00, 0x3E },  /* D2 03 00 00 00 3E D7 B9 (DALYN-REQ-1) */
	{ 0x80, 0x29 },  /* the settings, for packs with control, and for packs with
	                  * bms_settings when due: D2 03 00 80 00 29 96 5F */
	{ 0xCF, 0x01 },  /* the balancer switch, for packs with bms_settings when due:
	                  * D2 03 00 CF 00 01 A7 96 (syssi/esphome-daly-bms reads it so) */
};
#define DM2_NREADS ((int)(sizeof(dm2_reads) / sizeof(dm2_reads[0])))
#define DM2_READ_SETPOINTS 1
#define DM2_READ_BALANCER 2
#define DM2_R_BALANCER 0xCF   /* the balancer switch, 1 on, 0 off (settings; FC06) */
#define DM2_WREAD_COUNT 2     /* registers a settings change reads of its register (below) */

/* D2 alarm words 0x3A..0x3D hold the eight bytes of the legacy protocol's
 * 0x98 answer, two per register, low byte first (0x3A = D1 << 8 | D0, as
 * syssi/esphome-daly-bms's D2 error table lists them; no capture with an
 * alarm set: UNCERTAIN); they mean what they mean there (base/dalyalarm.c). */
/* Alarm words 0x6D..0x73 (§3.4; bit 0 = LSB of the register value, which
 * DALYN-05 supports: SOC 11 % with 0x70 = 0x0002 "SOC low level 2", and
 * every sensor absent with 0x72 = 0x8000 "temperature detect fault").
 * width 3 = an alarm level 0..7: level >= 1 raises `al`, level >= 2 also
 * BMS_AL_PROTECTION (Daly's level 2 is its protection level, as in the
 * legacy 0x98 bits).  Status bits (smart charger connected, MOSFET off by
 * bus / switch, fan / heater active, current limit, upgrade sign, parallel
 * comm ok) and reserved bits map to nothing; they stay in the raw words. */
static const struct {
	uint8_t word, shift, width;
	uint32_t al;
} dm_alarm_map[] = {
	/* 0x6D */
	{ 0, 0, 3, BMS_AL_CELL_OV }, { 0, 3, 3, BMS_AL_CELL_UV },
	{ 0, 7, 1, BMS_AL_COMM },      /* smart charger connection failed */
	{ 0, 8, 3, BMS_AL_CELL_DIFF }, { 0, 11, 3, BMS_AL_CHG_OT },
	{ 0, 15, 1, BMS_AL_COMM },     /* smart discharger connection failed */
	/* 0x6E */
	{ 1, 0, 3, BMS_AL_CHG_UT }, { 1, 3, 3, BMS_AL_DSG_OT },
	{ 1, 6, 1, BMS_AL_MOS_OT },    /* charge MOS temperature high */
	{ 1, 7, 1, BMS_AL_SENSOR },    /* charge MOS temperature detect fault */
	{ 1, 8, 3, BMS_AL_DSG_UT }, { 1, 11, 3, BMS_AL_TEMP_DIFF },
	{ 1, 14, 1, BMS_AL_MOS_OT },   /* discharge MOS temperature high */
	{ 1, 15, 1, BMS_AL_SENSOR },   /* discharge MOS temperature detect fault */
	/* 0x6F */
	{ 2, 0, 3, BMS_AL_PACK_OV }, { 2, 3, 3, BMS_AL_PACK_UV },
	{ 2, 6, 1, BMS_AL_SHORT | BMS_AL_PROTECTION },
	{ 2, 8, 3, BMS_AL_CHG_OC }, { 2, 11, 3, BMS_AL_DSG_OC },
	{ 2, 14, 1, BMS_AL_OTHER },    /* "charge under-voltage" */
	{ 2, 15, 1, BMS_AL_OTHER },    /* "discharge over-voltage" */
	/* 0x70 */
	{ 3, 0, 3, BMS_AL_SOC_LOW },
	{ 3, 3, 3, BMS_AL_OTHER },     /* SOH low level */
	{ 3, 7, 1, BMS_AL_COMM },      /* parallel communication fault */
	{ 3, 8, 3, BMS_AL_MOS_OT },
	{ 3, 11, 3, BMS_AL_OTHER },    /* thermal runaway level */
	/* 0x71 reserved; 0x72: b8.. AFE chip, AFE comm, AFE sampling, cell
	 * voltage detect, cell wire open, total voltage detect, current detect,
	 * temperature detect */
	{ 5, 8, 1, BMS_AL_HW_FAULT }, { 5, 9, 1, BMS_AL_COMM },
	{ 5, 10, 1, BMS_AL_HW_FAULT }, { 5, 11, 1, BMS_AL_HW_FAULT },
	{ 5, 12, 1, BMS_AL_HW_FAULT }, { 5, 13, 1, BMS_AL_HW_FAULT },
	{ 5, 14, 1, BMS_AL_HW_FAULT }, { 5, 15, 1, BMS_AL_SENSOR },
	/* 0x73: sensor disconnected, EEPROM, flash, RTC, chg / dsg / precharge
	 * MOS fault, precharge fault, heating fault (b15) */
	{ 6, 0, 1, BMS_AL_SENSOR }, { 6, 1, 1, BMS_AL_HW_FAULT },
	{ 6, 2, 1, BMS_AL_HW_FAULT }, { 6, 3, 1, BMS_AL_HW_FAULT },
	{ 6, 4, 1, BMS_AL_MOS_FAULT }, { 6, 5, 1, BMS_AL_MOS_FAULT },
	{ 6, 6, 1, BMS_AL_MOS_FAULT }, { 6, 7, 1, BMS_AL_HW_FAULT },
	{ 6, 15, 1, BMS_AL_HW_FAULT },
};

static bool dm_is_reply_addr(uint8_t a)
{
	return a > DM_RESP_BASE && a <= DM_RESP_BASE + DM_MAX_BOARD;
}

static bool dm_is_request_addr(uint8_t a)
{
	return a > DM_REQ_BASE && a <= DM_REQ_BASE + DM_MAX_BOARD;
}

/* Data bytes of a reply to one of our reads (of the 0x81 map, or, d2,
 * of the D2 map). */
static bool dm_known_bytes(uint8_t bc, bool d2)
{
	if (d2) {
		for (int i = 0; i < DM2_NREADS; i++)
			if (bc == 2 * dm2_reads[i].count)
				return true;
		return bc == 2 * DM2_WREAD_COUNT; /* a settings change's read */
	}
	for (int i = 0; i < DM_NREADS; i++)
		if (bc == 2 * dm_reads[i].count)
			return true;
	return false;
}

/* The dialect the next try of the first read asks in: on a wire always
 * the 0x81 map; over BLE the learned one, else the one whose turn it is. */
static enum dm_dialect dm_try_dialect(const struct bms_poll *poll)
{
	if (poll->link != BMS_LINK_BLE)
		return DM_P81;
	if (poll->persist & DM_P_KNOWN)
		return (poll->persist & DM_P_P81) ? DM_P81 : DM_D2;
	return (poll->persist & DM_P_TRY81) ? DM_P81 : DM_D2;
}

/* The dialect of the outstanding read: the first read's try, later reads
 * the one the first was answered in. */
static enum dm_dialect dm_dialect(const struct bms_poll *poll)
{
	if (poll->link != BMS_LINK_BLE || poll->step <= 0)
		return dm_try_dialect(poll);
	return BMS_PRIV(poll, struct dm_state)->dialect == DM_D2 ? DM_D2 : DM_P81;
}

/* D2: the settings and the balancer switch are read for a pack with
 * bms_settings in a poll marked settings_due (bms/PROTOCOLS.md §1.8): the
 * values a change is checked against and shows. */
static bool dm2_wsettings(const struct bms_poll *poll)
{
	return poll->wsettings && poll->settings_due;
}

/* Reads this poll makes: the settings read only when asked for. */
static int dm_nreads(const struct bms_poll *poll)
{
	if (dm_dialect(poll) == DM_D2)
		return dm2_wsettings(poll) ? DM2_NREADS : poll->setpoints ? DM2_READ_BALANCER : DM2_READ_SETPOINTS;
	return poll->setpoints ? DM_NREADS : DM_READ_SETPOINTS;
}

/* Start and count of read `step` of the poll's dialect. */
static void dm_read_of(const struct bms_poll *poll, int step, uint16_t *start, uint16_t *count)
{
	if (dm_dialect(poll) == DM_D2) {
		*start = dm2_reads[step].start;
		*count = dm2_reads[step].count;
	} else {
		*start = dm_reads[step].start;
		*count = dm_reads[step].count;
	}
}

static int dm_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->address < 1 || poll->address > DM_MAX_BOARD)
		return BMS_E_RANGE;
	if (poll->step < 0 || poll->step >= dm_nreads(poll))
		return 0;
	uint16_t start, count;
	dm_read_of(poll, poll->step, &start, &count);
	return bms_mb_request(out, cap, dm_dialect(poll) == DM_D2 ? DM_D2_ADDR : (uint8_t)(DM_REQ_BASE + poll->address),
			      DM_FC_READ, start, count);
}

/* Over BLE a frame of the D2 dialect (0xD2 both ways) is a reply too. */
static bool dm_is_d2(const struct bms_poll *poll, uint8_t a)
{
	return a == DM_D2_ADDR && poll->link == BMS_LINK_BLE;
}

/* Frames: replies of any board (0x51..0x60) to a read of ours, exception
 * replies, and requests (0x81..0x90: our echo, or another master), which
 * are skipped whole; over BLE also D2 replies, and D2 read requests
 * (byte 2 = 0, a byte count no reply has) skipped whole.  Anything else is
 * skipped a byte at a time. */
static enum bms_scan dm_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	size_t need;

	if (len == 0)
		return BMS_SCAN_NEED;
	if (!dm_is_reply_addr(buf[0]) && !dm_is_request_addr(buf[0]) && !dm_is_d2(poll, buf[0])) {
		size_t i = 1;
		while (i < len && !dm_is_reply_addr(buf[i]) && !dm_is_request_addr(buf[i]) && !dm_is_d2(poll, buf[i]))
			i++;
		*n = i;
		return BMS_SCAN_SKIP;
	}
	if (len < 3)
		return BMS_SCAN_NEED;
	if (buf[0] == DM_D2_ADDR && buf[1] == DM_FC_READ && buf[2] == 0x00) {
		/* a D2 read request (registers 0x00xx; no reply has 0 bytes):
		 * ours echoed, skipped whole */
		if (len < DM_REQ_LEN)
			return BMS_SCAN_NEED;
		*n = bms_crc16_modbus_ok(buf, DM_REQ_LEN) ? DM_REQ_LEN : 1;
		return BMS_SCAN_SKIP;
	}
	if (dm_is_request_addr(buf[0])) {
		if (buf[1] != DM_FC_READ && buf[1] != DM_FC_WRITE) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
		if (len < DM_REQ_LEN)
			return BMS_SCAN_NEED;
		*n = bms_crc16_modbus_ok(buf, DM_REQ_LEN) ? DM_REQ_LEN : 1;
		return BMS_SCAN_SKIP;
	}
	if (buf[1] == DM_FC_READ && dm_known_bytes(buf[2], buf[0] == DM_D2_ADDR)) {
		need = 5u + buf[2];
	} else if (buf[1] == (DM_FC_READ | DM_FC_ERROR) || buf[1] == (DM_FC_WRITE | DM_FC_ERROR)) {
		need = DM_ERR_LEN;
	} else if (buf[1] == DM_FC_WRITE) {
		need = DM_REQ_LEN; /* the echo of a write of ours */
	} else {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < need)
		return BMS_SCAN_NEED;
	return bms_scan_tail(bms_crc16_modbus_ok(buf, need), true, need, n);
}

/* Register `reg` of a reply to the read that starts at `start`. */
static uint16_t dm_reg(const uint8_t *d, uint16_t start, uint16_t reg)
{
	return bms_be16(d + 2 * (reg - start));
}

/* Both maps: cells in registers 0..ncells-1 of the read that starts at
 * `start` (mV), temperature slots from register `temp1` on (degC + 40).
 * 0xFF marks a missing sensor even within the count (DALYN-04): present
 * sensors are kept in order, missing ones left out. */
static void dm_cells_temps(struct bms_snapshot *s, const uint8_t *d, uint16_t start, unsigned ncells,
			   uint16_t temp1, unsigned nslots)
{
	s->ncells = (uint8_t)ncells;
	for (unsigned i = 0; i < ncells; i++)
		s->cell_mv[i] = dm_reg(d, start, (uint16_t)i);
	s->ntemps = 0;
	for (unsigned i = 0; i < nslots; i++) {
		unsigned raw = dm_reg(d, start, (uint16_t)(temp1 + i));
		if (raw < DM_TEMP_ABSENT)
			s->temp_c[s->ntemps++] = (float)((int)raw - DM_TEMP_OFFSET);
	}
}

/* Where a map keeps the live values and the state (§3.2, §14.2). */
struct dm_map {
	uint16_t ncells, ntemps, temp1, volt, current, soc;
	unsigned wire_cells; /* cell registers */
	uint16_t status, remain, cycles, chg_mos, dsg_mos;
};

static const struct dm_map dm_p81_map = {
	DM_R_NCELLS, DM_R_NTEMPS, DM_R_TEMP1, DM_R_VOLT, DM_R_CURRENT, DM_R_SOC, DM_MAX_WIRE_CELLS,
	DM_R_STATUS, DM_R_REMAIN, DM_R_CYCLES, DM_R_CHG_MOS, DM_R_DSG_MOS,
};
static const struct dm_map dm_d2_map = {
	DM2_R_NCELLS, DM2_R_NTEMPS, DM2_R_TEMP1, DM2_R_VOLT, DM2_R_CURRENT, DM2_R_SOC, DM_D2_MAX_CELLS,
	DM2_R_STATUS, DM2_R_REMAIN, DM2_R_CYCLES, DM2_R_CHG_MOS, DM2_R_DSG_MOS,
};

/* Cells, temperatures, voltage, current and SOC of a read at `st`. */
static int dm_decode_live(struct bms_poll *poll, const uint8_t *d, uint16_t st, const struct dm_map *at)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned ncells = dm_reg(d, st, at->ncells);
	unsigned nslots = dm_reg(d, st, at->ntemps);
	unsigned most = at->wire_cells < BMS_LV_MAX_CELLS ? at->wire_cells : BMS_LV_MAX_CELLS;

	if (poll->cells_forced)
		ncells = poll->cells_forced < most ? poll->cells_forced : most;
	else if (ncells > most)
		return BMS_E_RANGE;
	if (nslots > DM_MAX_TEMP_SLOTS)
		nslots = DM_MAX_TEMP_SLOTS;

	int raw_cur = dm_reg(d, st, at->current);
	unsigned raw_soc = dm_reg(d, st, at->soc);
	float cur = (float)(raw_cur - DM_CURRENT_ZERO) / 10.0f;
	s->voltage = (float)dm_reg(d, st, at->volt) / 10.0f;
	s->current = poll->invert_current ? -cur : cur;
	s->soc = raw_soc > 1000 ? 100.0f : (float)raw_soc / 10.0f;

	dm_cells_temps(s, d, st, ncells, at->temp1, nslots);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS;
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	return BMS_OK;
}

/* The state, remaining capacity, cycles and MOSFETs of a read at `st`. */
static void dm_decode_state(struct bms_snapshot *s, const uint8_t *d, uint16_t st, const struct dm_map *at)
{
	unsigned state = dm_reg(d, st, at->status);
	s->state = (uint8_t)(state <= 2 ? state : 0);
	s->remain_ah = (float)dm_reg(d, st, at->remain) / 10.0f;
	s->cycles = dm_reg(d, st, at->cycles);
	s->chg_mos = dm_reg(d, st, at->chg_mos) != 0;
	s->dsg_mos = dm_reg(d, st, at->dsg_mos) != 0;
	s->present |= BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_MOSFETS;
}

/* 0x00..0x3F: cells, temperatures, voltage, current, SOC. */
static int dm_decode_main(struct bms_poll *poll, const uint8_t *d)
{
	return dm_decode_live(poll, d, dm_reads[0].start, &dm_p81_map);
}

/* 0x41..0x7E: status, capacity, cycles, balancing, MOSFETs, alarms. */
static int dm_decode_status(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	const uint16_t st = dm_reads[1].start;
	unsigned mos_t = dm_reg(d, st, DM_R_MOS_TEMP);
	uint16_t w[DM_NALARM_WORDS];

	dm_decode_state(s, d, st, &dm_p81_map);
	s->balance = (uint32_t)dm_reg(d, st, DM_R_BAL_1_16) |
		     (uint32_t)dm_reg(d, st, DM_R_BAL_17_32) << 16;
	s->present |= BMS_HAS_BALANCE;
	if (mos_t < DM_TEMP_ABSENT) {
		s->mos_temp_c = (float)((int)mos_t - DM_TEMP_OFFSET);
		s->present |= BMS_HAS_MOS_TEMP;
	}

	/* raw_alarms[0..3] = registers 0x6D, 0x6E, 0x6F, 0x70 (the alarm level
	 * words); 0x72 / 0x73 (fault bits) only through the normalised set. */
	for (int i = 0; i < DM_NALARM_WORDS; i++)
		w[i] = dm_reg(d, st, (uint16_t)(DM_R_ALARM1 + i));
	s->nraw = 4;
	for (int i = 0; i < 4; i++)
		s->raw_alarms[i] = w[i];
	s->alarms = 0;
	for (size_t k = 0; k < sizeof(dm_alarm_map) / sizeof(dm_alarm_map[0]); k++) {
		unsigned mask = (1u << dm_alarm_map[k].width) - 1;
		unsigned v = (w[dm_alarm_map[k].word] >> dm_alarm_map[k].shift) & mask;
		if (v)
			s->alarms |= dm_alarm_map[k].al;
		if (dm_alarm_map[k].width > 1 && v >= 2)
			s->alarms |= BMS_AL_PROTECTION;
	}
	s->present |= BMS_HAS_ALARMS;
	return BMS_OK;
}

/* D2 dialect, registers 0x00..0x3D: the whole status (§14.2). */
static int dm_decode_d2(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	const uint16_t st = dm2_reads[0].start;
	int rc = dm_decode_live(poll, d, st, &dm_d2_map);
	if (rc != BMS_OK)
		return rc;
	dm_decode_state(s, d, st, &dm_d2_map);

	/* raw_alarms[0..3] = registers 0x3A..0x3D */
	s->nraw = 4;
	uint8_t bytes[8];
	for (int i = 0; i < 4; i++) {
		uint16_t w = dm_reg(d, st, (uint16_t)(DM2_R_ALARM1 + i));
		s->raw_alarms[i] = w;
		bytes[2 * i] = (uint8_t)w;            /* D(2i) */
		bytes[2 * i + 1] = (uint8_t)(w >> 8); /* D(2i + 1) */
	}
	s->alarms = daly_alarm_bits(bytes);
	s->present |= BMS_HAS_ALARMS;
	return BMS_OK;
}

/* The D2 settings answer's protections shown read only (§14.2, §1.8): the
 * "critical" (level 2, Daly's protection level) of each pair, as
 * syssi/esphome-daly-bms's decode_settings_data_ reads them: register,
 * key, raw + add, / div, the raw range taken. */
static const struct {
	uint8_t reg, key;               /* enum bms_set_key */
	int8_t add;
	float div;
	uint16_t lo, hi;
} dm2_set[] = {
	{ 0x80, BMS_SET_CAPACITY_AH, 0, 10.0f, 1, 65535 },
	{ 0x8C, BMS_SET_CELL_OVP_V, 0, 1000.0f, 1, 10000 },
	{ 0x8E, BMS_SET_CELL_UVP_V, 0, 1000.0f, 1, 10000 },
	{ 0x90, BMS_SET_PACK_OVP_V, 0, 10.0f, 1, 20000 },
	{ 0x92, BMS_SET_PACK_UVP_V, 0, 10.0f, 1, 20000 },
	{ 0x98, BMS_SET_CHARGE_OTP_C, -40, 1.0f, 0, 240 },
	{ 0x9A, BMS_SET_CHARGE_UTP_C, -40, 1.0f, 0, 240 },
	{ 0x9C, BMS_SET_DISCHARGE_OTP_C, -40, 1.0f, 0, 240 },
	{ 0x9E, BMS_SET_DISCHARGE_UTP_C, -40, 1.0f, 0, 240 },
	{ 0xA0, BMS_SET_CELL_DIFF_V, 0, 1000.0f, 0, 10000 },
	{ 0xA3, BMS_SET_BALANCE_START_V, 0, 1000.0f, 1, 10000 },
	{ 0xA4, BMS_SET_BALANCE_DELTA_V, 0, 1000.0f, 0, 10000 },
};

/* A D2 over-current level (0x94 charge, 0x96 discharge: 30000 + 0.1 A,
 * the sign of either side UNCERTAIN, §14.2) as its magnitude, as daly.c
 * reads the legacy levels; 30000 (0 A) is none. */
static void dm2_ocp(struct bms_settings *out, enum bms_set_key k, uint16_t raw)
{
	int a = (int)raw - DM_CURRENT_ZERO;
	if (a != 0)
		bms_settings_put(out, k, (float)(a < 0 ? -a : a) / 10.0f);
}

/* The settings of a whole D2 settings answer (registers 0x80..0xA8 at d)
 * into kept.settings; the cell count is the cells of the three
 * acquisition boards (0x83..0x85).  The balancer, read apart (0xCF), is
 * kept. */
static void dm2_settings(struct bms_poll *poll, const uint8_t *d)
{
	const uint16_t st = dm2_reads[DM2_READ_SETPOINTS].start;
	struct bms_settings *out = &poll->kept.settings;
	bool bal = bms_settings_has(out, BMS_SET_BALANCER);
	float bal_v = out->v[BMS_SET_BALANCER];
	memset(out, 0, sizeof(*out));
	if (bal)
		bms_settings_put(out, BMS_SET_BALANCER, bal_v);
	for (size_t i = 0; i < sizeof(dm2_set) / sizeof(dm2_set[0]); i++) {
		uint16_t raw = dm_reg(d, st, dm2_set[i].reg);
		if (raw >= dm2_set[i].lo && raw <= dm2_set[i].hi)
			bms_settings_put(out, (enum bms_set_key)dm2_set[i].key,
					 (float)((int)raw + dm2_set[i].add) / dm2_set[i].div);
	}
	dm2_ocp(out, BMS_SET_CHARGE_OCP_A, dm_reg(d, st, 0x94));
	dm2_ocp(out, BMS_SET_DISCHARGE_OCP_A, dm_reg(d, st, 0x96));
	unsigned cells = 0;
	for (uint16_t r = 0x83; r <= 0x85; r++)
		cells += dm_reg(d, st, r);
	if (cells >= 1 && cells <= DM_D2_MAX_CELLS)
		bms_settings_put(out, BMS_SET_CELL_COUNT, (float)cells);
}

/* A D2 answer of read `step` >= 1: the settings (the switches too for a
 * pack with control), or the balancer switch (0 off, 1 on; another value
 * is none). */
static void dm2_decode_more(struct bms_poll *poll, const uint8_t *d, uint16_t start)
{
	struct bms_snapshot *s = &poll->snap;
	if (poll->step == DM2_READ_BALANCER) {
		uint16_t on = dm_reg(d, start, DM2_R_BALANCER);
		if (on <= 1)
			bms_settings_put(&poll->kept.settings, BMS_SET_BALANCER, (float)on);
		return;
	}
	if (poll->setpoints) {
		s->chg_set = dm_reg(d, start, DM2_R_SET_CHG) != 0;
		s->dsg_set = dm_reg(d, start, DM2_R_SET_DSG) != 0;
		s->present |= BMS_HAS_SETPOINT;
	}
	dm2_settings(poll, d); /* shown read only; written by a change (below) */
}

static int dm_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	int rc;

	if (len < DM_ERR_LEN)
		return BMS_E_SHORT;
	if (!dm_is_reply_addr(frame[0]) && !dm_is_d2(poll, frame[0]))
		return BMS_E_HEADER;
	if (frame[1] == DM_FC_READ) {
		if (len != 5u + frame[2])
			return BMS_E_SHORT;
	} else if (frame[1] == (DM_FC_READ | DM_FC_ERROR)) {
		if (len != DM_ERR_LEN)
			return BMS_E_SHORT;
	} else if (frame[1] == DM_FC_WRITE || frame[1] == (DM_FC_WRITE | DM_FC_ERROR)) {
		return BMS_E_UNEXPECTED; /* an answer to a control write, not to a read */
	} else {
		return BMS_E_HEADER;
	}
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	/* Another board or dialect, or nothing outstanding. */
	enum dm_dialect dialect = dm_dialect(poll);
	uint8_t from = dialect == DM_D2 ? DM_D2_ADDR : (uint8_t)(DM_RESP_BASE + poll->address);
	if (poll->step < 0 || poll->step >= dm_nreads(poll) || frame[0] != from)
		return BMS_E_UNEXPECTED;
	/* The BMS refuses the read (illegal address / quantity): this try fails. */
	if (frame[1] != DM_FC_READ)
		return BMS_E_REFUSED;
	/* A late answer to the other read. */
	uint16_t start, count;
	dm_read_of(poll, poll->step, &start, &count);
	if (frame[2] != 2 * count)
		return BMS_E_UNEXPECTED;

	if (dialect == DM_D2) {
		rc = BMS_OK;
		if (poll->step == 0)
			rc = dm_decode_d2(poll, frame + 3);
		else
			dm2_decode_more(poll, frame + 3, start);
	} else if (poll->step == 0) {
		rc = dm_decode_main(poll, frame + 3);
	} else if (poll->step == 1) {
		rc = dm_decode_status(poll, frame + 3);
	} else {
		const uint8_t *d = frame + 3;
		struct bms_snapshot *s = &poll->snap;
		s->chg_set = dm_reg(d, DM_R_SET_CHG, DM_R_SET_CHG) != 0;
		s->dsg_set = dm_reg(d, DM_R_SET_CHG, DM_R_SET_DSG) != 0;
		s->present |= BMS_HAS_SETPOINT;
		rc = BMS_OK;
	}
	if (rc == BMS_OK && poll->link == BMS_LINK_BLE && poll->step == 0) {
		/* this dialect answers: the rest of the poll and the next polls */
		BMS_PRIV(poll, struct dm_state)->dialect = (uint8_t)dialect;
		poll->persist &= ~(DM_P_P81 | DM_P_TRY81);
		poll->persist |= DM_P_KNOWN | (dialect == DM_P81 ? DM_P81_BITS : 0);
	}
	if (rc == BMS_OK)
		poll->step++;
	return rc;
}

/* A try failed (no answer, or a bad one).  Over BLE, a failed first read
 * moves the search on: a dialect not yet known alternates, a known one is
 * asked once more before the search starts over.  A D2 read made only for
 * bms_settings (the settings without control, the balancer switch) ends
 * the poll's reads: the status stands, the settings stay as they were
 * (§1.8).  Completes no other step. */
static bool dm_timeout(struct bms_poll *poll)
{
	if (poll->link == BMS_LINK_BLE && poll->step > 0 && dm_dialect(poll) == DM_D2 && dm2_wsettings(poll) &&
	    (poll->step == DM2_READ_BALANCER || !poll->setpoints)) {
		/* the reads of a pack with bms_settings alone: the status stands */
		poll->step = dm_nreads(poll);
		return true;
	}
	if (poll->link != BMS_LINK_BLE || poll->step != 0)
		return false;
	if (poll->persist & DM_P_KNOWN) {
		bool p81 = (poll->persist & DM_P_P81) != 0;
		poll->persist &= ~(DM_P_KNOWN | DM_P_P81 | DM_P_TRY81);
		if (p81)
			poll->persist |= DM_P_TRY81;
	} else {
		poll->persist ^= DM_P_TRY81;
	}
	return false;
}

/* ---- MOSFET control (bms/PROTOCOLS.md §3.5) -----------------------------
 * FC06 to the switch registers of the wired ("p81") map, as Daly's
 * BMSTool for the H/K/M/S series sends them (captured in
 * syssi/esphome-daly-bms#22) and patagonaa/esphome-daly-hkms-bms writes:
 *	<0x80+b> 06 01 21 00 <0|1> <crc>   charge MOSFET off / on
 *	<0x80+b> 06 01 22 00 <0|1> <crc>   discharge MOSFET off / on
 * The answer is the Modbus echo from 0x50 + board (the reply address of
 * every read); an exception (0x86) is a refusal.  The setting is read back
 * from 0x121..0x122 and the actual MOSFETs from 0x52..0x53, separately,
 * since a protection can hold a switched-on MOSFET off.
 *
 * Over Bluetooth LE (§14.4) the dialect the polls learned decides: the 0x81
 * one takes the frames above; D2 takes FC06 to its switch settings, as the
 * Daly app writes them (an HCI capture in fl4p/batmon-ha#356) and
 * syssi/esphome-daly-bms's switches do:
 *	D2 06 00 A5 00 <0|1> <crc>   charge MOSFET switch off / on
 *	D2 06 00 A6 00 <0|1> <crc>   discharge MOSFET switch off / on
 * answered by the echo (D2 06 00 A5 ...); D2 86 <code> is a refusal.  The
 * setting is read back from 0xA5 / 0xA6 (the D2 settings read), the
 * MOSFETs from 0x35 / 0x36.  While no dialect is known (no poll answered
 * yet) there is no command (BMS_E_INVALID). */
static bool dm_ctl_d2(const struct bms_control *c)
{
	return c->link == BMS_LINK_BLE && (c->persist & DM_P_KNOWN) && !(c->persist & DM_P_P81);
}

static int dm_ctl_fet(const struct bms_control *c)
{
	int k = 0;
	for (int f = BMS_FET_CHARGE; f <= BMS_FET_DISCHARGE; f++)
		if (c->set[f] && k++ == c->step)
			return f;
	return -1;
}

static int dm_control_request(struct bms_control *c, uint8_t *out, size_t cap)
{
	if (c->address < 1 || c->address > DM_MAX_BOARD)
		return BMS_E_RANGE;
	int f = dm_ctl_fet(c);
	if (f < 0)
		return 0;
	if (c->link == BMS_LINK_BLE && !(c->persist & DM_P_KNOWN))
		return BMS_E_INVALID; /* which dialect? no poll has answered yet */
	uint16_t reg = f == BMS_FET_CHARGE ? DM_R_SET_CHG : DM_R_SET_DSG;
	uint8_t to = (uint8_t)(DM_REQ_BASE + c->address);
	if (dm_ctl_d2(c)) {
		reg = f == BMS_FET_CHARGE ? DM2_R_SET_CHG : DM2_R_SET_DSG;
		to = DM_D2_ADDR;
	}
	return bms_mb_request(out, cap, to, DM_FC_WRITE, reg, c->on[f] ? 1 : 0);
}

static int dm_control_ack(struct bms_control *c, const uint8_t *frame, size_t len)
{
	uint8_t want[DM_REQ_LEN];
	int f = dm_ctl_fet(c);
	uint8_t from = dm_ctl_d2(c) ? DM_D2_ADDR : (uint8_t)(DM_RESP_BASE + c->address);
	if (f < 0 || len < DM_ERR_LEN || frame[0] != from)
		return BMS_E_UNEXPECTED;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	if (frame[1] == (DM_FC_WRITE | DM_FC_ERROR) && len == DM_ERR_LEN)
		return BMS_E_REFUSED;
	if (frame[1] != DM_FC_WRITE || len != DM_REQ_LEN)
		return BMS_E_UNEXPECTED;
	/* the echo: our register and value */
	struct bms_control probe = *c;
	if (dm_control_request(&probe, want, sizeof(want)) != DM_REQ_LEN || memcmp(frame + 1, want + 1, 5) != 0)
		return BMS_E_UNEXPECTED;
	c->step++;
	return BMS_OK;
}

/* Bluetooth LE (§14.2): FFF0 / notify FFF1 / write FFF2, and on newer
 * firmware, which refuses notifications on FFF1, FF00 / FF01 / FF02. */
static const struct bms_gatt dm_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff2"),
	BMS_GATT16("ff00", "ff01", "ff02"),
	BMS_GATT_END,
};

/* --ble-scan: names DL-* and JHB-* (aiobmsble's daly_bms). */
static const struct bms_ble_hint dm_ble_hints[] = {
	{1, BMS_BLE_NAME, "DL-", NULL, 0, false, "name DL-* (Daly since 2023)"},
	{1, BMS_BLE_NAME, "JHB-", NULL, 0, false, "name DL-* (Daly since 2023)"},
	{0},
};

/* Identification (§27): the first read of a poll, FC03 0x00 x 64 to
 * 0x80 + board (cells, temperatures, V, I, SOC). */
static const struct bms_probe dm_probe = {
	.bauds = { 9600 },
	.rank = 5,
	.gap = 0.05,
	.timeout = 0.2,
};

/* Listen mode (bms/bus.h): the answers to the requests of its own poll.
 * A request goes to 0x80 + board and its answer comes from 0x50 + board
 * (§3): on the bus both are the board's, so that the answer pairs with
 * its request and goes to that pack (other frames keep their address:
 * --detect names another master's polls by them). */
static int dm_bus_at(const struct bms_bus_ctx *ctx, const uint8_t *buf, size_t len, struct bms_bus_frame *f)
{
	int r = bms_bus_modbus_at(ctx, buf, len, f);
	if (r == BMS_BUS_FOUND) {
		unsigned base = f->kind == BMS_BUS_REQUEST ? DM_REQ_BASE : DM_RESP_BASE;
		if (f->addr > base && f->addr <= base + DM_MAX_BOARD)
			f->addr = (uint8_t)(f->addr - base);
	}
	return r;
}

BMS_LISTEN_REPLAY(dm, bms_daly_modbus_driver, dm_bus_at, NULL)

/* ---- settings writes (bms/setwrite.h; bms/PROTOCOLS.md §14.5) -----------
 * The D2 dialect's (Bluetooth LE) only: FC06 to its settings register,
 * value u16 BE, as syssi/esphome-daly-bms's number and switch entities
 * write them (its register table, its docs' protocol register map):
 *	D2 03 <reg:2> 00 02 <crc>	read the register (old)  -> D2 03 04 <v:2> <v+1:2> <crc>
 *	D2 06 <reg:2> <v:2> <crc>	write                    -> the echo D2 06 <reg> <v> <crc>
 *	D2 03 <reg:2> 00 02 <crc>	read back                -> D2 03 04 <v:2> <v+1:2> <crc>
 * The echo is our request: it proves only that a frame came, so the
 * read-back alone decides; D2 86 / D2 83 <code> is a refusal.  Each read
 * asks two registers, so that a poll's late answer is never the field's.
 * The SOC is written to 0xA7 and read from 0x2A; the over-currents keep
 * the side of 30000 their fresh read shows (30000: not written); no
 * password; the 0x81 dialect writes none (§14.5 says why, with sources). */
enum { DW2_READ, DW2_WRITE, DW2_BACK, DW2_DONE };
#define DW2_NEG 0x1u    /* word: the over-current register read under 30000 */

static const struct bms_wfield *dm_wfield(const struct bms_wchange *c);

static bool dm_wocp(const struct bms_wchange *c)
{
	return c->key == BMS_W_CHARGE_OCP_A || c->key == BMS_W_DISCHARGE_OCP_A;
}

/* Over Bluetooth LE, not known to speak the 0x81 dialect (unknown: the
 * change's first read, in D2, finds out before anything is written). */
static bool dm_wd2(const struct bms_wchange *c)
{
	return c->link == BMS_LINK_BLE && !((c->persist & DM_P_KNOWN) && (c->persist & DM_P_P81));
}

/* The register read for the field (the SOC: the status read's) and its
 * count. */
static uint16_t dm_wread_reg(const struct bms_wchange *c, const struct bms_wfield *f)
{
	return c->key == BMS_W_SOC ? DM2_R_SOC : f->reg;
}

static uint16_t dm_wcount(const struct bms_wchange *c)
{
	return c->key == BMS_W_BALANCER ? 1 : DM2_WREAD_COUNT;
}

/* The register's value for the raw value written. */
static uint16_t dm_wwire(const struct bms_wchange *c)
{
	if (dm_wocp(c))
		return (uint16_t)((c->word & DW2_NEG) ? DM_CURRENT_ZERO - c->raw : DM_CURRENT_ZERO + c->raw);
	return (uint16_t)c->raw;
}

static int dm_wrequest(struct bms_wchange *c, uint8_t *out, size_t cap)
{
	const struct bms_wfield *f = dm_wfield(c);
	if (!f || c->address < 1 || c->address > DM_MAX_BOARD || c->raw < f->lo || c->raw > f->hi)
		return BMS_E_RANGE;
	if (!dm_wd2(c))
		return BMS_E_INVALID; /* the 0x81 dialect: nothing is written */
	if (c->quit || c->refused || c->step >= DW2_DONE)
		return 0;
	if (c->step == DW2_WRITE) {
		c->wrote = true;
		return bms_mb_request(out, cap, DM_D2_ADDR, DM_FC_WRITE, f->reg, dm_wwire(c));
	}
	return bms_mb_request(out, cap, DM_D2_ADDR, DM_FC_READ, dm_wread_reg(c, f), dm_wcount(c));
}

/* A read's value v as the key's raw value (*raw); false for an
 * over-current register at 30000 read before the write (no side). */
static bool dm_wraw(struct bms_wchange *c, uint16_t v, int64_t *raw)
{
	if (!dm_wocp(c)) {
		*raw = v;
		return true;
	}
	if (c->step == DW2_READ) {
		if (v == DM_CURRENT_ZERO)
			return false;
		c->word = v < DM_CURRENT_ZERO ? DW2_NEG : 0;
	}
	/* the side of the read before the write: the other side is no match */
	*raw = (c->word & DW2_NEG) ? (int64_t)DM_CURRENT_ZERO - v : (int64_t)v - DM_CURRENT_ZERO;
	return true;
}

static int dm_wanswer(struct bms_wchange *c, const uint8_t *frame, size_t len)
{
	const struct bms_wfield *f = dm_wfield(c);
	if (len < DM_ERR_LEN)
		return BMS_E_SHORT;
	if (!f || frame[0] != DM_D2_ADDR || c->step < 0 || c->step >= DW2_DONE)
		return BMS_E_UNEXPECTED;
	if (!bms_crc16_modbus_ok(frame, len))
		return BMS_E_CHECKSUM;
	uint8_t fc = c->step == DW2_WRITE ? DM_FC_WRITE : DM_FC_READ;
	if (frame[1] == (fc | DM_FC_ERROR) && len == DM_ERR_LEN) {
		c->refused = true;
		return BMS_E_REFUSED;
	}
	if (frame[1] != fc)
		return BMS_E_UNEXPECTED; /* a late answer of another kind */
	if (c->step == DW2_WRITE) {
		uint8_t want[DM_REQ_LEN];
		if (len != DM_REQ_LEN || dm_wrequest(c, want, sizeof(want)) != DM_REQ_LEN ||
		    memcmp(frame + 1, want + 1, 5) != 0)
			return BMS_E_UNEXPECTED; /* not the echo of this write */
		c->step = DW2_BACK;  /* "received", nothing more: the read-back decides */
		return BMS_OK;
	}
	if (frame[2] != 2 * dm_wcount(c))
		return BMS_E_UNEXPECTED; /* a late answer of a poll's read */
	if (len != 5u + frame[2])
		return BMS_E_SHORT;
	int64_t raw;
	if (!dm_wraw(c, bms_be16(frame + 3), &raw))
		return BMS_E_RANGE; /* 0 A: which side is not known; nothing is written */
	if (c->step == DW2_READ) {
		c->old_raw = raw;
		c->have_old = true;
	} else {
		c->back_raw = raw;
		c->have_back = true;
	}
	c->step++;
	return BMS_OK;
}

/* syssi/esphome-daly-bms's number table (address, factor, offset, range)
 * and switch table (0x00CF), ba082a1: mV, 0.1 A about 30000, 0.1 Ah,
 * 0.1 %; the level-2 ("alarm") register of each pair, as the reads take
 * them.  The over-currents' raw value is the magnitude (0.1 A, up to
 * 3000.0 A: the side under 30000 takes no more). */
#define DM2_MV(reg) { reg, 1000, 0, 0, 65535 }
static const struct bms_writer dm_writer = {
	.field = {
		[BMS_W_SOC] = { 0xA7, 10, 0, 0, 1000 },
		[BMS_W_BALANCER] = { DM2_R_BALANCER, 1, 0, 0, 1 },
		[BMS_W_BALANCE_START_V] = DM2_MV(0xA3),
		[BMS_W_BALANCE_DELTA_V] = DM2_MV(0xA4),
		[BMS_W_CELL_OVP_V] = DM2_MV(0x8C),
		[BMS_W_CELL_UVP_V] = DM2_MV(0x8E),
		[BMS_W_CHARGE_OCP_A] = { 0x94, 10, 0, 1, DM_CURRENT_ZERO },
		[BMS_W_DISCHARGE_OCP_A] = { 0x96, 10, 0, 1, DM_CURRENT_ZERO },
		[BMS_W_CAPACITY_AH] = { 0x80, 10, 0, 0, 65535 },
	},
	.wire = 0,
	.ble = BMS_W_ALL & ~(BMS_W_BIT(BMS_W_CELL_OVP_RELEASE_V) | BMS_W_BIT(BMS_W_CELL_UVP_RELEASE_V)),
	.none_wire = "the wired 0x81 dialect's settings registers are not confirmed by a capture of a settings "
		     "write (BMSTool), so none of its settings is written",
	.none_ble = "over Bluetooth LE only the D2 dialect's settings are written: a pack that speaks the 0x81 "
		    "dialect takes none (its settings registers are not confirmed by a capture of a settings write)",
	.request = dm_wrequest,
	.answer = dm_wanswer,
};

static const struct bms_wfield *dm_wfield(const struct bms_wchange *c)
{
	if (c->key >= BMS_W_COUNT || !dm_writer.field[c->key].mul)
		return NULL;
	return &dm_writer.field[c->key];
}

static const struct bms_ble dm_ble = {
	.gatt = dm_gatt,
	.hints = dm_ble_hints,
};

static const struct bms_control_ops dm_control = {
	.gap_floor = 0.02,
	.request = dm_control_request,
	.ack = dm_control_ack,
};

const struct bms_driver bms_daly_modbus_driver = {
	.name = "daly-modbus",
	.description = "Daly H/K/M/S-series and 100 Balance Modbus-like protocol (0x80+board, CRC-16)",
	.vendor = "Daly",
	.protocol_id = 2,
	/* the D2 settings answer and the balancer switch (BLE, packs with control or
	 * bms_settings; §14.2) */
	.settings = BMS_SET_BIT(BMS_SET_CAPACITY_AH) | BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) |
		    BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V) |
		    BMS_SET_BIT(BMS_SET_CHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_UTP_C) |
		    BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_UTP_C) |
		    BMS_SET_BIT(BMS_SET_CELL_DIFF_V) | BMS_SET_BIT(BMS_SET_BALANCE_START_V) |
		    BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) | BMS_SET_BIT(BMS_SET_CELL_COUNT) |
		    BMS_SET_BIT(BMS_SET_CHARGE_OCP_A) | BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_A) | BMS_SET_BIT(BMS_SET_BALANCER),
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_SETPOINT,
	.default_baud = 9600,
	/* Modbus RTU: no floor before a read is documented (3.5 character
	 * times).  Before a write the 20 ms dbus-serialbattery found Daly boards
	 * need (legacy protocol, PR #15 of mr-manuel/venus-os_dbus-serialbattery):
	 * the same boards and RS485 front end, and a write is rare */
	.gap_floor = 0,
	.control = &dm_control,
	.writer = &dm_writer,
	.interbyte = 0.2,
	.min_address = 1,
	.max_address = DM_MAX_BOARD,
	.default_timeout = 1.0,
	.next_request = dm_next_request,
	.listen = &dm_listen,
	.scan = dm_scan,
	.handle = dm_handle,
	.timeout = dm_timeout,
	.finish = bms_finish_pack,
	.ble = &dm_ble,
	.probe = &dm_probe,
};
