/* conf/conf.c - the schema of the configuration file: every key of every
 * section with its type, range and default (conf__keys[]), and the kinds of
 * section (conf__sect_kinds[]).
 *
 * The rest of conf/ walks these tables (conf_int.h says which file does
 * what): values.c parses a value by its key's type, reader.c finds keys and
 * sections here, check.c runs the checks that need the whole file,
 * summary.c prints what was loaded.  tests/integration/test_package.py reads
 * conf__keys[] from this file to check that bmsgw.ini(5) documents every key.
 */
#include "conf_int.h"

#include <stddef.h>
#include <string.h>

static const char *const float_words[] = {"cdab", "abcd", NULL};
static const char *const stale_words[] = {"exception", "flag", NULL};
static const char *const level_words[] = {"error", "warn", "info", "debug", NULL};
static const char *const cells_words[] = {"disabled", "enabled", "off", NULL};
static const char *const chem_words[] = {"lfp", "nmc", "lto", NULL};
static const char *const interp_words[] = {"linear", "step", NULL};
static const char *const rule_words[] = {"min", "sum", "weighted", NULL};
static const char *const stale_rule_words[] = {"degrade", "block", NULL};
#define CONF_INV_WORD_(id, sym, name, kind, extras, allowed) name,
static const char *const inv_words[] = {CONF_INV_PROTOCOL_LIST(CONF_INV_WORD_) NULL};
#undef CONF_INV_WORD_
static const char *const extras_words[] = {"capacity", "cells", "modules", "name", NULL};
static const char *const override_words[] = {"none", "deye", NULL};
static const char *const unit_words[] = {"100mA", "10mA", NULL};
static const char *const mode_words[] = {"8N1", "8E1", "8O1", "8N2", NULL};

_Static_assert(sizeof(enum reg_float_order) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_stale_policy) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_log_level) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_mqtt_cells) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_chemistry) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_interp) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_bank_rule) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_bank_stale) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_inv_protocol) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_soc_override) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_current_unit) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_rtu_mode) == sizeof(int), "enum stored as int");

#define GW(f) offsetof(struct conf_gateway, f)
#define PK(f) offsetof(struct conf_pack, f)
#define BK(f) offsetof(struct conf_bank, f)
#define UP(f) offsetof(struct conf_upstream, f)
#define MQ(f) offsetof(struct conf_mqtt, f)
#define TU(f) offsetof(struct conf_tunnel, f)
#define HT(f) offsetof(struct conf_http, f)
#define HI(f) offsetof(struct conf_history, f)
#define BL(f) offsetof(struct conf_ble, f)
#define LI(f) offsetof(struct conf_limits, f)
#define IN(f) offsetof(struct conf_inverter, f)
#define SS(f) offsetof(struct conf_sunspec, f)
#define RT(f) offsetof(struct conf_rtu, f)

/* The schema of the configuration file (README.md "Configuration",
 * bmsgw.ini(5) = conf/bmsgw.ini.5), defaults included. */
