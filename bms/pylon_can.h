/* SPDX-License-Identifier: MIT */
/* bms/pylon_can.h - what a pylon-can poll keeps until finish() decodes it:
 * the driver's state in struct bms_poll.priv (BMS_PRIV()), the last frame
 * of each identifier of the cycle.  Its own file so that the driver's unit
 * test can read it. */
#ifndef BMS_PYLON_CAN_H
#define BMS_PYLON_CAN_H

#include <stdint.h>

/* The slots, in the order of their identifiers (bit k of poll->seen: slot
 * k arrived): those kept in struct pc_state (k < PC_NDATA), then those
 * decoded as they arrive (0x373, 0x379: the Victron-style sets' extras). */
enum { PC_351, PC_355, PC_356, PC_359, PC_35A, PC_35C, PC_35E, PC_NDATA, PC_373 = PC_NDATA, PC_379, PC_NSLOTS };

struct pc_state {
	uint8_t data[PC_NDATA][8]; /* slot k: the data of the last frame of its
	                            * identifier, zero beyond its DLC (the module
	                            * count, 0x359 byte 4, stays only here) */
	uint8_t dlc[PC_NDATA];     /* slot k: that frame's DLC */
};

#endif
