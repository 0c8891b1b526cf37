/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espinfo.c - what the status page, /api/state and
 * /metrics see of an ESPHome Bluetooth proxy (gw_proxy_info(), wire.h). */
#include <string.h>

#include "esp_int.h"

void gw_proxy_info(const struct gw_link_env *env, const struct conf_ble_proxy *cfg, struct gw_proxy_info *out)
{
	memset(out, 0, sizeof(*out));
	out->device = out->version = out->why = "";
	out->free_slots = out->limit = -1;
	for (const struct gw_esp *p = env->esp; p; p = p->next) {
		if (!conf_ble_proxy_same(&p->cfg, cfg))
			continue;
		out->in_use = true;
		out->ready = p->st == ES_READY;
		for (const struct gw_esp_link *k = p->links; k; k = k->next)
			out->packs++;
		out->api_major = p->api_major;
		out->api_minor = p->api_minor;
		out->device = p->name;
		out->version = p->version;
		out->free_slots = p->free_slots;
		out->limit = p->limit;
		out->round_s = p->round_s;
		for (const struct gw_esp_link *k = p->links; k; k = k->next)
			out->turns |= k->parked || k->st == EL_QUEUED || k->st == EL_RELEASING;
		out->turns |= p->round_s > 0;
		out->sessions = p->sessions;
		out->adverts = p->adverts;
		out->handshake_failures = p->handshake_failures;
		out->why = p->why;
		return;
	}
}
