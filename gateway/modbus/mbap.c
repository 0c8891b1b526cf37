/* SPDX-License-Identifier: MIT */
/* gateway/modbus/mbap.c - Modbus TCP's framing, pure (mbap.h): the server's
 * requests and the upstream pusher's answers are cut out of a stream by the
 * same rule, and the pusher's FC16 is built and its answer read here. */
#include "mbap.h"

int gw_mbap_frame(const uint8_t *buf, size_t len)
{
	if (len < MBAP_LEN)
		return 0;
	unsigned proto = (unsigned)(buf[2] << 8 | buf[3]);
	unsigned n = (unsigned)(buf[4] << 8 | buf[5]); /* unit id + PDU */
	if (proto != 0 || n < 2 || n + 6 > ADU_MAX)
		return -1;
	if (len < n + 6)
		return 0;
	return (int)(n + 6);
}

size_t gw_fc16_request(uint8_t *out, uint16_t tid, uint8_t unit, uint16_t addr, const uint16_t *regs,
		       unsigned count)
{
	size_t pdu = 6 + 2 * (size_t)count;
	out[0] = (uint8_t)(tid >> 8);
	out[1] = (uint8_t)tid;
	out[2] = out[3] = 0;
	out[4] = (uint8_t)((pdu + 1) >> 8);
	out[5] = (uint8_t)(pdu + 1);
	out[6] = unit;
	out[7] = 0x10;
	out[8] = (uint8_t)(addr >> 8);
	out[9] = (uint8_t)addr;
	out[10] = (uint8_t)(count >> 8);
	out[11] = (uint8_t)count;
	out[12] = (uint8_t)(2 * count);
	for (unsigned i = 0; i < count; i++) {
		out[13 + 2 * i] = (uint8_t)(regs[i] >> 8);
		out[14 + 2 * i] = (uint8_t)regs[i];
	}
	return 7 + pdu;
}

enum gw_fc16_verdict gw_fc16_answer(const uint8_t *adu, size_t len, uint16_t tid, uint16_t addr, unsigned count,
				    int *code)
{
	*code = len > 7 ? adu[7] : -1;
	if (len < 8 || (unsigned)(adu[0] << 8 | adu[1]) != tid)
		return len < 8 ? GW_FC16_MALFORMED : GW_FC16_OTHER;
	/* an exception code is 1 or more (none is 0) */
	if (adu[7] == 0x90 && len == MBAP_LEN + 2 && adu[8] != 0) {
		*code = adu[8];
		return GW_FC16_EXCEPTION;
	}
	/* function, starting address, quantity: 5 bytes */
	if (adu[7] != 0x10 || len != MBAP_LEN + 5)
		return GW_FC16_MALFORMED;
	unsigned a = (unsigned)(adu[8] << 8 | adu[9]), n = (unsigned)(adu[10] << 8 | adu[11]);
	return a == addr && n == count ? GW_FC16_WRITTEN : GW_FC16_MALFORMED;
}
