/* SPDX-License-Identifier: MIT */
/* bms/jk.c - JK-Bx "4G-GPS remote module common protocol" (0x4E 0x57).
 *
 * See bms/PROTOCOLS.md §5.  JK-B/JK-BD BMS on the GPS / UART-TTL port (or
 * JK's TTL->RS485 level converter), 115200 8N1, one BMS per port: the protocol
 * has no usable bus address.  All multi-byte values are big-endian.
 *
 * Frame (§5.2):
 *	4E 57  LEN(2)  TERMINAL(4)  CMD  SOURCE  TYPE  DATA...  RECORD(4)  68  00 00  SUM(2)
 * LEN counts everything after the STX (total length - 2); SUM is the 16-bit
 * sum of every byte from the STX through the 0x68 end marker.  TYPE is 0 in
 * requests, 1 in replies, 2 in the BMS's own uploads.
 *
 * A poll is one request, the 21-byte "read all" (command 0x06, source 3 =
 * PC, ID 0x00); the BMS answers with the whole list of data IDs.  The only
 * write is the MOSFET switch command (below), on a command.  The DATA of the
 * reply is walked as a sequence of ID + value items (§5.3) with every length
 * checked against the end of the data.  Lengths are fixed per ID, except 0x79
 * (cells), whose first value byte is the number of bytes that follow.  An ID
 * this driver does not know has no known length, so the walk tries the
 * smallest skip after it from which the rest of the data parses as known
 * items ending exactly at the end of the data (at most JK_MAX_UNKNOWN
 * unknown IDs per frame, skips of 0..JK_MAX_SKIP bytes).  If no skip fits,
 * the walk stops there and keeps what it decoded before; nothing after an
 * unresolved ID is trusted.
 *
 * Decoded: cells (0x79), MOSFET temperature (0x80), T1/T2 (0x81/0x82, at
 * most 0x86 of them), voltage (0x83), current (0x84, encoding chosen by the
 * protocol version 0xC0, §5.4), SOC (0x85), cycles (0x87), warnings (0x8B,
 * §5.5), MOSFET states (0x8C), capacity (0xB9 "actual" when non-zero, else
 * 0xAA nominal), the switch settings (0xAB / 0xAC) and, as the current
 * limits, the over-current protection settings: charge 0x99, discharge
 * 0x97 (A, 1..1000; 0 A for a direction whose switch is off; §5.3).  Not
 * transmitted, so absent: remaining capacity, SOH, per-cell balancing (0x8C
 * b2 only says the balancer is running), power, voltage limits.
 *
 * raw_alarms[0] = 0x8B warning bits, raw_alarms[1] = 0x8C status bits.
 *
 * Progress in struct bms_poll: step 0 = read-all outstanding, 1 = done.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define JK_STX0 0x4E
#define JK_STX1 0x57
#define JK_END 0x68
#define JK_HDR 11                 /* STX, LEN, terminal, cmd, source, type */
#define JK_TRAILER 9              /* record number, end marker, checksum */
#define JK_MIN_FRAME (JK_HDR + JK_TRAILER)
#define JK_MAX_FRAME 640          /* a 32-cell reply is about 330 bytes */
#define JK_REQ_LEN 21

#define JK_CMD_READ 0x03          /* read one ID (ID 0 = all, as mpp-solar does) */
#define JK_CMD_READ_ALL 0x06
#define JK_SRC_PC 0x03
#define JK_TYPE_REQUEST 0
#define JK_TYPE_REPLY 1
#define JK_TYPE_UPLOAD 2

#define JK_MAX_UNKNOWN 2          /* unknown IDs resolved per frame */
#define JK_MAX_SKIP 32            /* longest value tried after an unknown ID */

enum {
	JK_ID_CELLS = 0x79,
	JK_ID_MOS_TEMP = 0x80,
	JK_ID_T1 = 0x81,
	JK_ID_T2 = 0x82,
	JK_ID_VOLTAGE = 0x83,
	JK_ID_CURRENT = 0x84,
	JK_ID_SOC = 0x85,
	JK_ID_NSENSORS = 0x86,
	JK_ID_CYCLES = 0x87,
	JK_ID_WARNINGS = 0x8B,
	JK_ID_STATUS = 0x8C,
	JK_ID_DSG_OCP = 0x97,     /* discharge over-current protection, A */
	JK_ID_CHG_OCP = 0x99,     /* charge over-current protection, A */
	JK_ID_CAPACITY = 0xAA,
	JK_ID_SW_CHG = 0xAB,      /* charge switch as set: 1 on, 0 off */
	JK_ID_SW_DSG = 0xAC,      /* discharge switch as set */
	JK_ID_ACTUAL_CAP = 0xB9,
	JK_ID_PROTO_VER = 0xC0,
};

