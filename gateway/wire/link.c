/* gateway/wire/link.c - one wire: the generic link and the serial and TCP
 * transports.
 *
 * A link is one `port` string.  What is common to every kind lives here:
 * the state (down, resolving, connecting, up), the reopen with capped
 * exponential backoff, the outage logged once when it starts and once when
 * it ends, the send buffer, and the bytes handed to the poller (or to a
 * maintenance tunnel's tool).  What differs is one const struct
 * gw_transport per kind, as libmodbus has one backend per transport: serial
 * and TCP below, Bluetooth LE in ble.c.
 *
 * Serial ports are opened with libserialport (8N1, no flow control, the
 * configured baud), made non-blocking and locked exclusively; devices
 * libserialport does not recognise as serial ports (ptys, some converters)
 * are opened with termios instead.  TCP serial servers (USR-N540 style, raw
 * mode) get their name resolved off the loop (resolve.c), then a
 * non-blocking connect with keepalive.  Every failure closes the
 * wire and schedules a reopen with capped exponential backoff; an outage is
 * logged once when it starts and once when it ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "../core/log.h"
#include "../core/net.h"
#include "../core/resolve.h"
#include "../core/util.h"
#include "wire.h"

#define CONNECT_TIMEOUT 5.0

static void link_io_cb(struct ev_loop *loop, ev_io *w, int revents);

const struct gw_transport *gw_link_transport(const struct conf_pack *cfg)
{
#ifdef HAVE_SYSTEMD
	if (cfg->is_ble)
		return &gw_transport_ble;
#endif
	return cfg->is_tcp ? &gw_transport_tcp : &gw_transport_serial;
}

static void link_set_events(struct gw_link *l)
{
	int ev = EV_READ;
	if (l->state == GW_LINK_CONNECTING || l->txoff < l->txlen)
		ev |= EV_WRITE;
	if (ev_is_active(&l->io) && l->io.events == ev)
		return;
	ev_io_stop(l->gw->loop, &l->io);
	ev_io_set(&l->io, l->fd, ev);
	ev_io_start(l->gw->loop, &l->io);
}

static void link_failed(struct gw_link *l, const char *what, int err)
{
	char why[160];
	snprintf(why, sizeof(why), "%s: %s", what, err ? strerror(err) : "failed");
	gw_link_close(l, why);
}

void gw_link_up(struct gw_link *l)
{
	l->state = GW_LINK_UP;
	l->opens++;
	ev_timer_stop(l->gw->loop, &l->conn_timer);
	double outage = gw_retry_up(&l->rt);
	if (outage >= 0)
		gw_info("link %s: back after %.0f s", l->port, outage);
	else
		gw_info("link %s: open", l->port);
	if (l->fd >= 0)
		link_set_events(l);
	gw_poll_link_up(l);
}

static int baud_to_speed(int baud, speed_t *out)
{
	static const struct { int b; speed_t s; } t[] = {
		{1200, B1200}, {2400, B2400}, {4800, B4800}, {9600, B9600}, {19200, B19200},
		{38400, B38400}, {57600, B57600}, {115200, B115200}, {230400, B230400},
		{460800, B460800}, {921600, B921600},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].b == baud) {
			*out = t[i].s;
			return 0;
		}
	return -1;
}

/* Exclusive: no second bmsgw/ser2net/minicom on the same wire.  Taken
 * before any setting is changed, so a port another program holds is left
 * exactly as it is.  -1 with errno (EBUSY when someone holds it). */
static int lock_port(int fd)
{
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		errno = errno == EWOULDBLOCK ? EBUSY : errno;
		return -1;
	}
	(void)ioctl(fd, TIOCEXCL);
	return 0;
}

