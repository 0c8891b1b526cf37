/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_mbtable.h - the harness of the Modbus register-table
 * drivers (struct bms_driver.mb, bms/mbmaster.h): whole polls of a
 * driver built on the master of bms/base/mbmaster.c, driven the way
 * gateway/poll/poller.c drives it (harness: fuzz_drive.h).  The frames
 * (bms_mb_scan) and each driver's decoder.  Every check comes from the
 * driver's table: its reads (a settings block only in a poll marked due),
 * its slave (Bluetooth: the table's device, an answer from any slave is
 * its; else the pack's address, within the table's range), the prefix its
 * frames carry, the BMS_HAS_* it never reports (what it does not provide;
 * and power, which no register-table decoder reads: bms_snapshot_derive()
 * makes it), the names --ble-scan knows it by (its decoder may tell them
 * apart).  The generic target (generic_driver.c) runs it for every such
 * driver; a target of its own only where it checks more (FUZZ_OK_HAS).
 *
 * Input:
 *	byte 0	address (any byte: invalid ones must fail cleanly)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0; bit 7 (and
 *		bit 1 of byte 2) which of the driver's name prefixes (its
 *		BMS_BLE_NAME hints) is the device's advertised name
 *	byte 2	bit 0 invert_current, bits 2..3 retries, bit 4 the BMS's
 *		own settings due on every poll (poll.settings_due: the
 *		settings blocks asked), bit 5 refresh on every poll, bit 6
 *		the first poll is the first of a new link (the identity asked
 *		even if known), bit 7 address_any
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	a synthesised answer with a correct CRC: the next byte K
 *			picks the address (bit 0: address + 1), an exception
 *			(bit 1, its code the next byte), the function code of
 *			another read (bit 2), a byte count one register short
 *			(bit 3); then the data are taken from the input
 *			(zero-padded) and the frame arrives as one read.  A
 *			mutator cannot forge CRCs: this reaches the decoders
 *			with arbitrary register contents.
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 *
 * A target calls mz_run(driver, data, size) from its
 * LLVMFuzzerTestOneInput(); FUZZ_OK_HAS, defined before including this,
 * names the BMS_HAS_* bits every sample finish() accepts has (default
 * BMS_HAS_CELLS, or BMS_HAS_VOLTAGE where the protocol gives no cells).
 */
#ifndef TESTS_FUZZ_MBTABLE_H
#define TESTS_FUZZ_MBTABLE_H

#include "../../bms/mbmaster.h"
#include "fuzz_drive.h"

#ifndef FUZZ_OK_HAS /* cells where the protocol gives them, else the voltage */
#define FUZZ_OK_HAS (drv->provides & BMS_HAS_CELLS ? BMS_HAS_CELLS : BMS_HAS_VOLTAGE)
#endif

static const struct bms_mb_proto *mz_pr; /* the driver's table */
#define MZ_PL ((size_t)mz_pr->prefix_len)

/* An address next_request() takes: any over Bluetooth (the table's
 * device is asked), else the table's range. */
static bool mz_addr_ok(uint8_t a)
{
	return mz_pr->ble || (a >= mz_pr->min_address && a <= mz_pr->max_address);
}

/* A read of the table (a settings block only when due). */
static bool mz_read_ok(const struct fd *s, uint8_t fc, unsigned start, unsigned count)
{
	for (unsigned i = 0; i < mz_pr->nblocks; i++) {
		const struct bms_mb_block *b = &mz_pr->blocks[i];
		if (b->fc == fc && b->start == start && b->count == count &&
		    (b->when != BMS_MB_SETTINGS || s->settings_due))
			return true;
	}
	return false;
}

/* A request is a read of the protocol's, well-formed, to the pack. */
static void mz_check_request(const struct fd *s, const uint8_t *buf, int n)
{
	REQUIRE(n == (int)(8 + MZ_PL) && (MZ_PL == 0 || memcmp(buf, mz_pr->prefix, MZ_PL) == 0));
	const uint8_t *req = buf + MZ_PL;
	uint16_t crc = fd_crc16(req, 6);
	REQUIRE(req[6] == (uint8_t)crc && req[7] == (uint8_t)(crc >> 8));
	REQUIRE(req[0] == (mz_pr->ble ? mz_pr->device : s->address));
	uint8_t fc = req[1];
	unsigned start = (unsigned)(req[2] << 8 | req[3]), count = (unsigned)(req[4] << 8 | req[5]);
	REQUIRE(mz_read_ok(s, fc, start, count));
}

/* The settings shown are only keys the driver announces, read only when
 * due, each finite and inside its field's range (temperatures -50 .. 150
 * degC, the rest 0 .. 65535: a u16 field's whole amperes at most). */
