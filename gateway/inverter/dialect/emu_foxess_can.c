/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_foxess_can.c - the foxess-can codec: a FoxESS HV2600 /
 * ECS4100 tower of one to eight stacked ~50 V modules as FoxESS's H1, H3,
 * KH and KP hybrids read it (../PROTOCOLS.md §12).  500 kbit/s, EXTENDED
 * (29-bit) identifiers, LITTLE endian, DLC 8:
 *
 *	0x1872 CVL, DVL, CCL, DCL               (sxfamily.c, as solax-can)
 *	0x1873 voltage, current, SOC, remaining energy (0.01 kWh)
 *	0x1874 hottest / coldest sensor, highest / lowest cell (mV)
 *	0x1875 mean temperature, a bit per module answering, the module count,
 *	       the contactor, cycles
 *	0x1876 bit 0 "charging not possible", highest / lowest cell (mV)
 *	0x1877 fault, type (battery_type, 0x52 unless set: the master; 0x84 a
 *	       module), firmware, which (the master and the modules in turn)
 *	0x1878 256.7 ("max AC voltage", a constant), lifetime energy (unknown: 0)
 *	0x1879 the state bits: operational, may charge / discharge, charging,
 *	       discharging, error
 *	0x0C05+i module i: current, hottest / coldest (+40), SOC, voltage (0.01 V)
 *	0x0C1D+4k cells 4k+1..4k+4 (mV); 0x0D21+8k sensors 8k+1..8k+8 (+50)
 *	0x1881 / 0x1882 / 0x1883 a module's serial number, three parts of 7
 *
 * The battery speaks only when asked (codec.h `answers`): the inverter's
 * 0x1871 with byte 0 = 01 asks by its byte 4: 00 the state (0x1872-0x1879,
 * every second), 01 the modules (0x0C05...), 04 the cells and sensors (when
 * the source has a list: a pack); 05 asks for the serial numbers of slot 0
 * (the battery) and each module; 02 (an acknowledgement) and 03 (the time)
 * are heard, never answered. */
#include <math.h>
#include <string.h>

#include "../invident.h"
#include "../invscale.h"
#include "../sxfamily.h"

/* Kinds of request (struct inv_heard asked). */
#define FX_ASK_INFO 0x01u    /* 01 .. byte 4 = 00 */
#define FX_ASK_PACKS 0x02u   /* 01 .. byte 4 = 01 */
#define FX_ASK_CELLS 0x04u   /* 01 .. byte 4 = 04 */
#define FX_ASK_SERIALS 0x08u /* 05 */

#define FX_MODULES_MAX 8       /* a tower: one to eight modules */
#define FX_MODULE_V 51.2       /* a module's nominal voltage (16 LFP cells) */
#define FX_MODULE_T_OFFSET 40  /* 1 degC + 40 in the module frames (Battery-Emulator) */
#define FX_SENSOR_T_OFFSET 50  /* 1 degC + 50 in the sensor frames (FozzieUK's capture) */
#define FX_CELLS_MAX 144       /* 0x0C1D-0x0CAD: 36 frames of 4 cells */
#define FX_SENSORS_MAX 64      /* 0x0D21-0x0D59: 8 frames of 8 sensors */
#define FX_MAX_AC_V 2567       /* 0x1878 bytes 0-1, 0.1 V: every real battery's */

/* The modules reported: report_modules, else the nominal voltage over 51.2
 * V, held within 1..8. */
static unsigned fx_modules(const struct inv_battery *b)
{
	return inv_modules(b, inv_scale(inv_nominal_v(b), 1 / FX_MODULE_V, INV_NEAR, 0, 255), 1, FX_MODULES_MAX);
}

/* A fault the inverter is told of (0x1877 byte 0, 0x1879 bit 6): the source
 * stale, or a protection of the BMS's hardware. */
static bool fx_fault(const struct inv_battery *b)
{
	return b->failsafe || ((b->present & INV_HAS_ALARMS) && (b->protect & INV_CF_SYSTEM));
}

/* 0x1875: the mean temperature, a bit per module answering, the module
 * count, the contactor (1; 0 while the source is stale), cycles. */
static bool fx_1875(const struct inv_battery *b, struct gw_can_frame *f)
{
	unsigned m = fx_modules(b);

	sx_begin(f, 0x1875);
	inv_cf_put16(f->data, sx_mean_temp(b));
	f->data[2] = (uint8_t)((1u << m) - 1);
	f->data[3] = (uint8_t)m;
	f->data[4] = !b->failsafe;
	inv_cf_put16(f->data + 6, (b->present & INV_HAS_CYCLES) ? (long)(b->cycles > 0xFFFF ? 0xFFFF : b->cycles) : 0);
	return true;
}

