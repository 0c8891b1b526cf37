/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_jk_can.c - libFuzzer target: whole polls of the
 * listen-only jk-can driver (a JK BMS's CAN port, BMS_CAN records as the
 * CAN transport hands them over), driven the way gateway/poll/poller.c
 * drives a listen_only driver (harness: fuzz_drive.h; input: fuzz_can.h;
 * the ids of its records: JK's, one of another node and one of an
 * inverter).
 */
#include "fuzz_can.h"

static const struct fc_id jk_ids[] = {
	{ 0x2F4, false }, { 0x4F4, false }, { 0x5F4, false }, { 0x7F4, false }, { 0x18F128F4, true },
	{ 0x18F228F4, true }, { 0x18F528F4, true }, { 0x18E028F4, true }, { 0x18E128F4, true },
	{ 0x18E228F4, true }, { 0x18E328F4, true }, { 0x18E428F4, true }, { 0x18E528F4, true },
	{ 0x18E628F4, true }, { 0x1806E5F4, true }, { 0x01F21400, true }, { 0x305, false },
};

static size_t jk_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	return fc_event(s, e, p, avail, jk_ids, sizeof(jk_ids) / sizeof(jk_ids[0]));
}

static void jk_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->balance == 0 && sn->state == 0);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 6553.5f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 6153.6f); /* u16 0.1 A - 400, signed either way */
	if (sn->present & BMS_HAS_FULL)
		REQUIRE(sn->full_ah > 0.0f && sn->remain_ah <= sn->full_ah);
	for (int i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -50.0f && sn->temp_c[i] <= 205.0f); /* u8 - 50 */
	if (sn->present & BMS_HAS_MOS_TEMP)
		REQUIRE(sn->mos_temp_c >= -49.0f && sn->mos_temp_c <= 205.0f);
	/* a cell read is a cell a battery can have; none beyond the list */
	for (int i = 0; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0 || (sn->cell_mv[i] >= BMS_PLAUSIBLE_MIN_CELL_MV &&
						sn->cell_mv[i] <= BMS_PLAUSIBLE_MAX_CELL_MV));
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 2);
}

/* a finished poll: its cells are a whole list, each one there */
static void jk_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->ncells <= 24);
	for (int i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] != 0);
	for (int i = sn->ncells; i < BMS_MAX_CELLS; i++)
		REQUIRE(sn->cell_mv[i] == 0 || !(sn->present & BMS_HAS_CELLS));
	REQUIRE(((sn->present & BMS_HAS_CELLS) != 0) == (sn->ncells > 0));
	/* 0x4F4's extremes only without a list, and then cells of a battery */
	if (sn->present & BMS_HAS_CELL_EXT)
		REQUIRE(sn->ncells == 0 && sn->ext_min_mv >= BMS_PLAUSIBLE_MIN_CELL_MV &&
			sn->ext_max_mv <= BMS_PLAUSIBLE_MAX_CELL_MV && sn->ext_min_mv <= sn->ext_max_mv);
}

static const struct fd_target jk_can = {
	.drv = &bms_jk_can_driver,
	.config = fc_config,
	.event = jk_event,
	.max_cells = 24,
	.max_temps = 4,
	.max_raw = 2,
	.max_state = 0,
	.never = BMS_HAS_SOH | BMS_HAS_BALANCE | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = jk_snap,
	.frame = fc_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.unexpected_keeps_snap = true,
	.ok = jk_ok,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(jk_can.drv->listen_only && jk_can.drv->next_request == NULL);
	return fd_run(&jk_can, data, size);
}
