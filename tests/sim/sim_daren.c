/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_daren.c - Daren / Basen DR-1363 and KS48100 (paceic, VER
 * 0x22, CID1 0x4A), the BMS side (bms/PROTOCOLS.md §8, §21).  Framing:
 * sim_pylonframe.c.  Encoded here; bms/ is deliberately not used.
 *
 * A pack answers frames that start with '~', or with `dialect=ks` only
 * frames that start with '>' (and answers with '>'), as KS48100 firmware.
 * Requests to ADR = a pack's address:
 *   0x42 (INFO = ADR): DATAFLAG 00, SOC 0.01 %, voltage 10 mV, m, m x cell
 *         mV, ambient (the pack's next temperature slot), pack average,
 *         MOS temperature (0.1 degC), n (the cell sensors, at most 4), n x
 *         0.1 degC, current 10 mA, internal resistance 0, SOH %, 01, full
 *         and remaining 10 mAh, cycles, the status words: voltage = alarm
 *         bytes 0 << 8 | 1, current = 2 << 8 | 3, temperature = 4 << 8 |
 *         5, alarm = 6 << 8 | 7, FET (b0 discharge, b1 charge MOSFET on),
 *         four cell bitmaps 0, balancing cells 1-16 / 17-32, four 0; machine
 *         status 00, IO status 0000.
 *   0x47 (INFO = ADR): DATAFLAG 00, the 12 words of DAREN-02 (cell limits
 *         3650 / 2500 mV, 115, 45, 12000, 3650, 2500), the pack's cell
 *         count, 12000, the capacity in 10 mAh, 1440, 0; 20 bytes FF, the
 *         BMS barcode "SIMBMS<address>" (20 ASCII).  Not with
 *         `nosettings=1` (firmware that ignores it; a '~' pack).
 *   0x51 (no INFO): hardware "SIM", product "DRSIM01", project "16S100A"
 *         (10 ASCII each), software 01 00 02, boot 01 01.
 *   0xB0 (INFO = ADR 01 03 FF 00): B0 ADR 01 03 FF 71, the pack serial
 *         "SIMPACK<address>" (20 ASCII), 93 bytes FF.
 * Answers come from the pack's address, or from `reply_adr`.
 */
#include "sim.h"
#include "sim_pylonframe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DRN_VER 0x22
#define DRN_CID1 0x4A
#define DRN_MAX_CELLS 32
#define DRN_CELL_SENSORS 4
#define DRN_KS 'K'              /* struct sim_pack.dialect of a KS48100 pack */
#define DRN_NOSET 'N'           /* ... of one that ignores 0x47 (nosettings=1) */

struct drn_raw {
	int ncells;
	unsigned cell_mv[SIM_MAX_CELLS];
	int nt;
	int temp_dc[DRN_CELL_SENSORS];
	int ambient_dc, mos_dc;
	long current_ca;
	unsigned volt_cv, soc_cp, soh, remain_cah, full_cah, cycles;
	uint32_t balance;
};

static void drn_quantise(const struct sim_pack *p, struct drn_raw *r)
{
	memset(r, 0, sizeof *r);
	unsigned long sum = sim_pylonframe_cells(p, DRN_MAX_CELLS, r->cell_mv, &r->ncells);
	r->volt_cv = (unsigned)sim_pylonframe_clamp((long)((sum + 5) / 10), 0, 65535);
	r->nt = p->ntemps > DRN_CELL_SENSORS ? DRN_CELL_SENSORS : p->ntemps;
	for (int i = 0; i < r->nt; i++)
		r->temp_dc[i] = p->temp_c[i] * 10;
	r->ambient_dc = p->temp_c[r->nt] * 10;
	r->mos_dc = p->mos_temp_c * 10;
	r->current_ca = sim_pylonframe_clamp(lround(p->current * 100.0), -32768, 32767);
	r->full_cah = (unsigned)sim_pylonframe_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)lround(r->full_cah * p->soc / 100.0);
	r->soc_cp = (unsigned)sim_pylonframe_clamp(lround(p->soc * 100.0), 0, 10000);
	r->soh = (unsigned)lround(p->soh);
	r->cycles = p->cycles & 0xFFFF;
	r->balance = (uint32_t)(r->ncells < 32 ? p->balance & ((1ull << r->ncells) - 1) : p->balance);
}

static void drn_view(const struct sim_pack *p, struct sim_view *v)
{
	struct drn_raw r;

	drn_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
	         SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc_cp / 100.0;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.nt + 1; /* the cell sensors, then the ambient */
	for (int i = 0; i < r.nt; i++)
		v->temp_c[i] = r.temp_dc[i] / 10;
	v->temp_c[r.nt] = r.ambient_dc / 10;
	v->mos_temp_c = r.mos_dc / 10.0;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 8;
	memcpy(v->alarm, p->alarm, 8);
	v->balance = r.balance;
}

