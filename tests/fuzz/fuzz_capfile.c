/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_capfile.c - libFuzzer target: the capture file reader of
 * `bmsgw --capture` / `bmsgw-sim --replay` (gateway/detect/capfile.c) on any text.
 * A file it takes holds together (every record's bytes inside the data,
 * 1..CAPFILE_MAX_RECORD of them, times from 0 on and never going back, a
 * probe capture names its protocol), and written again record by record
 * with capfile_line() it reads back the same (the bytes exactly, the times
 * to the microsecond the writer keeps). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/detect/capfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static void check(const struct capfile *cf)
{
	REQUIRE(!cf->probe || cf->protocol[0]);
	REQUIRE(cf->baud >= 0);
	for (size_t i = 0; i < cf->nrec; i++) {
		const struct capfile_rec *r = &cf->rec[i];
		REQUIRE(r->len >= 1 && r->len <= CAPFILE_MAX_RECORD && r->off + r->len <= cf->ndata);
		REQUIRE(isfinite(r->t) && r->t >= 0 && (i == 0 || r->t >= cf->rec[i - 1].t));
	}
}

/* Write cf's records again and read them back. */
static void round_trip(const struct capfile *cf)
{
	static char text[1u << 22];
	char line[CAPFILE_MAX_LINE], why[160];
	int k = snprintf(text, sizeof(text), "%s\nbaud %d\nmode listen\n", CAPFILE_MAGIC, cf->baud);
	size_t len = (size_t)k;
	for (size_t i = 0; i < cf->nrec; i++) {
		const struct capfile_rec *r = &cf->rec[i];
		size_t n = capfile_line(line, sizeof(line), r->t, r->sent, cf->data + r->off, r->len);
		REQUIRE(n > 0);
		if (len + n >= sizeof(text))
			return; /* too long to check: the reader took it, that is enough */
		memcpy(text + len, line, n);
		len += n;
	}
	struct capfile back;
	REQUIRE(capfile_parse(text, len, &back, why, sizeof(why)) == 0);
	REQUIRE(back.nrec == cf->nrec && back.baud == cf->baud);
	for (size_t i = 0; i < cf->nrec; i++) {
		const struct capfile_rec *a = &cf->rec[i], *b = &back.rec[i];
		REQUIRE(a->sent == b->sent && a->len == b->len);
		REQUIRE(memcmp(cf->data + a->off, back.data + b->off, a->len) == 0);
		REQUIRE(fabs(a->t - b->t) <= 1e-6 * (1 + a->t));
	}
	capfile_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capfile cf;
	char why[160];
	if (capfile_parse((const char *)data, size, &cf, why, sizeof(why)) < 0) {
		REQUIRE(cf.nrec == 0 && cf.rec == NULL && cf.data == NULL && why[0]);
		return 0;
	}
	check(&cf);
	round_trip(&cf);
	capfile_free(&cf);
	return 0;
}
