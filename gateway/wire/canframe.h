/* SPDX-License-Identifier: MIT */
/* gateway/wire/canframe.h - one classic CAN 2.0 frame as the gateway's CAN
 * transports (SocketCAN, Lawicel slcan) and the inverter codecs hand it
 * around.  Header only. */
#ifndef GATEWAY_WIRE_CANFRAME_H
#define GATEWAY_WIRE_CANFRAME_H

#include <stdbool.h>
#include <stdint.h>

#define GW_CAN_MAX_STD_ID 0x7FFu      /* 11-bit identifier */
#define GW_CAN_MAX_EXT_ID 0x1FFFFFFFu /* 29-bit identifier */
#define GW_CAN_MAX_DLC 8

struct gw_can_frame {
	uint32_t id;      /* 11 bits (ext false) or 29 bits (ext true) */
	uint8_t dlc;      /* 0..8 data bytes */
	uint8_t data[8];  /* data[dlc..7] are 0 in frames the gateway builds */
	bool ext;         /* 29-bit identifier */
	bool rtr;         /* remote transmission request: dlc given, no data */
};

#endif
