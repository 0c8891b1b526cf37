/* SPDX-License-Identifier: MIT */
/* bms/jk_ble.c - JK BMS over Bluetooth LE, the "JK02" protocol (JK-B / JK-BD
 * "JK-Bx" boards with the JK BLE module, and the JK-PB inverter BMS).
 *
 * See bms/PROTOCOLS.md §15.  Bluetooth LE only: service FFE0, the BMS
 * notifies on FFE1 and takes writes on FFE1 (one characteristic with both
 * flags on the old module, two FFE1 characteristics told apart by their
 * flags on the new one; §13.1).  Requests are 20 bytes
 *	AA 55 90 EB <cmd> <len> <value, little-endian> 00 ... <sum8 of 0..18>
 * (0x97 device info, 0x96 cell info; a register write is cmd = register,
 * len = 4), answers are JK's 300-byte records
 *	55 AA EB 90 <type> <counter> ... <sum8 of 0..298>
 * (type 1 settings, 2 cell info, 3 device info), sometimes followed by a
 * 20-byte "AA 55 90 EB C8 01 01 00 ... 44" acknowledgement and with "AT\r\n"
 * from the BLE module in between, all cut into notifications of up to
 * MTU - 3 bytes (128 + 128 + 44 at ATT MTU 131).  scan() finds the records
 * and the acknowledgements in that byte stream (a poll ignores the
 * acknowledgements; a settings write takes one as "received"); echoed
 * requests are skipped whole, everything else byte by byte.
 *
 * The BMS answers 0x97 with a device-info record and 0x96 with a settings
 * record, after which it streams a cell-info record about every 0.4 s by
 * itself until the connection ends.  A poll therefore is:
 *	INFO	0x97 -> device info: the software version decides the layout of
 *		the cell records (major < 11: JK02_24S, else JK02_32S; a
 *		version that is no number: JK02_32S, as fl4p/batmon-ha falls
 *		back); asked on the first poll of a connection (link_fresh),
 *		while the layout is not known, and after a poll that failed
 *		there;
 *	SETTINGS 0x96 -> settings: asked when the BMS is not known to be
 *		streaming, for packs with control (the record holds the
 *		charge / discharge switch settings), and with the slow values
 *		(refresh polls, and while no current limits are kept): the
 *		record's max charge / discharge current (0 A where a switch is
 *		off) are the current limits, kept for the polls between; a
 *		cell record that comes instead completes the poll when the
 *		settings are not wanted;
 *	CELLS	nothing is sent (struct bms_driver.listens): the next cell
 *		record the BMS streams completes the poll.  A listening try
 *		that gets none marks the BMS as not streaming, so the retry
 *		(and the next poll) sends 0x96 again and listens after its
 *		settings record.
 * The cell record is decoded by bms/base/jkrecord.c, the decoder of jk-pb's
 * RS485 status frame (the same record, JK02_32S), in the learned layout.
 *
 * MOSFET control (§15.6): the charge / discharge switch registers 0x1D /
 * 0x1E written with the request frame (len 4, value 1 on / 0 off), as
 * syssi/esphome-jk-bms's switches and fl4p/batmon-ha write them.  No
 * acknowledgement is known (control->unacked): the read-back decides (the
 * settings record's switches, the cell record's MOSFETs).
 *
 * Settings writes (bms_settings, §15.7): the register write, the BMS's
 * 0xC8 acknowledgement (received, no proof), then 0x96 and the settings
 * record's field, which must equal the value written.
 *
 * Progress in struct bms_poll:
 *	step	JKB_BEGIN until the first answer, then the step (enum below);
 *		at JKB_BEGIN the step is the first one the poll needs
 *	persist	JKB_P_LAYOUT (the layout is known), JKB_P_24S (it is
 *		JK02_24S), JKB_P_GREETED (0x97 answered on this connection),
 *		JKB_P_STREAMING (the last listening step got a cell record),
 *		JKB_P_NOLIM (the last settings record had impossible limits:
 *		no limits, read again on refresh polls)
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "jkrecord.h"

#define JKB_REQ_LEN 20
#define JKB_REQ_SUM 19
#define JKB_CMD_CELLS 0x96      /* cell info: settings record, then the stream */
#define JKB_CMD_INFO 0x97       /* device info */
#define JKB_CMD_ACK 0xC8        /* the BMS's acknowledgement (§15.2) */
#define JKB_REG_CHG 0x1D        /* charge switch (JK02_24S and JK02_32S) */
#define JKB_REG_DSG 0x1E        /* discharge switch */
#define JKB_SW_32S 11           /* software major from which the layout is JK02_32S */

