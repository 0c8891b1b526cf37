/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/mqtt.h - MQTT publisher with Home Assistant discovery
 * (libmosquitto driven by the libev loop, no thread): the MQTT output. */
#ifndef GATEWAY_MQTT_MQTT_H
#define GATEWAY_MQTT_MQTT_H

#include <stdio.h>

#include "../model/service.h"

struct gw;

/* Its row of the service table. */
extern const struct gw_service gw_svc_mqtt;

/* --mqtt-dump: every discovery topic and payload of the configuration, with
 * the shape the packs showed (cells, sensors), one "TOPIC PAYLOAD" per line. */
void gw_mqtt_dump(struct gw *gw, FILE *out);

#endif
