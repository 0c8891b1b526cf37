/* SPDX-License-Identifier: MIT */
/* gateway/ha/discovery.c - Home Assistant MQTT discovery configs.
 *
 * Per-entity configs (Home Assistant, Domoticz and openHAB all read them) at
 *   <discovery_prefix>/<component>/bmsgw_<client_id>_<unit>/<key>/config
 * with unique_id bmsgw_<client_id>_<unit>_<key>, one device per pack, one
 * for the bank and one for the gateway (the others' via_device).  With
 * [gateway] site, bmsgw_<site>_<client_id> in the ids and "<site> " before
 * the device names, so that the sites of a fleet on one Home Assistant
 * stay apart.  Rules
 * followed (https://www.home-assistant.io/integrations/mqtt/ and
 * /integrations/sensor/):
 *   - the entity name never repeats the device name (has_entity_name);
 *   - device_class / unit / state_class combinations HA accepts: voltage V
 *     or mV, current A, power W, battery %, energy kWh with total_increasing,
 *     energy_storage Wh with measurement, temperature °C, timestamp;
 *   - availability = the gateway's status AND the unit's freshness
 *     (availability_mode all), so a stale pack is "unavailable", never an
 *     old value shown as current;
 *   - per-cell sensors are diagnostic and, by default, disabled;
 *   - object ids avoid what Domoticz drops (ids starting min_/max_, ending
 *     _min/_max, containing _alarm or _calibration; hardware/MQTTAutoDiscover.cpp);
 *   - templates are plain {{ value_json.key }} (Domoticz understands no filters).
 * With [mqtt] control and [limits], each pack and the bank also get the
 * charge settings (bmsgw-mqtt(7) "CHARGE SETTINGS"): number entities and a
 * force-charge switch whose command topic is P/NAME/set/<setting> and whose
 * state is the state JSON's settings.<setting>.value.
 * With [mqtt] control, a pack's BMS settings that its bms_settings allows
 * (bmsgw-mqtt(7) "BMS SETTINGS") are a number each (the balancer a
 * switch) commanding P/NAME/set/bms_KEY, showing what the BMS last
 * reported, bounded by the effective range (engine/setbounds.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "discovery.h"
#include "../engine/capacity.h"
#include "../engine/setbounds.h"
#include "../model/json.h"

#ifndef BMSGW_VERSION
#error "BMSGW_VERSION comes from the Makefile (VERSION)"
#endif

enum {
	E_PACK = 1 << 0,     /* on a pack's device */
	E_BANK = 1 << 1,     /* on the bank's device */
	E_GW = 1 << 2,       /* on the gateway's device (state P/gateway) */
	E_DIAG = 1 << 3,     /* entity_category diagnostic */
	E_OFF = 1 << 4,      /* enabled_by_default false */
	E_BINARY = 1 << 5,   /* binary_sensor: payload True / False */
	E_SWITCH = 1 << 6,   /* switch: state True / False, commands ON / OFF on
	                      * P/NAME/set/<field>; only for packs whose MOSFETs
	                      * may be switched over MQTT */
	E_LIM = 1 << 7,      /* a charge limit: only with [limits] */
	E_ANY = 1 << 8,      /* needs any one of its BMS_HAS_* bits, not all */
	E_SOC = 1 << 9,      /* the counted SOC: only where the unit counts ([soc] count) */
	E_HEALTH = 1 << 10,  /* cell health: only with [health] (model/health_gw.h) */
};

struct ent {
	const char *key;     /* object id, last part of unique_id */
	const char *name;    /* entity name, without the device's */
	const char *field;   /* key in the state JSON */
	const char *dclass;  /* device_class, NULL = none */
	const char *unit;    /* unit_of_measurement, NULL = none */
	const char *sclass;  /* state_class, NULL = none */
	int prec;            /* suggested_display_precision, -1 = none */
	unsigned flags;
	uint32_t needs;      /* BMS_HAS_* the protocol must provide (packs) */
};

