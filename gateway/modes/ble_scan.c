/* SPDX-License-Identifier: MIT */
/* gateway/modes/ble_scan.c - bmsgw --ble-scan [SECONDS] [-c FILE]
 * [--adapter NAME]: discovery through a local adapter (BlueZ, wire/ble/)
 * or the advertisements an ESPHome Bluetooth proxy relays
 * (wire/esphome/), on its own loop, then the list. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../core/log.h"
#include "../wire/ble/ble.h"
#include "../wire/wire.h"
#include "cli.h"

/* The [ble_proxy.NAME] of c named adapter, or NULL. */
static const struct conf_ble_proxy *proxy_of(const struct conf *c, const char *adapter)
{
	for (int i = 0; c && i < c->nble_proxies; i++)
		if (strcmp(c->ble_proxies[i].name, adapter) == 0)
			return &c->ble_proxies[i];
	return NULL;
}

/* Through the local adapter (BlueZ), where the build has it. */
static int scan_local(struct ev_loop *loop, const char *adapter, double seconds)
{
#ifdef HAVE_SYSTEMD
	return gw_ble_scan(loop, adapter, seconds, stdout);
#else
	(void)loop;
	(void)adapter;
	(void)seconds;
	fprintf(stderr, "bmsgw: --ble-scan: built without Bluetooth support (bmsgw reaches BlueZ through "
		"libsystemd's D-Bus library; this build has none); an ESPHome proxy: --adapter NAME with -c FILE\n");
	return 1;
#endif
}

/* --ble-scan: the adapter --adapter names, else -c FILE's [ble] adapter. */
int gw_mode_ble_scan(const struct gw_cli *o, const struct conf *conf)
{
	(void)conf;
	struct conf *c = o->file ? gw_cli_conf_part(o->file) : NULL;
	if (o->file && !c)
		return 1;
	char adapter[CONF_ID_MAX] = "";
	snprintf(adapter, sizeof(adapter), "%s", o->scan_adapter ? o->scan_adapter : c ? c->ble.adapter : "");
	const struct conf_ble_proxy *px = proxy_of(c, adapter);
	if (!px && adapter[0] && strncmp(adapter, "hci", 3) != 0) {
		fprintf(stderr, "bmsgw: --ble-scan: \"%s\" is no local adapter (hci0 ...) and no [ble_proxy.%s] of %s\n",
			adapter, adapter, o->file ? o->file : "a configuration (-c FILE)");
		free(c);
		return 1;
	}
	struct ev_loop *loop = gw_mode_loop(o->verbose ? GW_LOG_DEBUG : GW_LOG_WARN);
	if (!loop) {
		free(c);
		return 1;
	}
	int rc = px ? gw_proxy_scan(loop, px, o->scan_seconds, stdout) : scan_local(loop, adapter, o->scan_seconds);
	ev_loop_destroy(loop);
	free(c);
	return rc;
}
