/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_rs485.h - what the fuzz targets of the RS485 inverter
 * dialects share (fuzz_byd_hvm_modbus.c, fuzz_kostal_rs485.c): the wire fed
 * to the output's assembly (inv485rx.c) in one read and in reads of a size
 * the input gives, whose requests and counters must be the same; the
 * framer's verdict on the wire's start, which must not change as more
 * bytes come nor wait past the assembly's buffer; and a battery read
 * member by member from the input (fuzzin.h: any float, NaN and infinities
 * included), whose flags are real bools.
 *
 * A target defines K() (its codec) and calls fz485_wire() with a check of
 * each request. */
#ifndef TESTS_FUZZ_FUZZ_RS485_H
#define TESTS_FUZZ_FUZZ_RS485_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/inverter/inv485rx.h"
#include "fuzzin.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)
#define FZ485_MAX_REQS 1024

struct fz485_reqs {
	int n;
	uint8_t f[FZ485_MAX_REQS][INV_485_RX_MAX];
	size_t len[FZ485_MAX_REQS];
};

static inline void fz485_got(void *arg, const uint8_t *req, size_t n)
{
	struct fz485_reqs *r = arg;
	REQUIRE(n >= 1 && n < INV_485_RX_MAX);
	if (r->n < FZ485_MAX_REQS) {
		memcpy(r->f[r->n], req, n);
		r->len[r->n++] = n;
	}
}

/* p[0..n) into a fresh assembly in reads of chunk bytes. */
static inline void fz485_run(const struct inv_485_codec *k, struct inv_485_rx *rx, const uint8_t *p, size_t n, size_t chunk,
		      struct fz485_reqs *r)
{
	inv_485_rx_init(rx);
	r->n = 0;
	for (size_t at = 0; at < n; at += chunk) {
		size_t end = at + chunk < n ? at + chunk : n;
		inv_485_rx_feed(rx, k->scan, p + at, end - at, fz485_got, r);
		REQUIRE(rx->len < INV_485_RX_MAX);
	}
}

/* The verdict on the wire's start does not change as more bytes come. */
static inline void fz485_check_scan(const struct inv_485_codec *k, const uint8_t *p, size_t n)
{
	size_t used, u;
	if (!n)
		return;
	enum inv_scan v = k->scan(p, n, &used);
	REQUIRE(v < INV_SCAN_VERDICTS);
	REQUIRE(v == INV_SCAN_MORE ? used == 0 && n < INV_485_RX_MAX : used >= 1 && used <= n);
	for (size_t m = 1; m < n && m <= INV_485_RX_MAX; m++) {
		enum inv_scan w = k->scan(p, m, &u);
		REQUIRE(w == INV_SCAN_MORE ? u == 0 : w == v && u == used);
	}
}

typedef void fz485_check_fn(const uint8_t *req, size_t len, void *arg);

/* The wire p[0..n) whole and in reads of chunk: the same requests, the
 * same counters, the same bytes kept; check(each request). */
static inline void fz485_wire(const struct inv_485_codec *k, const uint8_t *p, size_t n, size_t chunk, fz485_check_fn *check,
		       void *arg)
{
	static struct fz485_reqs whole, chunked;
	static struct inv_485_rx rw, rc;
	fz485_check_scan(k, p, n);
	fz485_run(k, &rw, p, n, n ? n : 1, &whole);
	fz485_run(k, &rc, p, n, chunk, &chunked);
	REQUIRE(whole.n == chunked.n);
	REQUIRE(memcmp(rw.count, rc.count, sizeof(rw.count)) == 0);
	REQUIRE(rw.len == rc.len && memcmp(rw.buf, rc.buf, rw.len) == 0);
	for (int i = 0; i < whole.n && i < FZ485_MAX_REQS; i++) {
		REQUIRE(whole.len[i] == chunked.len[i] && !memcmp(whole.f[i], chunked.f[i], whole.len[i]));
		check(whole.f[i], whole.len[i], arg);
	}
}

/* The requests an answer yields when fed back (an adapter's echo). */
static inline int fz485_echo(const struct inv_485_codec *k, const uint8_t *p, size_t n)
{
	static struct fz485_reqs echo;
	static struct inv_485_rx rx;
	fz485_run(k, &rx, p, n, n ? n : 1, &echo);
	return echo.n;
}

/* A battery, member by member: presence (4), flags (1: charge, discharge
 * allowed, fail-safe; chemistry in bits 3-4), 13 floats (CVL, DVL, CCL,
 * DCL, SOC, SOH, voltage, current, temperature, coldest, hottest, full and
 * remaining Ah), cells (2 x 2), cycles (4), cells in series (2),
 * report_modules (1), the machine's tag (8). */
static inline void fz485_battery(struct fz_in *in, struct inv_battery *b)
{
	float *f[] = { &b->cvl_v, &b->dvl_v, &b->ccl_a, &b->dcl_a, &b->soc, &b->soh, &b->voltage, &b->current,
		       &b->temp_c, &b->temp_min_c, &b->temp_max_c, &b->full_ah, &b->remain_ah };
	memset(b, 0, sizeof(*b));
	b->present = fz_u32(in);
	uint8_t fl = fz_u8(in);
	b->charge_allowed = fl & 1;
	b->discharge_allowed = (fl >> 1) & 1;
	b->failsafe = (fl >> 2) & 1;
	b->chemistry = (uint8_t)((fl >> 3) & 3);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = fz_f32(in);
	b->cell_min_mv = fz_u16(in);
	b->cell_max_mv = fz_u16(in);
	b->cycles = fz_u32(in);
	b->total_cells = fz_u16(in);
	b->report_modules = fz_u8(in);
	fz_bytes(in, b->machine_tag, 8);
	b->machine_tag[8] = '\0';
}

#endif
