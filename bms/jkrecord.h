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
/* The largest capacity the settings read takes (mAh). */
#define JK_RECORD_MAX_CAP_MAH 10000000u
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
	 BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_DELAY_S) | BMS_SET_BIT(BMS_SET_BALANCE_START_V) |               \
	 BMS_SET_BIT(BMS_SET_BALANCER))

/* The settings record's field of JK02 register n (= the JK-PB settings
 * block's 0x1000 + 4 (n - 1)): offset 6 + 4 (n - 1), u32 little-endian, in
 * both layouts for the registers up to 0x20 and for the balancing start
 * voltage (0x22 on JK02_32S, 138; bms/PROTOCOLS.md §6.7, §15.7). */
#define JK_RECORD_SET_OFF(n) (6u + 4u * ((unsigned)(n) - 1u))

/* The settings both JK families write (bms/setwrite.h; bms/PROTOCOLS.md
 * §6.8, §15.7): struct bms_writer.field initialisers for JK02_32S register
 * n, put on the wire by REG(n) (jk-ble: n itself; jk-pb: 0x1000 + 4 (n -
 * 1)).  u32 in mV, mA, mAh (step 1 mV, 1 mA, 1 mAh), the balancer 0 / 1.
 * The ranges are ESPHome's for JK02 (syssi/esphome-jk-bms at 2fa4323,
 * its jk_bms_ble number component): cells 1.2-4.35 V, balancing
 * start 1.2-4.25 V, trigger 0.003-1.0 V, charge over-current 1-600 A,
 * discharge 1-1200 A cut at the 1000 A the settings read takes as a
 * current limit (JK_RECORD_MAX_CUR_MA), capacity 2-20000 Ah cut at the
 * 10000 Ah it takes (jk_record_settings()). */
#define JK_SET_WFIELDS(REG)                                                         \
	[BMS_W_CELL_UVP_V] = { REG(0x02), 1000, 0, 1200, 4350 },                    \
	[BMS_W_CELL_UVP_RELEASE_V] = { REG(0x03), 1000, 0, 1200, 4350 },            \
	[BMS_W_CELL_OVP_V] = { REG(0x04), 1000, 0, 1200, 4350 },                    \
	[BMS_W_CELL_OVP_RELEASE_V] = { REG(0x05), 1000, 0, 1200, 4350 },            \
	[BMS_W_BALANCE_DELTA_V] = { REG(0x06), 1000, 0, 3, 1000 },                  \
	[BMS_W_CHARGE_OCP_A] = { REG(0x0C), 1000, 0, 1000, 600000 },                \
	[BMS_W_DISCHARGE_OCP_A] = { REG(0x0F), 1000, 0, 1000, JK_RECORD_MAX_CUR_MA }, \
	[BMS_W_BALANCER] = { REG(0x1F), 1, 0, 0, 1 },                               \
	[BMS_W_CAPACITY_AH] = { REG(0x20), 1000, 0, 2000, JK_RECORD_MAX_CAP_MAH },  \
	[BMS_W_BALANCE_START_V] = { REG(0x22), 1000, 0, 1200, 4250 }
/* Every key of the vocabulary but soc (no JK02 register sets the SOC). */
#define JK_SET_WKEYS (BMS_W_ALL & ~BMS_W_BIT(BMS_W_SOC))
/* (the heater, 0x1114's bit 0, is jk-pb's alone: a field of its own) */

/* The heater of a JK-PB (bms/PROTOCOLS.md §6.9; JK's "BMS RS485 Modbus
 * V1.1" as dbus-serialbattery's jkbms_pb reads it): in the status record p
 * (300 bytes, checked by the caller), byte 215 the heater on (not 0) and
 * 236..237 its current (u16 mA); in the settings record, 282..285 the
 * settings block's UINT32 0x1114: its low 16 bits the control bits (bit 0
 * heating enabled), and on firmware that has them (hardware above 15A, or
 * 15A from software 15.41: jk_record_heat_temps() of the device-info
 * record says JK_HEAT_OWN) byte 284 the start and 285 the stop
 * temperature of the heating (s8 degC); older firmware heats by the charge
 * under-temperature protection and its release (JK_HEAT_UTP).
 * jk_record_heater() fills s's heater (BMS_HAS_HEATER);
 * jk_record_heat_settings() adds the heater key to *out, and the two
 * temperatures as temps says (JK_HEAT_UTP: from *out's charge UTP keys,
 * jk_record_settings() first; JK_HEAT_UNKNOWN: none). */
#define JK_RECORD_HEAT_OFF 282u     /* the settings record's UINT32 of 0x1114 */
#define JK_RECORD_HEAT_ENABLE 0x1u  /* its bit: heating enabled */
enum { JK_HEAT_UNKNOWN, JK_HEAT_OWN, JK_HEAT_UTP };
int jk_record_heat_temps(const uint8_t *p);
void jk_record_heater(const uint8_t *p, struct bms_snapshot *s);
void jk_record_heat_settings(const uint8_t *p, int temps, struct bms_settings *out);
#define JK_RECORD_HEAT_SETTINGS                                                                           \
	(BMS_SET_BIT(BMS_SET_HEATER) | BMS_SET_BIT(BMS_SET_HEAT_START_C) | BMS_SET_BIT(BMS_SET_HEAT_STOP_C))

/* The major number of the software version of the device-info record p
 * (300 bytes; 8 characters at offset 30, e.g. "11.17", "7.1.0H"; a leading
 * 'V' is skipped), or -1 when it does not start with a number. */
int jk_record_sw_major(const uint8_t *p);

#endif
