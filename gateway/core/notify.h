/* SPDX-License-Identifier: MIT */
/* gateway/core/notify.h - systemd's notification protocol (Type=notify).
 *
 * Built with libsystemd (pkg-config finds it), these call sd_notify(); a
 * build without it (a router with no systemd) has nobody to tell, and they
 * do nothing.  Outside a systemd service (no NOTIFY_SOCKET) they do nothing
 * either.
 */
#ifndef GATEWAY_CORE_NOTIFY_H
#define GATEWAY_CORE_NOTIFY_H

#include <stdbool.h>

/* Send "KEY=VALUE\n..." lines (READY=1, STATUS=..., RELOADING=1 ...). */
void gw_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval systemd asked for (WATCHDOG_USEC), in seconds, or 0. */
double gw_notify_watchdog(void);
/* True when the build can talk to systemd at all. */
bool gw_notify_built(void);

#endif
