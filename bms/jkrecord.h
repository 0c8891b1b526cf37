/* SPDX-License-Identifier: MIT */
/* bms/jkrecord.h - JK's 300-byte "55 AA EB 90" records, shared by the JK-PB
 * RS485 driver (bms/jk_pb.c, its 0x55AA status frame) and the JK02
 * Bluetooth LE driver (bms/jk_ble.c, its cell-info record).
 *
 * A record is 300 bytes: 55 AA EB 90, the record type (1 settings, 2 cell
 * info / status, 3 device info, 5 logbook), a counter, little-endian
 * fields, and byte 299 = the low byte of the sum of bytes 0..298
 * (bms/PROTOCOLS.md §6.3, §15).  The cell-info record comes in two layouts
 * (§15.4): JK02_32S (32 cell slots; software 11 and later, and the JK-PB,
 * whose RS485 status frame is the same record) and JK02_24S (24 cell slots;
 * older software), in which every field after the cell-present mask sits 32
 * bytes earlier and the alarm word is 16 bits wide.
 *
 * Pure like every decoder: bytes in, struct out.
 */
#ifndef BMS_JKRECORD_H
#define BMS_JKRECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bms.h"

#define JK_RECORD_LEN 300
#define JK_RECORD_TYPE 4        /* offset of the record type */
#define JK_RECORD_SUM 299       /* offset of the sum8 */

enum {
	JK_REC_SETTINGS = 0x01,
	JK_REC_CELLS = 0x02,    /* cell info (JK02) = status frame (JK-PB) */
	JK_REC_INFO = 0x03,
	JK_REC_LOGBOOK = 0x05,
};

/* The two layouts of the cell-info record. */
enum jk_layout {
	JK_LAYOUT_32S = 0,
	JK_LAYOUT_24S = 1,
};

/* The four bytes every record starts with. */
extern const uint8_t jk_record_magic[4];

/* Low byte of the sum of p[0..n). */
uint8_t jk_record_sum(const uint8_t *p, size_t n);

/* p[0..300) starts with the magic and its byte 299 is the sum of the
 * others. */
bool jk_record_ok(const uint8_t *p);

/* Decode the cell-info record p (300 bytes, checked by the caller) in
 * layout `layout` into *s, replacing what was there: cells (by the
 * cell-present mask, or the first cells_forced slots), voltage, current
 * (+ = charging, negated if invert_current), SOC, remaining and full
 * capacity, cycles, SOH, MOS temperature and T1..T4 as the sensor-present
 * bits say, MOSFETs, alarm bits (32 in JK02_32S, 16 in JK02_24S). */
void jk_record_decode_cells(const uint8_t *p, enum jk_layout layout, uint8_t cells_forced,
			    bool invert_current, struct bms_snapshot *s);

/* The charge and discharge switch settings of the settings record p (300
 * bytes, checked by the caller): u32 at 118 and 122, 1 = on.  The same
 * offsets in both layouts. */
void jk_record_switches(const uint8_t *p, bool *chg_on, bool *dsg_on);

/* The current limits of the settings record p (300 bytes, checked by the
 * caller), in A: max charge current (u32 mA at 50 = settings block 0x2C,
 * "CurBatCOC") and max discharge current (u32 mA at 62 = 0x38,
 * "CurBatDcOC"), the over-current protection settings; 0 A for a direction
 * whose switch (118 / 122) is off.  The same offsets in both layouts.
 * BMS_OK, or BMS_E_RANGE (nothing written) for a current above
 * JK_RECORD_MAX_CUR_MA. */
#define JK_RECORD_MAX_CUR_MA 1000000u
int jk_record_limits(const uint8_t *p, float *ccl_a, float *dcl_a);

/* The BMS's settings of the settings record p (300 bytes, checked by the
 * caller) into *out, replacing what was there (bms/PROTOCOLS.md §6.7 table):
 * protection thresholds, delays, balancing, capacity, cell count.  A field
 * outside its possible range is left out.  The same offsets in both
 * layouts. */
void jk_record_settings(const uint8_t *p, struct bms_settings *out);
/* The keys jk_record_settings() can give (struct bms_driver.settings). */
#define JK_RECORD_SETTINGS                                                                                 \
	(BMS_SET_OCP_PROTECT | BMS_SET_BIT(BMS_SET_CELL_UVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_RELEASE_V) | \
	 BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_OVP_RELEASE_V) |                       \
	 BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) | BMS_SET_BIT(BMS_SET_POWER_OFF_V) |                         \
	 BMS_SET_BIT(BMS_SET_CHARGE_OCP_RELEASE_S) | BMS_SET_BIT(BMS_SET_DISCHARGE_OCP_RELEASE_S) |        \
	 BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_RELEASE_S) | BMS_SET_BIT(BMS_SET_BALANCE_CURRENT_A) |           \
	 BMS_SET_BIT(BMS_SET_CHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_OTP_RELEASE_C) |                   \
	 BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_C) | BMS_SET_BIT(BMS_SET_DISCHARGE_OTP_RELEASE_C) |             \
	 BMS_SET_BIT(BMS_SET_CHARGE_UTP_C) | BMS_SET_BIT(BMS_SET_CHARGE_UTP_RELEASE_C) |                   \
	 BMS_SET_BIT(BMS_SET_MOS_OTP_C) | BMS_SET_BIT(BMS_SET_MOS_OTP_RELEASE_C) |                         \
	 BMS_SET_BIT(BMS_SET_CELL_COUNT) | BMS_SET_BIT(BMS_SET_CAPACITY_AH) |                              \
	 BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_DELAY_S) | BMS_SET_BIT(BMS_SET_BALANCE_START_V))

/* The major number of the software version of the device-info record p
 * (300 bytes; 8 characters at offset 30, e.g. "11.17", "7.1.0H"; a leading
 * 'V' is skipped), or -1 when it does not start with a number. */
int jk_record_sw_major(const uint8_t *p);

#endif