const struct conf_key conf__keys[K_COUNT] = {
	[K_LISTEN] = {SEC_GATEWAY, "listen", KT_LISTEN, 0, 0, false, NULL, GW(listen_host), "0.0.0.0:502"},
	[K_BASE] = {SEC_GATEWAY, "base", KT_INT, 0, CONF_BASE_MAX, false, NULL, GW(base), "290"},
	[K_FLOAT_ORDER] = {SEC_GATEWAY, "float_order", KT_WORD, 0, 0, false, float_words, GW(float_order), "cdab"},
	[K_MAX_CLIENTS] = {SEC_GATEWAY, "max_clients", KT_INT, 1, 10000, false, NULL, GW(max_clients), "64"},
	[K_IDLE_TIMEOUT] = {SEC_GATEWAY, "idle_timeout", KT_DOUBLE, 0, 86400, true, NULL, GW(idle_timeout), "300"},
	[K_STALE_AFTER] = {SEC_GATEWAY, "stale_after", KT_DOUBLE, 0, 86400, true, NULL, GW(stale_after), "30"},
	[K_STALE_POLICY] = {SEC_GATEWAY, "stale_policy", KT_WORD, 0, 0, false, stale_words, GW(stale_policy), "exception"},
	[K_LOG_LEVEL] = {SEC_GATEWAY, "log_level", KT_WORD, 0, 0, false, level_words, GW(log_level), "info"},
	[K_STATE_FILE] = {SEC_GATEWAY, "state_file", KT_PATH, 0, 0, false, NULL, GW(state_file), NULL},
	[K_CONTROL_CLIENTS] = {SEC_GATEWAY, "control_clients", KT_NETS, 0, 0, false, NULL, GW(control_clients), NULL},

	[K_PROTOCOL] = {SEC_PACK, "protocol", KT_PROTOCOL, 0, 0, false, NULL, PK(driver), NULL},
	[K_PORT] = {SEC_PACK, "port", KT_PORT, 0, 0, false, NULL, PK(port), NULL},
	[K_BAUD] = {SEC_PACK, "baud", KT_BAUD, 0, 0, false, NULL, PK(baud), NULL},
	[K_ADDRESS] = {SEC_PACK, "address", KT_INT, 0, 255, false, NULL, PK(address), NULL},
	[K_UNIT_ID] = {SEC_PACK, "unit_id", KT_INT, 1, 247, false, NULL, PK(unit_id), NULL},
	[K_POLL_INTERVAL] = {SEC_PACK, "poll_interval", KT_DOUBLE, 0.2, 86400, false, NULL, PK(poll_interval), "5"},
	[K_TIMEOUT] = {SEC_PACK, "timeout", KT_DOUBLE, 0, 60, true, NULL, PK(timeout), "1.0"},
	[K_RETRIES] = {SEC_PACK, "retries", KT_INT, 0, 10, false, NULL, PK(retries), "2"},
	[K_GAP] = {SEC_PACK, "gap", KT_DOUBLE, 0, 10, false, NULL, PK(gap), NULL},
	[K_CELLS] = {SEC_PACK, "cells", KT_INT, 0, 32, false, NULL, PK(cells), "0"},
	[K_INVERT_CURRENT] = {SEC_PACK, "invert_current", KT_BOOL, 0, 0, false, NULL, PK(invert_current), "false"},
	[K_CONTROL] = {SEC_PACK, "control", KT_BOOL, 0, 0, false, NULL, PK(control), "false"},
	[K_CONTROL_TIMEOUT] = {SEC_PACK, "control_timeout", KT_DOUBLE, 0.5, 60, false, NULL, PK(control_timeout), "3"},
	[K_KEY] = {SEC_PACK, "key", KT_KEY, 0, 0, false, NULL, PK(have_key), NULL},
	[K_PK_MAX_CHARGE] = {SEC_PACK, "max_charge_current", KT_DOUBLE, 0, 10000, true, NULL, PK(max_charge_current), ""},
	[K_PK_MAX_DISCHARGE] = {SEC_PACK, "max_discharge_current", KT_DOUBLE, 0, 10000, true, NULL,
	                        PK(max_discharge_current), ""},
	[K_ADDRESS_ANY] = {SEC_PACK, "address_any", KT_BOOL, 0, 0, false, NULL, PK(address_any), "false"},
	[K_POSITION] = {SEC_PACK, "position", KT_INT, 1, BMS_MAX_GROUP, false, NULL, PK(position), NULL},

	[K_BANK_UNIT_ID] = {SEC_BANK, "unit_id", KT_INT, 1, 247, false, NULL, BK(unit_id), "100"},
	[K_BANK_PACKS] = {SEC_BANK, "packs", KT_NAMES, 0, 0, false, NULL, BK(packs_text), NULL},
	[K_BANK_DEVIATION] = {SEC_BANK, "max_deviation", KT_DOUBLE, 0, 100, true, NULL, BK(max_deviation), "1.0"},

	[K_UP_HOST] = {SEC_UPSTREAM, "host", KT_HOST, 0, 0, false, NULL, UP(host), NULL},
	[K_UP_PORT] = {SEC_UPSTREAM, "port", KT_INT, 1, 65535, false, NULL, UP(port), "502"},
	[K_UP_UNIT_ID] = {SEC_UPSTREAM, "unit_id", KT_INT, 0, 255, false, NULL, UP(unit_id), "1"},
	[K_UP_BASE] = {SEC_UPSTREAM, "base", KT_INT, 0, 65535, false, NULL, UP(base), NULL},
	[K_UP_SOURCE] = {SEC_UPSTREAM, "source", KT_NAME, 0, 0, false, NULL, UP(source), NULL},
	[K_UP_INTERVAL] = {SEC_UPSTREAM, "interval", KT_DOUBLE, 0.2, 86400, false, NULL, UP(interval), "5"},
	[K_UP_TIMEOUT] = {SEC_UPSTREAM, "timeout", KT_DOUBLE, 0, 60, true, NULL, UP(timeout), "2"},
	[K_UP_REGISTERS] = {SEC_UPSTREAM, "registers", KT_RANGE, 0, 124, false, NULL, UP(reg_first), "0-124"},

	[K_MQ_HOST] = {SEC_MQTT, "host", KT_HOST, 0, 0, false, NULL, MQ(host), NULL},
	[K_MQ_PORT] = {SEC_MQTT, "port", KT_INT, 1, 65535, false, NULL, MQ(port), "1883"},
	[K_MQ_CLIENT_ID] = {SEC_MQTT, "client_id", KT_IDENT, 0, 0, false, NULL, MQ(client_id), NULL},
	[K_MQ_USERNAME] = {SEC_MQTT, "username", KT_TEXT, 0, 0, false, NULL, MQ(username), NULL},
	[K_MQ_PASSWORD_FILE] = {SEC_MQTT, "password_file", KT_PATH, 0, 0, false, NULL, MQ(password_file), NULL},
	[K_MQ_TLS] = {SEC_MQTT, "tls", KT_BOOL, 0, 0, false, NULL, MQ(tls), "false"},
	[K_MQ_CA_FILE] = {SEC_MQTT, "ca_file", KT_PATH, 0, 0, false, NULL, MQ(ca_file), NULL},
	[K_MQ_CERT_FILE] = {SEC_MQTT, "cert_file", KT_PATH, 0, 0, false, NULL, MQ(cert_file), NULL},
	[K_MQ_KEY_FILE] = {SEC_MQTT, "key_file", KT_PATH, 0, 0, false, NULL, MQ(key_file), NULL},
	[K_MQ_TOPIC_PREFIX] = {SEC_MQTT, "topic_prefix", KT_TOPIC, 0, 0, false, NULL, MQ(topic_prefix), "bmsgw"},
	[K_MQ_DISCOVERY] = {SEC_MQTT, "discovery", KT_BOOL, 0, 0, false, NULL, MQ(discovery), "true"},
	[K_MQ_DISCOVERY_PREFIX] = {SEC_MQTT, "discovery_prefix", KT_TOPIC, 0, 0, false, NULL, MQ(discovery_prefix), "homeassistant"},
	[K_MQ_PUBLISH_INTERVAL] = {SEC_MQTT, "publish_interval", KT_DOUBLE, 0, 86400, false, NULL, MQ(publish_interval), "0"},
	[K_MQ_CELLS] = {SEC_MQTT, "cells", KT_WORD, 0, 0, false, cells_words, MQ(cells), "disabled"},
	[K_MQ_KEEPALIVE] = {SEC_MQTT, "keepalive", KT_INT, 5, 3600, false, NULL, MQ(keepalive), "30"},
	[K_MQ_CONTROL] = {SEC_MQTT, "control", KT_BOOL, 0, 0, false, NULL, MQ(control), "false"},

	[K_TU_PORT] = {SEC_TUNNEL, "port", KT_PATHTEXT, 0, 0, false, NULL, TU(port), NULL},
	[K_TU_LISTEN] = {SEC_TUNNEL, "listen", KT_LISTEN, 0, 0, false, NULL, TU(listen_host), NULL},
	[K_TU_CLIENTS] = {SEC_TUNNEL, "clients", KT_NETS, 0, 0, false, NULL, TU(clients), NULL},
	[K_TU_IDLE_TIMEOUT] = {SEC_TUNNEL, "idle_timeout", KT_DOUBLE, 0, 86400, true, NULL, TU(idle_timeout), "300"},

	[K_HT_LISTEN] = {SEC_HTTP, "listen", KT_LISTEN, 0, 0, false, NULL, HT(listen_host), "0.0.0.0:8080"},
	[K_HT_CLIENTS] = {SEC_HTTP, "clients", KT_NETS, 0, 0, false, NULL, HT(clients), NULL},
	[K_HT_MAX_CLIENTS] = {SEC_HTTP, "max_clients", KT_INT, 1, 1000, false, NULL, HT(max_clients), "32"},

	[K_HI_FILE] = {SEC_HISTORY, "file", KT_PATH, 0, 0, false, NULL, HI(file), NULL},
	[K_HI_INTERVAL] = {SEC_HISTORY, "interval", KT_DOUBLE, 1, 86400, false, NULL, HI(interval), "60"},
	[K_HI_RETENTION] = {SEC_HISTORY, "retention", KT_DOUBLE, 0, 3650, true, NULL, HI(retention), "180"},
	[K_HI_RAW_DAYS] = {SEC_HISTORY, "raw_days", KT_DOUBLE, 0, 3650, false, NULL, HI(raw_days), "7"},
	[K_BLE_ADAPTER] = {SEC_BLE, "adapter", KT_ADAPTER, 0, 0, false, NULL, BL(adapter), NULL},
	[K_BLE_CONNECT_TIMEOUT] = {SEC_BLE, "connect_timeout", KT_DOUBLE, 10, 120, false, NULL, BL(connect_timeout), "20"},

	/* the cell voltages and cell tables default by chemistry (conf__chem_defaults[]) */
	[K_LI_CHEMISTRY] = {SEC_LIMITS, "chemistry", KT_WORD, 0, 0, false, chem_words, LI(chemistry), "lfp"},
	[K_LI_MAX_CELL] = {SEC_LIMITS, "max_cell_voltage", KT_DOUBLE, 1, 5, false, NULL, LI(max_cell_voltage), NULL},
	[K_LI_FLOAT_CELL] = {SEC_LIMITS, "float_cell_voltage", KT_DOUBLE, 1, 5, false, NULL, LI(float_cell_voltage), NULL},
	[K_LI_MIN_CELL] = {SEC_LIMITS, "min_cell_voltage", KT_DOUBLE, 1, 5, false, NULL, LI(min_cell_voltage), NULL},
	[K_LI_MAX_CHARGE] = {SEC_LIMITS, "max_charge_current", KT_DOUBLE, 0, 10000, true, NULL, LI(max_charge_current), "50"},
	[K_LI_MAX_DISCHARGE] = {SEC_LIMITS, "max_discharge_current", KT_DOUBLE, 0, 10000, true, NULL,
	                        LI(max_discharge_current), "60"},
	[K_LI_ABS_TIME] = {SEC_LIMITS, "absorption_time", KT_DOUBLE, 0, 86400, false, NULL, LI(absorption_time), "900"},
	[K_LI_ABS_DIFF] = {SEC_LIMITS, "absorption_cell_diff", KT_DOUBLE, 0, 1, true, NULL, LI(absorption_cell_diff),
	                   "0.010"},
	[K_LI_REBULK_SOC] = {SEC_LIMITS, "rebulk_soc", KT_DOUBLE, 0, 100, false, NULL, LI(rebulk_soc), "80"},
	[K_LI_REBULK_DIFF] = {SEC_LIMITS, "rebulk_cell_diff", KT_DOUBLE, 0, 1, true, NULL, LI(rebulk_cell_diff), "0.080"},
	[K_LI_CHARGE_CELL] = {SEC_LIMITS, "charge_cell_table", KT_TABLE, 0, 5, false, NULL, LI(charge_cell), NULL},
	[K_LI_DISCHARGE_CELL] = {SEC_LIMITS, "discharge_cell_table", KT_TABLE, 0, 5, false, NULL, LI(discharge_cell), NULL},
	[K_LI_CHARGE_TEMP] = {SEC_LIMITS, "charge_temp_table", KT_TABLE, -50, 150, false, NULL, LI(charge_temp), NULL},
	[K_LI_DISCHARGE_TEMP] = {SEC_LIMITS, "discharge_temp_table", KT_TABLE, -50, 150, false, NULL, LI(discharge_temp),
	                         "-10:0, 0:0.25, 5:0.5, 10:1, 40:1, 45:0.5, 50:0.25, 55:0"},
	[K_LI_MOS_TEMP] = {SEC_LIMITS, "mos_temp_table", KT_TABLE, -50, 150, false, NULL, LI(mos_temp), "70:1, 80:0.25, 90:0"},
	[K_LI_SOC_CHARGE] = {SEC_LIMITS, "soc_charge_table", KT_TABLE, 0, 100, false, NULL, LI(soc_charge), ""},
	[K_LI_SOC_DISCHARGE] = {SEC_LIMITS, "soc_discharge_table", KT_TABLE, 0, 100, false, NULL, LI(soc_discharge), ""},
	[K_LI_INTERP] = {SEC_LIMITS, "interpolation", KT_WORD, 0, 0, false, interp_words, LI(interpolation), "linear"},
	[K_LI_RECOVERY_HOLD] = {SEC_LIMITS, "recovery_hold", KT_DOUBLE, 0, 3600, false, NULL, LI(recovery_hold), "30"},
	[K_LI_RECOVERY_RATE] = {SEC_LIMITS, "recovery_rate", KT_DOUBLE, 0, 10000, true, NULL, LI(recovery_rate), "5"},
	[K_LI_CVL_HOLD] = {SEC_LIMITS, "cvl_recovery_hold", KT_DOUBLE, 0, 3600, false, NULL, LI(cvl_recovery_hold), "60"},
	[K_LI_CVL_RATE] = {SEC_LIMITS, "cvl_rate", KT_DOUBLE, 0, 1, true, NULL, LI(cvl_rate), "0.001"},
	[K_LI_FORCE_SOC] = {SEC_LIMITS, "force_charge_soc", KT_DOUBLE, 0, 100, false, NULL, LI(force_charge_soc), "5"},
	[K_LI_FULL_DAYS] = {SEC_LIMITS, "full_charge_days", KT_DOUBLE, 0, 3650, false, NULL, LI(full_charge_days), "30"},
	[K_LI_BANK_RULE] = {SEC_LIMITS, "bank_rule", KT_WORD, 0, 0, false, rule_words, LI(bank_rule), "min"},
	[K_LI_BANK_STALE] = {SEC_LIMITS, "bank_stale", KT_WORD, 0, 0, false, stale_rule_words, LI(bank_stale), "degrade"},
	[K_LI_UNKNOWN_TEMP] = {SEC_LIMITS, "unknown_temp_fraction", KT_DOUBLE, 0, 1, false, NULL,
	                       LI(unknown_temp_fraction), "0.1"},
	[K_LI_VOLTAGE_DROP] = {SEC_LIMITS, "voltage_drop", KT_DOUBLE, 0, 5, false, NULL, LI(voltage_drop), "0"},
	[K_LI_ABS_TOL] = {SEC_LIMITS, "absorption_tolerance", KT_DOUBLE, 0, 1, false, NULL, LI(absorption_tolerance),
	                  "0.05"},
	[K_LI_TAIL] = {SEC_LIMITS, "tail_current", KT_DOUBLE, 0, 10000, false, NULL, LI(tail_current), "0"},
	[K_LI_MAX_BULK] = {SEC_LIMITS, "max_bulk_time", KT_DOUBLE, 0, 604800, false, NULL, LI(max_bulk_time), "0"},
	[K_LI_HYST] = {SEC_LIMITS, "table_hysteresis", KT_DOUBLE, 0, 0.5, false, NULL, LI(table_hysteresis), "0.020"},
	[K_LI_EXCEEDED] = {SEC_LIMITS, "limit_exceeded", KT_DOUBLE, 0, 3600, false, NULL, LI(limit_exceeded), "10"},

	[K_IN_PROTOCOL] = {SEC_INVERTER, "protocol", KT_WORD, 0, 0, false, inv_words, IN(protocol), NULL},
	[K_IN_PORT] = {SEC_INVERTER, "port", KT_OUTPORT, 0, 0, false, NULL, IN(port), NULL},
	[K_IN_SOURCE] = {SEC_INVERTER, "source", KT_NAME, 0, 0, false, NULL, IN(source), NULL},
	[K_IN_INTERVAL] = {SEC_INVERTER, "interval", KT_DOUBLE, 0.2, 5, false, NULL, IN(interval), "1"},
	[K_IN_EXTRAS] = {SEC_INVERTER, "extras", KT_FLAGS, 0, 0, false, extras_words, IN(extras), ""},
	[K_IN_SOC_OVERRIDE] = {SEC_INVERTER, "soc_override", KT_WORD, 0, 0, false, override_words, IN(soc_override),
	                       "none"},
	[K_IN_SOC_HOLD] = {SEC_INVERTER, "soc_hold_full", KT_DOUBLE, 0, 100, false, NULL, IN(soc_hold_full), "98"},
	[K_IN_VER] = {SEC_INVERTER, "ver", KT_VER, 0x20, 0x2F, false, NULL, IN(ver), "0x20"},
	[K_IN_CURRENT_UNIT] = {SEC_INVERTER, "current_unit", KT_WORD, 0, 0, false, unit_words, IN(current_unit),
	                       "100mA"},
	[K_IN_BAUD] = {SEC_INVERTER, "baud", KT_BAUD, 0, 0, false, NULL, IN(baud), "9600"},
	[K_IN_ADDRESS] = {SEC_INVERTER, "address", KT_INT, 1, 254, false, NULL, IN(address), "2"},
	[K_IN_REPLY_ADDRESS] = {SEC_INVERTER, "reply_address", KT_INT, 1, 254, false, NULL, IN(reply_address), ""},
	[K_IN_MANUFACTURER] = {SEC_INVERTER, "manufacturer", KT_LABEL, 1, 8, false, NULL, IN(manufacturer), "PYLON"},
	[K_IN_FAILSAFE] = {SEC_INVERTER, "failsafe_silence", KT_DOUBLE, 0, 3600, false, NULL, IN(failsafe_silence), "30"},

	[K_SS_BASE] = {SEC_SUNSPEC, "base", KT_INT, 0, 65535, false, NULL, SS(base), "40000"},
	[K_SS_SERIAL] = {SEC_SUNSPEC, "serial", KT_LABEL, 1, CONF_SS_SERIAL_MAX, false, NULL, SS(serial), NULL},

	[K_RT_PORT] = {SEC_RTU, "port", KT_DEVICE, 0, 0, false, NULL, RT(port), NULL},
	[K_RT_BAUD] = {SEC_RTU, "baud", KT_BAUD, 0, 0, false, NULL, RT(baud), "9600"},
	[K_RT_MODE] = {SEC_RTU, "mode", KT_WORD, 0, 0, false, mode_words, RT(mode), "8N1"},
	[K_RT_CONTROL] = {SEC_RTU, "control", KT_BOOL, 0, 0, false, NULL, RT(control), "false"},
};

