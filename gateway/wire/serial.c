/* SPDX-License-Identifier: MIT */
/* gateway/wire/serial.c - the serial transport: a local serial port.
 *
 * Opened with libserialport (8N1, no flow control, the configured baud),
 * made non-blocking and locked exclusively; devices libserialport does not
 * recognise as serial ports (ptys, some converters) are opened with
 * termios instead, and their settings restored at close.
 *
 * Exclusive, so that no second program garbles a bus bmsgw is master of:
 * flock(LOCK_EX) refuses another program that locks the same way (a
 * second bmsgw, ser2net, `bmsgw --detect`), and TIOCEXCL (tty_ioctl(4))
 * makes the kernel refuse every further open() of the tty with EBUSY, a
 * process with CAP_SYS_ADMIN (root) excepted.  `bmsgw --detect` also finds
 * the holder in /proc and refuses the port by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "../core/log.h"
#include "wire_int.h"

/* A serial link's own state (l->tr_data). */
struct serial {
	struct gw_line line;           /* the line settings */
	struct sp_port *sp;            /* libserialport handle (NULL for termios) */
	struct termios saved_tio;      /* termios fallback: the settings before we opened it */
	bool have_saved_tio;
};

int gw_serial_setup(struct gw_link *l, const struct gw_line *line)
{
	struct serial *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->line = *line;
	l->tr_data = s;
	return 0;
}

/* A pack's serial port: 8N1 at its baud. */
static int serial_setup(struct gw_link *l, const struct conf_pack *cfg)
{
	return gw_serial_setup(l, &(struct gw_line){ cfg->baud, 'N', 1 });
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

/* Fallback for ttys libserialport refuses (ptys): raw, 8 bits, the link's
 * parity and stop bits, with termios. */
static int open_termios(struct gw_link *l)
{
	struct serial *s = l->tr_data;
	int fd = open(l->port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct termios t;
	speed_t sp;
	if (!isatty(fd) || lock_port(fd) < 0 || tcgetattr(fd, &t) < 0 ||
	    baud_to_speed(s->line.baud, &sp) < 0) {
		int e = errno ? errno : ENOTTY;
		close(fd);
		errno = e;
		return -1;
	}
	/* restored at close, as mbusd and tio do: the next program finds the
	 * port as it was (a getty, a modem tool) */
	s->saved_tio = t;
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | PARODD | CRTSCTS);
	t.c_cflag |= CLOCAL | CREAD | CS8;
	if (s->line.parity == 'E' || s->line.parity == 'O')
		t.c_cflag |= PARENB | (s->line.parity == 'O' ? PARODD : 0);
	if (s->line.stop_bits == 2)
		t.c_cflag |= CSTOPB;
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;
		(void)tcsetattr(fd, TCSANOW, &s->saved_tio);
		close(fd);
		errno = e;
		return -1;
	}
	s->have_saved_tio = true;
	return fd;
}

/* A serial port through libserialport: open, lock, then 8 bits, the
 * parity and the stop bits of the link at its baud. */
static int open_sp(struct gw_link *l, struct sp_port *sp)
{
	const struct serial *s = l->tr_data;
	int fd = -1;
	if (sp_open(sp, SP_MODE_READ_WRITE) != SP_OK || sp_get_port_handle(sp, &fd) != SP_OK)
		goto sp_failed;
	if (lock_port(fd) < 0) {
		int e = errno;
		sp_close(sp);
		errno = e;
		return -1;
	}
	enum sp_parity par = s->line.parity == 'E' ? SP_PARITY_EVEN : s->line.parity == 'O' ? SP_PARITY_ODD
											      : SP_PARITY_NONE;
	if (sp_set_baudrate(sp, s->line.baud) != SP_OK || sp_set_bits(sp, 8) != SP_OK ||
	    sp_set_parity(sp, par) != SP_OK || sp_set_stopbits(sp, s->line.stop_bits == 2 ? 2 : 1) != SP_OK ||
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
	struct serial *s = l->tr_data;
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
		s->sp = sp;
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

/* Another baud rate on the open port (bmsgw --detect listens and probes at
 * several); what arrived at the old rate is dropped. */
static int serial_set_baud(struct gw_link *l, int baud)
{
	struct serial *s = l->tr_data;
	s->line.baud = baud;
	if (l->state != GW_LINK_UP)
		return 0;
	if (s->sp) {
		if (sp_set_baudrate(s->sp, baud) != SP_OK) {
			errno = EINVAL;
			return -1;
		}
	} else {
		struct termios t;
		speed_t sp;
		if (tcgetattr(l->fd, &t) < 0)
			return -1;
		if (baud_to_speed(baud, &sp) < 0) {
			errno = EINVAL;
			return -1;
		}
		cfsetispeed(&t, sp);
		cfsetospeed(&t, sp);
		if (tcsetattr(l->fd, TCSANOW, &t) < 0)
			return -1;
	}
	(void)tcflush(l->fd, TCIFLUSH);
	return 0;
}

static void serial_open(struct gw_link *l)
{
	errno = 0;
	int fd = open_serial(l);
	if (fd < 0) {
		gw_link_failed(l, "open", errno);
		return;
	}
	gw_link_attach(l, fd);
	gw_link_up(l);
}

/* The descriptor (and libserialport's handle, or the settings termios
 * found, put back). */
static void serial_close(struct gw_link *l)
{
	struct serial *s = l->tr_data;
	if (s->sp) {
		sp_close(s->sp);
		sp_free_port(s->sp);
		s->sp = NULL;
		l->fd = -1; /* libserialport's */
	} else if (l->fd >= 0 && s->have_saved_tio) {
		(void)tcsetattr(l->fd, TCSANOW, &s->saved_tio);
	}
	s->have_saved_tio = false;
	gw_link_fd_close(l);
}

const struct gw_transport gw_transport_serial = {
	.name = "serial",
	.bms_link = BMS_LINK_WIRE,
	.fds = 2, /* the device, the poll timerfd */
	.eof_why = "device hung up", /* the adapter vanished (hangup) */
	.zero_read_may_be_empty = true,
	.setup = serial_setup,
	.open = serial_open,
	.close = serial_close,
	.set_baud = serial_set_baud,
};
