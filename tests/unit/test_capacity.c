/* SPDX-License-Identifier: MIT */
/* tests/unit/test_capacity.c - a pack's full and remaining capacity by the one
 * rule (gateway/engine/capacity.c: its BMS's full capacity, else its
 * configured [soc] capacity, else its remaining over its SOC; its remaining
 * the BMS's, else its SOC of that full), one test per branch, unknown never
 * 0; the string's from its members by the same rule (bank_strings.c), the bank's
 * (banksoc.c) the same figures, and what Home Assistant is told a pack
 * carries. */
#include <math.h>
#include <string.h>

#include "../../gateway/engine/capacity.h"
#include "../../gateway/model/gw.h"
#include "../../gateway/engine/bank_strings.h"
#include "check.h"

/* A snapshot with what a BMS gives: full / remaining Ah where >= 0, a SOC. */
static struct bms_snapshot snap(double full, double remain, double soc)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	s.voltage = 53.0f;
	s.current = 0;
	if (full >= 0) {
		s.full_ah = (float)full;
		s.present |= BMS_HAS_FULL;
	}
	if (remain >= 0) {
		s.remain_ah = (float)remain;
		s.present |= BMS_HAS_REMAIN;
	}
	if (soc >= 0) {
		s.soc = (float)soc;
		s.present |= BMS_HAS_SOC;
	}
	return s;
}

static void test_bms_full_wins(void)
{
	struct bms_snapshot s = snap(280, 140, 50);
	struct gw_ah a;
	gw_capacity_rule(&s, 50, 100, &a);   /* a configured 100 Ah does not override the BMS */
	CHECK_NEAR(a.full_ah, 280, 1e-3);
	CHECK_NEAR(a.remain_ah, 140, 1e-3);
}

/* The daly of the report: remaining Ah only, capacity = 100. */
static void test_configured_capacity(void)
{
	struct bms_snapshot s = snap(-1, 57.5, 57.5);
	struct gw_ah a;
	gw_capacity_rule(&s, 57.5, 100, &a);
	CHECK_NEAR(a.full_ah, 100, 1e-9);
	CHECK_NEAR(a.remain_ah, 57.5, 1e-4);  /* the BMS's remaining stays its own */
	gw_capacity_apply(&s, 57.5, 100);
	CHECK((s.present & (BMS_HAS_FULL | BMS_HAS_REMAIN)) == (BMS_HAS_FULL | BMS_HAS_REMAIN));
	CHECK_NEAR(s.full_ah, 100, 1e-9);
	CHECK_NEAR(s.remain_ah, 57.5, 1e-4);
	/* a BMS's full capacity of 0 is none: the configured one */
	s = snap(0, 20, 20);
	gw_capacity_rule(&s, 20, 100, &a);
	CHECK_NEAR(a.full_ah, 100, 1e-9);
}

static void test_remaining_over_soc(void)
{
	struct bms_snapshot s = snap(-1, 45, 45);
	struct gw_ah a;
	gw_capacity_rule(&s, 45, 0, &a);
	CHECK_NEAR(a.full_ah, 100, 1e-4);
	CHECK_NEAR(a.remain_ah, 45, 1e-4);
	/* at or under 1 % the quotient says nothing: unknown */
	s = snap(-1, 0.5, 1);
	gw_capacity_rule(&s, 1, 0, &a);
	CHECK(isnan(a.full_ah));
	CHECK_NEAR(a.remain_ah, 0.5, 1e-6);
	/* the BMS's SOC, not the count the snapshot may carry */
	s = snap(-1, 45, 60);
	gw_capacity_rule(&s, 45, 0, &a);
	CHECK_NEAR(a.full_ah, 100, 1e-4);
	gw_capacity_rule(&s, NAN, 0, &a);
	CHECK(isnan(a.full_ah));
}

static void test_remaining_from_soc(void)
{
	struct bms_snapshot s = snap(200, -1, 40);
	struct gw_ah a;
	gw_capacity_rule(&s, 40, 0, &a);
	CHECK_NEAR(a.full_ah, 200, 1e-4);
	CHECK_NEAR(a.remain_ah, 80, 1e-4);
	s = snap(-1, -1, 40);              /* SOC only, configured capacity */
	gw_capacity_rule(&s, 40, 150, &a);
	CHECK_NEAR(a.full_ah, 150, 1e-9);
	CHECK_NEAR(a.remain_ah, 60, 1e-9);
	gw_capacity_rule(&s, NAN, 150, &a); /* no SOC of the BMS: no remaining */
	CHECK_NEAR(a.full_ah, 150, 1e-9);
	CHECK(isnan(a.remain_ah));
}

