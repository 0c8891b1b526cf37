/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bank.c - the bank unit's aggregation (gateway/engine/bank.c,
 * gw_bank_aggregate), one test per rule of bmsgw-bms(7) "The bank unit",
 * and its SOC and capacities by the one rule (gateway/engine/banksoc.c,
 * gw_bank_soc: the sum of the remaining over the sum of the full Ah of the
 * fresh members, for the BMSs' and the counted SOC alike). */
#include <math.h>
#include <string.h>

#include "../../gateway/model/gw.h"
#include "check.h"

/* A pack with voltage, current, SOC and capacities, 4 cells, 2 sensors. */
static struct bms_snapshot pack(float v, float a, float soc, float full, uint16_t cell0)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_FULL | BMS_HAS_REMAIN |
		    BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS;
	s.voltage = v;
	s.current = a;
	s.soc = soc;
	s.full_ah = full;
	s.remain_ah = full * soc / 100;
	s.ncells = 4;
	for (int i = 0; i < 4; i++)
		s.cell_mv[i] = (uint16_t)(cell0 + i);
	s.ntemps = 2;
	s.temp_c[0] = 20;
	s.temp_c[1] = 30;
	s.chg_mos = s.dsg_mos = true;
	bms_snapshot_derive(&s);
	return s;
}

/* The members of a bank as its SOC sees them: the snapshots (NULL: not
 * fresh), the BMSs' SOCs as the snapshots say them, no configured
 * capacity, empty counts. */
static struct gw_soc EST[8];
static void members(struct gw_bank_member *m, const struct bms_snapshot *const *f, int n)
{
	for (int k = 0; k < n; k++)
		m[k] = (struct gw_bank_member){ f[k], f[k] && (f[k]->present & BMS_HAS_SOC) ? f[k]->soc : NAN, -1,
					       &EST[k], f[k] && !(f[k]->present & BMS_HAS_CURRENT) };
}

static struct conf_soc SOC;

static void test_sums_and_weighted_soc(void)
{
	struct bms_snapshot a = pack(53.0f, 10, 50, 100, 3300), b = pack(53.2f, -4, 80, 200, 3310);
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.online, 2);
	CHECK_EQ_INT(o.configured, 2);
	CHECK_EQ_INT(o.online_mask, 3);
	CHECK_NEAR(o.snap.voltage, 53.1, 1e-4);          /* mean */
	CHECK_NEAR(o.snap.current, 6, 1e-4);             /* sum */
	CHECK_NEAR(o.snap.power, 53 * 10 - 53.2 * 4, 0.01);
	/* the SOC and capacities are the one rule's, not the aggregate's */
	CHECK(!(o.snap.present & (BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL)));
	CHECK_EQ_INT(o.snap.state, 1);                   /* net charging */
	/* temperature n = the average of bank pack n */
	CHECK_EQ_INT(o.snap.ntemps, 2);
	CHECK_NEAR(o.snap.temp_c[0], 25, 1e-4);
	CHECK_NEAR(o.snap.temp_c[1], 25, 1e-4);
}

