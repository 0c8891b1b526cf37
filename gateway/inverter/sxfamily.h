/* SPDX-License-Identifier: MIT */
/* gateway/inverter/sxfamily.h - private to gateway/inverter/: what the
 * SolaX / FoxESS "V1" family shares (dialect/emu_solax_can.c, dialect/emu_foxess_can.c;
 * PROTOCOLS.md §11, §12): 29-bit identifiers, little endian, DLC 8, the
 * inverter's 0x1871 and the battery's 0x1872 (limits), 0x1873 (voltage,
 * current, SOC, remaining energy), the same in both, and 0x1874 (extreme
 * temperatures and cells: the cells' unit differs).  Pure: struct in,
 * frame out. */
#ifndef GATEWAY_INVERTER_SXFAMILY_H
#define GATEWAY_INVERTER_SXFAMILY_H

#include <stdbool.h>
#include <stdint.h>

#include "canframes.h"

#define SX_REQUEST_ID 0x1871 /* the inverter's request, 29 bits */

/* A frame of the family: id, extended, DLC 8, zeros. */
void sx_begin(struct gw_can_frame *f, uint32_t id);
/* The limits as 0x1872 carries them (inv_cf_limits: a direction not allowed,
 * or whose field rounds to 0, is 0), and the limits reported from them. */
void sx_encoded(const struct inv_battery *b, struct inv_encoded *e);
/* 0x1872: CVL (0.1 V, down), DVL (0.1 V, up), CCL, DCL (0.1 A, down; u16). */
bool sx_1872(const struct inv_battery *b, struct gw_can_frame *f);
/* 0x1873: voltage (u16 0.1 V), current (s16 0.1 A, + = charging), SOC (u8 %,
 * down), 0, the remaining energy (u16 0.01 kWh). */
bool sx_1873(const struct inv_battery *b, struct gw_can_frame *f);
/* 0x1874: the hottest and coldest sensor (s16 0.1 degC), the highest and
 * lowest cell (u16, per_mv units a millivolt: solax-can 0.01, a tenth of a
 * volt; foxess-can 1, mV), to the nearest; absent: 0. */
void sx_put1874(const struct inv_battery *b, struct gw_can_frame *f, double per_mv);
/* The mean of the hottest and coldest sensor, s16 0.1 degC (0x1875 bytes 0-1). */
long sx_mean_temp(const struct inv_battery *b);
/* A temperature as s16 0.1 degC; a cell as u16 mV (0 without the extremes). */
long sx_temp(float t);
long sx_cell_max(const struct inv_battery *b);
long sx_cell_min(const struct inv_battery *b);
/* Is f the inverter's 0x1871 (29 bits, no remote frame)? */
bool sx_is_request(const struct gw_can_frame *f);
/* Does f carry exactly the 8 bytes of hex? */
bool sx_payload_is(const struct gw_can_frame *f, const uint8_t want[8]);

#endif
