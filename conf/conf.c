/* SPDX-License-Identifier: MIT */
/* conf/conf.c - the schema of conf's own sections, the ones the rooms
 * below the outputs read ([gateway], [pack.NAME], [bank], [mqtt], [ble],
 * [ble_proxy.NAME], [limits], [soc], [health]): every key with its type,
 * range and default (conf__keys[]), the sections (conf_sect_*, section.h)
 * and where they are in a struct conf (conf__own[]).  An output's section
 * is its room's own, in the same form (gateway/<room>/<room>_conf.c).
 *
 * The rest of conf/ walks the sections in force, conf's and the rooms'
 * alike (conf_int.h says which file does what): values.c parses a value by
 * its key's type, reader.c finds keys and sections, check.c runs the
 * checks that need the whole file, summary.c prints what was loaded.
 * tests/integration/test_package.py reads every section's keys from bmsgw
 * --keys to check that bmsgw.ini(5) documents every key.
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
static const char *const source_words[] = {"bms", "counted", NULL};
#define CONF_WKEY_WORD_(id, name, unit, rd) name,
static const char *const wkey_words[] = {BMS_WKEY_LIST(CONF_WKEY_WORD_) NULL};
#undef CONF_WKEY_WORD_

_Static_assert(sizeof(enum reg_float_order) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_stale_policy) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_log_level) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_mqtt_cells) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_chemistry) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_interp) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_bank_rule) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_bank_stale) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_soc_source) == sizeof(int), "enum stored as int");

/* A current as a share of the capacity per hour ([soc]). */
#define SOC_C "C (the capacity's share an hour, 0.04 = 11.2 A of 280 Ah)"

#define GW(f) offsetof(struct conf_gateway, f)
#define PK(f) offsetof(struct conf_pack, f)
#define BK(f) offsetof(struct conf_bank, f)
#define MQ(f) offsetof(struct conf_mqtt, f)
#define BL(f) offsetof(struct conf_ble, f)
#define LI(f) offsetof(struct conf_limits, f)
#define SO(f) offsetof(struct conf_soc, f)
#define BP(f) offsetof(struct conf_ble_proxy, f)
#define HE(f) offsetof(struct conf_health, f)

/* The schema of conf's sections (bmsgw.ini(5) = conf/bmsgw.ini.5),
 * defaults included.  A row is
 *   key, reload, type, min, max, above, words, offset, default
 * and `reload` says what a new value does on SIGHUP (bmsgw(8) "RELOAD"; the
 * rooms' rows say the same of theirs):
 *   CONF_LIVE     the part that uses it takes it and goes on: what the
 *                 daemon reads from the running configuration (a pack's
 *                 polling and control settings, [gateway] but listen,
 *                 [bank], [limits], [ble] connect_timeout and
 *                 max_connections), and
 *                 the keys an output takes into its own copy ([mqtt]
 *                 discovery, publish_interval, cells, password_file,
 *                 backfill, backfill_rate)
 *   CONF_RESTART  its part stops and starts again with the new section: an
 *                 output ([mqtt]), the Modbus server's listening socket
 *                 ([gateway] listen), a pack (its snapshot meant something
 *                 else)
 *   CONF_RELINK   the wires it concerns close and open again and their
 *                 packs start again: a pack's port, baud and adapter (the
 *                 wire's rule, wire/link.c: a tcp:// or ble:// wire has no
 *                 baud rate, a ble:// one also follows [ble] adapter and
 *                 every key of the [ble_proxy.NAME] it goes through)
 * conf_section_same() (keys.c) compares a section's keys of one class. */
