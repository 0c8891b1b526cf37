/* SPDX-License-Identifier: MIT */
/* tests/unit/test_strings.c - packs in series (gateway/engine/bank_strings.c,
 * gw_string_aggregate; string_limits.c, gw_limits_string): one test per rule
 * of bank_strings.h, and the bank's limits over strings (gw_limits_bank with the
 * strings as its members: two strings of two are two current paths, not
 * four). */
#include <math.h>
#include <string.h>

#include "../../gateway/model/gw.h"
#include "../../gateway/engine/bank_strings.h"
#include "check.h"

/* A 16-cell pack: voltage from its cells, current, SOC, capacity, 2 sensors. */
static struct bms_snapshot pack(uint16_t cell_mv, float a, float soc, float full)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_FULL | BMS_HAS_REMAIN |
		    BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	s.ncells = 16;
	for (int i = 0; i < 16; i++)
		s.cell_mv[i] = cell_mv;
	s.voltage = 16 * cell_mv / 1000.0f;
	s.current = a;
	s.soc = soc;
	s.full_ah = full;
	s.remain_ah = full * soc / 100;
	s.ntemps = 2;
	s.temp_c[0] = 20;
	s.temp_c[1] = 25;
	s.chg_mos = s.dsg_mos = true;
	bms_snapshot_derive(&s);
	return s;
}

static void test_sum_common_current_weakest(void)
{
	struct bms_snapshot a = pack(3300, 10, 60, 100), b = pack(3310, 10.4f, 40, 100), c = pack(3320, 9.8f, 80, 90);
	const struct bms_snapshot *f[] = { &a, &b, &c };
	struct gw_string_state o;
	gw_string_aggregate(f, 3, false, 2.0, 0.1, &o);
	CHECK(o.fresh);
	CHECK_EQ_INT(o.fresh_members, 3);
	CHECK_NEAR(o.snap.voltage, 16 * (3.300 + 3.310 + 3.320), 1e-3); /* the sum */
	CHECK_NEAR(o.snap.current, (10 + 10.4 + 9.8) / 3, 1e-4);        /* the mean */
	CHECK(!o.current_flag);                                         /* within 2 A */
	CHECK_NEAR(o.current_deviation, 0.4, 1e-4);                     /* from their median, 10 A */
	CHECK_NEAR(o.snap.soc, 40, 1e-4);                               /* the weakest member */
	CHECK_EQ_INT(o.weakest, 2);
	CHECK_NEAR(o.snap.remain_ah, 40, 1e-4);                         /* its remaining Ah */
	CHECK_NEAR(o.snap.full_ah, 90, 1e-4);                           /* the smallest capacity */
	CHECK_NEAR(o.soc_spread, 40, 1e-4);
	CHECK(o.snap.state == 1);                                       /* charging */
}

static void test_cells_across_the_string(void)
{
	struct bms_snapshot a = pack(3300, 5, 50, 100), b = pack(3310, 5, 50, 100);
	a.cell_mv[3] = 3250;  /* member 1 cell 4: the string's cell 4 */
	b.cell_mv[10] = 3450; /* member 2 cell 11: the string's cell 27 */
	b.temp_c[1] = 41;
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_string_state o;
	gw_string_aggregate(f, 2, false, 2.0, 0.1, &o);
	CHECK_EQ_INT(o.cells, 32);
	CHECK_EQ_INT(o.cell_min_mv, 3250);
	CHECK_EQ_INT(o.cell_min_at.member, 1);
	CHECK_EQ_INT(o.cell_min_at.index, 4);
	CHECK_EQ_INT(o.cell_min_at.string_index, 4);
	CHECK_EQ_INT(o.cell_max_mv, 3450);
	CHECK_EQ_INT(o.cell_max_at.member, 2);
	CHECK_EQ_INT(o.cell_max_at.index, 11);
	CHECK_EQ_INT(o.cell_max_at.string_index, 27);
	CHECK_NEAR(o.tmax_c, 41, 1e-4);
	CHECK_EQ_INT(o.tmax_at.member, 2);
	CHECK_EQ_INT(o.tmax_at.index, 2);
	CHECK_EQ_INT(o.snap.ntemps, 4); /* every member's sensors in member order */
	CHECK_NEAR(o.snap.temp_c[1], 25, 1e-4);
	CHECK_NEAR(o.snap.temp_c[3], 41, 1e-4);
}

/* A member whose BMS sends no cell list: its own highest and lowest cell
 * count in the string's (its numbers in the member, none in the string),
 * and the string's count and mean are no longer known. */