/* The one rule: sum of the remaining Ah over the sum of the full Ah. */
static void test_one_rule(void)
{
	struct bms_snapshot a = pack(53.0f, 10, 50, 100, 3300), b = pack(53.2f, -4, 80, 200, 3310);
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_bank_member m[2];
	struct gw_bank_soc o;
	members(m, f, 2);
	gw_bank_soc(m, 2, &SOC, 0, &o);
	/* (50 + 160) / 300 = 70, not the plain mean 65 */
	CHECK_NEAR(o.soc_bms, 70, 1e-4);
	CHECK_NEAR(o.remain_ah, 210, 1e-3);
	CHECK_NEAR(o.full_ah, 300, 1e-4);
	CHECK_EQ_INT(o.in_soc, 3);
	CHECK_EQ_INT(o.left_out, 0);
	CHECK_NEAR(o.counted.soc, 70, 1e-4);               /* carried: the BMSs' (nothing counted) */
	CHECK_NEAR(o.counted.soc_bms, 70, 1e-4);
	/* the BMS's remaining Ah over its full, whatever its SOC says */
	a.remain_ah = 40;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK_NEAR(o.soc_bms, 100.0 * 200 / 300, 1e-4);
	/* the BMS's SOC, not the snapshot's (which may carry the count): a pack
	 * without a remaining Ah weighs its BMS's SOC by its full Ah */
	a.present &= ~(uint32_t)BMS_HAS_REMAIN;
	a.soc = 99;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK_NEAR(o.soc_bms, 70, 1e-4);
	CHECK_NEAR(o.remain_ah, 210, 1e-3);
	/* a pack with a remaining Ah but no full one (a Daly): remaining / SOC */
	a = pack(53.0f, 10, 40, 100, 3300);
	b = pack(53.0f, 10, 70, 200, 3300);
	a.present &= ~(uint32_t)BMS_HAS_FULL;
	b.present &= ~(uint32_t)BMS_HAS_FULL;
	members(m, f, 2);
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK_NEAR(o.soc_bms, 60, 1e-4);                   /* (40 + 140) / 300, not the mean 55 */
	CHECK_NEAR(o.full_ah, 300, 1e-3);
	/* neither: its configured capacity */
	b.present &= ~(uint32_t)BMS_HAS_REMAIN;
	m[1].capacity = 200;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK_NEAR(o.soc_bms, 60, 1e-4);
	CHECK_EQ_INT(o.left_out, 0);
	/* nor that: left out of the SOC and named; the capacities unknown */
	m[1].capacity = -1;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK_NEAR(o.soc_bms, 40, 1e-4);                   /* the other's alone */
	CHECK_EQ_INT(o.in_soc, 1);
	CHECK_EQ_INT(o.left_out, 2);
	CHECK(isnan(o.remain_ah) && isnan(o.full_ah));
	/* stale: not a member of the SOC, not left out */
	m[1].snap = NULL;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK_EQ_INT(o.left_out, 0);
	CHECK_NEAR(o.full_ah, 100, 1e-3);
	/* none fresh: no SOC */
	m[0].snap = NULL;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK(isnan(o.soc_bms) && isnan(o.counted.soc) && isnan(o.full_ah));
	CHECK_EQ_INT(o.in_soc, 0);
}

/* The counted SOC by the same rule: the fresh members' counted Ah over
 * their capacities; carried with source = counted once every fresh
 * member's count is synced. */
static void test_counted(void)
{
	struct bms_snapshot a = pack(53, 0, 40, 100, 3300), b = pack(53, 0, 70, 200, 3300);
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_bank_member m[2];
	struct gw_bank_soc o;
	memset(EST, 0, sizeof(EST));
	EST[0] = (struct gw_soc){ .started = true, .synced = true, .ah = 50, .cap_ah = 100, .rated_ah = 100 };
	EST[1] = (struct gw_soc){ .started = true, .synced = false, .ah = 160, .cap_ah = 200, .rated_ah = 200 };
	members(m, f, 2);
	SOC.source = CONF_SOC_SRC_COUNTED;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK(o.counted.flags & GW_SOC_F_COUNTING);
	CHECK_NEAR(o.counted.soc_counted, 70, 1e-9);       /* (50 + 160) / 300 */
	CHECK_NEAR(o.counted.remaining_ah, 210, 1e-9);
	CHECK_NEAR(o.counted.capacity_ah, 300, 1e-9);
	CHECK(!(o.counted.flags & GW_SOC_F_SOURCE));       /* b not synced: the BMSs' carried */
	CHECK_NEAR(o.counted.soc, 60, 1e-4);
	EST[1].synced = true;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK(o.counted.flags & GW_SOC_F_SOURCE);
	CHECK_NEAR(o.counted.soc, 70, 1e-9);
	CHECK_NEAR(o.soc_bms, 60, 1e-4);                   /* beside it */
	/* a stale member's count is left out, as its BMS's figures */
	EST[1].synced = false;
	m[1].snap = NULL;
	gw_bank_soc(m, 2, &SOC, 0, &o);
	CHECK(o.counted.flags & GW_SOC_F_SOURCE);          /* every fresh one synced */
	CHECK_NEAR(o.counted.soc, 50, 1e-9);
	CHECK_NEAR(o.counted.capacity_ah, 100, 1e-9);
	CHECK_NEAR(o.soc_bms, 40, 1e-4);
	SOC.source = CONF_SOC_SRC_BMS;
	memset(EST, 0, sizeof(EST));
}

