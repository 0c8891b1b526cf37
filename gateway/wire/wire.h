/* gateway/wire/wire.h - one wire (a link): the transport half.
 *
 * A link is one `port` string: a serial device, a TCP serial server, a
 * Bluetooth LE device or a CAN bus a pack listens to.  link.c keeps what
 * every kind shares (the state, the reopen with backoff and the outage
 * logged once, the send buffer); one const struct gw_transport per kind
 * does the rest (serial.c, tcp.c, ble/, canlink.c), as libmodbus has one
 * backend per transport.
 *
 * A link never names who uses it: its owner installs callbacks (struct
 * gw_link_owner) and hears from it through them, as redis's connections
 * call only the handlers their owner set
 * (https://github.com/redis/redis/blob/unstable/src/connection.h).  The poller owns
 * a link (poll/poll.h); a maintenance tunnel takes it over while a tool
 * has the wire, and hands it back.
 */
#ifndef GATEWAY_WIRE_WIRE_H
#define GATEWAY_WIRE_WIRE_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../core/retry.h"

struct gw_lookup;
struct gw_link;
struct gw_ble;
struct gw_ble_link;
struct gw_resolver;
struct gw_can;

/* What every link of the process shares (struct gw holds it). */
struct gw_link_env {
	struct ev_loop *loop;
	struct gw_resolver *resolver;  /* host names of TCP serial servers */
	struct gw_ble *ble;            /* the BlueZ client of the ble:// links, NULL until one opens */
	double ble_connect_timeout;    /* [ble] connect_timeout */
};

/* Error counters of one wire, as libmodbus and mbusd keep them (its owner
 * counts them: it is the one that frames what arrives). */
struct gw_wire_stats {
	uint32_t checksum_errors;      /* complete frames whose checksum (or end marker) failed */
	uint32_t short_frames;         /* frames cut short: truncated, or abandoned half-way */
	uint32_t timeouts;             /* tries with no complete answer within `timeout` */
	uint32_t exceptions;           /* answers that were an error code (a Modbus exception,
	                                * a paceic RTN other than 00) */
};

/* What a link tells its owner.  arg is what the owner installed. */
struct gw_link_owner {
	void (*up)(void *arg);         /* the wire is open */
	void (*down)(void *arg);       /* it closed, or an open failed (the link logged why) */
	void (*bytes)(void *arg, const uint8_t *p, size_t n); /* bytes arrived */
	void (*drained)(void *arg);    /* everything queued was written */
	void (*gone)(void *arg);       /* the link is being freed */
};

/* One kind of link: how a wire of that kind is opened, written, drained
 * and closed.  A transport reports an open wire with gw_link_up(), every
 * byte it receives with gw_link_bytes() and any failure with
 * gw_link_close(l, why). */
struct gw_transport {
	const char *name;           /* "serial", "tcp", "ble" (logs, --check) */
	enum bms_link bms_link;     /* what the drivers see (struct bms_poll.link) */
	int fds;                    /* descriptors one link holds, its poll timerfd included */
	/* consecutive polls without a byte after which the link is reopened
	 * (0 = never: a serial port has nothing to reopen), and what the log says */
	unsigned silent_reopen;
	const char *silent_why;
	/* start opening l (non-blocking): gw_link_up() or gw_link_close() follows,
	 * now or later from the loop */
	void (*open)(struct gw_link *l);
	/* release what open took, quietly (the generic close stops l->io) */
	void (*close)(struct gw_link *l);
	/* l->tx[txoff..txlen) is queued: write what can be written now;
	 * 0, or -1 after closing the link with the reason */
	int (*write)(struct gw_link *l);
	/* read and throw away what is pending; returns the bytes dropped */
	size_t (*drain)(struct gw_link *l);
	/* optional: the link is freed (after a quiet close): free its state */
	void (*release)(struct gw_link *l);
	/* optional: another baud rate on the open wire (l->line.baud set by
	 * the caller), input received so far dropped; 0 or -1 with errno */
	int (*set_baud)(struct gw_link *l);
};
extern const struct gw_transport gw_transport_serial, gw_transport_tcp, gw_transport_can;
/* defined with libsystemd only (HAVE_SYSTEMD); declared either way, as no
 * header tests HAVE_SYSTEMD (the Makefile's build without libsystemd shares
 * the objects of every file that does not test it) */
extern const struct gw_transport gw_transport_ble;

enum gw_link_state { GW_LINK_DOWN, GW_LINK_RESOLVING, GW_LINK_CONNECTING, GW_LINK_UP };

/* The line settings of a serial port: 8 data bits, parity 'N', 'E' or 'O',
 * 1 or 2 stop bits, no flow control. */
struct gw_line {
	int baud;
	char parity;
	int stop_bits;
};

