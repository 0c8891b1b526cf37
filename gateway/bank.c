/* gateway/bank.c - the bank unit: one virtual pack aggregating the fresh
 * packs of a parallel bank, computed on demand from the packs' last
 * complete snapshots (so it is never fresher or staler than they are).
 *
 *   voltage   mean of the fresh packs          current, power   sum
 *   remaining, full capacity   sum             SOC   capacity-weighted
 *   SOH   mean    cycles   max    MOS temperature   max
 *   temperature sensor n   average temperature of bank pack n (n <= 8)
 *   MOSFETs   on only if on in every fresh pack     alarms   OR of all
 *   cells     min / max / mean across every cell of every fresh pack,
 *             with the pack (bank position) and cell number
 *   deviation a fresh pack whose voltage departs from the median of the
 *             other fresh packs by more than max_deviation (needs 2 packs)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* Median of v[0..n) without v[skip]. */
static float median_without(const float *v, int n, int skip)
{
	float t[CONF_MAX_PACKS];
	int m = 0;
	for (int i = 0; i < n; i++)
		if (i != skip)
			t[m++] = v[i];
	qsort(t, (size_t)m, sizeof(t[0]), cmp_float);
	return m % 2 ? t[m / 2] : (t[m / 2 - 1] + t[m / 2]) / 2;
}

