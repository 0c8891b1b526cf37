/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_rvc.c - libFuzzer target: whole polls of the listen-only
 * rvc driver (a battery's DC source status on RV-C, BMS_CAN records as the
 * CAN transport hands them over; harness: fuzz_drive.h; input: fuzz_can.h
 * after one byte, the battery's source address; the ids of its records:
 * the six DGNs from the battery at 0x8F and from another node, an address
 * claim, a request, a standard frame).
 */
#include "fuzz_can.h"

static const struct fc_id rv_ids[] = {
	{ 0x19FFFD8F, true }, { 0x19FFFC8F, true }, { 0x19FFFB8F, true }, { 0x19FEC98F, true },
	{ 0x19FEC78F, true }, { 0x19FEA58F, true }, { 0x19FFFD44, true }, { 0x19FFFC44, true },
	{ 0x18EEFF8F, true }, { 0x18EAFF44, true }, { 0x305, false },
};

/* byte 0: the source address (0x8F or another), then fuzz_can.h's */
static size_t rv_config(struct fd *s, const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	s->address = data[0] & 1 ? 0x8F : data[0];
	size_t n = fc_config(s, data + 1, size - 1);
	return n ? n + 1 : 0;
}

static size_t rv_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	return fc_event(s, e, p, avail, rv_ids, sizeof(rv_ids) / sizeof(rv_ids[0]));
}

static void rv_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 3212.75f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3000.0f);
	if (sn->present & BMS_HAS_CUR_LIMITS)
		REQUIRE(sn->bms_ccl_a >= 0.0f && sn->bms_ccl_a <= 1612.75f && isnan(sn->bms_dcl_a));
	if (sn->present & BMS_HAS_VOLT_LIMITS)
		REQUIRE(sn->bms_cvl_v > 0.0f && isnan(sn->bms_dvl_v));
	if (sn->alarms & BMS_AL_PROTECTION)
		REQUIRE(sn->alarms & ~(uint32_t)BMS_AL_PROTECTION);
}

static const struct fd_target rvc = {
	.drv = &bms_rvc_driver,
	.config = rv_config,
	.event = rv_event,
	.max_cells = 0,
	.max_temps = 1,
	.max_raw = 3,
	.max_state = 0,
	.never = BMS_HAS_CELLS | BMS_HAS_BALANCE | BMS_HAS_CYCLES | BMS_HAS_MOS_TEMP | BMS_HAS_SETPOINT,
	.snap = rv_snap,
	.frame = fc_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_SOC,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(rvc.drv->listen_only && rvc.drv->next_request == NULL);
	return fd_run(&rvc, data, size);
}
