/* SPDX-License-Identifier: MIT */
/* gateway/alerts/alerts.h - alerts to people ([alerts.NAME]): HTTP(S)
 * POSTs (ntfy, webhooks) and e-mail (SMTP, STARTTLS where offered), sent
 * through libcurl's multi interface on the daemon's loop.  Its row of the
 * service table (model/service.h). */
#ifndef GATEWAY_ALERTS_ALERTS_H
#define GATEWAY_ALERTS_ALERTS_H

#include "../model/service.h"

extern const struct gw_service gw_svc_alerts;

#endif
