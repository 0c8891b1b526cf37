/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_seplos_ble.c - libFuzzer target: whole polls of the Seplos
 * V2 driver over Bluetooth LE (the binary 0x61 of its module, §46, and the
 * settings read 0x47 in polls marked due, §46.5), driven the way
 * gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input: the usual layout (fuzz_drive.h) with an address byte (0..15), the
 * link always Bluetooth LE; then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised answer with a correct CRC: the next byte
 *			K gives its command (0x61, 0x62, 0x51 or 0x47 by K % 4;
 *			K & 4: RTN 0x02), the one after its length, then its
 *			data bytes come from the input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>
#include <string.h>

#include "fuzz_drive.h"

static bool sb_addr_ok(uint8_t a)
{
	return a <= 15;
}

static size_t sb_config(struct fd *s, const uint8_t *d, size_t size)
{
	size_t k = fd_config(s, d, size);
	s->link = BMS_LINK_BLE;
	s->fresh = true;
	return k;
}

/* 0x61; 0x47 (the same form) only when the settings are due */
static void sb_request(const struct fd *s, const uint8_t *req, int n)
{
	fd_check_seplos61(s, req, n);
}

/* The settings shown are only keys the driver announces, read only when
 * due, each inside its field's range. */
static void sb_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	fd_check_due_settings(s, -40.0f, 120.0f, 1e-6f, 655.35f);
}

static void sb_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 10 && f[0] == 0x7E && f[1] == 0x14 && n == (size_t)(f[5] << 8 | f[6]) + 10 && f[n - 1] == 0x0D);
	REQUIRE(fd_crc16_xmodem(f + 1, n - 4) == (uint16_t)(f[n - 3] << 8 | f[n - 2]));
}

static void sb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	if (sn->ntemps)
		REQUIRE(sn->present & BMS_HAS_TEMPS);
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised answer. */
static size_t sb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t cmds[] = { 0x61, 0x62, 0x51, 0x47 };
	uint8_t f[255 + 10];
	size_t used = 0;

	size_t r = fd_ble_event(s, e, avail);
	if (r != FD_SYNTH)
		return r;
	memset(f, 0, sizeof(f));
	f[0] = 0x7E;
	f[1] = 0x14;
	f[2] = s->address;
	f[4] = (p[used] & 4) ? 0x02 : 0x00;
	f[3] = cmds[p[used++] % sizeof(cmds)];
	f[6] = p[used++];
	for (size_t i = 0; i < f[6] && used < avail; i++)
		f[7 + i] = p[used++];
	size_t n = (size_t)f[6] + 10;
	uint16_t crc = fd_crc16_xmodem(f + 1, n - 4);
	f[n - 3] = (uint8_t)(crc >> 8);
	f[n - 2] = (uint8_t)crc;
	f[n - 1] = 0x0D;
	fd_bytes(s, f, n);
	return used;
}

static const struct fd_target seplos_ble = {
	.drv = &bms_seplos_driver,
	.addr_mask = 0x0F,
	.config = sb_config,
	.event = sb_event,
	.addr_ok = sb_addr_ok,
	.request = sb_request,
	.max_cells = 32,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 4,
	.max_state = 2,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES,
	.snap = sb_snap,
	.frame = sb_frame,
	.handled = sb_handled,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
		FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_NEXT,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_MOSFETS |
		BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	.ok_volts = true,
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(seplos_ble.drv->ble->gatt && !bms_ble_only(seplos_ble.drv));
	return fd_run(&seplos_ble, data, size);
}
