/* SPDX-License-Identifier: MIT */
/* tests/unit/test_mbap.c - Modbus TCP's framing (gateway/modbus/mbap.c): the
 * FC16 request the upstream pusher sends, the answers of a real server to
 * it (recorded from Debian's python3-pymodbus 3.0 serving
 * tests/integration/upstream_server.py: the echo of a write, exception 02 to
 * a write past 65535, an FC03 answer), the same broken (another
 * transaction, function, length, address or count; cut; exception code
 * 0; a bad protocol id or length field), and the framing of a stream in
 * every chunking. */
#include <stdio.h>
#include <string.h>

#include "../../gateway/modbus/mbap.h"
#include "check.h"

/* tid 0x1234, unit 1, FC16 of 2 registers (0x000A, 0x0102) at 1000 */
static const uint8_t req[17] = { 0x12, 0x34, 0, 0, 0, 11, 1, 0x10, 0x03, 0xE8, 0, 2, 4, 0, 0x0A, 1, 2 };
/* pymodbus's answers */
static const uint8_t echo[12] = { 0x12, 0x34, 0, 0, 0, 6, 1, 0x10, 0x03, 0xE8, 0, 2 };
static const uint8_t exc02[9] = { 0x12, 0x35, 0, 0, 0, 3, 1, 0x90, 0x02 };
static const uint8_t fc03[13] = { 0x12, 0x36, 0, 0, 0, 7, 1, 0x03, 0x04, 0x00, 0x0A, 0x01, 0x02 };

static void test_request(void)
{
	uint8_t out[7 + 6 + 2 * GW_FC16_MAX + 1];
	const uint16_t regs[2] = { 0x000A, 0x0102 };
	out[17] = 0xA5;
	CHECK_EQ_INT((int)gw_fc16_request(out, 0x1234, 1, 1000, regs, 2), 17);
	CHECK(memcmp(out, req, sizeof(req)) == 0);
	CHECK_EQ_INT(out[17], 0xA5);
	/* the largest: 123 registers, 252 bytes of PDU + the unit id = 253 */
	uint16_t many[GW_FC16_MAX];
	for (unsigned i = 0; i < GW_FC16_MAX; i++)
		many[i] = (uint16_t)(0x0100 + i);
	out[7 + 6 + 2 * GW_FC16_MAX] = 0xA5;
	CHECK_EQ_INT((int)gw_fc16_request(out, 1, 7, 0xFFFF - 122, many, GW_FC16_MAX), 7 + 6 + 2 * GW_FC16_MAX);
	CHECK_EQ_INT(gw_mbap_frame(out, 7 + 6 + 2 * GW_FC16_MAX), 7 + 6 + 2 * GW_FC16_MAX);
	CHECK_EQ_INT(out[5], 253);
	CHECK_EQ_INT(out[12], 246);
	CHECK_EQ_INT(out[7 + 6 + 2 * GW_FC16_MAX - 1], 0x7A);
	CHECK_EQ_INT(out[7 + 6 + 2 * GW_FC16_MAX], 0xA5);
}

static void test_answers(void)
{
	int code = 0;
	CHECK_EQ_INT(gw_fc16_answer(echo, sizeof(echo), 0x1234, 1000, 2, &code), GW_FC16_WRITTEN);
	CHECK_EQ_INT(gw_fc16_answer(exc02, sizeof(exc02), 0x1235, 0xFFFF, 2, &code), GW_FC16_EXCEPTION);
	CHECK_EQ_INT(code, 2);
	/* another transaction's: not this request's answer */
	CHECK_EQ_INT(gw_fc16_answer(echo, sizeof(echo), 0x1233, 1000, 2, &code), GW_FC16_OTHER);
	CHECK_EQ_INT(gw_fc16_answer(exc02, sizeof(exc02), 0x1234, 1000, 2, &code), GW_FC16_OTHER);
	/* this transaction's, but not the write's answer */
	CHECK_EQ_INT(gw_fc16_answer(fc03, sizeof(fc03), 0x1236, 1000, 2, &code), GW_FC16_MALFORMED);
	CHECK_EQ_INT(code, 0x03);
	CHECK_EQ_INT(gw_fc16_answer(echo, sizeof(echo), 0x1234, 1001, 2, &code), GW_FC16_MALFORMED);
	CHECK_EQ_INT(gw_fc16_answer(echo, sizeof(echo), 0x1234, 1000, 3, &code), GW_FC16_MALFORMED);
	CHECK_EQ_INT(code, 0x10);
	uint8_t b[16];
	/* the echo cut to unit + function (a length field of 2) */
	memcpy(b, echo, 8);
	b[5] = 2;
	CHECK_EQ_INT(gw_fc16_answer(b, 8, 0x1234, 1000, 2, &code), GW_FC16_MALFORMED);
	/* the echo with a byte more */
	memcpy(b, echo, sizeof(echo));
	b[5] = 7;
	b[12] = 0;
	CHECK_EQ_INT(gw_fc16_answer(b, 13, 0x1234, 1000, 2, &code), GW_FC16_MALFORMED);
	/* an exception without its code, another function's exception, 0x90 with two bytes */
	memcpy(b, exc02, sizeof(exc02));
	CHECK_EQ_INT(gw_fc16_answer(b, 8, 0x1235, 0xFFFF, 2, &code), GW_FC16_MALFORMED);
	b[7] = 0x83;
	CHECK_EQ_INT(gw_fc16_answer(b, 9, 0x1235, 0xFFFF, 2, &code), GW_FC16_MALFORMED);
	CHECK_EQ_INT(code, 0x83);
	b[7] = 0x90;
	b[9] = 0;
	CHECK_EQ_INT(gw_fc16_answer(b, 10, 0x1235, 0xFFFF, 2, &code), GW_FC16_MALFORMED);
	/* exception code 0: no code */
	b[8] = 0;
	CHECK_EQ_INT(gw_fc16_answer(b, 9, 0x1235, 0xFFFF, 2, &code), GW_FC16_MALFORMED);
	CHECK_EQ_INT(code, 0x90);
	/* shorter than an ADU can be */
	CHECK_EQ_INT(gw_fc16_answer(echo, 7, 0x1234, 1000, 2, &code), GW_FC16_MALFORMED);
	CHECK_EQ_INT(code, -1);
}

