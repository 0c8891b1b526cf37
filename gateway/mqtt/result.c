/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/result.c - the outcome of a setting written over MQTT on
 * P/UNIT/set/result (not retained): the document's beginning and end,
 * shared by the charge settings (charge_settings.c) and a BMS's own settings
 * (bms_settings.c), which write their value (and what follows it) between:
 *   {"setting":S,"payload":P,"result":R,"value":... ,"message":M}
 */
#include <stdio.h>
#include <stdlib.h>

#include "../model/json.h"
#include "mqtt_int.h"

FILE *mq_result_open(struct mq_result *r, const char *setting, const char *payload, const char *result)
{
	r->buf = NULL;
	r->len = 0;
	r->o = open_memstream(&r->buf, &r->len);
	if (!r->o)
		return NULL;
	fputs("{\"setting\":", r->o);
	gw_json_str(r->o, setting);
	fputs(",\"payload\":", r->o);
	gw_json_str(r->o, payload);
	fprintf(r->o, ",\"result\":\"%s\",\"value\":", result);
	return r->o;
}

void mq_result_send(struct gw_mqtt *m, struct mq_result *r, const char *unit, const char *message)
{
	char topic[400];
	fputs(",\"message\":", r->o);
	if (message)
		gw_json_str(r->o, message);
	else
		fputs("null", r->o);
	fputc('}', r->o);
	if (fclose(r->o) == 0 && r->buf) {
		snprintf(topic, sizeof(topic), "%s/%s/set/result", mq_prefix(m), unit);
		mq_publish(m, topic, r->buf, false, 1, true);
		mq_set_events(m);
	}
	free(r->buf);
	r->buf = NULL;
	r->o = NULL;
}
