/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/mqtt_int.h - private to the MQTT output: the client's state
 * and what its files (mqtt.c, session.c, publish.c, commands.c,
 * charge_settings.c, bms_settings.c, result.c) call of each other. */
#ifndef GATEWAY_MQTT_MQTT_INT_H
#define GATEWAY_MQTT_MQTT_INT_H

#include <ev.h>
#include <mosquitto.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../core/mqttsess.h"
#include "../model/gw.h"
#include "../engine/settings.h"
#include "backfill.h"

#define QUEUE_MAX (256 * 1024) /* bytes queued before states are skipped */
#define RECONCILE_S 5.0        /* how long retained configs are collected after connecting */
#define STOP_S 1.2             /* a clean stop waits this long for the broker to confirm offline */
#define STOP_MIN_S 0.3         /* ... and at least this long for the offline messages themselves */

/* A command on its way through control.c: a MOSFET's, or a change of a
 * BMS setting (bset: bms_settings.c, through poll/bmsset.h). */
struct mq_cmd {
	struct gw_mqtt *m;
	struct mq_cmd *next;
	struct gw_ctl *handle;
	bool bset;
	char unit[CONF_NAME_MAX + 1];
	char command[32];              /* charge_mos / discharge_mos / bms_KEY */
	char payload[32];              /* ON / OFF, a BMS setting's value */
};

/* What the client knows of one pack: its slot, kept across a reload for a
 * pack of the same name. */
struct mq_pack {
	char name[CONF_NAME_MAX];
	int avail;                     /* availability published: -1 none, 0 offline, 1 online */
	double last_state;             /* monotonic time of the last state published */
	bool state_pending;            /* a good poll waits for publish_interval */
	unsigned disc_cells, disc_temps; /* the shape the discovery configs announced */
	bool disc_sent;                /* since the current connection */
};

/* The backfill (backfill.c) */
struct bf_ticket;
struct mq_bf {
	struct bf_unit units[BF_UNITS];
	struct bf_window win;         /* messages in flight */
	struct bf_pace pace;
	ev_timer timer;               /* BF_PERIOD while something is owed */
	struct bf_ticket *ticket;     /* the question to the history outstanding */
	double settle_until, retry_at; /* monotonic: no question before */
	int ask_rr, send_rr;          /* the units take turns */
	unsigned long sent_total, acked_total;
};

struct gw_mqtt {
	struct gw *gw;
	struct conf_mqtt cfg;         /* its [mqtt]: the broker and topics it started with, and the
	                                 keys a reload gives it live (mqtt.c) */
	struct gw_mqs sess;           /* the connection (core/mqttsess.h): its client (sess.mosq)
	                                 publishes and subscribes; its state, protocol, counters and
	                                 last error are read here, written there */
	ev_timer rediscover;          /* Home Assistant came online: discovery again */
	double reconcile_until;       /* collecting retained configs of removed units */
	size_t queued;                /* bytes handed to libmosquitto since the socket drained */
	unsigned pending;             /* messages handed to libmosquitto and not yet written (QoS 0)
	                                 or acknowledged (QoS 1): a clean stop waits for them */
	unsigned long skipped;        /* states not published because the broker lagged */
	struct mq_pack packs[CONF_MAX_PACKS]; /* slot i: gw->packs[i] */
	int bank_avail;
	double bank_last;
	bool bank_pending;
	unsigned bank_disc_temps;
	char gw_state[512];           /* last published P/gateway */
	char started[32];
	struct mq_cmd *cmds;          /* commands in progress */
	unsigned long commands;       /* commands received (any outcome) */
	/* A reload that changed [gateway] site: the previous client's gateway
	 * id and topic prefix ("" = the same as ours), whose retained topics
	 * and configs this client clears while it reconciles (mq_reconcile) */
	char old_gid[160];
	char old_prefix[CONF_TOPIC_MAX];
	struct mq_bf bf;
};

/* session.c: the client's session (core/mqttsess.h) and what it
 * subscribes to and hears */
struct gw_mqtt *mq_new(struct gw *gw, const struct conf_mqtt *c);
void mq_close(struct gw_mqtt *m, bool clean);
void mq_tick(struct gw_mqtt *m);
void mq_start(struct gw_mqtt *m);

/* Connected to the broker (CONNACK 0), publishing. */
static inline bool mq_up(const struct gw_mqtt *m)
{
	return m->sess.state == GW_MQS_UP;
}

