/* SPDX-License-Identifier: MIT */
/* gateway/engine/capacity.c - a pack's full and remaining capacity by the one
 * rule of capacity.h. */
#include "capacity.h"

#include <math.h>

void gw_capacity_rule(const struct bms_snapshot *s, double bms_soc, double capacity, struct gw_ah *o)
{
	bool remain = (s->present & BMS_HAS_REMAIN) && isfinite(s->remain_ah) && s->remain_ah >= 0;
	bool soc = isfinite(bms_soc) && bms_soc >= 0 && bms_soc <= 100;
	o->full_ah = o->remain_ah = NAN;
	if ((s->present & BMS_HAS_FULL) && isfinite(s->full_ah) && s->full_ah > 0)
		o->full_ah = s->full_ah;
	else if (capacity > 0 && isfinite(capacity))
		o->full_ah = capacity;
	else if (remain && soc && bms_soc > 1)
		o->full_ah = s->remain_ah * 100 / bms_soc;
	if (remain)
		o->remain_ah = s->remain_ah;
	else if (soc && o->full_ah > 0)
		o->remain_ah = bms_soc / 100 * o->full_ah;
}

void gw_capacity_apply(struct bms_snapshot *s, double bms_soc, double capacity)
{
	struct gw_ah a;
	gw_capacity_rule(s, bms_soc, capacity, &a);
	s->present &= ~(uint32_t)(BMS_HAS_FULL | BMS_HAS_REMAIN);
	s->full_ah = isfinite(a.full_ah) ? (float)a.full_ah : 0;
	s->remain_ah = isfinite(a.remain_ah) ? (float)a.remain_ah : 0;
	if (isfinite(a.full_ah))
		s->present |= BMS_HAS_FULL;
	if (isfinite(a.remain_ah))
		s->present |= BMS_HAS_REMAIN;
}

uint32_t gw_capacity_provides(uint32_t provides, double capacity)
{
	uint32_t out = provides & (BMS_HAS_FULL | BMS_HAS_REMAIN);
	if (capacity > 0 || (provides & (BMS_HAS_REMAIN | BMS_HAS_SOC)) == (BMS_HAS_REMAIN | BMS_HAS_SOC))
		out |= BMS_HAS_FULL;
	if ((out & BMS_HAS_FULL) && (provides & BMS_HAS_SOC))
		out |= BMS_HAS_REMAIN;
	return out;
}
