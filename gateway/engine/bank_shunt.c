/* SPDX-License-Identifier: MIT */
/* gateway/engine/bank_shunt.c - a shunt as the bank's meter ([bank] shunt),
 * pure (bank.h).  The packs give the bank its cells, temperatures, alarms,
 * voltage and limits; a fresh shunt measures what flows through the whole
 * bank:
 *
 *   current, power   the shunt's (its power, else the bank's voltage times
 *                    its current), the state from that current
 *   SOC              the shunt's own, when it gives one; its remaining and
 *                    full Ah by the capacity rule (capacity.h) over the
 *                    shunt: its BMS's, else its [soc] capacity, else the
 *                    packs' full Ah (the bank's, while no pack is missing
 *                    and every fresh pack's is known), else none; the
 *                    counted SOC its own count (soc.h)
 *
 * A shunt without a SOC leaves the packs' SOC and counts; a shunt not
 * fresh leaves everything to the packs (the caller logs the change).
 * Nothing is taken from a shunt while the bank has no fresh member.
 */
#include <math.h>

#include "bank.h"
#include "capacity.h"

unsigned gw_bank_shunt_bits(const struct gw_bank_shunt *s)
{
	return (s->current ? 1u : 0u) | (s->soc ? 2u : 0u) | (s->configured && !s->current ? 4u : 0u);
}

/* The shunt's SOC and capacities into the bank's one rule (banksoc.h). */
static void shunt_soc(const struct gw_bank_shunt_in *in, struct gw_bank_state *out)
{
	struct gw_bank_soc *o = &out->soc;
	/* the packs' full Ah is the bank's only while none is missing: a stale
	 * pack's share would be lost from a SOC of the whole bank */
	double cap = in->capacity > 0 ? in->capacity : isfinite(o->full_ah) && !out->missing ? o->full_ah : 0;
	struct gw_ah a;
	gw_capacity_rule(in->snap, in->bms_soc, cap, &a);
	o->soc_bms = fmin(fmax(in->bms_soc, 0), 100);
	o->remain_ah = a.remain_ah;
	o->full_ah = a.full_ah;
	o->in_soc = o->left_out = 0;
	o->counted = *in->counted;
	out->shunt.soc = true;
	gw_bank_soc_apply(out);
}

void gw_bank_shunt_apply(const struct gw_bank_shunt_in *in, double state_threshold, struct gw_bank_state *out)
{
	const struct bms_snapshot *s = in->snap;
	out->shunt = (struct gw_bank_shunt){ .configured = true };
	if (!out->online || !s || !(s->present & BMS_HAS_CURRENT) || !isfinite(s->current))
		return;
	struct bms_snapshot *b = &out->snap;
	b->current = s->current;
	b->present |= BMS_HAS_CURRENT;
	b->present &= ~(uint32_t)BMS_HAS_POWER;
	b->power = 0;
	if ((s->present & BMS_HAS_POWER) && isfinite(s->power)) {
		b->power = s->power;
		b->present |= BMS_HAS_POWER;
	}
	bms_snapshot_derive(b);
	b->state = 0;
	bms_snapshot_state(b, (float)state_threshold);
	out->shunt.current = true;
	if (isfinite(in->bms_soc) && in->counted)
		shunt_soc(in, out);
}
