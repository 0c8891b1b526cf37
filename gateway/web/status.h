/* SPDX-License-Identifier: MIT */
/* gateway/web/status.h - the gateway as the status page and Prometheus see it. */
#ifndef GATEWAY_WEB_STATUS_H
#define GATEWAY_WEB_STATUS_H

#include <stdio.h>

struct gw;

/* /api/state: one JSON object {"gateway":{...},"packs":[...],"bank":...,
 * "links":[...],"modbus":{...},"mqtt":...,"http":...,"history":...}; every
 * pack is the object --once prints for it (bmsgw(8) "STATUS PAGE"). */
void gw_status_json(struct gw *gw, FILE *o);
/* /api/config: the configuration in force, {"gateway":{"listen":...},
 * "pack.NAME":{...}, ...}: every key of every section present, as text
 * (conf_key_text()); an output's sections from the copy it runs on (its
 * service's `held` hook), the others, and those of an output that is off
 * or could not start, from the running configuration. */
void gw_status_config(struct gw *gw, FILE *o);
/* /metrics: Prometheus text exposition format 0.0.4. */
void gw_status_metrics(struct gw *gw, FILE *o);
/* status_strings.c: the strings of a bank of packs in series ([bank]
 * strings), families bmsgw_string_* labelled string="string1" ... (none
 * without strings). */
void gw_status_strings_metrics(const struct gw *gw, FILE *o);
/* blestatus.c: the ESPHome Bluetooth proxies, /api/state's "ble_proxies"
 * array and their /metrics families (none without a [ble_proxy.NAME]). */
void gw_status_proxies_json(struct gw *gw, FILE *o);
void gw_status_proxies_metrics(struct gw *gw, FILE *o);

#endif
