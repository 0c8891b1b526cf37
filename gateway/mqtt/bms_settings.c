/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/bms_settings.c - a BMS's own settings over MQTT (bmsgw-mqtt(7)
 * "BMS SETTINGS"): P/NAME/set/bms_KEY, subscribed with [mqtt] control =
 * true (the set/ topics, session.c), the payload the value in the key's
 * unit as bms/setwrite.h's one parser takes it (a decimal; the balancer
 * ON / OFF, true / false, 1 / 0).  The change is poll/bmsset.h's, as
 * an admin's over HTTP is (the pack's bms_settings, the bounds, the order,
 * the fence), with who "mqtt"; its outcome goes to P/NAME/set/result (not
 * retained): {"setting":"bms_KEY","payload","result","value","old",
 * "origin":"mqtt","message"}.  A retained command is never taken (it
 * would be applied again at every connect) and is cleared.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../poll/bmsset.h"
#include "mqtt_int.h"

static void num(FILE *o, bool has, double v)
{
	if (has && isfinite(v))
		fprintf(o, "%.10g", v);
	else
		fputs("null", o);
}

static void publish(struct gw_mqtt *m, const char *unit, const char *key, const char *payload,
		    const struct gw_bset_result *r)
{
	char setting[48];
	struct mq_result res;
	snprintf(setting, sizeof(setting), "bms_%s", key);
	FILE *o = mq_result_open(&res, setting, payload, r->result ? r->result : "refused");
	if (!o)
		return;
	num(o, r->has_value, r->value);
	fputs(",\"old\":", o);
	num(o, r->has_old, r->old);
	fputs(",\"origin\":\"mqtt\"", o);
	mq_result_send(m, &res, unit, r->message[0] ? r->message : NULL);
}

static void done(void *ctx, const struct gw_bset_result *r)
{
	struct mq_cmd *k = ctx;
	struct gw_mqtt *m = k->m;
	for (struct mq_cmd **pp = &m->cmds; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	publish(m, k->unit, k->command, k->payload, r);
	free(k);
}

void mq_bms_setting(struct gw_mqtt *m, const struct mosquitto_message *msg, const char *unit, const char *key)
{
	char payload[32];
	size_t n = (size_t)msg->payloadlen < sizeof(payload) - 1 ? (size_t)msg->payloadlen : sizeof(payload) - 1;
	for (size_t i = 0; i < n; i++) {
		char ch = ((const char *)msg->payload)[i];
		payload[i] = ch > 0x20 && ch < 0x7F ? ch : '?';
	}
	payload[n] = '\0';
	struct gw_pack *p = gw_find_pack(m->gw, unit);
	struct gw_bset_result r = { .result = "refused", .status = 400 };
	snprintf(r.key, sizeof(r.key), "%s", key);
	const char *why = NULL;
	char bad[320];
	double v = 0;
	int wk = bms_wkey_find(key);
	if (!p) {
		why = "no such pack (the bank has no BMS settings)";
		r.status = 404;
	} else if (msg->retain) {
		why = "a retained setting is never taken (it would be applied again at every connect); it has been cleared";
	} else if (wk >= 0 && (p->cfg->bms_settings & (int)BMS_W_BIT(wk)) &&
		   bms_wvalue_text((enum bms_wkey)wk, msg->payload, (size_t)msg->payloadlen, &v, bad, sizeof(bad)) < 0) {
		why = bad; /* the one parser (bms/setwrite.h); a key not allowed: 403 below */
		r.status = 422;
	}
	struct mq_cmd *k = why ? NULL : calloc(1, sizeof(*k));
	if (!why && !k)
		why = "out of memory";
	if (why) {
		snprintf(r.message, sizeof(r.message), "%s", why);
		char what[64];
		snprintf(what, sizeof(what), "%s \"%s\"", key, payload);
		gw_bset_refused(p, "mqtt", what, r.status, why);
		if (msg->retain)
			mq_clear_topic(m, msg->topic);
		publish(m, unit, key, payload, &r);
		return;
	}
	k->m = m;
	k->bset = true;
	snprintf(k->unit, sizeof(k->unit), "%s", unit);
	snprintf(k->command, sizeof(k->command), "%s", key);
	snprintf(k->payload, sizeof(k->payload), "%s", payload);
	if (gw_bset_submit(m->gw, p, key, v, "mqtt", done, k, &k->handle, &r)) {
		publish(m, unit, key, payload, &r); /* refused (logged and counted there), or done at once */
		free(k);
		return;
	}
	k->next = m->cmds;
	m->cmds = k;
}
