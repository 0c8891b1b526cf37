/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_sofar_can.c - the sofar-can codec: a battery of a Sofar
 * HYD hybrid set to "General" (Battery-Emulator's "Sofar BMS (Extended) via
 * CAN, Battery ID"; ../PROTOCOLS.md §14).  500 kbit/s, EXTENDED (29-bit)
 * identifiers, each the base plus the battery id (`address`, 0-15) times
 * 0x1000, LITTLE endian, DLC 8, every second:
 *
 *	0x351 CVL, CCL, DCL, DVL                     (u16: 0.1 V, 0.1 A)
 *	0x355 SOC % (at most 99), SOH %
 *	0x356 voltage (0.1 V), current (s16 0.1 A, + = charging), hottest
 *	      temperature (s16 0.1 degC)
 *	0x359 packs in parallel, modules in series, CAN version 1, cells
 *	0x35E manufacturer (8 ASCII characters, zero padded)
 *	0x35F 0x01 (Li-ion), BMS version 1.0.0, nominal capacity (Ah)
 *	0x30F remote command 0, the enables (bit 0 discharge, bit 1 charge)
 *
 * The battery speaks first (the set every `interval`, 1 s: the protocol
 * takes no interval key).  The inverter's inquiries 0x605 (byte 0 the
 * battery id, 1 the inquiry, 2 a sub-target) and 0x705 (0 the id, 1 the
 * inquiry, 2 a record, 3 a sub-target) to this battery get one frame each
 * (codec.h `reply`): 0x605 inquiries 0-3 and 0x0A-0x0E 0x670, 0x671,
 * 0x680, 0x681, 0x690, 0x691, 0x6A0, 0x6B0, 0x6C0; 0x705 inquiries 0-8
 * 0x770-0x773, 0x780-0x784; bytes 0-2 the battery id, the sub-target, the
 * record, the rest 0, as Battery-Emulator answers (their content is not
 * documented anywhere read). */
#include <string.h>

#include "../canframes.h"
#include "../invscale.h"

#define SF_SOC_MAX 99        /* %: the SOC sent never above (Battery-Emulator's "SoC deception") */
#define SF_ID_SHIFT 12       /* the battery id's place in the identifiers */

/* Frame f (identifier base) as battery b's: base + its id << 12, extended. */
static void sf_own(const struct inv_battery *b, struct gw_can_frame *f)
{
	f->id += (uint32_t)(b->address & 0x0F) << SF_ID_SHIFT;
	f->ext = true;
}

/* A frame of battery b: base + its id << 12, extended, DLC 8, zeros. */
static void sf_begin(const struct inv_battery *b, struct gw_can_frame *f, uint32_t base)
{
	inv_cf_begin(f, base, 8);
	sf_own(b, f);
}

/* 0x351: CVL (down), CCL, DCL (down; 0 for a direction not allowed), DVL
 * (up): the common frame's, at battery b's identifier. */
static bool sf_351(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_351(b, f);
	sf_own(b, f);
	return true;
}

/* 0x355: the SOC (down, at most 99 %), the SOH (100 % unknown); bytes 4-7
 * FF FF F6 00 as Battery-Emulator's frame, which never changes them. */
static bool sf_355(const struct inv_battery *b, struct gw_can_frame *f)
{
	long soc = inv_cf_soc(b, 1, 0);

	sf_begin(b, f, 0x355);
	f->data[0] = (uint8_t)(soc > SF_SOC_MAX ? SF_SOC_MAX : soc);
	f->data[2] = (uint8_t)inv_cf_soh(b, 100);
	f->data[4] = 0xFF;
	f->data[5] = 0xFF;
	f->data[6] = 0xF6;
	return true;
}

/* 0x356: voltage (u16 0.1 V), current (s16 0.1 A, + = charging), the
 * hottest sensor (s16 0.1 degC); bytes 6-7 01 00 as Battery-Emulator's. */