/* Units of the numbers and table abscissas of [limits] and after (messages,
 * --check); the older keys are all seconds. */
static const char *const key_units[K_COUNT] = {
	[K_LI_MAX_CELL] = "volts per cell", [K_LI_FLOAT_CELL] = "volts per cell", [K_LI_MIN_CELL] = "volts per cell",
	[K_LI_MAX_CHARGE] = "amperes", [K_LI_MAX_DISCHARGE] = "amperes",
	[K_LI_ABS_DIFF] = "volts", [K_LI_REBULK_SOC] = "percent", [K_LI_REBULK_DIFF] = "volts",
	[K_LI_CHARGE_CELL] = "volts per cell", [K_LI_DISCHARGE_CELL] = "volts per cell",
	[K_LI_CHARGE_TEMP] = "degrees Celsius", [K_LI_DISCHARGE_TEMP] = "degrees Celsius",
	[K_LI_MOS_TEMP] = "degrees Celsius", [K_LI_SOC_CHARGE] = "percent", [K_LI_SOC_DISCHARGE] = "percent",
	[K_LI_RECOVERY_RATE] = "amperes per second", [K_LI_CVL_RATE] = "volts per cell per second",
	[K_LI_FORCE_SOC] = "percent", [K_LI_FULL_DAYS] = "days",
	[K_PK_MAX_CHARGE] = "amperes", [K_PK_MAX_DISCHARGE] = "amperes", [K_LI_UNKNOWN_TEMP] = "fraction",
	[K_LI_VOLTAGE_DROP] = "volts", [K_LI_ABS_TOL] = "volts per 16 cells", [K_LI_TAIL] = "amperes",
	[K_LI_HYST] = "volts", [K_IN_SOC_HOLD] = "percent",
};