/* Fallback for ttys libserialport refuses (ptys): raw 8N1 with termios. */
static int open_termios(struct gw_link *l)
{
	int fd = open(l->port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct termios t;
	speed_t sp;
	if (!isatty(fd) || lock_port(fd) < 0 || tcgetattr(fd, &t) < 0 ||
	    baud_to_speed(l->cfg->baud, &sp) < 0) {
		int e = errno ? errno : ENOTTY;
		close(fd);
		errno = e;
		return -1;
	}
	/* restored at close, as mbusd and tio do: the next program finds the
	 * port as it was (a getty, a modem tool) */
	l->saved_tio = t;
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
	t.c_cflag |= CLOCAL | CREAD | CS8;
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;
		(void)tcsetattr(fd, TCSANOW, &l->saved_tio);
		close(fd);
		errno = e;
		return -1;
	}
	l->have_saved_tio = true;
	return fd;
}

/* A serial port through libserialport: open, lock, then 8N1 at the baud. */
static int open_sp(struct gw_link *l, struct sp_port *sp)
{
	int fd = -1;
	if (sp_open(sp, SP_MODE_READ_WRITE) != SP_OK || sp_get_port_handle(sp, &fd) != SP_OK)
		goto sp_failed;
	if (lock_port(fd) < 0) {
		int e = errno;
		sp_close(sp);
		errno = e;
		return -1;
	}
	if (sp_set_baudrate(sp, l->cfg->baud) != SP_OK || sp_set_bits(sp, 8) != SP_OK ||
	    sp_set_parity(sp, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(sp, 1) != SP_OK ||
	    sp_set_flowcontrol(sp, SP_FLOWCONTROL_NONE) != SP_OK)
		goto sp_failed;
	return fd;
sp_failed: {
	char *msg = sp_last_error_message();
	gw_debug("link %s: libserialport: %s", l->port, msg ? msg : "?");
	int e = sp_last_error_code();
	if (msg)
		sp_free_error_message(msg);
	sp_close(sp);
	errno = e ? e : EIO;
	return -1;
}
}

static int open_serial(struct gw_link *l)
{
	struct sp_port *sp = NULL;
	int fd;
	if (sp_get_port_by_name(l->port, &sp) == SP_OK) {
		fd = open_sp(l, sp);
		if (fd < 0) {
			int e = errno;
			sp_free_port(sp);
			errno = e;
			return -1;
		}
		l->sp = sp;
	} else {
		if (sp)
			sp_free_port(sp);
		fd = open_termios(l);
		if (fd < 0)
			return -1;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fd;
}

/* The wire's descriptor is open: watch it, from empty buffers. */
static void link_attach(struct gw_link *l, int fd)
{
	l->fd = fd;
	ev_io_init(&l->io, link_io_cb, fd, EV_READ);
	bms_rx_clear(&l->rx);
	l->txlen = l->txoff = 0;
}

/* The TCP serial server's address is known: start the connection. */
static void tcp_resolved(void *arg, const struct gw_lookup_result *res)
{
	struct gw_link *l = arg;
	if (!res->ok) {
		char why[400];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", l->cfg->tcp_host, res->error);
		gw_link_close(l, why);
		return;
	}
	bool in_progress = false;
	int fd = gw_tcp_connect((const struct sockaddr *)&res->addr, res->addrlen, true, &in_progress);
	if (fd < 0) {
		link_failed(l, "connect", errno);
		return;
	}
	link_attach(l, fd);
	if (in_progress) {
		l->state = GW_LINK_CONNECTING;
		link_set_events(l);
		ev_timer_stop(l->gw->loop, &l->conn_timer);
		ev_timer_set(&l->conn_timer, CONNECT_TIMEOUT, 0.);
		ev_timer_start(l->gw->loop, &l->conn_timer);
		return;
	}
	gw_link_up(l);
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct gw_link *l = container_of(w, struct gw_link, conn_timer);
	if (l->state == GW_LINK_CONNECTING)
		link_failed(l, "connect", ETIMEDOUT);
	else if (l->state == GW_LINK_DOWN)
		gw_link_open(l);
}

struct gw_link *gw_link_new(struct gw *gw, const struct conf_pack *cfg)
{
	struct gw_link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->gw = gw;
	l->cfg = cfg;
	l->port = cfg->port;
	l->tr = gw_link_transport(cfg);
	l->fd = -1;
	l->state = GW_LINK_DOWN;
	gw_retry_init(&l->rt);
	ev_init(&l->conn_timer, conn_timer_cb);
	ev_init(&l->io, link_io_cb);
	gw_poll_init(l);
	return l;
}

void gw_link_free(struct gw_link *l)
{
	if (!l)
		return;
	if (l->tunnel)
		gw_tunnel_wire_gone(l->tunnel); /* its tool is disconnected */
	l->cur = NULL;
	l->ps = GW_POLL_IDLE;
	gw_poll_free(l);
	l->packs = NULL;
	gw_link_close(l, NULL);
	if (l->tr->release)
		l->tr->release(l);
	free(l);
}

bool gw_link_is_up(const struct gw_link *l)
{
	return l->state == GW_LINK_UP;
}

bool gw_link_same_wire(const struct conf_pack *a, const struct conf_pack *b)
{
	if (strcmp(a->port, b->port) != 0)
		return false;
	if (a->is_ble) /* the same device through the same adapter */
		return strcmp(a->ble_adapter, b->ble_adapter) == 0;
	return a->is_tcp || a->baud == b->baud;
}

void gw_link_open(struct gw_link *l)
{
	l->tr->open(l);
}

static void tcp_open(struct gw_link *l)
{
	l->state = GW_LINK_RESOLVING;
	/* a numeric address answers at once; a name later, from the loop */
	gw_resolve(l->gw->resolver, l->cfg->tcp_host, l->cfg->tcp_port, tcp_resolved, l, &l->lookup);
}

static void serial_open(struct gw_link *l)
{
	errno = 0;
	int fd = open_serial(l);
	if (fd < 0) {
		link_failed(l, "open", errno);
		return;
	}
	link_attach(l, fd);
	gw_link_up(l);
}

/* serial and TCP: the descriptor (and libserialport's handle) */
static void fd_close(struct gw_link *l)
{
	if (l->sp) {
		sp_close(l->sp);
		sp_free_port(l->sp);
		l->sp = NULL;
	} else if (l->fd >= 0) {
		if (l->have_saved_tio)
			(void)tcsetattr(l->fd, TCSANOW, &l->saved_tio);
		close(l->fd);
	}
	l->have_saved_tio = false;
	l->fd = -1;
}

void gw_link_close(struct gw_link *l, const char *why)
{
	struct ev_loop *loop = l->gw->loop;
	bool was_up = l->state != GW_LINK_DOWN;
	gw_lookup_cancel(&l->lookup);
	ev_io_stop(loop, &l->io);
	ev_timer_stop(loop, &l->conn_timer);
	l->tr->close(l);
	l->state = GW_LINK_DOWN;
	l->txlen = l->txoff = 0;
	bms_rx_clear(&l->rx);
	if (why) {
		char who[CONF_PORT_MAX + 8];
		snprintf(who, sizeof(who), "link %s", l->port);
		ev_timer_set(&l->conn_timer, gw_retry_failed(&l->rt, who, why), 0.);
		ev_timer_start(loop, &l->conn_timer);
	}
	/* a failed open or connect also tells the poller (its polls fail until the wire is back) */
	if (why || was_up)
		gw_poll_link_down(l);
}

static size_t fd_drain(struct gw_link *l)
{
	uint8_t buf[512];
	ssize_t n;
	size_t total = 0;
	while ((n = read(l->fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

void gw_link_drain(struct gw_link *l)
{
	size_t total = l->rx.len;
	if (l->state == GW_LINK_UP)
		total += l->tr->drain(l);
	if (total)
		gw_debug("link %s: dropped %zu stale bytes before the request", l->port, total);
	bms_rx_clear(&l->rx);
}

/* serial and TCP: write what the descriptor takes now, the rest when it is writable */
static int fd_write(struct gw_link *l)
{
	ssize_t w = write(l->fd, l->tx + l->txoff, l->txlen - l->txoff);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		link_failed(l, "write", errno);
		return -1;
	}
	if (w > 0)
		l->txoff += (size_t)w;
	if (l->txoff >= l->txlen)
		l->txlen = l->txoff = 0;
	link_set_events(l);
	return 0;
}

int gw_link_append(struct gw_link *l, const uint8_t *p, size_t n)
{
	if (l->state != GW_LINK_UP)
		return -1;
	if (l->txoff) {
		memmove(l->tx, l->tx + l->txoff, l->txlen - l->txoff);
		l->txlen -= l->txoff;
		l->txoff = 0;
	}
	size_t room = sizeof(l->tx) - l->txlen;
	if (n > room)
		n = room;
	if (!n)
		return 0;
	memcpy(l->tx + l->txlen, p, n);
	l->txlen += n;
	gw_log_hex(l->port, p, n);
	if (l->tr->write(l) < 0)
		return -1;
	return (int)n;
}

int gw_link_send(struct gw_link *l, const uint8_t *p, size_t n)
{
	if (l->state != GW_LINK_UP || n > sizeof(l->tx))
		return -1;
	memcpy(l->tx, p, n);
	l->txlen = n;
	l->txoff = 0;
	gw_log_hex(l->port, p, n);
	return l->tr->write(l);
}

void gw_link_bytes(struct gw_link *l, const uint8_t *p, size_t n)
{
	gw_log_hex(l->port, p, n);
	if (l->tunnel && !l->lending)
		gw_tunnel_wire_bytes(l->tunnel, p, n);
	else
		gw_poll_bytes(l, p, n);
}

static void link_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	struct gw_link *l = container_of(w, struct gw_link, io);
	if (l->state == GW_LINK_CONNECTING) {
		if (!(revents & EV_WRITE))
			return;
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			link_failed(l, "connect", err);
			return;
		}
		gw_link_up(l);
		return;
	}
	if (revents & EV_WRITE && l->txoff < l->txlen) {
		ssize_t n = write(l->fd, l->tx + l->txoff, l->txlen - l->txoff);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			link_failed(l, "write", errno);
			return;
		}
		if (n > 0)
			l->txoff += (size_t)n;
		if (l->txoff >= l->txlen)
			l->txlen = l->txoff = 0;
		link_set_events(l);
		if (l->tunnel && !l->txlen)
			gw_tunnel_wire_drained(l->tunnel);
	}
	if (revents & EV_READ) {
		uint8_t buf[512];
		for (int i = 0; i < 16; i++) {
			ssize_t n = read(l->fd, buf, sizeof(buf));
			if (n > 0) {
				gw_link_bytes(l, buf, (size_t)n);
				if (l->state != GW_LINK_UP)
					return;
				if ((size_t)n < sizeof(buf))
					break;
				continue;
			}
			if (n == 0) {
				/* TCP: the server closed; tty: the adapter vanished (hangup) */
				link_failed(l, l->cfg->is_tcp ? "connection closed by the serial server"
							       : "device hung up", 0);
				return;
			}
			if (errno == EAGAIN || errno == EINTR)
				break;
			link_failed(l, "read", errno);
			return;
		}
	}
}

const struct gw_transport gw_transport_serial = {
	.name = "serial",
	.bms_link = BMS_LINK_WIRE,
	.fds = 2, /* the device, the poll timerfd */
	.open = serial_open,
	.close = fd_close,
	.write = fd_write,
	.drain = fd_drain,
};

const struct gw_transport gw_transport_tcp = {
	.name = "tcp",
	.bms_link = BMS_LINK_WIRE,
	.fds = 2, /* the socket, the poll timerfd */
	.silent_reopen = 3,
	.silent_why = "serial server passes no bytes; reconnecting",
	.open = tcp_open,
	.close = fd_close,
	.write = fd_write,
	.drain = fd_drain,
};
