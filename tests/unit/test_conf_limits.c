/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_limits.c - [limits]: defaults, chemistry defaults and
 * overrides in either order, ranges, tables, the checks between keys, and
 * what --check prints of it. */
#include <stdlib.h>

#include "../../conf/conf.h"
#include "check.h"
#include "sections.h"

static struct conf c;
static char err[1024];

static const char *packs =
	"[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"      /* lines 1-4 */
	"[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n"      /* 5-8 */
	"[bank]\n";                                                          /* 9; [limits] is line 10 */

static int load(const char *tail)
{
	static char text[8192];
	snprintf(text, sizeof(text), "%s%s", packs, tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const char *tail, const char *needle)
{
	int rc = load(tail);
	CHECK_EQ_INT(rc, -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

/* the points of t are exactly xs:ys */
static void check_table(const struct conf_table *t, int n, const double *xs, const double *ys)
{
	CHECK_EQ_INT(t->n, n);
	for (int i = 0; i < n && i < t->n; i++) {
		CHECK_NEAR(t->x[i], xs[i], 1e-9);
		CHECK_NEAR(t->y[i], ys[i], 1e-9);
	}
}

static void test_defaults(void)
{
	CHECK_EQ_INT(load(""), 0);
	CHECK(!c.limits.enabled);

	CHECK_EQ_INT(load("[limits]\n"), 0);
	const struct conf_limits *l = &c.limits;
	CHECK(l->enabled);
	CHECK_EQ_INT(l->line, 10);
	CHECK_EQ_INT(l->chemistry, CONF_CHEM_LFP);
	CHECK_NEAR(l->max_cell_voltage, 3.45, 1e-9);
	CHECK_NEAR(l->float_cell_voltage, 3.375, 1e-9);
	CHECK_NEAR(l->min_cell_voltage, 2.90, 1e-9);
	CHECK_NEAR(l->max_charge_current, 50, 1e-9);
	CHECK_NEAR(l->max_discharge_current, 60, 1e-9);
	CHECK_NEAR(l->absorption_time, 900, 1e-9);
	CHECK_NEAR(l->absorption_cell_diff, 0.010, 1e-12);
	CHECK_NEAR(l->rebulk_soc, 80, 1e-9);
	CHECK_NEAR(l->rebulk_cell_diff, 0.080, 1e-12);
	check_table(&l->charge_cell, 5, (const double[]){3.375, 3.400, 3.425, 3.450, 3.500},
	            (const double[]){1, 0.25, 0.05, 0.005, 0});
	check_table(&l->discharge_cell, 5, (const double[]){3.190, 3.100, 3.000, 2.900, 2.800},
	            (const double[]){1, 0.25, 0.05, 0.005, 0});
	/* lfp: no charge to 1 degC, 10 % at 3 degC (a sensor's error of margin) */
	check_table(&l->charge_temp, 8, (const double[]){1, 3, 5, 10, 40, 45, 50, 55},
	            (const double[]){0, 0.1, 0.25, 1, 1, 0.5, 0.25, 0});
	check_table(&l->discharge_temp, 8, (const double[]){-10, 0, 5, 10, 40, 45, 50, 55},
	            (const double[]){0, 0.25, 0.5, 1, 1, 0.5, 0.25, 0});
	check_table(&l->mos_temp, 3, (const double[]){70, 80, 90}, (const double[]){1, 0.25, 0});
	CHECK_EQ_INT(l->soc_charge.n, 0);
	CHECK_EQ_INT(l->soc_discharge.n, 0);
	CHECK_EQ_INT(l->interpolation, CONF_INTERP_LINEAR);
	CHECK_NEAR(l->recovery_hold, 30, 1e-9);
	CHECK_NEAR(l->recovery_rate, 5, 1e-9);
	CHECK_NEAR(l->cvl_recovery_hold, 60, 1e-9);
	CHECK_NEAR(l->cvl_rate, 0.001, 1e-12);
	CHECK_NEAR(l->force_charge_soc, 5, 1e-9);
	CHECK_NEAR(l->full_charge_days, 30, 1e-9);
	CHECK_EQ_INT(l->bank_rule, CONF_BANK_MIN);
	CHECK_EQ_INT(l->bank_stale, CONF_BANK_STALE_DEGRADE);
	CHECK_NEAR(l->unknown_temp_fraction, 0.1, 1e-12);
	CHECK_NEAR(l->voltage_drop, 0, 1e-12);
	CHECK_NEAR(l->absorption_tolerance, 0.05, 1e-12);
	CHECK_NEAR(l->tail_current, 0, 1e-12);
	CHECK_NEAR(l->max_bulk_time, 0, 1e-12);
	CHECK_NEAR(l->table_hysteresis, 0.020, 1e-12);
	CHECK_NEAR(l->limit_exceeded, 10, 1e-12);
	CHECK_NEAR(c.packs[0].max_charge_current, -1, 1e-12); /* [limits]' */

	/* every key written, none at its default */
	CHECK_EQ_INT(load("[limits]\nmax_charge_current = 100.5\nmax_discharge_current = 120\nabsorption_time = 0\n"
	                  "absorption_cell_diff = 0.005\nrebulk_soc = 0\nrebulk_cell_diff = 1\ninterpolation = STEP\n"
	                  "recovery_hold = 0\nrecovery_rate = 0.5\ncvl_recovery_hold = 3600\ncvl_rate = 1\n"
	                  "force_charge_soc = 0\nfull_charge_days = 3650\nbank_rule = sum\nbank_stale = block\n"
	                  "unknown_temp_fraction = 0\nvoltage_drop = 0.15\nabsorption_tolerance = 0\ntail_current = 3.5\n"
	                  "max_bulk_time = 7200\ntable_hysteresis = 0\nlimit_exceeded = 0\n"), 0);
	CHECK_NEAR(l->max_charge_current, 100.5, 1e-9);
	CHECK_NEAR(l->max_discharge_current, 120, 1e-9);
	CHECK_NEAR(l->absorption_time, 0, 1e-9);
	CHECK_NEAR(l->absorption_cell_diff, 0.005, 1e-12);
	CHECK_NEAR(l->rebulk_soc, 0, 1e-9);
	CHECK_NEAR(l->rebulk_cell_diff, 1, 1e-9);
	CHECK_EQ_INT(l->interpolation, CONF_INTERP_STEP);
	CHECK_NEAR(l->recovery_hold, 0, 1e-9);
	CHECK_NEAR(l->recovery_rate, 0.5, 1e-9);
	CHECK_NEAR(l->cvl_recovery_hold, 3600, 1e-9);
	CHECK_NEAR(l->cvl_rate, 1, 1e-9);
	CHECK_NEAR(l->force_charge_soc, 0, 1e-9);
	CHECK_NEAR(l->full_charge_days, 3650, 1e-9);
	CHECK_EQ_INT(l->bank_rule, CONF_BANK_SUM);
	CHECK_EQ_INT(l->bank_stale, CONF_BANK_STALE_BLOCK);
	CHECK_NEAR(l->unknown_temp_fraction, 0, 1e-12);
	CHECK_NEAR(l->voltage_drop, 0.15, 1e-12);
	CHECK_NEAR(l->absorption_tolerance, 0, 1e-12);
	CHECK_NEAR(l->tail_current, 3.5, 1e-12);
	CHECK_NEAR(l->max_bulk_time, 7200, 1e-12);
	CHECK_NEAR(l->table_hysteresis, 0, 1e-12);
	CHECK_NEAR(l->limit_exceeded, 0, 1e-12);
	CHECK_EQ_INT(load("[limits]\nbank_rule = weighted\n"), 0);
	CHECK_EQ_INT(l->bank_rule, CONF_BANK_WEIGHTED);
	/* a pack's own ratings */
	CHECK_EQ_INT(load("[limits]\n[pack.c]\nprotocol = daly\nport = /dev/ttyUSB1\nmax_charge_current = 140\n"
	                  "max_discharge_current = 200.5\n"), 0);
	CHECK_NEAR(c.packs[2].max_charge_current, 140, 1e-9);
	CHECK_NEAR(c.packs[2].max_discharge_current, 200.5, 1e-9);
	CHECK_NEAR(c.packs[0].max_charge_current, -1, 1e-12);
	expect_error("[pack.c]\nprotocol = daly\nport = /dev/ttyUSB1\nmax_charge_current = 140\n",
	             "t.ini:13: [pack.c] max_charge_current: is a charge limit setting, but there is no [limits] section");
	expect_error("[limits]\n[pack.c]\nprotocol = daly\nport = /dev/ttyUSB1\nmax_charge_current = 0\n",
	             "t.ini:14: [pack.c] max_charge_current: 0 is out of range (expected amperes > 0 and <= 10000)");
}

static void test_chemistry(void)
{
	const struct conf_limits *l = &c.limits;
	CHECK_EQ_INT(load("[limits]\nchemistry = nmc\n"), 0);
	CHECK_EQ_INT(l->chemistry, CONF_CHEM_NMC);
	CHECK_NEAR(l->max_cell_voltage, 4.10, 1e-9);
	CHECK_NEAR(l->float_cell_voltage, 4.00, 1e-9);
	CHECK_NEAR(l->min_cell_voltage, 3.00, 1e-9);
	check_table(&l->charge_cell, 5, (const double[]){4.025, 4.050, 4.075, 4.100, 4.150},
	            (const double[]){1, 0.25, 0.05, 0.005, 0});
	check_table(&l->discharge_cell, 5, (const double[]){3.290, 3.200, 3.100, 3.000, 2.900},
	            (const double[]){1, 0.25, 0.05, 0.005, 0});
	/* nmc and lto keep dbus-serialbattery's charge temperature table */
	check_table(&l->charge_temp, 8, (const double[]){0, 2, 5, 10, 40, 45, 50, 55},
	            (const double[]){0, 0.25, 0.5, 1, 1, 0.5, 0.25, 0});

	CHECK_EQ_INT(load("[limits]\nchemistry = LTO\n"), 0);
	CHECK_EQ_INT(l->chemistry, CONF_CHEM_LTO);
	CHECK_NEAR(l->max_cell_voltage, 2.60, 1e-9);
	CHECK_NEAR(l->float_cell_voltage, 2.45, 1e-9);
	CHECK_NEAR(l->min_cell_voltage, 1.90, 1e-9);
	check_table(&l->charge_cell, 5, (const double[]){2.525, 2.550, 2.575, 2.600, 2.650},
	            (const double[]){1, 0.25, 0.05, 0.005, 0});
	check_table(&l->discharge_cell, 5, (const double[]){2.190, 2.100, 2.000, 1.900, 1.800},
	            (const double[]){1, 0.25, 0.05, 0.005, 0});

	/* a key written wins over the chemistry, before or after it */
	const char *after = "[limits]\nchemistry = nmc\nmax_cell_voltage = 4.15\ncharge_cell_table = 4.1:1, 4.2:0\n";
	const char *before = "[limits]\nmax_cell_voltage = 4.15\ncharge_cell_table = 4.1:1, 4.2:0\nchemistry = nmc\n";
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(load(i ? before : after), 0);
		CHECK_NEAR(l->max_cell_voltage, 4.15, 1e-9);
		CHECK_NEAR(l->float_cell_voltage, 4.00, 1e-9);
		CHECK_NEAR(l->min_cell_voltage, 3.00, 1e-9);
		check_table(&l->charge_cell, 2, (const double[]){4.1, 4.2}, (const double[]){1, 0});
		CHECK_NEAR(l->discharge_cell.x[0], 3.29, 1e-9);
	}
	CHECK_EQ_INT(load("[limits]\nmin_cell_voltage = 2.5\nchemistry = lto\nfloat_cell_voltage = 2.55\n"), 0);
	CHECK_NEAR(l->min_cell_voltage, 2.5, 1e-9);
	CHECK_NEAR(l->float_cell_voltage, 2.55, 1e-9);
	expect_error("[limits]\nchemistry = lipo\n",
	             "t.ini:11: [limits] chemistry: \"lipo\" is not valid (expected one of lfp, nmc, lto)");
}

static void test_ranges(void)
{
	expect_error("[limits]\nmax_cell_voltage = 6\n",
	             "t.ini:11: [limits] max_cell_voltage: 6 is out of range (expected volts per cell >= 1 and <= 5)");
	expect_error("[limits]\nmin_cell_voltage = 0.5\n", "t.ini:11: [limits] min_cell_voltage: 0.5 is out of range");
	expect_error("[limits]\nmax_charge_current = 0\n",
	             "t.ini:11: [limits] max_charge_current: 0 is out of range (expected amperes > 0 and <= 10000)");
	expect_error("[limits]\nmax_discharge_current = -5\n", "t.ini:11: [limits] max_discharge_current: -5 is out");
	expect_error("[limits]\nabsorption_time = -1\n",
	             "t.ini:11: [limits] absorption_time: -1 is out of range (expected seconds >= 0 and <= 86400)");
	expect_error("[limits]\nrebulk_soc = 101\n",
	             "t.ini:11: [limits] rebulk_soc: 101 is out of range (expected percent >= 0 and <= 100)");
	expect_error("[limits]\nabsorption_cell_diff = 0\n",
	             "t.ini:11: [limits] absorption_cell_diff: 0 is out of range (expected volts > 0 and <= 1)");
	expect_error("[limits]\nrecovery_hold = 3601\n", "t.ini:11: [limits] recovery_hold: 3601 is out of range");
	expect_error("[limits]\nrecovery_rate = 0\n",
	             "[limits] recovery_rate: 0 is out of range (expected amperes per second > 0 and <= 10000)");
	expect_error("[limits]\ncvl_rate = 0\n",
	             "t.ini:11: [limits] cvl_rate: 0 is out of range (expected volts per cell per second > 0 and <= 1)");
	expect_error("[limits]\nforce_charge_soc = 100.5\n", "t.ini:11: [limits] force_charge_soc: 100.5 is out of range");
	expect_error("[limits]\nfull_charge_days = 3651\n",
	             "t.ini:11: [limits] full_charge_days: 3651 is out of range (expected days >= 0 and <= 3650)");
	expect_error("[limits]\ninterpolation = cubic\n",
	             "t.ini:11: [limits] interpolation: \"cubic\" is not valid (expected one of linear, step)");
	expect_error("[limits]\nbank_rule = mean\n", "t.ini:11: [limits] bank_rule: \"mean\" is not valid (expected one "
	             "of min, sum, weighted)");
	expect_error("[limits]\nmax_charge_current = 50A\n", "t.ini:11: [limits] max_charge_current: \"50A\" is not a number");
	expect_error("[limits]\nmax_cell_voltage =\n", "t.ini:11: [limits] max_cell_voltage: empty value");
	expect_error("[limits]\ncolour = red\n", "t.ini:11: [limits] colour: unknown key (expected one of chemistry, "
	             "max_cell_voltage, float_cell_voltage, min_cell_voltage");
	expect_error("[limits]\nrebulk_soc = 70\nrebulk_soc = 75\n",
	             "t.ini:12: [limits] rebulk_soc: duplicate key (first set on line 11)");
	expect_error("[limits]\n[limits]\n", "t.ini:11: [limits]: duplicate section (first on line 10)");
	expect_error("[limits.x]\n", "t.ini:10: [limits.x]: unknown section");
}

static void test_order(void)
{
	static const char rule[] = "expected min_cell_voltage < float_cell_voltage <= max_cell_voltage)";
	expect_error("[limits]\nfloat_cell_voltage = 3.5\n", "t.ini:11: [limits] float_cell_voltage: float_cell_voltage "
	             "above max_cell_voltage (3.5 > 3.45; max_cell_voltage 3.45 is the lfp default; expected min_cell_voltage "
	             "< float_cell_voltage <= max_cell_voltage)");
	/* the written key is blamed, and the default named with its chemistry */
	expect_error("[limits]\nchemistry = nmc\nmax_cell_voltage = 3.9\n", "t.ini:12: [limits] max_cell_voltage: "
	             "float_cell_voltage above max_cell_voltage (4 > 3.9; float_cell_voltage 4 is the nmc default;");
	/* both written: the first of the rule */
	expect_error("[limits]\nmax_cell_voltage = 3.3\nfloat_cell_voltage = 3.4\nmin_cell_voltage = 3.0\n",
	             "t.ini:12: [limits] float_cell_voltage: float_cell_voltage above max_cell_voltage (3.4 > 3.3; "
	             "expected");
	expect_error("[limits]\nmin_cell_voltage = 3.375\n", "t.ini:11: [limits] min_cell_voltage: min_cell_voltage not "
	             "below float_cell_voltage (3.375 >= 3.375; float_cell_voltage 3.375 is the lfp default;");
	expect_error("[limits]\nmin_cell_voltage = 3.4\nchemistry = lto\n", rule);
	/* float may equal max */
	CHECK_EQ_INT(load("[limits]\nfloat_cell_voltage = 3.45\n"), 0);
	expect_error("[limits]\nabsorption_cell_diff = 0.08\n", "t.ini:11: [limits] absorption_cell_diff: "
	             "absorption_cell_diff not below rebulk_cell_diff (0.08 >= 0.08; rebulk_cell_diff 0.08 is the default;");
	expect_error("[limits]\nrebulk_cell_diff = 0.005\n", "t.ini:11: [limits] rebulk_cell_diff: absorption_cell_diff "
	             "not below rebulk_cell_diff (0.01 >= 0.005; absorption_cell_diff 0.01 is the default;");
	CHECK_EQ_INT(load("[limits]\nabsorption_cell_diff = 0.02\nrebulk_cell_diff = 0.021\n"), 0);
}

static void test_tables(void)
{
	const struct conf_limits *l = &c.limits;
	CHECK_EQ_INT(load("[limits]\nsoc_charge_table = 85:1, 90:0.5, 95:0.2, 98:0.1\n"
	                  "soc_discharge_table = 20 : 1 ,15:0.5,  10:0.2, 5:0.1\ncharge_cell_table = 3.4:1\n"
	                  "mos_temp_table = 95:0, 85:0.5, 75:1\n"), 0);
	check_table(&l->soc_charge, 4, (const double[]){85, 90, 95, 98}, (const double[]){1, 0.5, 0.2, 0.1});
	check_table(&l->soc_discharge, 4, (const double[]){20, 15, 10, 5}, (const double[]){1, 0.5, 0.2, 0.1});
	check_table(&l->charge_cell, 1, (const double[]){3.4}, (const double[]){1});
	check_table(&l->mos_temp, 3, (const double[]){95, 85, 75}, (const double[]){0, 0.5, 1});
	/* the SOC tables may be empty, as written in the example of the design */
	CHECK_EQ_INT(load("[limits]\nsoc_charge_table =\nsoc_discharge_table =          ; none\n"), 0);
	CHECK_EQ_INT(l->soc_charge.n, 0);
	CHECK_EQ_INT(l->soc_discharge.n, 0);
	/* 16 points are fine, 17 are not */
	CHECK_EQ_INT(load("[limits]\ncharge_temp_table = 0:0, 1:0.1, 2:0.2, 3:0.3, 4:0.4, 5:0.5, 6:0.6, 7:0.7, 8:0.8, "
	                  "9:0.9, 10:1, 40:1, 45:0.5, 50:0.25, 55:0.1, 60:0\n"), 0);
	CHECK_EQ_INT(l->charge_temp.n, 16);
	CHECK_NEAR(l->charge_temp.x[15], 60, 1e-9);
	expect_error("[limits]\ncharge_temp_table = 0:0, 1:0.1, 2:0.2, 3:0.3, 4:0.4, 5:0.5, 6:0.6, 7:0.7, 8:0.8, "
	             "9:0.9, 10:1, 40:1, 45:0.5, 50:0.25, 55:0.1, 60:0, 65:0\n",
	             "t.ini:11: [limits] charge_temp_table: more than 16 points (expected 1..16 x:fraction points "
	             "separated by commas (x: degrees Celsius -50..150, strictly ascending or descending; fractions "
	             "0..1, at least one of them 1))");
	expect_error("[limits]\ncharge_cell_table = 3.3:1, 3.4:0.5, 3.35:0\n", "t.ini:11: [limits] charge_cell_table: "
	             "\"3.35:0\": 3.35 does not continue the order of the points before it (expected 1..16 x:fraction "
	             "points separated by commas (x: volts per cell 0..5,");
	expect_error("[limits]\ndischarge_cell_table = 3.2:1, 3.1:0.5, 3.1:0\n",
	             "t.ini:11: [limits] discharge_cell_table: \"3.1:0\": 3.1 does not continue the order");
	expect_error("[limits]\ncharge_cell_table = 3.3:1.5\n",
	             "t.ini:11: [limits] charge_cell_table: \"3.3:1.5\": the fraction 1.5 is out of range");
	expect_error("[limits]\ncharge_cell_table = 3.3:1, 3.4:-0.1\n", "\"3.4:-0.1\": the fraction -0.1 is out of range");
	expect_error("[limits]\ncharge_cell_table = 3.3:0.5, 3.4:0\n", "t.ini:11: [limits] charge_cell_table: no point "
	             "has the fraction 1: the full current is never allowed");
	expect_error("[limits]\nsoc_charge_table = 85:0.9\n", "[limits] soc_charge_table: no point has the fraction 1");
	expect_error("[limits]\ncharge_cell_table = 6:1\n", "t.ini:11: [limits] charge_cell_table: \"6:1\": 6 is out of "
	             "range");
	expect_error("[limits]\ndischarge_temp_table = -60:0, 10:1\n", "\"-60:0\": -60 is out of range");
	expect_error("[limits]\nsoc_discharge_table = 101:1\n", "[limits] soc_discharge_table: \"101:1\": 101 is out of "
	             "range (expected 1..16 x:fraction points separated by commas (x: percent 0..100, strictly ascending "
	             "or descending; fractions 0..1, at least one of them 1; or nothing for no table))");
	expect_error("[limits]\ncharge_cell_table = 3.3-1\n",
	             "t.ini:11: [limits] charge_cell_table: \"3.3-1\" is not an x:fraction point");
	expect_error("[limits]\ncharge_cell_table = a:b\n", "\"a:b\" is not an x:fraction point");
	expect_error("[limits]\ncharge_cell_table = 3.3:1:0\n", "\"3.3:1:0\" is not an x:fraction point");
	expect_error("[limits]\ncharge_cell_table = 3.3:1,,3.4:0\n", "t.ini:11: [limits] charge_cell_table: "
	             "\"3.3:1,,3.4:0\": a point is missing between two commas or at an end");
	expect_error("[limits]\ncharge_cell_table = 3.3:1, 3.4:0,\n", "a point is missing");
	expect_error("[limits]\nsoc_charge_table = 85:1 # ramp\n", "\"85:1 # ramp\" is not an x:fraction point (expected "
	             "1..16");
	expect_error("[limits]\nsoc_charge_table = 85:1 # ramp\n", "; comments after a value start with \" ;\")");
	/* only the SOC tables may be empty */
	expect_error("[limits]\ncharge_cell_table =\n", "t.ini:11: [limits] charge_cell_table: empty value (expected");
	expect_error("[limits]\nmos_temp_table =\n", "[limits] mos_temp_table: empty value");
}

/* what --check prints of [limits] */
static void test_summary(void)
{
	char *buf = NULL;
	size_t len = 0;
	CHECK_EQ_INT(load("[limits]\nchemistry = nmc\nsoc_discharge_table = 20:1, 10:0.2\nforce_charge_soc = 0\n"
	                  "bank_rule = sum\n"), 0);
	FILE *m = open_memstream(&buf, &len);
	conf_print_summary(&c, m);
	fclose(m);
	static const char *const want[] = {
		"limits (CVL, CCL, DCL and DVL of every pack and the bank; chemistry nmc)\n",
		"  cell voltage  max 4.1 V (bulk and absorption), float 4 V, min 3 V (DVL = cells x min)\n",
		"  current       charge 50 A, discharge 60 A per pack; bank: sum (of the fresh packs' limits); a stale pack "
		"of it: degrade (CVL at float, a communication warning)\n",
		"  CVL           + 0 V voltage drop; never under the battery less 0.05 V per 16 cells\n",
		"  absorption    within 0.05 V per 16 cells of the target with a cell spread <= 0.01 V, for 900 s, then "
		"float; bulk again below 80 % SOC or at a spread >= 0.08 V\n",
		"  temperature   no sensor reading: 0.1 of the charge current\n",
		"  flags         force charge never; full-charge request after 30 days without absorption or 97 % SOC; "
		"limit exceeded after 10 s beyond CCL or DCL\n",
		"  tables        linear interpolation; x:fraction of the max current, the lowest fraction binds\n",
		"    charge, highest cell V       4.025:1, 4.05:0.25, 4.075:0.05, 4.1:0.005, 4.15:0\n",
		"    discharge, lowest cell V     3.29:1, 3.2:0.25, 3.1:0.05, 3:0.005, 2.9:0\n",
		"    MOSFET temperature degC      70:1, 80:0.25, 90:0\n",
		"    charge, SOC %                off\n",
		"    discharge, SOC %             20:1, 10:0.2\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = buf && strstr(buf, want[i]) != NULL;
		if (!found)
			fprintf(stderr, "  summary lacks \"%s\"\n", want[i]);
		CHECK(found);
	}
	free(buf);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_defaults();
	test_chemistry();
	test_ranges();
	test_order();
	test_tables();
	test_summary();
	return check_report();
}