static bool sf_356(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	sf_begin(b, f, 0x356);
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	inv_cf_put16(f->data + 4, inv_scale(hi, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	f->data[6] = 0x01;
	return true;
}

/* 0x359: the strings in parallel (the packs over the members of a string;
 * 1 unknown), the modules in series (report_modules, else the members of
 * a string, 1 for a pack), CAN version 1, the cells in series (report_cells
 * or the source's; 0 unknown), each a byte. */
static bool sf_359(const struct inv_battery *b, struct gw_can_frame *f)
{
	unsigned series = b->report_modules ? b->report_modules : b->modules ? b->modules : 1;
	unsigned par = b->modules && b->packs >= b->modules ? b->packs / b->modules : 1;

	sf_begin(b, f, 0x359);
	f->data[0] = (uint8_t)(par > 0xFF ? 0xFF : par);
	f->data[1] = (uint8_t)(series > 0xFF ? 0xFF : series);
	f->data[2] = 0x01;
	f->data[3] = (uint8_t)(b->total_cells > 0xFF ? 0xFF : b->total_cells);
	return true;
}

/* 0x35E: the manufacturer ([inverter] manufacturer), zero padded. */
static bool sf_35e(const struct inv_battery *b, struct gw_can_frame *f)
{
	sf_begin(b, f, 0x35E);
	memcpy(f->data, b->manufacturer, strnlen(b->manufacturer, 8));
	return true;
}

/* 0x35F: 0x01 Li-ion, BMS version 1.0.0, the full capacity in Ah (down;
 * report_capacity_ah; 0 unknown). */
static bool sf_35f(const struct inv_battery *b, struct gw_can_frame *f)
{
	sf_begin(b, f, 0x35F);
	f->data[0] = 0x01;
	f->data[1] = 0x01;
	inv_cf_put16(f->data + 4, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 1, INV_DOWN, 0, 0xFFFF) : 0);
	return true;
}

/* 0x30F: remote command 0 (normal), the enables: bit 0 discharge, bit 1
 * charge, each only with its current limit (both 0 while stale). */
static bool sf_30f(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	sf_begin(b, f, 0x30F);
	f->data[1] = (uint8_t)((l.discharge ? 0x01 : 0) | (l.charge ? 0x02 : 0));
	return true;
}

static const struct inv_can_frame_fn sf_frames[] = {
	{ 0x351, sf_351 }, { 0x355, sf_355 }, { 0x356, sf_356 }, { 0x359, sf_359 },
	{ 0x35E, sf_35e }, { 0x35F, sf_35f }, { 0x30F, sf_30f },
};

/* The inverter's inquiries, 11 or 29 bits (no source says which): 0x605
 * with at least 3 bytes, 0x705 with at least 4. */
static enum inv_rx sf_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->dlc > GW_CAN_MAX_DLC || (f->id != 0x605 && f->id != 0x705))
		return INV_RX_OTHER;
	h->frames++;
	if (f->dlc < (f->id == 0x605 ? 3 : 4))
		return INV_RX_BAD;
	return INV_RX_REQUEST;
}

/* The reply's base identifier to inquiry q of 0x605 (realtime) or 0x705
 * (history); 0 for an inquiry without one. */
static uint32_t sf_reply_id(bool history, uint8_t q)
{
	static const uint32_t realtime[] = { 0x670, 0x671, 0x680, 0x681 };
	static const uint32_t realtime_a[] = { 0x690, 0x691, 0x6A0, 0x6B0, 0x6C0 }; /* inquiries 0x0A-0x0E */
	static const uint32_t hist[] = { 0x770, 0x771, 0x772, 0x773, 0x780, 0x781, 0x782, 0x783, 0x784 };

	if (history)
		return q < sizeof(hist) / sizeof(hist[0]) ? hist[q] : 0;
	if (q < sizeof(realtime) / sizeof(realtime[0]))
		return realtime[q];
	return q >= 0x0A && q <= 0x0E ? realtime_a[q - 0x0A] : 0;
}

static int sf_reply(const struct gw_can_frame *req, const struct inv_battery *b, struct gw_can_frame *out, int cap)
{
	bool history = req->id == 0x705;

	if (req->rtr || req->dlc > GW_CAN_MAX_DLC || (req->id != 0x605 && !history))
		return 0;
	if (cap < 1 || req->dlc < (history ? 4 : 3) || req->data[0] != (b->address & 0x0F))
		return 0;
	uint32_t id = sf_reply_id(history, req->data[1]);
	if (!id)
		return 0;
	sf_begin(b, out, id);
	out->data[0] = (uint8_t)(b->address & 0x0F);
	out->data[1] = history ? req->data[3] : req->data[2];
	out->data[2] = history ? req->data[2] : 0;
	return 1;
}

const struct inv_codec inv_codec_sofar_can = {
	.name = "sofar-can",
	.can = {
		.frames = sf_frames,
		.nframes = sizeof(sf_frames) / sizeof(sf_frames[0]),
		.heard = sf_heard,
		.limits = inv_cf_encoded,
		.reply = sf_reply,
	},
};