struct gw_link {
	struct gw_link_env *env;       /* loop, resolver, BlueZ client */
	const struct conf_pack *cfg;   /* a BMS wire: the first pack's settings (BLE reads them); NULL otherwise */
	const char *port;              /* the port string (the configuration's, or port_buf) */
	char port_buf[CONF_PORT_MAX];
	const struct gw_transport *tr; /* its kind */
	struct gw_line line;           /* serial: the line settings */
	char tcp_host[CONF_HOST_MAX];  /* tcp: the serial server */
	int tcp_port;
	struct gw_ble_link *ble;       /* BLE: the device's state (ble/) */
	struct gw_can *can;            /* CAN: the bus port, listen only (canlink.c) */
	int fd;                        /* serial / TCP: the wire's descriptor */
	struct sp_port *sp;            /* libserialport handle (NULL for TCP / termios) */
	struct termios saved_tio;      /* termios fallback: the settings before we opened it */
	bool have_saved_tio;
	enum gw_link_state state;
	struct gw_lookup *lookup;      /* RESOLVING: the host name lookup */
	ev_io io;
	ev_timer conn_timer;           /* reconnect backoff / connect timeout */
	struct gw_retry rt;            /* reopen backoff, the outage logged once */
	unsigned long opens;           /* times the wire was opened (connected) */
	struct gw_wire_stats stats;
	char why[160];                 /* why the wire last failed or could not be opened */
	uint8_t tx[1024];              /* a request, or a tool's bytes (tunnel) */
	size_t txlen, txoff;
	const struct gw_link_owner *owner;
	void *owner_arg;
};

/* link.c: a closed link for the wire of `cfg` (a BMS pack's port, 8N1);
 * NULL when out of memory. */
struct gw_link *gw_link_new(struct gw_link_env *env, const struct conf_pack *cfg);
/* A closed link to a serial device (line settings) or, with tcp_host, to
 * a TCP serial server: the ports of the outputs that are slaves on a bus
 * of their own (an inverter's RS485, the Modbus RTU server, a CAN
 * adapter's serial line).  NULL when out of memory. */
struct gw_link *gw_link_new_port(struct gw_link_env *env, const char *port, const char *tcp_host, int tcp_port,
				 const struct gw_line *line);
/* Tell the owner "gone", close the wire (quietly) and free the link; NULL is fine. */
void gw_link_free(struct gw_link *l);
/* Who hears from the link from now on. */
void gw_link_set_owner(struct gw_link *l, const struct gw_link_owner *o, void *arg);
/* Open the wire (resolving a TCP server's name first); tells the owner. */
void gw_link_open(struct gw_link *l);
/* Close the wire; with `why`, log the outage (once) and retry after the backoff. */
void gw_link_close(struct gw_link *l, const char *why);
/* Read everything pending and throw it away (before each request); the
 * bytes dropped. */
size_t gw_link_drain(struct gw_link *l);
/* Queue bytes for writing; returns 0 or -1 (link not up / too long). */
int gw_link_send(struct gw_link *l, const uint8_t *p, size_t n);
/* Tunnel: queue a tool's bytes after what is queued; returns how many were
 * taken (less than n when the buffer is full), or -1 if the wire is down. */
int gw_link_append(struct gw_link *l, const uint8_t *p, size_t n);
/* Room in the send buffer now (0 while the wire is down). */
size_t gw_link_room(const struct gw_link *l);
/* Another baud rate for the link (a serial port: at once, the input
 * received so far dropped; a TCP serial server keeps its own).  0, or -1
 * with errno. */
int gw_link_set_baud(struct gw_link *l, int baud);
/* Same wire under the new pack section: the keys of a pack that relink it
 * (conf/conf.c: port, baud), by the transport's rule (a tcp:// or ble://
 * wire has no baud rate; a ble:// one follows [ble] adapter).  A reload
 * then keeps the link open. */
bool gw_link_same_wire(const struct conf_pack *a, const struct conf_pack *b);

/* True if the wire is open. */
bool gw_link_is_up(const struct gw_link *l);
/* The transport of a pack's port. */
const struct gw_transport *gw_link_transport(const struct conf_pack *cfg);
/* For a transport that opens its wire again by itself (canlink.c): the
 * wire is not there now (its transport logged why); the owner hears
 * "down", and the link schedules no reopen of its own. */
void gw_link_lost(struct gw_link *l);
/* For transports: the wire is open (logs the end of an outage, tells the
 * owner); bytes arrived from it (to the owner). */
void gw_link_up(struct gw_link *l);
void gw_link_bytes(struct gw_link *l, const uint8_t *p, size_t n);

/* serial.c, tcp.c: what the descriptor-based transports share (link.c). */
void gw_link_attach(struct gw_link *l, int fd);
void gw_link_set_events(struct gw_link *l);
void gw_link_failed(struct gw_link *l, const char *what, int err);
void gw_link_fd_close(struct gw_link *l);
int gw_link_fd_write(struct gw_link *l);
size_t gw_link_fd_drain(struct gw_link *l);

#endif