static void test_dropout(void)
{
	struct bms_snapshot a = pack(53, 10, 50, 100, 3300), c = pack(53, 2, 70, 100, 3305);
	const struct bms_snapshot *f[] = { &a, NULL, &c };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 3, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.online, 2);
	CHECK_EQ_INT(o.configured, 3);
	CHECK_EQ_INT(o.online_mask, 0x5);
	CHECK_NEAR(o.snap.current, 12, 1e-4);
	struct gw_bank_member m[3];
	struct gw_bank_soc bs;
	members(m, f, 3);
	gw_bank_soc(m, 3, &SOC, 0, &bs);
	CHECK_NEAR(bs.soc_bms, 60, 1e-4);
	CHECK_EQ_INT(bs.in_soc, 0x5);
	/* the stale pack's temperature slot reads absent */
	CHECK_EQ_INT(o.snap.ntemps, 3);
	CHECK(isnan(o.snap.temp_c[1]));
	CHECK_NEAR(o.snap.temp_c[2], 25, 1e-4);
}

static void test_deviation(void)
{
	struct bms_snapshot a = pack(53.0f, 0, 50, 100, 3300), b = pack(53.1f, 0, 50, 100, 3300),
			    c = pack(51.5f, 0, 50, 100, 3300);
	const struct bms_snapshot *f[] = { &a, &b, &c };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 3, 1.0, 0.1, &o);
	CHECK(o.rb.deviation);
	CHECK_EQ_INT(o.rb.deviation_mask, 0x4);            /* only pack 3 */
	gw_bank_aggregate(f, 3, 2.0, 0.1, &o);
	CHECK(!o.rb.deviation);                             /* within 2 V */
	/* one pack alone cannot deviate */
	const struct bms_snapshot *one[] = { &c };
	gw_bank_aggregate(one, 1, 0.1, 0.1, &o);
	CHECK(!o.rb.deviation);
}

static void test_mosfets_and_alarms(void)
{
	struct bms_snapshot a = pack(53, 0, 50, 100, 3300), b = pack(53, 0, 50, 100, 3300);
	b.chg_mos = false;
	a.alarms = BMS_AL_CELL_OV;
	b.alarms = BMS_AL_MOS_OT;
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK(!o.snap.chg_mos);                             /* off in one pack: off */
	CHECK(o.snap.dsg_mos);                              /* on in every pack: on */
	CHECK_EQ_INT(o.alarms, BMS_AL_CELL_OV | BMS_AL_MOS_OT);
	CHECK_EQ_INT(o.snap.alarms, BMS_AL_CELL_OV | BMS_AL_MOS_OT);
	/* a pack without MOSFET state does not vote */
	b.present &= ~(uint32_t)BMS_HAS_MOSFETS;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK(o.snap.chg_mos && o.snap.dsg_mos);
}

static void test_cells_across_packs(void)
{
	struct bms_snapshot a = pack(53, 0, 50, 100, 3300), b = pack(53, 0, 50, 100, 3280);
	b.cell_mv[2] = 3400;
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK(o.rb.have_cells);
	CHECK_EQ_INT(o.rb.min_mv, 3280);
	CHECK_EQ_INT(o.rb.min_pack, 2);
	CHECK_EQ_INT(o.rb.min_cell, 1);
	CHECK_EQ_INT(o.rb.max_mv, 3400);
	CHECK_EQ_INT(o.rb.max_pack, 2);
	CHECK_EQ_INT(o.rb.max_cell, 3);
	/* mean of 3300..3303 and 3280, 3281, 3400, 3283 */
	CHECK_EQ_INT(o.rb.avg_mv, (3300 + 3301 + 3302 + 3303 + 3280 + 3281 + 3400 + 3283 + 4) / 8);
}

/* A pack whose BMS sends no cell list (pylon-can's 0x373) adds its own
 * highest and lowest cell, with its numbers where it gives them; the mean
 * is then no longer every cell's: absent (no_avg). */
