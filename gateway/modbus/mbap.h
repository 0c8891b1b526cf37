/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbap.h - Modbus TCP's framing (the MBAP header, Modbus
 * Messaging on TCP/IP Implementation Guide V1.0b, 3.1.3), pure: the length
 * of the first complete ADU in what a connection has read, the FC16 request
 * the upstream pusher sends and what its answer says (Modbus Application
 * Protocol V1.1b3, 6.12: the answer echoes the starting address and the
 * quantity; 7: an exception is the function code + 0x80 and one code,
 * none of them 0). */
#ifndef GATEWAY_MODBUS_MBAP_H
#define GATEWAY_MODBUS_MBAP_H

#include <stddef.h>
#include <stdint.h>

#define MBAP_LEN 7
#define ADU_MAX 260 /* MODBUS_TCP_MAX_ADU_LENGTH */
#define GW_FC16_MAX 123 /* MODBUS_MAX_WRITE_REGISTERS */

/* Length of the first complete ADU in buf: >0 = complete ADU of that length
 * (8 .. ADU_MAX), 0 = need more bytes, -1 = not Modbus TCP (protocol id not
 * 0, length field under 2 or over 254): the connection must be closed. */
int gw_mbap_frame(const uint8_t *buf, size_t len);

/* One FC16 request (MBAP + PDU) into out (>= 7 + 6 + 2*count bytes).
 * count 1..GW_FC16_MAX.  Returns its length. */
size_t gw_fc16_request(uint8_t *out, uint16_t tid, uint8_t unit, uint16_t addr, const uint16_t *regs,
		       unsigned count);

/* What a complete ADU (as gw_mbap_frame() took it, len >= 8) says to the
 * FC16 request of transaction tid that wrote count registers at addr. */
enum gw_fc16_verdict {
	GW_FC16_OTHER,     /* another transaction's id: not this request's answer */
	GW_FC16_WRITTEN,   /* the write's echo: FC16, the address and the count asked */
	GW_FC16_EXCEPTION, /* exception 0x90 with its code (*code, 1..255) */
	GW_FC16_MALFORMED, /* this transaction's, but neither: another function, a
	                    * length that is not the answer's, another address or
	                    * count (*code: the function code) */
};
enum gw_fc16_verdict gw_fc16_answer(const uint8_t *adu, size_t len, uint16_t tid, uint16_t addr, unsigned count,
				    int *code);

#endif
