/* SPDX-License-Identifier: MIT */
/* bms/seplos3.c - Seplos V3 ("XZH" BMS, Seplos 3.0 / 10E boards and later)
 * on RS485: Modbus RTU.
 *
 * bms/PROTOCOLS.md §18 (the master, bms/base/mbmaster.c) and §22.  19200 8N1,
 * slave = the DIP address 0..15 (0 is an ordinary address here, not a
 * broadcast).  A poll reads, from slave `address`:
 *	FC04 0x1000 x 0x11	PIA: voltage 10 mV, current s16 10 mA (+ =
 *				charging), remaining and full 10 mAh, SOC and
 *				SOH 0.1 %, cycles, the maximum discharge /
 *				charge current (A)
 *	FC04 0x1100 x 0x1A	PIB: cells 1-16 mV, cell temperatures 1-4,
 *				ambient, power (MOSFET) temperature (0.1 K,
 *				0 degC = 2731)
 *	FC01 0x1200 x 0x90	PIC: 18 bytes of event bits: alarms, balancing,
 *				system state, the switches (optional: a BMS that
 *				refuses it is polled without)
 *	FC04 0x1700 x 0x33	VIA: maker, device name, firmware, BMS and pack
 *				serial (the identity, once)
 *	FC04 0x1300 x 0x35,	SPA: the BMS's own parameters (read only,
 *	FC04 0x1335 x 0x35	§22.4), only in a poll marked settings_due
 * raw_alarms[]: PIC [0] voltage << 8 | cell temperature events, [1]
 *	ambient / power temperature << 8 | current 1, [2] current 2 << 8 |
 *	capacity, [3] hardware failure << 8 | balancing events.
 */
#include "bms.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "drivers.h"
#include "mbmaster.h"

#define SV3_MAX_ADR 15
#define SV3_KELVIN_DK 2731      /* 0 degC in 0.1 K (§22.2) */
#define SV3_CELLS 16
#define SV3_CELL_SENSORS 4

enum {
	SV3_PIA = 0x1000,
	SV3_PIB = 0x1100,
	SV3_PIC = 0x1200,
	SV3_VIA = 0x1700,
	SV3_SPA1 = 0x1300,
	SV3_SPA2 = 0x1335,
	SV3_SPA_N = 0x35,
};
enum { SV3_B_PIA, SV3_B_PIB, SV3_B_PIC, SV3_B_VIA, SV3_B_SPA1, SV3_B_SPA2 };

static const struct bms_mb_block sv3_blocks[] = {
	[SV3_B_PIA] = { BMS_MB_FC_INPUT, SV3_PIA, 0x11, BMS_MB_LIVE },
	[SV3_B_PIB] = { BMS_MB_FC_INPUT, SV3_PIB, 0x1A, BMS_MB_LIVE },
	[SV3_B_PIC] = { BMS_MB_FC_COILS, SV3_PIC, 0x90, BMS_MB_OPTIONAL },
	[SV3_B_VIA] = { BMS_MB_FC_INPUT, SV3_VIA, 0x33, BMS_MB_IDENT },
	[SV3_B_SPA1] = { BMS_MB_FC_INPUT, SV3_SPA1, SV3_SPA_N, BMS_MB_SETTINGS },
	[SV3_B_SPA2] = { BMS_MB_FC_INPUT, SV3_SPA2, SV3_SPA_N, BMS_MB_SETTINGS },
};

/* PIC, byte by byte (the document's tables 4.1-4.10) */
enum {
	SV3_C_BAL1 = 6,     /* cells 1-8 balancing */
	SV3_C_BAL2 = 7,     /* cells 9-16 */
	SV3_C_SYSTEM = 8,   /* b0 discharging, b1 charging ... */
	SV3_C_VOLT = 9,
	SV3_C_CELLT = 10,
	SV3_C_ENVT = 11,
	SV3_C_CUR1 = 12,
	SV3_C_CUR2 = 13,
	SV3_C_CAP = 14,
	SV3_C_FET = 15,     /* b0 discharge, b1 charge switch on */
	SV3_C_BALEV = 16,
	SV3_C_HW = 17,
	SV3_C_BYTES = 18,
};

