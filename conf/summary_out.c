/* SPDX-License-Identifier: MIT */
/* conf/summary_out.c - the parts of --check's summary for what bmsgw sends
 * out: [limits] with every value and table as the engine uses them,
 * [inverter.NAME] with its source, [sunspec] with its register ranges,
 * [rtu].  summary.c calls them after the other sections.
 */
#include "conf_int.h"

#include <string.h>

/* "3.375:1, 3.4:0.25 ..." or "off" */
static void fmt_table(char *buf, size_t cap, const struct conf_table *t)
{
	size_t n = 0;
	conf_bfmt(buf, cap, "off");
	for (int i = 0; i < t->n && n < cap; i++) {
		int r = snprintf(buf + n, cap - n, "%s%g:%g", i ? ", " : "", t->x[i], t->y[i]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

static void print_tables(const struct conf_limits *l, FILE *out)
{
	static const struct { size_t off; const char *what; } tables[] = {
		{ offsetof(struct conf_limits, charge_cell), "charge, highest cell V" },
		{ offsetof(struct conf_limits, discharge_cell), "discharge, lowest cell V" },
		{ offsetof(struct conf_limits, charge_temp), "charge, temperature degC" },
		{ offsetof(struct conf_limits, discharge_temp), "discharge, temperature degC" },
		{ offsetof(struct conf_limits, mos_temp), "MOSFET temperature degC" },
		{ offsetof(struct conf_limits, soc_charge), "charge, SOC %" },
		{ offsetof(struct conf_limits, soc_discharge), "discharge, SOC %" },
	};
	char buf[CONF_TABLE_MAX * 32];
	fprintf(out, "  tables        %s interpolation; x:fraction of the max current, the lowest fraction binds\n",
	        conf_key_word(&conf__keys[K_LI_INTERP], (int)l->interpolation));
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		fmt_table(buf, sizeof(buf), FIELD(l, tables[i].off, const struct conf_table *));
		fprintf(out, "    %-28s %s\n", tables[i].what, buf);
	}
}

/* The currents: per pack, the packs with their own rating, the bank's rule
 * and what a stale pack of it does. */
static void print_currents(const struct conf *c, FILE *out)
{
	static const char *const rules[] = { "min (fresh packs x the lowest pack's limit)",
		"sum (of the fresh packs' limits)", "weighted (the lowest of each pack's limit over its share of the "
		"bank's capacity)" };
	const struct conf_limits *l = &c->limits;
	fprintf(out, "  current       charge %g A, discharge %g A per pack", l->max_charge_current,
	        l->max_discharge_current);
	for (int i = 0; i < c->npacks; i++) {
		const struct conf_pack *p = &c->packs[i];
		if (p->max_charge_current > 0 || p->max_discharge_current > 0)
			fprintf(out, "; pack %s: %g A, %g A", p->name,
			        p->max_charge_current > 0 ? p->max_charge_current : l->max_charge_current,
			        p->max_discharge_current > 0 ? p->max_discharge_current : l->max_discharge_current);
	}
	if (c->bank.enabled)
		fprintf(out, "; bank: %s; a stale pack of it: %s", rules[l->bank_rule],
		        l->bank_stale == CONF_BANK_STALE_BLOCK ? "block (fail-safe)"
		                                               : "degrade (CVL at float, a communication warning)");
	fputc('\n', out);
}

void conf__print_limits(const struct conf *c, FILE *out)
{
	const struct conf_limits *l = &c->limits;
	if (!l->enabled)
		return;
	fprintf(out, "limits (CVL, CCL, DCL and DVL of every pack%s; chemistry %s)\n", c->bank.enabled ? " and the bank" : "",
	        conf_key_word(&conf__keys[K_LI_CHEMISTRY], (int)l->chemistry));
	fprintf(out, "  cell voltage  max %g V (bulk and absorption), float %g V, min %g V (DVL = cells x min)\n",
	        l->max_cell_voltage, l->float_cell_voltage, l->min_cell_voltage);
	fprintf(out, "  CVL           + %g V voltage drop; never under the battery less 0.05 V per 16 cells\n",
	        l->voltage_drop);
	print_currents(c, out);
	fprintf(out, "  absorption    within %g V per 16 cells of the target with a cell spread <= %g V", 
	        l->absorption_tolerance, l->absorption_cell_diff);
	if (l->tail_current > 0)
		fprintf(out, ", or under %g A at the CVL", l->tail_current);
	fprintf(out, ", for %g s, then float; bulk again below %g %% SOC or at a spread >= %g V\n", l->absorption_time,
	        l->rebulk_soc, l->rebulk_cell_diff);
	if (l->max_bulk_time > 0)
		fprintf(out, "  max bulk      float after %g s at the target without absorbing\n", l->max_bulk_time);
	fprintf(out, "  recovery      a lowered current limit waits %g s, then rises at %g A/s; CVL waits %g s, then "
	        "rises at %g V per cell per s (the float ramp too); cell tables rise %g V past where they fell\n",
	        l->recovery_hold, l->recovery_rate, l->cvl_recovery_hold, l->cvl_rate, l->table_hysteresis);
	fprintf(out, "  temperature   no sensor reading: %g of the charge current\n", l->unknown_temp_fraction);
	if (l->force_charge_soc > 0)
		fprintf(out, "  flags         force charge at or below %g %% SOC (while charging is allowed)",
		        l->force_charge_soc);
	else
		fprintf(out, "  flags         force charge never");
	if (l->full_charge_days > 0)
		fprintf(out, "; full-charge request after %g days without absorption or 97 %% SOC", l->full_charge_days);
	else
		fprintf(out, "; full-charge request never");
	if (l->limit_exceeded > 0)
		fprintf(out, "; limit exceeded after %g s beyond CCL or DCL\n", l->limit_exceeded);
	else
		fprintf(out, "; limit exceeded never\n");
	print_tables(l, out);
}

void conf__print_health(const struct conf *c, FILE *out)
{
	if (!c->health.enabled)
		return;
	fprintf(out, "health (resistance, weak cell, imbalance of every pack)\n  ir step       %g C of each pack's "
		"rated capacity ([soc] capacity, else the BMS's full capacity) between two polls 2 s apart\n",
		c->health.ir_min_step);
	for (int i = 0; i < c->npacks; i++)
		if (c->packs[i].soc.capacity > 0)
			fprintf(out, "  %-13s %.1f A\n", c->packs[i].name, c->health.ir_min_step * c->packs[i].soc.capacity);
}

/* A pack's [soc] keys that differ from [soc]'s: "; pack a: capacity 280, source counted". */
static void print_soc_packs(const struct conf *c, FILE *out)
{
	for (int i = 0; i < c->npacks; i++) {
		const struct conf_pack *p = &c->packs[i];
		bool first = true;
		for (int j = 0; j < CONF_SOC_PACK_KEYS; j++) {
			char mine[CONF_EXP_MAX], theirs[CONF_EXP_MAX];
			conf_key_text(&conf__keys[K_PK_SOC_COUNTING + j], p, mine, sizeof(mine));
			conf_key_text(&conf__keys[K_SOC_COUNTING + j], &c->soc, theirs, sizeof(theirs));
			if (strcmp(mine, theirs) == 0)
				continue;
			if (first)
				fprintf(out, "  pack %s: ", p->name);
			else
				fputs(", ", out);
			fprintf(out, "%s %s", conf__keys[K_PK_SOC_COUNTING + j].name, mine[0] ? mine : "(the BMS's)");
			first = false;
		}
		if (!first)
			fputc('\n', out);
	}
}

void conf__print_soc(const struct conf *c, FILE *out)
{
	const struct conf_soc *s = &c->soc;
	static const char *const steep[CONF_NCHEM] = { "lfp: at or under 3.20 V or at or over 3.40 V a cell",
		"nmc: anywhere", "lto: none (no open-circuit curve)" };
	fprintf(out, "soc (bmsgw's own count of the charge, every pack and the bank; chemistry %s)\n",
	        conf_key_word(&conf__keys[K_SOC_CHEMISTRY], (int)s->chemistry));
	if (!s->count)
		fprintf(out, "  count         off: the BMS's SOC alone\n");
	else
		fprintf(out, "  count         on; the SOC carried: %s\n", s->source == CONF_SOC_SRC_COUNTED
		        ? "the counted one once synced (the BMS's until then)" : "the BMS's (source = bms)");
	if (s->capacity > 0)
		fprintf(out, "  capacity      %g Ah (the BMS's full capacity where it is smaller)", s->capacity);
	else
		fprintf(out, "  capacity      the BMS's full capacity");
	fprintf(out, "%s\n", s->learn_capacity ? "; measured between full and empty (or rest) points, the median of "
	        "the last 5" : "; never measured (learn_capacity = false)");
	fprintf(out, "  current       %+g A offset, |I| under %g A counts as 0, charge efficiency %g\n",
	        s->current_offset, s->current_threshold, s->charge_efficiency);
	fprintf(out, "  uncertainty   the sensor within %g %% and %g A (the counted SOC's band)\n",
	        100 * s->current_gain_error, s->current_offset_error);
	fprintf(out, "  full point    highest cell >= %g V, charge current <= %g C, for %g s\n", s->full_cell_voltage,
	        s->tail_current, s->full_time);
	fprintf(out, "  empty point   lowest cell <= %g V, discharging at most %g C, for %g s\n",
	        s->empty_cell_voltage, s->empty_current, s->empty_time);
	if (s->knee_cell_voltage > s->empty_cell_voltage)
		fprintf(out, "  knee point    lowest cell <= %g V, discharging at most %g C, for %g s: down to %g %%\n",
		        s->knee_cell_voltage, s->empty_current, s->empty_time, s->knee_soc);
	else
		fprintf(out, "  knee point    none (knee_cell_voltage %g V is not over the empty point's)\n",
		        s->knee_cell_voltage);
	fprintf(out, "  rest point    under %g C for %g s, where the open-circuit curve is steep (%s), "
	        "10..40 degC\n", s->rest_current, s->rest_time, steep[(unsigned)s->chemistry < CONF_NCHEM ? s->chemistry : 0]);
	fprintf(out, "  saved         every %g s, at each point and at exit; resumed when saved within 24 h\n",
	        s->save_interval);
	print_soc_packs(c, out);
}
