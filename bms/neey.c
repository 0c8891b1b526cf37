/* SPDX-License-Identifier: MIT */
/* bms/neey.c - NEEY / Heltec / EnerKey active balancers over Bluetooth LE
 * (GW-24S4EB, EK-24S4EB, EK-B24S8E200A and their relatives).
 *
 * See bms/PROTOCOLS.md §32.  A balancer, not a BMS: it measures the cells,
 * their wire resistances and its own temperatures, and moves charge from
 * cell to cell; it has no shunt, so it gives no pack current, power, SOC
 * or capacity, and a poll of it serves a balancer unit whose absent values
 * read as register-map.md says (struct bms_snapshot: BMS_HAS_BALANCER).
 *
 * Bluetooth LE only: service FFE0, writes and notifications on FFE1.
 * Requests are 20 bytes
 *	AA 55 11 01 <cmd> 00 14 00 <10 x 00> <sum8 of 0..17> FF
 * (cmd 0x01 device info, 0x04 settings, 0x02 cell info), answers
 *	55 AA 11 <func> <cmd> 00 <length, LE16> ... <sum8 of 0..len-3> FF
 * of the announced length: 100 bytes (device info; settings of the older
 * firmware, "v1"), 150 (settings of SW-2.0.0, "v2"), 300 (cell info), 20
 * (an acknowledgement, func 0x00).  Once asked for its cells the balancer
 * streams a cell-info frame about every 0.5 s by itself until the
 * connection ends.  A poll is:
 *	INFO	0x01 -> the device info: model and software version (the
 *		identity); asked on the first poll of a connection and while
 *		the identity is not known, skipped when it is not answered;
 *	SETTINGS 0x04 -> the settings: their length decides the layout of
 *		the cell frame (150 bytes: v2, else v1, as syssi's component
 *		decides; the cell frame itself does not tell), the cell count
 *		set on the balancer is kept and the settings shown read
 *		only (§32.7); asked with INFO, while the
 *		layout is not known and with the slow values (refresh);
 *	CELLS	the next cell frame: listened for while the balancer streams,
 *		else asked for with 0x02 (and on a retry).
 * The balancer's writes (its switch, its settings) are not sent: the only
 * record of them is one HCI log, no document (§32.6).
 *
 * Progress in struct bms_poll:
 *	step	NEY_BEGIN until the first answer, then the step (enum below)
 *	persist	NEY_P_LAYOUT (the layout is known), NEY_P_V2 (it is v2),
 *		NEY_P_GREETED (the settings were answered on this connection),
 *		NEY_P_STREAMING (the last cell step got a frame)
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"

#define NEY_REQ_LEN 20
#define NEY_HDR 8               /* 55 AA 11 func cmd reg len(2) */
#define NEY_MIN 20              /* an acknowledgement */
#define NEY_MAX 300             /* the cell frame */
#define NEY_LEN_INFO 100
#define NEY_LEN_SET_V1 100
#define NEY_LEN_SET_V2 150
#define NEY_CMD_INFO 0x01
#define NEY_CMD_CELLS 0x02
#define NEY_CMD_SETTINGS 0x04
#define NEY_SLOTS 24            /* cells of a cell frame */
#define NEY_CELL_V 9            /* float V of cell i at 9 + 4i */
#define NEY_CELL_R 105          /* float ohm of cell i at 105 + 4i */
#define NEY_TOTAL_V 201
#define NEY_OP 216              /* operation status */
#define NEY_OP_BALANCING 5
#define NEY_MAX_CELL_V 6.5f     /* beyond any chemistry: a frame that says more is not data */
#define NEY_MAX_PACK_V 200.0f   /* 24 cells of 6.5 V and more */
#define NEY_MAX_RES 60.0f       /* ohm: a resistance the cell slots can carry as mOhm */
#define NEY_MAX_BAL_A 100.0f    /* the largest balancers move 10 A (EK-B24S10E...) */

enum { NEY_BEGIN = 0, NEY_INFO, NEY_SETTINGS, NEY_CELLS, NEY_DONE };

#define NEY_P_LAYOUT 0x1u
#define NEY_P_V2 0x2u
#define NEY_P_GREETED 0x4u
#define NEY_P_STREAMING 0x8u

