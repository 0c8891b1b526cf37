/* SPDX-License-Identifier: MIT */
/* conf/chem.c - the cell chemistries' ranges and the rule that tells the
 * cells of another chemistry from a pack of this one (chem.h).
 *
 * The ranges, V a cell: LFP 2.5-3.65 (EVE LF280K's datasheet: discharge
 * cut-off 2.5 V, charge voltage 3.65 V), NMC 3.0-4.2 (a cell charged to
 * 4.2 V; Battery-Emulator keeps NMC cells between its 2.70 and 4.25 V
 * "danger limits",
 * https://github.com/dalathegreat/Battery-Emulator/blob/main/Software/src/battery/MG-4-BATTERY.cpp,
 * and bmsgw's nmc defaults stop at 3.0 V), LTO 1.5-2.8 (Yinlong
 * LTO66160H's stops,
 * https://github.com/wolfgangr/chargery2PERL/blob/dc5bdfdede1d9ec54f0828d8d78556e998e178aa/BMS-pack-info.pm).
 * gateway/inverter/invrange.c's ranges of a high-voltage output's source are these.
 *
 * A pack of the right chemistry leaves its range too: charged into its
 * BMS's over-voltage protection, discharged deep (an LFP pack at 2.5 V
 * and under after a deep discharge is still LFP).  What only the cells of
 * another chemistry do:
 *  - above: every cell, the lowest too, more than 0.10 V over the range's
 *    top.  An LFP BMS stops the charge at 3.65-3.70 V a cell (the cell
 *    over-voltage protection in the recorded settings of LFP packs: 3.65 V
 *    of Daly, Seplos, JBD UP16S, KS48 and DAREN packs, 3.70 V of Pylontech
 *    and PACE ones; tests/sim/README.md, `nosettings`, each from a real
 *    answer), and it is the highest cell that trips it: all of them over
 *    3.75 V is no LFP pack being charged but NMC cells (or LFP ones no BMS
 *    protects, which the fail-safe stops too).  NMC: 4.30 V (the 4.25 V
 *    danger limit above), LTO: 2.90 V (LFP and NMC cells at any charge).
 *  - below: every cell, the highest too, more than 0.10 V under the
 *    range's bottom while the BMS says 5 % or more.  Each range's bottom
 *    is its chemistry's empty point (LFP 2.5 V is 0.4 % of its charge, NMC
 *    3.0 V 2.7 % on engine/soc_curve.c's curves); a pack discharged that
 *    deep has been counted out by its BMS, whose SOC then reads 0 or near
 *    it, while an LTO pack read as LFP sits at 2.2-2.4 V a cell over most
 *    of its charge (the 22S pack of tests/fixtures ANT-03: 2.190-2.338 V
 *    while its BMS says 10 %).  A BMS that says 5 % or more of a pack of
 *    the right chemistry discharged under 2.4 V a cell (its count far off)
 *    is taken for the wrong chemistry too: its charge stops until the
 *    chemistry fits or the BMS counts it out.
 * Not told apart: cells within both of two ranges (LFP cells under nmc
 * read 3.0-3.65 V, NMC's empty end), and an LTO pack near full under lfp
 * (2.4-2.8 V). */
#include "chem.h"

#include <math.h>

static const double range[CONF_CHEM_COUNT][2] = {
	{ 2.5, 3.65 }, { 3.0, 4.2 }, { 1.5, 2.8 },
};

const char *conf_chem_name(enum conf_chemistry c)
{
	static const char *const names[CONF_CHEM_COUNT] = { "lfp", "nmc", "lto" };
	return (unsigned)c < CONF_CHEM_COUNT ? names[c] : "?";
}

void conf_chem_range(enum conf_chemistry c, double *lo, double *hi)
{
	int k = (unsigned)c < CONF_CHEM_COUNT ? (int)c : 0;
	*lo = range[k][0];
	*hi = range[k][1];
}

enum conf_chem_side conf_chem_side(enum conf_chemistry c, double min_v, double max_v, double soc)
{
	if (!isfinite(min_v) || !isfinite(max_v) || min_v > max_v || min_v <= 0)
		return CONF_CHEM_UNKNOWN;
	double lo, hi;
	conf_chem_range(c, &lo, &hi);
	if (min_v > hi + CONF_CHEM_MARGIN)
		return CONF_CHEM_ABOVE;
	if (max_v < lo - CONF_CHEM_MARGIN && isfinite(soc) && soc >= CONF_CHEM_BELOW_SOC)
		return CONF_CHEM_BELOW;
	return CONF_CHEM_INSIDE;
}

int conf_chem_pointed(double min_v, double max_v, double soc)
{
	int found = -1;
	for (int c = 0; c < CONF_CHEM_COUNT; c++) {
		double lo, hi;
		conf_chem_range((enum conf_chemistry)c, &lo, &hi);
		if (conf_chem_side((enum conf_chemistry)c, min_v, max_v, soc) != CONF_CHEM_INSIDE || min_v < lo ||
		    max_v > hi)
			continue;
		if (found >= 0)
			return -1;
		found = c;
	}
	return found;
}