#define PB (E_PACK | E_BANK)
static const struct ent ents[] = {
	{ "voltage", "Voltage", "voltage", "voltage", "V", "measurement", 2, PB, BMS_HAS_VOLTAGE },
	{ "current", "Current", "current", "current", "A", "measurement", 2, PB, BMS_HAS_CURRENT },
	{ "power", "Power", "power", "power", "W", "measurement", 0, PB, BMS_HAS_POWER },
	{ "soc", "State of charge", "soc", "battery", "%", "measurement", 0, PB, BMS_HAS_SOC },
	{ "remaining_capacity", "Remaining capacity", "remaining_ah", NULL, "Ah", "measurement", 1, PB,
	  BMS_HAS_REMAIN },
	{ "full_capacity", "Full capacity", "full_ah", NULL, "Ah", "measurement", 1, PB | E_DIAG, BMS_HAS_FULL },
	{ "stored_energy", "Stored energy", "stored_energy_wh", "energy_storage", "Wh", "measurement", 0, PB,
	  BMS_HAS_VOLTAGE | BMS_HAS_REMAIN },
	{ "soh", "State of health", "soh", NULL, "%", "measurement", 0, PB | E_DIAG, BMS_HAS_SOH },
	{ "cycles", "Charge cycles", "cycles", NULL, NULL, "total_increasing", 0, PB | E_DIAG, BMS_HAS_CYCLES },
	{ "mos_temperature", "MOSFET temperature", "mos_temp_c", "temperature", "°C", "measurement", 1,
	  PB | E_DIAG, BMS_HAS_MOS_TEMP },
	/* the lowest and highest cell: of the cells, else the BMS's own (CELL_EXT) */
	{ "cell_low", "Lowest cell voltage", "cell_min_mv", "voltage", "mV", "measurement", 0, PB | E_ANY,
	  BMS_HAS_CELLS | BMS_HAS_CELL_EXT },
	{ "cell_high", "Highest cell voltage", "cell_max_mv", "voltage", "mV", "measurement", 0, PB | E_ANY,
	  BMS_HAS_CELLS | BMS_HAS_CELL_EXT },
	{ "cell_average", "Average cell voltage", "cell_avg_mv", "voltage", "mV", "measurement", 0, PB,
	  BMS_HAS_CELLS },
	{ "cell_delta", "Cell voltage difference", "cell_delta_mv", "voltage", "mV", "measurement", 0, PB | E_ANY,
	  BMS_HAS_CELLS | BMS_HAS_CELL_EXT },
	{ "cell_low_number", "Lowest cell number", "cell_min_index", NULL, NULL, NULL, -1, PB | E_DIAG | E_ANY,
	  BMS_HAS_CELLS | BMS_HAS_CELL_EXT },
	{ "cell_high_number", "Highest cell number", "cell_max_index", NULL, NULL, NULL, -1, PB | E_DIAG | E_ANY,
	  BMS_HAS_CELLS | BMS_HAS_CELL_EXT },
	{ "bms_temperature_high", "Highest temperature (BMS)", "bms_temp_max_c", "temperature", "°C", "measurement",
	  1, E_PACK, BMS_HAS_TEMP_EXT },
	{ "bms_temperature_low", "Lowest temperature (BMS)", "bms_temp_min_c", "temperature", "°C", "measurement",
	  1, E_PACK, BMS_HAS_TEMP_EXT },
	{ "cell_low_pack", "Pack of the lowest cell", "cell_min_pack", NULL, NULL, NULL, -1, E_BANK | E_DIAG,
	  BMS_HAS_CELLS },
	{ "cell_high_pack", "Pack of the highest cell", "cell_max_pack", NULL, NULL, NULL, -1, E_BANK | E_DIAG,
	  BMS_HAS_CELLS },
	{ "soc_bms", "SOC (BMS)", "soc_estimate.bms", "battery", "%", "measurement", 1, PB | E_SOC, BMS_HAS_SOC },
	{ "soc_counted", "SOC (counted)", "soc_estimate.counted", "battery", "%", "measurement", 1, PB | E_SOC,
	  BMS_HAS_CURRENT },
	{ "soc_uncertainty", "SOC uncertainty", "soc_estimate.uncertainty", NULL, "%", "measurement", 1, PB | E_SOC,
	  BMS_HAS_CURRENT },
	{ "capacity_measured", "Capacity (measured)", "soc_estimate.capacity_ah", NULL, "Ah", "measurement", 1,
	  PB | E_SOC, BMS_HAS_CURRENT },
	{ "soh_measured", "SOH (measured)", "soc_estimate.soh_measured", NULL, "%", "measurement", 1,
	  PB | E_SOC | E_DIAG, BMS_HAS_CURRENT },
	{ "energy_in", "Energy charged", "energy_in_kwh", "energy", "kWh", "total_increasing", 2, PB, 0 },
	{ "energy_out", "Energy discharged", "energy_out_kwh", "energy", "kWh", "total_increasing", 2, PB, 0 },
	{ "protection", "Active alarms", "alarm_names", NULL, NULL, NULL, -1, PB | E_DIAG, BMS_HAS_ALARMS },
	{ "good_polls", "Good polls", "good_polls", NULL, NULL, "total_increasing", -1, E_PACK | E_DIAG, 0 },
	{ "failed_polls", "Failed polls", "failed_polls", NULL, NULL, "total_increasing", -1, E_PACK | E_DIAG, 0 },
	{ "last_update", "Last update", "updated", "timestamp", NULL, NULL, -1, PB | E_DIAG, 0 },
	{ "packs_online", "Packs online", "packs_online", NULL, NULL, "measurement", 0, E_BANK | E_GW, 0 },
	{ "packs_configured", "Packs configured", "packs_configured", NULL, NULL, NULL, -1,
	  E_BANK | E_GW | E_DIAG, 0 },
	{ "charge_mos", "Charge MOSFET", "charge_mos", "power", NULL, NULL, -1, PB | E_BINARY, BMS_HAS_MOSFETS },
	{ "discharge_mos", "Discharge MOSFET", "discharge_mos", "power", NULL, NULL, -1, PB | E_BINARY,
	  BMS_HAS_MOSFETS },
	{ "charge_switch", "Charge MOSFET switch", "charge_mos", NULL, NULL, NULL, -1, E_PACK | E_SWITCH,
	  BMS_HAS_MOSFETS },
	{ "discharge_switch", "Discharge MOSFET switch", "discharge_mos", NULL, NULL, NULL, -1, E_PACK | E_SWITCH,
	  BMS_HAS_MOSFETS },
	{ "charging", "Charging", "charging", "battery_charging", NULL, NULL, -1, PB | E_BINARY, BMS_HAS_CURRENT },
	{ "discharging", "Discharging", "discharging", NULL, NULL, NULL, -1, PB | E_BINARY, BMS_HAS_CURRENT },
	{ "balancing", "Balancing", "balancing_any", "running", NULL, NULL, -1, E_PACK | E_BINARY | E_DIAG | E_ANY,
	  BMS_HAS_BALANCE | BMS_HAS_BALANCING },
	{ "balance_current", "Balancing current", "balance_current_a", "current", "A", "measurement", 2, E_PACK,
	  BMS_HAS_BALANCER },
	{ "balancer_state", "Balancer state", "balancer_state", NULL, NULL, NULL, -1, E_PACK, BMS_HAS_BALANCER },
	{ "balancer_temperature", "Balancer temperature", "balancer_temp_c", "temperature", "°C", "measurement", 1,
	  E_PACK | E_DIAG, BMS_HAS_BALANCER },
	{ "heater", "Heater", "heater_on", "heat", NULL, NULL, -1, E_PACK | E_BINARY, BMS_HAS_HEATER },
	{ "heater_current", "Heater current", "heater_a", "current", "A", "measurement", 2, E_PACK,
	  BMS_HAS_HEATER },
	{ "problem", "Problem", "problem", "problem", NULL, NULL, -1, PB | E_BINARY, BMS_HAS_ALARMS },
	{ "pack_missing", "Pack missing", "pack_missing", "problem", NULL, NULL, -1, E_BANK | E_BINARY, 0 },
	{ "voltage_deviation", "Pack voltage deviation", "deviation", "problem", NULL, NULL, -1,
	  E_BANK | E_BINARY, 0 },
	{ "charge_voltage_limit", "Charge voltage limit", "limits.cvl_v", "voltage", "V", "measurement", 2,
	  PB | E_LIM, 0 },
	{ "charge_current_limit", "Charge current limit", "limits.ccl_a", "current", "A", "measurement", 1,
	  PB | E_LIM, 0 },
	{ "discharge_current_limit", "Discharge current limit", "limits.dcl_a", "current", "A", "measurement", 1,
	  PB | E_LIM, 0 },
	{ "discharge_voltage_limit", "Discharge voltage limit", "limits.dvl_v", "voltage", "V", "measurement", 2,
	  PB | E_LIM | E_DIAG, 0 },
	{ "charge_mode", "Charge mode", "limits.mode", NULL, NULL, NULL, -1, PB | E_LIM, 0 },
	{ "ir", "Internal resistance", "ir_mohm", NULL, "mΩ", "measurement", 2, E_PACK | E_DIAG | E_HEALTH,
	  BMS_HAS_VOLTAGE | BMS_HAS_CURRENT },
	{ "ir_rise", "Resistance rise in 30 days", "ir_rise_pct", NULL, "%", "measurement", 1,
	  E_PACK | E_DIAG | E_HEALTH, BMS_HAS_VOLTAGE | BMS_HAS_CURRENT },
	{ "weak_cell", "Weak cell", "weak_cell.cell", NULL, NULL, NULL, -1, E_PACK | E_DIAG | E_HEALTH,
	  BMS_HAS_CELLS | BMS_HAS_CURRENT },
	{ "weak_cell_deficit", "Weak cell capacity deficit", "weak_cell.capacity_deficit_pct", NULL, "%",
	  "measurement", 1, E_PACK | E_DIAG | E_HEALTH, BMS_HAS_CELLS | BMS_HAS_CURRENT },
	{ "spread_full", "Cell spread at full", "imbalance.spread_full_mv", "voltage", "mV", "measurement", 0,
	  E_PACK | E_DIAG | E_HEALTH, BMS_HAS_CELLS | BMS_HAS_CURRENT },
	{ "spread_rest", "Cell spread at rest", "imbalance.spread_rest_mv", "voltage", "mV", "measurement", 0,
	  E_PACK | E_DIAG | E_HEALTH, BMS_HAS_CELLS | BMS_HAS_CURRENT },
	{ "spread_full_trend", "Cell spread at full trend", "imbalance.spread_full_trend_mv_day", NULL, "mV/d",
	  "measurement", 2, E_PACK | E_DIAG | E_HEALTH, BMS_HAS_CELLS | BMS_HAS_CURRENT },
	{ "spread_rest_trend", "Cell spread at rest trend", "imbalance.spread_rest_trend_mv_day", NULL, "mV/d",
	  "measurement", 2, E_PACK | E_DIAG | E_HEALTH, BMS_HAS_CELLS | BMS_HAS_CURRENT },
	{ "charge_limit_reason", "Charge limit reason", "limits.ccl_reason", NULL, NULL, NULL, -1,
	  PB | E_LIM | E_DIAG, 0 },
	{ "discharge_limit_reason", "Discharge limit reason", "limits.dcl_reason", NULL, NULL, NULL, -1,
	  PB | E_LIM | E_DIAG, 0 },
	{ "charge_allowed", "Charge allowed", "limits.charge_allowed", "battery_charging", NULL, NULL, -1,
	  PB | E_LIM | E_BINARY, 0 },
	{ "discharge_allowed", "Discharge allowed", "limits.discharge_allowed", "power", NULL, NULL, -1,
	  PB | E_LIM | E_BINARY, 0 },
	{ "force_charge", "Force charge", "limits.force_charge", NULL, NULL, NULL, -1,
	  PB | E_LIM | E_BINARY | E_DIAG, 0 },
	{ "full_charge_request", "Full charge request", "limits.full_charge_request", NULL, NULL, NULL, -1,
	  PB | E_LIM | E_BINARY | E_DIAG, 0 },
	{ "limit_exceeded", "Limit exceeded", "limits.limit_exceeded", "problem", NULL, NULL, -1,
	  PB | E_LIM | E_BINARY, 0 },
	{ "modbus_clients", "Modbus clients", "modbus_clients", NULL, NULL, "measurement", 0, E_GW | E_DIAG, 0 },
	{ "mqtt_reconnects", "MQTT reconnects", "mqtt_reconnects", NULL, NULL, "total_increasing", 0,
	  E_GW | E_DIAG, 0 },
	{ "started", "Started", "started", "timestamp", NULL, NULL, -1, E_GW | E_DIAG, 0 },
	{ "version", "Version", "version", NULL, NULL, NULL, -1, E_GW | E_DIAG, 0 },
};
#define NENTS (sizeof(ents) / sizeof(ents[0]))

