/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_schneider_can.c - the schneider-can codec: a battery for
 * Schneider Electric's XW Pro (48 V), "SE BMS Communication Protocol"
 * version 2 as Battery-Emulator's SCHNEIDER-CAN quotes it (../PROTOCOLS.md
 * §19).  29-bit identifiers 0x320-0x333, BIG endian, 32-bit signed values
 * in 0.01 V and 0.01 A; the battery speaks first, from the source's first
 * data, whether the inverter's 0x310 comes or not:
 *
 *	500 ms  0x321 CVL / DVL, 0x322 CCL / DCL, 0x323 voltage / current,
 *	        0x324 (DLC 4) temperature / SOC, 0x325 (DLC 6) commands,
 *	        warnings, faults
 *	2 s     0x320 (DLC 2) the protocol's version, 0x326 state, cycles,
 *	        SOH, capacity, 0x327 extreme temperatures and cells
 *	10 s    0x328 energies, 0x330-0x332 ids and serial, 0x333 "SEBMS"
 *
 * The stop: CCL / DCL 0, the charge and discharge permissions of 0x325
 * cleared; a stale source says "stop" there and "faulted" in 0x326. */
#include <string.h>

#include "../canframes.h"
#include "../invident.h"
#include "../invscale.h"

#define SE_STATE_ONLINE 3
#define SE_STATE_FAULTED 4
#define SE_CMD_FORCE 0x01
#define SE_CMD_CHARGE 0x02
#define SE_CMD_DISCHARGE 0x04
#define SE_CMD_STOP 0x08

static void se_begin(struct gw_can_frame *f, uint32_t id, uint8_t dlc)
{
	inv_cf_begin(f, id, dlc);
	f->ext = true;
}

/* 0x321: CVL (down) and DVL (up), s32 0.01 V: the 0.1 V limits of
 * canframes.c, so that every dialect rounds them alike; 0x322: CCL and
 * DCL, s32 0.01 A, 0 for a direction not allowed. */
static bool se_limit_pair(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	se_begin(f, id, 8);
	inv_cf_put32be(f->data, (id == 0x321 ? l.cvl : l.ccl) * 10);
	inv_cf_put32be(f->data + 4, (id == 0x321 ? l.dvl : l.dcl) * 10);
	return true;
}

static bool se_321(const struct inv_battery *b, struct gw_can_frame *f)
{
	return se_limit_pair(b, f, 0x321);
}

static bool se_322(const struct inv_battery *b, struct gw_can_frame *f)
{
	return se_limit_pair(b, f, 0x322);
}

/* 0x323: voltage s32 0.01 V, current s32 0.01 A (+ = charging); 0 unknown. */
static bool se_323(const struct inv_battery *b, struct gw_can_frame *f)
{
	se_begin(f, 0x323, 8);
	inv_cf_put32be(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 100, INV_NEAR, 0, 0x7FFFFFFF) : 0);
	inv_cf_put32be(f->data + 4, inv_has(b, INV_HAS_CURRENT, b->current) ?
		 inv_scale(b->current, 100, INV_NEAR, -0x7FFFFFFF, 0x7FFFFFFF) : 0);
	return true;
}

/* 0x324 (DLC 4): the mean of the hottest and coldest sensor s16 0.1 degC,
 * the SOC u16 0.1 % (down). */
