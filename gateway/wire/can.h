/* SPDX-License-Identifier: MIT */
/* gateway/wire/can.h - a CAN bus port: SocketCAN (a network interface such
 * as can0, a raw CAN socket) or a Lawicel "slcan" serial adapter (CANable,
 * USBtin, CANUSB: slcan:///dev/ttyACM0).
 *
 * Like a link (wire.h) it never names who uses it: its owner installs
 * callbacks and gets the port up, down and every frame received.  Both
 * kinds are non-blocking on the loop, opened again with the shared backoff
 * (core/retry.h) when the interface or the adapter goes away, the outage
 * logged once when it starts and once when it ends.  socketcan.c is the
 * socket transport; can.c the generic part and the slcan one, which is a
 * serial link (link.c) speaking the line codec of slcan.c.
 */
#ifndef GATEWAY_WIRE_CAN_H
#define GATEWAY_WIRE_CAN_H

#include <stdbool.h>
#include <stdint.h>

#include "canframe.h"
#include "wire.h"

struct gw_can;

/* What a listening port receives (SocketCAN's receive filter): the standard
 * data frames with id & mask == id & mask, and the extended ones with id &
 * ext_mask == ext_id & ext_mask where ext_mask is not 0. */
struct gw_can_filter {
	uint32_t id, mask;
	uint32_t ext_id, ext_mask;
};

struct gw_can_owner {
	void (*up)(void *arg);         /* the bus can be written to */
	void (*down)(void *arg);       /* it went away (logged) */
	void (*frame)(void *arg, const struct gw_can_frame *f); /* a frame from the bus */
};

struct gw_can_stats {
	unsigned long tx;              /* frames handed to the interface or adapter */
	unsigned long rx;              /* frames received */
	unsigned long dropped;         /* frames not sent: the port was down or its queue full */
	unsigned long errors;          /* adapter errors (slcan BEL), bad lines */
	unsigned long opens;           /* times the port came up */
};

/* A closed port: port is the configured text (logs); slcan: device is the
 * adapter's serial device, else the interface name.  bitrate in bit/s
 * (500000 for the battery protocols). */
struct gw_can *gw_can_new(struct gw_link_env *env, const char *port, bool slcan, const char *device,
			  uint32_t bitrate, const struct gw_can_owner *o, void *arg);
/* The same, for a port a pack reads (a battery's bus): SocketCAN delivers
 * only the data frames flt passes (NULL: every frame, as --capture reads).  Without transmit it only listens: it
 * never transmits (gw_can_send() refuses), an slcan adapter is opened
 * listen only ("L", or "O" where the adapter refuses "L": see can.c); with
 * transmit (a protocol that needs its read requests) it is opened with "O"
 * and sends what the pack's driver asks. */
struct gw_can *gw_can_new_listener(struct gw_link_env *env, const char *port, bool slcan, const char *device,
				   uint32_t bitrate, const struct gw_can_filter *flt, bool transmit,
				   const struct gw_can_owner *o, void *arg);
/* Start opening it; up() follows, now or later. */
void gw_can_open(struct gw_can *c);
/* An slcan adapter to another bit rate: closed, set and opened again as
 * it was ("C", "Sn", "L" or "O"), the frames it still delivers from
 * before its reply to "C" dropped.  0, or -1 for a SocketCAN interface
 * (its rate is the interface's own, set with ip link) or a rate slcan has
 * no command for. */
int gw_can_set_bitrate(struct gw_can *c, uint32_t bitrate);
/* Send one frame: 0 when it went out (or is queued on the adapter's serial
 * line), -1 when it could not (down, queue full: counted as dropped). */
int gw_can_send(struct gw_can *c, const struct gw_can_frame *f);
bool gw_can_is_up(const struct gw_can *c);
void gw_can_stats(const struct gw_can *c, struct gw_can_stats *out);
/* Close and free it (its owner hears nothing more); NULL is fine. */
void gw_can_free(struct gw_can *c);

/* What a SocketCAN error frame says (socketcan.c; pure, for the tests):
 * the controller went bus-off (it stopped: nothing acknowledges its frames,
 * or a wiring fault; the kernel restarts it only with restart-ms), it was
 * restarted, or something else (warnings, passive, lost arbitration). */
enum gw_can_err { GW_CAN_ERR_OTHER = 0, GW_CAN_ERR_BUSOFF, GW_CAN_ERR_RESTARTED };
enum gw_can_err gw_can_err_class(uint32_t can_id);

/* socketcan.c, for can.c */
struct gw_can_sock;
struct gw_can_sock *gw_can_sock_new(struct gw_link_env *env, const char *ifname, struct gw_can *up);
/* Receive only the data frames flt passes (CAN_RAW_FILTER), from the next
 * open on. */
void gw_can_sock_filter(struct gw_can_sock *s, const struct gw_can_filter *flt);
void gw_can_sock_open(struct gw_can_sock *s);
int gw_can_sock_send(struct gw_can_sock *s, const struct gw_can_frame *f);
bool gw_can_sock_is_up(const struct gw_can_sock *s);
void gw_can_sock_free(struct gw_can_sock *s);
/* what the socket transport tells the generic port */
void gw_can_up(struct gw_can *c);
void gw_can_down(struct gw_can *c);
void gw_can_frame_in(struct gw_can *c, const struct gw_can_frame *f);

#endif