/* What one unit is, for its configs. */
struct unit {
	const struct conf *c;
	const char *name;          /* pack name, "bank" or "gateway" */
	unsigned kind;             /* E_PACK, E_BANK or E_GW */
	const struct bms_driver *drv; /* packs */
	bool control;              /* packs: MQTT commands are allowed */
	gw_disc_emit emit;
	void *ctx;
};

void gw_disc_id(const char *site, const char *client_id, char *out, unsigned cap)
{
	if (site[0]) /* two sites on one Home Assistant never share an id */
		snprintf(out, cap, "bmsgw_%s_%s", site, client_id);
	else
		snprintf(out, cap, "bmsgw_%s", client_id);
}

void gw_disc_gateway_id(const struct conf *c, char *out, unsigned cap)
{
	gw_disc_id(c->gw.site, c->mqtt.client_id, out, cap);
}

/* A device's name: "NAME", or "SITE NAME" with [gateway] site. */
static void device_name(FILE *o, const struct conf *c, const char *name)
{
	char n[CONF_ID_MAX + 96];
	if (c->gw.site[0])
		snprintf(n, sizeof(n), "%s %s", c->gw.site, name);
	else
		snprintf(n, sizeof(n), "%s", name);
	fputs(",\"name\":", o);
	gw_json_str(o, n);
}

bool gw_disc_control(const struct conf *c, const struct conf_pack *p)
{
	return c->mqtt.control && p->control && p->driver && p->driver->control;
}

static const char *component(unsigned flags)
{
	return (flags & E_SWITCH) ? "switch" : (flags & E_BINARY) ? "binary_sensor" : "sensor";
}

/* The discovery topic of entity key of unit `unit`:
 * PREFIX/COMPONENT/bmsgw_CLIENT_UNIT/KEY/config. */
static void config_topic(const struct conf *c, const char *comp, const char *unit, const char *key, char *out,
			 size_t cap)
{
	char gid[160];
	gw_disc_gateway_id(c, gid, sizeof(gid));
	snprintf(out, cap, "%s/%s/%s_%s/%s/config", c->mqtt.discovery_prefix, comp, gid, unit, key);
}

/* A config's beginning: {"name":NAME,"unique_id":"bmsgw_CLIENT_UNIT_KEY". */
static void config_head(FILE *o, const struct unit *u, const char *key, const char *name)
{
	char gid[160];
	gw_disc_gateway_id(u->c, gid, sizeof(gid));
	fprintf(o, "{\"name\":");
	gw_json_str(o, name);
	fprintf(o, ",\"unique_id\":\"%s_%s_%s\"", gid, u->name, key);
}

