/* SPDX-License-Identifier: MIT */
/* gateway/inverter/invident.c - the battery as a product, as the dialects
 * describe it (invident.h; PROTOCOLS.md §10a). */
#include "invident.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "invscale.h"

/* V a cell of each chemistry (enum conf_chemistry) holds at half charge:
 * the nominal voltages of the data sheets (EVE LF280K 3.2 V; NMC 3.7 V;
 * Yinlong LTO 2.3 V). */
static const double nominal_cell_v[] = { 3.2, 3.7, 2.3 };

double inv_nominal_v(const struct inv_battery *b)
{
	unsigned ch = b->chemistry < sizeof(nominal_cell_v) / sizeof(nominal_cell_v[0]) ? b->chemistry : 0;
	if (b->total_cells)
		return b->total_cells * nominal_cell_v[ch];
	return inv_has(b, INV_HAS_VOLTAGE, b->voltage) && b->voltage > 0 ? b->voltage : 0;
}

double inv_energy_wh(const struct inv_battery *b, float ah)
{
	double wh = (double)ah * inv_nominal_v(b);
	return isfinite(wh) && wh > 0 ? floor(wh) : 0;
}

double inv_full_wh(const struct inv_battery *b)
{
	return inv_has(b, INV_HAS_FULL, b->full_ah) ? inv_energy_wh(b, b->full_ah) : 0;
}

double inv_remain_wh(const struct inv_battery *b)
{
	return inv_has(b, INV_HAS_REMAIN, b->remain_ah) ? inv_energy_wh(b, b->remain_ah) : 0;
}

unsigned inv_modules(const struct inv_battery *b, long def, unsigned lo, unsigned hi)
{
	long n = b->report_modules ? b->report_modules : def;
	return n < (long)lo ? lo : n > (long)hi ? hi : (unsigned)n;
}

void inv_serial_part(const struct inv_battery *b, unsigned slot, unsigned part, uint8_t *out)
{
	char s[32];
	size_t n = strnlen(b->machine_tag, sizeof(b->machine_tag));
	snprintf(s, sizeof(s), "BMSGW%02u%.8s", slot % 100, n ? b->machine_tag : "00000000");
	for (size_t i = strlen(s); i < 21; i++)
		s[i] = '0';
	for (unsigned i = 0; i < 7; i++) {
		char ch = s[(part % 3) * 7 + i];
		out[i] = (uint8_t)(isxdigit((unsigned char)ch) || isupper((unsigned char)ch) ? toupper((unsigned char)ch) : '0');
	}
}
