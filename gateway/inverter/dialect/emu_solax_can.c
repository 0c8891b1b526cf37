/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_solax_can.c - the solax-can codec: a SolaX Triple Power
 * HV battery (T-BAT) as SolaX's X1/X3 hybrids and the X3 Ultra read it
 * (../PROTOCOLS.md §11).  500 kbit/s, EXTENDED (29-bit) identifiers, LITTLE
 * endian, DLC 8 (0x100A001: 0):
 *
 *	0x187E installed energy (Wh), SOH, SOC
 *	0x187A constant 01 50 (what an X3 Ultra waits for)
 *	0x1872 CVL, DVL, CCL, DCL               (sxfamily.c)
 *	0x1873 voltage, current, SOC, remaining energy (0.01 kWh)
 *	0x1874 hottest / coldest sensor, highest / lowest cell (0.1 V)
 *	0x1875 mean temperature, the module count, the contactor (0 open, 1 closed)
 *	0x1876 hottest sensor, highest cell (mV), coldest sensor, lowest cell (mV)
 *	0x1877 the battery type, firmware 0x22, 0x02 "master BMS"
 *	0x1878 voltage, installed energy (Wh, u32)
 *	0x1801 02 00 01 00 01 00 00 00, once: "the battery connects"
 *	0x100A001 (no data): "a battery announces itself"
 *	0x1881 / 0x1882 a module's serial number, two halves of 7 characters
 *
 * The battery speaks only when asked (codec.h `answers`): the inverter's
 * 0x1871 with byte 0 = 01 or 02, about once a second, gets 0x187E, 0x187A,
 * 0x1872-0x1878 in that order; 05 00 01 00 00 00 00 00 gets 0x1881 and
 * 0x1882 for slot 0 (the battery) and each module.  The handshake of a real
 * battery's contactor (struct inv_heard mode): announcing (each answer
 * ends with 0x100A001) until the inverter's 02 00 01 00 01 00 00 00 "close";
 * its next answer ends with 0x1801; then closed (0x1875 byte 4 = 1) until
 * 02 00 01 00 00 00 00 00 "open" or 2 s without the inverter.  bmsgw has no
 * contactor: "closed" is said only in that state with a fresh source; a
 * stale one says 0, with zero limits.  03 (the time) is heard, never
 * answered. */
#include <string.h>

#include "../invident.h"
#include "../invscale.h"
#include "../sxfamily.h"

/* Kinds of request (struct inv_heard asked). */
#define SX_ASK_POLL 0x01u  /* byte 0 = 01 or 02: the set */
#define SX_ASK_CLOSE 0x02u /* 02 00 01 00 01 00 00 00 */
#define SX_ASK_OPEN 0x04u  /* 02 00 01 00 00 00 00 00 */
#define SX_ASK_IDENT 0x08u /* 05 00 01 00 00 00 00 00 */

/* The handshake (struct inv_heard mode). */
enum { SX_ANNOUNCE = 0, SX_WAITING, SX_CLOSED, SX_MODES };
static const char *const sx_mode_names[SX_MODES] = { "announce", "waiting", "closed" };

#define SX_FORGET_S 2.0     /* s without the inverter: announce again (Battery-Emulator's SolaX timeout) */
#define SX_MODULES_MAX 13   /* BEW's type 131 table: 2 to 13 modules */
#define SX_CELLS_MODULE 16  /* a T-BAT module: 16 cells in series */

