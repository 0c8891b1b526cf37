/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/charge_settings.c - the charge settings over MQTT (bmsgw-mqtt(7)
 * "CHARGE SETTINGS", design section 18).
 *
 * P/UNIT/set/<setting> (UNIT a pack's name or "bank"; setting max_soc,
 * max_soc_hysteresis, min_soc, min_soc_hysteresis, force_charge,
 * force_charge_until, ccl_cap, dcl_cap, cap_lease, full_charge_days),
 * subscribed only with [mqtt] control = true (session.c).  The payload is
 * the value in the unit people use: % and days as whole numbers, the caps
 * in A (to 0.1 A, rounded down: a cap only tightens) or "none",
 * force_charge ON / OFF / 1 / 0, force_charge_until unix seconds.  The
 * write goes through gw_unit_settings_write() as a Modbus one does (the
 * same ranges, the tighten-only rule, all or nothing, logged with who)
 * with origin mqtt.  Its outcome goes to P/UNIT/set/result (JSON, not
 * retained): the value now in force, or the refusal and why.  A retained
 * setting is never taken (it would be applied again at every connect) and
 * is cleared.  An empty payload is what clears a retained message (ours
 * too, coming back): it is no command.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../model/json.h"
#include "../engine/settings.h"
#include "mqtt_int.h"

int mq_setting_id(const char *name)
{
	for (int i = 0; i < GW_SET_COUNT; i++)
		if (strcmp(name, gw_settings_name((enum gw_set_id)i)) == 0)
			return i;
	return -1;
}

/* P/UNIT/set/result: {"setting","payload","result","value","origin","message"}. */
static void publish_result(struct gw_mqtt *m, const char *unit, const struct gw_settings *s, enum gw_set_id id,
			   const char *payload, const char *why)
{
	struct mq_result res;
	FILE *o = mq_result_open(&res, gw_settings_name(id), payload, why ? "refused" : "done");
	if (!o)
		return;
	if (s) {
		gw_setting_value_json(o, s, id);
		fprintf(o, ",\"origin\":\"%s\"", gw_settings_origin_name(s->origin[id]));
	} else {
		fputs("null,\"origin\":null", o);
	}
	mq_result_send(m, &res, unit, why);
}

/* A whole number in [0, UINT32_MAX] ("80", also "80.0" as some clients
 * send it). */
static bool whole(const char *t, uint32_t *v)
{
	char *end;
	double x = strtod(t, &end);
	if (end == t || *end || !isfinite(x) || x < 0 || x > 4294967295.0 || x != floor(x))
		return false;
	*v = (uint32_t)x;
	return true;
}

const char *mq_setting_parse(enum gw_set_id id, const char *t, uint32_t *v)
{
	if (id == GW_SET_FORCE) {
		if (strcmp(t, "ON") == 0 || strcmp(t, "1") == 0)
			*v = 1;
		else if (strcmp(t, "OFF") == 0 || strcmp(t, "0") == 0)
			*v = 0;
		else
			return "force_charge takes ON, OFF, 1 or 0";
		return NULL;
	}
	if (gw_settings_is_cap(id)) {
		if (strcmp(t, "none") == 0) {
			*v = GW_SET_CAP_NONE;
			return NULL;
		}
		char *end;
		double a = strtod(t, &end);
		if (end == t || *end || !isfinite(a) || a < 0)
			return "a cap is a current in A (0 or more, to 0.1 A) or none";
		double tenths = a < GW_SET_CAP_NONE / 10.0 ? floor(a * 10 + 1e-6) : GW_SET_CAP_NONE;
		if (tenths >= GW_SET_CAP_NONE)
			return "out of range (a cap is below 6553.5 A)"; /* never "none" by rounding */
		*v = (uint32_t)tenths;
		return NULL;
	}
	if (!whole(t, v))
		return id == GW_SET_FORCE_UNTIL ? "force_charge_until is unix seconds (0: at force_charge_soc + 2 %)"
						: "the value is a whole number";
	return NULL;
}

