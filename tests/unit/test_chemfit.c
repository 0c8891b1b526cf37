/* SPDX-License-Identifier: MIT */
/* tests/unit/test_chemfit.c - whether a pack's cells fit its chemistry
 * (conf/chem.c, the rule on one reading; gateway/engine/chemfit.c, the
 * judgement over polls on a fake clock): issue 62's real 22S LTO pack read
 * by ant (tests/fixtures ANT-03: 2.190-2.338 V while its BMS says 10 % of
 * 80 Ah) is not lfp and points to lto; a real 14S NMC pack (ANT-07, 4.113
 * V a cell) is not lfp and points to nmc; a real LFP pack (ANT-01) fits
 * lfp; an LFP pack over-discharged to 2.3 V whose BMS says 0 %, and one
 * charged into its protection (the highest cell at 3.9 V), are still lfp.
 * The captures are decoded by the ant driver through --detect's probe
 * judge (bms/base/probe.c), which keeps the cells and SOC --detect proposes
 * `chemistry =` from.
 */
#include <math.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"
#include "../../conf/chem.h"
#include "../../gateway/engine/chemfit.h"
#include "check.h"

/* tests/fixtures/vectors.tsv */
static const char *const ant_03 =
	"7ea11100009e050404160000000000000000000088010000000000000000000000001e091b091e091d091d091e092009"
	"1e098f088e0890082209eb08200920091f091e091f091e091f0921091f091d001d001d001d001e001e00e01315000a00"
	"64000101000000b4c40486f197003aede8006a000000a1f2c0030000000022090c008e080a009400080900006d006a00"
	"af02f3fa4c74e5002866ec00c35d6200ccb39200edc8aa55";
static const char *const ant_07 =
	"7ea11100008e0501040e0200000000000000000000010000000000000000000000001110111011101110111011101110"
	"11101110111011101110111011101c001c00d8ff1c001c001c007e160000600064000102000080c3c9014f55b3010853"
	"0000000000006b28120000000000111001001110010000001110020070000300ac02f1fa7d2e000094770000de070000"
	"7776000035e2aa55";

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; h[0] && h[1] && n < cap; h += 2) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* A capture judged as --detect judges its probe's answer. */
static struct bms_probe_result judged(const char *hex)
{
	uint8_t buf[512];
	size_t n = unhex(hex, buf, sizeof(buf));
	struct bms_poll poll;
	struct bms_probe_result r;
	bms_probe_begin(&bms_ant_driver, &poll, bms_probe_address(&bms_ant_driver), 0);
	bms_probe_judge(&bms_ant_driver, &poll, buf, n, &r);
	return r;
}

static void test_captures(void)
{
	struct bms_probe_result r = judged(ant_03);
	CHECK_EQ_INT(r.verdict, BMS_PROBE_MATCH);
	CHECK(r.has_cells && r.has_soc);
	CHECK_NEAR(r.cell_min_v, 2.190, 1e-6);
	CHECK_NEAR(r.cell_max_v, 2.338, 1e-6);
	CHECK_NEAR(r.soc, 10, 1e-6);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_BELOW);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_NMC, r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_BELOW);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LTO, r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_INSIDE);
	CHECK_EQ_INT(conf_chem_pointed(r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_LTO);
	/* without the BMS's SOC the same cells are an empty LFP pack's too */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, r.cell_min_v, r.cell_max_v, NAN), CONF_CHEM_INSIDE);

	r = judged(ant_07); /* 14S NMC at 96 % */
	CHECK_EQ_INT(r.verdict, BMS_PROBE_MATCH);
	CHECK_NEAR(r.cell_min_v, 4.113, 1e-6);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_ABOVE);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LTO, r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_ABOVE);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_NMC, r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_INSIDE);
	CHECK_EQ_INT(conf_chem_pointed(r.cell_min_v, r.cell_max_v, r.soc), CONF_CHEM_NMC);
}

static void test_rule(void)
{
	double lo, hi;
	conf_chem_range(CONF_CHEM_LFP, &lo, &hi);
	CHECK_NEAR(lo, 2.5, 1e-12);
	CHECK_NEAR(hi, 3.65, 1e-12);
	CHECK_STR(conf_chem_name(CONF_CHEM_LTO), "lto");
	CHECK_STR(conf_chem_name((enum conf_chemistry)7), "?");
	/* a real LFP pack (ANT-01: 3.300-3.305 V at 91 %) fits lfp; lfp and nmc alike: none pointed to */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 3.300, 3.305, 91), CONF_CHEM_INSIDE);
	CHECK_EQ_INT(conf_chem_pointed(3.300, 3.305, 91), -1);
	/* LFP over-discharged (2.3 V), its BMS counted it out: still lfp */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 2.28, 2.31, 0), CONF_CHEM_INSIDE);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 2.28, 2.31, 4.9), CONF_CHEM_INSIDE);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 2.28, 2.31, 5), CONF_CHEM_BELOW);
	/* one cell of them over 2.4 V: not every cell under the range by 0.10 V */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 2.28, 2.41, 50), CONF_CHEM_INSIDE);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 2.28, 2.399, 50), CONF_CHEM_BELOW);
	/* an LFP pack at 2.45 V a cell: within the margin, whatever its BMS says */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 2.45, 2.45, 60), CONF_CHEM_INSIDE);
	/* LFP charged into its protection: the highest cell over, not the lowest */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 3.55, 3.95, 100), CONF_CHEM_INSIDE);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 3.75, 3.95, 100), CONF_CHEM_INSIDE); /* at the margin */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 3.751, 3.95, 100), CONF_CHEM_ABOVE);
	/* LFP cells under lto: over its 2.8 V + 0.1 */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LTO, 3.28, 3.31, 60), CONF_CHEM_ABOVE);
	CHECK_EQ_INT(conf_chem_pointed(3.28, 3.31, 60), -1); /* lfp or nmc */
	/* NMC near full: only nmc */
	CHECK_EQ_INT(conf_chem_pointed(3.95, 4.05, 80), CONF_CHEM_NMC);
	/* no cells, or nonsense */
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, NAN, NAN, 50), CONF_CHEM_UNKNOWN);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 0, 3.3, 50), CONF_CHEM_UNKNOWN);
	CHECK_EQ_INT(conf_chem_side(CONF_CHEM_LFP, 3.4, 3.3, 50), CONF_CHEM_UNKNOWN);
	CHECK_EQ_INT(conf_chem_pointed(NAN, NAN, NAN), -1);
}

