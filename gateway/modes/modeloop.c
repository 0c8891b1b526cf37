/* SPDX-License-Identifier: MIT */
/* gateway/modes/modeloop.c - the loop of a tool mode that runs one
 * (--detect, --capture, --ble-scan): see cli.h. */
#include <signal.h>
#include <stdio.h>

#include "../core/log.h"
#include "cli.h"

struct ev_loop *gw_mode_loop(enum conf_log_level level)
{
	gw_log_threshold = level;
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		return NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	return loop;
}
