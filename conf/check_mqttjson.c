/* SPDX-License-Identifier: MIT */
/* conf/check_mqttjson.c - the checks of an mqtt-json pack (a pack whose
 * messages arrive on an MQTT topic, bms/jsonmap.h): its topic and field
 * map, no port of its own, and the broker it subscribes through, [mqtt]'s,
 * copied into the pack once that section is complete. */
#include "conf_int.h"

#include <stdio.h>
#include <string.h>

#include "../bms/bms.h"

/* Before the port check: an mqtt-json pack's own keys, its port made from
 * its topic; another pack has neither topic nor fields.  false after an error. */
bool conf__mqtt_pack(struct conf_load *x, int i, const char *sect)
{
	struct conf_pack *p = &x->c.packs[i];
	const int *seen = x->pack_seen[i];
	if (!p->driver->messages) {
		int k = seen[K_PK_TOPIC] ? K_PK_TOPIC : seen[K_PK_FIELDS] ? K_PK_FIELDS : -1;
		if (k >= 0) {
			conf__fail(x, seen[k], sect, conf__keys[k].name, "protocol %s reads no MQTT topic (expected no %s "
				   "key: topic and fields are mqtt-json's)", p->driver->name, conf__keys[k].name);
			return false;
		}
		return true;
	}
	if (seen[K_PORT]) {
		conf__fail(x, seen[K_PORT], sect, "port", "an mqtt-json pack has no port: its messages come "
			   "through [mqtt]'s broker (expected topic = and no port)");
		return false;
	}
	if (!seen[K_PK_TOPIC] || !seen[K_PK_FIELDS]) {
		conf__fail(x, p->line, sect, NULL, "missing key \"%s\" (protocol mqtt-json needs topic = the MQTT "
			   "topic its node publishes to, and fields = bmsgw's field:the message's key, ...)",
			   seen[K_PK_TOPIC] ? "fields" : "topic");
		return false;
	}
	const struct bms_jsonmap *m = &p->fields.map;
	if (!bms_jsonmap_has(m, BMS_JF_VOLTAGE) || (!bms_jsonmap_has(m, BMS_JF_SOC) &&
						     !bms_jsonmap_has(m, BMS_JF_CURRENT))) {
		conf__fail(x, seen[K_PK_FIELDS], sect, "fields", "\"%s\" maps no %s (expected at least voltage, and "
			   "soc or current)", p->fields.text, bms_jsonmap_has(m, BMS_JF_VOLTAGE) ? "soc or current"
												  : "voltage");
		return false;
	}
	conf_bfmt(p->port, sizeof(p->port), "mqtt:%s", p->topic);
	p->is_mqtt = true;
	return true;
}

/* After [mqtt]: each mqtt-json pack subscribes through its broker. */
void conf__finish_mqtt_packs(struct conf_load *x)
{
	for (int i = 0; i < x->c.npacks && !x->failed; i++) {
		struct conf_pack *p = &x->c.packs[i];
		if (!p->is_mqtt)
			continue;
		if (!x->c.mqtt.enabled) {
			char sect[CONF_NAME_MAX + 8];
			conf_bfmt(sect, sizeof(sect), "pack.%s", p->name);
			conf__fail(x, x->pack_seen[i][K_PK_TOPIC], sect, "topic", "%s: no broker to subscribe through "
				   "(expected an [mqtt] section: an mqtt-json pack uses its host, port, TLS and "
				   "credentials)", p->topic);
			return;
		}
		p->broker = x->c.mqtt;
	}
}

bool conf_broker_same(const struct conf_mqtt *a, const struct conf_mqtt *b)
{
	return strcmp(a->host, b->host) == 0 && a->port == b->port && a->tls == b->tls &&
	       strcmp(a->ca_file, b->ca_file) == 0 && strcmp(a->cert_file, b->cert_file) == 0 &&
	       strcmp(a->key_file, b->key_file) == 0 && strcmp(a->username, b->username) == 0 &&
	       strcmp(a->password, b->password) == 0 && strcmp(a->client_id, b->client_id) == 0 &&
	       a->keepalive == b->keepalive;
}
