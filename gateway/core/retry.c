/* SPDX-License-Identifier: MIT */
/* gateway/core/retry.c - backoff and outage logging (see retry.h). */
#include "retry.h"

#include "clock.h"
#include "log.h"

void gw_retry_init(struct gw_retry *r)
{
	r->backoff = GW_RETRY_MIN;
	r->outage_logged = r->covered = false;
	r->down_since = 0;
}

static double next_wait(struct gw_retry *r)
{
	double wait = r->backoff;
	r->backoff = r->backoff * 2 > GW_RETRY_MAX ? GW_RETRY_MAX : r->backoff * 2;
	return wait;
}

double gw_retry_failed(struct gw_retry *r, const char *who, const char *why)
{
	if (!r->outage_logged || r->covered) {
		gw_warn("%s: %s; retrying in the background (every %.0f s at most)", who, why, GW_RETRY_MAX);
		if (!r->outage_logged)
			r->down_since = gw_mono();
		r->outage_logged = true;
		r->covered = false;
	} else {
		gw_debug("%s: %s (retry in %.0f s)", who, why, r->backoff);
	}
	return next_wait(r);
}

double gw_retry_failed_covered(struct gw_retry *r, const char *who, const char *why)
{
	if (!r->outage_logged) {
		r->outage_logged = r->covered = true;
		r->down_since = gw_mono();
	}
	gw_debug("%s: %s (retry in %.0f s)", who, why, r->backoff);
	return next_wait(r);
}

bool gw_retry_was_covered(const struct gw_retry *r)
{
	return r->outage_logged && r->covered;
}

double gw_retry_up(struct gw_retry *r)
{
	double out = r->outage_logged && !r->covered ? gw_mono() - r->down_since : -1;
	r->backoff = GW_RETRY_MIN;
	r->outage_logged = r->covered = false;
	return out;
}
