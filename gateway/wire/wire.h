/* SPDX-License-Identifier: MIT */
/* gateway/wire/wire.h - one wire (a link): the transport half.
 *
 * A link is one `port` string: a serial device, a TCP serial server, a
 * Bluetooth LE device or a CAN bus a pack listens to.  link.c keeps what
 * every kind shares (the state, the reopen with backoff and the outage
 * logged once, the send buffer); one const struct gw_transport per kind
 * does the rest (serial.c, tcp.c, ble/, canlink.c), as libmodbus has one
 * backend per transport, and keeps its own state behind the link's
 * tr_data, as libmodbus's backend_data.  struct gw_link and the
 * transports are private to wire/ (wire_int.h); other rooms hold a
 * pointer and use the calls below.  transports.c names every transport.
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
#include <stdio.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"

struct gw_link;
struct gw_ble;
struct gw_esp;
struct gw_resolver;

/* What every link of the process shares (struct gw holds it). */
struct gw_link_env {
	struct ev_loop *loop;
	struct gw_resolver *resolver;  /* host names of TCP serial servers */
	struct gw_ble *ble;            /* the BlueZ client of the ble:// links, NULL until one opens */
	struct gw_esp *esp;            /* the ESPHome proxies' API clients in use (wire/esphome/) */
	double ble_connect_timeout;    /* [ble] connect_timeout */
	int ble_max_connections;       /* [ble] max_connections: per local adapter */
};

/* What a link tells its owner.  arg is what the owner installed. */
struct gw_link_owner {
	void (*up)(void *arg);         /* the wire is open */
	void (*down)(void *arg);       /* it closed, or an open failed (the link logged why) */
	void (*bytes)(void *arg, const uint8_t *p, size_t n); /* bytes arrived */
	void (*drained)(void *arg);    /* everything queued was written */
	void (*gone)(void *arg);       /* the link is being freed */
};

enum gw_link_state { GW_LINK_DOWN, GW_LINK_RESOLVING, GW_LINK_CONNECTING, GW_LINK_UP };

/* The line settings of a serial port: 8 data bits, parity 'N', 'E' or 'O',
 * 1 or 2 stop bits, no flow control. */
struct gw_line {
	int baud;
	char parity;
	int stop_bits;
};

/* The longest request a link sends at once (its send buffer). */
#define GW_LINK_TX_MAX 1024

/* What the status page and the metrics show of a link (gw_link_info()). */
struct gw_link_info {
	const char *port;              /* the port string */
	const char *kind;              /* its transport: "serial", "tcp", "can", "ble", "mqtt" */
	enum gw_link_state state;
	unsigned long opens;           /* times the wire was opened (connected) */
	double down_since;             /* monotonic start of the outage, once logged; -1 otherwise */
	const char *why;               /* why it last failed or could not be opened ("" = never) */
	bool turns;                    /* it takes turns for a radio's connection slots (parked now or before) */
	double round_s;                /* ... the last time between two of its turns, s (0: none yet) */
};

/* What /api/state and /metrics show of an ESPHome Bluetooth proxy
 * (gw_proxy_info(); esphome/espinfo.c). */
struct gw_proxy_info {
	bool in_use;                   /* a pack goes through it (else the rest is empty) */
	bool ready;                    /* the API session is up */
	int packs;                     /* the links through it */
	unsigned api_major, api_minor; /* the API version it answered */
	const char *device, *version;  /* its name and ESPHome version ("" before the first session) */
	int free_slots, limit;         /* connection slots it reports (-1: not yet) */
	bool turns;                    /* its packs take turns for its slots (more packs than slots) */
	double round_s;                /* ... the last time between two turns of one pack, s (0: none yet) */
	unsigned long sessions, adverts, handshake_failures;
	const char *why;               /* why the session last failed ("" = never) */
};
/* The proxy of those keys: zeros (in_use false) when no link uses it. */
void gw_proxy_info(const struct gw_link_env *env, const struct conf_ble_proxy *cfg, struct gw_proxy_info *out);

/* bmsgw --ble-scan through the proxy cfg for `seconds` on loop, then one
 * line per device its advertisements showed to out; the exit code. */
int gw_proxy_scan(struct ev_loop *loop, const struct conf_ble_proxy *cfg, double seconds, FILE *out);

/* transports.c: a closed link for the wire of `cfg` (a BMS pack's port,
 * 8N1), of the transport its port names; NULL when out of memory. */
struct gw_link *gw_link_new(struct gw_link_env *env, const struct conf_pack *cfg);
/* lineport.c: a closed link to a serial device (line settings) or, with tcp_host, to
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
/* The owner has nothing to send until its next exchange (a poll ended):
 * a transport whose wire shares a radio's connection slots may lend the
 * slot to another link meanwhile (struct gw_transport.idle); the owner
 * hears nothing of it but that the link is connecting again until its
 * turn comes back (up). */
void gw_link_idle(struct gw_link *l);
/* Queue bytes for writing; returns 0 or -1 (link not up / too long). */
int gw_link_send(struct gw_link *l, const uint8_t *p, size_t n);
/* The same for bytes that hold a secret (a BMS's PIN): the debug log
 * shows their length, never them. */
int gw_link_send_secret(struct gw_link *l, const uint8_t *p, size_t n);
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
/* The port string (for logs). */
const char *gw_link_port(const struct gw_link *l);
/* The port, kind, state, opens and outage of the link (the status page, metrics). */
void gw_link_info(const struct gw_link *l, struct gw_link_info *out);
/* The state of the link. */
enum gw_link_state gw_link_state(const struct gw_link *l);
/* Times the wire was opened (the status page, metrics; what a driver sees
 * as a new connection is gw_link_connections()). */
unsigned long gw_link_opens(const struct gw_link *l);
/* Times the BMS was connected: the opens, and each turn a link that takes
 * turns (Bluetooth LE, more packs than connections) connects again after
 * lending its connection (no outage, not an open): what a BMS counts as a
 * new connection (its unlock or handshake once a connection:
 * bms_poll.link_fresh). */
unsigned long gw_link_connections(const struct gw_link *l);
/* What a driver sees of the wire (struct bms_poll.link). */
enum bms_link gw_link_bms_link(const struct gw_link *l);
/* The name the device at the other end advertises (struct
 * bms_poll.peer_name: a Bluetooth LE device's Name), "" when none. */
const char *gw_link_peer_name(const struct gw_link *l);
/* The index of the driver's GATT layout a Bluetooth LE link found on the
 * device (struct bms_poll.ble_layout), 0 for any other link. */
int gw_link_ble_layout(const struct gw_link *l);
/* Descriptors the link holds, its poll timerfd included (the fd budget). */
int gw_link_fds(const struct gw_link *l);
/* Consecutive polls without a byte after which the owner reopens the wire
 * (0 = never), and what the log then says in *why. */
unsigned gw_link_silent_reopen(const struct gw_link *l, const char **why);
/* The pack settings a BMS wire was made or rebound for (NULL: an output's port). */
const struct conf_pack *gw_link_cfg(const struct gw_link *l);
/* A reload keeps the link for the packs of the new configuration: from now
 * on it reads cfg (the first pack on it; gw_link_same_wire() held) and
 * logs under cfg's port string.  NULL while the reload sorts packs out. */
void gw_link_rebind(struct gw_link *l, const struct conf_pack *cfg);

#endif
