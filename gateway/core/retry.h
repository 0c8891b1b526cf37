/* SPDX-License-Identifier: MIT */
/* gateway/core/retry.h - one reconnect policy for everything that connects
 * out (the links, the upstream pushers, the MQTT client, the CAN and RS485
 * ports of the inverter outputs): capped exponential backoff, from
 * GW_RETRY_MIN doubling to GW_RETRY_MAX seconds, and an outage logged once
 * when it starts (a warning) and once when it ends, the failures in
 * between at debug level only. */
#ifndef GATEWAY_CORE_RETRY_H
#define GATEWAY_CORE_RETRY_H

#include <stdbool.h>

#define GW_RETRY_MIN 1.0
#define GW_RETRY_MAX 30.0

struct gw_retry {
	double backoff;                /* seconds before the next try */
	bool outage_logged;            /* the outage now going on was logged */
	bool covered;                  /* ... by another's line (gw_retry_failed_covered) */
	double down_since;             /* monotonic start of that outage */
};

/* A fresh policy: the first retry after GW_RETRY_MIN. */
void gw_retry_init(struct gw_retry *r);
/* A try failed: `who` ("link /dev/ttyUSB0", "mqtt: broker:1883") and `why`
 * are logged, as a warning the first time in an outage ("WHO: WHY;
 * retrying in the background (every 30 s at most)"), at debug level after
 * that.  Returns the seconds to wait before the next try (the backoff
 * doubles for the one after). */
double gw_retry_failed(struct gw_retry *r, const char *who, const char *why);
/* A try failed for the reason another's line of the log gives (each link
 * through an ESPHome proxy whose own outage is logged, naming its packs):
 * as gw_retry_failed(), at debug level.  The outage it starts is covered:
 * neither its start nor its end is logged (gw_retry_up() says -1 and
 * gw_retry_was_covered() true), unless a try then fails for a reason of its
 * own (gw_retry_failed()), which is logged then. */
double gw_retry_failed_covered(struct gw_retry *r, const char *who, const char *why);
/* Whether the outage going on is covered by another's line. */
bool gw_retry_was_covered(const struct gw_retry *r);
/* Connected: the backoff starts over.  Returns the length of the outage
 * that just ended in seconds, or -1 when none was logged (the caller logs
 * "back after N s" or its first "open"). */
double gw_retry_up(struct gw_retry *r);

#endif