static bool se_324(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	se_begin(f, 0x324, 4);
	inv_cf_put16be(f->data, inv_scale(((double)hi + lo) / 2, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	inv_cf_put16be(f->data + 2, inv_cf_soc(b, 10, 0));
	return true;
}

/* The warning and fault bits of 0x325 (the document's numbering, as
 * Battery-Emulator lists it): 0 charge over-current, 1 discharge
 * over-current, 2 over-temperature, 3 under-temperature, 4 over-voltage, 5
 * under-voltage, 6 cell imbalance, 7 internal communication, 8 system. */
static const uint32_t se_bits[9] = {
	BMS_AL_CHG_OC,
	BMS_AL_DSG_OC | BMS_AL_SHORT,
	BMS_AL_CHG_OT | BMS_AL_DSG_OT | BMS_AL_MOS_OT,
	BMS_AL_CHG_UT | BMS_AL_DSG_UT,
	BMS_AL_CELL_OV | BMS_AL_PACK_OV,
	BMS_AL_CELL_UV | BMS_AL_PACK_UV,
	BMS_AL_CELL_DIFF,
	BMS_AL_COMM,
	BMS_AL_HW_FAULT | BMS_AL_MOS_FAULT | BMS_AL_SENSOR | BMS_AL_OTHER,
};

static long se_alarm_word(uint32_t a)
{
	long w = 0;
	for (unsigned k = 0; k < sizeof(se_bits) / sizeof(se_bits[0]); k++)
		if (a & se_bits[k])
			w |= 1L << k;
	return w;
}

/* 0x325 (DLC 6): the commands (bit 0 force charge, 1 charge permitted, 2
 * discharge permitted, each with its current only; 3 stop, for a stale
 * source), the warnings (the warnings, and the protections of
 * INV_CF_WARN_ONLY), the faults (the other protections acting). */
static bool se_325(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;
	bool have = (b->present & INV_HAS_ALARMS) != 0;
	uint32_t p = have ? b->protect : 0, w = have ? b->warn : 0;

	inv_cf_limits(b, &l);
	se_begin(f, 0x325, 6);
	inv_cf_put16be(f->data, (l.force ? SE_CMD_FORCE : 0) | (l.charge ? SE_CMD_CHARGE : 0) |
		 (l.discharge ? SE_CMD_DISCHARGE : 0) | (b->failsafe ? SE_CMD_STOP : 0));
	inv_cf_put16be(f->data + 2, se_alarm_word(w | (p & INV_CF_WARN_ONLY)));
	inv_cf_put16be(f->data + 4, se_alarm_word(p & ~(uint32_t)INV_CF_WARN_ONLY));
	return true;
}

/* 0x320 (DLC 2): the protocol's version, 2. */
static bool se_320(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	se_begin(f, 0x320, 2);
	inv_cf_put16be(f->data, 2);
	return true;
}

/* 0x326: the state (3 online; 4 faulted for a stale source), cycles (0
 * unknown), SOH % (100 unknown), the full capacity in Ah (0 unknown). */
static bool se_326(const struct inv_battery *b, struct gw_can_frame *f)
{
	se_begin(f, 0x326, 8);
	inv_cf_put16be(f->data, b->failsafe ? SE_STATE_FAULTED : SE_STATE_ONLINE);
	inv_cf_put16be(f->data + 2, (b->present & INV_HAS_CYCLES) ? (b->cycles > 0xFFFF ? 0xFFFF : (long)b->cycles) : 0);
	inv_cf_put16be(f->data + 4, inv_cf_soh(b, 100));
	inv_cf_put16be(f->data + 6, inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_scale(b->full_ah, 1, INV_NEAR, 0, 0xFFFF) : 0);
	return true;
}

/* 0x327: the hottest and coldest sensor s16 0.1 degC, the highest and
 * lowest cell u16 mV (0 unknown). */
static bool se_327(const struct inv_battery *b, struct gw_can_frame *f)
{
	float hi, lo;
	bool cells = (b->present & INV_HAS_CELL_MINMAX) != 0;

	inv_cf_temp_extremes(b, &hi, &lo);
	se_begin(f, 0x327, 8);
	inv_cf_put16be(f->data, inv_scale(hi, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	inv_cf_put16be(f->data + 2, inv_scale(lo, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	inv_cf_put16be(f->data + 4, cells ? b->cell_max_mv : 0);
	inv_cf_put16be(f->data + 6, cells ? b->cell_min_mv : 0);
	return true;
}

/* 0x328: the lifetime energies charged and discharged, Wh: 0 (bmsgw counts
 * none for an inverter). */
static bool se_328(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	se_begin(f, 0x328, 8);
	return true;
}

/* The serial's characters 19 ... 0 (the first 20 of invident.h's),
 * highest index first: 4 in 0x330, 8 in 0x331, 8 in 0x332. */
static void se_serial(const struct inv_battery *b, unsigned from, unsigned n, uint8_t *out)
{
	uint8_t s[21];
	for (unsigned part = 0; part < 3; part++)
		inv_serial_part(b, 0, part, s + 7 * part);
	memcpy(out, s + from, n);
}

/* 0x330: the manufacturer's and the model's ids (Schneider assigns them:
 * 0, none), the serial's characters 19-16. */
static bool se_330(const struct inv_battery *b, struct gw_can_frame *f)
{
	se_begin(f, 0x330, 8);
	se_serial(b, 0, 4, f->data + 4);
	return true;
}

static bool se_331(const struct inv_battery *b, struct gw_can_frame *f)
{
	se_begin(f, 0x331, 8);
	se_serial(b, 4, 8, f->data);
	return true;
}

static bool se_332(const struct inv_battery *b, struct gw_can_frame *f)
{
	se_begin(f, 0x332, 8);
	se_serial(b, 12, 8, f->data);
	return true;
}

/* 0x333: "SEBMS", the protocol's identifier. */
static bool se_333(const struct inv_battery *b, struct gw_can_frame *f)
{
	(void)b;
	se_begin(f, 0x333, 8);
	memcpy(f->data, "SEBMS", 5);
	return true;
}

static const struct inv_can_frame_fn se_frames[] = {
	{ 0x321, se_321 }, { 0x322, se_322 }, { 0x323, se_323 }, { 0x324, se_324 }, { 0x325, se_325 },
	{ 0x320, se_320 }, { 0x326, se_326 }, { 0x327, se_327 },
	{ 0x328, se_328 }, { 0x330, se_330 }, { 0x331, se_331 }, { 0x332, se_332 }, { 0x333, se_333 },
};

/* The limits, the commands and the state go out of turn. */
static const struct inv_can_period se_periods[] = {
	{ 0.5, true, 0 }, { 0.5, true, 0 }, { 0.5, false, 0 }, { 0.5, false, 0 }, { 0.5, true, 0 },
	{ 2, false, 0 }, { 2, true, 0 }, { 2, false, 0 },
	{ 10, false, 0 }, { 10, false, 0 }, { 10, false, 0 }, { 10, false, 0 }, { 10, false, 0 },
};

/* The XW Pro's 0x310, about once a second (any payload; 11 or 29 bits,
 * as Battery-Emulator does not tell them apart). */
static enum inv_rx se_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->dlc > GW_CAN_MAX_DLC || f->id != 0x310)
		return INV_RX_OTHER;
	h->frames++;
	return INV_RX_ALIVE;
}

const struct inv_codec inv_codec_schneider_can = {
	.name = "schneider-can",
	.can = {
		.frames = se_frames,
		.nframes = sizeof(se_frames) / sizeof(se_frames[0]),
		.heard = se_heard,
		.limits = inv_cf_encoded,
		.periods = se_periods,
		.limits_frame = 1,
		.start = INV_START_DATA,
	},
};
