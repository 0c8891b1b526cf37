/* SPDX-License-Identifier: MIT */
/* gateway/core/log.h - leveled logging to stderr (journald picks it up), with
 * repeated messages folded into one line per interval. */
#ifndef GATEWAY_CORE_LOG_H
#define GATEWAY_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../conf/conf.h"

/* One enum for log levels, the configuration's (conf/conf.h). */
#define GW_LOG_ERROR CONF_LOG_ERROR
#define GW_LOG_WARN CONF_LOG_WARN
#define GW_LOG_INFO CONF_LOG_INFO
#define GW_LOG_DEBUG CONF_LOG_DEBUG

/* Messages above this level are dropped before they are formatted. */
extern enum conf_log_level gw_log_threshold;

void gw_log(enum conf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A text logged again within this many seconds is counted, not printed. */
#define GW_LOG_REPEAT_S 10.0

/* Log an already formatted text as if at monotonic time `now` (gw_log's
 * core; tests drive it with their own clock). */
void gw_log_text(enum conf_log_level level, const char *text, double now);
/* Messages an outsider can repeat at will with a text that changes (a
 * client's refusals, each with its port): folded by key instead of by
 * text, so that one source writes one line per interval, the next
 * carrying "(and N more like it)".  key: the source and the kind, e.g.
 * "refused 10.0.0.7" (gw_log_source gives a requester without its port). */
void gw_log_keyed(enum conf_log_level level, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gw_log_keyed_text(enum conf_log_level level, const char *key, const char *text, double now);
/* A key: prefix, a space and who ("Modbus client 10.0.0.7:51234", "...
 * [::1]:5000 (role ...)") with the port of its address left out.  Returns
 * whether who had an address with a port (a network client, whose lines
 * are worth folding by source: gw_log_refused). */
bool gw_log_source(const char *prefix, const char *who, char *out, size_t len);
/* A refusal of who's request: folded by who's address when who is a
 * network client (gw_log_source), else by its text as any message. */
void gw_log_refused(enum conf_log_level level, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print "(repeated N times)" for texts whose interval is over; call it
 * about once a second. */
void gw_log_flush(double now);
/* Write to f instead of stderr (tests); NULL = stderr. */
void gw_log_set_output(FILE *f);
/* Hex dump of wire bytes at debug level: "<what>: a5 01 90 ...". */
void gw_log_hex(const char *what, const uint8_t *p, size_t n);

#define gw_err(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)
#define gw_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_debug(...) do { if (gw_log_threshold >= GW_LOG_DEBUG) gw_log(GW_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
