/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jk_pb.c - JK-PB inverter BMS on RS485, the BMS side.
 *
 * bms/PROTOCOLS.md §6.3 ("bus master" sub-protocol B).  A Modbus FC 0x10
 * write of one register (CRC-16/MODBUS) at 0x1620 / 0x161E / 0x161C
 * triggers a 300-byte little-endian frame
 *   55 AA EB 90, type (2 status, 1 settings, 3 device info), counter, ...,
 *   sum8 of bytes 0..298
 * plus the ordinary FC 0x10 acknowledgement `AA 10 16 xx 00 01 CRC`.  Each pack
 * answers only its own DIP address (1..15).  Writes of 2 registers at 0x1070 /
 * 0x1074 (charge / discharge enable) set the switches (reported by the
 * settings frame at 118 / 122; the MOSFETs by the status frame at 198 / 199)
 * and are acknowledged; so are those of the other settings registers
 * 0x1000..0x1084 (bms_settings writes, sim_jkrecord.h: the next settings
 * frame shows them; the pack's control mode applies as to the switches;
 * the cell count is not taken), and of 0x1114, the heater's UINT32 (bit 0
 * heating enabled, bytes 2 / 3 its start / stop temperature: the pack's
 * heat_*; the status frame's 215 / 236 say whether it heats and its
 * current, settings 282..285 show it); other registers get exception 02.  Of FC 0x03 (sub-protocol A,
 * bms/PROTOCOLS.md §6.2: register = block base + byte offset, N registers = 2N bytes)
 * only the device-info block is simulated, the read `bmsgw --detect` makes:
 * 0x1400.. 0x143F (device ID, hardware and software version, uptime, power-on
 * count, serial; 32-bit values high word first); other reads get exception 02.
 *
 * Order of an answer: payload then ack (mpp-solar's captures).  With the pack
 * quirk junk=1 each answer is, at random, payload 00 ack 00 (mr-manuel's
 * capture), ack then payload, or payload then ack.
 * Encoded here from the pack state (the records: sim_jkrecord.c); bms/ is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#include "sim_jkrecord.h"

#define PB_MAX_ADDR 15
#define PB_PAYLOAD SIM_JK_REC
#define PB_FC_READ 0x03
#define PB_FC_WRITE 0x10

static uint16_t pb_crc(const uint8_t *b, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

static int pb_crc_ok(const uint8_t *b, size_t n)
{
	uint16_t crc = pb_crc(b, n - 2);
	return b[n - 2] == (uint8_t)crc && b[n - 1] == (uint8_t)(crc >> 8);
}

static void pb_put_crc(uint8_t *b, size_t n)
{
	uint16_t crc = pb_crc(b, n);
	b[n] = (uint8_t)crc;
	b[n + 1] = (uint8_t)(crc >> 8);
}

/* Requests: FC 0x10 (addr 10 reg cnt bytecount data CRC) or FC 0x03
 * (addr 03 reg cnt CRC). */
static enum sim_scan pb_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len < 2)
		return SIM_SCAN_NEED;
	size_t total;
	if (buf[1] == PB_FC_READ) {
		total = 8;
	} else if (buf[1] == PB_FC_WRITE) {
		if (len < 7)
			return SIM_SCAN_NEED;
		total = 9 + (size_t)buf[6];
	} else {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < total)
		return SIM_SCAN_NEED;
	if (!pb_crc_ok(buf, total)) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = total;
	return SIM_SCAN_FRAME;
}

static int pb_address(const uint8_t *req, size_t n)
{
	if (n < 8 || req[0] < 1 || req[0] > PB_MAX_ADDR)
		return -1; /* 0 would be the bus master's own broadcast */
	return req[0];
}

/* the status frame: JK's cell record in the 32S layout */
static void pb_status(const struct sim_pack *p, uint8_t *f)
{
	sim_jk_cells(p, false, (uint8_t)p->life, f);
}

static void pb_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_jk_view(p, false, v);
	sim_jk_view_limits(p, v);
	/* the heater (status 215, 236; its settings in the settings frame) */
	v->has |= SIM_HAS_HEATER;
	v->heater_on = sim_pack_heater_on(p);
	v->heater_a = v->heater_on ? p->heat_ma / 1000.0 : 0.0;
}

