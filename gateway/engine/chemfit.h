/* SPDX-License-Identifier: MIT */
/* gateway/engine/chemfit.h - whether a pack's cells fit its chemistry: the
 * chemistry rule of conf/chem.h (one reading) judged over the pack's good
 * polls.
 *
 * A reading outside its chemistry (conf_chem_side: every cell over the
 * range by more than 0.10 V, or every cell under it by more than 0.10 V
 * while the BMS says 5 % or more) puts the pack in doubt at once: its voltage points are not
 * taken (model/socunit.c) and its limits are fail-safe, reason chemistry
 * (model/charge.c), so that nothing is done on the wrong cell table.
 * Outside at every good poll for GW_CHEM_HOLD_S and GW_CHEM_HOLD_POLLS, it
 * is a configuration error (state wrong, logged once by model/pack.c);
 * that ends after as long inside, or at once when the pack's chemistry
 * changes (a reload): then it is judged afresh.  A poll without cells
 * changes nothing.
 *
 * Pure: the caller owns one struct gw_chemfit per pack (zeroed: nothing
 * judged) and steps it at each good poll. */
#ifndef GATEWAY_ENGINE_CHEMFIT_H
#define GATEWAY_ENGINE_CHEMFIT_H

#include <stdbool.h>
#include <stddef.h>

#include "../../conf/chem.h"

#define GW_CHEM_HOLD_S 30.0        /* s outside (or back inside) at every good poll ... */
#define GW_CHEM_HOLD_POLLS 3       /* ... and at least so many of them */

enum gw_chem_state {
	GW_CHEM_NONE = 0,          /* no cells judged yet */
	GW_CHEM_FITS,
	GW_CHEM_OUTSIDE,           /* the last reading outside, not for long enough yet */
	GW_CHEM_WRONG,             /* the configuration error (the last reading may be inside) */
};

/* What the step saw (the caller logs each once). */
enum {
	GW_CHEM_EV_WRONG = 1u << 0,    /* the error began */
	GW_CHEM_EV_FITS = 1u << 1,     /* it ended: the cells fit (again) */
	GW_CHEM_EV_CHANGED = 1u << 2,  /* the chemistry changed while the error held: it ends, the cells
	                                * are judged afresh against the new one */
};

struct gw_chemfit {
	enum gw_chem_state state;
	enum conf_chemistry chem;      /* the chemistry judged against */
	bool outside;                  /* the last reading was outside */
	double run_since;              /* monotonic: the run of readings on the other side began */
	unsigned run_polls;            /* ... readings in it */
	/* the last reading outside (what the error says) */
	enum conf_chem_side side;
	double min_v, max_v, soc;      /* V, V, % (NAN: none) */
};

/* One good poll read at monotonic t: its lowest and highest cell (V; NAN:
 * no cells) and the BMS's SOC (%; NAN), against chemistry chem.  Returns
 * GW_CHEM_EV_* bits. */
unsigned gw_chemfit_step(struct gw_chemfit *f, enum conf_chemistry chem, double min_v, double max_v, double soc,
			 double t);
/* In doubt: the last reading outside, or the error: no voltage points, the
 * limits fail-safe. */
bool gw_chemfit_doubt(const struct gw_chemfit *f);
/* "fits", "outside", "wrong", or NULL (nothing judged). */
const char *gw_chemfit_state_name(const struct gw_chemfit *f);
/* What is wrong (outside or wrong): "its cells read 2.191-2.334 V, under
 * lfp's 2.50-3.65 V while the BMS says 10 % SOC: not lfp cells; they fit
 * lto (chemistry = lto)"; "" when they fit. */
void gw_chemfit_text(const struct gw_chemfit *f, char *out, size_t cap);
/* The one chemistry the last reading outside points to (conf_chem_pointed),
 * -1 none or not in doubt. */
int gw_chemfit_pointed(const struct gw_chemfit *f);

#endif
