/* SPDX-License-Identifier: MIT */
/* gateway/model/strings_gw.h - the strings of gw's bank ([bank] strings =
 * a+b+c+d, e+f+g+h): their members and names, and each string at a time
 * (strings_gw.c), by the pure rules of engine/bank_strings.h over the members'
 * fresh snapshots.  Every reader takes the strings the bank's one state
 * keeps (bankstate.h). */
#ifndef GATEWAY_MODEL_STRINGS_GW_H
#define GATEWAY_MODEL_STRINGS_GW_H

#include <stddef.h>

#include "../engine/bank_strings.h"

struct gw;

/* The string s of gw's bank at monotonic time now (gw_mono()). */
void gw_string_compute_at(const struct gw *gw, int s, double now, struct gw_string_state *out);
/* Its members' current threshold: [bank] max_current_deviation, else 5 % of
 * the string's rating (the smallest member's max charge current), at least
 * 2 A. */
double gw_string_deviation_limit(const struct gw *gw, int s);
/* "string1" ... : string s's name in every output. */
void gw_string_name(int s, char *buf, size_t cap);
/* The bank pack index (into conf.bank.pack_idx) of string s's member m. */
int gw_string_member(const struct gw *gw, int s, int m);
#endif
