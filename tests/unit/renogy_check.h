/* SPDX-License-Identifier: MIT */
/* tests/unit/renogy_check.h - the cell and temperature block that Renogy's
 * RS485 packs (test_renogy.c) and the Pro / RBP family over Bluetooth
 * (test_renogy_pro.c) answer alike: registers 5000.. (a count, 16 cells of
 * 0.1 V, a count, 16 temperatures of 0.1 degC), built with mb_check.h's
 * encoder for any counts, also impossible ones.  Include after mb_check.h. */
#ifndef TESTS_RENOGY_CHECK_H
#define TESTS_RENOGY_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "mb_check.h"

/* n cells of 3.3 V and nt temperatures from -5.5 degC in steps of 1 degC
 * (the counts as given, at most 16 of each filled in), from slave */
static inline size_t renogy_cells_answer(uint8_t *f, uint8_t slave, unsigned n, unsigned nt)
{
	uint16_t v[34] = { 0 };
	v[0] = (uint16_t)n;
	for (unsigned i = 0; i < n && i < 16; i++)
		v[1 + i] = 33;
	v[17] = (uint16_t)nt;
	for (unsigned i = 0; i < nt && i < 16; i++)
		v[18 + i] = (uint16_t)(-55 + 10 * (int)i);
	return mb_answer(f, slave, 0x03, v, 34);
}

#endif
