/* SPDX-License-Identifier: MIT */
/* gateway/engine/wbudget.h - a pack's budget of BMS settings writes
 * (`bms_settings_per_day`, bmsgw-bms(7) BMS SETTINGS): at most N changes
 * that reach the BMS in any 24 hours, a rolling window.
 *
 * A BMS keeps its settings in an EEPROM rated about 100,000 write cycles
 * (a JBD saves the whole block at each change's exit from factory mode);
 * an automation that sends the same value every minute would spend that
 * in 70 days.  The default, 10 a day, spends it in 27 years even when it
 * is used up every day.  A change answered without a frame (the BMS holds
 * the value already) costs nothing; one whose write went out costs one,
 * whatever its outcome.
 *
 * The window is the unix times of the writes in the last 24 hours (the
 * wall clock: the budget survives a restart through the state file, as
 * "bmswrites NAME T1 T2 ..."); a time ahead of the clock (the clock went
 * back) counts as now, so a step of the clock blocks nothing for more than
 * a day.  Pure: times in, a verdict out. */
#ifndef GATEWAY_ENGINE_WBUDGET_H
#define GATEWAY_ENGINE_WBUDGET_H

#include <stddef.h>
#include <stdint.h>

#define GW_WBUDGET_MAX 1000        /* bms_settings_per_day's highest */
#define GW_WBUDGET_DEFAULT 10      /* ... and its default (conf/conf.c's row says it too) */
#define GW_WBUDGET_WINDOW 86400    /* s: the rolling day */

struct gw_wbudget {
	int64_t at[GW_WBUDGET_MAX];     /* unix times of the writes in the window, oldest first */
	int n;
};

/* Seconds until the next write may go with per_day a day (0: now), at unix
 * time now; the writes out of the window are forgotten. */
long gw_wbudget_wait(struct gw_wbudget *b, int per_day, int64_t now);
/* A write went out at now. */
void gw_wbudget_spend(struct gw_wbudget *b, int64_t now);
/* The writes in the window as "T1 T2 ..." into out (0: none; else the
 * length; cap at least 12 per write). */
size_t gw_wbudget_format(const struct gw_wbudget *b, char *out, size_t cap);
/* Take such a line back (what is no time, or older than a day at now, is
 * passed over). */
void gw_wbudget_parse(struct gw_wbudget *b, const char *text, int64_t now);
/* "2 h 24 min", "40 s" of s seconds, for people. */
void gw_wbudget_say(long s, char *out, size_t cap);

#endif