static void test_cell_extremes(void)
{
	struct bms_snapshot a = pack(53, 0, 50, 100, 3300), b = pack(53, 0, 50, 100, 3300);
	b.present &= ~(uint32_t)BMS_HAS_CELLS;
	b.ncells = 0;
	bms_set_cell_ext(&b, 3420, 0, 3250, 7);
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK(o.rb.have_cells);
	CHECK(o.rb.no_avg);
	CHECK_EQ_INT(o.rb.max_mv, 3420);
	CHECK_EQ_INT(o.rb.max_pack, 2);
	CHECK_EQ_INT(o.rb.max_cell, 0); /* the BMS gave no number */
	CHECK_EQ_INT(o.rb.min_mv, 3250);
	CHECK_EQ_INT(o.rb.min_pack, 2);
	CHECK_EQ_INT(o.rb.min_cell, 7);
	/* the list's pack holds the extremes: its cells and numbers */
	bms_set_cell_ext(&b, 3301, 1, 3300, 2);
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.rb.max_mv, 3303);
	CHECK_EQ_INT(o.rb.max_pack, 1);
	CHECK_EQ_INT(o.rb.max_cell, 4);
	CHECK_EQ_INT(o.rb.min_mv, 3300);
	CHECK_EQ_INT(o.rb.min_pack, 1);
	CHECK(o.rb.no_avg);
	/* the bank of list packs alone: a mean */
	const struct bms_snapshot *g[] = { &a };
	gw_bank_aggregate(g, 1, 1.0, 0.1, &o);
	CHECK(!o.rb.no_avg);
	/* a pack with neither: no cells at all */
	b.present &= ~(uint32_t)BMS_HAS_CELL_EXT;
	const struct bms_snapshot *h[] = { &b };
	gw_bank_aggregate(h, 1, 1.0, 0.1, &o);
	CHECK(!o.rb.have_cells);
	/* issue 97: a list that is not every cell (ubms-can's modules in
	 * parallel) beside its BMS's own extremes: those beyond the list are
	 * the bank's, number 0; the mean stays the lists' */
	struct bms_snapshot c = pack(53, 0, 50, 100, 3300);
	bms_set_cell_ext(&c, 3302, 0, 3240, 0);
	const struct bms_snapshot *k[] = { &a, &c };
	gw_bank_aggregate(k, 2, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.rb.min_mv, 3240);
	CHECK_EQ_INT(o.rb.min_pack, 2);
	CHECK_EQ_INT(o.rb.min_cell, 0);
	CHECK_EQ_INT(o.rb.max_mv, 3303);
	CHECK_EQ_INT(o.rb.max_pack, 1);
	CHECK_EQ_INT(o.rb.max_cell, 4);
	CHECK(!o.rb.no_avg);
}

static void test_maxima(void)
{
	struct bms_snapshot a = pack(53, 0, 50, 100, 3300), b = pack(53, 0, 50, 100, 3300);
	a.present |= BMS_HAS_CYCLES | BMS_HAS_SOH | BMS_HAS_MOS_TEMP;
	b.present |= BMS_HAS_CYCLES | BMS_HAS_SOH | BMS_HAS_MOS_TEMP;
	a.cycles = 120;
	b.cycles = 80;
	a.soh = 90;
	b.soh = 100;
	a.mos_temp_c = 31;
	b.mos_temp_c = 44;
	const struct bms_snapshot *f[] = { &a, &b };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.snap.cycles, 120);                  /* max */
	CHECK_NEAR(o.snap.soh, 95, 1e-4);                  /* mean */
	CHECK_NEAR(o.snap.mos_temp_c, 44, 1e-4);           /* max */
}

static void test_empty(void)
{
	const struct bms_snapshot *f[] = { NULL, NULL };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.online, 0);
	CHECK_EQ_INT(o.configured, 2);
	CHECK_EQ_INT(o.online_mask, 0);
	CHECK_EQ_INT(o.snap.present, 0);                    /* nothing to show */
	CHECK(!o.rb.have_cells && !o.rb.deviation);
	gw_bank_aggregate(f, 0, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.configured, 0);
	CHECK_EQ_INT(o.online, 0);
}

/* An active balancer on the same cells as a BMS: its cells and sensors
 * are the bank's like any pack's, but it gives no current, SOC or
 * capacity, so the bank's are the BMS's alone (its missing capacity does
 * not make the bank's unknown, it adds no 0 A). */
