/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/ble.h - Bluetooth LE through BlueZ's D-Bus API (ble.c and
 * the files ble_int.h lists) and the pure helpers of `bmsgw --ble-scan`
 * (bleclass.c).
 *
 * A ble:// link is the transport gw_transport_ble (wire.h): one BlueZ
 * client per process (struct gw_ble), on the daemon's libev loop, shared by
 * every BLE link.  Built only with libsystemd (HAVE_SYSTEMD); the
 * classification below is pure and always built.
 */
#ifndef GATEWAY_WIRE_BLE_BLE_H
#define GATEWAY_WIRE_BLE_BLE_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct gw_ble;

/* What --ble-scan knows of one device (from BlueZ's Device1 properties). */
#define GW_BLE_MAX_UUIDS 8
#define GW_BLE_MAX_MFR 4
#define GW_BLE_MAX_SDATA 4
struct gw_ble_seen {
	char address[18];
	char name[64];                  /* "" = none advertised */
	bool have_rssi;
	int rssi;                       /* dBm */
	bool paired;
	int nuuids;
	char uuids[GW_BLE_MAX_UUIDS][37]; /* service UUIDs, lower case */
	int nmfr;
	uint16_t companies[GW_BLE_MAX_MFR]; /* ManufacturerData keys */
	int nsdata;
	char sdata[GW_BLE_MAX_SDATA][37]; /* ServiceData keys: the UUIDs of service data, lower case */
};

/* The likely protocol of a scanned device and what to tell the user. */
struct gw_ble_guess {
	const char *protocol;           /* a protocol = key, or NULL when unknown */
	const char *why;                /* "name JK-*", "service FF00" ... */
	bool pairing;                   /* may need `bluetoothctl pair` first */
};
/* Pure: guess from the name, the advertised service UUIDs and the
 * manufacturer data's company ids (Victron 0x02E1 -> victron-ble, names
 * JK-* -> jk-ble, DL-* -> daly-modbus, xiaoxiang / JBD-* -> jbd, services
 * FF00 -> jbd, FFE0 -> jk-ble, FFF0 -> daly). */
void gw_ble_classify(const struct gw_ble_seen *d, struct gw_ble_guess *g);
/* bmsgw --ble-scan's list, through BlueZ or an ESPHome proxy alike: its
 * header line, and one device's line (address, RSSI, name, the likely
 * protocol and why; with `pairing`, BlueZ's, whether it may need
 * bluetoothctl pair). */
void gw_ble_scan_header(FILE *out);
void gw_ble_scan_line(FILE *out, const struct gw_ble_seen *s, bool pairing);
/* "0000ff00-0000-1000-8000-00805f9b34fb" -> 0xFF00; -1 for a UUID that is
 * not of the Bluetooth base (a vendor's 128-bit UUID). */
long gw_ble_uuid16(const char *uuid);

/* The two below exist with libsystemd only (HAVE_SYSTEMD), and are declared
 * either way: no header tests HAVE_SYSTEMD (see gateway/wire/wire.h). */
/* Close every BLE link's device (sent before the bus is flushed) and free
 * the client; NULL is fine. */
void gw_ble_free(struct gw_ble *b);
/* bmsgw --ble-scan: discovery on `adapter` ("" = BlueZ's default) for
 * `seconds`, then one line per device found to out.  Returns the exit code. */
int gw_ble_scan(struct ev_loop *loop, const char *adapter, double seconds, FILE *out);
/* The same as a job of a loop that does other things (the setup API): a
 * BlueZ client of its own, discovery on `adapter` for `seconds`, then
 * done(arg, failed) (never from inside this call); NULL with why when the
 * system bus cannot be opened. */
struct gw_ble_scanjob;
typedef void gw_ble_scan_done(void *arg, bool failed);
struct gw_ble_scanjob *gw_ble_scan_job(struct ev_loop *loop, const char *adapter, double seconds,
				       gw_ble_scan_done *done, void *arg, char *why, size_t wl);
/* After done: the devices seen, strongest first (*seen), and why it failed
 * (NULL when it did not). */
int gw_ble_scan_job_seen(const struct gw_ble_scanjob *j, const struct gw_ble_seen **seen, const char **why);
/* The adapter it scanned on ("hci0"). */
const char *gw_ble_scan_job_adapter(const struct gw_ble_scanjob *j);
/* Discovery stopped (if it runs), freed; NULL is fine. */
void gw_ble_scan_job_free(struct gw_ble_scanjob *j);

#endif
