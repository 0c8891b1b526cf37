/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pylon_rt.c - libFuzzer target: whole polls of the
 * Pylontech RT driver over Bluetooth LE (harness and input format:
 * fuzz_mbtable.h, its checks from the driver's table).  Its own target
 * for what the table does not say: no cell list, so a sample finish()
 * accepts has its voltage, current, SOC, SOH and the two temperatures. */
#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

#define FUZZ_OK_HAS (BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_TEMPS)

#include "fuzz_mbtable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return mz_run(&bms_pylon_rt_driver, data, size);
}