/* Value length of each fixed-length ID of §5.3 (0 = not a known ID).
 * 0x79 is variable; 0xBB-0xBF are write-only but have known lengths. */
static const uint8_t jk_len[256] = {
	[0x80] = 2, [0x81] = 2, [0x82] = 2, [0x83] = 2, [0x84] = 2, [0x85] = 1,
	[0x86] = 1, [0x87] = 2, [0x89] = 4, [0x8A] = 2, [0x8B] = 2, [0x8C] = 2,
	[0x8E] = 2, [0x8F] = 2, [0x90] = 2, [0x91] = 2, [0x92] = 2, [0x93] = 2,
	[0x94] = 2, [0x95] = 2, [0x96] = 2, [0x97] = 2, [0x98] = 2, [0x99] = 2,
	[0x9A] = 2, [0x9B] = 2, [0x9C] = 2, [0x9D] = 1, [0x9E] = 2, [0x9F] = 2,
	[0xA0] = 2, [0xA1] = 2, [0xA2] = 2, [0xA3] = 2, [0xA4] = 2, [0xA5] = 2,
	[0xA6] = 2, [0xA7] = 2, [0xA8] = 2, [0xA9] = 1, [0xAA] = 4, [0xAB] = 1,
	[0xAC] = 1, [0xAD] = 2, [0xAE] = 1, [0xAF] = 1, [0xB0] = 2, [0xB1] = 1,
	[0xB2] = 10, [0xB3] = 1, [0xB4] = 8, [0xB5] = 4, [0xB6] = 4, [0xB7] = 15,
	[0xB8] = 1, [0xB9] = 4, [0xBA] = 24, [0xBB] = 1, [0xBC] = 1, [0xBD] = 1,
	[0xBE] = 2, [0xBF] = 2, [0xC0] = 1,
};

/* 0x8B warning bit n -> normalised alarms (§5.5); b14-15 reserved. */
static const uint32_t jk_alarm_map[16] = {
	BMS_AL_SOC_LOW,                 /* b0 low capacity */
	BMS_AL_MOS_OT,                  /* b1 MOS (power tube) over-temperature */
	BMS_AL_PACK_OV,                 /* b2 charge over-voltage */
	BMS_AL_PACK_UV,                 /* b3 discharge under-voltage */
	BMS_AL_CHG_OT | BMS_AL_DSG_OT,  /* b4 battery over-temperature */
	BMS_AL_CHG_OC,                  /* b5 charge over-current */
	BMS_AL_DSG_OC,                  /* b6 discharge over-current */
	BMS_AL_CELL_DIFF,               /* b7 cell voltage difference */
	BMS_AL_CHG_OT | BMS_AL_DSG_OT,  /* b8 battery-box over-temperature */
	BMS_AL_CHG_UT | BMS_AL_DSG_UT,  /* b9 battery low temperature */
	BMS_AL_CELL_OV,                 /* b10 cell over-voltage */
	BMS_AL_CELL_UV,                 /* b11 cell under-voltage */
	BMS_AL_PROTECTION,              /* b12 309_A protection */
	BMS_AL_PROTECTION,              /* b13 309_B protection */
	0, 0,                           /* b14-15 reserved */
};

/* Values collected by the walk; copied into the snapshot only if the frame
 * as a whole is usable. */
struct jk_vals {
	uint32_t seen;                  /* JK_SEEN_* */
	uint16_t ncells;
	uint16_t cell_mv[BMS_LV_MAX_CELLS];
	uint16_t mos_temp, t[2], voltage, current, cycles, warnings, status;
	uint16_t dsg_ocp, chg_ocp;
	uint8_t soc, nsensors, proto_ver, sw_chg, sw_dsg;
	uint32_t capacity, actual_cap;
	struct bms_settings set;        /* the protection settings 0x8E..0xAA (§5.3) */
	bool complete;                  /* the walk reached the end of the data */
};