static const uint8_t sx_close[8] = { 0x02, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00 };
static const uint8_t sx_open[8] = { 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t sx_ident[8] = { 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 };

/* The modules reported: report_modules, else the source's series cells
 * over 16 (or its nominal voltage over 51.2 V without a cell count), held
 * within 1..13. */
static unsigned sx_modules(const struct inv_battery *b)
{
	long def = b->total_cells ? (b->total_cells + SX_CELLS_MODULE / 2) / SX_CELLS_MODULE :
				    inv_scale(inv_nominal_v(b), 1 / 51.2, INV_NEAR, 0, 255);
	return inv_modules(b, def, 1, SX_MODULES_MAX);
}

static void sx_put32(uint8_t *p, double v)
{
	uint32_t u = (uint32_t)inv_scale(v, 1, INV_FLOOR, 0, 0x7FFFFFFFL);

	inv_cf_put16(p, (long)(u & 0xFFFFu));
	inv_cf_put16(p + 2, (long)(u >> 16));
}

/* 0x187E: installed energy (u32 Wh), SOH (%; 100 without one), SOC (%, down). */
static bool sx_187e(const struct inv_battery *b, struct gw_can_frame *f)
{
	sx_begin(f, 0x187E);
	sx_put32(f->data, inv_full_wh(b));
	f->data[4] = (uint8_t)inv_cf_soh(b, 100);
	f->data[5] = (uint8_t)inv_cf_soc(b, 1, 0);
	return true;
}

/* 0x187A: 01 50, a constant (Battery-Emulator: "needed for Ultra"). */
static bool sx_187a(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	sx_begin(f, 0x187A);
	f->data[0] = 0x01;
	f->data[1] = 0x50;
	return true;
}

/* 0x1874: the cells in 0.1 V, the real ones (Battery-Emulator rescales
 * them into 3.0-3.5 V; RAND's dbc reads them plain). */
static bool sx_1874(const struct inv_battery *b, struct gw_can_frame *f)
{
	sx_put1874(b, f, 0.01);
	return true;
}

/* 0x1875: the mean temperature, the module count (byte 2), the contactor
 * (byte 4: 0 here; the answer says 1 while closed). */
static bool sx_1875(const struct inv_battery *b, struct gw_can_frame *f)
{
	sx_begin(f, 0x1875);
	inv_cf_put16(f->data, sx_mean_temp(b));
	f->data[2] = (uint8_t)sx_modules(b);
	return true;
}

/* 0x1876: hottest sensor, highest cell (mV), coldest sensor, lowest cell (mV). */
static bool sx_1876(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	sx_begin(f, 0x1876);
	inv_cf_put16x4(f->data, sx_temp(hi), sx_cell_max(b), sx_temp(lo), sx_cell_min(b));
	return true;
}

/* 0x1877: the battery type (battery_type, 131 unless set), firmware 0x22,
 * 0x02 the master BMS. */
static bool sx_1877(const struct inv_battery *b, struct gw_can_frame *f)
{
	sx_begin(f, 0x1877);
	f->data[4] = b->battery_type;
	f->data[6] = 0x22;
	f->data[7] = 0x02;
	return true;
}

/* 0x1878: voltage (0.1 V), installed energy (u32 Wh). */
static bool sx_1878(const struct inv_battery *b, struct gw_can_frame *f)
{
	sx_begin(f, 0x1878);
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	sx_put32(f->data + 4, inv_full_wh(b));
	return true;
}

static const struct inv_can_frame_fn sx_frames[] = {
	{ 0x187E, sx_187e }, { 0x187A, sx_187a }, { 0x1872, sx_1872 }, { 0x1873, sx_1873 }, { 0x1874, sx_1874 },
	{ 0x1875, sx_1875 }, { 0x1876, sx_1876 }, { 0x1877, sx_1877 }, { 0x1878, sx_1878 },
};
#define SX_NFRAMES (sizeof(sx_frames) / sizeof(sx_frames[0]))

/* The inverter's 0x1871 (29 bits): 01 and 02 ask for the set (02 with the
 * contactor's payloads also asks to close or open it); 05 00 01 ... asks
 * for the serial numbers; the rest (03: the time) is heard only. */
static enum inv_rx sx_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (!sx_is_request(f))
		return INV_RX_OTHER;
	h->frames++;
	if (f->dlc < 1)
		return INV_RX_BAD;
	switch (f->data[0]) {
	case 0x01:
		h->asked |= SX_ASK_POLL;
		return INV_RX_REQUEST;
	case 0x02:
		h->asked |= SX_ASK_POLL | (sx_payload_is(f, sx_close) ? SX_ASK_CLOSE : 0) |
			    (sx_payload_is(f, sx_open) ? SX_ASK_OPEN : 0);
		return INV_RX_REQUEST;
	case 0x05:
		if (!sx_payload_is(f, sx_ident))
			return INV_RX_ALIVE;
		h->asked |= SX_ASK_IDENT;
		return INV_RX_REQUEST;
	default:
		return INV_RX_ALIVE;
	}
}

/* Append frame g to set[0..*k) when there is room. */
static void sx_add(struct gw_can_frame *set, int *k, int cap, const struct gw_can_frame *g)
{
	if (*k < cap)
		set[(*k)++] = *g;
}

/* The set's answer to a poll in the handshake's state, which it moves on:
 * 0x1875 byte 4 the contactor, then 0x100A001 (announcing) or 0x1801
 * (waiting: the battery connects now). */
static int sx_poll(struct inv_heard *h, const struct inv_battery *b, struct gw_can_frame *set, int n, int cap)
{
	struct gw_can_frame g;
	int k = n;
	for (int i = 0; i < n; i++)
		if (set[i].id == 0x1875)
			set[i].data[4] = h->mode == SX_CLOSED && !b->failsafe;
	if (h->mode == SX_ANNOUNCE) {
		sx_begin(&g, 0x100A001);
		g.dlc = 0;
		sx_add(set, &k, cap, &g);
		if (h->asked & SX_ASK_CLOSE)
			h->mode = SX_WAITING;
	} else if (h->mode == SX_WAITING) {
		sx_begin(&g, 0x1801);
		memcpy(g.data, sx_close, sizeof(sx_close));
		sx_add(set, &k, cap, &g);
		h->mode = SX_CLOSED;
	} else if (h->asked & SX_ASK_OPEN) {
		h->mode = SX_ANNOUNCE;
	}
	return k;
}

/* The answer: the set to a poll (01, 02), the serial numbers of slot 0 and
 * each module to 05. */
static int sx_answer(const struct conf_inverter *c, struct inv_heard *h, const struct inv_battery *b,
		     struct gw_can_frame *set, int n, int cap, struct inv_encoded *e)
{
	int k = 0;

	(void)c;
	if (h->mode >= SX_MODES)
		h->mode = SX_ANNOUNCE;
	if (h->asked & SX_ASK_POLL)
		k = sx_poll(h, b, set, n, cap);
	else
		e->limits = false;
	for (unsigned slot = 0; (h->asked & SX_ASK_IDENT) && slot <= sx_modules(b); slot++)
		for (unsigned half = 0; half < 2; half++) {
			struct gw_can_frame g;
			sx_begin(&g, 0x1881 + half);
			g.data[0] = (uint8_t)slot;
			inv_serial_part(b, slot, half, g.data + 1);
			sx_add(set, &k, cap, &g);
		}
	return k;
}

const struct inv_codec inv_codec_solax_can = {
	.name = "solax-can",
	.can = {
		.frames = sx_frames,
		.nframes = SX_NFRAMES,
		.answers = true,
		.heard = sx_heard,
		.answer = sx_answer,
		.limits = sx_encoded,
		.forget_s = SX_FORGET_S,
		.mode_names = sx_mode_names,
		.nmodes = SX_MODES,
	},
};
