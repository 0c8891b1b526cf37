/* gateway/log.h - leveled logging to stderr (journald picks it up). */
#ifndef GATEWAY_LOG_H
#define GATEWAY_LOG_H

#include <stddef.h>
#include <stdint.h>

enum gw_log_level { GW_LOG_ERROR = 0, GW_LOG_WARN, GW_LOG_INFO, GW_LOG_DEBUG };

/* Messages above this level are dropped before they are formatted. */
extern enum gw_log_level gw_log_threshold;

void gw_log(enum gw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hex dump of wire bytes at debug level: "<what>: a5 01 90 ...". */
void gw_log_hex(const char *what, const uint8_t *p, size_t n);

#define gw_err(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)
#define gw_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_debug(...) do { if (gw_log_threshold >= GW_LOG_DEBUG) gw_log(GW_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