/* The broker's lag: bytes handed to libmosquitto since the socket last
 * took everything (m->queued, 0 again once libmosquitto has nothing left
 * to write). */
static inline size_t mq_lag(struct gw_mqtt *m)
{
	if (!mosquitto_want_write(m->sess.mosq))
		m->queued = 0;
	return m->queued;
}

/* The topic prefix ([mqtt] topic_prefix). */
static inline const char *mq_prefix(const struct gw_mqtt *m)
{
	return m->cfg.topic_prefix;
}

/* publish.c: states, availability, discovery, retained topics; the
 * socket's write interest (mq_set_events), so that what publishes never
 * calls back into session.c */
void mq_set_events(struct gw_mqtt *m);
struct mq_pack *mq_slot(struct gw_mqtt *m, const struct gw_pack *p);
void mq_slots_sync(struct gw_mqtt *m);
bool mq_publish(struct gw_mqtt *m, const char *topic, const char *payload, bool retain, int qos, bool essential);
void mq_clear_topic(struct gw_mqtt *m, const char *topic);
void mq_publish_avail(struct gw_mqtt *m, const char *name, bool online);
void mq_publish_all(struct gw_mqtt *m);
void mq_publish_periodic(struct gw_mqtt *m);
void mq_polled(struct gw_mqtt *m, struct gw_pack *p, bool ok);
void mq_reconcile(struct gw_mqtt *m, const struct mosquitto_message *msg);
void mq_take_old_ids(struct gw_mqtt *m, const struct conf_mqtt *old);
void mq_reloaded(struct gw_mqtt *m, const struct conf *oc);
void mq_offline(struct gw_mqtt *m);
void mq_settings_written(struct gw_mqtt *m, struct gw_pack *p);

/* victron.c: the message of P/UNIT/victron of pack p (NULL: the bank) and
 * its topic (in `topic`), malloc'ed; NULL: none ([mqtt] victron off, the
 * unit not online, or nothing the driver takes) */
char *mq_victron_message(const struct gw_mqtt *m, const struct gw_pack *p, char *topic, size_t cap);
/* backfill.c: [mqtt] backfill (mq_bf_sync: the units follow the slots,
 * called right after mq_slots_sync by its callers) */
void mq_bf_init(struct gw_mqtt *m);
void mq_bf_sync(struct gw_mqtt *m);
void mq_bf_reloaded(struct gw_mqtt *m, bool was_on);
void mq_bf_connected(struct gw_mqtt *m);
void mq_bf_lost(struct gw_mqtt *m);
void mq_bf_acked(struct gw_mqtt *m, int mid);
void mq_bf_tick(struct gw_mqtt *m);
void mq_bf_close(struct gw_mqtt *m);
/* The samples owed of unit slot `unit` (-1: every unit) */
int64_t mq_bf_backlog(const struct gw_mqtt *m, int unit);

/* commands.c */
bool mq_command(struct gw_mqtt *m, const struct mosquitto_message *msg);
void mq_commands_cancel(struct gw_mqtt *m);

/* charge_settings.c: the payload t of setting id (a NUL-terminated text) -> the
 * value as engine/settings.h keeps it (a cap in 0.1 A, below
 * GW_SET_CAP_NONE unless t is "none"); NULL, or why not (pure) */
const char *mq_setting_parse(enum gw_set_id id, const char *t, uint32_t *v);
/* P/UNIT/set/<setting>, the charge settings; -1: `name` is not one of them */
int mq_setting_id(const char *name);
void mq_setting(struct gw_mqtt *m, const struct mosquitto_message *msg, const char *unit, int id);
/* bms_settings.c: P/UNIT/set/bms_KEY (key: KEY), a change of a BMS's own setting;
 * its outcome on P/UNIT/set/result. */
void mq_bms_setting(struct gw_mqtt *m, const struct mosquitto_message *msg, const char *unit, const char *key);
/* result.c: a document of P/UNIT/set/result.  mq_result_open() begins it
 * ({"setting":SETTING,"payload":PAYLOAD,"result":RESULT,"value":) and
 * gives the stream the caller writes the value into (and any members
 * after it); NULL when out of memory (nothing to send).  mq_result_send()
 * ends it (,"message":MESSAGE}, null for none), publishes it, not
 * retained, and frees it. */
struct mq_result {
	FILE *o;
	char *buf;
	size_t len;
};
FILE *mq_result_open(struct mq_result *r, const char *setting, const char *payload, const char *result);
void mq_result_send(struct gw_mqtt *m, struct mq_result *r, const char *unit, const char *message);

#endif
