/* SPDX-License-Identifier: MIT */
/* bms/saihang.c - Saihang BMSs (sold in Anenji and other batteries,
 * advertised SH...): a Modbus RTU FC03 frame behind the two bytes A5 A5
 * over Bluetooth LE, a register table on the master of bms/base/mbmaster.c
 * (its prefix option).
 *
 * bms/PROTOCOLS.md §53.  Written to FFFB, notified on FFFC of service
 * FFFA; requests to slave 0x00, the CRC over the Modbus frame only.  A poll
 * is one read (registers decimal):
 *	FC03 0x0000 x 0x48	0-1 current (s32 0.01 A, + charging), 2-3
 *				voltage (u32 0.01 V), 4 SOC, 5 SOH, 6-7
 *				remaining (0.01 Ah), 10-11 design capacity,
 *				12 cycles, 13 the problem word (inverted), 16
 *				the MOSFETs, 18 balancing, 19 cell count, 20..39
 *				cells (mV), 40 sensor count, 41..50 sensors
 *				(0.1 K), 51 the MOSFET's, 52 the ambient
 * raw_alarms[0]: register 13 inverted (0 = no problem).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "mbmaster.h"

#define SH_CELLS 20          /* registers 20..39 */
#define SH_SENSORS 10        /* registers 41..50 */
#define SH_CHG_MOS 0x0200u   /* register 16 */
#define SH_DSG_MOS 0x0400u
#define SH_NONE 0xFFFFu      /* no MOSFET / ambient sensor */
#define SH_KELVIN 2730       /* 0.1 K of 0 degC */

static const uint8_t sh_prefix[] = { 0xA5, 0xA5 };

static const struct bms_mb_block sh_blocks[] = {
	{ BMS_MB_FC_HOLDING, 0x0000, 0x48, BMS_MB_LIVE },
};

/* Registers 0..18: the pack's values, the problem word, the MOSFETs,
 * balancing. */
static int sh_pack(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soc = bms_mb_reg(d, 0, 4), soh = bms_mb_reg(d, 0, 5);
	if (soc > 100 || soh > 100)
		return BMS_E_RANGE;
	s->current = (float)(int32_t)bms_mb_reg32(d, 0, 0) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_mb_reg32(d, 0, 2) / 100.0f;
	s->soc = (float)soc;
	s->soh = (float)soh;
	s->remain_ah = (float)bms_mb_reg32(d, 0, 6) / 100.0f;
	s->full_ah = (float)bms_mb_reg32(d, 0, 10) / 100.0f;
	s->cycles = bms_mb_reg(d, 0, 12);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_FULL |
		      BMS_HAS_CYCLES;
	/* 13: 0xFFFF = no problem; its bits are not published */
	s->nraw = 1;
	s->raw_alarms[0] = (uint16_t)~bms_mb_reg(d, 0, 13);
	s->alarms = s->raw_alarms[0] ? BMS_AL_OTHER : 0;
	uint16_t mos = bms_mb_reg(d, 0, 16);
	s->chg_mos = (mos & SH_CHG_MOS) != 0;
	s->dsg_mos = (mos & SH_DSG_MOS) != 0;
	s->balancing = bms_mb_reg(d, 0, 18) != 0;
	s->present |= BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_BALANCING;
	return BMS_OK;
}

/* A sensor register (0.1 K) in degC.  Inside the sensor count 0xFFFF is
 * taken as read (bms_sensor_faults() makes it absent); the MOSFET's and
 * the ambient sensor, outside the count, are absent at 0xFFFF. */
static float sh_temp(const uint8_t *d, uint16_t reg)
{
	return (float)((int)bms_mb_reg(d, 0, reg) - SH_KELVIN) / 10.0f;
}

/* Registers 19..52: the cells, the sensors (the ambient one after them),
 * the MOSFET's. */
static int sh_cells_temps(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = bms_mb_reg(d, 0, 19), nt = bms_mb_reg(d, 0, 40);
	if (n > SH_CELLS || nt > SH_SENSORS)
		return BMS_E_RANGE;
	s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < n ? poll->cells_forced : n);
	for (unsigned i = 0; i < s->ncells; i++)
		s->cell_mv[i] = bms_mb_reg(d, 0, (uint16_t)(20 + i));
	s->present |= BMS_HAS_CELLS;
	unsigned k = nt < BMS_MAX_TEMPS ? nt : BMS_MAX_TEMPS;
	for (unsigned i = 0; i < k; i++)
		s->temp_c[i] = sh_temp(d, (uint16_t)(41 + i));
	if (k < BMS_MAX_TEMPS && bms_mb_reg(d, 0, 52) != SH_NONE)
		s->temp_c[k++] = sh_temp(d, 52);
	s->ntemps = (uint8_t)k;
	if (k)
		s->present |= BMS_HAS_TEMPS;
	if (bms_mb_reg(d, 0, 51) != SH_NONE) {
		s->mos_temp_c = sh_temp(d, 51);
		s->present |= BMS_HAS_MOS_TEMP;
	}
	return BMS_OK;
}

static int sh_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)block;
	(void)n;
	int rc = sh_pack(poll, d);
	return rc < 0 ? rc : sh_cells_temps(poll, d);
}

static const struct bms_mb_proto sh_proto = {
	.blocks = sh_blocks,
	.nblocks = sizeof(sh_blocks) / sizeof(sh_blocks[0]),
	.ble = true,
	.device = 0x00,
	.prefix = sh_prefix,
	.prefix_len = sizeof(sh_prefix),
	.decode = sh_decode,
};

BMS_MB_IO_FUNCS(sh, sh_proto)

static const struct bms_gatt sh_gatt[] = {
	{ .service = BMS_UUID16("fffa"), .notify = BMS_UUID16("fffc"), .write = BMS_UUID16("fffb") },
	BMS_GATT_END,
};

/* aiobmsble's matcher: a name SH* beside the service FFFA (the scan sees
 * one of them at a time: the name, last of all hints) */
static bool sh_name_ok(const char *n)
{
	return strncmp(n, "SH", 2) == 0;
}

static const struct bms_ble_hint sh_ble_hints[] = {
	{7, BMS_BLE_NAME, NULL, sh_name_ok, 0, false, "name SH* (Saihang / Anenji; service FFFA)"},
	{0},
};

static const struct bms_ble sh_ble = {
	.only = true,
	.gatt = sh_gatt,
	.hints = sh_ble_hints,
};

const struct bms_driver bms_saihang_driver = {
	.name = "saihang",
	.description = "Saihang / Anenji BMSs over Bluetooth LE (SH..., A5 A5 + Modbus FC03 0x0000 x 72)",
	.vendor = "Saihang",
	.protocol_id = 44,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |
		BMS_HAS_ALARMS | BMS_HAS_BALANCING,
	BMS_MB_BLE_LINK,
	.next_request = sh_next_request,
	.scan = sh_scan,
	.handle = sh_handle,
	.timeout = sh_timeout,
	.finish = bms_finish_pack,
	.ble = &sh_ble,
	.mb = &sh_proto,
};
