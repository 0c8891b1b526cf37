/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_soc_state.c - the state file's counted-SOC record
 * (gateway/engine/soc_record.c: gw_soc_load) read from any text, as a
 * state file someone edited or a disk corrupted, and the estimator
 * (gateway/engine/soc.c) run on what it took.  The input is the rest of a
 * "soc" line.  Invariants: no crash, no read past the text; a record
 * taken has its count within its capacity and its figures finite; written
 * again (as the state file does) it is read again, and written the same
 * (the record round-trips); polls counted over it give a SOC within 0 and
 * 100 %, a remaining charge and a capacity finite or none, an uncertainty
 * finite or none, and a record that is read again. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/engine/soc.h"
#include "../../gateway/model/statefile.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WALL 1767225600 /* unix s: when the record is read */

/* A few polls of a discharge, a rest and a charge over s, then its figures. */
static void count_over(struct gw_soc *s, const struct conf_soc *c)
{
	static const double amps[] = { -20, -20, 0, 0, 15, 15 };
	struct gw_soc_ev ev;
	for (size_t k = 0; k < sizeof(amps) / sizeof(amps[0]); k++) {
		struct gw_soc_in in = { .t = 1000 + 10.0 * (double)k, .current = amps[k], .cell_min_v = 3.29,
					.cell_max_v = 3.31, .cell_avg_v = NAN, .bms_soc = 50, .bms_remain_ah = NAN,
					.bms_full_ah = NAN, .temp_min_c = 20, .temp_max_c = 22 };
		gw_soc_step(s, c, 30, &in, &ev);
	}
	struct gw_soc_out o;
	gw_soc_output(s, c, 50, 1060, &o);
	if (!isnan(o.soc_counted) && !(o.soc_counted >= 0 && o.soc_counted <= 100))
		abort();
	if (!isnan(o.soc) && !(o.soc >= 0 && o.soc <= 100))
		abort();
	if (isinf(o.remaining_ah) || isinf(o.capacity_ah) || isinf(o.soh_measured))
		abort();
	/* the uncertainty: none, or a finite band around a synced count, and
	 * the record stays readable */
	if (!isnan(o.band) && !(isfinite(o.band) && o.band > 0 && (o.flags & GW_SOC_F_SYNCED) &&
				o.band_lo <= o.band_hi && fabs(o.band_lo) < o.band + 0.2 && fabs(o.band_hi) < o.band + 0.2))
		abort();
	static char rec[GW_STATE_LINE_MAX];
	struct gw_soc r;
	if (gw_soc_save(s, 1060, WALL, rec, sizeof(rec)) < 0 || gw_soc_load(&r, rec, WALL, 30) == GW_SOC_LOAD_BAD)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[GW_STATE_LINE_MAX], b[GW_STATE_LINE_MAX];
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	struct gw_soc e, f;
	if (gw_soc_load(&e, s, WALL, 30) != GW_SOC_LOAD_BAD) {
		if (!(e.ah >= 0 && e.ah <= e.cap_ah) || !isfinite(e.cap_ah) || !isfinite(e.full_age) ||
		    !isfinite(e.offset_a))
			abort();
		/* written at the time read, as the state file does at once */
		if (gw_soc_save(&e, 0, WALL, a, sizeof(a)) < 0 || gw_soc_load(&f, a, WALL, 30) != GW_SOC_LOAD_RESUMED ||
		    gw_soc_save(&f, 0, WALL, b, sizeof(b)) < 0 || strcmp(a, b) != 0)
			abort();
		struct conf_soc c;
		conf_soc_defaults(&c, CONF_CHEM_LFP);
		c.capacity = 280;
		count_over(&e, &c);
	}
	free(s);
	return 0;
}
