/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ubms_can.c - libFuzzer target: whole polls of the
 * listen-only ubms-can driver (a Valence U-BMS, BMS_CAN records as the CAN
 * transport hands them over; harness: fuzz_drive.h; input: fuzz_can.h
 * after one byte, the pack's `cells` (bits 0-5, 0 = what 0x0C1 tells); the ids
 * of its records: the status frames, the cells of modules 1-4 and 9, the
 * U-BMS's other frames, a VMU's command, an extended frame).
 */
#include "fuzz_can.h"

static const struct fc_id ub_ids[] = {
	{ 0x0C0, false }, { 0x0C1, false }, { 0x0C4, false }, { 0x350, false }, { 0x351, false },
	{ 0x352, false }, { 0x353, false }, { 0x354, false }, { 0x355, false }, { 0x356, false },
	{ 0x357, false }, { 0x360, false }, { 0x361, false }, { 0x0C2, false }, { 0x188, false },
	{ 0x76A, false }, { 0x440, false }, { 0x18FF50E5, true },
};

static size_t ub_config(struct fd *s, const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	s->cells_forced = data[0] & 63;
	size_t n = fc_config(s, data + 1, size - 1);
	return n ? n + 1 : 0;
}

static size_t ub_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	return fc_event(s, e, p, avail, ub_ids, sizeof(ub_ids) / sizeof(ub_ids[0]));
}

static void ub_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 32768.0f);
	if (sn->present & BMS_HAS_CUR_LIMITS)
		REQUIRE(sn->bms_ccl_a >= 0.0f && sn->bms_ccl_a <= 3000.0f && sn->bms_dcl_a >= 0.0f &&
			sn->bms_dcl_a <= 3000.0f);
	if (sn->present & BMS_HAS_CELLS) {
		REQUIRE(sn->ncells > 0 && sn->ncells <= 32);
		for (int i = 0; i < sn->ncells; i++)
			REQUIRE(sn->cell_mv[i] >= BMS_PLAUSIBLE_MIN_CELL_MV && sn->cell_mv[i] <= BMS_PLAUSIBLE_MAX_CELL_MV);
	}
}

/* A whole poll: the voltage the string's sum; without `cells` whole
 * modules, the string 0x0C1 told (within 1.5 V or 5 % of its 0..255 V). */
static void ub_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	unsigned sum = 0;
	for (int i = 0; i < sn->ncells; i++)
		sum += sn->cell_mv[i];
	REQUIRE(fabsf(sn->voltage - (float)sum / 1000.0f) < 0.01f);
	if (!s->cells_forced)
		REQUIRE(sn->ncells % 4 == 0 && sum <= 255000u + 255000u / 20u);
}

static const struct fd_target ubms_can = {
	.drv = &bms_ubms_can_driver,
	.config = ub_config,
	.event = ub_event,
	.max_cells = 32,
	.max_temps = 2,
	.max_raw = 3,
	.max_state = 0,
	.never = BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_SOH |
		 BMS_HAS_SETPOINT | BMS_HAS_VOLT_LIMITS,
	.snap = ub_snap,
	.ok = ub_ok,
	.frame = fc_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS,
	.ok_volts = true,
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(ubms_can.drv->listen_only && ubms_can.drv->next_request == NULL);
	return fd_run(&ubms_can, data, size);
}
