/* SPDX-License-Identifier: MIT */
/* tests/unit/can_recs.h - CAN frames written as candump does ("ID#HEX")
 * into the records the CAN transport hands a CAN driver (bms.h:
 * BMS_CAN_MAGIC0 ...), for the CAN drivers' unit tests.  Include after
 * check.h. */
#ifndef TESTS_CAN_RECS_H
#define TESTS_CAN_RECS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../bms/bms.h"

/* One record (bms_can_record()) per "ID#HEX" of the text ("IDx#" with x
 * = 'x' an extended id, 'r' a remote frame of DLC HEX's digit; an id of 8
 * digits is an extended one, as candump writes it); out is filled up to
 * cap; returns the bytes. */
static inline size_t recs(uint8_t *out, size_t cap, const char *text)
{
	size_t n = 0;
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		char *end;
		unsigned long id = strtoul(p, &end, 16);
		bool ext = *end == 'x' || end - p == 8, rtr = *end == 'r';
		if (*end == 'x' || rtr)
			end++;
		CHECK(*end == '#');
		p = end + 1;
		uint8_t d[8];
		int dlc = 0;
		if (rtr) {
			dlc = *p++ - '0';
		} else {
			while (p[0] && p[0] != ' ' && p[1] && dlc < 8) {
				char h[3] = { p[0], p[1], 0 };
				d[dlc++] = (uint8_t)strtoul(h, NULL, 16);
				p += 2;
			}
		}
		size_t k = bms_can_record(out + n, cap - n, (uint32_t)id, ext, rtr, (uint8_t)dlc, d);
		CHECK(k > 0);
		n += k;
	}
	return n;
}

#endif