enum { JKB_BEGIN = 0, JKB_INFO, JKB_SETTINGS, JKB_CELLS, JKB_DONE };

#define JKB_P_LAYOUT 0x1u
#define JKB_P_24S 0x2u
#define JKB_P_GREETED 0x4u
#define JKB_P_STREAMING 0x8u
#define JKB_P_NOLIM 0x10u

static const uint8_t jkb_req_magic[4] = { 0xAA, 0x55, 0x90, 0xEB };

/* Does this poll want the settings record (switches, current limits)? */
static bool jkb_settings_wanted(const struct bms_poll *poll)
{
	return poll->setpoints || poll->refresh ||
	       (!(poll->kept.have & BMS_HAS_CUR_LIMITS) && !(poll->persist & JKB_P_NOLIM));
}

/* The step the poll is at: the first one it needs until an answer moved
 * it on. */
static int jkb_step(const struct bms_poll *poll)
{
	if (poll->step != JKB_BEGIN)
		return poll->step;
	if (poll->link_fresh || (poll->persist & (JKB_P_LAYOUT | JKB_P_GREETED)) != (JKB_P_LAYOUT | JKB_P_GREETED))
		return JKB_INFO;
	if (jkb_settings_wanted(poll) || !(poll->persist & JKB_P_STREAMING))
		return JKB_SETTINGS;
	return JKB_CELLS;
}

static enum jk_layout jkb_layout(const struct bms_poll *poll)
{
	return (poll->persist & (JKB_P_LAYOUT | JKB_P_24S)) == (JKB_P_LAYOUT | JKB_P_24S) ? JK_LAYOUT_24S
											  : JK_LAYOUT_32S;
}

/* A 20-byte request: AA 55 90 EB cmd len value(LE, len bytes) 00... sum8. */
static int jkb_frame(uint8_t *out, size_t cap, uint8_t cmd, uint8_t len, uint32_t value)
{
	int rc = bms_req_open(out, cap, JKB_REQ_LEN, jkb_req_magic, sizeof(jkb_req_magic));
	if (rc < 0)
		return rc;
	out[4] = cmd;
	out[5] = len;
	for (unsigned i = 0; i < len && i < 4; i++)
		out[6 + i] = (uint8_t)(value >> (8 * i));
	out[JKB_REQ_SUM] = jk_record_sum(out, JKB_REQ_SUM);
	return JKB_REQ_LEN;
}

static bool jkb_listens(const struct bms_poll *poll)
{
	return jkb_step(poll) == JKB_CELLS && poll->attempt == 0;
}

static int jkb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	switch (jkb_step(poll)) {
	case JKB_INFO:
		/* the conversation starts over: greeted and streaming again
		 * only when the BMS answers */
		poll->persist &= ~(JKB_P_GREETED | JKB_P_STREAMING);
		return jkb_frame(out, cap, JKB_CMD_INFO, 0, 0);
	case JKB_SETTINGS:
	case JKB_CELLS: /* a retry: the stream stopped */
		return jkb_frame(out, cap, JKB_CMD_CELLS, 0, 0);
	case JKB_DONE:
		return 0;
	default:
		return BMS_E_RANGE;
	}
}

/* Records (55 AA EB 90, type 1, 2, 3 or 5, 300 bytes, sum8) are frames;
 * acknowledgements and requests (AA 55 90 EB, 20 bytes, sum8) are skipped
 * whole; anything else (the BLE module's "AT\r\n", the rest of a record
 * whose notification was lost) byte by byte up to the next 0x55 or 0xAA. */
