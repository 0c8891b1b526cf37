/* SPDX-License-Identifier: MIT */
/* tests/unit/test_settings.c - the runtime charge settings
 * (gateway/engine/settings.c): ranges, the tightening rule, leases and
 * ends, the registers and the state file's text; and their effect through
 * the limit engine (gw_limits_step_set, gw_limits_bank_settings) on fake
 * clock traces: a SOC ceiling and floor with their hysteresis, caps and
 * their lease, force charge, full_charge_days. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../gateway/engine/pack_limits.h"
#include "../../gateway/engine/settings.h"
#include "check.h"

#define WALL0 ((int64_t)1700000000)

static const struct gw_set_bounds bounds = { .max_charge_a = 50, .max_discharge_a = 60, .full_charge_days = 30 };

static void ranges(void)
{
	struct gw_settings s;
	gw_settings_init(&s, &bounds);
	CHECK_EQ_INT(s.v[GW_SET_MAX_SOC], 100);
	CHECK_EQ_INT(s.v[GW_SET_MAX_SOC_HYST], 5);
	CHECK_EQ_INT(s.v[GW_SET_MIN_SOC], 0);
	CHECK_EQ_INT(s.v[GW_SET_CCL_CAP], GW_SET_CAP_NONE);
	CHECK_EQ_INT(s.v[GW_SET_CAP_LEASE], 60);
	CHECK_EQ_INT(s.v[GW_SET_FULL_DAYS], 30);
	CHECK_EQ_INT(s.origin[GW_SET_MAX_SOC], GW_ORIGIN_CONFIG);
	uint32_t v = 0;
	unsigned ch;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, &ch), GW_SET_RANGE);
	v = 101;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, &ch), GW_SET_RANGE);
	v = 80;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, &ch), GW_SET_OK);
	CHECK_EQ_INT(ch, 1u << GW_SET_MAX_SOC);
	CHECK_EQ_INT(s.origin[GW_SET_MAX_SOC], GW_ORIGIN_MODBUS);
	/* min_soc at or over max_soc: refused, nothing taken */
	v = 80;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MIN_SOC, 1, &v, GW_ORIGIN_MQTT, 0, &ch), GW_SET_DEADLOCK);
	CHECK_EQ_INT(s.v[GW_SET_MIN_SOC], 0);
	v = 20;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MIN_SOC, 1, &v, GW_ORIGIN_MQTT, 0, &ch), GW_SET_OK);
	v = 15;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, &ch), GW_SET_DEADLOCK);
	CHECK_EQ_INT(s.v[GW_SET_MAX_SOC], 80);
	/* hysteresis 1..50, force 0/1, lease 10..3600, days 0..3650 */
	uint32_t bad[][2] = { { GW_SET_MAX_SOC_HYST, 0 }, { GW_SET_MIN_SOC_HYST, 51 }, { GW_SET_FORCE, 2 },
			      { GW_SET_CAP_LEASE, 9 },    { GW_SET_CAP_LEASE, 3601 }, { GW_SET_FULL_DAYS, 3651 },
			      { GW_SET_CCL_CAP, 0x10000 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(gw_settings_write(&s, &bounds, (int)bad[i][0], 1, &bad[i][1], GW_ORIGIN_MODBUS, 0, NULL),
			     GW_SET_RANGE);
	/* a cap above the maximum current loosens; at it, fine */
	v = 501;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_CCL_CAP, 1, &v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_LOOSENS);
	v = 500;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_CCL_CAP, 1, &v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	v = 601;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_DCL_CAP, 1, &v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_LOOSENS);
	/* a batch is all or nothing */
	uint32_t batch[3] = { 100, 100, 10 }; /* ccl 10 A, dcl 10 A, lease 10 s */
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_CCL_CAP, 3, batch, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	batch[2] = 5;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_CCL_CAP, 3, batch, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_RANGE);
	CHECK_EQ_INT(s.v[GW_SET_CAP_LEASE], 10);
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, 9, 2, batch, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_RANGE);
	CHECK_STR(gw_settings_name(GW_SET_FULL_DAYS), "full_charge_days");
	CHECK_STR(gw_settings_origin_name(GW_ORIGIN_MQTT), "mqtt");
}

