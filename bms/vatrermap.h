/* SPDX-License-Identifier: MIT */
/* bms/vatrermap.h - the Vatrer register map (Modbus FC03 at slave 2 over
 * Bluetooth LE), shared by vatrer (bms/PROTOCOLS.md §50), which reads it in
 * three blocks, and c4s (§81), which reads registers 0x00..0x45 at once.
 *
 * d is a block's data (big-endian registers) that starts at register
 * `start` and holds the registers asked: 0x00..0x07 for the status,
 * 0x15..0x33 for the cells.  Pure: bytes in, struct out.
 */
#ifndef BMS_VATRERMAP_H
#define BMS_VATRERMAP_H

#include <stdint.h>

#include "bms.h"

#define BMS_VT_CELLS 30   /* cell slots after the count register 0x15 */

/* Registers 0x00..0x07: voltage (0.01 V), current (0x01..0x02, s32 0.01 A,
 * + charging), SOC %, remaining (0.01 Ah), [0x05 the design capacity, not
 * read here], cycles, SOH % into poll->snap.  BMS_E_RANGE for a SOC or SOH
 * above 100. */
int bms_vatrer_status(struct bms_poll *poll, const uint8_t *d, uint16_t start);

/* Register 0x15, the cell count (at most BMS_VT_CELLS), and the cells
 * from 0x16 (mV) into poll->snap (the first cells_forced where the pack
 * says that).  BMS_E_RANGE for a count beyond the slots. */
int bms_vatrer_cells(struct bms_poll *poll, const uint8_t *d, uint16_t start);

#endif
