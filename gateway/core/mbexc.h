/* SPDX-License-Identifier: MIT */
/* gateway/core/mbexc.h - the Modbus exception codes bmsgw answers with,
 * written once for every room that chooses one (modbus/ for requests,
 * poll/ for MOSFET commands, mqtt/ for command replies).  The values are
 * the Modbus Application Protocol's (V1.1b3 §7): a header of constants,
 * no code. */
#ifndef GATEWAY_CORE_MBEXC_H
#define GATEWAY_CORE_MBEXC_H

enum gw_mb_exception {
	GW_MB_OK = 0,                    /* no exception */
	GW_MB_ILLEGAL_FUNCTION = 0x01,
	GW_MB_ILLEGAL_ADDRESS = 0x02,
	GW_MB_ILLEGAL_VALUE = 0x03,
	GW_MB_DEVICE_FAILURE = 0x04,     /* "server device failure" */
	GW_MB_DEVICE_BUSY = 0x06,        /* "server device busy" */
	GW_MB_GATEWAY_PATH = 0x0A,       /* "gateway path unavailable": no such unit */
	GW_MB_GATEWAY_TARGET = 0x0B,     /* "gateway target device failed to respond": stale */
};

#endif