static void test_member_extremes(void)
{
	struct bms_snapshot a = pack(3300, 5, 50, 100), b = pack(3310, 5, 50, 100);
	a.cell_mv[3] = 3280;
	b.present &= ~(uint32_t)BMS_HAS_CELLS;
	b.ncells = 0;
	bms_set_cell_ext(&b, 3460, 11, 3290, 0);
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_string_state o;
	gw_string_aggregate(f, 2, false, 2.0, 0.1, &o);
	CHECK(o.cell_ext);
	CHECK_EQ_INT(o.cell_min_mv, 3280);
	CHECK_EQ_INT(o.cell_min_at.member, 1);
	CHECK_EQ_INT(o.cell_min_at.string_index, 4);
	CHECK_EQ_INT(o.cell_max_mv, 3460);
	CHECK_EQ_INT(o.cell_max_at.member, 2);
	CHECK_EQ_INT(o.cell_max_at.index, 11);
	CHECK_EQ_INT(o.cell_max_at.string_index, 0); /* its place in the string is not known */
	CHECK_EQ_INT(o.cell_avg_mv, 0);
	/* the lowest is the extremes' member's: no number there */
	bms_set_cell_ext(&b, 3460, 11, 3200, 0);
	gw_string_aggregate(f, 2, false, 2.0, 0.1, &o);
	CHECK_EQ_INT(o.cell_min_mv, 3200);
	CHECK_EQ_INT(o.cell_min_at.member, 2);
	CHECK_EQ_INT(o.cell_min_at.index, 0);
	/* both with lists: a mean, no extremes flag */
	struct bms_snapshot c = pack(3310, 5, 50, 100);
	const struct bms_snapshot *g[] = { &a, &c };
	gw_string_aggregate(g, 2, false, 2.0, 0.1, &o);
	CHECK(!o.cell_ext);
	CHECK(o.cell_avg_mv > 0);
}

/* A broken series link: one member's current departs from the others'. */
static void test_current_deviation(void)
{
	struct bms_snapshot a = pack(3300, 10, 50, 100), b = pack(3300, 10, 50, 100), c = pack(3300, 0, 50, 100);
	const struct bms_snapshot *f[] = { &a, &b, &c };
	struct gw_string_state o;
	gw_string_aggregate(f, 3, false, 2.0, 0.1, &o);
	CHECK(o.current_flag);
	CHECK_EQ_INT(o.deviation_mask, 4); /* against the median (10 A): only member 3, by 10 A */
	CHECK_NEAR(o.current_deviation, 10, 1e-4);
	CHECK_NEAR(o.snap.current, 20.0 / 3, 1e-4); /* the string's current stays the mean */
	gw_string_aggregate(f, 3, false, 11.0, 0.1, &o);
	CHECK(!o.current_flag);
	/* one bypassed member among four is the one named */
	struct bms_snapshot d = pack(3300, 10, 50, 100);
	c.current = 30;
	const struct bms_snapshot *g[] = { &a, &b, &c, &d };
	gw_string_aggregate(g, 4, false, 2.0, 0.1, &o);
	CHECK_EQ_INT(o.deviation_mask, 4);
}

/* A member without a voltage cannot be summed; a member not fresh: no string. */
static void test_member_missing(void)
{
	struct bms_snapshot a = pack(3300, 10, 50, 100), b = pack(3300, 10, 50, 100);
	const struct bms_snapshot *f[] = { &a, NULL };
	struct gw_string_state o;
	gw_string_aggregate(f, 2, true, 2.0, 0.1, &o);
	CHECK(!o.fresh);
	CHECK(o.stale);
	CHECK_EQ_INT(o.fresh_members, 1);
	CHECK_EQ_INT(o.snap.present, 0);
	b.present &= ~(uint32_t)BMS_HAS_VOLTAGE;
	const struct bms_snapshot *g[] = { &a, &b };
	gw_string_aggregate(g, 2, false, 2.0, 0.1, &o);
	CHECK(o.fresh);
	CHECK(!(o.snap.present & BMS_HAS_VOLTAGE));
}

static void test_alarms_and_mosfets(void)
{
	struct bms_snapshot a = pack(3300, 0, 50, 100), b = pack(3300, 0, 50, 100);
	b.alarms = BMS_AL_CELL_OV;
	b.chg_mos = false;
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_string_state o;
	gw_string_aggregate(f, 2, false, 2.0, 0.1, &o);
	CHECK(o.snap.alarms & BMS_AL_CELL_OV);
	CHECK(!o.snap.chg_mos);
	CHECK(o.snap.dsg_mos);
}

static struct gw_limits lim(double cvl, double ccl, double dcl, double dvl, int cells)
{
	struct gw_limits l;
	memset(&l, 0, sizeof(l));
	l.enabled = l.volt_valid = true;
	l.cvl_v = l.bulk_cvl_v = cvl;
	l.ccl_a = ccl;
	l.dcl_a = dcl;
	l.dvl_v = dvl;
	l.charge_allowed = ccl > 0;
	l.discharge_allowed = dcl > 0;
	l.mode = GW_LIM_BULK;
	l.cells = cells;
	return l;
}

