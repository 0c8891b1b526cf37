/* tests/fuzz/fuzz_vedirect.c - libFuzzer target: whole polls of the
 * listen-only VE.Direct text driver, driven the way gateway/poller.c drives
 * a listen_only driver (no requests, no drain; a poll waits for blocks until
 * handle() says BMS_OK, then finish()).
 *
 * Input:
 *	byte 0	bit 0 invert_current, bits 1..2 retries, bit 3 start with
 *		"no history block" learned (persist), bit 4 clear the rx buffer
 *		between polls
 *	then events: a length byte L; L == 0 is a timeout of the wait,
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
	bool invert, clear_rx;
	int retries;
};

static void sim_begin(struct sim *s)
{
	bms_poll_begin(&s->poll, 0, 0, s->invert);
	if (s->clear_rx)
		bms_rx_clear(&s->rx);
}

static void check_snap(const struct bms_snapshot *sn)
{
	REQUIRE(sn->ncells == 0);
	REQUIRE(sn->ntemps <= 1);
	REQUIRE(sn->nraw <= 2);
	REQUIRE(sn->state == 0);
	REQUIRE((sn->alarms >> BMS_AL_COUNT) == 0);
	/* a shunt: none of these, ever */
	REQUIRE(!(sn->present & (BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN |
				 BMS_HAS_FULL | BMS_HAS_SOH | BMS_HAS_MOS_TEMP)));
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage >= 0.0f && sn->voltage <= 1000.0f);
	REQUIRE(((sn->present & BMS_HAS_TEMPS) != 0) == (sn->ntemps == 1));
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw >= 1);
}

/* The wait timed out (what poller.c's step_timeout() does). */
static void sim_timeout(struct sim *s)
{
	if (s->drv->timeout(&s->poll)) {
		s->poll.attempt = 0; /* listen-only: the poller just waits again */
		return;
	}
	if (s->poll.attempt < s->retries) {
		s->poll.attempt++;
		return;
	}
	sim_begin(s); /* the poll failed: next poll */
}

static void sim_finish(struct sim *s)
{
	int rc = s->drv->finish(&s->poll);
	REQUIRE(rc == BMS_OK || rc == BMS_E_INVALID);
	check_snap(&s->poll.snap);
	if (rc == BMS_OK) {
		const struct bms_snapshot *sn = &s->poll.snap;
		REQUIRE((sn->present & (BMS_HAS_VOLTAGE | BMS_HAS_CURRENT)) ==
			(BMS_HAS_VOLTAGE | BMS_HAS_CURRENT));
		REQUIRE(sn->voltage > 0.0f);
		bms_snapshot_derive(&s->poll.snap);
	}
	sim_begin(s);
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
		/* a block starts with "\r\n" (a HEX frame may sit between the
		 * two) and is at least "\r\nChecksum\t" and its byte; without
		 * HEX frames inside, its bytes sum to 0 modulo 256 */
		const uint8_t *f = s->rx.buf;
		REQUIRE(fl >= 12 && f[0] == '\r' && (f[1] == '\n' || f[1] == ':'));
		if (!memchr(f, ':', fl - 1)) {
			unsigned sum = 0;
			for (size_t i = 0; i < fl; i++)
				sum += f[i];
			REQUIRE((sum & 0xFF) == 0);
		}
		int rc = s->drv->handle(&s->poll, s->rx.buf, fl);
		bms_rx_consume(&s->rx, fl);
		check_snap(&s->poll.snap);
		/* scan() validated the block: only its values can be refused */
		REQUIRE(rc == BMS_OK || rc == BMS_MORE || rc == BMS_E_RANGE);
		if (rc == BMS_MORE)
			continue;
		if (rc == BMS_OK) {
			s->poll.attempt = 0;
			sim_finish(s);
			continue; /* the next poll: a listen-only wire keeps talking */
		}
		sim_timeout(s); /* a bad answer counts as a failed try */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim s; /* large (rx buffer): keep it off the stack */

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	s.drv = &bms_vedirect_driver;
	REQUIRE(s.drv->listen_only && s.drv->next_request == NULL);
	s.invert = data[0] & 1;
	s.retries = (data[0] >> 1) & 3;
	s.poll.persist = (data[0] & 8) ? 1 : 0;
	s.clear_rx = (data[0] & 16) != 0;
	bms_rx_clear(&s.rx);
	sim_begin(&s);

	size_t off = 1;
	while (off < size) {
		size_t l = data[off++];
		if (l == 0) {
			sim_timeout(&s);
			continue;
		}
		if (l > size - off)
			l = size - off;
		sim_bytes(&s, data + off, l);
		off += l;
	}
	return 0;
}