const char *conf__key_unit(int key)
{
	return key >= 0 && key < K_COUNT ? key_units[key] : NULL;
}

/* [limits] defaults by chemistry (lfp, nmc, lto), applied after the parse to
 * the keys the file does not set, whatever the order of the lines.
 * lfp: dbus-serialbattery's MIN/MAX/FLOAT_CELL_VOLTAGE 2.900/3.450/3.375 and
 *   its cell tables (https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/3634fc06521c17d97224f9ca0e9a4697d22e672c/etc/dbus-serialbattery/config.default.ini).
 * nmc: Battery-Emulator keeps NMC cells 0.15 V under their 4.25 V limit and
 *   0.30 V over their 2.70 V one, 4.10 and 3.00 V
 *   (https://github.com/dalathegreat/Battery-Emulator/blob/main/Software/src/battery/MG-4-BATTERY.cpp,
 *   "Danger limits", working_cell_max_mV / working_cell_min_mV); 4.00 V
 *   float, one of the lower charge voltages Battery University gives for a
 *   longer life (https://batteryuniversity.com/article/bu-808-how-to-prolong-lithium-based-batteries).
 * lto: MAX_CELL_VOLTAGE 2.6 and MIN_CELL_VOLTAGE 1.9 of dbus-aggregate-batteries'
 *   LTO configuration, whose LFP one has lfp's 3.45 and 2.90 V
 *   (https://github.com/Dr-Gigavolt/dbus-aggregate-batteries/blob/2ea37cdf07a26e5cab4146e06bcb737fe5ea5980/config_LTO.ini);
 *   2.45 V float, within its monthly charge voltages 2.35..2.50 V.  Yinlong
 *   LTO66160H cells stop at 2.8 and 1.5 V
 *   (https://github.com/wolfgangr/chargery2PERL/blob/dc5bdfdede1d9ec54f0828d8d78556e998e178aa/BMS-pack-info.pm).
 * The cell tables of nmc and lto are lfp's moved with the voltages: the
 * charge table keeps its offsets from max_cell_voltage (-0.075 V: 1 ...
 * +0.05 V: 0), the discharge table its offsets from min_cell_voltage
 * (+0.29 V: 1 ... -0.1 V: 0).
 * charge_temp_table: lfp allows no charge up to 1 degC and 10 % at 3 degC,
 *   a margin of 1-2 degC over the cells' 0 degC limit for a sensor's
 *   error (the Sunny Island / Deye reviews of bmsgw's limits: EVE LF280K
 *   "0 degC: never charging", txubelaxu/esphome-jk-bms-can's "utp: 1.0"
 *   low-temperature charge stop,
 *   https://github.com/txubelaxu/esphome-jk-bms-can/blob/3af9221d/ESP32_LFP_Wire_jk-bms-can.yaml);
 *   nmc and lto keep dbus-serialbattery's table. */