static const uint8_t ney_req_hdr[4] = { 0xAA, 0x55, 0x11, 0x01 };
static const uint8_t ney_ans_hdr[3] = { 0x55, 0xAA, 0x11 };

/* Where a cell frame's values are (syssi/esphome-jk-bms's heltec_balancer_ble:
 * v1 of the older firmware, v2 of SW-2.0.0, which moves the tail by 37). */
struct ney_layout {
	uint16_t bal_a, t1, t2;
	uint16_t mos, board;    /* 0: not in this layout */
	uint16_t masks;         /* 5 x 24-bit masks: detection failed, OV, UV, polarity, wire resistance */
	uint16_t flags;         /* overheating, charging fault, discharging fault */
};
static const struct ney_layout ney_v1 = { 217, 221, 225, 0, 0, 229, 244 };
static const struct ney_layout ney_v2 = { 218, 226, 230, 234, 238, 266, 281 };

static float ney_float(const uint8_t *p)
{
	uint32_t u = bms_le32(p);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* ---- requests ------------------------------------------------------------ */

/* The step the poll is at: the first one it needs until an answer moved
 * it on. */
static int ney_step(const struct bms_poll *poll)
{
	if (poll->step != NEY_BEGIN)
		return poll->step;
	if (poll->link_fresh || (poll->persist & (NEY_P_LAYOUT | NEY_P_GREETED)) != (NEY_P_LAYOUT | NEY_P_GREETED))
		return bms_ident_due(poll) ? NEY_INFO : NEY_SETTINGS;
	if (poll->refresh)
		return NEY_SETTINGS;
	return NEY_CELLS;
}

/* A 20-byte read request: AA 55 11 01 cmd 00 14 00 0... sum8 FF, the sum
 * as syssi's and aiobmsble's drivers send it (§32.2). */
static int ney_frame(uint8_t *out, size_t cap, uint8_t cmd)
{
	int rc = bms_req_open(out, cap, NEY_REQ_LEN, ney_req_hdr, sizeof(ney_req_hdr));
	if (rc < 0)
		return rc;
	out[4] = cmd;
	out[6] = NEY_REQ_LEN;
	out[NEY_REQ_LEN - 2] = (uint8_t)bms_sum(out, NEY_REQ_LEN - 2);
	out[NEY_REQ_LEN - 1] = 0xFF;
	return NEY_REQ_LEN;
}

static bool ney_listens(const struct bms_poll *poll)
{
	return ney_step(poll) == NEY_CELLS && poll->attempt == 0 && (poll->persist & NEY_P_STREAMING);
}

static int ney_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	switch (ney_step(poll)) {
	case NEY_INFO:
		/* the conversation starts over: streaming again once a cell
		 * frame comes */
		poll->persist &= ~(NEY_P_GREETED | NEY_P_STREAMING);
		return ney_frame(out, cap, NEY_CMD_INFO);
	case NEY_SETTINGS:
		poll->persist &= ~NEY_P_GREETED;
		return ney_frame(out, cap, NEY_CMD_SETTINGS);
	case NEY_CELLS: /* not streaming, or a retry: ask */
		return ney_frame(out, cap, NEY_CMD_CELLS);
	case NEY_DONE:
		return 0;
	default:
		return BMS_E_RANGE;
	}
}

/* ---- the framer ---------------------------------------------------------- */

/* A request (ours echoed, or another app's on the same module): 20 bytes
 * AA 55 11, its check the sum or the XOR of 0..17, 0xFF; 0 if it is none. */
static size_t ney_request_at(const uint8_t *buf, size_t len)
{
	if (len < NEY_REQ_LEN || buf[NEY_REQ_LEN - 1] != 0xFF)
		return 0;
	uint8_t x = 0;
	for (size_t i = 0; i < NEY_REQ_LEN - 2; i++)
		x ^= buf[i];
	uint8_t c = buf[NEY_REQ_LEN - 2];
	return c == (uint8_t)bms_sum(buf, NEY_REQ_LEN - 2) || c == x ? NEY_REQ_LEN : 0;
}