static void test_frame(void)
{
	CHECK_EQ_INT(gw_mbap_frame(echo, sizeof(echo)), 12);
	CHECK_EQ_INT(gw_mbap_frame(exc02, sizeof(exc02)), 9);
	CHECK_EQ_INT(gw_mbap_frame(fc03, sizeof(fc03)), 13);
	for (size_t n = 0; n < sizeof(echo); n++)
		CHECK_EQ_INT(gw_mbap_frame(echo, n), 0);
	uint8_t b[ADU_MAX + 1];
	memset(b, 0, sizeof(b));
	memcpy(b, echo, sizeof(echo));
	b[2] = 1; /* protocol id 0x0100 */
	CHECK_EQ_INT(gw_mbap_frame(b, sizeof(echo)), -1);
	CHECK_EQ_INT(gw_mbap_frame(b, 7), -1);
	b[2] = 0;
	b[3] = 0x01;
	CHECK_EQ_INT(gw_mbap_frame(b, sizeof(echo)), -1);
	b[3] = 0;
	b[5] = 1; /* the unit id alone: no function */
	CHECK_EQ_INT(gw_mbap_frame(b, sizeof(echo)), -1);
	b[5] = 0;
	CHECK_EQ_INT(gw_mbap_frame(b, sizeof(echo)), -1);
	b[4] = 0;
	b[5] = 254; /* the largest ADU */
	CHECK_EQ_INT(gw_mbap_frame(b, ADU_MAX - 1), 0);
	CHECK_EQ_INT(gw_mbap_frame(b, ADU_MAX), ADU_MAX);
	b[5] = 255;
	CHECK_EQ_INT(gw_mbap_frame(b, 7), -1);
	b[4] = 0xFF;
	b[5] = 0xFF;
	CHECK_EQ_INT(gw_mbap_frame(b, 7), -1);
}

/* The three answers back to back, read in every split into three pieces:
 * each cut out whole, in order, nothing left. */
static void test_stream(void)
{
	uint8_t s[sizeof(echo) + sizeof(exc02) + sizeof(fc03)];
	memcpy(s, echo, sizeof(echo));
	memcpy(s + sizeof(echo), exc02, sizeof(exc02));
	memcpy(s + sizeof(echo) + sizeof(exc02), fc03, sizeof(fc03));
	const size_t want[3] = { sizeof(echo), sizeof(exc02), sizeof(fc03) };
	int bad = 0;
	for (size_t a = 0; a <= sizeof(s); a++)
		for (size_t z = a; z <= sizeof(s); z++) {
			const size_t cut[4] = { 0, a, z, sizeof(s) };
			uint8_t buf[2 * ADU_MAX];
			size_t len = 0, got = 0, at = 0;
			for (int p = 0; p < 3; p++) {
				memcpy(buf + len, s + cut[p], cut[p + 1] - cut[p]);
				len += cut[p + 1] - cut[p];
				for (int al; (al = gw_mbap_frame(buf, len)) != 0;) {
					if (al < 0 || got >= 3 || (size_t)al != want[got] || memcmp(buf, s + at, (size_t)al))
						bad++;
					if (al < 0)
						break;
					at += (size_t)al;
					got++;
					memmove(buf, buf + al, len - (size_t)al);
					len -= (size_t)al;
				}
			}
			if (got != 3 || len)
				bad++;
		}
	CHECK_EQ_INT(bad, 0);
}

int main(void)
{
	test_request();
	test_answers();
	test_frame();
	test_stream();
	return check_report();
}
