/* SPDX-License-Identifier: MIT */
/* gateway/modes/ble_scan.c - bmsgw --ble-scan [SECONDS] [-c FILE]:
 * BlueZ's discovery on its own loop (wire/ble/), then the list. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../conf/conf.h"
#include "../core/log.h"
#include "../wire/ble/ble.h"
#include "cli.h"

/* --ble-scan: BlueZ's discovery, then the list. */
int gw_mode_ble_scan(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	char adapter[CONF_ID_MAX] = "";
	if (o->file) {
		/* only for its [ble] adapter */
		struct conf *c = gw_cli_conf_part(o->file);
		if (!c)
			return 1;
		snprintf(adapter, sizeof(adapter), "%s", c->ble.adapter);
		free(c);
	}
#ifdef HAVE_SYSTEMD
	gw_log_threshold = o->verbose ? GW_LOG_DEBUG : GW_LOG_WARN;
	struct ev_loop *loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, "bmsgw: cannot initialise libev\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int rc = gw_ble_scan(loop, adapter, o->scan_seconds, stdout);
	ev_loop_destroy(loop);
	return rc;
#else
	fprintf(stderr, "bmsgw: --ble-scan: built without Bluetooth support (bmsgw reaches BlueZ through "
		"libsystemd's D-Bus library; this build has none)\n");
	return 1;
#endif
}
