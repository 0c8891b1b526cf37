/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_inv_can.c - libFuzzer target: the CAN codecs of the
 * inverter outputs (gateway/inverter/codec.h: pylon-can, lux-can, sma-can)
 * on anything a bus or a source could give them.
 *
 * Input: the first sizeof(struct inv_battery) bytes are taken as a battery
 * as raw memory (any float, NaN, infinity; any flag; the manufacturer made
 * a string), the rest as CAN frames of 10 bytes each (id low, id high,
 * flags: bit 0 29-bit, bit 1 remote, bit 2..5 dlc up to 15; then the
 * data).  Invariants: every codec's set fits, frames have dlc <= 8 and an
 * 11-bit id, the enable bits of 0x35C never go with a current field of 0,
 * the limits the codec reports are the ones its 0x351 carries;
 * what the inverter sent is classified without reading past the dlc, and
 * the counters only grow. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/inverter/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static void check_set(const struct inv_codec *c, const struct inv_battery *b)
{
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	unsigned all = CONF_EXTRA_CAPACITY | CONF_EXTRA_CELLS | CONF_EXTRA_MODULES | CONF_EXTRA_NAME;
	struct inv_encoded e;
	int n = inv_can_encode(c, b, all, f, INV_CAN_MAX_FRAMES, &e);
	long ccl = -1, dcl = -1;
	REQUIRE(n >= 0 && n <= INV_CAN_MAX_FRAMES);
	for (int i = 0; i < n; i++) {
		REQUIRE(f[i].dlc <= 8 && !f[i].ext && !f[i].rtr && f[i].id <= GW_CAN_MAX_STD_ID);
		if (f[i].id == 0x351) {
			ccl = (int16_t)(f[i].data[2] | f[i].data[3] << 8);
			dcl = (int16_t)(f[i].data[4] | f[i].data[5] << 8);
			REQUIRE(ccl >= 0 && dcl >= 0);
			REQUIRE(e.limits && lroundf(e.ccl_a * 10) == ccl && lroundf(e.dcl_a * 10) == dcl);
		}
	}
	REQUIRE(ccl >= 0 || !e.limits);
	for (int i = 0; i < n; i++)
		if (f[i].id == 0x35C && c->can.gap_ms == 0) {
			REQUIRE(!(f[i].data[0] & 0x80) || ccl > 0);
			REQUIRE(!(f[i].data[0] & 0x40) || dcl > 0);
			REQUIRE(!(f[i].data[0] & 0x30) || (f[i].data[0] & 0x80));
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inv_battery b;
	if (size < sizeof(b))
		return 0;
	memcpy(&b, data, sizeof(b));
	b.manufacturer[INV_MANUFACTURER_MAX] = '\0';
	b.ncells = b.ncells > BMS_MAX_CELLS ? BMS_MAX_CELLS : b.ncells;
	b.ntemps = b.ntemps > BMS_MAX_TEMPS ? BMS_MAX_TEMPS : b.ntemps;
	for (int p = 0; p < CONF_INV_NPROTOCOLS; p++) {
		const struct inv_codec *c = inv_codec_of((enum conf_inv_protocol)p);
		if (c && conf_inv_kind((enum conf_inv_protocol)p) == CONF_INV_CAN)
			check_set(c, &b);
	}
	struct inv_heard h[CONF_INV_NPROTOCOLS];
	memset(h, 0, sizeof(h));
	for (size_t at = sizeof(b); at + 10 <= size; at += 10) {
		struct gw_can_frame f;
		memset(&f, 0, sizeof(f));
		f.ext = data[at + 2] & 1;
		f.rtr = (data[at + 2] >> 1) & 1;
		f.id = (uint32_t)(data[at] | data[at + 1] << 8) & (f.ext ? GW_CAN_MAX_EXT_ID : GW_CAN_MAX_STD_ID);
		f.dlc = (uint8_t)((data[at + 2] >> 2) & 0x0F);
		memcpy(f.data, data + at + 3, 7);
		for (int p = 0; p < CONF_INV_NPROTOCOLS; p++) {
			const struct inv_codec *c = inv_codec_of((enum conf_inv_protocol)p);
			if (!c || conf_inv_kind((enum conf_inv_protocol)p) != CONF_INV_CAN)
				continue;
			uint32_t before = h[p].frames, sd = h[p].shutdowns;
			enum inv_rx rx = c->can.heard(&f, &h[p]);
			REQUIRE(rx >= INV_RX_OTHER && rx <= INV_RX_BAD);
			REQUIRE(h[p].frames == before + (rx != INV_RX_OTHER));
			REQUIRE(h[p].shutdowns == sd + (rx == INV_RX_SHUTDOWN));
		}
	}
	return 0;
}
