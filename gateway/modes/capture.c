/* SPDX-License-Identifier: MIT */
/* gateway/modes/capture.c - bmsgw --capture PORT [--baud N] [--seconds S]
 * [--probe PROTOCOL [--address A]] [--output FILE]: its options read (--baud
 * and --address as --detect reads them), then gateway/detect/capture.c on
 * a loop of its own. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../bms/bms.h"
#include "../core/log.h"
#include "cli.h"

int gw_mode_capture_args(const struct gw_cli *o, struct gw_capture_opts *c)
{
	struct gw_detect_opts d;
	*c = (struct gw_capture_opts){ o->capture, 0, -1, GW_CAPTURE_SECONDS, NULL, o->cap_output, o->verbose };
	if (!o->capture) {
		if (!o->cap_seconds && !o->cap_probe && !o->cap_output)
			return -1;
		fprintf(stderr, "bmsgw: --seconds, --probe and --output go with --capture PORT\n");
		return 2;
	}
	if (o->detect) {
		fprintf(stderr, "bmsgw: --capture and --detect exclude each other\n");
		return 2;
	}
	struct gw_cli t = *o; /* --baud and --address, read as --detect reads them */
	t.detect = o->capture;
	int rc = gw_mode_detect_args(&t, &d);
	if (rc >= 0)
		return rc;
	c->baud = d.baud;
	c->address = d.address;
	if (o->cap_seconds) {
		char *end;
		errno = 0;
		c->seconds = strtod(o->cap_seconds, &end);
		if (errno || *end || !(c->seconds >= 0.1 && c->seconds <= 86400)) {
			fprintf(stderr, "bmsgw: --seconds: \"%s\" is not 0.1..86400 seconds\n", o->cap_seconds);
			return 2;
		}
	}
	if (o->cap_probe && !(c->probe = bms_find(o->cap_probe))) {
		fprintf(stderr, "bmsgw: --probe: \"%s\" is no protocol (bmsgw --help lists them)\n", o->cap_probe);
		return 2;
	}
	if (o->detect_address && !c->probe) {
		fprintf(stderr, "bmsgw: --address goes with --capture --probe PROTOCOL (listening asks nobody)\n");
		return 2;
	}
	return -1;
}

/* --capture PORT: record the port; its own loop, as --detect. */
int gw_mode_capture(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	struct gw_capture_opts c;
	if (gw_mode_capture_args(o, &c) >= 0)
		return 2;
	struct ev_loop *loop = gw_mode_loop(GW_LOG_ERROR); /* the capture says what happens itself */
	if (!loop)
		return 2;
	int rc = gw_capture(loop, &c, stderr);
	ev_loop_destroy(loop);
	return rc;
}
