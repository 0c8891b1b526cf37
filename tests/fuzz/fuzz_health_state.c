/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_health_state.c - the state file's cell-health records
 * (gateway/model/health_gw.c: hir, hknee, hday) read from any text, as a
 * state file someone edited or a disk corrupted.  The input is up to three
 * lines, the rest of an hir, an hknee and an hday line.  Invariants: no
 * crash, no read past the text; every window in bounds, its estimate
 * positive and finite; what is read is written again the same after a
 * second reading (the records round-trip); the figures are finite or
 * none. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/model/gw.h"
#include "../../gateway/model/health_gw.h"
#include "../../gateway/model/statefile.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct gw_state_record *const recs[] = { &gw_health_ir_record, &gw_health_knee_record,
						      &gw_health_day_record };

static void check_est(const struct gw_ir_est *e)
{
	float v;
	if (e->n > GW_IR_WINDOW || e->next >= GW_IR_WINDOW)
		abort();
	if (gw_ir_value(e, &v) && !(v > 0 && isfinite(v)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_pack p, q;
	static char a[GW_STATE_LINE_MAX], b[GW_STATE_LINE_MAX];
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	gw_health_init(&p.health_est);
	gw_health_init(&q.health_est);
	char *line = s;
	for (int r = 0; r < 3 && line; r++) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		recs[r]->load(NULL, &p, line);
		line = next;
	}
	check_est(&p.health_est.pack);
	for (int c = 0; c < BMS_MAX_CELLS; c++)
		check_est(&p.health_est.cell[c]);
	for (int r = 0; r < 3; r++) {
		bool ha = recs[r]->save(NULL, &p, a, sizeof(a));
		if (!ha)
			continue;
		recs[r]->load(NULL, &q, a);
		if (!recs[r]->save(NULL, &q, b, sizeof(b)) || strcmp(a, b) != 0)
			abort();
	}
	struct gw_health_params hp = { .min_step_a = 28, .max_gap_s = 2, .knee_high_mv = 3450, .knee_low_mv = 3000,
				       .knee_hyst_mv = 100, .rest_a = 2.8, .rest_s = 1800, .capacity_ah = 280 };
	struct gw_health_out o;
	p.health_est.ncells = 16;
	gw_health_output(&p.health_est, &hp, 20450, &o);
	if (isinf(o.ir_mohm) || isinf(o.ir_rise_pct) || isinf(o.spread_full_trend) || isinf(o.weak_deficit_pct))
		abort();
	free(s);
	return 0;
}