static void test_balancer_beside_a_bms(void)
{
	struct bms_snapshot bms = pack(53.2f, 12.5f, 60, 280, 3320), bal;
	memset(&bal, 0, sizeof(bal));
	bal.present = BMS_HAS_VOLTAGE | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS | BMS_HAS_BALANCER |
		      BMS_HAS_BALANCING | BMS_HAS_CELL_RES;
	bal.voltage = 53.16f;
	bal.ncells = 4;
	for (int i = 0; i < 4; i++)
		bal.cell_mv[i] = (uint16_t)(3318 + i);
	bal.ntemps = 2;
	bal.temp_c[0] = bal.temp_c[1] = 26.5f;
	bal.bal_current = 2.0f;
	bms_snapshot_derive(&bal);
	const struct bms_snapshot *f[] = { &bms, &bal };
	struct gw_bank_state o;
	gw_bank_aggregate(f, 2, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.online, 2);
	CHECK_NEAR(o.snap.current, 12.5, 1e-4);            /* the BMS's: not 12.5 + 0 of a second pack */
	CHECK_NEAR(o.snap.power, 53.2 * 12.5, 0.01);
	struct gw_bank_member m[3];
	struct gw_bank_soc bs;
	members(m, f, 2);
	CHECK(m[1].balancer);
	gw_bank_soc(m, 2, &SOC, 0, &bs);
	CHECK_NEAR(bs.full_ah, 280, 1e-4);                 /* the BMS's capacity is the bank's */
	CHECK_NEAR(bs.remain_ah, 168, 1e-3);
	CHECK_NEAR(bs.soc_bms, 60, 1e-4);
	CHECK_EQ_INT(bs.in_soc, 1);
	CHECK_EQ_INT(bs.left_out, 0);                      /* the balancer is no member, not left out */
	CHECK_EQ_INT(o.snap.state, 1);
	CHECK_EQ_INT(o.rb.min_mv, 3318);                   /* its cells count as cells */
	CHECK_EQ_INT(o.rb.min_pack, 2);
	CHECK_NEAR(o.snap.temp_c[1], 26.5, 1e-4);
	CHECK(!o.rb.deviation);
	/* the balancer alone: no current, SOC or capacity at all, nor a state */
	const struct bms_snapshot *g[] = { NULL, &bal };
	gw_bank_aggregate(g, 2, 1.0, 0.1, &o);
	CHECK_EQ_INT(o.online, 1);
	CHECK(!(o.snap.present & (BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_FULL | BMS_HAS_REMAIN)));
	CHECK_EQ_INT(o.snap.state, 0);
	CHECK(o.snap.present & BMS_HAS_VOLTAGE);
	members(m, g, 2);
	gw_bank_soc(m, 2, &SOC, 0, &bs);
	CHECK(isnan(bs.soc_bms) && isnan(bs.full_ah));
	CHECK_EQ_INT(bs.left_out, 0);
	/* a pack that gives a current but no capacity makes it unknown, and is named */
	struct bms_snapshot nocap = pack(53.1f, 1, 50, 100, 3300);
	nocap.present &= ~(uint32_t)(BMS_HAS_FULL | BMS_HAS_REMAIN);
	const struct bms_snapshot *h[] = { &bms, &bal, &nocap };
	gw_bank_aggregate(h, 3, 1.0, 0.1, &o);
	CHECK_NEAR(o.snap.current, 13.5, 1e-4);
	members(m, h, 3);
	gw_bank_soc(m, 3, &SOC, 0, &bs);
	CHECK(isnan(bs.full_ah));
	CHECK_EQ_INT(bs.left_out, 4);
	CHECK_NEAR(bs.soc_bms, 60, 1e-4);
}

int main(void)
{
	conf_soc_defaults(&SOC, CONF_CHEM_LFP);
	test_sums_and_weighted_soc();
	test_one_rule();
	test_counted();
	test_dropout();
	test_deviation();
	test_mosfets_and_alarms();
	test_cells_across_packs();
	test_cell_extremes();
	test_maxima();
	test_empty();
	test_balancer_beside_a_bms();
	return check_report();
}