/* Why gw_unit_settings_write() refused a value of id. */
static const char *refusal(enum gw_set_result r, enum gw_set_id id, bool pack)
{
	static const char *const ranges[GW_SET_COUNT] = {
		"max_soc is 1..100 %", "max_soc_hysteresis is 1..50 %", "min_soc is 0..99 %",
		"min_soc_hysteresis is 1..50 %", "force_charge is 0 or 1", "force_charge_until is unix seconds",
		"ccl_cap is 0..the unit's maximum charge current, or none",
		"dcl_cap is 0..the unit's maximum discharge current, or none", "cap_lease is 10..3600 s",
		"full_charge_days is 0..3650",
	};
	if (r == GW_SET_RANGE)
		return ranges[id];
	if (r != GW_SET_LOOSENS)
		return gw_settings_refusal(r, pack);
	if (id == GW_SET_CCL_CAP)
		return "loosening: above the unit's maximum charge current";
	if (id == GW_SET_DCL_CAP)
		return "loosening: above the unit's maximum discharge current";
	return "loosening: beyond what the configuration allows";
}

/* The message's payload as text (at most 31 bytes; control bytes as ?). */
static void payload_text(const struct mosquitto_message *msg, char *out, size_t cap)
{
	size_t n = (size_t)msg->payloadlen < cap - 1 ? (size_t)msg->payloadlen : cap - 1;
	for (size_t i = 0; i < n; i++) {
		char ch = ((const char *)msg->payload)[i];
		out[i] = ch >= 0x20 && ch < 0x7F ? ch : '?';
	}
	out[n] = '\0';
}

/* Refused before reaching the settings: logged, answered. */
static void refuse(struct gw_mqtt *m, const char *unit, const struct gw_settings *s, enum gw_set_id id,
		   const char *payload, const char *why)
{
	gw_info("settings: mqtt: unit %s: %s \"%s\": refused: %s", unit, gw_settings_name(id), payload, why);
	publish_result(m, unit, s, id, payload, why);
}

void mq_setting(struct gw_mqtt *m, const struct mosquitto_message *msg, const char *unit, int id_)
{
	struct gw *gw = m->gw;
	enum gw_set_id id = (enum gw_set_id)id_;
	char payload[32];
	payload_text(msg, payload, sizeof(payload));
	struct gw_unit u = { NULL, false };
	if (strcmp(unit, "bank") == 0 && gw->conf->bank.enabled)
		u.bank = true;
	else if (!(u.pack = gw_find_pack(gw, unit))) {
		gw_log_keyed(GW_LOG_WARN, "mqtt unknown unit", "mqtt: %s ignored: no unit is called %s", msg->topic,
			     unit);
		return;
	}
	const struct gw_settings *s = gw_unit_settings(gw, &u);
	if (msg->retain) {
		refuse(m, unit, s, id, payload,
		       "a retained setting is never taken (it would be applied again at every connect); it has been cleared");
		mq_clear_topic(m, msg->topic);
		return;
	}
	if (!gw->conf->limits.enabled) {
		refuse(m, unit, NULL, id, payload, "the charge settings act through [limits], which is off");
		return;
	}
	uint32_t v;
	const char *why = (size_t)msg->payloadlen >= sizeof(payload) ? "the payload is too long"
								  : mq_setting_parse(id, payload, &v);
	if (why) {
		refuse(m, unit, s, id, payload, why);
		return;
	}
	enum gw_set_result r = gw_unit_settings_write(gw, &u, id, 1, &v, GW_ORIGIN_MQTT, "mqtt", gw_mono());
	/* a refusal was logged by gw_unit_settings_write() */
	publish_result(m, unit, s, id, payload, r == GW_SET_OK ? NULL : refusal(r, id, u.pack != NULL));
	if (r == GW_SET_OK)
		mq_settings_written(m, u.pack);
}
