/* tests/fuzz/fuzz_sinowealth.c - libFuzzer target: whole polls of the
 * Sinowealth (Daly 3S-4S BMStool) driver, driven the way gateway/poller.c
 * drives it.
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	the answer to the outstanding request with a correct
 *			check byte, its data taken from the input (zero-padded),
 *			as one read (a mutator cannot forge the CRC-8 itself;
 *			most registers must come twice to count)
 *	E == 0xFE	the echo of the outstanding request
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/bms.h"
#include "../../bms/drivers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

struct sim {
	const struct bms_driver *drv;
	struct bms_poll poll;
	struct bms_rx rx;
	uint8_t cells_forced;
	bool invert;
	int retries;
	bool need_request;
	uint8_t req[3]; /* the outstanding request */
	unsigned polls;
};

static uint8_t crc8(uint8_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x07) : (uint8_t)(crc << 1);
	}
	return crc;
}

static void sim_begin(struct sim *s)
{
	bms_poll_begin(&s->poll, 0, s->cells_forced, s->invert);
	bms_rx_clear(&s->rx);
	s->need_request = true;
	s->polls++;
}

static void check_snap(const struct bms_snapshot *sn)
{
	REQUIRE(sn->ncells <= 10);
	REQUIRE(sn->ntemps <= 2);
	REQUIRE(sn->nraw <= 1);
	REQUIRE(sn->state <= 2);
	REQUIRE((sn->alarms >> BMS_AL_COUNT) == 0);
	REQUIRE(!(sn->present & (BMS_HAS_SOH | BMS_HAS_BALANCE | BMS_HAS_POWER)));
	REQUIRE(sn->balance == 0);
	REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	REQUIRE(sn->remain_ah >= 0.0f && sn->full_ah >= 0.0f);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -50.0f && sn->temp_c[i] <= 150.0f);
}

static void sim_fail_step(struct sim *s)
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
	sim_begin(s);
}

static void sim_request(struct sim *s)
{
	uint8_t req[32];
	int n = s->drv->next_request(&s->poll, req, sizeof(req));

	s->need_request = false;
	bms_rx_clear(&s->rx);
	REQUIRE(n >= 0);
	if (n == 0) {
		int rc = s->drv->finish(&s->poll);
		REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID);
		check_snap(&s->poll.snap);
		if (rc == BMS_OK) {
			const struct bms_snapshot *sn = &s->poll.snap;
			REQUIRE(sn->voltage > 0 && sn->ncells > 0);
			REQUIRE(sn->present & BMS_HAS_CELLS);
			if (s->cells_forced)
				REQUIRE(sn->ncells == (s->cells_forced < 10 ? s->cells_forced : 10));
			else
				REQUIRE(sn->ncells >= 3);
			bms_snapshot_derive(&s->poll.snap);
		}
		sim_begin(s);
		return;
	}
	REQUIRE(n == 3);
	REQUIRE(req[0] == 0x0A && req[1] >= 0x01 && req[1] <= 0x17);
	REQUIRE(req[2] == ((req[1] >= 0x10 && req[1] <= 0x12) ? 4 : 2));
	if (s->cells_forced)
		REQUIRE(req[1] != 0x17);
	memcpy(s->req, req, 3);
	size_t en = 0;
	REQUIRE(s->drv->scan(&s->poll, req, 3, &en) == BMS_SCAN_SKIP && en == 3);
}

static void sim_bytes(struct sim *s, const uint8_t *p, size_t n)
{
	bms_rx_feed(&s->rx, p, n);
	REQUIRE(s->rx.len <= BMS_RX_CAP);
	for (;;) {
		size_t fl = 0;
		enum bms_scan sc = s->drv->scan(&s->poll, s->rx.buf, s->rx.len, &fl);

		if (sc == BMS_SCAN_NEED) {
			REQUIRE(s->rx.len < (size_t)s->req[2] + 1);
			return;
		}
		REQUIRE(sc == BMS_SCAN_SKIP || sc == BMS_SCAN_FRAME);
		REQUIRE(fl >= 1 && fl <= s->rx.len);
		if (sc == BMS_SCAN_SKIP) {
			bms_rx_consume(&s->rx, fl);
			continue;
		}
		REQUIRE(fl == (size_t)s->req[2] + 1);
		REQUIRE(crc8(crc8(0, s->req, 3), s->rx.buf, fl - 1) == s->rx.buf[fl - 1]);
		int step = s->poll.step;
		int rc = s->drv->handle(&s->poll, s->rx.buf, fl);
		bms_rx_consume(&s->rx, fl);
		check_snap(&s->poll.snap);
		REQUIRE(rc == BMS_OK || rc == BMS_E_RANGE);
		/* BMS_OK may keep the step: a value to be confirmed by a re-read */
		REQUIRE(rc == BMS_OK ? s->poll.step >= step : s->poll.step == step);
		if (rc == BMS_OK) {
			s->poll.attempt = 0;
			s->need_request = true;
		} else {
			sim_fail_step(s);
		}
		return;
	}
}

static size_t sim_synth(struct sim *s, const uint8_t *p, size_t avail)
{
	uint8_t f[8];
	size_t used = 0, len = s->req[2];

	for (size_t i = 0; i < len; i++)
		f[i] = used < avail ? p[used++] : 0;
	f[len] = crc8(crc8(0, s->req, 3), f, len);
	sim_bytes(s, f, len + 1);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim s;

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof(s));
	s.drv = &bms_sinowealth_driver;
	s.cells_forced = (data[0] & 0x40) ? (data[0] & 0x3f) : 0;
	s.invert = data[1] & 1;
	s.retries = (data[1] >> 2) & 3;
	sim_begin(&s);

	size_t off = 2;
	for (;;) {
		if (s.need_request) {
			sim_request(&s);
			continue;
		}
		if (off >= size)
			break;
		size_t l = data[off++];
		if (l == 0) {
			sim_fail_step(&s);
			continue;
		}
		if (l == 0xFF) {
			off += sim_synth(&s, data + off, size - off);
			continue;
		}
		if (l == 0xFE) {
			sim_bytes(&s, s.req, 3);
			continue;
		}
		if (l > size - off)
			l = size - off;
		sim_bytes(&s, data + off, l);
		off += l;
	}
	return 0;
}
