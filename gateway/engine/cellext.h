/* SPDX-License-Identifier: MIT */
/* gateway/engine/cellext.h - the lowest and the highest cell over the
 * members of a bank or a string (pure): each with its member and its
 * number there, the mean of the listed cells.  A member without a cell
 * list counts with its BMS's own highest and lowest cell (bms_cell_stats()
 * BMS_CELLS_EXT); the mean is then no longer every cell's.  A member whose
 * BMS gives its own extremes beside a list that is not every cell (ubms-can's
 * modules in parallel) counts them too where they lie beyond the list's
 * (number 0). */
#ifndef GATEWAY_ENGINE_CELLEXT_H
#define GATEWAY_ENGINE_CELLEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bms/bms.h"

/* One cell: its mV, its member (1-based), its number in the member (0: not
 * known) and among the listed cells of every member (0: not listed). */
struct gw_cell_pick {
	uint16_t mv;
	uint8_t member, cell;
	uint16_t pos;
};

struct gw_cell_ext {
	bool have;                     /* a cell counted */
	struct gw_cell_pick lo, hi;
	uint32_t sum, n;               /* the listed cells' mV and count */
	uint16_t listed;               /* the cells listed so far: the next one's pos - 1 */
	bool bms_only;                 /* a member gave its BMS's extremes only */
};

/* The cells of member (1-based) ps into e, after those added before. */
void gw_cell_ext_add(struct gw_cell_ext *e, uint8_t member, const struct bms_snapshot *ps);

#endif
