/* SPDX-License-Identifier: MIT */
/* conf/check_hv.c - the voltage ranges of the high-voltage inverter outputs
 * (byd-hvs-can): each protocol's battery voltage range, and the operating
 * range of an output's source from its members' series cells
 * ([pack.NAME] cells) and their chemistry, which --check compares
 * (check_out.c) and the output keeps to at run time
 * (gateway/inverter/invsource.c).
 *
 * A cell's operating range by chemistry, the one the makers' data sheets
 * give from empty to full (bms/plausible.c's note): LFP 2.5-3.65 V, NMC
 * 3.0-4.2 V, LTO 1.5-2.8 V.  BYD's own HV modules are LFP at 2.5-3.6 V
 * per cell (gateway/inverter/PROTOCOLS.md §9: 80-576 V for 32-160 cells).
 */
#include "conf_int.h"

#include <string.h>

static const double cell_range[CONF_NCHEM][2] = {
	[CONF_CHEM_LFP] = { 2.5, 3.65 },
	[CONF_CHEM_NMC] = { 3.0, 4.2 },
	[CONF_CHEM_LTO] = { 1.5, 2.8 },
};

/* The protocols' ranges.  byd-hvs-can: BYD's own HV batteries operate at
 * 80-576 V (the Battery-Box HVB data sheet: 2 to 10 modules of 16 LFP
 * cells at 2.5-3.6 V). */
static const struct {
	enum conf_inv_protocol p;
	double lo, hi;
} hv_ranges[] = {
	{ CONF_INV_BYD_HVS_CAN, 80, 576 },
};

bool conf_inv_volt_range(enum conf_inv_protocol p, double *lo, double *hi)
{
	for (size_t i = 0; i < sizeof(hv_ranges) / sizeof(hv_ranges[0]); i++)
		if (hv_ranges[i].p == p) {
			*lo = hv_ranges[i].lo;
			*hi = hv_ranges[i].hi;
			return true;
		}
	return false;
}

/* Packs k0 .. k0 + n - 1 of the bank (or the one pack `one` when n is 0)
 * in series: their range widened into [*lo, *hi]; false with why when a
 * member's cells are not given. */
static bool series_range(const struct conf *c, int k0, int n, int one, double *lo, double *hi, char *why, size_t wl)
{
	double a = 0, b = 0;
	for (int k = 0; k < (n ? n : 1); k++) {
		const struct conf_pack *p = &c->packs[n ? c->bank.pack_idx[k0 + k] : one];
		unsigned chem = (unsigned)p->soc.chemistry < CONF_NCHEM ? (unsigned)p->soc.chemistry : CONF_CHEM_LFP;
		if (p->cells <= 0) {
			conf__bfmt(why, wl, "[pack.%s] has no cells key (0: from the BMS at run time), so its voltage range "
			           "is unknown", p->name);
			return false;
		}
		a += p->cells * cell_range[chem][0];
		b += p->cells * cell_range[chem][1];
	}
	if (*hi <= 0 || a < *lo)
		*lo = a;
	if (b > *hi)
		*hi = b;
	return true;
}

bool conf__hv_source_range(const struct conf *c, int source_pack, double *vmin, double *vmax, char *why, size_t wl)
{
	const struct conf_bank *b = &c->bank;
	*vmin = *vmax = 0;
	if (source_pack != CONF_BANK_SOURCE)
		return source_pack >= 0 && source_pack < c->npacks &&
		       series_range(c, 0, 0, source_pack, vmin, vmax, why, wl);
	if (b->nstrings > 0) {
		for (int s = 0; s < b->nstrings; s++)
			if (!series_range(c, b->string_first[s], b->string_len[s], 0, vmin, vmax, why, wl))
				return false;
		return true;
	}
	for (int k = 0; k < b->npacks; k++)
		if (!series_range(c, k, 1, 0, vmin, vmax, why, wl))
			return false;
	return b->npacks > 0;
}
