/* SPDX-License-Identifier: MIT */
/* gateway/core/retry.c - backoff and outage logging (see retry.h). */
#include "retry.h"

#include "clock.h"
#include "log.h"

void gw_retry_init(struct gw_retry *r)
{
	r->backoff = GW_RETRY_MIN;
	r->outage_logged = false;
	r->down_since = 0;
}

double gw_retry_failed(struct gw_retry *r, const char *who, const char *why)
{
	double wait = r->backoff;
	if (!r->outage_logged) {
		gw_warn("%s: %s; retrying in the background (every %.0f s at most)", who, why, GW_RETRY_MAX);
		r->outage_logged = true;
		r->down_since = gw_mono();
	} else {
		gw_debug("%s: %s (retry in %.0f s)", who, why, wait);
	}
	r->backoff = r->backoff * 2 > GW_RETRY_MAX ? GW_RETRY_MAX : r->backoff * 2;
	return wait;
}

double gw_retry_up(struct gw_retry *r)
{
	double out = r->outage_logged ? gw_mono() - r->down_since : -1;
	r->backoff = GW_RETRY_MIN;
	r->outage_logged = false;
	return out;
}