static void pb_info(const struct sim_pack *p, uint8_t *f)
{
	sim_jk_begin(f, 3, (uint8_t)p->life);
	sim_jk_text(f + 6, "JK_PB2A16S20P");
	sim_jk_text(f + 22, "15A");
	sim_jk_text(f + 30, "15.41");
	sim_jk_le32(f + 38, p->life);
	sim_jk_le32(f + 42, 1);
	sim_jk_text(f + 46, "BMSGWSIM");
	sim_jk_end(f);
}

/* The device-info block 0x1400 as FC 0x03 reads it (§6.2: bytes in block
 * order, 32-bit values big-endian, high word first). */
#define PB_INFO_BASE 0x1400
#define PB_INFO_LEN 64

static void pb_info_block(const struct sim_pack *p, uint8_t *b)
{
	memset(b, 0, PB_INFO_LEN);
	sim_jk_text(b, "JK_PB2A16S20P");
	sim_jk_text(b + 16, "15A");
	sim_jk_text(b + 24, "15.41");
	b[32] = (uint8_t)(p->life >> 24);
	b[33] = (uint8_t)(p->life >> 16);
	b[34] = (uint8_t)(p->life >> 8);
	b[35] = (uint8_t)p->life;
	b[39] = 1; /* power-on count */
	sim_jk_text(b + 40, "BMSGWSIM");
}

/* FC 0x03: the device-info block, else exception 02. */
static enum sim_resp pb_read(struct sim_pack *p, const uint8_t *req, struct sim_reply *reply)
{
	unsigned reg = (unsigned)req[2] << 8 | req[3];
	unsigned cnt = (unsigned)req[4] << 8 | req[5];
	uint8_t f[5 + PB_INFO_LEN], block[PB_INFO_LEN];
	if (reg < PB_INFO_BASE || cnt < 1 || reg - PB_INFO_BASE + 2 * cnt > PB_INFO_LEN) {
		uint8_t e[5] = { (uint8_t)p->address, PB_FC_READ | 0x80, 0x02 };
		pb_put_crc(e, 3);
		sim_reply_add(reply, e, sizeof e);
		return SIM_RESP_OK;
	}
	pb_info_block(p, block);
	f[0] = (uint8_t)p->address;
	f[1] = PB_FC_READ;
	f[2] = (uint8_t)(2 * cnt);
	memcpy(f + 3, block + (reg - PB_INFO_BASE), 2 * cnt);
	pb_put_crc(f, 3 + 2 * cnt);
	sim_reply_add(reply, f, 5 + 2 * cnt);
	return SIM_RESP_OK;
}

/* An FC 0x10 acknowledgement or exception from this pack. */
static void pb_ack(struct sim_reply *reply, const struct sim_pack *p, const uint8_t *req)
{
	uint8_t a[8];
	a[0] = (uint8_t)p->address;
	memcpy(a + 1, req + 1, 5);
	pb_put_crc(a, 6);
	sim_reply_add(reply, a, sizeof a);
}

static void pb_exception(struct sim_reply *reply, const struct sim_pack *p, uint8_t code)
{
	uint8_t e[5] = { (uint8_t)p->address, PB_FC_WRITE | 0x80, code };
	pb_put_crc(e, 3);
	sim_reply_add(reply, e, sizeof e);
}

/* The answer to a write of two registers, as the control mode had it:
 * none, exception 04 (a refusal) or the standard FC 0x10 answer. */
static enum sim_resp pb_write_answer(struct sim_reply *reply, const struct sim_pack *p, const uint8_t *req,
                                     enum sim_wr w)
{
	if (w == SIM_WR_SILENT)
		return SIM_RESP_NONE;
	if (w == SIM_WR_REFUSED)
		pb_exception(reply, p, 0x04);
	else
		pb_ack(reply, p, req);
	return SIM_RESP_OK;
}

/* A UINT32 of the settings block (register 0x1000 + 4 (n - 1), JK02
 * register n), written with FC 0x10 of two registers, the value
 * big-endian (the V1.0 document's settings table; txubelaxu/esphome-jk-bms
 * sends 02 10 10 84 00 02 04 00 00 0D 70 3D CC, balancing start 3.440 V):
 * taken as the pack's control mode says (sim_pack_set_write()), shown by
 * the next settings frame, acknowledged by the standard answer; refused
 * with exception 04; another count is exception 03. */
#define PB_SET_BASE 0x1000