/* Answers (55 AA 11, func 0 or 1, 20 to 300 bytes as announced, sum8 and
 * 0xFF) are frames; requests (AA 55 11 ...) are skipped whole; anything
 * else (the BLE module's "AT\r\n", the rest of a frame whose notification
 * was lost) up to the next 0x55 or 0xAA. */
static enum bms_scan ney_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] == ney_req_hdr[0]) {
		size_t k = len < 3 ? len : 3;
		if (memcmp(buf, ney_req_hdr, k) == 0 && len < NEY_REQ_LEN)
			return BMS_SCAN_NEED;
		size_t r = k == 3 && memcmp(buf, ney_req_hdr, 3) == 0 ? ney_request_at(buf, len) : 0;
		*n = r ? r : 1;
		return BMS_SCAN_SKIP;
	}
	if (buf[0] != ney_ans_hdr[0]) {
		*n = bms_scan_skip(buf, len, (const uint8_t[]){ ney_ans_hdr[0], ney_req_hdr[0] }, 2);
		return BMS_SCAN_SKIP;
	}
	size_t k = len < sizeof(ney_ans_hdr) ? len : sizeof(ney_ans_hdr);
	if (memcmp(buf, ney_ans_hdr, k) != 0 || (len > 3 && buf[3] > 1)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < NEY_HDR)
		return BMS_SCAN_NEED;
	size_t flen = bms_le16(buf + 6);
	if (flen < NEY_MIN || flen > NEY_MAX) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	if (len < flen)
		return BMS_SCAN_NEED;
	return bms_scan_tail((uint8_t)bms_sum(buf, flen - 2) == buf[flen - 2] && buf[flen - 1] == 0xFF, true, flen, n);
}

/* ---- the decoder --------------------------------------------------------- */

/* The device info: the model (8..23), hardware (24..31), software (32..39)
 * and protocol versions (40..47), the date it was made (48..55). */
static void ney_info(struct bms_poll *poll, const uint8_t *f)
{
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_ident_text(id->model, sizeof(id->model), f + 8, 16);
	bms_ident_text(id->firmware, sizeof(id->firmware), f + 32, 8);
	poll->kept.ident_state = BMS_IDENT_HAVE;
}

/* The balancer's settings shown read only (§32.7; syssi's
 * heltec_balancer_ble decode_settings_ / decode_settings_v2_): the key,
 * its offset, the field (a little-endian float, u8, u16 or u32), the
 * factor to the key's unit and the range of the value taken; a value
 * outside it (or not a number) leaves the key absent. */
