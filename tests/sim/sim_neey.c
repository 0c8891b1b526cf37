/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_neey.c - a NEEY / Heltec active balancer over Bluetooth LE,
 * the balancer's side of the GATT link, as a fake BlueZ bridges it to a
 * TCP port (writes to FFE1 in, notifications of FFE1 out).
 *
 * bms/PROTOCOLS.md §32.  Requests are 20 bytes, AA 55 11 <func> <cmd> <reg>
 * 14 00 <10 bytes> <check> FF, the check the sum of bytes 0..17 or (as the
 * GW-24S4EB's app sends it) their XOR, both taken as the balancers take
 * them; answers 55 AA 11 01 <cmd> 00 <length LE16> ... <sum8> FF, floats
 * little-endian:
 *	0x01	the device info (100 bytes): model GW-24S4EB (layout=v1) or
 *		EK-B24S8E200A (layout=v2), hardware, software SW-1.1.0 /
 *		SW-2.0.0, protocol version, date;
 *	0x04	the settings: 100 bytes (v1: cell count at 8, trigger 0.004 V,
 *		2 A, start 3.35 V, capacity u32 at 24) or 150 (v2: cell count
 *		at 9, capacity float at 10, the others NEEY-06's, §32.7);
 *	0x02	a cell frame (300 bytes), and from then on one every 0.5 s
 *		(`emit`) until the connection ends;
 * anything else (a write, cmd 0x05) is counted as a bad request and
 * never answered (bmsgw sends none).  The cell frame: cell i at 9 + 4i (V),
 * its resistance at 105 + 4i (ohm: 0.150 + 0.002 i + the cell's offset in
 * mOhm / 1000), the total (the cells' sum) at 201, average 205, delta 209,
 * max / min cell 213 / 214, the operation status at 216 (alarm byte 0
 * when set, else 5 balancing or 6 finished), the balancing current
 * (current / 4 A) and T1, T2 (temperature sensors 1, 2) at 217 / 221 / 225
 * (v1) or 218 / 226 / 230 with the MOS and the balancer's own temperature
 * (mos_temp, mos_temp + 10) at 234 / 238 (v2); the over- and
 * under-voltage masks of cells 1..8 = alarm bytes 1 and 2.  junk=1 puts
 * the BLE module's "AT\r\n" before each answer.  A balancer has no pack
 * current: `state` prints it null, and the balancing current, status and
 * resistances instead.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define NY_REQ 20
#define NY_CELL_LEN 300
#define NY_INFO_LEN 100
#define NY_SLOTS 24
#define NY_STREAM_MS 500

static bool ny_v2(const struct sim_pack *p)
{
	return p->dialect == 2;
}

static int ny_ncells(const struct sim_pack *p)
{
	return p->ncells < NY_SLOTS ? p->ncells : NY_SLOTS;
}

static void ny_f32(uint8_t *f, float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	for (int i = 0; i < 4; i++)
		f[i] = (uint8_t)(u >> (8 * i));
}

static float ny_res(const struct sim_pack *p, int i)
{
	return (float)((150 + 2 * i + p->cell_offset_mv[i]) / 1000.0);
}

static float ny_bal(const struct sim_pack *p)
{
	return (float)(p->current / 4.0);
}

static int ny_status(const struct sim_pack *p)
{
	return p->alarm[0] ? p->alarm[0] : fabs(ny_bal(p)) > 0.01 ? 5 : 6;
}

static void ny_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCER | SIM_HAS_BALANCING |
		 (ny_v2(p) ? SIM_HAS_MOS_TEMP : 0);
	v->address = p->address;
	v->ncells = ny_ncells(p);
	float sum = 0;
	for (int i = 0; i < v->ncells; i++) {
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
		v->cell_res_mohm[i] = ny_res(p, i) * 1000.0;
		sum += (float)(v->cell_mv[i] / 1000.0);
	}
	v->voltage = sum;
	v->ntemps = 2;
	v->temp_c[0] = p->temp_c[0];
	v->temp_c[1] = p->temp_c[1];
	v->mos_temp_c = p->mos_temp_c;
	v->bal_current = ny_bal(p);
	v->bal_status = ny_status(p);
	v->balancing = v->bal_status == 5;
	v->nalarm = 3;
	memcpy(v->alarm, p->alarm, 3);
}

static void ny_begin(uint8_t *f, uint8_t cmd, size_t len)
{
	memset(f, 0, len);
	f[0] = 0x55;
	f[1] = 0xAA;
	f[2] = 0x11;
	f[3] = 0x01;
	f[4] = cmd;
	f[6] = (uint8_t)len;
	f[7] = (uint8_t)(len >> 8);
}

static void ny_end(uint8_t *f, size_t len)
{
	unsigned s = 0;
	for (size_t i = 0; i < len - 2; i++)
		s += f[i];
	f[len - 2] = (uint8_t)s;
	f[len - 1] = 0xFF;
}

static void ny_text(uint8_t *f, const char *s)
{
	memcpy(f, s, strlen(s));
}

static size_t ny_info(const struct sim_pack *p, uint8_t *f)
{
	ny_begin(f, 0x01, NY_INFO_LEN);
	ny_text(f + 8, ny_v2(p) ? "EK-B24S8E200A" : "GW-24S4EB");
	ny_text(f + 24, ny_v2(p) ? "HW-2.0.0" : "HW-2.8.0");
	ny_text(f + 32, ny_v2(p) ? "SW-2.0.0" : "SW-1.1.0");
	ny_text(f + 40, ny_v2(p) ? "V1.3.36" : "V1.0.0");
	ny_text(f + 48, "20240101");
	f[56] = 7; /* power-on count */
	ny_end(f, NY_INFO_LEN);
	return NY_INFO_LEN;
}

/* A little-endian 16-bit value. */
static void ny_u16(uint8_t *f, unsigned v)
{
	f[0] = (uint8_t)v;
	f[1] = (uint8_t)(v >> 8);
}

/* The v2 settings beyond the cell count and capacity: those of the
 * EK-B24S8E200A's capture (NEEY-06), at their offsets. */
static void ny_settings_v2(uint8_t *f)
{
	static const struct {
		uint8_t off;
		float v;
	} fl[] = {
		{ 14, 0.003f }, { 18, 0.001f }, { 22, 3.4f }, { 26, 3.38f }, { 30, 8.0f }, { 34, 3.65f },
		{ 38, 3.55f }, { 42, 2.6f }, { 46, 2.9f }, { 50, 1.0f }, { 54, 0.7f }, { 58, 2.0f },
		{ 62, 170.0f }, { 70, 200.0f }, { 78, 400.0f }, { 86, 800.0f }, { 94, 60.0f }, { 98, 50.0f },
		{ 102, -2.0f }, { 106, 2.0f }, { 110, 60.0f }, { 114, 50.0f }, { 118, -10.0f }, { 122, -5.0f },
	};
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		ny_f32(f + fl[i].off, fl[i].v);
	ny_u16(f + 66, 5);    /* charge over-current delay, s */
	ny_u16(f + 68, 300);  /* its release, s */
	ny_u16(f + 74, 5);    /* discharge over-current delay, s */
	ny_u16(f + 76, 120);  /* its release, s */
	ny_u16(f + 82, 1000); /* second level delay, ms */
	ny_u16(f + 84, 120);
	ny_u16(f + 90, 500);  /* short-circuit delay, us */
	f[126] = 1;           /* balancer on */
	f[127] = 1;           /* buzzer off */
	f[128] = 1;           /* battery type */
}

static size_t ny_settings(const struct sim_pack *p, uint8_t *f)
{
	size_t len = ny_v2(p) ? 150 : 100;
	ny_begin(f, 0x04, len);
	if (ny_v2(p)) {
		f[8] = 0x02;
		f[9] = (uint8_t)ny_ncells(p);
		ny_f32(f + 10, (float)p->capacity_ah);
		ny_settings_v2(f);
	} else {
		uint32_t cap = (uint32_t)lround(p->capacity_ah);
		f[8] = (uint8_t)ny_ncells(p);
		ny_f32(f + 9, 0.004f);       /* trigger voltage */
		ny_f32(f + 13, 2.0f);        /* max balance current */
		ny_f32(f + 17, 3.0f);        /* balancing stop (sleep) voltage */
		f[21] = 1;                   /* balancer on */
		f[22] = 1;                   /* buzzer off */
		f[23] = 2;                   /* LFP */
		for (int i = 0; i < 4; i++)  /* capacity, u32 Ah */
			f[24 + i] = (uint8_t)(cap >> (8 * i));
		ny_f32(f + 28, 3.35f);       /* balancing start voltage */
	}
	ny_end(f, len);
	return len;
}

static void ny_cell_block(const struct sim_pack *p, uint8_t *f)
{
	int n = ny_ncells(p), imax = 0, imin = 0;
	float sum = 0;
	for (int i = 0; i < n; i++) {
		int mv = sim_pack_cell_mv(p, i);
		ny_f32(f + 9 + 4 * i, (float)(mv / 1000.0));
		ny_f32(f + 105 + 4 * i, ny_res(p, i));
		sum += (float)(mv / 1000.0);
		if (mv > sim_pack_cell_mv(p, imax))
			imax = i;
		if (mv < sim_pack_cell_mv(p, imin))
			imin = i;
	}
	ny_f32(f + 201, sum);
	ny_f32(f + 205, n ? sum / (float)n : 0.0f);
	ny_f32(f + 209, (float)((sim_pack_cell_mv(p, imax) - sim_pack_cell_mv(p, imin)) / 1000.0));
	f[213] = (uint8_t)imax;
	f[214] = (uint8_t)imin;
	f[215] = (uint8_t)(n ? n - 1 : 0);
	f[216] = (uint8_t)ny_status(p);
}

static size_t ny_cells(struct sim_pack *p, uint8_t *f)
{
	int masks = ny_v2(p) ? 266 : 229;
	ny_begin(f, 0x02, NY_CELL_LEN);
	f[8] = (uint8_t)p->counter++;
	ny_cell_block(p, f);
	if (ny_v2(p)) {
		f[217] = 0x02;
		ny_f32(f + 218, ny_bal(p));
		ny_f32(f + 226, (float)p->temp_c[0]);
		ny_f32(f + 230, (float)p->temp_c[1]);
		ny_f32(f + 234, (float)p->mos_temp_c);
		ny_f32(f + 238, (float)(p->mos_temp_c + 10));
		ny_f32(f + 242, (float)p->capacity_ah);
		ny_f32(f + 246, (float)(p->capacity_ah * p->soc / 100.0));
		ny_f32(f + 250, (float)p->soc);
	} else {
		ny_f32(f + 217, ny_bal(p));
		ny_f32(f + 221, (float)p->temp_c[0]);
		ny_f32(f + 225, (float)p->temp_c[1]);
	}
	f[masks + 3] = p->alarm[1]; /* over-voltage, cells 1..8 */
	f[masks + 6] = p->alarm[2]; /* under-voltage */
	uint8_t *up = f + (ny_v2(p) ? 291 : 254); /* uptime, s */
	for (int i = 0; i < 4; i++)
		up[i] = (uint8_t)(p->life >> (8 * i));
	ny_end(f, NY_CELL_LEN);
	return NY_CELL_LEN;
}

static void ny_at(const struct sim_pack *p, struct sim_reply *reply)
{
	if (p->junk)
		sim_reply_add(reply, (const uint8_t *)"AT\r\n", 4);
}

/* A request with a good check: the sum, or the XOR, of bytes 0..17. */
static enum sim_scan ny_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0xAA) {
		size_t i = 1;
		while (i < len && buf[i] != 0xAA)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if ((len > 1 && buf[1] != 0x55) || (len > 2 && buf[2] != 0x11)) {
		*n = 1;
		return SIM_SCAN_SKIP;
	}
	if (len < NY_REQ)
		return SIM_SCAN_NEED;
	unsigned sum = 0, x = 0;
	for (int i = 0; i < NY_REQ - 2; i++) {
		sum += buf[i];
		x ^= buf[i];
	}
	if (buf[NY_REQ - 1] != 0xFF || (buf[NY_REQ - 2] != (uint8_t)sum && buf[NY_REQ - 2] != (uint8_t)x)) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = NY_REQ;
	return SIM_SCAN_FRAME;
}

static int ny_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one balancer per connection */
}

