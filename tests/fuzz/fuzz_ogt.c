/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ogt.c - libFuzzer target: whole polls of the Offgridtec
 * Smart Pro type A driver (registers 0x02, 0x04, 0x06, 0x08, 0x0C, 0x10,
 * 0x2C, one a step, and the design capacity 0x3C when the settings are
 * due), driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h), under the key of the pack's advertised name.
 * The answers carry no checksum: whatever the bytes, a sample the driver
 * accepts holds only values within their ranges, and no cells.
 *
 * Input:
 *	byte 0	bit 0 invert_current, bits 2..3 retries, bit 5 refresh,
 *		bit 6 settings_due on every poll, bit 7 the name: SmartBat-A10007 (key 0x1A) or SmartBat-A12345
 *		(key 0x10); always over BLE (link_fresh on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised answer under the key: the next byte K
 *			gives its register (bit 7 set: the one asked, else
 *			one of 0x02 0x04 0x06 0x08 0x0C 0x10 0x2C 0x18 by
 *			K % 8), the one after the count of value bytes
 *			(0..4, by % 5; 0xFF: +RD,Err), then the value bytes
 *			from the input (zero-padded), written as hex, CR LF
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static const char *const og_names[2] = { "SmartBat-A10007", "SmartBat-A12345" };
static const uint8_t og_keys[2] = { 0x1A, 0x10 };

static uint8_t og_key(const struct fd *s)
{
	return s->peer_name == og_names[1] ? og_keys[1] : og_keys[0];
}

static size_t og_config(struct fd *s, const uint8_t *d, size_t size)
{
	if (size < 1)
		return 0;
	s->invert = d[0] & 1;
	s->retries = (d[0] >> 2) & 3;
	s->refresh = (d[0] & 0x20) != 0;
	s->settings_due = (d[0] & 0x40) != 0;
	s->peer_name = og_names[(d[0] >> 7) & 1];
	s->link = BMS_LINK_BLE;
	s->fresh = true;
	return 1;
}

static bool og_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Only the reads: +RAA <one of the seven registers> <its length>, or the
 * design capacity 0x3C when the settings are due. */
static void og_request(const struct fd *s, const uint8_t *req, int n)
{
	static const char *const ok[] = { "0201", "0403", "0603", "0802", "0C02", "1003", "2C02", "3C03" };
	uint8_t p[8];
	REQUIRE(n == 8);
	for (int i = 0; i < 8; i++)
		p[i] = req[i] ^ og_key(s);
	REQUIRE(memcmp(p, "+RAA", 4) == 0);
	bool found = false;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		found = found || memcmp(p + 4, ok[i], 4) == 0;
	REQUIRE(found);
	REQUIRE(memcmp(p + 4, "3C03", 4) != 0 || s->poll.settings_due);
}

static void og_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	uint8_t k = og_key(s);
	REQUIRE(n >= 6 && n <= 14);
	REQUIRE((f[0] ^ k) == '+' && (f[1] ^ k) == 'R' && (f[2] ^ k) == 'D' && (f[3] ^ k) == ',');
	REQUIRE((f[n - 2] ^ k) == '\r' && (f[n - 1] ^ k) == '\n');
}

static void og_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current) && isfinite(sn->mos_temp_c));
	REQUIRE(sn->voltage >= 0 && sn->voltage <= 65.535f);
	REQUIRE(fabsf(sn->current) <= 327.68f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_MOS_TEMP)
		REQUIRE(sn->mos_temp_c >= -273.2f && sn->mos_temp_c <= 6280.5f);
	REQUIRE(sn->remain_ah >= 0 && sn->remain_ah <= 65535.0f * 255.0f / 1000.0f + 1.0f);
	REQUIRE(sn->full_ah >= 0 && sn->full_ah <= 65535.0f * 255.0f / 1000.0f + 1.0f);
	REQUIRE(sn->cycles <= 65535);
	REQUIRE(sn->ncells == 0 && sn->ntemps == 0);
}

static const uint8_t og_regs[8] = { 0x02, 0x04, 0x06, 0x08, 0x0C, 0x10, 0x2C, 0x18 };

/* E == 0xFE: reconnect; E == 0xFF: a synthesised answer under the key. */
static size_t og_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	size_t used = 0, r = fd_ble_event(s, e, avail);
	if (r != FD_SYNTH)
		return r;
	uint8_t k = p[used++], cnt = p[used++], key = og_key(s);
	unsigned reg = og_regs[k % 8];
	if ((k & 0x80) && s->req_len == 8) { /* the register asked */
		uint8_t a = s->req[4] ^ key, b = s->req[5] ^ key;
		reg = (unsigned)((og_hex(a) ? bms_hexval(a) : 0) << 4 | (og_hex(b) ? bms_hexval(b) : 0));
	}
	char t[32];
	int n;
	if (cnt == 0xFF) {
		n = snprintf(t, sizeof(t), "+RD,Err\r\n");
	} else {
		n = snprintf(t, sizeof(t), "+RD,%02X", reg);
		for (unsigned i = 0; i < cnt % 5u; i++)
			n += snprintf(t + n, sizeof(t) - (size_t)n, "%02X", used < avail ? p[used++] : 0);
		n += snprintf(t + n, sizeof(t) - (size_t)n, "\r\n");
	}
	uint8_t f[32];
	for (int i = 0; i < n; i++)
		f[i] = (uint8_t)t[i] ^ key;
	fd_bytes(s, f, (size_t)n);
	return used;
}

static const struct fd_target ogt = {
	.drv = &bms_ogt_driver,
	.config = og_config,
	.event = og_event,
	.request = og_request,
	.max_cells = 0,
	.max_temps = 0,
	.max_raw = 0,
	.max_state = 0,
	.never = BMS_HAS_POWER | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS | BMS_HAS_BALANCE |
		BMS_HAS_BALANCER | BMS_HAS_CELL_RES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_SOH | BMS_HAS_MOSFETS |
		BMS_HAS_ALARMS | BMS_HAS_BALANCING,
	.snap = og_snap,
	.frame = og_frame_check,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
		FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_ON,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES |
		BMS_HAS_MOS_TEMP,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(ogt.drv) && !ogt.drv->listens);
	return fd_run(&ogt, data, size);
}