enum {
	JK_SEEN_CELLS = 1u << 0,
	JK_SEEN_MOS_TEMP = 1u << 1,
	JK_SEEN_T1 = 1u << 2,
	JK_SEEN_T2 = 1u << 3,
	JK_SEEN_VOLTAGE = 1u << 4,
	JK_SEEN_CURRENT = 1u << 5,
	JK_SEEN_SOC = 1u << 6,
	JK_SEEN_NSENSORS = 1u << 7,
	JK_SEEN_CYCLES = 1u << 8,
	JK_SEEN_WARNINGS = 1u << 9,
	JK_SEEN_STATUS = 1u << 10,
	JK_SEEN_CAPACITY = 1u << 11,
	JK_SEEN_ACTUAL_CAP = 1u << 12,
	JK_SEEN_PROTO_VER = 1u << 13,
	JK_SEEN_SW_CHG = 1u << 14,
	JK_SEEN_SW_DSG = 1u << 15,
	JK_SEEN_DSG_OCP = 1u << 16,
	JK_SEEN_CHG_OCP = 1u << 17,
};

#define JK_OCP_MAX 1000 /* A: the range of 0x97 / 0x99 is 1..1000 (§5.3) */

/* Value length of the item at d[pos] (data ends at end): >= 0 for a known
 * ID whose value fits, -1 for an unknown ID, -2 for a known ID that does
 * not fit or is malformed. */
static int jk_item_len(const uint8_t *d, size_t pos, size_t end)
{
	uint8_t id = d[pos];
	size_t vlen;

	if (id == JK_ID_CELLS) {
		if (pos + 2 > end)
			return -2;
		if (d[pos + 1] % 3 != 0)
			return -2;
		vlen = 1 + (size_t)d[pos + 1];
	} else if (jk_len[id]) {
		vlen = jk_len[id];
	} else {
		return -1;
	}
	if (vlen > end - pos - 1)
		return -2;
	return (int)vlen;
}

/* Do the items from pos on end exactly at end, with at most `unknown`
 * unknown IDs (each followed by a skip of 0..JK_MAX_SKIP bytes)? */
static bool jk_chain_ok(const uint8_t *d, size_t pos, size_t end, int unknown)
{
	while (pos < end) {
		int l = jk_item_len(d, pos, end);
		if (l >= 0) {
			pos += 1 + (size_t)l;
			continue;
		}
		if (l == -2 || unknown <= 0)
			return false;
		for (size_t s = 0; s <= JK_MAX_SKIP && pos + 1 + s <= end; s++)
			if (jk_chain_ok(d, pos + 1 + s, end, unknown - 1))
				return true;
		return false;
	}
	return pos == end;
}

/* JK_SEEN_* flag of an ID this driver decodes, 0 for the others. */
static uint32_t jk_seen_flag(uint8_t id)
{
	switch (id) {
	case JK_ID_CELLS: return JK_SEEN_CELLS;
	case JK_ID_MOS_TEMP: return JK_SEEN_MOS_TEMP;
	case JK_ID_T1: return JK_SEEN_T1;
	case JK_ID_T2: return JK_SEEN_T2;
	case JK_ID_VOLTAGE: return JK_SEEN_VOLTAGE;
	case JK_ID_CURRENT: return JK_SEEN_CURRENT;
	case JK_ID_SOC: return JK_SEEN_SOC;
	case JK_ID_NSENSORS: return JK_SEEN_NSENSORS;
	case JK_ID_CYCLES: return JK_SEEN_CYCLES;
	case JK_ID_WARNINGS: return JK_SEEN_WARNINGS;
	case JK_ID_STATUS: return JK_SEEN_STATUS;
	case JK_ID_CAPACITY: return JK_SEEN_CAPACITY;
	case JK_ID_ACTUAL_CAP: return JK_SEEN_ACTUAL_CAP;
	case JK_ID_PROTO_VER: return JK_SEEN_PROTO_VER;
	case JK_ID_SW_CHG: return JK_SEEN_SW_CHG;
	case JK_ID_SW_DSG: return JK_SEEN_SW_DSG;
	case JK_ID_DSG_OCP: return JK_SEEN_DSG_OCP;
	case JK_ID_CHG_OCP: return JK_SEEN_CHG_OCP;
	default: return 0;
	}
}

