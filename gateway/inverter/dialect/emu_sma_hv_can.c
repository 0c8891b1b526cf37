/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_sma_hv_can.c - the sma-hv-can codec: a BYD Battery-Box
 * as SMA's high-voltage inverters read it over CAN (Sunny Boy / Tripower
 * Smart Energy, Sunny Boy Storage), in Battery-Emulator's three emulations,
 * `variant = byd-hvs | byd-h | sbs` (../PROTOCOLS.md §18).  Standard frames,
 * 500 kbit/s, BIG endian, DLC 8: BYD's HVS layouts (bydframes.c, which
 * byd-hvs-can sends under BYD's own identifiers) under SMA's:
 *
 *	0x358 CVL, DVL, DCL, CCL      0x3D8 SOC, SOH, remaining, full Ah
 *	0x4D8 V, I, T, state          0x518 temperatures, cells
 *	0x458 energies                0x158 alarms (SMA's pairs, as 0x35A)
 *	0x558, 0x598, 0x5D8 "BYD", 0x618 the name: the identification
 *
 * byd-hvs: nothing before the inverter's pairing request (0x5E7 or 0x660);
 * then the identification and every frame, one a 250 ms, then 0x358 every
 * 2 s, 0x3D8, 0x4D8, 0x518 every 10 s, 0x458 every 60 s, never two frames
 * within 250 ms.  byd-h: from the inverter's first frame, every 100 ms
 * 0x158, 0x358, 0x3D8, 0x458, 0x518, 0x4D8, the identification on each
 * pairing request.  sbs: from the inverter's first frame, every 100 ms the
 * identification and every frame.  No enable flag: the stop is CCL / DCL 0,
 * a stale source "stop" in 0x4D8 and a fault in 0x158. */
#include <stdlib.h>
#include <string.h>

#include "../bydframes.h"
#include "../canframes.h"
#include "../invident.h"
#include "../invscale.h"

#define SHV_READY 0x03
#define SHV_STOP 0x02
#define SHV_NO_CELL 0xFF /* 0x518's cell bytes without cells (Battery-Emulator's initial data) */

static bool shv_358(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_limits(b, f, 0x358);
	return true;
}

static bool shv_3d8(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_soc(b, f, 0x3D8);
	return true;
}

/* 0x4D8: byte 6 3 "ready", 2 "stop" for a stale source. */
static bool shv_4d8(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_meas(b, f, 0x4D8, b->failsafe ? SHV_STOP : SHV_READY);
	return true;
}

/* A cell in 25 mV, to the nearest (0xFF unknown). */
static uint8_t shv_cell(const struct inv_battery *b, uint16_t mv)
{
	if (!(b->present & INV_HAS_CELL_MINMAX))
		return SHV_NO_CELL;
	long v = ((long)mv + 12) / 25;
	return (uint8_t)(v > 0xFF ? 0xFF : v);
}

/* 0x518: the hottest and coldest sensor (as BYD's 0x210), the sum of the
 * cells (the voltage, 0.1 V), the lowest and the highest cell (25 mV). */
static bool shv_518(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_byd_temps(b, f, 0x518);
	inv_cf_put16be(f->data + 4, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		       inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	f->data[6] = shv_cell(b, b->cell_min_mv);
	f->data[7] = shv_cell(b, b->cell_max_mv);
	return true;
}

/* 0x458: the lifetime energies charged and discharged, u32 Wh: 0 (bmsgw
 * counts none for an inverter). */
static bool shv_458(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	inv_cf_begin(f, 0x458, 8);
	return true;
}

/* 0x158's messages: bytes 0-3 faults, 4-7 the same as warnings, four a
 * byte, in Battery-Emulator's list: system defect, cell over-voltage, cell
 * under-voltage, high temperature; low temperature, high temperature, low
 * temperature, overload; overload, switch position, short circuit,
 * internal hardware; imbalance, service life, thermal management, internal
 * hardware. */
static const uint32_t shv_msgs[16] = {
	BMS_AL_OTHER, BMS_AL_CELL_OV | BMS_AL_PACK_OV, BMS_AL_CELL_UV | BMS_AL_PACK_UV, BMS_AL_DSG_OT | BMS_AL_MOS_OT,
	BMS_AL_DSG_UT, BMS_AL_CHG_OT, BMS_AL_CHG_UT, BMS_AL_DSG_OC,
	BMS_AL_CHG_OC, BMS_AL_MOS_FAULT, BMS_AL_SHORT, BMS_AL_HW_FAULT | BMS_AL_SENSOR | BMS_AL_COMM,
	BMS_AL_CELL_DIFF, 0, BMS_AL_TEMP_DIFF, 0,
};

/* 0x158: all AA when nothing is raised; a stale source raises "internal
 * hardware fault" (byte 2 6A, Battery-Emulator's mark of a battery that
 * may not close). */
static bool shv_158(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x158, 8);
	inv_cf_sma_alarms(b, shv_msgs, 16, b->failsafe ? BMS_AL_COMM : 0, f->data);
	return true;
}

/* The module count: report_modules, else the nominal voltage over an HVS
 * module's 102.4 V (32 LFP cells), rounded, within 1-255. */
static uint8_t shv_modules(const struct inv_battery *b)
{
	return (uint8_t)inv_modules(b, lround(inv_nominal_v(b) / 102.4), 1, 255);
}

/* 0x558: firmware, the module count (byte 3), the installed energy in
 * 0.1 kWh (bytes 4-5: Battery-Emulator's 0x0066 is its 10.2 kWh; 0
 * unknown), two bytes of the variant's. */
static void shv_558(const struct inv_battery *b, struct gw_can_frame *f, const char *head, const char *tail)
{
	inv_cf_begin(f, 0x558, 8);
	memcpy(f->data, head, 3);
	f->data[3] = shv_modules(b);
	inv_cf_put16be(f->data + 4, inv_scale(inv_full_wh(b), 0.01, INV_DOWN, 0, 0xFFFF));
	memcpy(f->data + 6, tail, 2);
}

static bool shv_558_hvs(const struct inv_battery *b, struct gw_can_frame *f)
{
	shv_558(b, f, "\x03\x24\x00", "\x04\x09");
	return true;
}

static bool shv_558_h(const struct inv_battery *b, struct gw_can_frame *f)
{
	shv_558(b, f, "\x03\x13\x00", "\x04\x07");
	return true;
}

/* 0x598: the serial, u32: the machine's tag (8 hex digits), stable per
 * installation; 0 without one. */
static bool shv_598(const struct inv_battery *b, struct gw_can_frame *f)
{
	char tag[sizeof(b->machine_tag)];
	memcpy(tag, b->machine_tag, sizeof(tag));
	tag[sizeof(tag) - 1] = '\0';
	inv_cf_begin(f, 0x598, 8);
	inv_cf_put32be(f->data, (long)(strtoul(tag, NULL, 16) & 0xFFFFFFFFul));
	return true;
}

static bool shv_5d8(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x5D8, inv_byd_vendor);
}