static void drn_analog(struct sim_pylonframe_info *in, const struct sim_pack *p, const struct drn_raw *r)
{
	long avg = 0;
	sim_pylonframe_put8(in, 0x00);
	sim_pylonframe_put16(in, r->soc_cp);
	sim_pylonframe_put16(in, r->volt_cv);
	sim_pylonframe_put8(in, (unsigned)r->ncells);
	for (int i = 0; i < r->ncells; i++)
		sim_pylonframe_put16(in, r->cell_mv[i]);
	for (int i = 0; i < r->nt; i++)
		avg += r->temp_dc[i];
	sim_pylonframe_put16(in, (unsigned)r->ambient_dc & 0xFFFF);
	sim_pylonframe_put16(in, (unsigned)(r->nt ? avg / r->nt : 0) & 0xFFFF);
	sim_pylonframe_put16(in, (unsigned)r->mos_dc & 0xFFFF);
	sim_pylonframe_put8(in, (unsigned)r->nt);
	for (int i = 0; i < r->nt; i++)
		sim_pylonframe_put16(in, (unsigned)r->temp_dc[i] & 0xFFFF);
	sim_pylonframe_put16(in, (unsigned)(r->current_ca & 0xFFFF));
	sim_pylonframe_put16(in, 0);
	sim_pylonframe_put16(in, r->soh);
	sim_pylonframe_put8(in, 0x01);
	sim_pylonframe_put16(in, r->full_cah);
	sim_pylonframe_put16(in, r->remain_cah);
	sim_pylonframe_put16(in, r->cycles);
	for (int i = 0; i < 4; i++)
		sim_pylonframe_put16(in, (unsigned)(p->alarm[2 * i] << 8 | p->alarm[2 * i + 1]));
	sim_pylonframe_put16(in, (p->dsg_mos ? 0x01u : 0) | (p->chg_mos ? 0x02u : 0));
	for (int i = 0; i < 4; i++)
		sim_pylonframe_put16(in, 0);
	sim_pylonframe_put16(in, r->balance & 0xFFFF);
	sim_pylonframe_put16(in, (r->balance >> 16) & 0xFFFF);
	for (int i = 0; i < 4; i++)
		sim_pylonframe_put16(in, 0);
	sim_pylonframe_put8(in, 0);
	sim_pylonframe_put16(in, 0);
}

/* The 0x47 answer's INFO (§21.5): DAREN-02's words, this pack's cell count
 * and capacity, the barcodes. */
static void drn_param(struct sim_pylonframe_info *in, const struct sim_pack *p, const struct drn_raw *r)
{
	char bc[24];
	const unsigned w[12] = { 3650, 2500, 115, 45, 12000, 3650, 2500, (unsigned)r->ncells, 12000,
				 (unsigned)lround(fmin(p->capacity_ah * 100.0, 65535.0)), 1440, 0 };
	sim_pylonframe_put8(in, 0);
	for (int i = 0; i < 12; i++)
		sim_pylonframe_put16(in, w[i]);
	for (int i = 0; i < 20; i++)
		sim_pylonframe_put8(in, 0xFF);
	snprintf(bc, sizeof bc, "SIMBMS%d", p->address);
	sim_pylonframe_text(in, bc, 20);
}

static enum sim_resp drn_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	struct sim_pylonframe_req q;
	struct sim_pylonframe_info in;
	struct drn_raw r;
	char sn[24];

	if (sim_pylonframe_parse(req, n, &q) || q.cid1 != DRN_CID1)
		return SIM_RESP_BAD;
	if (q.soi != (p->dialect == DRN_KS ? '>' : '~'))
		return SIM_RESP_NONE; /* the other firmware's start character */
	drn_quantise(p, &r);
	memset(&in, 0, sizeof in);
	if (q.cid2 == 0x42 && q.ninfo == 1 && q.info[0] == q.adr) {
		drn_analog(&in, p, &r);
	} else if (q.cid2 == 0x47 && q.ninfo == 1 && q.info[0] == q.adr) {
		if (p->dialect == DRN_NOSET)
			return SIM_RESP_NONE; /* `nosettings`: firmware that ignores it */
		drn_param(&in, p, &r);
	} else if (q.cid2 == 0x51 && q.ninfo == 0) {
		static const uint8_t ver[5] = { 1, 0, 2, 1, 1 };
		sim_pylonframe_text(&in, "SIM", 10);
		sim_pylonframe_text(&in, "DRSIM01", 10);
		sim_pylonframe_text(&in, "16S100A", 10);
		for (int i = 0; i < 5; i++)
			sim_pylonframe_put8(&in, ver[i]);
	} else if (q.cid2 == 0xB0 && q.ninfo == 5 && q.info[0] == q.adr && q.info[2] == 0x03) {
		static const uint8_t head[6] = { 0xB0, 0, 0x01, 0x03, 0xFF, 0x71 };
		for (int i = 0; i < 6; i++)
			sim_pylonframe_put8(&in, i == 1 ? q.adr : head[i]);
		snprintf(sn, sizeof sn, "SIMPACK%d", p->address);
		sim_pylonframe_text(&in, sn, 20);
		for (int i = 0; i < 93; i++)
			sim_pylonframe_put8(&in, 0xFF);
	} else {
		return SIM_RESP_BAD;
	}
	if (sim_pylonframe_reply_ex(reply, q.soi, DRN_VER, (uint8_t)sim_pack_reply_adr(p), DRN_CID1, 0x00, &in))
		return SIM_RESP_BAD;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_daren = {
	.name = "daren",
	.default_baud = 19200,
	.addr_min = 1,
	.addr_max = 15,
	.max_cells = DRN_MAX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_pylonframe_scan,
	.address = sim_pylonframe_address,
	.respond = drn_respond,
	.view = drn_view,
	.corrupt = sim_pylonframe_corrupt,
	.reply_adr = 1,
};
