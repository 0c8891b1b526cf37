/* SPDX-License-Identifier: MIT */
/* bms/victron_ble.h - what a victron-ble poll keeps beside its snapshot:
 * the driver's state in struct bms_poll.priv (BMS_PRIV()), the fields of a
 * battery monitor's record the snapshot has no place for.  Its own file so
 * that the driver's unit test can read them. */
#ifndef BMS_VICTRON_BLE_H
#define BMS_VICTRON_BLE_H

#include <stdint.h>

/* struct vic_state.have: which of the fields came (a field without its bit
 * is 0) */
#define VIC_S_TTG 0x1u      /* ttg_min */
#define VIC_S_CONSUMED 0x2u /* consumed_dah */
#define VIC_S_STARTER 0x4u  /* aux_cv: the starter voltage */
#define VIC_S_MIDPOINT 0x8u /* aux_cv: the mid-point voltage */

/* The aux input's modes (struct vic_state.aux_mode). */
enum { VIC_AUX_STARTER = 0, VIC_AUX_MIDPOINT = 1, VIC_AUX_TEMP = 2, VIC_AUX_NONE = 3 };

/* Set from the last record, all of it (zero first). */
struct vic_state {
	uint8_t have;         /* VIC_S_* */
	uint8_t aux_mode;     /* VIC_AUX_*: what the aux input measures */
	uint16_t ttg_min;     /* time to go, min */
	int32_t consumed_dah; /* consumed Ah, 0.1 Ah (<= 0) */
	uint16_t aux_cv;      /* starter voltage (as int16) or mid-point voltage, 0.01 V */
	uint16_t nonce;       /* the record's nonce (its two bytes, little-endian) */
};

#endif
