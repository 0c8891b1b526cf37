/* SPDX-License-Identifier: MIT */
/* bms/renogy_pro.c - Renogy "Pro" smart LiFePO4 batteries with Bluetooth
 * built in (advertised RNGRBP*, RNGC*, RNGPRO*): the registers of Renogy's
 * "Lithium Iron Battery BMS Modbus Protocol V1.7" (bms/base/renogyregs.c) over
 * Bluetooth LE, on the master of bms/base/mbmaster.c.
 *
 * bms/PROTOCOLS.md §49.  Written to FFD1 of service FFD0, notified on FFF1
 * of service FFF0; requests to the universal slave 0xFF, answers taken
 * from any slave (a RNGRBP answers from 0x30 when asked there).  A poll
 * reads (registers in decimal):
 *	FC03 5000 x 34	cell count, cells (0.1 V), temperatures (0.1 degC)
 *	FC03 5042 x 7	current, voltage (0.1 V), remaining and full mAh, cycles
 *	FC03 5100 x 8	status 1 (5106) and 2 (5107): MOSFETs, alarms
 *			(optional)
 *	FC03 5104 x 28	serial, model, software version (identity)
 * The current's unit depends on the name family (§49, the sources
 * disagree): 0.01 A for RNGPRO*, 0.1 A for RNGRBP*, RNGC* and a name not
 * known.  5100-5105 are not read as V1.7's alarm fields: a RNGPRO without
 * a fault has 0x00AA at 5101.
 * raw_alarms[]: [0] status 1 (5106), [1] status 2 (5107).
 */
#include "bms.h"

#include <strings.h>

#include "drivers.h"
#include "mbmaster.h"
#include "renogyregs.h"

enum { RP_B_CELLS, RP_B_PACK, RP_B_STATUS, RP_B_IDENT };

static const struct bms_mb_block rp_blocks[] = {
	[RP_B_CELLS] = { BMS_MB_FC_HOLDING, 5000, 34, BMS_MB_LIVE },
	[RP_B_PACK] = { BMS_MB_FC_HOLDING, 5042, 7, BMS_MB_LIVE },
	[RP_B_STATUS] = { BMS_MB_FC_HOLDING, 5100, 8, BMS_MB_OPTIONAL },
	[RP_B_IDENT] = { BMS_MB_FC_HOLDING, 5104, 28, BMS_MB_IDENT },
};

/* Units of the current per ampere for the device's name (§49). */
static float rp_per_amp(const struct bms_poll *poll)
{
	return strncasecmp(poll->peer_name, "RNGPRO", 6) == 0 ? 100.0f : 10.0f;
}

static int rp_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n;
	switch (block) {
	case RP_B_CELLS: return bms_rng_cells(poll, d);
	case RP_B_PACK: bms_rng_pack(poll, d, rp_per_amp(poll)); return BMS_OK;
	case RP_B_STATUS: bms_rng_status(poll, bms_mb_reg(d, 5100, 5106), bms_mb_reg(d, 5100, 5107)); return BMS_OK;
	default: bms_rng_ident(poll, d); return BMS_OK;
	}
}

static const struct bms_mb_proto rp_proto = {
	.blocks = rp_blocks,
	.nblocks = sizeof(rp_blocks) / sizeof(rp_blocks[0]),
	.ble = true,
	.device = 0xFF,
	.decode = rp_decode,
};

BMS_MB_IO_FUNCS(rp, rp_proto)

/* --ble-scan: the names (aiobmsble's renogy_pro_bms matcher, renogy-ble's
 * battery variants) and the company id 0xE14C both match. */
static const struct bms_ble_hint rp_ble_hints[] = {
	{1, BMS_BLE_NAME, "RNGRBP", NULL, 0, false, "name RNGRBP* (Renogy Pro battery, current 0.1 A)"},
	{1, BMS_BLE_NAME, "RNGPRO", NULL, 0, false, "name RNGPRO* (Renogy Pro battery, current 0.01 A)"},
	{1, BMS_BLE_NAME, "RNGC", NULL, 0, false, "name RNGC* (Renogy Pro battery, current 0.1 A)"},
	{2, BMS_BLE_COMPANY, NULL, NULL, 0xE14C, false, "company 0xE14C (Renogy Pro battery)"},
	{0},
};

static const struct bms_ble rp_ble = {
	.only = true,
	.gatt = bms_rng_gatt,
	.hints = rp_ble_hints,
};

const struct bms_driver bms_renogy_pro_driver = {
	.name = "renogy-pro",
	.description = "Renogy Pro batteries over Bluetooth LE (RNGRBP / RNGC / RNGPRO, Modbus FC03 5000..)",
	.vendor = "Renogy",
	.protocol_id = 40,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	BMS_MB_BLE_LINK,
	.next_request = rp_next_request,
	.scan = rp_scan,
	.handle = rp_handle,
	.timeout = rp_timeout,
	.finish = bms_finish_pack,
	.ble = &rp_ble,
	.mb = &rp_proto,
};
