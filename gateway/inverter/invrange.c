/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invrange.c - the operating range of an inverter
 * output's source (a pack, or the bank, with or without strings of packs in
 * series) from its members' series cells ([pack.NAME] cells) and their
 * chemistry's cell limits: --check refuses a high-voltage output whose
 * source's range is not inside its protocol's window (inverter_conf.c,
 * dialects.c); at run time the output is silent while the measured voltage
 * is outside (invsource.c). */
#include "../../conf/chem.h"
#include "inverter_conf.h"

/* A cell's operating range by chemistry: conf_chem_range() (chem.c, with
 * its sources), wider than [limits]' charge targets. */

/* Packs pk[0..n) of the bank (or the one pack) in series: the sum of their
 * ranges into *lo, *hi; false with why when one has no cells. */
static bool series_range(const struct conf *c, const int *pk, int n, double *lo, double *hi, char *why, size_t wl)
{
	*lo = *hi = 0;
	for (int k = 0; k < n; k++) {
		const struct conf_pack *p = &c->packs[pk[k]];
		double clo, chi;
		conf_chem_range(p->soc.chemistry, &clo, &chi);
		if (p->cells <= 0) {
			conf_bfmt(why, wl, "[pack.%s] has no cells key (expected cells = its series cells: a "
			     "high-voltage output needs every member's count to know its voltage range)", p->name);
			return false;
		}
		*lo += p->cells * clo;
		*hi += p->cells * chi;
	}
	return true;
}

bool inv_source_range(const struct conf *c, int source_pack, double *vmin, double *vmax, char *why, size_t wl)
{
	const struct conf_bank *b = &c->bank;
	double lo, hi;
	*vmin = *vmax = 0;
	if (source_pack != CONF_BANK_SOURCE) {
		if (source_pack < 0 || source_pack >= c->npacks) {
			conf_bfmt(why, wl, "no such pack");
			return false;
		}
		return series_range(c, &source_pack, 1, vmin, vmax, why, wl);
	}
	/* the bank: each string (its packs in series), else each pack; the
	 * envelope, which is inside a range only when each one is */
	int n = b->nstrings > 0 ? b->nstrings : b->npacks;
	for (int s = 0; s < n; s++) {
		bool ok = b->nstrings > 0 ?
			  series_range(c, &b->pack_idx[b->string_first[s]], b->string_len[s], &lo, &hi, why, wl) :
			  series_range(c, &b->pack_idx[s], 1, &lo, &hi, why, wl);
		if (!ok)
			return false;
		if (s == 0 || lo < *vmin)
			*vmin = lo;
		if (s == 0 || hi > *vmax)
			*vmax = hi;
	}
	return n > 0;
}
