/* SPDX-License-Identifier: MIT */
/* conf/check_limits.c - the checks after the parse of [limits] (the
 * defaults of its chemistry, the order of its voltages) and of the packs'
 * own ratings it reads.  They run after the packs and the bank are
 * resolved.
 */
#include "conf_int.h"

#include "../bms/bms.h"

#include <ctype.h>
#include <string.h>


/* The chemistry's default of every key the file did not set, whatever the
 * order of the lines. */
static void chemistry_defaults(struct conf_load *x)
{
	struct conf_limits *l = &x->c.limits;
	char why[CONF_WHY_MAX];
	for (size_t i = 0; i < conf__nchem_defaults; i++) {
		const struct chem_default *d = &conf__chem_defaults[i];
		if (!x->limits_seen[d->key])
			(void)conf__set_value(&conf__keys[d->key], l, d->def[l->chemistry], why, sizeof(why));
	}
}

static bool chemistry_key(int key)
{
	for (size_t i = 0; i < conf__nchem_defaults; i++)
		if (conf__chem_defaults[i].key == key)
			return true;
	return false;
}

/* a (key ka) below b (key kb), or at most b when !strict; false after an
 * error, which names the key the file wrote (ka if both or neither). */
static bool in_order(struct conf_load *x, int ka, double a, int kb, double b, bool strict, const char *rule)
{
	const int *seen = x->limits_seen;
	if (strict ? a < b : a <= b)
		return true;
	int k = seen[ka] || !seen[kb] ? ka : kb, other = k == ka ? kb : ka;
	char note[CONF_EXP_MAX] = "";
	if (!seen[other])
		conf_bfmt(note, sizeof(note), "; %s %g is the %s%sdefault", conf__keys[other].name, other == ka ? a : b,
		     chemistry_key(other) ? conf_key_word(&conf__keys[K_LI_CHEMISTRY], (int)x->c.limits.chemistry) : "",
		     chemistry_key(other) ? " " : "");
	conf__fail(x, conf__seen_line(seen, k, x->c.limits.line), "limits", conf__keys[k].name,
	     "%s %s %s (%g %s %g%s; expected %s)", conf__keys[ka].name, strict ? "not below" : "above", conf__keys[kb].name, a, strict ? ">=" : ">", b, note,
	     rule);
	return false;
}

/* A pack's own current rating is a [limits] setting. */
static bool pack_ratings(struct conf_load *x)
{
	for (int i = 0; i < x->c.npacks; i++) {
		const int *seen = x->pack_seen[i];
		int k = seen[K_PK_MAX_CHARGE] ? K_PK_MAX_CHARGE : seen[K_PK_MAX_DISCHARGE] ? K_PK_MAX_DISCHARGE : -1;
		if (k >= 0 && !x->c.limits.enabled) {
			char sect[CONF_NAME_MAX + 8];
			conf_bfmt(sect, sizeof(sect), "pack.%s", x->c.packs[i].name);
			conf__fail(x, seen[k], sect, conf__keys[k].name, "is a charge limit setting, but there is no [limits] "
			     "section (expected [limits], or no %s key)", conf__keys[k].name);
			return false;
		}
	}
	return true;
}

/* [limits]: chemistry defaults, then the voltages and spreads in order. */
void conf__finish_limits(struct conf_load *x)
{
	static const char volts[] = "min_cell_voltage < float_cell_voltage <= max_cell_voltage";
	struct conf_limits *l = &x->c.limits;
	if (!pack_ratings(x) || !l->enabled)
		return;
	chemistry_defaults(x);
	if (!in_order(x, K_LI_MIN_CELL, l->min_cell_voltage, K_LI_FLOAT_CELL, l->float_cell_voltage, true, volts) ||
	    !in_order(x, K_LI_FLOAT_CELL, l->float_cell_voltage, K_LI_MAX_CELL, l->max_cell_voltage, false, volts))
		return;
	(void)in_order(x, K_LI_ABS_DIFF, l->absorption_cell_diff, K_LI_REBULK_DIFF, l->rebulk_cell_diff, true,
	               "absorption_cell_diff < rebulk_cell_diff: a spread that starts absorption must not "
	               "also end it");
}
