/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_sma_can.c - the sma-can codec: what SMA's Sunny Island
 * 6.0H-11 expects of an external BMS (SMA "FSS-ConnectingBat-TI-en-10";
 * ../PROTOCOLS.md §2): 0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F, DLC 8, at
 * least 200 ms between two frames (the set goes frame by frame), unused
 * fields SMA's "invalid", values out of the Sunny Island's ranges clamped
 * toward the safe side (it would silently keep an older value). */
#include <string.h>

#include "../canframes.h"
#include "../invscale.h"

#define SC_INVALID_U16 0xFFFFu /* an unsigned field not given */
#define SC_INVALID_S16 0x8000u /* a signed field not given */
/* The Sunny Island's accepted ranges, in field units (0.1 V, 0.1 A). */
#define SC_CVL_MIN 410
#define SC_CVL_MAX 630
#define SC_DVL_MIN 410
#define SC_DVL_MAX 480
#define SC_CUR_MAX 12000

/* The limits as the Sunny Island gets them: a clamp that would allow more
 * stops that current instead. */
static void sc_limits(const struct inv_battery *b, struct inv_cf_limits *l)
{
	inv_cf_limits(b, l);
	if (l->cvl < SC_CVL_MIN) {
		l->cvl = SC_CVL_MIN;
		l->ccl = 0;
	}
	if (l->cvl > SC_CVL_MAX)
		l->cvl = SC_CVL_MAX;
	if (l->dvl > SC_DVL_MAX) {
		l->dvl = SC_DVL_MAX;
		l->dcl = 0;
	}
	if (l->dvl < SC_DVL_MIN)
		l->dvl = SC_DVL_MIN;
	if (l->ccl > SC_CUR_MAX)
		l->ccl = SC_CUR_MAX;
	if (l->dcl > SC_CUR_MAX)
		l->dcl = SC_CUR_MAX;
	if (!(b->present & INV_HAS_LIMITS))
		l->cvl = l->dvl = SC_INVALID_U16;
}

static void sc_encoded(const struct inv_battery *b, struct inv_encoded *e)
{
	struct inv_cf_limits l;

	sc_limits(b, &l);
	inv_cf_report(&l, e);
}

/* 0x351: CVL, CCL, DCL, DVL. */
static bool sc_351(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	sc_limits(b, &l);
	inv_cf_put351(&l, f);
	return true;
}

/* 0x355: SOC, SOH (1 %), the SOC in 0.01 % (both rounded down). */
static bool sc_355(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x355, 8);
	inv_cf_put16(f->data, inv_cf_soc(b, 1, SC_INVALID_U16));
	inv_cf_put16(f->data + 2, inv_cf_soh(b, SC_INVALID_U16));
	inv_cf_put16(f->data + 4, inv_cf_soc(b, 100, SC_INVALID_U16));
	inv_cf_put16(f->data + 6, SC_INVALID_U16);
	return true;
}

/* 0x356: -32768 is never sent as a value: it is the invalid. */
static bool sc_356(const struct inv_battery *b, struct gw_can_frame *f)
{
	long none = (long)SC_INVALID_S16;

	inv_cf_begin(f, 0x356, 8);
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		     inv_scale(b->voltage, 100, INV_NEAR, 0, 0x7FFF) : none);
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : none);
	inv_cf_put16(f->data + 4, inv_has(b, INV_HAS_TEMP, b->temp_c) ?
		     inv_scale(b->temp_c, 10, INV_NEAR, -0x7FFF, 0x7FFF) : none);
	inv_cf_put16(f->data + 6, SC_INVALID_U16);
	return true;
}

#define SC_OV (BMS_AL_CELL_OV | BMS_AL_PACK_OV)
#define SC_UV (BMS_AL_CELL_UV | BMS_AL_PACK_UV)

/* 0x35A: 16 alarm and 16 warning messages, 2 bits each (canframes.c
 * inv_cf_sma_alarms(), which SMA's HV 0x158 shares).  Messages 14-16 are
 * reserved for SMA. */
