/* SPDX-License-Identifier: MIT */
/* tests/fuzz/generic_driver.c - the libFuzzer target of every BMS driver that
 * has no target of its own: the Makefile builds build/fuzz/fuzz_<sym> from
 * this file (-DFUZZ_DRIVER=bms_<sym>_driver) for each X(<sym>) of
 * bms/drivers.h without a tests/fuzz/fuzz_<sym>.c, and tests/run.sh seeds
 * it from tests/fuzz/corpus/<sym>/, or where there is none from the
 * protocol's fixtures (tests/tools/fixtures.py seeds).  What it holds the
 * driver to comes from its table alone:
 *
 * - a register-table protocol (.mb): fuzz_mbtable.h (its reads, its
 *   slave, its prefix, CRC-forged answers reaching the decoder);
 * - any other: whole polls of fuzz_drive.h's harness at the pack's default
 *   address (no address byte: the input's first byte is the cell count
 *   byte), over Bluetooth LE where the protocol exists only there (E ==
 *   0xFE: a reconnection), with the checks every driver keeps: the
 *   snapshot within its bounds and never beyond what the table provides,
 *   handle() moving the step on only with BMS_OK (BMS_E_UNEXPECTED leaving
 *   the snapshot alone), a sample finish() accepts with its voltage where
 *   the protocol gives one, served without fault; the advertised name one
 *   of the prefixes its --ble-scan hints know and a number (the first
 *   byte's bit 7), a name that gives no key ending the run (BMS_E_KEY).
 *
 * A target of its own (tests/fuzz/fuzz_<sym>.c) is for what the table does
 * not say: answers with a checksum the harness forges, a request's bytes,
 * the values a decoder may give. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bms/bms.h"
#include "fuzz_mbtable.h"

#ifndef FUZZ_DRIVER
#error "FUZZ_DRIVER names the driver (the Makefile: -DFUZZ_DRIVER=bms_<sym>_driver)"
#endif

/* The usual configuration bytes (fuzz_drive.h) without the address: the
 * pack's default one; over Bluetooth LE alone the link is always BLE. */
static size_t gen_config(struct fd *s, const uint8_t *d, size_t size)
{
	size_t k = fd_config(s, d, size);
	if (k == 0)
		return 0;
	s->address = s->drv->default_address ? s->drv->default_address : s->drv->min_address;
	/* the advertised name: one of the driver's name prefixes and a
	 * number (a name that carries one: OGT's key) */
	static char names[sizeof(mz_names) / sizeof(mz_names[0])][BMS_PEER_NAME_LEN];
	size_t nn = 0;
	for (; mz_names[nn]; nn++)
		snprintf(names[nn], sizeof(names[nn]), "%s10001", mz_names[nn]);
	if (nn)
		s->peer_name = names[(size_t)(d[0] >> 7) % nn];
	if (bms_ble_only(s->drv)) {
		s->link = BMS_LINK_BLE;
		s->fresh = true;
	}
	return k;
}

/* E == 0xFE over Bluetooth LE: a reconnection (the next poll is link_fresh). */
static size_t gen_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	(void)p;
	(void)avail;
	if (e != 0xFE || s->link != BMS_LINK_BLE)
		return FD_NOT_MINE;
	s->fresh = true;
	return 0;
}

static const struct fd_target *gen_target(const struct bms_driver *drv)
{
	static struct fd_target t;
	if (t.drv == drv)
		return &t;
	mz_prefixes(drv);
	t = (struct fd_target){
		.drv = drv,
		.persist_bit = true,
		.config = gen_config,
		.event = gen_event,
		.max_cells = BMS_MAX_CELLS,
		.max_temps = BMS_MAX_TEMPS,
		.max_raw = BMS_MAX_RAW_ALARMS,
		.max_state = 2,
		.never = ~drv->provides,
		.rcs = 0xFFFFFFFFu, /* any result of handle() (checked to be one) */
		.step = drv->listen_only ? FD_STEP_ANY : FD_STEP_ON_OR_SAME,
		.unexpected_keeps_snap = true,
		.key_from_name = true,
		.ok_has = drv->provides & BMS_HAS_VOLTAGE,
		.forced_at_most = true,
	};
	return &t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (FUZZ_DRIVER.mb)
		return mz_run(&FUZZ_DRIVER, data, size);
	return fd_run(gen_target(&FUZZ_DRIVER), data, size);
}