static void mz_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	fd_check_due_settings(s, -50.0f, 150.0f, 0.0f, 65535.0f);
}

static void mz_check_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	REQUIRE(n >= 5 + MZ_PL && (MZ_PL == 0 || memcmp(f, mz_pr->prefix, MZ_PL) == 0));
	f += MZ_PL;
	n -= MZ_PL;
	REQUIRE(fd_crc16(f, n - 2) == (uint16_t)(f[n - 2] | f[n - 1] << 8));
	REQUIRE(mz_pr->ble || f[0] == s->address || s->address_any);
}

static void mz_check_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->ntemps)
		REQUIRE(sn->present & BMS_HAS_TEMPS);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isfinite(sn->temp_c[i]));
}

/* The driver's name prefixes (its BMS_BLE_NAME hints with one), NULL-ended. */
static const char *mz_names[8];

static void mz_prefixes(const struct bms_driver *drv)
{
	size_t nn = 0;
	for (const struct bms_ble_hint *h = drv->ble ? drv->ble->hints : NULL; h && h->why; h++)
		if (h->kind == BMS_BLE_NAME && h->prefix && nn + 1 < sizeof(mz_names) / sizeof(mz_names[0]))
			mz_names[nn++] = h->prefix;
	mz_names[nn] = NULL;
}

static size_t mz_config(struct fd *s, const uint8_t *d, size_t size)
{
	if (size < 3)
		return 0;
	fd_rack_config(s, d);
	s->settings_due = (d[2] & 0x10) != 0;
	size_t nn = 0;
	while (mz_names[nn])
		nn++;
	if (nn)
		s->peer_name = mz_names[(size_t)((d[1] >> 7) | (d[2] & 2)) % nn];
	return 3;
}

/* E == 0xFF: an answer with a correct CRC to the outstanding read. */
static size_t mz_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t buf[16 + 5 + 255];
	uint8_t *f = buf + MZ_PL;
	size_t used = 0, len;

	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	const uint8_t *rq = s->req + MZ_PL;
	bool have = s->req_len == (int)(8 + MZ_PL);
	uint8_t fc = have ? rq[1] : 0x03;
	unsigned count = have ? (unsigned)(rq[4] << 8 | rq[5]) : 1;
	uint8_t slave = have ? rq[0] : s->address;
	f[0] = (k & 1) ? (uint8_t)(slave + 1) : slave;
	if (k & 4)
		fc = fc == 0x03 ? 0x04 : fc == 0x04 ? 0x01 : 0x03;
	if (k & 2) {
		f[1] = (uint8_t)(fc | 0x80);
		f[2] = used < avail ? p[used++] : 0x02;
		len = 3;
	} else {
		size_t nb = fc == 0x01 ? (count + 7) / 8 : 2u * count;
		if ((k & 8) && nb >= 2)
			nb -= 2;
		if (nb > 250)
			nb = 250;
		f[1] = fc;
		f[2] = (uint8_t)nb;
		for (size_t i = 0; i < nb; i++)
			f[3 + i] = used < avail ? p[used++] : 0;
		len = 3 + nb;
	}
	uint16_t crc = fd_crc16(f, len);
	f[len] = (uint8_t)crc;
	f[len + 1] = (uint8_t)(crc >> 8);
	if (MZ_PL)
		memcpy(buf, mz_pr->prefix, MZ_PL);
	fd_bytes(s, buf, MZ_PL + len + 2);
	return used;
}

/* The target of a register-table driver, from its table. */
static const struct fd_target *mz_target(const struct bms_driver *drv)
{
	static struct fd_target t;
	if (t.drv == drv)
		return &t;
	mz_pr = drv->mb;
	REQUIRE(mz_pr && mz_pr->prefix_len <= 16);
	mz_prefixes(drv);
	t = (struct fd_target){
		.drv = drv,
		.config = mz_config,
		.event = mz_event,
		.addr_ok = mz_addr_ok,
		.request = mz_check_request,
		.max_cells = BMS_MAX_CELLS,
		.max_temps = BMS_MAX_TEMPS,
		.max_raw = BMS_MAX_RAW_ALARMS,
		.max_state = 2,
		.never = ~drv->provides | BMS_HAS_POWER,
		.snap = mz_check_snap,
		.frame = mz_check_frame,
		.handled = mz_handled,
		/* scan() checked length and CRC: only these can come back */
		.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
		       FD_RC(BMS_E_REFUSED),
		.step = FD_STEP_ON,
		.ok_has = FUZZ_OK_HAS,
		.ok_volts = true,
		.forced_at_most = true,
	};
	return &t;
}

static int mz_run(const struct bms_driver *drv, const uint8_t *data, size_t size)
{
	return fd_run(mz_target(drv), data, size);
}

#endif
