/* tests/fuzz/fuzz_pylon.h - libFuzzer harness shared by fuzz_pylontech.c,
 * fuzz_topbms.c and fuzz_seplos.c: whole polls of a Pylontech-style ASCII
 * driver, driven the way gateway/poller.c drives it.
 *
 * Input:
 *	byte 0	address (any byte: invalid ones must fail cleanly)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 2	bit 0 invert_current, bits 2..3 retries
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 *
 * The including file defines, before including this:
 *	FUZZ_DRIVER	the driver table
 *	FUZZ_VER	VER of its requests
 *	FUZZ_NEVER	BMS_HAS_* bits the protocol never reports
 *	fuzz_addr_ok(a)	is a a valid address
 *	fuzz_command(a)	INFO command byte of a request to a
 */
#ifndef TESTS_FUZZ_PYLON_H
#define TESTS_FUZZ_PYLON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

struct fz {
	const struct bms_driver *drv;
	struct bms_poll poll;
	struct bms_rx rx;
	uint8_t address, cells_forced;
	bool invert;
	int retries;
	bool need_request;
	bool done;
};

static void fz_begin(struct fz *s)
{
	bms_poll_begin(&s->poll, s->address, s->cells_forced, s->invert);
	bms_rx_clear(&s->rx);
	s->need_request = true;
}

static void fz_check_snap(const struct bms_snapshot *sn)
{
	REQUIRE(sn->ncells <= BMS_MAX_CELLS);
	REQUIRE(sn->ntemps <= BMS_MAX_TEMPS);
	REQUIRE(sn->nraw <= BMS_MAX_RAW_ALARMS);
	REQUIRE(sn->state <= 2);
	REQUIRE((sn->alarms >> BMS_AL_COUNT) == 0);
	REQUIRE(!(sn->present & (FUZZ_NEVER)));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->ntemps)
		REQUIRE(sn->present & BMS_HAS_TEMPS);
}

static int fz_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* requests are upper-case */
}

static unsigned fz_byte(const uint8_t *p)
{
	int h = fz_hex(p[0]), l = fz_hex(p[1]);
	REQUIRE(h >= 0 && l >= 0);
	return (unsigned)(h << 4 | l);
}

/* A request is a well-formed frame: ~ VER ADR 46 CID2 E002 CMD CHKSUM CR. */
static void fz_check_request(const struct fz *s, const uint8_t *req, int n)
{
	unsigned sum = 0;

	REQUIRE(n == 20);
	REQUIRE(req[0] == '~' && req[19] == '\r');
	for (int i = 1; i < 15; i++)
		sum += req[i];
	REQUIRE((fz_byte(req + 15) << 8 | fz_byte(req + 17)) == ((~sum + 1) & 0xFFFF));
	REQUIRE(fz_byte(req + 1) == FUZZ_VER);
	REQUIRE(fz_byte(req + 3) == s->address);
	REQUIRE(fz_byte(req + 5) == 0x46);
	unsigned cid2 = fz_byte(req + 7);
	REQUIRE(cid2 == 0x42 || cid2 == 0x44);
	REQUIRE(fz_byte(req + 9) == 0xE0 && fz_byte(req + 11) == 0x02);
	REQUIRE(fz_byte(req + 13) == fuzz_command(s->address));
	/* the echo of our own request is never a frame */
	size_t en = 0;
	REQUIRE(s->drv->scan(&s->poll, req, (size_t)n, &en) == BMS_SCAN_SKIP && en == (size_t)n);
}

/* A try of the current step failed (timeout or bad answer). */
static void fz_fail_step(struct fz *s)
{
	if (s->drv->timeout && s->drv->timeout(&s->poll)) {
		s->poll.attempt = 0;
		s->need_request = true;
		return;
	}
	if (s->poll.attempt < s->retries) {
		s->poll.attempt++;
		s->need_request = true;
		return;
	}
	fz_begin(s); /* the poll failed: next poll */
}

