/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/commands.c - MOSFET commands over MQTT (the charge
 * settings on the same P/NAME/set/+ subscription: charge_settings.c).
 *
 * P/NAME/set/charge_mos, P/NAME/set/discharge_mos with ON / OFF, subscribed
 * only with [mqtt] control = true; P/NAME/result gets the outcome of each
 * (JSON, not retained).  Commands go through gateway/poll/control.c like
 * Modbus writes (allowed?  fresh?  not busy?  acknowledged?  read back?).
 * A retained command is never executed (it would be replayed at every
 * connect) and is cleared; the session is clean, so nothing queued while
 * disconnected is replayed either.  With MQTT 5 the subscription keeps the
 * retain flag of live messages (retain as published), so a command
 * published retained is refused even the first time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/mbexc.h"
#include "../model/json.h"
#include "../poll/bmsset.h"
#include "../poll/control.h"
#include "mqtt_int.h"

static void publish_result(struct gw_mqtt *m, const char *unit, const char *command, const char *payload,
			   const char *result, int exception, const char *message)
{
	char *buf = NULL, topic[400];
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	if (!o)
		return;
	fprintf(o, "{\"command\":");
	gw_json_str(o, command);
	fprintf(o, ",\"payload\":");
	gw_json_str(o, payload);
	fprintf(o, ",\"result\":\"%s\",\"exception\":", result);
	if (exception)
		fprintf(o, "%d", exception);
	else
		fprintf(o, "null");
	fprintf(o, ",\"message\":");
	gw_json_str(o, message);
	fprintf(o, "}");
	if (fclose(o) == 0 && buf) {
		snprintf(topic, sizeof(topic), "%s/%s/result", mq_prefix(m), unit);
		mq_publish(m, topic, buf, false, 1, true);
		mq_set_events(m);
	}
	free(buf);
}

