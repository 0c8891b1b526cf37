/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_seplos3.c - Seplos V3 (XZH Modbus RTU), the BMS side
 * (bms/PROTOCOLS.md §18, §22).  Framing: sim_mbslave.c.  Encoded here; bms/
 * is deliberately not used.
 *
 * Slave = the pack's address 0..15 (0 is an ordinary address), 19200 8N1:
 *   FC04 0x1000 x 0x12  PIA: voltage 10 mV (sum of the cells), current s16
 *                       10 mA, remaining and full 10 mAh, total discharge
 *                       (0), SOC and SOH 0.1 %, cycles, average cell mV,
 *                       average temperature, max / min cell, max / min
 *                       temperature (0.1 K, 0 degC = 2731), 0, discharge /
 *                       charge current limit (A, 0 while that MOSFET is off)
 *   FC04 0x1100 x 0x1A  PIB: cells 1-16 mV (0 past the pack's cells),
 *                       temperatures 1-4 (always four sensors: the pack's
 *                       first four), 0 x 4, ambient (the pack's fifth
 *                       temperature), power = MOS temperature
 *   FC01 0x1200 x 0x90  PIC: 18 bytes of event bits; bytes 6 / 7 balancing
 *                       cells 1-8 / 9-16, 8 system (b0 discharging, b1
 *                       charging, b4 standby), 15 the FETs (b0 discharge, b1
 *                       charge), bytes 9-14, 16, 17 = alarm bytes 0-7
 *   FC04 0x1700 x 0x33  VIA: maker "XZH-ElecTech Co.,Ltd", device
 *                       "SEPLOS-SIM", firmware, BMS and pack serial
 *   FC04 0x1300 x 0x6A  SPA, the BMS's own parameters (§22.4), read as
 *                       0x1300 x 0x35 and 0x1335 x 0x35: the values a
 *                       SG16S200A-SP57B-A answered (syssi/esphome-seplos-bms
 *                       docs/pdus/v3/SG16S200A-SP57B-A-all-frames.txt), the
 *                       cell count 0x1301 the pack's; a pack with
 *                       nosettings=1 does not answer them
 * Anything else: exception 02.
 */
#include "sim.h"
#include "sim_mbslave.h"

#include <math.h>
#include <string.h>

#define SV3_KELVIN_DK 2731
#define SV3_CELLS 16
#define SV3_SENSORS 4

enum { SV3_PIA, SV3_PIB, SV3_PIC, SV3_VIA, SV3_SPA };

static const struct sim_mb_range sv3_ranges[] = {
	[SV3_PIA] = { 0x04, 0x1000, 0x12 },
	[SV3_PIB] = { 0x04, 0x1100, 0x1A },
	[SV3_PIC] = { 0x01, 0x1200, 0x90 },
	[SV3_VIA] = { 0x04, 0x1700, 0x33 },
	[SV3_SPA] = { 0x04, 0x1300, 0x6A },
};

/* SPA 0x1300 .. 0x1369 as the SG16S200A-SP57B-A answered it */
static const uint16_t sv3_spa[0x6A] = {
	0x0004, 0x0010, 0x1518, 0x15E0, 0x1518, 0x1680, 0x12C0, 0x1220, 0x12C0, 0x10E0, 0x0D48, 0x0DAC, 0x0D48, 0x0E42,
	0x0C1C, 0x0B54, 0x0C1C, 0x0A8C, 0x07D0, 0x03E8, 0x01F4, 0x00CB, 0x00CD, 0x00D2, 0x0064, 0x012C, 0x012C, 0xFF35,
	0xFF33, 0xFF2E, 0x0064, 0xFEA2, 0x012C, 0xFED4, 0x006A, 0x0258, 0x0005, 0x0BB8, 0x00CD, 0x000A, 0x0DAC, 0x0D48,
	0x05DC, 0x03E8, 0x0320, 0x00C8, 0x001E, 0x0C81, 0x0C9F, 0x0C9F, 0x0CD1, 0x0ADD, 0x0AC9,
	0x0ABF, 0x0AAB, 0x0C9F, 0x0CD1, 0x0CD1, 0x0D03, 0x0AC9, 0x0AAB, 0x0AB5, 0x0A8D, 0x0C81, 0x0C9F, 0x0CD1, 0x0D03,
	0x0AC9, 0x0AAB, 0x0AAB, 0x0A47, 0x0DFD, 0x0E61, 0x0DFD, 0x0EF7, 0x0B0F, 0x0AAB, 0x0C9F, 0x0AAB, 0x000A, 0x0D48,
	0x0032, 0x001E, 0x03C0, 0x0050, 0x0032, 0x0032, 0x001E, 0x80E8, 0x80E8, 0x6B40, 0x0030, 0x003C, 0x00F0, 0x000A,
	0x0007, 0x0000, 0x000D, 0x0000, 0x01F4, 0x012C, 0x1680, 0x00B4, 0xFF4C, 0x0000, 0x0008,
};

/* PIC bytes the alarm bytes 0-7 go to */
static const int sv3_alarm_byte[SIM_MAX_ALARM] = { 9, 10, 11, 12, 13, 14, 16, 17 };

struct sv3_raw {
	int ncells;
	unsigned cell_mv[SV3_CELLS];
	unsigned volt_cv, remain_cah, full_cah, soc_pm, soh_pm;
	long current_ca;
	unsigned ccl, dcl;
	uint32_t balance;
};

static void sv3_quantise(const struct sim_pack *p, struct sv3_raw *r)
{
	memset(r, 0, sizeof *r);
	r->volt_cv = sim_mb_cells(p, SV3_CELLS, 1, r->cell_mv, &r->ncells);
	r->current_ca = sim_mb_current_ca(p);
	r->full_cah = (unsigned)sim_mb_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->soc_pm = (unsigned)sim_mb_clamp(lround(p->soc * 10.0), 0, 1000);
	r->remain_cah = (unsigned)lround(r->full_cah * r->soc_pm / 1000.0);
	r->soh_pm = (unsigned)sim_mb_clamp(lround(p->soh * 10.0), 0, 1000);
	r->ccl = p->chg_mos ? (unsigned)sim_mb_clamp(lround(p->ccl_a), 0, 65535) : 0;
	r->dcl = p->dsg_mos ? (unsigned)sim_mb_clamp(lround(p->dcl_a), 0, 65535) : 0;
	r->balance = (uint32_t)(p->balance & ((1u << r->ncells) - 1));
}

static unsigned sv3_k(int c)
{
	return (unsigned)(c * 10 + SV3_KELVIN_DK);
}

static void sv3_pia(const struct sim_pack *p, const struct sv3_raw *r, uint16_t *v)
{
	unsigned mx = 0, mn = 65535;
	unsigned long sum = 0;
	for (int i = 0; i < r->ncells; i++) {
		mx = r->cell_mv[i] > mx ? r->cell_mv[i] : mx;
		mn = r->cell_mv[i] < mn ? r->cell_mv[i] : mn;
		sum += r->cell_mv[i];
	}
	int tmax = p->temp_c[0], tmin = p->temp_c[0];
	for (int i = 1; i < SV3_SENSORS; i++) {
		tmax = p->temp_c[i] > tmax ? p->temp_c[i] : tmax;
		tmin = p->temp_c[i] < tmin ? p->temp_c[i] : tmin;
	}
	v[0x0] = (uint16_t)r->volt_cv;
	v[0x1] = (uint16_t)(r->current_ca & 0xFFFF);
	v[0x2] = (uint16_t)r->remain_cah;
	v[0x3] = (uint16_t)r->full_cah;
	v[0x5] = (uint16_t)r->soc_pm;
	v[0x6] = (uint16_t)r->soh_pm;
	v[0x7] = (uint16_t)(p->cycles & 0xFFFF);
	v[0x8] = (uint16_t)(r->ncells ? sum / (unsigned long)r->ncells : 0);
	v[0x9] = (uint16_t)sv3_k((tmax + tmin) / 2);
	v[0xA] = (uint16_t)(r->ncells ? mx : 0);
	v[0xB] = (uint16_t)(r->ncells ? mn : 0);
	v[0xC] = (uint16_t)sv3_k(tmax);
	v[0xD] = (uint16_t)sv3_k(tmin);
	v[0xF] = (uint16_t)r->dcl;
	v[0x10] = (uint16_t)r->ccl;
}

static void sv3_pib(const struct sim_pack *p, const struct sv3_raw *r, uint16_t *v)
{
	for (int i = 0; i < r->ncells; i++)
		v[i] = (uint16_t)r->cell_mv[i];
	for (int i = 0; i < SV3_SENSORS; i++)
		v[0x10 + i] = (uint16_t)sv3_k(p->temp_c[i]);
	v[0x18] = (uint16_t)sv3_k(p->temp_c[SV3_SENSORS]);
	v[0x19] = (uint16_t)sv3_k(p->mos_temp_c);
}

static void sv3_pic(const struct sim_pack *p, const struct sv3_raw *r, uint16_t *v)
{
	uint8_t b[18] = { 0 };
	b[6] = (uint8_t)r->balance;
	b[7] = (uint8_t)(r->balance >> 8);
	b[8] = (uint8_t)(r->current_ca > 0 ? 0x02 : r->current_ca < 0 ? 0x01 : 0x10);
	for (int i = 0; i < SIM_MAX_ALARM; i++)
		b[sv3_alarm_byte[i]] = p->alarm[i];
	b[15] = (uint8_t)((p->dsg_mos ? 0x01 : 0) | (p->chg_mos ? 0x02 : 0));
	for (int i = 0; i < 0x90; i++)
		v[i] = (uint16_t)(b[i / 8] >> (i % 8) & 1);
}

static void sv3_image(const struct sim_pack *p, int range, uint16_t *v)
{
	struct sv3_raw r;
	sv3_quantise(p, &r);
	switch (range) {
	case SV3_PIA: sv3_pia(p, &r, v); break;
	case SV3_PIB: sv3_pib(p, &r, v); break;
	case SV3_PIC: sv3_pic(p, &r, v); break;
	case SV3_SPA:
		memcpy(v, sv3_spa, sizeof(sv3_spa));
		v[1] = (uint16_t)r.ncells;
		break;
	default:
		sim_mb_text(v, 10, "XZH-ElecTech Co.,Ltd");
		sim_mb_text(v + 0x0A, 10, "SEPLOS-SIM");
		sim_mb_text(v + 0x14, 1, "16");
		sim_mb_text(v + 0x15, 15, "SIMBMS0001");
		sim_mb_text(v + 0x24, 15, "SIMPACK0001");
		break;
	}
}

static void sv3_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sv3_raw r;
	sv3_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
	         SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE |
	         SIM_HAS_CUR_LIMITS;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc_pm / 10.0;
	v->soh = r.soh_pm / 10.0;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = SV3_SENSORS + 1; /* and the ambient */
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->mos_temp_c = p->mos_temp_c;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = SIM_MAX_ALARM;
	memcpy(v->alarm, p->alarm, SIM_MAX_ALARM);
	v->balance = r.balance;
	v->ccl_a = r.ccl;
	v->dcl_a = r.dcl;
}

static const struct sim_mb_slave sv3_slave = { sv3_ranges, 5, sv3_image, 1 + SV3_SPA };

SIM_MB_FUNCS(sv3, sv3_slave, 0, 15)

const struct sim_proto sim_proto_seplos3 = {
	.name = "seplos3",
	.default_baud = 19200,
	.addr_min = 0,
	.addr_max = 15,
	.max_cells = SV3_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sv3_scan,
	.address = sim_mb_address,
	.respond = sv3_respond,
	.view = sv3_view,
	.reply_adr = 1,
	.mb_slave = 1,
};
