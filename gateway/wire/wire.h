/* gateway/wire/wire.h - private to the gateway: one wire (link.c) and the poller
 * that drives the packs on it (poller.c), and the hooks between the two.
 * Nothing outside link.c, poller.c, daemon.c, control.c and tunnel.c
 * includes it.
 */
#ifndef GATEWAY_WIRE_H
#define GATEWAY_WIRE_H

#include <termios.h>

#include "../core/retry.h"
#include "../model/gw.h"

struct gw_lookup;
struct gw_tunnel;
struct gw_link;
struct gw_ble_link;

/* One kind of link, as libmodbus has one backend per transport: how a wire
 * of that kind is opened, written, drained and closed.  The generic part
 * (link.c) keeps the state, the backoff, the outage log and the buffers; a
 * transport reports an open wire with gw_link_up(), every byte it receives
 * with gw_link_bytes() and any failure with gw_link_close(l, why). */
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
};
extern const struct gw_transport gw_transport_serial, gw_transport_tcp;
#ifdef HAVE_SYSTEMD
extern const struct gw_transport gw_transport_ble;
#endif

enum gw_link_state { GW_LINK_DOWN, GW_LINK_RESOLVING, GW_LINK_CONNECTING, GW_LINK_UP };
enum gw_poll_state {
	GW_POLL_IDLE,
	GW_POLL_GAP,        /* silence before a poll request */
	GW_POLL_WAIT,       /* waiting for the answer to a poll request */
	GW_POLL_CTL_GAP,    /* silence before a control frame */
	GW_POLL_CTL_WAIT,   /* waiting for the acknowledgement of a control frame */
};
struct gw_ctl;

struct gw_link {
	struct gw *gw;
	const struct conf_pack *cfg;   /* the first pack's settings for this wire */
	const char *port;              /* conf string */
	const struct gw_transport *tr; /* its kind */
	struct gw_ble_link *ble;       /* BLE: the device's state (ble.c) */
	int fd;                        /* serial / TCP: the wire's descriptor */
	struct sp_port *sp;            /* libserialport handle (NULL for TCP / termios) */
	struct termios saved_tio;      /* termios fallback: the settings before we opened it */
	bool have_saved_tio;
	enum gw_link_state state;
	struct gw_lookup *lookup;      /* RESOLVING: the host name lookup */
	ev_io io;
	ev_timer conn_timer;           /* reconnect backoff / connect timeout */
	struct gw_retry rt;            /* reopen backoff, the outage logged once */
	unsigned silent_polls;         /* consecutive polls of any pack without a byte received */
	bool got_bytes;                /* bytes arrived during the current poll */
	unsigned long opens;           /* times the wire was opened (connected) */
	struct gw_wire_stats stats;

	struct gw_pack *packs;         /* list via next_on_link */
	struct gw_pack *cur;           /* pack being polled (also while a control command interrupts it) */
	struct gw_ctl *ctl;            /* the control command on the wire now, NULL if none */
	int ctl_tries;                 /* failed tries of its current frame */
	enum gw_poll_state ps;
	ev_timer poll_timer;           /* gap, response timeout, next due ... */
	int poll_tfd;                  /* ... on this timerfd when there is one (ns precision) */
	ev_io poll_tio;                /* its watcher */
	double gap_started;            /* monotonic start of the current gap */
	struct bms_rx rx;
	double last_rx;
	uint8_t tx[1024];              /* a poll request, or a tool's bytes (tunnel) */
	size_t txlen, txoff;
	struct gw_tunnel *tunnel;      /* the wire is lent to this tunnel's tool: no polling */
	bool lending;                  /* ... once the exchange on the wire now is over */
};

/* link.c: a closed link for the wire of `cfg`; NULL when out of memory. */
struct gw_link *gw_link_new(struct gw *gw, const struct conf_pack *cfg);
/* Close the wire (quietly) and free the link; NULL is fine. */
void gw_link_free(struct gw_link *l);
/* Open the wire (resolving a TCP server's name first); reports to the poller. */
void gw_link_open(struct gw_link *l);
/* Close the wire; with `why`, log the outage (once) and retry after the backoff. */
void gw_link_close(struct gw_link *l, const char *why);
/* Read everything pending and throw it away (before each request). */
void gw_link_drain(struct gw_link *l);
/* Queue bytes for writing; returns 0 or -1 (link not up / too long). */
int gw_link_send(struct gw_link *l, const uint8_t *p, size_t n);
/* Tunnel: queue a tool's bytes after what is queued; returns how many were
 * taken (less than n when the buffer is full), or -1 if the wire is down. */
int gw_link_append(struct gw_link *l, const uint8_t *p, size_t n);
/* Same wire and same serial settings: a reload may keep the link open. */
bool gw_link_same_wire(const struct conf_pack *a, const struct conf_pack *b);

/* True if the wire is open. */
bool gw_link_is_up(const struct gw_link *l);
/* The transport of a pack's port. */
const struct gw_transport *gw_link_transport(const struct conf_pack *cfg);
/* For transports: the wire is open (logs the end of an outage, tells the
 * poller); bytes arrived from it (to the tunnel's tool or the poller). */
void gw_link_up(struct gw_link *l);
void gw_link_bytes(struct gw_link *l, const uint8_t *p, size_t n);

/* poller.c: set up the poll state of a new link. */
void gw_poll_init(struct gw_link *l);
/* Abandon the poll in progress (its pack is going away) without counting it. */
void gw_poll_abort(struct gw_link *l);
/* Start the pack that is due first, or sleep until it is (after a reload). */
/* Stop the poll timer and release its timerfd (the link is going away). */
void gw_poll_free(struct gw_link *l);
void gw_poll_schedule(struct gw_link *l);
/* A control command was queued on l: start it now if the wire is idle (else
 * it goes ahead of the next poll step). */
void gw_poll_kick(struct gw_link *l);
/* Stop the control command on the wire (its deadline passed); polling goes on. */
void gw_poll_control_abort(struct gw_link *l);
/* Lend the wire to a tunnel's tool: once the request on the wire (if any)
 * is answered or timed out, polling stops (the poll in progress is
 * abandoned, commands of its packs end with 0x0B) and
 * gw_tunnel_wire_ready() is called; until gw_poll_return(), which polls
 * every pack of the wire at once. */
void gw_poll_lend(struct gw_link *l, struct gw_tunnel *t);
void gw_poll_return(struct gw_link *l);
/* tunnel.c, called by link.c while the wire is lent: bytes read from the
 * wire; everything queued for the wire was written; the link is freed. */
void gw_tunnel_wire_bytes(struct gw_tunnel *t, const uint8_t *p, size_t n);
/* poller.c: the wire is the tool's now (polling stopped). */
void gw_tunnel_wire_ready(struct gw_tunnel *t);
void gw_tunnel_wire_drained(struct gw_tunnel *t);
void gw_tunnel_wire_gone(struct gw_tunnel *t);
/* hooks called by link.c */
void gw_poll_link_up(struct gw_link *l);
void gw_poll_link_down(struct gw_link *l);
void gw_poll_bytes(struct gw_link *l, const uint8_t *p, size_t n);

#endif
