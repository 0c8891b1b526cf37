/* SPDX-License-Identifier: MIT */
/* bms/renogyregs.h - the registers Renogy's smart batteries share, read by
 * the RS485 / BT-2 protocol (bms/renogy.c) and by the Bluetooth "Pro"
 * batteries (bms/renogy_pro.c): "Lithium Iron Battery BMS Modbus Protocol
 * V1.7", bms/PROTOCOLS.md §24 and §49.  Each decoder takes the data of its
 * block's answer (registers in decimal, as the document numbers them):
 *	5000 x 34	cell count, cells 1-16 (0.1 V), temperature count,
 *			temperatures 1-16 (s16 0.1 degC)
 *	5042 x 7	current (s16), voltage (0.1 V), remaining and full
 *			capacity (u32 mAh), cycles
 *	5104 x 28	serial (5110, 8 registers), model (5122, 8), software
 *			version (5130, 2)
 * and the status words 5106 (status 1) and 5107 (status 2), and the
 * battery's own warning and protection levels (read only, §24.4):
 *	5200 x 22	cell, charge-temperature, charge-current, module
 *			voltage, discharge-temperature and discharge-current
 *			levels
 * Pure like every decoder. */
#ifndef BMS_RENOGYREGS_H
#define BMS_RENOGYREGS_H

#include <stdint.h>

#include "bms.h"

/* 5000 x 34 into poll->snap: BMS_OK, or BMS_E_RANGE for more than 16
 * cells or temperatures. */
int bms_rng_cells(struct bms_poll *poll, const uint8_t *d);
/* 5042 x 7 into poll->snap, the current in 1 / per_amp A (100: 0.01 A on
 * the RS485 port; 10 or 100 on a Pro, §49); SOC is remaining / full. */
void bms_rng_pack(struct bms_poll *poll, const uint8_t *d, float per_amp);
/* The status words into poll->snap: their alarm bits, the MOSFETs (status 1
 * b1 charge, b2 discharge), charging / discharging (status 2 b15 / b14);
 * raw_alarms[0] and [1]. */
void bms_rng_status(struct bms_poll *poll, uint16_t s1, uint16_t s2);
/* Over Bluetooth LE (the BT-2 module, a Pro battery): written to FFD1 of
 * service FFD0, notified on FFF1 of service FFF0. */
extern const struct bms_gatt bms_rng_gatt[];
/* 5104 x 28 into poll->kept.ident. */
void bms_rng_ident(struct bms_poll *poll, const uint8_t *d);
/* 5200 x 22 into *out (cleared first): the protection levels (§24.4), a
 * value outside its field's range left absent; BMS_OK, or BMS_E_RANGE when
 * no level is in range (*out then holds nothing). */
int bms_rng_settings(struct bms_settings *out, const uint8_t *d);
/* The keys bms_rng_settings() can give (struct bms_driver.settings). */
#define BMS_RNG_SETTINGS \
	(BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) | BMS_SET_BIT(BMS_SET_PACK_OVP_V) | \
	 BMS_SET_BIT(BMS_SET_PACK_UVP_V) | BMS_SET_BIT(BMS_SET_CHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_UTP_C) | \
	 BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_UTP_C) | \
	 BMS_SET_BIT(BMS_SET_CHARGE_OCP_A) | BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_A))

#endif
