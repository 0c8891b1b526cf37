/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_soc.c - [soc] and its keys in [pack.NAME]: the
 * defaults (some by chemistry, the full cell voltage from [limits]' target),
 * each pack's copy with its own keys over [soc]'s whatever the order of
 * the sections, the ranges and the check between the voltages with
 * FILE:LINE, the reload class of every key, the warning, and what --check
 * prints. */
#include <stdlib.h>

#include "../../conf/section.h"
#include "check.h"

static struct conf c;
static char err[1024];

static const char *two_packs =
	"[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"      /* lines 1-4 */
	"[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n";     /* 5-8; the tail starts on line 9 */

static int load(const char *tail)
{
	static char text[8192];
	snprintf(text, sizeof(text), "%s%s", two_packs, tail);
	return conf_load_string(text, "t.ini", &c, err, sizeof(err));
}

static void expect_error(const char *tail, const char *needle)
{
	CHECK_EQ_INT(load(tail), -1);
	bool found = strstr(err, needle) != NULL;
	if (!found)
		fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, needle);
	CHECK(found);
}

static void check_lfp_defaults(const struct conf_soc *s)
{
	CHECK(s->count);
	CHECK_EQ_INT(s->source, CONF_SOC_SRC_BMS);
	CHECK_NEAR(s->capacity, -1, 1e-9); /* the BMS's */
	CHECK_EQ_INT(s->chemistry, CONF_CHEM_LFP);
	CHECK_NEAR(s->charge_efficiency, 0.99, 1e-9);
	CHECK_NEAR(s->current_offset, 0, 1e-9);
	CHECK_NEAR(s->current_threshold, 0.1, 1e-9);
	CHECK_NEAR(s->current_gain_error, 0.02, 1e-9);
	CHECK_NEAR(s->current_offset_error, 0.3, 1e-9);
	CHECK_NEAR(s->full_cell_voltage, 3.45, 1e-9);
	CHECK_NEAR(s->tail_current, 0.04, 1e-9);
	CHECK_NEAR(s->full_time, 180, 1e-9);
	CHECK_NEAR(s->empty_cell_voltage, 2.90, 1e-9);
	CHECK_NEAR(s->empty_current, 0.2, 1e-9);
	CHECK_NEAR(s->empty_time, 60, 1e-9);
	CHECK_NEAR(s->knee_cell_voltage, 3.10, 1e-9);
	CHECK_NEAR(s->knee_soc, 5, 1e-9);
	CHECK_NEAR(s->rest_current, 0.01, 1e-9);
	CHECK_NEAR(s->rest_time, 1800, 1e-9);
	CHECK(s->learn_capacity);
	CHECK_NEAR(s->save_interval, 300, 1e-9);
}

static void test_defaults(void)
{
	/* no [soc]: its defaults, in every pack too */
	CHECK_EQ_INT(load(""), 0);
	CHECK_EQ_INT(c.soc.line, 0);
	check_lfp_defaults(&c.soc);
	check_lfp_defaults(&c.packs[0].soc);
	check_lfp_defaults(&c.packs[1].soc);
	CHECK_EQ_INT(load("[soc]\n"), 0);
	CHECK_EQ_INT(c.soc.line, 9);
	check_lfp_defaults(&c.soc);
	/* what --soc-replay counts with when no file is given */
	struct conf_soc s;
	conf_soc_defaults(&s, CONF_CHEM_LFP);
	check_lfp_defaults(&s);
	conf_soc_defaults(&s, CONF_CHEM_NMC);
	CHECK_NEAR(s.charge_efficiency, 0.98, 1e-9);
	CHECK_NEAR(s.full_cell_voltage, 4.15, 1e-9);
	CHECK_NEAR(s.empty_cell_voltage, 3.00, 1e-9);
	CHECK_NEAR(s.knee_cell_voltage, 3.40, 1e-9);
	CHECK_NEAR(s.knee_soc, 5, 1e-9);
	conf_soc_defaults(&s, CONF_CHEM_LTO);
	CHECK_NEAR(s.full_cell_voltage, 2.60, 1e-9);
	CHECK_NEAR(s.empty_cell_voltage, 1.90, 1e-9);
	CHECK_NEAR(s.knee_cell_voltage, 1.90, 1e-9); /* its empty point's: no knee */
}

