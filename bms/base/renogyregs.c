/* SPDX-License-Identifier: MIT */
/* bms/base/renogyregs.c - the registers Renogy's smart batteries share (see
 * renogyregs.h; bms/PROTOCOLS.md §24). */
#include "../renogyregs.h"

#include <string.h>

#include "../mbmaster.h"

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

/* The protection levels (§24.4), registers 5200..5221; the warning levels
 * between them (5201 / 5202 cell high / low, 5205 / 5206 and 5216 / 5217
 * the temperatures', 5210 / 5221 the currents', 5212 / 5213 module high /
 * low) and the second current levels 5208 / 5219 have no key. */
#define RNG_SET 5200
int bms_rng_settings(struct bms_settings *out, const uint8_t *d)
{
	static const struct {
		uint16_t reg;
		uint8_t key;
		uint8_t kind; /* 0 cell 0.1 V, 1 module 0.1 V, 2 s16 0.1 degC */
	} lv[] = {
		{ 5200, BMS_SET_CELL_OVP_V, 0 },      { 5203, BMS_SET_CELL_UVP_V, 0 },
		{ 5211, BMS_SET_PACK_OVP_V, 1 },      { 5214, BMS_SET_PACK_UVP_V, 1 },
		{ 5204, BMS_SET_CHARGE_OTP_C, 2 },    { 5207, BMS_SET_CHARGE_UTP_C, 2 },
		{ 5215, BMS_SET_DISCHARGE_OTP_C, 2 }, { 5218, BMS_SET_DISCHARGE_UTP_C, 2 },
	};
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		enum bms_set_key k = (enum bms_set_key)lv[i].key;
		if (lv[i].kind == 2)
			bms_settings_put_raw(out, k, bms_mb_sreg(d, RNG_SET, lv[i].reg), -500, 1500, 10.0);
		else
			bms_settings_put_raw(out, k, bms_mb_reg(d, RNG_SET, lv[i].reg), 1, lv[i].kind ? 1000 : 50, 10.0);
	}
	/* the first over-current level: charge u16, discharge s16 (negative
	 * on the wire, its size kept), 0.01 A */
	bms_settings_put_raw(out, BMS_SET_CHARGE_OCP_A, bms_mb_reg(d, RNG_SET, 5209), 1, 65535, 100.0);
	int dsg = bms_mb_sreg(d, RNG_SET, 5220);
	bms_settings_put_raw(out, BMS_SET_DISCHARGE_OCP_A, dsg < 0 ? -dsg : dsg, 1, 32768, 100.0);
	return out->have ? BMS_OK : BMS_E_RANGE;
}
