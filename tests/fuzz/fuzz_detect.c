/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_detect.c - libFuzzer target: what `bmsgw --detect` reads
 * from a port it does not know, as any device or master may send it.
 *
 * Input:
 *	byte 0	which probe judges the bytes (its index, modulo their
 *		number, among the drivers with a probe) and, bit 7, a try of
 *		the probe other than the first
 *	byte 1	the address the probe asked (one of the probe's own, of its
 *		sweep's special ids or of the driver's range) and where
 *		the bytes are cut
 *	the rest	what came back after the request, or was heard while
 *		listening
 * Checked, for the bytes whole and cut at a point the input chooses:
 *	- the traffic classifier (gateway/detect/sniff.c): every frame it
 *	  finds lies inside the bytes, frames and noise add up to the bytes,
 *	  the first frame of each kind has a description, a frame at the start
 *	  is found again by gw_sniff_frame_at(), and no frame it calls a read
 *	  is a write of Modbus (FC 05/06/0F/10), Daly (D9/DA) or JBD (5A);
 *	- every probe's judge (bms_probe_judge(): the driver's framer, decoder
 *	  and plausibility): a verdict of the enum, the judged frame inside the
 *	  bytes, its text NUL-terminated; a verdict other than "no answer yet"
 *	  on a prefix stays the same on the whole (the judge never takes back
 *	  what it has seen; not Sinowealth's, whose headerless answers are
 *	  taken from the end of the bytes);
 *	- sanitizers: no read out of bounds, no overflow. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../gateway/detect/sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static void classify(const uint8_t *b, size_t n)
{
	struct gw_sniff s;
	memset(&s, 0, sizeof(s));
	gw_sniff_scan(b, n, &s);
	REQUIRE(s.bytes == n && s.noise <= n);
	for (int k = 0; k < GW_SNIFF_KINDS; k++)
		if (s.count[k])
			REQUIRE(s.first[k][0] != '\0' && memchr(s.first[k], '\0', GW_SNIFF_DESC));
	struct gw_sniff_frame f;
	if (gw_sniff_frame_at(b, n, &f)) {
		REQUIRE(f.len > 0 && f.len <= n && f.kind < GW_SNIFF_KINDS);
		if (gw_sniff_is_read(b, f.len)) {
			REQUIRE(!(f.kind == GW_SNIFF_MODBUS_REQ && (b[1] == 5 || b[1] == 6 || b[1] == 15 || b[1] == 16)));
			REQUIRE(!(f.kind == GW_SNIFF_DALY_REQ && (b[2] == 0xD9 || b[2] == 0xDA)));
			REQUIRE(!(f.kind == GW_SNIFF_JBD_REQ && b[1] == 0x5A));
		}
	}
	char d[GW_SNIFF_DESC];
	gw_sniff_describe(b, n, d, sizeof(d));
	REQUIRE(memchr(d, '\0', sizeof(d)) != NULL);
}

static void judged(const struct bms_probe_result *r, size_t n)
{
	REQUIRE(r->verdict >= BMS_PROBE_NONE && r->verdict <= BMS_PROBE_IMPLAUSIBLE);
	REQUIRE(memchr(r->what, '\0', sizeof(r->what)) != NULL);
	if (r->verdict != BMS_PROBE_NONE)
		REQUIRE(r->start < r->used && r->used <= n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const uint8_t *b = data + 2;
	size_t n = size - 2, cut = n ? data[1] % (n + 1) : 0;
	classify(b, n);
	classify(b, cut);
	int nprobes = 0;
	for (size_t i = 0; bms_drivers[i]; i++)
		nprobes += bms_drivers[i]->probe != NULL;
	if (!nprobes)
		return 0;
	const struct bms_driver *d = NULL;
	int want = (data[0] & 0x7F) % nprobes, k = 0;
	for (size_t i = 0; bms_drivers[i] && !d; i++)
		if (bms_drivers[i]->probe && k++ == want)
			d = bms_drivers[i];
	/* the address: one the probe tries, one of its sweep's special ids, or
	 * one of the driver's range */
	const struct bms_probe *pr = d->probe;
	uint8_t addr, a = data[1];
	if (pr->naddrs && a % 4 == 0)
		addr = pr->addrs[(a / 4) % pr->naddrs];
	else if (pr->nsweep && a % 4 == 1)
		addr = pr->sweep[(a / 4) % pr->nsweep];
	else
		addr = d->max_address > d->min_address
			       ? (uint8_t)(d->min_address + a % (d->max_address - d->min_address + 1))
			       : d->min_address;
	struct bms_poll poll;
	struct bms_probe_result whole, part;
	bms_probe_begin(d, &poll, addr, (data[0] & 0x80) ? 1 : 0);
	bms_probe_judge(d, &poll, b, n, &whole);
	judged(&whole, n);
	bms_probe_judge(d, &poll, b, cut, &part);
	judged(&part, cut);
	/* Sinowealth's answers have no header: its framer takes the last valid
	 * frame on the wire (an answer is the last thing sent), so more bytes
	 * may move its verdict to a later frame; the detector judges as bytes
	 * arrive and keeps the first verdict. */
	if (part.verdict != BMS_PROBE_NONE && strcmp(d->name, "sinowealth") != 0)
		REQUIRE(whole.verdict == part.verdict && whole.used == part.used);
	return 0;
}
