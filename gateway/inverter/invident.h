/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invident.h - private to gateway/inverter/: what the
 * dialects that describe the battery as a product share (solax-can,
 * foxess-can, and the next ones: energies in Wh, a module count, serial
 * numbers), so that every dialect derives them by one rule
 * (PROTOCOLS.md §10a).  Pure: struct in, numbers out. */
#ifndef GATEWAY_INVERTER_INVIDENT_H
#define GATEWAY_INVERTER_INVIDENT_H

#include <stdint.h>

#include "battery.h"

/* The source's nominal voltage: its cells in series (total_cells, or
 * report_cells) times its chemistry's nominal cell voltage (LFP 3.2 V, NMC
 * 3.7 V, LTO 2.3 V); without a cell count the measured voltage; 0 with
 * neither. */
double inv_nominal_v(const struct inv_battery *b);
/* An energy of ah ampere-hours at the nominal voltage, Wh rounded down
 * (0 when either is unknown or not a number). */
double inv_energy_wh(const struct inv_battery *b, float ah);
/* The installed and the remaining energy, Wh (0 unknown). */
double inv_full_wh(const struct inv_battery *b);
double inv_remain_wh(const struct inv_battery *b);
/* The module count a dialect reports: report_modules when set, else its
 * own rule's count def, held within lo..hi. */
unsigned inv_modules(const struct inv_battery *b, long def, unsigned lo, unsigned hi);
/* Seven ASCII characters (no NUL) of the serial number of slot (0 the
 * battery, 1.. its modules), part 0, 1 or 2: "BMSGW", the slot in two
 * digits, the machine's tag in capitals (or 0s), padded with '0' to 21
 * characters ("BMSGW01" "3D1219C" "7000000"): stable per installation and
 * slot, never a real battery's. */
void inv_serial_part(const struct inv_battery *b, unsigned slot, unsigned part, uint8_t *out);

#endif
