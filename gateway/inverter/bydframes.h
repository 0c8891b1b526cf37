/* SPDX-License-Identifier: MIT */
/* gateway/inverter/bydframes.h - private to gateway/inverter/: the frames of
 * BYD's Battery-Box HVS protocol (big endian, DLC 8), which byd-hvs-can
 * sends under BYD's own identifiers (0x110 ...) and sma-hv-can under SMA's
 * (0x358 ...): the same layouts, each built here once for any identifier
 * (PROTOCOLS.md §9, §18).  Pure: struct in, frame out. */
#ifndef GATEWAY_INVERTER_BYDFRAMES_H
#define GATEWAY_INVERTER_BYDFRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "../wire/canframe.h"
#include "battery.h"

/* CVL (u16 0.1 V, down), DVL (u16 0.1 V, up), DCL then CCL (s16 0.1 A,
 * down; 0 when not allowed): BYD 0x110, SMA 0x358. */
void inv_byd_limits(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id);
/* SOC (down), SOH (nearest; 100.00 % unknown) in 0.01 %, remaining and
 * full capacity in 0.1 Ah (0 unknown): BYD 0x150, SMA 0x3D8. */
void inv_byd_soc(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id);
/* Voltage u16 0.1 V, current s16 0.1 A (+ = charging), the average
 * temperature s16 0.1 degC, byte 6 the state (3 ready, 2 stop), byte 7
 * 0x08: BYD 0x1D0 (always 03 08), SMA 0x4D8. */
void inv_byd_meas(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, uint8_t state);
/* The hottest and the coldest sensor, s16 0.1 degC, in bytes 0-3: BYD
 * 0x210, SMA 0x518 (which fills bytes 4-7 with its own). */
void inv_byd_temps(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id);
/* Eight constant bytes. */
bool inv_byd_const(struct gw_can_frame *f, uint32_t id, const char *bytes);
/* "\0BYD" (BYD 0x2D0, SMA 0x5D8) and "Battery-Box Premium HVS" in four
 * frames, byte 0 the sequence (BYD 0x3D0, SMA 0x618). */
extern const char inv_byd_vendor[9];
extern const char inv_byd_hvs_name[4][9];

#endif
