/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_wattstunde.c - a Wattstunde Nova Core battery over
 * Bluetooth LE, the BMS side of the FFF0 link as a fake BlueZ bridges it to
 * a TCP port (writes to FFF1 in, notifications of FFF1 out).
 *
 * bms/PROTOCOLS.md §61.  It answers the read ":015150000EFE~" with
 * ':', the hex digits (upper case) of 118 bytes, '~': 117 bytes XOR-ed
 * with the key 0x20 (byte 3, a 0 under the key, carries it) and a last
 * byte 0xAA (the check no source has a rule for).  Decoded, big-endian:
 * 01 54 01 00 and the capture's bytes where nothing below is set;
 * 12 cells mV (up to 16), 44 status 0xF002 with alarm byte 0 in bits
 * 2..9, 48 four sensors degC + 40, 54 current mA (bit 31 set while
 * discharging; at most 32.767 A), 62 voltage mV (the cells' sum), 67
 * cycles, 69 SOC, 70 capacity mAh, 74 remaining mAh.  Another request is a
 * bad one.  No address.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_DEC 117
#define WS_CELLS 16
#define WS_KEY 0x20

static const char ws_req[] = ":015150000EFE~";

/* The decoded capture of aiobmsble's test (its values replaced below). */
static const char ws_template[] =
	"01540100ec0001026918a0e10cb50cb50cb90cb4000000000000000000000000000000000000000000000000f00200003131313110c880"
	"0005f07fffffff32d700050400053400030d400001b10100030d40000105f0020657534e3535303037323432313130393300000000000000"
	"000c14030718";

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be(uint8_t *b, unsigned long v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* mAh rounded into 0..4e9, in a double where a 32-bit long would wrap */
static uint32_t ws_mah(double mah)
{
	mah = round(mah);
	return mah < 0 ? 0 : mah > 4e9 ? 4000000000u : (uint32_t)mah;
}

struct ws_raw {
	int ncells;
	long mv[WS_CELLS], volt_mv, ma, soc;
	uint32_t cap_mah, rem_mah; /* u32 fields, to 4e9 mAh: more than a 32-bit long */
};

static void ws_quantise(const struct sim_pack *p, struct ws_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < WS_CELLS ? p->ncells : WS_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->mv[i] = clampl(sim_pack_cell_mv(p, i), 1, 65535);
		r->volt_mv += r->mv[i];
	}
	r->volt_mv = clampl(r->volt_mv, 1, 65535);
	r->ma = clampl(lround(p->current * 1000.0), -32767, 32767);
	r->soc = clampl(lround(p->soc), 0, 100);
	r->cap_mah = ws_mah(p->capacity_ah * 1000.0);
	r->rem_mah = ws_mah(p->capacity_ah * p->soc * 10.0);
}

static void ws_decoded(const struct sim_pack *p, uint8_t *d)
{
	struct ws_raw r;
	ws_quantise(p, &r);
	for (int i = 0; i < WS_DEC; i++) {
		unsigned v;
		sscanf(ws_template + 2 * i, "%2x", &v);
		d[i] = (uint8_t)v;
	}
	for (int i = 0; i < WS_CELLS; i++)
		be(d + 12 + 2 * i, i < r.ncells ? (unsigned long)r.mv[i] : 0, 2);
	be(d + 44, 0xF002u | ((unsigned)p->alarm[0] << 2), 2);
	for (int i = 0; i < 4; i++)
		d[48 + i] = (uint8_t)clampl(p->temp_c[i < p->ntemps ? i : 0] + 40, 0, 255);
	be(d + 54, (unsigned long)labs(r.ma) | (r.ma < 0 ? 0x80000000ul : 0), 4);
	be(d + 62, (unsigned long)r.volt_mv, 2);
	be(d + 67, p->cycles & 0xFFFF, 2);
	d[69] = (uint8_t)r.soc;
	be(d + 70, r.cap_mah, 4);
	be(d + 74, r.rem_mah, 4);
}

static void ws_view(const struct sim_pack *p, struct sim_view *v)
{
	struct ws_raw r;
	ws_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS |
		 SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.ma / 1000.0;
	v->soc = (double)r.soc;
	v->remaining_ah = r.rem_mah / 1000.0;
	v->capacity_ah = r.cap_mah / 1000.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.mv[i];
	v->ntemps = 4;
	for (int i = 0; i < 4; i++)
		v->temp_c[i] = p->temp_c[i < p->ntemps ? i : 0];
	v->nalarm = 1;
	v->alarm[0] = p->alarm[0];
}

static enum sim_scan ws_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != ':') {
		size_t i = 1;
		while (i < len && buf[i] != ':')
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	size_t i = 1;
	while (i < len && buf[i] != '~' && i < 64)
		i++;
	if (i == len)
		return SIM_SCAN_NEED;
	*n = i + 1;
	return SIM_SCAN_FRAME;
}

static int ws_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp ws_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	uint8_t d[WS_DEC], f[2 + 2 * (WS_DEC + 1) + 1];
	if (n != sizeof(ws_req) - 1 || memcmp(req, ws_req, n) != 0)
		return SIM_RESP_BAD;
	ws_decoded(p, d);
	size_t k = 0;
	f[k++] = ':';
	for (int i = 0; i <= WS_DEC; i++) {
		char h[3];
		snprintf(h, sizeof h, "%02X", i < WS_DEC ? (unsigned)(d[i] ^ WS_KEY) : 0xAAu);
		f[k++] = (uint8_t)h[0];
		f[k++] = (uint8_t)h[1];
	}
	f[k++] = '~';
	sim_reply_add(reply, f, k);
	return SIM_RESP_OK;
}

/* badsum: there is no known check; a digit becomes a byte that is none
 * (the reader drops the frame up to it) */
static void ws_corrupt(uint8_t *frame, size_t n)
{
	if (n > 20)
		frame[20] = 'G';
}

const struct sim_proto sim_proto_wattstunde = {
	.name = "wattstunde",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = WS_CELLS,
	.max_temps = 4,
	.scan = ws_scan,
	.address = ws_address,
	.respond = ws_respond,
	.view = ws_view,
	.corrupt = ws_corrupt,
	.ble_name = "Power-1",
};
