/* SPDX-License-Identifier: MIT */
/* conf/check_soc.c - [soc] after the parse: its chemistry ([limits]' unless
 * written), the defaults that follow the chemistry, every pack's copy (its
 * own keys over [soc]'s) and the checks between keys.  It runs after
 * [limits], whose target is the default full cell voltage: the charge
 * machine of bmsgw reaches it, a BMS's over-voltage it never does.
 */
#include "conf_int.h"

#include <string.h>

/* The chemistries' defaults (enum conf_chemistry: lfp, nmc, lto).
 * Charge efficiency: about 99 % for lithium (Victron's BMV / SmartShunt
 * "charge efficiency factor",
 * https://www.victronenergy.com/media/pg/SmartShunt/en/index-en.html), NMC
 * a point less.  Full: [limits]' own
 * max_cell_voltage defaults (conf.c: dbus-serialbattery's 3.45 V LFP,
 * dbus-aggregate-batteries' 2.60 V LTO), 4.15 V for NMC as design 17 asks.
 * Empty: [limits]' min_cell_voltage defaults (2.90, 3.00, 1.90 V), the
 * 2.90 V of dbus-serialbattery's empty point (its MIN_CELL_VOLTAGE in
 * soc_calculation(),
 * https://github.com/mr-manuel/venus-os_dbus-serialbattery/blob/3634fc06521c17d97224f9ca0e9a4697d22e672c/etc/dbus-serialbattery/battery.py). */
static const double chem_efficiency[CONF_NCHEM] = { 0.99, 0.98, 0.99 };
static const double chem_full[CONF_NCHEM] = { 3.45, 4.15, 2.60 };
static const double chem_empty[CONF_NCHEM] = { 2.90, 3.00, 1.90 };
/* The knee (design 22): where the chemistry's open-circuit curve turns
 * down into its last few %, so that a cell under a light discharge at or
 * under it is near empty even where the inverter stops the bank before
 * any cell reaches the empty point (a 48.0 V cut-off is 3.00 V a cell).
 * LFP 3.10 V is about 6 % on the curve of soc_curve.c (3.0872 V at 5.3 %,
 * 3.1942 V at 8.9 %, Sunil, Pattipati and Balasingam's APR18650M1B), NMC
 * 3.40 V about 14 % (3.3231 V at 9.6 %, 3.4218 V at 15.1 %, their
 * INR21700-P42A): the count is pulled down to knee_soc from there, never
 * up.  LTO has no curve here: its knee is its empty point (none). */
static const double chem_knee[CONF_NCHEM] = { 3.10, 3.40, 1.90 };

void conf_soc_derive(struct conf_soc *s, const struct conf_limits *l)
{
	int ch = (unsigned)s->chemistry < CONF_NCHEM ? (int)s->chemistry : 0;
	if (!(s->given & CONF_SOC_GIVEN_EFFICIENCY))
		s->charge_efficiency = chem_efficiency[ch];
	if (!(s->given & CONF_SOC_GIVEN_FULL))
		s->full_cell_voltage = l && l->enabled && l->chemistry == s->chemistry ? l->max_cell_voltage
		                                                                      : chem_full[ch];
	if (!(s->given & CONF_SOC_GIVEN_EMPTY))
		s->empty_cell_voltage = chem_empty[ch];
	if (!(s->given & CONF_SOC_GIVEN_KNEE))
		s->knee_cell_voltage = chem_knee[ch];
}

void conf_soc_defaults(struct conf_soc *s, enum conf_chemistry chemistry)
{
	memset(s, 0, sizeof(*s));
	conf__apply_defaults(&conf_sect_soc, s);
	s->chemistry = chemistry;
	conf_soc_derive(s, NULL);
}

/* Which CONF_SOC_GIVEN_* bits the keys seen (from key `first` on: the
 * [soc] keys or a pack's) name. */
