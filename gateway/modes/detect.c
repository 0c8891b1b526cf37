/* SPDX-License-Identifier: MIT */
/* gateway/modes/detect.c - bmsgw --detect PORT [--baud N] [--address A |
 * --scan-addresses] [--all]: its options read, then a thin call into
 * gateway/detect/ (gw_detect) on a loop of its own. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../conf/conf.h"
#include "../core/log.h"
#include "cli.h"

int gw_mode_detect_args(const struct gw_cli *o, struct gw_detect_opts *d)
{
	*d = (struct gw_detect_opts){ o->detect, 0, -1, o->detect_sweep, o->detect_all, o->verbose,
				      GW_DETECT_LISTEN, GW_DETECT_BUDGET };
	if (!o->detect) {
		if ((!o->detect_baud && !o->detect_address) || o->capture) {
			if (!o->detect_sweep && !o->detect_all)
				return -1;
			fprintf(stderr, "bmsgw: --scan-addresses and --all go with --detect PORT\n");
			return 2;
		}
		fprintf(stderr, "bmsgw: --baud and --address go with --detect PORT or --capture PORT\n");
		return 2;
	}
	char *end;
	if (o->detect_baud) {
		errno = 0;
		long b = strtol(o->detect_baud, &end, 10);
		if (errno || *end || !conf_baud_ok(b)) {
			fprintf(stderr, "bmsgw: --baud: \"%s\" is not a standard rate (1200 ... 921600)\n", o->detect_baud);
			return 2;
		}
		d->baud = (int)b;
	}
	if (o->detect_address) {
		errno = 0;
		const char *t = o->detect_address;
		bool hex = t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
		long a = strtol(hex ? t + 2 : t, &end, hex ? 16 : 10);
		if (errno || *end || !*t || (hex && !t[2]) || a < 0 || a > 255) {
			fprintf(stderr, "bmsgw: --address: \"%s\" is not 0..255\n", o->detect_address);
			return 2;
		}
		d->address = (int)a;
	}
	if (o->detect_address && o->detect_sweep) {
		fprintf(stderr, "bmsgw: --address and --scan-addresses exclude each other\n");
		return 2;
	}
	return -1;
}

/* --detect PORT: which BMS is there; its own loop, as --ble-scan. */
int gw_mode_detect(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	struct gw_detect_opts d;
	if (gw_mode_detect_args(o, &d) >= 0)
		return 2;
	struct ev_loop *loop = gw_mode_loop(GW_LOG_ERROR); /* the detector says what happens itself */
	if (!loop)
		return 2;
	int rc = gw_detect(loop, &d, stdout, stderr);
	ev_loop_destroy(loop);
	return rc;
}