enum { NEY_F32, NEY_U8, NEY_U16, NEY_U32 };
struct ney_set {
	uint8_t key, off, type;
	float mul, lo, hi;
};
#define NEY_SET_END 0xFF
static const struct ney_set ney_set_v1[] = {
	{ BMS_SET_CELL_COUNT, 8, NEY_U8, 1.0f, 1.0f, NEY_SLOTS },
	{ BMS_SET_BALANCE_DELTA_V, 9, NEY_F32, 1.0f, 0.0f, NEY_MAX_CELL_V },
	{ BMS_SET_BALANCE_CURRENT_A, 13, NEY_F32, 1.0f, 0.0f, NEY_MAX_BAL_A },
	{ BMS_SET_CAPACITY_AH, 24, NEY_U32, 1.0f, 1.0f, 100000.0f },
	{ BMS_SET_BALANCE_START_V, 28, NEY_F32, 1.0f, 0.0f, NEY_MAX_CELL_V },
	{ NEY_SET_END, 0, 0, 0.0f, 0.0f, 0.0f },
};
static const struct ney_set ney_set_v2[] = {
	{ BMS_SET_CELL_COUNT, 9, NEY_U8, 1.0f, 1.0f, NEY_SLOTS },
	{ BMS_SET_CAPACITY_AH, 10, NEY_F32, 1.0f, 0.001f, 100000.0f },
	{ BMS_SET_BALANCE_DELTA_V, 14, NEY_F32, 1.0f, 0.0f, NEY_MAX_CELL_V },
	{ BMS_SET_BALANCE_START_V, 26, NEY_F32, 1.0f, 0.0f, NEY_MAX_CELL_V },
	{ BMS_SET_BALANCE_CURRENT_A, 30, NEY_F32, 1.0f, 0.0f, NEY_MAX_BAL_A },
	{ BMS_SET_CELL_OVP_V, 34, NEY_F32, 1.0f, 0.001f, NEY_MAX_CELL_V },
	{ BMS_SET_CELL_OVP_RELEASE_V, 38, NEY_F32, 1.0f, 0.001f, NEY_MAX_CELL_V },
	{ BMS_SET_CELL_UVP_V, 42, NEY_F32, 1.0f, 0.001f, NEY_MAX_CELL_V },
	{ BMS_SET_CELL_UVP_RELEASE_V, 46, NEY_F32, 1.0f, 0.001f, NEY_MAX_CELL_V },
	{ BMS_SET_CELL_DIFF_V, 50, NEY_F32, 1.0f, 0.0f, NEY_MAX_CELL_V },
	{ BMS_SET_POWER_OFF_V, 58, NEY_F32, 1.0f, 0.0f, NEY_MAX_CELL_V },
	{ BMS_SET_CHARGE_OCP_A, 62, NEY_F32, 1.0f, 0.001f, 10000.0f },
	{ BMS_SET_CHARGE_OCP_DELAY_S, 66, NEY_U16, 1.0f, 0.0f, 65535.0f },
	{ BMS_SET_CHARGE_OCP_RELEASE_S, 68, NEY_U16, 1.0f, 0.0f, 65535.0f },
	{ BMS_SET_DISCHARGE_OCP_A, 70, NEY_F32, 1.0f, 0.001f, 10000.0f },
	{ BMS_SET_DISCHARGE_OCP_DELAY_S, 74, NEY_U16, 1.0f, 0.0f, 65535.0f },
	{ BMS_SET_DISCHARGE_OCP_RELEASE_S, 76, NEY_U16, 1.0f, 0.0f, 65535.0f },
	{ BMS_SET_SHORT_CIRCUIT_A, 86, NEY_F32, 1.0f, 0.001f, 100000.0f },
	{ BMS_SET_SHORT_CIRCUIT_DELAY_S, 90, NEY_U16, 1e-6f, 0.0f, 65535.0f }, /* µs */
	{ BMS_SET_SHORT_CIRCUIT_RELEASE_S, 92, NEY_U16, 1.0f, 0.0f, 65535.0f },
	{ BMS_SET_CHARGE_OTP_C, 94, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ BMS_SET_CHARGE_OTP_RELEASE_C, 98, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ BMS_SET_CHARGE_UTP_C, 102, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ BMS_SET_CHARGE_UTP_RELEASE_C, 106, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ BMS_SET_DISCHARGE_OTP_C, 110, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ BMS_SET_DISCHARGE_OTP_RELEASE_C, 114, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ BMS_SET_DISCHARGE_UTP_C, 118, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ BMS_SET_DISCHARGE_UTP_RELEASE_C, 122, NEY_F32, 1.0f, -50.0f, 150.0f },
	{ NEY_SET_END, 0, 0, 0.0f, 0.0f, 0.0f },
};

/* A settings frame's values (the whole frame, its length checked by the
 * caller: every offset of the table is inside it) into *out. */
static void ney_set_read(struct bms_settings *out, const uint8_t *f, const struct ney_set *t)
{
	memset(out, 0, sizeof(*out));
	for (; t->key != NEY_SET_END; t++) {
		const uint8_t *p = f + t->off;
		float v = t->type == NEY_F32   ? ney_float(p)
			  : t->type == NEY_U8  ? (float)p[0]
			  : t->type == NEY_U16 ? (float)bms_le16(p)
					       : (float)bms_le32(p);
		if (v >= t->lo && v <= t->hi) /* false for NaN */
			bms_settings_put(out, (enum bms_set_key)t->key, v * t->mul);
	}
}

/* The settings: their length is the layout; the cell count set on the
 * balancer (v1 byte 8, v2 byte 9; 0 = not set) is kept, the values shown
 * read only go into kept.settings. */
