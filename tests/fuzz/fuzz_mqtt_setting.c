/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_mqtt_setting.c - the payload of an MQTT charge setting
 * (P/UNIT/set/<setting>, gateway/mqtt/charge_settings.c mq_setting_parse()): the
 * first byte picks the setting, the rest is the payload.  Invariants: no
 * crash, no read past the text; a taken cap is below "none" unless the
 * payload says none; force_charge is 0 or 1. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/mqtt/mqtt_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum gw_set_id id = (enum gw_set_id)(data[0] % GW_SET_COUNT);
	char *t = malloc(size);
	if (!t)
		return 0;
	memcpy(t, data + 1, size - 1);
	t[size - 1] = '\0';
	uint32_t v = 0;
	if (!mq_setting_parse(id, t, &v)) {
		bool cap = id == GW_SET_CCL_CAP || id == GW_SET_DCL_CAP;
		if (cap && v >= GW_SET_CAP_NONE && strcmp(t, "none") != 0)
			abort(); /* a number taken as "no cap" would loosen */
		if (id == GW_SET_FORCE && v > 1)
			abort();
	}
	free(t);
	return 0;
}
