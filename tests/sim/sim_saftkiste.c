/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_saftkiste.c - the Saftkiste BMS over Bluetooth LE, the
 * BMS side of its Nordic UART link as a fake BlueZ bridges it to a TCP port
 * (writes to 6e400002 in, notifications of 6e400003 out).
 *
 * bms/PROTOCOLS.md §75.  Requests F0 FF <type> ...: the login F0 FF 10
 * <password, 6 ASCII> 00 E7 80 69 48 is answered with the recorded 39-byte
 * F0 FF 00 ... where the password is the pack's `pin` (the maker's ABC123
 * without one), else F0 FF 10 00 07; the setup F0 FF 43 01 01 E7 80 69 96
 * with the recorded 107-byte F0 FF 43 ...; F0 FF 02 with 47 bytes (design
 * and remaining capacity u32 mAh at 3 / 7, the design in Ah u16 at 11,
 * voltage u16 mV at 13 (the cells' sum), current s16 0.01 A at 15, four
 * cells u16 mV from 17, cycles at 25, the rest of the recorded frame's
 * bytes); F0 FF 03 with 44 bytes (the SOC u16 0.01 % at 22, the rest
 * recorded).  Little-endian, no checksum.  The reads are not answered
 * before the login was taken on the connection (counted in locked_reads).
 * Another request is a bad one.  One device per connection, four cells.
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define SK_CELLS 4

/* aiobmsble's recorded answers (its Saftkiste test, SAF-D1 / D2) */
static const uint8_t sk_login_ok[39] = {
	0xf0, 0xff, 0x00, 0xe0, 0x93, 0x04, 0x00, 0x97, 0x8d, 0x04, 0x00, 0x2c, 0x01, 0xa8, 0x34, 0xb8, 0xff, 0x2f, 0x0d, 0x24,
	0x0d, 0x2d, 0x0d, 0x28, 0x0d, 0x21, 0x00, 0x47, 0x05, 0xc2, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x0e, 0x6a,
};
static const uint8_t sk_setup_answer[107] = {
	0xf0, 0xff, 0x43, 0x01, 0x01, 0xe7, 0x80, 0x69, 0x6f, 0x23, 0x27, 0x23, 0xe1, 0x22, 0x9a, 0x22, 0x53, 0x22, 0x0d,
	0x22, 0xc6, 0x21, 0x7f, 0x21, 0x37, 0x21, 0xef, 0x20, 0xa6, 0x20, 0x5d, 0x20, 0x14, 0x20, 0xcb, 0x1f, 0x84, 0x1f,
	0x46, 0x1f, 0x0d, 0x1f, 0xf1, 0x1e, 0xc6, 0x1e, 0xa3, 0x1e, 0x70, 0x1e, 0x2e, 0x1e, 0xe7, 0x1d, 0x9f, 0x1d, 0x57,
	0x1d, 0x0f, 0x1d, 0xc7, 0x1c, 0x7f, 0x1c, 0x37, 0x1c, 0xef, 0x1b, 0xa6, 0x1b, 0x5f, 0x1b, 0x17, 0x1b, 0xcf, 0x1a,
	0x87, 0x1a, 0x3f, 0x1a, 0xf7, 0x19, 0xaf, 0x19, 0x6e, 0x19, 0x3b, 0x19, 0x12, 0x19, 0xf5, 0x18, 0xdd, 0x18, 0xc3,
	0x18, 0x95, 0x18, 0x57, 0x18, 0x11, 0x18, 0xc9, 0x17, 0xe9, 0x26, 0x44,
};
static const uint8_t sk_status_tpl[47] = {
	0xf0, 0xff, 0x02, 0xe0, 0x93, 0x04, 0x00, 0xa7, 0x8a, 0x04, 0x00, 0x2c, 0x01, 0x0c, 0x36, 0xf5, 0xff, 0x84, 0x0d,
	0x7f, 0x0d, 0x85, 0x0d, 0x84, 0x0d, 0x21, 0x00, 0xb1, 0x02, 0xfe, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x0e,
	0x00, 0x00, 0x00, 0x03, 0x00, 0x03, 0x01, 0x00, 0x12,
};
static const uint8_t sk_info_tpl[44] = {
	0xf0, 0xff, 0x03, 0x00, 0x00, 0x43, 0x74, 0x29, 0x78, 0x4a, 0x69, 0x00, 0x00, 0x00, 0x01, 0x03, 0xb0, 0x32, 0x42,
	0x47, 0x01, 0x00, 0xc1, 0x26, 0xe0, 0x93, 0x04, 0x00, 0x00, 0x03, 0x03, 0x2c, 0xc5, 0x02, 0x00, 0x06, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0xff, 0x6e,
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void le(uint8_t *b, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

struct sk_raw {
	long design, remain, mv, ca, soc, cells[SK_CELLS];
};

static void sk_quantise(const struct sim_pack *p, struct sk_raw *r)
{
	r->mv = 0;
	for (int i = 0; i < SK_CELLS; i++) {
		r->cells[i] = sim_pack_cell_mv(p, i);
		r->mv += r->cells[i];
	}
	r->mv = clampl(r->mv, 1, 65535);
	r->design = clampl(lround(p->capacity_ah * 1000.0), 1, 10000000);
	r->remain = clampl(lround(p->capacity_ah * p->soc * 10.0), 0, r->design);
	r->ca = clampl(lround(p->current * 100.0), -32768, 32767);
	r->soc = clampl(lround(p->soc * 100.0), 0, 10000);
}

static void sk_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sk_raw r;
	sk_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS;
	v->address = p->address;
	v->voltage = r.mv / 1000.0;
	v->current = r.ca / 100.0;
	v->soc = r.soc / 100.0;
	v->remaining_ah = r.remain / 1000.0;
	v->capacity_ah = r.design / 1000.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = SK_CELLS;
	for (int i = 0; i < SK_CELLS; i++)
		v->cell_mv[i] = (int)r.cells[i];
}

/* F0 FF t: the login 14 bytes, the setup 9, a read 3. */
static enum sim_scan sk_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0xF0) {
		size_t i = 1;
		while (i < len && buf[i] != 0xF0)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 3)
		return SIM_SCAN_NEED;
	size_t want = buf[2] == 0x10 ? 14 : buf[2] == 0x43 ? 9 : 3;
	if (buf[1] != 0xFF) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	if (len < want)
		return SIM_SCAN_NEED;
	*n = want;
	return SIM_SCAN_FRAME;
}

