/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_sinowealth.c - Sinowealth protocol of small Daly 3S-4S packs
 * ("BMStool"), the BMS side.
 *
 * bms/PROTOCOLS.md §4.  One BMS per port, no address (the pack is address 1
 * for the control port).  Request `0A <register> <length>`; the answer is the
 * register's <length> bytes, big-endian, then CRC-8/SMBUS over the request
 * and those bytes.  Registers 0x01..0x18; 0x10..0x12 are 32 bit and need
 * length 4; a 16-bit register asked with length 4 comes padded with zeros.
 * Encoded here from the pack state; bms/ is deliberately not used.
 *
 * Wire view: 3..10 cells (0x17 low byte = cells - 3), pack voltage mV (sum
 * of the cells), current mA (+ = charging), RSOC % (low byte), full and
 * remaining capacity mAh, cycles, 0x15 pack status (b0 CHG MOS, b1 DSG MOS,
 * b2 charging, b3 discharging), 0x16 battery status = alarm bytes 0 (high)
 * and 1 (low), two external temperatures 0x0C / 0x0D and the IC temperature
 * 0x0E (= MOS temperature) in 0.1 K with 273.1 K = 0 degC.  A second sensor
 * that the pack does not have reads 0 (-273.1 degC, "not fitted").
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define SW_START 0x0A
#define SW_REQ_LEN 3
#define SW_MIN_CELLS 3
#define SW_MAX_CELLS 10
#define SW_TEMPS 2
#define SW_KELVIN_DK 2731
#define SW_NREGS 0x19

struct sw_raw {
	int ncells;
	unsigned cell_mv[SW_MAX_CELLS];
	unsigned long volt_mv;
	long current_ma;
	unsigned soc;
	unsigned long full_mah, remain_mah;
	int ntemps;
	int temp_c[SW_TEMPS];
	int mos_c;
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void sw_quantise(const struct sim_pack *p, struct sw_raw *r)
{
	memset(r, 0, sizeof *r);
	r->ncells = (int)clampl(p->ncells, SW_MIN_CELLS, SW_MAX_CELLS);
	for (int i = 0; i < r->ncells; i++) {
		r->cell_mv[i] = (unsigned)clampl(sim_pack_cell_mv(p, i), 0, 65535);
		r->volt_mv += r->cell_mv[i];
	}
	if (r->volt_mv > 65535)
		r->volt_mv = 65535;
	r->current_ma = lround(p->current * 1000.0);
	r->soc = (unsigned)clampl(lround(p->soc), 0, 100);
	r->full_mah = (unsigned long)lround(p->capacity_ah * 1000.0);
	r->remain_mah = (unsigned long)lround(p->capacity_ah * 1000.0 * p->soc / 100.0);
	r->ntemps = p->ntemps < SW_TEMPS ? p->ntemps : SW_TEMPS;
	/* the gateway takes -50..150 degC as a fitted sensor */
	for (int i = 0; i < r->ntemps; i++)
		r->temp_c[i] = (int)clampl(p->temp_c[i], -50, 150);
	r->mos_c = (int)clampl(p->mos_temp_c, -50, 150);
}

static void sw_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sw_raw r;
	sw_quantise(p, &r);
	memset(v, 0, sizeof *v);
	/* no SOH and no balancing in this protocol */
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
		 SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.current_ma / 1000.0;
	v->soc = r.soc;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->capacity_ah = r.full_mah / 1000.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	v->mos_temp_c = r.mos_c;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 2;
	memcpy(v->alarm, p->alarm, 2);
}

/* Value of register reg (1..0x18); 32 bit for 0x10..0x12. */
static uint32_t sw_register(const struct sim_pack *p, const struct sw_raw *r, unsigned reg)
{
	if (reg >= 0x01 && reg <= 0x0A)
		return (int)reg <= r->ncells ? r->cell_mv[reg - 1] : 0;
	switch (reg) {
	case 0x0B: return (uint32_t)r->volt_mv;
	case 0x0C: return r->ntemps > 0 ? (uint32_t)(r->temp_c[0] * 10 + SW_KELVIN_DK) : 0;
	case 0x0D: return r->ntemps > 1 ? (uint32_t)(r->temp_c[1] * 10 + SW_KELVIN_DK) : 0;
	case 0x0E: return (uint32_t)(r->mos_c * 10 + SW_KELVIN_DK);
	case 0x0F: return 0xFFFF; /* IC temperature 2: "useless" on real units */
	case 0x10: return (uint32_t)r->current_ma;
	case 0x11: return (uint32_t)r->full_mah;
	case 0x12: return (uint32_t)r->remain_mah;
	case 0x13: return r->soc;
	case 0x14: return p->cycles & 0xFFFF;
	case 0x15:
		return (p->chg_mos ? 0x01u : 0) | (p->dsg_mos ? 0x02u : 0) |
		       (r->current_ma > 0 ? 0x04u : 0) | (r->current_ma < 0 ? 0x08u : 0);
	case 0x16: return (uint32_t)(p->alarm[0] << 8 | p->alarm[1]);
	case 0x17: return (uint32_t)(r->ncells - SW_MIN_CELLS);
	default: return 0; /* 0x18 manufacture access */
	}
}

static uint8_t sw_crc8(uint8_t crc, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x07) : (uint8_t)(crc << 1);
	}
	return crc;
}

static int sw_valid(const uint8_t *req)
{
	return req[1] >= 0x01 && req[1] < SW_NREGS && (req[2] == 2 || req[2] == 4);
}

static enum sim_scan sw_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != SW_START) {
		size_t i = 1;
		while (i < len && buf[i] != SW_START)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < SW_REQ_LEN)
		return SIM_SCAN_NEED;
	if (!sw_valid(buf)) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = SW_REQ_LEN;
	return SIM_SCAN_FRAME;
}

static int sw_address(const uint8_t *req, size_t n)
{
	(void)req;
	return n >= SW_REQ_LEN ? 1 : -1;
}

static enum sim_resp sw_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                struct sim_reply *reply)
{
	if (n < SW_REQ_LEN || !sw_valid(req))
		return SIM_RESP_BAD;
	unsigned reg = req[1], len = req[2];
	int wide = reg >= 0x10 && reg <= 0x12;
	if (wide && len != 4)
		return SIM_RESP_BAD;
	struct sw_raw r;
	sw_quantise(p, &r);
	uint32_t v = sw_register(p, &r, reg);
	uint8_t f[8];
	if (wide) {
		f[0] = (uint8_t)(v >> 24);
		f[1] = (uint8_t)(v >> 16);
		f[2] = (uint8_t)(v >> 8);
		f[3] = (uint8_t)v;
	} else {
		f[0] = (uint8_t)(v >> 8);
		f[1] = (uint8_t)v;
		f[2] = f[3] = 0;
	}
	f[len] = sw_crc8(sw_crc8(0, req, SW_REQ_LEN), f, len);
	sim_reply_add(reply, f, len + 1);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_sinowealth = {
	.name = "sinowealth",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 1,
	.max_cells = SW_MAX_CELLS,
	.max_temps = SW_TEMPS,
	.scan = sw_scan,
	.address = sw_address,
	.respond = sw_respond,
	.view = sw_view,
	.corrupt = NULL, /* the check byte is last */
};