#define L2 BMS_AL_PROTECTION
/* words: the PIC bytes 9..17 as 0..8 */
static const struct bms_alarm_rule sv3_rules[] = {
	{ 0, 0, BMS_AL_CELL_OV }, { 0, 1, BMS_AL_CELL_OV | L2 }, { 0, 2, BMS_AL_CELL_UV }, { 0, 3, BMS_AL_CELL_UV | L2 },
	{ 0, 4, BMS_AL_PACK_OV }, { 0, 5, BMS_AL_PACK_OV | L2 }, { 0, 6, BMS_AL_PACK_UV }, { 0, 7, BMS_AL_PACK_UV | L2 },
	{ 1, 0, BMS_AL_CHG_OT }, { 1, 1, BMS_AL_CHG_OT | L2 }, { 1, 2, BMS_AL_CHG_UT }, { 1, 3, BMS_AL_CHG_UT | L2 },
	{ 1, 4, BMS_AL_DSG_OT }, { 1, 5, BMS_AL_DSG_OT | L2 }, { 1, 6, BMS_AL_DSG_UT }, { 1, 7, BMS_AL_DSG_UT | L2 },
	{ 2, 0, BMS_AL_OTHER }, { 2, 1, BMS_AL_OTHER | L2 }, { 2, 2, BMS_AL_OTHER }, { 2, 3, BMS_AL_OTHER | L2 },
	{ 2, 4, BMS_AL_MOS_OT }, { 2, 5, BMS_AL_MOS_OT | L2 },
	{ 3, 0, BMS_AL_CHG_OC }, { 3, 1, BMS_AL_CHG_OC | L2 }, { 3, 2, BMS_AL_CHG_OC | L2 }, { 3, 3, BMS_AL_DSG_OC },
	{ 3, 4, BMS_AL_DSG_OC | L2 }, { 3, 5, BMS_AL_DSG_OC | L2 }, { 3, 6, BMS_AL_SHORT | L2 },
	{ 4, 0, BMS_AL_SHORT | L2 }, { 4, 1, BMS_AL_OTHER | L2 }, { 4, 2, BMS_AL_CHG_OC | L2 }, { 4, 3, BMS_AL_DSG_OC | L2 },
	{ 5, 2, BMS_AL_SOC_LOW }, { 5, 3, BMS_AL_SOC_LOW | L2 }, { 5, 4, BMS_AL_CELL_DIFF }, { 5, 6, BMS_AL_OTHER | L2 },
	{ 7, 4, BMS_AL_HW_FAULT },
	{ 8, 0, BMS_AL_SENSOR }, { 8, 1, BMS_AL_HW_FAULT }, { 8, 2, BMS_AL_MOS_FAULT }, { 8, 3, BMS_AL_MOS_FAULT },
	{ 8, 4, BMS_AL_HW_FAULT }, { 8, 5, BMS_AL_HW_FAULT }, { 8, 6, BMS_AL_OTHER }, { 8, 7, BMS_AL_OTHER | L2 },
};
#undef L2
#define SV3_SYS_DSG 0x01
#define SV3_SYS_CHG 0x02
#define SV3_FET_DSG 0x01
#define SV3_FET_CHG 0x02

static float sv3_kelvin(uint16_t raw)
{
	return (float)((int)raw - SV3_KELVIN_DK) / 10.0f;
}

