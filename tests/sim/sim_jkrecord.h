/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jkrecord.h - the BMS side of JK's 300-byte little-endian
 * records, 55 AA EB 90 <type> <counter> ... <sum8 of 0..298>, shared by
 * sim_jk_pb.c (the RS485 status frame, bms/PROTOCOLS.md §6.3, which is the
 * JK02_32S cell record) and sim_jk_ble.c (JK02 over Bluetooth, §15, in the
 * JK02_32S or the JK02_24S layout).  Encoded from the pack state;
 * independent of bms/ (the code under test).
 *
 * Cell record, JK02_32S: cells 6 + 2n (32), mask 70, average 74, delta 76,
 * highest / lowest cell 78 / 79, wire resistances 80 + 2n, MOS temperature
 * 144 (0.1 degC), V 150 (mV), power 154 (mW), I 158 (mA, + = charging),
 * T1 / T2 162 / 164, alarms 166 (u32), balancer 172, SOC 173, remaining
 * 174 / full 178 (mAh), cycles 182, cycle capacity 186, SOH 190, run time
 * 194, MOSFETs 198 / 199, sensors present 214 (b0 MOS, b1..b4 T1..T4), MOS
 * again 254, T3 / T4 256 / 258.  JK02_24S: 24 cells, the mask and its
 * neighbours 16 bytes earlier, every later field 32 bytes earlier except
 * the MOS temperature (134) and 16 alarm bits (136); no cycle capacity, T3,
 * T4.  A protection holding a MOSFET off sets alarm b8 (charge) / b15
 * (discharge).
 */
#ifndef BMSGW_SIM_JKRECORD_H
#define BMSGW_SIM_JKRECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define SIM_JK_REC 300
#define SIM_JK_CELLS 32 /* JK02_32S; JK02_24S has 24 */
#define SIM_JK_TEMPS 4  /* T1..T4; JK02_24S has 2 */

/* Little-endian fields and text into a record. */
void sim_jk_le16(uint8_t *b, unsigned v);
void sim_jk_le32(uint8_t *b, unsigned long v);
void sim_jk_text(uint8_t *b, const char *s);
/* Start a record of `type` (1 settings, 2 cells, 3 device info) with its
 * frame counter; end it with its sum8. */
void sim_jk_begin(uint8_t *f, unsigned type, uint8_t counter);
void sim_jk_end(uint8_t *f);
/* The settings record (type 1) of pack p: the settings block's UINT32s,
 * JK02 register n at 6 + 4 (n - 1) (JK-PB: block offset 0x1000 + 4 (n - 1)
 * + 6; bms/PROTOCOLS.md §6.7): the voltages, delays, temperatures and
 * balancing of vector JKPB-05 (a charge UTP below 0 degC) until a write
 * changes them, the current limits (max charge / discharge current), the
 * switches, the cells and the capacity of the pack, and the device address
 * at 270. */
void sim_jk_settings(const struct sim_pack *p, uint8_t counter, uint8_t *f);
/* The JK02 registers a settings write may set: 0x01-0x1B, 0x1F-0x22 (the
 * switches 0x1D / 0x1E are MOSFET writes, the cell count 0x1C is not
 * taken). */
#define SIM_JK_SET_LAST 0x22
#define SIM_JK_SET_HEAT 0x46 /* 0x1114: the heater's bit and temperatures (sim_pack heat_*) */
int sim_jk_set_writable(unsigned n);
/* Register n takes value v (a settings write the pack's control mode
 * applies): the max charge / discharge current (0x0C / 0x0F) are the
 * pack's current limits, the others are kept for the settings record. */
void sim_jk_set_write(struct sim_pack *p, unsigned n, uint32_t v);
/* The cell record of pack p in the 32S (layout24 false) or 24S layout. */
void sim_jk_cells(const struct sim_pack *p, bool layout24, uint8_t counter, uint8_t *f);
/* What that record shows of p, after the wire's rounding. */
void sim_jk_view(const struct sim_pack *p, bool layout24, struct sim_view *v);
/* A current limit (A) as the settings record's u32 mA (max charge current at
 * 50, max discharge current at 62: settings block 0x2C / 0x38 + 6). */
unsigned long sim_jk_limit_ma(double a);
/* What the settings record shows of p's current limits: 0 A where the
 * switch (118 / 122) is off. */
void sim_jk_view_limits(const struct sim_pack *p, struct sim_view *v);

#endif