/* The BMS's settings among the items (§5.3 table; big-endian, 2 bytes
 * unless said): key, signed, raw / div = the value, the raw range taken. */
static const struct {
	uint8_t id, key;                /* enum bms_set_key */
	bool is_signed;
	float div;
	int32_t lo, hi;
} jk_set[] = {
	{ 0x8E, BMS_SET_PACK_OVP_V, false, 100.0f, 1, 20000 },
	{ 0x8F, BMS_SET_PACK_UVP_V, false, 100.0f, 1, 20000 },
	{ 0x90, BMS_SET_CELL_OVP_V, false, 1000.0f, 1, 10000 },
	{ 0x91, BMS_SET_CELL_OVP_RELEASE_V, false, 1000.0f, 1, 10000 },
	{ 0x92, BMS_SET_CELL_OVP_DELAY_S, false, 1.0f, 0, 65535 },
	{ 0x93, BMS_SET_CELL_UVP_V, false, 1000.0f, 1, 10000 },
	{ 0x94, BMS_SET_CELL_UVP_RELEASE_V, false, 1000.0f, 1, 10000 },
	{ 0x95, BMS_SET_CELL_UVP_DELAY_S, false, 1.0f, 0, 65535 },
	{ 0x96, BMS_SET_CELL_DIFF_V, false, 1000.0f, 0, 10000 },
	{ 0x97, BMS_SET_DISCHARGE_OCP_A, false, 1.0f, 1, JK_OCP_MAX },
	{ 0x98, BMS_SET_DISCHARGE_OCP_DELAY_S, false, 1.0f, 0, 65535 },
	{ 0x99, BMS_SET_CHARGE_OCP_A, false, 1.0f, 1, JK_OCP_MAX },
	{ 0x9A, BMS_SET_CHARGE_OCP_DELAY_S, false, 1.0f, 0, 65535 },
	{ 0x9B, BMS_SET_BALANCE_START_V, false, 1000.0f, 1, 10000 },
	{ 0x9C, BMS_SET_BALANCE_DELTA_V, false, 1000.0f, 0, 10000 },
	{ 0x9E, BMS_SET_MOS_OTP_C, false, 1.0f, 0, 200 },
	{ 0x9F, BMS_SET_MOS_OTP_RELEASE_C, false, 1.0f, 0, 200 },
	{ 0xA3, BMS_SET_CHARGE_OTP_C, false, 1.0f, 0, 200 },
	{ 0xA4, BMS_SET_DISCHARGE_OTP_C, false, 1.0f, 0, 200 },
	{ 0xA5, BMS_SET_CHARGE_UTP_C, true, 1.0f, -100, 100 },
	{ 0xA6, BMS_SET_CHARGE_UTP_RELEASE_C, true, 1.0f, -100, 100 },
	{ 0xA7, BMS_SET_DISCHARGE_UTP_C, true, 1.0f, -100, 100 },
	{ 0xA8, BMS_SET_DISCHARGE_UTP_RELEASE_C, true, 1.0f, -100, 100 },
	{ 0xA9, BMS_SET_CELL_COUNT, false, 1.0f, 1, 32 },         /* 1 byte */
	{ 0xAA, BMS_SET_CAPACITY_AH, false, 1.0f, 1, 100000 },    /* 4 bytes */
};

/* A settings item (ID at p[0], its jk_len[] bytes checked by the walk)
 * into v->set; the first of a repeated ID is kept, a raw value outside its
 * range is left out. */
static void jk_setting(struct jk_vals *v, const uint8_t *p)
{
	for (size_t i = 0; i < sizeof(jk_set) / sizeof(jk_set[0]); i++) {
		if (jk_set[i].id != p[0])
			continue;
		enum bms_set_key k = (enum bms_set_key)jk_set[i].key;
		if (bms_settings_has(&v->set, k))
			return;
		int64_t raw;
		if (jk_len[p[0]] == 1)
			raw = p[1];
		else if (jk_len[p[0]] == 4)
			raw = bms_be32(p + 1);
		else
			raw = jk_set[i].is_signed ? bms_bes16(p + 1) : bms_be16(p + 1);
		bms_settings_put_raw(&v->set, k, raw, jk_set[i].lo, jk_set[i].hi, jk_set[i].div);
		return;
	}
}

