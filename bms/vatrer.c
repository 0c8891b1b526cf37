/* SPDX-License-Identifier: MIT */
/* bms/vatrer.c - Vatrer LiFePO4 wall and rack batteries whose BMS is not a
 * JBD (names like "240612512100001": a date, 512, the capacity, as
 * aiobmsble reads them): Modbus RTU FC03 over Bluetooth LE, a register
 * table on the master of bms/base/mbmaster.c.
 *
 * bms/PROTOCOLS.md §50.  The Nordic UART service; requests to slave 0x02.
 * A poll reads (registers hex):
 *	FC03 0x0000 x 0x14	voltage (0.01 V), current (s32 0.01 A, + charging),
 *				SOC, remaining (0.01 Ah), cycles, SOH
 *	FC03 0x0015 x 0x1F	cell count, cells (mV)
 *	FC03 0x0034 x 0x12	temperature count n, n + 1 temperatures and the
 *				MOSFET's (degC), the problem bytes, the MOSFETs,
 *				the balancing cells
 * raw_alarms[]: registers 0x3B..0x3E, the first of the problem bytes.
 * The status and cell registers are decoded by the map's shared code
 * (bms/vatrermap.h), which c4s reads too.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "mbmaster.h"
#include "vatrermap.h"

#define VT_TEMPS 15  /* the temperature block: n + 2 values after the count */

enum { VT_B_STATUS, VT_B_CELLS, VT_B_TEMPS };

static const struct bms_mb_block vt_blocks[] = {
	[VT_B_STATUS] = { BMS_MB_FC_HOLDING, 0x0000, 0x14, BMS_MB_LIVE },
	[VT_B_CELLS] = { BMS_MB_FC_HOLDING, 0x0015, 0x1F, BMS_MB_LIVE },
	[VT_B_TEMPS] = { BMS_MB_FC_HOLDING, 0x0034, 0x12, BMS_MB_LIVE },
};

#define VT_CHG_MOS 0x10 /* low byte of 0x42 */
#define VT_DSG_MOS 0x20

static int vt_temps(struct bms_poll *poll, const uint8_t *d, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = bms_mb_reg(d, 0x34, 0x34);
	if (n > VT_TEMPS - 2)
		return BMS_E_RANGE;
	/* the n sensors and one more (aiobmsble: a generic one), then the MOSFET */
	s->ntemps = (uint8_t)(n + 1 < BMS_MAX_TEMPS ? n + 1 : BMS_MAX_TEMPS);
	for (unsigned i = 0; i < s->ntemps; i++)
		s->temp_c[i] = (float)bms_mb_sreg(d, 0x34, (uint16_t)(0x35 + i));
	s->mos_temp_c = (float)bms_mb_sreg(d, 0x34, (uint16_t)(0x36 + n));
	/* data bytes 14..28: problems (meanings not published) */
	bool problem = false;
	for (size_t i = 14; i <= 28 && i < len; i++)
		problem |= d[i] != 0;
	s->alarms = problem ? BMS_AL_OTHER : 0;
	s->nraw = 4;
	for (unsigned i = 0; i < 4; i++)
		s->raw_alarms[i] = bms_mb_reg(d, 0x34, (uint16_t)(0x3B + i));
	s->chg_mos = (d[29] & VT_CHG_MOS) != 0;
	s->dsg_mos = (d[29] & VT_DSG_MOS) != 0;
	s->balance = bms_mb_reg32(d, 0x34, 0x44);
	s->present |= BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE;
	return BMS_OK;
}

static int vt_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	switch (block) {
	case VT_B_STATUS: return bms_vatrer_status(poll, d, 0x0000);
	case VT_B_CELLS: return bms_vatrer_cells(poll, d, 0x0015);
	default: return vt_temps(poll, d, n);
	}
}

static const struct bms_mb_proto vt_proto = {
	.blocks = vt_blocks,
	.nblocks = sizeof(vt_blocks) / sizeof(vt_blocks[0]),
	.ble = true,
	.device = 0x02,
	.decode = vt_decode,
};

BMS_MB_IO_FUNCS(vt, vt_proto)

static const struct bms_gatt vt_gatt[] = {
	BMS_GATT_NUS,
	BMS_GATT_END,
};

/* aiobmsble's matcher "[2-9]???[0-3]?512??00??": 15 characters, a date
 * first (YYMMDD), 512 (51.2 V) at 6..8, 00 at 11..12. */
static bool vt_name_ok(const char *n)
{
	return strlen(n) == 15 && n[0] >= '2' && n[0] <= '9' && n[4] >= '0' && n[4] <= '3' &&
	       strncmp(n + 6, "512", 3) == 0 && strncmp(n + 11, "00", 2) == 0;
}

static const struct bms_ble_hint vt_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, vt_name_ok, 0, false, "name YYMMDD512..00.. (Vatrer, not a JBD)"},
	{0},
};

static const struct bms_ble vt_ble = {
	.only = true,
	.gatt = vt_gatt,
	.hints = vt_ble_hints,
};

const struct bms_driver bms_vatrer_driver = {
	.name = "vatrer",
	.description = "Vatrer wall / rack batteries over Bluetooth LE (non-JBD, Modbus FC03 slave 2)",
	.vendor = "Vatrer",
	.protocol_id = 41,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS |
		BMS_HAS_BALANCE,
	BMS_MB_BLE_LINK,
	.next_request = vt_next_request,
	.scan = vt_scan,
	.handle = vt_handle,
	.timeout = vt_timeout,
	.finish = bms_finish_pack,
	.ble = &vt_ble,
	.mb = &vt_proto,
};
