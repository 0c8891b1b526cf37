/* SPDX-License-Identifier: MIT */
/* conf/check_hv.c - what the high-voltage inverter protocols need of the
 * configuration: each one's voltage range, the operating range of an
 * output's source (a pack, or the bank, with or without strings of packs in
 * series) from its members' series cells ([pack.NAME] cells) and their
 * chemistry's cell limits.  --check refuses an HV output whose source's
 * range is not inside its protocol's (check_out.c); at run time the output
 * is silent while the measured voltage is outside (gateway/inverter/
 * invsource.c).  Sources: gateway/inverter/PROTOCOLS.md §8 (pylon-hv-can), §9
 * (byd-hvs-can), §11 (solax-can), §12 (foxess-can), §13 (sungrow-can), §14
 * (sofar-can), §15 (growatt-hv-can), §17 (growatt-wit-can), §18
 * (sma-hv-can), §20-§22 (ferroamp-can, afore-can, solxpow-can), §23
 * (byd-hvm-modbus), §24 (kostal-rs485).
 */
#include "chem.h"
#include "conf_int.h"

#include <string.h>

/* The protocols' ranges.  pylon-hv-can: its fields carry 0-6553.5 V and no
 * vendor range for the family is public; the peers' and real batteries'
 * examples run 202.5-426 V (75 to 120 LFP cells); 80-1000 V takes any
 * string of LV packs from two 16S packs of LFP on, and refuses a single LV
 * pack (PROTOCOLS.md §8.6).  byd-hvs-can: BYD's own HV batteries
 * operate at 80-576 V (the Battery-Box HVB data sheet: 2 to 10 modules of 16
 * LFP cells at 2.5-3.6 V; PROTOCOLS.md §9).  solax-can: SolaX's T-BAT HV
 * type 131 runs from 2 modules (89.6 V) to 13 (759.2 V): 80-760 V
 * (PROTOCOLS.md §11).  foxess-can: one to eight stacked ~50 V modules, at
 * most 8 x 15 LFP cells at 3.65 V = 438 V: 80-480 V, a guess where no
 * inverter's data sheet was read (PROTOCOLS.md §12).  sungrow-can: the SBR
 * of 2 to 8 modules runs 108-584 V (Battery-Emulator's wiki: SBR064
 * 108-146 V ... SBR256 432-584 V; PROTOCOLS.md §13).  sofar-can and
 * growatt-hv-can: no source gives a range; Growatt's fields carry 0-1000 V;
 * 80-1000 V as pylon-hv-can, a guess (PROTOCOLS.md §14, §15).  ferroamp-can,
 * afore-can, solxpow-can: no range of the inverters was read; pylon-hv-can's
 * 80-1000 V, the fields' family and the HV hybrids they are (PROTOCOLS.md
 * §20-§22), to widen when a data sheet is read.  byd-hvm-modbus: a Primo
 * GEN24 warns above 450 V (Battery-Emulator caps its CVL there), the lower
 * end a guess (PROTOCOLS.md §23).  kostal-rs485: no source gives a range;
 * 80-1000 V as pylon-hv-can, a guess (PROTOCOLS.md §24).  growatt-wit-can and
 * sma-hv-can: no source gives a range; their fields carry 0-1500 V and
 * 0-6553.5 V: 80-1000 V, the window every round-3 dialect without a
 * document shares, to be widened when a data sheet is read (PROTOCOLS.md
 * §17, §18).  schneider-can is a 48 V protocol: no window. */
static const struct {
	enum conf_inv_protocol p;
	double lo, hi;
} hv_ranges[] = {
	{ CONF_INV_PYLON_HV_CAN, 80, 1000 },
	{ CONF_INV_BYD_HVS_CAN, 80, 576 },
	{ CONF_INV_SOLAX_CAN, 80, 760 },
	{ CONF_INV_FOXESS_CAN, 80, 480 },
	{ CONF_INV_SUNGROW_CAN, 108, 584 },
	{ CONF_INV_SOFAR_CAN, 80, 1000 },
	{ CONF_INV_GROWATT_HV_CAN, 80, 1000 },
	{ CONF_INV_FERROAMP_CAN, 80, 1000 },
	{ CONF_INV_AFORE_CAN, 80, 1000 },
	{ CONF_INV_SOLXPOW_CAN, 80, 1000 },
	{ CONF_INV_BYD_HVM_MODBUS, 80, 450 },
	{ CONF_INV_KOSTAL_RS485, 80, 1000 },
	{ CONF_INV_GROWATT_WIT_CAN, 80, 1000 },
	{ CONF_INV_SMA_HV_CAN, 80, 1000 },
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

bool conf__hv_source_range(const struct conf *c, int source_pack, double *vmin, double *vmax, char *why, size_t wl)
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