static void str_field(FILE *o, const char *key, const char *v)
{
	fprintf(o, ",\"%s\":", key);
	gw_json_str(o, v);
}

/* The "device" object of unit u. */
static void device(FILE *o, const struct unit *u)
{
	char gid[160];
	gw_disc_gateway_id(u->c, gid, sizeof(gid));
	fprintf(o, ",\"device\":{\"identifiers\":[");
	if (u->kind == E_GW) {
		gw_json_str(o, gid);
		fprintf(o, "]");
		device_name(o, u->c, u->c->mqtt.client_id);
		str_field(o, "manufacturer", "bmsgw");
		str_field(o, "model", "BMS to Modbus TCP and MQTT gateway");
		str_field(o, "sw_version", BMSGW_VERSION);
	} else {
		fprintf(o, "\"%s_%s\"]", gid, u->name);
		if (u->kind == E_BANK) {
			char n[96];
			snprintf(n, sizeof(n), "%s bank", u->c->mqtt.client_id);
			device_name(o, u->c, n);
			str_field(o, "manufacturer", "bmsgw");
			str_field(o, "model", u->c->bank.nstrings ? "bank of strings of packs in series"
								  : "bank of parallel packs");
		} else {
			device_name(o, u->c, u->name);
			str_field(o, "manufacturer", u->drv->vendor);
			str_field(o, "model", u->drv->description);
		}
		str_field(o, "via_device", gid);
	}
	fprintf(o, "}");
}

static void tail(FILE *o, const struct unit *u, bool unit_avail);
static void string_configs(const struct unit *u);
static void clear_strings(const struct conf *c, int from, int to, unsigned flags, gw_disc_emit emit, void *ctx);
static int string_key(const char *key, size_t len, bool *is_lim);

/* A config being written: config_begin() .. config_end(). */
struct cfg {
	FILE *o;
	char *buf;
	size_t len;
	char topic[512];
};

/* The config of unit u's entity key (component comp), named name: its
 * stream, the head written; NULL when out of memory (nothing to emit). */
static FILE *config_begin(struct cfg *f, const struct unit *u, const char *comp, const char *key, const char *name)
{
	config_topic(u->c, comp, u->name, key, f->topic, sizeof(f->topic));
	f->buf = NULL;
	f->len = 0;
	f->o = open_memstream(&f->buf, &f->len);
	if (f->o)
		config_head(f->o, u, key, name);
	return f->o;
}

/* Its tail (the unit's availability too with unit_avail), emitted. */
static void config_end(struct cfg *f, const struct unit *u, bool unit_avail)
{
	tail(f->o, u, unit_avail);
	if (fclose(f->o) == 0 && f->buf)
		u->emit(u->ctx, f->topic, f->buf);
	free(f->buf);
}

/* What an entity that writes has: its state from P/NAME/state's field,
 * its command topic P/NAME/set/SETTING, never optimistic. */
static void command_fields(FILE *o, const struct unit *u, const char *field, const char *setting)
{
	const struct conf_mqtt *m = &u->c->mqtt;
	char t[400];
	snprintf(t, sizeof(t), "%s/%s/state", m->topic_prefix, u->name);
	str_field(o, "state_topic", t);
	fprintf(o, ",\"value_template\":\"{{ value_json.%s }}\"", field);
	snprintf(t, sizeof(t), "%s/%s/set/%s", m->topic_prefix, u->name, setting);
	str_field(o, "command_topic", t);
	fprintf(o, ",\"optimistic\":false,\"retain\":false,\"qos\":1");
}

/* One config: entity e (or a numbered one: key/name/field given). */
static void config(const struct unit *u, const struct ent *e, const char *key, const char *name, const char *field,
		   bool enabled)
{
	const struct conf_mqtt *m = &u->c->mqtt;
	struct cfg f;
	FILE *o = config_begin(&f, u, component(e->flags), key, name);
	if (!o)
		return;
	fprintf(o, ",\"state_topic\":");
	char st[400];
	snprintf(st, sizeof(st), "%s/%s%s", m->topic_prefix, u->name, u->kind == E_GW ? "" : "/state");
	gw_json_str(o, st);
	fprintf(o, ",\"value_template\":\"{{ value_json.%s }}\"", field);
	if (e->flags & E_BINARY)
		fprintf(o, ",\"payload_on\":\"True\",\"payload_off\":\"False\"");
	if (e->flags & E_SWITCH) {
		/* the state is the BMS's read-back, never assumed from the command */
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "%s/%s/set/%s", m->topic_prefix, u->name, field);
		fprintf(o, ",\"command_topic\":");
		gw_json_str(o, cmd);
		fprintf(o, ",\"payload_on\":\"ON\",\"payload_off\":\"OFF\",\"state_on\":\"True\","
			   "\"state_off\":\"False\",\"optimistic\":false,\"retain\":false,\"qos\":1,"
			   "\"entity_category\":\"config\"");
	}
	if (e->dclass)
		str_field(o, "device_class", e->dclass);
	if (e->unit)
		str_field(o, "unit_of_measurement", e->unit);
	if (e->sclass)
		str_field(o, "state_class", e->sclass);
	if (e->prec >= 0)
		fprintf(o, ",\"suggested_display_precision\":%d", e->prec);
	if (e->flags & E_DIAG)
		fprintf(o, ",\"entity_category\":\"diagnostic\"");
	if (!enabled)
		fprintf(o, ",\"enabled_by_default\":false");
	config_end(&f, u, true);
}

/* Availability (the gateway's status and, with unit_avail, the unit's
 * freshness), device and origin: the end of every config. */
static void tail(FILE *o, const struct unit *u, bool unit_avail)
{
	const struct conf_mqtt *m = &u->c->mqtt;
	char status[300];
	snprintf(status, sizeof(status), "%s/status", m->topic_prefix);
	if (u->kind == E_GW || !unit_avail) {
		fprintf(o, ",\"availability_topic\":");
		gw_json_str(o, status);
	} else {
		char avail[400];
		snprintf(avail, sizeof(avail), "%s/%s/availability", m->topic_prefix, u->name);
		fprintf(o, ",\"availability\":[{\"topic\":");
		gw_json_str(o, status);
		fprintf(o, "},{\"topic\":");
		gw_json_str(o, avail);
		fprintf(o, "}],\"availability_mode\":\"all\"");
	}
	device(o, u);
	fprintf(o, ",\"origin\":{\"name\":\"bmsgw\",\"sw_version\":\"%s\"}}", BMSGW_VERSION);
}

