/* SPDX-License-Identifier: MIT */
/* bms/base/vatrermap.c - the Vatrer register map's status and cell
 * registers (bms/vatrermap.h; bms/PROTOCOLS.md §50.2), read by vatrer and
 * c4s. */
#include "../vatrermap.h"

#include "../mbmaster.h"

int bms_vatrer_status(struct bms_poll *poll, const uint8_t *d, uint16_t start)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soc = bms_mb_reg(d, start, 3), soh = bms_mb_reg(d, start, 7);
	if (soc > 100 || soh > 100)
		return BMS_E_RANGE;
	s->voltage = (float)bms_mb_reg(d, start, 0) / 100.0f;
	s->current = (float)(int32_t)bms_mb_reg32(d, start, 1) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->soc = (float)soc;
	s->remain_ah = (float)bms_mb_reg(d, start, 4) / 100.0f;
	s->cycles = bms_mb_reg(d, start, 6);
	s->soh = (float)soh;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CYCLES | BMS_HAS_SOH;
	return BMS_OK;
}

int bms_vatrer_cells(struct bms_poll *poll, const uint8_t *d, uint16_t start)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = bms_mb_reg(d, start, 0x15);
	if (n > BMS_VT_CELLS)
		return BMS_E_RANGE;
	s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < n ? poll->cells_forced : n);
	for (unsigned i = 0; i < s->ncells; i++)
		s->cell_mv[i] = bms_mb_reg(d, start, (uint16_t)(0x16 + i));
	s->present |= BMS_HAS_CELLS;
	return BMS_OK;
}