static int sk_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one device per connection */
}

static enum sim_resp sk_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t login_tail[5] = { 0x00, 0xE7, 0x80, 0x69, 0x48 };
	static const uint8_t setup[9] = { 0xF0, 0xFF, 0x43, 0x01, 0x01, 0xE7, 0x80, 0x69, 0x96 };
	static const uint8_t refused[5] = { 0xF0, 0xFF, 0x10, 0x00, 0x07 };
	uint8_t f[64];
	struct sk_raw r;
	if (n == 14 && req[2] == 0x10 && memcmp(req + 9, login_tail, sizeof login_tail) == 0) {
		if (sim_pin_try(p, (const char *)req + 3, 6, "ABC123"))
			sim_reply_add(reply, sk_login_ok, sizeof sk_login_ok);
		else
			sim_reply_add(reply, refused, sizeof refused);
		return SIM_RESP_OK;
	}
	if (n == 9 && memcmp(req, setup, sizeof setup) == 0) {
		sim_reply_add(reply, sk_setup_answer, sizeof sk_setup_answer);
		return SIM_RESP_OK;
	}
	if (n != 3 || (req[2] != 0x02 && req[2] != 0x03))
		return SIM_RESP_BAD;
	if (!sim_pin_open(p, "ABC123"))
		return SIM_RESP_NONE; /* no login on this connection */
	sk_quantise(p, &r);
	if (req[2] == 0x02) {
		memcpy(f, sk_status_tpl, sizeof sk_status_tpl);
		le(f + 3, (unsigned long)r.design, 4);
		le(f + 7, (unsigned long)r.remain, 4);
		le(f + 11, (unsigned long)lround(p->capacity_ah), 2);
		le(f + 13, (unsigned long)r.mv, 2);
		le(f + 15, (unsigned long)(r.ca & 0xFFFF), 2);
		for (int i = 0; i < SK_CELLS; i++)
			le(f + 17 + 2 * i, (unsigned long)r.cells[i], 2);
		le(f + 25, p->cycles & 0xFFFF, 2);
		sim_reply_add(reply, f, sizeof sk_status_tpl);
	} else {
		memcpy(f, sk_info_tpl, sizeof sk_info_tpl);
		le(f + 22, (unsigned long)r.soc, 2);
		sim_reply_add(reply, f, sizeof sk_info_tpl);
	}
	return SIM_RESP_OK;
}

/* badsum: no checksum exists: the head's second byte spoilt, so the frame
 * is no frame (the reader skips it) */
static void sk_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 2)
		frame[1] ^= 0x01;
}

const struct sim_proto sim_proto_saftkiste = {
	.name = "saftkiste",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per connection */
	.max_cells = SK_CELLS,
	.max_temps = 1,
	.scan = sk_scan,
	.address = sk_address,
	.respond = sk_respond,
	.view = sk_view,
	.corrupt = sk_corrupt,
	.ble_name = "3000SARKYA",
};