/* The unit counts the charge ([soc] count: a pack's own, the bank's). */
static bool unit_counts(const struct unit *u)
{
	if (u->kind == E_BANK)
		return u->c->soc.count;
	for (int i = 0; u->kind == E_PACK && i < u->c->npacks; i++)
		if (strcmp(u->c->packs[i].name, u->name) == 0)
			return u->c->packs[i].soc.count;
	return false;
}

/* What a pack carries: its driver's values, and the capacities the one
 * rule gives it (engine/capacity.h: a configured [soc] capacity, remaining
 * over SOC); any other unit everything. */
static uint32_t unit_provides(const struct unit *u)
{
	double cap = 0;
	if (!u->drv)
		return ~0u;
	for (int i = 0; u->kind == E_PACK && i < u->c->npacks; i++)
		if (strcmp(u->c->packs[i].name, u->name) == 0)
			cap = u->c->packs[i].soc.capacity;
	return u->drv->provides | gw_capacity_provides(u->drv->provides, cap);
}

/* Every entity of the table this unit has, then the numbered ones. */
static void unit_configs(const struct unit *u, unsigned ncells, unsigned ntemps)
{
	uint32_t provides = unit_provides(u);
	for (size_t i = 0; i < NENTS; i++) {
		const struct ent *e = &ents[i];
		if (!(e->flags & u->kind) || ((e->flags & E_ANY) ? !(e->needs & provides) : (e->needs & provides) != e->needs))
			continue;
		if ((e->flags & E_SWITCH) && !u->control)
			continue;
		if ((e->flags & E_LIM) && !u->c->limits.enabled)
			continue;
		if ((e->flags & E_SOC) && !unit_counts(u))
			continue;
		if ((e->flags & E_HEALTH) && !u->c->health.enabled)
			continue;
		config(u, e, e->key, e->name, e->field, !(e->flags & E_OFF));
	}
	if (u->kind == E_GW)
		return;
	static const struct ent temp = { "temperature", "Temperature", "temps_c", "temperature", "°C",
					 "measurement", 1, PB, BMS_HAS_TEMPS };
	for (unsigned n = 1; n <= ntemps && n <= BMS_MAX_TEMPS && (provides & BMS_HAS_TEMPS); n++) {
		char key[32], name[64], field[32];
		snprintf(key, sizeof(key), "temperature_%u", n);
		if (u->kind == E_BANK && (int)n <= u->c->bank.npacks)
			snprintf(name, sizeof(name), "Temperature %s", u->c->packs[u->c->bank.pack_idx[n - 1]].name);
		else
			snprintf(name, sizeof(name), "Temperature %u", n);
		snprintf(field, sizeof(field), "temps_c[%u]", n - 1);
		config(u, &temp, key, name, field, true);
	}
	const struct conf_mqtt *m = &u->c->mqtt;
	if (u->kind != E_PACK || m->cells == CONF_CELLS_OFF || !(provides & BMS_HAS_CELLS))
		return;
	static const struct ent cell = { "cell", "Cell", "cells_mv", "voltage", "mV", "measurement", 0,
					 E_PACK | E_DIAG, BMS_HAS_CELLS };
	static const struct ent res = { "cell_resistance", "Cell resistance", "cell_res_mohm", NULL, "mΩ",
					"measurement", 1, E_PACK | E_DIAG, BMS_HAS_CELL_RES };
	static const struct ent ir = { "cell_ir", "Cell IR", "cells_ir_mohm", NULL, "mΩ", "measurement", 2,
				       E_PACK | E_DIAG | E_HEALTH, BMS_HAS_CELLS };
	for (unsigned n = 1; n <= ncells && n <= BMS_MAX_CELLS; n++) {
		char key[32], name[64], field[32];
		snprintf(key, sizeof(key), "cell_%02u", n);
		snprintf(name, sizeof(name), "Cell %02u", n);
		snprintf(field, sizeof(field), "cells_mv[%u]", n - 1);
		config(u, &cell, key, name, field, m->cells == CONF_CELLS_ENABLED);
		if (u->c->health.enabled && (provides & BMS_HAS_CURRENT)) {
			/* the estimate (engine/health.h), beside what a BMS measures itself */
			snprintf(key, sizeof(key), "cell_ir_%02u", n);
			snprintf(name, sizeof(name), "Cell %02u IR (estimated)", n);
			snprintf(field, sizeof(field), "cells_ir_mohm[%u]", n - 1);
			config(u, &ir, key, name, field, m->cells == CONF_CELLS_ENABLED);
		}
		if (!(provides & BMS_HAS_CELL_RES))
			continue;
		snprintf(key, sizeof(key), "cell_resistance_%02u", n);
		snprintf(name, sizeof(name), "Cell %02u resistance", n);
		snprintf(field, sizeof(field), "cell_res_mohm[%u]", n - 1);
		config(u, &res, key, name, field, m->cells == CONF_CELLS_ENABLED);
	}
}

/* The BMS's own settings its protocol reads (struct bms_driver.settings,
 * bms/settings.h), read only: a diagnostic sensor each, disabled by
 * default (there are many), key bms_<name>, state settings_bms.<name>.value. */
static const char *bms_setting_dclass(const char *unit)
{
	if (strcmp(unit, "V") == 0)
		return "voltage";
	if (strcmp(unit, "A") == 0)
		return "current";
	if (strcmp(unit, "°C") == 0)
		return "temperature";
	if (strcmp(unit, "s") == 0)
		return "duration";
	return NULL;
}

/* The BMS settings a pack can give (can: its driver's, an mqtt-json pack's
 * map's), each a diagnostic sensor. */
static void bms_setting_configs(const struct unit *u, uint64_t can)
{
	if (u->kind != E_PACK)
		return;
	for (int k = 0; k < BMS_SET_COUNT; k++) {
		if (!(can & BMS_SET_BIT(k)))
			continue;
		const char *unit = bms_settings_unit((enum bms_set_key)k);
		struct ent e = { NULL, NULL, NULL, bms_setting_dclass(unit), unit[0] ? unit : NULL, NULL,
				 bms_settings_decimals((enum bms_set_key)k), E_PACK | E_DIAG | E_OFF, 0 };
		char key[48], field[64];
		snprintf(key, sizeof(key), "bms_%s", bms_settings_name((enum bms_set_key)k));
		snprintf(field, sizeof(field), "settings_bms.%s.value", bms_settings_name((enum bms_set_key)k));
		config(u, &e, key, bms_settings_label((enum bms_set_key)k), field, false);
	}
}