static int sv3_pia(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	const uint16_t a = SV3_PIA;
	uint16_t soc = bms_mb_reg(d, a, 0x1005), soh = bms_mb_reg(d, a, 0x1006);
	s->voltage = (float)bms_mb_reg(d, a, 0x1000) / 100.0f;
	s->current = (float)bms_mb_sreg(d, a, 0x1001) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->remain_ah = (float)bms_mb_reg(d, a, 0x1002) / 100.0f;
	s->full_ah = (float)bms_mb_reg(d, a, 0x1003) / 100.0f;
	s->soc = soc > 1000 ? 100.0f : (float)soc / 10.0f;
	s->soh = soh > 1000 ? 100.0f : (float)soh / 10.0f;
	s->cycles = bms_mb_reg(d, a, 0x1007);
	/* the limits the BMS asks for: charge (0x1010), discharge (0x100F) */
	float ccl = (float)bms_mb_reg(d, a, 0x1010), dcl = (float)bms_mb_reg(d, a, 0x100F);
	if (ccl <= BMS_MAX_LIMIT_A && dcl <= BMS_MAX_LIMIT_A)
		bms_set_cur_limits(poll, ccl, dcl, false);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_SOC | BMS_HAS_SOH |
		      BMS_HAS_CYCLES;
	return BMS_OK;
}

static int sv3_pib(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	const uint16_t b = SV3_PIB;
	unsigned n = 0;
	/* slots after the last cell read 0: the pack has no more */
	for (unsigned i = 0; i < SV3_CELLS; i++) {
		s->cell_mv[i] = bms_mb_reg(d, b, (uint16_t)(b + i));
		if (s->cell_mv[i])
			n = i + 1;
	}
	s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < n ? poll->cells_forced : n);
	for (unsigned i = s->ncells; i < SV3_CELLS; i++)
		s->cell_mv[i] = 0;
	s->ntemps = 0;
	for (unsigned i = 0; i < SV3_CELL_SENSORS; i++)
		s->temp_c[s->ntemps++] = sv3_kelvin(bms_mb_reg(d, b, (uint16_t)(0x1110 + i)));
	s->temp_c[s->ntemps++] = sv3_kelvin(bms_mb_reg(d, b, 0x1118)); /* ambient */
	s->mos_temp_c = sv3_kelvin(bms_mb_reg(d, b, 0x1119));        /* power */
	s->present |= BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP;
	return BMS_OK;
}

static int sv3_pic(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint16_t w[9];
	for (int i = 0; i < 9; i++)
		w[i] = d[SV3_C_VOLT + i];
	s->alarms = bms_alarm_map(w, 9, sv3_rules, sizeof(sv3_rules) / sizeof(sv3_rules[0]));
	s->nraw = 4;
	s->raw_alarms[0] = (uint16_t)(d[SV3_C_VOLT] << 8 | d[SV3_C_CELLT]);
	s->raw_alarms[1] = (uint16_t)(d[SV3_C_ENVT] << 8 | d[SV3_C_CUR1]);
	s->raw_alarms[2] = (uint16_t)(d[SV3_C_CUR2] << 8 | d[SV3_C_CAP]);
	s->raw_alarms[3] = (uint16_t)(d[SV3_C_HW] << 8 | d[SV3_C_BALEV]);
	s->balance = (uint32_t)d[SV3_C_BAL1] | (uint32_t)d[SV3_C_BAL2] << 8;
	s->chg_mos = (d[SV3_C_FET] & SV3_FET_CHG) != 0;
	s->dsg_mos = (d[SV3_C_FET] & SV3_FET_DSG) != 0;
	s->state = (d[SV3_C_SYSTEM] & SV3_SYS_CHG) ? 1 : (d[SV3_C_SYSTEM] & SV3_SYS_DSG) ? 2 : 0;
	/* a switch that is off allows no current that way */
	if ((s->present & BMS_HAS_CUR_LIMITS) && !s->chg_mos)
		s->bms_ccl_a = 0;
	if ((s->present & BMS_HAS_CUR_LIMITS) && !s->dsg_mos)
		s->bms_dcl_a = 0;
	s->present |= BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE;
	return BMS_OK;
}