static void test_chemistry(void)
{
	/* [limits] on: its target is the full point, its chemistry [soc]'s */
	CHECK_EQ_INT(load("[limits]\nmax_cell_voltage = 3.50\n"), 0);
	CHECK_NEAR(c.soc.full_cell_voltage, 3.50, 1e-9);
	CHECK_NEAR(c.packs[1].soc.full_cell_voltage, 3.50, 1e-9);
	CHECK_EQ_INT(load("[limits]\nchemistry = nmc\n"), 0);
	CHECK_EQ_INT(c.soc.chemistry, CONF_CHEM_NMC);
	CHECK_NEAR(c.soc.full_cell_voltage, 4.10, 1e-9); /* [limits]' nmc target */
	CHECK_NEAR(c.soc.empty_cell_voltage, 3.00, 1e-9);
	CHECK_NEAR(c.soc.charge_efficiency, 0.98, 1e-9);
	/* [soc] chemistry other than [limits]': its own defaults */
	CHECK_EQ_INT(load("[soc]\nchemistry = nmc\n[limits]\n"), 0);
	CHECK_NEAR(c.soc.full_cell_voltage, 4.15, 1e-9);
	/* a key written wins, whatever the order */
	CHECK_EQ_INT(load("[soc]\nfull_cell_voltage = 3.42\ncharge_efficiency = 0.97\n[limits]\nchemistry = nmc\n"), 0);
	CHECK_NEAR(c.soc.full_cell_voltage, 3.42, 1e-9);
	CHECK_NEAR(c.soc.charge_efficiency, 0.97, 1e-9);
	CHECK_NEAR(c.soc.empty_cell_voltage, 3.00, 1e-9);
	CHECK(c.soc.given & CONF_SOC_GIVEN_FULL);
	CHECK(!(c.soc.given & CONF_SOC_GIVEN_EMPTY));
	CHECK_NEAR(c.soc.knee_cell_voltage, 3.40, 1e-9); /* nmc's knee */
	/* the knee follows the chemistry unless written, in a pack too */
	CHECK_EQ_INT(load("[soc]\nknee_cell_voltage = 3.05\nknee_soc = 3\n[pack.c]\nprotocol = jbd\n"
			  "port = /dev/ttyUSB1\nchemistry = nmc\n[pack.d]\nprotocol = jbd\nport = /dev/ttyUSB2\n"
			  "chemistry = nmc\nknee_cell_voltage = 3.5\n"), 0);
	CHECK(c.soc.given & CONF_SOC_GIVEN_KNEE);
	CHECK_NEAR(c.soc.knee_cell_voltage, 3.05, 1e-9);
	CHECK_NEAR(c.packs[0].soc.knee_cell_voltage, 3.05, 1e-9);
	CHECK_NEAR(c.packs[2].soc.knee_cell_voltage, 3.05, 1e-9); /* [soc]'s written one */
	CHECK_NEAR(c.packs[2].soc.knee_soc, 3, 1e-9);
	CHECK_NEAR(c.packs[3].soc.knee_cell_voltage, 3.5, 1e-9);
	CHECK_EQ_INT(load("[pack.c]\nprotocol = jbd\nport = /dev/ttyUSB1\nchemistry = nmc\n"), 0);
	CHECK_NEAR(c.packs[2].soc.knee_cell_voltage, 3.40, 1e-9); /* its own chemistry's */
	CHECK_NEAR(c.packs[0].soc.knee_cell_voltage, 3.10, 1e-9);
}

