/* SPDX-License-Identifier: MIT */
/* gateway/inverter/sxfamily.c - the frames the SolaX / FoxESS V1 family
 * shares (sxfamily.h; PROTOCOLS.md §11, §12). */
#include "sxfamily.h"

#include <string.h>

#include "invident.h"
#include "invscale.h"

void sx_begin(struct gw_can_frame *f, uint32_t id)
{
	inv_cf_begin(f, id, 8);
	f->ext = true;
}

void sx_encoded(const struct inv_battery *b, struct inv_encoded *e)
{
	inv_cf_encoded(b, e);
}

bool sx_1872(const struct inv_battery *b, struct gw_can_frame *f)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	sx_begin(f, 0x1872);
	inv_cf_put16x4(f->data, l.cvl, l.dvl, l.ccl, l.dcl);
	return true;
}

bool sx_1873(const struct inv_battery *b, struct gw_can_frame *f)
{
	sx_begin(f, 0x1873);
	inv_cf_put16(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ? inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		     inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	f->data[4] = (uint8_t)inv_cf_soc(b, 1, 0);
	inv_cf_put16(f->data + 6, inv_scale(inv_remain_wh(b), 0.1, INV_FLOOR, 0, 0xFFFF));
	return true;
}

long sx_temp(float t)
{
	return inv_scale(t, 10, INV_NEAR, -0x7FFF, 0x7FFF);
}

long sx_cell_max(const struct inv_battery *b)
{
	return (b->present & INV_HAS_CELL_MINMAX) ? b->cell_max_mv : 0;
}

long sx_cell_min(const struct inv_battery *b)
{
	return (b->present & INV_HAS_CELL_MINMAX) ? b->cell_min_mv : 0;
}

void sx_put1874(const struct inv_battery *b, struct gw_can_frame *f, double per_mv)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	sx_begin(f, 0x1874);
	inv_cf_put16(f->data, sx_temp(hi));
	inv_cf_put16(f->data + 2, sx_temp(lo));
	inv_cf_put16(f->data + 4, inv_scale(sx_cell_max(b), per_mv, INV_NEAR, 0, 0xFFFF));
	inv_cf_put16(f->data + 6, inv_scale(sx_cell_min(b), per_mv, INV_NEAR, 0, 0xFFFF));
}

long sx_mean_temp(const struct inv_battery *b)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	return sx_temp((hi + lo) / 2);
}

bool sx_is_request(const struct gw_can_frame *f)
{
	return !f->rtr && f->ext && f->id == SX_REQUEST_ID && f->dlc <= GW_CAN_MAX_DLC;
}

bool sx_payload_is(const struct gw_can_frame *f, const uint8_t want[8])
{
	return f->dlc == 8 && memcmp(f->data, want, 8) == 0;
}
