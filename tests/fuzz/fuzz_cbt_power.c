/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_cbt_power.c - libFuzzer target: whole polls of the CBT
 * Power / Creabest Bluetooth LE driver (AA 55 reads, a sum), driven the way
 * gateway/poll/poller.c drives it; harness: fuzz_drive.h.  Beyond the
 * generic target: every request is one of the nine reads, a frame the
 * framer reports has its sum and tail right, answers with the sum forged
 * reach the decoder, and a poll's cells are the count its pack voltage
 * tells (the nearest of the list's prefixes, the whole list where none
 * fits within 10 %).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection
 *	E == 0xFF	a synthesised answer, its sum right: the next byte K
 *			picks its command (K % 10: the nine reads and 0x0C),
 *			the next its length (at most 16), its data from the
 *			input (zero-padded); 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static const uint8_t cb_cmds[] = { 0x0B, 0x09, 0x0A, 0x15, 0x21, 0x05, 0x06, 0x07, 0x08, 0x0C };

static void cb_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 7 && req[0] == 0xAA && req[1] == 0x55 && req[3] == 0 && req[4] == req[2] && req[5] == 0x0A &&
		req[6] == 0x0D && memchr(cb_cmds, req[2], 9) != NULL);
}

static void cb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 7 && f[0] == 0xAA && f[1] == 0x55 && n == (size_t)f[3] + 7u && f[n - 2] == 0x0D &&
		f[n - 1] == 0x0A);
	unsigned sum = 0;
	for (size_t i = 2; i < n - 3; i++)
		sum += f[i];
	REQUIRE((sum & 0xFF) == f[n - 3]);
}

static void cb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage >= 0.0f && sn->voltage <= 1000.0f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 3000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps == 1);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 2 && (sn->alarms == 0) == (sn->raw_alarms[0] == 0 && sn->raw_alarms[1] == 0));
	for (unsigned i = 0; i < sn->ncells && !s->cells_forced; i++)
		REQUIRE(sn->cell_mv[i] != 0); /* the list ends at a 0, unless the count is forced */
}

/* A whole poll: the slots after its cells empty; without a forced count
 * the cells the pack voltage tells. */
static void cb_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	for (unsigned i = sn->ncells; i < 20; i++)
		REQUIRE(sn->cell_mv[i] == 0); /* a spare slot emptied */
	if (s->cells_forced)
		return;
	/* the count the pack voltage tells: no shorter prefix of the list is
	 * nearer to the voltage and within 10 % of it; a list that does not
	 * fit is one no prefix fits */
	double v = sn->voltage * 1000.0, sum = 0, err[20], at[20];
	for (unsigned i = 0; i < sn->ncells; i++) {
		sum += sn->cell_mv[i];
		at[i] = sum;
		err[i] = fabs(sum - v);
	}
	double last = err[sn->ncells - 1];
	bool fits = last <= 0.1 * sum;
	for (unsigned i = 0; i + 1 < sn->ncells; i++)
		REQUIRE(err[i] > 0.1 * at[i] || (fits && err[i] >= last));
}

static size_t cb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	size_t used = fd_ble_event(s, e, avail);
	if (used != FD_SYNTH)
		return used;
	used = 0;
	uint8_t cmd = cb_cmds[p[used++] % sizeof(cb_cmds)];
	uint8_t n = used < avail ? p[used++] % 17 : 0;
	uint8_t f[32] = { 0xAA, 0x55, cmd, n };
	unsigned sum = cmd + n;
	for (uint8_t i = 0; i < n; i++) {
		f[4 + i] = used < avail ? p[used++] : 0;
		sum += f[4 + i];
	}
	f[4 + n] = (uint8_t)sum;
	f[5 + n] = 0x0D;
	f[6 + n] = 0x0A;
	size_t len = (size_t)n + 7;
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, f + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target cbt_power = {
	.drv = &bms_cbt_power_driver,
	.event = cb_event,
	.request = cb_request,
	.max_cells = 20,
	.max_temps = 1,
	.max_raw = 2,
	.max_state = 0,
	.never = BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_REMAIN | BMS_HAS_MOSFETS | BMS_HAS_BALANCE |
		 BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = cb_snap,
	.ok = cb_ok,
	.frame = cb_frame,
	/* scan() checked the frame: another command's answer, data too short,
	 * values out of range */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_FULL |
		  BMS_HAS_CYCLES | BMS_HAS_ALARMS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(cbt_power.drv) && !cbt_power.drv->listen_only && !cbt_power.drv->probe);
	return fd_run(&cbt_power, data, size);
}
