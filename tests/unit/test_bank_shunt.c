/* SPDX-License-Identifier: MIT */
/* tests/unit/test_bank_shunt.c - a shunt as the bank's meter
 * (gateway/engine/bank_shunt.c, gw_bank_shunt_apply): a fresh shunt gives
 * the bank its current, power, state, SOC, remaining and full Ah and its
 * count; a stale one, a bank without data and a shunt without a current
 * leave the packs' figures; a shunt without a SOC gives the current only;
 * nothing is invented (a capacity the shunt lacks is the packs', or none). */
#include <math.h>
#include <string.h>

#include "../../gateway/engine/bank.h"
#include "check.h"

/* A 16-cell pack with capacities. */
static struct bms_snapshot pack(float v, float a, float soc, float full)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_FULL | BMS_HAS_REMAIN | BMS_HAS_CELLS |
		    BMS_HAS_TEMPS | BMS_HAS_ALARMS;
	s.voltage = v;
	s.current = a;
	s.soc = soc;
	s.full_ah = full;
	s.remain_ah = full * soc / 100;
	s.ncells = 16;
	for (int i = 0; i < 16; i++)
		s.cell_mv[i] = (uint16_t)(v * 1000 / 16);
	s.ntemps = 1;
	s.temp_c[0] = 22;
	bms_snapshot_derive(&s);
	return s;
}

/* A shunt: voltage, current, power where given, SOC where given (NAN none). */
static struct bms_snapshot shunt(float v, float a, bool power, float soc)
{
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT;
	s.voltage = v;
	s.current = a;
	if (power) {
		s.power = v * a + 1; /* its own, not the product */
		s.present |= BMS_HAS_POWER;
	}
	if (!isnan(soc)) {
		s.soc = soc;
		s.present |= BMS_HAS_SOC;
	}
	return s;
}

static struct conf_soc SOC;
static struct gw_soc EST[2];

/* The bank of two packs (60 % of 100 Ah at 10 A, 70 % of 100 Ah at 5 A) as
 * model/bankstate.c makes it before the shunt, fresh[k] NULL = stale. */
static void bank(struct gw_bank_state *o, bool a_fresh, bool b_fresh)
{
	static struct bms_snapshot a, b;
	a = pack(53.0f, 10, 60, 100);
	b = pack(53.2f, 5, 70, 100);
	const struct bms_snapshot *f[2] = { a_fresh ? &a : NULL, b_fresh ? &b : NULL };
	gw_bank_aggregate(f, 2, 1.0, 0.5, o);
	struct gw_bank_member m[2];
	for (int k = 0; k < 2; k++)
		m[k] = (struct gw_bank_member){ f[k], f[k] ? f[k]->soc : NAN, -1, &EST[k], false };
	gw_bank_soc(m, 2, &SOC, 100, &o->soc);
	o->missing = (uint16_t)(!a_fresh + !b_fresh); /* as model/bankstate.c counts them */
	if (o->online)
		gw_bank_soc_apply(o);
}

/* The count of a shunt (soc.h): counting 100 of 200 Ah, unsynced. */
static struct gw_soc_out count_of(double bms_soc)
{
	struct gw_soc s;
	memset(&s, 0, sizeof(s));
	s.started = true;
	s.ah = 100;
	s.cap_ah = s.rated_ah = s.prior_ah = 200;
	struct gw_soc_out o;
	gw_soc_output(&s, &SOC, bms_soc, 100, &o);
	return o;
}

static void test_fresh_with_soc_and_capacity(void)
{
	struct gw_bank_state o;
	bank(&o, true, true);
	CHECK_NEAR(o.snap.current, 15, 1e-4);
	CHECK_NEAR(o.snap.soc, 65, 1e-3);
	struct bms_snapshot s = shunt(53.1f, -42, true, 55);
	struct gw_soc_out so = count_of(55);
	struct gw_bank_shunt_in in = { &s, 55, 200, &so };
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK(o.shunt.configured && o.shunt.current && o.shunt.soc);
	CHECK_EQ_INT(gw_bank_shunt_bits(&o.shunt), 3);
	CHECK_NEAR(o.snap.current, -42, 1e-4);
	CHECK_NEAR(o.snap.power, 53.1 * -42 + 1, 0.01); /* the shunt's own power */
	CHECK_EQ_INT(o.snap.state, 2);                  /* discharging, from the shunt's current */
	CHECK_NEAR(o.snap.soc, 55, 1e-4);
	CHECK_NEAR(o.snap.full_ah, 200, 1e-3);          /* its [soc] capacity */
	CHECK_NEAR(o.snap.remain_ah, 110, 1e-3);        /* its SOC of it */
	CHECK_NEAR(o.soc.soc_bms, 55, 1e-9);
	CHECK_EQ_INT(o.soc.in_soc, 0);
	CHECK_EQ_INT(o.soc.left_out, 0);
	CHECK_NEAR(o.soc.counted.soc_counted, 50, 1e-9); /* its count: 100 of 200 Ah */
	CHECK_NEAR(o.soc.counted.capacity_ah, 200, 1e-9);
	/* the packs still give the voltage, cells, temperatures and members */
	CHECK_NEAR(o.snap.voltage, 53.1, 1e-4);
	CHECK_EQ_INT(o.online, 2);
	CHECK_EQ_INT(o.configured, 2);
	CHECK(o.rb.have_cells);
	CHECK_EQ_INT(o.snap.ntemps, 2);
}