static void test_packs(void)
{
	/* a pack's own key over [soc]'s, the other pack [soc]'s; [soc] before the packs */
	static char text[8192];
	snprintf(text, sizeof(text), "[soc]\ncapacity = 300\ncurrent_offset = -0.2\ncurrent_offset_error = 0.05\n%s"
		 "capacity = 280\nchemistry = nmc\nsource = counted\ncurrent_gain_error = 0.005\n",
		 "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\n"
		 "[pack.b]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 2\n");
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), 0);
	const struct conf_soc *a = &c.packs[0].soc, *b = &c.packs[1].soc;
	CHECK_NEAR(a->capacity, 300, 1e-9);
	CHECK_NEAR(a->current_offset, -0.2, 1e-9);
	CHECK_EQ_INT(a->chemistry, CONF_CHEM_LFP);
	CHECK_NEAR(b->capacity, 280, 1e-9);
	CHECK_NEAR(b->current_offset, -0.2, 1e-9); /* [soc]'s */
	CHECK_NEAR(a->current_gain_error, 0.02, 1e-9);
	CHECK_NEAR(a->current_offset_error, 0.05, 1e-9);
	CHECK_NEAR(b->current_gain_error, 0.005, 1e-9); /* its own */
	CHECK_NEAR(b->current_offset_error, 0.05, 1e-9);
	CHECK_EQ_INT(b->chemistry, CONF_CHEM_NMC);
	CHECK_NEAR(b->full_cell_voltage, 4.15, 1e-9); /* its own chemistry's */
	CHECK_NEAR(b->charge_efficiency, 0.98, 1e-9);
	CHECK_EQ_INT(b->source, CONF_SOC_SRC_COUNTED);
	CHECK_EQ_INT(a->source, CONF_SOC_SRC_BMS);
	CHECK_NEAR(b->save_interval, 300, 1e-9);
	CHECK_EQ_INT(b->line, c.soc.line);
	/* [soc] after the packs: the same */
	CHECK_EQ_INT(load("[soc]\nempty_cell_voltage = 2.8\n"), 0);
	CHECK_NEAR(c.packs[0].soc.empty_cell_voltage, 2.8, 1e-9);
	/* a [soc] full voltage given applies to a pack of another chemistry too */
	CHECK_EQ_INT(load("[soc]\nfull_cell_voltage = 3.50\n[pack.c]\nprotocol = jbd\nport = /dev/ttyUSB1\n"
			  "chemistry = nmc\n"), 0);
	CHECK_NEAR(c.packs[2].soc.full_cell_voltage, 3.50, 1e-9);
	CHECK_NEAR(c.packs[2].soc.empty_cell_voltage, 3.00, 1e-9);
	/* what the file wrote, shown in /api/config: a pack's capacity of the BMS is empty */
	char t[64];
	CHECK_EQ_INT(load(""), 0);
	conf_key_text(conf_key_find(&conf_sect_pack, "capacity"), &c.packs[0], t, sizeof(t));
	CHECK_STR(t, "");
}

