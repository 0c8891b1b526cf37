/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/bleclass.c - what `bmsgw --ble-scan` makes of a device: the
 * likely protocol from its advertised name, service UUIDs, service data's
 * UUIDs and manufacturer data.  Pure (no I/O), built with or without Bluetooth support.
 *
 * The hints are the drivers' (struct bms_ble.hints, each with its
 * source: the names and services open-source BLE BMS readers match on), so
 * a brand's BLE facts live in its file of bms/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../../bms/bms.h"
#include "ble.h"

long gw_ble_uuid16(const char *uuid)
{
	uint32_t v;
	if (!uuid || strlen(uuid) != 36 || strncmp(uuid, "0000", 4) != 0 || strcasecmp(uuid + 8, BMS_UUID_BASE) != 0 ||
	    !bms_hexn((const uint8_t *)uuid + 4, 4, &v))
		return -1;
	return (long)v;
}

static bool has_service(const struct gw_ble_seen *d, uint16_t svc)
{
	for (int i = 0; i < d->nuuids; i++)
		if (gw_ble_uuid16(d->uuids[i]) == svc)
			return true;
	return false;
}

static bool has_sdata(const struct gw_ble_seen *d, uint16_t uuid)
{
	for (int i = 0; i < d->nsdata; i++)
		if (gw_ble_uuid16(d->sdata[i]) == uuid)
			return true;
	return false;
}

/* No prefix, or the name starts with it. */
static bool name_starts(const struct gw_ble_seen *d, const char *prefix)
{
	return !prefix || strncasecmp(d->name, prefix, strlen(prefix)) == 0;
}

/* Does hint h match device d? */
static bool hint_matches(const struct bms_ble_hint *h, const struct gw_ble_seen *d)
{
	switch (h->kind) {
	case BMS_BLE_COMPANY_SERVICE:
		if (!has_service(d, (uint16_t)(h->value >> 16)) || !name_starts(d, h->prefix))
			return false;
		/* fall through */
	case BMS_BLE_COMPANY:
		for (int i = 0; i < d->nmfr; i++)
			if (d->companies[i] == (h->value & 0xFFFF))
				return true;
		return false;
	case BMS_BLE_NAME:
		if (h->prefix)
			return strncasecmp(d->name, h->prefix, strlen(h->prefix)) == 0;
		return h->name_ok && h->name_ok(d->name);
	case BMS_BLE_SERVICE:
		return has_service(d, h->value);
	case BMS_BLE_ADDRESS_SERVICE:
		return h->prefix && strncasecmp(d->address, h->prefix, strlen(h->prefix)) == 0 &&
		       has_service(d, (uint16_t)h->value);
	case BMS_BLE_SERVICE_DATA:
		return has_sdata(d, (uint16_t)h->value) && name_starts(d, h->prefix) &&
		       (!(h->value >> 16) || has_service(d, (uint16_t)(h->value >> 16)));
	case BMS_BLE_SERVICE128:
		for (int i = 0; h->prefix && i < d->nuuids; i++)
			if (strcasecmp(d->uuids[i], h->prefix) == 0)
				return true;
		return false;
	}
	return false;
}

/* The hints of every driver (bms/: struct bms_ble.hints), rank by
 * rank, drivers in registry order within a rank. */
void gw_ble_classify(const struct gw_ble_seen *d, struct gw_ble_guess *g)
{
	g->protocol = NULL;
	g->why = "";
	g->pairing = false;
	for (int rank = 0; rank <= UINT8_MAX; rank++)
		for (size_t i = 0; bms_drivers[i]; i++)
			for (const struct bms_ble_hint *h = bms_drivers[i]->ble ? bms_drivers[i]->ble->hints : NULL;
			     h && h->why; h++)
				if (h->rank == rank && hint_matches(h, d)) {
					g->protocol = bms_drivers[i]->name;
					g->why = h->why;
					g->pairing = h->pairing;
					return;
				}
}

void gw_ble_scan_header(FILE *out)
{
	fprintf(out, "%-17s  %4s  %-24s  %-12s  %s\n", "ADDRESS", "RSSI", "NAME", "PROTOCOL", "NOTES");
}

void gw_ble_scan_line(FILE *out, const struct gw_ble_seen *s, bool pairing)
{
	struct gw_ble_guess g;
	gw_ble_classify(s, &g);
	char rssi[8] = "-";
	if (s->have_rssi)
		snprintf(rssi, sizeof(rssi), "%d", s->rssi);
	bool unpaired = pairing && g.pairing && !s->paired;
	fprintf(out, "%-17s  %4s  %-24s  %-12s  %s%s%s\n", s->address, rssi, s->name[0] ? s->name : "-",
		g.protocol ? g.protocol : "-", g.protocol ? g.why : "",
		unpaired ? "; not paired: newer firmware needs bluetoothctl pair " : "",
		unpaired ? s->address : (pairing && g.protocol && s->paired ? "; paired" : ""));
}