/* The charge settings (gateway/engine/settings.h) as entities: a number
 * each (a switch for force_charge), written on P/NAME/set/<setting>, read
 * from the state's settings.<setting>.value.  Keys start with set_ (ids
 * starting min_ / max_ are what Domoticz drops). */
enum { S_NUM, S_SWITCH };
struct set_ent {
	const char *key, *name, *setting, *dclass, *unit;
	int kind;
	double min, max, step;  /* max < 0: the unit's maximum current (caps) */
	bool config;            /* entity_category config */
};
static const struct set_ent set_ents[] = {
	{ "set_max_soc", "Charge stop SOC", "max_soc", NULL, "%", S_NUM, 1, 100, 1, false },
	{ "set_max_soc_hysteresis", "Charge resume hysteresis", "max_soc_hysteresis", NULL, "%", S_NUM, 1, 50, 1,
	  true },
	{ "set_min_soc", "Discharge stop SOC", "min_soc", NULL, "%", S_NUM, 0, 99, 1, false },
	{ "set_min_soc_hysteresis", "Discharge resume hysteresis", "min_soc_hysteresis", NULL, "%", S_NUM, 1, 50, 1,
	  true },
	{ "set_ccl_cap", "Charge current cap", "ccl_cap", "current", "A", S_NUM, 0, -1, 0.1, false },
	{ "set_dcl_cap", "Discharge current cap", "dcl_cap", "current", "A", S_NUM, 0, -2, 0.1, false },
	{ "set_cap_lease", "Current cap lease", "cap_lease", "duration", "s", S_NUM, 10, 3600, 1, true },
	{ "set_full_charge_days", "Full charge interval", "full_charge_days", "duration", "d", S_NUM, 0, 3650, 1,
	  true },
	{ "set_force_charge", "Force charge request", "force_charge", NULL, NULL, S_SWITCH, 0, 0, 0, false },
};
#define NSETS (sizeof(set_ents) / sizeof(set_ents[0]))

bool gw_disc_settings(const struct conf *c)
{
	return c->mqtt.control && c->limits.enabled;
}

bool gw_disc_is_setting(const char *key, size_t len)
{
	for (size_t i = 0; i < NSETS; i++)
		if (strlen(set_ents[i].key) == len && memcmp(set_ents[i].key, key, len) == 0)
			return true;
	return false;
}

/* A pack's maximum current, A, as the limit engine rates it (its own, else
 * [limits]'); `discharge` for the discharge one. */
static double pack_max_a(const struct conf *c, const struct conf_pack *p, bool discharge)
{
	double own = discharge ? p->max_discharge_current : p->max_charge_current;
	return own > 0 ? own : discharge ? c->limits.max_discharge_current : c->limits.max_charge_current;
}

/* The largest cap a unit takes, A (the bank: the sum of its packs'). */
static double unit_max_a(const struct unit *u, bool discharge)
{
	double sum = 0;
	for (int i = 0; i < u->c->npacks; i++) {
		const struct conf_pack *p = &u->c->packs[i];
		if (u->kind == E_PACK && strcmp(p->name, u->name) == 0)
			return pack_max_a(u->c, p, discharge);
	}
	for (int k = 0; u->kind == E_BANK && k < u->c->bank.npacks; k++)
		sum += pack_max_a(u->c, &u->c->packs[u->c->bank.pack_idx[k]], discharge);
	return sum > 0 && sum < 6553.4 ? sum : 6553.4;
}

static void set_config(const struct unit *u, const struct set_ent *e)
{
	char field[64];
	struct cfg f;
	FILE *o = config_begin(&f, u, e->kind == S_SWITCH ? "switch" : "number", e->key, e->name);
	if (!o)
		return;
	snprintf(field, sizeof(field), "settings.%s.value", e->setting);
	command_fields(o, u, field, e->setting);
	if (e->kind == S_SWITCH) {
		fprintf(o, ",\"payload_on\":\"ON\",\"payload_off\":\"OFF\",\"state_on\":\"1\",\"state_off\":\"0\"");
	} else {
		double max = e->max >= 0 ? e->max : unit_max_a(u, e->max < -1.5);
		fprintf(o, ",\"min\":%g,\"max\":%g,\"step\":%g,\"mode\":\"box\"", e->min, max, e->step);
		str_field(o, "unit_of_measurement", e->unit);
	}
	if (e->dclass)
		str_field(o, "device_class", e->dclass);
	if (e->config)
		fprintf(o, ",\"entity_category\":\"config\"");
	config_end(&f, u, false); /* a stale unit's settings can still be written */
}

/* The settings entities of a pack or the bank, when they may be written. */
static void set_configs(const struct unit *u)
{
	if (u->kind == E_GW || !gw_disc_settings(u->c))
		return;
	for (size_t i = 0; i < NSETS; i++)
		set_config(u, &set_ents[i]);
}

void gw_disc_clear_settings(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx)
{
	char topic[512];
	for (size_t i = 0; i < NSETS; i++) {
		config_topic(c, set_ents[i].kind == S_SWITCH ? "switch" : "number", name, set_ents[i].key, topic,
			     sizeof(topic));
		emit(ctx, topic, "");
	}
}

/* A BMS's own settings that may be written over MQTT (bms/setwrite.h,
 * poll/bmsset.h): a number each in the key's unit, the balancer a switch,
 * key bms_KEY_set, category config, commanding P/NAME/set/bms_KEY and
 * showing what the BMS last reported (the state's settings_bms.KEY.value;
 * soc: soc_estimate.bms, the BMS's own SOC, not the one counted); min, max
 * and step the key's effective range on the pack's protocol within its
 * chemistry.  Available with the gateway and the pack: a stale pack's
 * change is refused. */
uint32_t gw_disc_bms_writes(const struct conf *c, const struct conf_pack *p)
{
	if (!c->mqtt.control || !p->driver || !p->driver->writer)
		return 0;
	return (uint32_t)p->bms_settings & BMS_W_ALL;
}

static void bms_write_key(enum bms_wkey k, char *out, size_t cap)
{
	snprintf(out, cap, "bms_%s_set", bms_wkey_name(k));
}

static const char *bms_write_component(enum bms_wkey k)
{
	return bms_wkey_switch(k) ? "switch" : "number";
}

/* Its name: "Balancer", "Heating" (the heater's binary sensor is
 * "Heater"), "Set SOC", else "Set " and the setting's label
 * ("Set cell over-voltage protection"), apart from the read-only
 * sensor's. */
