/* SPDX-License-Identifier: MIT */
/* gateway/inverter/phfamily.h - private to gateway/inverter/: what the
 * Pylontech high-voltage family shares (PROTOCOLS.md §8, §20, §22): the
 * frames of pylon-hv-can (dialect/emu_pylon_hv_can.c) that solxpow-can (dialect/emu_solxpow_can.c)
 * sends unchanged, the inverter's 0x4200 and the answer to it.  ferroamp-can
 * is pylon-hv-can's codec whole (its own row of CONF_INV_PROTOCOL_LIST).
 * 29-bit identifiers, little endian, DLC 8.  Pure: struct in, frame out. */
#ifndef GATEWAY_INVERTER_PHFAMILY_H
#define GATEWAY_INVERTER_PHFAMILY_H

#include <stdbool.h>
#include <stdint.h>

#include "canframes.h"

#define PH_TEMP_OFFSET 1000L /* 0.1 degC: raw 1000 = 0 degC (pylon-hv-can's temperatures) */
/* Kinds of request (struct inv_heard asked: bit = 0x4200 byte 0). */
#define PH_ASK_ENSEMBLE 0x00 /* 0x4210-0x4290 */
#define PH_ASK_EQUIPMENT 0x02 /* 0x7310-0x7340 */

/* A temperature field of 0.1 degC + offset (1000, or 0 for solxpow-can's
 * plain s16 fields), to the nearest, clamped to the field; absent or not a
 * number: -100.0 degC (raw offset - 1000), at which no inverter charges. */
long ph_temp(bool have, float t, long offset);
/* 0x4240 (cells) and 0x4270 (modules, with `modules`) of id: the hottest
 * and coldest sensor (0.1 degC + offset) and where: its number across the
 * sensors, or its pack; without extremes the average for both, numbers 0. */
void ph_temps(const struct inv_battery *b, struct gw_can_frame *f, uint32_t id, bool modules, long offset);
/* A cell's number counted across the packs in series (pack 1's as it is,
 * another's only when the cells a pack has are known); 0 unknown. */
long ph_cell_no(const struct inv_battery *b, struct inv_where w);

/* The frames both send (ids with address 0; dialect/emu_pylon_hv_can.c says each):
 * 0x4230 the extreme cells, 0x4250 the state, cycles, errors, warnings and
 * protections, 0x4260 module voltages (0), 0x4280 the forbidden marks (0xAA
 * for a current of 0), 0x4290 (0), 0x7310 versions (0), 0x7320 cells,
 * modules, capacity, 0x7330 / 0x7340 the manufacturer. */
bool ph_4230(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_4250(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_4260(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_4280(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_4290(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_7310(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_7320(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_7330(const struct inv_battery *b, struct gw_can_frame *f);
bool ph_7340(const struct inv_battery *b, struct gw_can_frame *f);

/* The inverter's frames (29 bits): 0x4200 byte 0 = 00 or 02 a request,
 * kept in h->asked; 01, 0x3010, 0x8200, 0x8210, 0x8240 heard only. */
enum inv_rx ph_heard(const struct gw_can_frame *f, struct inv_heard *h);
/* The answer to the kinds `asked` from the set set[0..n): the frames of
 * each group asked (0x42x0 for 00, 0x73x0 for 02) kept in order, each id
 * plus `address`; e->limits cleared without 0x4220.  Returns how many. */
int ph_pick(uint32_t asked, unsigned address, struct gw_can_frame *set, int n, struct inv_encoded *e);

#endif
