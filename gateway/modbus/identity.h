/* SPDX-License-Identifier: MIT */
/* gateway/modbus/identity.h - what a unit says about itself at a given
 * moment: its Modbus identification (mbident.h: FC 0x2B / 0x0E and FC
 * 0x11) and what its SunSpec block shows (sunspec.h), read from the
 * model (a pack, or the bank aggregated from its fresh packs; with [bank]
 * strings, 803's strings are the bank's strings of packs in series). */
#ifndef GATEWAY_MODBUS_IDENTITY_H
#define GATEWAY_MODBUS_IDENTITY_H

#include "../model/gw.h"
#include "../engine/bank_strings.h"
#include "mbident.h"
#include "sunspec.h"

/* Object 4 ProductName. */
#define GW_PRODUCT_NAME "bmsgw BMS gateway"

/* The unit id a unit reports (FC 0x11, SunSpec DA): its configured one,
 * whatever alias (0, 255) reached it. */
int gw_unit_id(const struct gw *gw, const struct gw_unit *u);

/* u's identification at monotonic time now (running = fresh).  The
 * strings are the configuration's and the drivers': valid until the next
 * reload. */
void gw_unit_ident(const struct gw *gw, const struct gw_unit *u, double now, struct mbid_identity *id);

/* What su points at besides the bank's state (model/bankstate.h): the
 * bank's packs, or its strings as series. */
struct gw_ss_scratch {
	struct ss_pack packs[SS_MAX_PACKS];
	struct ss_series series[SS_MAX_PACKS];
};

/* u's SunSpec block inputs at monotonic time now: its snapshot while it
 * has one, its charge limits ([limits]; zero currents when not fresh,
 * as the map's limit registers), the ratings of [limits]. */
void gw_unit_sunspec(const struct gw *gw, const struct gw_unit *u, double now, struct gw_ss_scratch *sc,
		     struct ss_unit *su);

#endif