/* 0x618: "Battery-Box Premium HVS" in four frames (byd-hvs, sbs), or
 * "Battery-Box H10.2" in three (byd-h). */
static bool shv_618_0(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x618, inv_byd_hvs_name[0]);
}

static bool shv_618_1(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x618, inv_byd_hvs_name[1]);
}

static bool shv_618_2(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x618, inv_byd_hvs_name[2]);
}

static bool shv_618_3(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x618, inv_byd_hvs_name[3]);
}

static bool shv_618_h1(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x618, "\x01-Box H1");
}

static bool shv_618_h2(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	return inv_byd_const(f, 0x618, "\x02" "0.2\0\0\0\0");
}

/* The SMA's frames (standard): 0x360 (its voltage and current), 0x3E0,
 * 0x420 (time), 0x560-0x567, 0x5E0-0x5E6 ("SMA"), 0x62C; 0x5E7 and 0x660
 * its pairing request. */
static enum inv_rx shv_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	uint32_t id = f->id;
	if (f->rtr || f->ext || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	bool pair = id == 0x5E7 || id == 0x660;
	if (!pair && id != 0x360 && id != 0x3E0 && id != 0x420 && id != 0x62C && !(id >= 0x560 && id <= 0x567) &&
	    !(id >= 0x5E0 && id <= 0x5E6))
		return INV_RX_OTHER;
	h->frames++;
	return pair ? INV_RX_IDENTIFY : INV_RX_ALIVE;
}

