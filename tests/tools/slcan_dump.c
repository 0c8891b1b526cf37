/* tests/tools/slcan_dump.c - print the pylon-can and sma-can frame sets of
 * a known battery (the B1 of tests/unit/test_pylon_can.c) as the slcan
 * lines bmsgw writes to a serial CAN adapter, one set per dialect, for
 * tests/tools/slcan_pycan.py to decode with python-can.
 * Built by that script: cc -I. this file gateway/inverter/pylon_can.c
 * gateway/wire/slcan.c -lm. */
#include <stdio.h>
#include <string.h>

#include "../../gateway/inverter/pylon_can.h"
#include "../../gateway/wire/slcan.h"

int main(void)
{
	struct inv_battery b;
	struct gw_can_frame f[PYLON_CAN_MAX_FRAMES];
	char line[SLCAN_LINE_MAX + 1];

	memset(&b, 0, sizeof(b));
	b.present = INV_HAS_LIMITS | INV_HAS_SOC | INV_HAS_SOH | INV_HAS_VOLTAGE | INV_HAS_CURRENT |
		    INV_HAS_TEMP | INV_HAS_FULL | INV_HAS_ALARMS;
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
	strcpy(b.manufacturer, "PYLON");
	for (int d = PYLON_CAN_PYLON; d <= PYLON_CAN_SMA; d++) {
		int n = pylon_can_encode((enum pylon_can_dialect)d, &b, f, PYLON_CAN_MAX_FRAMES);
		for (int i = 0; i < n; i++) {
			int len = slcan_encode(&f[i], line, sizeof(line));
			if (len < 0)
				return 1;
			printf("%s %.*s\n", pylon_can_dialect_name((enum pylon_can_dialect)d), len - 1, line);
		}
	}
	return 0;
}
