/* SPDX-License-Identifier: MIT */
/* tests/tools/slcan_dump.c - print the frame sets of every CAN codec
 * (pylon-can, lux-can, sma-can; every extra) of a known battery (the B1 of
 * tests/unit/test_inv_pylon_can.c) as the slcan lines bmsgw writes to a serial
 * CAN adapter, for tests/tools/slcan_pycan.py to decode with python-can.
 * Built by that script: cc -I. this file gateway/inverter/canframes.c
 * gateway/inverter/dialect/emu_pylon_can.c gateway/inverter/dialect/emu_lux_can.c
 * gateway/inverter/dialect/emu_sma_can.c gateway/wire/slcan.c -lm. */
#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/codec.h"
#include "../../gateway/wire/slcan.h"

int main(void)
{
	static const struct inv_codec *const codecs[] = { &inv_codec_pylon_can, &inv_codec_lux_can,
							  &inv_codec_sma_can };
	struct inv_battery b;
	struct gw_can_frame f[INV_CAN_MAX_FRAMES];
	char line[SLCAN_LINE_MAX + 1];

	memset(&b, 0, sizeof(b));
	b.present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT |
		    INV_HAS_TEMP | INV_HAS_FULL | INV_HAS_ALARMS | INV_HAS_CELL_MINMAX | INV_HAS_TEMP_MINMAX |
		    INV_HAS_CYCLES;
	b.cvl_v = 55.2f;
	b.ccl_a = 50;
	b.dcl_a = 60;
	b.dvl_v = 46.4f;
	b.charge_allowed = b.discharge_allowed = true;
	b.soc = 81.6f;
	b.soh = 97.4f;
	b.voltage = 53.125f;
	b.current = -12.34f;
	b.temp_c = 24.56f;
	b.full_ah = 100;
	b.packs = 2;
	b.protect = BMS_AL_CELL_OV;
	b.warn = BMS_AL_CELL_OV | BMS_AL_CHG_OC;
	b.cell_min_mv = 3301;
	b.cell_max_mv = 3342;
	b.cell_min_at = (struct inv_where){ 2, 7 };
	b.cell_max_at = (struct inv_where){ 1, 16 };
	b.temp_min_c = 18.5f;
	b.temp_max_c = 27.0f;
	b.temp_min_at = (struct inv_where){ 2, 1 };
	b.temp_max_at = (struct inv_where){ 1, 3 };
	b.cycles = 321;
	strcpy(b.manufacturer, "PYLON");
	for (size_t d = 0; d < sizeof(codecs) / sizeof(codecs[0]); d++) {
		unsigned all = CONF_EXTRA_CAPACITY | CONF_EXTRA_CELLS | CONF_EXTRA_MODULES | CONF_EXTRA_NAME;
		int n = inv_can_encode(codecs[d], &b, all, f, INV_CAN_MAX_FRAMES, NULL);
		for (int i = 0; i < n; i++) {
			int len = slcan_encode(&f[i], line, sizeof(line));
			if (len < 0)
				return 1;
			printf("%s %.*s\n", codecs[d]->name, len - 1, line);
		}
	}
	return 0;
}
