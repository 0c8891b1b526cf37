/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_daly.c - libFuzzer target: whole polls of the Daly legacy
 * driver, driven the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	board address (& 0x1f: 0 and 17..31 are invalid)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 2	bit 0 invert_current, bit 1 start with host 0x80 learned,
 *		bits 2..3 retries, bit 4 setpoints, bit 5 refresh, bit 6 over
 *		Bluetooth LE (host 0x80 always, nothing learned), bit 7 the
 *		settings reads due (0x50 ... 0x60 at the end of every poll)
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
 */
#include "fuzz_drive.h"

static bool daly_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 16;
}

static void daly_request(const struct fd *s, const uint8_t *req, int n)
{
	unsigned sum = 0;

	REQUIRE(n == 13);
	for (int i = 0; i < 12; i++)
		sum += req[i];
	REQUIRE(req[0] == 0xA5 && req[3] == 0x08 && req[12] == (uint8_t)sum);
	/* the status reads; the settings reads (§2.11) only when due */
	bool set = req[2] == 0x50 || req[2] == 0x59 || req[2] == 0x5A || req[2] == 0x5B || req[2] == 0x5E ||
		   req[2] == 0x5F || req[2] == 0x60;
	REQUIRE((req[2] >= 0x90 && req[2] <= 0x98) || (set && s->poll.settings_due));
	if (s->link == BMS_LINK_BLE)
		REQUIRE(req[1] == 0x80);
	else if (s->address == 1)
		REQUIRE(req[1] == 0x40 || req[1] == 0x80);
	else
		REQUIRE(req[1] == 0x40 + s->address - 1);
}

static void daly_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	(void)f;
	REQUIRE(n == 13);
}

/* over Bluetooth LE the host is never learned; the settings shown
 * (§2.11) are only keys the driver announces, read only when due, each a
 * number inside its field's range */
static void daly_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	if (s->link == BMS_LINK_BLE)
		REQUIRE(s->poll.persist == s->persist0);
	const struct bms_settings *st = &s->poll.kept.settings;
	REQUIRE((st->have & ~s->drv->settings) == 0);
	REQUIRE(s->settings_due || st->have == 0);
	for (unsigned k = 0; k < BMS_SET_COUNT; k++)
		if (bms_settings_has(st, (enum bms_set_key)k))
			REQUIRE(st->v[k] > 0.0f && st->v[k] <= 60000.0f);
}

static const struct fd_target daly = {
	.drv = &bms_daly_driver,
	.addr_mask = 0x1f,
	.persist_bit = true,
	.addr_ok = daly_addr_ok,
	.request = daly_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = BMS_MAX_RAW_ALARMS,
	.max_state = 2,
	.never = BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_MOS_TEMP | BMS_HAS_POWER,
	.frame = daly_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON,
	.handled = daly_handled,
	.ok_has = BMS_HAS_CELLS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fd_run(&daly, data, size);
}
