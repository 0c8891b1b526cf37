/* SPDX-License-Identifier: MIT */
/* gateway/venus/venus_conn.c - one sd-bus connection of the Venus OS
 * output on the daemon's libev loop, as the BlueZ client drives its own
 * (wire/ble/blebus.c, sd_bus_get_fd(3)): an ev_io on sd_bus_get_fd() for
 * sd_bus_get_events(), an ev_timer at sd_bus_get_timeout(), both set again
 * from an ev_prepare before the loop sleeps, and sd_bus_process() until it
 * has nothing more.  Every call it makes is asynchronous; nothing waits.
 *
 * "system" is the system bus (DBUS_SYSTEM_BUS_ADDRESS when set, as
 * sd_bus_open_system(3) takes it, else /run/dbus/system_bus_socket); any
 * other address is taken as it is.  The connection's end (the bus daemon
 * gone, a read or write failed) is told to its owner once, out of
 * sd_bus_process(), and the connection is closed.
 */
#ifdef HAVE_SYSTEMD

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/clock.h"
#include "../core/util.h"
#include "venus_int.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-bus.h>
#endif

static void conn_end(struct vn_conn *c, const char *why)
{
	void (*gone)(struct vn_conn *, const char *) = c->gone;
	vn_conn_close(c);
	if (gone)
		gone(c, why);
}

static void run(struct vn_conn *c)
{
	if (!c->bus || c->processing)
		return;
	c->processing = true;
	int r = 0;
	while (c->bus && !c->dead && !c->closing && (r = sd_bus_process(c->bus, NULL)) > 0)
		;
	c->processing = false;
	if (c->closing)
		vn_conn_close(c);
	else if (c->bus && (r < 0 || c->dead || sd_bus_is_open(c->bus) <= 0))
		conn_end(c, r < 0 ? strerror(-r) : "the bus closed the connection");
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run(container_of(w, struct vn_conn, io));
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run(container_of(w, struct vn_conn, timer));
}

/* Before the loop sleeps: the descriptor's events and the next timeout as
 * sd-bus wants them now (a message queued since is written then). */
static void prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)revents;
	struct vn_conn *c = container_of(w, struct vn_conn, prep);
	if (!c->bus)
		return;
	int fd = sd_bus_get_fd(c->bus), ev = sd_bus_get_events(c->bus);
	if (fd < 0 || ev < 0) {
		conn_end(c, "the connection closed");
		return;
	}
	int want = (ev & POLLIN ? EV_READ : 0) | (ev & POLLOUT ? EV_WRITE : 0);
	if (!ev_is_active(&c->io) || c->io.fd != fd || c->io.events != want) {
		ev_io_stop(loop, &c->io);
		if (want) {
			ev_io_set(&c->io, fd, want);
			ev_io_start(loop, &c->io);
		}
	}
	uint64_t until = UINT64_MAX;
	ev_timer_stop(loop, &c->timer);
	if (sd_bus_get_timeout(c->bus, &until) >= 0 && until != UINT64_MAX) {
		uint64_t now = gw_mono_usec();
		ev_timer_set(&c->timer, until > now ? (double)(until - now) / 1e6 : 0., 0.);
		ev_timer_start(loop, &c->timer);
	}
}

int vn_conn_open(struct vn_conn *c, struct ev_loop *loop, const char *address)
{
	if (c->bus)
		return 0;
	c->loop = loop;
	ev_init(&c->io, io_cb);
	ev_init(&c->timer, timer_cb);
	ev_prepare_init(&c->prep, prep_cb);
	const char *a = address;
	if (strcmp(address, "system") == 0) {
		a = getenv("DBUS_SYSTEM_BUS_ADDRESS");
		if (!a || !*a)
			a = "unix:path=/run/dbus/system_bus_socket";
	}
	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, a);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	c->bus = bus;
	c->dead = false;
	ev_prepare_start(loop, &c->prep);
	return 0;
}

void vn_conn_close(struct vn_conn *c)
{
	if (!c->bus)
		return;
	if (c->processing) {
		c->closing = true; /* run() closes it once sd_bus_process() is back */
		return;
	}
	ev_io_stop(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->timer);
	ev_prepare_stop(c->loop, &c->prep);
	/* not flushed: the names it owns go with it, and a bus away would not take it */
	c->bus = sd_bus_close_unref(c->bus);
	c->dead = c->closing = false;
}

#endif /* HAVE_SYSTEMD */