static void cmd_done(void *ctx, int exception, const char *why)
{
	struct mq_cmd *k = ctx;
	struct gw_mqtt *m = k->m;
	for (struct mq_cmd **pp = &m->cmds; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	publish_result(m, k->unit, k->command, k->payload, exception ? "failed" : "done", exception, why);
	free(k);
}

/* Refused before anything reached the BMS: logged and counted as every
 * refused command is (poll/control.c), answered. */
static void cmd_refuse(struct gw_mqtt *m, struct gw_pack *p, const char *command, const char *payload, int exception,
		       const char *why)
{
	char what[CONF_TOPIC_MAX + CONF_NAME_MAX + 64];
	snprintf(what, sizeof(what), "%s/%s/set/%s \"%s\"", mq_prefix(m), p->cfg->name, command, payload);
	gw_control_refused(p, "mqtt", what, exception, why);
	publish_result(m, p->cfg->name, command, payload, "refused", exception, why);
}

/* P/NAME/set/COMMAND: is this a command topic?  Fills unit and command. */
static bool command_topic(const struct gw_mqtt *m, const char *t, char *unit, size_t ul, char *cmd, size_t cl)
{
	size_t pl = strlen(mq_prefix(m));
	if (strncmp(t, mq_prefix(m), pl) != 0 || t[pl] != '/')
		return false;
	const char *n = t + pl + 1, *e = strstr(n, "/set/");
	if (!e || e == n || (size_t)(e - n) >= ul || memchr(n, '/', (size_t)(e - n)))
		return false;
	const char *c = e + strlen("/set/");
	if (!*c || strchr(c, '/') || strlen(c) >= cl)
		return false;
	memcpy(unit, n, (size_t)(e - n));
	unit[e - n] = '\0';
	strcpy(cmd, c);
	return true;
}

static void on_command(struct gw_mqtt *m, const struct mosquitto_message *msg, const char *unit, const char *cmd)
{
	struct gw *gw = m->gw;
	if (msg->payloadlen == 0 || strcmp(cmd, "result") == 0)
		return; /* a retained command being cleared (ours, or someone's); our own answers (set/result) */
	m->commands++;
	int setting = mq_setting_id(cmd);
	if (setting >= 0) {
		mq_setting(m, msg, unit, setting); /* charge_settings.c */
		return;
	}
	if (strncmp(cmd, "bms_", 4) == 0) {
		mq_bms_setting(m, msg, unit, cmd + 4); /* bms_settings.c */
		return;
	}
	char payload[16];
	size_t n = (size_t)msg->payloadlen < sizeof(payload) - 1 ? (size_t)msg->payloadlen : sizeof(payload) - 1;
	for (size_t i = 0; i < n; i++) {
		char ch = ((const char *)msg->payload)[i];
		payload[i] = ch >= 0x20 && ch < 0x7F ? ch : '?';
	}
	payload[n] = '\0';
	struct gw_pack *p = gw_find_pack(gw, unit);
	if (!p) {
		gw_log_keyed(GW_LOG_WARN, "mqtt unknown unit", "mqtt: command on %s ignored: no pack is called %s",
			     msg->topic, unit);
		return;
	}
	if (msg->retain) {
		/* never executed: it would be replayed at every connect; cleared */
		cmd_refuse(m, p, cmd, payload, GW_MB_ILLEGAL_FUNCTION,
			   "a retained command is never executed (it would be replayed at every connect); "
			   "it has been cleared");
		mq_clear_topic(m, msg->topic);
		return;
	}
	int fet = strcmp(cmd, "charge_mos") == 0 ? BMS_FET_CHARGE : strcmp(cmd, "discharge_mos") == 0 ? BMS_FET_DISCHARGE : -1;
	if (fet < 0) {
		cmd_refuse(m, p, cmd, payload, GW_MB_ILLEGAL_ADDRESS,
			   "unknown command (expected charge_mos, discharge_mos or a charge setting)");
		return;
	}
	bool on;
	if (msg->payloadlen == 2 && memcmp(msg->payload, "ON", 2) == 0)
		on = true;
	else if (msg->payloadlen == 3 && memcmp(msg->payload, "OFF", 3) == 0)
		on = false;
	else {
		cmd_refuse(m, p, cmd, payload, GW_MB_ILLEGAL_VALUE, "the payload must be exactly ON or OFF");
		return;
	}
	struct mq_cmd *k = calloc(1, sizeof(*k));
	if (!k) {
		cmd_refuse(m, p, cmd, payload, GW_MB_DEVICE_FAILURE, "out of memory");
		return;
	}
	k->m = m;
	snprintf(k->unit, sizeof(k->unit), "%s", unit);
	snprintf(k->command, sizeof(k->command), "%s", cmd);
	snprintf(k->payload, sizeof(k->payload), "%s", on ? "ON" : "OFF");
	bool set[2] = { false, false }, want[2] = { false, false };
	set[fet] = true;
	want[fet] = on;
	char why[200];
	int exc = gw_control_submit(gw, p, set, want, "mqtt", cmd_done, k, &k->handle, why, sizeof(why));
	if (exc) {
		/* control.c logged it */
		publish_result(m, unit, cmd, k->payload, "refused", exc, why);
		free(k);
		return;
	}
	k->next = m->cmds;
	m->cmds = k;
}

/* A message on a command topic: carried out or refused (true), or not a
 * command topic (false). */
bool mq_command(struct gw_mqtt *m, const struct mosquitto_message *msg)
{
	char unit[CONF_NAME_MAX + 1], cmd[32];
	if (!command_topic(m, msg->topic, unit, sizeof(unit), cmd, sizeof(cmd)))
		return false;
	on_command(m, msg, unit, cmd);
	return true;
}

/* The client goes away: the commands go on; their outcome is only logged. */
void mq_commands_cancel(struct gw_mqtt *m)
{
	while (m->cmds) {
		struct mq_cmd *k = m->cmds;
		m->cmds = k->next;
		if (k->bset)
			gw_bset_cancel(&k->handle); /* its ctx is k */
		else
			gw_control_cancel(&k->handle);
		free(k);
	}
}