static void test_string_limits(void)
{
	struct gw_limits a = lim(55.2, 100, 100, 44.8, 16), b = lim(54.8, 60, 120, 44.8, 16),
			 c = lim(55.2, 100, 80, 44.8, 16);
	b.ccl_reason = GW_LR_CELL_VOLTAGE;
	const struct gw_limits *m[] = { &a, &b, &c };
	struct gw_limits o;
	int bc, bd;
	gw_limits_string(m, 3, true, &o, &bc, &bd);
	CHECK(!o.failsafe);
	CHECK_NEAR(o.cvl_v, 55.2 + 54.8 + 55.2, 1e-9); /* the sum: b's own reduction included */
	CHECK_NEAR(o.dvl_v, 3 * 44.8, 1e-9);
	CHECK_NEAR(o.ccl_a, 60, 1e-9);                 /* the smallest */
	CHECK_EQ_INT(bc, 1);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_CELL_VOLTAGE);
	CHECK_NEAR(o.dcl_a, 80, 1e-9);
	CHECK_EQ_INT(bd, 2);
	CHECK_EQ_INT(o.cells, 48);
	CHECK(o.charge_allowed && o.discharge_allowed);
	CHECK_EQ_INT(o.mode, GW_LIM_BULK);
	/* one member's protection stops the string at once */
	b.ccl_a = 0;
	b.charge_allowed = false;
	b.ccl_reason = GW_LR_ALARM;
	gw_limits_string(m, 3, true, &o, &bc, &bd);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	CHECK(!o.charge_allowed);
	CHECK(o.discharge_allowed);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_ALARM);
	/* a member that forbids a direction with a limit left (a FET off) */
	b = lim(54.8, 60, 120, 44.8, 16);
	b.discharge_allowed = false;
	gw_limits_string(m, 3, true, &o, NULL, NULL);
	CHECK_NEAR(o.dcl_a, 0, 1e-9);
	CHECK(!o.discharge_allowed);
	/* force charge and the full-charge request: any member's */
	b = lim(54.8, 60, 120, 44.8, 16);
	c.full_charge_request = true;
	a.force_charge = true;
	gw_limits_string(m, 3, true, &o, NULL, NULL);
	CHECK(o.full_charge_request && o.force_charge);
}

/* A member not fresh: fail-safe, the last sums kept (never a zero CVL). */
static void test_string_limits_stale(void)
{
	struct gw_limits a = lim(55.2, 100, 100, 44.8, 16), b = lim(55.2, 100, 100, 44.8, 16);
	const struct gw_limits *m[] = { &a, &b };
	struct gw_limits o;
	gw_limits_string(m, 2, false, &o, NULL, NULL);
	CHECK(o.failsafe);
	CHECK_EQ_INT(o.mode, GW_LIM_FAILSAFE);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	CHECK_NEAR(o.dcl_a, 0, 1e-9);
	CHECK(!o.charge_allowed && !o.discharge_allowed);
	CHECK_NEAR(o.cvl_v, 110.4, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_STALE);
	/* a member fresh again whose own limits are still fail-safe */
	b.failsafe = true;
	gw_limits_string(m, 2, true, &o, NULL, NULL);
	CHECK(o.failsafe);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	/* float only once every member absorbed */
	b = lim(55.2, 100, 100, 44.8, 16);
	a.mode = GW_LIM_FLOAT;
	a.absorbed = true;
	gw_limits_string(m, 2, true, &o, NULL, NULL);
	CHECK_EQ_INT(o.mode, GW_LIM_BULK);
	b.mode = GW_LIM_ABSORPTION;
	gw_limits_string(m, 2, true, &o, NULL, NULL);
	CHECK_EQ_INT(o.mode, GW_LIM_ABSORPTION);
	b.mode = GW_LIM_FLOAT;
	b.absorbed = true;
	gw_limits_string(m, 2, true, &o, NULL, NULL);
	CHECK_EQ_INT(o.mode, GW_LIM_FLOAT);
	CHECK(o.absorbed);
}

/* The bank of two strings: the bank rule over strings (two current paths),
 * the lowest string's CVL, a string stale left out of the currents. */
