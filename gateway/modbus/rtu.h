/* SPDX-License-Identifier: MIT */
/* gateway/modbus/rtu.h - the Modbus RTU server ([rtu]): bmsgw a slave on
 * an RS485 bus of its own, serving the units, map, function codes and
 * SunSpec block of the TCP server (request.c) for PLCs, displays and
 * inverters without Ethernet (bmsgw-modbus(7) "MODBUS RTU").  Part of the
 * Modbus output's service row (modbus.c). */
#ifndef GATEWAY_MODBUS_RTU_H
#define GATEWAY_MODBUS_RTU_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/gw.h"
#include "modbus_conf.h"

struct gw_rtu;

/* A server for cfg (copied), its port not yet open; NULL when out of
 * memory. */
struct gw_rtu *gw_rtu_new(struct gw *gw, const struct conf_rtu *cfg);
/* Open the port (non-blocking; a port that is missing or goes away is
 * reopened with backoff by its link, the outage logged once). */
void gw_rtu_start(struct gw_rtu *r);
/* The [rtu] it serves with (its own copy): a reload that changes none of
 * its keys that restart it (the line: port, baud, mode) keeps the port
 * open and gives it the rest (gw_rtu_apply: control). */
const struct conf_rtu *gw_rtu_conf(const struct gw_rtu *r);
void gw_rtu_apply(struct gw_rtu *r, const struct conf_rtu *cfg);
/* Close the port and free; NULL is fine. */
void gw_rtu_free(struct gw_rtu *r);

/* Its member of /api/state ("rtu": {...}) and its /metrics families
 * (bmsgw_rtu_*). */
void gw_rtu_status_json(const struct gw_rtu *r, FILE *o);
void gw_rtu_metrics(const struct gw_rtu *r, FILE *o);

#endif
