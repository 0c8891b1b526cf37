/* SPDX-License-Identifier: MIT */
/* gateway/model/bankstate.h - the bank's state, one for every reader: the
 * bank unit (struct gw_bank_state, engine/bank.h) and its strings ([bank]
 * strings; strings_gw.h), computed from the packs' last complete snapshots and
 * their freshness, kept in struct gw (bankstate.c alone writes it) and
 * computed again only when what it is made of changed:
 *
 *   a member's poll ends      gw_bank_polled(), from the one end of every
 *                             poll (model/pack.c gw_pack_polled), before
 *                             anyone hears of the poll;
 *   a member's freshness turns (fresh, stale, or stale without ever
 *                             answering): judged by gw_bank_at() at every
 *                             read, at the reader's own time, exactly as
 *                             the member's own unit is (gw_pack_online_at,
 *                             gw_pack_stale_at), and by the tick each second
 *                             (gw_bank_tick()) for none to lag; the state
 *                             changes the moment a member goes stale, never
 *                             at the next poll;
 *   a reload                  gw_bank_reset() (and any other configuration:
 *                             the state knows the one it was made from).
 *
 * Every reader takes it from gw_bank_at(): the Modbus image and SunSpec, MQTT
 * (the bank's state, its discovery, Victron's JSON), the inverter sources,
 * the history, influx, the alerts, the status page and its metrics, and the
 * model's own (the charge limits, the energy counters, the JSON of the bank
 * and its strings).  None computes a bank or a string of its own.
 *
 * Its generation changes each time it is computed, and only then: readers
 * holding the same generation saw the same bank, values and freshness alike.
 * The one value that moves with the clock, the time since the last full
 * point of the counted SOC, is read at the reader's time through
 * gw_bank_counted().
 */
#ifndef GATEWAY_MODEL_BANKSTATE_H
#define GATEWAY_MODEL_BANKSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "gw.h"
#include "strings_gw.h"

struct gw_bank_view {
	uint64_t gen;                  /* 1, 2, ...: a new one each time it is computed */
	double at;                     /* monotonic time it was computed for */
	struct gw_bank_state bank;     /* the bank unit at `at` (engine/bank.h) */
	double newest;                 /* monotonic time of the last good poll of its freshest
	                                * pack (stale ones too: the bank's age), -1 = none */
	int nstrings;                  /* [bank] strings: strings[0 .. nstrings) */
	struct gw_string_state strings[CONF_MAX_PACKS];
};

/* The bank at monotonic time now (gw_mono(); a fake clock in the tests):
 * the state kept, computed again first when a member's poll, freshness or
 * the configuration changed since.  gw's state is logically const: a
 * reader never changes what it reads, only when it is computed. */
const struct gw_bank_view *gw_bank_at(const struct gw *gw, double now);
/* Whether the bank's limits (gw->bank_lim, made by the limit engine's
 * once-a-second step) may go out at now: the bank has a fresh pack and,
 * with [limits] bank_stale = block, no member is stale at now (the step
 * would make them fail-safe; an output checks at its own time, so they
 * fall at once).  The members as the step counts them (model/charge.c):
 * the bank's packs but a balancer (a string's members are all packs). */
bool gw_bank_limits_fresh_at(const struct gw *gw, double now);
/* The moment after now the first member of the bank fresh (or not read
 * yet) at now goes stale, the members as above; INFINITY if none (the
 * charge engine's step then: model/charge.c). */
double gw_bank_next_stale(const struct gw *gw, double now);
/* The counted SOC's figures of the bank (banksoc.h) at now: v's, with the
 * time since its last full point at now. */
void gw_bank_counted(const struct gw_bank_view *v, double now, struct gw_soc_out *o);

/* The bank at monotonic time now (gw_mono()): engine/bank.h's aggregate
 * over the bank's packs that are fresh, with the SOC and capacities of
 * engine/banksoc.h and the missing packs.  _from: of a bank of strings,
 * from its strings at now (ss[s], strings_gw.h; unused without).  Only
 * the state's own computation and the tests call them: every reader takes
 * gw_bank_at(). */
void gw_bank_compute_at(const struct gw *gw, double now, struct gw_bank_state *out);
void gw_bank_compute_from(const struct gw *gw, double now, const struct gw_string_state *ss,
			  struct gw_bank_state *out);

/* The writers.  A poll of p ended at now (ok: a new snapshot committed):
 * a member's new snapshot makes a new state at once.  A second passed:
 * a member gone stale since makes a new state.  The configuration changed
 * (gw_init, a reload): a new state. */
void gw_bank_polled(struct gw *gw, const struct gw_pack *p, bool ok, double now);
void gw_bank_tick(struct gw *gw, double now);
void gw_bank_reset(struct gw *gw, double now);

/* gw's kept state (gw_init; free: NULL is fine). */
struct gw_bank_kept *gw_bank_kept_new(void);
void gw_bank_kept_free(struct gw_bank_kept *k);

#endif
