/* gateway/wire/ble/bleclass.c - what `bmsgw --ble-scan` makes of a device: the
 * likely protocol from its advertised name, service UUIDs and manufacturer
 * data.  Pure (no I/O), built with or without Bluetooth support.
 *
 * The hints are the ones open-source BLE BMS readers match on:
 * https://github.com/patman15/aiobmsble (its jbd, daly and jikong BMS
 * classes: names and services), github.com/syssi/esphome-jbd-bms
 * (service FF00), github.com/syssi/esphome-jk-bms (service FFE0, names
 * JK-*), github.com/syssi/esphome-daly-bms (service FFF0, names DL-*),
 * aiobmsble's seplos_bms (names SP??B*, SP1??B*, XZHX*: Seplos V3, whose
 * SP05B... names would otherwise read as JBD's SP0...) and eg4_bms
 * (service 1000) and
 * Victron's "Extra manufacturer data" document in
 * github.com/keshavdv/victron-ble (company id 0x02E1).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ble.h"

#define VICTRON_COMPANY 0x02E1

long gw_ble_uuid16(const char *uuid)
{
	static const char base[] = "-0000-1000-8000-00805f9b34fb";
	if (!uuid || strlen(uuid) != 36 || strncmp(uuid, "0000", 4) != 0 || strcasecmp(uuid + 8, base) != 0)
		return -1;
	long v = 0;
	for (int i = 4; i < 8; i++) {
		if (!isxdigit((unsigned char)uuid[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)uuid[i]) ? uuid[i] - '0' : tolower((unsigned char)uuid[i]) - 'a' + 10);
	}
	return v;
}

static bool prefix(const char *name, const char *p)
{
	return strncasecmp(name, p, strlen(p)) == 0;
}

/* Seplos V3: "SP" two characters "B" (SP05B..., SP57B...), "SP1" two
 * characters "B", or "XZHX". */
static bool seplos3_name(const char *n)
{
	size_t len = strlen(n);
	return prefix(n, "XZHX") || (prefix(n, "SP") && len >= 5 && toupper((unsigned char)n[4]) == 'B') ||
	       (prefix(n, "SP1") && len >= 6 && toupper((unsigned char)n[5]) == 'B');
}

static bool has_service(const struct gw_ble_seen *d, long u16)
{
	for (int i = 0; i < d->nuuids; i++)
		if (gw_ble_uuid16(d->uuids[i]) == u16)
			return true;
	return false;
}

void gw_ble_classify(const struct gw_ble_seen *d, struct gw_ble_guess *g)
{
	g->protocol = NULL;
	g->why = "";
	g->pairing = false;
	for (int i = 0; i < d->nmfr; i++)
		if (d->companies[i] == VICTRON_COMPANY) {
			g->protocol = "victron-ble";
			g->why = "Victron Instant Readout advertisements (key: VictronConnect, Product info)";
			return;
		}
	const char *n = d->name;
	if (prefix(n, "JK-") || prefix(n, "JK_") || prefix(n, "JK02")) {
		g->protocol = "jk-ble";
		g->why = "name JK-*";
		g->pairing = true; /* hardware V19 with firmware 19.3x+ */
		return;
	}
	if (prefix(n, "DL-") || prefix(n, "JHB-")) {
		g->protocol = "daly-modbus";
		g->why = "name DL-* (Daly since 2023)";
		return;
	}
	if (seplos3_name(n)) {
		g->protocol = "seplos3";
		g->why = "name SP??B* / XZHX* (Seplos V3)";
		return;
	}
	if (prefix(n, "xiaoxiang") || prefix(n, "JBD-") || prefix(n, "SP0") || prefix(n, "SP1") ||
	    prefix(n, "SP2") || prefix(n, "DWF") || prefix(n, "SX1")) {
		g->protocol = "jbd";
		g->why = "name (JBD / Xiaoxiang)";
		g->pairing = true; /* the newest JBD firmware asks for a passkey */
		return;
	}
	if (has_service(d, 0xFF00)) {
		g->protocol = "jbd";
		g->why = "service FF00 (JBD / Xiaoxiang)";
		g->pairing = true;
		return;
	}
	if (has_service(d, 0xFFE0)) {
		g->protocol = "jk-ble";
		g->why = "service FFE0 (JK)";
		g->pairing = true;
		return;
	}
	if (has_service(d, 0x1000)) {
		g->protocol = "eg4-ll";
		g->why = "service 1000 (EG4-LL)";
		return;
	}
	if (has_service(d, 0xFFF0)) {
		g->protocol = "daly";
		g->why = "service FFF0 (Daly: daly with the classic dongle, daly-modbus since 2023)";
		return;
	}
}