/* ---- byd-hvs (the default): Sunny Boy / Tripower Smart Energy ---- */

static const struct inv_can_frame_fn hvs_frames[] = {
	{ 0x358, shv_358 }, { 0x3D8, shv_3d8 }, { 0x458, shv_458 }, { 0x4D8, shv_4d8 }, { 0x518, shv_518 },
};

static const struct inv_can_period hvs_periods[] = {
	{ 2, true, 0 }, { 10, false, 0 }, { 60, false, 0 }, { 10, true, 0 }, { 10, false, 0 },
};

static const struct inv_can_frame_fn hvs_ident[] = {
	{ 0x558, shv_558_hvs }, { 0x598, shv_598 }, { 0x5D8, shv_5d8 },
	{ 0x618, shv_618_0 }, { 0x618, shv_618_1 }, { 0x618, shv_618_2 }, { 0x618, shv_618_3 },
};

/* ---- byd-h ---- */

static const struct inv_can_frame_fn h_frames[] = {
	{ 0x158, shv_158 }, { 0x358, shv_358 }, { 0x3D8, shv_3d8 }, { 0x458, shv_458 }, { 0x518, shv_518 },
	{ 0x4D8, shv_4d8 },
};

static const struct inv_can_period h_periods[] = {
	{ 0.1, true, 0 }, { 0.1, true, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, true, 0 },
};

static const struct inv_can_frame_fn h_ident[] = {
	{ 0x558, shv_558_h }, { 0x598, shv_598 }, { 0x5D8, shv_5d8 },
	{ 0x618, shv_618_0 }, { 0x618, shv_618_h1 }, { 0x618, shv_618_h2 },
};

/* ---- sbs: Sunny Boy Storage ---- */

static const struct inv_can_frame_fn sbs_frames[] = {
	{ 0x558, shv_558_hvs }, { 0x598, shv_598 }, { 0x5D8, shv_5d8 },
	{ 0x618, shv_618_0 }, { 0x618, shv_618_1 }, { 0x618, shv_618_2 }, { 0x618, shv_618_3 },
	{ 0x158, shv_158 }, { 0x358, shv_358 }, { 0x3D8, shv_3d8 }, { 0x458, shv_458 }, { 0x518, shv_518 },
	{ 0x4D8, shv_4d8 },
};

static const struct inv_can_period sbs_periods[] = {
	{ 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 },
	{ 0.1, true, 0 }, { 0.1, true, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, false, 0 }, { 0.1, true, 0 },
};

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static const struct inv_codec shv_byd_h = {
	.name = "sma-hv-can",
	.can = {
		.frames = h_frames, .nframes = N_(h_frames), .periods = h_periods, .limits_frame = 1,
		.ident = h_ident, .nident = N_(h_ident), .ident_when_asked = true, .start = INV_START_HEARD,
		.heard = shv_heard, .limits = inv_cf_encoded,
	},
};

static const struct inv_codec shv_sbs = {
	.name = "sma-hv-can",
	.can = {
		.frames = sbs_frames, .nframes = N_(sbs_frames), .periods = sbs_periods, .limits_frame = 8,
		.start = INV_START_HEARD, .heard = shv_heard, .limits = inv_cf_encoded,
	},
};

/* By enum conf_inv_variant. */
static const struct inv_codec *const shv_variants[] = { &inv_codec_sma_hv_can, &shv_byd_h, &shv_sbs };

const struct inv_codec inv_codec_sma_hv_can = {
	.name = "sma-hv-can",
	.can = {
		.frames = hvs_frames, .nframes = N_(hvs_frames), .periods = hvs_periods,
		.ident = hvs_ident, .nident = N_(hvs_ident), .start = INV_START_ASKED, .gap_ms = 250,
		.heard = shv_heard, .limits = inv_cf_encoded,
	},
	.variants = shv_variants,
	.nvariants = N_(shv_variants),
};
