/* SPDX-License-Identifier: MIT */
/* bms/base/dalyalarm.c - Daly's alarm bytes (see dalyalarm.h). */
#include "../dalyalarm.h"

#include "../bms.h"

/* 0x98 bit n of byte Dk (k*8 + n) -> normalised alarms (bms/PROTOCOLS.md
 * §2.6).  Level-2 bits also raise BMS_AL_PROTECTION; reserved bits map to
 * nothing (they may hold stale data) but stay visible in raw_alarms[]. */
#define L2 BMS_AL_PROTECTION
static const uint32_t daly_alarm_map[7 * 8] = {
	/* D0: cell / pack voltage */
	BMS_AL_CELL_OV, BMS_AL_CELL_OV | L2, BMS_AL_CELL_UV, BMS_AL_CELL_UV | L2,
	BMS_AL_PACK_OV, BMS_AL_PACK_OV | L2, BMS_AL_PACK_UV, BMS_AL_PACK_UV | L2,
	/* D1: temperatures */
	BMS_AL_CHG_OT, BMS_AL_CHG_OT | L2, BMS_AL_CHG_UT, BMS_AL_CHG_UT | L2,
	BMS_AL_DSG_OT, BMS_AL_DSG_OT | L2, BMS_AL_DSG_UT, BMS_AL_DSG_UT | L2,
	/* D2: currents, SOC */
	BMS_AL_CHG_OC, BMS_AL_CHG_OC | L2, BMS_AL_DSG_OC, BMS_AL_DSG_OC | L2,
	BMS_AL_SOC_HIGH, BMS_AL_SOC_HIGH | L2, BMS_AL_SOC_LOW, BMS_AL_SOC_LOW | L2,
	/* D3: differences, b4-7 reserved */
	BMS_AL_CELL_DIFF, BMS_AL_CELL_DIFF | L2, BMS_AL_TEMP_DIFF, BMS_AL_TEMP_DIFF | L2,
	0, 0, 0, 0,
	/* D4: MOSFETs: temp high x2, temp sensor x2, adhesion x2, open x2 */
	BMS_AL_MOS_OT, BMS_AL_MOS_OT, BMS_AL_SENSOR, BMS_AL_SENSOR,
	BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT, BMS_AL_MOS_FAULT,
	/* D5: AFE, voltage collect, cell temp sensor, EEPROM, RTC, precharge,
	 * communication, internal communication */
	BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_SENSOR, BMS_AL_HW_FAULT,
	BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_COMM, BMS_AL_COMM,
	/* D6: current module, sum-voltage detect, short circuit, low-volt
	 * forbidden charge, b4-7 reserved */
	BMS_AL_HW_FAULT, BMS_AL_HW_FAULT, BMS_AL_SHORT | L2, BMS_AL_CELL_UV | L2,
	0, 0, 0, 0,
};
#undef L2

uint32_t daly_alarm_bits(const uint8_t d[8])
{
	uint32_t al = 0;
	for (int bit = 0; bit < 7 * 8; bit++)
		if (d[bit / 8] & (1u << (bit % 8)))
			al |= daly_alarm_map[bit];
	if (d[7])
		al |= BMS_AL_OTHER;
	return al;
}