static int sv3_via(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_ident *id = &poll->kept.ident;
	const uint16_t v = SV3_VIA;
	memset(id, 0, sizeof(*id));
	bms_mb_text(d, v, 0x1700, 10, id->vendor, sizeof(id->vendor));
	bms_mb_text(d, v, 0x170A, 10, id->model, sizeof(id->model));
	bms_mb_text(d, v, 0x1714, 1, id->firmware, sizeof(id->firmware));
	bms_mb_text(d, v, 0x1715, 15, id->serial, sizeof(id->serial));
	bms_mb_text(d, v, 0x1724, 15, id->pack_serial, sizeof(id->pack_serial));
	return BMS_OK;
}

/* ---- SPA, the BMS's own parameters (§22.4): read only ---- */

/* One parameter: register, key, kind. */
enum { SV3_K_CV, SV3_K_PV, SV3_K_TEMP, SV3_K_AMP, SV3_K_NAMP, SV3_K_DS, SV3_K_US, SV3_K_AH, SV3_K_N };
struct sv3_par {
	uint16_t reg;
	uint8_t key, kind;
};
static const struct sv3_par sv3_spa[] = {
	{ 0x1301, BMS_SET_CELL_COUNT, SV3_K_N },
	{ 0x1305, BMS_SET_PACK_OVP_V, SV3_K_PV },
	{ 0x1309, BMS_SET_PACK_UVP_V, SV3_K_PV },
	{ 0x130C, BMS_SET_CELL_OVP_RELEASE_V, SV3_K_CV },
	{ 0x130D, BMS_SET_CELL_OVP_V, SV3_K_CV },
	{ 0x1310, BMS_SET_CELL_UVP_RELEASE_V, SV3_K_CV },
	{ 0x1311, BMS_SET_CELL_UVP_V, SV3_K_CV },
	{ 0x1313, BMS_SET_CELL_DIFF_V, SV3_K_CV },
	{ 0x1317, BMS_SET_CHARGE_OCP_A, SV3_K_AMP },
	{ 0x1318, BMS_SET_CHARGE_OCP_DELAY_S, SV3_K_DS },
	{ 0x131D, BMS_SET_DISCHARGE_OCP_A, SV3_K_NAMP },
	{ 0x131E, BMS_SET_DISCHARGE_OCP_DELAY_S, SV3_K_DS },
	{ 0x1321, BMS_SET_SHORT_CIRCUIT_A, SV3_K_NAMP },
	{ 0x1322, BMS_SET_SHORT_CIRCUIT_DELAY_S, SV3_K_US },
	{ 0x1331, BMS_SET_CHARGE_OTP_RELEASE_C, SV3_K_TEMP },
	{ 0x1332, BMS_SET_CHARGE_OTP_C, SV3_K_TEMP },
	{ 0x1335, BMS_SET_CHARGE_UTP_RELEASE_C, SV3_K_TEMP },
	{ 0x1336, BMS_SET_CHARGE_UTP_C, SV3_K_TEMP },
	{ 0x1339, BMS_SET_DISCHARGE_OTP_RELEASE_C, SV3_K_TEMP },
	{ 0x133A, BMS_SET_DISCHARGE_OTP_C, SV3_K_TEMP },
	{ 0x133D, BMS_SET_DISCHARGE_UTP_RELEASE_C, SV3_K_TEMP },
	{ 0x133E, BMS_SET_DISCHARGE_UTP_C, SV3_K_TEMP },
	{ 0x1349, BMS_SET_MOS_OTP_RELEASE_C, SV3_K_TEMP },
	{ 0x134A, BMS_SET_MOS_OTP_C, SV3_K_TEMP },
	{ 0x1350, BMS_SET_BALANCE_START_V, SV3_K_CV },
	{ 0x1351, BMS_SET_BALANCE_DELTA_V, SV3_K_CV },
	{ 0x1358, BMS_SET_CAPACITY_AH, SV3_K_AH },
};
#define SV3_SETTINGS \
	(BMS_SET_TEMP_PROTECT | BMS_SET_OCP_PROTECT | BMS_SET_BIT(BMS_SET_CELL_COUNT) | \
	 BMS_SET_BIT(BMS_SET_PACK_OVP_V) | BMS_SET_BIT(BMS_SET_PACK_UVP_V) | \
	 BMS_SET_BIT(BMS_SET_CELL_OVP_RELEASE_V) | BMS_SET_BIT(BMS_SET_CELL_OVP_V) | \
	 BMS_SET_BIT(BMS_SET_CELL_UVP_RELEASE_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) | \
	 BMS_SET_BIT(BMS_SET_CELL_DIFF_V) | BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_A) | \
	 BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_DELAY_S) | BMS_SET_BIT(BMS_SET_MOS_OTP_RELEASE_C) | \
	 BMS_SET_BIT(BMS_SET_MOS_OTP_C) | BMS_SET_BIT(BMS_SET_BALANCE_START_V) | \
	 BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) | BMS_SET_BIT(BMS_SET_CAPACITY_AH))