const struct chem_default conf__chem_defaults[] = {
	{ K_LI_MAX_CELL, { "3.45", "4.10", "2.60" } },
	{ K_LI_FLOAT_CELL, { "3.375", "4.00", "2.45" } },
	{ K_LI_MIN_CELL, { "2.90", "3.00", "1.90" } },
	{ K_LI_CHARGE_CELL, { "3.375:1, 3.400:0.25, 3.425:0.05, 3.450:0.005, 3.500:0",
	                      "4.025:1, 4.050:0.25, 4.075:0.05, 4.100:0.005, 4.150:0",
	                      "2.525:1, 2.550:0.25, 2.575:0.05, 2.600:0.005, 2.650:0" } },
	{ K_LI_DISCHARGE_CELL, { "3.190:1, 3.100:0.25, 3.000:0.05, 2.900:0.005, 2.800:0",
	                         "3.290:1, 3.200:0.25, 3.100:0.05, 3.000:0.005, 2.900:0",
	                         "2.190:1, 2.100:0.25, 2.000:0.05, 1.900:0.005, 1.800:0" } },
	{ K_LI_CHARGE_TEMP, { "1:0, 3:0.1, 5:0.25, 10:1, 40:1, 45:0.5, 50:0.25, 55:0",
	                      "0:0, 2:0.25, 5:0.5, 10:1, 40:1, 45:0.5, 50:0.25, 55:0",
	                      "0:0, 2:0.25, 5:0.5, 10:1, 40:1, 45:0.5, 50:0.25, 55:0" } },
};
const size_t conf__nchem_defaults = sizeof(conf__chem_defaults) / sizeof(conf__chem_defaults[0]);


