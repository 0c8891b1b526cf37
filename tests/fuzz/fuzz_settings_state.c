/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_settings_state.c - the state file's runtime charge
 * settings record (gateway/engine/settings.c: gw_settings_load, the "set"
 * and "setbank" lines) read from any text, as a state file someone edited
 * or a disk corrupted.  Invariants: no crash, no read past the text; what
 * is taken is a set the settings' own rules allow (no SOC ceiling and
 * floor that could stop charging and discharging at once, a hysteresis
 * and the cap lease in their ranges); written again and read into
 * settings at their configured values, it is written the same (the
 * record round-trips). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/engine/settings.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[512], b[512];
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	const struct gw_set_bounds bd = { .max_charge_a = 100, .max_discharge_a = 150, .full_charge_days = 30 };
	struct gw_settings st, again;
	gw_settings_init(&st, &bd);
	gw_settings_load(&st, &bd, s);
	const uint32_t *v = st.v;
	if (v[GW_SET_MAX_SOC] > 100 || v[GW_SET_MIN_SOC] > 100 || v[GW_SET_MAX_SOC_HYST] > GW_SET_HYST_MAX ||
	    v[GW_SET_MIN_SOC_HYST] > GW_SET_HYST_MAX || v[GW_SET_FORCE] > 1 || v[GW_SET_CAP_LEASE] < 10 ||
	    v[GW_SET_CAP_LEASE] > 3600 ||
	    gw_settings_deadlock(v[GW_SET_MAX_SOC], v[GW_SET_MAX_SOC_HYST], v[GW_SET_MIN_SOC], v[GW_SET_MIN_SOC_HYST]))
		abort();
	if (gw_settings_save(&st, a, sizeof(a))) {
		gw_settings_init(&again, &bd);
		gw_settings_load(&again, &bd, a);
		if (!gw_settings_save(&again, b, sizeof(b)) || strcmp(a, b) != 0)
			abort();
	}
	free(s);
	return 0;
}
