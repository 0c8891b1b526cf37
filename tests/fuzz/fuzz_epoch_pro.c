/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_epoch_pro.c - libFuzzer target: whole polls of the Epoch
 * Pro Bluetooth LE driver (the total, then each pack), driven the way
 * gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised answer with a right CRC: the next byte K
 *			picks it (bit 0: a pack's, else the total; bits 1..4 its
 *			device; bit 5 a length of K % 200 bytes, else the
 *			answer's own: 110 or 164; bit 6 the request echoed
 *			before it); its data come from the input (zero-padded),
 *			the total's pack count its byte 42..43 as the input has
 *			it; it arrives as 20-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static uint16_t ep_crc(const uint8_t *b, size_t n)
{
	unsigned c = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xA001 : c >> 1;
	}
	return (uint16_t)c;
}

static void ep_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 10 && req[0] == 0xFA && req[1] == 0xF3 && req[2] == 0x16);
	unsigned start = (unsigned)req[3] << 8 | req[4], words = (unsigned)req[6] << 8 | req[7];
	REQUIRE((start == 0x7654 && req[5] == 1 && words == 0x37) ||
		(start == 0x75F8 && req[5] >= 1 && req[5] <= 15 && words == 0x52));
	REQUIRE(ep_crc(req, 8) == (uint16_t)(req[8] | req[9] << 8));
}

static void ep_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 7 && n == (size_t)f[4] + 7 && f[0] == 0xFA && f[1] == 0xF3 && f[2] == 0x16);
	REQUIRE(ep_crc(f, n - 2) == (uint16_t)(f[n - 2] | f[n - 1] << 8));
}

static void ep_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0.0f && sn->voltage <= 655.35f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 32768.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	REQUIRE(sn->ncells <= 16);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -32768.0f && sn->temp_c[i] <= 32767.0f);
}

/* A sample: the extremes hold the first pack's cells. */
static void ep_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (!(sn->present & BMS_HAS_CELL_EXT))
		return;
	for (unsigned i = 0; i < sn->ncells; i++)
		REQUIRE(sn->cell_mv[i] <= sn->ext_max_mv && sn->cell_mv[i] >= sn->ext_min_mv);
}

static size_t ep_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t f[300];
	size_t used = 0, len = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	bool pack = k & 1;
	uint8_t dev = pack ? (uint8_t)((k >> 1) & 0x0F) : 1;
	size_t n = (k & 0x20) ? k % 200u : pack ? 164 : 110;
	if (k & 0x40) {
		static const uint8_t echo[10] = { 0xFA, 0xF3, 0x16, 0x76, 0x54, 0x01, 0x00, 0x37, 0xC7, 0x24 };
		memcpy(f, echo, sizeof(echo));
		len = sizeof(echo);
	}
	f[len++] = 0xFA;
	f[len++] = 0xF3;
	f[len++] = 0x16;
	f[len++] = dev;
	f[len++] = (uint8_t)n;
	memset(f + len, 0, n);
	for (size_t i = 0; i < n && used < avail; i++)
		f[len + i] = p[used++];
	len += n;
	uint16_t c = ep_crc(f + len - n - 5, n + 5);
	f[len++] = (uint8_t)c;
	f[len++] = (uint8_t)(c >> 8);
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, f + off, len - off < 20 ? len - off : 20);
	return used;
}

static const struct fd_target epoch = {
	.drv = &bms_epoch_pro_driver,
	.event = ep_event,
	.request = ep_request,
	.max_cells = 16,
	.max_temps = 16,
	.max_raw = 0,
	.max_state = 2,
	.never = BMS_HAS_POWER | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |
		 BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = ep_snap,
	.frame = ep_frame,
	/* scan() checked the head, the length and the CRC: the answer of
	 * another read, or values no system has */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_NEXT,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CYCLES,
	.ok_volts = true,
	.forced_at_most = true,
	.ok = ep_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(epoch.drv) && !epoch.drv->probe);
	return fd_run(&epoch, data, size);
}
