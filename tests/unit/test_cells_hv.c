/* SPDX-License-Identifier: MIT */
/* tests/unit/test_cells_hv.c - a high-voltage pack's 108 cells (a Tesla
 * Model 3's bricks; issue 101) through every output that is pure: a
 * snapshot holds them (BMS_MAX_CELLS 192) and the plausibility table takes
 * them, 193 refused; the cell statistics over all of them (the highest
 * cell the 108th); the register map's cells 1-32 at offsets 20-35 and
 * 83-98, the count 108 at offset 40, the extremes of all 108 at offsets
 * 4-7, nothing moved and the unused offsets 36-39 0; --ha-yaml's cells
 * the map's 32; the history's sample and its cells BLOB (216 bytes, all
 * 108 back); the influx line with cell_108 in one line; Home Assistant
 * discovery's cell_108 with `cells = enabled`, no cell_109; the health
 * engine's per-cell resistance for every cell (cell 108's its own); the
 * balancing bits kept whole for a list longer than 32.  /api/state,
 * MQTT's state, /metrics, the history's queries and the page:
 * tests/integration/test_hv_packs.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../conf/conf.h"
#include "../../gateway/engine/health.h"
#include "../../gateway/ha/discovery.h"
#include "../../gateway/history/history_int.h"
#include "../../gateway/influx/line.h"
#include "../../registers/regmap.h"
#include "check.h"

#define N 108

/* 108 cells 3600 + i mV (the 108th the highest, 3707), 399.4 V. */
static void pack108(struct bms_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_CELLS | BMS_HAS_SOC;
	s->ncells = N;
	double sum = 0;
	for (int i = 0; i < N; i++) {
		s->cell_mv[i] = (uint16_t)(3600 + i);
		sum += s->cell_mv[i];
	}
	s->voltage = (float)(sum / 1000.0);
	s->current = 12.5f;
	s->soc = 81;
}

static void test_snapshot(void)
{
	struct bms_snapshot s;
	pack108(&s);
	struct bms_implausible why;
	CHECK(bms_plausible(&s, &why));
	struct bms_cell_stats cs;
	bms_cell_stats(&s, &cs);
	CHECK_EQ_INT(cs.from, BMS_CELLS_LIST);
	CHECK_EQ_INT(cs.min_mv, 3600);
	CHECK_EQ_INT(cs.max_mv, 3707);
	CHECK_EQ_INT(cs.max_idx, 108);
	CHECK_EQ_INT(cs.min_idx, 1);
	CHECK_EQ_INT(cs.avg_mv, 3654); /* 3653.5 rounded */
	/* the balancing bits of a list longer than 32: kept as the BMS said */
	s.balance = 0x80000001u;
	s.present |= BMS_HAS_BALANCE;
	CHECK_EQ_INT(bms_check_pack(&s, false), BMS_OK);
	CHECK(s.balance == 0x80000001u);
	/* 192 fit, 193 never */
	s.ncells = BMS_MAX_CELLS;
	for (int i = N; i < BMS_MAX_CELLS; i++)
		s.cell_mv[i] = 3600;
	s.voltage = 0;
	for (int i = 0; i < BMS_MAX_CELLS; i++)
		s.voltage += s.cell_mv[i] / 1000.0f;
	CHECK(bms_plausible(&s, &why));
	s.ncells = BMS_MAX_CELLS + 1;
	CHECK(!bms_plausible(&s, &why));
	CHECK(strstr(why.field, "cell count") != NULL);
}

static void test_registers(void)
{
	struct bms_snapshot s;
	pack108(&s);
	uint16_t regs[REG_MAP_SIZE];
	memset(regs, 0xAA, sizeof(regs));
	reg_encode_data(&s, REG_FLOAT_CDAB, regs);
	for (int i = 0; i < 16; i++) {
		CHECK_EQ_INT(regs[20 + i], 3600 + i);
		CHECK_EQ_INT(regs[83 + i], 3616 + i);
	}
	CHECK_EQ_INT(regs[40], N);
	for (int o = 36; o <= 38; o++) /* the heater's, absent: no cell beyond 32 spills into them */
		CHECK_EQ_INT(regs[o], 0);
	CHECK_EQ_INT(regs[39], 0x8000); /* the heating start temperature, absent */
	CHECK_EQ_INT(regs[6], 3707); /* the highest cell of all 108, beyond the map's 32 */
	CHECK_EQ_INT(regs[7], 3600);
	CHECK_EQ_INT(regs[4], 107);
	CHECK_EQ_INT(regs[99], regs[99]); /* the status block is not the data encoder's */
	/* --ha-yaml: a sensor for each of the map's 32 cells, none beyond */
	char *text = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&text, &len);
	reg_write_ha_sensors(o, 290, REG_FLOAT_CDAB, 1, "HV", "hv", N, false, false, false, BMS_HAS_CELLS, 10);
	fclose(o);
	CHECK(strstr(text, "bmsgw_hv_cell_32\n") != NULL);
	CHECK(strstr(text, "bmsgw_hv_cell_33") == NULL);
	free(text);
}

