/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_solxpow_can.c - the solxpow-can codec: a battery as the
 * Solxpow X3 hybrids and their rebrands read it (Solxpow's "Default HV_1
 * CANBUS Protocol of High Voltage system V00.01", as Battery-Emulator's
 * SOLXPOW-CAN sends it; ../PROTOCOLS.md §22).  Pylontech's high-voltage layout
 * (emu_pylon_hv_can.c) at address 0, 500 kbit/s, EXTENDED (29-bit) identifiers,
 * LITTLE endian, DLC 8, with two differences: the currents carry NO 30000
 * offset (0x4210's current a plain s16, + = charging; 0x4220's CCL and DCL
 * plain u16, both positive), and the temperatures of 0x4240 and 0x4270 are
 * plain s16 0.1 degC (0x4210's keeps the + 1000):
 *
 *	0x4210 voltage, current (s16), temperature (+1000), SOC, SOH
 *	0x4220 charge and discharge cut-off voltages, CCL, DCL (u16, 0.1 A)
 *	0x4230 highest and lowest cell (mV) and their numbers        (phfamily.h)
 *	0x4240 hottest and coldest sensor (s16 0.1 degC) and their numbers
 *	0x4250 state, cycles, errors, warnings, protections          (phfamily.h)
 *	0x4260 module voltages (0)                                   (phfamily.h)
 *	0x4270 hottest and coldest sensor (s16 0.1 degC) and their packs
 *	0x4280 charge / discharge forbidden (0xAA), 0x4290 (0)       (phfamily.h)
 *	0x7310 versions (0), 0x7320 cells, modules, capacity, 0x7330 / 0x7340
 *	the manufacturer                                             (phfamily.h)
 *
 * The battery speaks only when asked (codec.h `answers`): the inverter's
 * 0x4200 byte 0 = 00 gets 0x4210-0x4290, 02 gets 0x7310-0x7340, as
 * pylon-hv-can's (phfamily.h). */
#include "../invscale.h"
#include "../phfamily.h"

/* 0x4210: voltage (u16 0.1 V), current (s16 0.1 A, + = charging, no
 * offset), the average temperature (0.1 degC + 1000, as pylon-hv-can's),
 * SOC (down), SOH (100 without one). */
static bool sp_4210(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x4210, 8);
	f->ext = true;
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		     inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	inv_cf_put16(f->data + 4, ph_temp((b->present & INV_HAS_TEMP) != 0, b->temp_c, PH_TEMP_OFFSET));
	f->data[6] = (uint8_t)inv_cf_soc(b, 1, 0);
	f->data[7] = (uint8_t)inv_cf_soh(b, 100);
	return true;
}

/* 0x4220: CVL (down), DVL (up), CCL and DCL (down) as plain u16; 0 A for a
 * direction not allowed; all 0 without limits. */
static bool sp_4220(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	inv_cf_begin(f, 0x4220, 8);
	f->ext = true;
	inv_cf_put16x4(f->data, l.cvl, l.dvl, l.ccl, l.dcl);
	return true;
}

/* 0x4240 and 0x4270: plain s16 0.1 degC (Battery-Emulator's, tested on
 * the X3; ../PROTOCOLS.md §22). */
static bool sp_4240(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_temps(b, f, 0x4240, false, 0);
	return true;
}

static bool sp_4270(const struct inv_battery *b, struct gw_can_frame *f)
{
	ph_temps(b, f, 0x4270, true, 0);
	return true;
}

static const struct inv_can_frame_fn sp_frames[] = {
	{ 0x4210, sp_4210 }, { 0x4220, sp_4220 }, { 0x4230, ph_4230 }, { 0x4240, sp_4240 },
	{ 0x4250, ph_4250 }, { 0x4260, ph_4260 }, { 0x4270, sp_4270 }, { 0x4280, ph_4280 },
	{ 0x4290, ph_4290 }, { 0x7310, ph_7310 }, { 0x7320, ph_7320 }, { 0x7330, ph_7330 },
	{ 0x7340, ph_7340 },
};

/* The answer: the groups asked, at address 0 (the only one the document
 * has). */
static int sp_answer(const struct conf_inverter *c, struct inv_heard *h, const struct inv_battery *b,
		     struct gw_can_frame *set, int n, int cap, struct inv_encoded *e)
{
	(void)c;
	(void)b;
	(void)cap;
	return ph_pick(h->asked, 0, set, n, e);
}

const struct inv_codec inv_codec_solxpow_can = {
	.name = "solxpow-can",
	.can = {
		.frames = sp_frames,
		.nframes = sizeof(sp_frames) / sizeof(sp_frames[0]),
		.answers = true,
		.heard = ph_heard,
		.answer = sp_answer,
		.limits = inv_cf_encoded,
	},
};
