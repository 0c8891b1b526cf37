/* SPDX-License-Identifier: MIT */
/* bms/renogy.c - Renogy smart LiFePO4 batteries (RBT100LFP12S, RBT50LFP48S
 * ...) on their RS485 communication port: "Lithium Iron Battery BMS Modbus
 * Protocol V1.7", Modbus RTU.
 *
 * bms/PROTOCOLS.md §18 (the master, bms/base/mbmaster.c) and §24.  9600 8N1;
 * slave 0x30 (48) on a single battery or the first on a Renogy hub, 0x30..
 * 0x37 for the batteries of a hub, 0xF7 (247) on some.  A poll reads, from
 * slave `address` (registers in decimal, as the document numbers them):
 *	FC03 5000 x 34	cell count, cells 1-16 (0.1 V), temperature count,
 *			cell temperatures 1-16 (s16 0.1 degC)
 *	FC03 5042 x 7	current (s16 0.01 A, + = charging), voltage (0.1 V),
 *			remaining and full capacity (u32 mAh), cycles
 *	FC03 5100 x 8	alarm and status words (optional: a BMS that refuses
 *			it is polled without)
 *	FC03 5104 x 28	the serial, model and software version (identity)
 *	FC03 5200 x 22	the battery's own warning and protection levels (read
 *			only, §24.4): only in a poll marked settings_due
 * SOC is remaining / full (not transmitted).
 * Over Bluetooth LE the BT-1 / BT-2 module (and the batteries with one
 * built in) carries the same frames: written to FFD1 of service FFD0,
 * notified on FFF1 of service FFF0, slave 48 as on the wire (aiobmsble's
 * renogy_bms reads the same registers from 0x30; cyrils/renogy-bt).
 * raw_alarms[]: [0] status 1 (5106), [1] status 2 (5107), [2] / [3] the
 *	other-alarm words 5104 / 5105.
 */
#include "bms.h"

#include "drivers.h"
#include "mbmaster.h"
#include "renogyregs.h"

enum { RNG_B_CELLS, RNG_B_PACK, RNG_B_ALARMS, RNG_B_IDENT, RNG_B_SETTINGS };

static const struct bms_mb_block rng_blocks[] = {
	[RNG_B_CELLS] = { BMS_MB_FC_HOLDING, 5000, 34, BMS_MB_LIVE },
	[RNG_B_PACK] = { BMS_MB_FC_HOLDING, 5042, 7, BMS_MB_LIVE },
	[RNG_B_ALARMS] = { BMS_MB_FC_HOLDING, 5100, 8, BMS_MB_OPTIONAL },
	[RNG_B_IDENT] = { BMS_MB_FC_HOLDING, 5104, 28, BMS_MB_IDENT },
	[RNG_B_SETTINGS] = { BMS_MB_FC_HOLDING, 5200, 22, BMS_MB_SETTINGS },
};

/* Two bits a field, field i at bits 2i..2i+1 of the 32 bits: 01 below the
 * lower limit, 10 above the upper, 11 another alarm. */
static uint32_t rng_fields(uint32_t v, unsigned nfields, uint32_t low, uint32_t high)
{
	uint32_t al = 0;
	for (unsigned i = 0; i < nfields && i < 16; i++) {
		unsigned f = (v >> (2 * i)) & 3u;
		al |= f == 1 ? low : f == 2 ? high : f == 3 ? BMS_AL_OTHER : 0;
	}
	return al;
}

