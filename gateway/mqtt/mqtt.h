/* gateway/mqtt/mqtt.h - MQTT publisher with Home Assistant discovery
 * (libmosquitto driven by the libev loop, no thread). */
#ifndef GATEWAY_MQTT_H
#define GATEWAY_MQTT_H

#include <stdbool.h>
#include <stdio.h>

struct gw;
struct gw_pack;
struct conf;
struct gw_mqtt;

/* What the client knows of one pack, kept in struct gw_pack. */
struct gw_pack_mqtt {
	int avail;                     /* availability published: -1 none, 0 offline, 1 online */
	double last_state;             /* monotonic time of the last state published */
	bool state_pending;            /* a good poll waits for publish_interval */
	unsigned disc_cells, disc_temps; /* the shape the discovery configs announced */
	bool disc_sent;                /* since the current connection */
};

/* Start the client of gw->conf->mqtt (it must be enabled): resolve the
 * broker, connect, publish, reconnect with backoff, all from the loop.
 * NULL with a logged error if the library cannot start. */
struct gw_mqtt *gw_mqtt_new(struct gw *gw);
/* After a reload (gw->conf is the new configuration, oc the old one, still
 * valid): clear the topics of removed packs, announce new ones, republish
 * discovery.  Returns false if the broker settings changed: the caller
 * replaces the client. */
bool gw_mqtt_reload(struct gw_mqtt *m, const struct conf *oc);
/* A poll of p finished: publish its state (and the bank's) as configured. */
void gw_mqtt_polled(struct gw_mqtt *m, struct gw_pack *p, bool ok);
/* Connected to the broker now. */
bool gw_mqtt_connected(const struct gw_mqtt *m);
/* The client as a JSON object (status page): broker, state, how long,
 * connects, reconnects, skipped states, the last error. */
void gw_mqtt_status_json(const struct gw_mqtt *m, FILE *o);
/* Counters for /metrics (zero for NULL). */
struct gw_mqtt_counters {
	bool connected;
	unsigned long connects, reconnects, skipped, commands;
};
void gw_mqtt_counters(const struct gw_mqtt *m, struct gw_mqtt_counters *out);
/* Clean stop: every pack, the bank and P/status go offline, then the client
 * disconnects (waits at most 1 s for the broker to take it); NULL is fine. */
void gw_mqtt_free(struct gw_mqtt *m);

/* --mqtt-dump: every discovery topic and payload of the configuration, with
 * the shape the packs showed (cells, sensors), one "TOPIC PAYLOAD" per line. */
void gw_mqtt_dump(struct gw *gw, FILE *out);

#endif
