/* SPDX-License-Identifier: MIT */
/* bms/base/hex.c - ASCII hex digits, read and written (bms.h): the one parser
 * the ASCII protocols (pylonframe, chins, topband), the slcan line codec,
 * the Bluetooth UUIDs and the configuration's addresses and capture files
 * share.  Pure. */
#include "../bms.h"

int bms_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool bms_hexn(const uint8_t *p, size_t n, uint32_t *v)
{
	uint32_t x = 0;

	if (n > 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = bms_hexval(p[i]);
		if (d < 0)
			return false;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return true;
}

void bms_put_hex(uint8_t *p, uint32_t v, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = n; i-- > 0; v >>= 4)
		p[i] = (uint8_t)digits[v & 0xFu];
}