static const uint32_t sc_msgs[13] = {
	BMS_AL_OTHER | BMS_AL_TEMP_DIFF,          /* 1 general */
	SC_OV,                                    /* 2 battery high voltage */
	SC_UV,                                    /* 3 battery low voltage */
	BMS_AL_DSG_OT | BMS_AL_MOS_OT,            /* 4 battery high temperature */
	BMS_AL_DSG_UT,                            /* 5 battery low temperature */
	BMS_AL_CHG_OT,                            /* 6 high temperature charge */
	BMS_AL_CHG_UT,                            /* 7 low temperature charge */
	BMS_AL_DSG_OC,                            /* 8 high current */
	BMS_AL_CHG_OC,                            /* 9 high current charge */
	BMS_AL_MOS_FAULT,                         /* 10 contactor */
	BMS_AL_SHORT,                             /* 11 short circuit */
	BMS_AL_HW_FAULT | BMS_AL_SENSOR | BMS_AL_COMM, /* 12 BMS internal */
	BMS_AL_CELL_DIFF,                         /* 13 cell imbalance */
};

static bool sc_35a(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x35A, 8);
	inv_cf_sma_alarms(b, sc_msgs, 13, 0, f->data);
	return true;
}

/* 0x35F: battery type, BMS version, capacity (Ah), manufacturer id; only
 * the capacity is known, the rest is "invalid". */
static bool sc_35f(const struct inv_battery *b, struct gw_can_frame *f)
{
	inv_cf_begin(f, 0x35F, 8);
	inv_cf_put16(f->data, SC_INVALID_U16);
	inv_cf_put16(f->data + 2, SC_INVALID_U16);
	inv_cf_put16(f->data + 4, inv_has(b, INV_HAS_FULL, b->full_ah) ?
		     inv_scale(b->full_ah, 1, INV_NEAR, 0, 0xFFFE) : (long)SC_INVALID_U16);
	inv_cf_put16(f->data + 6, SC_INVALID_U16);
	return true;
}

static const struct inv_can_frame_fn sc_frames[] = {
	{ 0x351, sc_351 }, { 0x355, sc_355 },     { 0x356, sc_356 },
	{ 0x35A, sc_35a }, { 0x35E, inv_cf_35e }, { 0x35F, sc_35f },
};

static uint16_t sc_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int16_t sc_les16(const uint8_t *p)
{
	uint16_t v = sc_le16(p);
	return (int16_t)(v >= 0x8000u ? (int)v - 0x10000 : (int)v);
}

/* The Sunny Island's 0x305 (its measurements), 0x306 (its state), 0x307. */
static enum inv_rx sc_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (f->rtr || f->dlc > GW_CAN_MAX_DLC || f->ext || (f->id != 0x305 && f->id != 0x306 && f->id != 0x307))
		return INV_RX_OTHER;
	h->frames++;
	if (f->id == 0x307)
		return INV_RX_ALIVE; /* relay state, not used */
	if (f->dlc < 8)
		return INV_RX_BAD;
	if (f->id == 0x305) {
		h->have_meas = true;
		h->voltage = sc_le16(f->data) / 10.0f;
		h->current = -sc_les16(f->data + 2) / 10.0f;
		h->temp_c = sc_les16(f->data + 4) / 10.0f;
		h->soc = sc_les16(f->data + 6) / 10.0f;
		return INV_RX_SMA_MEAS;
	}
	h->have_state = true;
	h->soh = sc_le16(f->data);
	h->charging_procedure = f->data[2];
	h->operating_state = f->data[3];
	h->error = sc_le16(f->data + 4);
	h->charge_setpoint_v = sc_le16(f->data + 6) / 10.0f;
	return INV_RX_SMA_STATE;
}

const struct inv_codec inv_codec_sma_can = {
	.name = "sma-can",
	.can = {
		.frames = sc_frames,
		.nframes = sizeof(sc_frames) / sizeof(sc_frames[0]),
		.gap_ms = 200,
		.one_by_one = true,
		.heard = sc_heard,
		.limits = sc_encoded,
	},
};