static void leases(void)
{
	struct gw_settings s;
	gw_settings_init(&s, &bounds);
	uint32_t v[3] = { 100, GW_SET_CAP_NONE, 20 };
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_CCL_CAP, 3, v, GW_ORIGIN_MODBUS, 1000, NULL), GW_SET_OK);
	CHECK_NEAR(gw_settings_cap_a(&s, GW_SET_CCL_CAP), 10, 1e-9);
	CHECK_NEAR(gw_settings_cap_a(&s, GW_SET_DCL_CAP), -1, 1e-9);
	CHECK_NEAR(gw_settings_cap_left(&s, GW_SET_CCL_CAP, 1005), 15, 1e-9);
	CHECK_EQ_INT(gw_settings_expire(&s, 1019.9, WALL0, 50, 7), 0);
	/* written again: the lease starts over */
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_CCL_CAP, 1, v, GW_ORIGIN_MODBUS, 1015, NULL), GW_SET_OK);
	CHECK_EQ_INT(gw_settings_expire(&s, 1034.9, WALL0, 50, 7), 0);
	CHECK_EQ_INT(gw_settings_expire(&s, 1035, WALL0, 50, 7), 1u << GW_SET_CCL_CAP);
	CHECK_EQ_INT(s.v[GW_SET_CCL_CAP], GW_SET_CAP_NONE);
	CHECK_EQ_INT(s.origin[GW_SET_CCL_CAP], GW_ORIGIN_CONFIG);
	CHECK_NEAR(gw_settings_cap_left(&s, GW_SET_CCL_CAP, 1035), 0, 1e-9);
	/* force charge: until a time */
	uint32_t f[2] = { 1, (uint32_t)(WALL0 + 3600) };
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_FORCE, 2, f, GW_ORIGIN_MQTT, 0, NULL), GW_SET_OK);
	CHECK(gw_limits_settings_force(&s, WALL0));
	CHECK_EQ_INT(gw_settings_expire(&s, 0, WALL0 + 3599, 99, 7), 0);
	CHECK(!gw_limits_settings_force(&s, WALL0 + 3600));
	CHECK_EQ_INT(gw_settings_expire(&s, 0, WALL0 + 3600, 99, 7), 1u << GW_SET_FORCE);
	CHECK_EQ_INT(s.v[GW_SET_FORCE], 0);
	/* ... or, without an end, until force_charge_soc + 2 % */
	f[1] = 0;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_FORCE, 2, f, GW_ORIGIN_MQTT, 0, NULL), GW_SET_OK);
	CHECK_EQ_INT(gw_settings_expire(&s, 0, WALL0, 6.9, 7), 0);
	CHECK_EQ_INT(gw_settings_expire(&s, 0, WALL0, NAN, 7), 0);
	CHECK_EQ_INT(gw_settings_expire(&s, 0, WALL0, 7, 7), 1u << GW_SET_FORCE);
	/* a reload that lowers the maximum current drops a cap above it */
	v[0] = 400;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_CCL_CAP, 1, v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	struct gw_set_bounds lower = { .max_charge_a = 30, .max_discharge_a = 60, .full_charge_days = 7 };
	CHECK_EQ_INT(gw_settings_reconfigure(&s, &lower), 1u << GW_SET_CCL_CAP);
	CHECK_EQ_INT(s.v[GW_SET_FULL_DAYS], 7);
}