static void test_history(void)
{
	struct bms_snapshot s;
	pack108(&s);
	struct gw_hsample h;
	gw_history_sample(&h, 1000, "hv", true, &s, NULL);
	CHECK(h.have & GW_HS_CELL_MV);
	CHECK_EQ_INT(h.ncells, N);
	CHECK_NEAR(h.cell_max, 3707, 1e-6);
	uint8_t blob[2 * BMS_MAX_CELLS];
	CHECK_EQ_INT(gw_hist_cells_encode(&h, blob), 2 * N);
	int mv[BMS_MAX_CELLS];
	CHECK_EQ_INT(gw_hist_cells_decode(blob, 2 * N, mv), N);
	CHECK_EQ_INT(mv[0], 3600);
	CHECK_EQ_INT(mv[N - 1], 3707);
}

static void test_influx(void)
{
	struct bms_snapshot s;
	pack108(&s);
	char buf[IX_LINE_MAX];
	struct ix_line l;
	ix_line_start(&l, buf, sizeof(buf), "bmsgw", "site", "hv");
	ix_line_snapshot(&l, &s, NULL);
	CHECK(ix_line_end(&l, 1700000000) > 0);
	CHECK(strstr(buf, ",cell_01=3600,") != NULL);
	CHECK(strstr(buf, ",cell_108=3707,") != NULL);
	CHECK(strstr(buf, "cell_max_mv=3707") != NULL);
}

struct sink {
	char *text;
	size_t len;
	FILE *o;
};

static void emit(void *ctx, const char *topic, const char *payload)
{
	struct sink *k = ctx;
	fprintf(k->o, "%s %s\n", topic, payload);
}

/* The cells whose sensor text announces (topics ".../cell_NN/config "). */
static int cell_configs(const char *text)
{
	int n = 0;
	for (int c = 1; c <= BMS_MAX_CELLS + 1; c++) {
		char t[32];
		snprintf(t, sizeof(t), "/cell_%02d/config ", c);
		n += strstr(text, t) != NULL;
	}
	return n;
}

static void test_discovery(void)
{
	static struct conf c;
	char err[CONF_ERR_MAX];
	CHECK_EQ_INT(conf_load_string("[pack.hv]\nprotocol = daly\nport = /dev/ttyUSB0\n[mqtt]\nhost = 127.0.0.1\n"
				      "client_id = gw1\ncells = enabled\n",
				      "t.ini", &c, err, sizeof(err)),
		     0);
	struct sink k = { NULL, 0, NULL };
	k.o = open_memstream(&k.text, &k.len);
	gw_disc_pack(&c, &c.packs[0], N, 2, emit, &k);
	fclose(k.o);
	CHECK(strstr(k.text, "/cell_108/config ") != NULL);
	CHECK(strstr(k.text, "/cell_109/config") == NULL);
	CHECK(strstr(k.text, "cells_mv[107]") != NULL);
	CHECK_EQ_INT(cell_configs(k.text), N);
	free(k.text);

}

static void test_health(void)
{
	struct gw_health h;
	gw_health_init(&h);
	struct gw_health_params p = { .min_step_a = 10, .max_gap_s = 2, .knee_high_mv = 4100, .knee_low_mv = 3300,
				      .knee_hyst_mv = 100, .rest_a = 1, .rest_s = 1800, .capacity_ah = 200 };
	/* current steps of 50 A every other poll; cell i 1 mOhm, cell 108 3 mOhm */
	for (int k = 0; k < 40; k++) {
		struct bms_snapshot s;
		pack108(&s);
		double amps = k % 2 ? 60 : 10;
		for (int i = 0; i < N; i++)
			s.cell_mv[i] = (uint16_t)lround(3650 + amps * (i == N - 1 ? 3 : 1));
		s.current = (float)amps;
		gw_health_step(&h, &p, &s, k, 20000);
	}
	struct gw_health_out o;
	gw_health_output(&h, &p, 20000, &o);
	CHECK_EQ_INT(o.ncells, N);
	CHECK(isfinite(o.cell_ir_mohm[0]) && isfinite(o.cell_ir_mohm[N - 1]));
	CHECK_NEAR(o.cell_ir_mohm[0], 1.0, 0.05);
	CHECK_NEAR(o.cell_ir_mohm[N - 1], 3.0, 0.05);
	CHECK(!isfinite(o.cell_ir_mohm[N]) || o.cell_ir_samples[N] == 0);
}

int main(void)
{
	test_snapshot();
	test_registers();
	test_history();
	test_influx();
	test_discovery();
	test_health();
	return check_report();
}
