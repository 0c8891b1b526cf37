/* SPDX-License-Identifier: MIT */
/* gateway/wire/wire_int.h - what the files of the wire room share: the
 * link itself, the transport table, and the calls a transport makes into
 * the generic link.  Not for use outside gateway/wire/ (the other rooms
 * see wire.h).
 *
 *	link.c        the generic link: state, reopen with backoff, send
 *	              buffer, owner callbacks, the descriptor helpers
 *	transports.c  the registry: which transport a pack's port names
 *	              (the one file that names every transport)
 *	lineport.c    a serial line an output owns (serial device or TCP
 *	              serial server)
 *	serial.c, tcp.c, canlink.c, ble/   one transport each
 *
 * Each transport keeps its own state behind l->tr_data, made by its setup
 * (or at its first open) and freed by its release, as libmodbus's backends
 * keep theirs behind backend_data and redis's connection types behind
 * private_data.  The generic link calls a transport only through l->tr,
 * and a transport calls the generic link by name: link.c names no
 * transport, so no call cycle runs through it.
 */
#ifndef GATEWAY_WIRE_WIRE_INT_H
#define GATEWAY_WIRE_WIRE_INT_H

#include "../core/retry.h"
#include "wire.h"

/* One kind of link: how a wire of that kind is opened, written, drained
 * and closed.  A transport reports an open wire with gw_link_up(), every
 * byte it receives with gw_link_bytes() and any failure with
 * gw_link_close(l, why). */
struct gw_transport {
	const char *name;           /* "serial", "tcp", "can", "ble" (logs, --check) */
	enum bms_link bms_link;     /* what the drivers see (struct bms_poll.link) */
	int fds;                    /* descriptors one link holds, its poll timerfd included */
	/* consecutive polls without a byte after which the link is reopened
	 * (0 = never: a serial port has nothing to reopen), and what the log says */
	unsigned silent_reopen;
	const char *silent_why;
	/* descriptor-based: what a read of 0 bytes means */
	const char *eof_why;
	/* a tty in raw mode (VMIN = 0, VTIME = 0) reads 0 bytes whenever it is
	 * empty, even non-blocking: a readable descriptor emptied before the
	 * read (a drain, a change of baud rate that flushed the input, a read
	 * that took exactly a buffer) is no end of file.  The tty hung up only
	 * when poll() also says POLLHUP or POLLERR (link.c: zero_read()) */
	bool zero_read_may_be_empty;
	/* whole messages (CAN frames, an MQTT topic's payloads, Bluetooth
	 * notifications), no byte stream: nothing is pending to drain.
	 * false: gw_link_drain() reads and drops what l->fd holds */
	bool messages;
	/* optional: make l->tr_data for the wire of a pack (transports.c);
	 * 0, or -1 when out of memory */
	int (*setup)(struct gw_link *l, const struct conf_pack *cfg);
	/* start opening l (non-blocking): gw_link_up() or gw_link_close() follows,
	 * now or later from the loop */
	void (*open)(struct gw_link *l);
	/* release what open took, quietly (the generic close stops l->io) */
	void (*close)(struct gw_link *l);
	/* l->tx[txoff..txlen) is queued: write what can be written now;
	 * 0, or -1 after closing the link with the reason (NULL: a byte
	 * stream on l->fd, gw_link_fd_write) */
	int (*write)(struct gw_link *l);
	/* the link is freed (after a quiet close): free l->tr_data (NULL:
	 * gw_link_free_data) */
	void (*release)(struct gw_link *l);
	/* optional: another baud rate, kept for the next open and, on an open
	 * wire, set at once (input received so far dropped); 0 or -1 with errno */
	int (*set_baud)(struct gw_link *l, int baud);
	/* optional: the owner is idle until its next exchange (gw_link_idle()) */
	void (*idle)(struct gw_link *l);
	/* optional: the name the device at the other end advertises ("" when
	 * not known; NULL: none, a wire) */
	const char *(*peer_name)(const struct gw_link *l);
};
extern const struct gw_transport gw_transport_serial, gw_transport_tcp, gw_transport_can;
/* mqttlink.c: an mqtt-json pack's subscription to its topic */
extern const struct gw_transport gw_transport_mqtt;
/* defined with libsystemd only (HAVE_SYSTEMD); declared either way, as no
 * header tests HAVE_SYSTEMD (the Makefile's build without libsystemd shares
 * the objects of every file that does not test it) */
extern const struct gw_transport gw_transport_ble;
/* esphome/esplink.c: a ble:// pack through an ESPHome Bluetooth proxy */
extern const struct gw_transport gw_transport_esphome;

