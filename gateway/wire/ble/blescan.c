/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/blescan.c - bmsgw --ble-scan: discovery on one adapter
 * for a while, then one line per device seen, strongest first, with the
 * protocol it likely speaks (bleclass.c).
 *
 * The scan is a client of its own (struct gw_ble) with no links: the
 * mirror (blemirror.c) marks the devices BlueZ reports during the scan,
 * discovery (bledisc.c) runs while scan_adapter is set, and what fails on
 * the way lands in scan_error.
 */
#ifdef HAVE_SYSTEMD

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble_int.h"
#include "../../core/clock.h"

/* The scan failed: why, for --ble-scan to print. */
static void ble_scan_fail(struct gw_ble *m, const char *why)
{
	m->scan_failed = true;
	snprintf(m->scan_error, sizeof(m->scan_error), "%s", why);
}

/* BlueZ's objects are mirrored: the scan's adapter, and discovery on it. */
static void ble_scan_objects(struct gw_ble *m)
{
	struct ble_obj *ad = ble_adapter_find(m, m->scan_adapter);
	if (!ad) {
		ble_scan_fail(m, m->scan_adapter[0] ? "no such Bluetooth adapter (bluetoothctl list shows them)"
						    : "no Bluetooth adapter (bluetoothctl list shows none)");
	} else if (!ad->powered) {
		m->scan_failed = true;
		snprintf(m->scan_error, sizeof(m->scan_error), "adapter %s is powered off (bluetoothctl power on)",
			 strrchr(ad->path, '/') + 1);
	} else {
		snprintf(m->scan_path, sizeof(m->scan_path), "%s", ad->path);
		ble_disc_update(m, ad);
	}
}

static void scan_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* Open the bus and wait until discovery runs (or fails): BlueZ's objects,
 * the filter, StartDiscovery.  -1 once stderr says why. */
static int scan_start(struct gw_ble *m)
{
	char why[200];
	if (ble_bus_open(m, why, sizeof(why)) < 0) {
		fprintf(stderr, "bmsgw: --ble-scan: %s\n", why);
		return -1;
	}
	ev_timer t;
	ev_timer_init(&t, scan_timer_cb, 0.05, 0.);
	double deadline = gw_mono() + 2 * (double)CALL_TIMEOUT / USEC + 1;
	while (!m->scan_started && !m->scan_failed && m->bus && gw_mono() < deadline) {
		ev_timer_set(&t, 0.05, 0.);
		ev_timer_start(m->loop, &t);
		ev_run(m->loop, EVRUN_ONCE);
		ev_timer_stop(m->loop, &t);
	}
	if (!m->scan_started) {
		fprintf(stderr, "bmsgw: --ble-scan: %s\n", m->scan_failed ? m->scan_error
			: !m->bus ? "the D-Bus system bus connection closed" : "BlueZ did not start discovery in time");
		return -1;
	}
	return 0;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct ble_obj *x = *(const struct ble_obj *const *)a, *y = *(const struct ble_obj *const *)b;
	int rx = x->have_rssi ? x->rssi : -1000, ry = y->have_rssi ? y->rssi : -1000;
	return rx != ry ? ry - rx : strcmp(x->address, y->address);
}

/* One line: address, RSSI, name, the likely protocol and why, pairing. */
static void print_device(FILE *out, const struct ble_obj *o)
{
	struct gw_ble_seen s;
	memset(&s, 0, sizeof(s));
	snprintf(s.address, sizeof(s.address), "%s", o->address);
	snprintf(s.name, sizeof(s.name), "%s", o->name);
	s.have_rssi = o->have_rssi;
	s.rssi = o->rssi;
	s.paired = o->paired;
	s.nuuids = o->nuuids;
	memcpy(s.uuids, o->uuids, sizeof(s.uuids));
	s.nmfr = o->nmfr;
	for (int k = 0; k < o->nmfr; k++)
		s.companies[k] = o->mfr[k].company;
	gw_ble_scan_line(out, &s, true);
}

/* The devices seen on the scan's adapter, strongest first. */
static void print_list(struct gw_ble *m, FILE *out)
{
	size_t n = 0, cap = 0;
	struct ble_obj **v = NULL;
	for (struct ble_obj *o = m->objs; o; o = o->next) {
		if (!(o->ifs & OBJ_DEVICE) || !o->seen || !ble_under(o->path, m->scan_path))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct ble_obj **nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		v[n++] = o;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_seen);
	gw_ble_scan_header(out);
	for (size_t i = 0; i < n; i++)
		print_device(out, v[i]);
	fprintf(out, "%zu device(s)\n", n);
	fflush(out);
	free(v);
}

int gw_ble_scan(struct ev_loop *loop, const char *adapter, double seconds, FILE *out)
{
	static const struct ble_users scan_users = { NULL, NULL, ble_scan_objects, ble_scan_fail };
	struct gw_ble *m = ble_new(loop, &scan_users);
	if (!m) {
		fprintf(stderr, "bmsgw: --ble-scan: out of memory\n");
		return 1;
	}
	m->scan_adapter = adapter ? adapter : "";
	if (scan_start(m) < 0) {
		gw_ble_free(m);
		return 1;
	}
	fprintf(stderr, "bmsgw: scanning on %s for %g s ...\n", strrchr(m->scan_path, '/') + 1, seconds);
	ev_timer t;
	ev_timer_init(&t, scan_timer_cb, seconds, 0.);
	ev_timer_start(loop, &t);
	while (ev_is_active(&t) && !m->scan_failed && m->bus)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	int rc = 0;
	if (m->scan_failed || !m->bus) {
		fprintf(stderr, "bmsgw: --ble-scan: %s\n", m->scan_failed ? m->scan_error : "the D-Bus connection closed");
		rc = 1;
	}
	print_list(m, out);
	/* stop our discovery; the message goes out when the bus is flushed */
	m->scan_adapter = NULL;
	struct ble_obj *ad = m->bus ? ble_obj_find(m, m->scan_path) : NULL;
	if (ad && ad->disc_on && m->bus)
		(void)ble_call(m, NULL, ad->path, IF_ADAPTER, "StopDiscovery", NULL, NULL, 0, NULL);
	gw_ble_free(m);
	return rc;
}

#endif /* HAVE_SYSTEMD */
