/* SPDX-License-Identifier: MIT */
/* gateway/modbus/rtuframe.h - Modbus RTU framing for a server (slave) on a
 * serial line, pure: a receiver fed with the bytes read() returned and the
 * monotonic time they arrived (any chunking), which delimits frames by 3.5
 * character times of silence and checks their CRC; the building of an
 * answer's ADU; the timings.  No I/O: the daemon feeds it from an ev_io,
 * and sets a timer at rtu_rx_deadline().
 *
 * Source: MODBUS over Serial Line Specification and Implementation Guide
 * V1.02 (https://modbus.org/docs/Modbus_over_serial_line_V1_02.pdf),
 * section 2.5.1.1 (RTU framing: frames separated by at least 3.5
 * character times of silence; above 19200 bit/s fixed t1.5 = 750 us and
 * t3.5 = 1.750 ms), section 2.5.1 (a character is 11 bits: start, 8 data,
 * parity or a second stop bit, stop) and 2.5.1.2 (the CRC, low byte
 * first).
 *
 * Two deliberate departures, because the times here are those at which
 * read() returned, not those at which the bytes crossed the wire:
 * - no frame is dropped for a gap of more than 1.5 characters (section
 *   2.5.1.1's t1.5 rule): a USB adapter hands bytes over in bursts (an
 *   FTDI chip after its latency timer, 16 ms by default), and a busy loop
 *   reads late, so such gaps appear inside sound frames; the CRC still
 *   rejects a frame that was really broken.
 * - for the same reason a silence of 3.5 characters may cut a frame in
 *   two.  A piece whose CRC fails is kept (`rejoin` seconds, 0 = never)
 *   and tried again joined to the pieces that follow; a piece that is
 *   valid alone is always taken alone, so a kept fragment of garbage
 *   never spoils the next frame. */
#ifndef GATEWAY_MODBUS_RTUFRAME_H
#define GATEWAY_MODBUS_RTUFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTU_ADU_MAX 256   /* address + PDU (253) + CRC (2) */
#define RTU_ADU_MIN 4     /* address, function code, CRC */
#define RTU_PDU_MAX 253
#define RTU_FRAGS 8       /* fragments kept for rejoining */
#define RTU_BROADCAST 0   /* the address of a broadcast (never answered) */

/* Seconds of one character: 11 bits at `baud`, in every mode (8E1, 8O1,
 * 8N2, and 8N1 too, where the spec's 11 bits are the safe side). */
double rtu_char_time(int baud);
/* t3.5 and t1.5: 3.5 and 1.5 characters, fixed at 1.75 ms and 0.75 ms
 * above 19200 bit/s. */
double rtu_t35(int baud);
double rtu_t15(int baud);

/* Counters since rtu_rx_init(). */
struct rtu_stats {
	unsigned long frames;        /* good frames (CRC verified) */
	unsigned long bad_crc;       /* pieces of 4 bytes or more whose CRC failed */
	unsigned long short_frames;  /* pieces of fewer than 4 bytes */
	unsigned long overruns;      /* more than 256 bytes without a silence (all dropped) */
	unsigned long rejoined;      /* good frames pieced together from fragments */
};

/* One good frame: the server's address and the PDU (function code first),
 * the CRC checked and removed. */
struct rtu_frame {
	uint8_t addr;
	size_t pdu_len;                  /* 1..253 */
	uint8_t pdu[RTU_PDU_MAX];
};

/* The receiver.  Private but for `st`. */
struct rtu_rx {
	double tchar, t35, rejoin;       /* from rtu_rx_init() */
	uint8_t buf[RTU_ADU_MAX];        /* the bytes since the last silence */
	size_t len;
	double first, last;              /* when its first and its last chunk arrived */
	bool overrun;                    /* dropping until the next silence */
	uint8_t held[RTU_ADU_MAX];       /* earlier fragments that failed alone */
	size_t hlen;
	unsigned nfrag;
	uint16_t frag_at[RTU_FRAGS];     /* where each starts in held[] */
	double held_last;                /* when the last held byte arrived */
	bool ready;                      /* a good frame waits in `frame` */
	uint8_t frame[RTU_ADU_MAX];
	size_t flen;
	struct rtu_stats st;
};

/* Start a receiver for a line at baud bit/s; rejoin = seconds a failed
 * fragment is kept for the pieces that follow (0 = the spec alone; 0.05
 * covers an FTDI adapter's default 16 ms latency timer).  -1 for a baud
 * rate <= 0. */
int rtu_rx_init(struct rtu_rx *rx, int baud, double rejoin);

/* n bytes that one read() returned at monotonic time t (seconds; never
 * earlier than the previous call's).  Returns how many were taken: all of
 * them, or 0 when a silence before them ended a good frame that has not
 * been taken yet (rtu_rx_take(), then feed them again). */
size_t rtu_rx_feed(struct rtu_rx *rx, const uint8_t *p, size_t n, double t);

/* The time is now (the timer of rtu_rx_deadline() fired): end the frame
 * if the line has been silent for t3.5, drop fragments kept longer than
 * `rejoin`.  Read whatever the line has before calling this. */
void rtu_rx_poll(struct rtu_rx *rx, double now);

/* The good frame found, if any: copied to *f and forgotten.  Call after
 * every rtu_rx_feed() and rtu_rx_poll(). */
bool rtu_rx_take(struct rtu_rx *rx, struct rtu_frame *f);

/* When rtu_rx_poll() must be called next: true with *when, or false when
 * nothing waits for a time (no bytes, no fragment kept). */
bool rtu_rx_deadline(const struct rtu_rx *rx, double *when);

/* The ADU of an answer: addr, the PDU pdu[0..n), the CRC (low byte
 * first), into out[0..cap).  Returns its length (n + 3), or -1 when n is
 * 0 or above 253 or cap is too small. */
int rtu_adu(uint8_t addr, const uint8_t *pdu, size_t n, uint8_t *out, size_t cap);

#endif
