/* SPDX-License-Identifier: MIT */
/* gateway/core/log.c - leveled logging to stderr, with repeats folded.
 *
 * A message (error, warn or info) whose exact text was logged less than
 * GW_LOG_REPEAT_S seconds ago is not printed again but counted; the count
 * comes out as "(repeated N times)" on the next print of that text, or from
 * gw_log_flush() once the interval is over.  So no fault, however fast it
 * repeats, writes more than one line per text per interval.  Debug messages
 * (hex dumps, per-request traces) are never folded.
 *
 * A line is one line: a control character in a message (a certificate's
 * role, a client's payload, a BMS's text) is written as \xHH, so nothing
 * from outside can start a forged line in the journal or the log file.
 */
#include "log.h"
#include "clock.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum conf_log_level gw_log_threshold = GW_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

#define SLOTS 64
#define TEXT_MAX 1024

struct slot {
	bool used;
	enum conf_log_level level;
	unsigned long repeats;         /* not printed since last_print */
	double last_print;             /* monotonic */
	unsigned long hash;
	char text[TEXT_MAX];
};

static struct slot slots[SLOTS];
static FILE *sink;

void gw_log_set_output(FILE *f)
{
	sink = f;
}

static void print_line(enum conf_log_level level, const char *text, unsigned long repeats)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	char rep[48] = "";
	if (repeats)
		snprintf(rep, sizeof(rep), " (repeated %lu time%s)", repeats, repeats == 1 ? "" : "s");
	fprintf(sink ? sink : stderr, "%04d-%02d-%02d %02d:%02d:%02d.%03ld bmsgw %s: %s%s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000L, level_names[level], text, rep);
	if (sink)
		fflush(sink);
}

/* text with its control characters escaped, into out (cut at a whole
 * escape when out is full). */
static void escape(const char *text, char *out, size_t cap)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		char e[5];
		int n = *p < 0x20 || *p == 0x7F ? snprintf(e, sizeof(e), "\\x%02X", *p)
						 : snprintf(e, sizeof(e), "%c", *p);
		if (o + (size_t)n >= cap)
			break;
		memcpy(out + o, e, (size_t)n);
		o += (size_t)n;
	}
	out[o] = '\0';
}

static unsigned long text_hash(const char *s)
{
	unsigned long h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

void gw_log_text(enum conf_log_level level, const char *raw, double now)
{
	if (level > gw_log_threshold)
		return;
	char text[TEXT_MAX];
	escape(raw, text, sizeof(text));
	if (level == GW_LOG_DEBUG) {
		print_line(level, text, 0);
		return;
	}
	unsigned long h = text_hash(text);
	struct slot *s = NULL, *oldest = &slots[0];
	for (int i = 0; i < SLOTS; i++) {
		struct slot *t = &slots[i];
		if (t->used && t->hash == h && strcmp(t->text, text) == 0) {
			s = t;
			break;
		}
		if (!t->used || (oldest->used && t->last_print < oldest->last_print))
			oldest = t;
	}
	if (s && now - s->last_print < GW_LOG_REPEAT_S) {
		s->repeats++;
		return;
	}
	if (!s) {
		s = oldest;
		if (s->used && s->repeats)
			print_line(s->level, s->text, s->repeats); /* evicted: its count is not lost */
		s->used = true;
		s->hash = h;
		snprintf(s->text, sizeof(s->text), "%s", text);
		s->repeats = 0;
	}
	print_line(level, text, s->repeats);
	s->level = level;
	s->repeats = 0;
	s->last_print = now;
}

void gw_log_flush(double now)
{
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		if (s->used && s->repeats && now - s->last_print >= GW_LOG_REPEAT_S) {
			print_line(s->level, s->text, s->repeats);
			s->repeats = 0;
			s->last_print = now;
		}
	}
}

void gw_log(enum conf_log_level level, const char *fmt, ...)
{
	if (level > gw_log_threshold)
		return;
	char line[TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	gw_log_text(level, line, gw_mono());
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
