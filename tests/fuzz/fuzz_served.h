/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_served.h - what the gateway serves of a completed poll,
 * for the fuzz targets that complete polls (fuzz_drive.h's driver targets,
 * fuzz_bus.c's listening drivers).  By bounds written here apart from
 * bms/base/plausible.c (the gate the poller runs: bms_sensor_faults(), then
 * bms_plausible()): a snapshot the gate lets through must be within them
 * all, an absent (NaN) sensor aside.  The includer defines REQUIRE(). */
#ifndef TESTS_FUZZ_SERVED_H
#define TESTS_FUZZ_SERVED_H

#include <math.h>

#include "../../bms/bms.h"

static void fuzz_served(const struct bms_snapshot *polled)
{
	struct bms_implausible why;
	struct bms_snapshot served = *polled;
	const struct bms_snapshot *sn = &served;
	/* as the poller: a sensor out of range is absent (NaN) and flagged */
	unsigned faults = bms_sensor_faults(&served, NULL);
	if (!bms_plausible(sn, &why))
		return; /* the poller rejects it: not served */
	if (faults)
		REQUIRE((sn->present & BMS_HAS_ALARMS) && (sn->alarms & BMS_AL_SENSOR));
	for (unsigned i = 0; i < sn->ncells && (sn->present & BMS_HAS_CELLS); i++)
		REQUIRE(sn->cell_mv[i] == 0 || (sn->cell_mv[i] >= 500 && sn->cell_mv[i] <= 5000));
	for (unsigned i = 0; i < sn->ntemps && (sn->present & BMS_HAS_TEMPS); i++)
		REQUIRE(isnan(sn->temp_c[i]) || (sn->temp_c[i] >= -50.0f && sn->temp_c[i] <= 150.0f));
	if (sn->present & BMS_HAS_MOS_TEMP)
		REQUIRE(sn->mos_temp_c >= -50.0f && sn->mos_temp_c <= 150.0f);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage >= 0.0f && sn->voltage <= 1000.0f);
	if (sn->present & BMS_HAS_CURRENT)
		REQUIRE(sn->current >= -3000.0f && sn->current <= 3000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->present & BMS_HAS_REMAIN)
		REQUIRE(sn->remain_ah >= 0.0f && sn->remain_ah <= 10000.0f);
	if (sn->present & BMS_HAS_FULL)
		REQUIRE(sn->full_ah >= 0.0f && sn->full_ah <= 10000.0f);
	if (sn->present & BMS_HAS_CUR_LIMITS)
		REQUIRE((isnan(sn->bms_ccl_a) || (sn->bms_ccl_a >= 0.0f && sn->bms_ccl_a <= 3000.0f)) &&
			(isnan(sn->bms_dcl_a) || (sn->bms_dcl_a >= 0.0f && sn->bms_dcl_a <= 3000.0f)));
	REQUIRE(sn->ncells <= BMS_MAX_CELLS);
}

#endif
