/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_rvc.c - a battery on an RV-C bus, as a Lawicel slcan
 * adapter on that bus delivers it to a host (bms/PROTOCOLS.md §63).  The
 * adapter side: sim_slcan.c.
 *
 * The battery side, every 500 ms while the channel is open, at its source
 * address (the pack's address, 0x8F unless set), DC instance 1, device
 * priority 120, priority 6, DLC 8, little endian, unused bytes 0xFF:
 *	1FFFD voltage 0.05 V, current 0.001 A + 2 000 000 000 (+ = out of the
 *	      battery, as the REGO bank sends it: charging is negative)
 *	1FFFC the first sensor 0.03125 degC + 273 degC, SOC 0.5 %, no time left
 *	1FFFB SOH 0.5 %, capacity remaining 1 Ah
 *	1FEC9 charge state (1 "do not charge" while chg_set is 0, else 2 bulk),
 *	      voltage = cvl 0.05 V, current = ccl 0.05 A + 32000, LiFePO4 (3)
 *	1FEC7 byte 2 = alarm byte 0 as it is (the 2-bit voltage flags)
 *	1FEA5 discharge / charge bus connected (dsg_mos, chg_mos), capacity 1 Ah
 * (a real battery sends 1FEC9 every second: this one every 500 ms with the
 * others).  junk=1 adds what the decoder must pass over: the same node's
 * 1FFFD of instance 2 (a starter battery's voltage) first, another node's
 * 1FFFD and 1FFFC (0x44), an address claim, a standard frame, a remote
 * 1FFFD.  Faults apply to what the battery sends.  Encoded here; bms/ is
 * deliberately not used.
 */
#include "sim_slcan.h"

#include <math.h>
#include <string.h>

#define RV_PRIO6 (6u << 26)

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static unsigned rv_id(unsigned dgn, int sa)
{
	return RV_PRIO6 | dgn << 8 | (unsigned)sa;
}

static long rv_mv(const struct sim_pack *p)
{
	long sum = 0;
	for (int i = 0; i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	return sum;
}

static void rv_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_TEMPS | SIM_HAS_MOSFETS |
		 SIM_HAS_ALARMS | SIM_HAS_CUR_LIMITS | SIM_HAS_VOLT_LIMITS;
	v->address = p->address;
	v->voltage = clampl(lround(rv_mv(p) / 50.0), 1, 0xFAFF) * 0.05;
	v->current = clampl(lround(p->current * 1000.0), -2000000000L, 2000000000L) / 1000.0;
	v->soc = clampl(lround(p->soc * 2), 0, 200) / 2.0;
	v->soh = clampl(lround(p->soh * 2), 0, 200) / 2.0;
	v->remaining_ah = (double)clampl(lround(p->capacity_ah * p->soc / 100.0), 0, 0xFAFF);
	v->capacity_ah = (double)clampl(lround(p->capacity_ah), 0, 0xFAFF);
	v->ntemps = 1;
	v->temp_c[0] = p->temp_c[0];
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->nalarm = 1;
	v->alarm[0] = p->alarm[0];
	v->ccl_a = p->chg_set ? clampl(lround(p->ccl_a * 20.0), 0, 32255) / 20.0 : 0.0;
	v->dcl_a = 0; /* RV-C has no discharge limit */
	v->cvl_v = clampl(lround(p->cvl_v * 20.0), 0, 0xFAFF) * 0.05;
	v->dvl_v = 0;
}

static void put16(uint8_t *d, long v)
{
	d[0] = (uint8_t)(v & 0xFF);
	d[1] = (uint8_t)((v >> 8) & 0xFF);
}

static void put32(uint8_t *d, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		d[i] = (uint8_t)((v >> (8 * i)) & 0xFF);
}

/* A DC source frame's start: all ones, the instance and device priority. */
static void rv_head(uint8_t *d, int instance)
{
	memset(d, 0xFF, 8);
	d[0] = (uint8_t)instance;
	d[1] = 120;
}

static void rv_junk(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[8];
	rv_head(d, 2); /* the same node: a starter battery's voltage */
	put16(d + 2, 12800 / 50);
	sim_slcan_line(reply, 'T', rv_id(0x1FFFD, p->address), d, 8);
	rv_head(d, 1); /* another node (a GX at 0x44) on instance 1 */
	d[1] = 119;
	put16(d + 2, 1000);
	put32(d + 4, 2000000000UL);
	sim_slcan_line(reply, 'T', rv_id(0x1FFFD, 0x44), d, 8);
	rv_head(d, 1);
	d[4] = 10;
	sim_slcan_line(reply, 'T', rv_id(0x1FFFC, 0x44), d, 8);
	memset(d, 0x11, 8);
	sim_slcan_line(reply, 'T', 0x18EEFF44, d, 8);
	sim_slcan_line(reply, 't', 0x305, d, 8);
	sim_slcan_line(reply, 'R', rv_id(0x1FFFD, p->address), NULL, 8);
}

static enum sim_resp rv_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8];
	if (!p->can_open)
		return SIM_RESP_NONE;
	rv_view(p, &v);
	if (p->junk)
		rv_junk(p, reply);
	rv_head(d, 1);
	put16(d + 2, lround(v.voltage * 20.0));
	put32(d + 4, (unsigned long)(2000000000LL - llround(v.current * 1000.0))); /* to 4e9: 64 bits */
	sim_slcan_line(reply, 'T', rv_id(0x1FFFD, p->address), d, 8);
	rv_head(d, 1);
	put16(d + 2, clampl(lround((p->temp_c[0] + 273.0) * 32.0), 0, 0xFAFF));
	d[4] = (uint8_t)lround(v.soc * 2);
	sim_slcan_line(reply, 'T', rv_id(0x1FFFC, p->address), d, 8);
	rv_head(d, 1);
	d[2] = (uint8_t)lround(v.soh * 2);
	put16(d + 3, lround(v.remaining_ah));
	sim_slcan_line(reply, 'T', rv_id(0x1FFFB, p->address), d, 8);
	rv_head(d, 1);
	d[2] = p->chg_set ? 2 : 1;
	put16(d + 3, lround(v.cvl_v * 20.0));
	put16(d + 5, lround(v.ccl_a * 20.0) + 32000);
	d[7] = 0xF3;
	sim_slcan_line(reply, 'T', rv_id(0x1FEC9, p->address), d, 8);
	rv_head(d, 1);
	d[2] = p->alarm[0];
	sim_slcan_line(reply, 'T', rv_id(0x1FEC7, p->address), d, 8);
	rv_head(d, 1);
	d[2] = (uint8_t)(0xF0 | (p->chg_mos ? 0x04 : 0) | (p->dsg_mos ? 0x01 : 0));
	put16(d + 3, lround(v.capacity_ah));
	sim_slcan_line(reply, 'T', rv_id(0x1FEA5, p->address), d, 8);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_rvc = {
	.name = "rvc",
	.default_baud = 115200, /* the adapter's serial line */
	.addr_min = 0x8F,       /* the first pack at 0x8F, where readers expect an RV-C battery */
	.addr_max = 253,
	.max_cells = SIM_MAX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = rv_view,
	.corrupt = sim_slcan_corrupt,
	.emit = rv_emit,
	.emit_ms = 500,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
};
