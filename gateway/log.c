/* gateway/log.c - leveled logging to stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum gw_log_level gw_log_threshold = GW_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void gw_log(enum gw_log_level level, const char *fmt, ...)
{
	if (level > gw_log_threshold)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02d %02d:%02d:%02d.%03ld bmsgw %s: %s\n", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		level_names[level], line);
}

void gw_log_hex(const char *what, const uint8_t *p, size_t n)
{
	if (gw_log_threshold < GW_LOG_DEBUG)
		return;
	char hex[3 * 128 + 8];
	size_t o = 0, i;
	for (i = 0; i < n && i < 128; i++)
		o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%s%02x", i ? " " : "", p[i]);
	if (i < n)
		snprintf(hex + o, sizeof(hex) - o, " ...");
	gw_log(GW_LOG_DEBUG, "%s (%zu bytes): %s", what, n, hex);
}