/* One parameter of the block that starts at `start` into *st: cell volts
 * in mV, pack volts in 10 mV, temperatures in 0.1 K (-50 .. 150 degC),
 * currents in A (s16: the discharge and short-circuit levels negative,
 * their size kept), delays in 0.1 s or us, the capacity in 10 mAh, the
 * cell count 1 .. 32. */
static void sv3_par_put(struct bms_settings *st, const struct sv3_par *p, const uint8_t *d, uint16_t start)
{
	enum bms_set_key k = (enum bms_set_key)p->key;
	uint16_t u = bms_mb_reg(d, start, p->reg);
	int sv = bms_mb_sreg(d, start, p->reg);
	switch (p->kind) {
	case SV3_K_CV: bms_settings_put_raw(st, k, u, 1, 5000, 1000.0); break;
	case SV3_K_PV: bms_settings_put_raw(st, k, u, 1, 65535, 100.0); break;
	case SV3_K_TEMP: bms_settings_put_raw(st, k, (int)u - SV3_KELVIN_DK, -500, 1500, 10.0); break;
	case SV3_K_AMP: bms_settings_put_raw(st, k, sv, 1, 32767, 1.0); break;
	case SV3_K_NAMP: bms_settings_put_raw(st, k, sv < 0 ? -sv : sv, 1, 32768, 1.0); break;
	case SV3_K_DS: bms_settings_put_raw(st, k, u, 0, 65535, 10.0); break;
	case SV3_K_US: bms_settings_put_raw(st, k, u, 0, 65535, 1e6); break;
	case SV3_K_AH: bms_settings_put_raw(st, k, u, 1, 65535, 100.0); break;
	default: bms_settings_put_raw(st, k, u, 1, 32, 1.0); break;
	}
}

/* SPA block `block` (its first register `start`): the parameters inside it
 * into poll->set_read, cleared by the first block; kept.settings takes
 * what the blocks read so far (the second block completes them). */
static int sv3_spa_decode(struct bms_poll *poll, int block, const uint8_t *d, uint16_t start)
{
	struct bms_settings *st = &poll->set_read;
	if (block == SV3_B_SPA1)
		memset(st, 0, sizeof(*st));
	uint64_t before = st->have;
	for (size_t i = 0; i < sizeof(sv3_spa) / sizeof(sv3_spa[0]); i++)
		if (sv3_spa[i].reg >= start && sv3_spa[i].reg < start + SV3_SPA_N)
			sv3_par_put(st, &sv3_spa[i], d, start);
	if (st->have == before)
		return BMS_E_RANGE; /* nothing in range: dropped */
	poll->kept.settings = *st; /* shown read only */
	return BMS_OK;
}

static int sv3_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n; /* the master checked the byte count of the block */
	switch (block) {
	case SV3_B_PIA: return sv3_pia(poll, d);
	case SV3_B_PIB: return sv3_pib(poll, d);
	case SV3_B_PIC: return sv3_pic(poll, d);
	case SV3_B_SPA1: return sv3_spa_decode(poll, block, d, SV3_SPA1);
	case SV3_B_SPA2: return sv3_spa_decode(poll, block, d, SV3_SPA2);
	default: return sv3_via(poll, d);
	}
}

