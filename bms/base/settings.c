/* SPDX-License-Identifier: MIT */
/* bms/base/settings.c - the vocabulary of a BMS's settings (bms/settings.h). */
#include "../settings.h"

#include <math.h>
#include <stddef.h>

static const struct {
	const char *name, *unit, *label;
	int decimals;
} set_keys[BMS_SET_COUNT] = {
	[BMS_SET_CELL_OVP_V] = { "cell_ovp_v", "V", "Cell over-voltage protection", 3 },
	[BMS_SET_CELL_OVP_RELEASE_V] = { "cell_ovp_release_v", "V", "Cell over-voltage release", 3 },
	[BMS_SET_CELL_UVP_V] = { "cell_uvp_v", "V", "Cell under-voltage protection", 3 },
	[BMS_SET_CELL_UVP_RELEASE_V] = { "cell_uvp_release_v", "V", "Cell under-voltage release", 3 },
	[BMS_SET_CELL_OVP_DELAY_S] = { "cell_ovp_delay_s", "s", "Cell over-voltage delay", 0 },
	[BMS_SET_CELL_UVP_DELAY_S] = { "cell_uvp_delay_s", "s", "Cell under-voltage delay", 0 },
	[BMS_SET_CELL_DIFF_V] = { "cell_diff_v", "V", "Cell difference protection", 3 },
	[BMS_SET_PACK_OVP_V] = { "pack_ovp_v", "V", "Pack over-voltage protection", 2 },
	[BMS_SET_PACK_UVP_V] = { "pack_uvp_v", "V", "Pack under-voltage protection", 2 },
	[BMS_SET_POWER_OFF_V] = { "power_off_v", "V", "Power-off cell voltage", 3 },
	[BMS_SET_SMART_SLEEP_V] = { "smart_sleep_v", "V", "Sleep cell voltage", 3 },
	[BMS_SET_CHARGE_OCP_A] = { "charge_ocp_a", "A", "Charge over-current protection", 1 },
	[BMS_SET_CHARGE_OCP_DELAY_S] = { "charge_ocp_delay_s", "s", "Charge over-current delay", 0 },
	[BMS_SET_CHARGE_OCP_RELEASE_S] = { "charge_ocp_release_s", "s", "Charge over-current release time", 0 },
	[BMS_SET_DISCHARGE_OCP_A] = { "discharge_ocp_a", "A", "Discharge over-current protection", 1 },
	[BMS_SET_DISCHARGE_OCP_DELAY_S] = { "discharge_ocp_delay_s", "s", "Discharge over-current delay", 0 },
	[BMS_SET_DISCHARGE_OCP_RELEASE_S] = { "discharge_ocp_release_s", "s", "Discharge over-current release time", 0 },
	[BMS_SET_SHORT_CIRCUIT_A] = { "short_circuit_a", "A", "Short-circuit protection", 0 },
	[BMS_SET_SHORT_CIRCUIT_DELAY_S] = { "short_circuit_delay_s", "s", "Short-circuit delay", 6 },
	[BMS_SET_SHORT_CIRCUIT_RELEASE_S] = { "short_circuit_release_s", "s", "Short-circuit release time", 0 },
	[BMS_SET_CHARGE_OTP_C] = { "charge_otp_c", "°C", "Charge over-temperature protection", 1 },
	[BMS_SET_CHARGE_OTP_RELEASE_C] = { "charge_otp_release_c", "°C", "Charge over-temperature release", 1 },
	[BMS_SET_CHARGE_UTP_C] = { "charge_utp_c", "°C", "Charge under-temperature protection", 1 },
	[BMS_SET_CHARGE_UTP_RELEASE_C] = { "charge_utp_release_c", "°C", "Charge under-temperature release", 1 },
	[BMS_SET_DISCHARGE_OTP_C] = { "discharge_otp_c", "°C", "Discharge over-temperature protection", 1 },
	[BMS_SET_DISCHARGE_OTP_RELEASE_C] = { "discharge_otp_release_c", "°C", "Discharge over-temperature release", 1 },
	[BMS_SET_DISCHARGE_UTP_C] = { "discharge_utp_c", "°C", "Discharge under-temperature protection", 1 },
	[BMS_SET_DISCHARGE_UTP_RELEASE_C] = { "discharge_utp_release_c", "°C", "Discharge under-temperature release", 1 },
	[BMS_SET_MOS_OTP_C] = { "mos_otp_c", "°C", "MOSFET over-temperature protection", 1 },
	[BMS_SET_MOS_OTP_RELEASE_C] = { "mos_otp_release_c", "°C", "MOSFET over-temperature release", 1 },
	[BMS_SET_BALANCE_START_V] = { "balance_start_v", "V", "Balancing start voltage", 3 },
	[BMS_SET_BALANCE_DELTA_V] = { "balance_delta_v", "V", "Balancing trigger difference", 3 },
	[BMS_SET_BALANCE_CURRENT_A] = { "balance_current_a", "A", "Balancing current setting", 3 },
	[BMS_SET_CAPACITY_AH] = { "capacity_ah", "Ah", "Capacity setting", 1 },
	[BMS_SET_CELL_COUNT] = { "cell_count", "", "Cell count setting", 0 },
	[BMS_SET_BALANCER] = { "balancer", "", "Balancer switch", 0 },
	[BMS_SET_HEATER] = { "heater", "", "Heater switch", 0 },
	[BMS_SET_HEAT_START_C] = { "heat_start_c", "°C", "Heating start temperature", 0 },
	[BMS_SET_HEAT_STOP_C] = { "heat_stop_c", "°C", "Heating stop temperature", 0 },
};

static bool set_key_ok(enum bms_set_key k)
{
	return (unsigned)k < BMS_SET_COUNT;
}

const char *bms_settings_name(enum bms_set_key k)
{
	return set_key_ok(k) ? set_keys[k].name : NULL;
}

const char *bms_settings_unit(enum bms_set_key k)
{
	return set_key_ok(k) ? set_keys[k].unit : NULL;
}

const char *bms_settings_label(enum bms_set_key k)
{
	return set_key_ok(k) ? set_keys[k].label : NULL;
}

int bms_settings_decimals(enum bms_set_key k)
{
	return set_key_ok(k) ? set_keys[k].decimals : 0;
}

void bms_settings_put(struct bms_settings *s, enum bms_set_key k, float value)
{
	if (!set_key_ok(k) || !isfinite(value))
		return;
	s->v[k] = value;
	s->have |= (uint64_t)1 << k;
}

void bms_settings_put_raw(struct bms_settings *s, enum bms_set_key k, int64_t raw, int64_t lo, int64_t hi,
			  double div)
{
	if (raw >= lo && raw <= hi && div != 0)
		bms_settings_put(s, k, (float)((double)raw / div));
}

bool bms_settings_has(const struct bms_settings *s, enum bms_set_key k)
{
	return set_key_ok(k) && (s->have & ((uint64_t)1 << k)) != 0;
}
