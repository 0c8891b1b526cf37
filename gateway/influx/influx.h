/* SPDX-License-Identifier: MIT */
/* gateway/influx/influx.h - the units' values pushed to InfluxDB ([influx]):
 * every interval one point per fresh unit in the line protocol, POSTed to
 * /write (InfluxDB 1) or /api/v2/write (InfluxDB 2) through libcurl's
 * multi interface on the daemon's loop.  Its row of the service table
 * (model/service.h). */
#ifndef GATEWAY_INFLUX_INFLUX_H
#define GATEWAY_INFLUX_INFLUX_H

#include "../model/service.h"

extern const struct gw_service gw_svc_influx;

#endif
