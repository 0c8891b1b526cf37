/* SPDX-License-Identifier: MIT */
/* bms/c4s.c - the "C4S100"-family smart BMS (app "E-BMS", names
 * C4S100IE<serial>) over Bluetooth LE: Vatrer's register map read at once.
 *
 * See bms/PROTOCOLS.md §81.  Bluetooth LE only, the Nordic UART service; a
 * register table on the master of bms/base/mbmaster.c: Modbus RTU FC03 to
 * slave 0x02, one read a poll,
 *	02 03 00 00 00 46 C4 0B		registers 0x00..0x45
 * (the three partial reads vatrer makes go unanswered on this BMS, as the
 * source found on the device).  Registers (hex), Vatrer's map
 * (bms/vatrermap.h): 00 voltage (0.01 V), 01..02 current (s32 0.01 A, +
 * charging), 03 SOC, 04 remaining (0.01 Ah), 05 design capacity (0.01 Ah:
 * served as the full), 06 cycles, 07 SOH, 10 the MOSFET's and 11 the
 * ambient temperature (s16 degC), 15 the cell count, 16.. cells (mV).
 * The rest of the table (Vatrer's problem bytes, MOSFETs, balancing at
 * 0x34..0x45) is read with it but not decoded: the source reads none of it
 * from this BMS and no capture shows a bit set.
 */
#include "bms.h"

#include "drivers.h"
#include "mbmaster.h"
#include "vatrermap.h"

#define C4_REGS 0x46

static const struct bms_mb_block c4_blocks[] = {
	{ BMS_MB_FC_HOLDING, 0x0000, C4_REGS, BMS_MB_LIVE },
};

static int c4_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	struct bms_snapshot *s = &poll->snap;
	(void)block;
	if (n < 2u * C4_REGS)
		return BMS_E_SHORT;
	int rc = bms_vatrer_status(poll, d, 0x0000);
	if (rc == BMS_OK)
		rc = bms_vatrer_cells(poll, d, 0x0000);
	if (rc != BMS_OK)
		return rc;
	s->full_ah = (float)bms_mb_reg(d, 0, 0x05) / 100.0f;
	s->mos_temp_c = (float)bms_mb_sreg(d, 0, 0x10);
	s->temp_c[0] = (float)bms_mb_sreg(d, 0, 0x11);
	s->ntemps = 1;
	s->present |= BMS_HAS_FULL | BMS_HAS_MOS_TEMP | BMS_HAS_TEMPS;
	return BMS_OK;
}

static const struct bms_mb_proto c4_proto = {
	.blocks = c4_blocks,
	.nblocks = sizeof(c4_blocks) / sizeof(c4_blocks[0]),
	.ble = true,
	.device = 0x02,
	.decode = c4_decode,
};

BMS_MB_IO_FUNCS(c4, c4_proto)

static const struct bms_gatt c4_gatt[] = {
	BMS_GATT_NUS,
	BMS_GATT_END,
};

/* aiobmsble's matcher "C4S100IE?????": the prefix and five characters more
 * (C4S100IE06007). */
static bool c4_name_ok(const char *n)
{
	static const char pfx[] = "C4S100IE";
	for (size_t i = 0; i < sizeof(pfx) - 1; i++)
		if (n[i] != pfx[i])
			return false;
	size_t k = sizeof(pfx) - 1;
	while (n[k])
		k++;
	return k == sizeof(pfx) - 1 + 5;
}

static const struct bms_ble_hint c4_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, c4_name_ok, 0, false, "name C4S100IE????? (C4S100 E-BMS: Vatrer's map)"},
	{0},
};

static const struct bms_ble c4_ble = {
	.only = true,
	.gatt = c4_gatt,
	.hints = c4_ble_hints,
};

const struct bms_driver bms_c4s_driver = {
	.name = "c4s",
	.description = "C4S100 E-BMS over Bluetooth LE (Vatrer's register map, one Modbus FC03 read at slave 2)",
	.vendor = "C4S",
	.protocol_id = 71,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP,
	BMS_MB_BLE_LINK,
	.next_request = c4_next_request,
	.scan = c4_scan,
	.handle = c4_handle,
	.timeout = c4_timeout,
	.finish = bms_finish_pack,
	.ble = &c4_ble,
	.mb = &c4_proto,
};