static int ney_settings(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	bool v2 = len == NEY_LEN_SET_V2;
	uint8_t cells = f[v2 ? 9 : 8];
	if (cells > NEY_SLOTS)
		return BMS_E_RANGE;
	ney_set_read(&poll->kept.settings, f, v2 ? ney_set_v2 : ney_set_v1);
	poll->persist &= ~NEY_P_V2;
	poll->persist |= NEY_P_LAYOUT | NEY_P_GREETED | (v2 ? NEY_P_V2 : 0);
	if (cells) {
		poll->kept.ncells = cells;
		poll->kept.have |= BMS_HAS_CELLS;
	} else {
		poll->kept.have &= ~(uint32_t)BMS_HAS_CELLS;
	}
	return BMS_OK;
}

/* How many cell slots are cells: `cells =`, else the count set on the
 * balancer, else up to the last slot that holds a voltage. */
static unsigned ney_ncells(const struct bms_poll *poll, const uint8_t *f)
{
	if (poll->cells_forced)
		return poll->cells_forced < NEY_SLOTS ? poll->cells_forced : NEY_SLOTS;
	if (poll->kept.have & BMS_HAS_CELLS)
		return poll->kept.ncells;
	unsigned n = 0;
	for (unsigned i = 0; i < NEY_SLOTS; i++)
		if (ney_float(f + NEY_CELL_V + 4 * i) != 0.0f)
			n = i + 1;
	return n;
}

/* A temperature that is a number, else NaN (absent).  A number outside
 * -50..150 degC is kept as read: the gateway serves it absent and flags a
 * sensor fault (bms_sensor_faults). */
static float ney_temp(const uint8_t *p)
{
	float t = ney_float(p);
	return isfinite(t) ? t : NAN;
}

/* The balancer's own board temperature (bal_temp_c, which the gateway's
 * gate does not see): one in -50..150 degC, else NaN (not reported). */
static float ney_board_temp(const uint8_t *p)
{
	float t = ney_float(p);
	return t >= BMS_PLAUSIBLE_MIN_C && t <= BMS_PLAUSIBLE_MAX_C ? t : NAN;
}

/* Cells, their resistances and the pack voltage.  A voltage no cell can
 * have rejects the frame (nothing written); resistances out of range are
 * left out. */
static int ney_cells(struct bms_snapshot *s, const uint8_t *f, unsigned n)
{
	bool res_ok = n > 0;
	float total = ney_float(f + NEY_TOTAL_V);
	if (!(total >= 0.0f && total < NEY_MAX_PACK_V))
		return BMS_E_RANGE;
	for (unsigned i = 0; i < n; i++) {
		float v = ney_float(f + NEY_CELL_V + 4 * i), r = ney_float(f + NEY_CELL_R + 4 * i);
		if (!(v >= 0.0f && v < NEY_MAX_CELL_V))
			return BMS_E_RANGE;
		res_ok = res_ok && r >= 0.0f && r < NEY_MAX_RES;
	}
	for (unsigned i = 0; i < n; i++) {
		s->cell_mv[i] = (uint16_t)lroundf(ney_float(f + NEY_CELL_V + 4 * i) * 1000.0f);
		s->cell_res_mohm[i] = res_ok ? ney_float(f + NEY_CELL_R + 4 * i) * 1000.0f : 0.0f;
	}
	s->ncells = (uint8_t)n;
	s->voltage = total;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CELLS | (res_ok ? BMS_HAS_CELL_RES : 0);
	return BMS_OK;
}

/* The fault masks (cells beyond the count dropped: NEEY-04 sets bits of
 * unused slots) and flags, as the one raw word (bit 0 detection failed,
 * 1 over-voltage, 2 under-voltage, 3 polarity, 4 wire resistance, 5
 * overheating, 6 charging fault, 7 discharging fault) and the alarms. */