/* 0x1876: bit 0 "charging not possible" (no charge current, a full SOC, a
 * fault), the highest and lowest cell (mV). */
static bool fx_1876(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	sx_begin(f, 0x1876);
	f->data[0] = !l.charge || inv_cf_soc(b, 1, 0) >= 100 || fx_fault(b);
	inv_cf_put16(f->data + 2, sx_cell_max(b));
	inv_cf_put16(f->data + 6, sx_cell_min(b));
	return true;
}

/* 0x1874: the cells in mV, the real ones (Battery-Emulator squeezes a
 * non-LFP pack's into 2.5-3.4 V). */
static bool fx_1874(const struct inv_battery *b, struct gw_can_frame *f)
{
	sx_put1874(b, f, 1);
	return true;
}

/* 0x1877 of slot 0 (the master: battery_type, firmware 0x12, 0x01); the
 * answer puts a module's in turn (type 0x84 "HV2600 V2", firmware 0x1F,
 * the slot in the high nibble). */
static void fx_1877_slot(const struct inv_battery *b, struct gw_can_frame *f, unsigned slot)
{
	sx_begin(f, 0x1877);
	f->data[0] = fx_fault(b) ? 0x02 : 0x00;
	f->data[4] = slot ? 0x84 : b->battery_type;
	f->data[6] = slot ? 0x1F : 0x12;
	f->data[7] = (uint8_t)(slot ? slot << 4 : 0x01);
}

static bool fx_1877(const struct inv_battery *b, struct gw_can_frame *f)
{
	fx_1877_slot(b, f, 0);
	return true;
}

/* 0x1878: "max AC voltage" 256.7 V (a constant of every real battery);
 * the lifetime energy, unknown: 0. */
static bool fx_1878(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	sx_begin(f, 0x1878);
	inv_cf_put16(f->data, FX_MAX_AC_V);
	return true;
}

/* 0x1879 byte 1: bit 0 always (as every real battery), 1 may discharge,
 * 2 may charge, 3 discharging, 4 charging, 5 operational (fresh), 6 an
 * error. */
static bool fx_1879(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;
	long i = inv_has(b, INV_HAS_CURRENT, b->current) ? inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0;

	inv_cf_limits(b, &l);
	sx_begin(f, 0x1879);
	f->data[1] = (uint8_t)(0x01 | (l.discharge ? 0x02 : 0) | (l.charge ? 0x04 : 0) | (i < 0 ? 0x08 : 0) |
			       (i > 0 ? 0x10 : 0) | (b->failsafe ? 0 : 0x20) | (fx_fault(b) ? 0x40 : 0));
	return true;
}

static const struct inv_can_frame_fn fx_frames[] = {
	{ 0x1872, sx_1872 }, { 0x1873, sx_1873 }, { 0x1874, fx_1874 }, { 0x1875, fx_1875 },
	{ 0x1876, fx_1876 }, { 0x1877, fx_1877 }, { 0x1878, fx_1878 }, { 0x1879, fx_1879 },
};
#define FX_NFRAMES (sizeof(fx_frames) / sizeof(fx_frames[0]))

/* A temperature as 1 degC + offset in a byte. */
static uint8_t fx_temp8(float t, long offset)
{
	return (uint8_t)(inv_scale(t, 1, INV_NEAR, -offset, 0xFF - offset) + offset);
}

/* 0x0C05+i: module i of m, the source divided evenly among them as
 * Battery-Emulator does: the current over m, the hottest and coldest
 * sensor, the SOC, 0x0A (every real battery's), the voltage over m
 * (0.01 V). */
