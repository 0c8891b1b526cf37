/* SPDX-License-Identifier: MIT */
/* gateway/inverter/bydframes.c - BYD's HVS frames at any identifier
 * (bydframes.h; PROTOCOLS.md §9, §18). */
#include "bydframes.h"

#include <string.h>

#include "canframes.h"
#include "invscale.h"

const char inv_byd_vendor[9] = "\0BYD\0\0\0\0";
const char inv_byd_hvs_name[4][9] = { "\0Battery", "\x01-Box Pr", "\x02" "emium H", "\x03VS\0\0\0\0\0" };

void inv_byd_limits(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	struct inv_cf_limits l;

	inv_cf_limits(b, &l);
	inv_cf_begin(f, id, 8);
	inv_cf_put16x4be(f->data, l.cvl, l.dvl, l.dcl, l.ccl);
}

void inv_byd_soc(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	inv_cf_begin(f, id, 8);
	inv_cf_put16be(f->data, inv_cf_soc(b, 100, 0));
	inv_cf_put16be(f->data + 2, inv_has(b, INV_HAS_SOH, b->soh) ? inv_scale(b->soh, 100, INV_NEAR, 0, 10000) : 10000);
	inv_cf_put16be(f->data + 4, inv_has(b, INV_HAS_REMAIN, b->remain_ah) ?
		      inv_scale(b->remain_ah, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16be(f->data + 6, inv_has(b, INV_HAS_FULL, b->full_ah) ?
		      inv_scale(b->full_ah, 10, INV_NEAR, 0, 0xFFFF) : 0);
}

void inv_byd_meas(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, uint8_t state)
{
	inv_cf_begin(f, id, 8);
	inv_cf_put16be(f->data, inv_has(b, INV_HAS_VOLTAGE, b->voltage) ?
		      inv_scale(b->voltage, 10, INV_NEAR, 0, 0xFFFF) : 0);
	inv_cf_put16be(f->data + 2, inv_has(b, INV_HAS_CURRENT, b->current) ?
		      inv_scale(b->current, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	inv_cf_put16be(f->data + 4, inv_has(b, INV_HAS_TEMP, b->temp_c) ?
		      inv_scale(b->temp_c, 10, INV_NEAR, -0x7FFF, 0x7FFF) : 0);
	f->data[6] = state;
	f->data[7] = 0x08;
}

void inv_byd_temps(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id)
{
	float hi, lo;

	inv_cf_temp_extremes(b, &hi, &lo);
	inv_cf_begin(f, id, 8);
	inv_cf_put16be(f->data, inv_scale(hi, 10, INV_NEAR, -0x7FFF, 0x7FFF));
	inv_cf_put16be(f->data + 2, inv_scale(lo, 10, INV_NEAR, -0x7FFF, 0x7FFF));
}

bool inv_byd_const(struct gw_can_frame *f, uint32_t id, const char *bytes)
{
	inv_cf_begin(f, id, 8);
	memcpy(f->data, bytes, 8);
	return true;
}
