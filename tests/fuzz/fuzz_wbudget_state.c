/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_wbudget_state.c - the state file's record of a pack's
 * BMS settings writes (gateway/engine/wbudget.c: "bmswrites NAME T1 T2
 * ...") read from any text, as a state file someone edited or a disk
 * corrupted.  Invariants: no crash, no read past the text; what is taken
 * is at most GW_WBUDGET_MAX times, each within the last day, oldest
 * first; the wait it gives is within a day; written again and read back
 * it is the same (the record round-trips). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/engine/wbudget.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define NOW 1795420800LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_wbudget b, again;
	static char line[GW_WBUDGET_MAX * 21 + 1], line2[GW_WBUDGET_MAX * 21 + 1];
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	gw_wbudget_parse(&b, s, NOW);
	REQUIRE(b.n >= 0 && b.n <= GW_WBUDGET_MAX);
	for (int i = 0; i < b.n; i++) {
		REQUIRE(b.at[i] <= NOW && NOW - b.at[i] < GW_WBUDGET_WINDOW);
		REQUIRE(i == 0 || b.at[i] >= b.at[i - 1]);
	}
	for (int per_day = 1; per_day <= 3; per_day++) {
		long w = gw_wbudget_wait(&b, per_day, NOW);
		REQUIRE(w >= 0 && w <= GW_WBUDGET_WINDOW);
	}
	gw_wbudget_format(&b, line, sizeof(line));
	gw_wbudget_parse(&again, line, NOW);
	gw_wbudget_format(&again, line2, sizeof(line2));
	REQUIRE(strcmp(line, line2) == 0 && again.n == b.n);
	free(s);
	return 0;
}