const struct conf_key conf__keys[K_COUNT] = {
	[K_LISTEN] = {"listen", CONF_RESTART, KT_LISTEN, 0, 0, false, NULL, GW(listen_host),
	              "0.0.0.0:502"},
	[K_BASE] = {"base", CONF_LIVE, KT_INT, 0, CONF_BASE_MAX, false, NULL, GW(base), "290"},
	[K_FLOAT_ORDER] = {"float_order", CONF_LIVE, KT_WORD, 0, 0, false, float_words,
	                   GW(float_order), "cdab"},
	[K_MAX_CLIENTS] = {"max_clients", CONF_LIVE, KT_INT, 1, 10000, false, NULL, GW(max_clients),
	                   "64"},
	[K_IDLE_TIMEOUT] = {"idle_timeout", CONF_LIVE, KT_DOUBLE, 0, 86400, true, NULL,
	                    GW(idle_timeout), "300"},
	[K_STALE_AFTER] = {"stale_after", CONF_LIVE, KT_DOUBLE, 0, 86400, true, NULL, GW(stale_after),
	                   "30"},
	[K_STALE_POLICY] = {"stale_policy", CONF_LIVE, KT_WORD, 0, 0, false, stale_words,
	                    GW(stale_policy), "exception"},
	[K_LOG_LEVEL] = {"log_level", CONF_LIVE, KT_WORD, 0, 0, false, level_words, GW(log_level),
	                 "info"},
	[K_STATE_FILE] = {"state_file", CONF_LIVE, KT_PATH, 0, 0, false, NULL, GW(state_file), NULL, .file = CONF_FILE_STATE, .flags = CONF_KF_NONE | CONF_KF_NONE_SAID},
	[K_CONTROL_CLIENTS] = {"control_clients", CONF_LIVE, KT_NETS, 0, 0, false, NULL,
	                       GW(control_clients), NULL},
	[K_SITE] = {"site", CONF_LIVE, KT_IDENT, 0, 0, false, NULL, GW(site), NULL},

	[K_PROTOCOL] = {"protocol", CONF_RESTART, KT_PROTOCOL, 0, 0, false, NULL, PK(driver), NULL},
	[K_PORT] = {"port", CONF_RELINK, KT_PORT, 0, 0, false, NULL, PK(port), NULL},
	[K_BAUD] = {"baud", CONF_RELINK, KT_BAUD, 0, 0, false, NULL, PK(baud), NULL},
	[K_ADDRESS] = {"address", CONF_RESTART, KT_INT, 0, 255, false, NULL, PK(address), NULL},
	[K_UNIT_ID] = {"unit_id", CONF_LIVE, KT_INT, 1, 247, false, NULL, PK(unit_id), NULL},
	[K_POLL_INTERVAL] = {"poll_interval", CONF_LIVE, KT_DOUBLE, 0.2, 86400, false, NULL,
	                     PK(poll_interval), "5"},
	[K_TIMEOUT] = {"timeout", CONF_LIVE, KT_DOUBLE, 0, 60, true, NULL, PK(timeout), "1.0"},
	[K_RETRIES] = {"retries", CONF_LIVE, KT_INT, 0, 10, false, NULL, PK(retries), "2"},
	[K_GAP] = {"gap", CONF_LIVE, KT_DOUBLE, 0, 10, false, NULL, PK(gap), NULL},
	[K_CELLS] = {"cells", CONF_RESTART, KT_INT, 0, BMS_MAX_CELLS, false, NULL, PK(cells), "0"},
	[K_INVERT_CURRENT] = {"invert_current", CONF_RESTART, KT_BOOL, 0, 0, false, NULL,
	                      PK(invert_current), "false"},
	[K_CONTROL] = {"control", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, PK(control), "false"},
	[K_CONTROL_TIMEOUT] = {"control_timeout", CONF_LIVE, KT_DOUBLE, 0.5, 60, false, NULL,
	                       PK(control_timeout), "3"},
	[K_BMS_SETTINGS] = {"bms_settings", CONF_LIVE, KT_FLAGS, 0, 0, false, wkey_words,
	                    PK(bms_settings), "none"},
	[K_BMS_SETTINGS_PER_DAY] = {"bms_settings_per_day", CONF_LIVE, KT_INT, 1, 1000, false, NULL,
	                            PK(bms_settings_per_day), "10"},
	[K_KEY] = {"key", CONF_LIVE, KT_KEY, 0, 0, false, NULL, PK(have_key), NULL},
	/* a new PIN makes the pack anew: tried at once, whatever a refused one's wait */
	[K_PIN] = {"pin", CONF_RESTART, KT_PIN, 0, 0, false, NULL, PK(pin), NULL},
	[K_PK_MAX_CHARGE] = {"max_charge_current", CONF_LIVE, KT_DOUBLE, 0, 10000, true, NULL,
	                     PK(max_charge_current), "", "amperes"},
	[K_PK_MAX_DISCHARGE] = {"max_discharge_current", CONF_LIVE, KT_DOUBLE, 0, 10000, true, NULL,
	                        PK(max_discharge_current), "", "amperes"},
	[K_ADDRESS_ANY] = {"address_any", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, PK(address_any),
	                   "false"},
	[K_POSITION] = {"position", CONF_RESTART, KT_INT, 1, BMS_MAX_GROUP, false, NULL, PK(position),
	                NULL},
	[K_PK_LISTEN] = {"listen", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, PK(listen), "false"},
	[K_TAKEOVER_AFTER] = {"takeover_after", CONF_RESTART, KT_DOUBLE, 0, 86400, false, NULL,
	                      PK(takeover_after), "0"},
	[K_BITRATE] = {"bitrate", CONF_RELINK, KT_INT, 10000, 1000000, false, NULL, PK(bitrate), NULL},
	[K_PK_ADAPTER] = {"adapter", CONF_RELINK, KT_ADAPTER, 0, 0, false, NULL, PK(adapter), NULL},
	[K_PK_TOPIC] = {"topic", CONF_RELINK, KT_TOPIC, 0, 0, false, NULL, PK(topic), NULL},
	[K_PK_FIELDS] = {"fields", CONF_RESTART, KT_FIELDS, 0, 0, false, NULL, PK(fields), NULL},
	[K_PK_STALE_AFTER] = {"stale_after", CONF_LIVE, KT_DOUBLE, 0, 86400, true, NULL, PK(stale_after),
	                      ""},
	[K_PK_VENUS] = {"venus", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, PK(venus), "true"},

	[K_BANK_UNIT_ID] = {"unit_id", CONF_LIVE, KT_INT, 1, 247, false, NULL, BK(unit_id), "100"},
	[K_BANK_PACKS] = {"packs", CONF_LIVE, KT_NAMES, 0, 0, false, NULL, BK(packs_text), NULL},
	[K_BANK_DEVIATION] = {"max_deviation", CONF_LIVE, KT_DOUBLE, 0, 100, true, NULL,
	                      BK(max_deviation), "1.0"},
	[K_BANK_STRINGS] = {"strings", CONF_LIVE, KT_STRINGS, 0, 0, false, NULL, BK(strings_text), NULL},
	[K_BANK_CURRENT_DEVIATION] = {"max_current_deviation", CONF_LIVE, KT_DOUBLE, 0, 10000, true, NULL,
	                              BK(max_current_deviation), ""},
	[K_BANK_SHUNT] = {"shunt", CONF_LIVE, KT_NAME, 0, 0, false, NULL, BK(shunt), NULL},

	[K_MQ_HOST] = {"host", CONF_RESTART, KT_HOST, 0, 0, false, NULL, MQ(host), NULL},
	[K_MQ_PORT] = {"port", CONF_RESTART, KT_INT, 1, 65535, false, NULL, MQ(port), "1883"},
	[K_MQ_CLIENT_ID] = {"client_id", CONF_RESTART, KT_IDENT, 0, 0, false, NULL, MQ(client_id), NULL},
	[K_MQ_USERNAME] = {"username", CONF_RESTART, KT_TEXT, 0, 0, false, NULL, MQ(username), NULL},
	[K_MQ_PASSWORD_FILE] = {"password_file", CONF_LIVE, KT_PATH, 0, 0, false, NULL,
	                        MQ(password_file), NULL, .file = CONF_FILE_SECRET},
	[K_MQ_TLS] = {"tls", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, MQ(tls), "false"},
	[K_MQ_CA_FILE] = {"ca_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, MQ(ca_file), NULL, .file = CONF_FILE_CERT},
	[K_MQ_CERT_FILE] = {"cert_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, MQ(cert_file), NULL, .file = CONF_FILE_CERT},
	[K_MQ_KEY_FILE] = {"key_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, MQ(key_file), NULL, .file = CONF_FILE_KEY},
	[K_MQ_TOPIC_PREFIX] = {"topic_prefix", CONF_RESTART, KT_TOPIC, 0, 0, false, NULL,
	                       MQ(topic_prefix), "bmsgw"},
	[K_MQ_DISCOVERY] = {"discovery", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, MQ(discovery), "true"},
	[K_MQ_DISCOVERY_PREFIX] = {"discovery_prefix", CONF_RESTART, KT_TOPIC, 0, 0, false, NULL,
	                           MQ(discovery_prefix), "homeassistant"},
	[K_MQ_PUBLISH_INTERVAL] = {"publish_interval", CONF_LIVE, KT_DOUBLE, 0, 86400, false, NULL,
	                           MQ(publish_interval), "0"},
	[K_MQ_CELLS] = {"cells", CONF_LIVE, KT_WORD, 0, 0, false, cells_words, MQ(cells), "disabled"},
	[K_MQ_KEEPALIVE] = {"keepalive", CONF_RESTART, KT_INT, 5, 3600, false, NULL, MQ(keepalive),
	                    "30"},
	[K_MQ_CONTROL] = {"control", CONF_RESTART, KT_BOOL, 0, 0, false, NULL, MQ(control), "false"},
	[K_MQ_VICTRON] = {"victron", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, MQ(victron), "false"},
	[K_MQ_BACKFILL] = {"backfill", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, MQ(backfill), "false"},
	[K_MQ_BACKFILL_RATE] = {"backfill_rate", CONF_LIVE, KT_INT, 1, 1000, false, NULL,
	                        MQ(backfill_rate), "50"},

	[K_BLE_ADAPTER] = {"adapter", CONF_RELINK, KT_ADAPTER, 0, 0, false, NULL, BL(adapter), NULL},
	[K_BLE_CONNECT_TIMEOUT] = {"connect_timeout", CONF_LIVE, KT_DOUBLE, 1, 120, false, NULL,
	                           BL(connect_timeout), "20"},
	[K_BLE_MAX_CONNECTIONS] = {"max_connections", CONF_LIVE, KT_INT, 1, 32, false, NULL,
	                           BL(max_connections), "3"},
	[K_BP_HOST] = {"host", CONF_RELINK, KT_HOST, 0, 0, false, NULL, BP(host), NULL},
	[K_BP_PORT] = {"port", CONF_RELINK, KT_INT, 1, 65535, false, NULL, BP(port), "6053"},
	[K_BP_KEY] = {"encryption_key", CONF_RELINK, KT_KEY32, 0, 0, false, NULL, BP(have_key),
	              ""},
	[K_BP_PASSWORD_FILE] = {"password_file", CONF_RELINK, KT_PATH, 0, 0, false, NULL,
	                        BP(password_file), NULL, .file = CONF_FILE_SECRET},

	/* the cell voltages and cell tables default by chemistry (conf__chem_defaults[]) */
	[K_LI_CHEMISTRY] = {"chemistry", CONF_LIVE, KT_WORD, 0, 0, false, chem_words, LI(chemistry),
	                    "lfp"},
	[K_LI_MAX_CELL] = {"max_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                   LI(max_cell_voltage), NULL, "volts per cell"},
	[K_LI_FLOAT_CELL] = {"float_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                     LI(float_cell_voltage), NULL, "volts per cell"},
	[K_LI_MIN_CELL] = {"min_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                   LI(min_cell_voltage), NULL, "volts per cell"},
	[K_LI_MAX_CHARGE] = {"max_charge_current", CONF_LIVE, KT_DOUBLE, 0, 10000, true, NULL,
	                     LI(max_charge_current), "50", "amperes"},
	[K_LI_MAX_DISCHARGE] = {"max_discharge_current", CONF_LIVE, KT_DOUBLE, 0, 10000, true, NULL,
	                        LI(max_discharge_current), "60", "amperes"},
	[K_LI_ABS_TIME] = {"absorption_time", CONF_LIVE, KT_DOUBLE, 0, 86400, false, NULL,
	                   LI(absorption_time), "900"},
	[K_LI_ABS_DIFF] = {"absorption_cell_diff", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL,
	                   LI(absorption_cell_diff), "0.010", "volts"},
	[K_LI_REBULK_SOC] = {"rebulk_soc", CONF_LIVE, KT_DOUBLE, 0, 100, false, NULL, LI(rebulk_soc),
	                     "80", "percent"},
	[K_LI_REBULK_DIFF] = {"rebulk_cell_diff", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL,
	                      LI(rebulk_cell_diff), "0.080", "volts"},
	[K_LI_CHARGE_CELL] = {"charge_cell_table", CONF_LIVE, KT_TABLE, 0, 5, false, NULL,
	                      LI(charge_cell), NULL, "volts per cell"},
	[K_LI_DISCHARGE_CELL] = {"discharge_cell_table", CONF_LIVE, KT_TABLE, 0, 5, false, NULL,
	                         LI(discharge_cell), NULL, "volts per cell"},
	[K_LI_CHARGE_TEMP] = {"charge_temp_table", CONF_LIVE, KT_TABLE, -50, 150, false, NULL,
	                      LI(charge_temp), NULL, "degrees Celsius"},
	[K_LI_DISCHARGE_TEMP] = {"discharge_temp_table", CONF_LIVE, KT_TABLE, -50, 150, false, NULL,
	                         LI(discharge_temp), "-10:0, 0:0.25, 5:0.5, 10:1, 40:1, 45:0.5, 50:0.25, 55:0", "degrees Celsius"},
	[K_LI_MOS_TEMP] = {"mos_temp_table", CONF_LIVE, KT_TABLE, -50, 150, false, NULL, LI(mos_temp),
	                   "70:1, 80:0.25, 90:0", "degrees Celsius"},
	[K_LI_SOC_CHARGE] = {"soc_charge_table", CONF_LIVE, KT_TABLE, 0, 100, false, NULL,
	                     LI(soc_charge), "", "percent"},
	[K_LI_SOC_DISCHARGE] = {"soc_discharge_table", CONF_LIVE, KT_TABLE, 0, 100, false, NULL,
	                        LI(soc_discharge), "", "percent"},
	[K_LI_INTERP] = {"interpolation", CONF_LIVE, KT_WORD, 0, 0, false, interp_words,
	                 LI(interpolation), "linear"},
	[K_LI_RECOVERY_HOLD] = {"recovery_hold", CONF_LIVE, KT_DOUBLE, 0, 3600, false, NULL,
	                        LI(recovery_hold), "30"},
	[K_LI_RECOVERY_RATE] = {"recovery_rate", CONF_LIVE, KT_DOUBLE, 0, 10000, true, NULL,
	                        LI(recovery_rate), "5", "amperes per second"},
	[K_LI_CVL_HOLD] = {"cvl_recovery_hold", CONF_LIVE, KT_DOUBLE, 0, 3600, false, NULL,
	                   LI(cvl_recovery_hold), "60"},
	[K_LI_CVL_RATE] = {"cvl_rate", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL, LI(cvl_rate), "0.001", "volts per cell per second"},
	[K_LI_FORCE_SOC] = {"force_charge_soc", CONF_LIVE, KT_DOUBLE, 0, 100, false, NULL,
	                    LI(force_charge_soc), "5", "percent"},
	[K_LI_FULL_DAYS] = {"full_charge_days", CONF_LIVE, KT_DOUBLE, 0, 3650, false, NULL,
	                    LI(full_charge_days), "30", "days"},
	[K_LI_BANK_RULE] = {"bank_rule", CONF_LIVE, KT_WORD, 0, 0, false, rule_words, LI(bank_rule),
	                    "min"},
	[K_LI_BANK_STALE] = {"bank_stale", CONF_LIVE, KT_WORD, 0, 0, false, stale_rule_words,
	                     LI(bank_stale), "degrade"},
	[K_LI_UNKNOWN_TEMP] = {"unknown_temp_fraction", CONF_LIVE, KT_DOUBLE, 0, 1, false, NULL,
	                       LI(unknown_temp_fraction), "0.1", "fraction"},
	[K_LI_VOLTAGE_DROP] = {"voltage_drop", CONF_LIVE, KT_DOUBLE, 0, 5, false, NULL,
	                       LI(voltage_drop), "0", "volts"},
	[K_LI_ABS_TOL] = {"absorption_tolerance", CONF_LIVE, KT_DOUBLE, 0, 1, false, NULL,
	                  LI(absorption_tolerance), "0.05", "volts per 16 cells"},
	[K_LI_TAIL] = {"tail_current", CONF_LIVE, KT_DOUBLE, 0, 10000, false, NULL, LI(tail_current),
	               "0", "amperes"},
	[K_LI_MAX_BULK] = {"max_bulk_time", CONF_LIVE, KT_DOUBLE, 0, 604800, false, NULL,
	                   LI(max_bulk_time), "0"},
	[K_LI_HYST] = {"table_hysteresis", CONF_LIVE, KT_DOUBLE, 0, 0.5, false, NULL,
	               LI(table_hysteresis), "0.020", "volts"},
	[K_LI_EXCEEDED] = {"limit_exceeded", CONF_LIVE, KT_DOUBLE, 0, 3600, false, NULL,
	                   LI(limit_exceeded), "10"},

	/* [health]: the estimators read it live at every poll */
	[K_HE_IR_MIN_STEP] = {"ir_min_step", CONF_LIVE, KT_DOUBLE, 0.01, 2, false, NULL,
	                      HE(ir_min_step), "0.1"},

	/* [soc]: a default of NULL is the chemistry's (conf_soc_derive), the
	 * chemistry's is [limits]'; the estimator reads every key live */
	[K_SOC_COUNTING] = {"count", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, SO(count), "true"},
	[K_SOC_SOURCE] = {"source", CONF_LIVE, KT_WORD, 0, 0, false, source_words, SO(source), "bms"},
	[K_SOC_CAPACITY] = {"capacity", CONF_LIVE, KT_DOUBLE, 0, 100000, true, NULL, SO(capacity), "", "ampere-hours"},
	[K_SOC_CHEMISTRY] = {"chemistry", CONF_LIVE, KT_WORD, 0, 0, false, chem_words, SO(chemistry),
	                     NULL},
	[K_SOC_EFFICIENCY] = {"charge_efficiency", CONF_LIVE, KT_DOUBLE, 0.5, 1, false, NULL,
	                      SO(charge_efficiency), NULL, "fraction"},
	[K_SOC_OFFSET] = {"current_offset", CONF_LIVE, KT_DOUBLE, -100, 100, false, NULL,
	                  SO(current_offset), "0", "amperes"},
	[K_SOC_THRESHOLD] = {"current_threshold", CONF_LIVE, KT_DOUBLE, 0, 100, false, NULL,
	                     SO(current_threshold), "0.1", "amperes"},
	[K_SOC_GAIN_ERROR] = {"current_gain_error", CONF_LIVE, KT_DOUBLE, 0, 0.5, false, NULL,
	                      SO(current_gain_error), "0.02", "fraction"},
	[K_SOC_OFFSET_ERROR] = {"current_offset_error", CONF_LIVE, KT_DOUBLE, 0, 100, false, NULL,
	                        SO(current_offset_error), "0.3", "amperes"},
	[K_SOC_FULL_CELL] = {"full_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                     SO(full_cell_voltage), NULL, "volts per cell"},
	[K_SOC_TAIL] = {"tail_current", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL, SO(tail_current), "0.04", SOC_C},
	[K_SOC_FULL_TIME] = {"full_time", CONF_LIVE, KT_DOUBLE, 0, 86400, false, NULL, SO(full_time),
	                     "180"},
	[K_SOC_EMPTY_CELL] = {"empty_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                      SO(empty_cell_voltage), NULL, "volts per cell"},
	[K_SOC_EMPTY_CURRENT] = {"empty_current", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL,
	                         SO(empty_current), "0.2", SOC_C},
	[K_SOC_EMPTY_TIME] = {"empty_time", CONF_LIVE, KT_DOUBLE, 0, 86400, false, NULL, SO(empty_time),
	                      "60"},
	[K_SOC_KNEE_CELL] = {"knee_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                     SO(knee_cell_voltage), NULL, "volts per cell"},
	[K_SOC_KNEE_SOC] = {"knee_soc", CONF_LIVE, KT_DOUBLE, 0, 50, false, NULL, SO(knee_soc), "5", "percent"},
	[K_SOC_REST_CURRENT] = {"rest_current", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL, SO(rest_current),
	                        "0.01", SOC_C},
	[K_SOC_REST_TIME] = {"rest_time", CONF_LIVE, KT_DOUBLE, 0, 86400, true, NULL, SO(rest_time),
	                     "1800"},
	[K_SOC_LEARN] = {"learn_capacity", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, SO(learn_capacity),
	                 "true"},
	[K_SOC_SAVE_INTERVAL] = {"save_interval", CONF_LIVE, KT_DOUBLE, 1, 86400, false, NULL,
	                         SO(save_interval), "300"},

	/* a pack's own [soc] keys: unset, it takes [soc]'s (check_soc.c) */
	[K_PK_SOC_COUNTING] = {"count", CONF_LIVE, KT_BOOL, 0, 0, false, NULL, PK(soc.count), NULL},
	[K_PK_SOC_SOURCE] = {"source", CONF_LIVE, KT_WORD, 0, 0, false, source_words, PK(soc.source),
	                     NULL},
	[K_PK_SOC_CAPACITY] = {"capacity", CONF_LIVE, KT_DOUBLE, 0, 100000, true, NULL,
	                       PK(soc.capacity), "", "ampere-hours"},
	[K_PK_SOC_CHEMISTRY] = {"chemistry", CONF_LIVE, KT_WORD, 0, 0, false, chem_words,
	                        PK(soc.chemistry), NULL},
	[K_PK_SOC_EFFICIENCY] = {"charge_efficiency", CONF_LIVE, KT_DOUBLE, 0.5, 1, false, NULL,
	                         PK(soc.charge_efficiency), NULL, "fraction"},
	[K_PK_SOC_OFFSET] = {"current_offset", CONF_LIVE, KT_DOUBLE, -100, 100, false, NULL,
	                     PK(soc.current_offset), NULL, "amperes"},
	[K_PK_SOC_THRESHOLD] = {"current_threshold", CONF_LIVE, KT_DOUBLE, 0, 100, false, NULL,
	                        PK(soc.current_threshold), NULL, "amperes"},
	[K_PK_SOC_GAIN_ERROR] = {"current_gain_error", CONF_LIVE, KT_DOUBLE, 0, 0.5, false, NULL,
	                         PK(soc.current_gain_error), NULL, "fraction"},
	[K_PK_SOC_OFFSET_ERROR] = {"current_offset_error", CONF_LIVE, KT_DOUBLE, 0, 100, false, NULL,
	                           PK(soc.current_offset_error), NULL, "amperes"},
	[K_PK_SOC_FULL_CELL] = {"full_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                        PK(soc.full_cell_voltage), NULL, "volts per cell"},
	[K_PK_SOC_TAIL] = {"tail_current", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL,
	                   PK(soc.tail_current), NULL, SOC_C},
	[K_PK_SOC_FULL_TIME] = {"full_time", CONF_LIVE, KT_DOUBLE, 0, 86400, false, NULL,
	                        PK(soc.full_time), NULL},
	[K_PK_SOC_EMPTY_CELL] = {"empty_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                         PK(soc.empty_cell_voltage), NULL, "volts per cell"},
	[K_PK_SOC_EMPTY_CURRENT] = {"empty_current", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL,
	                            PK(soc.empty_current), NULL, SOC_C},
	[K_PK_SOC_EMPTY_TIME] = {"empty_time", CONF_LIVE, KT_DOUBLE, 0, 86400, false, NULL,
	                         PK(soc.empty_time), NULL},
	[K_PK_SOC_KNEE_CELL] = {"knee_cell_voltage", CONF_LIVE, KT_DOUBLE, 1, 5, false, NULL,
	                        PK(soc.knee_cell_voltage), NULL, "volts per cell"},
	[K_PK_SOC_KNEE_SOC] = {"knee_soc", CONF_LIVE, KT_DOUBLE, 0, 50, false, NULL, PK(soc.knee_soc),
	                       NULL, "percent"},
	[K_PK_SOC_REST_CURRENT] = {"rest_current", CONF_LIVE, KT_DOUBLE, 0, 1, true, NULL,
	                           PK(soc.rest_current), NULL, SOC_C},
	[K_PK_SOC_REST_TIME] = {"rest_time", CONF_LIVE, KT_DOUBLE, 0, 86400, true, NULL,
	                        PK(soc.rest_time), NULL},
	[K_PK_SOC_LEARN] = {"learn_capacity", CONF_LIVE, KT_BOOL, 0, 0, false, NULL,
	                    PK(soc.learn_capacity), NULL},
};

/* What the checks derive from a key after the parse and a reload compares
 * as a key of its class: the MQTT client holds the password that
 * password_file gave, so a new password in the same file restarts it,
 * while the file's name alone is live (check.c reads the file); the site
 * names its topic prefix (by default) and its HA ids. */
static const struct conf_derived mqtt_derived[] = {
	{ MQ(password), CONF_RESTART },
	{ MQ(site), CONF_RESTART },
};


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


/* The keys of a section: its first and last K_. */
#define KEYS(first, last) .keys = &conf__keys[first], .nkeys = (last) - (first) + 1
#define DERIVED(d) .derived = d, .nderived = (int)(sizeof(d) / sizeof(d[0]))
/* A single section of struct t, its `enabled` flag or CONF_NO_FIELD; a
 * named one of struct t, at most mx. */
#define SINGLE(w, t, en) .word = w, .named = false, .max = 1, .size = sizeof(t), .name = CONF_NO_FIELD, \
	.line = offsetof(t, line), .enabled = en
#define NAMED(w, t, mx) .word = w, .named = true, .max = mx, .size = sizeof(t), .name = offsetof(t, name), \
	.line = offsetof(t, line), .enabled = CONF_NO_FIELD
/* Where each stands: in the lists, after the parse (check.c's steps), in
 * the summary (summary.c's parts); a section whose steps are conf's own
 * has none here */
#define AT(l) .list_order = l

const struct conf_section conf_sect_gateway = { SINGLE("gateway", struct conf_gateway, CONF_NO_FIELD),
	KEYS(K_LISTEN, K_SITE), AT(10) };
const struct conf_section conf_sect_pack = { NAMED("pack", struct conf_pack, CONF_MAX_PACKS),
	KEYS(K_PROTOCOL, K_PK_SOC_LEARN), AT(20) };
const struct conf_section conf_sect_bank = { SINGLE("bank", struct conf_bank, offsetof(struct conf_bank, enabled)),
	KEYS(K_BANK_UNIT_ID, K_BANK_SHUNT), AT(30) };
const struct conf_section conf_sect_mqtt = { SINGLE("mqtt", struct conf_mqtt, offsetof(struct conf_mqtt, enabled)),
	KEYS(K_MQ_HOST, K_MQ_BACKFILL_RATE), DERIVED(mqtt_derived), AT(50) };
const struct conf_section conf_sect_ble = { SINGLE("ble", struct conf_ble, CONF_NO_FIELD),
	KEYS(K_BLE_ADAPTER, K_BLE_MAX_CONNECTIONS), AT(90) };
const struct conf_section conf_sect_limits = { SINGLE("limits", struct conf_limits,
	offsetof(struct conf_limits, enabled)), KEYS(K_LI_CHEMISTRY, K_LI_EXCEEDED), AT(100) };
const struct conf_section conf_sect_soc = { SINGLE("soc", struct conf_soc, CONF_NO_FIELD),
	KEYS(K_SOC_COUNTING, K_SOC_SAVE_INTERVAL), AT(140) };
const struct conf_section conf_sect_ble_proxy = { NAMED("ble_proxy", struct conf_ble_proxy, CONF_MAX_BLE_PROXIES),
	KEYS(K_BP_HOST, K_BP_PASSWORD_FILE), AT(95) };
const struct conf_section conf_sect_health = { SINGLE("health", struct conf_health,
	offsetof(struct conf_health, enabled)), KEYS(K_HE_IR_MIN_STEP, K_HE_IR_MIN_STEP), AT(180) };

/* Where conf's own sections are: member m of struct conf (a named one: the
 * array, and its count n), their lines in struct conf_load's member seen. */
#define OWN_SINGLE(sect, m, sn, k0) { .s = &sect, .own = true, .obj = offsetof(struct conf, m), \
	.elem = 0, .count = CONF_NO_FIELD, .seen = offsetof(struct conf_load, sn), .stride = K_COUNT, .first = k0 }
#define OWN_NAMED(sect, m, n, sn, k0) { .s = &sect, .own = true, .obj = offsetof(struct conf, m), \
	.elem = sizeof(((struct conf *)0)->m[0]), .count = offsetof(struct conf, n), \
	.seen = offsetof(struct conf_load, sn), .stride = K_COUNT, .first = k0 }

const struct conf__rt conf__own[] = {
	OWN_SINGLE(conf_sect_gateway, gw, gw_seen, K_LISTEN),
	OWN_NAMED(conf_sect_pack, packs, npacks, pack_seen, K_PROTOCOL),
	OWN_SINGLE(conf_sect_bank, bank, bank_seen, K_BANK_UNIT_ID),
	OWN_SINGLE(conf_sect_mqtt, mqtt, mqtt_seen, K_MQ_HOST),
	OWN_SINGLE(conf_sect_ble, ble, ble_seen, K_BLE_ADAPTER),
	OWN_SINGLE(conf_sect_limits, limits, limits_seen, K_LI_CHEMISTRY),
	OWN_SINGLE(conf_sect_soc, soc, soc_seen, K_SOC_COUNTING),
	OWN_NAMED(conf_sect_ble_proxy, ble_proxies, nble_proxies, ble_proxy_seen, K_BP_HOST),
	OWN_SINGLE(conf_sect_health, health, health_seen, K_HE_IR_MIN_STEP),
};
const size_t conf__nown = sizeof(conf__own) / sizeof(conf__own[0]);

const char *conf_key_word(const struct conf_key *k, int i)
{
	const char *const *words = k->words;
	for (int j = 0; words && words[j]; j++)
		if (j == i)
			return words[j];
	return "?";
}

