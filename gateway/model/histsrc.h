/* SPDX-License-Identifier: MIT */
/* gateway/model/histsrc.h - the history as a source of past samples, for
 * the outputs that republish them (MQTT backfill), which may not call the
 * history output themselves (sibling outputs never call each other).
 *
 * The history output registers its source in gw->hist_src when it starts
 * and clears it when it stops or a reload replaces it; a reader asks
 * through the function pointers and never blocks: the history's worker
 * thread reads the database and the answer comes back on the loop.
 */
#ifndef GATEWAY_MODEL_HISTSRC_H
#define GATEWAY_MODEL_HISTSRC_H

#include <stddef.h>
#include <stdint.h>

/* An answer: status 200 with text (malloc'd, the callee owns and frees
 * it), else no text (503: the database is not open; 500: it failed).  On
 * 200 the text is a first line "COUNT\n" (the samples in the whole range
 * asked, the ones returned included), then one line a sample, oldest
 * first: "TS JSON\n", TS its Unix time, JSON the sample as one object
 * ("time" and the unit's fields, named as /api/history names them). */
typedef void (*gw_hist_rows_cb)(void *arg, int status, char *text, size_t len);

struct gw_hist_source {
	void *ctx;                      /* NULL: no history runs */
	double interval;                /* s between samples */
	/* At most max samples of unit with after < time <= upto (as taken,
	 * never folded ones).  The callback is called exactly once, on the
	 * loop, later (never from inside this call), even when the history
	 * stops or is replaced before it answers.  0, or -1 (no memory: no
	 * callback). */
	int (*samples)(void *ctx, const char *unit, int64_t after, int64_t upto, int max, gw_hist_rows_cb cb,
		       void *arg);
};

#endif