static enum bms_scan jkb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (buf[0] == jk_record_magic[0]) {
		size_t k = len < sizeof(jk_record_magic) ? len : sizeof(jk_record_magic);
		uint8_t type = len > JK_RECORD_TYPE ? buf[JK_RECORD_TYPE] : JK_REC_CELLS;
		if (memcmp(buf, jk_record_magic, k) != 0 || type < JK_REC_SETTINGS || type > JK_REC_LOGBOOK ||
		    type == 4) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
		if (len < JK_RECORD_LEN)
			return BMS_SCAN_NEED;
		return bms_scan_tail(jk_record_sum(buf, JK_RECORD_LEN - 1) == buf[JK_RECORD_SUM], true, JK_RECORD_LEN, n);
	}
	if (buf[0] == jkb_req_magic[0]) {
		size_t k = len < sizeof(jkb_req_magic) ? len : sizeof(jkb_req_magic);
		if (memcmp(buf, jkb_req_magic, k) != 0) {
			*n = 1;
			return BMS_SCAN_SKIP;
		}
		if (len < JKB_REQ_LEN)
			return BMS_SCAN_NEED;
		/* the BMS's acknowledgement is a frame (a poll ignores it, a
		 * settings write takes it as received); our request echoed,
		 * or the app's, is skipped whole */
		return bms_scan_tail(jk_record_sum(buf, JKB_REQ_SUM) == buf[JKB_REQ_SUM], buf[4] == JKB_CMD_ACK,
				     JKB_REQ_LEN, n);
	}
	*n = bms_scan_skip(buf, len, (const uint8_t[]){ jk_record_magic[0], jkb_req_magic[0] }, 2);
	return BMS_SCAN_SKIP;
}

/* A cell record: the sample, in the learned layout; switch settings and
 * limits read earlier in this poll are kept. */
static void jkb_cells(struct bms_poll *poll, const uint8_t *frame)
{
	struct bms_snapshot *s = &poll->snap;
	const struct bms_snapshot was = *s;

	jk_record_decode_cells(frame, jkb_layout(poll), poll->cells_forced, poll->invert_current, s);
	s->chg_set = was.chg_set;
	s->dsg_set = was.dsg_set;
	s->bms_ccl_a = was.bms_ccl_a;
	s->bms_dcl_a = was.bms_dcl_a;
	s->present |= was.present & (BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS);
	poll->persist |= JKB_P_STREAMING;
	poll->step = JKB_DONE;
}

/* A settings record: the switches (for packs with control) and the
 * current limits, kept; impossible limits are neither reported nor kept. */
static void jkb_settings(struct bms_poll *poll, const uint8_t *frame)
{
	float ccl, dcl;

	jk_record_settings(frame, &poll->kept.settings); /* shown read only */
	if (poll->setpoints) {
		jk_record_switches(frame, &poll->snap.chg_set, &poll->snap.dsg_set);
		poll->snap.present |= BMS_HAS_SETPOINT;
	}
	if (jk_record_limits(frame, &ccl, &dcl) == BMS_OK) {
		bms_set_cur_limits(poll, ccl, dcl, true);
		poll->persist &= ~JKB_P_NOLIM;
	} else {
		poll->kept.have &= ~(uint32_t)BMS_HAS_CUR_LIMITS;
		poll->persist |= JKB_P_NOLIM;
	}
}

static int jkb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	if (len == JKB_REQ_LEN && memcmp(frame, jkb_req_magic, sizeof(jkb_req_magic)) == 0)
		return BMS_E_UNEXPECTED; /* an acknowledgement: nothing for a poll */
	if (len != JK_RECORD_LEN)
		return BMS_E_SHORT;
	if (memcmp(frame, jk_record_magic, sizeof(jk_record_magic)) != 0)
		return BMS_E_HEADER;
	if (!jk_record_ok(frame))
		return BMS_E_CHECKSUM;

	uint8_t type = frame[JK_RECORD_TYPE];
	switch (jkb_step(poll)) {
	case JKB_INFO: {
		if (type != JK_REC_INFO)
			return BMS_E_UNEXPECTED;
		int major = jk_record_sw_major(frame);
		poll->persist &= ~JKB_P_24S;
		poll->persist |= JKB_P_LAYOUT | JKB_P_GREETED;
		if (major >= 0 && major < JKB_SW_32S)
			poll->persist |= JKB_P_24S;
		poll->step = JKB_SETTINGS;
		return BMS_OK;
	}
	case JKB_SETTINGS:
		if (type == JK_REC_SETTINGS) {
			jkb_settings(poll, frame);
			poll->step = JKB_CELLS;
			return BMS_OK;
		}
		if (type == JK_REC_CELLS && !jkb_settings_wanted(poll)) {
			jkb_cells(poll, frame); /* already streaming: the sample */
			return BMS_OK;
		}
		return BMS_E_UNEXPECTED;
	case JKB_CELLS:
		if (type != JK_REC_CELLS)
			return BMS_E_UNEXPECTED; /* e.g. the settings record of a retry's 0x96 */
		jkb_cells(poll, frame);
		return BMS_OK;
	default:
		return BMS_E_UNEXPECTED;
	}
}

