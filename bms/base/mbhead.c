/* SPDX-License-Identifier: MIT */
/* bms/base/mbhead.c - the head of the register map that buknuwo and gobel
 * share (bms/PROTOCOLS.md §52, §65, with their sources): registers 0..7 of
 * a read from 0 (see mbmaster.h). */
#include "../mbmaster.h"

int bms_mb_head(struct bms_poll *poll, const uint8_t *d, uint16_t full_reg)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soc = bms_mb_reg(d, 0, 2), soh = bms_mb_reg(d, 0, 3);
	if (soc > 100 || soh > 100)
		return BMS_E_RANGE;
	s->current = (float)bms_mb_sreg(d, 0, 0) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_mb_reg(d, 0, 1) / 100.0f;
	s->soc = (float)soc;
	s->soh = (float)soh;
	s->remain_ah = (float)bms_mb_reg(d, 0, 4) / 100.0f;
	s->full_ah = (float)bms_mb_reg(d, 0, full_reg) / 100.0f;
	s->cycles = bms_mb_reg(d, 0, 7);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		      BMS_HAS_CYCLES;
	if (s->full_ah > 0.0f)
		s->present |= BMS_HAS_FULL;
	return BMS_OK;
}

void bms_mb_problems(struct bms_snapshot *s, const uint8_t *d, uint16_t first, const uint16_t mask[3])
{
	s->nraw = 3;
	s->alarms = 0;
	for (unsigned i = 0; i < 3; i++) {
		s->raw_alarms[i] = bms_mb_reg(d, 0, (uint16_t)(first + i));
		if (s->raw_alarms[i] & mask[i])
			s->alarms = BMS_AL_OTHER;
	}
	s->present |= BMS_HAS_ALARMS;
}
