/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_daly_modbus.c - libFuzzer target: whole polls of the Daly
 * H/K/M/S Modbus-like driver, driven the way gateway/poll/poller.c drives it
 * (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	board address (& 0x1f: 0 and 17..31 are invalid)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 2	bit 0 invert_current, bits 2..3 retries, bit 4 read the
 *		MOSFET switch settings too, bit 6 over Bluetooth LE (the D2
 *		and 0x81 dialects, found by alternating tries)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised reply with a correct CRC: the next byte K
 *			picks the address (bits 0..1: own board, board + 1,
 *			0x51, 0xD2), bit 2 an exception reply, bit 3 the other
 *			read's size; then the register data are taken from the
 *			input (zero-padded) and the frame arrives as one read.
 *			CRCs are out of a mutator's reach, so this reaches the
 *			decoders with arbitrary register contents.
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include "fuzz_drive.h"

static bool dm_addr_ok(uint8_t a)
{
	return a >= 1 && a <= 16;
}

static void dm_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(n == 8);
	uint16_t crc = fd_crc16(req, 6);
	REQUIRE(req[6] == (uint8_t)crc && req[7] == (uint8_t)(crc >> 8));
	unsigned start = (unsigned)(req[2] << 8 | req[3]), count = (unsigned)(req[4] << 8 | req[5]);
	REQUIRE(req[1] == 0x03);
	if (req[0] == 0xD2) {
		/* the D2 dialect, only over BLE: the status, and the settings
		 * with control; the whole poll in the dialect its first read
		 * was answered in */
		REQUIRE(s->link == BMS_LINK_BLE);
		REQUIRE((start == 0 && count == 0x3E && s->poll.step == 0) ||
			(s->setpoints && start == 0x80 && count == 0x29 && s->poll.step == 1));
		return;
	}
	REQUIRE(req[0] == 0x80 + s->address);
	/* the status blocks; with setpoints also the switch settings 0x121-0x122 */
	REQUIRE(count >= 1 && count <= 125 &&
		(start + count <= 0x80 || (s->setpoints && start == 0x121 && count == 2)));
}

static void dm_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps > 0);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -40.0f && sn->temp_c[i] <= 214.0f);
	REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
}

static void dm_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 5 && fd_crc16(f, n - 2) == (uint16_t)(f[n - 2] | f[n - 1] << 8));
}

/* The settings shown (§14.2): only keys the driver announces, each a
 * number inside its register's range. */
static void dm_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	const struct bms_settings *st = &s->poll.kept.settings;
	REQUIRE((st->have & ~s->drv->settings) == 0);
	for (unsigned k = 0; k < BMS_SET_COUNT; k++)
		if (bms_settings_has(st, (enum bms_set_key)k))
			REQUIRE(st->v[k] >= -40.0f && st->v[k] <= 6553.5f);
}

/* E == 0xFF: a well-formed reply built from the input. */
static size_t dm_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static const uint8_t addrs[4] = { 0, 1, 0x51, 0xD2 };
	uint8_t f[5 + 250];
	size_t used = 0, len;

	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	uint8_t a = addrs[k & 3];
	f[0] = a == 0 ? (uint8_t)(0x50 + s->address) : a == 1 ? (uint8_t)(0x51 + s->address) : a;
	if (k & 4) {
		f[1] = 0x83;
		f[2] = 0x02;
		len = 3;
	} else {
		unsigned count = (unsigned)(s->req[4] << 8 | s->req[5]);
		if (count == 0 || (k & 8))
			count = count == 0x40 ? 0x3E : 0x40;
		f[1] = 0x03;
		f[2] = (uint8_t)(2 * count);
		for (unsigned i = 0; i < 2 * count; i++)
			f[3 + i] = used < avail ? p[used++] : 0;
		len = 3 + 2 * count;
	}
	uint16_t crc = fd_crc16(f, len);
	f[len] = (uint8_t)crc;
	f[len + 1] = (uint8_t)(crc >> 8);
	fd_bytes(s, f, len + 2);
	return used;
}

static const struct fd_target daly_modbus = {
	.drv = &bms_daly_modbus_driver,
	.addr_mask = 0x1f,
	.event = dm_event,
	.addr_ok = dm_addr_ok,
	.request = dm_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = BMS_MAX_RAW_ALARMS,
	.max_state = 2,
	/* the protocol gives no SOH, full capacity or power of its own */
	.never = BMS_HAS_SOH | BMS_HAS_FULL | BMS_HAS_POWER,
	.snap = dm_snap,
	.frame = dm_frame,
	.handled = dm_handled,
	/* scan() checked length and CRC: only these can come back */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_REFUSED),
	.step = FD_STEP_NEXT,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_ALARMS,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fd_run(&daly_modbus, data, size);
}