static void words_and_text(void)
{
	struct gw_settings s;
	gw_settings_init(&s, &bounds);
	uint32_t v[] = { 80, 3, 20, 4, 1, 0x12345678u, 123, 456, 30, 9 };
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, 0, GW_SET_COUNT, v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	uint16_t w[GW_SET_REGS];
	gw_settings_words(&s, w);
	static const uint16_t want[GW_SET_REGS] = { 80, 3, 20, 4, 1, 0x1234, 0x5678, 123, 456, 30, 9 };
	for (int k = 0; k < GW_SET_REGS; k++)
		CHECK_EQ_INT(w[k], want[k]);
	bool first;
	CHECK_EQ_INT(gw_settings_reg_id(5, &first), GW_SET_FORCE_UNTIL);
	CHECK(first);
	CHECK_EQ_INT(gw_settings_reg_id(6, &first), GW_SET_FORCE_UNTIL);
	CHECK(!first);
	CHECK_EQ_INT(gw_settings_reg_id(10, &first), GW_SET_FULL_DAYS);
	char text[512];
	CHECK(gw_settings_save(&s, text, sizeof(text)));
	/* the caps are leases: not kept */
	CHECK(strstr(text, "ccl_cap") == NULL);
	CHECK(strstr(text, "max_soc=80/modbus") != NULL);
	struct gw_settings t;
	gw_settings_init(&t, &bounds);
	gw_settings_load(&t, &bounds, text);
	for (int i = 0; i < GW_SET_COUNT; i++)
		if (i != GW_SET_CCL_CAP && i != GW_SET_DCL_CAP) {
			CHECK_EQ_INT(t.v[i], s.v[i]);
			CHECK_EQ_INT(t.origin[i], GW_ORIGIN_MODBUS);
		}
	CHECK_EQ_INT(t.v[GW_SET_CCL_CAP], GW_SET_CAP_NONE);
	/* nonsense passed over, the rest taken */
	gw_settings_init(&t, &bounds);
	gw_settings_load(&t, &bounds, "max_soc=0/modbus junk min_soc=30/mqtt ccl_cap=10/modbus max_soc=90/config");
	CHECK_EQ_INT(t.v[GW_SET_MAX_SOC], 100);
	CHECK_EQ_INT(t.v[GW_SET_MIN_SOC], 30);
	CHECK_EQ_INT(t.origin[GW_SET_MIN_SOC], GW_ORIGIN_MQTT);
	CHECK_EQ_INT(t.v[GW_SET_CCL_CAP], GW_SET_CAP_NONE);
	gw_settings_init(&t, &bounds);
	CHECK(!gw_settings_save(&t, text, sizeof(text)));
}

/* ---- through the engine ---- */

static struct conf_limits cfg;

static void config(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = true;
	cfg.max_cell_voltage = 3.45;
	cfg.float_cell_voltage = 3.375;
	cfg.min_cell_voltage = 2.90;
	cfg.max_charge_current = 50;
	cfg.max_discharge_current = 60;
	cfg.absorption_time = 900;
	cfg.absorption_cell_diff = 0.010;
	cfg.rebulk_soc = 80;
	cfg.rebulk_cell_diff = 0.080;
	cfg.recovery_hold = 30;
	cfg.recovery_rate = 5;
	cfg.cvl_recovery_hold = 60;
	cfg.cvl_rate = 0.001;
	cfg.force_charge_soc = 5;
	cfg.full_charge_days = 30;
	cfg.unknown_temp_fraction = 0.1;
	cfg.absorption_tolerance = 0.05;
}

/* A 16-cell pack at 3.3 V a cell, 25 degC, FETs on, at soc %. */
static void pack(struct bms_snapshot *s, double soc)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_SOC | BMS_HAS_ALARMS;
	s->ncells = 16;
	for (int i = 0; i < 16; i++)
		s->cell_mv[i] = 3300;
	s->voltage = 52.8f;
	s->ntemps = 1;
	s->temp_c[0] = 25;
	s->chg_mos = s->dsg_mos = true;
	s->soc = (float)soc;
}

