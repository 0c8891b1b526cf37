/* SPDX-License-Identifier: MIT */
/* bms/dalyalarm.h - Daly's alarm bytes, shared by the legacy protocol
 * (bms/daly.c: the eight data bytes D0..D7 of the 0x98 answer) and the D2
 * dialect of the new one (bms/daly_modbus.c: registers 0x3A..0x3D hold the
 * same eight bytes, two per register, low byte first).  bms/PROTOCOLS.md
 * §2.6.  Pure like every decoder. */
#ifndef BMS_DALYALARM_H
#define BMS_DALYALARM_H

#include <stdint.h>

/* The normalised alarms (BMS_AL_*) of the bytes d[0..7]: bit n of byte Dk
 * through the table of §2.6 (level-2 bits also raise BMS_AL_PROTECTION,
 * reserved bits nothing), and BMS_AL_OTHER for a failure code in D7. */
uint32_t daly_alarm_bits(const uint8_t d[8]);

#endif
