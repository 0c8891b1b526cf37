/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_tianpower.c - libFuzzer target: whole polls of the Tian
 * Power Bluetooth LE driver (0x84, 0x83, 0x85, 0x87, 0x88-0x8A, the
 * identity 0x81 / 0x82), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).  The protocol has no checksum: a mutator makes
 * frames by itself; the synthesised answers only help it to the later
 * steps.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	an answer of the outstanding request's type (55 14 <type>
 *			<16 bytes of the input, zero-padded> AA)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

static void tp_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 4 && req[0] == 0x55 && req[1] == 0x04 && req[3] == 0xAA);
	REQUIRE(req[2] >= 0x81 && req[2] <= 0x8A && req[2] != 0x86); /* reads only */
}

static void tp_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n == 20 && f[0] == 0x55 && f[1] == 0x14 && f[19] == 0xAA);
}

static void tp_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -50.0f && sn->temp_c[i] <= 150.0f);
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= 5000);
	if (sn->present & BMS_HAS_MOSFETS)
		REQUIRE(sn->chg_mos == sn->dsg_mos); /* served only when the two bits agree */
}

/* A whole poll: the pack voltage and the cells hold together. */
static void tp_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	if (s->cells_forced)
		return;
	float sum = 0, tol = sn->voltage / 10.0f < 1.0f ? 1.0f : sn->voltage / 10.0f;
	for (unsigned i = 0; i < sn->ncells; i++)
		sum += (float)sn->cell_mv[i] / 1000.0f;
	REQUIRE(fabsf(sum - sn->voltage) <= tol + 0.001f);
}

static size_t tp_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t f[20];
	size_t used = 0;
	if (e == 0xFE) {
		s->fresh = true;
		return 0;
	}
	if (e != 0xFF)
		return FD_NOT_MINE;
	memset(f, 0, sizeof(f));
	f[0] = 0x55;
	f[1] = 0x14;
	f[2] = s->req_len == 4 ? s->req[2] : 0x83;
	for (size_t i = 3; i < 19 && used < avail; i++)
		f[i] = p[used++];
	f[19] = 0xAA;
	fd_bytes(s, f, sizeof(f));
	return used;
}

static const struct fd_target tianpower = {
	.drv = &bms_tianpower_driver,
	.event = tp_event,
	.request = tp_request,
	.max_cells = 24,
	.max_temps = 8,
	.max_raw = 4,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = tp_snap,
	.frame = tp_frame,
	/* a whole 55 14 .. AA: the outstanding type (or a field out of its
	 * range), or another one */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_ALARMS,
	.ok_volts = true,
	.ok = tp_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(tianpower.drv) && !tianpower.drv->probe);
	return fd_run(&tianpower, data, size);
}
