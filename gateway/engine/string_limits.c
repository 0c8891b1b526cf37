/* SPDX-License-Identifier: MIT */
/* gateway/engine/string_limits.c - the charge and discharge limits of a
 * string of packs in series, from its members' (bank_strings.h):
 *
 *   CVL, DVL   the sums of the members': the inverter regulates the sum, and
 *              a member whose cells run high lowers the sum by its own
 *              reduction (each member's cell rules, its charge machine)
 *   CCL, DCL   the smallest member's: the string's current is every member's
 *   allowed    only if every member allows it: one member's protection (its
 *              limit 0 by its alarm, its MOSFET off) stops the string at once
 *   force charge, full-charge request   any member's
 *   mode       float once every member with a machine absorbed, absorption
 *              while one absorbs, else bulk
 *
 * A member not fresh: the string is fail-safe (CCL = DCL = 0, nothing
 * allowed), its CVL and DVL the sums of the members' last ones, as a stale
 * pack keeps its own (an inverter must never read an empty battery).
 * gateway/inverter/PROTOCOLS.md §10 says why: hazards 1 and 5.
 */
#include <string.h>

#include "bank_strings.h"

/* The sums of the voltages, the cells and the machine's state. */
static void string_voltages(const struct gw_limits *const lim[], int n, struct gw_limits *o)
{
	bool machine = false, floating = true, absorbing = false;
	o->volt_valid = n > 0;
	for (int m = 0; m < n; m++) {
		const struct gw_limits *l = lim[m];
		o->volt_valid = o->volt_valid && l->volt_valid;
		o->cvl_v += l->cvl_v;
		o->bulk_cvl_v += l->volt_valid ? l->bulk_cvl_v : 0;
		o->dvl_v += l->dvl_v;
		if (l->cells > 0 && o->cells >= 0)
			o->cells += l->cells;
		else
			o->cells = -1;         /* one member's count unknown: the string's */
		if (l->mode != GW_LIM_OFF && l->mode != GW_LIM_FAILSAFE) {
			machine = true;
			floating = floating && l->absorbed;
			absorbing = absorbing || l->mode == GW_LIM_ABSORPTION;
		}
	}
	if (o->cells < 0)
		o->cells = 0;
	if (!o->volt_valid)
		o->cvl_v = o->bulk_cvl_v = o->dvl_v = 0;
	floating = machine && floating;
	o->mode = !machine ? GW_LIM_OFF : floating ? GW_LIM_FLOAT : absorbing ? GW_LIM_ABSORPTION : GW_LIM_BULK;
	o->absorbed = floating;
}

/* The smallest member's current limits and the flags every member allows. */
static void string_currents(const struct gw_limits *const lim[], int n, struct gw_limits *o, int *bc, int *bd)
{
	o->charge_allowed = o->discharge_allowed = n > 0;
	for (int m = 0; m < n; m++) {
		const struct gw_limits *l = lim[m];
		if (*bc < 0 || l->ccl_a < o->ccl_a) {
			*bc = m;
			o->ccl_a = l->ccl_a;
			o->ccl_reason = l->ccl_reason;
		}
		if (*bd < 0 || l->dcl_a < o->dcl_a) {
			*bd = m;
			o->dcl_a = l->dcl_a;
			o->dcl_reason = l->dcl_reason;
		}
		o->charge_allowed = o->charge_allowed && l->charge_allowed;
		o->discharge_allowed = o->discharge_allowed && l->discharge_allowed;
		o->force_charge = o->force_charge || l->force_charge;
		o->full_charge_request = o->full_charge_request || l->full_charge_request;
		if (l->exceeded != GW_LIM_EXC_NONE)
			o->exceeded = l->exceeded;
	}
	if (!o->charge_allowed)
		o->ccl_a = 0;
	if (!o->discharge_allowed)
		o->dcl_a = 0;
	o->charge_allowed = o->ccl_a > 0;
	o->discharge_allowed = o->dcl_a > 0;
	o->force_charge = o->force_charge && o->charge_allowed;
}

void gw_limits_string(const struct gw_limits *const lim[], int n, bool fresh, struct gw_limits *out,
		      int *binding_ccl, int *binding_dcl)
{
	int bc = -1, bd = -1;
	memset(out, 0, sizeof(*out));
	out->enabled = n > 0 && lim[0]->enabled;
	if (!out->enabled)
		return;
	string_voltages(lim, n, out);
	if (!fresh) {
		out->failsafe = true;
		out->mode = GW_LIM_FAILSAFE;
		out->ccl_reason = out->dcl_reason = GW_LR_STALE;
		out->absorbed = false;
	} else {
		for (int m = 0; m < n; m++)
			if (lim[m]->failsafe)
				fresh = false;
		if (!fresh) {          /* a member's own limits still fail-safe */
			out->failsafe = true;
			out->mode = GW_LIM_FAILSAFE;
			out->ccl_reason = out->dcl_reason = GW_LR_STALE;
		} else {
			string_currents(lim, n, out, &bc, &bd);
		}
	}
	if (binding_ccl)
		*binding_ccl = bc;
	if (binding_dcl)
		*binding_dcl = bd;
}
