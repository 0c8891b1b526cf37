/* SPDX-License-Identifier: MIT */
/* gateway/wire/slcan.h - the Lawicel "slcan" ASCII line protocol of serial
 * CAN adapters (CANUSB, CANable/USBtin slcan firmwares): frames to lines,
 * and a parser fed with whatever read() returned that yields the received
 * frames and every other thing an adapter says.  Sources and the line
 * formats: gateway/inverter/PROTOCOLS.md §5.
 *
 *	tIIIL<data>\r        standard frame (III hex, L = 0..8, 2 hex a byte)
 *	TIIIIIIIIL<data>\r   extended frame (29-bit id in 8 hex)
 *	rIIIL\r, RIIIIIIIIL\r remote frames
 *	C\r close, S0..S8\r bit rate, O\r open, L\r open listen only
 * A received frame may carry 4 more hex digits, the adapter's timestamp
 * (ms, 0..0xEA5F), when it was enabled with Z1.
 *
 * Pure: no I/O, no globals, no allocation. */
#ifndef GATEWAY_WIRE_SLCAN_H
#define GATEWAY_WIRE_SLCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canframe.h"

/* Longest line the codec writes or accepts, '\r' included:
 * "T" + 8 id + 1 dlc + 16 data + 4 timestamp + '\r'. */
#define SLCAN_LINE_MAX 31

#define SLCAN_CMD_CLOSE "C\r"
#define SLCAN_CMD_OPEN "O\r"
/* open listen only: the controller sends nothing, not even acknowledgements
 * (Lawicel / CanHacker; not every firmware has it: see can.c) */
#define SLCAN_CMD_LISTEN "L\r"

/* Lawicel bit rate code for bps ('0'..'8': 10k 20k 50k 100k 125k 250k 500k
 * 800k 1M), or -1 when the adapter has no fixed code for it. */
int slcan_bitrate_code(uint32_t bps);

/* The "Sn\r" line for bps into out; its length, or -1 (no code, no room). */
int slcan_cmd_bitrate(uint32_t bps, char *out, size_t cap);

/* Frame f as a transmit line (upper-case hex, '\r' at the end, no NUL
 * needed, one is added when there is room).  Returns the line's length,
 * or -1 for a frame that cannot be sent (dlc > 8, id out of its range)
 * or too small a buffer. */
int slcan_encode(const struct gw_can_frame *f, char *out, size_t cap);

/* What the adapter said. */
enum slcan_event {
	SLCAN_EV_NONE = 0,   /* the bytes given were used up, nothing complete */
	SLCAN_EV_FRAME,      /* a received frame: ev->frame (ev->has_time: ev->time_ms) */
	SLCAN_EV_OK,         /* "\r": the last command was accepted */
	SLCAN_EV_ERROR,      /* BEL: the last command was refused */
	SLCAN_EV_TX_ACK,     /* "z\r" / "Z\r": a transmit was queued (some firmwares) */
	SLCAN_EV_VERSION,    /* "Vhhss\r": ev->text holds "hhss" */
	SLCAN_EV_SERIAL,     /* "Nxxxx\r": ev->text holds "xxxx" */
	SLCAN_EV_STATUS,     /* "Fxx\r": ev->status (error flags, 0 = none) */
	SLCAN_EV_BAD,        /* a line that is none of these: discarded */
	SLCAN_EV_OVERLONG,   /* a line longer than SLCAN_LINE_MAX: discarded */
};

struct slcan_rx_event {
	enum slcan_event kind;
	struct gw_can_frame frame;
	bool has_time;
	uint16_t time_ms;
	uint8_t status;
	char text[SLCAN_LINE_MAX];
};

/* The parser.  Counters only grow. */
struct slcan_rx {
	char line[SLCAN_LINE_MAX];
	size_t len;
	bool overlong;             /* the current line overflowed: drop to its end */
	uint32_t frames, oks, errors, acks, replies, bad, overlong_lines;
};

void slcan_rx_init(struct slcan_rx *rx);

/* Feed bytes p[0..n): uses them up to the end of the first complete line
 * (or BEL) and describes it in *ev; returns the bytes used.  Call again
 * with the rest: a read() of any size is handled by looping while bytes
 * are left.  A '\n' ends a line as '\r' does, and is ignored on an empty
 * line (adapters that send "\r\n"). */
size_t slcan_rx_feed(struct slcan_rx *rx, const uint8_t *p, size_t n, struct slcan_rx_event *ev);

#endif
