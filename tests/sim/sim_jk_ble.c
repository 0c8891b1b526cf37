/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jk_ble.c - JK BMS over Bluetooth LE ("JK02"), the BMS side
 * of the GATT link, as a fake BlueZ bridges it to a TCP port (writes to
 * FFE1 in, notifications of FFE1 out).
 *
 * bms/PROTOCOLS.md §15.  Requests are 20 bytes, AA 55 90 EB <cmd> <len>
 * <value, LE> ... <sum8 of 0..18>, any filler (the JK app sends random
 * bytes); answers are 300-byte records 55 AA EB 90 <type> <counter> ...
 * <sum8 of 0..298>, little-endian:
 *	0x97	the device-info record (type 3) and the 20-byte acknowledgement
 *		AA 55 90 EB C8 01 01 00 ... 44: vendor "JK_B2A8S20P", software
 *		11.17 (layout JK02_32S), or with the pack option layout=24s
 *		"JK-B2A24S20P", software 10.07 (JK02_24S);
 *	0x96	the settings record (type 1; the switches at 118 / 122) and the
 *		acknowledgement; from then on the pack streams a cell-info
 *		record (type 2) every 0.4 s by itself (`emit`) until the
 *		connection ends;
 *	0x1D / 0x1E, len 4, value 1 / 0 (and zeros)	the charge / discharge
 *		switch: taken as the pack's control mode says, never answered
 *		(none is known; the read-back shows it);
 *	0x01-0x1B, 0x1F-0x22 (JK02_24S: 0x26 for 0x22), len 4	a setting
 *		(bms_settings writes): taken as the control mode says, shown by
 *		the next settings record, followed by the acknowledgement;
 * anything else is counted as a bad request.  The records' layouts are in
 * sim_jkrecord.h.  With junk=1 the BLE module's "AT\r\n" comes before each
 * record and the acknowledgement after each cell record too.  A fault's
 * COUNT counts answers and streamed records alike.
 * Encoded here from the pack state (the records: sim_jkrecord.c); bms/ is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#include "sim_jkrecord.h"

#define JB_REQ 20
#define JB_REC SIM_JK_REC
#define JB_STREAM_MS 400

static uint8_t sum8(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return (uint8_t)s;
}

static void jb_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_jk_view(p, p->layout24, v);
	sim_jk_view_limits(p, v);
}

static void jb_cells(struct sim_pack *p, uint8_t *f)
{
	sim_jk_cells(p, p->layout24, (uint8_t)p->counter++, f);
}

static void jb_info(struct sim_pack *p, uint8_t *f)
{
	sim_jk_begin(f, 3, (uint8_t)p->counter++);
	sim_jk_text(f + 6, p->layout24 ? "JK-B2A24S20P" : "JK_B2A8S20P");
	sim_jk_text(f + 22, p->layout24 ? "10.XG" : "11.XW");
	sim_jk_text(f + 30, p->layout24 ? "10.07" : "11.17");
	sim_jk_le32(f + 38, p->life);
	sim_jk_le32(f + 42, 1);
	sim_jk_text(f + 46, "BMSGWSIM");
	sim_jk_end(f);
}

static const uint8_t jb_ack[JB_REQ] = {
	0xAA, 0x55, 0x90, 0xEB, 0xC8, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x44,
};

static void jb_at(const struct sim_pack *p, struct sim_reply *reply)
{
	if (p->junk)
		sim_reply_add(reply, (const uint8_t *)"AT\r\n", 4);
}

static enum sim_scan jb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	static const uint8_t magic[4] = { 0xAA, 0x55, 0x90, 0xEB };
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != magic[0]) {
		size_t i = 1;
		while (i < len && buf[i] != magic[0])
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	size_t k = len < 4 ? len : 4;
	if (memcmp(buf, magic, k) != 0) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < JB_REQ)
		return SIM_SCAN_NEED;
	if (sum8(buf, JB_REQ - 1) != buf[JB_REQ - 1]) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = JB_REQ;
	return SIM_SCAN_FRAME;
}

