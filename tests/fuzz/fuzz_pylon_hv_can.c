/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pylon_hv_can.c - libFuzzer target: whole polls of the
 * listen-only pylon-hv-can driver (a battery's Pylontech HV CAN, BMS_CAN
 * records as the CAN transport hands them over; harness: fuzz_drive.h;
 * input: fuzz_can.h; the ids of its records: the battery's at addresses
 * 0, 1 and 2, the inverter's, a standard frame).
 */
#include "fuzz_can.h"

static const struct fc_id ph_ids[] = {
	{ 0x4210, true }, { 0x4220, true }, { 0x4230, true }, { 0x4240, true }, { 0x4250, true },
	{ 0x4280, true }, { 0x7320, true }, { 0x7330, true }, { 0x7340, true }, { 0x4211, true },
	{ 0x4221, true }, { 0x4212, true }, { 0x4200, true }, { 0x8210, true }, { 0x351, false },
};

static size_t ph_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	return fc_event(s, e, p, avail, ph_ids, sizeof(ph_ids) / sizeof(ph_ids[0]));
}

static void ph_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ncells == 0 && sn->balance == 0);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 6553.5f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3553.6f);
	if (sn->present & BMS_HAS_CUR_LIMITS)
		REQUIRE(sn->bms_ccl_a >= 0.0f && sn->bms_ccl_a <= 3000.0f && sn->bms_dcl_a >= 0.0f &&
			sn->bms_dcl_a <= 3000.0f);
	if (sn->present & BMS_HAS_VOLT_LIMITS)
		REQUIRE(sn->bms_cvl_v > 0.0f && (isnan(sn->bms_dvl_v) || sn->bms_dvl_v < sn->bms_cvl_v));
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 3);
	if (sn->alarms & BMS_AL_PROTECTION)
		REQUIRE(sn->alarms & ~(uint32_t)BMS_AL_PROTECTION);
}

static const struct fd_target pylon_hv_can = {
	.drv = &bms_pylon_hv_can_driver,
	.config = fc_config,
	.event = ph_event,
	.max_cells = 0,
	.max_temps = 3,
	.max_raw = 3,
	.max_state = 2,
	.never = BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
		 BMS_HAS_MOS_TEMP | BMS_HAS_SETPOINT,
	.snap = ph_snap,
	.frame = fc_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(pylon_hv_can.drv->listen_only && pylon_hv_can.drv->next_request == NULL);
	return fd_run(&pylon_hv_can, data, size);
}
