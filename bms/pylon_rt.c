/* SPDX-License-Identifier: MIT */
/* bms/pylon_rt.c - Pylontech RT batteries (RT12100, RT12200, RT24100 ...)
 * with their Bluetooth module built in: Modbus RTU FC03 over Bluetooth LE,
 * a register table on the master of bms/base/mbmaster.c.
 *
 * bms/PROTOCOLS.md §51.  Written to ...0a0b0c0d2b11, notified on
 * ...0a0b0c0d2b10 of the module's service 00010203-...-0a0b0c0d1910;
 * requests to slave 0x01.  A poll reads (registers hex):
 *	FC03 0x1016 x 13	voltage (0.01 V), current (s16 0.1 A, + charging),
 *				the highest and lowest cell (mV), the highest and
 *				lowest temperature (s16 0.1 degC), SOC, SOH, power,
 *				energy, a current, the design capacity (0.1 Ah)
 *	FC03 0x2000 x 8		the serial (identity)
 * The BMS gives no cell list: only its highest and lowest cell, the
 * snapshot's cell extremes (bms.h; no cells are made of them), and its
 * highest and lowest temperature, its sensors 1 and 2 and the temperature
 * extremes; a sample needs its voltage alone.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "mbmaster.h"

#define PR_MAIN 0x1016
#define PR_SERIAL 0x2000

enum { PR_B_MAIN, PR_B_SERIAL };

static const struct bms_mb_block pr_blocks[] = {
	[PR_B_MAIN] = { BMS_MB_FC_HOLDING, PR_MAIN, 13, BMS_MB_LIVE },
	[PR_B_SERIAL] = { BMS_MB_FC_HOLDING, PR_SERIAL, 8, BMS_MB_IDENT },
};

static int pr_main(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned soc = bms_mb_reg(d, PR_MAIN, 0x101C), soh = bms_mb_reg(d, PR_MAIN, 0x101D);
	if (soc > 100 || soh > 100)
		return BMS_E_RANGE;
	s->voltage = (float)bms_mb_reg(d, PR_MAIN, 0x1016) / 100.0f;
	s->current = (float)bms_mb_sreg(d, PR_MAIN, 0x1017) / 10.0f;
	if (poll->invert_current)
		s->current = -s->current;
	/* 0x1018 / 0x1019, the highest and lowest cell (no numbers): no cell list */
	bms_set_cell_ext(s, bms_mb_reg(d, PR_MAIN, 0x1018), 0, bms_mb_reg(d, PR_MAIN, 0x1019), 0);
	s->temp_c[0] = (float)bms_mb_sreg(d, PR_MAIN, 0x101A) / 10.0f;
	s->temp_c[1] = (float)bms_mb_sreg(d, PR_MAIN, 0x101B) / 10.0f;
	s->ntemps = 2;
	bms_set_temp_ext(s, s->temp_c[0], s->temp_c[1]);
	s->soc = (float)soc;
	s->soh = (float)soh;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_TEMPS | BMS_HAS_SOC | BMS_HAS_SOH;
	/* 0x101E power (W, no sign), 0x1020 energy, 0x1021 a current: not read */
	unsigned design = bms_mb_reg(d, PR_MAIN, 0x1022);
	if (design) {
		s->full_ah = (float)design / 10.0f;
		s->present |= BMS_HAS_FULL;
	}
	return BMS_OK;
}

static int pr_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n;
	if (block == PR_B_MAIN)
		return pr_main(poll, d);
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_mb_text(d, PR_SERIAL, PR_SERIAL, 8, id->serial, sizeof(id->serial));
	return BMS_OK;
}

static const struct bms_mb_proto pr_proto = {
	.blocks = pr_blocks,
	.nblocks = sizeof(pr_blocks) / sizeof(pr_blocks[0]),
	.ble = true,
	.device = 0x01,
	.decode = pr_decode,
};

BMS_MB_IO_FUNCS(pr, pr_proto)

/* A sample: every read done (the identity's may have been skipped), a
 * voltage above 0 (all-zero answers are not data); no cells to ask for. */
static int pr_finish(struct bms_poll *poll)
{
	return bms_mb_finish_voltage(&pr_proto, poll);
}

#define PR_UUID(x) "00010203-0405-0607-0809-0a0b0c0d" x

static const struct bms_gatt pr_gatt[] = {
	{ .service = PR_UUID("1910"), .notify = PR_UUID("2b10"), .write = PR_UUID("2b11") },
	BMS_GATT_END,
};

/* aiobmsble's name pattern RT[1-4][2468]* (RT12100, RT24100 ...) */
static bool pr_name_ok(const char *n)
{
	return (n[0] == 'R' || n[0] == 'r') && (n[1] == 'T' || n[1] == 't') && n[2] >= '1' && n[2] <= '4' &&
	       n[3] != '\0' && strchr("2468", n[3]) != NULL;
}

static const struct bms_ble_hint pr_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, pr_name_ok, 0, false, "name RT12*, RT24* ... (Pylontech RT)"},
	{0},
};

static const struct bms_ble pr_ble = {
	.only = true,
	.gatt = pr_gatt,
	.hints = pr_ble_hints,
};

const struct bms_driver bms_pylon_rt_driver = {
	.name = "pylon-rt",
	.description = "Pylontech RT batteries over Bluetooth LE (Modbus FC03 0x1016.., the highest and lowest "
		       "cell, no cell list)",
	.vendor = "Pylontech",
	.protocol_id = 42,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_FULL |
		BMS_HAS_TEMPS | BMS_HAS_CELL_EXT | BMS_HAS_TEMP_EXT,
	BMS_MB_BLE_LINK,
	.next_request = pr_next_request,
	.scan = pr_scan,
	.handle = pr_handle,
	.timeout = pr_timeout,
	.finish = pr_finish,
	.ble = &pr_ble,
	.mb = &pr_proto,
};