static int ny_is_write(const uint8_t *req, size_t n)
{
	return n == NY_REQ && req[4] == 0x05;
}

static enum sim_resp ny_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static uint8_t f[NY_CELL_LEN];
	size_t len;
	if (n != NY_REQ || req[3] != 0x01)
		return SIM_RESP_BAD;
	switch (req[4]) {
	case 0x01:
		len = ny_info(p, f);
		break;
	case 0x04:
		len = ny_settings(p, f);
		break;
	case 0x02:
		len = ny_cells(p, f);
		p->stream = 1;
		break;
	default:
		return SIM_RESP_BAD;
	}
	ny_at(p, reply);
	sim_reply_add(reply, f, len);
	return SIM_RESP_OK;
}

/* Every 0.5 s while the connection streams: a cell frame. */
static enum sim_resp ny_emit(struct sim_pack *p, struct sim_reply *reply)
{
	static uint8_t f[NY_CELL_LEN];
	if (!p->stream)
		return SIM_RESP_NONE;
	ny_at(p, reply);
	sim_reply_add(reply, f, ny_cells(p, f));
	return SIM_RESP_OK;
}

static void ny_corrupt(uint8_t *frame, size_t n)
{
	if (n >= NY_REQ && frame[0] == 0x55)
		frame[n - 2] ^= 0x01; /* sum8 */
}

const struct sim_proto sim_proto_neey = {
	.name = "neey",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one balancer per connection */
	.max_cells = NY_SLOTS,
	.max_temps = 2,
	.scan = ny_scan,
	.address = ny_address,
	.respond = ny_respond,
	.view = ny_view,
	.corrupt = ny_corrupt,
	.emit = ny_emit,
	.emit_ms = NY_STREAM_MS,
	.is_write = ny_is_write,
};