static void soc_ceiling(void)
{
	config();
	struct gw_settings set;
	struct gw_set_bounds b = { .max_charge_a = 50, .max_discharge_a = 60, .full_charge_days = 30 };
	gw_settings_init(&set, &b);
	uint32_t v = 80;
	CHECK_EQ_INT(gw_settings_write(&set, &b, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	struct gw_lim_state st;
	struct gw_limits o;
	struct bms_snapshot s;
	gw_limits_init(&st);
	double t = 0;
	pack(&s, 79);
	gw_limits_step_set(&cfg, NULL, &set, &s, t, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_NONE);
	/* 80 %: CCL 0 at once, reason soc; the CVL untouched (no CVL trick) */
	pack(&s, 80);
	double cvl = o.cvl_v;
	gw_limits_step_set(&cfg, NULL, &set, &s, ++t, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_SOC);
	CHECK(!o.charge_allowed);
	CHECK(o.discharge_allowed);
	CHECK_NEAR(o.cvl_v, cvl, 1e-6);
	CHECK_EQ_INT(gw_limits_flags(&o) & GW_LIM_F_CHARGE, 0);
	/* the hysteresis: still 0 at 76 %, released at 75 %, then the hold and
	 * the ramp (30 s, 5 A/s) */
	pack(&s, 76);
	gw_limits_step_set(&cfg, NULL, &set, &s, ++t, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	pack(&s, 75);
	double rel = ++t;
	gw_limits_step_set(&cfg, NULL, &set, &s, rel, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	for (t = rel + 1; t < rel + 30; t++) {
		gw_limits_step_set(&cfg, NULL, &set, &s, t, WALL0, &st, &o);
		CHECK_NEAR(o.ccl_a, 0, 1e-9);
	}
	gw_limits_step_set(&cfg, NULL, &set, &s, rel + 32, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 10, 1e-9);
	gw_limits_step_set(&cfg, NULL, &set, &s, rel + 45, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_NONE);
	/* 100 = off: no latch */
	v = 100;
	gw_settings_write(&set, &b, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, NULL);
	pack(&s, 100);
	gw_limits_step_set(&cfg, NULL, &set, &s, rel + 46, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
}

static void soc_floor(void)
{
	config();
	struct gw_settings set;
	struct gw_set_bounds b = { .max_charge_a = 50, .max_discharge_a = 60, .full_charge_days = 30 };
	gw_settings_init(&set, &b);
	uint32_t v[2] = { 20, 10 }; /* min_soc 20, hysteresis 10 */
	CHECK_EQ_INT(gw_settings_write(&set, &b, GW_SET_MIN_SOC, 2, v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_OK);
	struct gw_lim_state st;
	struct gw_limits o;
	struct bms_snapshot s;
	gw_limits_init(&st);
	pack(&s, 20.5);
	gw_limits_step_set(&cfg, NULL, &set, &s, 0, WALL0, &st, &o);
	CHECK_NEAR(o.dcl_a, 60, 1e-9);
	pack(&s, 20);
	gw_limits_step_set(&cfg, NULL, &set, &s, 1, WALL0, &st, &o);
	CHECK_NEAR(o.dcl_a, 0, 1e-9);
	CHECK_EQ_INT(o.dcl_reason, GW_LR_SOC);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	pack(&s, 29.9);
	gw_limits_step_set(&cfg, NULL, &set, &s, 100, WALL0, &st, &o);
	CHECK_NEAR(o.dcl_a, 0, 1e-9);
	/* a SOC that is not known keeps the latch */
	s.present &= ~(uint32_t)BMS_HAS_SOC;
	gw_limits_step_set(&cfg, NULL, &set, &s, 101, WALL0, &st, &o);
	CHECK_NEAR(o.dcl_a, 0, 1e-9);
	pack(&s, 30);
	gw_limits_step_set(&cfg, NULL, &set, &s, 102, WALL0, &st, &o);
	gw_limits_step_set(&cfg, NULL, &set, &s, 200, WALL0, &st, &o);
	CHECK_NEAR(o.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(o.dcl_reason, GW_LR_NONE);
}

static void caps(void)
{
	config();
	struct gw_settings set;
	struct gw_set_bounds b = { .max_charge_a = 50, .max_discharge_a = 60, .full_charge_days = 30 };
	gw_settings_init(&set, &b);
	struct gw_lim_state st;
	struct gw_limits o;
	struct bms_snapshot s;
	gw_limits_init(&st);
	pack(&s, 50);
	gw_limits_step_set(&cfg, NULL, &set, &s, 0, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	uint32_t v[3] = { 100, 255, 10 }; /* CCL 10 A, DCL 25.5 A, lease 10 s */
	CHECK_EQ_INT(gw_settings_write(&set, &b, GW_SET_CCL_CAP, 3, v, GW_ORIGIN_MODBUS, 1, NULL), GW_SET_OK);
	gw_limits_step_set(&cfg, NULL, &set, &s, 1, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 10, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_CAP);
	CHECK_NEAR(o.dcl_a, 25.5, 1e-9);
	CHECK_EQ_INT(o.dcl_reason, GW_LR_CAP);
	CHECK(o.charge_allowed);
	/* a cap of 0 stops that direction */
	v[0] = 0;
	gw_settings_write(&set, &b, GW_SET_CCL_CAP, 1, v, GW_ORIGIN_MODBUS, 2, NULL);
	gw_limits_step_set(&cfg, NULL, &set, &s, 2, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	CHECK(!o.charge_allowed);
	/* the lease runs out at 12 and 11: the limits come back by the ramp */
	double t;
	for (t = 3; t < 60; t++) {
		gw_settings_expire(&set, t, WALL0, 50, 7);
		gw_limits_step_set(&cfg, NULL, &set, &s, t, WALL0, &st, &o);
		if (t < 12)
			CHECK_NEAR(o.ccl_a, 0, 1e-9);
		if (t < 11)
			CHECK_NEAR(o.dcl_a, 25.5, 1e-9);
	}
	CHECK_EQ_INT(set.v[GW_SET_CCL_CAP], GW_SET_CAP_NONE);
	CHECK_NEAR(o.ccl_a, 50, 1e-9);
	CHECK_NEAR(o.dcl_a, 60, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_NONE);
	/* a cap above the limit binds nothing: its reason is not claimed */
	v[0] = 400;
	gw_settings_write(&set, &b, GW_SET_CCL_CAP, 1, v, GW_ORIGIN_MODBUS, t, NULL);
	s.temp_c[0] = 3; /* charge_temp_table empty: fraction 1 */
	gw_limits_step_set(&cfg, NULL, &set, &s, t, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 40, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_CAP);
}

static void force_and_full(void)
{
	config();
	cfg.force_charge_soc = 0;
	struct gw_settings set;
	struct gw_set_bounds b = { .max_charge_a = 50, .max_discharge_a = 60, .full_charge_days = 30 };
	gw_settings_init(&set, &b);
	struct gw_lim_state st;
	struct gw_limits o;
	struct bms_snapshot s;
	gw_limits_init(&st);
	pack(&s, 50);
	gw_limits_step_set(&cfg, NULL, &set, &s, 0, WALL0, &st, &o);
	CHECK(!o.force_charge);
	uint32_t f[2] = { 1, (uint32_t)(WALL0 + 600) };
	gw_settings_write(&set, &b, GW_SET_FORCE, 2, f, GW_ORIGIN_MODBUS, 0, NULL);
	gw_limits_step_set(&cfg, NULL, &set, &s, 1, WALL0, &st, &o);
	CHECK(o.force_charge);
	CHECK(gw_limits_flags(&o) & GW_LIM_F_FORCE_CHARGE);
	/* only while charging is allowed: max_soc reached */
	uint32_t m = 50;
	gw_settings_write(&set, &b, GW_SET_MAX_SOC, 1, &m, GW_ORIGIN_MODBUS, 0, NULL);
	gw_limits_step_set(&cfg, NULL, &set, &s, 2, WALL0, &st, &o);
	CHECK(!o.force_charge);
	m = 100;
	gw_settings_write(&set, &b, GW_SET_MAX_SOC, 1, &m, GW_ORIGIN_MODBUS, 0, NULL);
	gw_limits_step_set(&cfg, NULL, &set, &s, 40, WALL0, &st, &o);
	CHECK(!o.force_charge); /* CCL still 0: the hold */
	gw_limits_step_set(&cfg, NULL, &set, &s, 72, WALL0, &st, &o);
	CHECK_NEAR(o.ccl_a, 10, 1e-9);
	CHECK(o.force_charge);
	/* its end */
	gw_limits_step_set(&cfg, NULL, &set, &s, 73, WALL0 + 600, &st, &o);
	CHECK(!o.force_charge);
	/* full_charge_days: the configured 30, a runtime 2 */
	gw_limits_step_set(&cfg, NULL, &set, &s, 74, WALL0 + 3 * 86400, &st, &o);
	CHECK(!o.full_charge_request);
	uint32_t d = 2;
	gw_settings_write(&set, &b, GW_SET_FULL_DAYS, 1, &d, GW_ORIGIN_MODBUS, 0, NULL);
	gw_limits_step_set(&cfg, NULL, &set, &s, 75, WALL0 + 3 * 86400, &st, &o);
	CHECK(o.full_charge_request);
	d = 0;
	gw_settings_write(&set, &b, GW_SET_FULL_DAYS, 1, &d, GW_ORIGIN_MODBUS, 0, NULL);
	gw_limits_step_set(&cfg, NULL, &set, &s, 76, WALL0 + 300 * 86400, &st, &o);
	CHECK(!o.full_charge_request);
	/* no settings: as before */
	gw_limits_step_set(&cfg, NULL, NULL, &s, 77, WALL0 + 300 * 86400, &st, &o);
	CHECK(o.full_charge_request);
}

/* The bank: its own SOC, its target lowered before the follow. */
static void bank(void)
{
	config();
	struct gw_settings set;
	struct gw_set_bounds b = { .max_charge_a = 100, .max_discharge_a = 120, .full_charge_days = 30 };
	gw_settings_init(&set, &b);
	uint32_t v = 90;
	gw_settings_write(&set, &b, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, NULL);
	struct gw_lim_bank_state bst;
	gw_limits_bank_init(&bst);
	struct gw_limits o = { .enabled = true, .ccl_a = 100, .dcl_a = 120, .charge_allowed = true,
			       .discharge_allowed = true, .mode = GW_LIM_BULK, .volt_valid = true, .cvl_v = 55.2 };
	struct gw_lim_bank_in in = { NULL, 0, true, true, true, 53, 0, 91 };
	gw_limits_bank_settings(&set, &in, WALL0, &bst, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	CHECK_EQ_INT(o.ccl_reason, GW_LR_SOC);
	CHECK(!o.charge_allowed);
	CHECK(bst.latch.hi);
	/* a fail-safe target is left alone */
	struct gw_limits f = { .enabled = true, .failsafe = true, .ccl_reason = GW_LR_STALE };
	gw_limits_bank_settings(&set, &in, WALL0, &bst, &f);
	CHECK_EQ_INT(f.ccl_reason, GW_LR_STALE);
	/* released at 85 % */
	in.soc = 86;
	o.ccl_a = 100;
	o.ccl_reason = GW_LR_NONE;
	gw_limits_bank_settings(&set, &in, WALL0, &bst, &o);
	CHECK_NEAR(o.ccl_a, 0, 1e-9);
	in.soc = 85;
	o.ccl_a = 100;
	o.ccl_reason = GW_LR_NONE;
	gw_limits_bank_settings(&set, &in, WALL0, &bst, &o);
	CHECK_NEAR(o.ccl_a, 100, 1e-9);
	/* a runtime full_charge_days on the bank's own clock */
	uint32_t d = 1;
	gw_settings_write(&set, &b, GW_SET_FULL_DAYS, 1, &d, GW_ORIGIN_MODBUS, 0, NULL);
	gw_limits_bank_settings(&set, &in, WALL0 + 86399, &bst, &o);
	CHECK(!o.full_charge_request);
	gw_limits_bank_settings(&set, &in, WALL0 + 86400, &bst, &o);
	CHECK(o.full_charge_request);
	CHECK(!gw_limits_settings_force(&set, WALL0));
}

/* Whether the latches of pack_limits.c can hold a ceiling hi and a floor lo at
 * once while the SOC walks down from 100 to 0 and back up, in 0.5 %
 * steps, twice (the ceiling latches on the way down from 100, the floor
 * on the way down to 0). */
static bool both_stop(uint32_t hi, uint32_t hh, uint32_t lo, uint32_t lh)
{
	struct gw_settings set;
	gw_settings_init(&set, &bounds);
	set.v[GW_SET_MAX_SOC] = hi; /* straight in: the write would refuse it */
	set.v[GW_SET_MAX_SOC_HYST] = hh;
	set.v[GW_SET_MIN_SOC] = lo;
	set.v[GW_SET_MIN_SOC_HYST] = lh;
	struct gw_lim_latch latch = { 0 };
	for (int pass = 0; pass < 4; pass++)
		for (int k = 0; k <= 200; k++) {
			double soc = pass % 2 ? k * 0.5 : 100 - k * 0.5;
			double ccl = 10, dcl = 10;
			enum gw_lim_reason cr = GW_LR_NONE, dr = GW_LR_NONE;
			gw_limits_settings_apply(&set, true, soc, &latch, &ccl, &cr, &dcl, &dr);
			if (ccl == 0 && dcl == 0)
				return true;
		}
	return false;
}

/* A SOC window that could stop charging and discharging at once is
 * refused (issue 51: max_soc 60 with min_soc 57 and 5 % hysteresis held
 * CCL = DCL = 0 between 57 and 60 with no way out); the rule refuses
 * exactly the windows the latches can deadlock in. */
static void windows(void)
{
	struct gw_settings s;
	gw_settings_init(&s, &bounds);
	uint32_t v = 60;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	v = 57;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MIN_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_DEADLOCK);
	CHECK_EQ_INT(s.v[GW_SET_MIN_SOC], 0);
	CHECK(both_stop(60, 5, 57, 5));
	/* with 2 % each it is a window */
	uint32_t four[4] = { 60, 2, 57, 2 };
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MAX_SOC, 4, four, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	/* a hysteresis that reopens the deadlock is refused too */
	v = 4;
	CHECK_EQ_INT(gw_settings_write(&s, &bounds, GW_SET_MIN_SOC_HYST, 1, &v, GW_ORIGIN_MODBUS, 0, NULL),
		     GW_SET_DEADLOCK);
	CHECK_EQ_INT(s.v[GW_SET_MIN_SOC_HYST], 2);
	/* the rule is exact: taken windows never stop both, refused ones can */
	int wrong = 0;
	for (uint32_t hi = 2; hi < 100; hi += 7)
		for (uint32_t lo = 1; lo < 99; lo += 5)
			for (uint32_t hh = 1; hh <= 20; hh += 6)
				for (uint32_t lh = 1; lh <= 20; lh += 6)
					wrong += gw_settings_deadlock(hi, hh, lo, lh) != both_stop(hi, hh, lo, lh);
	CHECK_EQ_INT(wrong, 0);
	CHECK(!gw_settings_deadlock(100, 5, 99, 5));
	CHECK(!gw_settings_deadlock(1, 5, 0, 5));
	/* against a peer: a pack's max_soc 60 under its bank's min_soc 70 */
	struct gw_settings bankset;
	gw_settings_init(&bankset, &bounds);
	v = 70;
	CHECK_EQ_INT(gw_settings_write(&bankset, &bounds, GW_SET_MIN_SOC, 1, &v, GW_ORIGIN_MODBUS, 0, NULL), GW_SET_OK);
	const struct gw_settings *peer[1] = { &bankset };
	struct gw_set_bounds pb = bounds;
	pb.peers = peer;
	pb.npeers = 1;
	struct gw_settings pack;
	gw_settings_init(&pack, &pb);
	v = 60;
	CHECK_EQ_INT(gw_settings_write(&pack, &pb, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_PEER);
	CHECK_EQ_INT(pack.v[GW_SET_MAX_SOC], 100);
	v = 80;
	CHECK_EQ_INT(gw_settings_write(&pack, &pb, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_OK);
	/* and the other way: the pack's floor against the bank's ceiling */
	v = 90;
	CHECK_EQ_INT(gw_settings_write(&pack, &pb, GW_SET_MIN_SOC, 1, &v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_DEADLOCK);
	v = 30;
	CHECK_EQ_INT(gw_settings_write(&pack, &pb, GW_SET_MIN_SOC, 1, &v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_OK);
	v = 32;
	CHECK_EQ_INT(gw_settings_write(&bankset, &bounds, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_DEADLOCK);
	const struct gw_settings *packs[1] = { &pack };
	struct gw_set_bounds bb = bounds;
	bb.peers = packs;
	bb.npeers = 1;
	v = 75;
	CHECK_EQ_INT(gw_settings_write(&bankset, &bb, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_OK);
	bankset.v[GW_SET_MIN_SOC] = 0;
	v = 33; /* over the pack's floor 30 by less than its 5 % */
	CHECK_EQ_INT(gw_settings_write(&bankset, &bb, GW_SET_MAX_SOC, 1, &v, GW_ORIGIN_MQTT, 0, NULL), GW_SET_PEER);
	CHECK_EQ_INT(bankset.v[GW_SET_MAX_SOC], 75);
	CHECK(gw_settings_refusal(GW_SET_PEER, true) != NULL);
	/* a saved window loads whole, whatever the order of its items */
	struct gw_settings t;
	gw_settings_init(&t, &bounds);
	gw_settings_load(&t, &bounds, "max_soc=60/modbus min_soc=57/mqtt max_soc_hysteresis=2/modbus "
				      "min_soc_hysteresis=2/mqtt");
	CHECK_EQ_INT(t.v[GW_SET_MAX_SOC], 60);
	CHECK_EQ_INT(t.v[GW_SET_MIN_SOC], 57);
	CHECK_EQ_INT(t.v[GW_SET_MIN_SOC_HYST], 2);
	/* a window a reload made deadlock (a pack joined the bank) is let go */
	struct gw_settings r = t;
	bankset.v[GW_SET_MIN_SOC] = 70;
	CHECK_EQ_INT(gw_settings_reconfigure(&r, &pb) & (1u << GW_SET_MAX_SOC), 1u << GW_SET_MAX_SOC);
	CHECK_EQ_INT(r.v[GW_SET_MAX_SOC], 100);
	CHECK_EQ_INT(r.origin[GW_SET_MAX_SOC], GW_ORIGIN_CONFIG);
}

int main(void)
{
	ranges();
	leases();
	words_and_text();
	soc_ceiling();
	soc_floor();
	caps();
	force_and_full();
	bank();
	windows();
	return check_report();
}