static int jb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static int jb_is_write(const uint8_t *req, size_t n)
{
	return n == JB_REQ && (req[4] == 0x1D || req[4] == 0x1E);
}

/* A settings register written (len 4, the value little-endian: JK02
 * register n; on JK02_24S the balancing start is 0x26 and 0x22 is not
 * taken, syssi/esphome-jk-bms#128): taken as the pack's control mode says
 * (sim_pack_set_write()), shown by the next settings record.  The
 * acknowledgement 0xC8 follows the write whether it was taken or not (refuse,
 * noswitch: not taken; no refusal is known): it proves nothing; silent:
 * nothing answers; noack: taken, unanswered. */
static enum sim_resp jb_setting(struct sim_pack *p, const uint8_t *req, struct sim_reply *reply)
{
	unsigned reg = req[4];
	if (p->layout24 && (reg == 0x22 || reg == 0x26))
		reg = reg == 0x26 ? 0x22 : 0;
	if (req[5] != 4 || !sim_jk_set_writable(reg))
		return SIM_RESP_BAD;
	int apply;
	enum sim_wr w = sim_pack_set_write(p, &apply);
	if (apply)
		sim_jk_set_write(p, reg, (uint32_t)req[6] | (uint32_t)req[7] << 8 | (uint32_t)req[8] << 16 |
		                 (uint32_t)req[9] << 24);
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	sim_reply_add(reply, jb_ack, JB_REQ);
	return SIM_RESP_OK;
}

static enum sim_resp jb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static uint8_t f[JB_REC];
	if (n != JB_REQ)
		return SIM_RESP_BAD;
	switch (req[4]) {
	case 0x97:
		jb_info(p, f);
		jb_at(p, reply);
		sim_reply_add(reply, f, JB_REC);
		sim_reply_add(reply, jb_ack, JB_REQ);
		return SIM_RESP_OK;
	case 0x96:
		sim_jk_settings(p, (uint8_t)p->counter++, f);
		jb_at(p, reply);
		sim_reply_add(reply, f, JB_REC);
		sim_reply_add(reply, jb_ack, JB_REQ);
		p->stream = 1;
		return SIM_RESP_OK;
	case 0x1D:
	case 0x1E: {
		/* the switches, as syssi/esphome-jk-bms and fl4p/batmon-ha write
		 * them: len 4, value 1 / 0 little-endian; no answer is known */
		if (req[5] != 4 || req[6] > 1 || req[7] || req[8] || req[9])
			return SIM_RESP_BAD;
		int on = req[6];
		sim_pack_write(p, req[4] == 0x1D ? on : -1, req[4] == 0x1E ? on : -1);
		return SIM_RESP_NONE;
	}
	default:
		return jb_setting(p, req, reply);
	}
}

/* Every 0.4 s while the connection streams: a cell-info record. */
static enum sim_resp jb_emit(struct sim_pack *p, struct sim_reply *reply)
{
	static uint8_t f[JB_REC];
	if (!p->stream)
		return SIM_RESP_NONE;
	jb_cells(p, f);
	jb_at(p, reply);
	sim_reply_add(reply, f, JB_REC);
	if (p->junk)
		sim_reply_add(reply, jb_ack, JB_REQ);
	return SIM_RESP_OK;
}

static void jb_corrupt(uint8_t *frame, size_t n)
{
	if (n == JB_REC || n == JB_REQ)
		frame[n - 1] ^= 0x01; /* sum8 */
	/* "AT\r\n" stays as it is */
}

const struct sim_proto sim_proto_jk_ble = {
	.name = "jk-ble",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = SIM_JK_CELLS,
	.max_temps = SIM_JK_TEMPS,
	.scan = jb_scan,
	.address = jb_address,
	.respond = jb_respond,
	.view = jb_view,
	.corrupt = jb_corrupt,
	.emit = jb_emit,
	.emit_ms = JB_STREAM_MS,
	.is_write = jb_is_write,
};