static const struct bms_mb_proto sv3_proto = {
	.blocks = sv3_blocks,
	.nblocks = sizeof(sv3_blocks) / sizeof(sv3_blocks[0]),
	.min_address = 0,
	.max_address = SV3_MAX_ADR,
	.decode = sv3_decode,
};

BMS_MB_DRIVER_FUNCS(sv3, sv3_proto)

/* Over Bluetooth LE (bms/PROTOCOLS.md §13.1, §22.1) the BMS's own module
 * carries the same Modbus frames: service FFF0, notifications of FFF1,
 * requests written to FFF2 (aiobmsble's seplos_bms and its service dump;
 * syssi's SEPLOS3 frames were taken over this link). */
static const struct bms_gatt sv3_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff2"),
	BMS_GATT_END,
};

/* --ble-scan: Seplos V3's names (aiobmsble's seplos_bms): "SP", two
 * characters, "B" (SP05B..., SP57B...), "SP1", two characters, "B", or
 * "XZHX"; before JBD's SP0... / SP1... names. */
static bool sv3_ble_name(const char *n)
{
	size_t len = strlen(n);
	return strncasecmp(n, "XZHX", 4) == 0 ||
	       (strncasecmp(n, "SP", 2) == 0 && len >= 5 && toupper((unsigned char)n[4]) == 'B') ||
	       (strncasecmp(n, "SP1", 3) == 0 && len >= 6 && toupper((unsigned char)n[5]) == 'B');
}

static const struct bms_ble_hint sv3_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, sv3_ble_name, 0, false, "name SP??B* / XZHX* (Seplos V3)"},
	{0},
};

/* Identification (§27): PIB, FC04 0x1100 x 0x1A (the cells and
 * temperatures: a Modbus device that answers the read with other
 * registers has no 16 cell voltages of one pack there), at address 0,
 * which Seplos V3 treats as an ordinary address, then at 1, the first
 * address of a bank's DIP switches.  An answer from another address than
 * asked is taken (issue 36: a pack at 1 answered at 0 was refused), and
 * the judge says where it came from (the slave byte). */
static void sv3_probe_prepare(struct bms_poll *poll)
{
	poll->step = SV3_B_PIB;
	poll->address_any = true;
}

static void sv3_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	bms_probe_judge_frames(&bms_seplos3_driver, poll, buf, len, r);
	if (r->verdict != BMS_PROBE_NONE && r->used > r->start) {
		r->has_from = true;
		r->from = buf[r->start];
	}
}

static const struct bms_probe sv3_probe = {
	.bauds = { 19200 },
	.addrs = { 0, 1 },
	.naddrs = 2,
	.rank = 9,
	.gap = 0.05,
	.timeout = 0.2,
	.prepare = sv3_probe_prepare,
	.judge = sv3_probe_judge,
};

static const struct bms_ble sv3_ble = {
	.gatt = sv3_gatt,
	.hints = sv3_ble_hints,
};

const struct bms_driver bms_seplos3_driver = {
	.name = "seplos3",
	.description = "Seplos V3 (XZH) RS485 Modbus RTU (FC04 0x1000/0x1100, FC01 0x1200, identity 0x1700)",
	.vendor = "Seplos",
	.protocol_id = 16,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_CUR_LIMITS,
	/* SPA 0x1300 / 0x1335, when the settings are due (§22.4) */
	.settings = SV3_SETTINGS,
	.default_baud = 19200,
	BMS_MB_LINK(0, SV3_MAX_ADR),
	.next_request = sv3_next_request,
	.listen = &sv3_listen,
	.scan = sv3_scan,
	.handle = sv3_handle,
	.timeout = sv3_timeout,
	.finish = bms_finish_pack,
	.ble = &sv3_ble,
	.probe = &sv3_probe,
	.mb = &sv3_proto,
};