static void bms_write_name(enum bms_wkey k, char *out, size_t cap)
{
	enum bms_set_key r = bms_wkey_read(k);
	if (bms_wkey_switch(k) || r >= BMS_SET_COUNT) {
		snprintf(out, cap, "%s", k == BMS_W_BALANCER ? "Balancer" : k == BMS_W_HEATER ? "Heating" : "Set SOC");
		return;
	}
	const char *label = bms_settings_label(r);
	size_t n = strlen(label), sl = strlen(" setting");
	if (n > sl && strcmp(label + n - sl, " setting") == 0)
		n -= sl; /* "Capacity setting" */
	snprintf(out, cap, "Set %c%.*s", tolower((unsigned char)label[0]), (int)n - 1, label + 1);
}

static void bms_write_config(const struct unit *u, const struct conf_pack *p, enum bms_wkey k)
{
	char key[48], name[96], field[64], setting[48];
	bms_write_key(k, key, sizeof(key));
	bms_write_name(k, name, sizeof(name));
	struct cfg f;
	FILE *o = config_begin(&f, u, bms_write_component(k), key, name);
	if (!o)
		return;
	if (k == BMS_W_SOC)
		snprintf(field, sizeof(field), "soc_estimate.bms");
	else
		snprintf(field, sizeof(field), "settings_bms.%s.value", bms_settings_name(bms_wkey_read(k)));
	snprintf(setting, sizeof(setting), "bms_%s", bms_wkey_name(k));
	command_fields(o, u, field, setting);
	if (bms_wkey_switch(k)) {
		fprintf(o, ",\"payload_on\":\"ON\",\"payload_off\":\"OFF\",\"state_on\":\"1\",\"state_off\":\"0\"");
	} else {
		double lo, hi, step;
		const char *unit = bms_wkey_unit(k);
		gw_wset_range(p->driver->writer, k, p->soc.chemistry, &lo, &hi, &step);
		fprintf(o, ",\"min\":%.10g,\"max\":%.10g,\"step\":%.10g,\"mode\":\"box\"", lo, hi, step);
		str_field(o, "unit_of_measurement", unit);
		const char *dc = strcmp(unit, "%") == 0 ? "battery" : bms_setting_dclass(unit);
		if (dc)
			str_field(o, "device_class", dc);
	}
	fprintf(o, ",\"entity_category\":\"config\"");
	config_end(&f, u, true); /* a stale pack's change is refused: unavailable */
}

void gw_disc_clear_bms_writes(const struct conf *c, const char *name, uint32_t keys, gw_disc_emit emit, void *ctx)
{
	char topic[512], key[48];
	for (int k = 0; k < BMS_W_COUNT; k++) {
		if (!(keys & BMS_W_BIT(k)))
			continue;
		bms_write_key((enum bms_wkey)k, key, sizeof(key));
		config_topic(c, bms_write_component((enum bms_wkey)k), name, key, topic, sizeof(topic));
		emit(ctx, topic, "");
	}
}

int gw_disc_bms_write_key(const char *key, size_t len)
{
	char k[48];
	for (int i = 0; i < BMS_W_COUNT; i++) {
		bms_write_key((enum bms_wkey)i, k, sizeof(k));
		if (strlen(k) == len && memcmp(k, key, len) == 0)
			return i;
	}
	return -1;
}

void gw_disc_pack(const struct conf *c, const struct conf_pack *p, unsigned ncells, unsigned ntemps,
		  gw_disc_emit emit, void *ctx)
{
	struct unit u = { c, p->name, E_PACK, p->driver, gw_disc_control(c, p), emit, ctx };
	unit_configs(&u, ncells, ntemps);
	if (p->driver)
		bms_setting_configs(&u, p->driver->settings | (p->is_mqtt ? bms_jsonmap_settings(&p->fields.map) : 0));
	uint32_t w = gw_disc_bms_writes(c, p);
	for (int k = 0; k < BMS_W_COUNT; k++)
		if (w & BMS_W_BIT(k))
			bms_write_config(&u, p, (enum bms_wkey)k);
	set_configs(&u);
}

void gw_disc_bank(const struct conf *c, unsigned ntemps, gw_disc_emit emit, void *ctx)
{
	struct unit u = { c, "bank", E_BANK, NULL, false, emit, ctx };
	unit_configs(&u, 0, ntemps);
	string_configs(&u);
	set_configs(&u);
}

/* The sensors of each string of a bank of packs in series ([bank]
 * strings), on the bank's device: key stringN_KEY, name "String N " and the
 * entity's name in lower case, field strings[N-1].FIELD of the bank's state
 * (null while the string is not fresh: unknown).  The bank's entities of
 * these keys (ents, one definition of each quantity), and a string's own. */
static const char *const string_shared[] = {
	"voltage", "current", "soc", "charge_voltage_limit", "charge_current_limit", "discharge_current_limit",
};
static const struct ent string_own[] = {
	{ "online", "online", "online", "connectivity", NULL, NULL, -1, E_BANK | E_BINARY | E_DIAG, 0 },
	{ "current_deviation", "current deviation", "current_deviation", "problem", NULL, NULL, -1,
	  E_BANK | E_BINARY, 0 },
};
#define NSHARED (sizeof(string_shared) / sizeof(string_shared[0]))
#define NSTRING_ENTS (NSHARED + sizeof(string_own) / sizeof(string_own[0]))

/* A string's entity i (< NSTRING_ENTS); NULL only for a key of
 * string_shared that ents lacks (test_strings_out asks for each). */
static const struct ent *string_ent(size_t i)
{
	if (i >= NSHARED)
		return &string_own[i - NSHARED];
	for (size_t j = 0; j < NENTS; j++)
		if (strcmp(ents[j].key, string_shared[i]) == 0)
			return &ents[j];
	return NULL;
}

static void string_configs(const struct unit *u)
{
	for (int s = 0; s < u->c->bank.nstrings; s++)
		for (size_t i = 0; i < NSTRING_ENTS; i++) {
			const struct ent *e = string_ent(i);
			if (!e || ((e->flags & E_LIM) && !u->c->limits.enabled))
				continue;
			char key[64], name[96], field[64];
			snprintf(key, sizeof(key), "string%d_%s", s + 1, e->key);
			snprintf(name, sizeof(name), "String %d %c%s", s + 1, tolower((unsigned char)e->name[0]),
				 e->name + 1);
			snprintf(field, sizeof(field), "strings[%d].%s", s, e->field);
			config(u, e, key, name, field, true);
		}
}

/* Empty configs for the sensors of strings [from, to) (flags: only the
 * entities carrying one of them). */
