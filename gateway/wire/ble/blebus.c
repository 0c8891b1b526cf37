/* SPDX-License-Identifier: MIT */
/* gateway/wire/ble/blebus.c - sd-bus (libsystemd) on the daemon's libev
 * loop: the system bus of the BlueZ client opened and closed.
 *
 * sd-bus is driven the way sd_bus_get_fd(3) describes: an ev_io on
 * sd_bus_get_fd() for sd_bus_get_events(), an ev_timer at
 * sd_bus_get_timeout() (absolute CLOCK_MONOTONIC microseconds, UINT64_MAX =
 * none), both re-armed from an ev_prepare before every loop iteration, and
 * sd_bus_process() until it returns 0.  Every method call is asynchronous
 * with its own timeout (sd_bus_call_async, blecall.c): nothing waits.
 * sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS (sd_bus_default(3)),
 * which is how the tests put a fake BlueZ in front of it.
 */
#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble_int.h"
#include "../../core/clock.h"
#include "../../core/util.h"

static void bus_close(struct gw_ble *m, const char *why);

static void bus_run(struct gw_ble *m)
{
	if (!m->bus || m->processing)
		return;
	m->processing = true;
	for (;;) {
		int r = sd_bus_process(m->bus, NULL);
		if (r < 0) {
			m->dead = true;
			snprintf(m->dead_why, sizeof(m->dead_why), "the D-Bus system bus connection failed: %s",
				 strerror(-r));
			break;
		}
		if (r == 0 || m->dead)
			break;
	}
	m->processing = false;
	if (m->dead)
		bus_close(m, m->dead_why);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	bus_run(container_of(w, struct gw_ble, io));
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	bus_run(container_of(w, struct gw_ble, timer));
}

/* Before the loop sleeps: the descriptor's events and the next timeout as
 * sd-bus wants them now. */
static void prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)revents;
	struct gw_ble *m = container_of(w, struct gw_ble, prep);
	if (!m->bus)
		return;
	int fd = sd_bus_get_fd(m->bus), ev = sd_bus_get_events(m->bus);
	if (fd < 0 || ev < 0) {
		bus_close(m, "the D-Bus system bus connection closed");
		return;
	}
	int want = (ev & POLLIN ? EV_READ : 0) | (ev & POLLOUT ? EV_WRITE : 0);
	if (!ev_is_active(&m->io) || m->io.fd != fd || m->io.events != want) {
		ev_io_stop(loop, &m->io);
		if (want) {
			ev_io_set(&m->io, fd, want);
			ev_io_start(loop, &m->io);
		}
	}
	uint64_t until = UINT64_MAX;
	ev_timer_stop(loop, &m->timer);
	if (sd_bus_get_timeout(m->bus, &until) >= 0 && until != UINT64_MAX) {
		uint64_t now = gw_mono_usec();
		double after = until > now ? (double)(until - now) / 1e6 : 0.;
		ev_timer_set(&m->timer, after, 0.);
		ev_timer_start(loop, &m->timer);
	}
}

int ble_bus_open(struct gw_ble *m, char *why, size_t wl)
{
	if (m->bus)
		return 0;
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);
	if (r < 0) {
		snprintf(why, wl, "cannot reach the D-Bus system bus: %s", strerror(-r));
		return -1;
	}
	m->bus = bus;
	m->dead = false;
	if ((r = ble_mirror_watch(bus, m)) < 0) {
		snprintf(why, wl, "D-Bus: cannot watch BlueZ's signals: %s", strerror(-r));
		m->bus = sd_bus_flush_close_unref(bus);
		return -1;
	}
	ev_prepare_start(m->loop, &m->prep);
	ble_objects_request(m);
	return 0;
}

/* Forget the mirror (and the discovery calls in flight on its adapters)
 * and take the bus off the loop. */
static void bus_unwatch(struct gw_ble *m)
{
	for (struct ble_obj *o = m->objs; o; o = o->next)
		o->disc_slot = sd_bus_slot_unref(o->disc_slot);
	ble_objs_clear(m);
	ev_io_stop(m->loop, &m->io);
	ev_timer_stop(m->loop, &m->timer);
	ev_prepare_stop(m->loop, &m->prep);
}

/* The bus failed: every link fails with why, the mirror is dropped. */
static void bus_close(struct gw_ble *m, const char *why)
{
	if (!m->bus || m->processing)
		return;
	m->ready = false;
	m->objects_call = sd_bus_slot_unref(m->objects_call);
	ble_fail_all(m, why);
	bus_unwatch(m);
	m->bus = sd_bus_close_unref(m->bus);
}

struct gw_ble *ble_new(struct ev_loop *loop, const struct ble_users *users)
{
	struct gw_ble *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->loop = loop;
	m->users = users;
	ev_init(&m->io, io_cb);
	ev_init(&m->timer, timer_cb);
	ev_prepare_init(&m->prep, prep_cb);
	return m;
}

void gw_ble_free(struct gw_ble *m)
{
	if (!m)
		return;
	bus_unwatch(m);
	m->objects_call = sd_bus_slot_unref(m->objects_call);
	/* the Disconnect()s and StopDiscovery()s sent at close go out now: the
	 * local bus daemon reads them at once (nothing waits for BlueZ) */
	if (m->bus)
		m->bus = sd_bus_flush_close_unref(m->bus);
	free(m);
}

#endif /* HAVE_SYSTEMD */
