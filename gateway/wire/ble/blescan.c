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

static void seen_of(const struct ble_obj *o, struct gw_ble_seen *out)
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
	s.nsdata = o->nsdata;
	memcpy(s.sdata, o->sdata, sizeof(s.sdata));
	*out = s;
}

/* One line: address, RSSI, name, the likely protocol and why, pairing. */
static void print_device(FILE *out, const struct ble_obj *o)
{
	struct gw_ble_seen s;
	seen_of(o, &s);
	gw_ble_scan_line(out, &s, true);
}

/* The devices seen on the scan's adapter, strongest first: *n of them
 * (malloc'd, NULL with none). */
static struct ble_obj **seen_list(struct gw_ble *m, size_t *count)
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
	*count = n;
	return v;
}

static void print_list(struct gw_ble *m, FILE *out)
{
	size_t n;
	struct ble_obj **v = seen_list(m, &n);
	gw_ble_scan_header(out);
	for (size_t i = 0; i < n; i++)
		print_device(out, v[i]);
	fprintf(out, "%zu device(s)\n", n);
	fflush(out);
	free(v);
}

/* Our discovery stopped; the message goes out when the bus is flushed. */
static void scan_stop(struct gw_ble *m)
{
	struct ble_obj *ad = m->bus && m->scan_path[0] ? ble_obj_find(m, m->scan_path) : NULL;
	m->scan_adapter = NULL;
	if (ad && ad->disc_on && m->bus)
		(void)ble_call(m, NULL, ad->path, IF_ADAPTER, "StopDiscovery", NULL, NULL, 0, NULL);
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
	scan_stop(m);
	gw_ble_free(m);
	return rc;
}

/* ---- the same as a job of a daemon's loop (the setup API) ---- */

struct gw_ble_scanjob {
	struct gw_ble *m;
	struct ev_loop *loop;
	char adapter[32];
	double seconds, deadline;
	bool scanning, ended, failed;
	char why[320];
	ev_timer t;
	gw_ble_scan_done *done;
	void *arg;
	struct gw_ble_seen *seen;
	int nseen;
};

static void job_end(struct gw_ble_scanjob *j, const char *why)
{
	j->ended = true;
	ev_timer_stop(j->loop, &j->t);
	if (why) {
		j->failed = true;
		snprintf(j->why, sizeof(j->why), "%s", why);
	}
	size_t n = 0;
	struct ble_obj **v = seen_list(j->m, &n);
	if (n && (j->seen = calloc(n, sizeof(*j->seen))))
		for (size_t i = 0; i < n; i++)
			seen_of(v[j->nseen], &j->seen[j->nseen]), j->nseen++;
	free(v);
	scan_stop(j->m);
	j->done(j->arg, j->failed);
}

/* Waits on the loop, never in it: discovery started (or failed), then its
 * seconds. */
static void job_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct gw_ble_scanjob *j = w->data;
	struct gw_ble *m = j->m;
	if (m->scan_failed || !m->bus) {
		job_end(j, m->scan_failed ? m->scan_error : "the D-Bus system bus connection closed");
		return;
	}
	if (j->scanning) {
		job_end(j, NULL);
		return;
	}
	if (m->scan_started) {
		j->scanning = true;
		ev_timer_set(w, j->seconds, 0.);
	} else if (ev_now(loop) > j->deadline) {
		job_end(j, "BlueZ did not start discovery in time");
		return;
	} else {
		ev_timer_set(w, 0.05, 0.);
	}
	ev_timer_start(loop, w);
}

struct gw_ble_scanjob *gw_ble_scan_job(struct ev_loop *loop, const char *adapter, double seconds,
				       gw_ble_scan_done *done, void *arg, char *why, size_t wl)
{
	static const struct ble_users scan_users = { NULL, NULL, ble_scan_objects, ble_scan_fail };
	struct gw_ble_scanjob *j = calloc(1, sizeof(*j));
	if (!j || !(j->m = ble_new(loop, &scan_users))) {
		free(j);
		snprintf(why, wl, "out of memory");
		return NULL;
	}
	j->loop = loop;
	snprintf(j->adapter, sizeof(j->adapter), "%s", adapter ? adapter : "");
	j->m->scan_adapter = j->adapter;
	j->seconds = seconds;
	j->done = done;
	j->arg = arg;
	if (ble_bus_open(j->m, why, wl) < 0) {
		gw_ble_free(j->m);
		free(j);
		return NULL;
	}
	j->deadline = ev_now(loop) + 2 * (double)CALL_TIMEOUT / USEC + 1;
	ev_timer_init(&j->t, job_timer_cb, 0.05, 0.);
	j->t.data = j;
	ev_timer_start(loop, &j->t);
	return j;
}

int gw_ble_scan_job_seen(const struct gw_ble_scanjob *j, const struct gw_ble_seen **seen, const char **why)
{
	*seen = j->seen;
	*why = j->failed ? j->why : NULL;
	return j->nseen;
}

const char *gw_ble_scan_job_adapter(const struct gw_ble_scanjob *j)
{
	return j->m && j->m->scan_path[0] ? strrchr(j->m->scan_path, '/') + 1 : j->adapter;
}

void gw_ble_scan_job_free(struct gw_ble_scanjob *j)
{
	if (!j)
		return;
	ev_timer_stop(j->loop, &j->t);
	if (!j->ended)
		scan_stop(j->m);
	gw_ble_free(j->m);
	free(j->seen);
	free(j);
}

#endif /* HAVE_SYSTEMD */