static unsigned given_of(const int *seen, int first)
{
	return (seen[first + K_SOC_CHEMISTRY - K_SOC_COUNTING] ? CONF_SOC_GIVEN_CHEMISTRY : 0u) |
	       (seen[first + K_SOC_EFFICIENCY - K_SOC_COUNTING] ? CONF_SOC_GIVEN_EFFICIENCY : 0u) |
	       (seen[first + K_SOC_FULL_CELL - K_SOC_COUNTING] ? CONF_SOC_GIVEN_FULL : 0u) |
	       (seen[first + K_SOC_EMPTY_CELL - K_SOC_COUNTING] ? CONF_SOC_GIVEN_EMPTY : 0u) |
	       (seen[first + K_SOC_KNEE_CELL - K_SOC_COUNTING] ? CONF_SOC_GIVEN_KNEE : 0u);
}

/* The size of the field of a key of [soc]. */
static size_t field_size(const struct conf_key *k)
{
	return k->type == KT_DOUBLE ? sizeof(double) : k->type == KT_BOOL ? sizeof(bool) : sizeof(int);
}

/* The cell voltage of key `low` (empty_cell_voltage or knee_cell_voltage)
 * under full_cell_voltage; false after an error. */
static bool under_full(struct conf_load *x, double v, double full, int low, const int *seen, int first, int header,
		       const char *sect)
{
	if (v < full)
		return true;
	int kl = first + low - K_SOC_COUNTING, kf = first + K_SOC_FULL_CELL - K_SOC_COUNTING;
	int k = seen[kl] || !seen[kf] ? kl : kf;
	const char *name = conf__keys[low].name;
	conf__fail(x, conf__seen_line(seen, k, header), sect, conf__keys[k].name,
		   "%s %g is not below full_cell_voltage %g (expected %s < full_cell_voltage%s)", name, v, full, name,
		   seen[kl] && seen[kf] ? "" : "; the other one is the default of its chemistry or [limits]");
	return false;
}

/* The empty and knee points under the full point; false after an error. */
static bool voltages_in_order(struct conf_load *x, const struct conf_soc *s, const int *seen, int first, int header,
			      const char *sect)
{
	return under_full(x, s->empty_cell_voltage, s->full_cell_voltage, K_SOC_EMPTY_CELL, seen, first, header,
			  sect) &&
	       under_full(x, s->knee_cell_voltage, s->full_cell_voltage, K_SOC_KNEE_CELL, seen, first, header, sect);
}

/* Pack i: its own keys, else [soc]'s; then the chemistry's defaults for
 * the keys neither wrote. */
static bool finish_pack_soc(struct conf_load *x, int i)
{
	struct conf_pack *p = &x->c.packs[i];
	const struct conf_soc *s = &x->c.soc;
	const int *seen = x->pack_seen[i];
	for (int j = 0; j < CONF_SOC_PACK_KEYS; j++) {
		const struct conf_key *own = &conf__keys[K_PK_SOC_COUNTING + j], *sect = &conf__keys[K_SOC_COUNTING + j];
		if (!seen[K_PK_SOC_COUNTING + j])
			memcpy((char *)p + own->off, (const char *)s + sect->off, field_size(sect));
	}
	p->soc.line = s->line;
	p->soc.save_interval = s->save_interval;
	p->soc.given = s->given | given_of(seen, K_PK_SOC_COUNTING);
	conf_soc_derive(&p->soc, &x->c.limits);
	char name[CONF_NAME_MAX + 8];
	conf_bfmt(name, sizeof(name), "pack.%s", p->name);
	return voltages_in_order(x, &p->soc, seen, K_PK_SOC_COUNTING, p->line, name);
}

void conf__finish_soc(struct conf_load *x)
{
	struct conf_soc *s = &x->c.soc;
	s->given = given_of(x->soc_seen, K_SOC_COUNTING);
	if (!(s->given & CONF_SOC_GIVEN_CHEMISTRY))
		s->chemistry = x->c.limits.chemistry;
	conf_soc_derive(s, &x->c.limits);
	if (!voltages_in_order(x, s, x->soc_seen, K_SOC_COUNTING, s->line, "soc"))
		return;
	for (int i = 0; i < x->c.npacks; i++)
		if (!finish_pack_soc(x, i))
			return;
}