/* A single section: struct conf member m of type t, its seen lines, the
 * offset of its `enabled` flag or CONF_NO_FIELD. */
#define SINGLE(w, s, m, t, seen, en) \
	{ w, s, false, 1, offsetof(struct conf, m), 0, 0, 0, offsetof(t, line), offsetof(struct load, seen), en }
/* A named section: array m of type t, at most mx, its count member n. */
#define NAMED(w, s, m, n, t, mx, seen) \
	{ w, s, true, mx, offsetof(struct conf, m), sizeof(t), offsetof(struct conf, n), offsetof(t, name), \
	  offsetof(t, line), offsetof(struct load, seen), CONF_NO_FIELD }

/* The sections, in the order messages list them. */
const struct sect_kind conf__sect_kinds[] = {
	SINGLE("gateway", SEC_GATEWAY, gw, struct conf_gateway, gw_seen, CONF_NO_FIELD),
	NAMED("pack", SEC_PACK, packs, npacks, struct conf_pack, CONF_MAX_PACKS, pack_seen),
	SINGLE("bank", SEC_BANK, bank, struct conf_bank, bank_seen, offsetof(struct conf_bank, enabled)),
	NAMED("upstream", SEC_UPSTREAM, upstreams, nupstreams, struct conf_upstream, CONF_MAX_UPSTREAMS, up_seen),
	SINGLE("mqtt", SEC_MQTT, mqtt, struct conf_mqtt, mqtt_seen, offsetof(struct conf_mqtt, enabled)),
	NAMED("tunnel", SEC_TUNNEL, tunnels, ntunnels, struct conf_tunnel, CONF_MAX_TUNNELS, tunnel_seen),
	SINGLE("http", SEC_HTTP, http, struct conf_http, http_seen, offsetof(struct conf_http, enabled)),
	/* history's `enabled` depends on [http] and `file` (check.c) */
	SINGLE("history", SEC_HISTORY, history, struct conf_history, history_seen, CONF_NO_FIELD),
	SINGLE("ble", SEC_BLE, ble, struct conf_ble, ble_seen, CONF_NO_FIELD),
	SINGLE("limits", SEC_LIMITS, limits, struct conf_limits, limits_seen, offsetof(struct conf_limits, enabled)),
	NAMED("inverter", SEC_INVERTER, inverters, ninverters, struct conf_inverter, CONF_MAX_INVERTERS, inverter_seen),
	SINGLE("sunspec", SEC_SUNSPEC, sunspec, struct conf_sunspec, sunspec_seen, offsetof(struct conf_sunspec, enabled)),
	SINGLE("rtu", SEC_RTU, rtu, struct conf_rtu, rtu_seen, offsetof(struct conf_rtu, enabled)),
};
const size_t conf__nsect_kinds = sizeof(conf__sect_kinds) / sizeof(conf__sect_kinds[0]);