static void ney_alarms(struct bms_snapshot *s, const uint8_t *f, const struct ney_layout *L, unsigned n)
{
	static const uint32_t mask_al[5] = { BMS_AL_HW_FAULT, BMS_AL_CELL_OV, BMS_AL_CELL_UV, BMS_AL_HW_FAULT,
					     BMS_AL_HW_FAULT };
	uint32_t cells = n >= 32 ? UINT32_MAX : (1u << n) - 1;
	uint16_t raw = 0;
	for (unsigned m = 0; m < 5; m++) {
		const uint8_t *p = f + L->masks + 3 * m;
		uint32_t bits = ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16) & cells;
		if (bits) {
			raw |= (uint16_t)(1u << m);
			s->alarms |= mask_al[m];
		}
	}
	for (unsigned k = 0; k < 3; k++)
		if (f[L->flags + k]) {
			raw |= (uint16_t)(1u << (5 + k));
			s->alarms |= BMS_AL_OTHER;
		}
	/* the operation status: a fault the balancer stopped for (§32.4) */
	switch (f[NEY_OP]) {
	case 3: /* wire resistance too high */
	case 9: /* host fails */
		s->alarms |= BMS_AL_HW_FAULT;
		break;
	case 1:  /* wrong cell count */
	case 8:  /* the balancer too hot */
	case 11: /* temperature too high, balancing stopped */
		s->alarms |= BMS_AL_OTHER;
		break;
	default:
		break;
	}
	s->raw_alarms[0] = raw;
	s->nraw = 1;
	s->present |= BMS_HAS_ALARMS;
}

/* A cell frame in the learned layout: the sample. */
static int ney_sample(struct bms_poll *poll, const uint8_t *f)
{
	const struct ney_layout *L = (poll->persist & NEY_P_V2) ? &ney_v2 : &ney_v1;
	struct bms_snapshot *s = &poll->snap;
	unsigned n = ney_ncells(poll, f);
	int rc = ney_cells(s, f, n);
	if (rc < 0)
		return rc;
	s->temp_c[0] = ney_temp(f + L->t1);
	s->temp_c[1] = ney_temp(f + L->t2);
	s->ntemps = 2;
	s->present |= BMS_HAS_TEMPS;
	float mos = L->mos ? ney_temp(f + L->mos) : NAN;
	if (isfinite(mos)) {
		s->mos_temp_c = mos;
		s->present |= BMS_HAS_MOS_TEMP;
	}
	float a = ney_float(f + L->bal_a);
	s->bal_current = isfinite(a) && fabsf(a) <= NEY_MAX_BAL_A ? a : NAN;
	s->bal_temp_c = L->board ? ney_board_temp(f + L->board) : NAN;
	s->bal_status = f[NEY_OP];
	s->balancing = f[NEY_OP] == NEY_OP_BALANCING;
	s->state = 0; /* a balancer sees no pack current: never charging or discharging */
	s->present |= BMS_HAS_BALANCER | BMS_HAS_BALANCING;
	ney_alarms(s, f, L, n);
	return BMS_OK;
}

static int ney_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len < NEY_MIN || len > NEY_MAX || bms_le16(frame + 6) != len)
		return BMS_E_SHORT;
	if (memcmp(frame, ney_ans_hdr, sizeof(ney_ans_hdr)) != 0)
		return BMS_E_HEADER;
	if ((uint8_t)bms_sum(frame, len - 2) != frame[len - 2] || frame[len - 1] != 0xFF)
		return BMS_E_CHECKSUM;
	uint8_t cmd = frame[4];
	if (len == NEY_MIN)
		return BMS_E_UNEXPECTED; /* an acknowledgement */
	switch (ney_step(poll)) {
	case NEY_INFO:
		if (cmd != NEY_CMD_INFO)
			return BMS_E_UNEXPECTED;
		if (len != NEY_LEN_INFO)
			return BMS_E_SHORT;
		ney_info(poll, frame);
		poll->step = NEY_SETTINGS;
		return BMS_OK;
	case NEY_SETTINGS: {
		if (cmd != NEY_CMD_SETTINGS)
			return BMS_E_UNEXPECTED; /* e.g. a streamed cell frame */
		if (len != NEY_LEN_SET_V1 && len != NEY_LEN_SET_V2)
			return BMS_E_SHORT;
		int rc = ney_settings(poll, frame, len);
		if (rc == BMS_OK)
			poll->step = NEY_CELLS;
		return rc;
	}
	case NEY_CELLS: {
		if (cmd != NEY_CMD_CELLS)
			return BMS_E_UNEXPECTED;
		if (len != NEY_MAX)
			return BMS_E_SHORT;
		int rc = ney_sample(poll, frame);
		if (rc == BMS_OK) {
			poll->persist |= NEY_P_STREAMING;
			poll->step = NEY_DONE;
		}
		return rc;
	}
	default:
		return BMS_E_UNEXPECTED;
	}
}