/* No rule gives a value: unknown, never a 0 read as a capacity. */
static void test_unknown(void)
{
	struct bms_snapshot s = snap(-1, -1, 40);
	struct gw_ah a;
	gw_capacity_rule(&s, 40, 0, &a);
	CHECK(isnan(a.full_ah) && isnan(a.remain_ah));
	s = snap(0, -1, 40);                 /* a full capacity of 0 and nothing else */
	gw_capacity_apply(&s, 40, 0);
	CHECK(!(s.present & (BMS_HAS_FULL | BMS_HAS_REMAIN)));
	s = snap(-1, -1, -1);
	s.remain_ah = NAN;
	s.present |= BMS_HAS_REMAIN;         /* a remaining that is no number */
	gw_capacity_apply(&s, NAN, 0);
	CHECK(!(s.present & (BMS_HAS_FULL | BMS_HAS_REMAIN)));
	CHECK_NEAR(s.full_ah, 0, 0);
}

/* A string: its members' capacities by the rule (their snapshots carry
 * them), the smallest full once every member has one, the weakest's
 * remaining. */
static void test_string(void)
{
	struct bms_snapshot m[4];
	const struct bms_snapshot *f[4];
	double socs[4] = { 60, 40, 55, 70 };
	for (int i = 0; i < 4; i++) {
		m[i] = snap(-1, socs[i], socs[i]);  /* daly: remaining only */
		m[i].present |= BMS_HAS_ALARMS;
		gw_capacity_apply(&m[i], socs[i], i == 2 ? 90 : 100);
		f[i] = &m[i];
	}
	struct gw_string_state o;
	gw_string_aggregate(f, 4, false, 2, 0.1, &o);
	CHECK(o.fresh);
	CHECK((o.snap.present & (BMS_HAS_FULL | BMS_HAS_REMAIN)) == (BMS_HAS_FULL | BMS_HAS_REMAIN));
	CHECK_NEAR(o.snap.full_ah, 90, 1e-4);     /* member 3's configured 90 Ah */
	CHECK_NEAR(o.snap.remain_ah, 40, 1e-4);   /* member 2, the weakest */
	CHECK_NEAR(o.snap.soc, 40, 1e-4);
	/* a member whose capacity no rule gives: the string's full unknown */
	m[3] = snap(-1, -1, 70);
	m[3].present |= BMS_HAS_ALARMS;
	gw_capacity_apply(&m[3], 70, 0);
	gw_string_aggregate(f, 4, false, 2, 0.1, &o);
	CHECK(!(o.snap.present & BMS_HAS_FULL));
	CHECK_NEAR(o.snap.full_ah, 0, 0);
	CHECK_NEAR(o.snap.remain_ah, 40, 1e-4);
}

/* The bank's SOC reads the same figures (banksoc.c: the rule once more on
 * snapshots that already carry it gives them again). */
static void test_bank_same_rule(void)
{
	static struct gw_soc est[2];
	static struct conf_soc csoc;
	struct bms_snapshot a = snap(-1, 57.5, 57.5), b = snap(-1, 30, 30);
	struct bms_snapshot ra = a, rb = b;
	gw_capacity_apply(&ra, 57.5, 100);
	gw_capacity_apply(&rb, 30, 0);
	struct gw_bank_member m1[2] = { { &a, 57.5, 100, &est[0], false }, { &b, 30, -1, &est[1], false } };
	struct gw_bank_member m2[2] = { { &ra, 57.5, 100, &est[0], false }, { &rb, 30, -1, &est[1], false } };
	struct gw_bank_soc o1, o2;
	gw_bank_soc(m1, 2, &csoc, 0, &o1);
	gw_bank_soc(m2, 2, &csoc, 0, &o2);
	CHECK_NEAR(o1.full_ah, 200, 1e-3);        /* 100 configured + 30 / 30 % */
	CHECK_NEAR(o1.remain_ah, 87.5, 1e-3);
	CHECK_NEAR(o2.full_ah, o1.full_ah, 1e-6);
	CHECK_NEAR(o2.remain_ah, o1.remain_ah, 1e-6);
	CHECK_NEAR(o2.soc_bms, o1.soc_bms, 1e-9);
}

static void test_provides(void)
{
	uint32_t daly = BMS_HAS_SOC | BMS_HAS_REMAIN;
	CHECK_EQ_INT(gw_capacity_provides(daly, 100), BMS_HAS_FULL | BMS_HAS_REMAIN);
	CHECK_EQ_INT(gw_capacity_provides(daly, 0), BMS_HAS_FULL | BMS_HAS_REMAIN); /* remaining / SOC */
	CHECK_EQ_INT(gw_capacity_provides(BMS_HAS_SOC, 0), 0);
	CHECK_EQ_INT(gw_capacity_provides(BMS_HAS_SOC, 50), BMS_HAS_FULL | BMS_HAS_REMAIN);
	CHECK_EQ_INT(gw_capacity_provides(BMS_HAS_REMAIN, 0), BMS_HAS_REMAIN);
	CHECK_EQ_INT(gw_capacity_provides(BMS_HAS_FULL, 0), BMS_HAS_FULL);
}

int main(void)
{
	test_bms_full_wins();
	test_configured_capacity();
	test_remaining_over_soc();
	test_remaining_from_soc();
	test_unknown();
	test_string();
	test_bank_same_rule();
	test_provides();
	return check_report();
}