static void clear_strings(const struct conf *c, int from, int to, unsigned flags, gw_disc_emit emit, void *ctx)
{
	char topic[512], key[64];
	for (int s = from; s < to && s < CONF_MAX_PACKS; s++)
		for (size_t i = 0; i < NSTRING_ENTS; i++) {
			const struct ent *e = string_ent(i);
			if (!e || !(e->flags & flags))
				continue;
			snprintf(key, sizeof(key), "string%d_%s", s + 1, e->key);
			config_topic(c, component(e->flags), "bank", key, topic, sizeof(topic));
			emit(ctx, topic, "");
		}
}

void gw_disc_clear_strings(const struct conf *c, int from, gw_disc_emit emit, void *ctx)
{
	clear_strings(c, from, c->bank.nstrings, E_BANK, emit, ctx);
}

/* A key (len bytes) "stringN_KEY" of the bank: the string's number (1-based)
 * and whether KEY is an entity of a string's (is_lim: a limit's); 0 if not. */
static int string_key(const char *key, size_t len, bool *is_lim)
{
	size_t pl = strlen("string"), d = pl;
	if (len <= pl || memcmp(key, "string", pl) != 0)
		return 0;
	int n = 0;
	while (d < len && key[d] >= '0' && key[d] <= '9' && n < 1000)
		n = n * 10 + (key[d++] - '0');
	if (d == pl || d >= len || key[d] != '_' || n < 1)
		return 0;
	for (size_t i = 0; i < NSTRING_ENTS; i++) {
		const struct ent *e = string_ent(i);
		if (e && strlen(e->key) == len - d - 1 && memcmp(e->key, key + d + 1, len - d - 1) == 0) {
			*is_lim = (e->flags & E_LIM) != 0;
			return n;
		}
	}
	return 0;
}

void gw_disc_gateway(const struct conf *c, gw_disc_emit emit, void *ctx)
{
	struct unit u = { c, "gateway", E_GW, NULL, false, emit, ctx };
	unit_configs(&u, 0, 0);
}

void gw_disc_clear_switches(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx)
{
	char topic[512], gid[160];
	gw_disc_gateway_id(c, gid, sizeof(gid));
	for (size_t i = 0; i < NENTS; i++)
		if (ents[i].flags & E_SWITCH) {
			snprintf(topic, sizeof(topic), "%s/switch/%s_%s/%s/config", c->mqtt.discovery_prefix, gid, name,
				 ents[i].key);
			emit(ctx, topic, "");
		}
}

/* Empty configs for the entities of a unit that carry one of `flags`. */
static void clear_flagged(const struct conf *c, const char *name, unsigned flags, gw_disc_emit emit, void *ctx)
{
	char topic[512];
	for (size_t i = 0; i < NENTS; i++)
		if (ents[i].flags & flags) {
			config_topic(c, component(ents[i].flags), name, ents[i].key, topic, sizeof(topic));
			emit(ctx, topic, "");
		}
}

void gw_disc_clear_limits(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx)
{
	clear_flagged(c, name, E_LIM, emit, ctx);
	if (strcmp(name, "bank") == 0)
		clear_strings(c, 0, c->bank.nstrings, E_LIM, emit, ctx);
	gw_disc_clear_settings(c, name, emit, ctx); /* they act through [limits] */
}

void gw_disc_clear_counted(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx)
{
	clear_flagged(c, name, E_SOC, emit, ctx);
}

bool gw_disc_gone_with_conf(const struct conf *c, const char *name, const char *key, size_t len)
{
	const struct conf_pack *p = NULL;
	for (int i = 0; i < c->npacks; i++)
		if (strcmp(c->packs[i].name, name) == 0)
			p = &c->packs[i];
	bool counts = p ? p->soc.count : c->soc.count, lim = false;
	int wk = gw_disc_bms_write_key(key, len);
	if (wk >= 0) /* a BMS setting's entity: gone with its key, [mqtt] control or its pack */
		return !p || !(gw_disc_bms_writes(c, p) & BMS_W_BIT(wk));
	if (!c->health.enabled && len > 8 && memcmp(key, "cell_ir_", 8) == 0)
		return true;            /* a cell's estimated resistance without [health] */
	int sn = p ? 0 : string_key(key, len, &lim);
	if (sn) /* a string's sensor: gone with its string, or with [limits] */
		return !c->bank.enabled || sn > c->bank.nstrings || (lim && !c->limits.enabled);
	for (size_t i = 0; i < NENTS; i++)
		if (strlen(ents[i].key) == len && memcmp(ents[i].key, key, len) == 0)
			return ((ents[i].flags & E_SOC) && !counts) || ((ents[i].flags & E_LIM) && !c->limits.enabled) ||
			       ((ents[i].flags & E_HEALTH) && !c->health.enabled);
	return false;
}

void gw_disc_clear(const struct conf *c, const char *name, gw_disc_emit emit, void *ctx)
{
	char topic[512], gid[160];
	gw_disc_gateway_id(c, gid, sizeof(gid));
	clear_flagged(c, name, E_PACK | E_BANK, emit, ctx);
	if (strcmp(name, "bank") == 0)
		clear_strings(c, 0, c->bank.nstrings, E_BANK, emit, ctx);
	gw_disc_clear_settings(c, name, emit, ctx);
	gw_disc_clear_bms_writes(c, name, BMS_W_ALL, emit, ctx);
	for (unsigned n = 1; n <= BMS_MAX_TEMPS; n++) {
		snprintf(topic, sizeof(topic), "%s/sensor/%s_%s/temperature_%u/config", c->mqtt.discovery_prefix, gid,
			 name, n);
		emit(ctx, topic, "");
	}
	for (int k = 0; k < BMS_SET_COUNT; k++) {
		snprintf(topic, sizeof(topic), "%s/sensor/%s_%s/bms_%s/config", c->mqtt.discovery_prefix, gid, name,
			 bms_settings_name((enum bms_set_key)k));
		emit(ctx, topic, "");
	}
	for (unsigned n = 1; n <= BMS_MAX_CELLS; n++) {
		snprintf(topic, sizeof(topic), "%s/sensor/%s_%s/cell_%02u/config", c->mqtt.discovery_prefix, gid,
			 name, n);
		emit(ctx, topic, "");
		snprintf(topic, sizeof(topic), "%s/sensor/%s_%s/cell_resistance_%02u/config", c->mqtt.discovery_prefix,
			 gid, name, n);
		emit(ctx, topic, "");
		snprintf(topic, sizeof(topic), "%s/sensor/%s_%s/cell_ir_%02u/config", c->mqtt.discovery_prefix, gid,
			 name, n);
		emit(ctx, topic, "");
	}
}
