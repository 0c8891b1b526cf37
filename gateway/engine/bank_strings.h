/* SPDX-License-Identifier: MIT */
/* gateway/engine/bank_strings.h - packs in series: the strings of a bank
 * ([bank] strings = a+b+c+d, e+f+g+h; bmsgw.ini(5) "[bank]").
 *
 * A string is packs in series; the strings are in parallel.  A string is
 * computed from its members' last complete snapshots (bank_strings.c), with the
 * bank, by the bank's one state (bankstate.h), never fresher or staler than
 * they are:
 *
 *   voltage      the sum of the members'
 *   current      their common current: the mean of the members'; a member
 *                whose current departs from their median by more than the threshold
 *                (max_current_deviation, else 5 % of the string's rating, at
 *                least 2 A) is flagged: a broken series link, a bypassed or
 *                miswired member, a wrong shunt
 *   SOC, remaining Ah   the weakest member's (the string is empty when it is)
 *   full Ah      the smallest member's, known once every member's is
 *                (each member's capacities by the one rule, capacity.h)
 *   cells        every member's, in string order: string cell n is member
 *                m's cell c (min / max / mean with both); a member without
 *                a cell list adds its BMS's own highest and lowest cell to
 *                the min / max (no count, no mean then)
 *   temperatures every member's sensors, in member order (the first 8 in the
 *                snapshot), and the coldest and hottest of them all with the member
 *   alarms       any member's       MOSFETs   on only if on in every member
 *   fresh        only while every member is fresh: a string with a member
 *                not fresh has no data, and is stale once that member is
 *
 * Its limits (gw_limits_string, pure): CVL and DVL the sums of the members'
 * (each member's own cell rules and charge machine), CCL / DCL the smallest
 * member's, a direction allowed only if every member allows it: a member's
 * protection stops the whole string at once.  A member not fresh makes the
 * string fail-safe (its cells are unknown; the sum cannot be computed).
 */
#ifndef GATEWAY_ENGINE_STRINGS_H
#define GATEWAY_ENGINE_STRINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"
#include "pack_limits.h"

/* Where a value of a string is: the member (1-based position in the
 * string) and its cell or sensor (1-based); member 0 = none. */
struct gw_string_at {
	uint8_t member;
	uint8_t index;
	uint16_t string_index;         /* cells: the cell's number in the whole string (1-based) */
};

struct gw_string_state {
	int n;                         /* members */
	int fresh_members;             /* of them fresh now */
	bool fresh;                    /* every member fresh: snap holds the string */
	bool stale;                    /* a member is stale (not merely unread at start) */
	struct bms_snapshot snap;      /* the string as one pack; no cells of its own (cells below);
	                                * its sensors the members' in order (the first 8) */
	uint16_t cells;                /* cells in the string (sum of the members') */
	uint16_t cell_min_mv, cell_max_mv, cell_avg_mv;
	struct gw_string_at cell_min_at, cell_max_at;
	bool cell_ext;                 /* a member gave only its BMS's highest and lowest cell:
	                                * they count in the min / max (string_index 0), the
	                                * count and the mean (0) are not the string's */
	float tmin_c, tmax_c;          /* the coldest and hottest sensor of every member */
	struct gw_string_at tmin_at, tmax_at;
	uint8_t weakest;               /* the member whose SOC is the string's (1-based), 0 = none */
	double current_deviation;      /* A: the largest departure of a member's current from their median */
	double deviation_limit;        /* A: the threshold it is judged by */
	bool current_flag;             /* a member departs by more */
	uint32_t deviation_mask;       /* bit m = member m+1 departs */
	uint32_t alarms, protect, warn; /* the OR of the members' words and levels */
	double soc_spread;             /* % between the fullest and the emptiest member (hazard: no
	                                * balancing between members) */
};

/* Pure: the string of n members, fresh[m] = member m's snapshot while it is
 * fresh, NULL if not; stale: a member is stale; max_dev: the current
 * threshold in A; state_threshold: idle under this current (A). */
void gw_string_aggregate(const struct bms_snapshot *const fresh[], int n, bool stale, double max_dev,
			 double state_threshold, struct gw_string_state *out);

/* Pure: ps's cycles and MOS temperature into s's maxima, its MOSFETs into
 * s's (on only if on in every one merged): for a string and the bank alike. */
void gw_snapshot_merge_maxima(struct bms_snapshot *s, const struct bms_snapshot *ps);

/* Pure: a string's limits from its members' (lim[m]: member m's published
 * limits; fresh false while a member is not fresh: fail-safe, the sums of
 * the members' last CVL and DVL kept).  binding_ccl / binding_dcl: the member
 * whose limit binds (0-based, -1 none), may be NULL. */
void gw_limits_string(const struct gw_limits *const lim[], int n, bool fresh, struct gw_limits *out,
		      int *binding_ccl, int *binding_dcl);

#endif
