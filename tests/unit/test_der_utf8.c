/* SPDX-License-Identifier: MIT */
/* tests/unit/test_der_utf8.c - the role of a Modbus/TCP Security client:
 * its certificate's RoleOID extension value read as one DER UTF8String
 * (gw_der_utf8(), gateway/core/tlsconn.c): the short and long length forms,
 * and what is refused (another tag, a length that is not the value's, bytes
 * after it, a long form that is not the shortest, a NUL, a role longer than
 * the room), each leaving out empty. */
#include <stdint.h>
#include <string.h>

#include "../../gateway/core/tlsconn.h"
#include "check.h"

static int der(const uint8_t *d, size_t n, char *out, size_t len)
{
	memset(out, 'x', len);
	return gw_der_utf8(d, n, out, len);
}

static void test_good(void)
{
	char out[300];
	const uint8_t op[] = { 0x0C, 0x08, 'O', 'p', 'e', 'r', 'a', 't', 'o', 'r' };
	CHECK_EQ_INT(der(op, sizeof(op), out, sizeof(out)), 1);
	CHECK_STR(out, "Operator");
	const uint8_t empty[] = { 0x0C, 0x00 };
	CHECK_EQ_INT(der(empty, sizeof(empty), out, sizeof(out)), 1);
	CHECK_STR(out, "");
	uint8_t longer[3 + 200] = { 0x0C, 0x81, 200 };
	memset(longer + 3, 'r', 200);
	CHECK_EQ_INT(der(longer, sizeof(longer), out, sizeof(out)), 1);
	CHECK_EQ_INT(strlen(out), 200);
	uint8_t two[4 + 280] = { 0x0C, 0x82, 0x01, 0x18 };
	memset(two + 4, 'w', 280);
	CHECK_EQ_INT(der(two, sizeof(two), out, sizeof(out)), 1);
	CHECK_EQ_INT(strlen(out), 280);
	/* UTF-8 as it is */
	const uint8_t u[] = { 0x0C, 0x04, 'W', 0xC3, 0xA4, 'r' };
	CHECK_EQ_INT(der(u, sizeof(u), out, sizeof(out)), 1);
	CHECK_STR(out, "W\xC3\xA4r");
}

static void test_refused(void)
{
	char out[16];
	const uint8_t printable[] = { 0x13, 0x02, 'O', 'p' };          /* PrintableString */
	const uint8_t short_len[] = { 0x0C, 0x03, 'O', 'p' };          /* says 3, has 2 */
	const uint8_t trailing[] = { 0x0C, 0x02, 'O', 'p', 0x00 };     /* a byte after it */
	const uint8_t not_der[] = { 0x0C, 0x81, 0x02, 'O', 'p' };      /* long form for 2 */
	const uint8_t not_der2[] = { 0x0C, 0x82, 0x00, 0x90, 'O' };    /* two bytes for < 256 */
	const uint8_t three[] = { 0x0C, 0x83, 0x00, 0x00, 0x02 };      /* not taken */
	const uint8_t indefinite[] = { 0x0C, 0x80, 'O', 0x00, 0x00 };
	const uint8_t nul[] = { 0x0C, 0x03, 'O', 0x00, 'p' };
	const uint8_t cut[] = { 0x0C, 0x82, 0x01 };
	const uint8_t one[] = { 0x0C };
	const uint8_t *bad[] = { printable, short_len, trailing, not_der, not_der2, three, indefinite, nul, cut, one };
	const size_t n[] = { sizeof(printable), sizeof(short_len), sizeof(trailing), sizeof(not_der),
			     sizeof(not_der2), sizeof(three), sizeof(indefinite), sizeof(nul), sizeof(cut), sizeof(one) };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(der(bad[i], n[i], out, sizeof(out)), -1);
		CHECK_STR(out, "");
	}
	CHECK_EQ_INT(der(printable, 0, out, sizeof(out)), -1);
	/* 15 bytes fit 16 with the NUL, 16 do not */
	uint8_t fits[2 + 15] = { 0x0C, 15 }, over[2 + 16] = { 0x0C, 16 };
	memset(fits + 2, 'a', 15);
	memset(over + 2, 'a', 16);
	CHECK_EQ_INT(der(fits, sizeof(fits), out, sizeof(out)), 1);
	CHECK_EQ_INT(der(over, sizeof(over), out, sizeof(out)), -1);
	CHECK_STR(out, "");
}

int main(void)
{
	test_good();
	test_refused();
	return check_report();
}
