/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_daly_can.c - libFuzzer target: whole polls of the
 * daly-can driver (the legacy Daly poll in CAN frames, BMS_CAN records as
 * the CAN transport hands them over), driven the way gateway/poll/poller.c
 * drives a requesting driver (harness: fuzz_drive.h; input: fuzz_can.h,
 * board 1; the ids of its records: board 1's answers to every command, a
 * host's request, board 2's answer, another priority, a standard frame).
 * Every request must be a read: one extended frame 0x18 cmd 01 40, cmd
 * 0x90 ... 0x98, eight zero bytes.
 */
#include "fuzz_can.h"

static const struct fc_id dc_ids[] = {
	{ 0x18904001, true }, { 0x18914001, true }, { 0x18924001, true }, { 0x18934001, true },
	{ 0x18944001, true }, { 0x18954001, true }, { 0x18964001, true }, { 0x18974001, true },
	{ 0x18984001, true }, { 0x18900140, true }, { 0x18904002, true }, { 0x10904001, true },
	{ 0x18FF4001, true }, { 0x351, false },
};

static size_t dc_config(struct fd *s, const uint8_t *data, size_t size)
{
	s->address = 1;
	return fc_config(s, data, size);
}

static size_t dc_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	return fc_event(s, e, p, avail, dc_ids, sizeof(dc_ids) / sizeof(dc_ids[0]));
}

static bool dc_addr_ok(uint8_t a)
{
	return a == 1;
}

static void dc_request(const struct fd *s, const uint8_t *req, int n)
{
	struct bms_can_msg m;
	(void)s;
	REQUIRE(n == 16 && bms_can_parse(req, (size_t)n, &m) == BMS_OK);
	REQUIRE(m.ext && !m.rtr && m.dlc == 8 && (m.id & 0xFF00FFFFu) == 0x18000140u);
	REQUIRE(((m.id >> 16) & 0xFF) >= 0x90 && ((m.id >> 16) & 0xFF) <= 0x98);
	for (int i = 0; i < 8; i++)
		REQUIRE(m.data[i] == 0);
}

static const struct fd_target daly_can = {
	.drv = &bms_daly_can_driver,
	.config = dc_config,
	.event = dc_event,
	.addr_ok = dc_addr_ok,
	.request = dc_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = BMS_MAX_RAW_ALARMS,
	.max_state = 2,
	.never = BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_MOS_TEMP,
	.frame = fc_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_CELLS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(!daly_can.drv->listen_only && daly_can.drv->control == NULL);
	return fd_run(&daly_can, data, size);
}