/* Store one item (ID at p[0], value from p[1], length already checked). */
static void jk_item(struct jk_vals *v, const uint8_t *p)
{
	const uint8_t *val = p + 1;
	uint32_t flag = jk_seen_flag(p[0]);

	jk_setting(v, p);

	/* Each ID comes once; should one repeat, the first is kept: the items
	 * before an unknown ID are the surest. */
	if (flag == 0 || (v->seen & flag))
		return;
	v->seen |= flag;
	switch (p[0]) {
	case JK_ID_CELLS: {
		unsigned n = val[0] / 3u;
		v->ncells = (uint16_t)n;
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *c = val + 1 + 3 * i;
			/* cell numbers are 1-based; others are not stored */
			if (c[0] >= 1 && c[0] <= n && c[0] <= BMS_LV_MAX_CELLS)
				v->cell_mv[c[0] - 1] = bms_be16(c + 1);
		}
		break;
	}
	case JK_ID_MOS_TEMP: v->mos_temp = bms_be16(val); break;
	case JK_ID_T1: v->t[0] = bms_be16(val); break;
	case JK_ID_T2: v->t[1] = bms_be16(val); break;
	case JK_ID_VOLTAGE: v->voltage = bms_be16(val); break;
	case JK_ID_CURRENT: v->current = bms_be16(val); break;
	case JK_ID_SOC: v->soc = val[0]; break;
	case JK_ID_NSENSORS: v->nsensors = val[0]; break;
	case JK_ID_CYCLES: v->cycles = bms_be16(val); break;
	case JK_ID_WARNINGS: v->warnings = bms_be16(val); break;
	case JK_ID_STATUS: v->status = bms_be16(val); break;
	case JK_ID_CAPACITY: v->capacity = bms_be32(val); break;
	case JK_ID_ACTUAL_CAP: v->actual_cap = bms_be32(val); break;
	case JK_ID_PROTO_VER: v->proto_ver = val[0]; break;
	case JK_ID_SW_CHG: v->sw_chg = val[0]; break;
	case JK_ID_SW_DSG: v->sw_dsg = val[0]; break;
	case JK_ID_DSG_OCP: v->dsg_ocp = bms_be16(val); break;
	case JK_ID_CHG_OCP: v->chg_ocp = bms_be16(val); break;
	}
}

/* Walk the data items d[pos..end). */
static void jk_walk(struct jk_vals *v, const uint8_t *d, size_t pos, size_t end)
{
	int unknown = JK_MAX_UNKNOWN;

	v->complete = false;
	while (pos < end) {
		int l = jk_item_len(d, pos, end);
		if (l >= 0) {
			jk_item(v, d + pos);
			pos += 1 + (size_t)l;
			continue;
		}
		if (l == -2 || unknown <= 0)
			return;
		/* An unknown ID: resume where the rest parses to the end. */
		size_t s;
		for (s = 0; s <= JK_MAX_SKIP && pos + 1 + s <= end; s++)
			if (jk_chain_ok(d, pos + 1 + s, end, unknown - 1))
				break;
		if (s > JK_MAX_SKIP || pos + 1 + s > end)
			return;
		unknown--;
		pos += 1 + s;
	}
	v->complete = true;
}

/* §5.4: 0..100 = degC, above 100 negative: T = 100 - raw. */
static float jk_temp(uint16_t raw)
{
	return raw <= 100 ? (float)raw : (float)(100 - (int)raw);
}

/* A request (§5.2) of command `cmd` around the n bytes of data into out
 * (the caller checked the room): terminal 0, source PC, type request,
 * record number 0.  Returns its length, JK_HDR + n + JK_TRAILER. */
static int jk_request(uint8_t *out, uint8_t cmd, const uint8_t *data, size_t n)
{
	size_t len = JK_HDR + n + JK_TRAILER;
	memset(out, 0, len);
	out[0] = JK_STX0;
	out[1] = JK_STX1;
	out[2] = (uint8_t)((len - 2) >> 8);
	out[3] = (uint8_t)(len - 2);
	out[8] = cmd;
	out[9] = JK_SRC_PC;
	out[10] = JK_TYPE_REQUEST;
	memcpy(out + JK_HDR, data, n);
	out[len - 5] = JK_END;
	uint16_t sum = (uint16_t)bms_sum(out, len - 4);
	out[len - 2] = (uint8_t)(sum >> 8);
	out[len - 1] = (uint8_t)sum;
	return (int)len;
}