/* The LTO pack under lfp, a poll a second: in doubt from the first poll
 * (its voltage points, its limits), the error after 30 s and 3 polls,
 * said once; an inside reading does not end it, 30 s inside do; a change
 * of chemistry ends it at once. */
static void test_over_polls(void)
{
	struct gw_chemfit f = { 0 };
	CHECK(!gw_chemfit_doubt(&f));
	CHECK(gw_chemfit_state_name(&f) == NULL);
	char text[192];
	unsigned ev = 0, wrong_at = 0, events = 0;
	for (unsigned t = 0; t <= 40; t++) {
		ev = gw_chemfit_step(&f, CONF_CHEM_LFP, 2.190, 2.338, 10, 100 + t);
		CHECK(gw_chemfit_doubt(&f));
		if (ev & GW_CHEM_EV_WRONG)
			wrong_at = t;
		events += ev != 0;
	}
	CHECK_EQ_INT(wrong_at, 30);
	CHECK_EQ_INT(events, 1);
	CHECK_STR(gw_chemfit_state_name(&f), "wrong");
	gw_chemfit_text(&f, text, sizeof(text));
	CHECK_STR(text, "its cells read 2.190-2.338 V, under lfp's 2.50-3.65 V while the BMS says 10 % SOC: not lfp "
			"cells; they fit lto (chemistry = lto)");
	CHECK_EQ_INT(gw_chemfit_pointed(&f), CONF_CHEM_LTO);
	/* one reading inside: still the error */
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LFP, 3.30, 3.31, 60, 141), 0);
	CHECK_STR(gw_chemfit_state_name(&f), "wrong");
	CHECK(gw_chemfit_doubt(&f));
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LFP, 2.19, 2.33, 10, 142), 0); /* outside again: from the start */
	events = 0;
	unsigned fits_at = 0;
	for (unsigned t = 143; t <= 200; t++) {
		ev = gw_chemfit_step(&f, CONF_CHEM_LFP, 3.30, 3.31, 60, t);
		if (ev & GW_CHEM_EV_FITS)
			fits_at = t;
		events += ev != 0;
	}
	CHECK_EQ_INT(fits_at, 173);
	CHECK_EQ_INT(events, 1);
	CHECK(!gw_chemfit_doubt(&f));
	CHECK_EQ_INT(gw_chemfit_pointed(&f), -1);
	gw_chemfit_text(&f, text, sizeof(text));
	CHECK_STR(text, "");

	/* 30 s of polls every 20 s: the three polls make it */
	f = (struct gw_chemfit){ 0 };
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LFP, 2.19, 2.33, 10, 0), 0);
	CHECK_STR(gw_chemfit_state_name(&f), "outside");
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LFP, 2.19, 2.33, 10, 40), 0);
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LFP, 2.19, 2.33, 10, 60), GW_CHEM_EV_WRONG);
	/* a poll without cells changes nothing */
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LFP, NAN, NAN, 10, 61), 0);
	CHECK_STR(gw_chemfit_state_name(&f), "wrong");
	/* the chemistry set to lto (a reload): the error ends at once, and lto fits */
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LTO, 2.19, 2.33, 10, 62), GW_CHEM_EV_CHANGED);
	CHECK_STR(gw_chemfit_state_name(&f), "fits");
	CHECK(!gw_chemfit_doubt(&f));

	/* a single reading outside between readings inside: doubt for that poll only */
	f = (struct gw_chemfit){ 0 };
	gw_chemfit_step(&f, CONF_CHEM_LFP, 3.30, 3.31, 60, 0);
	CHECK_STR(gw_chemfit_state_name(&f), "fits");
	gw_chemfit_step(&f, CONF_CHEM_LFP, 2.30, 2.35, 60, 1); /* a deep sag under a surge */
	CHECK(gw_chemfit_doubt(&f));
	gw_chemfit_text(&f, text, sizeof(text));
	CHECK_STR(text, "its cells read 2.300-2.350 V, under lfp's 2.50-3.65 V while the BMS says 60 % SOC: not lfp "
			"cells; they fit lto (chemistry = lto)");
	CHECK_EQ_INT(gw_chemfit_step(&f, CONF_CHEM_LFP, 3.30, 3.31, 60, 2), 0);
	CHECK(!gw_chemfit_doubt(&f));
	/* over the range: no chemistry that fits named where none does */
	f = (struct gw_chemfit){ 0 };
	gw_chemfit_step(&f, CONF_CHEM_LTO, 3.30, 4.40, 60, 0);
	gw_chemfit_text(&f, text, sizeof(text));
	CHECK_STR(text, "its cells read 3.300-4.400 V, over lto's 1.50-2.80 V: not lto cells; no chemistry bmsgw knows "
			"fits them");
}

int main(void)
{
	test_captures();
	test_rule();
	test_over_polls();
	return check_report();
}
