/* SPDX-License-Identifier: MIT */
/* gateway/mqtt/victron.h - a unit as mr-manuel/venus-os_dbus-mqtt-battery's
 * JSON ([mqtt] victron = true; bmsgw-mqtt(7) "VICTRON GX"). */
#ifndef GATEWAY_MQTT_VICTRON_H
#define GATEWAY_MQTT_VICTRON_H

#include <stdbool.h>
#include <stdio.h>

#include "../../bms/bms.h"
#include "../engine/pack_limits.h"

/* What the JSON of one unit is made of: the snapshot /api/state shows,
 * the limits the inverter outputs use (NULL: none, no [limits] or no CVL
 * yet; failsafe: they are fail-safe, 0 A both ways with the CVL kept), and
 * for the bank its members and the cells' extremes across its packs. */
struct mq_victron_unit {
	const struct bms_snapshot *s;
	const struct gw_limits *lim;   /* the unit's limits, or NULL */
	bool failsafe;                 /* Info: no current either way */
	bool bank;
	int online, offline;           /* the bank: packs fresh, packs missing */
	int no_charge, no_discharge;   /* the bank: fresh packs whose limits forbid it (-1 = unknown) */
	bool have_cells;               /* the bank: cell extremes across its packs */
	unsigned min_mv, max_mv, min_pack, min_cell, max_pack, max_cell;
};

/* The JSON object (one line, no newline) of u, with only the keys the
 * driver's README documents and only values the unit has; false (nothing
 * written) when it lacks what the driver needs to take a message at all
 * (Dc.Voltage, Dc.Power, Soc).  Pure. */
bool mq_victron_json(FILE *o, const struct mq_victron_unit *u);

#endif