/* The inverter protocols of CONF_INV_PROTOCOL_LIST, by enum conf_inv_protocol. */
#define CONF_INV_ROW_(id, sym, name, kind, extras, allowed) { name, kind, extras, allowed },
static const struct { const char *name; enum conf_inv_kind kind; unsigned extras, allowed; } inv_rows[] = {
	CONF_INV_PROTOCOL_LIST(CONF_INV_ROW_)
};
#undef CONF_INV_ROW_

const char *conf_inv_name(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].name : "?";
}

enum conf_inv_kind conf_inv_kind(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].kind : CONF_INV_CAN;
}

unsigned conf_inv_default_extras(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].extras : 0;
}

unsigned conf_inv_allowed_extras(enum conf_inv_protocol p)
{
	return (unsigned)p < CONF_INV_NPROTOCOLS ? inv_rows[p].allowed : 0;
}

const char *conf__key_word(int key, int i)
{
	const char *const *words = conf__keys[key].words;
	for (int j = 0; words && words[j]; j++)
		if (j == i)
			return words[j];
	return "?";
}

/* Defaults of every key of one section that has a fixed default. */
void conf__apply_defaults(enum conf_sect sect, void *obj)
{
	char why[CONF_WHY_MAX];
	for (size_t i = 0; i < K_COUNT; i++)
		if (conf__keys[i].sect == sect && conf__keys[i].def)
			(void)conf__set_value(&conf__keys[i], obj, conf__keys[i].def, why, sizeof(why));
}

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < conf__nsect_kinds; i++)
		if (!conf__sect_kinds[i].named)
			conf__apply_defaults(conf__sect_kinds[i].sect, (char *)c + conf__sect_kinds[i].obj);
}