static void test_errors(void)
{
	expect_error("[soc]\nempty_cell_voltage = 3.5\n",
		     "t.ini:10: [soc] empty_cell_voltage: empty_cell_voltage 3.5 is not below full_cell_voltage 3.45 "
		     "(expected empty_cell_voltage < full_cell_voltage; the other one is the default");
	expect_error("[soc]\nfull_cell_voltage = 2.8\n", "t.ini:10: [soc] full_cell_voltage: empty_cell_voltage 2.9");
	expect_error("[soc]\nfull_cell_voltage = 3.0\nempty_cell_voltage = 3.1\n",
		     "t.ini:11: [soc] empty_cell_voltage: empty_cell_voltage 3.1 is not below full_cell_voltage 3 "
		     "(expected empty_cell_voltage < full_cell_voltage)");
	static char text[4096];
	snprintf(text, sizeof(text), "%s[pack.c]\nprotocol = jbd\nport = /dev/ttyUSB1\nempty_cell_voltage = 3.6\n",
		 two_packs);
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "t.ini:12: [pack.c] empty_cell_voltage: empty_cell_voltage 3.6 is not below") != NULL);
	expect_error("[soc]\nknee_cell_voltage = 3.5\n",
		     "t.ini:10: [soc] knee_cell_voltage: knee_cell_voltage 3.5 is not below full_cell_voltage 3.45 "
		     "(expected knee_cell_voltage < full_cell_voltage; the other one is the default");
	expect_error("[soc]\nknee_soc = 60\n", "t.ini:10: [soc] knee_soc: 60 is out of range");
	expect_error("[soc]\ncapacity = 0\n", "t.ini:10: [soc] capacity: 0 is out of range (expected ampere-hours > 0 "
		     "and <= 100000)");
	expect_error("[soc]\ntail_current = 2\n", "t.ini:10: [soc] tail_current: 2 is out of range (expected C (the "
		     "capacity's share an hour");
	expect_error("[soc]\nsource = shunt\n", "t.ini:10: [soc] source: \"shunt\" is not valid (expected one of bms, "
		     "counted)");
	expect_error("[soc]\ncharge_efficiency = 1.2\n", "[soc] charge_efficiency: 1.2 is out of range");
	expect_error("[soc]\nrest_time = 0\n", "[soc] rest_time: 0 is out of range");
	expect_error("[soc]\ncurrent_gain_error = 0.6\n", "[soc] current_gain_error: 0.6 is out of range");
	expect_error("[soc]\ncurrent_offset_error = -1\n", "[soc] current_offset_error: -1 is out of range");
	expect_error("[soc]\ncount = maybe\n", "[soc] count: \"maybe\" is not a boolean");
	expect_error("[soc]\ncolour = red\n", "t.ini:10: [soc] colour: unknown key");
	/* save_interval is [soc]'s alone: the state file is one */
	snprintf(text, sizeof(text), "%ssave_interval = 60\n", two_packs);
	CHECK_EQ_INT(conf_load_string(text, "t.ini", &c, err, sizeof(err)), -1);
	CHECK(strstr(err, "t.ini:9: [pack.b] save_interval: unknown key") != NULL);
}

static char warned[CONF_ERR_MAX];
static void keep(void *arg, const char *text)
{
	(void)arg;
	snprintf(warned, sizeof(warned), "%s", text);
}

