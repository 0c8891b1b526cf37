/* tests/fuzz/fuzz_jk_pb.c - libFuzzer target: whole polls of the JK-PB RS485
 * driver (0x1620 trigger -> 0x55AA status frame + FC16 ack), driven the way
 * gateway/poller.c drives it.
 *
 * Input:
 *	byte 0	DIP address (& 0x1f: 0 and 16..31 are invalid)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 2	bit 0 invert_current, bits 2..3 retries
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include <math.h>
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
	uint8_t address, cells_forced;
	bool invert;
	int retries;
	bool need_request;
	bool done;
};

static void sim_begin(struct sim *s)
{
	bms_poll_begin(&s->poll, s->address, s->cells_forced, s->invert);
	bms_rx_clear(&s->rx);
	s->need_request = true;
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

static void check_snap(const struct bms_snapshot *sn)
{
	REQUIRE(sn->ncells <= BMS_MAX_CELLS);
	REQUIRE(sn->ntemps <= 4);
	REQUIRE(sn->nraw <= BMS_MAX_RAW_ALARMS);
	REQUIRE(sn->state == 0);
	REQUIRE((sn->alarms >> BMS_AL_COUNT) == 0);
	REQUIRE(sn->balance == 0);
	REQUIRE(!(sn->present & (BMS_HAS_BALANCE | BMS_HAS_POWER)));
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isfinite(sn->temp_c[i]) && fabsf(sn->temp_c[i]) <= 3276.8f);
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	if (sn->present & BMS_HAS_REMAIN)
		REQUIRE(sn->remain_ah >= 0);
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
	if (n < 0) {
		REQUIRE(n == BMS_E_RANGE && (s->address < 1 || s->address > 15));
		s->done = true;
		return;
	}
	if (n == 0) {
		int rc = s->drv->finish(&s->poll);
		REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID);
		check_snap(&s->poll.snap);
		if (rc == BMS_OK) {
			const struct bms_snapshot *sn = &s->poll.snap;
			REQUIRE(sn->voltage > 0 && sn->ncells > 0);
			REQUIRE(sn->present & BMS_HAS_CELLS);
			if (s->cells_forced)
				REQUIRE(sn->ncells == (s->cells_forced < 32 ? s->cells_forced : 32));
			bms_snapshot_derive(&s->poll.snap);
		}
		sim_begin(s);
		return;
	}
	REQUIRE(n == 11);
	uint16_t c = crc16(req, 9);
	REQUIRE(req[0] == s->address && req[1] == 0x10 && req[2] == 0x16 && req[3] == 0x20 &&
		req[4] == 0 && req[5] == 1 && req[6] == 2 && req[7] == 0 && req[8] == 0 &&
		req[9] == (uint8_t)c && req[10] == (uint8_t)(c >> 8));
	size_t en = 0;
	REQUIRE(s->drv->scan(&s->poll, req, 11, &en) == BMS_SCAN_SKIP && en == 11);
}

static void sim_bytes(struct sim *s, const uint8_t *p, size_t n)
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
		REQUIRE(fl == 5 || fl == 8 || fl == 300);
		int step = s->poll.step;
		int rc = s->drv->handle(&s->poll, s->rx.buf, fl);
		bms_rx_consume(&s->rx, fl);
		check_snap(&s->poll.snap);
		REQUIRE(rc >= BMS_E_NOSPACE && rc <= BMS_MORE);
		REQUIRE(rc != BMS_E_CHECKSUM && rc != BMS_E_SHORT); /* scan checked */
		REQUIRE(rc == BMS_OK ? s->poll.step > step : s->poll.step == step);
		if (rc == BMS_MORE || rc == BMS_E_UNEXPECTED)
			continue;
		if (rc == BMS_OK) {
			s->poll.attempt = 0;
			s->need_request = true;
		} else {
			REQUIRE(rc == BMS_E_HEADER && fl == 5); /* our pack's exception */
			sim_fail_step(s);
		}
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim s;

	if (size < 3)
		return 0;
	memset(&s, 0, sizeof(s));
	s.drv = &bms_jk_pb_driver;
	s.address = data[0] & 0x1f;
	s.cells_forced = (data[1] & 0x40) ? (data[1] & 0x3f) : 0;
	s.invert = data[2] & 1;
	s.retries = (data[2] >> 2) & 3;
	sim_begin(&s);

	size_t off = 3;
	while (!s.done) {
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
		if (l > size - off)
			l = size - off;
		sim_bytes(&s, data + off, l);
		off += l;
	}
	return 0;
}