static int jk_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const uint8_t all[] = { 0x00 }; /* ID 0 = all */
	if (poll->step != 0)
		return 0;
	if (cap < JK_REQ_LEN)
		return BMS_E_NOSPACE;
	/* 4E 57 00 13 00000000 06 03 00 | 00 | 00000000 68 0000 0129 */
	return jk_request(out, JK_CMD_READ_ALL, all, sizeof(all));
}

/* Length of a frame starting at buf (len >= 4), or 0 if LEN is impossible. */
static size_t jk_frame_len(const uint8_t *buf)
{
	size_t total = (size_t)bms_be16(buf + 2) + 2;
	return total < JK_MIN_FRAME || total > JK_MAX_FRAME ? 0 : total;
}

static bool jk_checksum_ok(const uint8_t *f, size_t total)
{
	return (uint16_t)bms_sum(f, total - 4) == bms_be16(f + total - 2);
}

static enum bms_scan jk_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	enum bms_scan r;
	if (!bms_scan_start(buf, len, JK_STX0, &r, n))
		return r;
	if (len >= 2 && buf[1] != JK_STX1) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < 4)
		return BMS_SCAN_NEED;
	size_t total = jk_frame_len(buf);
	if (total == 0) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	/* header bytes that are known before the whole frame is in */
	if ((len > 10 && buf[10] > JK_TYPE_UPLOAD)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < total)
		return BMS_SCAN_NEED;
	/* A request (our own echo on a half-duplex adapter) is no reply. */
	return bms_scan_tail(buf[total - 5] == JK_END && jk_checksum_ok(buf, total), buf[10] != JK_TYPE_REQUEST,
			     total, n);
}

/* The over-current protection settings as the current limits, 0 A where
 * the switch is off; none when either is missing or outside 1..1000 A. */
static void jk_limits(struct bms_poll *poll, const struct jk_vals *v)
{
	if (!(v->seen & JK_SEEN_CHG_OCP) || !(v->seen & JK_SEEN_DSG_OCP) || v->chg_ocp < 1 ||
	    v->chg_ocp > JK_OCP_MAX || v->dsg_ocp < 1 || v->dsg_ocp > JK_OCP_MAX)
		return;
	bool chg = !(v->seen & JK_SEEN_SW_CHG) || v->sw_chg != 0;
	bool dsg = !(v->seen & JK_SEEN_SW_DSG) || v->sw_dsg != 0;
	bms_set_cur_limits(poll, chg ? (float)v->chg_ocp : 0.0f, dsg ? (float)v->dsg_ocp : 0.0f, false);
}

