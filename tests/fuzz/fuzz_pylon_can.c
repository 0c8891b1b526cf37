/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pylon_can.c - libFuzzer target: whole polls of the
 * listen-only pylon-can driver (a battery's Pylontech LV CAN, BMS_CAN
 * records as the CAN transport hands them over), driven the way
 * gateway/poll/poller.c drives a listen_only driver (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 0 invert_current, bits 1..2 retries, bit 3 start with a
 *		learned cycle (persist = the bits of byte 1, bit 5 the ninth
 *		slot, | PC_LEARNED), bit 4 clear the rx buffer between polls
 *	byte 1	(only with bit 3) the learned slots
 *	then events, by their first byte E:
 *	E == 0		a timeout of the wait
 *	E == 0xFF	a record built here: the next byte S picks the id (S & 7,
 *			+ 8 with bit 6: 0x351 0x355 0x356 0x359 0x35A 0x35C 0x35E
 *			0x305, 0x373 0x379 0x370 0x374 0x360 0x37F 0x340 0x380), bit 3
 *			an extended id, bit 4 a remote frame, bit 5 a DLC of 9
 *			(never sent by the transport); the next byte D & 15 is
 *			the DLC (clamped to 8), then its data bytes
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
 */
#include "fuzz_drive.h"
#include "../../bms/pylon_can.h"

static size_t pc_config(struct fd *s, const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	s->invert = data[0] & 1;
	s->retries = (data[0] >> 1) & 3;
	s->keep_rx = (data[0] & 16) == 0;
	if (!(data[0] & 8))
		return 1;
	if (size < 2)
		return 0;
	s->poll.persist = 0x80000000u | ((data[1] | (data[0] & 32u) << 3) & 0x1FFu);
	return 2;
}

static size_t pc_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint16_t ids[16] = { 0x351, 0x355, 0x356, 0x359, 0x35A, 0x35C, 0x35E, 0x305,
					  0x373, 0x379, 0x370, 0x374, 0x360, 0x37F, 0x340, 0x380 };
	uint8_t rec[BMS_CAN_REC_MAX + 1], d[8];
	size_t used = 0;
	if (e != 0xFF || avail < 2)
		return FD_NOT_MINE;
	uint8_t sel = p[used++], dlc = p[used++] & 15;
	if (dlc > 8)
		dlc = 8;
	memset(d, 0, sizeof(d));
	for (size_t i = 0; i < dlc && used < avail; i++)
		d[i] = p[used++];
	size_t n = bms_can_record(rec, sizeof(rec), ids[(sel & 7) | ((sel >> 3) & 8)], (sel & 8) != 0, (sel & 16) != 0,
				  dlc, d);
	REQUIRE(n == BMS_CAN_HDR + ((sel & 16) ? 0u : dlc));
	if (sel & 32)
		rec[7] = 9; /* a header the transport never writes */
	fd_bytes(s, rec, n);
	return used;
}

static void pc_snap(const struct fd *s, const struct bms_snapshot *sn)
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
	REQUIRE(((sn->present & BMS_HAS_TEMPS) != 0) == (sn->ntemps == 1));
	if (sn->ntemps)
		REQUIRE(sn->temp_c[0] >= -3276.8f && sn->temp_c[0] <= 3276.7f); /* s16 0.1 degC, as read */
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 4);
	/* 0x373: cells, the lowest not above the highest (a frame with other
	 * values refused); 0x379 and 0x356's cycles: never 0 */
	if (sn->present & BMS_HAS_CELL_EXT)
		REQUIRE(sn->ext_min_mv >= BMS_PLAUSIBLE_MIN_CELL_MV && sn->ext_max_mv <= BMS_PLAUSIBLE_MAX_CELL_MV &&
			sn->ext_min_mv <= sn->ext_max_mv && sn->ext_max_cell == 0 && sn->ext_min_cell == 0);
	if (sn->present & BMS_HAS_FULL)
		REQUIRE(sn->full_ah >= 1.0f && sn->full_ah <= 65535.0f);
	if (sn->present & BMS_HAS_CYCLES)
		REQUIRE(sn->cycles >= 1 && sn->cycles <= 65535);
	/* a protection level comes with what tripped it */
	if (sn->alarms & BMS_AL_PROTECTION)
		REQUIRE(sn->alarms & ~(uint32_t)BMS_AL_PROTECTION);
}

/* a frame is one record, whole, of a standard or extended id */
static void pc_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= BMS_CAN_HDR && f[0] == BMS_CAN_MAGIC0 && f[1] == BMS_CAN_MAGIC1 && f[7] <= 8);
	REQUIRE((f[2] & ~(BMS_CAN_EXT | BMS_CAN_RTR)) == 0);
	REQUIRE(n == BMS_CAN_HDR + ((f[2] & BMS_CAN_RTR) ? 0u : f[7]));
}

/* nothing outside the identifiers it reads is ever kept */
static void pc_handled(const struct fd *s, int rc, size_t n)
{
	(void)n;
	if (rc == BMS_OK || rc == BMS_MORE)
		REQUIRE(s->poll.seen != 0 && (s->poll.seen >> PC_NSLOTS) == 0);
}

static const struct fd_target pylon_can = {
	.drv = &bms_pylon_can_driver,
	.config = pc_config,
	.event = pc_event,
	.max_cells = 0,
	.max_temps = 1,
	.max_raw = 4,
	.max_state = 0,
	.never = BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN | BMS_HAS_MOS_TEMP |
		 BMS_HAS_SETPOINT,
	.snap = pc_snap,
	.frame = pc_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	/* handle() keeps frames in its state (priv), 0x373 and 0x379 in the
	 * snapshot; the rest of it is written by finish() */
	.unexpected_keeps_snap = true,
	.handled = pc_handled,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CUR_LIMITS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(pylon_can.drv->listen_only && pylon_can.drv->next_request == NULL);
	REQUIRE(pylon_can.drv->can->bitrate == 500000);
	return fd_run(&pylon_can, data, size);
}