static void test_bank_of_strings(void)
{
	struct conf_limits cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = true;
	cfg.bank_rule = CONF_BANK_MIN;
	cfg.bank_stale = CONF_BANK_STALE_DEGRADE;
	cfg.float_cell_voltage = 3.375;
	struct gw_limits s1 = lim(220.8, 100, 100, 179.2, 64), s2 = lim(219.0, 80, 100, 179.2, 64);
	struct gw_lim_member m[2] = { { &s1, false, { 100, 100, 0 }, 100 }, { &s2, false, { 100, 100, 0 }, 100 } };
	struct gw_lim_bank_in in = { m, 2, true, true, true, 215.0, 0, 50 };
	struct gw_limits o;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK_NEAR(o.cvl_v, 219.0, 1e-9);
	CHECK_NEAR(o.ccl_a, 160, 1e-9); /* 2 strings x the lowest */
	CHECK_NEAR(o.dcl_a, 200, 1e-9);
	m[1].lim = NULL;                 /* string 2 has a member not fresh */
	m[1].stale = true;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK_NEAR(o.ccl_a, 100, 1e-9);  /* one path left */
	CHECK(o.member_stale);
}

/* A bank of one string whose member came back: the string's limits are
 * its member's recovery (0 A, reason stale); the bank is fresh with them,
 * never fail-safe, and follows their rise without a hold of its own; a
 * second string that recovered carries the bank alone. */
static void test_bank_recovering(void)
{
	struct conf_limits cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = true;
	cfg.bank_rule = CONF_BANK_MIN;
	cfg.recovery_hold = 30;
	cfg.recovery_rate = 5;
	struct gw_limits s1 = lim(220.8, 0, 0, 179.2, 64), s2 = lim(220.8, 80, 100, 179.2, 64);
	s1.ccl_reason = s1.dcl_reason = GW_LR_STALE;
	s1.charge_allowed = s1.discharge_allowed = false;
	struct gw_lim_member m[2] = { { &s1, false, { 100, 100, 0 }, 100 }, { &s2, false, { 100, 100, 0 }, 100 } };
	struct gw_lim_bank_in in = { m, 1, true, true, true, 215.0, 0, 50 };
	struct gw_lim_bank_state st;
	struct gw_limits o;
	gw_limits_bank_init(&st);
	/* the bank was fail-safe while the member was away */
	struct gw_lim_member gone = { NULL, true, { 100, 100, 0 }, 0 };
	struct gw_lim_bank_in away = { &gone, 1, true, true, true, 215.0, 0, 50 };
	gw_limits_bank(&cfg, &away, &o, NULL);
	CHECK(o.failsafe);
	gw_limits_bank_follow(&cfg, &st, &away, 100, &o);
	/* back: fresh, 0 A */
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK(!o.failsafe);
	CHECK(o.volt_valid);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_STALE);
	gw_limits_bank_follow(&cfg, &st, &in, 101, &o);
	CHECK(!o.failsafe && o.ccl_a == 0 && !o.charge_allowed);
	/* the member ramps after its hold: the bank follows at once, at most at the rate */
	s1.ccl_a = 5;
	s1.charge_allowed = true;
	gw_limits_bank(&cfg, &in, &o, NULL);
	gw_limits_bank_follow(&cfg, &st, &in, 102, &o);
	CHECK_NEAR(o.ccl_a, 5, 1e-9);
	s1.ccl_a = 40;
	gw_limits_bank(&cfg, &in, &o, NULL);
	gw_limits_bank_follow(&cfg, &st, &in, 103, &o);
	CHECK_NEAR(o.ccl_a, 10, 1e-9);   /* 5 A/s */
	/* the member recovered (its reason no longer stale): the bank goes on up without a hold */
	s1.ccl_a = 80;
	s1.ccl_reason = GW_LR_NONE;
	gw_limits_bank(&cfg, &in, &o, NULL);
	gw_limits_bank_follow(&cfg, &st, &in, 104, &o);
	CHECK_NEAR(o.ccl_a, 15, 1e-9);
	gw_limits_bank(&cfg, &in, &o, NULL);
	gw_limits_bank_follow(&cfg, &st, &in, 120, &o);
	CHECK_NEAR(o.ccl_a, 80, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_NONE);
	/* two strings, one recovering, one recovered: the recovered one alone */
	s1 = lim(220.8, 0, 0, 179.2, 64);
	s1.ccl_reason = s1.dcl_reason = GW_LR_STALE;
	in.n = 2;
	gw_limits_bank(&cfg, &in, &o, NULL);
	CHECK(!o.failsafe);
	CHECK_NEAR(o.ccl_a, 80, 1e-9);   /* 1 string x 80 A */
}

int main(void)
{
	test_bank_recovering();
	test_sum_common_current_weakest();
	test_cells_across_the_string();
	test_member_extremes();
	test_current_deviation();
	test_member_missing();
	test_alarms_and_mosfets();
	test_string_limits();
	test_string_limits_stale();
	test_bank_of_strings();
	return check_report();
}
