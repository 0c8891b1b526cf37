/* SPDX-License-Identifier: MIT */
/* gateway/engine/cellext.c - the lowest and the highest cell over members
 * (cellext.h): the one rule the bank's packs and a string's members are
 * read by. */
#include "cellext.h"

static void put(struct gw_cell_ext *e, struct gw_cell_pick lo, struct gw_cell_pick hi)
{
	if (!e->have || lo.mv < e->lo.mv)
		e->lo = lo;
	if (!e->have || hi.mv > e->hi.mv)
		e->hi = hi;
	e->have = true;
}

void gw_cell_ext_add(struct gw_cell_ext *e, uint8_t member, const struct bms_snapshot *ps)
{
	if (!(ps->present & BMS_HAS_CELLS) || !ps->ncells) {
		struct bms_cell_stats cs;
		bms_cell_stats(ps, &cs);
		if (cs.from != BMS_CELLS_EXT)
			return;
		put(e, (struct gw_cell_pick){ cs.min_mv, member, cs.min_idx, 0 },
		    (struct gw_cell_pick){ cs.max_mv, member, cs.max_idx, 0 });
		e->bms_only = true;
		return;
	}
	unsigned n = ps->ncells < BMS_MAX_CELLS ? ps->ncells : BMS_MAX_CELLS;
	for (unsigned i = 0; i < n; i++) {
		struct gw_cell_pick c = { ps->cell_mv[i], member, (uint8_t)(i + 1), (uint16_t)(e->listed + i + 1) };
		put(e, c, c);
		e->sum += c.mv;
		e->n++;
	}
	e->listed = (uint16_t)(e->listed + n);
	struct bms_cell_stats cs;
	bms_cell_stats(ps, &cs);
	if (!cs.min_idx || !cs.max_idx) /* the BMS's own beyond a list that is not every cell */
		put(e, (struct gw_cell_pick){ cs.min_mv, member, 0, 0 }, (struct gw_cell_pick){ cs.max_mv, member, 0, 0 });
}