static int jk_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	struct jk_vals v;

	if (len < JK_MIN_FRAME || len > JK_MAX_FRAME)
		return BMS_E_SHORT;
	if (frame[0] != JK_STX0 || frame[1] != JK_STX1)
		return BMS_E_HEADER;
	if ((size_t)bms_be16(frame + 2) + 2 != len)
		return BMS_E_SHORT;
	if (frame[len - 5] != JK_END)
		return BMS_E_HEADER;
	if (!jk_checksum_ok(frame, len))
		return BMS_E_CHECKSUM;
	/* an echo, the answer to another command, or a late answer */
	if (poll->step != 0 || (frame[10] != JK_TYPE_REPLY && frame[10] != JK_TYPE_UPLOAD) ||
	    (frame[8] != JK_CMD_READ_ALL && frame[8] != JK_CMD_READ))
		return BMS_E_UNEXPECTED;

	memset(&v, 0, sizeof(v));
	jk_walk(&v, frame, JK_HDR, len - JK_TRAILER);
	if (!(v.seen & JK_SEEN_CELLS) && !(v.seen & JK_SEEN_VOLTAGE))
		return BMS_E_INVALID; /* not a data answer (e.g. a bare acknowledgement) */
	if ((v.seen & JK_SEEN_CELLS) && !poll->cells_forced && v.ncells > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;

	if (v.seen & JK_SEEN_CELLS || poll->cells_forced) {
		unsigned n = poll->cells_forced ? poll->cells_forced : v.ncells;
		if (n > BMS_LV_MAX_CELLS)
			n = BMS_LV_MAX_CELLS;
		s->ncells = (uint8_t)n;
		memcpy(s->cell_mv, v.cell_mv, n * sizeof(s->cell_mv[0]));
		if (v.seen & JK_SEEN_CELLS)
			s->present |= BMS_HAS_CELLS;
	}
	if (v.set.have)
		poll->kept.settings = v.set; /* shown read only */
	if (v.seen & JK_SEEN_VOLTAGE) {
		s->voltage = (float)v.voltage / 100.0f;
		s->present |= BMS_HAS_VOLTAGE;
	}
	/* The current encoding depends on 0xC0, which comes last: without it
	 * the frame must have been walked to its end (old firmware). */
	if ((v.seen & JK_SEEN_CURRENT) && ((v.seen & JK_SEEN_PROTO_VER) || v.complete)) {
		float cur;
		if ((v.seen & JK_SEEN_PROTO_VER) && v.proto_ver != 0) {
			/* bit 15 set = charging, bits 0..14 in 10 mA */
			cur = (float)(v.current & 0x7FFF) / 100.0f;
			if (!(v.current & 0x8000))
				cur = -cur;
		} else {
			cur = (float)(10000 - (int)v.current) / 100.0f;
		}
		s->current = poll->invert_current ? -cur : cur;
		s->present |= BMS_HAS_CURRENT;
	}
	if (v.seen & JK_SEEN_SOC) {
		s->soc = v.soc > 100 ? 100.0f : (float)v.soc;
		s->present |= BMS_HAS_SOC;
	}
	if (v.seen & JK_SEEN_CYCLES) {
		s->cycles = v.cycles;
		s->present |= BMS_HAS_CYCLES;
	}
	if (v.seen & JK_SEEN_MOS_TEMP) {
		s->mos_temp_c = jk_temp(v.mos_temp);
		s->present |= BMS_HAS_MOS_TEMP;
	}
	{
		unsigned nt = 0, limit = 2;
		if (v.seen & JK_SEEN_NSENSORS && v.nsensors < limit)
			limit = v.nsensors;
		if ((v.seen & JK_SEEN_T1) && nt < limit)
			s->temp_c[nt++] = jk_temp(v.t[0]);
		if ((v.seen & JK_SEEN_T2) && nt < limit)
			s->temp_c[nt++] = jk_temp(v.t[1]);
		s->ntemps = (uint8_t)nt;
		if (nt)
			s->present |= BMS_HAS_TEMPS;
	}
	if (v.seen & JK_SEEN_ACTUAL_CAP && v.actual_cap) {
		s->full_ah = (float)v.actual_cap;
		s->present |= BMS_HAS_FULL;
	} else if (v.seen & JK_SEEN_CAPACITY && v.capacity) {
		s->full_ah = (float)v.capacity;
		s->present |= BMS_HAS_FULL;
	}
	if (v.seen & JK_SEEN_STATUS) {
		s->chg_mos = (v.status & 0x01) != 0;
		s->dsg_mos = (v.status & 0x02) != 0;
		s->present |= BMS_HAS_MOSFETS;
	}
	if ((v.seen & JK_SEEN_SW_CHG) && (v.seen & JK_SEEN_SW_DSG)) {
		s->chg_set = v.sw_chg != 0;
		s->dsg_set = v.sw_dsg != 0;
		s->present |= BMS_HAS_SETPOINT;
	}
	if (v.seen & JK_SEEN_WARNINGS) {
		s->alarms = 0;
		for (unsigned bit = 0; bit < 16; bit++)
			if (v.warnings & (1u << bit))
				s->alarms |= jk_alarm_map[bit];
		s->raw_alarms[0] = v.warnings;
		s->raw_alarms[1] = v.status;
		s->nraw = 2;
		s->present |= BMS_HAS_ALARMS;
	}
	jk_limits(poll, &v);
	poll->step = 1;
	return BMS_OK;
}

/* ---- MOSFET control (bms/PROTOCOLS.md §5.6) -----------------------------
 * Command 0x02 (write) of one ID, the charge switch 0xAB or the discharge
 * switch 0xAC (1 on, 0 off), in the 22-byte frame users tested on the
 * GPS/UART port (syssi/esphome-jk-bms#404; the ESPHome component sends the
 * same with source 0x02):
 *	4E 57 00 14 00000000 02 03 00 <AB|AC> <0|1> 00000000 68 0000 <sum:2>
 * No answer to a write has ever been captured, so nothing is expected:
 * the gateway decides by reading 0xAB/0xAC (the switches) and 0x8C (the
 * actual MOSFETs) back. */