static int rng_alarms(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint32_t al = rng_fields(bms_mb_reg32(d, 5100, 5100), s->ncells, BMS_AL_CELL_UV, BMS_AL_CELL_OV);
	al |= rng_fields(bms_mb_reg32(d, 5100, 5102), s->ntemps, BMS_AL_CHG_UT | BMS_AL_DSG_UT,
			 BMS_AL_CHG_OT | BMS_AL_DSG_OT);
	/* the other alarms, fields 9 discharge current, 10 charge current,
	 * 11-14 heater and environment temperatures, 15 BMS temperature */
	uint32_t other = bms_mb_reg32(d, 5100, 5104);
	al |= rng_fields(other >> 18, 1, BMS_AL_OTHER, BMS_AL_DSG_OC);
	al |= rng_fields(other >> 20, 1, BMS_AL_OTHER, BMS_AL_CHG_OC);
	al |= rng_fields(other >> 22, 4, BMS_AL_OTHER, BMS_AL_OTHER);
	al |= rng_fields(other >> 30, 1, BMS_AL_OTHER, BMS_AL_MOS_OT);
	s->alarms = al;
	bms_rng_status(poll, bms_mb_reg(d, 5100, 5106), bms_mb_reg(d, 5100, 5107));
	s->nraw = 4;
	s->raw_alarms[2] = bms_mb_reg(d, 5100, 5104);
	s->raw_alarms[3] = bms_mb_reg(d, 5100, 5105);
	return BMS_OK;
}

static int rng_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n;
	switch (block) {
	case RNG_B_CELLS: return bms_rng_cells(poll, d);
	case RNG_B_PACK: bms_rng_pack(poll, d, 100.0f); return BMS_OK;
	case RNG_B_ALARMS: return rng_alarms(poll, d);
	case RNG_B_SETTINGS: {
		struct bms_settings st;
		int rc = bms_rng_settings(&st, d);
		if (rc == BMS_OK)
			poll->kept.settings = st; /* shown read only */
		return rc;
	}
	default: bms_rng_ident(poll, d); return BMS_OK;
	}
}

static const struct bms_mb_proto rng_proto = {
	.blocks = rng_blocks,
	.nblocks = sizeof(rng_blocks) / sizeof(rng_blocks[0]),
	.min_address = BMS_MB_ADDR_MIN,
	.max_address = BMS_MB_ADDR_MAX,
	.decode = rng_decode,
};

BMS_MB_DRIVER_FUNCS(rng, rng_proto)

/* --ble-scan: the BT-1 / BT-2 modules' names BT-TH-* (aiobmsble's
 * renogy_bms matcher, cyrils/renogy-bt) and their write service FFD0. */
static const struct bms_ble_hint rng_ble_hints[] = {
	{1, BMS_BLE_NAME, "BT-TH-", NULL, 0, false, "name BT-TH-* (Renogy BT-1 / BT-2 module)"},
	{3, BMS_BLE_SERVICE, NULL, NULL, 0xFFD0, false, "service FFD0 (Renogy BT-1 / BT-2 module)"},
	{0},
};

/* Identification (§27): the first read, FC03 5000 x 34 (cell count,
 * cells, temperatures), at 48 (0x30, a battery alone or the first of a
 * hub) and 247 (0xF7, some batteries alone); a sweep adds the hub's 48..55. */
static const uint8_t rng_sweep[] = { 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0xF7 };
static const struct bms_probe rng_probe = {
	.bauds = { 9600 },
	.addrs = { 0x30, 0xF7 },
	.naddrs = 2,
	.sweep = rng_sweep,
	.nsweep = sizeof(rng_sweep),
	.rank = 11,
	.gap = 0.05,
	.timeout = 0.2,
};

static const struct bms_ble rng_ble = {
	.gatt = bms_rng_gatt,
	.hints = rng_ble_hints,
};

const struct bms_driver bms_renogy_driver = {
	.name = "renogy",
	.description = "Renogy smart LiFePO4 RS485 Modbus RTU V1.7 (FC03 5000.., ids 0x30-0x37)",
	.vendor = "Renogy",
	.protocol_id = 18,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	/* 5200 x 22, when the settings are due (§24.4) */
	.settings = BMS_RNG_SETTINGS,
	.default_baud = 9600,
	BMS_MB_LINK(BMS_MB_ADDR_MIN, BMS_MB_ADDR_MAX),
	.default_address = 0x30,
	.next_request = rng_next_request,
	.listen = &rng_listen,
	.scan = rng_scan,
	.handle = rng_handle,
	.timeout = rng_timeout,
	.finish = bms_finish_pack,
	.ble = &rng_ble,
	.probe = &rng_probe,
	.mb = &rng_proto,
};