/* A try failed: an unanswered device info is skipped (the identity is not
 * needed); a cell step that got nothing means the balancer is not
 * streaming (the retry asks). */
static bool ney_timeout(struct bms_poll *poll)
{
	switch (ney_step(poll)) {
	case NEY_INFO:
		bms_ident_missing(poll, false);
		poll->step = NEY_SETTINGS;
		return true;
	case NEY_CELLS:
		poll->persist &= ~NEY_P_STREAMING;
		return false;
	default:
		return false;
	}
}

static int ney_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, NEY_DONE);
}

/* The operation status as syssi's component names it (§32.4). */
static const char *ney_state(uint8_t status)
{
	static const char *const names[] = {
		NULL, "wrong_cell_count", "wire_resistance_test", "wire_resistance_too_high", "system_test_done",
		"balancing", "balancing_finished", "low_voltage", "overheated", "host_fails",
		"low_battery_voltage", "temperature_too_high", "self_test_done",
	};
	return status < sizeof(names) / sizeof(names[0]) ? names[status] : NULL;
}

/* Service FFE0; one FFE1 that writes (with and without response) and
 * notifies (syssi's GATT dumps of a GW-24S4EB and an EK-24S4EB, §32.1). */
static const struct bms_gatt ney_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe1"),
	BMS_GATT_END,
};

/* --ble-scan: GW-24S..., EK-24S..., EK-B24S... (aiobmsble's neey_bms
 * matches GW-* and EK-* with service FEE7; the names are tested whole here,
 * so that no other brand's GW- or EK- name is taken). */
static bool ney_ble_name(const char *name)
{
	size_t i = 3;
	if (strncmp(name, "GW-", 3) != 0 && strncmp(name, "EK-", 3) != 0)
		return false;
	if (name[0] == 'E' && name[i] == 'B')
		i++;
	size_t d = i;
	while (name[i] >= '0' && name[i] <= '9')
		i++;
	return i > d && i - d <= 2 && name[i] == 'S';
}

static const struct bms_ble_hint ney_ble_hints[] = {
	{2, BMS_BLE_NAME, NULL, ney_ble_name, 0, false, "name GW-24S* / EK-24S* / EK-B24S* (NEEY / Heltec balancer)"},
	{0},
};

static const struct bms_ble ney_ble = {
	.only = true,
	.gatt = ney_gatt,
	.hints = ney_ble_hints,
};

const struct bms_driver bms_neey_driver = {
	.name = "neey",
	.description = "NEEY / Heltec / EnerKey active balancer over Bluetooth LE (0x55AA frames): a balancer unit",
	.vendor = "NEEY",
	.protocol_id = 25,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS |
		BMS_HAS_BALANCING | BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	/* v1 gives the first five, v2 all of them (§32.7) */
	.settings = BMS_SET_TEMP_PROTECT | BMS_SET_OCP_PROTECT | BMS_SET_BIT(BMS_SET_CELL_COUNT) |
		    BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) | BMS_SET_BIT(BMS_SET_BALANCE_CURRENT_A) |
		    BMS_SET_BIT(BMS_SET_CAPACITY_AH) | BMS_SET_BIT(BMS_SET_BALANCE_START_V) |
		    BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_OVP_RELEASE_V) |
		    BMS_SET_BIT(BMS_SET_CELL_UVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_RELEASE_V) |
		    BMS_SET_BIT(BMS_SET_CELL_DIFF_V) | BMS_SET_BIT(BMS_SET_POWER_OFF_V) |
		    BMS_SET_BIT(BMS_SET_CHARGE_OCP_RELEASE_S) | BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_RELEASE_S) |
		    BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_A) | BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_DELAY_S) |
		    BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_RELEASE_S),
	/* the notifications of one frame come within milliseconds, frames
	 * about 0.5 s apart; a streamed frame comes every 0.5 s (§32.3) */
	BMS_BLE_LINK,
	.next_request = ney_next_request,
	.scan = ney_scan,
	.handle = ney_handle,
	.timeout = ney_timeout,
	.finish = ney_finish,
	.ble = &ney_ble,
	.listens = ney_listens,
	.balancer_state = ney_state,
};
