/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_deye_can.c - libFuzzer target: whole polls of the
 * listen-only deye-can driver (a Deye battery's PCS CAN, BMS_CAN records as
 * the CAN transport hands them over; harness: fuzz_drive.h; input:
 * fuzz_can.h; the ids of its records: the battery's, the inverter's, a
 * bank's per-battery frame).
 */
#include "fuzz_can.h"

static const struct fc_id dy_ids[] = {
	{ 0x351, false }, { 0x355, false }, { 0x356, false }, { 0x359, false }, { 0x35E, false },
	{ 0x361, false }, { 0x305, false }, { 0x150, false }, { 0x35C, false },
};

static size_t dy_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	return fc_event(s, e, p, avail, dy_ids, sizeof(dy_ids) / sizeof(dy_ids[0]));
}

static void dy_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ncells == 0 && sn->balance == 0 && sn->state == 0);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 327.67f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3276.8f);
	if (sn->present & BMS_HAS_CUR_LIMITS)
		REQUIRE(sn->bms_ccl_a >= 0.0f && sn->bms_ccl_a <= 3000.0f && sn->bms_dcl_a >= 0.0f &&
			sn->bms_dcl_a <= 3000.0f);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 4);
	if (sn->alarms & BMS_AL_PROTECTION)
		REQUIRE(sn->alarms & ~(uint32_t)BMS_AL_PROTECTION);
}

static const struct fd_target deye_can = {
	.drv = &bms_deye_can_driver,
	.config = fc_config,
	.event = dy_event,
	.max_cells = 0,
	.max_temps = 3,
	.max_raw = 4,
	.max_state = 0,
	.never = BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
		 BMS_HAS_MOS_TEMP | BMS_HAS_SETPOINT,
	.snap = dy_snap,
	.frame = fc_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(deye_can.drv->listen_only && deye_can.drv->next_request == NULL);
	return fd_run(&deye_can, data, size);
}