static void fx_module(const struct inv_battery *b, unsigned i, unsigned m, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	sx_begin(f, 0x0C05 + i);
	inv_cf_put16(f->data, inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current / m, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	bool t = (b->present & (INV_HAS_TEMP | INV_HAS_TEMP_MINMAX)) != 0;
	f->data[2] = t ? fx_temp8(hi, FX_MODULE_T_OFFSET) : 0;
	f->data[3] = t ? fx_temp8(lo, FX_MODULE_T_OFFSET) : 0;
	f->data[4] = (uint8_t)inv_cf_soc(b, 1, 0);
	f->data[5] = 0x0A;
	inv_cf_put16(f->data + 6, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		     inv_scale(b->voltage / m, 100, INV_NEAR, 0, 0xFFFF) : 0);
}

/* The cells (4 a frame from 0x0C1D) and the sensors (8 a frame from
 * 0x0D21) of a source with a list; the last frame's unused places repeat
 * its lowest cell, its coldest sensor (real readings, never a made-up one). */
static void fx_cells(const struct inv_battery *b, struct gw_can_frame *set, int *k, int cap)
{
	unsigned nc = (b->present & INV_HAS_CELLS) ? (b->ncells < FX_CELLS_MAX ? b->ncells : FX_CELLS_MAX) : 0;
	unsigned nt = (b->present & INV_HAS_TEMPS) ? (b->ntemps < FX_SENSORS_MAX ? b->ntemps : FX_SENSORS_MAX) : 0;
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	for (unsigned j = 0; j < nc && *k < cap; j += 4) {
		struct gw_can_frame *f = &set[(*k)++];
		sx_begin(f, 0x0C1D + j);
		for (unsigned c = 0; c < 4; c++)
			inv_cf_put16(f->data + 2 * c, j + c < nc ? b->cell_mv[j + c] : b->cell_min_mv);
	}
	for (unsigned j = 0; j < nt && *k < cap; j += 8) {
		struct gw_can_frame *f = &set[(*k)++];
		sx_begin(f, 0x0D21 + j);
		for (unsigned s = 0; s < 8; s++)
			f->data[s] = fx_temp8(j + s < nt && isfinite(b->temps_c[j + s]) ? b->temps_c[j + s] : lo,
					      FX_SENSOR_T_OFFSET);
	}
}

/* The inverter's 0x1871 (29 bits): 01 asks by byte 4, 05 for the serial
 * numbers; 02 (an acknowledgement), 03 (the time) and others are heard only. */
static enum inv_rx fx_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (!sx_is_request(f))
		return INV_RX_OTHER;
	h->frames++;
	if (f->dlc < 1)
		return INV_RX_BAD;
	if (f->data[0] == 0x05) {
		h->asked |= FX_ASK_SERIALS;
		return INV_RX_REQUEST;
	}
	if (f->data[0] != 0x01)
		return INV_RX_ALIVE;
	switch (f->dlc >= 5 ? f->data[4] : 0) {
	case 0x00:
		h->asked |= FX_ASK_INFO;
		return INV_RX_REQUEST;
	case 0x01:
		h->asked |= FX_ASK_PACKS;
		return INV_RX_REQUEST;
	case 0x04:
		h->asked |= FX_ASK_CELLS;
		return INV_RX_REQUEST;
	default:
		return INV_RX_ALIVE;
	}
}

/* The answer to the kinds asked, in the order state, modules, serial
 * numbers, cells; 0x1877 of the master and of each module in turn. */
static int fx_answer(const struct conf_inverter *c, struct inv_heard *h, const struct inv_battery *b,
		     struct gw_can_frame *set, int n, int cap, struct inv_encoded *e)
{
	unsigned m = fx_modules(b);
	int k = 0;

	(void)c;
	if (h->asked & FX_ASK_INFO) {
		k = n;
		for (int i = 0; i < n; i++)
			if (set[i].id == 0x1877)
				fx_1877_slot(b, &set[i], h->turn % (m + 1));
		h->turn = (h->turn + 1) % (m + 1);
	} else {
		e->limits = false;
	}
	for (unsigned i = 0; (h->asked & FX_ASK_PACKS) && i < m && k < cap; i++)
		fx_module(b, i, m, &set[k++]);
	for (unsigned slot = 0; (h->asked & FX_ASK_SERIALS) && slot <= m; slot++)
		for (unsigned part = 0; part < 3 && k < cap; part++) {
			sx_begin(&set[k], 0x1881 + part);
			set[k].data[0] = (uint8_t)slot;
			inv_serial_part(b, slot, part, set[k++].data + 1);
		}
	if (h->asked & FX_ASK_CELLS)
		fx_cells(b, set, &k, cap);
	return k;
}

const struct inv_codec inv_codec_foxess_can = {
	.name = "foxess-can",
	.can = {
		.frames = fx_frames,
		.nframes = FX_NFRAMES,
		.answers = true,
		.heard = fx_heard,
		.answer = fx_answer,
		.limits = sx_encoded,
	},
};