/* [soc] source = counted: the bank carries the shunt's count once it is
 * synced, its own SOC before (the SOC engine's rule). */
static void test_counted_source(void)
{
	SOC.source = CONF_SOC_SRC_COUNTED;
	struct gw_bank_state o;
	bank(&o, true, true);
	struct bms_snapshot s = shunt(53.1f, -42, true, 55);
	struct gw_soc_out so = count_of(55);
	struct gw_bank_shunt_in in = { &s, 55, 200, &so };
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK_NEAR(o.snap.soc, 55, 1e-4); /* unsynced: the shunt's own */
	so.flags |= GW_SOC_F_SYNCED | GW_SOC_F_SOURCE;
	so.soc = so.soc_counted;
	bank(&o, true, true);
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK_NEAR(o.snap.soc, 50, 1e-4); /* synced: its count */
	SOC.source = CONF_SOC_SRC_BMS;
}

/* No capacity of its own: the packs' full Ah stands in (the bank's), its
 * remaining Ah is its SOC of that; with none known, none. */
static void test_capacity_from_the_packs(void)
{
	struct gw_bank_state o;
	bank(&o, true, true);
	struct bms_snapshot s = shunt(53.1f, 8, false, 40);
	struct gw_soc_out so = count_of(40);
	struct gw_bank_shunt_in in = { &s, 40, -1, &so };
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK_NEAR(o.snap.full_ah, 200, 1e-3);
	CHECK_NEAR(o.snap.remain_ah, 80, 1e-3);
	CHECK_NEAR(o.snap.soc, 40, 1e-4);
	CHECK_NEAR(o.snap.power, o.snap.voltage * 8, 0.01); /* no power of its own: the bank's voltage times its current */
	CHECK_EQ_INT(o.snap.state, 1);
	/* one pack stale: the packs' full Ah (the fresh one's 100) is no
	 * longer the bank's whole: none, rather than 40 % of half the bank */
	bank(&o, true, false);
	CHECK_NEAR(o.snap.full_ah, 100, 1e-3);
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK(o.shunt.soc);
	CHECK_NEAR(o.snap.soc, 40, 1e-4);
	CHECK(!(o.snap.present & BMS_HAS_FULL));
	CHECK(!(o.snap.present & BMS_HAS_REMAIN));
	CHECK_EQ_INT(o.online, 1);
	CHECK_EQ_INT(o.missing, 1); /* the shunt changes no member's count */
}

/* A shunt without a SOC: its current, the packs' SOC and capacities. */
static void test_no_soc(void)
{
	struct gw_bank_state o, before;
	bank(&o, true, true);
	before = o;
	struct bms_snapshot s = shunt(53.1f, -20, true, NAN);
	struct gw_soc_out so = count_of(NAN);
	struct gw_bank_shunt_in in = { &s, NAN, 200, &so };
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK(o.shunt.current && !o.shunt.soc);
	CHECK_EQ_INT(gw_bank_shunt_bits(&o.shunt), 1);
	CHECK_NEAR(o.snap.current, -20, 1e-4);
	CHECK_NEAR(o.snap.soc, before.snap.soc, 1e-6);
	CHECK_NEAR(o.snap.full_ah, before.snap.full_ah, 1e-6);
	CHECK_NEAR(o.snap.remain_ah, before.snap.remain_ah, 1e-6);
	CHECK(memcmp(&o.soc, &before.soc, sizeof(o.soc)) == 0);
}

/* A stale shunt (NULL), one without a current, a bank without data: the
 * packs' figures, untouched; the word says a shunt is set but not used. */
static void test_stale_and_absent(void)
{
	struct gw_bank_state o, before;
	bank(&o, true, true);
	before = o;
	struct gw_soc_out so = count_of(55);
	struct gw_bank_shunt_in in = { NULL, 55, 200, &so };
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK(o.shunt.configured && !o.shunt.current && !o.shunt.soc);
	CHECK_EQ_INT(gw_bank_shunt_bits(&o.shunt), 4);
	o.shunt = before.shunt;
	CHECK(memcmp(&o, &before, sizeof(o)) == 0);
	struct bms_snapshot s = shunt(53.1f, -42, true, 55);
	s.present &= ~(uint32_t)BMS_HAS_CURRENT;
	in.snap = &s;
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK_EQ_INT(gw_bank_shunt_bits(&o.shunt), 4);
	CHECK_NEAR(o.snap.current, 15, 1e-4);
	/* no fresh member: no bank, whatever the shunt says */
	bank(&o, false, false);
	s = shunt(53.1f, -42, true, 55);
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK_EQ_INT(o.online, 0);
	CHECK_EQ_INT(gw_bank_shunt_bits(&o.shunt), 4);
	CHECK(!(o.snap.present & (BMS_HAS_CURRENT | BMS_HAS_SOC)));
	/* and back: the shunt's again */
	bank(&o, true, true);
	gw_bank_shunt_apply(&in, 0.5, &o);
	CHECK_EQ_INT(gw_bank_shunt_bits(&o.shunt), 3);
	CHECK_NEAR(o.snap.current, -42, 1e-4);
}

int main(void)
{
	SOC.count = true;
	test_fresh_with_soc_and_capacity();
	test_counted_source();
	test_capacity_from_the_packs();
	test_no_soc();
	test_stale_and_absent();
	return check_report();
}