void gw_bank_compute(const struct gw *gw, struct gw_bank_state *out)
{
	const struct conf_bank *cb = &gw->conf->bank;
	struct bms_snapshot *s = &out->snap;
	struct reg_bank *b = &out->rb;
	memset(out, 0, sizeof(*out));
	out->configured = (uint16_t)cb->npacks;

	float volts[CONF_MAX_PACKS];
	int vpos[CONF_MAX_PACKS], nv = 0;
	double soc_w = 0, soc_sum = 0, soh_sum = 0;
	bool tset[BMS_MAX_TEMPS] = {false};
	int n_soc = 0, n_soh = 0, n_full = 0, n_temp = 0;
	uint32_t cell_sum = 0, cell_n = 0;
	bool all_mos = true;
	bool weights_ok = true;

	/* SOC weights: full capacity, else remaining / SOC; equal if any is unknown */
	for (int k = 0; k < cb->npacks; k++) {
		const struct gw_pack *p = gw->packs[cb->pack_idx[k]];
		if (!gw_pack_online(gw, p) || !(p->snap.present & BMS_HAS_SOC))
			continue;
		const struct bms_snapshot *ps = &p->snap;
		if (!(ps->present & BMS_HAS_FULL) &&
		    !((ps->present & BMS_HAS_REMAIN) && ps->soc > 1.0f))
			weights_ok = false;
	}

	for (int k = 0; k < cb->npacks; k++) {
		const struct gw_pack *p = gw->packs[cb->pack_idx[k]];
		if (!gw_pack_online(gw, p))
			continue;
		const struct bms_snapshot *ps = &p->snap;
		out->online++;
		out->online_mask |= 1u << (k & 31);
		out->alarms |= ps->alarms;
		if (ps->present & BMS_HAS_VOLTAGE) {
			volts[nv] = ps->voltage;
			vpos[nv++] = k;
		}
		if (ps->present & BMS_HAS_CURRENT) {
			s->current += ps->current;
			s->present |= BMS_HAS_CURRENT;
		}
		if (ps->present & BMS_HAS_POWER) {
			s->power += ps->power;
			s->present |= BMS_HAS_POWER;
		}
		if (ps->present & BMS_HAS_REMAIN) {
			s->remain_ah += ps->remain_ah;
			s->present |= BMS_HAS_REMAIN;
		}
		if (ps->present & BMS_HAS_FULL) {
			s->full_ah += ps->full_ah;
			n_full++;
		}
		if (ps->present & BMS_HAS_SOC) {
			double w = 1.0;
			if (weights_ok)
				w = (ps->present & BMS_HAS_FULL) ? ps->full_ah : ps->remain_ah * 100.0 / ps->soc;
			soc_sum += w * ps->soc;
			soc_w += w;
			n_soc++;
		}
		if (ps->present & BMS_HAS_SOH) {
			soh_sum += ps->soh;
			n_soh++;
		}
		if (ps->present & BMS_HAS_CYCLES) {
			if (ps->cycles > s->cycles)
				s->cycles = ps->cycles;
			s->present |= BMS_HAS_CYCLES;
		}
		if (ps->present & BMS_HAS_MOS_TEMP) {
			if (!(s->present & BMS_HAS_MOS_TEMP) || ps->mos_temp_c > s->mos_temp_c)
				s->mos_temp_c = ps->mos_temp_c;
			s->present |= BMS_HAS_MOS_TEMP;
		}
		if (ps->present & BMS_HAS_MOSFETS) {
			all_mos = all_mos && ps->chg_mos;
			s->dsg_mos = (s->present & BMS_HAS_MOSFETS) ? (s->dsg_mos && ps->dsg_mos) : ps->dsg_mos;
			s->chg_mos = all_mos;
			s->present |= BMS_HAS_MOSFETS;
		}
		if ((ps->present & BMS_HAS_TEMPS) && ps->ntemps > 0) {
			double t = 0;
			int n = 0;
			for (unsigned i = 0; i < ps->ntemps && i < BMS_MAX_TEMPS; i++)
				if (isfinite(ps->temp_c[i])) {
					t += ps->temp_c[i];
					n++;
				}
			if (n && k < BMS_MAX_TEMPS) {
				s->temp_c[k] = (float)(t / n);
				tset[k] = true;
				n_temp++;
			}
		}
		if ((ps->present & BMS_HAS_CELLS) && ps->ncells > 0) {
			for (unsigned i = 0; i < ps->ncells && i < BMS_MAX_CELLS; i++) {
				uint16_t mv = ps->cell_mv[i];
				if (!b->have_cells || mv < b->min_mv) {
					b->min_mv = mv;
					b->min_pack = (uint8_t)(k + 1);
					b->min_cell = (uint8_t)(i + 1);
				}
				if (!b->have_cells || mv > b->max_mv) {
					b->max_mv = mv;
					b->max_pack = (uint8_t)(k + 1);
					b->max_cell = (uint8_t)(i + 1);
				}
				b->have_cells = true;
				cell_sum += mv;
				cell_n++;
			}
		}
	}
	if (out->online == 0)
		return;
	s->present |= BMS_HAS_ALARMS;
	s->alarms = out->alarms;
	if (nv) {
		double v = 0;
		for (int i = 0; i < nv; i++)
			v += volts[i];
		s->voltage = (float)(v / nv);
		s->present |= BMS_HAS_VOLTAGE;
	}
	if (n_full && n_full == out->online)
		s->present |= BMS_HAS_FULL;
	else
		s->full_ah = 0;
	if (n_soc && soc_w > 0) {
		s->soc = (float)(soc_sum / soc_w);
		s->present |= BMS_HAS_SOC;
	}
	if (n_soh) {
		s->soh = (float)(soh_sum / n_soh);
		s->present |= BMS_HAS_SOH;
	}
	if (n_temp) {
		/* sensor n = bank pack n; packs without a temperature read absent (NaN) */
		unsigned last = 0;
		for (unsigned k = 0; k < BMS_MAX_TEMPS; k++)
			if (tset[k])
				last = k + 1;
		for (unsigned k = 0; k < last; k++)
			if (!tset[k])
				s->temp_c[k] = NAN;
		s->ntemps = (uint8_t)last;
		s->present |= BMS_HAS_TEMPS;
	}
	if (cell_n)
		b->avg_mv = (uint16_t)((cell_sum + cell_n / 2) / cell_n);
	if ((s->present & BMS_HAS_CURRENT))
		s->state = s->current > 0.05f ? 1 : s->current < -0.05f ? 2 : 0;
	/* a pack that left a parallel bank sits at another voltage */
	for (int i = 0; nv >= 2 && i < nv; i++) {
		float med = median_without(volts, nv, i);
		if (fabsf(volts[i] - med) > (float)cb->max_deviation) {
			b->deviation = true;
			b->deviation_mask |= 1u << (vpos[i] & 31);
		}
	}
	bms_snapshot_derive(s);
}
