/* tests/fuzz/fuzz_jbd.c - libFuzzer target: whole polls of the JBD (0xDD)
 * driver, driven the way gateway/poller.c drives it.
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
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
	bool done;
};

static void sim_begin(struct sim *s)
{
	bms_poll_begin(&s->poll, 0, s->cells_forced, s->invert);
	bms_rx_clear(&s->rx);
	s->need_request = true;
}

static void check_snap(const struct bms_snapshot *sn)
{
	REQUIRE(sn->ncells <= BMS_MAX_CELLS);
	REQUIRE(sn->ntemps <= BMS_MAX_TEMPS);
	REQUIRE(sn->nraw <= 1);
	REQUIRE(sn->state <= 2);
	REQUIRE((sn->alarms >> BMS_AL_COUNT) == 0);
	REQUIRE(!(sn->present & (BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_POWER)));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps > 0);
}

/* A try of the current step failed (timeout or bad answer). */
static void sim_fail_step(struct sim *s)
{
	REQUIRE(s->drv->timeout == NULL);
	if (s->poll.attempt < s->retries) {
		s->poll.attempt++;
		s->need_request = true;
		return;
	}
	sim_begin(s); /* the poll failed: next poll */
}

static void sim_request(struct sim *s)
{
	uint8_t req[32];
	int n = s->drv->next_request(&s->poll, req, sizeof(req));

	s->need_request = false;
	bms_rx_clear(&s->rx); /* drain before each request */
	REQUIRE(n >= 0); /* no address, nothing can be out of range */
	if (n == 0) {
		int rc = s->drv->finish(&s->poll);
		REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID);
		check_snap(&s->poll.snap);
		if (rc == BMS_OK) {
			const struct bms_snapshot *sn = &s->poll.snap;
			REQUIRE(sn->ncells > 0);
			REQUIRE(sn->present & BMS_HAS_CELLS);
			REQUIRE(sn->present & BMS_HAS_VOLTAGE);
			if (s->cells_forced)
				REQUIRE(sn->ncells == (s->cells_forced < 32 ? s->cells_forced : 32));
			if (sn->ncells < 32)
				REQUIRE((sn->balance >> sn->ncells) == 0);
			bms_snapshot_derive(&s->poll.snap);
		}
		sim_begin(s);
		return;
	}
	REQUIRE(n == 7);
	unsigned sum = (unsigned)req[2] + req[3];
	REQUIRE(req[0] == 0xDD && req[1] == 0xA5 && req[3] == 0 && req[6] == 0x77);
	REQUIRE((unsigned)(req[4] << 8 | req[5]) == ((0x10000u - sum) & 0xFFFFu));
	REQUIRE(req[2] == 0x03 || req[2] == 0x04); /* reads only, never a MOSFET write */
	/* the echo of our own request is never a frame */
	size_t en = 0;
	REQUIRE(s->drv->scan(&s->poll, req, 7, &en) == BMS_SCAN_SKIP && en == 7);
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
		/* a frame is DD reg status len ... chk chk 77 of exactly len + 7 */
		REQUIRE(fl == (size_t)s->rx.buf[3] + 7);
		REQUIRE(s->rx.buf[0] == 0xDD && s->rx.buf[fl - 1] == 0x77);
		int step = s->poll.step;
		int rc = s->drv->handle(&s->poll, s->rx.buf, fl);
		bms_rx_consume(&s->rx, fl);
		check_snap(&s->poll.snap);
		REQUIRE(rc >= BMS_E_NOSPACE && rc <= BMS_MORE);
		REQUIRE(rc != BMS_E_CHECKSUM && rc != BMS_MORE); /* scan() checked it; one frame per step */
		REQUIRE(rc == BMS_OK ? s->poll.step == step + 1 : s->poll.step == step);
		if (rc == BMS_E_UNEXPECTED)
			continue;
		if (rc == BMS_OK) {
			s->poll.attempt = 0;
			s->need_request = true;
		} else {
			REQUIRE(rc == BMS_E_SHORT || rc == BMS_E_RANGE || rc == BMS_E_HEADER ||
				rc == BMS_E_INVALID);
			sim_fail_step(s);
		}
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim s; /* large (rx buffer): keep it off the stack */

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof(s));
	s.drv = &bms_jbd_driver;
	s.cells_forced = (data[0] & 0x40) ? (data[0] & 0x3f) : 0;
	s.invert = data[1] & 1;
	s.retries = (data[1] >> 2) & 3;
	sim_begin(&s);

	size_t off = 2;
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
