/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_health.c - [health]: the section turns the
 * estimators on, ir_min_step's default and range; what the estimators of a
 * pack are given (the step from [soc] capacity or the BMS's full capacity,
 * the knees of each chemistry, the rest); the local day; the state file's
 * records of a pack's health written and read back (model/health_gw.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../conf/section.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/model/health_gw.h"
#include "../../gateway/model/statefile.h"
#include "check.h"

static struct conf c;
static char err[1024];

static int load(const char *tail)
{
	static char text[4096];
	snprintf(text, sizeof(text), "[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\n%s", tail);
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

static void test_conf(void)
{
	CHECK_EQ_INT(load(""), 0);
	CHECK(!c.health.enabled);
	CHECK_EQ_INT(load("[health]\n"), 0);
	CHECK(c.health.enabled);
	CHECK(fabs(c.health.ir_min_step - 0.1) < 1e-9);
	CHECK_EQ_INT(c.health.line, 4);
	CHECK_EQ_INT(load("[health]\nir_min_step = 0.5\n"), 0);
	CHECK(fabs(c.health.ir_min_step - 0.5) < 1e-9);
	expect_error("[health]\nir_min_step = 0\n", "ir_min_step");
	expect_error("[health]\nir_min_step = 3\n", "ir_min_step");
	expect_error("[health]\nir_min_step = fast\n", "ir_min_step");
	expect_error("[health]\nwindow = 32\n", "window");
	CHECK(conf_section_same(&conf_sect_health, CONF_RESTART, &c.health, &c.health));
	/* --check's summary */
	CHECK_EQ_INT(load("[soc]\ncapacity = 280\n[health]\n"), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	conf_print_summary(&c, o);
	fclose(o);
	CHECK(strstr(buf, "health (resistance, weak cell, imbalance of every pack)") != NULL);
	CHECK(strstr(buf, "0.1 C of each pack's rated capacity") != NULL);
	CHECK(strstr(buf, "  a             28.0 A") != NULL);
	free(buf);
}

static void test_params(void)
{
	struct conf_health h = { .enabled = true, .ir_min_step = 0.1 };
	struct conf_soc soc;
	conf_soc_defaults(&soc, CONF_CHEM_LFP);
	soc.capacity = 280;
	struct bms_snapshot s = { .present = BMS_HAS_FULL, .full_ah = 100 };
	struct gw_health_params p;
	gw_health_params_for(&h, &soc, &s, &p);
	CHECK(fabs(p.min_step_a - 28) < 1e-9);    /* 0.1 C of [soc] capacity */
	CHECK(fabs(p.rest_a - 2.8) < 1e-9);
	CHECK(fabs(p.rest_s - 1800) < 1e-9);
	CHECK(fabs(p.max_gap_s - 2) < 1e-9);
	CHECK(fabs(p.capacity_ah - 280) < 1e-9);
	CHECK_EQ_INT(p.knee_high_mv, 3450);
	CHECK_EQ_INT(p.knee_low_mv, 3000);
	soc.capacity = -1;                          /* the BMS's full capacity */
	gw_health_params_for(&h, &soc, &s, &p);
	CHECK(fabs(p.min_step_a - 10) < 1e-9);
	s.present = 0;                              /* neither: no resistance */
	gw_health_params_for(&h, &soc, &s, &p);
	CHECK(p.min_step_a == 0 && p.capacity_ah == 0);
	uint16_t hi, lo;
	gw_health_knees(CONF_CHEM_NMC, &hi, &lo);
	CHECK(hi == 4100 && lo == 3100);
	gw_health_knees(CONF_CHEM_LTO, &hi, &lo);
	CHECK(hi == 2600 && lo == 2000);
	setenv("TZ", "UTC0", 1);
	tzset();
	CHECK_EQ_INT(gw_health_day(86400.0 * 20418 + 3600), 20418);
	setenv("TZ", "NZDT-13", 1);                 /* UTC+13: already the next day */
	tzset();
	CHECK_EQ_INT(gw_health_day(86400.0 * 20418 + 12 * 3600), 20419);
}

/* Each record of p written and read into q. */
static void round_trip(const struct gw_state_record *r, struct gw_pack *p, struct gw_pack *q)
{
	static char line[GW_STATE_LINE_MAX];
	CHECK(r->save(NULL, p, line, sizeof(line)));
	r->load(NULL, q, line);
}

static void test_records(void)
{
	static struct gw_pack p, q;
	gw_health_init(&p.health_est);
	gw_health_init(&q.health_est);
	for (int k = 0; k < 40; k++) {             /* wraps the window */
		gw_ir_add(&p.health_est.pack, 17.5f + (float)(k % 3) * 0.1f);
		for (int cell = 0; cell < 32; cell++)
			gw_ir_add(&p.health_est.cell[cell], 1.0f + cell * 0.125f + (float)(k % 5) * 0.001f);
	}
	gw_ir_add(&p.health_est.pack, -1);              /* rejected */
	p.health_est.knees = 7;
	p.health_est.knees_high[8] = 3, p.health_est.knees_low[8] = 2;
	p.health_est.lead_high_ah[8] = 4.5f, p.health_est.leads_high[8] = 2;
	p.health_est.lead_low_ah[8] = 5.25f, p.health_est.leads_low[8] = 1;
	p.health_est.days[20418 % GW_HEALTH_DAYS] = (struct gw_health_day){ 20418, 12, 3, 17.5f };
	p.health_est.days[20419 % GW_HEALTH_DAYS] = (struct gw_health_day){ 20419, 14, 0, 17.6f };
	round_trip(&gw_health_ir_record, &p, &q);
	round_trip(&gw_health_knee_record, &p, &q);
	round_trip(&gw_health_day_record, &p, &q);
	CHECK_EQ_INT(q.health_est.pack.samples, 40);
	CHECK_EQ_INT(q.health_est.pack.rejected, 1);
	float a, b;
	CHECK(gw_ir_value(&p.health_est.pack, &a) && gw_ir_value(&q.health_est.pack, &b) && fabsf(a - b) < 1e-3f);
	for (int cell = 0; cell < 32; cell++)
		CHECK(gw_ir_value(&p.health_est.cell[cell], &a) && gw_ir_value(&q.health_est.cell[cell], &b) &&
		      fabsf(a - b) < 1e-3f && q.health_est.cell[cell].n == GW_IR_WINDOW);
	CHECK_EQ_INT(q.health_est.knees, 7);
	CHECK(q.health_est.knees_high[8] == 3 && q.health_est.knees_low[8] == 2 && q.health_est.leads_high[8] == 2 &&
	      q.health_est.leads_low[8] == 1 && fabsf(q.health_est.lead_high_ah[8] - 4.5f) < 1e-4f &&
	      fabsf(q.health_est.lead_low_ah[8] - 5.25f) < 1e-4f);
	const struct gw_health_day *d = &q.health_est.days[20419 % GW_HEALTH_DAYS];
	CHECK(d->day == 20419 && d->spread_full_mv == 14 && d->spread_rest_mv == 0 && fabsf(d->ir_mohm - 17.6f) < 1e-3f);
	/* nonsense is passed over: the figures stay */
	gw_health_ir_record.load(NULL, &q, "p:x:1:2 99:1:0:1 3:5:0:1,abc");
	gw_health_knee_record.load(NULL, &q, "nine 1:2");
	gw_health_day_record.load(NULL, &q, "-5:1:1:1 20420:70000:0:1");
	CHECK_EQ_INT(q.health_est.pack.samples, 40);
	CHECK_EQ_INT(q.health_est.knees, 7);
	CHECK_EQ_INT(q.health_est.days[20420 % GW_HEALTH_DAYS].day, 0);
	/* a cut knee under the record's resolution (0.0001 Ah) is none: the
	 * line read is written again the same (found by fuzz_health_state) */
	static struct gw_pack t, u;
	static char l1[GW_STATE_LINE_MAX], l2[GW_STATE_LINE_MAX];
	gw_health_init(&t.health_est);
	gw_health_init(&u.health_est);
	gw_health_knee_record.load(NULL, &t, "70 9:0:0:0:0:0:0:0:0.00002 10:0:0:0:0:0:0:0.00012:0");
	CHECK(t.health_est.knees == 70 && t.health_est.cut_low_ah[8] == 0 &&
	      fabsf(t.health_est.cut_high_ah[9] - 0.0001f) < 1e-6f);
	CHECK(gw_health_knee_record.save(NULL, &t, l1, sizeof(l1)));
	CHECK_STR(l1, "70/0/0 10:0:0:0.0000:0:0.0000:0:0.0001:0.0000");
	gw_health_knee_record.load(NULL, &u, l1);
	CHECK(gw_health_knee_record.save(NULL, &u, l2, sizeof(l2)) && strcmp(l1, l2) == 0);
	/* the longest line: every window full of samples of the most digits */
	static struct gw_pack w;
	gw_health_init(&w.health_est);
	for (int k = 0; k < GW_IR_WINDOW; k++) {
		gw_ir_add(&w.health_est.pack, 0.0001234f);
		for (int cell = 0; cell < BMS_MAX_CELLS; cell++)
			gw_ir_add(&w.health_est.cell[cell], 0.0001234f);
	}
	w.health_est.pack.samples = w.health_est.pack.rejected = UINT32_MAX;
	static char longest[GW_STATE_LINE_MAX];
	CHECK(gw_health_ir_record.save(NULL, &w, longest, sizeof(longest)));
	CHECK(strlen(longest) < 75000); /* 193 windows (bms.h: BMS_MAX_CELLS 192 and the pack) */
	/* nothing to keep: no line */
	static struct gw_pack e;
	static char line[GW_STATE_LINE_MAX];
	gw_health_init(&e.health_est);
	CHECK(!gw_health_ir_record.save(NULL, &e, line, sizeof(line)));
	CHECK(!gw_health_knee_record.save(NULL, &e, line, sizeof(line)));
	CHECK(!gw_health_day_record.save(NULL, &e, line, sizeof(line)));
}

int main(void)
{
	test_conf();
	test_params();
	test_records();
	return check_report();
}
