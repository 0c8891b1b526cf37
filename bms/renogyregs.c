/* SPDX-License-Identifier: MIT */
/* bms/renogyregs.c - the registers Renogy's smart batteries share (see
 * renogyregs.h; bms/PROTOCOLS.md §24). */
#include "renogyregs.h"

#include <string.h>

#include "mbmaster.h"

#define RNG_MAX_CELLS 16
#define RNG_MAX_TEMPS 16

#define L2 BMS_AL_PROTECTION
/* words: 0 status 1 (5106), 1 status 2 (5107) */
static const struct bms_alarm_rule rng_rules[] = {
	{ 0, 0, BMS_AL_SHORT | L2 }, { 0, 4, BMS_AL_CHG_OC | L2 }, { 0, 5, BMS_AL_DSG_OC | L2 },
	{ 0, 6, BMS_AL_PACK_OV | L2 }, { 0, 7, BMS_AL_CELL_UV | L2 }, { 0, 8, BMS_AL_CELL_OV | L2 },
	{ 0, 9, BMS_AL_CHG_OC | L2 }, { 0, 10, BMS_AL_DSG_OC | L2 }, { 0, 11, BMS_AL_DSG_UT | L2 },
	{ 0, 12, BMS_AL_DSG_OT | L2 }, { 0, 13, BMS_AL_CHG_UT | L2 }, { 0, 14, BMS_AL_CHG_OT | L2 },
	{ 0, 15, BMS_AL_PACK_UV | L2 },
	{ 1, 0, BMS_AL_CELL_UV }, { 1, 1, BMS_AL_CELL_OV }, { 1, 2, BMS_AL_PACK_UV }, { 1, 3, BMS_AL_PACK_OV },
	{ 1, 4, BMS_AL_CHG_UT }, { 1, 5, BMS_AL_CHG_OT }, { 1, 6, BMS_AL_DSG_UT }, { 1, 7, BMS_AL_DSG_OT },
};
#undef L2
#define RNG_S1_CHG_MOS 0x0002
#define RNG_S1_DSG_MOS 0x0004
#define RNG_S2_DSG 0x4000       /* effective discharge current */
#define RNG_S2_CHG 0x8000       /* effective charge current */

const struct bms_gatt bms_rng_gatt[] = {
	{ .service = BMS_UUID16("fff0"), .notify = BMS_UUID16("fff1"), .write = BMS_UUID16("ffd1"),
	  .write_service = BMS_UUID16("ffd0") },
	BMS_GATT_END,
};

int bms_rng_cells(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = bms_mb_reg(d, 5000, 5000), nt = bms_mb_reg(d, 5000, 5017);
	if (n > RNG_MAX_CELLS || nt > RNG_MAX_TEMPS)
		return BMS_E_RANGE;
	s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < n ? poll->cells_forced : n);
	for (unsigned i = 0; i < s->ncells; i++)
		s->cell_mv[i] = (uint16_t)(bms_mb_reg(d, 5000, (uint16_t)(5001 + i)) * 100u);
	s->ntemps = (uint8_t)(nt < BMS_MAX_TEMPS ? nt : BMS_MAX_TEMPS);
	for (unsigned i = 0; i < s->ntemps; i++)
		s->temp_c[i] = (float)bms_mb_sreg(d, 5000, (uint16_t)(5018 + i)) / 10.0f;
	s->present |= BMS_HAS_CELLS | (s->ntemps ? BMS_HAS_TEMPS : 0);
	return BMS_OK;
}

void bms_rng_pack(struct bms_poll *poll, const uint8_t *d, float per_amp)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t remain = bms_mb_reg32(d, 5042, 5044), full = bms_mb_reg32(d, 5042, 5046);
	s->current = (float)bms_mb_sreg(d, 5042, 5042) / per_amp;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_mb_reg(d, 5042, 5043) / 10.0f;
	s->remain_ah = (float)((double)remain / 1000.0);
	s->full_ah = (float)((double)full / 1000.0);
	s->cycles = bms_mb_reg(d, 5042, 5048);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES;
	if (full > 0) {
		s->soc = remain >= full ? 100.0f : (float)((double)remain * 100.0 / (double)full);
		s->present |= BMS_HAS_SOC;
	}
}

void bms_rng_status(struct bms_poll *poll, uint16_t s1, uint16_t s2)
{
	struct bms_snapshot *s = &poll->snap;
	uint16_t w[2] = { s1, s2 };
	s->alarms |= bms_alarm_map(w, 2, rng_rules, sizeof(rng_rules) / sizeof(rng_rules[0]));
	if (s->nraw < 2)
		s->nraw = 2;
	s->raw_alarms[0] = s1;
	s->raw_alarms[1] = s2;
	s->chg_mos = (s1 & RNG_S1_CHG_MOS) != 0;
	s->dsg_mos = (s1 & RNG_S1_DSG_MOS) != 0;
	s->state = (s2 & RNG_S2_CHG) ? 1 : (s2 & RNG_S2_DSG) ? 2 : 0;
	s->present |= BMS_HAS_ALARMS | BMS_HAS_MOSFETS;
}

void bms_rng_ident(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_mb_text(d, 5104, 5110, 8, id->serial, sizeof(id->serial));
	bms_mb_text(d, 5104, 5122, 8, id->model, sizeof(id->model));
	bms_mb_text(d, 5104, 5130, 2, id->firmware, sizeof(id->firmware));
}