#define JK_CMD_WRITE 0x02
#define JK_WRITE_LEN 22

static int jk_control_request(struct bms_control *c, uint8_t *out, size_t cap)
{
	int k = 0, f = -1;
	for (int i = BMS_FET_CHARGE; i <= BMS_FET_DISCHARGE && f < 0; i++)
		if (c->set[i] && k++ == c->step)
			f = i;
	if (f < 0)
		return 0;
	if (cap < JK_WRITE_LEN)
		return BMS_E_NOSPACE;
	const uint8_t item[2] = { f == BMS_FET_CHARGE ? JK_ID_SW_CHG : JK_ID_SW_DSG, c->on[f] ? 1 : 0 };
	c->step++; /* nothing to wait for: the next frame, if any, follows */
	return jk_request(out, JK_CMD_WRITE, item, sizeof(item));
}

static int jk_control_ack(struct bms_control *c, const uint8_t *frame, size_t len)
{
	(void)c;
	(void)frame;
	(void)len;
	return BMS_E_UNEXPECTED; /* no acknowledgement is known: read-back decides */
}

/* Identification (§27): the poll's one request, "read all" (command 0x06). */
static const struct bms_probe jk_probe = {
	.bauds = { 115200 },
	.rank = 1,
	.gap = 0.1, /* at least 100 ms between packets (§5.1) */
	.timeout = 0.25,
};

/* Settings writes (bms/setwrite.h): none.  The IDs of the settings are
 * documented (https://github.com/syssi/esphome-jk-bms at 2fa4323, its UART
 * protocol design document: 0x90 cell OVP ... 0xAA capacity), but no driver sends a write of more
 * than one byte and no acknowledgement is captured (bms/PROTOCOLS.md
 * §1.9): nothing is offered until one is. */
static const struct bms_writer jk_writer = {
	.none_wire = "no acknowledgement and no multi-byte write of the 0x4E57 protocol are captured yet, so none "
		     "of its settings is written",
	.none_ble = "jk is a wired protocol",
};

static const struct bms_control_ops jk_control = {
	.request = jk_control_request,
	.ack = jk_control_ack,
	.unacked = true,
};

const struct bms_driver bms_jk_driver = {
	.name = "jk",
	.description = "JK-Bx BMS, GPS/UART port 0x4E57 \"read all\" protocol (115200 baud, one BMS per port)",
	.vendor = "JK",
	.protocol_id = 4,
	.settings = BMS_SET_CELL_PROTECT | BMS_SET_OCP_PROTECT | BMS_SET_BIT(BMS_SET_PACK_OVP_V) |
		    BMS_SET_BIT(BMS_SET_PACK_UVP_V) | BMS_SET_BIT(BMS_SET_CELL_DIFF_V) |
		    BMS_SET_BIT(BMS_SET_BALANCE_START_V) | BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) |
		    BMS_SET_BIT(BMS_SET_MOS_OTP_C) | BMS_SET_BIT(BMS_SET_MOS_OTP_RELEASE_C) |
		    BMS_SET_BIT(BMS_SET_CHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_C) |
		    BMS_SET_BIT(BMS_SET_CHARGE_UTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_UTP_RELEASE_C) |
		    BMS_SET_BIT(BMS_SET_DISCHARGE_UTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_UTP_RELEASE_C) |
		    BMS_SET_BIT(BMS_SET_CELL_COUNT) | BMS_SET_BIT(BMS_SET_CAPACITY_AH),
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS,
	.default_baud = 115200,
	/* "Interval between packets shall be at least 100 ms" (JK protocol
	 * V2.5, bms/PROTOCOLS.md §5.1): before a read and between the frames
	 * of a command alike */
	.gap_floor = 0.1,
	.interbyte = 0.2,
	.min_address = 0,
	.max_address = 0,
	.default_timeout = 1.0,
	.next_request = jk_next_request,
	.scan = jk_scan,
	.handle = jk_handle,
	.timeout = NULL,
	.finish = bms_finish_pack,
	.control = &jk_control,
	.writer = &jk_writer,
	.probe = &jk_probe,
};
