/* SPDX-License-Identifier: MIT */
/* gateway/detect/capture.h - `bmsgw --capture PORT`: record a port into a
 * capture file (capfile.h) for a battery bmsgw does not read yet.
 *
 * A command-line mode with a libev loop of its own, like --detect (and in
 * its room: the same port rules, holders.h, the classifier sniff.h): it
 * refuses a port another process holds, opens it as the daemon does, and
 * for --seconds (or until SIGINT / SIGTERM) writes every chunk heard as an
 * rx record with its time.  Listen only: nothing is ever written to the
 * port, unless --probe PROTOCOL: then that protocol's read-only probe
 * request (struct bms_probe: the read --detect sends, never a write) goes
 * out once a second, each one checked by gw_sniff_is_read() before it is
 * sent and recorded as a tx record.  Nothing blocks: the port is an ev_io
 * of wire/link.c, the end and the requests ev_timers.  bmsgw(8)
 * "CAPTURING A PORT".
 */
#ifndef GATEWAY_DETECT_CAPTURE_H
#define GATEWAY_DETECT_CAPTURE_H

#include <ev.h>
#include <stdio.h>

#include "../../bms/bms.h"

#define GW_CAPTURE_SECONDS 60.0   /* default --seconds */
#define GW_CAPTURE_PERIOD 1.0     /* s between --probe requests */

struct gw_capture_opts {
	const char *port;                /* /dev/... or tcp://HOST:PORT */
	int baud;                        /* 0: the probe's protocol's, else 9600 */
	int address;                     /* -1: the probe's first address */
	double seconds;                  /* > 0 */
	const struct bms_driver *probe;  /* --probe PROTOCOL, or NULL: listen only */
	const char *output;              /* the file ("-" or NULL: stdout) */
	bool verbose;
};

/* Record the port; what happens on err.  Returns the exit code: 0 the
 * capture is complete (its time ran out, or a signal ended it), 2 the port
 * or the file cannot be used, or --probe's protocol has no read to send. */
int gw_capture(struct ev_loop *loop, const struct gw_capture_opts *o, FILE *err);

#endif
