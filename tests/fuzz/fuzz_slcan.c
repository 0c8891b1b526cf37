/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_slcan.c - libFuzzer target: the Lawicel slcan line
 * parser (gateway/wire/slcan.c) on anything an adapter could send.
 *
 * Input: byte 0 = the size of the reads (1 + byte % 40), the rest is the
 * adapter's output.  It is parsed twice, in reads of that size and in one
 * read.  Invariants: every call uses 1..n bytes and reports NONE only when
 * it used them all; the partial line never outgrows its buffer; both runs
 * give the same events (chunking does not matter); the counters add up to
 * the events; a frame has dlc <= 8 and an id in its range, and encodes to
 * a line that parses back to the same frame. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/wire/slcan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define MAX_EVENTS 4096

struct run {
	struct slcan_rx rx;
	int n;
	struct slcan_rx_event ev[MAX_EVENTS];
};

static struct run whole, chunked;

static void check_frame(const struct slcan_rx_event *e)
{
	const struct gw_can_frame *f = &e->frame;
	char line[SLCAN_LINE_MAX + 1];
	struct slcan_rx rx;
	struct slcan_rx_event back;

	REQUIRE(f->dlc <= 8);
	REQUIRE(f->id <= (f->ext ? GW_CAN_MAX_EXT_ID : GW_CAN_MAX_STD_ID));
	int len = slcan_encode(f, line, sizeof(line));
	REQUIRE(len > 0 && len <= SLCAN_LINE_MAX);
	slcan_rx_init(&rx);
	REQUIRE(slcan_rx_feed(&rx, (const uint8_t *)line, (size_t)len, &back) == (size_t)len);
	REQUIRE(back.kind == SLCAN_EV_FRAME && !back.has_time);
	REQUIRE(back.frame.id == f->id && back.frame.ext == f->ext && back.frame.rtr == f->rtr &&
		back.frame.dlc == f->dlc);
	REQUIRE(f->rtr || memcmp(back.frame.data, f->data, f->dlc) == 0);
}

static void parse(struct run *r, const uint8_t *p, size_t n, size_t chunk)
{
	slcan_rx_init(&r->rx);
	r->n = 0;
	for (size_t at = 0; at < n;) {
		size_t end = at + chunk < n ? at + chunk : n;
		while (at < end) {
			struct slcan_rx_event e;
			size_t used = slcan_rx_feed(&r->rx, p + at, end - at, &e);
			REQUIRE(used >= 1 && used <= end - at);
			at += used;
			REQUIRE(r->rx.len < SLCAN_LINE_MAX);
			if (e.kind == SLCAN_EV_NONE) {
				REQUIRE(at == end);
				continue;
			}
			REQUIRE(e.kind <= SLCAN_EV_OVERLONG);
			if (e.kind == SLCAN_EV_FRAME)
				check_frame(&e);
			if (r->n < MAX_EVENTS)
				r->ev[r->n++] = e;
		}
	}
}

static bool same(const struct slcan_rx_event *a, const struct slcan_rx_event *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case SLCAN_EV_FRAME:
		return memcmp(&a->frame, &b->frame, sizeof(a->frame)) == 0 && a->has_time == b->has_time &&
		       a->time_ms == b->time_ms;
	case SLCAN_EV_STATUS:
		return a->status == b->status;
	case SLCAN_EV_VERSION: case SLCAN_EV_SERIAL:
		return strcmp(a->text, b->text) == 0;
	default:
		return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = 1 + data[0] % 40;
	parse(&chunked, data + 1, size - 1, chunk);
	parse(&whole, data + 1, size - 1, size);
	REQUIRE(chunked.n == whole.n);
	for (int k = 0; k < whole.n; k++)
		REQUIRE(same(&chunked.ev[k], &whole.ev[k]));
	/* the counters are the events (bad also counts a partial line a
	 * BEL cut, which is an ERROR event) */
	const struct slcan_rx *rx = &whole.rx;
	uint32_t k[SLCAN_EV_OVERLONG + 1] = { 0 };
	for (int i = 0; i < whole.n; i++)
		k[whole.ev[i].kind]++;
	if (whole.n < MAX_EVENTS) {
		REQUIRE(rx->frames == k[SLCAN_EV_FRAME] && rx->oks == k[SLCAN_EV_OK]);
		REQUIRE(rx->errors == k[SLCAN_EV_ERROR] && rx->acks == k[SLCAN_EV_TX_ACK]);
		REQUIRE(rx->replies == k[SLCAN_EV_VERSION] + k[SLCAN_EV_SERIAL] + k[SLCAN_EV_STATUS]);
		REQUIRE(rx->overlong_lines == k[SLCAN_EV_OVERLONG]);
		REQUIRE(rx->bad >= k[SLCAN_EV_BAD] && rx->bad - k[SLCAN_EV_BAD] <= k[SLCAN_EV_ERROR]);
	}
	REQUIRE(chunked.rx.frames == rx->frames && chunked.rx.bad == rx->bad &&
		chunked.rx.overlong_lines == rx->overlong_lines && chunked.rx.len == rx->len &&
		chunked.rx.overlong == rx->overlong);
	return 0;
}
