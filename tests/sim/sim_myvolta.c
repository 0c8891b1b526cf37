/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_myvolta.c - a Volta Power Systems battery behind its
 * myVolta CAN-to-Bluetooth-LE gateway ("VPS-197B"), the BMS side of the
 * MLDP link as a fake BlueZ bridges it to a TCP port (notifications of
 * ...-000301 out; nothing is written).
 *
 * bms/PROTOCOLS.md §68.  Once a second, unasked, the stream of aiobmsble's
 * capture in its order: messages 55 55 <body stuffed> 04 04, the body
 * 01 type 02 00 00 00 08 <8 data bytes> sum (0xFF ^ the sum of type .. data),
 * every 05, 55 and 04 of the body sent as 05 and the byte:
 *	0x00 pack voltage mV (the cells' sum), current 0.01 A, the voltage
 *	     again (the capture's second word, not described), SOC 0.1 %
 *	0x01 03, problem code bytes 1, 2 (alarm bytes 0, 1), 3 (the capture's
 *	     0x17), 4 (alarm byte 2), 00 63 E0 as captured
 *	0x11..0x14 cells 1..16 mV (0 beyond the pack's cells)
 *	0x21, 0x22 as captured (not read)
 *	0x24..0x29 sensors 1..24, 0.1 degC (the pack's, then FDDC: the
 *	     capture's -54.8 degC of a sensor that is not there)
 * With junk=1 the capture's 0x83 message (another command) and a frame
 * cut short come first.  Any request is a bad one.  One BMS per
 * connection, at most 16 cells and 12 sensors.  Encoded here; bms/ is
 * deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define MYV_CELLS 16
#define MYV_SENSORS 12

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct myv_raw {
	int ncells, nsensors;
	long cell_mv[MYV_CELLS], volt_mv, cur_ca, soc_dp, temp_dc[MYV_SENSORS];
};

static void myv_quantise(const struct sim_pack *p, struct myv_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < MYV_CELLS ? p->ncells : MYV_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->volt_mv += r->cell_mv[i];
	}
	r->volt_mv = clampl(r->volt_mv, 1, 65535);
	r->cur_ca = clampl(lround(p->current * 100.0), -32768, 32767);
	r->soc_dp = clampl(lround(p->soc * 10.0), 0, 1000);
	r->nsensors = p->ntemps < MYV_SENSORS ? p->ntemps : MYV_SENSORS;
	for (int i = 0; i < r->nsensors; i++)
		r->temp_dc[i] = (long)p->temp_c[i] * 10;
}

/* One message: its body stuffed between 55 55 and 04 04. */
static void myv_put(struct sim_reply *reply, uint8_t type, const uint8_t d[8])
{
	uint8_t body[16] = { 0x01, type, 0x02, 0, 0, 0, 0x08 }, out[40];
	memcpy(body + 7, d, 8);
	unsigned sum = 0;
	for (int i = 1; i < 15; i++)
		sum += body[i];
	body[15] = (uint8_t)(0xFF ^ (sum & 0xFF));
	size_t n = 0;
	out[n++] = 0x55;
	out[n++] = 0x55;
	for (int i = 0; i < 16; i++) {
		if (body[i] == 0x05 || body[i] == 0x55 || body[i] == 0x04)
			out[n++] = 0x05;
		out[n++] = body[i];
	}
	out[n++] = 0x04;
	out[n++] = 0x04;
	sim_reply_add(reply, out, n);
}

static void myv_le16(uint8_t *p, long v)
{
	p[0] = (uint8_t)(v & 0xFF);
	p[1] = (uint8_t)((v >> 8) & 0xFF);
}

static enum sim_resp myv_emit(struct sim_pack *p, struct sim_reply *reply)
{
	static const uint8_t other[] = { 0x55, 0x55, 0x83, 0x00, 0x08, 0x01, 0x74, 0x04, 0x04 };
	static const uint8_t cut[] = { 0x55, 0x55, 0x01, 0x00, 0x02, 0x00, 0x00 };
	static const uint8_t t21[8] = { 0x00, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x80 };
	static const uint8_t t22[8] = { 0x00, 0x80, 0x00, 0x80, 0x00, 0x00, 0x25, 0x03 };
	struct myv_raw r;
	uint8_t d[8];
	myv_quantise(p, &r);
	if (p->junk) {
		sim_reply_add(reply, other, sizeof other);
		sim_reply_add(reply, cut, sizeof cut);
	}
	myv_le16(d, r.volt_mv);
	myv_le16(d + 2, r.cur_ca);
	myv_le16(d + 4, r.volt_mv);
	myv_le16(d + 6, r.soc_dp);
	myv_put(reply, 0x00, d);
	const uint8_t info[8] = { 0x03, p->alarm[0], p->alarm[1], 0x17, p->alarm[2], 0x00, 0x63, 0xE0 };
	myv_put(reply, 0x01, info);
	for (int m = 0; m < 4; m++) {
		for (int i = 0; i < 4; i++)
			myv_le16(d + 2 * i, r.cell_mv[m * 4 + i]);
		myv_put(reply, (uint8_t)(0x11 + m), d);
	}
	myv_put(reply, 0x21, t21);
	myv_put(reply, 0x22, t22);
	for (int m = 0; m < 6; m++) {
		for (int i = 0; i < 4; i++) {
			int k = m * 4 + i;
			myv_le16(d + 2 * i, k < r.nsensors ? r.temp_dc[k] : -548);
		}
		myv_put(reply, (uint8_t)(0x24 + m), d);
	}
	return SIM_RESP_OK;
}

static void myv_view(const struct sim_pack *p, struct sim_view *v)
{
	struct myv_raw r;
	myv_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_TEMP_EXT;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.cur_ca / 100.0;
	v->soc = r.soc_dp / 10.0;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.nsensors; /* all the wire carries (twelve at most) */
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->tmax_c = v->tmin_c = r.nsensors ? p->temp_c[0] : 0;
	for (int i = 0; i < r.nsensors; i++) {
		v->tmax_c = p->temp_c[i] > v->tmax_c ? p->temp_c[i] : v->tmax_c;
		v->tmin_c = p->temp_c[i] < v->tmin_c ? p->temp_c[i] : v->tmin_c;
	}
	v->nalarm = 3;
	memcpy(v->alarm, p->alarm, 3);
}

/* Nothing is ever written to this BMS: whatever comes is a bad request. */
static enum sim_scan myv_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len == 0)
		return SIM_SCAN_NEED;
	*n = len;
	return SIM_SCAN_BAD;
}

static int myv_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp myv_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	(void)p;
	(void)req;
	(void)n;
	(void)reply;
	return SIM_RESP_BAD;
}

/* badsum: the checksum byte (the last before 04 04) made wrong, kept a
 * byte that needs no stuffing */
static void myv_corrupt(uint8_t *frame, size_t n)
{
	if (n > 4)
		frame[n - 3] = frame[n - 3] == 0x10 ? 0x11 : 0x10;
}

const struct sim_proto sim_proto_myvolta = {
	.name = "myvolta",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = MYV_CELLS,
	.max_temps = MYV_SENSORS,
	.scan = myv_scan,
	.address = myv_address,
	.respond = myv_respond,
	.view = myv_view,
	.corrupt = myv_corrupt,
	.emit = myv_emit,
	.emit_ms = 1000,
	.ble_name = "VPS-197B",
};
