/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_soc_csv.c - bmsgw --soc-replay's reader of a history CSV
 * (gateway/history/hcsv.c) and the replay over what it reads
 * (gateway/history/replay.c, the estimator of gateway/engine/soc.c).
 * The input is a file: the first line the header, the rest rows.
 * Invariants: no crash, no read past the text; a row taken has a time in
 * range and every value finite or absent; the replay answers 0 or 2. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/history/replay.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each line of s through the reader. */
static void lines(char *s)
{
	struct gw_hcsv h;
	char why[256];
	bool header = false;
	for (char *line = s, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!header) {
			header = gw_hcsv_header(&h, line, why, sizeof(why)) == 0;
			continue;
		}
		struct gw_hcsv_row r;
		if (gw_hcsv_row(&h, line, &r, why, sizeof(why)) != 1)
			continue;
		if (!(r.unix_s >= 0 && r.unix_s <= 1e11) || !(r.span_s >= 0))
			abort();
		double v[] = { r.soc, r.voltage, r.current, r.cell_min_mv, r.cell_max_mv, r.temp_min_c, r.temp_max_c };
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			if (isinf(v[i]))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	if (!sink && !(sink = fopen("/dev/null", "w")))
		return 0;
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	FILE *in = fmemopen(s, size ? size : 1, "r");
	if (in) {
		struct conf_soc c;
		conf_soc_defaults(&c, CONF_CHEM_LFP);
		c.capacity = 280;
		int rc = gw_soc_replay(in, "fuzz", &c, 30, sink, sink);
		fclose(in);
		if (rc != 0 && rc != 2)
			abort();
	}
	lines(s);
	free(s);
	return 0;
}
