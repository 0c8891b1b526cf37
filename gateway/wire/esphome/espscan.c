/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espscan.c - bmsgw --ble-scan --adapter NAME where
 * NAME is a [ble_proxy.NAME]: an API session with the proxy for a while,
 * then one line per device its advertisements showed, strongest first,
 * with the protocol it likely speaks (wire/ble/bleclass.c), as the scan
 * through BlueZ prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/resolve.h"
#include "esp_int.h"

static void scan_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static int cmp_seen(const void *a, const void *b)
{
	const struct esp_seen *x = a, *y = b;
	return x->rssi != y->rssi ? y->rssi - x->rssi : (x->addr > y->addr) - (x->addr < y->addr);
}

static void print_seen(FILE *out, const struct esp_seen *o)
{
	struct gw_ble_seen s;
	memset(&s, 0, sizeof(s));
	snprintf(s.address, sizeof(s.address), "%02X:%02X:%02X:%02X:%02X:%02X", (unsigned)(o->addr >> 40 & 0xff),
		 (unsigned)(o->addr >> 32 & 0xff), (unsigned)(o->addr >> 24 & 0xff), (unsigned)(o->addr >> 16 & 0xff),
		 (unsigned)(o->addr >> 8 & 0xff), (unsigned)(o->addr & 0xff));
	snprintf(s.name, sizeof(s.name), "%s", o->name);
	s.have_rssi = true;
	s.rssi = o->rssi;
	s.nuuids = o->nuuids;
	memcpy(s.uuids, o->uuids, sizeof(s.uuids));
	s.nmfr = o->nmfr;
	memcpy(s.companies, o->companies, sizeof(s.companies));
	s.nsdata = o->nsdata;
	memcpy(s.sdata, o->sdata, sizeof(s.sdata));
	gw_ble_scan_line(out, &s, false); /* no pairing through a proxy */
}

/* Run the loop until the timer ends or the session fails; the session's
 * error, or NULL. */
static const char *run(struct ev_loop *loop, struct gw_esp *p, double seconds)
{
	ev_timer t;
	ev_timer_init(&t, scan_timer_cb, seconds, 0.);
	ev_timer_start(loop, &t);
	while (ev_is_active(&t) && !p->why[0])
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
	return p->why[0] ? p->why : NULL;
}

int gw_proxy_scan(struct ev_loop *loop, const struct conf_ble_proxy *cfg, double seconds, FILE *out)
{
	static const struct esp_users none;
	struct gw_link_env env = { .loop = loop, .ble_connect_timeout = 20 };
	struct gw_esp_link holder; /* a link of none: keeps the client while the scan runs */
	memset(&holder, 0, sizeof(holder));
	env.resolver = gw_resolver_new(loop);
	struct gw_esp *p = env.resolver ? esp_client_get(&env, cfg, &none) : NULL;
	if (!p) {
		fprintf(stderr, "bmsgw: --ble-scan: out of memory\n");
		gw_resolver_free(env.resolver);
		return 1;
	}
	esp_client_join(p, &holder);
	esp_client_want(p);
	fprintf(stderr, "bmsgw: scanning through proxy %s (%s port %d) for %g s ...\n", cfg->name, cfg->host, cfg->port,
		seconds);
	const char *why = run(loop, p, seconds);
	int rc = 0;
	if (why) {
		fprintf(stderr, "bmsgw: --ble-scan: proxy %s: %s\n", cfg->name, why);
		rc = 1;
	} else if (p->st != ES_READY) {
		fprintf(stderr, "bmsgw: --ble-scan: proxy %s: no session within %g s\n", cfg->name, seconds);
		rc = 1;
	}
	qsort(p->seen, (size_t)p->nseen, sizeof(p->seen[0]), cmp_seen);
	gw_ble_scan_header(out);
	for (int i = 0; i < p->nseen; i++)
		print_seen(out, &p->seen[i]);
	fprintf(out, "%d device(s)\n", p->nseen);
	fflush(out);
	esp_client_leave(p, &holder);
	gw_resolver_free(env.resolver);
	return rc;
}