static void test_reload_and_warning(void)
{
	/* every key live: the estimator reads them at each step */
	int n = 0;
	for (int k = 0; k < conf_sect_soc.nkeys; k++, n++)
		CHECK_EQ_INT(conf_sect_soc.keys[k].reload, CONF_LIVE);
	CHECK_EQ_INT(n, 21);
	struct conf a;
	CHECK_EQ_INT(load("[soc]\ncapacity = 300\n"), 0);
	a = c;
	CHECK_EQ_INT(load("[soc]\ncapacity = 290\n"), 0);
	CHECK(!conf_section_same(&conf_sect_soc, CONF_LIVE, &a.soc, &c.soc));
	CHECK(conf_section_same(&conf_sect_soc, CONF_RESTART, &a.soc, &c.soc));
	CHECK(conf_section_same(&conf_sect_pack, CONF_RESTART, &a.packs[0], &c.packs[0])); /* the pack is kept */
	/* source = counted without a count is said */
	CHECK_EQ_INT(load("[soc]\ncount = false\nsource = counted\n"), 0);
	warned[0] = '\0';
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 1);
	CHECK(strstr(warned, "t.ini:9: [soc]: source = counted, but count = false") != NULL);
	CHECK_EQ_INT(load("[soc]\nsource = counted\n"), 0);
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 0);
	/* a pack of the bank without a capacity to weigh its SOC by (vedirect
	 * gives none; a Daly its remaining Ah) is said, until capacity is set */
	CHECK_EQ_INT(load("[bank]\n[pack.v]\nprotocol = vedirect\nport = /dev/ttyUSB1\n"), 0);
	warned[0] = '\0';
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 1);
	CHECK(strstr(warned, "t.ini:10: [pack.v]: protocol vedirect gives no capacity and capacity is not set: the pack "
			     "is left out of the bank's SOC") != NULL);
	CHECK_EQ_INT(load("[bank]\n[pack.v]\nprotocol = vedirect\nport = /dev/ttyUSB1\ncapacity = 200\n"), 0);
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 0);
	CHECK_EQ_INT(load("[pack.v]\nprotocol = vedirect\nport = /dev/ttyUSB1\n"), 0); /* no bank */
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 0);
	/* a pack's chemistry other than [limits]': its limits fail-safe, said
	 * (issue 62: lto cells under lfp's cell table) */
	CHECK_EQ_INT(load("[limits]\n[pack.c]\nprotocol = jbd\nport = /dev/ttyUSB1\nchemistry = lto\n"), 0);
	warned[0] = '\0';
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 1);
	CHECK(strstr(warned, "t.ini:10: [pack.c]: chemistry lto, but [limits] chemistry is lfp: its limits are "
			     "fail-safe (reason chemistry) rather than lfp's cell rules for lto cells; set chemistry = "
			     "lto in [limits]") != NULL);
	CHECK_EQ_INT(load("[soc]\nchemistry = nmc\n[limits]\n"), 0); /* [soc]'s: every pack's */
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 2);
	CHECK_EQ_INT(load("[limits]\nchemistry = lto\n[pack.c]\nprotocol = jbd\nport = /dev/ttyUSB1\n"
			  "chemistry = lto\n"), 0);
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 0); /* a and b follow [limits]' through [soc]'s */
	CHECK_EQ_INT(load("[pack.c]\nprotocol = jbd\nport = /dev/ttyUSB1\nchemistry = lto\n"), 0); /* no [limits] */
	CHECK_EQ_INT(conf_warnings(&c, keep, NULL), 0);
}

static void test_summary(void)
{
	CHECK_EQ_INT(load("[soc]\ncapacity = 300\n[limits]\n[pack.c]\nprotocol = jbd\nport = /dev/ttyUSB1\n"
			  "capacity = 100\nsource = counted\n"), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	CHECK(m != NULL);
	if (!m)
		return;
	conf_print_summary(&c, m);
	fclose(m);
	CHECK(strstr(buf, "soc (bmsgw's own count of the charge, every pack and the bank; chemistry lfp)") != NULL);
	CHECK(strstr(buf, "  count         on; the SOC carried: the BMS's (source = bms)") != NULL);
	CHECK(strstr(buf, "  capacity      300 Ah (the BMS's full capacity where it is smaller); measured between full and empty (or rest) points") != NULL);
	CHECK(strstr(buf, "  uncertainty   the sensor within 2 % and 0.3 A (the counted SOC's band)\n") != NULL);
	CHECK(strstr(buf, "  full point    highest cell >= 3.45 V, charge current <= 0.04 C, for 180 s") != NULL);
	CHECK(strstr(buf, "  empty point   lowest cell <= 2.9 V, discharging at most 0.2 C, for 60 s") != NULL);
	CHECK(strstr(buf, "  knee point    lowest cell <= 3.1 V, discharging at most 0.2 C, for 60 s: down to 5 %\n") !=
	      NULL);
	CHECK(strstr(buf, "  rest point    under 0.01 C for 1800 s, where the open-circuit curve is steep (lfp: at "
		     "or under 3.20 V or at or over 3.40 V a cell), 10..40 degC") != NULL);
	CHECK(strstr(buf, "  pack c: source counted, capacity 100\n") != NULL);
	CHECK(strstr(buf, "  pack a:") == NULL); /* it takes [soc]'s */
	free(buf);
}

int main(void)
{
	test_defaults();
	test_chemistry();
	test_packs();
	test_errors();
	test_reload_and_warning();
	test_summary();
	return check_report();
}
