/* SPDX-License-Identifier: MIT */
/* tests/unit/jbd_check.h - an independent encoder of JBD answers
 * (bms/PROTOCOLS.md §7), not bms/jbd.c's, which is under test: shared by
 * test_jbd.c (the driver) and test_poller.c (a JBD BMS on a wire). */
#ifndef TESTS_JBD_CHECK_H
#define TESTS_JBD_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* DD reg status len data chk chk 77, the checksum 0x10000 - the sum from
 * the status through the data; returns its length, len + 7. */
static inline size_t jbd_frame(uint8_t *f, uint8_t reg, uint8_t status, const uint8_t *d, size_t len)
{
	unsigned sum = 0;

	f[0] = 0xDD;
	f[1] = reg;
	f[2] = status;
	f[3] = (uint8_t)len;
	if (len)
		memcpy(f + 4, d, len);
	for (size_t i = 2; i < 4 + len; i++)
		sum += f[i];
	unsigned chk = (0x10000u - sum) & 0xFFFFu;
	f[4 + len] = (uint8_t)(chk >> 8);
	f[5 + len] = (uint8_t)chk;
	f[6 + len] = 0x77;
	return len + 7;
}

#endif
