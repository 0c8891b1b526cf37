/* SPDX-License-Identifier: MIT */
/* gateway/inverter/dialect/emu_rvc.c - the rvc codec: bmsgw as the house battery of an
 * RV-C bus (motorhomes, boats), the DC source of its instance
 * (../PROTOCOLS.md §25).  250 kbit/s, 29-bit, little endian, DLC 8, priority
 * 6, device priority 120 ("battery SOC device"); the layouts and scalings
 * are bms/base/rvcdgn.c's, which the rvc BMS driver reads with:
 *
 *	DC_SOURCE_STATUS_4 (1FEC9) every 1 s   desired charge state (1 "do not
 *	                  charge" when charging is not allowed), voltage = CVL,
 *	                  current = CCL, battery type; out of turn when the
 *	                  limit falls or the source goes stale
 *	DC_SOURCE_STATUS_1 (1FFFD) every 500 ms  voltage, current (+ = out of
 *	                  the battery, discharging: bmsgw's current negated)
 *	DC_SOURCE_STATUS_2 (1FFFC) every 500 ms  temperature, SOC
 *	DC_SOURCE_STATUS_3 (1FFFB) every 500 ms  SOH, capacity remaining
 *
 * The output is a J1939 node (`claims`, invnode.c): its address claim may
 * go out before the data, these DGNs only once the address is held, with
 * the address in their identifiers.  RV-C has no discharge limit: DCL and
 * DVL reach an RV-C inverter through nothing but the SOC.  A stale source's
 * battery carries "not available" in every measurement (RV-C has one for
 * each field), 0 A and "do not charge"; then the output is silent. */
#include <string.h>

#include "../../../bms/rvcdgn.h"
#include "../canframes.h"
#include "../invscale.h"

#define RV_MAX_CCL (RVC_MAX16 - RVC_AMP16_ZERO) /* 0.05 A: 1612.75 A */

/* The fields every DGN starts with; the rest not available. */
static void rv_head(const struct inv_battery *b, struct rvc_dc_raw *r)
{
	rvc_raw_na(r);
	r->instance = b->instance ? b->instance : 1;
	r->priority = RVC_PRIORITY_BATTERY;
}

/* The frame of dgn from r, at source address 0 (the output puts its own). */
static bool rv_frame(uint32_t dgn, const struct rvc_dc_raw *r, struct gw_can_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->id = rvc_id(RVC_PRIO_DC, dgn, 0);
	f->ext = true;
	f->dlc = 8;
	return rvc_put(dgn, r, f->data);
}

/* A measurement to send: present, and the source fresh. */
static bool rv_meas(const struct inv_battery *b, uint32_t bit, float v)
{
	return !b->failsafe && inv_has(b, bit, v);
}

/* The charge current field: CCL in 0.05 A, down; 0 (raw 32000) when
 * charging is not allowed or without limits. */
static long rv_ccl_field(const struct inv_battery *b)
{
	if (!(b->present & INV_HAS_LIMITS) || !b->charge_allowed || b->failsafe)
		return 0;
	return inv_scale(b->ccl_a, RVC_AMP16_PER, INV_DOWN, 0, RV_MAX_CCL);
}

static void rv_limits(const struct inv_battery *b, struct inv_encoded *e)
{
	e->limits = true;
	e->ccl_only = true;
	e->ccl_a = (float)(rv_ccl_field(b) / RVC_AMP16_PER);
	e->dcl_a = 0;
}

/* The desired charge state: do not charge without a charge current, else
 * the phase of the source's charge machine (constant voltage / current:
 * the limits as they are, where it runs none). */
static uint8_t rv_state(const struct inv_battery *b)
{
	if (rv_ccl_field(b) == 0)
		return RVC_CS_DO_NOT_CHARGE;
	switch (b->charge_phase) {
	case INV_PHASE_BULK:
		return RVC_CS_BULK;
	case INV_PHASE_ABSORPTION:
		return RVC_CS_ABSORPTION;
	case INV_PHASE_FLOAT:
		return RVC_CS_FLOAT;
	default:
		return RVC_CS_CVCC;
	}
}

