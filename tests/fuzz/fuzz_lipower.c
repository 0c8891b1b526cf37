/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_lipower.c - libFuzzer target: whole polls of the Ective
 * LiPower driver (one Modbus read a poll to the id 0x22, 0x0B or 0x08 in
 * turn), driven the way gateway/poll/poller.c drives it (harness:
 * fuzz_drive.h): the id moves on only while none answered.
 *
 * Input: the usual two configuration bytes (fuzz_drive.h), then events, by
 * their first byte E:
 *	E == 0		a timeout of the current step (the next try asks the
 *			next id until one answered)
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised answer with a correct CRC: the next byte K
 *			gives its id (0x22, 0x0B, 0x08 or 0x10 by K % 4), the
 *			one after its byte count, then its data bytes from the
 *			input (zero-padded)
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <math.h>

#include "fuzz_drive.h"

/* Only its read: <id> 03 04 00 00 08 <crc>, at one of the three ids. */
static void lp_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 8 && (req[0] == 0x22 || req[0] == 0x0B || req[0] == 0x08));
	REQUIRE(req[1] == 0x03 && req[2] == 0x04 && req[3] == 0x00 && req[4] == 0x00 && req[5] == 0x08);
	REQUIRE(fd_crc16(req, 6) == (uint16_t)(req[6] | req[7] << 8));
}

static void lp_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE((f[0] == 0x22 || f[0] == 0x0B || f[0] == 0x08) && n == (size_t)f[2] + 5 && f[1] == 0x03);
	REQUIRE(f[2] >= 16 && f[2] <= 32 && !(f[2] & 1));
	REQUIRE(fd_crc16(f, n - 2) == (uint16_t)(f[n - 2] | f[n - 1] << 8));
}

static void lp_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && isfinite(sn->remain_ah));
	REQUIRE(sn->voltage >= 0 && sn->voltage <= 6553.5f && fabsf(sn->current) <= 655.35f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	REQUIRE((s->poll.persist & ~7u) == 0 && (s->poll.persist & 3u) < 3);
}

static size_t lp_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t ids[] = { 0x22, 0x0B, 0x08, 0x10 };
	uint8_t f[FD_SYNTH_MAX];
	bool made;
	/* f: id, the count as the "command", then: 03 count data crc */
	size_t used = fd_synth_event(s, e, p, avail, f, 0, ids, sizeof(ids), &made);
	if (made) {
		uint8_t id = f[1], cnt = f[2];
		uint8_t g[5 + 255];
		g[0] = id;
		g[1] = 0x03;
		g[2] = cnt;
		memcpy(g + 3, f + 3, cnt);
		uint16_t crc = fd_crc16(g, 3u + cnt);
		g[3 + cnt] = (uint8_t)crc;
		g[4 + cnt] = (uint8_t)(crc >> 8);
		fd_bytes(s, g, 5u + cnt);
	}
	return used;
}

static const struct fd_target lipower = {
	.drv = &bms_lipower_driver,
	.addr_mask = 0,
	.persist_bit = false,
	.event = lp_event,
	.request = lp_request,
	.max_cells = 0,
	.max_temps = 0,
	.max_raw = 0,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCING |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES | BMS_HAS_MOS_TEMP | BMS_HAS_BALANCE | BMS_HAS_MOSFETS |
		BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_CYCLES,
	.snap = lp_snap,
	.frame = lp_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT),
	.step = FD_STEP_NEXT,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(lipower.drv) && !lipower.drv->listens);
	return fd_run(&lipower, data, size);
}