/* A try failed: a listening step that got no cell record means the BMS is
 * not streaming (the next poll asks for it); never completes a step. */
static bool jkb_timeout(struct bms_poll *poll)
{
	if (jkb_step(poll) == JKB_CELLS)
		poll->persist &= ~JKB_P_STREAMING;
	return false;
}

static int jkb_finish(struct bms_poll *poll)
{
	if (poll->step != JKB_DONE)
		return BMS_E_INVALID;
	bms_use_kept_limits(poll);
	return bms_check_pack(&poll->snap, false);
}

/* ---- MOSFET control (bms/PROTOCOLS.md §15.6) -----------------------------
 * One frame per switch: AA 55 90 EB 1D|1E 04 <1 on | 0 off> 00 00 00 00 ...
 * <sum8>.  Unacknowledged: the gateway judges by the read-back. */
static int jkb_ctl_fet(const struct bms_control *c)
{
	int k = 0;
	for (int f = BMS_FET_CHARGE; f <= BMS_FET_DISCHARGE; f++)
		if (c->set[f] && k++ == c->step)
			return f;
	return -1;
}

static int jkb_control_request(struct bms_control *c, uint8_t *out, size_t cap)
{
	int f = jkb_ctl_fet(c);
	if (f < 0)
		return 0;
	int n = jkb_frame(out, cap, f == BMS_FET_CHARGE ? JKB_REG_CHG : JKB_REG_DSG, 4, c->on[f] ? 1 : 0);
	if (n > 0)
		c->step++; /* nothing acknowledges it: the next frame, then the read-back */
	return n;
}

static int jkb_control_ack(struct bms_control *c, const uint8_t *frame, size_t len)
{
	(void)c;
	(void)frame;
	(void)len;
	return BMS_E_UNEXPECTED; /* no acknowledgement is known */
}

/* ---- settings writes (bms/setwrite.h; bms/PROTOCOLS.md §15.7) -------------
 *	AA 55 90 EB <reg> 04 <value:4, LE> 00 x9 <sum8>   ->  AA 55 90 EB C8 01 01 00 ... 44
 *	AA 55 90 EB 96 00 00 x13 10                       ->  settings record (type 1), ...
 * The register write is the request frame (§15.1; syssi/esphome-jk-bms at
 * 2fa4323, jk_bms_ble.cpp build_frame() and its write command test), the
 * registers its number table's (JK02_32S; JK02_24S the same but the
 * balancing start, 0x26 there: syssi/esphome-jk-bms#128, the app's writes).
 * The BMS notifies the 0xC8 acknowledgement after a write (the app's
 * capture, docs/btsnoops/heating-start-stop-setting): taken as "received",
 * which proves nothing; 0x96 then brings the settings record, whose field
 * (offset 6 + 4 (n - 1) of the JK02_32S register, 138 for the balancing
 * start on both layouts) decides.  No refusal is known. */
enum { BW_WRITE, BW_BACK, BW_DONE };
#define JKB_REG_START_24S 0x26 /* the balancing start written on JK02_24S */

static const struct bms_wfield *jkb_wfield(const struct bms_wchange *c);

static int jkb_wrequest(struct bms_wchange *c, uint8_t *out, size_t cap)
{
	const struct bms_wfield *f = jkb_wfield(c);
	if (!f || c->raw < f->lo || c->raw > f->hi)
		return BMS_E_RANGE;
	if (c->quit || c->refused || c->step >= BW_DONE)
		return 0;
	if (c->step == BW_BACK)
		return jkb_frame(out, cap, JKB_CMD_CELLS, 0, 0);
	bool l24 = (c->persist & (JKB_P_LAYOUT | JKB_P_24S)) == (JKB_P_LAYOUT | JKB_P_24S);
	uint8_t reg = c->key == BMS_W_BALANCE_START_V && l24 ? JKB_REG_START_24S : (uint8_t)f->reg;
	c->wrote = true;
	return jkb_frame(out, cap, reg, 4, (uint32_t)c->raw);
}