/* DC_SOURCE_STATUS_4: the charger's orders. */
static bool rv_dc4(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct rvc_dc_raw r;
	rv_head(b, &r);
	r.charge_state = rv_state(b);
	if (inv_has(b, INV_HAS_LIMITS, b->cvl_v))
		r.cvl = (uint16_t)inv_scale(b->cvl_v, RVC_VOLT_PER, INV_DOWN, 0, RVC_MAX16);
	r.ccl = (uint16_t)(rv_ccl_field(b) + RVC_AMP16_ZERO);
	/* LiFePO4 = 3 (CoachProxy-OS's table); no value of the others' */
	r.type_byte = (uint8_t)(0xF0u | (b->chemistry == 0 ? RVC_BT_LIFEPO4 : RVC_BT_NA));
	return rv_frame(RVC_DC4, &r, f);
}

/* DC_SOURCE_STATUS_1: voltage 0.05 V, current 0.001 A, + = out of the
 * battery (../PROTOCOLS.md §25: the RV-C readers and a captured bank; the rvc
 * BMS driver reads it back so), hence bmsgw's + = charging negated. */
static bool rv_dc1(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct rvc_dc_raw r;
	rv_head(b, &r);
	if (rv_meas(b, INV_HAS_VOLTAGE, b->voltage))
		r.voltage = (uint16_t)inv_scale(b->voltage, RVC_VOLT_PER, INV_NEAR, 0, RVC_MAX16);
	if (rv_meas(b, INV_HAS_CURRENT, b->current)) {
		double out = -(double)b->current; /* + = discharging on the wire */
		/* in 64 bits: up to 2 x 2 000 000 000, more than a 32-bit long holds */
		r.current = (uint32_t)((int64_t)RVC_AMP32_ZERO +
				       inv_scale(out, RVC_AMP32_PER, INV_NEAR, -RVC_AMP32_ZERO, RVC_AMP32_ZERO));
	}
	return rv_frame(RVC_DC1, &r, f);
}

/* DC_SOURCE_STATUS_2: the mean temperature (0.03125 degC from -273), the
 * SOC (0.5 %, down); no time remaining. */
static bool rv_dc2(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct rvc_dc_raw r;
	rv_head(b, &r);
	if (rv_meas(b, INV_HAS_TEMP, b->temp_c))
		r.temp = (uint16_t)inv_scale(b->temp_c + 273.0, RVC_TEMP_PER, INV_NEAR, 0, RVC_MAX16);
	if (!b->failsafe)
		r.soc = (uint8_t)inv_cf_soc(b, (long)RVC_PCT_PER, RVC_NA8);
	return rv_frame(RVC_DC2, &r, f);
}

/* DC_SOURCE_STATUS_3: SOH (0.5 %), capacity remaining (1 Ah, down). */
static bool rv_dc3(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct rvc_dc_raw r;
	rv_head(b, &r);
	if (rv_meas(b, INV_HAS_SOH, b->soh))
		r.soh = (uint8_t)inv_scale(b->soh, RVC_PCT_PER, INV_NEAR, 0, 200);
	if (rv_meas(b, INV_HAS_REMAIN, b->remain_ah))
		r.remain_ah = (uint16_t)inv_scale(b->remain_ah, 1, INV_DOWN, 0, RVC_MAX16);
	return rv_frame(RVC_DC3, &r, f);
}

#define RV_ID(dgn) (RVC_PRIO_DC << 26 | (uint32_t)(dgn) << 8)

/* DC_SOURCE_STATUS_4 first: it carries the limit (codec.h `periods`). */
static const struct inv_can_frame_fn rv_frames[] = {
	{ RV_ID(RVC_DC4), rv_dc4 }, { RV_ID(RVC_DC1), rv_dc1 }, { RV_ID(RVC_DC2), rv_dc2 }, { RV_ID(RVC_DC3), rv_dc3 },
};

static const struct inv_can_period rv_periods[] = {
	{ 1.0, true, 0 }, { 0.5, false, 0 }, { 0.5, false, 0 }, { 0.5, false, 0 },
};

/* Any frame of another node says the bus is alive (the claims and requests
 * are the node's, invnode.c). */
static enum inv_rx rv_heard(const struct gw_can_frame *f, struct inv_heard *h)
{
	if (!f->ext || f->rtr || f->dlc > GW_CAN_MAX_DLC)
		return INV_RX_OTHER;
	h->frames++;
	return INV_RX_ALIVE;
}

const struct inv_codec inv_codec_rvc = {
	.name = "rvc",
	.can = {
		.frames = rv_frames,
		.nframes = sizeof(rv_frames) / sizeof(rv_frames[0]),
		.heard = rv_heard,
		.limits = rv_limits,
		.periods = rv_periods,
		.claims = true,
		.start = INV_START_DATA, /* a node speaks once its address is held, asked by no one */
	},
};
