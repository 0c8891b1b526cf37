/* SPDX-License-Identifier: MIT */
/* gateway/core/notify.c - systemd's notification protocol through libsystemd. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "notify.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void gw_notify(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int rc = sd_notify(0, msg);
	if (rc < 0)
		gw_debug("sd_notify: error %d", rc);
}

double gw_notify_watchdog(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return (double)usec / 1e6;
}

bool gw_notify_built(void)
{
	return true;
}

#else

void gw_notify(const char *fmt, ...)
{
	(void)fmt;
}

double gw_notify_watchdog(void)
{
	return 0;
}

bool gw_notify_built(void)
{
	return false;
}

#endif