static int jkb_wanswer(struct bms_wchange *c, const uint8_t *frame, size_t len)
{
	const struct bms_wfield *f = jkb_wfield(c);
	if (!f || c->step >= BW_DONE)
		return BMS_E_UNEXPECTED;
	if (len == JKB_REQ_LEN && memcmp(frame, jkb_req_magic, sizeof(jkb_req_magic)) == 0) {
		if (jk_record_sum(frame, JKB_REQ_SUM) != frame[JKB_REQ_SUM])
			return BMS_E_CHECKSUM;
		if (c->step != BW_WRITE || frame[4] != JKB_CMD_ACK)
			return BMS_E_UNEXPECTED; /* our request echoed, or the read-back's acknowledgement */
		c->step = BW_BACK;         /* received; the read-back decides */
		return BMS_OK;
	}
	if (len != JK_RECORD_LEN || memcmp(frame, jk_record_magic, sizeof(jk_record_magic)) != 0)
		return BMS_E_UNEXPECTED;
	if (!jk_record_ok(frame))
		return BMS_E_CHECKSUM;
	if (c->step != BW_BACK || frame[JK_RECORD_TYPE] != JK_REC_SETTINGS)
		return BMS_E_UNEXPECTED; /* the stream's cell records, a late settings record */
	c->back_raw = bms_le32(frame + JK_RECORD_SET_OFF(f->reg));
	c->have_back = true;
	c->step = BW_DONE;
	return BMS_OK;
}

#define JKB_SETREG(n) (n)
static const struct bms_writer jkb_writer = {
	.field = { JK_SET_WFIELDS(JKB_SETREG) },
	.wire = 0,
	.ble = JK_SET_WKEYS,
	.none_wire = "jk-ble is spoken over Bluetooth LE only (its wired form is jk-pb)",
	.none_ble = NULL,
	.request = jkb_wrequest,
	.answer = jkb_wanswer,
};

static const struct bms_wfield *jkb_wfield(const struct bms_wchange *c)
{
	if (c->key >= BMS_W_COUNT || !jkb_writer.field[c->key].mul)
		return NULL;
	return &jkb_writer.field[c->key];
}

/* Service FFE0; notify and write on FFE1 (§13.1). */
static const struct bms_gatt jkb_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe1"),
	BMS_GATT_END,
};

/* --ble-scan: names JK-*, service FFE0 (github.com/syssi/esphome-jk-bms,
 * aiobmsble's jikong_bms); hardware V19 with firmware 19.3x+ asks for a
 * passkey. */
static const struct bms_ble_hint jkb_ble_hints[] = {
	{1, BMS_BLE_NAME, "JK-", NULL, 0, true, "name JK-*"},
	{1, BMS_BLE_NAME, "JK_", NULL, 0, true, "name JK-*"},
	{1, BMS_BLE_NAME, "JK02", NULL, 0, true, "name JK-*"},
	{4, BMS_BLE_SERVICE, NULL, NULL, 0xFFE0, true, "service FFE0 (JK)"},
	{0},
};

static const struct bms_ble jkb_ble = {
	.only = true,
	.gatt = jkb_gatt,
	.hints = jkb_ble_hints,
};

static const struct bms_control_ops jkb_control = {
	.request = jkb_control_request,
	.ack = jkb_control_ack,
	.unacked = true,
};

const struct bms_driver bms_jk_ble_driver = {
	.name = "jk-ble",
	.description = "JK BMS over Bluetooth LE (JK02: JK-B/BD boards, JK-PB), 0x97/0x96 then streamed 0x55AA records",
	.vendor = "JK",
	.protocol_id = 11,
	.settings = JK_RECORD_SETTINGS,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS,
	/* the notifications of one record come within milliseconds, records
	 * about 0.4 s apart; a streamed record comes every 0.32-0.67 s (§15.3) */
	BMS_BLE_LINK,
	.next_request = jkb_next_request,
	.scan = jkb_scan,
	.handle = jkb_handle,
	.timeout = jkb_timeout,
	.finish = jkb_finish,
	.control = &jkb_control,
	.writer = &jkb_writer,
	.ble = &jkb_ble,
	.listens = jkb_listens,
};
