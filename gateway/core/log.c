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
 * A message logged with a key (gw_log_keyed: a client's refusals) is
 * folded by its key, its text may change: the lines of one key within the
 * interval are counted, and a line of the last one's text with "(and N
 * more like it)" tells them (at the interval's end, or before the key's
 * next line): every other line of the key is one message.
 *
 * A line is one line: a control character in a message (a certificate's
 * role, a client's payload, a BMS's text) is written as \xHH, so nothing
 * from outside can start a forged line in the journal or the log file.
 */
#include "log.h"
#include "clock.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum conf_log_level gw_log_threshold = GW_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

#define SLOTS 64
#define TEXT_MAX 1024

#define KEY_MAX 160

struct slot {
	bool used;
	bool keyed;                    /* folded by key (the texts may differ) */
	enum conf_log_level level;
	unsigned long repeats;         /* not printed since last_print */
	double last_print;             /* monotonic */
	unsigned long hash;            /* of key */
	char key[KEY_MAX];             /* the key, or the start of the text */
	char text[TEXT_MAX];           /* the text printed last */
};

static struct slot slots[SLOTS];

/* Keyed lines of new sources: at most KEYED_MAX a GW_LOG_REPEAT_S, the
 * rest counted (a flood from many addresses). */
#define KEYED_MAX 20
static unsigned keyed_new;
static double keyed_since;
static unsigned long keyed_dropped;
static FILE *sink;

void gw_log_set_output(FILE *f)
{
	sink = f;
}

static void print_line(enum conf_log_level level, const char *text, unsigned long repeats, bool keyed)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	char rep[48] = "";
	if (repeats && keyed)
		snprintf(rep, sizeof(rep), " (and %lu more like it)", repeats);
	else if (repeats)
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

/* The slot of k (a key, or unkeyed the whole text), else the free or
 * oldest one, its count printed before it is taken over. */
static struct slot *slot_of(const char *k, bool keyed, unsigned long h, bool *found)
{
	struct slot *oldest = &slots[0];
	for (int i = 0; i < SLOTS; i++) {
		struct slot *t = &slots[i];
		if (t->used && t->keyed == keyed && t->hash == h &&
		    (keyed ? strncmp(t->key, k, KEY_MAX - 1) : strcmp(t->text, k)) == 0) {
			*found = true;
			return t;
		}
		if (!t->used || (oldest->used && t->last_print < oldest->last_print))
			oldest = t;
	}
	*found = false;
	if (oldest->used && oldest->repeats)
		print_line(oldest->level, oldest->text, oldest->repeats, oldest->keyed); /* its count is not lost */
	return oldest;
}

/* A keyed line of a source without a slot may be printed now. */
static bool keyed_budget(double now)
{
	if (now - keyed_since >= GW_LOG_REPEAT_S) {
		keyed_since = now;
		keyed_new = 0;
	}
	if (keyed_new >= KEYED_MAX) {
		keyed_dropped++;
		return false;
	}
	keyed_new++;
	return true;
}

/* text (escaped) folded by key (NULL: by the text itself). */
static void fold(enum conf_log_level level, const char *key, const char *raw, double now)
{
	char text[TEXT_MAX];
	escape(raw, text, sizeof(text));
	if (level == GW_LOG_DEBUG) {
		print_line(level, text, 0, false);
		return;
	}
	const char *k = key ? key : text;
	unsigned long h = text_hash(k);
	bool found;
	struct slot *s = slot_of(k, key != NULL, h, &found);
	if (found && now - s->last_print < GW_LOG_REPEAT_S) {
		s->repeats++;
		return;
	}
	if (found && s->keyed && s->repeats) { /* the count of the last interval first, on its own line */
		print_line(s->level, s->text, s->repeats, true);
		s->repeats = 0;
	}
	if (key && !found && !keyed_budget(now))
		return;
	if (!found) {
		s->used = true;
		s->keyed = key != NULL;
		s->hash = h;
		snprintf(s->key, sizeof(s->key), "%s", key ? key : "");
		s->repeats = 0;
	}
	snprintf(s->text, sizeof(s->text), "%s", text);
	print_line(level, text, s->repeats, s->keyed);
	s->level = level;
	s->repeats = 0;
	s->last_print = now;
}

void gw_log_text(enum conf_log_level level, const char *raw, double now)
{
	if (level <= gw_log_threshold)
		fold(level, NULL, raw, now);
}

void gw_log_keyed_text(enum conf_log_level level, const char *key, const char *text, double now)
{
	if (level <= gw_log_threshold)
		fold(level, key, text, now);
}

/* Whether the word that ends at end (a ':') is an address: "[...]" or
 * digits and dots with a dot. */
static bool is_address(const char *start, const char *end)
{
	if (end[-1] == ']')
		return true;
	bool dot = false;
	const char *q = end;
	while (q > start && q[-1] != ' ') {
		q--;
		if (*q == '.')
			dot = true;
		else if (!isdigit((unsigned char)*q))
			return false;
	}
	return dot;
}

bool gw_log_source(const char *prefix, const char *who, char *out, size_t len)
{
	bool port = false;
	int n = snprintf(out, len, "%s ", prefix);
	size_t o = n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
	for (const char *p = who; *p && o + 1 < len; p++) {
		/* ":digits" after an address (a digit or ']'), before the end, a space or ')' */
		if (*p == ':' && p > who && is_address(who, p) && isdigit((unsigned char)p[1])) {
			const char *q = p + 1;
			while (isdigit((unsigned char)*q))
				q++;
			if (*q == '\0' || *q == ' ' || *q == ')') {
				p = q - 1;
				port = true;
				continue;
			}
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	return port;
}

void gw_log_refused(enum conf_log_level level, const char *who, const char *fmt, ...)
{
	if (level > gw_log_threshold)
		return;
	char line[TEXT_MAX], key[KEY_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	bool client = gw_log_source("refused", who, key, sizeof(key));
	fold(level, client ? key : NULL, line, gw_mono());
}

void gw_log_flush(double now)
{
	if (keyed_dropped && now - keyed_since >= GW_LOG_REPEAT_S) {
		char line[128];
		snprintf(line, sizeof(line), "log: %lu line(s) of more than %d sources within %.0f s not printed",
			 keyed_dropped, KEYED_MAX, GW_LOG_REPEAT_S);
		keyed_dropped = 0;
		print_line(GW_LOG_WARN, line, 0, false);
	}
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		if (s->used && s->repeats && now - s->last_print >= GW_LOG_REPEAT_S) {
			print_line(s->level, s->text, s->repeats, s->keyed);
			s->repeats = 0;
			s->last_print = now;
		}
	}
}

/* gw_log() and gw_log_keyed() (key NULL: the former): a message above
 * the threshold is dropped before it is formatted. */
__attribute__((format(printf, 3, 0))) static void log_v(enum conf_log_level level, const char *key,
								  const char *fmt, va_list ap)
{
	char line[TEXT_MAX];
	if (level > gw_log_threshold)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (key)
		gw_log_keyed_text(level, key, line, gw_mono());
	else
		gw_log_text(level, line, gw_mono());
}

void gw_log(enum conf_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(level, NULL, fmt, ap);
	va_end(ap);
}

void gw_log_keyed(enum conf_log_level level, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(level, key, fmt, ap);
	va_end(ap);
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
