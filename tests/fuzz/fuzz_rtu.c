/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_rtu.c - libFuzzer target: the Modbus RTU receiver of the
 * server (gateway/modbus/rtuframe.c) fed with bytes and arrival times from
 * the input, the way the daemon feeds it (an ev_io, a timer at the
 * deadline).
 *
 * Input:
 *	byte 0	bits 0-2 the baud rate (1200 ... 115200), bit 3 rejoin 50 ms
 *	then events, by their first byte E and a delay byte D (the event
 *	happens D x D microseconds after the previous one):
 *	E >= 0xC0	the timer: rtu_rx_poll()
 *	E >= 0x80	a valid ADU synthesised (a CRC a mutator cannot forge)
 *			from the next bytes: the PDU length (% 24 + 1), a
 *			cut, the PDU, the address, a delay G; sent in two
 *			reads, bytes 0..cut and the rest G x G us later
 *	otherwise	the next (E & 0x3F) + 1 bytes arrive as one read().
 * Invariants: feed takes all bytes or none (and none only with a frame
 * waiting); every frame taken has a PDU of 1..253 bytes and, its CRC
 * rebuilt, is a run of the bytes that were fed, in order (fragments are
 * joined only when they were contiguous); counters only grow; the
 * deadline is never before the last byte; two polls far in the future
 * leave nothing waiting. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../gateway/modbus/rtuframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

struct run {
	struct rtu_rx rx;
	double now;
	uint8_t stream[1 << 16];  /* every byte fed, in order */
	size_t slen;
	bool lost;                /* stream[] overflowed: runs not checked */
	unsigned long taken;
	struct rtu_stats prev;
};

static bool is_run(const struct run *r, const uint8_t *adu, size_t n)
{
	for (size_t i = 0; i + n <= r->slen; i++)
		if (memcmp(r->stream + i, adu, n) == 0)
			return true;
	return false;
}

static void check(struct run *r)
{
	struct rtu_frame f;
	while (rtu_rx_take(&r->rx, &f)) {
		REQUIRE(f.pdu_len >= 1 && f.pdu_len <= RTU_PDU_MAX);
		uint8_t adu[RTU_ADU_MAX];
		REQUIRE(rtu_adu(f.addr, f.pdu, f.pdu_len, adu, sizeof(adu)) == (int)f.pdu_len + 3);
		REQUIRE(r->lost || is_run(r, adu, f.pdu_len + 3));
		r->taken++;
	}
	const struct rtu_stats *s = &r->rx.st;
	REQUIRE(s->frames == r->taken);
	REQUIRE(s->bad_crc >= r->prev.bad_crc && s->short_frames >= r->prev.short_frames &&
		s->overruns >= r->prev.overruns && s->rejoined >= r->prev.rejoined);
	REQUIRE(s->rejoined <= s->frames);
	r->prev = *s;
	double when;
	if (rtu_rx_deadline(&r->rx, &when))
		REQUIRE(when >= r->rx.last || when >= r->rx.held_last);
	REQUIRE(r->rx.len <= RTU_ADU_MAX && r->rx.hlen <= RTU_ADU_MAX && r->rx.nfrag <= RTU_FRAGS);
}

static void feed(struct run *r, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	size_t used = rtu_rx_feed(&r->rx, p, n, r->now);
	if (used == 0) {
		REQUIRE(r->rx.ready);
		check(r);
		used = rtu_rx_feed(&r->rx, p, n, r->now);
	}
	REQUIRE(used == n);
	if (r->slen + n <= sizeof(r->stream)) {
		memcpy(r->stream + r->slen, p, n);
		r->slen += n;
	} else
		r->lost = true;
	check(r);
}

/* A valid ADU from the input, in two reads. */
static size_t synth(struct run *r, const uint8_t *d, size_t left)
{
	if (left < 2)
		return left;
	size_t pn = (size_t)d[0] % 24 + 1, cut = d[1], i = 2;
	uint8_t pdu[24], adu[RTU_ADU_MAX];
	for (size_t k = 0; k < pn; k++)
		pdu[k] = i < left ? d[i++] : (uint8_t)k;
	uint8_t addr = i < left ? d[i++] : 1;
	double gap = i < left ? (double)d[i] * d[i] * 1e-6 : 0;
	i += i < left;
	int n = rtu_adu(addr, pdu, pn, adu, sizeof(adu));
	REQUIRE(n == (int)pn + 3);
	cut %= (size_t)n + 1;
	r->now += cut * r->rx.tchar;
	feed(r, adu, cut);
	r->now += gap + ((size_t)n - cut) * r->rx.tchar;
	feed(r, adu + cut, (size_t)n - cut);
	return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int bauds[8] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200 };
	static struct run r;
	if (size < 1)
		return 0;
	memset(&r, 0, sizeof(r));
	REQUIRE(rtu_rx_init(&r.rx, bauds[data[0] & 7], (data[0] & 8) ? 0.05 : 0) == 0);
	r.now = 100.0;
	size_t i = 1;
	while (i + 1 < size) {
		uint8_t e = data[i], d = data[i + 1];
		i += 2;
		r.now += (double)d * d * 1e-6;
		if (e >= 0xC0) {
			rtu_rx_poll(&r.rx, r.now);
			check(&r);
		} else if (e >= 0x80) {
			i += synth(&r, data + i, size - i);
		} else {
			size_t n = (size_t)(e & 0x3F) + 1;
			if (n > size - i)
				n = size - i;
			feed(&r, data + i, n);
			i += n;
		}
	}
	/* the line falls silent: everything ends */
	rtu_rx_poll(&r.rx, r.now + 10);
	check(&r);
	rtu_rx_poll(&r.rx, r.now + 20);
	check(&r);
	double when;
	REQUIRE(!rtu_rx_deadline(&r.rx, &when));
	REQUIRE(!r.rx.ready && r.rx.len == 0 && r.rx.nfrag == 0 && !r.rx.overrun);
	return 0;
}
