/* SPDX-License-Identifier: MIT */
/* gateway/web/blestatus.c - the ESPHome Bluetooth proxies ([ble_proxy.NAME])
 * in /api/state ("ble_proxies") and /metrics (bmsgw_ble_proxy_*): each
 * configured proxy, whether its API session is up, what it reported (API
 * version, name, ESPHome version, free connection slots) and the counts.
 * Never its key or password. */
#include <stdio.h>
#include <string.h>

#include "../core/jsonw.h"
#include "../core/prom.h"
#include "../model/gw.h"
#include "../wire/wire.h"
#include "status.h"

void gw_status_proxies_json(struct gw *gw, FILE *o)
{
	const struct conf *c = gw->conf;
	fputc('[', o);
	for (int i = 0; i < c->nble_proxies; i++) {
		const struct conf_ble_proxy *p = &c->ble_proxies[i];
		struct gw_proxy_info pi;
		gw_proxy_info(gw->link_env, p, &pi);
		fprintf(o, "%s{\"name\":", i ? "," : "");
		gw_json_str(o, p->name);
		fprintf(o, ",\"host\":");
		gw_json_str(o, p->host);
		fprintf(o, ",\"port\":%d,\"encrypted\":%s,\"in_use\":%s,\"connected\":%s,\"packs\":%d,\"api_version\":",
			p->port, p->have_key ? "true" : "false", pi.in_use ? "true" : "false", pi.ready ? "true" : "false",
			pi.packs);
		if (pi.api_major || pi.api_minor)
			fprintf(o, "\"%u.%u\"", pi.api_major, pi.api_minor);
		else
			fputs("null", o);
		fprintf(o, ",\"device\":");
		gw_json_str(o, pi.device);
		fprintf(o, ",\"esphome_version\":");
		gw_json_str(o, pi.version);
		fprintf(o, ",\"free_slots\":");
		if (pi.free_slots >= 0)
			fprintf(o, "%d,\"slots\":%d", pi.free_slots, pi.limit);
		else
			fputs("null,\"slots\":null", o);
		fprintf(o, ",\"taking_turns\":%s,\"round_s\":", pi.turns ? "true" : "false");
		if (pi.round_s > 0)
			fprintf(o, "%.1f", pi.round_s);
		else
			fputs("null", o);
		fprintf(o, ",\"pack_names\":[");
		bool first = true;
		for (int j = 0; j < c->npacks; j++)
			if (c->packs[j].via_proxy && strcmp(c->packs[j].proxy.name, p->name) == 0) {
				fprintf(o, "%s", first ? "" : ",");
				gw_json_str(o, c->packs[j].name);
				first = false;
			}
		fprintf(o, "]");
		fprintf(o, ",\"sessions\":%lu,\"advertisements\":%lu,\"handshake_failures\":%lu,\"error\":", pi.sessions,
			pi.adverts, pi.handshake_failures);
		gw_json_str(o, pi.why);
		fputc('}', o);
	}
	fputc(']', o);
}

void gw_status_proxies_metrics(struct gw *gw, FILE *o)
{
	static const struct { const char *name, *type, *help; } pf[] = {
		{ "bmsgw_ble_proxy_up", "gauge", "1 while the ESPHome API session with the Bluetooth proxy is up." },
		{ "bmsgw_ble_proxy_free_slots", "gauge", "BLE connection slots the proxy reports free (-1: not reported)." },
		{ "bmsgw_ble_proxy_packs", "gauge", "Packs read through the proxy." },
		{ "bmsgw_ble_proxy_sessions_total", "counter", "API sessions established with the proxy." },
		{ "bmsgw_ble_proxy_advertisements_total", "counter", "BLE advertisements the proxy relayed." },
		{ "bmsgw_ble_proxy_handshake_failures_total", "counter",
		  "Encrypted API handshakes that failed (a wrong key, or the proxy not encrypted)." },
		{ "bmsgw_ble_proxy_round_seconds", "gauge",
		  "More packs than slots: the last time between two turns of one pack (0: no turns)." },
	};
	const struct conf *c = gw->conf;
	if (!c->nble_proxies)
		return;
	for (size_t f = 0; f < sizeof(pf) / sizeof(pf[0]); f++) {
		gw_prom_family(o, pf[f].name, pf[f].type, pf[f].help);
		for (int i = 0; i < c->nble_proxies; i++) {
			struct gw_proxy_info pi;
			gw_proxy_info(gw->link_env, &c->ble_proxies[i], &pi);
			double v[] = { pi.ready, pi.free_slots, pi.packs, (double)pi.sessions, (double)pi.adverts,
				       (double)pi.handshake_failures, pi.round_s };
			fprintf(o, "%s{proxy=", pf[f].name);
			gw_prom_label(o, c->ble_proxies[i].name);
			fputc('}', o);
			gw_prom_value(o, v[f]);
		}
	}
}
