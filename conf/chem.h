/* SPDX-License-Identifier: MIT */
/* conf/chem.h - the cell chemistries' facts the gateway judges cells by:
 * each chemistry's cell range, whether one reading's cells lie outside it
 * (the cells of another chemistry, not an over-charged or over-discharged
 * pack of this one), and the one chemistry a reading points to.  Pure; the
 * rule and its sources are in chem.c.  The daemon's judgement over polls
 * (the hysteresis, what a pack does while its cells do not fit) is
 * gateway/engine/chemfit.h's; --detect proposes `chemistry =` with
 * conf_chem_pointed(). */
#ifndef CONF_CHEM_H
#define CONF_CHEM_H

#include "conf.h"

#define CONF_CHEM_COUNT 3               /* enum conf_chemistry's values */
#define CONF_CHEM_MARGIN 0.10           /* V a cell: every cell outside the range by more: outside */
#define CONF_CHEM_BELOW_SOC 5.0         /* %: the BMS's SOC at or over which cells under the range are
                                         * another chemistry's, not an empty pack's */

/* Where one reading's cells lie against a chemistry. */
enum conf_chem_side {
	CONF_CHEM_UNKNOWN = 0,          /* no cells to judge */
	CONF_CHEM_INSIDE,               /* not outside by the rule (not necessarily within the range) */
	CONF_CHEM_ABOVE,                /* every cell over the range's top + CONF_CHEM_MARGIN */
	CONF_CHEM_BELOW,                /* every cell under the range's bottom - CONF_CHEM_MARGIN, the
	                                 * BMS's SOC at or over CONF_CHEM_BELOW_SOC */
};

/* "lfp", "nmc", "lto" ("?" for no chemistry). */
const char *conf_chem_name(enum conf_chemistry c);
/* A cell's range of chemistry c, V: what a cell of it rests and works
 * within (LFP 2.5-3.65, NMC 3.0-4.2, LTO 1.5-2.8). */
void conf_chem_range(enum conf_chemistry c, double *lo, double *hi);
/* The cells of one reading (lowest and highest cell, V; NAN: none) with
 * the BMS's SOC (%; NAN: none) against chemistry c. */
enum conf_chem_side conf_chem_side(enum conf_chemistry c, double min_v, double max_v, double soc);
/* The one chemistry the reading points to: every cell within its range and
 * not outside it by the rule, and no other chemistry so; -1 when none or
 * several (cells of 3.2-3.4 V fit lfp and nmc alike). */
int conf_chem_pointed(double min_v, double max_v, double soc);

#endif