struct gw_link {
	struct gw_link_env *env;       /* loop, resolver, BlueZ client */
	const struct conf_pack *cfg;   /* a BMS wire: the first pack's settings (BLE reads them); NULL otherwise */
	const char *port;              /* the port string (the configuration's, or port_buf) */
	char port_buf[CONF_PORT_MAX];
	const struct gw_transport *tr; /* its kind */
	void *tr_data;                 /* the transport's own state (serial.c, tcp.c, canlink.c, ble/) */
	int fd;                        /* serial / TCP: the wire's descriptor */
	enum gw_link_state state;
	ev_io io;
	ev_timer conn_timer;           /* reconnect backoff / connect timeout */
	struct gw_retry rt;            /* reopen backoff, the outage logged once */
	unsigned long opens;           /* times the wire was opened (connected) */
	unsigned long connections;     /* opens and turns back (gw_link_connections) */
	uint8_t tx[GW_LINK_TX_MAX];    /* a request, or a tool's bytes (tunnel) */
	size_t txlen, txoff;
	const struct gw_link_owner *owner;
	void *owner_arg;
	char why[160];                 /* why the wire last failed or could not be opened */
	unsigned long parks;           /* turns it lent its slot (gw_link_park) */
	double turn_at;                /* monotonic start of its last turn (up, or back from parked) */
	double round_s;                /* the last time between two turns */
	/* Bluetooth LE: the index of the driver's GATT layout in use (struct
	 * bms_poll.ble_layout), set by the transport (ble/, esphome/); 0 else */
	int ble_layout;
};

/* link.c: gw_link_close() with a reason made as printf() makes it (its
 * first 319 characters) */
void gw_link_closef(struct gw_link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* link.c: the largest write of a Bluetooth LE link (ble/, esphome/) with
 * left bytes to go: the ATT MTU less 3 for a write without response (one
 * with a response is split by the stack), at most the driver's
 * ble->write_piece (0: no limit of its own). */
size_t gw_link_ble_piece(const struct gw_link *l, bool write_cmd, unsigned mtu, size_t left);

/* link.c: a closed link of transport tr, logging under port (kept as a
 * pointer: the configuration's string, or copied with gw_link_copy_port);
 * NULL when out of memory.  Its maker fills l->tr_data. */
struct gw_link *gw_link_alloc(struct gw_link_env *env, const struct gw_transport *tr, const char *port);
/* The link logs under a copy of port (an output's port). */
void gw_link_copy_port(struct gw_link *l, const char *port);

/* serial.c, tcp.c: the state of a serial line with its settings, of a
 * connection to a TCP serial server; 0, or -1 when out of memory. */
int gw_serial_setup(struct gw_link *l, const struct gw_line *line);
int gw_tcp_setup(struct gw_link *l, const char *host, int port);

/* For a transport whose wire fails with something it shares (the session
 * of an ESPHome proxy, esphome/espclient.c, whose outage is logged once
 * naming every pack through it): gw_link_close(l, why), the outage covered
 * by that line (core/retry.h gw_retry_failed_covered): the link logs
 * neither its start nor its end, unless it then fails for a reason of its
 * own. */
void gw_link_close_covered(struct gw_link *l, const char *why);
/* For a transport that opens its wire again by itself (canlink.c): the
 * wire is not there now (its transport logged why); the owner hears
 * "down", and the link schedules no reopen of its own. */
void gw_link_lost(struct gw_link *l);
/* For transports: the wire is open (logs the end of an outage, tells the
 * owner); bytes arrived from it (to the owner). */
void gw_link_up(struct gw_link *l);
void gw_link_bytes(struct gw_link *l, const uint8_t *p, size_t n);
/* For a transport that shares connection slots (esphome/esplink.c): the
 * wire lends its slot and waits for its turn (the owner sees it
 * connecting: its polls wait, no outage); its turn came back (the owner
 * hears up; no log line: it is no reopen). */
void gw_link_park(struct gw_link *l);
void gw_link_unpark(struct gw_link *l);

/* serial.c, tcp.c: what the descriptor-based transports share (link.c). */
void gw_link_attach(struct gw_link *l, int fd);
void gw_link_set_events(struct gw_link *l);
void gw_link_failed(struct gw_link *l, const char *what, int err);
/* close l->fd (the transport released what it keeps around it first) */
void gw_link_fd_close(struct gw_link *l);
int gw_link_fd_write(struct gw_link *l);
/* free l->tr_data (a release of a transport with plain state) */
void gw_link_free_data(struct gw_link *l);

#endif
