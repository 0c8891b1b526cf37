/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_canmatch.c - libFuzzer target: the frames `bmsgw
 * --detect` heard on a CAN bus, as any node may send them, judged by every
 * listen-only CAN family (gateway/detect/canmatch.c, through each driver's
 * scan, handle, timeout and finish).
 *
 * Input: records one after the other, each: byte F (bit 0 extended, bit 1
 * remote, bits 2..7 the time step to the record before, in 50 ms), 4
 * bytes of identifier (little endian; masked to its form's range), byte L
 * (its DLC, & 15, clamped to 8), then its data bytes.
 * Checked: each family's verdict takes no more records than there are,
 * its address is in the driver's range, its text is NUL-terminated, a
 * match has a poll; the ranking is a strict order on what it compares;
 * sanitizers: no read out of bounds, no overflow. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../gateway/detect/canmatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define MAX_RECS 512

static uint8_t rec[MAX_RECS * BMS_CAN_REC_MAX];
static float at[MAX_RECS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0, k = 0, off = 0;
	float t = 0;
	while (off + 6 <= size && k < MAX_RECS) {
		uint8_t f = data[off];
		uint32_t id = (uint32_t)data[off + 1] | (uint32_t)data[off + 2] << 8 | (uint32_t)data[off + 3] << 16 |
			      (uint32_t)data[off + 4] << 24;
		uint8_t dlc = data[off + 5] & 15;
		off += 6;
		dlc = dlc > 8 ? 8 : dlc;
		bool ext = f & 1, rtr = (f & 2) != 0;
		id &= ext ? 0x1FFFFFFFu : 0x7FFu;
		uint8_t d[8] = { 0 };
		size_t have = size - off < dlc ? size - off : dlc;
		if (!rtr) {
			memcpy(d, data + off, have);
			off += have;
		}
		size_t r = bms_can_record(rec + n, sizeof(rec) - n, id, ext, rtr, dlc, d);
		REQUIRE(r > 0);
		t += (float)(f >> 2) * 0.05f;
		at[k++] = t;
		n += r;
	}
	for (size_t i = 0; bms_drivers[i]; i++) {
		const struct bms_driver *drv = bms_drivers[i];
		struct gw_can_match m, m2;
		if (!gw_can_tried(drv, 0))
			continue;
		bool hit = gw_can_match_best(drv, rec, n, at, k, &m);
		REQUIRE(m.drv == drv && m.used <= k && hit == (m.polls > 0));
		REQUIRE(m.address >= drv->min_address && (!drv->max_address || m.address <= drv->max_address));
		REQUIRE(memchr(m.what, 0, sizeof(m.what)) != NULL);
		gw_can_match_run(drv, m.address, rec, n, NULL, 0, &m2);
		REQUIRE(m2.used <= k && memchr(m2.what, 0, sizeof(m2.what)) != NULL);
		REQUIRE(gw_can_match_cmp(&m, &m) == 0);
		REQUIRE((gw_can_match_cmp(&m, &m2) < 0) == (gw_can_match_cmp(&m2, &m) > 0));
	}
	return 0;
}