static void fz_request(struct fz *s)
{
	uint8_t req[64];
	int n = s->drv->next_request(&s->poll, req, sizeof(req));

	s->need_request = false;
	bms_rx_clear(&s->rx); /* drain before each request */
	if (n < 0) {
		REQUIRE(n == BMS_E_RANGE && !fuzz_addr_ok(s->address));
		s->done = true;
		return;
	}
	REQUIRE(fuzz_addr_ok(s->address));
	if (n == 0) {
		int rc = s->drv->finish ? s->drv->finish(&s->poll) : BMS_OK;
		const struct bms_snapshot *sn = &s->poll.snap;
		REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID);
		fz_check_snap(sn);
		if (rc == BMS_OK) {
			REQUIRE(sn->voltage > 0 && sn->ncells > 0);
			REQUIRE(sn->present & BMS_HAS_CELLS);
			if (s->cells_forced)
				REQUIRE(sn->ncells <= s->cells_forced);
			if (sn->ncells < 32)
				REQUIRE((sn->balance >> sn->ncells) == 0);
			bms_snapshot_derive(&s->poll.snap);
		}
		fz_begin(s);
		return;
	}
	fz_check_request(s, req, n);
}

static void fz_bytes(struct fz *s, const uint8_t *p, size_t n)
{
	bms_rx_feed(&s->rx, p, n);
	REQUIRE(s->rx.len <= BMS_RX_CAP);
	for (;;) {
		size_t fl = 0;
		enum bms_scan sc = s->drv->scan(&s->poll, s->rx.buf, s->rx.len, &fl);

		if (sc == BMS_SCAN_NEED)
			return;
		REQUIRE(sc == BMS_SCAN_SKIP || sc == BMS_SCAN_FRAME);
		REQUIRE(fl >= 1 && fl <= s->rx.len);
		if (sc == BMS_SCAN_SKIP) {
			bms_rx_consume(&s->rx, fl);
			continue;
		}
		REQUIRE(fl >= 18 && s->rx.buf[0] == '~' && s->rx.buf[fl - 1] == '\r');
		int step = s->poll.step;
		struct bms_snapshot before = s->poll.snap;
		int rc = s->drv->handle(&s->poll, s->rx.buf, fl);
		bms_rx_consume(&s->rx, fl);
		fz_check_snap(&s->poll.snap);
		REQUIRE(rc >= BMS_E_NOSPACE && rc <= BMS_OK);
		REQUIRE(rc == BMS_OK ? s->poll.step == step + 1 : s->poll.step == step);
		/* a frame that is not used leaves the snapshot alone */
		if (rc == BMS_E_UNEXPECTED)
			REQUIRE(memcmp(&before, &s->poll.snap, sizeof(before)) == 0);
		if (rc == BMS_E_UNEXPECTED)
			continue;
		if (rc == BMS_OK) {
			s->poll.attempt = 0;
			s->need_request = true;
		} else {
			REQUIRE(rc == BMS_E_RANGE || rc == BMS_E_SHORT || rc == BMS_E_HEADER);
			fz_fail_step(s);
		}
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz s; /* large (rx buffer): keep it off the stack */

	if (size < 3)
		return 0;
	memset(&s, 0, sizeof(s));
	s.drv = &FUZZ_DRIVER;
	s.address = data[0];
	s.cells_forced = (data[1] & 0x40) ? (data[1] & 0x3f) : 0;
	s.invert = data[2] & 1;
	s.retries = (data[2] >> 2) & 3;
	fz_begin(&s);

	size_t off = 3;
	while (!s.done) {
		if (s.need_request) {
			fz_request(&s);
			continue;
		}
		if (off >= size)
			break;
		size_t l = data[off++];
		if (l == 0) {
			fz_fail_step(&s);
			continue;
		}
		if (l > size - off)
			l = size - off;
		fz_bytes(&s, data + off, l);
		off += l;
	}
	return 0;
}

#endif