static enum sim_resp pb_setting(struct sim_pack *p, const uint8_t *req, unsigned cnt, struct sim_reply *reply)
{
	unsigned reg = (unsigned)req[2] << 8 | req[3];
	if (cnt != 2) {
		pb_exception(reply, p, 0x03);
		return SIM_RESP_OK;
	}
	int apply;
	enum sim_wr w = sim_pack_set_write(p, &apply);
	if (apply)
		sim_jk_set_write(p, (reg - PB_SET_BASE) / 4 + 1,
		                 (uint32_t)req[7] << 24 | (uint32_t)req[8] << 16 | (uint32_t)req[9] << 8 | req[10]);
	return pb_write_answer(reply, p, req, w);
}

static enum sim_resp pb_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                struct sim_reply *reply)
{
	if (n == 8 && req[1] == PB_FC_READ)
		return pb_read(p, req, reply);
	if (n < 8 || req[1] != PB_FC_WRITE || n < 11)
		return SIM_RESP_BAD;
	unsigned reg = (unsigned)req[2] << 8 | req[3];
	unsigned cnt = (unsigned)req[4] << 8 | req[5];
	if (req[6] != 2 * cnt || n != 9 + 2 * cnt)
		return SIM_RESP_BAD;
	static uint8_t f[PB_PAYLOAD];
	if (reg == 0x1620 || reg == 0x161E || reg == 0x161C) {
		if (cnt != 1) {
			pb_exception(reply, p, 0x03);
			return SIM_RESP_OK;
		}
		if (reg == 0x1620)
			pb_status(p, f);
		else if (reg == 0x161E)
			sim_jk_settings(p, (uint8_t)p->life, f);
		else
			pb_info(p, f);
		static const uint8_t zero = 0;
		int order = p->junk ? sim_rand_range(0, 2) : 2;
		switch (order) {
		case 0: /* mr-manuel: payload 00 ack 00 */
			sim_reply_add(reply, f, PB_PAYLOAD);
			sim_reply_add(reply, &zero, 1);
			pb_ack(reply, p, req);
			sim_reply_add(reply, &zero, 1);
			break;
		case 1: /* ack first */
			pb_ack(reply, p, req);
			sim_reply_add(reply, f, PB_PAYLOAD);
			break;
		default: /* mpp-solar: payload ack */
			sim_reply_add(reply, f, PB_PAYLOAD);
			pb_ack(reply, p, req);
			break;
		}
		return SIM_RESP_OK;
	}
	if (reg == 0x1070 || reg == 0x1074) {
		/* BatChargeEN / BatDisChargeEN, UINT32 (JK_BMS.RS485.Modbus.v1_0.pdf
		 * settings table, in syssi/esphome-jk-bms docs/pb2a16s20p): two
		 * registers, 1 on / 0 off, `AA 10 10 70|74 00 02 04 00 00 00 0v CRC`.
		 * Acknowledged by the standard FC 0x10 answer `AA 10 10 70|74 00 02
		 * CRC`; another count or value is exception 03; a refusal (none has
		 * been seen) is exception 04, "slave device failure". */
		if (cnt != 2 || req[7] != 0 || req[8] != 0 || req[9] != 0 || req[10] > 1) {
			pb_exception(reply, p, 0x03);
			return SIM_RESP_OK;
		}
		int on = req[10];
		return pb_write_answer(reply, p, req, sim_pack_write(p, reg == 0x1070 ? on : -1, reg == 0x1074 ? on : -1));
	}
	if (reg >= PB_SET_BASE && (reg & 3) == 0 && sim_jk_set_writable((reg - PB_SET_BASE) / 4 + 1))
		return pb_setting(p, req, cnt, reply);
	pb_exception(reply, p, 0x02); /* illegal data address */
	return SIM_RESP_OK;
}

static int pb_is_write(const uint8_t *req, size_t n)
{
	return n >= 8 && req[1] == PB_FC_WRITE && req[2] == 0x10 && (req[3] == 0x70 || req[3] == 0x74);
}

static void pb_corrupt(uint8_t *frame, size_t n)
{
	if (n == PB_PAYLOAD && frame[0] == 0x55)
		frame[PB_PAYLOAD - 1] ^= 0x01; /* sum8 */
	else if (n >= 5)
		frame[n - 1] ^= 0x01; /* CRC high byte */
	/* a lone 0x00 separator stays as it is */
}

const struct sim_proto sim_proto_jk_pb = {
	.name = "jk-pb",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = PB_MAX_ADDR,
	.max_cells = SIM_JK_CELLS,
	.max_temps = SIM_JK_TEMPS,
	.scan = pb_scan,
	.address = pb_address,
	.respond = pb_respond,
	.view = pb_view,
	.corrupt = pb_corrupt,
	.is_write = pb_is_write,
};
